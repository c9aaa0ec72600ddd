//! The outbound queue: forwards, a backup's mail for its primary, relayed
//! domains, authenticated users' outgoing mail and non-delivery reports.
//! A message is on disk (fsynced) before [`Queue::enqueue`] returns, and is
//! retried with backoff until it is delivered or its lifetime runs out, when
//! the sender gets a bounce.
//!
//! - [`spool`]: the files in `DATA/queue/`;
//! - [`hop`]: next hop and MX lookup;
//! - [`client`]: the SMTP client (opportunistic STARTTLS);
//! - [`srs`]: envelope sender rewriting of forwards, and its reversal;
//! - [`dkim`]: signing of submitted mail;
//! - [`dsn`]: the non-delivery reports.
//!
//! Recipients in our own local domains (a bounce to a local sender, a
//! submission to a colleague) go straight into the store.

pub mod client;
pub mod dkim;
pub mod dsn;
pub mod hop;
pub mod spool;
pub mod srs;

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;

use super::decision::{Decision, decide};
use super::{Shared, log};
use crate::manifest::{Manifest, NextHop};
use client::Outcome;
use hop::Resolved;
use spool::{Pending, Queued, Spool};

/// Why a message is queued: decides SRS and DKIM signing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

/// Default seconds before the first retry (RFC 5321 §4.5.4.1 asks for at
/// least 30 minutes between attempts to one host; deliveries here are
/// retried sooner at first and back off to that).
const RETRY_BASE: u64 = 60;
/// The longest wait between two attempts.
const RETRY_CAP: u64 = 3600;
/// Messages being delivered at once.
const PARALLEL: usize = 16;

/// What the queue takes from the manifest, set once at start by
/// [`Queue::configure`].
struct Config {
    hostname: String,
    signers: dkim::Signers,
    srs_domains: BTreeSet<String>,
    /// The outbound relays, by id, with their logins read.
    relays: BTreeMap<String, client::Relay>,
}

/// The queue folder `DATA/queue`.
pub struct Queue {
    spool: Spool,
    data_dir: PathBuf,
    config: OnceLock<Config>,
    /// Queued ids not being delivered now, with their next attempt (unix
    /// seconds).
    due: Mutex<BTreeMap<String, u64>>,
    wake: Notify,
    srs_secret: Mutex<Option<Vec<u8>>>,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn domain_of(address: &str) -> Option<&str> {
    address.rsplit_once('@').map(|(_, d)| d)
}

/// Seconds to wait after the `attempts`-th failed attempt: `base`,
/// doubling, at most an hour (or `base`, if that is longer).
pub fn backoff(base: u64, attempts: u32) -> u64 {
    let exp = attempts.saturating_sub(1).min(20);
    base.saturating_mul(1u64 << exp)
        .min(RETRY_CAP.max(base))
        .max(1)
}

impl Queue {
    /// Opens (creating) `data_dir/queue` and takes up everything queued
    /// there: due at once, since a restart is a good moment to try.
    pub fn open(data_dir: &Path) -> io::Result<Queue> {
        let spool = Spool::open(data_dir)?;
        let (entries, problems) = spool.scan()?;
        for p in problems {
            log::event("queue", "", "warning", &[("text", &p)]);
        }
        let t = now();
        let due = entries.into_iter().map(|(id, _)| (id, t)).collect();
        Ok(Queue {
            spool,
            data_dir: data_dir.to_path_buf(),
            config: OnceLock::new(),
            due: Mutex::new(due),
            wake: Notify::new(),
            srs_secret: Mutex::new(None),
        })
    }

    /// Reads what the queue needs from the manifest: the DKIM keys (every
    /// one must be readable: the error names each bad file), the domains
    /// asking for SRS, the HELO name. Call once, before serving.
    pub fn configure(
        &self,
        manifest: &Manifest,
        path: impl Fn(&str) -> PathBuf,
    ) -> Result<(), String> {
        let signers = dkim::Signers::load(&manifest.dkim, &path)?;
        let srs_domains = manifest
            .domains
            .iter()
            .filter(|(_, d)| d.srs)
            .map(|(n, _)| n.clone())
            .collect();
        let mut relays = BTreeMap::new();
        let mut bad = Vec::new();
        for (id, r) in &manifest.relays {
            let login = match (&r.username, &r.password_file) {
                (Some(user), Some(file)) => match read_password(&path(file)) {
                    Ok(p) => Some((user.clone(), p)),
                    Err(why) => {
                        // The path only: never the file's content.
                        bad.push(format!(
                            "relay `{}`: the password file {file} {why}",
                            r.name
                        ));
                        None
                    }
                },
                _ => None,
            };
            relays.insert(
                id.clone(),
                client::Relay {
                    name: r.name.clone(),
                    next_hop: r.next_hop.clone(),
                    tls: r.tls,
                    login,
                },
            );
        }
        if !bad.is_empty() {
            return Err(bad.join("; "));
        }
        let config = Config {
            hostname: manifest.hostname.clone(),
            signers,
            srs_domains,
            relays,
        };
        self.config
            .set(config)
            .map_err(|_| "the queue is already configured".to_string())
    }

    /// How many messages are queued (being delivered or waiting).
    pub fn len(&self) -> usize {
        self.spool.ids().map(|v| v.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn hostname(&self) -> String {
        self.config
            .get()
            .map(|c| c.hostname.clone())
            .unwrap_or_else(|| "localhost".into())
    }

    /// The SRS secret of `DATA/srs.secret`, made on first use.
    pub fn srs_secret(&self) -> io::Result<Vec<u8>> {
        let mut s = self.srs_secret.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = s.as_ref() {
            return Ok(k.clone());
        }
        let k = srs::load_or_create_secret(&self.data_dir.join("srs.secret"))?;
        *s = Some(k.clone());
        Ok(k)
    }

    /// The original sender of an SRS address we made (`None` when it is not
    /// one, is forged, or has expired). Blocking on first use (reads or
    /// makes the secret).
    pub fn srs_reverse(&self, address: &str) -> Option<String> {
        if !srs::is_srs(address) {
            return None;
        }
        srs::reverse(&self.srs_secret().ok()?, address)
    }

    /// Stores the message durably; delivery happens in [`Queue::run`].
    /// Blocking: call from `spawn_blocking`.
    pub fn enqueue(&self, msg: Outgoing, data: &[u8]) -> io::Result<()> {
        let mut from = msg.from.clone();
        let mut signed = None;
        if let Some(c) = self.config.get() {
            match &msg.kind {
                Kind::Forward { domain } if c.srs_domains.contains(&domain.to_lowercase()) => {
                    if let Some(rewritten) = srs::forward(&self.srs_secret()?, &from, domain) {
                        from = rewritten;
                    }
                }
                Kind::Submission => {
                    if let Some(d) = domain_of(&msg.from) {
                        let (bytes, problems) = c.signers.sign(d, data);
                        for p in problems {
                            let text = format!("not DKIM-signed by {d} {p}");
                            log::event("queue", "", "warning", &[("text", &text)]);
                        }
                        signed = Some(bytes);
                    }
                }
                _ => {}
            }
        }
        let t = now();
        // One RCPT per address, even if the caller listed one twice.
        let mut seen = BTreeSet::new();
        let to: Vec<String> = msg
            .to
            .into_iter()
            .filter(|a| seen.insert(a.to_lowercase()))
            .collect();
        let env = Queued {
            from,
            kind: msg.kind,
            next_hop: msg.next_hop,
            created: t,
            attempts: 0,
            next_attempt: t,
            recipients: to
                .into_iter()
                .map(|address| Pending {
                    address,
                    last_error: None,
                })
                .collect(),
        };
        if env.recipients.is_empty() {
            return Ok(());
        }
        let id = self.spool.add(&env, signed.as_deref().unwrap_or(data))?;
        let kind = match &env.kind {
            Kind::Submission => "submission",
            Kind::Forward { .. } => "forward",
            Kind::Relay => "relay",
            Kind::Bounce => "bounce",
        };
        let to = env
            .recipients
            .iter()
            .map(|r| format!("<{}>", super::address::display(&r.address)))
            .collect::<Vec<_>>()
            .join(",");
        let from = format!("<{}>", super::address::display(&env.from));
        log::event(
            "queue",
            &id,
            "queued",
            &[("kind", &kind), ("from", &from), ("to", &to)],
        );
        self.due
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, t);
        self.wake.notify_one();
        Ok(())
    }

    /// Makes and queues a non-delivery report to `sender` for `failed`
    /// (address, reason) of the message `data`. No report for `<>`. A
    /// sender that is an SRS address of ours gets it at the original
    /// address.
    pub fn bounce(&self, sender: &str, failed: &[(String, String)], data: &[u8]) -> io::Result<()> {
        // RFC 5321 §4.5.5 / RFC 3464 §2: never a report about a report.
        if sender.is_empty() || failed.is_empty() {
            return Ok(());
        }
        let to = self
            .srs_reverse(sender)
            .unwrap_or_else(|| sender.to_string());
        let secs = now() as i64;
        let report = dsn::build(&self.hostname(), &to, failed, data, secs)?;
        let about = failed
            .iter()
            .map(|(a, _)| format!("<{}>", super::address::display(a)))
            .collect::<Vec<_>>()
            .join(",");
        let to_shown = format!("<{}>", super::address::display(&to));
        log::event(
            "queue",
            "",
            "bounce",
            &[("to", &to_shown), ("failed", &about)],
        );
        self.enqueue(
            Outgoing {
                from: String::new(),
                to: vec![to],
                next_hop: None,
                kind: Kind::Bounce,
            },
            &report,
        )
    }

    /// Ids due now (taken out of the schedule: they are in flight), and the
    /// time of the next one after them.
    fn take_due(&self, t: u64) -> (Vec<String>, Option<u64>) {
        let mut due = self.due.lock().unwrap_or_else(|e| e.into_inner());
        let ready: Vec<String> = due
            .iter()
            .filter(|(_, at)| **at <= t)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &ready {
            due.remove(id);
        }
        (ready, due.values().min().copied())
    }

    fn schedule(&self, id: String, at: u64) {
        self.due
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, at);
        self.wake.notify_one();
    }

    /// Delivers queued mail until shutdown. Mail not delivered by then
    /// stays in the spool for the next start.
    pub async fn run(
        self: Arc<Self>,
        shared: Arc<Shared>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let tls = match client::tls_connector() {
            Ok(t) => t,
            Err(e) => {
                let text = format!("cannot set up TLS ({e}); not delivering");
                log::event("queue", "", "error", &[("text", &text)]);
                return;
            }
        };
        let ctx = Arc::new(Delivery {
            queue: self.clone(),
            shared: shared.clone(),
            tls,
            resolver: tokio::sync::OnceCell::new(),
        });
        let slots = Arc::new(Semaphore::new(PARALLEL));
        let mut tasks = JoinSet::new();
        loop {
            if *shutdown.borrow() {
                break;
            }
            let (ready, next) = self.take_due(now());
            for id in ready {
                let (ctx, slots) = (ctx.clone(), slots.clone());
                tasks.spawn(async move {
                    let Ok(_permit) = slots.acquire_owned().await else {
                        return;
                    };
                    let next = ctx.attempt(&id).await;
                    if let Some(at) = next {
                        ctx.queue.schedule(id, at);
                    }
                });
            }
            while tasks.try_join_next().is_some() {}
            let wait = next
                .map(|at| at.saturating_sub(now()).max(1))
                .unwrap_or(RETRY_CAP);
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(wait)) => {}
                _ = self.wake.notified() => {}
                r = shutdown.changed() => if r.is_err() { break },
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        // Whatever is in flight is cut off; its envelope still says what
        // is left, so the next start tries again (a recipient the server
        // already took may get a duplicate, never nothing).
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
}

/// What one delivery attempt needs.
struct Delivery {
    queue: Arc<Queue>,
    shared: Arc<Shared>,
    tls: tokio_rustls::TlsConnector,
    resolver: tokio::sync::OnceCell<Option<hickory_resolver::TokioResolver>>,
}

/// Where a group of recipients goes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Dest {
    Hop(NextHop),
    Mx(String),
    /// An outbound relay, by id.
    Relay(String),
}

/// A relay's password: the first line of its file, which must be there.
fn read_password(path: &Path) -> Result<String, &'static str> {
    let bytes =
        crate::limits::read(path, crate::limits::KEY_FILE_BYTES).map_err(|_| "cannot be read")?;
    let text = String::from_utf8(bytes).map_err(|_| "is not UTF-8")?;
    match text.lines().next() {
        Some(l) if !l.is_empty() => Ok(l.to_string()),
        _ => Err("has an empty first line"),
    }
}

/// The relay id of mail from `from` to a domain that is not ours: the
/// sender's address, then its domain, then the host's own relay.
fn sender_relay<'m>(m: &'m Manifest, from: &str) -> Option<&'m String> {
    let from = from.to_ascii_lowercase();
    let by_rule = domain_of(&from).and_then(|d| {
        m.sender_relays
            .get(&from)
            .or_else(|| m.sender_relays.get(d))
    });
    by_rule.or(m.relay.as_ref())
}

impl Delivery {
    async fn resolver(&self) -> Option<&hickory_resolver::TokioResolver> {
        self.resolver
            .get_or_init(|| async {
                match hop::resolver(self.shared.options.resolver) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        log::event("queue", "", "error", &[("text", &e)]);
                        None
                    }
                }
            })
            .await
            .as_ref()
    }

    /// A trouble with the entry itself (not with a recipient).
    fn log(&self, id: &str, what: &str) {
        log::event("queue", id, "error", &[("text", &what)]);
    }

    /// What one attempt did for one recipient.
    fn outcome(&self, id: &str, event: &str, to: &str, reply: &str) {
        let to = format!("<{}>", super::address::display(to));
        log::event("queue", id, event, &[("to", &to), ("reply", &reply)]);
    }

    /// One attempt at every pending recipient of `id`; the next attempt's
    /// time if some are left.
    async fn attempt(&self, id: &str) -> Option<u64> {
        let q = self.queue.clone();
        let idc = id.to_string();
        let loaded = tokio::task::spawn_blocking(move || {
            Ok::<_, io::Error>((q.spool.read_env(&idc)?, q.spool.read_message(&idc)?))
        })
        .await;
        let (mut env, data) = match loaded {
            Ok(Ok(x)) => x,
            Ok(Err(e)) if e.kind() == io::ErrorKind::NotFound => return None,
            Ok(Err(e)) => {
                self.log(id, &format!("cannot read the entry: {e}; retrying later"));
                return Some(now() + self.base());
            }
            Err(_) => return Some(now() + self.base()),
        };
        let data = Arc::new(data);
        let m = &self.shared.manifest;
        let opts = &self.shared.options;
        let mut results: BTreeMap<String, Outcome> = BTreeMap::new();
        let mut groups: BTreeMap<Dest, Vec<String>> = BTreeMap::new();
        let mut local: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
        for r in &env.recipients {
            let addr = r.address.clone();
            let dest = match decide(m, &addr) {
                Decision::Deliver(t) => {
                    local.push((addr, t.mailboxes, t.forward));
                    continue;
                }
                Decision::Reject(reply) => {
                    results.insert(addr, Outcome::Permanent(reply));
                    continue;
                }
                Decision::Drop => {
                    results.insert(addr, Outcome::Sent(crate::reply::DISCARDED.into()));
                    continue;
                }
                Decision::Bounce => {
                    results.insert(
                        addr.clone(),
                        Outcome::Permanent(crate::reply::unknown(&addr)),
                    );
                    continue;
                }
                Decision::Relay(h) => Dest::Hop(h),
                Decision::NotOurs => match domain_of(&addr) {
                    Some(d) => match sender_relay(m, &env.from) {
                        Some(id) => Dest::Relay(id.clone()),
                        None => Dest::Mx(d.to_lowercase()),
                    },
                    None => {
                        results.insert(
                            addr.clone(),
                            Outcome::Permanent(crate::reply::bad_syntax(Some(&addr))),
                        );
                        continue;
                    }
                },
            };
            // --relay-all wins, then the message's own next hop.
            let dest = match (&opts.relay_all, &env.next_hop) {
                (Some(h), _) => Dest::Hop(h.clone()),
                (None, Some(h)) => Dest::Hop(h.clone()),
                (None, None) => dest,
            };
            groups.entry(dest).or_default().push(addr);
        }
        for (addr, mailboxes, forward) in local {
            let o = self
                .deliver_locally(id, &env, &addr, mailboxes, forward, &data)
                .await;
            results.insert(addr, o);
        }
        let hostname = m.hostname.clone();
        for (dest, rcpts) in groups {
            let relay = match &dest {
                Dest::Relay(id) => self.queue.config.get().and_then(|c| c.relays.get(id)),
                _ => None,
            };
            let resolved = match (&dest, relay) {
                (Dest::Hop(h), _) => hop::next_hop(self.resolver().await, h).await,
                (Dest::Mx(d), _) => hop::mx(self.resolver().await, d).await,
                (Dest::Relay(_), Some(r)) => {
                    hop::next_hop(self.resolver().await, &r.next_hop).await
                }
                (Dest::Relay(id), None) => {
                    Resolved::Temporary(format!("4.3.5 the outbound relay {id} is not configured"))
                }
            };
            let outcomes = match resolved {
                Resolved::Hosts(hosts) => {
                    let t = client::Transaction {
                        helo: &hostname,
                        from: &env.from,
                        to: &rcpts,
                        data: &data,
                    };
                    client::deliver(&hosts, &t, &self.tls, relay).await
                }
                Resolved::Permanent(why) => vec![Outcome::Permanent(why); rcpts.len()],
                Resolved::Temporary(why) => vec![Outcome::Temporary(why); rcpts.len()],
            };
            for (a, o) in rcpts.into_iter().zip(outcomes) {
                results.insert(a, o);
            }
        }
        self.settle(id, &mut env, results, data).await
    }

    /// A recipient of ours: into its users' INBOXes, and its forwards
    /// queued anew (as forwards of its domain, so SRS applies).
    async fn deliver_locally(
        &self,
        id: &str,
        env: &Queued,
        addr: &str,
        mailboxes: Vec<String>,
        forward: Vec<String>,
        data: &Arc<Vec<u8>>,
    ) -> Outcome {
        let shared = self.shared.clone();
        let queue = self.queue.clone();
        let data = data.clone();
        let from = env.from.clone();
        let domain = domain_of(addr).unwrap_or_default().to_string();
        let r = tokio::task::spawn_blocking(move || -> io::Result<Option<String>> {
            let mut full = Vec::new();
            if !mailboxes.is_empty() {
                // RFC 5321 §4.4: the delivering server adds Return-Path.
                let mut local = Vec::with_capacity(data.len() + from.len() + 16);
                local.extend_from_slice(super::store::return_path(&from).as_bytes());
                local.extend_from_slice(&data);
                for mb in &mailboxes {
                    // The quota SMTP delivery keeps, with its reply.
                    if !crate::serve::quota::fits(
                        &shared.store,
                        &shared.manifest,
                        mb,
                        local.len() as u64,
                    ) {
                        full.push((mb.clone(), crate::reply::mailbox_full(mb)));
                        continue;
                    }
                    shared.store.deliver(mb, &local)?;
                }
            }
            if full.len() == mailboxes.len() && forward.is_empty() {
                // Nothing got through: the recipient failed.
                return Ok(full.into_iter().next().map(|(_, why)| why));
            }
            // Some copies arrived: the full mailboxes are reported apart.
            queue.bounce(&from, &full, &data)?;
            if !forward.is_empty() {
                queue.enqueue(
                    Outgoing {
                        from,
                        to: forward,
                        next_hop: None,
                        kind: Kind::Forward { domain },
                    },
                    &data,
                )?;
            }
            Ok(None)
        })
        .await;
        match r {
            Ok(Ok(None)) => Outcome::Sent("delivered here".into()),
            Ok(Ok(Some(why))) => Outcome::Permanent(why),
            Ok(Err(e)) => {
                self.outcome(id, "store-failed", addr, &e.to_string());
                Outcome::Temporary(format!("4.3.0 local delivery failed: {e}"))
            }
            Err(e) => Outcome::Temporary(format!("4.3.0 local delivery failed: {e}")),
        }
    }

    fn base(&self) -> u64 {
        self.shared.options.retry_base.unwrap_or(RETRY_BASE).max(1)
    }

    /// Records an attempt's results: bounces what failed for good (or
    /// expired), forgets the entry when nothing is left, else saves the
    /// state and says when to try again.
    async fn settle(
        &self,
        id: &str,
        env: &mut Queued,
        results: BTreeMap<String, Outcome>,
        data: Arc<Vec<u8>>,
    ) -> Option<u64> {
        let t = now();
        let lifetime = u64::from(self.shared.manifest.limits.queue_lifetime);
        let expired = t >= env.created.saturating_add(lifetime);
        let mut failed = Vec::new();
        let mut left = Vec::new();
        for mut r in std::mem::take(&mut env.recipients) {
            match results.get(&r.address) {
                Some(Outcome::Sent(reply)) => {
                    self.outcome(id, "sent", &r.address, reply);
                }
                Some(Outcome::Permanent(why)) => {
                    self.outcome(id, "failed", &r.address, why);
                    failed.push((r.address, why.clone()));
                }
                Some(Outcome::Temporary(why)) if expired => {
                    self.outcome(id, "expired", &r.address, why);
                    failed.push((
                        r.address,
                        format!("4.4.7 delivery time expired; the last attempt said: {why}"),
                    ));
                }
                Some(Outcome::Temporary(why)) => {
                    self.outcome(id, "deferred", &r.address, why);
                    r.last_error = Some(why.clone());
                    left.push(r);
                }
                None => left.push(r),
            }
        }
        env.recipients = left;
        env.attempts += 1;
        let q = self.queue.clone();
        let (idc, envc) = (id.to_string(), env.clone());
        let wait = backoff(self.base(), env.attempts);
        let done = tokio::task::spawn_blocking(move || -> io::Result<bool> {
            // The report is queued before the entry changes: a crash in
            // between may send it twice, never not at all.
            if !failed.is_empty() {
                q.bounce(&envc.from, &failed, &data)?;
            }
            if envc.recipients.is_empty() {
                q.spool.remove(&idc)?;
                return Ok(true);
            }
            let mut e = envc;
            e.next_attempt = now() + wait;
            q.spool.write_env(&idc, &e)?;
            Ok(false)
        })
        .await;
        match done {
            Ok(Ok(true)) => None,
            Ok(Ok(false)) => Some(t + wait),
            Ok(Err(e)) => {
                self.log(id, &format!("cannot update the entry: {e}"));
                Some(t + wait)
            }
            Err(_) => Some(t + wait),
        }
    }
}

#[cfg(test)]
mod tests;
