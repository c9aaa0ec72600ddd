//! `mailc check`: compares live DNS with what the spec publishes — MX, SPF,
//! DKIM, DMARC, MTA-STS, TLS-RPT per domain, PTR per host address — and
//! reports drift; and counts the DNS lookups of each live SPF record with
//! its includes followed ([`spf`]).
//!
//! Three stages, only the middle one doing I/O:
//!
//! 1. [`expect`]: the checks and the records each wants, taken from the DNS
//!    backend so the strings are exactly those `mailc apply` writes;
//! 2. [`resolve`](crate::live::resolve): the questions asked of DNS (one
//!    server, or the system's);
//! 3. [`compare`]: each check against the answers, by meaning (see there for
//!    what counts as the same).

pub mod compare;
pub mod expect;
pub mod spf;
pub mod tags;

use std::collections::BTreeSet;

use crate::backend::Context;
pub use crate::live::resolve::{QueryError, Resolvers};
use crate::model::Model;
pub use compare::{Check, Status};

/// Every check's outcome, in the spec's order: domains, then hosts.
#[derive(Clone, Debug)]
pub struct Report {
    /// The checks DNS answered for.
    pub checks: Vec<Check>,
    /// Checks left undecided: a question of theirs got no usable answer.
    pub unchecked: usize,
    /// Those questions, and why.
    pub errors: Vec<QueryError>,
    /// What was left unchecked by the spec's own state, and why.
    pub notes: Vec<String>,
}

impl Report {
    /// Checks not in sync.
    pub fn drifted(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.status != Status::InSync)
            .count()
    }
}

/// Checks the spec's records against DNS as `resolvers` see it. A check
/// whose question found no usable answer (a timeout, SERVFAIL) is left out
/// of `checks` and counted in `unchecked`: it is neither in sync nor drift.
pub async fn run(model: &Model, ctx: Option<&dyn Context>, resolvers: &Resolvers) -> Report {
    let expected = expect::expectations(model, ctx);
    let questions: BTreeSet<_> = expected
        .checks
        .iter()
        .flat_map(|e| e.want.queries())
        .collect();
    let (mut answers, errors) = crate::live::resolve::ask(resolvers, questions.clone()).await;
    // SPF: each domain's live record with its includes followed, one
    // round of questions per level of the chains.
    let spf_domains: Vec<(&str, &hickory_proto::rr::Name)> = expected
        .checks
        .iter()
        .filter_map(|e| match (&e.kind, &e.want) {
            (expect::Kind::Spf, expect::Want::Txt { at, .. }) => Some((e.group.as_str(), at)),
            _ => None,
        })
        .collect();
    let mut asked = questions;
    for _ in 0..=crate::model::validate::spf::MAX_LOOKUPS + 1 {
        let pending: BTreeSet<_> = spf_domains
            .iter()
            .flat_map(|(_, at)| spf::walk(at, &answers).pending)
            .filter(|q| !asked.contains(q))
            .collect();
        if pending.is_empty() {
            break;
        }
        asked.extend(pending.iter().cloned());
        // A name of the chain no server answers for (another
        // organisation's, asked of a server without recursion) leaves that
        // domain's count undecided; it is not an error of the spec's records.
        let (more, _unanswered) = crate::live::resolve::ask(resolvers, pending).await;
        answers.extend(more);
    }
    let mut notes = expected.notes.clone();
    let mut checks = Vec::new();
    let mut unchecked = 0;
    for e in &expected.checks {
        let answered = e
            .want
            .queries()
            .iter()
            .all(|(name, rtype)| answers.get(name, *rtype).is_some());
        if answered {
            checks.push(compare::compare(e, &answers));
        } else {
            unchecked += 1;
        }
        if let (expect::Kind::Spf, expect::Want::Txt { at, .. }) = (&e.kind, &e.want) {
            let w = spf::walk(at, &answers);
            let c = spf::check(&e.group, at, &w);
            if !w.found || w.lookups == 0 {
                // No SPF record to follow (the SPF check says so), or one
                // without lookups: nothing to count.
            } else if w.pending.is_empty() || c.status != Status::InSync {
                checks.push(c);
            } else {
                unchecked += 1;
                let names: Vec<String> = w
                    .pending
                    .iter()
                    .map(|(n, t)| format!("{} {t}", n.to_ascii().trim_end_matches('.')))
                    .collect();
                notes.push(format!(
                    "{} {}: not counted, no usable answer for {} (a name outside the server's zones needs a recursive resolver)",
                    e.group,
                    spf::CHECK,
                    names.join(", ")
                ));
            }
        }
    }
    Report {
        checks,
        unchecked,
        errors,
        notes,
    }
}
