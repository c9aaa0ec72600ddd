//! A small SMTP server standing for an outbound relay in tests: it listens
//! on 127.0.0.1, offers STARTTLS (or speaks TLS from the first byte), can
//! require AUTH PLAIN with one login, can answer MAIL with a fixed
//! temporary refusal, and records every message it accepts (its bytes as
//! sent, dots unstuffed, and its MAIL and RCPT command lines byte for byte)
//! with what was seen of the session. One thread per connection; stopped
//! when dropped.
#![allow(dead_code)] // each test binary uses a part

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;

/// The reply to `RCPT TO:<address>`, given how many times that address was
/// offered before.
pub type RcptPolicy = Arc<dyn Fn(&str, usize) -> String + Send + Sync>;

/// What a sink does.
#[derive(Clone, Default)]
pub struct SinkConfig {
    /// TLS from the first byte instead of STARTTLS.
    pub implicit_tls: bool,
    /// The one login it accepts; AUTH is then required before MAIL.
    pub login: Option<(String, String)>,
    /// A reply to give every MAIL command instead of 250 (a 4xx relay).
    pub refuse_mail: Option<String>,
    /// No STARTTLS offered: an old server that speaks only plain SMTP.
    pub plain_only: bool,
    /// EHLO offers 8BITMIME and nothing else (no STARTTLS, SIZE or AUTH),
    /// so a client's MAIL and RCPT lines carry no parameters it need not.
    pub bare_ehlo: bool,
    /// How RCPT is answered (else `250` to all); a refused address is not
    /// among the message's recipients.
    pub rcpt: Option<RcptPolicy>,
}

/// One accepted message.
#[derive(Clone, Debug)]
pub struct Caught {
    pub from: String,
    pub to: Vec<String>,
    /// The message as it came, CRLF line ends, dots unstuffed.
    pub data: Vec<u8>,
    /// Whether the session was inside TLS.
    pub tls: bool,
    /// The user that logged in, if any.
    pub user: Option<String>,
    /// The transaction's MAIL and RCPT command lines, byte for byte with
    /// their line ends.
    pub lines: Vec<u8>,
}

impl Caught {
    /// The message as text (for finding a header in it).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }

    /// The MAIL and RCPT lines as Latin-1 text: one character a byte, so
    /// any byte the client sent shows.
    pub fn command_lines(&self) -> String {
        self.lines.iter().map(|&b| char::from(b)).collect()
    }
}

pub struct Sink {
    pub port: u16,
    pub caught: Arc<Mutex<Vec<Caught>>>,
    /// Every command line seen, AUTH lines included (to check what the
    /// client sent, never printed by a passing test).
    pub mail_commands: Arc<Mutex<usize>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn tls_config() -> Arc<rustls::ServerConfig> {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = ck.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        ck.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    Arc::new(config)
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

impl Sink {
    /// A sink on 127.0.0.1: on `port`, or on a free port for 0.
    pub fn start(port: u16, config: SinkConfig) -> Sink {
        Sink::start_at("127.0.0.1", port, config)
    }

    /// A sink on `ip`:`port` (another loopback address, a free port for 0).
    pub fn start_at(ip: &str, port: u16, config: SinkConfig) -> Sink {
        let listener = TcpListener::bind((ip, port))
            .unwrap_or_else(|e| panic!("the sink cannot listen on {ip}:{port}: {e}"));
        let port = listener.local_addr().unwrap().port();
        let caught = Arc::new(Mutex::new(Vec::new()));
        let mail_commands = Arc::new(Mutex::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let tls = tls_config();
        let (c, m, s) = (caught.clone(), mail_commands.clone(), stop.clone());
        let offered: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (c, m, tls, config) = (c.clone(), m.clone(), tls.clone(), config.clone());
                let offered = offered.clone();
                std::thread::spawn(move || {
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(120)));
                    session(conn, &config, tls, &c, &m, &offered);
                });
            }
        });
        Sink {
            port,
            caught,
            mail_commands,
            stop,
        }
    }

    pub fn messages(&self) -> Vec<Caught> {
        self.caught.lock().unwrap().clone()
    }

    /// The first message `f` picks.
    pub fn find(&self, f: impl Fn(&Caught) -> bool) -> Option<Caught> {
        self.caught.lock().unwrap().iter().find(|m| f(m)).cloned()
    }

    /// The first message whose text holds `needle` (e.g. its `Subject:`
    /// line).
    pub fn with_text(&self, needle: &str) -> Option<Caught> {
        self.find(|m| m.text().contains(needle))
    }

    /// MAIL commands seen (refused ones included).
    pub fn mail_attempts(&self) -> usize {
        *self.mail_commands.lock().unwrap()
    }

    /// Waits (two minutes at most: a queue retries on its own schedule)
    /// until `n` messages have come, then returns them all; `context` is
    /// shown if they do not (a server's log).
    pub fn wait_for(&self, n: usize, context: impl Fn() -> String) -> Vec<Caught> {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the sink has {} of {n} messages: {got:#?}\n{}",
                got.len(),
                context()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The message for `to`.
    pub fn sent_to(got: &[Caught], to: &str) -> Caught {
        got.iter()
            .find(|m| m.to.iter().any(|t| t == to))
            .cloned()
            .unwrap_or_else(|| panic!("nothing for {to}: {got:#?}"))
    }
}

fn session(
    tcp: TcpStream,
    config: &SinkConfig,
    tls: Arc<rustls::ServerConfig>,
    caught: &Mutex<Vec<Caught>>,
    mail_commands: &Mutex<usize>,
    offered: &Mutex<BTreeMap<String, usize>>,
) {
    let mut secure = config.implicit_tls;
    let stream: Box<dyn Stream> = if secure {
        let conn = rustls::ServerConnection::new(tls.clone()).unwrap();
        Box::new(rustls::StreamOwned::new(conn, tcp.try_clone().unwrap()))
    } else {
        Box::new(tcp.try_clone().unwrap())
    };
    let mut io = BufReader::new(stream);
    let say = |io: &mut BufReader<Box<dyn Stream>>, s: &str| {
        let _ = io.get_mut().write_all(format!("{s}\r\n").as_bytes());
        let _ = io.get_mut().flush();
    };
    say(&mut io, "220 sink.test ESMTP");
    let mut user: Option<String> = None;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut lines = Vec::new();
    loop {
        let mut raw = Vec::new();
        match io.read_until(b'\n', &mut raw) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&raw).trim_end().to_string();
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            let mut caps = vec!["250-sink.test".to_string()];
            if !secure && !config.plain_only && !config.bare_ehlo {
                caps.push("250-STARTTLS".into());
            }
            if config.login.is_some() && secure {
                caps.push("250-AUTH PLAIN".into());
            }
            if !config.bare_ehlo {
                caps.push("250-SIZE 50000000".into());
            }
            caps.push("250 8BITMIME".into());
            say(&mut io, &caps.join("\r\n"));
        } else if upper.starts_with("HELO") {
            say(&mut io, "250 sink.test");
        } else if upper == "STARTTLS" && !secure && !config.plain_only && !config.bare_ehlo {
            say(&mut io, "220 go ahead");
            let conn = rustls::ServerConnection::new(tls.clone()).unwrap();
            let inner: Box<dyn Stream> =
                Box::new(rustls::StreamOwned::new(conn, tcp.try_clone().unwrap()));
            io = BufReader::new(inner);
            secure = true;
            user = None;
        } else if upper.starts_with("AUTH PLAIN") {
            let given = match line.split_whitespace().nth(2) {
                Some(t) => t.to_string(),
                None => {
                    say(&mut io, "334 ");
                    let mut t = String::new();
                    let _ = io.read_line(&mut t);
                    t.trim().to_string()
                }
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(given)
                .unwrap_or_default();
            let parts: Vec<String> = decoded
                .split(|b| *b == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            match (&config.login, parts.as_slice()) {
                (Some((u, p)), [_, gu, gp]) if gu == u && gp == p && secure => {
                    user = Some(u.clone());
                    say(&mut io, "235 2.7.0 ok");
                }
                _ => say(&mut io, "535 5.7.8 bad login"),
            }
        } else if upper.starts_with("MAIL FROM:") {
            *mail_commands.lock().unwrap() += 1;
            if let Some(r) = &config.refuse_mail {
                say(&mut io, r);
            } else if config.login.is_some() && user.is_none() {
                say(&mut io, "530 5.7.0 authentication required");
            } else {
                from = angle(&line[10..]);
                to.clear();
                lines = raw;
                say(&mut io, "250 ok");
            }
        } else if upper.starts_with("RCPT TO:") {
            let address = angle(&line[8..]);
            let reply = match &config.rcpt {
                None => "250 ok".to_string(),
                Some(policy) => {
                    let seen = {
                        let mut offered = offered.lock().unwrap();
                        let n = offered.entry(address.clone()).or_insert(0);
                        *n += 1;
                        *n - 1
                    };
                    policy(&address, seen)
                }
            };
            if reply.starts_with('2') {
                to.push(address);
            }
            lines.extend_from_slice(&raw);
            say(&mut io, &reply);
        } else if upper == "DATA" {
            say(&mut io, "354 go");
            let mut data = Vec::new();
            loop {
                let mut l = Vec::new();
                match io.read_until(b'\n', &mut l) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if l == b".\r\n" || l == b".\n" {
                    break;
                }
                // RFC 5321 §4.5.2: a leading dot was doubled by the client.
                data.extend_from_slice(l.strip_prefix(b".").unwrap_or(&l));
            }
            caught.lock().unwrap().push(Caught {
                from: from.clone(),
                to: to.clone(),
                data,
                tls: secure,
                user: user.clone(),
                lines: std::mem::take(&mut lines),
            });
            say(&mut io, "250 2.0.0 queued");
        } else if upper == "QUIT" {
            say(&mut io, "221 bye");
            return;
        } else if upper == "RSET" || upper == "NOOP" {
            say(&mut io, "250 ok");
        } else {
            say(&mut io, "502 5.5.1 not here");
        }
    }
}

/// The address inside `<...>` (parameters after it dropped).
fn angle(s: &str) -> String {
    let s = s.trim();
    match (s.find('<'), s.find('>')) {
        (Some(a), Some(b)) if a < b => s[a + 1..b].to_string(),
        _ => s.split_whitespace().next().unwrap_or("").to_string(),
    }
}

/// The relay login the tests use (a test-only password).
pub const USER: &str = "example-news";
pub const PASSWORD: &str = "relay-test-pw^1";

/// A spec with one embedded host: its own relay `plain` (no login) and
/// relay `login` (STARTTLS, AUTH) for `news.example.com` and
/// `offers@example.com`. `fwd@example.com` forwards to an outside address,
/// so mail from any sender to it leaves as outbound mail of that sender.
pub fn spec(dir: &Path, stack: &str, plain: u16, login: u16) {
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    std::fs::write(dir.join("keys/login.secret"), format!("{PASSWORD}\n")).unwrap();
    let hash = "{SHA512-CRYPT}$6$z6MQEt/GaGznLHgp$Byj6wliyFlYZHsGkA4BNdNtrTqS5pXmwqZNxvUaM4udekNI5s8a/QT1eru.9fx11jrZ56JBhTYoI/a1fP.cNA.";
    let text = format!(
        "version: 1
defaults:
  nameservers: [ns1.example.net, ns2.example.net]
  hostmaster: hostmaster@example.com
  dmarc: {{policy: none}}
  srs: false
hosts:
  mx1: {{hostname: mx1.example.com, ipv4: 203.0.113.10, stack: {stack}, outbound_relay: plain}}
outbound_relays:
  plain: {{host: 127.0.0.1, port: {plain}, tls: opportunistic}}
  login:
    host: 127.0.0.1
    port: {login}
    tls: starttls
    username: {USER}
    password_file: keys/login.secret
    senders: [news.example.com, offers@example.com]
domains:
  example.com:
    mx: [mx1]
    mailboxes:
      alice: {{password: '{hash}'}}
    aliases:
      fwd: someone@far.test
  news.example.com:
    mx: [mx1]
"
    );
    std::fs::write(dir.join("mailc.yaml"), text).unwrap();
}

/// Sends one message over plain SMTP; the final reply's code.
pub fn smtp_send(port: u16, from: &str, to: &str, subject: &str) -> String {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut w = s;
    let reply = |r: &mut BufReader<TcpStream>| loop {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        if l.len() < 4 || l.as_bytes()[3] != b'-' {
            break l;
        }
    };
    reply(&mut r);
    for cmd in [
        "EHLO client.test".to_string(),
        format!("MAIL FROM:<{from}>"),
        format!("RCPT TO:<{to}>"),
        "DATA".to_string(),
    ] {
        w.write_all(format!("{cmd}\r\n").as_bytes()).unwrap();
        let got = reply(&mut r);
        assert!(got.starts_with('2') || got.starts_with('3'), "{cmd}: {got}");
    }
    w.write_all(
        format!("From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nrelay test\r\n.\r\n")
            .as_bytes(),
    )
    .unwrap();
    let got = reply(&mut r);
    let _ = w.write_all(b"QUIT\r\n");
    got
}

/// The sinks: `plain` takes anything, `login` wants STARTTLS and AUTH.
pub fn sinks() -> (Sink, Sink) {
    let plain = Sink::start(0, SinkConfig::default());
    let login = Sink::start(
        0,
        SinkConfig {
            login: Some((USER.into(), PASSWORD.into())),
            ..SinkConfig::default()
        },
    );
    (plain, login)
}

/// The sinks of a relay that refuses for now: `plain` takes anything,
/// `login` wants STARTTLS and AUTH and answers every MAIL with 451.
pub fn refusing_sinks() -> (Sink, Sink) {
    let plain = Sink::start(0, SinkConfig::default());
    let login = Sink::start(
        0,
        SinkConfig {
            login: Some((USER.into(), PASSWORD.into())),
            refuse_mail: Some("451 4.3.0 try again later".into()),
            ..SinkConfig::default()
        },
    );
    (plain, login)
}

/// Mail from each sender class of [`spec`] (the host's default, an address
/// rule, a domain rule) through the MTA on `port`: each accepted, all three
/// at the sinks, each through the relay the spec names ([`check_senders`]).
/// `log` is the MTA's log.
pub fn send_each_sender(port: u16, plain: &Sink, login: &Sink, log: impl Fn() -> String) {
    for (from, subject) in [
        ("alice@example.com", "host-default"),
        ("offers@example.com", "address-rule"),
        ("x@news.example.com", "domain-rule"),
    ] {
        let r = smtp_send(port, from, "fwd@example.com", subject);
        assert!(r.starts_with("250"), "{from}: {r}\n{}", log());
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while plain.messages().len() + login.messages().len() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the sinks got {} + {}:\n{}",
            plain.messages().len(),
            login.messages().len(),
            log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    check_senders(plain, login, &log());
}

/// After [`refusing_sinks`]' relay refused: the mail went through no other
/// relay, the refusing one has none, and the password is in no `log`.
pub fn kept_back(plain: &Sink, login: &Sink, log: &str) {
    assert!(
        plain.messages().is_empty(),
        "the mail went to another relay"
    );
    assert!(login.messages().is_empty());
    assert!(!log.contains(PASSWORD), "the password is in a log:\n{log}");
}

/// Which sink (and login) each sender class's mail reached.
pub fn check_senders(plain: &Sink, login: &Sink, log: &str) {
    let by_subject = |s: &Sink, subject: &str| {
        s.messages()
            .into_iter()
            .find(|m| m.text().contains(&format!("Subject: {subject}")))
    };
    for (subject, via_login) in [
        ("host-default", false),
        ("address-rule", true),
        ("domain-rule", true),
    ] {
        let (want, other) = if via_login {
            (login, plain)
        } else {
            (plain, login)
        };
        let m = by_subject(want, subject)
            .unwrap_or_else(|| panic!("{subject}: not at the expected sink"));
        assert!(
            by_subject(other, subject).is_none(),
            "{subject} reached both sinks"
        );
        if via_login {
            assert_eq!(m.user.as_deref(), Some(USER), "{subject}: logged in");
            assert!(m.tls, "{subject}: the login travelled inside TLS");
        } else {
            assert_eq!(m.user, None, "{subject}: no login to the plain relay");
        }
    }
    assert!(!log.contains(PASSWORD), "the password is in a log:\n{log}");
}
