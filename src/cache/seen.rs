//! [`Seen`]: every file and folder a compile read from outside `--out` (the
//! main spec, the files it includes, the folders its globs listed, key and
//! secret files), each with its status taken just before it was read and
//! the SHA-256 of what was read. What the cache calls the inputs.

use std::collections::BTreeMap;
use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::Stat;
use crate::plan::Fingerprint;

/// One input as the compile found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A file read whole.
    File { stat: Stat, sha256: Fingerprint },
    /// A file looked for and not there (a key file not made yet).
    Absent,
    /// A folder listed (for a glob): the fingerprint of its entries.
    Dir { stat: Stat, sha256: Fingerprint },
}

/// The inputs of one compile, recorded as they are read (from several
/// threads at once).
#[derive(Debug)]
pub struct Seen {
    inputs: Mutex<Inner>,
    /// The second the compile started, before anything was read: a file
    /// changed in it or later may have changed after it was read.
    pub started: i64,
}

#[derive(Debug, Default)]
struct Inner {
    inputs: BTreeMap<PathBuf, Input>,
    /// The same path seen twice with different content: the compile read a
    /// file while it changed, and nothing of it may be cached.
    torn: bool,
}

impl Default for Seen {
    fn default() -> Self {
        Seen::new()
    }
}

impl Seen {
    pub fn new() -> Self {
        Seen {
            inputs: Mutex::default(),
            started: super::now_secs(),
        }
    }

    fn put(&self, path: &Path, input: Input) {
        let Ok(mut inner) = self.inputs.lock() else {
            return;
        };
        match inner.inputs.get(path) {
            Some(old) if *old != input => inner.torn = true,
            Some(_) => {}
            None => {
                inner.inputs.insert(path.to_path_buf(), input);
            }
        }
    }

    /// `bytes` were read from `path`, whose status before the read was `meta`.
    pub fn file(&self, path: &Path, meta: &Metadata, bytes: &[u8]) {
        self.put(
            path,
            Input::File {
                stat: Stat::of(meta),
                sha256: Fingerprint::of(bytes),
            },
        );
    }

    /// `path` was looked for and is not a file.
    pub fn absent(&self, path: &Path) {
        self.put(path, Input::Absent);
    }

    /// The folder `path`, whose status before listing was `meta`, holds
    /// `entries` (name, whether a folder).
    pub fn dir(&self, path: &Path, meta: &Metadata, entries: &[(String, bool)]) {
        self.put(
            path,
            Input::Dir {
                stat: Stat::of(meta),
                sha256: listing(entries),
            },
        );
    }

    /// Every input, unless one was torn.
    pub fn inputs(&self) -> Option<BTreeMap<PathBuf, Input>> {
        let inner = self.inputs.lock().ok()?;
        (!inner.torn).then(|| inner.inputs.clone())
    }
}

/// The fingerprint of a folder's entries, in any order.
pub fn listing(entries: &[(String, bool)]) -> Fingerprint {
    let mut sorted: Vec<&(String, bool)> = entries.iter().collect();
    sorted.sort();
    let mut text = String::new();
    for (name, is_dir) in sorted {
        text.push_str(name);
        text.push(if *is_dir { '/' } else { '\0' });
        text.push('\n');
    }
    Fingerprint::of(text.as_bytes())
}

/// A folder's entries as the spec reader lists them: each name, and
/// whether it is (or links to) a folder. `None` when it is not a folder.
pub fn list_dir(dir: &Path) -> Option<Vec<(String, bool)>> {
    let entries = std::fs::read_dir(dir).ok()?;
    Some(
        entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                // A link counts as what it points at.
                let is_dir = std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir());
                Some((name, is_dir))
            })
            .collect(),
    )
}
