//! SMTP: inbound mail (MX, port 25) and submission for authenticated users
//! (587 with STARTTLS, 465 on implicit TLS). The grammar is smtp-proto's;
//! the session state machine, the limits and the promises are here:
//!
//! - ESMTP with PIPELINING, SIZE, 8BITMIME, CHUNKING (BDAT),
//!   ENHANCEDSTATUSCODES, SMTPUTF8 and STARTTLS (everything forgotten
//!   after the handshake, RFC 3207 §4.2);
//! - every path of MAIL and RCPT is read by [`address::parse_path`]: one
//!   that could not be written back safely (control characters, NUL) is
//!   refused there, and what leaves again is written from the parsed form;
//! - every recipient is decided at RCPT by [`super::decision::decide`], so the server
//!   answers what `mailc route` explains; the additions are `<Postmaster>`
//!   without a domain ([`super::decision::postmaster`]) and an SRS address we made,
//!   whose bounce (null sender only) goes on to the original sender;
//! - sending limits (submission only): each MAIL counts a message and
//!   each accepted RCPT a recipient for the login and its domain, durably
//!   ([`super::sending`]); at a limit, `450 4.7.1` stating it;
//! - quota: refused at RCPT (`552 5.2.2`) when no mailbox of the target has
//!   room for the announced SIZE; a member found full after DATA bounces;
//! - `250` after DATA only once every copy is stored and every forward,
//!   relay and bounce queued, durably ([`deliver`]); if any of it fails,
//!   `451 4.3.0` for the whole message (a retry may duplicate, never lose);
//! - AUTH PLAIN/LOGIN only on the submission ports, and only under TLS or
//!   from loopback ([`super::plaintext_auth_allowed`]); a user sends only
//!   as its `send_as` addresses. Port 25 offers no AUTH: it takes mail for
//!   our domains from anyone and relays for no one;
//! - a hostile client meets line, size, recipient, error (20), time and
//!   connection limits, and no input panics the server; a stopping server
//!   tells idle clients `421` and lets a message in flight finish.

mod command;
mod conn;
pub mod data;
pub mod deliver;
mod envelope;
mod login;

pub use command::{parse_command, path_of};

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use smtp_proto::{
    AUTH_LOGIN, AUTH_PLAIN, EXT_8BIT_MIME, EXT_AUTH, EXT_CHUNKING, EXT_ENHANCED_STATUS_CODES,
    EXT_PIPELINING, EXT_SIZE, EXT_SMTP_UTF8, EXT_START_TLS, EhloResponse, Request,
};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::address;
use super::log;
use super::pool::{Full, Pool};
use super::{Shared, plaintext_auth_allowed};
use crate::reply;
use conn::{Conn, Data, End, Line};
use deliver::{Envelope, Recipient, Trace};

/// Which service a listener runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// Inbound MX: no AUTH needed, only our domains accepted.
    Mx,
    /// Submission, STARTTLS offered, AUTH required.
    Submission,
    /// Submission on implicit TLS.
    Submissions,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::Mx => "smtp",
            Service::Submission => "submission",
            Service::Submissions => "submissions",
        }
    }

    fn is_submission(self) -> bool {
        self != Service::Mx
    }

    fn pool(self, shared: &Shared) -> &Arc<Pool> {
        match self {
            Service::Mx => &shared.pools.smtp,
            Service::Submission => &shared.pools.submission,
            Service::Submissions => &shared.pools.submissions,
        }
    }
}

/// Commands that move no mail (NOOP, RSET, VRFY, HELP) a client may send
/// in one session (as Postfix's `smtpd_junk_command_limit`): a client that
/// only keeps its connection alive is let go.
const JUNK_LIMIT: u32 = 100;
/// The timeout for the next command while more than three quarters of
/// the service's connections are taken (as Postfix's stress mode).
const STRESS_TIMEOUT: Duration = Duration::from_secs(10);

/// Error replies a client may provoke before it is disconnected (as
/// Postfix's `smtpd_hard_error_limit`).
const ERROR_LIMIT: u32 = 20;

/// Accepts connections until shutdown, then waits for the open sessions:
/// idle ones are told `421` at once, one in the middle of a message
/// finishes it first.
pub async fn serve(
    listener: TcpListener,
    service: Service,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let mut sessions = JoinSet::new();
    let mut stopping = shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of file descriptors and the like: pause, do not spin.
                        log::event(service.name(), "", "accept-failed", &[("error", &e)]);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let sh = shared.clone();
                let stop = shutdown.clone();
                let admitted = service.pool(&sh).admit(peer.ip());
                let id = log::session_id();
                sessions.spawn(async move {
                    match admitted {
                        Ok(slot) => {
                            let run = session(tcp, peer, service, sh, stop, id.clone());
                            super::guarded(service.name(), &id, peer, run).await;
                            drop(slot);
                        }
                        Err(full) => refuse_busy(tcp, peer, service, &sh, full, &id).await,
                    }
                });
            }
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            () = stopped(&mut stopping) => break,
        }
    }
    drop(listener);
    while sessions.join_next().await.is_some() {}
}

/// Returns once the server is stopping (or its controller is gone).
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Over `limits.connections` or `limits.client_connections`: one line
/// and goodbye.
async fn refuse_busy(
    mut tcp: TcpStream,
    peer: SocketAddr,
    service: Service,
    shared: &Shared,
    full: Full,
    id: &str,
) {
    let whose = match full {
        Full::Service => "",
        Full::Client => " from your address",
    };
    let why = match full {
        Full::Service => "service full",
        Full::Client => "client's share full",
    };
    log::event(
        service.name(),
        id,
        "refused",
        &[("peer", &peer), ("reason", &why)],
    );
    let line = format!(
        "{}\r\n",
        reply::too_many_connections(&shared.manifest.hostname, whose)
    );
    if service == Service::Submissions {
        // No TLS handshake for a client that gets nothing anyway.
        return;
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.write_all(line.as_bytes())).await;
    let _ = tcp.shutdown().await;
}

async fn session(
    tcp: TcpStream,
    peer: SocketAddr,
    service: Service,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
    id: String,
) {
    let limits = &shared.manifest.limits;
    let timeout = Duration::from_secs(u64::from(limits.smtp_timeout.max(1)));
    log::event(service.name(), &id, "connect", &[("peer", &peer)]);
    let mut conn = Conn::new(tcp, timeout, limits.line_length as usize, shutdown);
    conn.log_replies(service.name(), id.clone());
    let mut s = Session {
        id,
        service,
        peer,
        conn,
        helo: None,
        user: None,
        tx: None,
        errors: 0,
        junk: 0,
        timeout,
        shared: shared.clone(),
    };
    if service == Service::Submissions
        && let Err(e) = s.conn.start_tls(&shared.tls).await
    {
        log_end(&s, Err(&e));
        return;
    }
    let ended = s.commands().await;
    let host = &s.shared.manifest.hostname;
    match &ended {
        Ok(()) => {}
        Err(End::Shutdown) => s
            .conn
            .reply(&reply::closing(host, "4.3.2", "service shutting down")),
        Err(End::Timeout) => s
            .conn
            .reply(&reply::closing(host, "4.4.2", "timeout exceeded")),
        Err(End::Flood) => s
            .conn
            .reply(&reply::closing(host, "4.7.0", "line too long")),
        Err(End::Closed | End::Io(_)) => {}
    }
    log_end(&s, ended.as_ref().map(|_| ()));
    s.conn.close().await;
}

fn log_end(s: &Session, ended: Result<(), &End>) {
    let reason = match ended {
        Ok(()) => "done".to_string(),
        Err(End::Closed) => "closed by the client".to_string(),
        Err(End::Timeout) => "timeout".to_string(),
        Err(End::Shutdown) => "shutdown".to_string(),
        Err(End::Flood) => "endless line".to_string(),
        Err(End::Io(e)) => e.to_string(),
    };
    log::event(
        s.service.name(),
        &s.id,
        "disconnect",
        &[("peer", &s.peer), ("reason", &reason)],
    );
}

/// What the next command may be.
enum Flow {
    Continue,
    Quit,
}

/// One mail transaction, from MAIL to the end of DATA.
struct Transaction {
    /// The reverse path without brackets, empty for `<>`.
    from: String,
    rcpts: Vec<Recipient>,
    /// The client's `SIZE=` estimate (RFC 1870), 0 when not given.
    size: u64,
    /// The message so far, when it comes in BDAT chunks (RFC 3030).
    chunks: Option<Vec<u8>>,
    /// A chunk went over the size limit: the rest is read and dropped.
    too_big: bool,
}

struct Session {
    /// The session id of the log.
    id: String,
    service: Service,
    peer: SocketAddr,
    conn: Conn,
    shared: Arc<Shared>,
    /// The client's HELO/EHLO name, and whether it said EHLO.
    helo: Option<(String, bool)>,
    /// The authenticated login (a key of the manifest's users).
    user: Option<String>,
    tx: Option<Transaction>,
    errors: u32,
    /// Commands that moved no mail (see [`JUNK_LIMIT`]).
    junk: u32,
    /// `limits.smtp_timeout`.
    timeout: Duration,
}

impl Session {
    async fn commands(&mut self) -> Result<(), End> {
        self.conn.reply(&format!(
            "220 {} ESMTP mailc",
            self.shared.manifest.hostname
        ));
        loop {
            if self.conn.stopping() && self.tx.is_none() {
                return Err(End::Shutdown);
            }
            if self.junk > JUNK_LIMIT {
                self.conn.reply(&reply::closing(
                    &self.shared.manifest.hostname,
                    "4.7.0",
                    "too many commands without mail",
                ));
                return Ok(());
            }
            let wait = match self.service.pool(&self.shared).stressed() {
                true => self.timeout.min(STRESS_TIMEOUT),
                false => self.timeout,
            };
            self.conn.set_timeout(wait);
            let line = match self.conn.read_line().await? {
                Line::TooLong => {
                    self.error(reply::LINE_TOO_LONG);
                    continue;
                }
                Line::BareNewline => {
                    self.error(reply::BARE_COMMAND);
                    continue;
                }
                Line::Command(line) => line,
            };
            if let Flow::Quit = self.command(&line).await? {
                return Ok(());
            }
            if self.errors >= ERROR_LIMIT {
                self.conn.reply(&reply::closing(
                    &self.shared.manifest.hostname,
                    "4.7.0",
                    "too many errors",
                ));
                return Ok(());
            }
        }
    }

    /// Queues an error reply and counts it.
    fn error(&mut self, reply: &str) {
        self.errors += 1;
        self.conn.reply(reply);
    }

    async fn command(&mut self, line: &[u8]) -> Result<Flow, End> {
        let request = match parse_command(line, self.tx.is_some()) {
            Ok(r) => r,
            Err(reply) => {
                self.error(&reply);
                return Ok(Flow::Continue);
            }
        };
        match request {
            Request::Ehlo { host } => self.hello(host, true),
            Request::Helo { host } => self.hello(host, false),
            Request::Lhlo { .. } => self.error(reply::NOT_LMTP),
            Request::Mail { from } => self.mail(from, line).await,
            Request::Rcpt { .. } => self.rcpt(line).await,
            Request::Data => self.data().await?,
            Request::Auth {
                mechanism,
                initial_response,
            } => self.auth(mechanism, initial_response).await?,
            Request::StartTls => self.start_tls().await?,
            Request::Rset => {
                self.junk += 1;
                self.tx = None;
                self.conn.reply(reply::OK);
            }
            Request::Noop { .. } => {
                self.junk += 1;
                self.conn.reply(reply::OK)
            }
            // RFC 5321 §3.5.3: no address harvesting, but not an error.
            Request::Vrfy { .. } => {
                self.junk += 1;
                self.conn.reply(reply::VRFY)
            }
            Request::Expn { .. } => self.error(reply::EXPN),
            Request::Help { .. } => {
                self.junk += 1;
                self.conn.reply(reply::HELP)
            }
            Request::Quit => {
                self.conn.reply(reply::BYE);
                return Ok(Flow::Quit);
            }
            Request::Bdat {
                chunk_size,
                is_last,
            } => self.bdat(chunk_size, is_last).await?,
            Request::Etrn { .. } | Request::Atrn { .. } | Request::Burl { .. } => {
                self.error(reply::NOT_IMPLEMENTED)
            }
        }
        Ok(Flow::Continue)
    }

    fn tls(&self) -> bool {
        self.conn.is_tls()
    }

    /// AUTH is offered on the submission ports, under TLS or from loopback.
    fn auth_offered(&self) -> bool {
        self.service.is_submission() && (self.tls() || plaintext_auth_allowed(&self.peer))
    }

    fn hello(&mut self, host: String, extended: bool) {
        // RFC 5321 §4.1.1.1: a domain or an address literal; at least no
        // blanks or control characters (it goes into Received:).
        if host.is_empty() || host.chars().any(|c| c.is_control() || c.is_whitespace()) {
            let cmd = if extended { "EHLO" } else { "HELO" };
            self.error(&reply::syntax(&format!("{cmd} hostname")));
            return;
        }
        // RFC 5321 §4.1.4: EHLO/HELO resets any transaction.
        self.tx = None;
        self.helo = Some((host, extended));
        let m = &self.shared.manifest;
        if !extended {
            let line = format!("250 {}", m.hostname);
            self.conn.reply(&line);
            return;
        }
        let mut ehlo = EhloResponse::new(m.hostname.as_str());
        ehlo.capabilities = EXT_PIPELINING
            | EXT_CHUNKING
            | EXT_SIZE
            | EXT_8BIT_MIME
            | EXT_ENHANCED_STATUS_CODES
            | EXT_SMTP_UTF8;
        ehlo.size = usize::try_from(m.limits.message_size).unwrap_or(usize::MAX);
        if !self.tls() {
            ehlo.capabilities |= EXT_START_TLS;
        }
        if self.auth_offered() {
            ehlo.capabilities |= EXT_AUTH;
            ehlo.auth_mechanisms = AUTH_PLAIN | AUTH_LOGIN;
        }
        let mut out = Vec::with_capacity(256);
        // Writing to a Vec cannot fail.
        let _ = ehlo.write(&mut out);
        // smtp-proto's first line carries a joke; ours is just the name.
        let first = out.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
        self.conn.reply(&format!("250-{}", m.hostname));
        self.conn.reply_raw(&out[first..]);
    }

    async fn data(&mut self) -> Result<(), End> {
        let Some(tx) = &self.tx else {
            self.error(reply::NEED_MAIL);
            return Ok(());
        };
        if tx.rcpts.is_empty() {
            self.error(reply::NO_RECIPIENTS);
            return Ok(());
        }
        if tx.chunks.is_some() {
            // RFC 3030 §3: no DATA in a BDAT transaction.
            self.error(reply::DATA_AFTER_BDAT);
            return Ok(());
        }
        self.conn.reply("354 end data with <CR><LF>.<CR><LF>");
        let max = self.shared.manifest.limits.message_size;
        let body = self.conn.read_data(max).await?;
        let Some(tx) = self.tx.take() else {
            return Ok(());
        };
        let body = match body {
            Data::Message(b) => b,
            Data::TooBig => {
                self.error(reply::TOO_BIG);
                return Ok(());
            }
            Data::BareNewline => {
                self.error(reply::BARE_MESSAGE);
                return Ok(());
            }
        };
        self.accept(tx, body).await;
        Ok(())
    }

    /// One BDAT chunk (RFC 3030). Its bytes are always read, whatever the
    /// answer, so that a pipelining client stays in step.
    async fn bdat(&mut self, size: usize, last: bool) -> Result<(), End> {
        let max = self.shared.manifest.limits.message_size;
        let refusal = match &self.tx {
            None => Some(reply::NEED_MAIL),
            Some(tx) if tx.rcpts.is_empty() => Some(reply::NO_RECIPIENTS),
            Some(_) => None,
        };
        if let Some(reply) = refusal {
            self.conn.read_chunk(size, None).await?;
            self.error(reply);
            return Ok(());
        }
        let Some(tx) = &mut self.tx else {
            return Ok(());
        };
        let buf = tx.chunks.get_or_insert_with(Vec::new);
        if !tx.too_big && (buf.len() as u64).saturating_add(size as u64) > max {
            tx.too_big = true;
            *buf = Vec::new();
        }
        if tx.too_big {
            self.conn.read_chunk(size, None).await?;
        } else {
            self.conn.read_chunk(size, Some(buf)).await?;
        }
        let too_big = tx.too_big;
        if !last {
            if too_big {
                self.error(reply::TOO_BIG);
            } else {
                self.conn.reply(&reply::octets_received(size));
            }
            return Ok(());
        }
        let Some(mut tx) = self.tx.take() else {
            return Ok(());
        };
        if too_big {
            self.error(reply::TOO_BIG);
            return Ok(());
        }
        let body = tx.chunks.take().unwrap_or_default();
        if data::has_bare_newline(&body) {
            self.error(reply::BARE_MESSAGE);
            return Ok(());
        }
        self.accept(tx, body).await;
        Ok(())
    }

    /// Delivers a whole message (after DATA or the last BDAT) and answers.
    async fn accept(&mut self, tx: Transaction, body: Vec<u8>) {
        if let Some(user) = &self.user
            && self.service.is_submission()
            && let Err(reply) = login::header_from_owned(&self.shared, user, &body)
        {
            self.error(&reply);
            return;
        }
        let id = message_id();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let protocol = match (
            self.helo.as_ref().is_some_and(|h| h.1),
            self.tls(),
            self.user.is_some(),
        ) {
            (false, _, _) => "SMTP",
            (true, false, false) => "ESMTP",
            (true, true, false) => "ESMTPS",
            (true, false, true) => "ESMTPA",
            (true, true, true) => "ESMTPSA",
        };
        let received = Trace {
            helo: self.helo.as_ref().map_or("", |h| h.0.as_str()),
            peer: self.peer,
            hostname: &self.shared.manifest.hostname,
            protocol,
            id: &id,
            single_rcpt: (tx.rcpts.len() == 1).then(|| tx.rcpts[0].address.as_str()),
            now,
        }
        .received();
        let mut message = Vec::with_capacity(received.len() + body.len());
        message.extend_from_slice(received.as_bytes());
        message.extend_from_slice(&body);
        drop(body);
        let env = Envelope {
            from: tx.from,
            rcpts: tx.rcpts,
            submission: self.service.is_submission(),
        };
        let sh = self.shared.clone();
        let to = env
            .rcpts
            .iter()
            .map(|r| format!("<{}>", address::display(&r.address)))
            .collect::<Vec<_>>()
            .join(",");
        let from = format!("<{}>", address::display(&env.from));
        let size = message.len();
        let done = tokio::task::spawn_blocking(move || deliver::deliver(&sh, &env, &message)).await;
        let failed = match done {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        let (event, why) = match &failed {
            None => ("accepted", String::new()),
            Some(e) => ("store-failed", format!("not stored: {e}")),
        };
        let mut fields: Vec<(&str, &dyn std::fmt::Display)> =
            vec![("id", &id), ("from", &from), ("to", &to), ("size", &size)];
        if failed.is_some() {
            fields.push(("error", &why));
        }
        log::event(self.service.name(), &self.id, event, &fields);
        match failed {
            None => self.conn.reply(&reply::queued(&id)),
            Some(_) => self.error(reply::DELIVERY_FAILED),
        }
    }

    async fn start_tls(&mut self) -> Result<(), End> {
        if self.tls() {
            self.error(reply::TLS_ACTIVE);
            return Ok(());
        }
        self.conn.reply(reply::TLS_READY);
        let acceptor = self.shared.tls.clone();
        self.conn.start_tls(&acceptor).await?;
        // RFC 3207 §4.2: forget everything learnt before the handshake.
        self.helo = None;
        self.user = None;
        self.tx = None;
        Ok(())
    }
}

/// A queue id, unique for this process: start time and a counter, in hex.
fn message_id() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64)
    });
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    format!("{start:X}{n:06X}")
}
