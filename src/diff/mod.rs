//! `mailc diff`: what changes between two compilations of a spec — the
//! spec as it is at two git revisions, or at one and in the working tree.
//! The files compared as `plan` compares them (and shown by its renderer,
//! secrets hidden alike), each zone's records, and every routing verdict
//! that changes ([`routes`]). Reading the revisions is the command line's
//! part; this room gets two compiled sides.

pub mod dkim;
pub mod render;
pub mod routes;

use serde::Serialize;

use crate::model::Model;
use crate::output::Output;
use crate::plan::{Action, Current, Found, Plan, zone};
pub use routes::RouteChange;

/// One side of the comparison, compiled.
pub struct Side<'a> {
    pub about: About,
    pub model: &'a Model,
    /// The spec's resolved `tests` (their addresses are compared too).
    pub tests: &'a [crate::expect::Expectation],
    pub output: &'a Output,
}

/// Which revision a side is, for people and JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct About {
    /// As given (`HEAD~2`), or `working tree`.
    pub rev: String,
    /// The commit it names; `None` for the working tree.
    pub commit: Option<String>,
    /// The spec's path in the repository at that side.
    pub spec: String,
    /// DKIM keys whose files that side does not hold.
    pub missing_keys: Vec<dkim::MissingKey>,
}

impl About {
    /// `HEAD (1a2b3c4)`, `working tree`.
    pub fn label(&self) -> String {
        match &self.commit {
            Some(c) => format!("{} ({})", self.rev, &c[..c.len().min(7)]),
            None => self.rev.clone(),
        }
    }
}

/// The records of one zone that appear and disappear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ZoneRecords {
    pub path: String,
    pub removed: Vec<String>,
    pub added: Vec<String>,
}

/// Everything that differs.
pub struct Diff {
    pub before: About,
    pub after: About,
    /// The files, as a plan from the one side's output to the other's.
    pub plan: Plan,
    /// Per changed zone file, in path order.
    pub records: Vec<ZoneRecords>,
    pub routes: Vec<RouteChange>,
}

impl Diff {
    pub fn changed(&self) -> bool {
        !self.plan.is_empty() || !self.routes.is_empty()
    }

    pub fn records_added(&self) -> usize {
        self.records.iter().map(|r| r.added.len()).sum()
    }

    pub fn records_removed(&self) -> usize {
        self.records.iter().map(|r| r.removed.len()).sum()
    }
}

/// Compares two compiled sides.
pub fn compare(before: Side<'_>, after: Side<'_>) -> Diff {
    // The "before" output stands where plan finds the output folder.
    let current = Current {
        files: before
            .output
            .files
            .iter()
            .map(|(p, f)| {
                (
                    p.clone(),
                    Some(Found::new(f.bytes.clone(), f.mode(), (0, 0))),
                )
            })
            .collect(),
        managed: before.output.files.keys().cloned().collect(),
        managed_file: None,
        unchanged: Default::default(),
    };
    let plan = match Plan::preview(after.output, current) {
        Ok(mut p) => {
            // A key file one side lacks was compiled from the stand-in: a
            // copy that "changes" from or to it says nothing about the key
            // (the notes say it is unknown there). Adds and deletes stay.
            let stand_in = dkim::stand_in();
            p.changes.retain(|c| {
                let is_stand_in = |b: &[u8]| b == stand_in.as_slice();
                c.action != Action::Change
                    || !(c.old.as_ref().is_some_and(|f| is_stand_in(&f.bytes))
                        || c.new.as_ref().is_some_and(|f| is_stand_in(&f.bytes)))
            });
            p
        }
        // Paths come from mailc's own backends: always inside the folder.
        Err(_) => Plan {
            changes: Vec::new(),
            managed_before: Default::default(),
            managed_after: Default::default(),
            expected: Default::default(),
        },
    };
    let records = plan
        .changes
        .iter()
        .filter(|c| zone::is_zone(&c.path) && !c.sensitive())
        .filter_map(|c| {
            let text = |f: Option<&[u8]>| {
                f.map_or(Some(String::new()), |b| {
                    std::str::from_utf8(b).ok().map(str::to_string)
                })
            };
            let old = text(c.old.as_ref().map(|f| f.bytes.as_slice()))?;
            let new = text(c.new.as_ref().map(|f| f.bytes.as_slice()))?;
            let d = zone::diff(&old, &new);
            (!d.is_empty()).then(|| ZoneRecords {
                path: c.path.clone(),
                removed: d.removed,
                added: d.added,
            })
        })
        .collect();
    Diff {
        routes: routes::changes((before.model, before.tests), (after.model, after.tests)),
        before: before.about,
        after: after.about,
        plan,
        records,
    }
}
