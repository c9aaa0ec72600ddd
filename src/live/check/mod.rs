//! `mailc check`: compares live DNS with what the spec publishes — MX, SPF,
//! DKIM, DMARC, MTA-STS, TLS-RPT per domain, PTR per host address — and
//! reports drift.
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
    let (answers, errors) = crate::live::resolve::ask(resolvers, questions).await;
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
    }
    Report {
        checks,
        unchecked,
        errors,
        notes: expected.notes,
    }
}
