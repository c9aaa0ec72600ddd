//! What `--out` holds now: the bytes, mode and modification time of every
//! path a plan is concerned with, and the managed list of files mailc wrote.
//! The only place the plan stage reads the file system.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use super::fingerprint::Fingerprint;
use super::managed::{self, ManagedListError};
use super::path::{self, PathError};
use super::tree::{Compared, Tree, TreeError};
use crate::output::Output;

/// A file found in `--out`.
#[derive(Clone, Debug)]
pub struct Found {
    pub bytes: Vec<u8>,
    /// Permission bits (`0o644`).
    pub mode: u32,
    /// Modification time: seconds and nanoseconds since the Unix epoch.
    pub modified: (i64, u32),
    /// The fingerprint of `bytes`, once computed (a function of `bytes`, so
    /// it takes no part in comparisons).
    fingerprint: std::sync::OnceLock<Fingerprint>,
}

impl PartialEq for Found {
    fn eq(&self, other: &Self) -> bool {
        (&self.bytes, self.mode, self.modified) == (&other.bytes, other.mode, other.modified)
    }
}

impl Eq for Found {}

impl Found {
    pub fn new(bytes: Vec<u8>, mode: u32, modified: (i64, u32)) -> Self {
        Found {
            bytes,
            mode: mode & 0o7777,
            modified,
            fingerprint: std::sync::OnceLock::new(),
        }
    }

    /// The SHA-256 of the bytes, computed once.
    pub fn fingerprint(&self) -> Fingerprint {
        *self
            .fingerprint
            .get_or_init(|| Fingerprint::of(&self.bytes))
    }

    pub fn stamp(&self) -> Stamp {
        Stamp {
            sha256: self.fingerprint(),
            mode: Mode(self.mode),
            mtime: [self.modified.0, i64::from(self.modified.1)],
        }
    }
}

/// How a saved plan remembers a file it expects to find: its content by
/// fingerprint, its mode, and its modification time (so that even a `touch`
/// makes the plan stale).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stamp {
    pub sha256: Fingerprint,
    pub mode: Mode,
    /// Seconds and nanoseconds since the Unix epoch.
    pub mtime: [i64; 2],
}

/// Permission bits, written in octal (`"0644"`) in plan files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode(pub u32);

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04o}", self.0)
    }
}

impl Serialize for Mode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match u32::from_str_radix(&s, 8) {
            Ok(m) if m <= 0o7777 && !s.is_empty() => Ok(Mode(m)),
            _ => Err(serde::de::Error::custom(format!(
                "`{s}` is not a file mode (octal, e.g. `0644`)"
            ))),
        }
    }
}

#[derive(Debug, Error)]
pub enum ScanError {
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error("in `{}`: {source}", out.display())]
    ManagedList {
        out: PathBuf,
        #[source]
        source: ManagedListError,
    },
    #[error(transparent)]
    Path(#[from] PathError),
}

impl ScanError {
    /// The fix, for the command layer's `help:` line.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            ScanError::Tree(e) => e.help(),
            _ => None,
        }
    }
}

/// A snapshot of the paths of `--out` a plan is concerned with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Current {
    /// By relative path; `None` when absent.
    pub files: BTreeMap<String, Option<Found>>,
    /// The files mailc wrote earlier, from the managed list.
    pub managed: BTreeSet<String>,
    /// The managed list file itself, if present.
    pub managed_file: Option<Found>,
    /// Paths found holding exactly their new bytes and mode, left out of
    /// `files` (see [`Current::scan_against`]).
    pub unchanged: BTreeSet<String>,
}

impl Current {
    /// Reads the managed list, then every path of `paths` and every managed path.
    /// A missing `out` folder is an empty one.
    pub fn scan<'a>(
        out: &Path,
        paths: impl IntoIterator<Item = &'a str>,
    ) -> Result<Current, ScanError> {
        Self::scan_with(out, paths, Prefetched::default())
    }

    /// [`Current::scan`], taking the files `ahead` already read.
    pub fn scan_with<'a>(
        out: &Path,
        paths: impl IntoIterator<Item = &'a str>,
        mut ahead: Prefetched,
    ) -> Result<Current, ScanError> {
        let mut tree = Tree::new(out);
        let (managed_file, managed) = read_managed_list(&mut tree, out)?;
        let mut files = BTreeMap::new();
        for p in paths {
            path::check(p)?;
            if !files.contains_key(p) {
                files.insert(p.to_string(), ahead.take(&mut tree, p)?);
            }
        }
        for p in &managed {
            if !files.contains_key(p) {
                files.insert(p.clone(), ahead.take(&mut tree, p)?);
            }
        }
        Ok(Current {
            files,
            managed,
            managed_file,
            unchanged: BTreeSet::new(),
        })
    }

    /// [`Current::scan_with`] for the paths of `output`, each compared
    /// with its new bytes as it is read: a file that holds them, with its
    /// mode, is only named in `unchanged` (its bytes are not kept). For a
    /// plan that is shown, not saved: it has no stamps of those files.
    pub fn scan_against(
        out: &Path,
        output: &Output,
        mut ahead: Prefetched,
    ) -> Result<Current, ScanError> {
        let mut tree = Tree::new(out);
        let (managed_file, managed) = read_managed_list(&mut tree, out)?;
        let mut files = BTreeMap::new();
        let mut unchanged = BTreeSet::new();
        for (p, file) in &output.files {
            path::check(p)?;
            let found = match ahead.files.remove(p.as_str()) {
                Some(f) => Some(f),
                None => match tree.read_unless(p, &file.bytes)? {
                    Compared::Absent => None,
                    Compared::Same { mode, .. } if mode == file.mode() => {
                        unchanged.insert(p.clone());
                        continue;
                    }
                    Compared::Same { mode, modified } => {
                        Some(Found::new(file.bytes.clone(), mode, modified))
                    }
                    Compared::Differs(f) => Some(f),
                },
            };
            match found {
                Some(f) if f.bytes == file.bytes && f.mode == file.mode() => {
                    unchanged.insert(p.clone());
                }
                found => {
                    files.insert(p.clone(), found);
                }
            }
        }
        for p in &managed {
            if !output.files.contains_key(p) {
                files.insert(p.clone(), ahead.take(&mut tree, p)?);
            }
        }
        Ok(Current {
            files,
            managed,
            managed_file,
            unchanged,
        })
    }

    /// The stamps of every scanned path, the managed list included under its
    /// file name.
    pub fn stamps(&self) -> BTreeMap<String, Option<Stamp>> {
        let mut m: BTreeMap<String, Option<Stamp>> = self
            .files
            .iter()
            .map(|(p, f)| (p.clone(), f.as_ref().map(Found::stamp)))
            .collect();
        m.insert(
            managed::FILE_NAME.to_string(),
            self.managed_file.as_ref().map(Found::stamp),
        );
        m
    }
}

/// The managed list of `--out` and the paths it lists.
fn read_managed_list(
    tree: &mut Tree,
    out: &Path,
) -> Result<(Option<Found>, BTreeSet<String>), ScanError> {
    let managed_file = tree.read(managed::FILE_NAME)?;
    let managed = match &managed_file {
        Some(m) => managed::parse(&m.bytes).map_err(|source| ScanError::ManagedList {
            out: out.to_path_buf(),
            source,
        })?,
        None => BTreeSet::new(),
    };
    Ok((managed_file, managed))
}

/// Files of an output folder read ahead, while the spec still compiles: the
/// managed files its `.mailc-managed` lists. Anything that cannot be read
/// is left out, for [`Current::scan_with`] to read (and report) itself.
/// Only for `plan`: `apply` reads under its lock.
#[derive(Debug, Default)]
pub struct Prefetched {
    files: BTreeMap<String, Found>,
}

impl Prefetched {
    /// The bytes read of `path` (relative to `--out`), if it was read.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|f| f.bytes.as_slice())
    }

    /// The managed files of `out` that `wanted` picks (those the backends
    /// read: the rest is compared as it is read, once the output is built).
    pub fn read(out: &Path, wanted: impl Fn(&str) -> bool) -> Prefetched {
        let mut files = BTreeMap::new();
        let mut tree = Tree::new(out);
        let managed = match tree.read(managed::FILE_NAME) {
            Ok(Some(m)) => managed::parse(&m.bytes).unwrap_or_default(),
            _ => BTreeSet::new(),
        };
        for p in managed {
            if wanted(&p)
                && path::check(&p).is_ok()
                && let Ok(Some(f)) = tree.read(&p)
            {
                files.insert(p, f);
            }
        }
        Prefetched { files }
    }

    /// The file at `p`, from what was read ahead, else from `tree`.
    fn take(&mut self, tree: &mut Tree, p: &str) -> Result<Option<Found>, ScanError> {
        match self.files.remove(p) {
            Some(f) => Ok(Some(f)),
            None => Ok(tree.read(p)?),
        }
    }
}

/// How one path differs from what a plan expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drift {
    pub path: String,
    pub kind: DriftKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriftKind {
    Appeared,
    Disappeared,
    Content,
    Mode,
    /// Same bytes and mode, but modified since (e.g. `touch`).
    Touched,
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            DriftKind::Appeared => "created",
            DriftKind::Disappeared => "removed",
            DriftKind::Content => "content changed",
            DriftKind::Mode => "mode changed",
            DriftKind::Touched => "modified time changed",
        };
        write!(f, "{} ({what})", self.path)
    }
}

/// The paths of `expected` whose stamp differs in `now` (a path missing
/// from `now` counts as absent). Sorted by path.
pub fn drift(
    expected: &BTreeMap<String, Option<Stamp>>,
    now: &BTreeMap<String, Option<Stamp>>,
) -> Vec<Drift> {
    let mut out = Vec::new();
    for (path, want) in expected {
        let have = now.get(path).and_then(Option::as_ref);
        let kind = match (want, have) {
            (None, None) => continue,
            (None, Some(_)) => DriftKind::Appeared,
            (Some(_), None) => DriftKind::Disappeared,
            (Some(w), Some(h)) if w == h => continue,
            (Some(w), Some(h)) if w.sha256 != h.sha256 => DriftKind::Content,
            (Some(w), Some(h)) if w.mode != h.mode => DriftKind::Mode,
            (Some(_), Some(_)) => DriftKind::Touched,
        };
        out.push(Drift {
            path: path.clone(),
            kind,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let cur = Current::scan(&dir.path().join("nope"), ["dns/a.zone"]).unwrap();
        assert_eq!(cur.files.get("dns/a.zone"), Some(&None));
        assert!(cur.managed.is_empty());
        assert_eq!(cur.stamps().get(managed::FILE_NAME), Some(&None));
    }

    #[test]
    fn reads_managed_files_too() {
        let dir = tempfile::tempdir().unwrap();
        let set: BTreeSet<String> = ["old/file".to_string()].into();
        std::fs::write(dir.path().join(managed::FILE_NAME), managed::render(&set)).unwrap();
        std::fs::create_dir(dir.path().join("old")).unwrap();
        std::fs::write(dir.path().join("old/file"), "x").unwrap();
        let cur = Current::scan(dir.path(), ["new"]).unwrap();
        assert_eq!(cur.files.len(), 2);
        assert_eq!(cur.files["old/file"].as_ref().unwrap().bytes, b"x");
    }

    /// Scanned against the output, a file holding its new bytes is named
    /// unchanged (its bytes not kept); the rest is read as `scan` reads it.
    #[test]
    fn scan_against_keeps_only_what_differs() {
        let dir = tempfile::tempdir().unwrap();
        let set: BTreeSet<String> = ["old".to_string(), "same".to_string()].into();
        std::fs::write(dir.path().join(managed::FILE_NAME), managed::render(&set)).unwrap();
        for (name, text) in [("same", "s\n"), ("old", "o\n"), ("changed", "before\n")] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let mut out = Output::default();
        out.insert("same", crate::output::OutputFile::public("s\n"));
        out.insert("changed", crate::output::OutputFile::public("after\n"));
        out.insert("new", crate::output::OutputFile::public("n\n"));
        let cur = Current::scan_against(dir.path(), &out, Prefetched::default()).unwrap();
        assert_eq!(cur.unchanged, BTreeSet::from(["same".to_string()]));
        assert_eq!(cur.files["changed"].as_ref().unwrap().bytes, b"before\n");
        assert_eq!(cur.files["old"].as_ref().unwrap().bytes, b"o\n");
        assert_eq!(cur.files.get("new"), Some(&None));
        assert!(!cur.files.contains_key("same"));
        let plan = super::super::Plan::preview(&out, cur).unwrap();
        let paths: Vec<&str> = plan.changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["changed", "new", "old"]);
    }

    #[test]
    fn a_folder_where_a_file_belongs_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dns/a.zone")).unwrap();
        assert!(matches!(
            Current::scan(dir.path(), ["dns/a.zone"]),
            Err(ScanError::Tree(TreeError::NotAFile(_)))
        ));
    }

    #[test]
    fn modes_are_octal_strings() {
        assert_eq!(serde_json::to_string(&Mode(0o600)).unwrap(), "\"0600\"");
        assert_eq!(
            serde_json::from_str::<Mode>("\"0644\"").unwrap(),
            Mode(0o644)
        );
        assert!(serde_json::from_str::<Mode>("\"99\"").is_err());
    }
}
