//! Plan: what would change in the output folder (`--out`) if a compiled
//! [`Output`] were written there, and the machinery to show it, save it and
//! write exactly it.
//!
//! The stages, each a type:
//!
//! ```text
//! Output (in memory) + Current (what --out holds)  →  Plan  →  render (text, JSON)
//!                                                          →  PlanFile (saved, fingerprints only for secrets)
//!                                                          →  apply (lock, atomic writes, managed list)
//! ```
//!
//! mailc deletes only files it wrote earlier: the [`managed`] list in `--out`
//! records them. A file a person put in `--out` is never touched unless the
//! spec now produces a file at that very path (then the plan shows it as a
//! change).

pub mod apply;
pub mod current;
pub mod fingerprint;
pub mod managed;
pub mod path;
pub mod planfile;
pub mod render;
pub mod seal;
pub mod tree;
pub mod zone;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::output::Output;
pub use current::{Current, Found, Prefetched, Stamp};
pub use fingerprint::Fingerprint;
pub use path::PathError;

/// What happens to one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The file does not exist yet.
    Add,
    /// The file exists with other bytes or another mode.
    Change,
    /// mailc wrote the file earlier and the spec no longer produces it.
    Delete,
}

impl Action {
    /// The word that opens a file's block in a text plan.
    pub fn verb(self) -> &'static str {
        match self {
            Action::Add => "add",
            Action::Change => "change",
            Action::Delete => "delete",
        }
    }
}

/// The bytes and mode a file gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired {
    pub bytes: Vec<u8>,
    /// 0o600 for secrets, 0o644 for the rest.
    pub mode: u32,
    pub secret: bool,
}

/// One file that an apply adds, changes or deletes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// `/`-separated, relative to `--out`.
    pub path: String,
    pub action: Action,
    /// What is there now (`None` for an add).
    pub old: Option<Found>,
    /// What will be there (`None` for a delete).
    pub new: Option<Desired>,
    /// 0 when `old` and `new` are the whole files; else the line (0-based)
    /// where both start, the same in the two files: a stretch of a large
    /// table around the lines that change, as a plan made from the cache
    /// shows it (such a plan is shown, never saved or applied).
    pub from_line: usize,
}

impl Change {
    /// Whether the content must stay hidden: the new file is secret, or the
    /// old one is readable by its owner only (it may hold keys or hashes).
    pub fn sensitive(&self) -> bool {
        self.new.as_ref().is_some_and(|n| n.secret)
            || self.old.as_ref().is_some_and(|o| o.mode & 0o077 == 0)
    }

    /// Whether only the mode differs.
    pub fn mode_only(&self) -> bool {
        match (&self.old, &self.new) {
            (Some(o), Some(n)) => o.bytes == n.bytes,
            _ => false,
        }
    }
}

/// Counts of a plan's changes: the `Plan: N to add, …` line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub delete: usize,
}

impl Summary {
    pub fn is_empty(&self) -> bool {
        self.add + self.change + self.delete == 0
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_empty() {
            f.write_str("No changes.")
        } else {
            write!(
                f,
                "Plan: {} to add, {} to change, {} to delete.",
                self.add, self.change, self.delete
            )
        }
    }
}

/// Everything an apply will do to `--out`, and the state of `--out` it was
/// computed against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Sorted by path; unchanged files are not listed.
    pub changes: Vec<Change>,
    /// The files mailc had written before (the managed list as found).
    pub managed_before: BTreeSet<String>,
    /// The files mailc owns after the apply: every path of the output.
    pub managed_after: BTreeSet<String>,
    /// What each path concerned held when the plan was made (`None`:
    /// absent), the managed list included. An apply refuses to run when `--out`
    /// no longer matches.
    pub expected: BTreeMap<String, Option<Stamp>>,
}

impl Plan {
    /// Compares the compiled output with what `--out` holds. `current`
    /// should have been scanned for every path of `output` (see
    /// [`Current::scan`]); a path it lacks counts as absent.
    pub fn new(output: &Output, current: Current) -> Result<Plan, PathError> {
        Self::build(output, current, true)
    }

    /// [`Plan::new`] for showing only: no fingerprints of what `--out`
    /// holds (at hosting scale, hashing 50 MB), so `expected` stays empty
    /// and the plan must be neither saved nor applied.
    pub fn preview(output: &Output, current: Current) -> Result<Plan, PathError> {
        Self::build(output, current, false)
    }

    fn build(output: &Output, current: Current, stamped: bool) -> Result<Plan, PathError> {
        for path in output.files.keys() {
            path::check(path)?;
        }
        let mut expected = BTreeMap::new();
        if stamped {
            expected = current.stamps();
            // A path the caller did not scan counts as absent.
            for path in output.files.keys() {
                expected.entry(path.clone()).or_insert(None);
            }
        }
        let Current {
            mut files,
            managed,
            unchanged,
            ..
        } = current;
        let mut changes = Vec::new();
        for (path, file) in &output.files {
            if unchanged.contains(path) {
                continue;
            }
            // Copied only for a file that changes.
            let new = || Desired {
                bytes: file.bytes.clone(),
                mode: file.mode(),
                secret: file.secret,
            };
            match files.remove(path).flatten() {
                None => changes.push(Change {
                    path: path.clone(),
                    action: Action::Add,
                    old: None,
                    new: Some(new()),
                    from_line: 0,
                }),
                Some(old) if old.bytes == file.bytes && old.mode & 0o7777 == file.mode() => {}
                Some(old) => changes.push(Change {
                    path: path.clone(),
                    action: Action::Change,
                    old: Some(old),
                    new: Some(new()),
                    from_line: 0,
                }),
            }
        }
        for path in &managed {
            if output.files.contains_key(path) {
                continue;
            }
            if let Some(old) = files.remove(path).flatten() {
                changes.push(Change {
                    path: path.clone(),
                    action: Action::Delete,
                    old: Some(old),
                    new: None,
                    from_line: 0,
                });
            }
        }
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Plan {
            changes,
            managed_before: managed,
            managed_after: output.files.keys().cloned().collect(),
            expected,
        })
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Add => s.add += 1,
                Action::Change => s.change += 1,
                Action::Delete => s.delete += 1,
            }
        }
        s
    }

    /// No file to write or delete.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The managed list needs rewriting even though no file changes (e.g. after
    /// an interrupted apply, or when a managed file was removed by hand).
    pub fn managed_list_stale(&self) -> bool {
        self.managed_before != self.managed_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::OutputFile;

    fn found(bytes: &str, mode: u32) -> Option<Found> {
        Some(Found::new(bytes.as_bytes().to_vec(), mode, (0, 0)))
    }

    fn current(files: &[(&str, Option<Found>)], managed: &[&str]) -> Current {
        Current {
            files: files
                .iter()
                .map(|(p, f)| (p.to_string(), f.clone()))
                .collect(),
            managed: managed.iter().map(|s| s.to_string()).collect(),
            managed_file: None,
            unchanged: BTreeSet::new(),
        }
    }

    fn output(files: &[(&str, OutputFile)]) -> Output {
        let mut o = Output::default();
        for (p, f) in files {
            o.insert(*p, f.clone());
        }
        o
    }

    /// A preview shows the same changes and fingerprints nothing.
    #[test]
    fn a_preview_is_the_plan_without_stamps() {
        let out = output(&[
            ("a", OutputFile::public("same\n")),
            ("b", OutputFile::public("new\n")),
        ]);
        let cur = || {
            current(
                &[("a", found("same\n", 0o644)), ("b", found("old\n", 0o644))],
                &["a"],
            )
        };
        let plan = Plan::new(&out, cur()).unwrap();
        let preview = Plan::preview(&out, cur()).unwrap();
        assert_eq!(preview.changes, plan.changes);
        assert_eq!(preview.managed_after, plan.managed_after);
        assert!(preview.expected.is_empty());
        assert_eq!(plan.expected.len(), 3, "a, b and the managed list");
    }

    #[test]
    fn classifies_add_change_delete_and_leaves_strangers_alone() {
        let out = output(&[
            ("a", OutputFile::public("same\n")),
            ("b", OutputFile::public("new\n")),
            ("c", OutputFile::public("fresh\n")),
            ("m", OutputFile::secret("k\n")),
        ]);
        let cur = current(
            &[
                ("a", found("same\n", 0o644)),
                ("b", found("old\n", 0o644)),
                ("c", None),
                ("m", found("k\n", 0o644)),
                ("gone", found("x\n", 0o644)),
                ("stranger", found("mine\n", 0o644)),
            ],
            &["a", "b", "gone"],
        );
        let plan = Plan::new(&out, cur).unwrap();
        let got: Vec<(&str, Action)> = plan
            .changes
            .iter()
            .map(|c| (c.path.as_str(), c.action))
            .collect();
        assert_eq!(
            got,
            [
                ("b", Action::Change),
                ("c", Action::Add),
                ("gone", Action::Delete),
                ("m", Action::Change),
            ]
        );
        assert!(plan.changes[3].mode_only());
        assert!(plan.changes[3].sensitive());
        assert_eq!(
            plan.summary().to_string(),
            "Plan: 1 to add, 2 to change, 1 to delete."
        );
    }

    #[test]
    fn a_managed_file_removed_by_hand_is_not_deleted_again() {
        let out = output(&[]);
        let cur = current(&[("gone", None)], &["gone"]);
        let plan = Plan::new(&out, cur).unwrap();
        assert!(plan.is_empty());
        assert!(plan.managed_list_stale());
        assert_eq!(plan.summary().to_string(), "No changes.");
    }

    #[test]
    fn refuses_paths_that_leave_the_folder() {
        let out = output(&[("../etc/passwd", OutputFile::public("x"))]);
        assert!(Plan::new(&out, current(&[], &[])).is_err());
    }
}
