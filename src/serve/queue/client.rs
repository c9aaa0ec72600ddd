//! The SMTP client the queue delivers with (RFC 5321): EHLO (HELO when
//! refused), STARTTLS whenever offered, MAIL, one RCPT per recipient, DATA.
//! TLS is opportunistic (RFC 7435): the certificate is not checked, since
//! without DANE or MTA-STS nothing says which one to expect, and encrypted
//! without authentication still beats plaintext; a server whose TLS
//! handshake fails gets the message in plaintext on a new connection.
//!
//! Towards an outbound relay the spec decides instead: TLS from the first
//! byte (RFC 8314), or STARTTLS required (no TLS, no mail: it waits), and
//! a login with AUTH PLAIN (RFC 4954, RFC 4616) only inside TLS. The
//! password never reaches a log line or a reply text.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::serve::address;

/// RFC 5321 §4.5.3.2 timeouts (shortened where the RFC's are for slow links
/// of another age).
const CONNECT: Duration = Duration::from_secs(30);
const GREETING: Duration = Duration::from_secs(300);
const COMMAND: Duration = Duration::from_secs(300);
const DATA_END: Duration = Duration::from_secs(600);
/// A reply line longer than this is a broken server (RFC 5321 §4.5.3.1.5
/// says 512).
const MAX_LINE: usize = 4096;
/// Lines of one multi-line reply.
const MAX_LINES: usize = 200;

/// Where to connect: the name (for TLS SNI and logs) and the address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub name: String,
    pub addr: SocketAddr,
}

/// What happened to one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted; the server's final reply.
    Sent(String),
    /// Try again later.
    Temporary(String),
    /// Will never work: bounce.
    Permanent(String),
}

/// An outbound relay as the queue uses it.
#[derive(Clone, Debug)]
pub struct Relay {
    pub name: String,
    pub next_hop: crate::manifest::NextHop,
    pub tls: crate::manifest::RelayTls,
    /// User name and password.
    pub login: Option<(String, String)>,
}

/// One message for one group of recipients.
pub struct Transaction<'a> {
    pub helo: &'a str,
    pub from: &'a str,
    pub to: &'a [String],
    pub data: &'a [u8],
}

/// A reply: code and text lines.
#[derive(Clone, Debug)]
struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    fn class(&self) -> u16 {
        self.code / 100
    }

    /// `250 text` (lines joined), for logs and reports.
    fn text(&self) -> String {
        format!("{} {}", self.code, self.lines.join(" "))
            .trim_end()
            .to_string()
    }

    fn outcome(&self) -> Outcome {
        match self.class() {
            2 => Outcome::Sent(self.text()),
            5 => Outcome::Permanent(self.text()),
            _ => Outcome::Temporary(self.text()),
        }
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

struct Session {
    io: BufReader<Box<dyn Io>>,
    peer: String,
}

/// A failure that ends the session with this server.
#[derive(Debug)]
enum Stop {
    /// Try the next server (connection trouble, a refusing greeting).
    NextHost(String),
    /// The answer for every recipient of the transaction.
    All(Outcome),
}

fn io_stop(peer: &str, what: &str, e: impl std::fmt::Display) -> Stop {
    Stop::NextHost(format!("{peer}: {what}: {e}"))
}

async fn read_line<R: AsyncBufRead + Unpin>(r: &mut R) -> std::io::Result<String> {
    let mut line = Vec::new();
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let (take, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        line.extend_from_slice(&buf[..take]);
        r.consume(take);
        if line.len() > MAX_LINE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "reply line too long",
            ));
        }
        if done {
            break;
        }
    }
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// Reads one (possibly multi-line) reply: `DDD-text` … `DDD text`.
async fn read_reply<R: AsyncBufRead + Unpin>(r: &mut R) -> std::io::Result<Reply> {
    let bad = |l: &str| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not an SMTP reply: {:?}",
                l.chars().take(80).collect::<String>()
            ),
        )
    };
    let mut lines = Vec::new();
    let mut code = None;
    loop {
        let line = read_line(r).await?;
        let b = line.as_bytes();
        if b.len() < 3 || !b[..3].iter().all(u8::is_ascii_digit) || !matches!(b[0], b'2'..=b'5') {
            return Err(bad(&line));
        }
        let c: u16 = line[..3].parse().map_err(|_| bad(&line))?;
        if code.is_some_and(|k| k != c) {
            return Err(bad(&line));
        }
        code = Some(c);
        let (last, text) = match b.get(3) {
            None => (true, ""),
            Some(b' ') => (true, &line[4..]),
            Some(b'-') => (false, &line[4..]),
            Some(_) => return Err(bad(&line)),
        };
        lines.push(text.to_string());
        if last {
            return Ok(Reply { code: c, lines });
        }
        if lines.len() > MAX_LINES {
            return Err(bad("too many lines"));
        }
    }
}

impl Session {
    async fn reply(&mut self, wait: Duration) -> Result<Reply, Stop> {
        match timeout(wait, read_reply(&mut self.io)).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(io_stop(&self.peer, "reading a reply", e)),
            Err(_) => Err(io_stop(&self.peer, "reading a reply", "timed out")),
        }
    }

    async fn send(&mut self, bytes: &[u8], wait: Duration) -> Result<(), Stop> {
        let w = async {
            self.io.get_mut().write_all(bytes).await?;
            self.io.get_mut().flush().await
        };
        match timeout(wait, w).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(io_stop(&self.peer, "writing", e)),
            Err(_) => Err(io_stop(&self.peer, "writing", "timed out")),
        }
    }

    async fn command(&mut self, line: &str) -> Result<Reply, Stop> {
        self.send(format!("{line}\r\n").as_bytes(), COMMAND).await?;
        self.reply(COMMAND).await
    }
}

/// Accepts any certificate: opportunistic TLS (RFC 7435 §1.3, and RFC 7672
/// §1.3 on why SMTP servers' certificates cannot be checked without DANE).
/// The handshake signatures are still verified, so the session key is bound
/// to the certificate that was presented.
#[derive(Debug)]
struct Opportunistic(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Opportunistic {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The TLS client configuration for STARTTLS.
pub fn tls_connector() -> Result<tokio_rustls::TlsConnector, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Opportunistic(provider)))
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// The bytes after DATA: CRLF line ends (a bare CR or LF of a message
/// queued by an older mailc becomes CRLF: never sent alone, RFC 5321
/// §2.3.8), leading dots doubled (§4.5.2), and the final `.` line.
pub fn dot_stuff(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 50 + 8);
    let mut at_line_start = true;
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        match b {
            b'\r' | b'\n' => {
                out.extend_from_slice(b"\r\n");
                if b == b'\r' && data.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                at_line_start = true;
            }
            _ => {
                out.push(b);
                at_line_start = false;
            }
        }
        i += 1;
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Capabilities we use from an EHLO reply.
#[derive(Default)]
struct Ehlo {
    starttls: bool,
    auth_plain: bool,
    eight_bit: bool,
    size: bool,
}

fn parse_ehlo(r: &Reply) -> Ehlo {
    let mut e = Ehlo::default();
    for l in r.lines.iter().skip(1) {
        let kw = l
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        match kw.as_str() {
            "STARTTLS" => e.starttls = true,
            "AUTH" => {
                e.auth_plain |= l
                    .split_whitespace()
                    .skip(1)
                    .any(|m| m.eq_ignore_ascii_case("PLAIN"))
            }
            "8BITMIME" => e.eight_bit = true,
            "SIZE" => e.size = true,
            _ => {}
        }
    }
    e
}

/// Delivers `t` to the first candidate that takes the transaction; one
/// outcome per recipient, in order.
pub async fn deliver(
    candidates: &[Candidate],
    t: &Transaction<'_>,
    tls: &tokio_rustls::TlsConnector,
    relay: Option<&Relay>,
) -> Vec<Outcome> {
    use crate::manifest::RelayTls;
    let mut last = String::from("no server to connect to");
    // Only an opportunistic peer gets a plaintext try after a failed
    // handshake.
    let fallback = relay.is_none_or(|r| r.tls == RelayTls::Opportunistic);
    for c in candidates {
        let mut use_tls = true;
        loop {
            match session(c, t, tls, use_tls, relay).await {
                Ok(outcomes) => return outcomes,
                Err((Stop::All(o), _)) => return vec![o; t.to.len()],
                Err((Stop::NextHost(why), tls_failed)) => {
                    last = why;
                    if tls_failed && use_tls && fallback {
                        // RFC 7435 §4.2 fallback: try again in plaintext.
                        use_tls = false;
                        continue;
                    }
                    break;
                }
            }
        }
    }
    vec![Outcome::Temporary(last); t.to.len()]
}

/// One connection. The error says whether it was the TLS handshake that
/// failed (then the same server is worth a plaintext try).
async fn session(
    c: &Candidate,
    t: &Transaction<'_>,
    tls: &tokio_rustls::TlsConnector,
    use_tls: bool,
    relay: Option<&Relay>,
) -> Result<Vec<Outcome>, (Stop, bool)> {
    use crate::manifest::RelayTls;
    let peer = format!("{} [{}]", c.name, c.addr);
    let tcp = match timeout(CONNECT, TcpStream::connect(c.addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err((io_stop(&peer, "connecting", e), false)),
        Err(_) => return Err((io_stop(&peer, "connecting", "timed out"), false)),
    };
    let _ = tcp.set_nodelay(true);
    let name = ServerName::try_from(c.name.clone())
        .unwrap_or_else(|_| ServerName::IpAddress(c.addr.ip().into()));
    let implicit = relay.is_some_and(|r| r.tls == RelayTls::Implicit);
    let required = relay.is_some_and(|r| r.tls != RelayTls::Opportunistic);
    let mut secured = false;
    let mut s = if implicit {
        // RFC 8314 §3.3: TLS first, then the greeting inside it.
        let stream = match timeout(COMMAND, tls.connect(name.clone(), tcp)).await {
            Ok(Ok(st)) => st,
            Ok(Err(e)) => return Err((io_stop(&peer, "TLS handshake", e), true)),
            Err(_) => return Err((io_stop(&peer, "TLS handshake", "timed out"), true)),
        };
        secured = true;
        Session {
            io: BufReader::new(Box::new(stream) as Box<dyn Io>),
            peer: format!("{peer} (TLS)"),
        }
    } else {
        Session {
            io: BufReader::new(Box::new(tcp) as Box<dyn Io>),
            peer: peer.clone(),
        }
    };
    let plain = |e| (e, false);
    let greeting = s.reply(GREETING).await.map_err(plain)?;
    if greeting.class() != 2 {
        // RFC 5321 §3.1: a 554 greeting; the next MX may do better.
        let _ = s.command("QUIT").await;
        return Err((
            Stop::NextHost(format!("{peer} greeted with {}", greeting.text())),
            false,
        ));
    }
    let mut caps = hello(&mut s, t.helo).await.map_err(plain)?;
    if caps.starttls && use_tls && !secured {
        let r = s.command("STARTTLS").await.map_err(plain)?;
        if r.class() == 2 {
            if !s.io.buffer().is_empty() {
                // Bytes sent before the handshake would be read as if
                // protected (CVE-2011-0411): refuse the server.
                return Err((
                    Stop::NextHost(format!("{peer} sent data ahead of STARTTLS")),
                    true,
                ));
            }
            let inner = s.io.into_inner();
            let stream = match timeout(COMMAND, tls.connect(name, inner)).await {
                Ok(Ok(st)) => st,
                Ok(Err(e)) => return Err((io_stop(&peer, "TLS handshake", e), true)),
                Err(_) => return Err((io_stop(&peer, "TLS handshake", "timed out"), true)),
            };
            s = Session {
                io: BufReader::new(Box::new(stream) as Box<dyn Io>),
                peer: format!("{peer} (TLS)"),
            };
            caps = hello(&mut s, t.helo).await.map_err(plain)?;
            secured = true;
        }
    }
    if required && !secured {
        // RFC 3207 §4: a client that requires TLS does not go on without it.
        let _ = s.command("QUIT").await;
        return Err((
            Stop::All(Outcome::Temporary(format!(
                "4.7.10 {peer} offers no STARTTLS, which this relay requires"
            ))),
            false,
        ));
    }
    if let Some((user, password)) = relay.and_then(|r| r.login.as_ref()) {
        login(&mut s, &caps, user, password).await.map_err(plain)?;
    }
    transaction(&mut s, t, &caps).await.map_err(plain)
}

/// AUTH PLAIN (RFC 4616) inside TLS. A refusal makes the mail wait, as a
/// wrong or missing password is the relay's configuration to fix.
async fn login(s: &mut Session, caps: &Ehlo, user: &str, password: &str) -> Result<(), Stop> {
    use base64::Engine;
    if !caps.auth_plain {
        let _ = s.command("QUIT").await;
        return Err(Stop::All(Outcome::Temporary(format!(
            "4.7.0 {} does not offer AUTH PLAIN, which this relay's login needs",
            s.peer
        ))));
    }
    let token = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
    // The reply is read, the command never logged.
    let r = s.command(&format!("AUTH PLAIN {token}")).await?;
    if r.class() == 2 {
        return Ok(());
    }
    let _ = s.command("QUIT").await;
    Err(Stop::All(Outcome::Temporary(format!(
        "4.7.0 {} refused our login: {}",
        s.peer,
        r.text()
    ))))
}

/// EHLO, or HELO when the server does not know EHLO.
async fn hello(s: &mut Session, helo: &str) -> Result<Ehlo, Stop> {
    let r = s.command(&format!("EHLO {helo}")).await?;
    if r.class() == 2 {
        return Ok(parse_ehlo(&r));
    }
    let r = s.command(&format!("HELO {helo}")).await?;
    if r.class() == 2 {
        return Ok(Ehlo::default());
    }
    Err(Stop::NextHost(format!(
        "{} refused our greeting: {}",
        s.peer,
        r.text()
    )))
}

async fn transaction(
    s: &mut Session,
    t: &Transaction<'_>,
    caps: &Ehlo,
) -> Result<Vec<Outcome>, Stop> {
    // Every address is written from its parsed form (RFC 5321 §4.1.2):
    // quoted when it must be, and never at all when it cannot be.
    let Some(from) = address::external(t.from) else {
        return Err(Stop::All(Outcome::Permanent(
            crate::reply::UNWRITABLE_SENDER.into(),
        )));
    };
    let mut mail = format!("MAIL FROM:<{from}>");
    if caps.size {
        mail.push_str(&format!(" SIZE={}", t.data.len()));
    }
    if caps.eight_bit && t.data.iter().any(|b| *b >= 0x80) {
        mail.push_str(" BODY=8BITMIME");
    }
    let r = s.command(&mail).await?;
    match r.class() {
        2 => {}
        5 => {
            let _ = s.command("QUIT").await;
            return Err(Stop::All(Outcome::Permanent(r.text())));
        }
        _ => {
            let _ = s.command("QUIT").await;
            return Err(Stop::NextHost(format!(
                "{}: MAIL FROM: {}",
                s.peer,
                r.text()
            )));
        }
    }
    let mut out: Vec<Option<Outcome>> = Vec::with_capacity(t.to.len());
    for rcpt in t.to {
        let Some(rcpt) = address::external(rcpt) else {
            out.push(Some(Outcome::Permanent(
                crate::reply::UNWRITABLE_RECIPIENT.into(),
            )));
            continue;
        };
        let r = s.command(&format!("RCPT TO:<{rcpt}>")).await?;
        out.push(if r.class() == 2 {
            None
        } else {
            Some(r.outcome())
        });
    }
    if out.iter().all(Option::is_some) {
        let _ = s.command("QUIT").await;
        return Ok(out.into_iter().flatten().collect());
    }
    let r = s.command("DATA").await?;
    let final_reply = if r.code == 354 {
        s.send(&dot_stuff(t.data), DATA_END).await?;
        match s.reply(DATA_END).await {
            Ok(r) => r.outcome(),
            // RFC 5321 §6.1: the server may have taken it; sending again
            // risks a duplicate, which beats losing the message.
            Err(Stop::NextHost(why)) => Outcome::Temporary(why),
            Err(Stop::All(o)) => o,
        }
    } else {
        r.outcome()
    };
    let _ = s.command("QUIT").await;
    Ok(out
        .into_iter()
        .map(|o| o.unwrap_or_else(|| final_reply.clone()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_stuffing() {
        assert_eq!(dot_stuff(b"a\r\n.b\r\n"), b"a\r\n..b\r\n.\r\n");
        assert_eq!(dot_stuff(b".x\nlast"), b"..x\r\nlast\r\n.\r\n");
        assert_eq!(dot_stuff(b""), b".\r\n");
        // Bare CR and LF never go out alone; no dot line can be made of them.
        assert_eq!(dot_stuff(b"a\rb"), b"a\r\nb\r\n.\r\n");
        assert_eq!(
            dot_stuff(b"a\r\n.\r\r\nMAIL"),
            b"a\r\n..\r\n\r\nMAIL\r\n.\r\n"
        );
        assert_eq!(dot_stuff(b"a\n.\nb"), b"a\r\n..\r\nb\r\n.\r\n");
    }

    #[tokio::test]
    async fn replies() {
        let mut r = &b"250-mx.example\r\n250-STARTTLS\r\n250 8BITMIME\r\n220 next\r\n"[..];
        let reply = read_reply(&mut r).await.unwrap();
        assert_eq!(reply.code, 250);
        let e = parse_ehlo(&reply);
        assert!(e.starttls && e.eight_bit && !e.size);
        assert_eq!(read_reply(&mut r).await.unwrap().text(), "220 next");
        let mut bad = &b"hello\r\n"[..];
        assert!(read_reply(&mut bad).await.is_err());
        let mut mixed = &b"250-a\r\n251 b\r\n"[..];
        assert!(read_reply(&mut mixed).await.is_err());
        // A server that never ends its line or its reply is cut off.
        let long = vec![b'x'; MAX_LINE * 2];
        let mut r = &[b"250 ".as_slice(), &long, b"\r\n"].concat()[..];
        assert!(read_reply(&mut r).await.is_err());
        let endless = b"250-more\r\n".repeat(MAX_LINES + 5);
        let mut r = &endless[..];
        assert!(read_reply(&mut r).await.is_err());
        let mut cut = &b"250-half"[..];
        assert!(read_reply(&mut cut).await.is_err());
    }
}
