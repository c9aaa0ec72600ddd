//! Pinned ("golden") files and trees: compare what a test produced with the
//! files under `tests/`, or rewrite them when `MAILC_BLESS=1` is set.
//!
//! When a pinned file differs, what was produced is written beside it as
//! `PATH.actual` (ignored by git), so `diff PATH PATH.actual` shows the
//! change; a match removes a stale `.actual`. Secret files (mode 0600) are
//! pinned as a placeholder, never with their contents.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// What a pinned secret file holds instead of the secret.
pub const SECRET: &str = "(secret file: contents not pinned)\n";

/// The suffix of a produced file left beside the pinned file it differs from.
const ACTUAL: &str = "actual";

/// Whether this run rewrites pinned files (`MAILC_BLESS=1 cargo test`).
pub fn bless() -> bool {
    std::env::var_os("MAILC_BLESS").is_some()
}

fn actual_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(ACTUAL);
    path.with_file_name(name)
}

/// Compares `actual` with the pinned file at `path`, or rewrites it when
/// blessing. On a difference, `PATH.actual` holds what was produced.
pub fn file(path: &Path, actual: &str) -> Result<(), String> {
    let beside = actual_path(path);
    if bless() {
        let _ = std::fs::remove_file(&beside);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        return std::fs::write(path, actual).map_err(|e| format!("{}: {e}", path.display()));
    }
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => {
            let _ = std::fs::remove_file(&beside);
            Ok(())
        }
        Ok(expected) => {
            let _ = std::fs::write(&beside, actual);
            Err(format!(
                "{} differs (what was produced is in {}; run with MAILC_BLESS=1 to accept):\n\
                 --- expected\n{expected}\n--- actual\n{actual}",
                path.display(),
                beside.display()
            ))
        }
        Err(e) => {
            let _ = std::fs::write(&beside, actual);
            Err(format!(
                "{}: {e} (what was produced is in {}; run with MAILC_BLESS=1 to accept)",
                path.display(),
                beside.display()
            ))
        }
    }
}

/// Every file under `dir` by its `/`-separated relative path, leaving out
/// `.actual` files; empty when `dir` does not exist.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, prefix: &str, into: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("{prefix}{name}");
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), &format!("{rel}/"), into);
            } else if !name.ends_with(&format!(".{ACTUAL}")) {
                into.insert(rel, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, "", &mut files);
    files
}

/// The files under `dir` whose paths start with one of `tops` (`"dns"` keeps
/// `dns/…`), secret files (mode 0600) shown as [`SECRET`].
pub fn produced(dir: &Path, tops: &[&str]) -> BTreeMap<String, Vec<u8>> {
    tree(dir)
        .into_iter()
        .filter(|(path, _)| under(path, tops))
        .map(|(path, bytes)| {
            let mode = std::fs::metadata(dir.join(&path))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            let bytes = if mode == 0o600 {
                SECRET.as_bytes().to_vec()
            } else {
                bytes
            };
            (path, bytes)
        })
        .collect()
}

fn under(path: &str, tops: &[&str]) -> bool {
    tops.iter().any(|t| {
        path.strip_prefix(t)
            .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Compares the produced files under the `tops` folders of `pinned_dir`
/// with `actual`, or rewrites those folders when blessing. Each difference
/// is pushed onto `failures`, and what was produced is written beside the
/// pinned file as `PATH.actual`.
pub fn tree_under(
    pinned_dir: &Path,
    tops: &[&str],
    actual: &BTreeMap<String, Vec<u8>>,
    failures: &mut Vec<String>,
) {
    if bless() {
        for top in tops {
            let _ = std::fs::remove_dir_all(pinned_dir.join(top));
        }
        for (path, bytes) in actual {
            let p = pinned_dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        return;
    }
    let pinned: BTreeMap<String, Vec<u8>> = tree(pinned_dir)
        .into_iter()
        .filter(|(p, _)| under(p, tops))
        .collect();
    for path in pinned.keys().chain(actual.keys()).collect::<BTreeSet<_>>() {
        let at = pinned_dir.join(path);
        let beside = actual_path(&at);
        match (pinned.get(path), actual.get(path)) {
            (Some(e), Some(a)) if e == a => {
                let _ = std::fs::remove_file(&beside);
            }
            (Some(e), Some(a)) => {
                let _ = std::fs::write(&beside, a);
                failures.push(format!(
                    "{} differs (what was produced is in {}):\n--- expected\n{}\n--- actual\n{}",
                    at.display(),
                    beside.display(),
                    String::from_utf8_lossy(e),
                    String::from_utf8_lossy(a)
                ));
            }
            (Some(_), None) => failures.push(format!("{} is no longer produced", at.display())),
            (None, Some(a)) => {
                let _ = std::fs::create_dir_all(at.parent().unwrap());
                let _ = std::fs::write(&beside, a);
                failures.push(format!(
                    "{} is new (what was produced is in {})",
                    at.display(),
                    beside.display()
                ));
            }
            (None, None) => {}
        }
    }
}
