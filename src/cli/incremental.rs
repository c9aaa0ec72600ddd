//! `mailc plan` when only included spec files changed since the cache was
//! written (docs/cli.md, "The cache"): the changed files and every file
//! related to them (sharing a domain name, transitively: [`facts`]) are
//! compiled alone with the main spec, and their output put in place of what
//! the cache says those domains gave — their own files (zones) whole, their
//! lines in the host-wide tables ([`keyed`]) — the rest of `--out` left
//! unread. Any doubt (a diagnostic, a domain added or moved out of the
//! related files, a host-wide file such as `main.cf` that comes out
//! otherwise, a table not laid out as recorded) gives up, and the caller
//! compiles the whole spec.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use super::context::DiskContext;
use super::load::{self, DiskFiles, DiskKeys};
use crate::backend;
use crate::cache::{Partial, facts, keyed};
use crate::limits::{self, ReadError};
use crate::model::MissingKey;
use crate::output::Output;
use crate::plan::{Action, Change, Desired, Fingerprint, Found, Plan, managed};
use crate::spec::include::SpecFiles;

/// Lines kept around a domain's lines in a table, for the diff's context
/// (it shows 3).
const CONTEXT: usize = 8;

/// When the related files are more than half of more than this many
/// included files, compiling them alone saves little: the whole spec is
/// compiled.
const FEW: usize = 16;

/// The plan of the spec at `spec` against `out`, from the changed files of
/// `partial` and what they relate to, with how many included files were
/// compiled of how many; `None` to compile the whole spec.
pub(super) fn plan(spec: &Path, out: &Path, partial: &Partial) -> Option<(Plan, usize, usize)> {
    if !partial.notes().plain.is_empty() {
        // Warnings of files not compiled again could not be shown.
        return None;
    }
    let all: BTreeSet<&str> = partial
        .files()
        .flat_map(|(_, t)| t.iter().map(String::as_str))
        .collect();
    let domains = facts::Domains::new(all.iter().copied());
    // The changed files as they are now, and the domains they name.
    let mut now: HashMap<PathBuf, (String, Vec<String>)> = HashMap::new();
    for path in &partial.changed {
        let bytes = limits::read(path, limits::SPEC_BYTES).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let touched = domains.touched(&text).into_iter().collect();
        now.insert(path.clone(), (text, touched));
    }
    let (files, affected) = related(partial, &now)?;
    let count = partial.files().count();
    if count > FEW && files.len() * 2 > count {
        return None;
    }
    let loaded = compile_some(spec, &files)?;
    // Read as analysed, every file in its place, no diagnostic, the very
    // domains expected, no zone pushed.
    if !loaded.diagnostics.is_empty() {
        return None;
    }
    let model = loaded.model.as_ref()?;
    for part in loaded.source.parts.iter().skip(1) {
        let path = input_path(&loaded.dir, &part.name);
        if !files.contains(&normal(&path)) {
            continue;
        }
        if let Some((text, _)) = now.get(&path)
            && loaded.source.part_text(part) != text
        {
            return None;
        }
    }
    let defined: BTreeSet<&str> = model.domains.keys().map(String::as_str).collect();
    let wanted: BTreeSet<&str> = affected.iter().map(String::as_str).collect();
    if defined != wanted
        || !model.dns_targets.is_empty()
        || model.domains.values().any(|d| d.push.is_some())
    {
        return None;
    }
    let ctx = DiskContext::new(out, &loaded.dir);
    let output = backend::compile(model, &ctx).ok()?;
    drop(ctx);
    let plan = splice(out, partial, &all, &affected, &output);
    loaded.release();
    Some((plan?, files.len(), partial.files().count()))
}

/// The changed files and every file related to them, transitively (as
/// normalized paths), with the domains they name.
fn related(
    partial: &Partial,
    now: &HashMap<PathBuf, (String, Vec<String>)>,
) -> Option<(HashSet<PathBuf>, BTreeSet<String>)> {
    let mut naming: HashMap<&str, Vec<&PathBuf>> = HashMap::new();
    for (path, touched) in partial.files() {
        for d in touched {
            naming.entry(d.as_str()).or_default().push(path);
        }
    }
    let mut files: HashSet<PathBuf> = HashSet::new();
    let mut affected: BTreeSet<String> = BTreeSet::new();
    let mut queue: Vec<PathBuf> = partial.changed.clone();
    while let Some(path) = queue.pop() {
        if !files.insert(normal(&path)) {
            continue;
        }
        let before = partial.touched(&path)?;
        let after = now.get(&path).map_or(&[][..], |(_, t)| t.as_slice());
        for d in before.iter().chain(after) {
            if affected.insert(d.clone()) {
                for other in naming.get(d.as_str()).into_iter().flatten() {
                    queue.push((*other).clone());
                }
            }
        }
    }
    Some((files, affected))
}

/// `path` without its `.` components, to compare paths as the include
/// reader and the cache spell them.
fn normal(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// The path an included file was read at, from the name it is shown by.
fn input_path(dir: &Path, shown: &str) -> PathBuf {
    if dir == Path::new(".") {
        Path::new(".").join(shown)
    } else {
        PathBuf::from(shown)
    }
}

/// The included files of a spec limited to `keep`: a glob lists no other,
/// and a file named outright is read as empty.
struct Only<'a> {
    inner: DiskFiles<'a>,
    keep: &'a HashSet<PathBuf>,
}

impl Only<'_> {
    fn kept(&self, path: &str) -> bool {
        self.keep.contains(&normal(&self.inner.dir.join(path)))
    }
}

impl SpecFiles for Only<'_> {
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        if self.kept(path) {
            self.inner.read(path, limit)
        } else {
            Ok(Vec::new())
        }
    }

    fn list(&self, dir: &str) -> Option<Vec<(String, bool)>> {
        let mut entries = self.inner.list(dir)?;
        entries.retain(|(name, is_dir)| {
            *is_dir
                || self.kept(&format!(
                    "{dir}{}{name}",
                    if dir.is_empty() { "" } else { "/" }
                ))
        });
        Some(entries)
    }

    fn shown(&self, path: &str) -> String {
        self.inner.shown(path)
    }
}

/// The spec at `spec` with only the included files `keep`.
fn compile_some(spec: &Path, keep: &HashSet<PathBuf>) -> Option<load::Loaded> {
    let bytes = limits::read(spec, limits::SPEC_BYTES).ok()?;
    let dir = load::spec_dir(spec);
    let keys = DiskKeys {
        dir: &dir,
        seen: None,
    };
    let files = Only {
        inner: DiskFiles {
            dir: &dir,
            seen: None,
        },
        keep,
    };
    let file_name = spec
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Some(load::load_with_keys(
        &spec.display().to_string(),
        bytes,
        MissingKey::Error,
        &keys,
        (&files, &file_name),
        dir.clone(),
    ))
}

/// The domain of `all` an output file belongs to: one a component of its
/// path names, whole or before a last extension (`dns/a.example.zone`).
fn owner<'a>(path: &str, all: &BTreeSet<&'a str>) -> Option<&'a str> {
    for part in path.split('/') {
        if let Some(d) = all.get(part) {
            return Some(d);
        }
        if let Some((stem, ext)) = part.rsplit_once('.')
            && !ext.is_empty()
            && let Some(d) = all.get(stem)
        {
            return Some(d);
        }
    }
    None
}

/// The plan from the output of the related files alone: their own files
/// compared whole, their lines of each table put in place of the old ones,
/// every other file required to come out as recorded.
fn splice(
    out: &Path,
    partial: &Partial,
    all: &BTreeSet<&str>,
    affected: &BTreeSet<String>,
    output: &Output,
) -> Option<Plan> {
    let recorded: BTreeMap<&str, &Fingerprint> = partial
        .outputs()
        .filter(|(p, _)| *p != managed::FILE_NAME)
        .collect();
    let mut tree = crate::plan::tree::Tree::new(out);
    let mut old = |path: &str| tree.read(path).ok().flatten();
    let mut changes = Vec::new();
    for (path, file) in &output.files {
        let new = || Desired {
            bytes: file.bytes.clone(),
            mode: file.mode(),
            secret: file.secret,
        };
        if let Some(index) = partial.keyed(path) {
            let sep = keyed::separator(path)?;
            if let Some(c) = table(out, path, index, sep, affected, file)? {
                changes.push(c);
            }
            continue;
        }
        let sha = Fingerprint::of(&file.bytes);
        match (owner(path, all), recorded.get(path.as_str())) {
            (_, Some(was)) if **was == sha => {}
            (Some(d), was) if affected.contains(d) => {
                // Recorded, it must be there; not recorded, a file of the
                // same name may have been left there by hand.
                let found = old(path);
                if was.is_some() && found.is_none() {
                    return None;
                }
                if found
                    .as_ref()
                    .is_some_and(|f| f.mode & 0o7777 == file.mode() && f.bytes == file.bytes)
                {
                    continue;
                }
                changes.push(Change {
                    path: path.clone(),
                    action: if found.is_some() {
                        Action::Change
                    } else {
                        Action::Add
                    },
                    old: found,
                    new: Some(new()),
                    from_line: 0,
                });
            }
            // A host-wide file that comes out otherwise, or a file of a
            // domain not compiled.
            _ => return None,
        }
    }
    for path in recorded.keys() {
        if output.files.contains_key(*path) {
            continue;
        }
        match owner(path, all) {
            Some(d) if affected.contains(d) => {
                if let Some(found) = old(path) {
                    changes.push(Change {
                        path: path.to_string(),
                        action: Action::Delete,
                        old: Some(found),
                        new: None,
                        from_line: 0,
                    });
                }
            }
            Some(_) => {}
            None => return None,
        }
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    let managed_before: BTreeSet<String> = recorded.keys().map(|p| p.to_string()).collect();
    let mut managed_after = managed_before.clone();
    for c in &changes {
        match c.action {
            Action::Add => managed_after.insert(c.path.clone()),
            Action::Delete => managed_after.remove(&c.path),
            Action::Change => false,
        };
    }
    Some(Plan {
        changes,
        managed_before,
        managed_after,
        expected: BTreeMap::new(),
    })
}

/// The change of one table: the stretch of the old file around the
/// domains' lines against the same stretch with their new lines. `None`
/// (give up) when the file is not as recorded or its new lines are not the
/// domains' own.
fn table(
    out: &Path,
    path: &str,
    index: &keyed::Index,
    sep: u8,
    affected: &BTreeSet<String>,
    file: &crate::output::OutputFile,
) -> Option<Option<Change>> {
    let (header, groups) = keyed::groups(&file.bytes, sep)?;
    if groups.iter().any(|(d, _, _)| !affected.contains(*d)) {
        return None;
    }
    let full = crate::plan::path::join(out, path);
    let window = keyed::window(&full, index, sep, affected, CONTEXT).ok()??;
    // The header as recorded: read it where it is.
    let head_len = usize::try_from(index.header).ok()?;
    if header != head_len || !same_head(&full, &file.bytes[..header])? {
        return None;
    }
    let (s, e) = window.inner;
    let (_, kept) = keyed::groups(&window.bytes[s..e], sep)?;
    // Old lines of domains not compiled, new lines of those compiled, in
    // the order of their domains.
    let mut parts: Vec<(&str, &[u8])> = kept
        .iter()
        .filter(|(d, _, _)| !affected.contains(*d))
        .map(|(d, a, b)| (*d, &window.bytes[s + a..s + b]))
        .collect();
    parts.extend(groups.iter().map(|(d, a, b)| (*d, &file.bytes[*a..*b])));
    parts.sort_by(|x, y| x.0.cmp(y.0));
    let mut bytes = window.bytes[..s].to_vec();
    for (_, lines) in parts {
        bytes.extend_from_slice(lines);
    }
    bytes.extend_from_slice(&window.bytes[e..]);
    if bytes == window.bytes {
        return Some(None);
    }
    let meta = std::fs::symlink_metadata(&full).ok()?;
    let found = Found::new(
        window.bytes,
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()),
        (0, 0),
    );
    Some(Some(Change {
        path: path.to_string(),
        action: Action::Change,
        old: Some(found),
        new: Some(Desired {
            bytes,
            mode: file.mode(),
            secret: file.secret,
        }),
        from_line: usize::try_from(window.first_line).ok()?,
    }))
}

/// Whether the file at `path` starts with `head`.
fn same_head(path: &Path, head: &[u8]) -> Option<bool> {
    use std::io::Read as _;
    let mut f = std::fs::File::open(path).ok()?;
    let mut buf = vec![0; head.len()];
    f.read_exact(&mut buf).ok()?;
    Some(buf == head)
}
