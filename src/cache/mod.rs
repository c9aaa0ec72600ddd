//! The plan cache, `--out/.mailc-cache`: what the last clean `mailc plan`
//! (one that found nothing to change) or `mailc apply` read and wrote.
//! Every input — the main spec, each included file, each folder a glob
//! listed, each key or secret file — with its status (device, inode, size,
//! modification and change times, mode) taken before it was read and the
//! SHA-256 of what was read; every output file in `--out` (and the
//! managed list) with its status and SHA-256; the folders between them; and the
//! warnings the compile printed.
//!
//! As git's index does for a work tree, a plan then needs only `stat` calls
//! to know that nothing changed: an input or output whose status is as
//! recorded is unchanged; one whose status changed, or whose modification
//! time is too close to the cache's own to be trusted (the "racy" case: a
//! change in the same second as the cache was written), is read and hashed
//! before it counts as changed. When everything matches, the compiled output
//! is the one `--out` already holds, so the plan is empty without reading
//! or compiling the spec.
//!
//! When only included spec files changed, [`check`] says which
//! ([`Check::Partial`]), with what the cache knows to compile them alone:
//! the domains each included file names ([`facts`]) and where each
//! domain's lines are in the host-wide tables of `--out` ([`keyed`]).
//!
//! The cache is never needed for correctness: one that is missing, damaged
//! (it carries its own SHA-256), made by another build of mailc (the
//! version and the executable's status are part of its key), or for
//! another spec, folder or output folder is ignored, and the plan is made
//! in full. It holds no secret: fingerprints, file status, domain names and
//! places in files, in a file of mode 0600.

pub mod facts;
mod file;
pub mod keyed;
pub mod seen;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs::Metadata;
use std::io::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::output::Output;
use crate::plan::{Fingerprint, managed};
use file::{Unusable, open, seal};
pub use seen::{Input, Seen};

/// The cache's name in `--out` (the `.mailc` prefix keeps it out of any
/// output path).
pub const FILE_NAME: &str = ".mailc-cache";

/// The first line of a cache file.
const MAGIC: &str = "mailc plan cache";

/// The layout of the file; another number is ignored.
const FORMAT: u32 = 2;

/// The largest cache read (a hosting server of 20,000 domain files has one
/// of a few MB).
const MAX_BYTES: u64 = 1 << 30;

/// A file's status as `stat` gives it: what changes whenever its content,
/// mode, links or identity change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
    pub mode: u32,
    pub nlink: u64,
}

impl Stat {
    pub fn of(m: &Metadata) -> Stat {
        Stat {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
            mode: m.mode(),
            nlink: m.nlink(),
        }
    }

    /// Changed in or after the second `at`: a later change in the same
    /// second could leave every field as it is, so its content is checked.
    fn racy(&self, at: i64) -> bool {
        self.mtime.0 >= at || self.ctime.0 >= at
    }

    fn write(&self, s: &mut String) {
        let _ = write!(
            s,
            "{} {} {} {} {} {} {} {} {}",
            self.dev,
            self.ino,
            self.size,
            self.mtime.0,
            self.mtime.1,
            self.ctime.0,
            self.ctime.1,
            self.mode,
            self.nlink
        );
    }

    fn parse(s: &str) -> Option<Stat> {
        let mut f = s.split(' ');
        let mut n = || f.next()?.parse::<i64>().ok();
        let stat = Stat {
            dev: u64::try_from(n()?).ok()?,
            ino: u64::try_from(n()?).ok()?,
            size: u64::try_from(n()?).ok()?,
            mtime: (n()?, n()?),
            ctime: (n()?, n()?),
            mode: u32::try_from(n()?).ok()?,
            nlink: u64::try_from(n()?).ok()?,
        };
        Some(stat)
    }
}

/// What a cache is for: the build of mailc that wrote it, the folder it
/// ran in, the spec and the output folder as named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    build: String,
    cwd: String,
    spec: String,
    out: String,
}

impl Key {
    /// The key of a plan of `spec` into `out` by this very executable
    /// (`None` when it cannot be told, or a name cannot be written down).
    pub fn new(spec: &Path, out: &Path) -> Option<Key> {
        let exe = std::env::current_exe().ok()?;
        let mut build = format!("{} ", env!("CARGO_PKG_VERSION"));
        Stat::of(&std::fs::metadata(exe).ok()?).write(&mut build);
        let key = Key {
            build,
            cwd: std::env::current_dir().ok()?.to_str()?.to_string(),
            spec: spec.to_str()?.to_string(),
            out: out.to_str()?.to_string(),
        };
        [&key.cwd, &key.spec, &key.out]
            .iter()
            .all(|s| plain(s))
            .then_some(key)
    }
}

/// Whether a name can stand on a line of the cache.
fn plain(s: &str) -> bool {
    !s.contains(['\n', '\t', '\r'])
}

/// The warnings the compile printed, drawn without and with color.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notes {
    pub plain: String,
    pub color: String,
}

/// What a clean plan can be shown from.
#[derive(Debug)]
pub struct Clean {
    /// The files mailc manages in `--out`: every path of the output.
    pub managed: BTreeSet<String>,
    pub notes: Notes,
}

/// The answer of [`check`].
#[derive(Debug)]
pub enum Check {
    /// Nothing changed since the cache was written: the plan is empty.
    Clean(Clean),
    /// Only included spec files changed, each one whose domains the cache
    /// knows, and `--out` is as recorded: what they can affect may be
    /// compiled alone.
    Partial(Box<Partial>),
    /// Something changed (or there is no usable cache): compile. `changed`
    /// names the spec files whose content changed since the cache was
    /// written, as far as the cache tells; `damaged` says why a cache
    /// file there was ignored, when it was damaged (worth a note).
    Stale {
        changed: Vec<String>,
        damaged: Option<String>,
    },
}

/// What the last clean plan or apply recorded, and which spec files
/// changed since.
#[derive(Debug)]
pub struct Partial {
    /// As the user names them (`domains/a.yaml`), for the note.
    pub shown: Vec<String>,
    /// As recorded.
    pub changed: Vec<PathBuf>,
    body: Body,
}

impl Partial {
    /// The domains the included file `path` named when it was recorded
    /// ([`facts`]).
    pub fn touched(&self, path: &Path) -> Option<&[String]> {
        self.body.touch.get(path).map(Vec::as_slice)
    }

    /// Every included file with the domains it named.
    pub fn files(&self) -> impl Iterator<Item = (&PathBuf, &[String])> {
        self.body.touch.iter().map(|(p, t)| (p, t.as_slice()))
    }

    /// The output files as recorded (the managed list among them), with their
    /// SHA-256.
    pub fn outputs(&self) -> impl Iterator<Item = (&str, &Fingerprint)> {
        self.body
            .outputs
            .iter()
            .map(|(p, f)| (p.as_str(), &f.sha256))
    }

    /// Where the lines of each domain are in the table file `path`.
    pub fn keyed(&self, path: &str) -> Option<&keyed::Index> {
        self.body.keyed.get(path)
    }

    /// The warnings the recorded compile printed.
    pub fn notes(&self) -> &Notes {
        &self.body.notes
    }
}

/// One output file as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
struct OutFile {
    stat: Stat,
    sha256: Fingerprint,
}

/// A cache file's content.
#[derive(Debug, PartialEq, Eq)]
struct Body {
    key: Key,
    /// A second before anything recorded was looked at (Unix time): an
    /// entry changed in it or later is racy.
    at: i64,
    inputs: BTreeMap<PathBuf, Input>,
    /// Relative to `--out`; the managed list among them.
    outputs: BTreeMap<String, OutFile>,
    /// The folders of `--out` the outputs are in (`""` for `--out`): device
    /// and inode, so that a folder swapped for a link is noticed.
    dirs: BTreeMap<String, (u64, u64)>,
    notes: Notes,
    /// Each included spec file (not the main one) with the domains of the
    /// spec it names ([`facts`]); empty when a change must always compile
    /// the whole spec.
    touch: BTreeMap<PathBuf, Vec<String>>,
    /// The lookup tables of `--out` whose lines are grouped by domain.
    keyed: BTreeMap<String, keyed::Index>,
}

/// Compares what the cache in `out` recorded with the files as they are
/// now (their status; content only where the status changed or is racy).
pub fn check(out: &Path, key: &Key) -> Check {
    let started = now_secs();
    let mut body = match open(out, key) {
        Ok(b) => b,
        Err(why) => {
            let damaged = match why {
                Unusable::Damaged(why) => Some(format!(
                    "ignoring the cache `{}`: {why}; the plan is made in full",
                    out.join(FILE_NAME).display()
                )),
                Unusable::Quiet => None,
            };
            return Check::Stale {
                changed: Vec::new(),
                damaged,
            };
        }
    };
    let at = body.at;
    // Inputs: each `Some(new status)` when its content is as recorded.
    let inputs: Vec<(&PathBuf, &Input)> = body.inputs.iter().collect();
    let looked = crate::par::map_chunks(&inputs, 256, |part| {
        part.iter()
            .map(|(path, input)| still(path, input, at))
            .collect::<Vec<_>>()
    });
    let mut changed = Vec::new();
    let mut changed_paths = Vec::new();
    let mut refreshed = BTreeMap::new();
    for ((path, input), now) in inputs.iter().zip(looked.into_iter().flatten()) {
        match now {
            Still::Same => {}
            Still::Restat(stat) => {
                refreshed.insert((*path).clone(), stat);
            }
            Still::Changed => {
                changed_paths.push((*path).clone());
                if matches!(input, Input::File { .. }) {
                    // As the user names it: `domains/a.yaml`, not `./domains/a.yaml`.
                    let shown = path.strip_prefix(".").unwrap_or(path);
                    changed.push(shown.display().to_string());
                } else {
                    changed.push(String::new());
                }
            }
        }
    }
    // Only included spec files whose domains are known changed: what they
    // affect may be compiled alone, once `--out` is found as recorded.
    let partial = !changed_paths.is_empty()
        && changed_paths.iter().all(|p| {
            body.touch.contains_key(p) && matches!(body.inputs.get(p), Some(Input::File { .. }))
        });
    if !changed.is_empty() && !partial {
        changed.retain(|c| !c.is_empty());
        return Check::Stale {
            changed,
            damaged: None,
        };
    }
    // Outputs, then the folders they are in.
    let outputs: Vec<(&String, &OutFile)> = body.outputs.iter().collect();
    let looked = crate::par::map_chunks(&outputs, 256, |part| {
        part.iter()
            .map(|(path, f)| output_still(out, path, f, at))
            .collect::<Vec<_>>()
    });
    let mut out_refreshed = BTreeMap::new();
    for ((path, _), now) in outputs.iter().zip(looked.into_iter().flatten()) {
        match now {
            Still::Same => {}
            Still::Restat(stat) => {
                out_refreshed.insert((*path).clone(), stat);
            }
            Still::Changed => {
                return Check::Stale {
                    changed,
                    damaged: None,
                };
            }
        }
    }
    for (dir, ids) in &body.dirs {
        if folder_ids(out, dir) != Some(*ids) {
            return Check::Stale {
                changed,
                damaged: None,
            };
        }
    }
    if partial {
        return Check::Partial(Box::new(Partial {
            shown: changed,
            changed: changed_paths,
            body,
        }));
    }
    let managed = body
        .outputs
        .keys()
        .filter(|p| *p != managed::FILE_NAME)
        .cloned()
        .collect();
    if !refreshed.is_empty() || !out_refreshed.is_empty() {
        // Touched but the same: recorded anew, so the next plan needs only
        // their status.
        for (path, stat) in refreshed {
            if let Some(Input::File { stat: s, .. } | Input::Dir { stat: s, .. }) =
                body.inputs.get_mut(&path)
            {
                *s = stat;
            }
        }
        for (path, stat) in out_refreshed {
            if let Some(f) = body.outputs.get_mut(&path) {
                f.stat = stat;
            }
        }
        // Each file read again was looked at after `started`.
        body.at = started;
        let _ = store(out, &body);
    }
    Check::Clean(Clean {
        managed,
        notes: body.notes,
    })
}

/// How an entry compares with the file as it is now.
enum Still {
    Same,
    /// The same content under a new status.
    Restat(Stat),
    Changed,
}

fn still(path: &Path, input: &Input, at: i64) -> Still {
    match input {
        Input::Absent => {
            if std::fs::metadata(path).is_ok() {
                Still::Changed
            } else {
                Still::Same
            }
        }
        Input::File { stat, sha256 } => {
            let Ok(meta) = std::fs::metadata(path) else {
                return Still::Changed;
            };
            let now = Stat::of(&meta);
            if now == *stat && !stat.racy(at) {
                return Still::Same;
            }
            match crate::limits::read_with_meta(path, crate::limits::SPEC_BYTES) {
                Ok((bytes, meta)) if Fingerprint::of(&bytes) == *sha256 => {
                    Still::Restat(Stat::of(&meta))
                }
                _ => Still::Changed,
            }
        }
        Input::Dir { stat, sha256 } => {
            let Ok(meta) = std::fs::metadata(path) else {
                return Still::Changed;
            };
            let now = Stat::of(&meta);
            if now == *stat && !stat.racy(at) {
                return Still::Same;
            }
            match seen::list_dir(path) {
                Some(entries) if seen::listing(&entries) == *sha256 => Still::Restat(now),
                _ => Still::Changed,
            }
        }
    }
}

/// The status of an output file, not following a link.
fn output_stat(out: &Path, rel: &str) -> Option<Metadata> {
    std::fs::symlink_metadata(crate::plan::path::join(out, rel)).ok()
}

fn output_still(out: &Path, rel: &str, f: &OutFile, at: i64) -> Still {
    let Some(meta) = output_stat(out, rel) else {
        return Still::Changed;
    };
    let now = Stat::of(&meta);
    if now == f.stat && !f.stat.racy(at) {
        return Still::Same;
    }
    // Same mode and a lone regular file (as the plan's reader requires),
    // with the same bytes.
    if !meta.is_file() || meta.nlink() != 1 || now.mode != f.stat.mode {
        return Still::Changed;
    }
    match std::fs::read(crate::plan::path::join(out, rel)) {
        Ok(bytes) if Fingerprint::of(&bytes) == f.sha256 => Still::Restat(now),
        _ => Still::Changed,
    }
}

/// A folder of `--out` (`""`: `--out` itself, which may be a link the
/// operator made) by device and inode; below it, a link is not followed.
fn folder_ids(out: &Path, dir: &str) -> Option<(u64, u64)> {
    let meta = if dir.is_empty() {
        std::fs::metadata(out).ok()?
    } else {
        std::fs::symlink_metadata(crate::plan::path::join(out, dir)).ok()?
    };
    meta.is_dir().then(|| (meta.dev(), meta.ino()))
}

pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Why nothing was cached (not an error of the command: the next plan is
/// made in full).
#[derive(Debug, thiserror::Error)]
pub enum NotCached {
    #[error("a spec file changed while it was read")]
    Torn,
    #[error("`{0}` in the output folder is not what was compiled")]
    Differs(String),
    #[error("a name cannot be recorded")]
    Name,
    #[error("cannot write the cache: {0}")]
    Io(#[from] std::io::Error),
}

/// Records, after a clean plan or an apply, that compiling `seen`'s
/// inputs gives `output`, which `out` now holds (the plan compared or the
/// apply wrote them), with the warnings `notes`. A file changed since the
/// compile started is racy (its time is not before [`Seen::started`]), so
/// the next check reads it rather than trust its status.
pub fn record(
    out: &Path,
    key: &Key,
    seen: &Seen,
    output: &Output,
    notes: Notes,
    spec: &Spec<'_>,
) -> Result<(), NotCached> {
    let inputs = seen.inputs().ok_or(NotCached::Torn)?;
    if inputs.keys().any(|p| p.to_str().is_none_or(|s| !plain(s))) {
        return Err(NotCached::Name);
    }
    let touch = spec.touch(&inputs);
    // Where domains' lines are matters only when files can be compiled
    // alone.
    let tables: Vec<(&String, u8, &crate::output::OutputFile)> = output
        .files
        .iter()
        .filter(|_| !touch.is_empty())
        .filter_map(|(p, f)| Some((p, keyed::separator(p)?, f)))
        .collect();
    let indexed = crate::par::map_chunks(&tables, 1, |part| {
        part.iter()
            .map(|(_, sep, f)| keyed::index(&f.bytes, *sep))
            .collect::<Vec<_>>()
    });
    let keyed: BTreeMap<String, keyed::Index> = tables
        .iter()
        .zip(indexed.into_iter().flatten())
        .filter_map(|((p, _, _), index)| {
            let index = index?;
            let plain = |d: &str| !d.contains([' ', ',', '\t', '\n', '\r']);
            index
                .marks
                .iter()
                .all(|m| plain(&m.domain))
                .then(|| ((*p).clone(), index))
        })
        .collect();
    let files: Vec<(&String, &crate::output::OutputFile)> = output.files.iter().collect();
    let looked = crate::par::map_chunks(&files, 256, |part| {
        part.iter()
            .map(|(path, file)| {
                let meta = output_stat(out, path)?;
                let ok = meta.is_file()
                    && meta.nlink() == 1
                    && meta.mode() & 0o7777 == file.mode()
                    && meta.len() == file.bytes.len() as u64;
                ok.then(|| OutFile {
                    stat: Stat::of(&meta),
                    sha256: Fingerprint::of(&file.bytes),
                })
            })
            .collect::<Vec<_>>()
    });
    let mut outputs = BTreeMap::new();
    for ((path, _), f) in files.iter().zip(looked.into_iter().flatten()) {
        let f = f.ok_or_else(|| NotCached::Differs((*path).clone()))?;
        outputs.insert((*path).clone(), f);
    }
    // The managed list, as found.
    let m = managed::FILE_NAME;
    let meta = output_stat(out, m).ok_or_else(|| NotCached::Differs(m.to_string()))?;
    let bytes = std::fs::read(out.join(m))?;
    let listed = managed::parse(&bytes).map_err(|_| NotCached::Differs(m.to_string()))?;
    if !listed.iter().eq(output.files.keys()) {
        return Err(NotCached::Differs(m.to_string()));
    }
    outputs.insert(
        m.to_string(),
        OutFile {
            stat: Stat::of(&meta),
            sha256: Fingerprint::of(&bytes),
        },
    );
    let mut dirs = BTreeMap::new();
    for path in output.files.keys() {
        let mut dir = path.as_str();
        while let Some((parent, _)) = dir.rsplit_once('/') {
            dir = parent;
            if dirs.contains_key(dir) {
                break;
            }
            let ids = folder_ids(out, dir).ok_or_else(|| NotCached::Differs(dir.to_string()))?;
            dirs.insert(dir.to_string(), ids);
        }
    }
    dirs.insert(
        String::new(),
        folder_ids(out, "").ok_or_else(|| NotCached::Differs(String::new()))?,
    );
    let body = Body {
        key: key.clone(),
        at: seen.started,
        inputs,
        outputs,
        dirs,
        notes,
        touch,
        keyed,
    };
    store(out, &body)
}

/// The spec as compiled, for what each of its files names.
pub struct Spec<'a> {
    pub source: &'a crate::source::Source,
    /// The folder the spec's paths are relative to.
    pub dir: &'a Path,
    /// The domains the spec defines.
    pub domains: Vec<&'a str>,
}

impl Spec<'_> {
    /// Each included file (by the path it was read at) with the domains it
    /// names; none when the main spec names a domain of the spec (its hosts
    /// and defaults are part of every domain, so a domain they name depends
    /// on every file) or a file cannot be matched with its input.
    fn touch(&self, inputs: &BTreeMap<PathBuf, Input>) -> BTreeMap<PathBuf, Vec<String>> {
        let domains = facts::Domains::new(self.domains.iter().copied());
        let parts = &self.source.parts;
        let Some(main) = parts.first().filter(|_| parts.len() > 1) else {
            return BTreeMap::new();
        };
        if !domains.touched(self.source.part_text(main)).is_empty() {
            return BTreeMap::new();
        }
        let here = self.dir == Path::new(".");
        let files: Vec<(PathBuf, &crate::source::Part)> = parts[1..]
            .iter()
            .map(|p| {
                let path = if here {
                    Path::new(".").join(&*p.name)
                } else {
                    PathBuf::from(&*p.name)
                };
                (path, p)
            })
            .collect();
        if !files
            .iter()
            .all(|(path, _)| matches!(inputs.get(path), Some(Input::File { .. })))
        {
            return BTreeMap::new();
        }
        let touched = crate::par::map_chunks(&files, 64, |part| {
            part.iter()
                .map(|(_, p)| {
                    domains
                        .touched(self.source.part_text(p))
                        .into_iter()
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        });
        files
            .into_iter()
            .map(|(path, _)| path)
            .zip(touched.into_iter().flatten())
            .collect()
    }
}

/// Writes the cache file whole or not at all (mode 0600, renamed into
/// place).
fn store(out: &Path, body: &Body) -> Result<(), NotCached> {
    let bytes = seal(&body.render());
    let mut tmp = tempfile::Builder::new()
        .prefix(".mailc-cache.")
        .tempfile_in(out)?;
    tmp.write_all(&bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(out.join(FILE_NAME))
        .map_err(|e| NotCached::Io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> Body {
        let stat = Stat {
            dev: 1,
            ino: 2,
            size: 3,
            mtime: (4, 5),
            ctime: (6, 7),
            mode: 0o100644,
            nlink: 1,
        };
        let sha256 = Fingerprint::of(b"x");
        Body {
            key: Key {
                build: "0.1.0 1 2 3".into(),
                cwd: "/srv".into(),
                spec: "mailc.yaml".into(),
                out: "out".into(),
            },
            at: 100,
            inputs: [
                ("mailc.yaml".into(), Input::File { stat, sha256 }),
                ("keys/a.key".into(), Input::Absent),
                ("domains".into(), Input::Dir { stat, sha256 }),
            ]
            .into_iter()
            .collect(),
            outputs: [("dns/a b.zone".to_string(), OutFile { stat, sha256 })]
                .into_iter()
                .collect(),
            dirs: [("dns".to_string(), (1, 9))].into_iter().collect(),
            notes: Notes {
                plain: "warning: x\n  line \"two\"\n".into(),
                color: String::new(),
            },
            touch: [("domains/a.yaml".into(), vec!["a.example".to_string()])]
                .into_iter()
                .collect(),
            keyed: [(
                "postfix/mx1/virtual_aliases".to_string(),
                keyed::Index {
                    header: 10,
                    marks: vec![keyed::Mark {
                        offset: 10,
                        line: 2,
                        domain: "a.example".into(),
                    }],
                },
            )]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn a_body_round_trips() {
        let b = body();
        assert_eq!(Body::parse(&b.render()), Some(b));
    }

    #[test]
    fn a_damaged_or_foreign_cache_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let b = body();
        let sealed = seal(&b.render());
        std::fs::write(dir.path().join(FILE_NAME), &sealed).unwrap();
        assert_eq!(open(dir.path(), &b.key), Ok(body()));
        let mut other = b.key.clone();
        other.build.push('1');
        assert_eq!(open(dir.path(), &other), Err(Unusable::Quiet));
        // One byte changed, the file cut short, another format.
        let mut flipped = sealed.clone();
        let last = flipped.len() - 3;
        flipped[last] ^= 1;
        std::fs::write(dir.path().join(FILE_NAME), &flipped).unwrap();
        assert!(matches!(
            open(dir.path(), &b.key),
            Err(Unusable::Damaged(_))
        ));
        std::fs::write(dir.path().join(FILE_NAME), &sealed[..sealed.len() / 2]).unwrap();
        assert!(matches!(
            open(dir.path(), &b.key),
            Err(Unusable::Damaged(_))
        ));
        let later = String::from_utf8(sealed)
            .unwrap()
            .replace("format 2", "format 3");
        std::fs::write(dir.path().join(FILE_NAME), later).unwrap();
        assert_eq!(open(dir.path(), &b.key), Err(Unusable::Quiet));
    }

    #[test]
    fn a_change_in_the_cache_second_is_racy() {
        let mut s = body().inputs.into_values().next().map(|i| match i {
            Input::File { stat, .. } | Input::Dir { stat, .. } => stat,
            Input::Absent => unreachable!(),
        });
        let s = s.as_mut().unwrap();
        assert!(!s.racy(10));
        assert!(s.racy(6));
        assert!(s.racy(4));
    }
}
