//! The proof an import gives before it writes anything: the spec it made
//! is compiled, each zone mailc would write is compared with the original
//! record by record, and every address the sources name (and an unknown one
//! per domain) is routed by the spec and compared with what the source
//! system does with it. Every difference becomes a finding.

use std::collections::BTreeSet;

use hickory_proto::rr::{Name, RData};

use super::dns::ZoneImport;
use super::report::{Finding, Severity};
use super::zone::{self, Data};
use crate::backend::Context;
use crate::backend::zone::{name_text, rdata_text};
use crate::diag::Diagnostic;
use crate::live::records::{Key, Records};
use crate::model::Model;
use crate::model::route::{self, Outcome};
use crate::source::{Dialect, Source};

/// What a mail system does with one address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Refused at RCPT.
    Refuse,
    /// Delivered to these mailboxes, forwarded to these addresses.
    Deliver {
        mailboxes: BTreeSet<String>,
        forward: BTreeSet<String>,
    },
    /// Accepted, then returned to the sender.
    Bounce,
    /// Accepted and passed to this server (`host` or `host:port`).
    Relay(String),
    /// Not a domain of this host: sent out by MX lookup.
    Remote,
    /// Accepted and thrown away.
    Discard,
    /// Something mailc cannot do, described.
    Other(String),
}

impl Verdict {
    fn describe(&self) -> String {
        match self {
            Verdict::Refuse => "refuses it at RCPT".into(),
            Verdict::Deliver { mailboxes, forward } => {
                let mut parts = Vec::new();
                if !mailboxes.is_empty() {
                    parts.push(format!("delivers it to {}", join(mailboxes)));
                }
                if !forward.is_empty() {
                    parts.push(format!("forwards it to {}", join(forward)));
                }
                if parts.is_empty() {
                    "delivers it nowhere".into()
                } else {
                    parts.join(" and ")
                }
            }
            Verdict::Bounce => "accepts it, then bounces it".into(),
            Verdict::Relay(h) => format!("relays it to {h}"),
            Verdict::Remote => "does not take it (not a domain of this host)".into(),
            Verdict::Discard => "accepts it and throws it away".into(),
            Verdict::Other(s) => s.clone(),
        }
    }

    fn of(r: &route::Route) -> Verdict {
        match r.outcome {
            Outcome::Reject => Verdict::Refuse,
            Outcome::Deliver | Outcome::Forward => Verdict::Deliver {
                mailboxes: r.mailboxes.iter().cloned().collect(),
                forward: r.forward.iter().cloned().collect(),
            },
            Outcome::Bounce => Verdict::Bounce,
            Outcome::Drop => Verdict::Discard,
            Outcome::Relay => Verdict::Relay(hop(r.next_hop.as_deref().unwrap_or(""))),
            Outcome::Remote => Verdict::Remote,
        }
    }
}

fn join(s: &BTreeSet<String>) -> String {
    s.iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A next hop as compared: lowercase, no brackets, no final dot, no `:25`.
pub fn hop(h: &str) -> String {
    let h = h.to_ascii_lowercase().replace(['[', ']'], "");
    let h = h.strip_suffix(":25").unwrap_or(&h).to_string();
    h.trim_end_matches('.').to_string()
}

/// What the source does with mail to `address` on host `host` (a key of
/// the spec), and where the source says so.
#[derive(Clone, Debug)]
pub struct Expect {
    pub host: String,
    pub address: String,
    pub verdict: Verdict,
    pub file: String,
    pub line: Option<usize>,
}

/// No previous output and no key files: an import names no private keys.
struct Nothing;

impl Context for Nothing {
    fn previous(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
    fn private_key(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
}

/// Key files: an import names none.
struct NoKeys;

impl crate::model::KeyFiles for NoKeys {
    fn exists(&self, _: &str) -> bool {
        false
    }
}

/// Compiles spec text: the model, or the spec's own diagnostics.
pub fn compile(name: &str, text: &str, kdl: bool) -> Result<Model, (Source, Vec<Diagnostic>)> {
    let source = Source::new(name, text, if kdl { Dialect::Kdl } else { Dialect::Yaml });
    let compiled = crate::compile::compile(
        source,
        &crate::compile::Inputs {
            key_files: &NoKeys,
            missing_keys: crate::compile::MissingKey::Error,
            spec_files: &crate::compile::NoIncludes,
            main_path: "",
        },
    );
    match compiled.model {
        Some(m) => Ok(m),
        None => Err((compiled.source, compiled.diagnostics)),
    }
}

/// A zone mailc writes: its domain, records and SOA (with its TTL).
pub type BuiltZone = (
    String,
    Records,
    Option<(hickory_proto::rr::rdata::SOA, u32)>,
);

/// The zones mailc writes for `model`, by domain: records and SOA.
pub fn zones(model: &Model) -> Vec<BuiltZone> {
    let mut out = crate::output::Output::default();
    let mut diags = Vec::new();
    crate::backend::dns::compile(model, &Nothing, &mut out, &mut diags);
    let mut zones = Vec::new();
    for (path, file) in &out.files {
        let Some(domain) = path
            .strip_prefix("dns/")
            .and_then(|p| p.strip_suffix(".zone"))
        else {
            continue;
        };
        let text = String::from_utf8_lossy(&file.bytes);
        let Ok(origin) = Name::from_ascii(format!("{domain}.")) else {
            continue;
        };
        let Ok(z) = zone::parse(path, &text, Some(origin), &mut NoIncludes) else {
            continue;
        };
        let mut r = Records::default();
        let mut soa = None;
        for e in z.entries {
            if let Data::Known(d) = e.data {
                if let RData::SOA(s) = &d {
                    soa = Some((s.clone(), e.ttl));
                }
                r.add(&e.owner, e.ttl, d);
            }
        }
        zones.push((domain.to_string(), r, soa));
    }
    zones
}

struct NoIncludes;

impl zone::Includes for NoIncludes {
    fn read(&mut self, path: &str, from: &str, line: usize) -> Result<(String, String), Finding> {
        Err(Finding::error(
            from,
            Some(line),
            format!("unexpected include of {path}"),
        ))
    }
}

/// Compares each imported zone with the zone the spec gives.
pub fn compare_zones(model: &Model, imports: &[ZoneImport], findings: &mut Vec<Finding>) {
    let built = zones(model);
    for imp in imports {
        let Some((_, mine, soa)) = built.iter().find(|(d, ..)| *d == imp.domain) else {
            findings.push(Finding::warning(
                &imp.file,
                None,
                format!("mailc writes no zone for `{}`", imp.domain),
            ));
            continue;
        };
        compare_soa(imp, soa.as_ref(), findings);
        let keys: BTreeSet<&Key> = imp.original.sets.keys().chain(mine.sets.keys()).collect();
        let mut client_srv = Vec::new();
        for key in keys {
            if imp.explained.contains(key) {
                continue;
            }
            let (file, line) = match imp.place.get(key) {
                Some((f, l)) => (f.as_str(), Some(*l)),
                None => (imp.file.as_str(), None),
            };
            let show = |set: Option<&crate::live::records::Set>| -> String {
                set.map_or("nothing".into(), |s| {
                    s.data
                        .iter()
                        .map(|d| format!("`{}`", rdata_text(d)))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
            };
            let (a, b) = (imp.original.sets.get(key), mine.sets.get(key));
            let same_data = match (a, b) {
                (Some(a), Some(b)) => {
                    a.data.len() == b.data.len() && a.data.iter().all(|d| b.contains(d))
                }
                _ => false,
            };
            let what = format!("{} {}", name_text(&key.owner), key.rtype);
            if same_data {
                let (ta, tb) = (a.map_or(0, |s| s.ttl), b.map_or(0, |s| s.ttl));
                if ta != tb {
                    findings.push(
                        Finding::warning(file, line, format!("`{what}` gets the TTL {tb} instead of {ta}"))
                            .help("mailc writes the records it makes with the domain's `ttl`; only `records` have their own"),
                    );
                }
                continue;
            }
            if let (Some(a), Some(b)) = (a, b)
                && spf_reordered(a, b)
            {
                findings.push(Finding::note(
                    file,
                    line,
                    format!(
                        "the SPF record is written in mailc's order: {} (the same terms)",
                        show(Some(b))
                    ),
                ));
                continue;
            }
            // The client SRV records mailc adds for a domain with a local
            // host: one note for all of them.
            if a.is_none()
                && key.rtype == hickory_proto::rr::RecordType::SRV
                && crate::model::services::ALL
                    .iter()
                    .any(|s| name_text(&key.owner).starts_with(&format!("{}.", s.srv)))
            {
                client_srv.push(name_text(&key.owner));
                continue;
            }
            let message = match (a, b) {
                (Some(_), None) => format!(
                    "`{what}` is not carried over: {} is not in the zone mailc writes",
                    show(a)
                ),
                (None, Some(_)) => format!(
                    "mailc adds `{what}` {}, which the original zone does not have",
                    show(b)
                ),
                _ => format!("`{what}` changes from {} to {}", show(a), show(b)),
            };
            findings.push(Finding::warning(file, line, message));
        }
        if !client_srv.is_empty() {
            findings.push(Finding::note(
                &imp.file,
                None,
                format!(
                    "mailc adds the SRV records that tell mail clients where to connect (RFC 6186): {}",
                    client_srv.join(", ")
                ),
            ));
        }
    }
}

/// Two SPF records with the same terms in another order.
fn spf_reordered(a: &crate::live::records::Set, b: &crate::live::records::Set) -> bool {
    let terms = |s: &crate::live::records::Set| -> Option<BTreeSet<String>> {
        let [RData::TXT(t)] = s.data.as_slice() else {
            return None;
        };
        let text: Vec<u8> = t.txt_data.iter().flat_map(|x| x.iter().copied()).collect();
        let text = String::from_utf8(text).ok()?.to_ascii_lowercase();
        text.starts_with("v=spf1").then(|| {
            text.split_whitespace()
                .map(|t| t.trim_start_matches('+').to_string())
                .collect()
        })
    };
    matches!((terms(a), terms(b)), (Some(x), Some(y)) if x == y)
}

fn compare_soa(
    imp: &ZoneImport,
    mine: Option<&(hickory_proto::rr::rdata::SOA, u32)>,
    findings: &mut Vec<Finding>,
) {
    let (Some((old, old_ttl, line)), Some((new, new_ttl))) = (&imp.soa, mine) else {
        return;
    };
    let mut diffs = Vec::new();
    let n = |x: &Name| name_text(&x.to_lowercase());
    if n(&old.mname) != n(&new.mname) {
        diffs.push(format!(
            "primary server {} → {}",
            n(&old.mname),
            n(&new.mname)
        ));
    }
    if n(&old.rname) != n(&new.rname) {
        diffs.push(format!("contact {} → {}", n(&old.rname), n(&new.rname)));
    }
    for (what, a, b) in [
        ("refresh", old.refresh, new.refresh),
        ("retry", old.retry, new.retry),
        ("expire", old.expire, new.expire),
    ] {
        if a != b {
            diffs.push(format!("{what} {a} → {b}"));
        }
    }
    if old.minimum != new.minimum {
        diffs.push(format!("negative TTL {} → {}", old.minimum, new.minimum));
    }
    if old_ttl != new_ttl {
        diffs.push(format!("TTL {old_ttl} → {new_ttl}"));
    }
    if !diffs.is_empty() {
        findings.push(
            Finding::warning(&imp.file, Some(*line), format!("the SOA record changes: {}", diffs.join(", ")))
                .help("mailc writes the SOA's timers itself (refresh 3600, retry 900, expire 1209600, negative TTL 300) and the first name server as its primary; the serial is kept from the zone it wrote before"),
        );
    }
}

/// Routes every expectation through the spec and reports disagreements;
/// returns the routes that agree, as the spec's `tests`.
pub fn compare_routes(
    model: &Model,
    expects: &[Expect],
    findings: &mut Vec<Finding>,
) -> Vec<route::Route> {
    let mut agreed = Vec::new();
    for e in expects {
        let r = route::route(model, &e.host, &e.address);
        let mine = Verdict::of(&r);
        let theirs = match &e.verdict {
            Verdict::Relay(h) => Verdict::Relay(hop(h)),
            v => v.clone(),
        };
        if mine != theirs {
            findings.push(Finding::new(
                Severity::Warning,
                &e.file,
                e.line,
                format!(
                    "mail to `{}` on host `{}`: the source {}; the imported spec {}",
                    e.address,
                    e.host,
                    theirs.describe(),
                    mine.describe()
                ),
            ));
        } else {
            agreed.push(r);
        }
    }
    agreed
}
