//! The queue on disk, `DATA/queue/`: per message `ID.eml` (the bytes to
//! send, never changed) and `ID.env` (the envelope and delivery state, JSON,
//! rewritten after every attempt). Both are written in `tmp/`, fsynced and
//! renamed in; the message first, then the envelope, each rename followed by
//! an fsync of the folder. An envelope is what makes a message queued: a
//! message file without one is an enqueue that never finished (removed at
//! start), so kill -9 at any moment leaves either nothing or a whole entry.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::Kind;
use crate::manifest::NextHop;

/// One recipient still to be delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub address: String,
    /// The last temporary failure, for the report if the message expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// A queued message's envelope and state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    /// The reverse path, empty for `<>` (after SRS, when applied).
    pub from: String,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_hop: Option<NextHop>,
    /// Unix seconds when it was queued.
    pub created: u64,
    /// Attempts made so far.
    pub attempts: u32,
    /// Unix seconds of the next attempt.
    pub next_attempt: u64,
    /// Recipients not yet delivered nor failed.
    pub recipients: Vec<Pending>,
}

/// Queued entries: id and envelope.
pub type Entries = Vec<(String, Queued)>;

#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    tmp: PathBuf,
    seq: AtomicU64,
}

/// A queue id: only `[0-9a-f-]`, so never a path.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

impl Spool {
    /// `data_dir/queue` and its `tmp/`, created if missing (mode 0700).
    pub fn open(data_dir: &Path) -> io::Result<Spool> {
        let dir = data_dir.join("queue");
        let tmp = dir.join("tmp");
        crate::serve::store::create_private_dir(&tmp)?;
        // Leftovers of writes cut short.
        for e in fs::read_dir(&tmp)? {
            let _ = fs::remove_file(e?.path());
        }
        Ok(Spool {
            dir,
            tmp,
            seq: AtomicU64::new(0),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn sync_dir(&self) -> io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }

    fn eml(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.eml"))
    }

    fn env(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.env"))
    }

    /// A new id: microseconds, process, sequence and randomness, in hex.
    fn new_id(&self) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let mut r = [0u8; 4];
        let _ = getrandom::fill(&mut r);
        format!(
            "{:013x}-{:x}-{:x}-{}",
            now.as_micros(),
            std::process::id(),
            self.seq.fetch_add(1, Ordering::Relaxed),
            r.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    }

    /// Stores a new entry durably and returns its id.
    pub fn add(&self, env: &Queued, message: &[u8]) -> io::Result<String> {
        let id = self.new_id();
        let tmp = self.tmp.join(format!("{id}.eml"));
        write_new(&tmp, message)?;
        fs::rename(&tmp, self.eml(&id))?;
        self.sync_dir()?;
        if let Err(e) = self.write_env(&id, env) {
            let _ = fs::remove_file(self.eml(&id));
            return Err(e);
        }
        Ok(id)
    }

    /// Replaces the envelope of `id` atomically and durably.
    pub fn write_env(&self, id: &str, env: &Queued) -> io::Result<()> {
        let json = serde_json::to_vec_pretty(env).map_err(io::Error::other)?;
        let tmp = self.tmp.join(format!("{id}.env"));
        write_new(&tmp, &json)?;
        fs::rename(&tmp, self.env(id))?;
        self.sync_dir()
    }

    pub fn read_env(&self, id: &str) -> io::Result<Queued> {
        let bytes = fs::read(self.env(id))?;
        serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    pub fn read_message(&self, id: &str) -> io::Result<Vec<u8>> {
        fs::read(self.eml(id))
    }

    /// Forgets `id`: the envelope first, so a crash in between leaves only
    /// a message file, cleaned up at the next start.
    pub fn remove(&self, id: &str) -> io::Result<()> {
        match fs::remove_file(self.env(id)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let _ = fs::remove_file(self.eml(id));
        self.sync_dir()
    }

    /// The ids of the queued entries (those with an envelope), oldest
    /// first. Read-only: safe while messages are being queued.
    pub fn ids(&self) -> io::Result<Vec<String>> {
        let mut ids = Vec::new();
        for e in fs::read_dir(&self.dir)? {
            let name = e?.file_name();
            if let Some(id) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".env"))
                .filter(|i| valid_id(i))
            {
                ids.push(id.to_string());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Every queued entry with its envelope, oldest first, and the spool
    /// cleaned up: only at start, before anything is queued. Message files
    /// without an envelope are removed; an unreadable envelope is moved
    /// aside to `ID.env.bad` and reported, never deleted.
    pub fn scan(&self) -> io::Result<(Entries, Vec<String>)> {
        let mut envs = Vec::new();
        let mut emls = Vec::new();
        for e in fs::read_dir(&self.dir)? {
            let name = e?.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(id) = name.strip_suffix(".env").filter(|i| valid_id(i)) {
                envs.push(id.to_string());
            } else if let Some(id) = name.strip_suffix(".eml").filter(|i| valid_id(i)) {
                emls.push(id.to_string());
            }
        }
        envs.sort();
        let mut out = Vec::new();
        let mut problems = Vec::new();
        for id in &envs {
            match self.read_env(id) {
                Ok(env) if self.eml(id).is_file() => out.push((id.clone(), env)),
                Ok(_) => {
                    problems.push(format!("queue entry {id} has lost its message; dropped"));
                    let _ = fs::remove_file(self.env(id));
                }
                Err(e) => {
                    problems.push(format!("queue entry {id} is unreadable ({e}); set aside"));
                    let _ = fs::rename(self.env(id), self.dir.join(format!("{id}.env.bad")));
                }
            }
        }
        for id in emls {
            if envs.binary_search(&id).is_err() {
                let _ = fs::remove_file(self.eml(&id));
            }
        }
        self.sync_dir()?;
        Ok((out, problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Queued {
        Queued {
            from: "a@example.com".into(),
            kind: Kind::Forward {
                domain: "example.com".into(),
            },
            next_hop: None,
            created: 1,
            attempts: 0,
            next_attempt: 1,
            recipients: vec![Pending {
                address: "b@example.net".into(),
                last_error: None,
            }],
        }
    }

    #[test]
    fn add_scan_update_remove() {
        let dir = tempfile::tempdir().unwrap();
        let s = Spool::open(dir.path()).unwrap();
        let id = s.add(&env(), b"Subject: x\r\n\r\nhi\r\n").unwrap();
        assert!(valid_id(&id));
        // A half-finished enqueue: a message without an envelope.
        fs::write(s.dir().join("0123-1-2-abcd.eml"), b"x").unwrap();
        let s = Spool::open(dir.path()).unwrap();
        let (all, problems) = s.scan().unwrap();
        assert!(problems.is_empty());
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].1, env());
        assert!(!s.dir().join("0123-1-2-abcd.eml").exists());
        let mut e = env();
        e.attempts = 3;
        s.write_env(&id, &e).unwrap();
        assert_eq!(s.read_env(&id).unwrap().attempts, 3);
        assert_eq!(s.read_message(&id).unwrap(), b"Subject: x\r\n\r\nhi\r\n");
        s.remove(&id).unwrap();
        assert!(s.scan().unwrap().0.is_empty());
    }

    #[test]
    fn ids_are_never_paths() {
        assert!(!valid_id("../x"));
        assert!(!valid_id(""));
        assert!(valid_id("0a-1-2-ff"));
    }
}
