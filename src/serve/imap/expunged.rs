//! Expunged messages that sessions may still read. An IMAP session is
//! told of another session's EXPUNGE only at its next command that may
//! report one (RFC 3501 §7.4.1); until then the message keeps its
//! sequence number there and a FETCH of it must still give its real
//! bytes (RFC 2180 §4.1.1). So an expunge moves the message's file from
//! `cur/` to the folder's `mailc-expunged/` instead of unlinking it, and
//! this registry unlinks it once every session that had the folder
//! selected at that moment has been told.
//!
//! The registry lives in the server's memory: after a restart no session
//! can still be waiting, so what `mailc-expunged/` holds and the registry
//! does not name is unlinked the next time the folder is selected, or its
//! user logs in ([`sweep`]). The uidlist no longer lists such a file, so
//! a crash at any point neither loses a kept message nor brings an
//! expunged one back.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Beside a folder's `cur/`: files expunged but maybe still read.
pub const DIR: &str = "mailc-expunged";

/// Files of one folder awaiting sessions, and the sessions watching it.
#[derive(Default)]
struct Watched {
    watchers: HashSet<u64>,
    /// A file in [`DIR`] and the sessions not yet told of its expunge.
    pending: Vec<(String, HashSet<u64>)>,
}

fn registry() -> MutexGuard<'static, HashMap<PathBuf, Watched>> {
    static REGISTRY: OnceLock<Mutex<HashMap<PathBuf, Watched>>> = OnceLock::new();
    REGISTRY
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn unlink(dir: &Path, file: &str) {
    let _ = fs::remove_file(dir.join(DIR).join(file));
}

/// One session's selection of a folder, for as long as it lasts.
#[derive(Debug)]
pub struct Watch {
    dir: PathBuf,
    id: u64,
}

impl Watch {
    /// Starts watching the folder at `dir`, first unlinking what its
    /// [`DIR`] holds that no session waits for. Call with the account's
    /// lock held.
    pub fn new(dir: &Path) -> Watch {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut reg = registry();
        sweep_locked(&reg, dir);
        reg.entry(dir.to_path_buf())
            .or_default()
            .watchers
            .insert(id);
        Watch {
            dir: dir.to_path_buf(),
            id,
        }
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// The session has dropped every message the uidlist no longer lists
    /// from its view. Call with the account's lock held, together with the
    /// read of the uidlist that view comes from.
    pub fn told(&self) {
        let mut reg = registry();
        release(&mut reg, &self.dir, self.id, false);
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let mut reg = registry();
        release(&mut reg, &self.dir, self.id, true);
    }
}

/// Takes session `id` off the folder's waiting lists (and its watchers
/// when `leaving`), unlinking the files nobody waits for any more.
fn release(reg: &mut HashMap<PathBuf, Watched>, dir: &Path, id: u64, leaving: bool) {
    let Some(w) = reg.get_mut(dir) else {
        return;
    };
    if leaving {
        w.watchers.remove(&id);
    }
    w.pending.retain_mut(|(file, waiting)| {
        waiting.remove(&id);
        if waiting.is_empty() {
            unlink(dir, file);
        }
        !waiting.is_empty()
    });
    if w.watchers.is_empty() && w.pending.is_empty() {
        reg.remove(dir);
    }
}

/// `files`, just moved into the folder's [`DIR`] and no longer in its
/// uidlist: unlinked now when no session but `by` (the one expunging, if
/// any) has the folder selected, else once each has been told. Call with
/// the account's lock held.
pub fn defer(dir: &Path, files: Vec<String>, by: Option<u64>) {
    let mut reg = registry();
    let waiting: HashSet<u64> = reg
        .get(dir)
        .map(|w| {
            w.watchers
                .iter()
                .copied()
                .filter(|&id| Some(id) != by)
                .collect()
        })
        .unwrap_or_default();
    if waiting.is_empty() {
        for f in &files {
            unlink(dir, f);
        }
        return;
    }
    let w = reg.entry(dir.to_path_buf()).or_default();
    w.pending
        .extend(files.into_iter().map(|f| (f, waiting.clone())));
}

/// Unlinks what the folder's [`DIR`] holds that no session waits for:
/// the unlinks a restart (or a crash) left undone. Call with the
/// account's lock held.
pub fn sweep(dir: &Path) {
    let reg = registry();
    sweep_locked(&reg, dir);
}

fn sweep_locked(reg: &HashMap<PathBuf, Watched>, dir: &Path) {
    let Ok(entries) = fs::read_dir(dir.join(DIR)) else {
        return;
    };
    let kept: HashSet<&str> = reg
        .get(dir)
        .map(|w| w.pending.iter().map(|(f, _)| f.as_str()).collect())
        .unwrap_or_default();
    for e in entries.flatten() {
        let name = e.file_name();
        if name.to_str().is_none_or(|n| !kept.contains(n)) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// A message file of the folder at `dir`: in `cur/`, or expunged and
/// kept for the sessions not yet told ([`DIR`]).
pub fn read(dir: &Path, file: &str) -> io::Result<Vec<u8>> {
    match fs::read(dir.join("cur").join(file)) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => fs::read(dir.join(DIR).join(file)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(dir: &Path, name: &str) {
        fs::create_dir_all(dir.join(DIR)).unwrap();
        fs::write(dir.join(DIR).join(name), name).unwrap();
    }

    #[test]
    fn a_file_waits_for_every_other_watcher() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let a = Watch::new(dir);
        let b = Watch::new(dir);
        let c = Watch::new(dir);
        put(dir, "m1");
        defer(dir, vec!["m1".into()], Some(a.id()));
        assert_eq!(read(dir, "m1").unwrap(), b"m1");
        b.told();
        assert!(dir.join(DIR).join("m1").exists(), "c was not told yet");
        // A new selection does not sweep a file someone waits for.
        let d = Watch::new(dir);
        assert!(dir.join(DIR).join("m1").exists());
        drop(c);
        assert!(!dir.join(DIR).join("m1").exists());
        drop((a, b, d));
        assert!(registry().get(dir).is_none());
    }

    #[test]
    fn nobody_watching_unlinks_at_once_and_leftovers_are_swept() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        put(dir, "m1");
        defer(dir, vec!["m1".into()], None);
        assert!(!dir.join(DIR).join("m1").exists());
        let a = Watch::new(dir);
        put(dir, "m2");
        defer(dir, vec!["m2".into()], Some(a.id()));
        assert!(
            !dir.join(DIR).join("m2").exists(),
            "only the expunger watched"
        );
        // Left by a crash: nobody waits for it.
        put(dir, "m3");
        sweep(dir);
        assert!(!dir.join(DIR).join("m3").exists());
        assert!(read(dir, "m3").is_err());
    }
}
