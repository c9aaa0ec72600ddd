//! Routing verdicts that change between two models: for every address
//! either spec names (mailboxes, their aliases, aliases, alias and
//! catch-all targets, tested addresses) and an address nobody claims in
//! each domain, on every host of either spec, `mailc route`'s verdict before
//! and after.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::expect::check::fate_of;
use crate::expect::{Expectation, Fate};
use crate::model::Model;
use crate::model::route::route;

/// What one host does with one address on one side; `None` when the host
/// is not in that side's spec.
pub type Verdict = Option<Fate>;

/// One address on one host whose fate differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteChange {
    /// The address, or `*@DOMAIN` for an address nobody claims.
    pub address: String,
    pub host: String,
    pub before: Verdict,
    pub after: Verdict,
}

/// The local part that stands for "an address nobody claims": one no spec
/// claims, made longer until neither does.
fn unclaimed(a: &Model, b: &Model, domain: &str) -> String {
    let mut local = "unknown-recipient".to_string();
    let claimed = |m: &Model, l: &str| {
        m.domains
            .get(domain)
            .is_some_and(|d| d.recipients.contains_key(l))
    };
    while claimed(a, &local) || claimed(b, &local) {
        local.push('-');
        local.push('x');
    }
    local
}

/// The addresses a spec names, its tests' included.
fn named(m: &Model, tests: &[Expectation], into: &mut BTreeSet<String>) {
    for d in m.domains.values() {
        for (local, r) in &d.recipients {
            into.insert(format!("{local}@{}", d.name));
            into.extend(r.target.mailboxes.iter().cloned());
            into.extend(r.target.external.iter().cloned());
        }
        if let Some(c) = &d.catch_all {
            into.insert(c.clone());
        }
    }
    for (_, t) in crate::expect::check::route_tests(tests) {
        into.insert(t.address.clone());
    }
}

/// Every verdict that differs, by address, then host.
pub fn changes(
    (before, before_tests): (&Model, &[Expectation]),
    (after, after_tests): (&Model, &[Expectation]),
) -> Vec<RouteChange> {
    let mut addresses = BTreeSet::new();
    named(before, before_tests, &mut addresses);
    named(after, after_tests, &mut addresses);
    // One address nobody claims, per domain of either spec.
    let domains: BTreeSet<&String> = before.domains.keys().chain(after.domains.keys()).collect();
    let probes: Vec<(String, String)> = domains
        .into_iter()
        .map(|d| {
            (
                format!("{}@{d}", unclaimed(before, after, d)),
                format!("*@{d}"),
            )
        })
        .collect();
    let hosts: BTreeSet<&String> = before.hosts.keys().chain(after.hosts.keys()).collect();
    let verdict = |m: &Model, host: &str, address: &str, label: &str| -> Verdict {
        m.hosts
            .contains_key(host)
            .then(|| match fate_of(&route(m, host, address)) {
                // A probe's refusal names the probe: name what it stands for.
                Fate::Reject { reply: Some(r) } => Fate::Reject {
                    reply: Some(r.replace(address, label)),
                },
                f => f,
            })
    };
    let mut out = Vec::new();
    let shown = addresses
        .iter()
        .map(|a| (a.clone(), a.clone()))
        .chain(probes);
    for (address, label) in shown {
        for host in &hosts {
            let b = verdict(before, host, &address, &label);
            let a = verdict(after, host, &address, &label);
            if b != a {
                out.push(RouteChange {
                    address: label.clone(),
                    host: (*host).clone(),
                    before: b,
                    after: a,
                });
            }
        }
    }
    out
}

/// A verdict in a few words, for tables: the refusal's reply without its
/// text, `(no such host)` for a host the side lacks.
pub fn short(v: &Verdict) -> String {
    match v {
        None => "(no such host)".to_string(),
        Some(Fate::Reject { reply: Some(r) }) => {
            // `550 5.1.1 <a@b>: ...`: the codes only.
            let codes: Vec<&str> = r
                .split(' ')
                .take_while(|w| !w.starts_with('<'))
                .take(2)
                .collect();
            format!("refused {}", codes.join(" "))
        }
        Some(f) => f.describe(),
    }
}
