//! The POP3 side of `mailc serve`, run for real on 127.0.0.1
//! (`tests/cases/embedded-imap`, whose example.com offers POP3 and
//! example.org does not) and driven over raw sockets byte for byte, by
//! Python's poplib (`tests/pop3/session.py`) and by fetchmail:
//!
//! - a whole session, every byte checked: greeting, CAPA, USER/PASS from
//!   loopback, STAT, LIST, UIDL, RETR with dot-stuffing, TOP, DELE, RSET,
//!   QUIT;
//! - STLS then AUTH PLAIN, implicit TLS; USER/PASS refused in plaintext
//!   off loopback; a second session of the same user refused `[IN-USE]`;
//!   a mailbox of a domain without POP3 refused;
//! - UIDLs equal to the IMAP UIDs and UIDVALIDITY, the same after kill -9
//!   and a restart; DELE takes effect at QUIT only (a dropped connection or
//!   a kill -9 before QUIT deletes nothing), and durably.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

mod support;

use support::serve::Server;
use support::{Temp, outside_address, pop3, root};

/// `mailc serve` of `tests/cases/embedded-imap` (IMAP and POP3) on
/// `host`.
fn start_on(host: &str, data: &Path) -> Server {
    Server::build(&root().join("tests/cases/embedded-imap/mailc.yaml"), data)
        .host("mx1")
        .ports_from(31000)
        .listen("--imap", host)
        .listen("--pop3", host)
        .listen("--pop3s", host)
        .start()
}

/// The same on 127.0.0.1.
fn start(data: &Path) -> Server {
    start_on("127.0.0.1", data)
}

/// A raw POP3 connection.
struct Raw {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Raw {
    fn connect(host: &str, port: u16) -> Raw {
        let s = TcpStream::connect((host, port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        Raw {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
        }
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.reader.read_line(&mut l).unwrap();
        l
    }

    /// Sends `command` and reads the one-line reply.
    fn say(&mut self, command: &str) -> String {
        self.writer
            .write_all(format!("{command}\r\n").as_bytes())
            .unwrap();
        self.line()
    }

    /// Sends `command` and reads a multi-line reply up to and with `.`.
    fn multi(&mut self, command: &str) -> String {
        let mut out = self.say(command);
        if !out.starts_with("+OK") {
            return out;
        }
        loop {
            let l = self.line();
            assert!(!l.is_empty(), "closed inside a multi-line reply: {out}");
            out.push_str(&l);
            if l == ".\r\n" {
                return out;
            }
        }
    }
}

const PLAIN: &str = "alice@example.com";

fn login(user: &str) -> String {
    format!("login:{user}:{}-pw", user.split('@').next().unwrap())
}

#[test]
fn a_whole_session_byte_for_byte() {
    let tmp = Temp::new("pop3-raw");
    let server = start(&tmp.0);
    server.deliver(
        PLAIN,
        "1000.a.host",
        "Subject: one\n\nhello\n.hidden dot\n..two dots\n.\nend",
    );
    server.deliver(PLAIN, "1001.b.host", "Subject: two\n\nsecond\n");
    let mut c = Raw::connect("127.0.0.1", server.port("--pop3"));
    assert_eq!(c.line(), "+OK mailc POP3 server ready\r\n");
    assert_eq!(
        c.multi("CAPA"),
        "+OK capability list follows\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n\
         PIPELINING\r\nSTLS\r\nUSER\r\nSASL PLAIN\r\n.\r\n"
    );
    assert_eq!(c.say("STAT"), "-ERR unknown command in this state\r\n");
    assert_eq!(c.say("PASS x"), "-ERR USER first\r\n");
    assert_eq!(c.say("USER alice@example.com"), "+OK send PASS\r\n");
    assert_eq!(c.say("PASS alice-pw"), "+OK 2 messages (78 octets)\r\n");
    assert_eq!(c.say("STAT"), "+OK 2 78\r\n");
    assert_eq!(c.multi("LIST"), "+OK 2 messages\r\n1 54\r\n2 24\r\n.\r\n");
    assert_eq!(c.say("LIST 2"), "+OK 2 24\r\n");
    assert_eq!(c.say("LIST 3"), "-ERR no such message\r\n");
    let (validity, uids, _) = pop3::imap_uids(server.port("--imap"), PLAIN, "alice-pw");
    assert_eq!(uids, [1, 2]);
    assert_eq!(
        c.multi("UIDL"),
        format!(
            "+OK 2 messages\r\n1 {}\r\n2 {}\r\n.\r\n",
            pop3::uidl_of(validity, 1),
            pop3::uidl_of(validity, 2)
        )
    );
    // RFC 1939 §3: a line starting with `.` gets one more; the message's
    // last line is ended before the final `.`.
    assert_eq!(
        c.multi("RETR 1"),
        "+OK 54 octets\r\nSubject: one\r\n\r\nhello\r\n..hidden dot\r\n...two dots\r\n..\r\nend\r\n.\r\n"
    );
    assert_eq!(
        c.multi("TOP 1 1"),
        "+OK top of message follows\r\nSubject: one\r\n\r\nhello\r\n.\r\n"
    );
    assert_eq!(
        c.say("TOP 1"),
        "-ERR TOP needs a message and a line count\r\n"
    );
    assert_eq!(c.say("DELE 1"), "+OK message 1 deleted\r\n");
    assert_eq!(c.say("DELE 1"), "-ERR no such message\r\n");
    assert_eq!(c.say("RETR 1"), "-ERR no such message\r\n");
    assert_eq!(c.say("STAT"), "+OK 1 24\r\n");
    assert_eq!(c.say("RSET"), "+OK 2 messages\r\n");
    assert_eq!(c.say("NOOP"), "+OK\r\n");
    assert_eq!(c.say("USER bob@example.com"), "-ERR already logged in\r\n");
    assert_eq!(c.say("DELE 2"), "+OK message 2 deleted\r\n");
    assert_eq!(c.say("QUIT"), "+OK bye, 1 messages deleted\r\n");
    let mut rest = Vec::new();
    let _ = c.reader.read_to_end(&mut rest);
    assert!(rest.is_empty());
    // RETR marked message 1 read (TOP alone would not have).
    let (_, uids, seen) = pop3::imap_uids(server.port("--imap"), PLAIN, "alice-pw");
    assert_eq!((uids, seen), (vec![1], vec![1]));
}

#[test]
fn uidls_match_imap_and_deletions_wait_for_quit() {
    let tmp = Temp::new("pop3-uidl");
    let mut server = start(&tmp.0);
    for i in 0..4 {
        server.deliver(
            PLAIN,
            &format!("100{i}.m.host"),
            &format!("Subject: m{i}\n\nbody {i}\n"),
        );
    }
    let said = pop3::session(
        server.port("--pop3"),
        &["stls", "plain:alice@example.com:alice-pw", "uidl", "quit"],
    );
    let first = pop3::uidls(pop3::ok(&said, 3));
    let (validity, uids, _) = pop3::imap_uids(server.port("--imap"), PLAIN, "alice-pw");
    let want: Vec<(u32, String)> = uids
        .iter()
        .enumerate()
        .map(|(i, u)| (i as u32 + 1, pop3::uidl_of(validity, *u)))
        .collect();
    assert_eq!(first, want);

    // The same after kill -9 and a restart, on implicit TLS.
    server.restart();
    let said = pop3::session(
        server.port("--pop3s"),
        &["tls", &login(PLAIN), "uidl", "quit"],
    );
    assert_eq!(pop3::uidls(pop3::ok(&said, 2)), want);

    // A dropped connection deletes nothing; so does a kill -9 before QUIT.
    let said = pop3::session(
        server.port("--pop3"),
        &["stls", &login(PLAIN), "dele:1", "dele:2", "drop"],
    );
    pop3::ok(&said, 4);
    let mut c = Raw::connect("127.0.0.1", server.port("--pop3"));
    c.line();
    assert!(c.say("USER alice@example.com").starts_with("+OK"));
    assert!(c.say("PASS alice-pw").starts_with("+OK 4 messages"));
    // A second session of the same user meanwhile: the maildrop is locked.
    let said = pop3::session(server.port("--pop3"), &["stls", &login(PLAIN)]);
    assert!(pop3::err(&said, 2).starts_with("-ERR [IN-USE]"), "{said:?}");
    assert!(c.say("DELE 3").starts_with("+OK"));
    server.restart();
    assert_eq!(
        pop3::imap_uids(server.port("--imap"), PLAIN, "alice-pw").1,
        uids
    );

    // DELE then QUIT: gone, over IMAP too, and still gone after a restart.
    let said = pop3::session(
        server.port("--pop3"),
        &["stls", &login(PLAIN), "dele:2", "quit"],
    );
    assert!(pop3::ok(&said, 4).as_str().unwrap().starts_with("+OK"));
    server.restart();
    let left: Vec<u32> = [uids[0], uids[2], uids[3]].to_vec();
    assert_eq!(
        pop3::imap_uids(server.port("--imap"), PLAIN, "alice-pw").1,
        left
    );
    let said = pop3::session(
        server.port("--pop3"),
        &["stls", &login(PLAIN), "uidl", "quit"],
    );
    let renumbered: Vec<(u32, String)> = left
        .iter()
        .enumerate()
        .map(|(i, u)| (i as u32 + 1, pop3::uidl_of(validity, *u)))
        .collect();
    assert_eq!(pop3::uidls(pop3::ok(&said, 3)), renumbered);

    // fetchmail takes the three and keeps them; nothing new the second time.
    let fm = tmp.0.join("fetchmail");
    let (code, log) = pop3::fetchmail(&fm, server.port("--pop3"), PLAIN, "alice-pw", false);
    assert_eq!(code, 0, "{log}\n{}", server.log_text());
    let fetched = std::fs::read_to_string(fm.join("fetched")).unwrap_or_default();
    for i in [0, 2, 3] {
        assert!(fetched.contains(&format!("Subject: m{i}")), "{fetched}");
    }
    let (code, log) = pop3::fetchmail(&fm, server.port("--pop3"), PLAIN, "alice-pw", false);
    assert_eq!(code, 1, "{log}");
}

#[test]
fn refusals() {
    let tmp = Temp::new("pop3-refusals");
    let server = start(&tmp.0);
    // A wrong password; a domain that does not offer POP3: its right
    // password reads as a wrong one, as Dovecot's deny passdb answers it
    // (carol logs in over IMAP all the same).
    let said = pop3::session(server.port("--pop3"), &["login:alice@example.com:wrong"]);
    assert_eq!(pop3::err(&said, 1), "-ERR [AUTH] authentication failed");
    let said = pop3::session(
        server.port("--pop3"),
        &["stls", &login("carol@example.org")],
    );
    assert_eq!(
        pop3::err(&said, 2),
        "-ERR [AUTH] authentication failed",
        "{said:?}"
    );
    pop3::imap_uids(server.port("--imap"), "carol@example.org", "carol-pw");
    // After STLS, CAPA offers STLS no more, and USER now.
    let said = pop3::session(server.port("--pop3"), &["stls", "capa"]);
    let capa = pop3::ok(&said, 2);
    assert!(
        capa.get("STLS").is_none() && capa.get("USER").is_some(),
        "{capa}"
    );
}

#[test]
fn off_loopback_passwords_wait_for_stls() {
    let tmp = Temp::new("pop3-outside");
    let host = outside_address();
    let server = start_on(&host, &tmp.0);
    let mut c = Raw::connect(&host, server.port("--pop3"));
    c.line();
    assert_eq!(
        c.multi("CAPA"),
        "+OK capability list follows\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n\
         PIPELINING\r\nSTLS\r\n.\r\n"
    );
    let refused = "-ERR [AUTH] plaintext passwords only over TLS: use STLS first\r\n";
    assert_eq!(c.say("USER alice@example.com"), refused);
    assert_eq!(c.say("PASS alice-pw"), refused);
    assert_eq!(
        c.say("AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAGFsaWNlLXB3"),
        refused
    );
    assert_eq!(c.say("STLS"), "+OK begin TLS negotiation\r\n");
}
