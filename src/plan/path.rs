//! Which relative paths mailc may write under `--out`: plain `/`-separated
//! names that stay inside the folder and never collide with mailc's own
//! bookkeeping files. Checked for every compiled path, every managed-list entry
//! and every path read from a plan file (which a person could have edited).

use std::path::{Path, PathBuf};

use thiserror::Error;

/// mailc's own files in `--out` start with this; no output path may.
pub const RESERVED_PREFIX: &str = ".mailc";

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PathError {
    #[error("`{0}` is not a relative path inside the output folder")]
    Escapes(String),
    #[error("`{0}` holds a control character")]
    Control(String),
    #[error("`{0}` uses a name reserved for mailc's own files (`.mailc…`)")]
    Reserved(String),
}

/// Checks one output path (`dns/example.com.zone`).
pub fn check(path: &str) -> Result<(), PathError> {
    if path.chars().any(char::is_control) {
        return Err(PathError::Control(path.escape_debug().to_string()));
    }
    if path.is_empty() || path.starts_with('/') || path.contains('\\') {
        return Err(PathError::Escapes(path.to_string()));
    }
    for part in path.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err(PathError::Escapes(path.to_string()));
        }
        if part.starts_with(RESERVED_PREFIX) {
            return Err(PathError::Reserved(path.to_string()));
        }
    }
    Ok(())
}

/// The file system path of a checked output path.
pub fn join(out: &Path, path: &str) -> PathBuf {
    let mut p = out.to_path_buf();
    p.extend(path.split('/'));
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_paths() {
        for p in [
            "dns/example.com.zone",
            "a",
            "mta-sts/x/.well-known/mta-sts.txt",
        ] {
            assert_eq!(check(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn refuses_escapes_and_reserved_names() {
        for p in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "a/./b",
            "a/",
            ".mailc-managed",
            "d/.mailc-tmp.1",
            "a\nb",
            "a\\b",
        ] {
            assert!(check(p).is_err(), "{p:?}");
        }
    }
}
