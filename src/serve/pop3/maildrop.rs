//! A POP3 session's maildrop: the user's INBOX in the Maildir store IMAP
//! reads ([`crate::serve::imap::maildir`]), as it was at login (RFC 1939
//! §5: messages arriving later wait for the next session), held by the
//! session's exclusive lock, with deletions applied only at QUIT.
//!
//! - **Lock** (RFC 1939 §4): `mailc-pop3.lock` in the user's folder, taken
//!   without waiting for the whole session; a second POP3 session of the
//!   user is refused with `[IN-USE]` (RFC 2449 §8.1.1). IMAP sessions go
//!   on beside it: each store operation takes the account's own lock, as
//!   IMAP's do.
//! - **UIDL**: the message's IMAP UID and the INBOX's UIDVALIDITY, eight
//!   lowercase hex digits each (as Dovecot's `%08Xu%08Xv`): the uidlist
//!   keeps both across restarts, and IMAP shows the same numbers.
//! - **DELE** marks; [`Maildrop::commit`] removes the marked messages at
//!   QUIT (the UPDATE state). A session that ends otherwise removes
//!   nothing.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::serve::imap::maildir::{Account, Folder, Name};

/// The session's lock on the maildrop, next to the account's own.
const POP3_LOCK: &str = "mailc-pop3.lock";

/// One message as the session numbers it.
#[derive(Clone, Debug)]
pub struct Message {
    pub uid: u32,
    /// Octets as sent: CRLF line ends, before dot-stuffing.
    pub size: u64,
    pub deleted: bool,
}

/// Why the maildrop cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the maildrop is in use by another POP3 session")]
    InUse,
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// The maildrop of one logged-in session.
pub struct Maildrop {
    account: Account,
    /// Held until the session ends (dropped: unlocked by the system too).
    _lock: File,
    pub uidvalidity: u32,
    /// Message `n` is `messages[n - 1]`.
    pub messages: Vec<Message>,
}

impl Maildrop {
    /// Takes the POP3 lock of the user's folder `dir`, then the INBOX as it
    /// is now. Blocking.
    pub fn open(dir: &Path) -> Result<Maildrop, OpenError> {
        let account = Account::new(dir.to_path_buf());
        // Creates the Maildir++ root the lock file lives in.
        drop(account.lock()?);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(dir.join(POP3_LOCK))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(OpenError::InUse),
            Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
        }
        let folder = {
            let _l = account.lock()?;
            Folder::open(&account, &Name::inbox()).map_err(refusal)?
        };
        Ok(Maildrop {
            account,
            _lock: lock,
            uidvalidity: folder.uidvalidity,
            messages: folder
                .entries
                .iter()
                .map(|e| Message {
                    uid: e.uid,
                    size: e.size,
                    deleted: false,
                })
                .collect(),
        })
    }

    /// Message `n` (1-based) unless it is marked deleted.
    pub fn get(&self, n: u32) -> Option<&Message> {
        let i = usize::try_from(n).ok()?.checked_sub(1)?;
        self.messages.get(i).filter(|m| !m.deleted)
    }

    /// The unique id of a message (RFC 1939 §7).
    pub fn uidl(&self, m: &Message) -> String {
        format!("{:08x}{:08x}", m.uid, self.uidvalidity)
    }

    /// The live messages' count and octets (STAT).
    pub fn stat(&self) -> (usize, u64) {
        self.messages
            .iter()
            .filter(|m| !m.deleted)
            .fold((0, 0), |(n, o), m| (n + 1, o + m.size))
    }

    /// A message's bytes with CRLF line ends; `None` when IMAP removed it
    /// meanwhile. With `seen`, it is marked `\Seen` (RETR, as Dovecot
    /// does; TOP leaves it unread). Blocking.
    pub fn read(&self, uid: u32, seen: bool) -> io::Result<Option<Vec<u8>>> {
        let _l = self.account.lock()?;
        let mut folder = Folder::open(&self.account, &Name::inbox()).map_err(refusal)?;
        let Some(e) = folder.find(uid).cloned() else {
            return Ok(None);
        };
        let bytes = match folder.read(&e) {
            Ok(b) => b,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        if seen && !e.flags.contains("\\Seen") {
            let mut flags = e.flags.clone();
            flags.insert("\\Seen".to_string());
            if folder.set_flags(uid, flags) {
                folder.save()?;
            }
        }
        Ok(Some(bytes))
    }

    /// UPDATE (RFC 1939 §6): removes the messages marked deleted, durably
    /// (files, then the uidlist replaced atomically). Blocking.
    pub fn commit(&self) -> io::Result<usize> {
        let uids: BTreeSet<u32> = self
            .messages
            .iter()
            .filter(|m| m.deleted)
            .map(|m| m.uid)
            .collect();
        if uids.is_empty() {
            return Ok(0);
        }
        let _l = self.account.lock()?;
        let mut folder = Folder::open(&self.account, &Name::inbox()).map_err(refusal)?;
        folder.remove(&uids)?;
        Ok(uids.len())
    }
}

fn refusal(r: crate::serve::imap::maildir::Refusal) -> io::Error {
    io::Error::other(r.to_string())
}
