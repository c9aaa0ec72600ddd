//! A spec split across files: the paths and globs of the main spec's
//! `include`, matched against the files a [`SpecFiles`] reader finds (the
//! disk, or a git revision for `mailc diff`), read within the limits, and
//! laid out one after the other into one [`Source`] whose [`Part`]s say
//! which file each byte came from.
//!
//! Globs: `*` matches any run of characters and `?` one character, both
//! within one path segment (never a `/`, never a leading `.`). Matches are
//! taken in sorted order; a file matched twice is read once, and the main
//! spec never includes itself.

use std::sync::Arc;

use super::Sp;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::limits::{self, ReadError};
use crate::source::{Dialect, Part, Source};

/// Where the files a spec includes are read from. Paths are relative to
/// the main spec's folder, `/`-separated, `.` and `..` left to the reader.
pub trait SpecFiles: Sync {
    /// The bytes of the regular file at `path`, at most `limit` of them.
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError>;
    /// The entries of the folder `dir` (`""` for the spec's own folder):
    /// each name, and whether it is a folder. `None` when `dir` is not a
    /// folder.
    fn list(&self, dir: &str) -> Option<Vec<(String, bool)>>;
    /// The path as shown in diagnostics (the file's name for users).
    fn shown(&self, path: &str) -> String;
}

/// Whether a path segment holds a glob character.
fn is_glob(segment: &str) -> bool {
    segment.contains(['*', '?'])
}

/// Whether `name` matches the glob segment `pat` (`*`, `?`).
pub fn matches(pat: &str, name: &str) -> bool {
    if name.starts_with('.') && !pat.starts_with('.') {
        return false;
    }
    let (p, n): (Vec<char>, Vec<char>) = (pat.chars().collect(), name.chars().collect());
    // Classic wildcard match with one backtrack point for the last `*`.
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        match p.get(i) {
            Some('*') => {
                star = Some((i, j));
                i += 1;
            }
            Some(&c) if c == '?' || c == n[j] => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((si, sj)) => {
                    i = si + 1;
                    j = sj + 1;
                    star = Some((si, sj + 1));
                }
                None => return false,
            },
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// `dir/name`, `dir` possibly empty.
fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The files a glob matches, sorted.
fn expand(pattern: &str, files: &dyn SpecFiles) -> Vec<String> {
    let segments: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let mut found = vec![String::new()];
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        if !is_glob(seg) {
            found = found.into_iter().map(|d| join(&d, seg)).collect();
            continue;
        }
        let mut next = Vec::new();
        for dir in &found {
            for (name, is_dir) in files.list(dir).unwrap_or_default() {
                if is_dir != last && matches(seg, &name) {
                    next.push(join(dir, &name));
                }
            }
        }
        found = next;
    }
    found.sort();
    found
}

/// Reads every file `include` names through `files`, and lays them out
/// after the main spec (`main`, named `main_path` relative to its folder).
/// Problems are reported at the `include` entry behind them; a file that
/// cannot be read is left out (the report makes the spec invalid).
pub fn read_all(
    main: &Source,
    main_path: &str,
    include: &[Sp<String>],
    files: &dyn SpecFiles,
    diags: &mut Diagnostics,
) -> Source {
    let mut paths: Vec<(String, &Sp<String>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    seen.insert(normal(main_path));
    for entry in include {
        let pattern = entry.value.trim();
        if pattern.is_empty() || pattern.starts_with('/') {
            diags.push(
                Diagnostic::error(
                    Code::Include,
                    entry.span,
                    format!("`{pattern}` is not a path relative to the spec's folder"),
                )
                .label("not a relative path")
                .help(
                    "name included files relative to the main spec's folder, like `domains/*.yaml`",
                ),
            );
            continue;
        }
        let matched = if pattern.split('/').any(is_glob) {
            let found = expand(pattern, files);
            if found.is_empty() {
                diags.push(
                    Diagnostic::warning(
                        Code::Include,
                        entry.span,
                        format!("`{pattern}` matches no file"),
                    )
                    .label("nothing matches")
                    .help("check the pattern (it is relative to the main spec's folder), or remove it"),
                );
            }
            found
        } else {
            vec![pattern.to_string()]
        };
        for path in matched {
            if seen.insert(normal(&path)) {
                paths.push((path, entry));
            }
        }
    }
    if paths.len() > limits::INCLUDED_FILES {
        let entry = paths[limits::INCLUDED_FILES].1;
        diags.push(
            Diagnostic::error(
                Code::Include,
                entry.span,
                format!(
                    "the spec includes more than {} files",
                    limits::INCLUDED_FILES
                ),
            )
            .label("too many files")
            .help("put several domains in one file (per customer, per letter) to stay under the limit"),
        );
        paths.truncate(limits::INCLUDED_FILES);
    }
    let mut text = String::from(&*main.text);
    let mut parts = main.parts.to_vec();
    for (path, entry) in paths {
        let shown = files.shown(&path);
        let left = limits::SPEC_BYTES.saturating_sub(text.len() as u64);
        let bytes = match files.read(&path, left) {
            Ok(b) => b,
            Err(e) => {
                diags.push(unreadable(&path, &shown, e, left, entry));
                continue;
            }
        };
        let file = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                diags.push(
                    Diagnostic::error(
                        Code::Include,
                        entry.span,
                        format!("`{shown}` is not UTF-8 text (byte {at} is not)"),
                    )
                    .label("included here")
                    .help("save the file as UTF-8"),
                );
                continue;
            }
        };
        parts.push(Part {
            name: Arc::from(shown),
            base: text.len(),
            len: file.len(),
            dialect: Dialect::from_path(&path),
        });
        text.push_str(&file);
    }
    Source::with_parts(text, parts)
}

/// A path with `.` segments and repeated `/` removed, for comparing.
fn normal(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// Why an included file could not be read, at the `include` entry.
fn unreadable(path: &str, shown: &str, e: ReadError, left: u64, entry: &Sp<String>) -> Diagnostic {
    let (message, help) = match e {
        ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound => (
            format!("`{shown}` does not exist"),
            if path == entry.value.trim() {
                "check the path: it is relative to the main spec's folder".to_string()
            } else {
                "the file went away while the spec was read; run mailc again".to_string()
            },
        ),
        ReadError::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied => (
            format!("cannot read `{shown}`: permission denied"),
            "check the file's permissions and owner (`ls -l`); mailc only needs to read it"
                .to_string(),
        ),
        ReadError::Io(e) => (
            format!("cannot read `{shown}`: {e}"),
            "check that the path names a spec file".to_string(),
        ),
        ReadError::NotAFile => (
            format!("`{shown}` is not a regular file"),
            "include files, not folders: a folder's files are `DIR/*.yaml`".to_string(),
        ),
        ReadError::TooLarge { .. } => (
            format!(
                "`{shown}` would take the spec past {}, the most a spec and the files it includes may be together ({} left)",
                limits::bytes(limits::SPEC_BYTES),
                limits::bytes(left)
            ),
            "a spec of a million mailboxes is about 200 MB; check that this is a spec file"
                .to_string(),
        ),
    };
    Diagnostic::error(Code::Include, entry.span, message)
        .label("included here")
        .help(help)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs_match_within_a_segment() {
        assert!(matches("*.yaml", "a.yaml"));
        assert!(matches("*", "a.kdl"));
        assert!(!matches("*", ".hidden"));
        assert!(matches(".*", ".hidden"));
        assert!(matches("a?c*", "abcdef"));
        assert!(!matches("*.yaml", "a.yaml.bak"));
        assert!(matches("*a*b*", "xxaxxbxx"));
        assert!(!matches("a*b", "acbd"));
    }
}
