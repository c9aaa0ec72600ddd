//! Reading the files of an import, confined to what the user named.
//!
//! Each source is a file or a folder. A file a source names in turn (a map
//! in `main.cf`, a zone's `$INCLUDE`) is read only when it lies inside that
//! source's folder, or inside `--root` when one is given; an absolute path
//! is then taken below `--root`, as on the server whose copy it is. Paths
//! are compared after resolving symbolic links, so a link cannot lead out.
//! Nothing of the live system is read unless the user named it.

use std::path::{Component, Path, PathBuf};

use super::report::Finding;
use crate::limits;

/// The most one file of a source may hold (a hosting server's maps).
const FILE_BYTES: u64 = limits::SPEC_BYTES;

/// Where the files of one source may be read from.
#[derive(Clone, Debug)]
pub struct Confine {
    /// The folder everything must lie in (canonical).
    pub allowed: PathBuf,
    /// `--root`, canonical: absolute paths named in files are taken below it.
    pub root: Option<PathBuf>,
}

impl Confine {
    /// Confinement to `folder` (the source's own), or to `root` when given.
    pub fn new(folder: &Path, root: Option<&Path>) -> Result<Confine, Finding> {
        let canon = |p: &Path| {
            std::fs::canonicalize(p).map_err(|e| {
                Finding::error(
                    &p.display().to_string(),
                    None,
                    format!("cannot open it: {e}"),
                )
            })
        };
        let root = root.map(canon).transpose()?;
        let allowed = match &root {
            Some(r) => r.clone(),
            None => canon(folder)?,
        };
        Ok(Confine { allowed, root })
    }

    /// The file a source names as `named`, from a file in `dir`: relative
    /// names are relative to `dir`; absolute ones below `--root` if given.
    /// Refused when it lies outside what may be read.
    pub fn resolve(
        &self,
        named: &str,
        dir: &Path,
        from: &str,
        line: Option<usize>,
    ) -> Result<PathBuf, Finding> {
        let p = Path::new(named);
        let joined = if p.is_absolute() {
            match &self.root {
                Some(r) => r.join(
                    p.components()
                        .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
                        .collect::<PathBuf>(),
                ),
                None => p.to_path_buf(),
            }
        } else {
            dir.join(p)
        };
        let outside = || {
            Finding::error(
                from,
                line,
                format!(
                    "`{named}` lies outside the folder being imported (`{}`); mailc import reads only what it was given",
                    self.allowed.display()
                ),
            )
            .help(if self.root.is_some() {
                "copy the file into that folder"
            } else {
                "copy the server's files into one folder and give it as `--root DIR` (absolute paths are then read below it), or copy the file next to the one naming it"
            })
        };
        let canon = std::fs::canonicalize(&joined).map_err(|e| {
            if !joined.starts_with(&self.allowed) && !dir.starts_with(&self.allowed) {
                outside()
            } else {
                Finding::error(
                    from,
                    line,
                    format!("cannot open `{named}` ({}): {e}", joined.display()),
                )
                .help("copy every file the configuration names into the folder being imported")
            }
        })?;
        if !canon.starts_with(&self.allowed) {
            return Err(outside());
        }
        Ok(canon)
    }
}

/// A resolved path as messages show it: relative to the current folder
/// when it lies below it.
pub fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| std::fs::canonicalize(cwd).ok())
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// Reads a text file: UTF-8, no NUL byte, at most [`FILE_BYTES`]. `shown`
/// is its name in messages.
pub fn read_text(path: &Path, shown: &str) -> Result<String, Finding> {
    let bytes = limits::read(path, FILE_BYTES).map_err(|e| match e {
        limits::ReadError::Io(e) => Finding::error(shown, None, format!("cannot read it: {e}")),
        limits::ReadError::NotAFile => Finding::error(shown, None, "it is not a regular file"),
        limits::ReadError::TooLarge { limit } => Finding::error(
            shown,
            None,
            format!(
                "it is larger than {}, the most mailc import reads",
                limits::bytes(limit)
            ),
        ),
    })?;
    text(bytes, shown)
}

/// The bytes of a file as text, or an error at the line of the first byte
/// that is not text.
pub fn text(bytes: Vec<u8>, shown: &str) -> Result<String, Finding> {
    let line_of = |at: usize| 1 + bytes[..at].iter().filter(|b| **b == b'\n').count();
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        return Err(Finding::error(shown, Some(line_of(at)), "this is a binary file, not text (a NUL byte)")
            .help("give the configuration's text file, not a compiled table (`.db`, `.lmdb`, `.cdb`) or an archive"));
    }
    String::from_utf8(bytes.clone()).map_err(|e| {
        Finding::error(
            shown,
            Some(line_of(e.utf8_error().valid_up_to())),
            "the file is not UTF-8 text",
        )
        .help(
            "convert it to UTF-8 (iconv -f LATIN1 -t UTF-8), or check that this is the right file",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_latin1_name_their_line() {
        let e = text(b"a\nb\n\0c".to_vec(), "f").unwrap_err();
        assert_eq!(e.line, Some(3));
        let e = text(b"a\n\xe9t\xe9\n".to_vec(), "f").unwrap_err();
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn paths_stay_inside() {
        let tmp = std::env::temp_dir().join(format!("mailc-import-files-{}", std::process::id()));
        let inner = tmp.join("src");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::write(inner.join("a"), "x").unwrap();
        std::fs::write(tmp.join("secret"), "x").unwrap();
        let c = Confine::new(&inner, None).unwrap();
        assert!(c.resolve("a", &inner, "f", None).is_ok());
        assert!(c.resolve("../secret", &inner, "f", None).is_err());
        assert!(
            c.resolve(tmp.join("secret").to_str().unwrap(), &inner, "f", None)
                .is_err()
        );
        std::os::unix::fs::symlink(tmp.join("secret"), inner.join("link")).unwrap();
        assert!(c.resolve("link", &inner, "f", None).is_err());
        // With a root, absolute names are read below it.
        let c = Confine::new(&inner, Some(&tmp)).unwrap();
        assert!(c.resolve("/secret", &inner, "f", None).is_ok());
        assert!(c.resolve("/etc/passwd", &inner, "f", None).is_err());
        let _ = std::fs::remove_dir_all(&tmp);
    }
}
