//! Lowering a spec into the model, checking every rule on the way.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

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

impl Builder<'_> {
    fn err(&mut self, code: Code, span: Span, msg: String, label: &str, help: String) {
        self.diags
            .push(Diagnostic::error(code, span, msg).label(label).help(help));
    }

    fn hosts(&mut self, hosts: &Entries<spec::Host>) -> Vec<HostEntry> {
        let mut out: Vec<HostEntry> = Vec::new();
        let mut hostnames: BTreeMap<String, Span> = BTreeMap::new();
        for (key, h) in hosts.iter() {
            let k = match names::host_key(&key.value) {
                Ok(k) => k,
                Err(why) => {
                    let fix = key
                        .value
                        .to_ascii_lowercase()
                        .replace(|c: char| !(c.is_ascii_alphanumeric() || c == '-'), "-");
                    self.err(
                        Code::HostKey,
                        key.span,
                        format!("`{}` is not a valid host key: {why}", key.value),
                        "invalid host key",
                        format!("host keys name hosts inside the spec; try `{fix}` and put the FQDN in `hostname`"),
                    );
                    key.value.clone()
                }
            };
            if let Some(first) = out.iter().find(|e| e.key == k) {
                let first = first.span;
                self.diags.push(
                    Diagnostic::error(
                        Code::DuplicateKey,
                        key.span,
                        format!("host `{k}` is defined twice"),
                    )
                    .label("second definition")
                    .with(first, "first definition")
                    .help("give each host its own key"),
                );
                continue;
            }
            let hostname = h.hostname.as_ref().and_then(|n| match names::fqdn(&n.value) {
                Ok(name) => {
                    if let Some(first) = hostnames.insert(name.clone(), n.span) {
                        self.diags.push(
                            Diagnostic::error(Code::DuplicateHostname, n.span, format!("two hosts have the hostname `{name}`"))
                                .label("second host")
                                .with(first, "first host")
                                .help("each host is one machine with its own name; merge them or rename one"),
                        );
                    }
                    Some(name)
                }
                Err(why) => {
                    self.err(
                        Code::HostName,
                        n.span,
                        format!("`{}` is not a valid hostname: {why}", n.value),
                        "invalid hostname",
                        "use the host's fully qualified name, like `mx1.example.com`".into(),
                    );
                    None
                }
            });
            let ipv4 = h.ipv4.as_ref().and_then(|ip| {
                self.ip(
                    ip,
                    names::ipv4,
                    "IPv4",
                    "203.0.113.10",
                    ("ipv6", names::ipv6(&ip.value).is_ok()),
                )
            });
            let ipv6 = h.ipv6.as_ref().and_then(|ip| {
                self.ip(
                    ip,
                    names::ipv6,
                    "IPv6",
                    "2001:db8::10",
                    ("ipv4", names::ipv4(&ip.value).is_ok()),
                )
            });
            out.push(HostEntry {
                hostname: hostname.unwrap_or_else(|| format!("{k}.invalid")),
                key: k,
                span: key.span,
                ipv4: ipv4.unwrap_or(Ipv4Addr::UNSPECIFIED),
                ipv6,
                stack: h.stack.as_ref().map_or(Stack::Embedded, |s| s.value),
            });
        }
        out
    }

    /// An address of the host; `other` is the key of the other family and
    /// whether the value is an address of that family (written under the
    /// wrong key).
    fn ip<T>(
        &mut self,
        ip: &Sp<String>,
        parse: fn(&str) -> Result<T, String>,
        kind: &str,
        example: &str,
        other: (&str, bool),
    ) -> Option<T> {
        match parse(&ip.value) {
            Ok(a) => Some(a),
            Err(_) if other.1 => {
                let (key, v) = (other.0, &ip.value);
                let other_kind = if key == "ipv6" { "IPv6" } else { "IPv4" };
                self.diags.push(
                    Diagnostic::error(
                        Code::IpAddress,
                        ip.span,
                        format!("`{v}` is an {other_kind} address, not an {kind} one"),
                    )
                    .label(format!("an {other_kind} address"))
                    .help_in(
                        format!("write it under `{key}:` (`{key}: \"{v}\"`)"),
                        format!("write it as `{key}=\"{v}\"`"),
                    ),
                );
                None
            }
            Err(why) => {
                self.err(
                    Code::IpAddress,
                    ip.span,
                    format!("`{}` is not a valid {kind} address: {why}", ip.value),
                    "invalid address",
                    format!("write it like `{example}`"),
                );
                None
            }
        }
    }

    fn domains(
        &mut self,
        domains: &Entries<spec::Domain>,
        hosts: &[HostEntry],
        inputs: &Inputs<'_>,
    ) -> BTreeMap<String, Domain> {
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        let mut pending: BTreeMap<String, Pending> = BTreeMap::new();
        let mut work: Vec<(String, Span, &spec::Domain)> = Vec::new();
        for (key, d) in domains.iter() {
            let name = match names::domain(&key.value) {
                Ok(n) if n.contains('.') => n,
                Ok(_) | Err(_) => {
                    let why = names::domain(&key.value)
                        .err()
                        .unwrap_or_else(|| "it is not fully qualified".into());
                    self.err(
                        Code::DomainName,
                        key.span,
                        format!("`{}` is not a valid domain name: {why}", key.value),
                        "invalid domain",
                        "write the domain as it appears in addresses, like `example.com` (IDN like `bücher.example` is fine)".into(),
                    );
                    continue;
                }
            };
            if let Some(first) = seen.insert(name.clone(), key.span) {
                self.diags.push(
                    Diagnostic::error(
                        Code::DuplicateDomain,
                        key.span,
                        format!("domain `{name}` is defined twice"),
                    )
                    .label("second definition")
                    .with(first, "first definition")
                    .help("domains are compared case-insensitively, as A-labels; merge the two"),
                );
                continue;
            }
            work.push((name, key.span, d));
        }
        for (name, p) in self.each_domain(&work, hosts, inputs) {
            pending.insert(name, p);
        }
        let published: Vec<validate::spf::Published> = pending
            .values_mut()
            .flat_map(|p| std::mem::take(&mut p.spf))
            .collect();
        validate::spf::across(&published, self.diags);
        let claims: BTreeMap<String, Claims> = pending
            .iter_mut()
            .map(|(n, p)| (n.clone(), std::mem::take(&mut p.claims)))
            .collect();
        let mut resolved = recipients::resolve(&claims, self.diags);
        let forwards: Vec<validate::rules::Forward> = pending
            .values_mut()
            .flat_map(|p| std::mem::take(&mut p.forwards))
            .collect();
        let built: BTreeMap<String, Domain> = pending
            .into_iter()
            .map(|(name, mut p)| {
                if let Some(r) = resolved.remove(&name) {
                    p.domain.recipients = r.recipients;
                    if let (Unknown::Forward { target }, Some(e)) = (&mut p.domain.unknown, r.catch_all) {
                        *target = e;
                    }
                }
                if let Some(span) = p.srs_span {
                    let forwards = p.domain.recipients.values().any(|r| !r.target.external.is_empty())
                        || matches!(&p.domain.unknown, Unknown::Forward { target } if !target.external.is_empty());
                    if !forwards {
                        self.diags.push(
                            Diagnostic::warning(Code::SrsWithoutForward, span, format!("`srs` is on, but `{name}` forwards no mail to outside addresses"))
                                .label("nothing to rewrite")
                                .help("SRS only matters for mail forwarded elsewhere; remove `srs` or add the forwards"),
                        );
                    }
                }
                (name, p.domain)
            })
            .collect();
        if !claims.values().any(|c| c.incomplete) {
            validate::rules::forwards(&built, &forwards, self.diags);
        }
        let mut built = built;
        for d in built.values_mut().filter(|d| !d.mail) {
            switch_off(d);
        }
        built
    }

    /// Each domain's own checks, spread over the cores: they read only the
    /// spec, the hosts and the key files. Each part reports into its own
    /// list; the lists are merged here and sorted with the rest later, so
    /// the diagnostics do not depend on how the work was split.
    fn each_domain(
        &mut self,
        work: &[(String, Span, &spec::Domain)],
        hosts: &[HostEntry],
        inputs: &Inputs<'_>,
    ) -> Vec<(String, Pending)> {
        let (defaults, hosts_broken) = (self.defaults, self.hosts_broken);
        let parts = crate::par::map_chunks(work, 256, |part| {
            let mut diags = Diagnostics::new();
            let mut b = Builder {
                diags: &mut diags,
                defaults,
                hosts_broken,
            };
            let done: Vec<(String, Pending)> = part
                .iter()
                .map(|(name, span, d)| (name.clone(), b.domain(name, *span, d, hosts, inputs)))
                .collect();
            (done, diags)
        });
        let mut all = Vec::with_capacity(work.len());
        for (done, diags) in parts {
            self.diags.append(diags);
            all.extend(done);
        }
        all
    }

    fn domain(
        &mut self,
        name: &str,
        key_span: Span,
        d: &spec::Domain,
        hosts: &[HostEntry],
        inputs: &Inputs<'_>,
    ) -> Pending {
        let def = self.defaults;
        let ttl = self.ttl(d.own.ttl.as_ref().or(def.ttl.as_ref()));
        let zone = d.zone.as_ref().is_none_or(|z| z.value);
        let mail = d.mail.as_ref().is_none_or(|m| m.value);
        let nameservers = self.nameservers(d.own.nameservers.as_ref().or(def.nameservers.as_ref()));
        let hostmaster = d
            .own
            .hostmaster
            .as_ref()
            .or(def.hostmaster.as_ref())
            .and_then(|h| match names::address(&h.value) {
                Ok((l, dom)) => Some(format!("{l}@{dom}")),
                Err(why) => {
                    self.err(
                        Code::Address,
                        h.span,
                        format!("`{}` is not a valid hostmaster address: {why}", h.value),
                        "invalid address",
                        "write the zone contact's address, like `hostmaster@example.com`".into(),
                    );
                    None
                }
            });
        // A key misspelt in the domain or its defaults is reported there.
        let broken = |key: &str| d.own.broken.contains(&key) || def.broken.contains(&key);
        if zone {
            let mut missing = Vec::new();
            if d.own.nameservers.is_none() && def.nameservers.is_none() && !broken("nameservers") {
                missing.push("`nameservers`");
            }
            if d.own.hostmaster.is_none() && def.hostmaster.is_none() && !broken("hostmaster") {
                missing.push("`hostmaster`");
            }
            if !missing.is_empty() {
                self.err(
                    Code::Nameservers,
                    key_span,
                    format!("the zone of `{name}` is published, but it has no {}", missing.join(" and ")),
                    "zone without SOA/NS data",
                    "set `nameservers` and `hostmaster` under `defaults` (or on this domain), or `zone: false` if this spec does not publish its DNS".into(),
                );
            }
            if let Some(ns) = d.own.nameservers.as_ref().or(def.nameservers.as_ref())
                && ns.is_empty()
            {
                self.err(
                    Code::Nameservers,
                    key_span,
                    format!("the zone of `{name}` has an empty `nameservers` list"),
                    "zone without NS records",
                    "list at least one (RFC 1034 asks for two) name servers".into(),
                );
            }
        }

        // MX list and routing.
        let (mx, mx_spans) = self.mx(name, d.mx.as_ref(), hosts);
        let mx_list_span = d.mx.as_ref().map_or(key_span, |m| m.span);
        let modes = self.modes(name, d.routing.as_ref(), hosts);
        let infos: Vec<HostInfo<'_>> = hosts
            .iter()
            .map(|h| {
                let (mode, mode_span) = modes
                    .get(&h.key)
                    .copied()
                    .unwrap_or((RoutingMode::Auto, None));
                HostInfo {
                    key: &h.key,
                    hostname: &h.hostname,
                    mode,
                    mode_span,
                }
            })
            .collect();
        let roles = roles::decide(name, &mx, &mx_spans, mx_list_span, &infos, self.diags);

        let services: std::collections::BTreeSet<Service> = match &d.services {
            Some(list) => list.value.iter().map(|s| s.value).collect(),
            None => DEFAULT_SERVICES.into_iter().collect(),
        };

        // Mailboxes, aliases, catch-all.
        let quota_default = d.own.quota.as_ref().or(def.quota.as_ref());
        let mut claims = Claims::default();
        let mut claimed: BTreeMap<String, Span> = BTreeMap::new();
        let mut mailboxes = BTreeMap::new();
        let mut forwards = Vec::new();
        for (local, m) in d.mailboxes.iter() {
            let Some(l) = self.local(local, "mailbox") else {
                continue;
            };
            if !self.claim(&mut claimed, &l, local.span, name) {
                continue;
            }
            let address = format!("{l}@{name}");
            let password = m
                .password
                .as_ref()
                .and_then(|p| validate::password::check(p, &address, self.diags));
            let quota = m
                .quota
                .as_ref()
                .or(quota_default)
                .and_then(|q| self.quota(q));
            let send_only = m.send_only.as_ref().is_some_and(|s| s.value);
            let limits = super::limits::mailbox(m.limits.as_ref(), def.limits.as_ref(), self.diags);
            let disabled = m.disabled.as_ref().is_some_and(|s| s.value);
            let mailbox_services = match &m.services {
                None => services.clone(),
                Some(list) => {
                    for s in list.value.iter().filter(|s| !services.contains(&s.value)) {
                        let word = s.value.as_str();
                        self.err(
                            Code::MailboxService,
                            s.span,
                            format!(
                                "mailbox `{l}@{name}` lists `{word}`, which `{name}` does not offer"
                            ),
                            "not among the domain's services",
                            format!(
                                "add `{word}` to the `services` of `{name}`, or remove it here"
                            ),
                        );
                    }
                    list.value
                        .iter()
                        .map(|s| s.value)
                        .filter(|s| services.contains(s))
                        .collect()
                }
            };
            claims.mailboxes.insert(l.clone(), (send_only, local.span));
            let mut own_aliases = Vec::new();
            for a in &m.aliases {
                let Some(al) = self.local(a, "mailbox alias") else {
                    continue;
                };
                own_aliases.push(format!("{al}@{name}"));
                if self.claim(&mut claimed, &al, a.span, name) {
                    claims.mailbox_aliases.insert(al, (l.clone(), a.span));
                }
            }
            let rules = validate::rules::rules(&m.rules, &address, name, &mut forwards, self.diags);
            let reject = m
                .rules
                .iter()
                .flat_map(|r| r.actions.iter())
                .flat_map(|a| &a.value)
                .find_map(|a| matches!(a.kind, spec::ActionKind::Reject(_)).then_some(a.span));
            let vacation = m
                .vacation
                .as_ref()
                .and_then(|v| validate::rules::vacation(v, name, &own_aliases, reject, self.diags));
            mailboxes.insert(
                l.clone(),
                Mailbox {
                    address,
                    local: l,
                    password: password.unwrap_or_default(),
                    quota,
                    send_only,
                    disabled,
                    services: mailbox_services,
                    rules,
                    vacation,
                    limits,
                },
            );
        }
        for (local, targets) in d.aliases.iter() {
            let Some(l) = self.local(local, "alias") else {
                continue;
            };
            if !self.claim(&mut claimed, &l, local.span, name) {
                continue;
            }
            if let Some(drop) = &targets.drop {
                if drop.value {
                    claims
                        .aliases
                        .insert(l, (vec![(Target::Drop, drop.span)], local.span));
                    continue;
                }
                self.err(
                    Code::EmptyAlias,
                    drop.span,
                    format!("alias `{l}` has no targets"),
                    "`drop: false` says nothing",
                    "list where its mail goes, or write `{drop: true}` to accept it and discard it"
                        .into(),
                );
                continue;
            }
            if targets.targets.is_empty() {
                self.err(
                    Code::EmptyAlias,
                    local.span,
                    format!("alias `{l}` has no targets"),
                    "empty alias",
                    "list where its mail goes, or remove it".into(),
                );
                continue;
            }
            let ts: Vec<(Target, Span)> = targets
                .targets
                .iter()
                .filter_map(|t| self.target(t, name).map(|x| (x, t.span)))
                .collect();
            if ts.len() != targets.targets.len() {
                claims.broken.push(l.clone());
            }
            claims.aliases.insert(l, (ts, local.span));
        }
        let unknown_spec = d
            .own
            .unknown_recipients
            .as_ref()
            .or(def.unknown_recipients.as_ref());
        let mut catch_all = None;
        let unknown = match unknown_spec.map(|u| (&u.value, u.span)) {
            None | Some((UnknownRecipients::Reject, _)) => Unknown::Reject,
            Some((UnknownRecipients::Bounce, span)) => {
                self.diags.push(
                    Diagnostic::warning(Code::Bounce, span, format!("unknown recipients of `{name}` are accepted, then bounced"))
                        .label("backscatter")
                        .help("bounces of forged-sender spam go to innocent people; `reject` refuses at RCPT time instead"),
                );
                Unknown::Bounce
            }
            Some((UnknownRecipients::Drop, _)) => Unknown::Drop,
            Some((UnknownRecipients::Forward(t), _)) => {
                if let Some(target) = self.target(t, name) {
                    catch_all = target.address(name);
                    claims.catch_all = Some((target, t.span));
                }
                Unknown::Forward {
                    target: Expansion::default(),
                }
            }
            Some((UnknownRecipients::Relay(h), _)) => {
                self.relay(h, hosts).unwrap_or(Unknown::Reject)
            }
        };
        claims.closed = roles.values().any(|r| *r == Role::Local) || !claimed.is_empty();
        claims.incomplete = broken("mailboxes") || broken("aliases");
        claims.mail_off = !mail;

        // DNS policies.
        let local_hosts: Vec<&HostEntry> = hosts
            .iter()
            .filter(|h| roles.get(&h.key) == Some(&Role::Local))
            .collect();
        let ip4: Vec<Ipv4Addr> = local_hosts.iter().map(|h| h.ipv4).collect();
        let ip6: Vec<std::net::Ipv6Addr> = local_hosts.iter().filter_map(|h| h.ipv6).collect();
        let (spf, spf_span) = self.spf(name, d, &ip4, &ip6, mx.is_empty());
        let mut published = vec![validate::spf::Published {
            name: name.to_string(),
            terms: spf.terms.clone(),
            span: spf_span,
        }];
        let dkim = validate::dkim::check(
            name,
            &d.dkim,
            inputs.key_files,
            inputs.missing_keys,
            self.diags,
        );
        let dmarc = validate::policy::dmarc(d.own.dmarc.as_ref(), def.dmarc.as_ref(), self.diags);
        if dmarc.is_none()
            && zone
            && d.own.dmarc.is_none()
            && def.dmarc.is_none()
            && !broken("dmarc")
        {
            self.diags.push(
                Diagnostic::warning(Code::DmarcMissing, key_span, format!("`{name}` publishes no DMARC record"))
                    .label("no DMARC")
                    .help("add `dmarc: {policy: none, rua: [\"mailto:dmarc@DOMAIN\"]}` to start collecting reports"),
            );
        }
        let mta_sts = validate::policy::mta_sts(
            d.own.mta_sts.as_ref(),
            def.mta_sts.as_ref(),
            mx.is_empty(),
            self.diags,
        );
        let tls_rpt =
            validate::policy::tls_rpt(d.own.tls_rpt.as_ref(), def.tls_rpt.as_ref(), self.diags);
        let reserved = reserved(
            name,
            &dkim,
            dmarc.is_some(),
            mta_sts.is_some(),
            tls_rpt.is_some(),
            &mx,
            hosts,
            &roles,
        );
        let records =
            validate::records::check(name, &d.records, &reserved, &mut published, self.diags);
        let srs = d
            .own
            .srs
            .as_ref()
            .or(def.srs.as_ref())
            .is_some_and(|s| s.value);

        let domain = Domain {
            name: name.to_string(),
            ttl,
            zone,
            mail,
            nameservers,
            hostmaster,
            mx,
            roles,
            spf,
            dkim,
            dmarc,
            mta_sts,
            tls_rpt,
            mailboxes,
            recipients: BTreeMap::new(),
            unknown,
            catch_all,
            srs,
            records,
            push: None,
            services,
            limits: super::limits::domain(d.own.limits.as_ref(), self.diags),
        };
        let srs_span = d.own.srs.as_ref().filter(|s| s.value).map(|s| s.span);
        Pending {
            domain,
            claims,
            srs_span,
            forwards,
            spf: published,
        }
    }

    fn ttl(&mut self, t: Option<&Sp<u32>>) -> u32 {
        match t {
            None => DEFAULT_TTL,
            Some(t) => match ttl_error(t) {
                Some(d) => {
                    self.diags.push(d);
                    DEFAULT_TTL
                }
                None => t.value,
            },
        }
    }

    fn nameservers(&mut self, ns: Option<&Vec<Sp<String>>>) -> Vec<String> {
        let mut out = Vec::new();
        for n in ns.into_iter().flatten() {
            match names::fqdn(&n.value) {
                Ok(name) if !out.contains(&name) => out.push(name),
                Ok(_) => {}
                Err(why) => self.err(
                    Code::HostName,
                    n.span,
                    format!("`{}` is not a valid name server: {why}", n.value),
                    "invalid name server",
                    "write the server's fully qualified name, like `ns1.example.net`".into(),
                ),
            }
        }
        out
    }

    fn mx(
        &mut self,
        domain: &str,
        mx: Option<&Sp<Vec<spec::MxEntry>>>,
        hosts: &[HostEntry],
    ) -> (Vec<Mx>, Vec<Span>) {
        let mut out: Vec<Mx> = Vec::new();
        let mut spans = Vec::new();
        let Some(mx) = mx else { return (out, spans) };
        for (i, e) in mx.value.iter().enumerate() {
            let h = e.host();
            let preference = match e.priority() {
                Some(p) => p.value,
                None => u16::try_from(10 * (i + 1)).unwrap_or(u16::MAX),
            };
            let entry = if h.value.contains('.') {
                match names::fqdn(&h.value) {
                    Ok(hostname) => {
                        let ours = hosts
                            .iter()
                            .find(|x| x.hostname == hostname)
                            .map(|x| x.key.clone());
                        Mx {
                            hostname,
                            preference,
                            host: ours,
                        }
                    }
                    Err(why) => {
                        self.err(
                            Code::HostName,
                            h.span,
                            format!("`{}` is not a valid MX host: {why}", h.value),
                            "invalid MX host",
                            "write a host key of this spec (`mx1`) or an outside FQDN (`aspmx.l.google.com`)".into(),
                        );
                        continue;
                    }
                }
            } else {
                match hosts.iter().find(|x| x.key == h.value) {
                    Some(x) => Mx {
                        hostname: x.hostname.clone(),
                        preference,
                        host: Some(x.key.clone()),
                    },
                    None => {
                        // A host the list names already is no suggestion.
                        let listed: Vec<&str> =
                            mx.value.iter().map(|e| e.host().value.as_str()).collect();
                        self.unknown_host(h, hosts, &listed, &format!("the MX list of `{domain}`"));
                        continue;
                    }
                }
            };
            if let Some(j) = out.iter().position(|m| m.hostname == entry.hostname) {
                self.diags.push(
                    Diagnostic::error(
                        Code::DuplicateMx,
                        h.span,
                        format!("`{}` is listed twice in the MX list of `{domain}`", h.value),
                    )
                    .label("second time")
                    .with(spans[j], "first time")
                    .help("list each exchange once, with the preference it should have"),
                );
                continue;
            }
            out.push(entry);
            spans.push(h.span);
        }
        (out, spans)
    }

    /// Reports a host key that names no host; `taken` are the keys the same
    /// list gives already (never suggested).
    fn unknown_host(&mut self, h: &Sp<String>, hosts: &[HostEntry], taken: &[&str], place: &str) {
        if self.hosts_broken {
            return; // `hosts` was reported; this host may be in it
        }
        let mut d = Diagnostic::error(
            Code::UnknownHost,
            h.span,
            format!("`{}` in {place} is not a host of this spec", h.value),
        )
        .label("unknown host");
        let free = hosts
            .iter()
            .map(|x| x.key.as_str())
            .filter(|k| !taken.contains(k));
        d = match suggest(&h.value, free) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None if hosts.is_empty() => {
                d.help("define it under `hosts`, or write an outside MX as an FQDN")
            }
            None => d.help(format!(
                "define it under `hosts` (the hosts are {}), or write an outside host as an FQDN",
                hosts
                    .iter()
                    .map(|x| format!("`{}`", x.key))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        self.diags.push(d);
    }

    fn modes(
        &mut self,
        domain: &str,
        routing: Option<&Sp<spec::Routing>>,
        hosts: &[HostEntry],
    ) -> BTreeMap<String, (RoutingMode, Option<Span>)> {
        let mut out = BTreeMap::new();
        match routing.map(|r| (&r.value, r.span)) {
            None => {}
            Some((spec::Routing::All(m), span)) => {
                for h in hosts {
                    out.insert(h.key.clone(), (*m, Some(span)));
                }
            }
            Some((spec::Routing::PerHost(map), _)) => {
                for (k, m) in map.iter() {
                    if hosts.iter().any(|h| h.key == k.value) {
                        out.insert(k.value.clone(), (m.value, Some(m.span)));
                    } else {
                        let given: Vec<&str> = map.iter().map(|(k, _)| k.value.as_str()).collect();
                        self.unknown_host(k, hosts, &given, &format!("the routing of `{domain}`"));
                    }
                }
            }
        }
        out
    }

    fn local(&mut self, l: &Sp<String>, what: &str) -> Option<String> {
        match names::local_part(&l.value) {
            Ok(x) => Some(x),
            Err(why) => {
                self.err(
                    Code::LocalPart,
                    l.span,
                    format!("`{}` is not a valid {what} name: {why}", l.value),
                    "invalid local part",
                    "use letters, digits and `. _ - +` (no leading, trailing or double dot)".into(),
                );
                None
            }
        }
    }

    /// Records that `local` is claimed; a second claim is an error at both places.
    fn claim(
        &mut self,
        claimed: &mut BTreeMap<String, Span>,
        local: &str,
        span: Span,
        domain: &str,
    ) -> bool {
        if let Some(first) = claimed.get(local) {
            self.diags.push(
                Diagnostic::error(Code::DuplicateRecipient, span, format!("`{local}@{domain}` is defined twice"))
                    .label("second definition")
                    .with(*first, "first definition")
                    .help("a local part is one thing only (a mailbox, a mailbox's alias, or an alias); local parts are compared in lowercase"),
            );
            return false;
        }
        claimed.insert(local.to_string(), span);
        true
    }

    fn target(&mut self, t: &Sp<String>, domain: &str) -> Option<Target> {
        if t.value.contains('@') {
            match names::address(&t.value) {
                Ok((l, d)) if d == domain => Some(Target::Local(l)),
                Ok((l, d)) => Some(Target::Address(l, d)),
                Err(why) => {
                    self.err(
                        Code::Address,
                        t.span,
                        format!("`{}` is not a valid address: {why}", t.value),
                        "invalid address",
                        "write a local part of this domain (`alice`) or a full address (`bob@example.org`)".into(),
                    );
                    None
                }
            }
        } else {
            self.local(t, "target").map(Target::Local)
        }
    }

    fn quota(&mut self, q: &Sp<String>) -> Option<u64> {
        match names::quota(&q.value) {
            Ok(b) => Some(b),
            Err(why) => {
                self.err(
                    Code::Quota,
                    q.span,
                    format!("`{}` is not a valid quota: {why}", q.value),
                    "invalid quota",
                    "write a size like `500M`, `2G` or `1T`; leave `quota` out for no limit".into(),
                );
                None
            }
        }
    }

    fn relay(&mut self, h: &Sp<String>, hosts: &[HostEntry]) -> Option<Unknown> {
        let bad = |b: &mut Self, why: String| {
            b.err(
                Code::Relay,
                h.span,
                format!("`{}` is not a valid relay destination: {why}", h.value),
                "invalid relay",
                "write a host key of this spec, an FQDN or an IP address, with an optional port: `mx.example.net:2525`, `192.0.2.25:2525`, `[2001:db8::25]:2525`".into(),
            );
            None
        };
        let (host, port) = match names::host_port(&h.value) {
            Ok(x) => x,
            Err(why) => return bad(self, why),
        };
        if host.parse::<std::net::IpAddr>().is_ok() {
            return Some(Unknown::Relay { host, port });
        }
        if let Some(x) = hosts.iter().find(|x| x.key == host) {
            return Some(Unknown::Relay {
                host: x.hostname.clone(),
                port,
            });
        }
        match names::fqdn(&host) {
            Ok(name) => Some(Unknown::Relay { host: name, port }),
            Err(why) => bad(self, why),
        }
    }

    fn spf(
        &mut self,
        name: &str,
        d: &spec::Domain,
        ip4: &[Ipv4Addr],
        ip6: &[std::net::Ipv6Addr],
        null_mx: bool,
    ) -> (Spf, Span) {
        let own = d.own.spf.as_ref();
        let def = self.defaults.spf.as_ref();
        // The whole record: the domain's own, or the defaults' where the
        // domain gives no SPF key of its own.
        let own_keys = own.is_some_and(spec::Spf::has_terms);
        let record = own.and_then(|s| s.record.as_ref()).or_else(|| {
            (!own_keys)
                .then(|| def.and_then(|s| s.record.as_ref()))
                .flatten()
        });
        if let Some(r) = record {
            return (validate::spf::record(name, r, self.diags), r.span);
        }
        let list = |g: fn(&spec::Spf) -> Option<&Vec<Sp<String>>>| -> &[Sp<String>] {
            own.and_then(g)
                .or_else(|| def.and_then(g))
                .map_or(&[], Vec::as_slice)
        };
        // `redirect` and `all` end the record: the domain's own ending
        // wins over the default's.
        let (redirect, all) = ending(own)
            .or_else(|| ending(def))
            .unwrap_or((None, SpfAll::Fail));
        let input = validate::spf::Input {
            include: list(|s| s.include.as_ref()),
            ip4: list(|s| s.ip4.as_ref()),
            ip6: list(|s| s.ip6.as_ref()),
            a: list(|s| s.a.as_ref()),
            mx: list(|s| s.mx.as_ref()),
            ptr: list(|s| s.ptr.as_ref()),
            exists: list(|s| s.exists.as_ref()),
            redirect,
            all,
            span: own.or(def).map_or(Span::default(), |s| s.span),
        };
        let span = input.span;
        (
            validate::spf::check(name, &input, (ip4, ip6), null_mx, self.diags),
            span,
        )
    }
}

/// How an `spf` map ends the record: `redirect=` (then no `all`) or `all`.
/// A domain whose mail service is off (`mail: false`), after every check
/// ran on it as written: it keeps its DNS records and its roles (its MX hosts
/// refuse its mail), and loses what would receive, log in or sign.
fn switch_off(d: &mut Domain) {
    d.mailboxes.clear();
    d.recipients.clear();
    d.unknown = Unknown::Reject;
    d.catch_all = None;
    d.srs = false;
    for k in &mut d.dkim {
        k.sign = false;
    }
}

fn ending(s: Option<&spec::Spf>) -> Option<(Option<&Sp<String>>, SpfAll)> {
    s.and_then(|s| match (&s.redirect, &s.all) {
        (Some(r), _) => Some((Some(r), SpfAll::Fail)),
        (None, Some(a)) => Some((None, a.value)),
        (None, None) => None,
    })
}

/// The names mailc writes into a zone, for the collision check.
#[allow(clippy::too_many_arguments)]
fn reserved(
    domain: &str,
    dkim: &[DkimKey],
    dmarc: bool,
    mta_sts: bool,
    tls_rpt: bool,
    mx: &[Mx],
    hosts: &[HostEntry],
    roles: &BTreeMap<String, Role>,
) -> Reserved {
    let mut r = Reserved::default();
    for k in dkim {
        r.names.insert(
            format!("{}._domainkey", k.selector),
            format!("the DKIM key `{}`", k.selector),
        );
    }
    if dmarc {
        r.names
            .insert("_dmarc".into(), "the DMARC record (set `dmarc`)".into());
    }
    if mta_sts {
        r.names.insert(
            "_mta-sts".into(),
            "the MTA-STS record (set `mta_sts`)".into(),
        );
        // With no host of ours to serve the policy, mailc writes no address
        // for `mta-sts` and the spec may point it elsewhere.
        if !hosts.is_empty() {
            r.names
                .insert("mta-sts".into(), "the MTA-STS policy host".into());
        }
    }
    if tls_rpt {
        r.names.insert(
            "_smtp._tls".into(),
            "the TLS-RPT record (set `tls_rpt`)".into(),
        );
    }
    if !mx.is_empty() && roles.values().any(|x| *x == Role::Local) {
        for s in super::services::ALL {
            r.names.insert(
                s.srv.into(),
                "the mail-client SRV records mailc writes (RFC 6186)".into(),
            );
        }
    }
    let suffix = format!(".{domain}");
    let relative = |n: &str| {
        if n == domain {
            Some("@".to_string())
        } else {
            n.strip_suffix(&suffix).map(str::to_string)
        }
    };
    for h in hosts {
        if let Some(rel) = relative(&h.hostname) {
            r.host_names.insert(
                rel,
                format!("the address of host `{}`, which mailc writes", h.key),
            );
        }
    }
    for m in mx {
        if let Some(rel) = relative(&m.hostname) {
            r.mx_targets.insert(rel);
        }
    }
    r
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
