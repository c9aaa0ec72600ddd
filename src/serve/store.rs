//! The mail store: one Maildir++ folder per user,
//! `DATA/mail/DOMAIN/LOCAL/` (INBOX in `cur/ new/ tmp/` there, other
//! mailboxes in `.NAME/`). Delivery is durable before it returns: the
//! message is written to `tmp/`, fsynced, renamed into `new/`, and `new/`
//! itself is fsynced — so a `250` sent after [`Store::deliver`] survives
//! kill -9 and power loss. The quota is measured beside this ([`super::quota`]),
//! the IMAP side (UIDs, flags) in [`super::imap`].

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The folder of all users' mail.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    seq: AtomicU64,
    /// Bumped on every delivery, so IDLE sessions look at once.
    changes: tokio::sync::watch::Sender<u64>,
}

impl Store {
    /// `data_dir/mail`, created if missing (mode 0700).
    pub fn open(data_dir: &Path) -> io::Result<Store> {
        let root = data_dir.join("mail");
        create_private_dir(&root)?;
        Ok(Store {
            root,
            seq: AtomicU64::new(0),
            changes: tokio::sync::watch::Sender::new(0),
        })
    }

    /// Changes whenever mail arrives (or an IMAP session adds some).
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Wakes the sessions waiting on [`Store::changes`].
    pub fn notify(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The Maildir++ root of `address` (`local@domain`, lowercase, as in the
    /// manifest's users). `None` for an address that could name a path
    /// outside the store.
    pub fn user_dir(&self, address: &str) -> Option<PathBuf> {
        let (local, domain) = address.rsplit_once('@')?;
        let safe = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && !s.contains('/')
                && !s.contains('\0')
                && !s.starts_with('.')
        };
        (safe(local) && safe(domain)).then(|| self.root.join(domain).join(local))
    }

    /// Puts `message` into the INBOX of `address`, durably. Blocking: call
    /// from `spawn_blocking`.
    pub fn deliver(&self, address: &str, message: &[u8]) -> io::Result<()> {
        let dir = self
            .user_dir(address)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "bad mailbox address"))?;
        self.deliver_to(&dir, message).map(|_| ())
    }

    /// Puts `message` into the Maildir at `dir` (created if missing),
    /// durably; returns the file's name in `new/`.
    pub fn deliver_to(&self, dir: &Path, message: &[u8]) -> io::Result<String> {
        let tmp = dir.join("tmp");
        let new = dir.join("new");
        if !new.is_dir() {
            for sub in ["tmp", "new", "cur"] {
                create_private_dir(&dir.join(sub))?;
            }
        }
        let name = self.unique_name(message.len());
        let tmp_path = tmp.join(&name);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode_private()
            .open(&tmp_path)?;
        f.write_all(message)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp_path, new.join(&name))?;
        File::open(&new)?.sync_all()?;
        self.notify();
        Ok(name)
    }

    /// `SECONDS.PPID_SEQ.mailc,S=SIZE`: unique per process and call.
    fn unique_name(&self, size: usize) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        format!(
            "{}.M{}P{}Q{seq}.mailc,S={size}",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id()
        )
    }
}

/// RFC 5321 §4.4: the `Return-Path:` line the delivering server adds, with
/// its CRLF.
pub fn return_path(from: &str) -> String {
    format!("Return-Path: <{}>\r\n", super::address::display(from))
}

/// Creates `dir` and its parents, mode 0700.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

trait PrivateMode {
    fn mode_private(&mut self) -> &mut Self;
}

impl PrivateMode for OpenOptions {
    fn mode_private(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.mode(0o600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivers_into_new_and_refuses_paths() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        s.deliver("alice@example.com", b"Subject: x\r\n\r\nhi\r\n")
            .unwrap();
        let new = dir.path().join("mail/example.com/alice/new");
        assert_eq!(fs::read_dir(new).unwrap().count(), 1);
        assert!(s.user_dir("../x@example.com").is_none());
        assert!(s.user_dir("a@..").is_none());
        assert!(s.user_dir("a/b@example.com").is_none());
    }
}
