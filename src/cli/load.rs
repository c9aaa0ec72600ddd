//! Finding, reading and compiling the spec for a command.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crate::cache::Seen;
use crate::diag::{About, Code, Diagnostic, Diagnostics, Severity};
use crate::expect::Expectation;
use crate::limits::{self, ReadError};
use crate::model::{self, Model};
use crate::model::{KeyFiles, MissingKey};
use crate::source::{Dialect, Part, Source, Span};
use crate::spec::include::SpecFiles;

/// A spec read from disk and compiled as far as it goes.
#[allow(dead_code)] // `dir` is read by the compile commands
pub struct Loaded {
    pub source: Source,
    pub diagnostics: Vec<Diagnostic>,
    pub model: Option<Model>,
    /// The spec's `tests`, resolved: what `mailc test` checks.
    pub tests: Vec<Expectation>,
    /// The spec's folder: key paths are relative to it.
    pub dir: PathBuf,
    /// Every file read from disk on the way, for the cache (when asked).
    pub seen: Option<Arc<Seen>>,
}

impl Loaded {
    /// The error diagnostics (warnings left out), for a command that stops
    /// on them.
    pub fn errors(&self) -> Vec<Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .cloned()
            .collect()
    }

    /// Lets go of the spec and model without freeing them, for commands
    /// that exit soon after: a hosting-scale model is a million allocations,
    /// and the OS takes the memory back at exit faster than freeing them
    /// one by one (0.03 s of `validate` at 100,000 mailboxes).
    pub fn release(self) {
        std::mem::forget(self);
    }

    /// The model of a valid spec; for an invalid one, its errors drawn on
    /// stderr and the exit code of a command that cannot go on: "SPEC is
    /// invalid; `then`", with `help`.
    pub fn valid(&self, color: bool, then: &str, help: &str) -> Result<&Model, ExitCode> {
        match &self.model {
            Some(m) => Ok(m),
            None => {
                self.show_errors(color);
                Err(super::fail(
                    &format!("{} is invalid; {then}", self.source.name),
                    Some(help),
                ))
            }
        }
    }

    /// Draws the spec's errors (not its warnings) on stderr.
    pub fn show_errors(&self, color: bool) {
        eprint!(
            "{}",
            crate::diag::render::graphical(&self.errors(), &self.source, color)
        );
    }
}

/// Key files looked up relative to the spec's folder.
pub(super) struct DiskKeys<'a> {
    pub dir: &'a Path,
    pub seen: Option<&'a Seen>,
}

impl KeyFiles for DiskKeys<'_> {
    fn exists(&self, path: &str) -> bool {
        let path = self.dir.join(path);
        let found = path.is_file();
        if let Some(seen) = self.seen.filter(|_| !found) {
            seen.absent(&path);
        }
        found
    }

    fn read(&self, path: &str) -> Option<Result<Vec<u8>, String>> {
        Some(
            read_seen(&self.dir.join(path), limits::KEY_FILE_BYTES, self.seen)
                .map_err(|e| e.to_string()),
        )
    }

    fn shown(&self, path: &str) -> String {
        shown(self.dir, path)
    }
}

/// Reads a file within `limit`, recording it in `seen` when given.
pub fn read_seen(path: &Path, limit: u64, seen: Option<&Seen>) -> Result<Vec<u8>, ReadError> {
    let Some(seen) = seen else {
        return limits::read(path, limit);
    };
    match limits::read_with_meta(path, limit) {
        Ok((bytes, meta)) => {
            seen.file(path, &meta, &bytes);
            Ok(bytes)
        }
        Err(e) => {
            seen.absent(path);
            Err(e)
        }
    }
}

/// The files a spec includes, looked up relative to its folder.
pub struct DiskFiles<'a> {
    pub dir: &'a Path,
    /// Where what is read is recorded, for the cache.
    pub seen: Option<&'a Seen>,
}

impl SpecFiles for DiskFiles<'_> {
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        read_seen(&self.dir.join(path), limit, self.seen)
    }

    fn list(&self, dir: &str) -> Option<Vec<(String, bool)>> {
        let dir = self.dir.join(dir);
        let Some(seen) = self.seen else {
            return crate::cache::seen::list_dir(&dir);
        };
        let meta = std::fs::metadata(&dir);
        let entries = crate::cache::seen::list_dir(&dir);
        match (&meta, &entries) {
            (Ok(meta), Some(entries)) => seen.dir(&dir, meta, entries),
            _ => seen.absent(&dir),
        }
        entries
    }

    fn shown(&self, path: &str) -> String {
        shown(self.dir, path)
    }
}

/// A path the spec names (relative to its folder `dir`) as the user finds
/// it from the current folder: `keys/a.key` beside `./mailc.yaml`,
/// `site/keys/a.key` for `site/mailc.yaml`.
pub fn shown(dir: &Path, path: &str) -> String {
    if dir == Path::new(".") || Path::new(path).is_absolute() {
        path.to_string()
    } else {
        dir.join(path).display().to_string()
    }
}

/// `SPEC` defaults to `mailc.yaml`, else `mailc.kdl`, in the current folder.
/// With both there, the YAML is read and a warning says so.
pub fn spec_path(arg: Option<&Path>) -> PathBuf {
    let (yaml, kdl) = (Path::new("mailc.yaml"), Path::new("mailc.kdl"));
    match arg {
        Some(p) => p.to_path_buf(),
        None if yaml.exists() && kdl.exists() => {
            eprintln!(
                "warning: both mailc.yaml and mailc.kdl are in this folder; reading mailc.yaml\n  \
                 help: name the spec to read (`mailc validate mailc.kdl`), or remove the one that is not in use"
            );
            yaml.to_path_buf()
        }
        None if yaml.exists() || !kdl.exists() => yaml.to_path_buf(),
        None => kdl.to_path_buf(),
    }
}

/// Reads and compiles the spec at `path` (at most [`limits::SPEC_BYTES`]).
pub fn load(path: &Path, missing: MissingKey) -> Loaded {
    load_seen(path, missing, None)
}

/// [`load`], recording every file read in `seen` (for the cache).
pub fn load_seen(path: &Path, missing: MissingKey, seen: Option<Arc<Seen>>) -> Loaded {
    match read_seen(path, limits::SPEC_BYTES, seen.as_deref()) {
        Ok(bytes) => {
            let mut loaded = load_bytes_seen(path, bytes, missing, seen.as_deref());
            loaded.seen = seen;
            loaded
        }
        Err(e) => {
            let name = path.display().to_string();
            let (message, help) = match e {
                ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound => (
                    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
                        Some(dir) if !dir.is_dir() => {
                            format!("cannot read `{name}`: there is no folder `{}`", dir.display())
                        }
                        _ => format!("cannot read `{name}`: there is no such file"),
                    },
                    "give the spec's path, run mailc in a folder with `mailc.yaml` or `mailc.kdl`, or start one with `mailc init`".to_string(),
                ),
                ReadError::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied => (
                    format!("cannot read `{name}`: permission denied"),
                    "check the file's permissions and owner (`ls -l`); mailc only needs to read it".to_string(),
                ),
                ReadError::Io(e) => (format!("cannot read `{name}`: {e}"), "check that the path is the spec file".to_string()),
                ReadError::NotAFile if path.is_dir() => {
                    let inside = ["mailc.yaml", "mailc.kdl"]
                        .iter()
                        .map(|f| path.join(f))
                        .find(|p| p.is_file());
                    (
                        format!("`{name}` is a folder, not a spec file"),
                        match inside {
                            Some(p) => format!("give the spec inside it: `{}`", p.display()),
                            None => "give the path of the spec file (`mailc.yaml` or `mailc.kdl`)".to_string(),
                        },
                    )
                }
                ReadError::NotAFile => (
                    format!("`{name}` is not a regular file"),
                    "give the path of the spec file".to_string(),
                ),
                ReadError::TooLarge { limit } => (
                    format!(
                        "`{name}` is larger than {}, the most a spec may be",
                        limits::bytes(limit)
                    ),
                    "a spec of a million mailboxes is about 200 MB; check that this is the spec".to_string(),
                ),
            };
            // No text was read: nothing to point at.
            let mut d = Diagnostic::error(Code::Io, Span::default(), message).help(help);
            d.labels.clear();
            Loaded {
                source: Source::new(
                    name,
                    String::new(),
                    Dialect::from_path(&path.display().to_string()),
                ),
                diagnostics: vec![d],
                model: None,
                tests: Vec::new(),
                dir: spec_dir(path),
                seen: None,
            }
        }
    }
}

/// Points problems the backends found (no place in the spec, but what they
/// are about) at the spec entries behind them, reading the spec again.
pub fn locate(source: &Source, diags: &mut [Diagnostic]) {
    let mut quiet = Diagnostics::new();
    if let Some(spec) = crate::spec::parse(source, &mut quiet) {
        model::locate(&spec, diags);
    }
}

/// The file of the spec that defines `domain` (as the model names it):
/// the main spec, or the included file it is in.
pub fn domain_file<'s>(source: &'s Source, domain: &str) -> &'s Part {
    if source.parts.len() > 1 {
        let mut found = [
            Diagnostic::error(Code::DomainName, Span::default(), String::new())
                .about(About::Domain(domain.to_string())),
        ];
        found[0].labels.clear();
        locate(source, &mut found);
        if !found[0].labels.is_empty() {
            return source.part_at(found[0].span().start);
        }
    }
    &source.parts[0]
}

/// The folder key paths are relative to: the spec's own.
pub(super) fn spec_dir(path: &Path) -> PathBuf {
    path.parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Compiles a spec already read from `path`.
pub fn load_bytes(path: &Path, bytes: Vec<u8>, missing: MissingKey) -> Loaded {
    load_bytes_seen(path, bytes, missing, None)
}

fn load_bytes_seen(
    path: &Path,
    bytes: Vec<u8>,
    missing: MissingKey,
    seen: Option<&Seen>,
) -> Loaded {
    let dir = spec_dir(path);
    let keys = DiskKeys { dir: &dir, seen };
    let files = DiskFiles { dir: &dir, seen };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    load_with_keys(
        &path.display().to_string(),
        bytes,
        missing,
        &keys,
        (&files, &file_name),
        dir.clone(),
    )
}

/// Compiles a spec's bytes under the display name `name` (whose ending
/// picks the dialect), its key files looked up in `keys` and the files it
/// includes in `files` (with the main spec's own path there, which no glob
/// includes); `dir` is the folder its key paths are relative to.
pub fn load_with_keys(
    name: &str,
    bytes: Vec<u8>,
    missing: MissingKey,
    keys: &dyn KeyFiles,
    (files, main_path): (&dyn SpecFiles, &str),
    dir: PathBuf,
) -> Loaded {
    let name = name.to_string();
    let dialect = Dialect::from_path(&name);
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let d = Diagnostic::error(
                Code::Io,
                Span::new(at, 1),
                format!("`{name}` is not UTF-8 text"),
            )
            .label("invalid byte here")
            .help("save the spec as UTF-8");
            return Loaded {
                source: Source::new(name, text, dialect),
                diagnostics: vec![d],
                model: None,
                tests: Vec::new(),
                dir,
                seen: None,
            };
        }
    };
    let compiled = crate::compile::compile(
        Source::new(name, text, dialect),
        &crate::compile::Inputs {
            key_files: keys,
            missing_keys: missing,
            spec_files: files,
            main_path,
        },
    );
    Loaded {
        source: compiled.source,
        diagnostics: compiled.diagnostics,
        model: compiled.model,
        tests: compiled.tests,
        dir,
        seen: None,
    }
}
