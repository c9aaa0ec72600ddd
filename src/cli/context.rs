//! [`DiskContext`]: what the backends may read from outside, taken from disk
//! — the files already in `--out` (for SOA serials) and the DKIM key files
//! the spec names (relative to the spec's folder).

use std::path::{Component, Path, PathBuf};

use crate::backend::Context;
use crate::plan::Prefetched;

/// The backends' view of the file system: nothing else is read.
pub(crate) struct DiskContext<'a> {
    /// The output folder (`--out`).
    pub out_dir: PathBuf,
    /// The spec's folder: key paths are relative to it.
    pub spec_dir: PathBuf,
    /// Files of `--out` `mailc plan` already read (a hosting server's 2,000
    /// zone files are not read twice).
    ahead: Option<&'a Prefetched>,
    /// Where the key and secret files read are recorded, for the cache.
    seen: Option<&'a crate::cache::Seen>,
}

impl<'a> DiskContext<'a> {
    pub(crate) fn new(out_dir: impl Into<PathBuf>, spec_dir: impl Into<PathBuf>) -> Self {
        DiskContext {
            out_dir: out_dir.into(),
            spec_dir: spec_dir.into(),
            ahead: None,
            seen: None,
        }
    }

    /// Records the files read from the spec's folder in `seen`.
    pub(crate) fn with_seen(self, seen: Option<&'a crate::cache::Seen>) -> Self {
        DiskContext { seen, ..self }
    }

    /// Answers `previous` from `ahead` where it holds the file.
    pub(crate) fn with_ahead(self, ahead: &'a Prefetched) -> Self {
        DiskContext {
            ahead: Some(ahead),
            ..self
        }
    }
}

/// A relative path that stays inside its folder (no `..`, no root).
fn inside(path: &str) -> bool {
    Path::new(path)
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

impl Context for DiskContext<'_> {
    fn previous(&self, path: &str) -> Option<Vec<u8>> {
        if !inside(path) {
            return None;
        }
        if let Some(bytes) = self.ahead.and_then(|a| a.get(path)) {
            return Some(bytes.to_vec());
        }
        // Through the no-follow reader: a link in `--out` is never read.
        let mut tree = crate::plan::tree::Tree::new(&self.out_dir);
        tree.read(path).ok().flatten().map(|f| f.bytes)
    }

    fn private_key(&self, path: &str) -> Option<Vec<u8>> {
        // The spec refuses absolute key paths and `..`; a key file is small.
        super::load::read_seen(
            &self.spec_dir.join(path),
            crate::limits::KEY_FILE_BYTES,
            self.seen,
        )
        .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::inside;

    #[test]
    fn output_paths_stay_inside() {
        assert!(inside("dns/example.com.zone"));
        assert!(!inside("../etc/passwd"));
        assert!(!inside("/etc/passwd"));
    }
}
