//! What happens to an accepted message: copies into the users' INBOXes,
//! forwards, relays and outbound mail handed to the queue, non-delivery
//! reports for the recipients that accept-then-bounce. All of it is durable
//! (the store and the queue fsync) before [`deliver`] returns, so the `250`
//! the session sends afterwards is a promise kept across kill -9.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::{IpAddr, SocketAddr};

use crate::manifest::{NextHop, Target, User};
use crate::reply;
use crate::rules::engine::{self, Answer, INBOX};
use crate::rules::message::Header;
use crate::serve::decision::{self, Decision};
use crate::serve::queue::{Kind, Outgoing};
use crate::serve::{Shared, address, store};

/// How many times a rule's forward or an autoresponder's reply to one of
/// our own addresses may meet rules again; deeper, mail is stored as if
/// there were none (validation refuses loops, this bounds what it cannot
/// see).
const RULE_DEPTH: u32 = 4;

/// Where one accepted recipient's mail goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// Into these INBOXes and on to these addresses.
    Deliver(Target),
    /// To another server (a backup's primary, a domain's `relay`).
    Relay(NextHop),
    /// Accepted, then returned to the sender.
    Bounce,
    /// Accepted and thrown away.
    Drop,
    /// Not ours, from an authenticated user: out by MX lookup.
    Remote,
    /// An SRS address we made for a forward (a bounce coming back): on to
    /// this original sender, unchanged.
    Return(String),
}

/// One accepted recipient: its address (lowercase, A-label domain) and
/// route.
#[derive(Clone, Debug)]
pub struct Recipient {
    pub address: String,
    pub route: Route,
}

/// The envelope of one message.
#[derive(Clone, Debug)]
pub struct Envelope {
    /// The reverse path without brackets, empty for `<>`.
    pub from: String,
    pub rcpts: Vec<Recipient>,
    /// The message came in on submission: what leaves is the user's own mail.
    pub submission: bool,
}

/// Stores and queues `message` (its `Received:` header already on top) for
/// every recipient. Blocking: call from `spawn_blocking`. An error means
/// nothing may be acknowledged (some copies may exist: the client retries,
/// and a duplicate beats a loss).
pub fn deliver(shared: &Shared, env: &Envelope, message: &[u8]) -> io::Result<()> {
    deliver_at(shared, env, message, 0)
}

fn deliver_at(shared: &Shared, env: &Envelope, message: &[u8], depth: u32) -> io::Result<()> {
    let mut mailboxes = BTreeSet::new();
    // Forwards by the domain whose alias or catch-all forwards (it decides SRS).
    let mut forwards: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut relays: BTreeMap<NextHop, BTreeSet<String>> = BTreeMap::new();
    let mut remote = BTreeSet::new();
    let mut returns = BTreeSet::new();
    let mut failed = Vec::new();
    for r in &env.rcpts {
        match &r.route {
            Route::Deliver(t) => {
                mailboxes.extend(t.mailboxes.iter().cloned());
                if !t.forward.is_empty() {
                    let domain = r.address.rsplit_once('@').map_or("", |(_, d)| d);
                    forwards
                        .entry(domain.to_string())
                        .or_default()
                        .extend(t.forward.iter().cloned());
                }
            }
            Route::Relay(hop) => {
                relays
                    .entry(hop.clone())
                    .or_default()
                    .insert(r.address.clone());
            }
            Route::Bounce => failed.push((
                r.address.clone(),
                reply::unknown_bounced(&address::display(&r.address)),
            )),
            Route::Drop => {}
            Route::Remote => {
                remote.insert(r.address.clone());
            }
            Route::Return(original) => {
                returns.insert(original.clone());
            }
        }
    }
    if !mailboxes.is_empty() {
        // RFC 5321 §4.4: the delivering server adds Return-Path.
        let mut local = Vec::with_capacity(message.len() + env.from.len() + 16);
        local.extend_from_slice(store::return_path(&env.from).as_bytes());
        local.extend_from_slice(message);
        for mb in &mailboxes {
            let user =
                shared.manifest.users.get(mb).filter(|u| {
                    depth < RULE_DEPTH && (!u.rules.is_empty() || u.vacation.is_some())
                });
            if let Some(user) = user {
                run_rules(shared, env, mb, user, message, &local, depth, &mut failed)?;
                continue;
            }
            if !crate::serve::quota::fits(&shared.store, &shared.manifest, mb, local.len() as u64) {
                failed.push((mb.clone(), reply::mailbox_full(mb)));
                continue;
            }
            shared.store.deliver(mb, &local)?;
        }
    }
    for (domain, to) in forwards {
        let kind = Kind::Forward { domain };
        enqueue(shared, &env.from, to, None, kind, message)?;
    }
    for (hop, to) in relays {
        enqueue(shared, &env.from, to, Some(hop), Kind::Relay, message)?;
    }
    if !remote.is_empty() {
        let kind = if env.submission {
            Kind::Submission
        } else {
            Kind::Relay
        };
        enqueue(shared, &env.from, remote, None, kind, message)?;
    }
    if !returns.is_empty() {
        enqueue(shared, &env.from, returns, None, Kind::Relay, message)?;
    }
    if !failed.is_empty() && !env.from.is_empty() {
        shared.queue.bounce(&env.from, &failed, message)?;
    }
    Ok(())
}

/// A user's autoresponder, then its rules, on one message (`message` as
/// received, `local` with its `Return-Path:`), as the Sieve script mailc
/// writes for Dovecot runs them.
#[allow(clippy::too_many_arguments)]
fn run_rules(
    shared: &Shared,
    env: &Envelope,
    mb: &str,
    user: &User,
    message: &[u8],
    local: &[u8],
    depth: u32,
    failed: &mut Vec<(String, String)>,
) -> io::Result<()> {
    let header = Header::parse(message);
    let e = engine::Envelope {
        sender: &env.from,
        recipient: mb,
    };
    if let Some(v) = &user.vacation {
        let now = unix_now();
        let today = chrono::DateTime::from_timestamp(now, 0)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        if let Answer::Reply { to, from } = engine::answer(v, &header, e, &today)
            && shared.vacation.claim(mb, &to, v.days, now)?
        {
            let date = mail_builder::headers::date::Date::new(now).to_rfc822();
            let id = format!(
                "<mailc.vacation.{now}.{}.{}@{}>",
                std::process::id(),
                REPLIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                shared.manifest.hostname
            );
            let reply = engine::reply(v, &header, &from, &to, &date, &id);
            // RFC 3834 §3.3: the null reverse path.
            send_on(shared, "", None, &to, &reply, depth)?;
        }
    }
    let outcome = engine::run(&user.rules, &header, message.len() as u64, e);
    for folder in &outcome.folders {
        if !crate::serve::quota::fits(&shared.store, &shared.manifest, mb, local.len() as u64) {
            failed.push((mb.to_string(), reply::mailbox_full(mb)));
            break;
        }
        if folder == INBOX {
            shared.store.deliver(mb, local)?;
        } else if let Some(dir) = shared.store.user_dir(mb) {
            // Maildir++: the folder `A.B` is `.A.B/`, made when first used.
            shared
                .store
                .deliver_to(&dir.join(format!(".{folder}")), local)?;
        }
    }
    if let Some(text) = &outcome.reject {
        let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        failed.push((
            mb.to_string(),
            reply::rule_reject(&address::display(mb), &text),
        ));
    }
    let domain = mb.rsplit_once('@').map_or("", |(_, d)| d);
    for to in &outcome.forwards {
        send_on(shared, &env.from, Some(domain), to, message, depth)?;
    }
    Ok(())
}

static REPLIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Sends `message` from `from` on to `to`: into our own mailboxes (their
/// rules run, one level deeper), or into the queue — as a forward of
/// `domain` (SRS when it asks), or with the null reverse path as a reply.
fn send_on(
    shared: &Shared,
    from: &str,
    domain: Option<&str>,
    to: &str,
    message: &[u8],
    depth: u32,
) -> io::Result<()> {
    let route = match decision::decide(&shared.manifest, to) {
        Decision::Deliver(t) => Route::Deliver(t),
        Decision::Relay(hop) => Route::Relay(hop),
        // Checked when the spec was: nothing of ours refuses a rule's
        // forward; an address that drops takes it and keeps nothing.
        Decision::Bounce | Decision::Reject(_) | Decision::Drop => return Ok(()),
        Decision::NotOurs => {
            let kind = match domain {
                Some(d) => Kind::Forward {
                    domain: d.to_string(),
                },
                None => Kind::Bounce,
            };
            return enqueue(shared, from, [to.to_string()].into(), None, kind, message);
        }
    };
    let env = Envelope {
        from: from.to_string(),
        rcpts: vec![Recipient {
            address: to.to_string(),
            route,
        }],
        submission: false,
    };
    deliver_at(shared, &env, message, depth + 1)
}

fn enqueue(
    shared: &Shared,
    from: &str,
    to: BTreeSet<String>,
    next_hop: Option<NextHop>,
    kind: Kind,
    message: &[u8],
) -> io::Result<()> {
    let msg = Outgoing {
        from: from.to_string(),
        to: to.into_iter().collect(),
        next_hop,
        kind,
    };
    shared.queue.enqueue(msg, message)
}

/// What the `Received:` header says about one message (RFC 5321 §4.4).
pub struct Trace<'a> {
    pub helo: &'a str,
    pub peer: SocketAddr,
    pub hostname: &'a str,
    /// `ESMTP`, `ESMTPS`, `ESMTPSA`, … (RFC 3848).
    pub protocol: &'a str,
    pub id: &'a str,
    /// Named only when there is exactly one (others' addresses stay private).
    pub single_rcpt: Option<&'a str>,
    /// Seconds since the epoch.
    pub now: i64,
}

impl Trace<'_> {
    /// The header with its CRLF, folded.
    pub fn received(&self) -> String {
        let literal = match self.peer.ip() {
            IpAddr::V4(v4) => format!("[{v4}]"),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => format!("[{v4}]"),
                None => format!("[IPv6:{v6}]"),
            },
        };
        // The client chose its HELO name: keep it printable and short.
        let helo: String = self
            .helo
            .chars()
            .filter(|c| c.is_ascii_graphic() && !"()\\".contains(*c))
            .take(255)
            .collect();
        let helo = if helo.is_empty() {
            "unknown".to_string()
        } else {
            helo
        };
        let date = mail_builder::headers::date::Date::new(self.now).to_rfc822();
        let rcpt = match self.single_rcpt {
            Some(r) => format!("\r\n\tfor <{}>", address::display(r)),
            None => String::new(),
        };
        format!(
            "Received: from {helo} ({literal})\r\n\tby {} (mailc) with {} id {}{rcpt};\r\n\t{date}\r\n",
            self.hostname, self.protocol, self.id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_header_names_the_peer_and_one_recipient() {
        let t = Trace {
            helo: "client.example (evil)\r\n",
            peer: "[::ffff:192.0.2.1]:4000".parse().unwrap(),
            hostname: "mx.example.com",
            protocol: "ESMTPS",
            id: "ABC",
            single_rcpt: Some("a@example.com"),
            now: 0,
        };
        assert_eq!(
            t.received(),
            "Received: from client.exampleevil ([192.0.2.1])\r\n\tby mx.example.com (mailc) with ESMTPS id ABC\r\n\tfor <a@example.com>;\r\n\tThu, 1 Jan 1970 00:00:00 +0000\r\n"
        );
        let t = Trace {
            peer: "[2001:db8::1]:25".parse().unwrap(),
            single_rcpt: None,
            helo: "",
            ..t
        };
        assert!(
            t.received()
                .starts_with("Received: from unknown ([IPv6:2001:db8::1])\r\n")
        );
    }
}
