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
//! 4. *claim*: write the managed list listing the old files and the ones to add,
//!    so a file written below is never forgotten (nor later mistaken for a
//!    person's file); a person's file the plan overwrites is claimed only
//!    in step 8, once it holds mailc's bytes;
//! 5. *stage* every new file as a temporary file in its target's folder:
//!    written, given its mode (0600 secret, 0644 other), fsynced (several
//!    at once: concurrent fsyncs share journal commits);
//! 6. rename each into place (atomic on POSIX), then fsync each folder;
//! 7. delete the files the spec no longer produces (only managed ones:
//!    the plan never lists others), removing folders this leaves empty;
//! 8. write the final managed list: exactly the new files.
//!
//! Each write of the managed list is itself temp + fsync + rename + folder fsync.
//! A [`Step`] hook runs after each durable step; tests stop the apply there
//! as a crash would.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, TryLockError};
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use thiserror::Error;

use super::current::{self, Current, Drift, ScanError};
use super::managed;
use super::path;
use super::tree::{self, Folder, Tree, TreeError};
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
    /// The managed list now lists the old and the new files.
    Claimed,
    /// Every new file sits, synced, in a temporary file next to its target.
    Staged,
    /// One file was renamed into place.
    Written(&'a str),
    /// The folders of the written files were synced.
    Synced,
    /// One file was deleted.
    Deleted(&'a str),
    /// The managed list lists exactly the new files.
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
    #[error(transparent)]
    Tree(#[from] TreeError),
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

impl ApplyError {
    /// The fix, for the command layer's `help:` line.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            ApplyError::Scan(e) => e.help(),
            ApplyError::Tree(e) => e.help(),
            _ => None,
        }
    }
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
/// managed list touches nothing (not even creating `out`). Every folder below
/// `out` is reached through [`Tree`]: a symbolic link there is refused,
/// never followed.
pub fn apply(
    plan: &Plan,
    out: &Path,
    hook: &mut dyn FnMut(Step<'_>) -> ControlFlow<()>,
) -> Result<Summary, ApplyError> {
    let summary = plan.summary();
    if plan.is_empty() && !plan.managed_list_stale() {
        return Ok(summary);
    }
    let mut tree = Tree::new(out);
    let root = tree.folder_or_create("")?;

    // 1. The lock, held until this function returns.
    let lock = root.open_lock(LOCK_FILE)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Err(ApplyError::Locked(out.to_path_buf())),
        Err(TryLockError::Error(e)) => return Err(io_err("lock", &out.join(LOCK_FILE))(e)),
    }

    // 2. Nothing moved since the plan was made.
    let paths = plan
        .expected
        .keys()
        .map(String::as_str)
        .filter(|p| *p != managed::FILE_NAME);
    let now = Current::scan(out, paths)?;
    let drift = current::drift(&plan.expected, &now.stamps());
    if !drift.is_empty() {
        return Err(ApplyError::Drift {
            out: out.to_path_buf(),
            drift,
        });
    }

    // 3. Leftovers of a killed apply.
    remove_temporaries(&mut tree, plan)?;

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
        write_managed_list(&root, &claim)?;
        step(hook, Step::Claimed)?;
    }

    // 5. Stage.
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for c in &plan.changes {
        let Some(new) = &c.new else { continue };
        path::check(&c.path).map_err(ScanError::from)?;
        let (dir, name) = tree::split(&c.path);
        jobs.push(Job {
            folder: tree.folder_or_create(dir)?,
            dir,
            name,
            rel: &c.path,
            bytes: &new.bytes,
            mode: new.mode,
        });
    }
    tree.sync_made()?;
    let staged = stage_all(&jobs)?;
    if !staged.is_empty() {
        step(hook, Step::Staged)?;
    }

    // 6. Rename into place, then make the renames durable.
    let mut touched: BTreeMap<&str, Arc<Folder>> = BTreeMap::new();
    for (tmp, job) in staged.into_iter().zip(&jobs) {
        tmp.persist(job.name)?;
        touched.insert(job.dir, job.folder.clone());
        step(hook, Step::Written(job.rel))?;
    }
    if !touched.is_empty() {
        for folder in touched.values() {
            folder.sync()?;
        }
        step(hook, Step::Synced)?;
    }
    drop(touched);
    drop(jobs);

    // 7. Delete.
    let mut emptied = BTreeSet::new();
    for c in plan.changes.iter().filter(|c| c.new.is_none()) {
        path::check(&c.path).map_err(ScanError::from)?;
        let (mut dir, name) = tree::split(&c.path);
        if let Some(folder) = tree.folder(dir)? {
            folder.remove_file(name)?;
        }
        // Remove the folders this empties, up to (not including) `out`;
        // sync the first one left standing.
        loop {
            if dir.is_empty() {
                emptied.insert(dir);
                break;
            }
            let (parent, name) = tree::split(dir);
            let removed = match tree.folder(parent)? {
                Some(p) => p.remove_empty(name),
                None => false,
            };
            if !removed {
                emptied.insert(dir);
                break;
            }
            tree.forget_below(dir);
            dir = parent;
        }
        step(hook, Step::Deleted(&c.path))?;
    }
    for dir in emptied {
        if let Some(f) = tree.folder(dir)? {
            f.sync()?;
        }
    }

    // 8. The final managed list.
    if plan.managed_after != claim {
        write_managed_list(&root, &plan.managed_after)?;
        step(hook, Step::Done)?;
    }
    drop(lock);
    Ok(summary)
}

/// One file to stage.
struct Job<'a> {
    folder: Arc<Folder>,
    /// The folder, relative to `--out`.
    dir: &'a str,
    /// The file's name in it.
    name: &'a str,
    rel: &'a str,
    bytes: &'a [u8],
    mode: u32,
}

/// A synced temporary file next to its target; removed again when dropped
/// unless persisted.
struct Staged {
    folder: Arc<Folder>,
    name: String,
    persisted: bool,
}

impl Staged {
    /// Renames it to `target` in the same folder.
    fn persist(mut self, target: &str) -> Result<(), ApplyError> {
        self.folder.rename(&self.name, target)?;
        self.persisted = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = self.folder.remove_file(&self.name);
        }
    }
}

/// Stages every job, [`STAGING_THREADS`] at a time: concurrent fsyncs share
/// journal commits, which makes thousands of small files several times
/// faster to make durable than one after another. The result is in job
/// order; on any failure every staged file is removed again.
fn stage_all(jobs: &[Job<'_>]) -> Result<Vec<Staged>, ApplyError> {
    let next = AtomicUsize::new(0);
    let threads = STAGING_THREADS.min(jobs.len());
    let mut done: Vec<(usize, Result<Staged, ApplyError>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { break };
                        let r = stage(&job.folder, job.bytes, job.mode);
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

/// A fresh `.mailc-tmp.*` name.
fn temp_name() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let mut r = [0u8; 6];
    let _ = getrandom::fill(&mut r);
    let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{TMP_PREFIX}{}.{}{hex}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A synced temporary file in `folder`, with the right mode.
fn stage(folder: &Arc<Folder>, bytes: &[u8], mode: u32) -> Result<Staged, ApplyError> {
    let name = temp_name();
    let mut file = folder.create_new(&name)?;
    let staged = Staged {
        folder: folder.clone(),
        name,
        persisted: false,
    };
    let path = folder.path().join(&staged.name);
    // Set explicitly: the creation mode is subject to the umask.
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(io_err("set the mode of", &path))?;
    file.write_all(bytes).map_err(io_err("write", &path))?;
    file.sync_all().map_err(io_err("sync", &path))?;
    Ok(staged)
}

/// Writes the managed list atomically and durably.
fn write_managed_list(root: &Arc<Folder>, paths: &BTreeSet<String>) -> Result<(), ApplyError> {
    let tmp = stage(root, &managed::render(paths), 0o644)?;
    tmp.persist(managed::FILE_NAME)?;
    Ok(root.sync()?)
}

/// Removes `.mailc-tmp.*` files in `out` and in the folders of every file
/// mailc manages or writes: only a killed apply leaves them, and the lock is
/// held.
fn remove_temporaries(tree: &mut Tree, plan: &Plan) -> Result<(), ApplyError> {
    let mut folders: BTreeSet<&str> = BTreeSet::from([""]);
    let paths = plan
        .managed_before
        .iter()
        .chain(&plan.managed_after)
        .chain(plan.changes.iter().map(|c| &c.path));
    for p in paths {
        if path::check(p).is_ok() {
            folders.insert(tree::split(p).0);
        }
    }
    for dir in folders {
        let Some(folder) = tree.folder(dir)? else {
            continue;
        };
        for name in folder.files()? {
            if name.starts_with(TMP_PREFIX) {
                folder.remove_file(&name)?;
            }
        }
    }
    Ok(())
}
