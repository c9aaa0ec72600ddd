//! One user's mailboxes on disk, as IMAP sees them: the Maildir++ folders
//! under the user's root (INBOX is the root itself, `Work.Old` is
//! `.Work.Old/`), and beside each folder's `cur/` a `mailc-uidlist` file
//! holding UIDVALIDITY, UIDNEXT, the highest MODSEQ and one line per message
//! (UID, internal date, size, file name, flags, MODSEQ). UIDs are given once
//! and kept in that file, so they and UIDVALIDITY survive restarts (RFC 3501
//! §2.3.1.1); so do the mod-sequences of CONDSTORE (RFC 7162 §3.1.1),
//! written in the same atomic replace as the change they count.
//!
//! Every function here is blocking and must be called with the account's
//! lock held ([`Account::lock`]): one lock per user, taken by every session
//! of that user, so concurrent sessions never see half a change.
//!
//! Kept whole (under 900 lines without its tests): the names, the
//! account's folders and the uidlist's reader, writer and every change
//! that must be atomic with it are one format under one lock rule, and
//! read best side by side.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::expunged;
use crate::serve::store::create_private_dir;

/// The hierarchy delimiter: Maildir++'s own, so a mailbox name is its
/// folder's name on disk after a leading `.`.
pub const DELIMITER: char = '.';

/// The mailboxes every account has, with their special use (RFC 6154).
pub const SPECIAL_USE: [(&str, &str); 4] = [
    ("Drafts", "Drafts"),
    ("Junk", "Junk"),
    ("Sent", "Sent"),
    ("Trash", "Trash"),
];

const UIDLIST: &str = "mailc-uidlist";
const SUBSCRIPTIONS: &str = "mailc-subscriptions";
const LOCK: &str = "mailc-lock";
const LAST_UIDVALIDITY: &str = "mailc-uidvalidity";

/// A mailbox name that is safe to use: `INBOX`, or dot-separated
/// components of printable ASCII (modified UTF-7 is ASCII) with no `/`,
/// no `\`, no wildcard, and no empty component (so no `..` and no leading
/// or trailing dot).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Name(String);

impl Name {
    pub fn inbox() -> Name {
        Name("INBOX".into())
    }

    /// `None` for a name this server refuses.
    pub fn parse(raw: &[u8]) -> Option<Name> {
        let s = std::str::from_utf8(raw).ok()?;
        if s.eq_ignore_ascii_case("inbox") {
            return Some(Name::inbox());
        }
        let ok = !s.is_empty()
            && s.len() <= 200
            && s.bytes().all(|b| (0x20..0x7f).contains(&b))
            && !s.contains(['/', '\\', '*', '%', '"'])
            && !s.starts_with('~')
            && s.split(DELIMITER).all(|c| !c.is_empty() && c.trim() == c);
        ok.then(|| Name(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_inbox(&self) -> bool {
        self.0 == "INBOX"
    }

    /// One of the mailboxes every account has ([`SPECIAL_USE`]).
    pub fn is_special_use(&self) -> bool {
        SPECIAL_USE.iter().any(|(n, _)| *n == self.0)
    }

    /// The names above this one (`a`, `a.b` for `a.b.c`).
    pub fn parents(&self) -> Vec<Name> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(i) = self.0[at..].find(DELIMITER) {
            out.push(Name(self.0[..at + i].to_string()));
            at += i + 1;
        }
        out
    }
}

/// The flags of one message, by name (`\Seen`, `$Forwarded`).
pub type Flags = BTreeSet<String>;

/// One message of a folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub uid: u32,
    /// INTERNALDATE, seconds since the epoch.
    pub date: i64,
    /// RFC822.SIZE: bytes with CRLF line ends.
    pub size: u64,
    /// The file's name in `cur/`.
    pub file: String,
    pub flags: Flags,
    /// The mod-sequence of the message's last change (RFC 7162 §3.1.1).
    pub modseq: u64,
}

/// A folder's state as read from its uidlist, new mail taken in.
#[derive(Clone, Debug)]
pub struct Folder {
    pub dir: PathBuf,
    pub uidvalidity: u32,
    pub uidnext: u32,
    /// The first UID no session has seen as `\Recent` yet: the first
    /// session to select the mailbox after a message arrived gets it so
    /// (RFC 3501 §2.3.2).
    pub recent_from: u32,
    /// By UID, ascending.
    pub entries: Vec<Entry>,
    /// The highest mod-sequence given in the folder: every change (new
    /// message, flags, expunge) takes the next one.
    pub highestmodseq: u64,
}

/// One user's mail.
#[derive(Clone, Debug)]
pub struct Account {
    root: PathBuf,
}

/// Held while an account is read or changed.
pub struct Lock(File);

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// Why a mailbox operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("no such mailbox")]
    NoMailbox,
    #[error("mailbox already exists")]
    Exists,
    #[error("INBOX cannot be deleted")]
    Inbox,
    #[error("mailbox has children; delete them first")]
    HasChildren,
    #[error("quota exceeded")]
    OverQuota,
    #[error("too many mailboxes: {0} at most")]
    TooMany(usize),
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl Account {
    pub fn new(root: PathBuf) -> Account {
        Account { root }
    }

    /// The user's Maildir++ root (INBOX's folder).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Takes the user's lock (blocking), creating the Maildir++ root.
    pub fn lock(&self) -> io::Result<Lock> {
        for sub in ["cur", "new", "tmp"] {
            create_private_dir(&self.root.join(sub))?;
        }
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(self.root.join(LOCK))?;
        f.lock()?;
        Ok(Lock(f))
    }

    pub fn dir(&self, name: &Name) -> PathBuf {
        if name.is_inbox() {
            self.root.clone()
        } else {
            self.root.join(format!(".{}", name.0))
        }
    }

    pub fn exists(&self, name: &Name) -> bool {
        self.dir(name).join("cur").is_dir()
    }

    /// Every mailbox, INBOX first, then by name.
    pub fn list(&self) -> io::Result<Vec<Name>> {
        let mut names = BTreeSet::new();
        for e in fs::read_dir(&self.root)? {
            let e = e?;
            let file = e.file_name();
            let Some(s) = file.to_str() else { continue };
            if let Some(n) = s.strip_prefix('.').and_then(|s| Name::parse(s.as_bytes()))
                && !n.is_inbox()
                && e.path().join("cur").is_dir()
            {
                names.insert(n);
            }
        }
        let mut out = vec![Name::inbox()];
        out.extend(names);
        Ok(out)
    }

    /// Refuses when making `name` (and its missing parents) would give
    /// the account more than `cap` mailboxes, INBOX included and the
    /// special-use ones ([`SPECIAL_USE`]) not counted.
    pub fn room_for(&self, name: &Name, cap: usize) -> Result<(), Refusal> {
        let new = name
            .parents()
            .iter()
            .chain([name])
            .filter(|n| !self.exists(n) && !n.is_special_use())
            .count();
        let have = self.list()?.iter().filter(|n| !n.is_special_use()).count();
        if new > 0 && have + new > cap {
            return Err(Refusal::TooMany(cap));
        }
        Ok(())
    }

    pub fn create(&self, name: &Name) -> Result<(), Refusal> {
        if self.exists(name) {
            return Err(Refusal::Exists);
        }
        for n in name.parents().iter().chain([name]) {
            let dir = self.dir(n);
            for sub in ["cur", "new", "tmp"] {
                create_private_dir(&dir.join(sub))?;
            }
        }
        Ok(())
    }

    pub fn delete(&self, name: &Name) -> Result<(), Refusal> {
        if name.is_inbox() {
            return Err(Refusal::Inbox);
        }
        if !self.exists(name) {
            return Err(Refusal::NoMailbox);
        }
        let prefix = format!("{}{DELIMITER}", name.0);
        if self.list()?.iter().any(|n| n.0.starts_with(&prefix)) {
            return Err(Refusal::HasChildren);
        }
        // Out of sight in one rename, then removed.
        let gone = self.root.join(format!("mailc-deleted-{}", unique()));
        fs::rename(self.dir(name), &gone)?;
        fs::remove_dir_all(&gone)?;
        Ok(())
    }

    /// Renames a mailbox and the ones under it. INBOX is special (RFC 3501
    /// §6.3.5): its messages move to the new mailbox, INBOX stays, empty.
    pub fn rename(&self, from: &Name, to: &Name) -> Result<(), Refusal> {
        if !self.exists(from) {
            return Err(Refusal::NoMailbox);
        }
        if self.exists(to) || to.is_inbox() {
            return Err(Refusal::Exists);
        }
        if to.0.starts_with(&format!("{}{DELIMITER}", from.0)) {
            return Err(Refusal::Exists);
        }
        for p in to.parents() {
            if !self.exists(&p) {
                self.create(&p)?;
            }
        }
        if from.is_inbox() {
            self.create(to)?;
            let mut src = Folder::open(self, from)?;
            let mut dst = Folder::open(self, to)?;
            for e in &src.entries {
                let bytes = src.read(e)?;
                dst.add_unsaved(&bytes, e.flags.clone(), e.date)?;
            }
            dst.save()?;
            let all: BTreeSet<u32> = src.entries.iter().map(|e| e.uid).collect();
            src.remove(&all)?;
            return Ok(());
        }
        let prefix = format!("{}{DELIMITER}", from.0);
        let children: Vec<Name> = self
            .list()?
            .into_iter()
            .filter(|n| n.0.starts_with(&prefix))
            .collect();
        fs::rename(self.dir(from), self.dir(to))?;
        for c in children {
            let new = Name(format!("{}{}", to.0, &c.0[from.0.len()..]));
            fs::rename(self.dir(&c), self.dir(&new))?;
        }
        Ok(())
    }

    /// Unlinks the expunged files of every mailbox that no session waits
    /// for any more ([`expunged::sweep`]): what a restart left undone.
    pub fn sweep_expunged(&self) -> io::Result<()> {
        for n in self.list()? {
            expunged::sweep(&self.dir(&n));
        }
        Ok(())
    }

    /// Creates and subscribes the special-use mailboxes ([`SPECIAL_USE`])
    /// the account lacks, as the Dovecot configuration mailc writes does
    /// (`auto = subscribe`). They are not counted against the mailbox
    /// limit: every account has them.
    pub fn ensure_special_use(&self) -> Result<(), Refusal> {
        for (name, _) in SPECIAL_USE {
            let n = Name(name.to_string());
            if !self.exists(&n) {
                self.create(&n)?;
                self.subscribe(&n, true)?;
            }
        }
        Ok(())
    }

    pub fn subscriptions(&self) -> io::Result<BTreeSet<String>> {
        match fs::read_to_string(self.root.join(SUBSCRIPTIONS)) {
            Ok(s) => Ok(s.lines().map(str::to_string).collect()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(BTreeSet::new()),
            Err(e) => Err(e),
        }
    }

    pub fn subscribe(&self, name: &Name, on: bool) -> io::Result<()> {
        let mut subs = self.subscriptions()?;
        if on {
            subs.insert(name.0.clone());
        } else {
            subs.remove(&name.0);
        }
        let mut text = String::new();
        for s in subs {
            text.push_str(&s);
            text.push('\n');
        }
        write_atomically(&self.root.join(SUBSCRIPTIONS), text.as_bytes())
    }

    /// A UIDVALIDITY never given before in this account: the clock, or one
    /// more than the last one when the clock has not moved on.
    fn next_uidvalidity(&self) -> io::Result<u32> {
        let path = self.root.join(LAST_UIDVALIDITY);
        let last: u32 = fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let now = u32::try_from(now()).unwrap_or(u32::MAX - 1);
        let v = now.max(last.saturating_add(1)).max(1);
        write_atomically(&path, format!("{v}\n").as_bytes())?;
        Ok(v)
    }
}

impl Folder {
    /// Reads the folder's state, takes the mail in `new/` into `cur/` with
    /// fresh UIDs, forgets messages whose file is gone, and writes the
    /// state back when it changed. With `claim`, also returns the UIDs that
    /// are `\Recent` for the caller, who is then the only one to see them so.
    pub fn sync(
        account: &Account,
        name: &Name,
        claim: bool,
    ) -> Result<(Folder, Vec<u32>), Refusal> {
        let dir = account.dir(name);
        if !dir.join("cur").is_dir() {
            return Err(Refusal::NoMailbox);
        }
        let (mut folder, mut changed) = match fs::read_to_string(dir.join(UIDLIST)) {
            Ok(text) => (parse_uidlist(&dir, &text), false),
            Err(e) if e.kind() == io::ErrorKind::NotFound => (
                Folder {
                    dir: dir.clone(),
                    uidvalidity: account.next_uidvalidity()?,
                    uidnext: 1,
                    recent_from: 1,
                    entries: Vec::new(),
                    highestmodseq: 1,
                },
                true,
            ),
            Err(e) => return Err(e.into()),
        };
        for e in fs::read_dir(dir.join("new"))? {
            let e = e?;
            let Some(n) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if n.starts_with('.') {
                continue;
            }
            let target = if n.contains(':') {
                n.clone()
            } else {
                format!("{n}:2,")
            };
            fs::rename(e.path(), dir.join("cur").join(&target))?;
        }
        let known: BTreeMap<&str, usize> = folder
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.file.as_str(), i))
            .collect();
        let mut on_disk = BTreeSet::new();
        let mut unknown = Vec::new();
        for e in fs::read_dir(dir.join("cur"))? {
            let e = e?;
            let Some(n) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if n.starts_with('.') || n.contains(['\t', '\n']) {
                continue;
            }
            if !known.contains_key(n.as_str()) {
                unknown.push(n.clone());
            }
            on_disk.insert(n);
        }
        // A message the uidlist lists that is still in tmp/ was committed
        // by an APPEND of several messages ([`Folder::add_all`]) that did
        // not get to move it: its move is finished here.
        for e in &folder.entries {
            if !on_disk.contains(&e.file) {
                let staged = dir.join("tmp").join(&e.file);
                if staged.is_file() && fs::rename(&staged, dir.join("cur").join(&e.file)).is_ok() {
                    on_disk.insert(e.file.clone());
                }
            }
        }
        let before = folder.entries.len();
        folder.entries.retain(|e| on_disk.contains(&e.file));
        if folder.entries.len() != before {
            changed = true;
            folder.next_modseq();
        }
        // Oldest first, so UIDs follow arrival (names start with the time).
        unknown.sort();
        for n in unknown {
            let path = dir.join("cur").join(&n);
            let Ok(bytes) = fs::read(&path) else { continue };
            let date = fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or_else(now, |d| d.as_secs() as i64);
            let uid = folder.uidnext;
            folder.uidnext += 1;
            let modseq = folder.next_modseq();
            folder.entries.push(Entry {
                uid,
                date,
                size: crlf_len(&bytes),
                flags: flags_from_info(&n),
                file: n,
                modseq,
            });
            changed = true;
        }
        let mut recent = Vec::new();
        if claim {
            let from = folder.recent_from;
            recent.extend(folder.entries.iter().map(|e| e.uid).filter(|&u| u >= from));
            changed |= folder.recent_from != folder.uidnext;
            folder.recent_from = folder.uidnext;
        }
        if changed {
            folder.save()?;
        }
        Ok((folder, recent))
    }

    /// What tells, cheaply, that a folder may have changed: its uidlist's
    /// inode, modification time and length. Together with
    /// [`Folder::has_new`] it lets an idle session skip a full sync.
    pub fn stamp(dir: &Path) -> Option<(u64, SystemTime, u64)> {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(dir.join(UIDLIST)).ok()?;
        Some((m.ino(), m.modified().ok()?, m.len()))
    }

    /// Whether mail waits in `new/`.
    pub fn has_new(dir: &Path) -> bool {
        fs::read_dir(dir.join("new"))
            .map(|mut d| {
                d.any(|e| e.is_ok_and(|e| !e.file_name().as_encoded_bytes().starts_with(b".")))
            })
            .unwrap_or(false)
    }

    /// [`Folder::sync`] without the UIDs.
    pub fn open(account: &Account, name: &Name) -> Result<Folder, Refusal> {
        Folder::sync(account, name, false).map(|(f, _)| f)
    }

    /// Takes the next mod-sequence (for a change about to be saved).
    pub fn next_modseq(&mut self) -> u64 {
        self.highestmodseq += 1;
        self.highestmodseq
    }

    /// Sets a message's flags; a real change takes the next mod-sequence.
    /// Returns whether they changed.
    pub fn set_flags(&mut self, uid: u32, flags: Flags) -> bool {
        let Ok(i) = self.entries.binary_search_by_key(&uid, |e| e.uid) else {
            return false;
        };
        if self.entries[i].flags == flags {
            return false;
        }
        let modseq = self.next_modseq();
        let e = &mut self.entries[i];
        e.flags = flags;
        e.modseq = modseq;
        true
    }

    /// Writes the uidlist (temporary file, fsync, rename).
    pub fn save(&self) -> io::Result<()> {
        let mut text = format!(
            "mailc-uidlist 1 {} {} {} {}\n",
            self.uidvalidity, self.uidnext, self.recent_from, self.highestmodseq
        );
        for e in &self.entries {
            let flags: Vec<&str> = e.flags.iter().map(String::as_str).collect();
            text.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\n",
                e.uid,
                e.date,
                e.size,
                e.file,
                flags.join(" "),
                e.modseq
            ));
        }
        write_atomically(&self.dir.join(UIDLIST), text.as_bytes())
    }

    pub fn find(&self, uid: u32) -> Option<&Entry> {
        self.entries
            .binary_search_by_key(&uid, |e| e.uid)
            .ok()
            .map(|i| &self.entries[i])
    }

    pub fn find_mut(&mut self, uid: u32) -> Option<&mut Entry> {
        match self.entries.binary_search_by_key(&uid, |e| e.uid) {
            Ok(i) => Some(&mut self.entries[i]),
            Err(_) => None,
        }
    }

    /// The message's bytes, bare LFs made CRLF; an expunged message is
    /// read from where it is kept for the sessions not yet told.
    pub fn read(&self, e: &Entry) -> io::Result<Vec<u8>> {
        read_message(&self.dir, &e.file)
    }

    /// Stores a new message durably and gives it the next UID (saved).
    pub fn add(&mut self, message: &[u8], flags: Flags, date: i64) -> io::Result<u32> {
        let uid = self.add_unsaved(message, flags, date)?;
        self.save()?;
        Ok(uid)
    }

    /// [`Folder::add`] without writing the uidlist: for many messages in
    /// a row, followed by one [`Folder::save`].
    pub fn add_unsaved(&mut self, message: &[u8], flags: Flags, date: i64) -> io::Result<u32> {
        let name = format!("{}:2,", unique_name(message.len()));
        let tmp = self.dir.join("tmp").join(&name);
        create_private_dir(&self.dir.join("tmp"))?;
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(message)?;
        let when = UNIX_EPOCH + std::time::Duration::from_secs(date.max(0) as u64);
        let _ = f.set_modified(when);
        f.sync_all()?;
        drop(f);
        let cur = self.dir.join("cur");
        fs::rename(&tmp, cur.join(&name))?;
        File::open(&cur)?.sync_all()?;
        let uid = self.uidnext;
        self.uidnext += 1;
        let modseq = self.next_modseq();
        self.entries.push(Entry {
            uid,
            date,
            size: crlf_len(message),
            file: name,
            flags,
            modseq,
        });
        Ok(uid)
    }

    /// Adds several messages at once, all or none (RFC 3502 §6.3.11):
    /// each is written to `tmp/` and fsynced, then one uidlist naming them
    /// all is written (the commit), then they move to `cur/`. A crash
    /// before the commit leaves only files in `tmp/`, which no mailbox
    /// lists; one after it is finished by the next [`Folder::sync`].
    pub fn add_all(&mut self, messages: &[(&[u8], Flags, i64)]) -> io::Result<Vec<u32>> {
        let tmp = self.dir.join("tmp");
        create_private_dir(&tmp)?;
        let mut staged: Vec<String> = Vec::new();
        let forget = |staged: &[String]| {
            for n in staged {
                let _ = fs::remove_file(tmp.join(n));
            }
        };
        for (message, _, date) in messages {
            let name = format!("{}:2,", unique_name(message.len()));
            let written = (|| {
                let mut f = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(tmp.join(&name))?;
                f.write_all(message)?;
                let when = UNIX_EPOCH + std::time::Duration::from_secs((*date).max(0) as u64);
                let _ = f.set_modified(when);
                f.sync_all()
            })();
            staged.push(name);
            if let Err(e) = written {
                forget(&staged);
                return Err(e);
            }
        }
        if let Err(e) = File::open(&tmp).and_then(|d| d.sync_all()) {
            forget(&staged);
            return Err(e);
        }
        let (uidnext, highest, count) = (self.uidnext, self.highestmodseq, self.entries.len());
        let mut uids = Vec::new();
        for ((message, flags, date), name) in messages.iter().zip(&staged) {
            let uid = self.uidnext;
            self.uidnext += 1;
            let modseq = self.next_modseq();
            self.entries.push(Entry {
                uid,
                date: *date,
                size: crlf_len(message),
                file: name.clone(),
                flags: flags.clone(),
                modseq,
            });
            uids.push(uid);
        }
        if let Err(e) = self.save() {
            self.entries.truncate(count);
            (self.uidnext, self.highestmodseq) = (uidnext, highest);
            forget(&staged);
            return Err(e);
        }
        let cur = self.dir.join("cur");
        for name in &staged {
            // Committed: a move that fails now is finished by the next sync.
            let _ = fs::rename(tmp.join(name), cur.join(name));
        }
        File::open(&cur)?.sync_all()?;
        Ok(uids)
    }

    /// Removes the messages with these UIDs, by no session in particular
    /// ([`Folder::remove_by`]).
    pub fn remove(&mut self, uids: &BTreeSet<u32>) -> io::Result<()> {
        self.remove_by(uids, None)
    }

    /// Removes the messages with these UIDs: their files move out of
    /// `cur/` into `mailc-expunged/` (made durable), then the uidlist
    /// forgets them. The files stay readable until every session that had
    /// the folder selected, but `by`, has been told ([`expunged`]).
    pub fn remove_by(&mut self, uids: &BTreeSet<u32>, by: Option<u64>) -> io::Result<()> {
        let cur = self.dir.join("cur");
        let kept = self.dir.join(expunged::DIR);
        create_private_dir(&kept)?;
        let mut moved = Vec::new();
        for e in self.entries.iter().filter(|e| uids.contains(&e.uid)) {
            match fs::rename(cur.join(&e.file), kept.join(&e.file)) {
                Ok(()) => moved.push(e.file.clone()),
                Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
                _ => {}
            }
        }
        // The files are out of cur/ for good before the uidlist forgets
        // them: a crash cannot bring one back as new mail.
        File::open(&cur)?.sync_all()?;
        self.entries.retain(|e| !uids.contains(&e.uid));
        self.next_modseq();
        self.save()?;
        expunged::defer(&self.dir, moved, by);
        Ok(())
    }
}

fn parse_uidlist(dir: &Path, text: &str) -> Folder {
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
    let num = |i: usize| head.get(i).and_then(|s| s.parse::<u32>().ok());
    let mut f = Folder {
        dir: dir.to_path_buf(),
        uidvalidity: num(2).unwrap_or(1).max(1),
        uidnext: num(3).unwrap_or(1).max(1),
        recent_from: num(4).or(num(3)).unwrap_or(1).max(1),
        entries: Vec::new(),
        // A uidlist written before mod-sequences has none: 1 for all.
        highestmodseq: head
            .get(5)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(1)
            .max(1),
    };
    for line in lines {
        let c: Vec<&str> = line.splitn(6, '\t').collect();
        if c.len() < 4 {
            continue;
        }
        let (Ok(uid), Ok(date), Ok(size)) = (c[0].parse(), c[1].parse(), c[2].parse()) else {
            continue;
        };
        f.entries.push(Entry {
            uid,
            date,
            size,
            file: c[3].to_string(),
            flags: c
                .get(4)
                .map(|s| {
                    s.split(' ')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            modseq: c
                .get(5)
                .and_then(|s| s.trim().parse::<u64>().ok())
                .unwrap_or(1)
                .max(1),
        });
    }
    f.entries.sort_by_key(|e| e.uid);
    // Never behind a message's own (a hand-edited or older file).
    if let Some(m) = f.entries.iter().map(|e| e.modseq).max() {
        f.highestmodseq = f.highestmodseq.max(m);
    }
    f.entries.dedup_by_key(|e| e.uid);
    if let Some(last) = f.entries.last() {
        f.uidnext = f.uidnext.max(last.uid + 1);
    }
    f
}

/// Flags a Maildir file name carries in its info (`:2,FRS`).
fn flags_from_info(name: &str) -> Flags {
    let mut out = Flags::new();
    if let Some((_, info)) = name.rsplit_once(":2,") {
        for c in info.chars() {
            let f = match c {
                'S' => "\\Seen",
                'R' => "\\Answered",
                'F' => "\\Flagged",
                'T' => "\\Deleted",
                'D' => "\\Draft",
                _ => continue,
            };
            out.insert(f.to_string());
        }
    }
    out
}

/// A message of the folder at `dir`, bare LFs made CRLF: in `cur/`, or
/// expunged and kept for the sessions not yet told ([`expunged::read`]).
pub fn read_message(dir: &Path, file: &str) -> io::Result<Vec<u8>> {
    expunged::read(dir, file).map(to_crlf)
}

/// Length once every bare LF is CRLF.
pub fn crlf_len(bytes: &[u8]) -> u64 {
    let mut n = bytes.len() as u64;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' && (i == 0 || bytes[i - 1] != b'\r') {
            n += 1;
        }
    }
    n
}

pub fn to_crlf(bytes: Vec<u8>) -> Vec<u8> {
    if crlf_len(&bytes) == bytes.len() as u64 {
        return bytes;
    }
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' && (i == 0 || bytes[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Replaces `path` with `bytes` (0600) so that a crash leaves the old file
/// or the new one: written beside it under a unique name, fsynced, renamed
/// over it, and its folder fsynced.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", unique()));
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent() {
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{}.M{}P{}Q{}",
        d.as_secs(),
        d.subsec_micros(),
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

fn unique_name(size: usize) -> String {
    format!("{}.mailc,S={size}", unique())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(Name::parse(b"inbox"), Some(Name::inbox()));
        assert!(Name::parse(b"Work.Old").is_some());
        for bad in [
            &b".."[..],
            b"a..b",
            b".a",
            b"a.",
            b"/etc",
            b"a/b",
            b"a\x01",
            b"",
            b"*",
            b"~x",
        ] {
            assert_eq!(Name::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            Name::parse(b"a.b.c").unwrap().parents(),
            vec![Name("a".into()), Name("a.b".into())]
        );
    }

    #[test]
    fn uids_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let acct = Account::new(dir.path().join("u"));
        let _l = acct.lock().unwrap();
        fs::write(dir.path().join("u/new/1.a.x"), b"Subject: a\n\nhi\n").unwrap();
        let (f, given) = Folder::sync(&acct, &Name::inbox(), true).unwrap();
        assert_eq!(given, vec![1]);
        assert_eq!(f.entries[0].size, 18);
        fs::write(dir.path().join("u/new/2.a.x"), b"Subject: b\r\n\r\nhi\r\n").unwrap();
        let (g, given) = Folder::sync(&acct, &Name::inbox(), true).unwrap();
        assert_eq!(given, vec![2]);
        assert_eq!(g.uidvalidity, f.uidvalidity);
        assert_eq!(g.uidnext, 3);
        assert!(flags_from_info("x:2,FS").contains("\\Flagged"));
    }

    #[test]
    fn several_messages_commit_together() {
        let dir = tempfile::tempdir().unwrap();
        let acct = Account::new(dir.path().join("u"));
        let _l = acct.lock().unwrap();
        let (mut f, _) = Folder::sync(&acct, &Name::inbox(), false).unwrap();
        let msgs: [(&[u8], Flags, i64); 2] = [
            (b"Subject: a\r\n\r\na\r\n", Flags::new(), 1_700_000_000),
            (b"Subject: b\r\n\r\nb\r\n", Flags::new(), 1_700_000_001),
        ];
        assert_eq!(f.add_all(&msgs).unwrap(), vec![1, 2]);
        // A crash after the commit, before the second move: the next sync
        // finishes the move instead of forgetting the message.
        let name = f.entries[1].file.clone();
        fs::rename(
            dir.path().join("u/cur").join(&name),
            dir.path().join("u/tmp").join(&name),
        )
        .unwrap();
        let (g, _) = Folder::sync(&acct, &Name::inbox(), false).unwrap();
        assert_eq!(g.entries.iter().map(|e| e.uid).collect::<Vec<_>>(), [1, 2]);
        assert!(dir.path().join("u/cur").join(&name).is_file());
        // A crash before the commit leaves files in tmp/ that no sync takes.
        fs::write(dir.path().join("u/tmp/9.staged.x:2,"), b"x").unwrap();
        let (h, _) = Folder::sync(&acct, &Name::inbox(), false).unwrap();
        assert_eq!(h.entries.len(), 2);
    }

    #[test]
    fn an_expunged_file_is_kept_for_a_watcher_and_never_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let acct = Account::new(dir.path().join("u"));
        let _l = acct.lock().unwrap();
        let (mut f, _) = Folder::sync(&acct, &Name::inbox(), false).unwrap();
        let a = f.add(b"Subject: a\r\n\r\na\r\n", Flags::new(), 1).unwrap();
        f.add(b"Subject: b\r\n\r\nb\r\n", Flags::new(), 2).unwrap();
        let other = expunged::Watch::new(&f.dir);
        let gone = f.entries[0].clone();
        f.remove_by(&BTreeSet::from([a]), None).unwrap();
        assert_eq!(f.read(&gone).unwrap(), b"Subject: a\r\n\r\na\r\n");
        let (g, _) = Folder::sync(&acct, &Name::inbox(), false).unwrap();
        assert_eq!(g.entries.len(), 1, "not taken back as new mail");
        other.told();
        assert!(f.read(&gone).is_err());
        // A crash after the move, before the uidlist was written: the next
        // sync forgets the message, the next sweep unlinks the file.
        let e = g.entries[0].clone();
        fs::create_dir_all(g.dir.join(expunged::DIR)).unwrap();
        fs::rename(
            g.dir.join("cur").join(&e.file),
            g.dir.join(expunged::DIR).join(&e.file),
        )
        .unwrap();
        let (h, _) = Folder::sync(&acct, &Name::inbox(), false).unwrap();
        assert!(h.entries.is_empty());
        acct.sweep_expunged().unwrap();
        assert_eq!(fs::read_dir(g.dir.join(expunged::DIR)).unwrap().count(), 0);
    }
}
