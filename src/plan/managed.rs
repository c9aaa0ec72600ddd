//! The managed list: `--out/.mailc-managed`, the list of files mailc wrote there.
//! Only files it lists are ever deleted, so a file a person put in `--out`
//! is never removed. It is written atomically: before an apply writes
//! anything it lists the old files and the ones to add (so an interrupted
//! apply never loses track of a file it wrote), and at the end exactly the
//! new ones.

use std::collections::BTreeSet;

use thiserror::Error;

use super::path::{self, PathError};

/// The managed list's file name in `--out`.
pub const FILE_NAME: &str = ".mailc-managed";

/// The first line; the number is the format version.
const HEADER: &str = "# mailc managed files, format 1: mailc deletes only the files listed here";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ManagedListError {
    #[error("`{FILE_NAME}` was not written by this version of mailc (its first line is `{0}`)")]
    Header(String),
    #[error("`{FILE_NAME}` is not UTF-8 text")]
    NotUtf8,
    #[error("`{FILE_NAME}` line {line}: {source}")]
    Path {
        line: usize,
        #[source]
        source: PathError,
    },
}

/// Parses a managed list's text into the set of managed paths.
pub fn parse(bytes: &[u8]) -> Result<BTreeSet<String>, ManagedListError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ManagedListError::NotUtf8)?;
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    if first != HEADER {
        return Err(ManagedListError::Header(first.chars().take(80).collect()));
    }
    let mut set = BTreeSet::new();
    for (i, line) in lines.enumerate() {
        if line.is_empty() {
            continue;
        }
        path::check(line).map_err(|source| ManagedListError::Path {
            line: i + 2,
            source,
        })?;
        set.insert(line.to_string());
    }
    Ok(set)
}

/// The managed list's bytes for a set of (checked) paths: sorted, one a line.
pub fn render(paths: &BTreeSet<String>) -> Vec<u8> {
    let mut s =
        String::with_capacity(HEADER.len() + 1 + paths.iter().map(|p| p.len() + 1).sum::<usize>());
    s.push_str(HEADER);
    s.push('\n');
    for p in paths {
        s.push_str(p);
        s.push('\n');
    }
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let set: BTreeSet<String> = ["dns/b.zone", "dns/a.zone"].map(String::from).into();
        let bytes = render(&set);
        assert!(bytes.starts_with(b"# mailc managed files, format 1"));
        assert_eq!(parse(&bytes), Ok(set));
    }

    #[test]
    fn refuses_foreign_files_and_escaping_paths() {
        assert!(matches!(
            parse(b"hello\n"),
            Err(ManagedListError::Header(_))
        ));
        let bad = format!("{HEADER}\n../../etc/passwd\n");
        assert!(matches!(
            parse(bad.as_bytes()),
            Err(ManagedListError::Path { line: 2, .. })
        ));
    }
}
