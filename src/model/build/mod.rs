//! Lowering a spec into the model, checking every rule on the way: the
//! entry point, what it needs from outside (key files), and the builder the
//! rooms below extend, one topic each.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

mod dns;
mod domain;
mod domains;
mod hosts;
mod mailboxes;
mod mx;

use super::push;
use super::recipients::{self, Claims, Target};
use super::roles::{self, HostInfo};
use super::*;
use crate::diag::{Code, Diagnostic, Diagnostics, suggest};
use crate::model::validate::{self, records::Reserved};
use crate::source::Span;
use crate::spec::{self, Entries, RoutingMode, Sp, Spec, UnknownRecipients};

/// Whether a key file named by the spec exists, and what it holds. Passed in
/// by the caller: the model never touches the file system.
pub trait KeyFiles: Sync {
    fn exists(&self, path: &str) -> bool;
    /// The bytes of an existing key file, so the key inside can be checked;
    /// `Err` with the reason when it cannot be read. `None`: not checked.
    fn read(&self, path: &str) -> Option<Result<Vec<u8>, String>> {
        let _ = path;
        None
    }
    /// The path as the user finds it from where mailc runs (the spec names
    /// it relative to the spec's own folder).
    fn shown(&self, path: &str) -> String {
        path.to_string()
    }
}

/// How a missing private key file is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingKey {
    /// `validate`: a warning naming `mailc dkim keygen`.
    Warn,
    /// `plan` / `apply`: an error.
    Error,
}

/// What the lowering needs from outside: passed in, never fetched.
pub struct Inputs<'a> {
    pub key_files: &'a dyn KeyFiles,
    pub missing_keys: MissingKey,
}

pub const DEFAULT_TTL: u32 = 3600;
/// RFC 2181 §8: a TTL is at most 2^31 - 1.
pub const MAX_TTL: u32 = 2_147_483_647;

/// The error for a TTL above [`MAX_TTL`], a domain's and a record's alike.
pub fn ttl_error(t: &Sp<u32>) -> Option<Diagnostic> {
    (t.value > MAX_TTL).then(|| {
        Diagnostic::error(
            Code::Ttl,
            t.span,
            format!("TTL {} is larger than DNS allows", t.value),
        )
        .label("out of range")
        .help(format!(
            "use at most {MAX_TTL} (RFC 2181 §8); 3600 is common"
        ))
    })
}

/// Lowers `spec`. Returns the model only when no error was reported.
pub fn build(spec: &Spec, inputs: &Inputs<'_>, diags: &mut Diagnostics) -> Option<Model> {
    if let Some(v) = &spec.version
        && v.value != 1
    {
        diags.push(
            Diagnostic::error(
                Code::Version,
                v.span,
                format!("spec version {} is not supported", v.value),
            )
            .label("unknown version")
            .help("this mailc reads `version: 1`"),
        );
    }
    let empty = spec::Defaults::default();
    let defaults = spec.defaults.as_ref().unwrap_or(&empty);
    let mut b = Builder {
        diags,
        defaults,
        hosts_broken: spec.broken.contains(&"hosts"),
    };
    super::limits::defaults(defaults.limits.as_ref(), b.diags);
    let hosts = b.hosts(spec.hosts.as_ref().unwrap_or(&Entries::default()));
    let (dns_targets, written) = push::targets(&spec.dns_targets, b.diags);
    let mut domains = b.domains(&spec.domains, &hosts, inputs);
    let spec_domains = spec
        .domains
        .iter()
        .filter_map(|(k, _)| names::domain(&k.value).ok())
        .collect();
    let relays = super::relay::relays(&spec.outbound_relays, &spec_domains, b.diags);
    let host_relays: BTreeMap<String, Option<String>> = spec
        .hosts
        .iter()
        .flat_map(|h| h.iter())
        .filter_map(|(k, h)| {
            let r = h.outbound_relay.as_ref()?;
            Some((k.value.clone(), relays.host_relay(r, b.diags)))
        })
        .collect();
    push::domains(
        &spec.domains,
        defaults,
        (&dns_targets, &written),
        &mut domains,
        b.diags,
    );
    if b.diags.has_errors() {
        return None;
    }
    let hosts = hosts
        .into_iter()
        .map(|h| {
            let host = Host {
                key: h.key.clone(),
                hostname: h.hostname,
                ipv4: h.ipv4,
                ipv6: h.ipv6,
                stack: h.stack,
                relay: host_relays.get(&h.key).cloned().flatten(),
            };
            (h.key, host)
        })
        .collect();
    super::warn::check(spec, &hosts, &domains, b.diags);
    let used = host_relays.into_values().flatten().collect();
    relays.unused(&used, b.diags);
    let model = Model {
        hosts,
        domains,
        dns_targets,
        relays: relays.relays,
        senders: relays.senders,
    };
    (!b.diags.has_errors()).then_some(model)
}

struct Builder<'a> {
    diags: &'a mut Diagnostics,
    defaults: &'a spec::Defaults,
    /// `hosts` could not be read whole: a host it may hold is no news.
    hosts_broken: bool,
}

/// A host as far as it could be read (placeholders where it could not).
struct HostEntry {
    key: String,
    span: Span,
    hostname: String,
    ipv4: Ipv4Addr,
    ipv6: Option<std::net::Ipv6Addr>,
    stack: Stack,
}

/// A domain after its own checks, waiting for the recipient tables.
struct Pending {
    domain: Domain,
    claims: Claims,
    /// Where `srs: true` was set on the domain itself.
    srs_span: Option<Span>,
    /// The forwards of its mailboxes' rules, checked once every domain's
    /// recipients are known.
    forwards: Vec<validate::rules::Forward>,
    /// The SPF records the domain publishes (apex, `records`), for the
    /// lookups counted across records.
    spf: Vec<validate::spf::Published>,
}

/// Whether `key` was misspelt in the domain or its defaults (and reported
/// there).
fn broken(d: &spec::Domain, def: &spec::Defaults, key: &str) -> bool {
    d.own.broken.contains(&key) || def.broken.contains(&key)
}

impl Builder<'_> {
    fn err(&mut self, code: Code, span: Span, msg: String, label: &str, help: String) {
        self.diags
            .push(Diagnostic::error(code, span, msg).label(label).help(help));
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::{Code, Diagnostics};
    use crate::model::{KeyFiles, MissingKey};
    use crate::source::{Dialect, Source};

    struct NoKeys;
    impl KeyFiles for NoKeys {
        fn exists(&self, _: &str) -> bool {
            false
        }
    }

    const HASH: &str = "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";

    /// A spec of one host and the `domains` given, which must not build:
    /// its diagnostics in order.
    fn problems(domains: &str) -> Vec<crate::diag::Diagnostic> {
        let yaml = format!(
            "defaults: {{nameservers: [ns1.example.net], hostmaster: h@example.net}}\n\
             hosts: {{mx: {{hostname: mx.example.net, ipv4: 192.0.2.1}}}}\ndomains:\n{domains}"
        );
        let source = Source::new("t.yaml", yaml, Dialect::Yaml);
        let mut diags = Diagnostics::new();
        let spec = crate::spec::parse(&source, &mut diags).expect("a spec");
        let inputs = super::Inputs {
            key_files: &NoKeys,
            missing_keys: MissingKey::Warn,
        };
        assert!(super::build(&spec, &inputs, &mut diags).is_none());
        diags.into_sorted()
    }

    /// Enough domains to be checked on several threads: every problem is
    /// found once, and the list is the same on every run.
    #[test]
    fn domains_checked_in_parallel_report_every_problem_once() {
        let mut domains = String::new();
        for i in 0..1200 {
            let quota = if i % 10 == 0 { "lots" } else { "1G" };
            domains.push_str(&format!(
                "  d{i}.example:\n    mx: [mx]\n    mailboxes:\n      a: {{password: \"{HASH}\", quota: {quota}}}\n"
            ));
        }
        let run = || problems(&domains);
        let first = run();
        let quotas: Vec<_> = first.iter().filter(|d| d.code == Code::Quota).collect();
        assert_eq!(quotas.len(), 120, "{first:#?}");
        assert!(
            quotas
                .windows(2)
                .all(|w| w[0].span().start < w[1].span().start)
        );
        for _ in 0..3 {
            assert_eq!(run(), first);
        }
    }

    /// Alias chains that cross the parts `resolve` cuts the domains into:
    /// one cycle, reported once; a chain into it stays quiet; a chain to a
    /// send-only mailbox is warned about once.
    #[test]
    fn alias_chains_across_parts_are_resolved_as_one() {
        let mut domains = String::new();
        for i in 0..900 {
            let aliases = match i {
                0 => "loop: [loop@d899.example]",
                899 => "loop: [loop@d0.example]",
                450 => "into: [loop@d0.example]",
                1 => "quiet: [so@d700.example]",
                _ => "other: [a]",
            };
            let send_only = if i == 700 { ", send_only: true" } else { "" };
            domains.push_str(&format!(
                "  d{i}.example:\n    mx: [mx]\n    mailboxes:\n      a: {{password: \"{HASH}\"}}\n      so: {{password: \"{HASH}\"{send_only}}}\n    aliases: {{{aliases}}}\n"
            ));
        }
        let diags = problems(&domains);
        let aliases: Vec<_> = diags
            .iter()
            .filter(|d| matches!(d.code, Code::AliasCycle | Code::SendOnlyTarget))
            .map(|d| (d.code, d.message.as_str()))
            .collect();
        assert_eq!(
            aliases,
            [
                (
                    Code::AliasCycle,
                    "aliases form a cycle: `loop@d0.example` → `loop@d899.example` → `loop@d0.example`"
                ),
                (
                    Code::SendOnlyTarget,
                    "alias `quiet@d1.example` leads only to send-only mailboxes: mail to it is refused"
                ),
            ]
        );
    }
}
