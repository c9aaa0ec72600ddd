//! Sending limits counted per clock hour, durably: the counters `mailc
//! serve` keeps in its data folder and `mailc policy` keeps for Postfix.
//!
//! The window is the clock hour (UTC): every count starts again at :00.
//! Each event is appended to a journal as one line, `HOUR KIND KEY`
//! (`KIND` `m` for a message, `r` for a recipient; `KEY` a login address,
//! or `@DOMAIN` for a domain's total) and the file is fsynced before the
//! caller answers the client: a count that was answered survives a crash,
//! a power cut or `kill -9`. On opening, lines of another hour and a torn
//! last line are skipped; when the hour turns the file is emptied. Only
//! senders with a limit of that kind are written down.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::manifest::{SendKind, SendLimits};

/// The most a journal may hold when it is read: one hour of events of
/// every limited sender fits many times over.
const JOURNAL_BYTES: u64 = 256 << 20;

/// Who sends: a login and its domain, with their limits.
#[derive(Clone, Copy, Debug)]
pub struct Sender<'a> {
    /// The login, a lowercase address.
    pub login: &'a str,
    pub limits: SendLimits,
    /// The login's domain, lowercase.
    pub domain: &'a str,
    pub domain_limits: SendLimits,
}

/// The counts of the current hour, and the journal they are kept in.
pub struct Counters {
    path: PathBuf,
    file: File,
    hour: u64,
    counts: HashMap<(SendKind, String), u32>,
}

impl Counters {
    /// Opens (or makes) the journal at `path` and reads the counts of the
    /// hour of `now` (seconds since the Unix epoch) from it.
    pub fn open(path: &Path, now: u64) -> io::Result<Counters> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        let mut text = Vec::new();
        (&mut file).take(JOURNAL_BYTES).read_to_end(&mut text)?;
        let hour = now / 3600;
        let mut counts = HashMap::new();
        // A line without its newline was torn by a crash: not counted,
        // and ended so that the next line starts on its own.
        let whole = whole_lines(&text);
        if text.last().is_some_and(|&b| b != b'\n') {
            file.write_all(b"\n")?;
            file.sync_data()?;
        }
        for line in whole.split(|&b| b == b'\n') {
            let Ok(line) = std::str::from_utf8(line) else {
                continue;
            };
            let mut parts = line.split(' ');
            let (Some(h), Some(kind), Some(key), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let kind = match kind {
                "m" => SendKind::Messages,
                "r" => SendKind::Recipients,
                _ => continue,
            };
            if h.parse::<u64>().ok() == Some(hour) {
                *counts.entry((kind, key.to_string())).or_insert(0u32) += 1;
            }
        }
        Ok(Counters {
            path: path.to_path_buf(),
            file,
            hour,
            counts,
        })
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many `kind` `key` (a login, or `@DOMAIN`) has this hour.
    pub fn count(&self, kind: SendKind, key: &str) -> u32 {
        self.counts
            .get(&(kind, key.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// Counts one `kind` for `sender` when neither its own limit nor its
    /// domain's is reached, durably before returning `Ok(Ok(()))`; at a
    /// limit, the `450` refusal stating it, and nothing is counted.
    pub fn take(
        &mut self,
        now: u64,
        sender: &Sender<'_>,
        kind: SendKind,
    ) -> io::Result<Result<(), String>> {
        self.turn(now)?;
        let domain_key = format!("@{}", sender.domain);
        let mut keys = Vec::new();
        for (key, limits, domain) in [
            (sender.login, sender.limits, None),
            (
                domain_key.as_str(),
                sender.domain_limits,
                Some(sender.domain),
            ),
        ] {
            let Some(limit) = limits.of(kind) else {
                continue;
            };
            if self.count(kind, key) >= limit {
                return Ok(Err(crate::reply::send_limit(
                    sender.login,
                    kind.word(),
                    &limit.to_string(),
                    domain,
                )));
            }
            keys.push(key);
        }
        if keys.is_empty() {
            return Ok(Ok(()));
        }
        let tag = match kind {
            SendKind::Messages => "m",
            SendKind::Recipients => "r",
        };
        let mut lines = String::new();
        for key in &keys {
            lines.push_str(&format!("{} {tag} {key}\n", self.hour));
        }
        self.file.write_all(lines.as_bytes())?;
        self.file.sync_data()?;
        for key in keys {
            *self.counts.entry((kind, key.to_string())).or_insert(0) += 1;
        }
        Ok(Ok(()))
    }

    /// A new hour: every count starts again, and the journal is emptied.
    fn turn(&mut self, now: u64) -> io::Result<()> {
        let hour = now / 3600;
        if hour != self.hour {
            self.file.set_len(0)?;
            self.file.sync_all()?;
            self.counts.clear();
            self.hour = hour;
        }
        Ok(())
    }
}

/// The bytes before the last newline: the lines a crash left whole.
fn whole_lines(text: &[u8]) -> &[u8] {
    match text.iter().rposition(|&b| b == b'\n') {
        Some(i) => &text[..i],
        None => &[],
    }
}

/// A login's domain: what follows its last `@`.
pub fn domain_of(login: &str) -> &str {
    login.rsplit_once('@').map_or("", |(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(m: Option<u32>, r: Option<u32>) -> SendLimits {
        SendLimits {
            messages_per_hour: m,
            recipients_per_hour: r,
        }
    }

    #[test]
    fn a_mailbox_at_its_limit_is_refused_while_its_domain_still_sends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("counts");
        let now = 7200 * 1000 + 10;
        let mut c = Counters::open(&path, now).unwrap();
        let alice = Sender {
            login: "alice@example.com",
            limits: limits(Some(2), None),
            domain: "example.com",
            domain_limits: limits(Some(3), None),
        };
        let bob = Sender {
            login: "bob@example.com",
            limits: limits(Some(2), None),
            ..alice
        };
        assert_eq!(c.take(now, &alice, SendKind::Messages).unwrap(), Ok(()));
        assert_eq!(c.take(now, &alice, SendKind::Messages).unwrap(), Ok(()));
        let refused = c
            .take(now, &alice, SendKind::Messages)
            .unwrap()
            .unwrap_err();
        assert!(refused.starts_with("450 4.7.1 <alice@example.com>: sending limit reached: 2 messages per hour for this mailbox"), "{refused}");
        assert_eq!(c.take(now, &bob, SendKind::Messages).unwrap(), Ok(()));
        let refused = c.take(now, &bob, SendKind::Messages).unwrap().unwrap_err();
        assert!(
            refused.contains("3 messages per hour for the domain example.com"),
            "{refused}"
        );
        // Recipients are unlimited here: nothing is written for them.
        assert_eq!(c.take(now, &bob, SendKind::Recipients).unwrap(), Ok(()));

        // Reopened (a restart), the counts hold; a torn line is skipped.
        drop(c);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(format!("{} m bob@exa", now / 3600).as_bytes())
            .unwrap();
        let mut c = Counters::open(&path, now + 60).unwrap();
        assert_eq!(c.count(SendKind::Messages, "alice@example.com"), 2);
        assert_eq!(c.count(SendKind::Messages, "@example.com"), 3);
        assert!(c.take(now, &alice, SendKind::Messages).unwrap().is_err());

        // The next hour starts again from nothing.
        assert_eq!(
            c.take(now + 3600, &alice, SendKind::Messages).unwrap(),
            Ok(())
        );
        assert_eq!(c.count(SendKind::Messages, "@example.com"), 1);
        let c = Counters::open(&path, now + 3600).unwrap();
        assert_eq!(c.count(SendKind::Messages, "alice@example.com"), 1);
    }
}
