//! Sending limits of submission: what each login (and its domain) may
//! send per clock hour, counted in `DATA/send-counts` by
//! [`crate::ratelimit::Counters`], fsynced before the client hears `250`,
//! so a restart or `kill -9` loses no count that was answered.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::manifest::{Manifest, SendKind};
use crate::ratelimit::{Counters, Sender, domain_of};

/// The counters of one server, opened on first use.
pub struct Sending {
    path: PathBuf,
    counters: Mutex<Option<Counters>>,
}

impl Sending {
    pub fn new(data_dir: &Path) -> Sending {
        Sending {
            path: data_dir.join("send-counts"),
            counters: Mutex::new(None),
        }
    }

    /// Counts one `kind` for `user` (a key of the manifest's users), or
    /// the refusal at its limit (or its domain's). Blocks on the disk.
    pub fn take(&self, manifest: &Manifest, user: &str, kind: SendKind) -> Result<(), String> {
        let domain = domain_of(user);
        let sender = Sender {
            login: user,
            limits: manifest
                .users
                .get(user)
                .map(|u| u.limits)
                .unwrap_or_default(),
            domain,
            domain_limits: manifest
                .domains
                .get(domain)
                .map(|d| d.limits)
                .unwrap_or_default(),
        };
        if sender.limits.of(kind).is_none() && sender.domain_limits.of(kind).is_none() {
            return Ok(());
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut slot = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let taken = match slot.as_mut() {
            Some(counters) => counters.take(now, &sender, kind),
            None => Counters::open(&self.path, now)
                .and_then(|c| slot.insert(c).take(now, &sender, kind)),
        };
        taken.unwrap_or_else(|e| {
            super::log::event(
                "submission",
                "-",
                "send-counts-failed",
                &[("path", &self.path.display()), ("error", &e)],
            );
            Err(crate::reply::UNCOUNTED.to_string())
        })
    }
}
