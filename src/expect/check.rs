//! Checking expectations against the compiled model: route tests through
//! `mailc route`'s engine ([`route::route`]), so the verdicts are the ones
//! `route` prints; DNS tests against the records the DNS backend writes.

use std::collections::BTreeSet;

use hickory_proto::rr::RData;
use serde::Serialize;

use super::spf::{self, Records, SpfResult};
use super::{DnsFact, DnsTest, Expectation, Fate, Kind, RouteTest, policy_name, strictness};
use crate::backend::dns;
use crate::diag::{Code, Diagnostic};
use crate::live::check::expect::joined;
use crate::live::check::tags;
use crate::model::Model;
use crate::model::route::{self, Outcome, Route};
use crate::source::Span;
use crate::vocab::DmarcPolicy;

/// One check made: an expectation on one host, or one DNS fact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// What was checked: `info@example.com on mx1`, `example.com MX`.
    pub subject: String,
    pub expected: String,
    pub actual: String,
    pub passed: bool,
    /// Why the actual is what it is, when known.
    pub why: Option<String>,
    /// How to look further, for the diagnostic.
    #[serde(skip)]
    pub help: String,
    /// Where the expectation was written (the value that states it).
    #[serde(skip)]
    pub at: Span,
    /// Where its subject was written (the address or domain).
    #[serde(skip)]
    pub subject_at: Span,
}

impl Checked {
    /// A failed check as a diagnostic at its place: expected vs actual.
    pub fn diagnostic(&self) -> Diagnostic {
        let d = Diagnostic::error(
            Code::TestFailed,
            self.at,
            format!(
                "{}: expected {}, got {}",
                self.subject, self.expected, self.actual
            ),
        )
        .label(format!("expected {}", self.expected));
        let help = match &self.why {
            Some(why) => format!("why: {why}; {}", self.help),
            None => self.help.clone(),
        };
        d.help(help)
    }
}

/// Checks every expectation of the spec against its model, in the spec's
/// order.
pub fn run(model: &Model, tests: &[Expectation]) -> Vec<Checked> {
    let mut records = None;
    let mut out = Vec::new();
    for e in tests {
        match &e.kind {
            Kind::Route(t) => {
                for host in hosts_of(model, t) {
                    out.push(route_check(model, t, &host));
                }
            }
            Kind::Dns(t) => {
                let records = records.get_or_insert_with(|| Records::of(model));
                out.extend(dns_checks(model, records, t));
            }
        }
    }
    out
}

/// The route tests, for checks against running servers.
pub fn route_tests(tests: &[Expectation]) -> impl Iterator<Item = (&Expectation, &RouteTest)> {
    tests.iter().filter_map(|e| match &e.kind {
        Kind::Route(t) => Some((e, t)),
        Kind::Dns(_) => None,
    })
}

/// The hosts a route test is about: those it names, else every host.
pub fn hosts_of(model: &Model, t: &RouteTest) -> Vec<String> {
    if t.hosts.is_empty() {
        model.hosts.keys().cloned().collect()
    } else {
        t.hosts.clone()
    }
}

/// What `mailc route` says, as a [`Fate`].
pub fn fate_of(r: &Route) -> Fate {
    match r.outcome {
        Outcome::Deliver | Outcome::Forward => Fate::Deliver {
            mailboxes: r.mailboxes.iter().cloned().collect(),
            forward: r.forward.iter().cloned().collect(),
        },
        Outcome::Relay => Fate::Relay {
            hop: without_port_25(r.next_hop.as_deref().unwrap_or("")),
        },
        Outcome::Reject => Fate::Reject {
            reply: r.reply.clone(),
        },
        Outcome::Bounce => Fate::Bounce,
        Outcome::Drop => Fate::Drop,
        Outcome::Remote => Fate::Remote,
    }
}

fn without_port_25(hop: &str) -> String {
    hop.strip_suffix(":25").unwrap_or(hop).to_string()
}

/// Whether `actual` is the fate `expected` asks for.
pub fn meets(expected: &Fate, actual: &Fate) -> bool {
    match (expected, actual) {
        (Fate::Reject { reply: None }, Fate::Reject { .. }) => true,
        (Fate::Reject { reply: Some(code) }, Fate::Reject { reply: Some(got) }) => {
            reply_has_code(got, code)
        }
        (e, a) => e == a,
    }
}

/// `550 5.1.1 <x>: ...` has the code `550` and `550 5.1.1`.
pub fn reply_has_code(reply: &str, code: &str) -> bool {
    reply == code
        || reply
            .strip_prefix(code)
            .is_some_and(|rest| rest.starts_with([' ', '-']))
}

fn route_check(model: &Model, t: &RouteTest, host: &str) -> Checked {
    let r = route::route(model, host, &t.address);
    let actual = fate_of(&r);
    Checked {
        subject: format!("`{}` on {host}", t.address),
        expected: t.fate.describe(),
        actual: actual.describe(),
        passed: meets(&t.fate, &actual),
        why: Some(route::why(model, &r)),
        help: format!(
            "fix the spec or the test; `mailc route {} --host {host}` explains the route",
            t.address
        ),
        at: t.fate_at.0,
        subject_at: t.address_at.0,
    }
}

fn dns_checks(model: &Model, records: &Records, t: &DnsTest) -> Vec<Checked> {
    let Some(domain) = model.domains.get(&t.domain) else {
        return Vec::new();
    };
    let rrs = dns::domain_records(model, domain, None);
    let apex = |rr: &crate::backend::zone::Rr| {
        rr.owner
            .to_ascii()
            .trim_end_matches('.')
            .eq_ignore_ascii_case(&t.domain)
    };
    let mut out = Vec::new();
    for (fact, at) in &t.facts {
        let check = |subject: String, expected: String, actual: String, passed: bool| Checked {
            subject,
            expected,
            actual,
            passed,
            why: None,
            help: format!(
                "fix the spec or the test; `mailc plan` shows the records of `dns/{}.zone`",
                t.domain
            ),
            at: at.0,
            subject_at: t.domain_at.0,
        };
        out.push(match fact {
            DnsFact::Mx(want) => {
                let got: BTreeSet<(u16, String)> = rrs
                    .iter()
                    .filter(|rr| apex(rr))
                    .filter_map(|rr| match &rr.data {
                        RData::MX(mx) => Some((
                            mx.preference,
                            mx.exchange.to_ascii().trim_end_matches('.').to_lowercase(),
                        )),
                        _ => None,
                    })
                    .collect();
                // A null MX (RFC 7505) is `0 .`: no exchange.
                let got: BTreeSet<(u16, String)> =
                    got.into_iter().filter(|(_, n)| !n.is_empty()).collect();
                let names =
                    |s: &mut dyn Iterator<Item = &String>| s.cloned().collect::<BTreeSet<_>>();
                let passed = names(&mut want.iter().map(|(_, n)| n))
                    == names(&mut got.iter().map(|(_, n)| n))
                    && want.iter().all(|(p, n)| {
                        p.is_none_or(|p| got.iter().any(|(gp, gn)| *gp == p && gn == n))
                    });
                let show = |items: Vec<String>| {
                    if items.is_empty() {
                        "a null MX (no mail)".to_string()
                    } else {
                        items.join(", ")
                    }
                };
                check(
                    format!("`{}` MX", t.domain),
                    show(
                        want.iter()
                            .map(|(p, n)| match p {
                                Some(p) => format!("{p} {n}"),
                                None => n.clone(),
                            })
                            .collect(),
                    ),
                    show(got.iter().map(|(p, n)| format!("{p} {n}")).collect()),
                    passed,
                )
            }
            DnsFact::SpfAllows(ip) | DnsFact::SpfDenies(ip) => {
                let allows = matches!(fact, DnsFact::SpfAllows(_));
                let v = spf::evaluate(records, &t.domain, *ip);
                let passed = match v.result {
                    SpfResult::Pass => allows,
                    SpfResult::Unknown(_) => false,
                    _ => !allows,
                };
                check(
                    format!("`{}` SPF for {ip}", t.domain),
                    if allows { "pass" } else { "not pass" }.to_string(),
                    v.to_string(),
                    passed,
                )
            }
            DnsFact::DmarcAtLeast(want) => {
                let name = format!("_dmarc.{}", t.domain);
                let policy = rrs
                    .iter()
                    .filter(|rr| rr.owner.to_ascii().trim_end_matches('.') == name)
                    .filter_map(|rr| joined(&rr.data))
                    .find(|t| tags::has_version(t, "DMARC1"))
                    .and_then(|t| {
                        let parsed = tags::parse(&t);
                        tags::get(&parsed, "p").map(str::to_ascii_lowercase)
                    });
                let got = policy.as_deref().and_then(|p| match p {
                    "none" => Some(DmarcPolicy::None),
                    "quarantine" => Some(DmarcPolicy::Quarantine),
                    "reject" => Some(DmarcPolicy::Reject),
                    _ => None,
                });
                check(
                    format!("`{}` DMARC", t.domain),
                    format!("p={} or stricter", policy_name(*want)),
                    match &policy {
                        Some(p) => format!("p={p}"),
                        None => "no DMARC record".to_string(),
                    },
                    got.is_some_and(|g| strictness(g) >= strictness(*want)),
                )
            }
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_codes_match_whole_words() {
        let r = "550 5.1.1 <x@example.com>: recipient address rejected";
        assert!(reply_has_code(r, "550"));
        assert!(reply_has_code(r, "550 5.1.1"));
        assert!(!reply_has_code(r, "55"));
        assert!(!reply_has_code(r, "550 5.1"));
        assert!(!reply_has_code(r, "554"));
        assert!(reply_has_code("550-5.1.1 first line", "550"));
    }
}
