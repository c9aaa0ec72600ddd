//! The autoresponder's record of whom it answered: one file per user,
//! `DATA/vacation/DOMAIN/LOCAL`, a line `SECONDS SENDER` per reply. The line
//! is written and fsynced before the reply is queued, so a restart or a
//! kill -9 never makes it answer one sender twice within `days` (a crash
//! between the two loses a reply rather than sending a second one).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::serve::imap::maildir::write_atomically;
use crate::serve::store::create_private_dir;

/// A record file larger than this is rewritten without expired entries.
const COMPACT_BYTES: u64 = 256 * 1024;

/// The records of every user of one server.
#[derive(Debug)]
pub struct Records {
    dir: PathBuf,
    /// One writer at a time: two deliveries to one user must not both
    /// decide to answer the same sender.
    lock: Mutex<()>,
}

impl Records {
    /// `data_dir/vacation`, created (mode 0700) when first needed.
    pub fn new(data_dir: &Path) -> Records {
        Records {
            dir: data_dir.join("vacation"),
            lock: Mutex::new(()),
        }
    }

    fn file(&self, user: &str) -> Option<PathBuf> {
        let (local, domain) = user.rsplit_once('@')?;
        let safe = |s: &str| !s.is_empty() && !s.starts_with('.') && !s.contains(['/', '\0']);
        (safe(local) && safe(domain)).then(|| self.dir.join(domain).join(local))
    }

    /// Whether `user` may answer `sender` now (`now`, seconds since the
    /// epoch): not if it did within `days`. When it may, the answer is
    /// recorded durably before this returns. Blocking.
    pub fn claim(&self, user: &str, sender: &str, days: u32, now: i64) -> io::Result<bool> {
        let Some(path) = self.file(user) else {
            return Ok(false);
        };
        let sender = sender.to_ascii_lowercase();
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let (entries, torn) = read(&path);
        let period = i64::from(days) * 86_400;
        if entries
            .get(&sender)
            .is_some_and(|&t| now - t < period && t <= now)
        {
            return Ok(false);
        }
        let parent = path.parent().unwrap_or(&self.dir);
        if !parent.is_dir() {
            create_private_dir(parent)?;
            File::open(&self.dir)?.sync_all()?;
            if let Some(top) = self.dir.parent() {
                File::open(top)?.sync_all()?;
            }
        }
        let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if size > COMPACT_BYTES {
            // Older than the longest period mailc allows: no longer needed.
            let keep = now - i64::from(crate::rules::MAX_DAYS) * 86_400;
            let mut text = String::new();
            for (s, t) in entries.iter().filter(|(_, t)| **t >= keep) {
                text.push_str(&format!("{t} {s}\n"));
            }
            text.push_str(&format!("{now} {sender}\n"));
            write_atomically(&path, text.as_bytes())?;
        } else {
            let mut f = OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(&path)?;
            let lead = if torn { "\n" } else { "" };
            f.write_all(format!("{lead}{now} {sender}\n").as_bytes())?;
            f.sync_all()?;
        }
        File::open(parent)?.sync_all()?;
        Ok(true)
    }
}

/// The latest answer per sender, and whether the file ends in a line cut
/// short by a crash (lines that do not read are skipped).
fn read(path: &Path) -> (BTreeMap<String, i64>, bool) {
    let mut out = BTreeMap::new();
    let Ok(text) = fs::read_to_string(path) else {
        return (out, false);
    };
    let torn = !text.is_empty() && !text.ends_with('\n');
    for line in text.lines() {
        let Some((t, s)) = line.split_once(' ') else {
            continue;
        };
        let Ok(t) = t.parse::<i64>() else { continue };
        let e = out.entry(s.to_string()).or_insert(t);
        *e = (*e).max(t);
    }
    (out, torn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_once_per_period_and_remembers_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        let r = Records::new(dir.path());
        let day = 86_400;
        assert!(r.claim("bob@example.com", "A@x.example", 7, 1000).unwrap());
        assert!(
            !r.claim("bob@example.com", "a@x.example", 7, 1000 + 6 * day)
                .unwrap()
        );
        assert!(r.claim("bob@example.com", "b@x.example", 7, 1000).unwrap());
        assert!(
            r.claim("carol@example.com", "a@x.example", 7, 1000)
                .unwrap()
        );
        drop(r);
        let r = Records::new(dir.path());
        assert!(!r.claim("bob@example.com", "a@x.example", 7, 2000).unwrap());
        assert!(
            r.claim("bob@example.com", "a@x.example", 7, 1000 + 7 * day)
                .unwrap()
        );
        // A torn last line is ignored.
        let f = dir.path().join("vacation/example.com/bob");
        let mut text = fs::read_to_string(&f).unwrap();
        text.push_str("12");
        fs::write(&f, text).unwrap();
        assert!(!r.claim("bob@example.com", "b@x.example", 7, 2000).unwrap());
        assert!(r.claim("bob@example.com", "c@x.example", 7, 2000).unwrap());
        assert!(!r.claim("bob@example.com", "c@x.example", 7, 2001).unwrap());
        assert!(!r.claim("../x@example.com", "a@x.example", 7, 1).unwrap());
    }
}
