//! One POP3 connection: AUTHORIZATION (CAPA, STLS, USER/PASS, AUTH PLAIN),
//! TRANSACTION (STAT, LIST, RETR, TOP, UIDL, DELE, NOOP, RSET) and UPDATE
//! at QUIT (RFC 1939, RFC 2449, RFC 2595, RFC 5034).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use super::maildrop::{Maildrop, OpenError};
use crate::serve::auth::Verdict;
use crate::serve::imap::wire::PREAUTH_LINE;
use crate::serve::stream::Stream;
use crate::serve::{Shared, log, plaintext_auth_allowed};

/// RFC 1939 §3: the autologout timer is at least 10 minutes.
const MIN_IDLE: Duration = Duration::from_secs(600);
/// Every write must be done within this.
const WRITE_TIMEOUT: Duration = Duration::from_secs(300);
/// Failed logins after which the session is ended.
const MAX_FAILED_LOGINS: u32 = 3;

/// Why reading a command failed.
enum Read {
    Line(String),
    /// The client closed, the line was too long, or time ran out.
    End(&'static str),
}

struct Session {
    peer: SocketAddr,
    service: &'static str,
    id: String,
    shared: Arc<Shared>,
    reader: BufReader<Stream>,
    /// The USER name given, waiting for PASS.
    user: Option<String>,
    failed: u32,
}

pub(super) async fn run(
    tcp: TcpStream,
    peer: SocketAddr,
    implicit_tls: bool,
    shared: Arc<Shared>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    id: String,
) {
    let _ = tcp.set_nodelay(true);
    let service = if implicit_tls { "pop3s" } else { "pop3" };
    let login_by = Instant::now()
        + Duration::from_secs(u64::from(shared.manifest.limits.login_timeout.max(1)));
    let mut stream = Stream::Plain(tcp);
    if implicit_tls {
        let within = login_by.saturating_duration_since(Instant::now());
        if stream.upgrade(&shared.tls, within).await.is_err() {
            log::event(service, &id, "tls-failed", &[("peer", &peer)]);
            return;
        }
    }
    log::event(service, &id, "connect", &[("peer", &peer)]);
    let mut s = Session {
        peer,
        service,
        id,
        shared,
        reader: BufReader::new(stream),
        user: None,
        failed: 0,
    };
    let why = s.converse(login_by, shutdown).await;
    let mut stream = s.reader.into_inner();
    stream.linger_close().await;
    log::event(
        service,
        &s.id,
        "disconnect",
        &[("peer", &peer), ("reason", &why)],
    );
}

/// The message's lines for TOP: the header, the blank line, then at most
/// `lines` lines of the body (RFC 1939 §7).
fn top(message: &[u8], lines: usize) -> &[u8] {
    let Some(end) = message.windows(4).position(|w| w == b"\r\n\r\n") else {
        return message;
    };
    let mut at = end + 4;
    for _ in 0..lines {
        match message[at..].windows(2).position(|w| w == b"\r\n") {
            Some(i) => at += i + 2,
            None => return message,
        }
    }
    &message[..at]
}

/// A multi-line response body (RFC 1939 §3): each line starting with `.`
/// gets one more, the last line ends in CRLF, then `.` CRLF.
pub fn dot_stuffed(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 64 + 5);
    let mut start_of_line = true;
    for &b in body {
        if start_of_line && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        start_of_line = b == b'\n';
    }
    if !body.is_empty() && !body.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// A message number argument.
fn number(arg: Option<&str>) -> Option<u32> {
    arg.filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|a| a.parse().ok())
}

impl Session {
    fn tls(&self) -> bool {
        self.reader.get_ref().is_tls()
    }

    fn plaintext_ok(&self) -> bool {
        self.tls() || plaintext_auth_allowed(&self.peer)
    }

    async fn send(&mut self, bytes: &[u8]) -> bool {
        let w = self.reader.get_mut();
        matches!(
            tokio::time::timeout(WRITE_TIMEOUT, async {
                w.write_all(bytes).await?;
                w.flush().await
            })
            .await,
            Ok(Ok(()))
        )
    }

    async fn line(&mut self, text: &str) -> bool {
        self.send(format!("{text}\r\n").as_bytes()).await
    }

    /// One command line, CRLF (or a bare LF) taken off; at most
    /// [`PREAUTH_LINE`] bytes, by `deadline`.
    async fn read(&mut self, deadline: Instant) -> Read {
        let mut buf = Vec::new();
        loop {
            let got = timeout_at(deadline, self.reader.fill_buf()).await;
            let avail = match got {
                Err(_) => return Read::End("timed out"),
                Ok(Err(_)) => return Read::End("connection error"),
                Ok(Ok([])) => return Read::End("closed by the client"),
                Ok(Ok(a)) => a,
            };
            let (take, done) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            buf.extend_from_slice(&avail[..take]);
            self.reader.consume(take);
            if buf.len() > PREAUTH_LINE {
                return Read::End("line too long");
            }
            if done {
                while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    buf.pop();
                }
                return Read::Line(String::from_utf8_lossy(&buf).into_owned());
            }
        }
    }

    /// The next command, or why the session ends (a shutdown, the client
    /// gone, a line too long, time up); nothing is deleted then.
    async fn command(
        &mut self,
        deadline: Instant,
        shutdown: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<String, String> {
        let cmd = tokio::select! {
            r = self.read(deadline) => r,
            _ = shutdown.changed() => {
                let _ = self.line("-ERR [SYS/TEMP] server shutting down, nothing deleted").await;
                return Err("shutdown".into());
            }
        };
        match cmd {
            Read::Line(l) => Ok(l),
            Read::End(why) => {
                if why == "line too long" {
                    let _ = self.line("-ERR line too long").await;
                }
                Err(why.into())
            }
        }
    }

    fn capa(&self, authorized: bool) -> String {
        let mut c = vec![
            "CAPA",
            "TOP",
            "UIDL",
            "RESP-CODES",
            "AUTH-RESP-CODE",
            "PIPELINING",
        ];
        if !authorized {
            if !self.tls() {
                c.push("STLS");
            }
            if self.plaintext_ok() {
                c.push("USER");
                c.push("SASL PLAIN");
            }
        }
        let mut out = String::from("+OK capability list follows\r\n");
        for l in c {
            out.push_str(l);
            out.push_str("\r\n");
        }
        out.push_str(".\r\n");
        out
    }

    /// From the greeting to the end; returns why it ended.
    async fn converse(
        &mut self,
        login_by: Instant,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> String {
        if !self.line("+OK mailc POP3 server ready").await {
            return "write failed".into();
        }
        // AUTHORIZATION
        let drop = loop {
            let line = match self.command(login_by, &mut shutdown).await {
                Ok(l) => l,
                Err(why) => return why,
            };
            let (verb, arg) = match line.split_once(' ') {
                Some((v, a)) => (v.to_ascii_uppercase(), Some(a)),
                None => (line.to_ascii_uppercase(), None),
            };
            let ok = match verb.as_str() {
                "CAPA" => {
                    let c = self.capa(false);
                    self.send(c.as_bytes()).await
                }
                "QUIT" => {
                    let _ = self.line("+OK bye").await;
                    return "quit".into();
                }
                "STLS" => {
                    if self.tls() {
                        self.line("-ERR already under TLS").await
                    } else {
                        if !self.line("+OK begin TLS negotiation").await {
                            return "write failed".into();
                        }
                        // RFC 2595 §4: nothing the client sent before counts.
                        if !self.reader.buffer().is_empty() {
                            return "data before the TLS handshake".into();
                        }
                        let within = login_by.saturating_duration_since(Instant::now());
                        let acceptor = self.shared.tls.clone();
                        if self
                            .reader
                            .get_mut()
                            .upgrade(&acceptor, within)
                            .await
                            .is_err()
                        {
                            return "TLS handshake failed".into();
                        }
                        self.user = None;
                        true
                    }
                }
                "USER" => match arg.filter(|a| !a.trim().is_empty()) {
                    _ if !self.plaintext_ok() => {
                        self.line("-ERR [AUTH] plaintext passwords only over TLS: use STLS first")
                            .await
                    }
                    None => self.line("-ERR USER needs a name").await,
                    Some(a) => {
                        self.user = Some(a.trim().to_string());
                        self.line("+OK send PASS").await
                    }
                },
                "PASS" => match (self.user.take(), arg) {
                    _ if !self.plaintext_ok() => {
                        self.line("-ERR [AUTH] plaintext passwords only over TLS: use STLS first")
                            .await
                    }
                    (None, _) => self.line("-ERR USER first").await,
                    (Some(user), pass) => {
                        match self.login(&user, pass.unwrap_or("").to_string()).await {
                            Ok(drop) => break drop,
                            Err(Some(why)) => return why,
                            Err(None) => true,
                        }
                    }
                },
                "AUTH" => match arg {
                    None => self.send(b"+OK\r\nPLAIN\r\n.\r\n").await,
                    _ if !self.plaintext_ok() => {
                        self.line("-ERR [AUTH] plaintext passwords only over TLS: use STLS first")
                            .await
                    }
                    Some(a) => {
                        let (mech, initial) = match a.split_once(' ') {
                            Some((m, i)) => (m, Some(i.to_string())),
                            None => (a, None),
                        };
                        if !mech.eq_ignore_ascii_case("PLAIN") {
                            self.line("-ERR unsupported SASL mechanism").await
                        } else {
                            match self.auth_plain(initial, login_by).await {
                                Ok(drop) => break drop,
                                Err(Some(why)) => return why,
                                Err(None) => true,
                            }
                        }
                    }
                },
                _ => self.line("-ERR unknown command in this state").await,
            };
            if !ok {
                return "write failed".into();
            }
            if self.failed >= MAX_FAILED_LOGINS {
                let _ = self.line("-ERR too many failed logins").await;
                return "too many failed logins".into();
            }
        };
        self.transaction(drop, shutdown).await
    }

    /// AUTH PLAIN (RFC 5034, RFC 4616), its response on the command line or
    /// after a `+ ` continuation.
    async fn auth_plain(
        &mut self,
        initial: Option<String>,
        login_by: Instant,
    ) -> Result<Maildrop, Option<String>> {
        let response = match initial {
            Some(i) if i == "=" => String::new(),
            Some(i) => i,
            None => {
                if !self.line("+ ").await {
                    return Err(Some("write failed".into()));
                }
                match self.read(login_by).await {
                    Read::Line(l) => l,
                    Read::End(why) => return Err(Some(why.into())),
                }
            }
        };
        if response.trim() == "*" {
            return Err(self.refuse("-ERR authentication cancelled").await);
        }
        let decoded = BASE64.decode(response.trim()).ok();
        let parts: Option<(String, String, String)> = decoded.and_then(|d| {
            let mut it = d.split(|b| *b == 0);
            let authz = String::from_utf8(it.next()?.to_vec()).ok()?;
            let authc = String::from_utf8(it.next()?.to_vec()).ok()?;
            let pass = String::from_utf8(it.next()?.to_vec()).ok()?;
            it.next().is_none().then_some((authz, authc, pass))
        });
        match parts {
            None => Err(self.refuse("-ERR [AUTH] malformed PLAIN response").await),
            Some((authz, authc, pass)) => {
                if !authz.is_empty() && !authz.eq_ignore_ascii_case(&authc) {
                    self.failed += 1;
                    return Err(self
                        .refuse("-ERR [AUTH] logging in as someone else is not allowed")
                        .await);
                }
                self.login(&authc, pass).await
            }
        }
    }

    /// Sends a refusal; `None` to go on, `Some(why)` when the connection
    /// is gone.
    async fn refuse(&mut self, text: &str) -> Option<String> {
        if self.line(text).await {
            None
        } else {
            Some("write failed".into())
        }
    }

    /// Checks the password, the domain's POP3 and the maildrop lock.
    async fn login(&mut self, login: &str, password: String) -> Result<Maildrop, Option<String>> {
        let sh = self.shared.clone();
        let verdict = sh
            .logins
            .check(
                &sh.manifest,
                self.peer.ip(),
                login,
                password,
                crate::manifest::Service::Pop3,
            )
            .await;
        let address = match verdict {
            Verdict::Ok(a) => a,
            Verdict::Locked => {
                log::event(
                    self.service,
                    &self.id,
                    "login-locked",
                    &[("peer", &self.peer)],
                );
                self.failed += 1;
                return Err(self
                    .refuse(
                        "-ERR [SYS/TEMP] too many failed logins from your address, try again later",
                    )
                    .await);
            }
            Verdict::Wrong => {
                log::event(
                    self.service,
                    &self.id,
                    "login-failed",
                    &[("peer", &self.peer), ("login", &login.trim())],
                );
                self.failed += 1;
                return Err(self.refuse("-ERR [AUTH] authentication failed").await);
            }
        };
        let Some(dir) = sh.store.user_dir(&address) else {
            return Err(self
                .refuse("-ERR [SYS/PERM] no mail store for this address")
                .await);
        };
        match tokio::task::spawn_blocking(move || Maildrop::open(&dir)).await {
            Ok(Ok(drop)) => {
                log::event(self.service, &self.id, "login", &[("user", &address)]);
                let (n, octets) = drop.stat();
                if self
                    .line(&format!("+OK {n} messages ({octets} octets)"))
                    .await
                {
                    Ok(drop)
                } else {
                    Err(Some("write failed".into()))
                }
            }
            Ok(Err(OpenError::InUse)) => Err(self
                .refuse("-ERR [IN-USE] the maildrop is in use by another POP3 session")
                .await),
            Ok(Err(OpenError::Io(e))) => {
                log::event(
                    self.service,
                    &self.id,
                    "store-error",
                    &[("user", &address), ("error", &e)],
                );
                Err(self
                    .refuse("-ERR [SYS/TEMP] the maildrop cannot be read now")
                    .await)
            }
            Err(_) => Err(self
                .refuse("-ERR [SYS/TEMP] the maildrop cannot be read now")
                .await),
        }
    }

    /// TRANSACTION, then UPDATE at QUIT.
    async fn transaction(
        &mut self,
        mut drop: Maildrop,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> String {
        let idle =
            Duration::from_secs(u64::from(self.shared.manifest.limits.imap_timeout)).max(MIN_IDLE);
        loop {
            let line = match self.command(Instant::now() + idle, &mut shutdown).await {
                Ok(l) => l,
                Err(why) => return why,
            };
            let mut words = line.split(' ');
            let verb = words.next().unwrap_or("").to_ascii_uppercase();
            let a1 = words.next();
            let a2 = words.next();
            let extra = words.next().is_some();
            let reply: Vec<u8> = match verb.as_str() {
                "QUIT" => {
                    let result = tokio::task::block_in_place(|| drop.commit());
                    return match result {
                        Ok(n) => {
                            if n > 0 {
                                self.shared.store.notify();
                            }
                            let _ = self.line(&format!("+OK bye, {n} messages deleted")).await;
                            format!("quit, {n} deleted")
                        }
                        Err(e) => {
                            log::event(self.service, &self.id, "store-error", &[("error", &e)]);
                            let _ = self
                                .line("-ERR [SYS/TEMP] some deleted messages were not removed")
                                .await;
                            "update failed".into()
                        }
                    };
                }
                "CAPA" => self.capa(true).into_bytes(),
                _ if extra => b"-ERR too many arguments\r\n".to_vec(),
                "NOOP" => b"+OK\r\n".to_vec(),
                "STAT" => {
                    let (n, o) = drop.stat();
                    format!("+OK {n} {o}\r\n").into_bytes()
                }
                "LIST" | "UIDL" if a1.is_none() => {
                    let mut out = format!("+OK {} messages\r\n", drop.stat().0);
                    for (i, m) in drop.messages.iter().enumerate().filter(|(_, m)| !m.deleted) {
                        let v = if verb == "LIST" {
                            m.size.to_string()
                        } else {
                            drop.uidl(m)
                        };
                        out.push_str(&format!("{} {v}\r\n", i + 1));
                    }
                    out.push_str(".\r\n");
                    out.into_bytes()
                }
                "LIST" | "UIDL" => match number(a1).and_then(|n| drop.get(n).map(|m| (n, m))) {
                    None => b"-ERR no such message\r\n".to_vec(),
                    Some((n, m)) if a2.is_none() => {
                        let v = if verb == "LIST" {
                            m.size.to_string()
                        } else {
                            drop.uidl(m)
                        };
                        format!("+OK {n} {v}\r\n").into_bytes()
                    }
                    Some(_) => b"-ERR too many arguments\r\n".to_vec(),
                },
                "DELE" => match number(a1) {
                    Some(n) if a2.is_none() && drop.get(n).is_some() => {
                        drop.messages[n as usize - 1].deleted = true;
                        format!("+OK message {n} deleted\r\n").into_bytes()
                    }
                    _ => b"-ERR no such message\r\n".to_vec(),
                },
                "RSET" => {
                    for m in &mut drop.messages {
                        m.deleted = false;
                    }
                    format!("+OK {} messages\r\n", drop.stat().0).into_bytes()
                }
                "RETR" | "TOP" => {
                    let lines = if verb == "TOP" {
                        number(a2).map(|k| k as usize)
                    } else if a2.is_none() {
                        Some(usize::MAX)
                    } else {
                        None
                    };
                    match (
                        number(a1)
                            .and_then(|n| drop.get(n))
                            .map(|m| (m.uid, m.size)),
                        lines,
                    ) {
                        (None, _) => b"-ERR no such message\r\n".to_vec(),
                        (Some(_), None) => {
                            b"-ERR TOP needs a message and a line count\r\n".to_vec()
                        }
                        (Some((uid, size)), Some(k)) => {
                            let retr = verb == "RETR";
                            match tokio::task::block_in_place(|| drop.read(uid, retr)) {
                                Ok(Some(bytes)) => {
                                    let body = if retr { &bytes[..] } else { top(&bytes, k) };
                                    let head = if retr {
                                        format!("+OK {size} octets\r\n")
                                    } else {
                                        "+OK top of message follows\r\n".to_string()
                                    };
                                    let mut out = head.into_bytes();
                                    out.extend(dot_stuffed(body));
                                    out
                                }
                                Ok(None) => {
                                    b"-ERR [SYS/PERM] the message was removed meanwhile\r\n"
                                        .to_vec()
                                }
                                Err(e) => {
                                    log::event(
                                        self.service,
                                        &self.id,
                                        "store-error",
                                        &[("error", &e)],
                                    );
                                    b"-ERR [SYS/TEMP] the message cannot be read now\r\n".to_vec()
                                }
                            }
                        }
                    }
                }
                "USER" | "PASS" | "AUTH" | "STLS" | "APOP" => {
                    b"-ERR already logged in\r\n".to_vec()
                }
                _ => b"-ERR unknown command\r\n".to_vec(),
            };
            if !self.send(&reply).await {
                return "write failed".into();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_are_stuffed_and_the_end_is_marked() {
        assert_eq!(
            dot_stuffed(b"a\r\n.b\r\n..\r\n"),
            b"a\r\n..b\r\n...\r\n.\r\n"
        );
        assert_eq!(dot_stuffed(b".\r\nx"), b"..\r\nx\r\n.\r\n");
        assert_eq!(dot_stuffed(b""), b".\r\n");
    }

    #[test]
    fn top_takes_the_header_and_n_lines() {
        let m = b"A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n";
        assert_eq!(top(m, 0), b"A: 1\r\nB: 2\r\n\r\n");
        assert_eq!(top(m, 2), b"A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n");
        assert_eq!(top(m, 9), m);
        assert_eq!(top(b"A: 1\r\n", 1), b"A: 1\r\n");
    }

    #[test]
    fn numbers_are_digits_only() {
        assert_eq!(number(Some("3")), Some(3));
        assert_eq!(number(Some("-1")), None);
        assert_eq!(number(Some("")), None);
        assert_eq!(number(None), None);
    }
}
