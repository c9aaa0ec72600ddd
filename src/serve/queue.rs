//! The outbound queue: forwards, a backup's mail for its primary, relayed
//! domains, authenticated users' outgoing mail and non-delivery reports.
//! A message is on disk (fsynced) before [`Queue::enqueue`] returns, and is
//! retried with backoff until it is delivered or its lifetime runs out, when
//! the sender gets a bounce.

use std::io;
use std::path::Path;
use std::sync::Arc;

use super::Shared;
use crate::manifest::NextHop;

/// Why a message is queued: decides SRS and DKIM signing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An authenticated user's mail: DKIM-signed with the sender domain's keys.
    Submission,
    /// Forwarded by an alias or catch-all of `domain`: SRS when it asks.
    Forward { domain: String },
    /// Passed on unchanged (a backup to its primary, a domain's `relay`).
    Relay,
    /// A non-delivery report we made (null reverse path).
    Bounce,
}

/// One message to send.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// The reverse path, empty for `<>`.
    pub from: String,
    pub to: Vec<String>,
    /// `None`: by MX lookup of each recipient's domain.
    pub next_hop: Option<NextHop>,
    pub kind: Kind,
}

/// The queue folder `DATA/queue`.
pub struct Queue {
    _private: (),
}

impl Queue {
    pub fn open(_data_dir: &Path) -> io::Result<Queue> {
        todo!("queue: open")
    }

    /// Stores the message durably; delivery happens in [`Queue::run`].
    /// Blocking: call from `spawn_blocking`.
    pub fn enqueue(&self, _msg: Outgoing, _data: &[u8]) -> io::Result<()> {
        todo!("queue: enqueue")
    }

    /// Makes and queues a non-delivery report to `sender` for `failed`
    /// (address, reason) of the message `data`. No report for `<>`.
    pub fn bounce(
        &self,
        _sender: &str,
        _failed: &[(String, String)],
        _data: &[u8],
    ) -> io::Result<()> {
        todo!("queue: bounce")
    }

    /// Delivers queued mail until shutdown.
    pub async fn run(
        self: Arc<Self>,
        _shared: Arc<Shared>,
        _shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        todo!("queue: run")
    }
}
