//! Writing a plan into `--out`, so that an apply killed at any point leaves
//! every file with either its old or its new content, and the next plan
//! shows whatever is left to do.
//!
//! The order of an apply:
//!
//! 1. take `--out/.mailc.lock` (std's `File::try_lock`): a second apply
//!    fails at once instead of interleaving writes;
//! 2. scan `--out` again and refuse if it drifted from what the plan expected
//!    (someone edited a file while the plan was being reviewed);
//! 3. remove temporary files an earlier, killed apply left behind;
//! 4. *claim*: write the manifest listing the old files and the ones to add,
//!    so a file written below is never forgotten (nor later mistaken for a
//!    person's file); a person's file the plan overwrites is claimed only
//!    in step 8, once it holds mailc's bytes;
//! 5. *stage* every new file as a temporary file in its target's folder:
//!    written, given its mode (0600 secret, 0644 other), fsynced (several
//!    at once: concurrent fsyncs share journal commits);
//! 6. rename each into place (atomic on POSIX), then fsync each folder;
//! 7. delete the files the spec no longer produces (only managed ones:
//!    the plan never lists others), removing folders this leaves empty;
//! 8. write the final manifest: exactly the new files.
//!
//! Each manifest write is itself temp + fsync + rename + folder fsync.
//! A [`Step`] hook runs after each durable step; tests stop the apply there
//! as a crash would.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use tempfile::TempPath;
use thiserror::Error;

use super::current::{self, Current, Drift, ScanError};
use super::manifest;
use super::path;
use super::{Action, Plan, Summary};

/// The lock file in `--out`.
pub const LOCK_FILE: &str = ".mailc.lock";

/// Temporary files in `--out` start with this.
pub const TMP_PREFIX: &str = ".mailc-tmp.";

/// How many files are staged at once.
const STAGING_THREADS: usize = 8;

/// A point of an apply after which a test may stop it, as a crash would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// The manifest now lists the old and the new files.
    Claimed,
    /// Every new file sits, synced, in a temporary file next to its target.
    Staged,
    /// One file was renamed into place.
    Written(&'a str),
    /// The folders of the written files were synced.
    Synced,
    /// One file was deleted.
    Deleted(&'a str),
    /// The manifest lists exactly the new files.
    Done,
}

#[derive(Debug, Error)]
pub enum ApplyError {
    #[error("another `mailc apply` is writing to `{}`", .0.display())]
    Locked(PathBuf),
    #[error(
        "`{}` changed since the plan was made: {}",
        out.display(),
        drift.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    Drift { out: PathBuf, drift: Vec<Drift> },
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error("cannot {what} `{}`: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("staging the new files failed unexpectedly; nothing was written")]
    Staging,
    #[error("the apply was stopped after {0}")]
    Interrupted(String),
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> ApplyError + 'a {
    move |source| ApplyError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// Runs `hook` after a step; a `Break` stops the apply there.
fn step(hook: &mut dyn FnMut(Step<'_>) -> ControlFlow<()>, s: Step<'_>) -> Result<(), ApplyError> {
    match hook(s) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(ApplyError::Interrupted(format!("{s:?}"))),
    }
}

/// Writes `plan` into `out`. A plan with nothing to do and an up-to-date
/// manifest touches nothing (not even creating `out`).
pub fn apply(
    plan: &Plan,
    out: &Path,
    hook: &mut dyn FnMut(Step<'_>) -> ControlFlow<()>,
) -> Result<Summary, ApplyError> {
    let summary = plan.summary();
    if plan.is_empty() && !plan.manifest_stale() {
        return Ok(summary);
    }
    let mut dirs = Dirs::default();
    dirs.ensure(out, out)?;
    dirs.sync()?;

    // 1. The lock, held until this function returns.
    let lock_path = out.join(LOCK_FILE);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_err("open the lock file", &lock_path))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Err(ApplyError::Locked(out.to_path_buf())),
        Err(TryLockError::Error(e)) => return Err(io_err("lock", &lock_path)(e)),
    }

    // 2. Nothing moved since the plan was made.
    let paths = plan
        .expected
        .keys()
        .map(String::as_str)
        .filter(|p| *p != manifest::FILE_NAME);
    let now = Current::scan(out, paths)?;
    let drift = current::drift(&plan.expected, &now.stamps());
    if !drift.is_empty() {
        return Err(ApplyError::Drift {
            out: out.to_path_buf(),
            drift,
        });
    }

    // 3. Leftovers of a killed apply.
    remove_temporaries(out, plan)?;

    // 4. Claim the files to add. A person's file the plan overwrites is
    //    claimed only once overwritten (at the end): were the apply killed
    //    before, it must stay theirs.
    let mut claim = plan.managed_before.clone();
    claim.extend(
        plan.changes
            .iter()
            .filter(|c| c.action == Action::Add)
            .map(|c| c.path.clone()),
    );
    if claim != plan.managed_before {
        write_manifest(out, &claim)?;
        step(hook, Step::Claimed)?;
    }

    // 5. Stage.
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for c in &plan.changes {
        let Some(new) = &c.new else { continue };
        path::check(&c.path).map_err(ScanError::from)?;
        let target = path::join(out, &c.path);
        let dir = target.parent().unwrap_or(out).to_path_buf();
        dirs.ensure(out, &dir)?;
        jobs.push(Job {
            dir,
            target,
            rel: &c.path,
            bytes: &new.bytes,
            mode: new.mode,
        });
    }
    dirs.sync()?;
    let staged = stage_all(&jobs)?;
    if !staged.is_empty() {
        step(hook, Step::Staged)?;
    }

    // 6. Rename into place, then make the renames durable.
    let mut touched = BTreeSet::new();
    for (tmp, Job { target, rel, .. }) in staged.into_iter().zip(&jobs) {
        tmp.persist(target)
            .map_err(|e| io_err("write", target)(e.error))?;
        touched.insert(target.parent().unwrap_or(out).to_path_buf());
        step(hook, Step::Written(rel))?;
    }
    if !touched.is_empty() {
        for dir in &touched {
            sync_dir(dir)?;
        }
        step(hook, Step::Synced)?;
    }

    // 7. Delete.
    let mut emptied = BTreeSet::new();
    for c in plan.changes.iter().filter(|c| c.new.is_none()) {
        path::check(&c.path).map_err(ScanError::from)?;
        let target = path::join(out, &c.path);
        match fs::remove_file(&target) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("delete", &target)(e)),
        }
        // Remove the folders this empties, up to (not including) `out`;
        // sync the first one left standing.
        let mut dir = target.parent();
        while let Some(d) = dir {
            if d == out || fs::remove_dir(d).is_err() {
                emptied.insert(d.to_path_buf());
                break;
            }
            dir = d.parent();
        }
        step(hook, Step::Deleted(&c.path))?;
    }
    for dir in &emptied {
        sync_dir(dir)?;
    }

    // 8. The final manifest.
    if plan.managed_after != claim {
        write_manifest(out, &plan.managed_after)?;
        step(hook, Step::Done)?;
    }
    drop(lock);
    Ok(summary)
}

/// One file to stage.
struct Job<'a> {
    dir: PathBuf,
    target: PathBuf,
    rel: &'a str,
    bytes: &'a [u8],
    mode: u32,
}

/// Stages every job, [`STAGING_THREADS`] at a time: concurrent fsyncs share
/// journal commits, which makes thousands of small files several times
/// faster to make durable than one after another. The result is in job
/// order; on any failure every staged file is removed again.
fn stage_all(jobs: &[Job<'_>]) -> Result<Vec<TempPath>, ApplyError> {
    let next = AtomicUsize::new(0);
    let threads = STAGING_THREADS.min(jobs.len());
    let mut done: Vec<(usize, Result<TempPath, ApplyError>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { break };
                        let r = stage(&job.dir, job.bytes, job.mode);
                        let failed = r.is_err();
                        mine.push((i, r));
                        if failed {
                            break;
                        }
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    let mut staged = Vec::with_capacity(jobs.len());
    for (_, r) in done {
        staged.push(r?);
    }
    if staged.len() != jobs.len() {
        return Err(ApplyError::Staging);
    }
    Ok(staged)
}

/// A synced temporary file next to the target, with the right mode.
fn stage(dir: &Path, bytes: &[u8], mode: u32) -> Result<TempPath, ApplyError> {
    let mut tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(dir)
        .map_err(io_err("create a temporary file in", dir))?;
    let path = tmp.path().to_path_buf();
    // Set explicitly: the creation mode is subject to the umask.
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .map_err(io_err("set the mode of", &path))?;
    tmp.write_all(bytes).map_err(io_err("write", &path))?;
    tmp.as_file().sync_all().map_err(io_err("sync", &path))?;
    Ok(tmp.into_temp_path())
}

/// Writes the manifest atomically and durably.
fn write_manifest(out: &Path, paths: &BTreeSet<String>) -> Result<(), ApplyError> {
    let target = out.join(manifest::FILE_NAME);
    let tmp = stage(out, &manifest::render(paths), 0o644)?;
    tmp.persist(&target)
        .map_err(|e| io_err("write", &target)(e.error))?;
    sync_dir(out)
}

fn sync_dir(dir: &Path) -> Result<(), ApplyError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("sync the folder", dir))
}

/// Removes `.mailc-tmp.*` files in `out` and in the folders of every file
/// mailc manages or writes: only a killed apply leaves them, and the lock is
/// held.
fn remove_temporaries(out: &Path, plan: &Plan) -> Result<(), ApplyError> {
    let mut folders: BTreeSet<PathBuf> = BTreeSet::from([out.to_path_buf()]);
    let paths = plan
        .managed_before
        .iter()
        .chain(&plan.managed_after)
        .chain(plan.changes.iter().map(|c| &c.path));
    for p in paths {
        if let Some(parent) = path::join(out, p).parent() {
            folders.insert(parent.to_path_buf());
        }
    }
    for dir in folders {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let is_tmp = entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(TMP_PREFIX));
            if is_tmp && entry.file_type().is_ok_and(|t| t.is_file()) {
                let p = entry.path();
                fs::remove_file(&p).map_err(io_err("remove the leftover", &p))?;
            }
        }
    }
    Ok(())
}

/// Creates folders as needed, remembering which parents must be synced so
/// that the new entries survive a crash.
#[derive(Default)]
struct Dirs {
    known: BTreeSet<PathBuf>,
    to_sync: BTreeSet<PathBuf>,
}

impl Dirs {
    fn ensure(&mut self, out: &Path, dir: &Path) -> Result<(), ApplyError> {
        if self.known.contains(dir) {
            return Ok(());
        }
        if !dir.is_dir() {
            let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
            match parent {
                Some(p) if dir != out => self.ensure(out, p)?,
                // `out`'s own parents are made as `mkdir -p` would.
                Some(p) => fs::create_dir_all(p).map_err(io_err("create the folder", p))?,
                None => {}
            }
            match fs::create_dir(dir) {
                Ok(()) => {
                    self.to_sync
                        .insert(parent.unwrap_or(Path::new(".")).to_path_buf());
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
                Err(e) => return Err(io_err("create the folder", dir)(e)),
            }
        }
        self.known.insert(dir.to_path_buf());
        Ok(())
    }

    fn sync(&mut self) -> Result<(), ApplyError> {
        for d in std::mem::take(&mut self.to_sync) {
            sync_dir(&d)?;
        }
        Ok(())
    }
}
