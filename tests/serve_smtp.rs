//! The SMTP side of `mailc serve`, run for real on 127.0.0.1 and driven by
//! real clients (`docs/testing.md`): Python's smtplib and swaks.
//!
//! - delivery to a mailbox, an alias and a catch-all lands in the right
//!   Maildir `new/`, with `Return-Path:` and `Received:` on top and dots
//!   unstuffed; unknown, send-only, null-MX and foreign recipients are
//!   refused with the route's reply;
//! - PIPELINING, STARTTLS (swaks `-tls`), implicit TLS (465), AUTH PLAIN and
//!   LOGIN on submission, a wrong password, a sender the user does not own;
//! - limits: SIZE and DATA over the message size, overlong lines, too many
//!   recipients, too many errors, connections over the limit, idle clients
//!   timed out, quota, garbage bytes; a stopping server says 421;
//! - a certificate or key that is there but cannot be read stops the start
//!   with its path (no self-signed stand-in); `--tls-cert`/`--tls-key`;
//! - kill -9 right after the last `250`: every acknowledged message is in
//!   the store after a restart;
//! - mail rules and the autoresponder (`tests/cases/rules` served by
//!   `mailc serve`): folders, a forward to another mailbox, one reply per
//!   sender with the null sender, none to a list or a bounce, and none
//!   again after kill -9;
//! - sending limits (`tests/cases/limits`): a mailbox at its limit gets
//!   `450 4.7.1` while another of its domain sends until the domain's
//!   limit, and the counts hold across kill -9;
//! - every row of every route table (`tests/routes/*.tsv`): the live
//!   server's RCPT reply is the route's (reject: that exact reply; a domain
//!   not ours: relay denied; else 250).
//!
//! The clients are required: a missing one fails the test, never a skip.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[path = "support/limits.rs"]
mod send_limits;
#[path = "support/sink.rs"]
mod smtp_sink;
mod support;

/// What the tools found by `tool` are for.
const WHY: &str =
    "these tests drive `mailc serve` with real SMTP clients (python3's smtplib, swaks)";
use smtp_sink::{Sink, SinkConfig};
use support::serve;
use support::{Mailc, Temp, copy_dir, free_port, model_of, outside_address, root, spec_dir, tool};

fn mailc_bin() -> &'static str {
    env!("CARGO_BIN_EXE_mailc")
}

/// What `mailc serve` runs: a spec (with `--host`) or a manifest.
#[derive(Clone)]
struct Input {
    path: PathBuf,
    host: Option<String>,
    /// More `mailc serve` flags (`--relay-all`, `--retry-base`).
    extra: Vec<String>,
    /// Submission listens on every address, not only loopback.
    open: bool,
}

/// One running `mailc serve` with its three SMTP ports.
struct Server {
    inner: serve::Server,
    smtp: u16,
    submission: u16,
    submissions: u16,
}

impl Server {
    fn start(input: &Input, data: &Path) -> Server {
        let mut serve = serve::Server::build(&input.path, data).args(&input.extra);
        if let Some(h) = &input.host {
            serve = serve.host(h);
        }
        let submission = if input.open { "0.0.0.0" } else { "127.0.0.1" };
        let inner = serve
            .listen("--smtp", "127.0.0.1")
            .listen("--submission", submission)
            .listen("--submissions", "127.0.0.1")
            .start();
        Server {
            smtp: inner.port("--smtp"),
            submission: inner.port("--submission"),
            submissions: inner.port("--submissions"),
            inner,
        }
    }
}

impl std::ops::Deref for Server {
    type Target = serve::Server;
    fn deref(&self) -> &serve::Server {
        &self.inner
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut serve::Server {
        &mut self.inner
    }
}

/// The embedded-stack case, host mx1, on a fresh data folder.
fn embedded(label: &str) -> (Temp, Server) {
    let tmp = Temp::new(label);
    let input = Input {
        path: root().join("tests/cases/embedded-stack/mailc.yaml"),
        host: Some("mx1".into()),
        extra: Vec::new(),
        open: false,
    };
    let server = Server::start(&input, &tmp.0.join("data"));
    (tmp, server)
}

/// The embedded-stack case, host mx1, with everything outbound going to a
/// fresh recording sink, retried every second.
fn embedded_to_sink(label: &str) -> (Temp, Sink, Server) {
    let tmp = Temp::new(label);
    let sink = sink();
    let input = Input {
        path: root().join("tests/cases/embedded-stack/mailc.yaml"),
        host: Some("mx1".into()),
        extra: vec![
            "--relay-all".into(),
            format!("127.0.0.1:{}", sink.port),
            "--retry-base".into(),
            "1".into(),
        ],
        open: false,
    };
    let server = Server::start(&input, &tmp.0.join("data"));
    (tmp, sink, server)
}

/// Runs a Python script (`python3 -c`) with arguments; fails unless it
/// exits 0. Returns its stdout.
fn python(script: &str, args: &[String]) -> String {
    let out = Command::new(tool("python3", WHY))
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "python failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs swaks against a port; returns its whole transcript (swaks exits
/// non-zero when the server refuses something: the caller reads the
/// transcript).
fn swaks(port: u16, args: &[&str]) -> String {
    let out = Command::new(tool("swaks", WHY))
        .args(["--server", &format!("127.0.0.1:{port}"), "--timeout", "60"])
        .args(args)
        .output()
        .expect("run swaks");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Python helpers every script starts with.
const PY: &str = r#"
import smtplib, socket, ssl, sys, json, os, signal, base64

def sock(port):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=120)
    f = s.makefile("rb")
    return s, f

def reply(f):
    # One whole reply (all its lines), as text.
    lines = []
    while True:
        l = f.readline()
        if not l:
            lines.append("<closed>")
            break
        lines.append(l.decode("utf-8", "replace").rstrip("\r\n"))
        if len(l) < 4 or l[3:4] != b"-":
            break
    return "\n".join(lines)

def unverified():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c
"#;

fn py(body: &str, args: &[String]) -> String {
    python(&format!("{PY}\n{body}"), args)
}

#[test]
fn delivers_to_mailboxes_aliases_and_the_catch_all() {
    let (_tmp, server) = embedded("deliver");
    let out = py(
        r#"
port = int(sys.argv[1])
s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.remote.test", timeout=120)
for to in ["alice@example.com", "A.Smith@example.com", "info@example.com",
           "whoever@example.org", "dave@example.org"]:
    body = ("From: x@remote.test\r\nTo: %s\r\nSubject: for %s\r\n\r\n"
            "hello\r\n.hidden line\r\n..two dots\r\n.\r\nend\r\n") % (to, to)
    print(to, s.sendmail("x@remote.test", [to], body))
# One message, two recipients that reach the same mailbox: one copy.
print(s.sendmail("", ["alice@example.com", "info@example.com", "carol@example.org"],
                 "Subject: both\r\n\r\nonce\r\n"))
s.quit()
"#,
        &[server.smtp.to_string()],
    );
    assert_eq!(out.lines().count(), 6, "{out}");
    let alice = server.inbox("alice@example.com");
    assert_eq!(alice.len(), 4, "{alice:#?}");
    assert_eq!(server.inbox("carol@example.org").len(), 2);
    assert_eq!(server.inbox("dave@example.org").len(), 1);
    assert_eq!(server.inbox("bob@example.com").len(), 0);
    let first = alice
        .iter()
        .find(|m| m.contains("Subject: for alice@example.com"))
        .unwrap();
    assert!(
        first.starts_with("Return-Path: <x@remote.test>\r\nReceived: from client.remote.test ([127.0.0.1])\r\n\tby mail.example.com (mailc) with ESMTP id "),
        "{first}"
    );
    assert!(first.contains("\tfor <alice@example.com>;\r\n"), "{first}");
    // Dot-stuffing undone exactly (RFC 5321 §4.5.2).
    assert!(
        first.ends_with("\r\n\r\nhello\r\n.hidden line\r\n..two dots\r\n.\r\nend\r\n"),
        "{first:?}"
    );
    let both = alice.iter().find(|m| m.contains("Subject: both")).unwrap();
    assert!(both.starts_with("Return-Path: <>\r\n"), "{both}");
    assert!(!both.contains("\tfor <"), "{both}");
}

#[test]
fn drops_are_accepted_and_stored_nowhere() {
    let (_tmp, server) = embedded("drop");
    let out = py(
        r#"
port = int(sys.argv[1])
s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.remote.test", timeout=120)
for to in [["spam@example.com"], ["junk@example.com"], ["nobody@drop.example"],
           ["spam@example.com", "alice@example.com"]]:
    print(to, s.sendmail("x@remote.test", to, "Subject: to %s\r\n\r\nhello\r\n" % to))
s.quit()
"#,
        &[server.smtp.to_string()],
    );
    // Every message accepted for every recipient (no refusal listed).
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(out.lines().all(|l| l.ends_with(" {}")), "{out}");
    // Only alice's copy is stored; nothing else anywhere.
    let alice = server.inbox("alice@example.com");
    assert_eq!(alice.len(), 1, "{alice:#?}");
    assert!(alice[0].contains("alice@example.com']"), "{}", alice[0]);
    for user in ["bob@example.com", "carol@example.org", "dave@example.org"] {
        assert!(server.inbox(user).is_empty(), "{user}");
    }
}

#[test]
fn refuses_unknown_send_only_null_mx_mail_off_and_foreign_recipients_swaks() {
    let (_tmp, server) = embedded("refuse");
    for (to, want) in [
        (
            "info@off.example",
            "<** 550 5.7.1 <info@off.example>: recipient address rejected: mail service for off.example is disabled",
        ),
        ("ivan@off.example", "<** 550 5.7.1 <ivan@off.example>"),
        (
            "nobody@example.com",
            "<** 550 5.1.1 <nobody@example.com>: recipient address rejected: user unknown in virtual mailbox table",
        ),
        ("noreply@example.com", "<** 550 5.1.1 <noreply@example.com>"),
        (
            "anyone@parked.example",
            "<** 556 5.1.10 <anyone@parked.example>",
        ),
        (
            "x@elsewhere.test",
            "<** 550 5.7.1 <x@elsewhere.test>: relay access denied",
        ),
        (
            "someone@remote.example",
            "<** 550 5.7.1 <someone@remote.example>: relay access denied",
        ),
        ("bob@example.com", "<-  250 2.1.5 OK"),
    ] {
        let t = swaks(
            server.smtp,
            &["--from", "x@remote.test", "--to", to, "-q", "RCPT"],
        );
        assert!(t.contains(want), "{to}: want {want}:\n{t}");
    }
}

#[test]
fn pipelining_answers_a_whole_group_in_order() {
    let (_tmp, server) = embedded("pipe");
    // Raw socket: the whole envelope in one write (RFC 2920).
    let out = py(
        r#"
s, f = sock(sys.argv[1])
print(reply(f).split("\n")[0][:3])
s.sendall(b"EHLO c.remote.test\r\nMAIL FROM:<x@remote.test>\r\nRCPT TO:<alice@example.com>\r\n"
          b"RCPT TO:<nobody@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n")
ehlo = reply(f)
assert "250-PIPELINING" in ehlo, ehlo
for _ in range(5):
    print(reply(f).split(" ")[0])
s.sendall(b"Subject: piped\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n")
for _ in range(3):
    print(reply(f).split(" ")[0])
print(reply(f))
"#,
        &[server.smtp.to_string()],
    );
    assert_eq!(
        out, "220\n250\n250\n550\n250\n354\n250\n250\n221\n<closed>\n",
        "{out}"
    );
    assert_eq!(server.inbox("alice@example.com").len(), 1);
    assert_eq!(server.inbox("bob@example.com").len(), 1);
    // And swaks' own pipelining.
    let t = swaks(
        server.smtp,
        &[
            "--pipeline",
            "--from",
            "x@remote.test",
            "--to",
            "dave@example.org",
        ],
    );
    assert!(t.contains("<-  250 2.0.0 OK: queued as"), "{t}");
    assert_eq!(server.inbox("dave@example.org").len(), 1);
}

#[test]
fn starttls_with_swaks_and_a_reset_session() {
    let (_tmp, server) = embedded("tls");
    let t = swaks(
        server.smtp,
        &[
            "-tls",
            "--from",
            "x@remote.test",
            "--to",
            "bob@example.com",
            "--header",
            "Subject: over tls",
        ],
    );
    assert!(t.contains("=== TLS started with cipher"), "{t}");
    assert!(t.contains("<~  250 2.0.0 OK: queued as"), "{t}");
    let bob = server.inbox("bob@example.com");
    assert_eq!(bob.len(), 1);
    assert!(bob[0].contains("(mailc) with ESMTPS id"), "{}", bob[0]);
    // After STARTTLS, STARTTLS is no longer offered and the client must
    // say EHLO again (RFC 3207 §4.2); plaintext sent after STARTTLS is
    // dropped, not executed.
    let out = py(
        r#"
s, f = sock(sys.argv[1])
reply(f)
s.sendall(b"EHLO c\r\n"); reply(f)
s.sendall(b"STARTTLS\r\nMAIL FROM:<injected@remote.test>\r\n")
print(reply(f)[:3])
t = unverified().wrap_socket(s, server_hostname="mail.example.com")
tf = t.makefile("rb")
t.sendall(b"MAIL FROM:<x@remote.test>\r\n"); print(reply(tf)[:9])
t.sendall(b"EHLO c\r\n"); e = reply(tf); print("STARTTLS" in e, "SIZE 26214400" in e)
t.sendall(b"STARTTLS\r\n"); print(reply(tf)[:9])
"#,
        &[server.smtp.to_string()],
    );
    assert_eq!(out, "220\n503 5.5.1\nFalse True\n554 5.5.1\n", "{out}");
}

const SUBMIT: &str = r#"
def login(s, user, pw, mech):
    s.ehlo("client.example.com")
    if mech == "PLAIN":
        return s.auth("PLAIN", lambda c=None: "\0%s\0%s" % (user, pw), initial_response_ok=True)
    s.user, s.password = user, pw
    return s.auth("LOGIN", s.auth_login, initial_response_ok=False)

def attempt(f):
    try:
        r = f()
        if isinstance(r, tuple) and len(r) == 2 and isinstance(r[0], int):
            return "%d %s" % (r[0], r[1].decode())
        return str(r)
    except smtplib.SMTPResponseException as e:
        return "%d %s" % (e.smtp_code, e.smtp_error.decode())
    except smtplib.SMTPRecipientsRefused as e:
        return str(e.recipients)
"#;

#[test]
fn submission_needs_auth_and_owned_senders() {
    let (_tmp, server) = embedded("submit");
    let out = py(
        &format!(
            "{SUBMIT}\n{}",
            r#"
port = int(sys.argv[1])
s = smtplib.SMTP("127.0.0.1", port, timeout=120)
s.ehlo("c")
print("AUTH PLAIN LOGIN" in str(s.ehlo_resp), s.has_extn("starttls"))
print(attempt(lambda: s.mail("alice@example.com")))
s.rset()
print(attempt(lambda: login(s, "alice@example.com", "wrong", "PLAIN")))
print(attempt(lambda: login(s, "nobody@example.com", "x", "LOGIN")))
print(attempt(lambda: login(s, "alice@example.com", "alice-pw", "LOGIN")))
print(attempt(lambda: s.sendmail("bob@example.com", ["dave@example.org"], "Subject: forged\r\n\r\nx\r\n")))
s.rset()
print(attempt(lambda: s.sendmail("a.smith@example.com", ["bob@example.com"], "Subject: from an alias\r\n\r\nx\r\n")))
# A domain not ours is accepted from a logged-in user (it leaves by MX).
print(attempt(lambda: s.mail("alice@example.com")), attempt(lambda: s.rcpt("x@elsewhere.test")))
s.rset()
s.quit()
s = smtplib.SMTP("127.0.0.1", port, timeout=120)
print(attempt(lambda: login(s, "Bob@Example.com", "bob-pw", "PLAIN")))
print(attempt(lambda: s.sendmail("bob@example.com", ["alice@example.com"], "Subject: from bob\r\n\r\nx\r\n")))
s.quit()
"#
        ),
        &[server.submission.to_string()],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "True True", "{out}");
    assert_eq!(lines[1], "530 5.7.0 authentication required", "{out}");
    assert_eq!(
        lines[2], "535 5.7.8 authentication credentials invalid",
        "{out}"
    );
    assert_eq!(
        lines[3], "535 5.7.8 authentication credentials invalid",
        "{out}"
    );
    assert_eq!(lines[4], "235 2.7.0 authentication successful", "{out}");
    assert_eq!(
        lines[5], "553 5.7.1 <bob@example.com>: sender address not owned by user alice@example.com",
        "{out}"
    );
    assert_eq!(lines[6], "{}", "{out}");
    assert_eq!(lines[7], "250 2.1.0 OK 250 2.1.5 OK", "{out}");
    assert_eq!(lines[8], "235 2.7.0 authentication successful", "{out}");
    assert_eq!(lines[9], "{}", "{out}");
    let bob = server.inbox("bob@example.com");
    assert_eq!(bob.len(), 1);
    assert!(bob[0].contains("Subject: from an alias"));
    assert!(bob[0].contains("(mailc) with ESMTPA id"), "{}", bob[0]);
    assert_eq!(server.inbox("alice@example.com").len(), 1);
    assert_eq!(server.inbox("dave@example.org").len(), 0);
    // swaks: AUTH PLAIN and LOGIN, and no AUTH on the MX port.
    for mech in ["PLAIN", "LOGIN"] {
        let t = swaks(
            server.submission,
            &[
                "--auth",
                mech,
                "--auth-user",
                "carol@example.org",
                "--auth-password",
                "carol-pw",
                "--from",
                "carol@example.org",
                "--to",
                "dave@example.org",
            ],
        );
        assert!(t.contains("235 2.7.0 authentication successful"), "{t}");
        assert!(t.contains("250 2.0.0 OK: queued as"), "{t}");
    }
    assert_eq!(server.inbox("dave@example.org").len(), 2);
    let t = swaks(
        server.smtp,
        &[
            "--auth",
            "PLAIN",
            "--auth-user",
            "carol@example.org",
            "--auth-password",
            "carol-pw",
            "--to",
            "dave@example.org",
        ],
    );
    assert!(
        t.contains("*** Host did not advertise authentication"),
        "{t}"
    );
}

#[test]
fn header_from_of_a_submission_must_be_the_users() {
    // DMARC alignment: as the envelope sender, the header From: of an
    // authenticated user's message names only addresses the user owns
    // (an alias of its mailbox too); one From: field at most.
    let (_tmp, server) = embedded("header-from");
    let out = py(
        &format!(
            "{SUBMIT}\n{}",
            r#"
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=120)
login(s, "alice@example.com", "alice-pw", "PLAIN")
for head in ["From: Bob <bob@example.com>",
             "From: Alice <alice@example.com>, bob@example.com",
             "From: alice@example.com\r\nFrom: bob@example.com",
             "From: Team: bob@example.com;",
             "From: \"alice@example.com\" <mallory@elsewhere.test>",
             "From: =?utf-8?q?Alice?= <A.Smith@Example.COM>",
             "Subject: no From at all"]:
    print(attempt(lambda: s.sendmail("alice@example.com", ["dave@example.org"], head + "\r\n\r\nx\r\n")))
s.quit()
"#
        ),
        &[server.submission.to_string()],
    );
    assert_eq!(
        out,
        "550 5.7.1 <bob@example.com>: header From not owned by user alice@example.com\n\
         550 5.7.1 <bob@example.com>: header From not owned by user alice@example.com\n\
         550 5.7.1 more than one header From (RFC 5322 §3.6 allows one)\n\
         550 5.7.1 <bob@example.com>: header From not owned by user alice@example.com\n\
         550 5.7.1 <mallory@elsewhere.test>: header From not owned by user alice@example.com\n\
         {}\n\
         {}\n",
        "{out}"
    );
    assert_eq!(server.inbox("dave@example.org").len(), 2);
}

#[test]
fn the_log_has_one_line_per_event_escaped() {
    // `--log-format json`: every line one object with an RFC 3339 `ts`, the
    // service, a session id and the event. Listeners and the data folder
    // at start; connect/disconnect with the peer; each reply of 400 or
    // more with its reason; a failed AUTH with the login (control bytes
    // escaped, never the password); the accepted message; a restart
    // reuses the data folder.
    let tmp = Temp::new("log");
    let input = Input {
        path: root().join("tests/cases/embedded-stack/mailc.yaml"),
        host: Some("mx1".into()),
        extra: vec!["--log-format".into(), "json".into()],
        open: false,
    };
    let mut server = Server::start(&input, &tmp.0.join("data"));
    py(
        &format!(
            "{SUBMIT}\n{}",
            r#"
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=120)
attempt(lambda: s.sendmail("x@remote.test", ["nobody@example.com", "alice@example.com"], "Subject: logged\r\n\r\nhi\r\n"))
s.quit()
s = smtplib.SMTP("127.0.0.1", int(sys.argv[2]), timeout=120)
print(attempt(lambda: login(s, "\x1b[2Jevil\x07@example.com", "sekrit-pw-123", "PLAIN")))
s.quit()
"#
        ),
        &[server.smtp.to_string(), server.submission.to_string()],
    );
    server.restart();
    let raw = std::fs::read(&server.log).unwrap();
    assert!(
        !raw.iter().any(|&b| b < 0x20 && b != b'\n'),
        "a raw control byte in the log"
    );
    let text = String::from_utf8(raw).unwrap();
    assert!(!text.contains("sekrit"), "the password is in the log");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    for l in &lines {
        let ts = l["ts"].as_str().unwrap();
        assert!(
            ts.len() == 24 && ts.ends_with('Z') && &ts[10..11] == "T",
            "{ts}"
        );
        assert!(l["service"].is_string() && l["session"].is_string() && l["event"].is_string());
    }
    let find = |pred: &dyn Fn(&serde_json::Value) -> bool, what: &str| {
        lines
            .iter()
            .find(|l| pred(l))
            .unwrap_or_else(|| panic!("no {what} in:\n{text}"))
            .clone()
    };
    for service in ["smtp", "submission", "submissions"] {
        find(
            &|l| l["event"] == "listen" && l["service"] == service,
            "listen",
        );
    }
    find(
        &|l| l["event"] == "data" && l["state"] == "created",
        "data created",
    );
    find(
        &|l| l["event"] == "data" && l["state"] == "reused",
        "data reused",
    );
    let reply = find(
        &|l| l["event"] == "reply" && l["code"] == "550",
        "the 550 reply",
    );
    assert!(reply["text"].as_str().unwrap().contains("user unknown"));
    let session = reply["session"].as_str().unwrap();
    let connect = find(
        &|l| l["event"] == "connect" && l["session"] == session,
        "connect",
    );
    assert_eq!(connect["service"], "smtp");
    assert!(connect["peer"].as_str().unwrap().starts_with("127.0.0.1:"));
    let accepted = find(
        &|l| l["event"] == "accepted" && l["session"] == session,
        "accepted",
    );
    assert_eq!(accepted["from"], "<x@remote.test>");
    assert_eq!(accepted["to"], "<alice@example.com>");
    find(
        &|l| l["event"] == "disconnect" && l["session"] == session,
        "disconnect",
    );
    let failed = find(&|l| l["event"] == "login-failed", "login-failed");
    assert_eq!(failed["login"], "\u{1b}[2Jevil\u{7}@example.com");
    find(
        &|l| l["event"] == "reply" && l["code"] == "535",
        "the 535 reply",
    );
}

#[test]
fn disabled_and_imap_only_mailboxes_receive_but_cannot_submit() {
    let (_tmp, server) = embedded("disabled");
    let out = py(
        r#"
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="client.remote.test", timeout=120)
print(s.sendmail("x@remote.test", ["gone@example.com"], "Subject: for gone\r\n\r\nhello\r\n"))
s.quit()
s = smtplib.SMTP("127.0.0.1", int(sys.argv[2]), timeout=120)
s.starttls(context=unverified())
try:
    s.login("gone@example.com", "gone-pw")
    print("logged in")
except smtplib.SMTPAuthenticationError as e:
    print(e.smtp_code)
# services: [imap]: no submission.
try:
    s.login("henry@example.com", "henry-pw")
    print("logged in")
except smtplib.SMTPAuthenticationError as e:
    print(e.smtp_code)
s.close()
"#,
        &[server.smtp.to_string(), server.submission.to_string()],
    );
    assert_eq!(out, "{}\n535\n535\n", "{out}");
    let gone = server.inbox("gone@example.com");
    assert_eq!(gone.len(), 1, "{gone:#?}");
    assert!(gone[0].contains("Subject: for gone"), "{}", gone[0]);
}

#[test]
fn submissions_on_implicit_tls() {
    let (_tmp, server) = embedded("smtps");
    let out = py(
        r#"
s = smtplib.SMTP_SSL("127.0.0.1", int(sys.argv[1]), context=unverified(), timeout=120)
s.ehlo("c")
print(s.has_extn("starttls"), s.has_extn("auth"))
s.login("dave@example.org", "dave-pw")
print(s.sendmail("dave@example.org", ["carol@example.org"], "Subject: tls\r\n\r\nx\r\n"))
s.quit()
"#,
        &[server.submissions.to_string()],
    );
    assert_eq!(out, "False True\n{}\n", "{out}");
    let carol = server.inbox("carol@example.org");
    assert_eq!(carol.len(), 1);
    assert!(carol[0].contains("with ESMTPSA id"), "{}", carol[0]);
}

/// `mailc serve MANIFEST` with more flags, as a user that is not root
/// (setpriv to `nobody` when the test runs as root, so that permissions
/// hold); returns its exit code and stderr. For starts that must fail.
fn serve_unprivileged(manifest: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let uid = Command::new("id").arg("-u").output().expect("run id -u");
    let root_user = String::from_utf8_lossy(&uid.stdout).trim() == "0";
    let mut cmd = if root_user {
        let mut c = Command::new(tool(
            "setpriv",
            "the test drops root to check what the server's user may read",
        ));
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            mailc_bin(),
        ]);
        c
    } else {
        Command::new(mailc_bin())
    };
    let port = free_port(28000);
    let data = manifest.with_file_name("data-never-made");
    let out = cmd
        .arg("serve")
        .arg(manifest)
        .args(["--smtp", &format!("127.0.0.1:{port}"), "--data"])
        .arg(&data)
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("start mailc serve");
    assert!(!data.exists(), "a failed start made {}", data.display());
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A self-signed certificate and key for `name`, made by openssl, as
/// `DIR/cert.pem` and `DIR/key.pem`.
fn openssl_cert(dir: &Path, name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let out = Command::new(tool("openssl", "the test makes a certificate"))
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "2", "-subj", &format!("/CN={name}")])
        .args(["-addext", &format!("subjectAltName=DNS:{name}")])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_certificate_the_server_cannot_read_stops_the_start() {
    // The manifest's certificate is used when it is there, a self-signed
    // one only when nothing is there at all: a certificate behind a folder
    // the server's user may not enter (certbot's live/ is root's), a key it
    // may not read, or a link to nothing stop the start with the file's
    // path instead of a quiet self-signed stand-in. `--tls-cert` and
    // `--tls-key` name other files, which must be there; STARTTLS then
    // presents exactly that certificate.
    let tmp = Temp::new("cert");
    let input = limited(&tmp.0, &[]);
    let dir = input.path.parent().unwrap().to_path_buf();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&input.path).unwrap()).unwrap();
    let with_tls = |cert: &str, key: &str| {
        let mut m = manifest.clone();
        m["tls"]["cert"] = cert.into();
        m["tls"]["key"] = key.into();
        let p = dir.join(format!("manifest-{cert}-{key}.json").replace('/', "-"));
        std::fs::write(&p, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        p
    };
    use std::os::unix::fs::PermissionsExt;
    for d in [&tmp.0, &dir, &tmp.0.join("out"), &tmp.0.join("out/server")] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // live/: a folder nobody may enter (0000, as for the server's user).
    openssl_cert(&dir.join("live"), "mx1.example.com");
    openssl_cert(&dir.join("keyonly"), "mx1.example.com");
    std::fs::set_permissions(dir.join("live"), std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(dir.join("keyonly"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        dir.join("keyonly/cert.pem"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    std::fs::set_permissions(
        dir.join("keyonly/key.pem"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.join("archive/cert1.pem"), dir.join("dangling.pem")).unwrap();
    let cases = [
        (
            with_tls("live/cert.pem", "live/key.pem"),
            vec![],
            "live/cert.pem",
            "Permission denied",
        ),
        (
            with_tls("keyonly/cert.pem", "keyonly/key.pem"),
            vec![],
            "keyonly/key.pem",
            "Permission denied",
        ),
        (
            with_tls("dangling.pem", "live/key.pem"),
            vec![],
            "dangling.pem",
            "No such file",
        ),
        (
            with_tls("none/cert.pem", "keyonly/key.pem"),
            vec![],
            "none/cert.pem",
            "No such file",
        ),
        (
            with_tls("none/cert.pem", "none/key.pem"),
            vec!["--tls-cert", "given.pem", "--tls-key", "given.key"],
            "given.pem",
            "No such file",
        ),
    ];
    for (manifest, extra, file, why) in &cases {
        let (code, stderr) = serve_unprivileged(manifest, extra);
        assert_eq!(code, Some(1), "{file}: {stderr}");
        assert!(
            stderr.contains(file) && stderr.contains(why) && stderr.contains("--tls-cert"),
            "{file}: {stderr}"
        );
        assert!(!stderr.contains("self-signed"), "{file}: {stderr}");
    }
    std::fs::set_permissions(dir.join("live"), std::fs::Permissions::from_mode(0o755)).unwrap();
    // One flag without the other is a usage error.
    let (code, stderr) = serve_unprivileged(&cases[0].0, &["--tls-cert", "live/cert.pem"]);
    assert_ne!(code, Some(0), "{stderr}");
    assert!(stderr.contains("--tls-key"), "{stderr}");
    // Nothing at the manifest's paths: the self-signed stand-in, said so.
    let absent = with_tls("none/cert.pem", "none/key.pem");
    let server = Server::start(
        &Input {
            path: absent.clone(),
            ..input.clone()
        },
        &tmp.0.join("data-self-signed"),
    );
    assert!(
        server.log_text().contains("self-signed"),
        "{}",
        server.log_text()
    );
    drop(server);
    // Named files: used as they are, and nothing says self-signed.
    openssl_cert(&tmp.0.join("given"), "given.example.net");
    let given = tmp.0.join("given");
    let server = Server::start(
        &Input {
            path: absent,
            extra: vec![
                "--tls-cert".into(),
                given.join("cert.pem").display().to_string(),
                "--tls-key".into(),
                given.join("key.pem").display().to_string(),
            ],
            ..input.clone()
        },
        &tmp.0.join("data-given"),
    );
    let out = py(
        r#"
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=120)
s.ehlo("c")
s.starttls(context=unverified())
got = s.sock.getpeercert(binary_form=True)
print(got == ssl.PEM_cert_to_DER_cert(open(sys.argv[2]).read()))
s.quit()
"#,
        &[
            server.submission.to_string(),
            given.join("cert.pem").display().to_string(),
        ],
    );
    assert_eq!(out, "True\n", "{out}");
    assert!(
        !server.log_text().contains("self-signed"),
        "{}",
        server.log_text()
    );
}

#[test]
fn limits_hold_against_a_hostile_client() {
    let (_tmp, mut server) = embedded("limits");
    let out = py(
        r#"
port = sys.argv[1]
s, f = sock(port)
reply(f)
s.sendall(b"EHLO c\r\n"); reply(f)
# SIZE over the limit is refused at MAIL (RFC 1870).
s.sendall(b"MAIL FROM:<x@remote.test> SIZE=999999999\r\n"); print(reply(f))
# An overlong command line, then the session goes on.
s.sendall(b"NOOP " + b"x" * 5000 + b"\r\nNOOP\r\n"); print(reply(f)); print(reply(f))
s.sendall(b"NOOP " + b"y" * 100000)
print(reply(f))
s.sendall(b"\r\nRSET\r\n"); print(reply(f))
# 100 recipients, then 452 (RFC 5321 §4.5.3.1.8).
s.sendall(b"MAIL FROM:<x@remote.test>\r\n" + b"RCPT TO:<alice@example.com>\r\n" * 101)
print(reply(f))
codes = [reply(f)[:3] for _ in range(101)]
print(codes.count("250"), codes[-1])
print(reply(f) if s.sendall(b"RCPT TO:<alice@example.com>\r\n") is None else "")
# A message over 25 MiB is refused after DATA, and the session stays usable.
s.sendall(b"RSET\r\nMAIL FROM:<x@remote.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n")
print(reply(f)[:3], reply(f)[:3], reply(f)[:3], reply(f)[:3])
line = b"z" * 998 + b"\r\n"
chunk = line * 1024
for _ in range(27):
    s.sendall(chunk)
s.sendall(b".\r\n")
print(reply(f))
s.sendall(b"NOOP\r\n"); print(reply(f))
# Garbage: binary, NUL, bare LF, unknown verbs. Answered, never a crash.
s.sendall(b"\x00\xff\xfe garbage\r\nMAIL\r\nRCPT TO:<>\r\nDATA\r\n\n\r\nHELO\r\nEHLO \x01\r\nAUTH PLAIN\r\n")
for _ in range(9):
    print(reply(f)[:3])
s.close()
# Too many errors: the server hangs up.
s, f = sock(port)
reply(f)
s.sendall(b"FOO\r\n" * 30)
codes = []
while True:
    r = reply(f)
    codes.append(r[:3])
    if r == "<closed>":
        break
print(codes.count("500"), codes[-2], codes[-1])
"#,
        &[server.smtp.to_string()],
    );
    let want = "\
552 5.3.4 message size exceeds fixed maximum message size
500 5.5.2 line too long
250 2.0.0 OK
500 5.5.2 line too long
250 2.0.0 OK
250 2.1.0 OK
100 452
452 4.5.3 too many recipients
250 250 250 354
552 5.3.4 message size exceeds fixed maximum message size
250 2.0.0 OK
500
501
503
503
500
500
501
501
502
20 421 <cl
";
    assert_eq!(out, want, "{out}");
    assert_eq!(server.inbox("bob@example.com").len(), 0);
    assert!(server.is_running());
    // Still serving.
    let t = swaks(
        server.smtp,
        &["--from", "x@remote.test", "--to", "bob@example.com"],
    );
    assert!(t.contains("250 2.0.0 OK: queued as"), "{t}");
}

#[test]
fn quota_is_enforced_at_rcpt() {
    let (_tmp, server) = embedded("quota");
    // bob's quota is 16K; smtplib announces SIZE, so the third 6K message
    // is refused at RCPT.
    let out = py(
        &format!(
            "{SUBMIT}\n{}",
            r#"
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=120)
body = "Subject: big\r\n\r\n" + ("q" * 98 + "\r\n") * 60
for i in range(3):
    print(attempt(lambda: s.sendmail("x@remote.test", ["bob@example.com"], body)))
# An alias with room elsewhere is accepted; bob's copy becomes a bounce.
print(attempt(lambda: s.sendmail("x@remote.test", ["sales@example.com"], body)))
s.quit()
"#
        ),
        &[server.smtp.to_string()],
    );
    assert_eq!(
        out, "{}\n{}\n{'bob@example.com': (552, b'5.2.2 <bob@example.com>: mailbox full')}\n{}\n",
        "{out}"
    );
    assert_eq!(server.inbox("bob@example.com").len(), 2);
    assert_eq!(server.inbox("alice@example.com").len(), 1);
}

#[test]
fn kill_9_right_after_the_last_250_loses_nothing() {
    let (_tmp, mut server) = embedded("kill9");
    // Three parallel sessions send 40 messages each; the client kills the
    // server (SIGKILL) the moment the last 250 arrives.
    let out = py(
        r#"
import threading
port, pid = int(sys.argv[1]), int(sys.argv[2])
acked = []
lock = threading.Lock()
def worker(n):
    s = smtplib.SMTP("127.0.0.1", port, timeout=120)
    for i in range(40):
        tag = "m-%d-%d" % (n, i)
        to = ["alice@example.com", "info@example.com", "whoever@example.org"][i % 3]
        s.sendmail("x@remote.test", [to], "Subject: %s\r\n\r\n%s\r\n" % (tag, tag))
        with lock:
            acked.append(tag)
    s.close()
ts = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
for t in ts: t.start()
for t in ts: t.join()
os.kill(pid, signal.SIGKILL)
print("\n".join(acked))
"#,
        &[server.smtp.to_string(), server.pid().to_string()],
    );
    let acked: Vec<&str> = out.lines().collect();
    assert_eq!(acked.len(), 120);
    server.restart();
    let mut stored: BTreeMap<String, usize> = BTreeMap::new();
    for user in ["alice@example.com", "carol@example.org"] {
        for m in server.inbox(user) {
            let subject = m
                .lines()
                .find_map(|l| l.strip_prefix("Subject: "))
                .unwrap()
                .to_string();
            *stored.entry(subject).or_default() += 1;
        }
    }
    for tag in acked {
        assert_eq!(
            stored.get(tag),
            Some(&1),
            "{tag} was acknowledged but is not stored once"
        );
    }
    // The restarted server serves the same store.
    let t = swaks(
        server.smtp,
        &["--from", "x@remote.test", "--to", "alice@example.com"],
    );
    assert!(t.contains("250 2.0.0 OK: queued as"), "{t}");
    assert_eq!(server.inbox("alice@example.com").len(), 82);
}

/// A compiled manifest of embedded-stack's mx1 with small limits.
fn small_limits(tmp: &Path, timeout: u32) -> Input {
    limited(tmp, &[("connections", 3), ("smtp_timeout", timeout)])
}

/// A compiled manifest of embedded-stack's mx1 with these `limits` changed.
fn limited(tmp: &Path, limits: &[(&str, u32)]) -> Input {
    let run = Mailc::new(
        &root().join("tests/cases/embedded-stack"),
        &["build", "mailc.yaml", "--out"],
    )
    .arg(tmp.join("out"))
    .output();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let path = tmp.join("out/server/mx1/manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for (k, v) in limits {
        m["limits"][*k] = (*v).into();
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    Input {
        path,
        host: None,
        extra: Vec::new(),
        open: false,
    }
}

#[test]
fn connection_limit_timeout_and_shutdown() {
    let tmp = Temp::new("conns");
    let input = small_limits(&tmp.0, 2);
    let mut server = Server::start(&input, &tmp.0.join("data"));
    // Three connections are served, the fourth is told 421 and closed.
    // Idle clients are dropped after smtp_timeout with 421 4.4.2.
    let out = py(
        r#"
port = sys.argv[1]
import time
time.sleep(0.5)  # the readiness probes' sessions end
held = [sock(port) for _ in range(3)]
for s, f in held:
    print(reply(f)[:3])
s, f = sock(port)
print(reply(f)[:9], reply(f))
for s, f in held:
    print(reply(f)[:9], reply(f))
"#,
        &[server.smtp.to_string()],
    );
    assert_eq!(
        out,
        "220\n220\n220\n421 4.7.0 <closed>\n421 4.4.2 <closed>\n421 4.4.2 <closed>\n421 4.4.2 <closed>\n",
        "{out}"
    );
    drop(server);
    // SIGTERM: an idle client hears 421 4.3.2 at once; a message in the
    // middle of DATA is finished, stored and acknowledged first; the server
    // exits 0.
    let input = small_limits(&tmp.0, 300);
    server = Server::start(&input, &tmp.0.join("data2"));
    let spawn = |script: &str| {
        Command::new(tool("python3", WHY))
            .arg("-c")
            .arg(format!("{PY}\n{script}"))
            .arg(server.smtp.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut idle = spawn(
        r#"
s, f = sock(sys.argv[1])
reply(f)
s.sendall(b"EHLO c\r\n"); reply(f)
print("ready", flush=True)
print(reply(f)[:9], reply(f), flush=True)
"#,
    );
    let mut busy = spawn(
        r#"
s, f = sock(sys.argv[1])
reply(f)
s.sendall(b"EHLO c\r\nMAIL FROM:<x@remote.test>\r\nRCPT TO:<dave@example.org>\r\nDATA\r\n")
for _ in range(4): reply(f)
s.sendall(b"Subject: in flight\r\n\r\npart one\r\n")
print("ready", flush=True)
sys.stdin.readline()
s.sendall(b"part two\r\n.\r\n")
print(reply(f)[:9], flush=True)
print(reply(f)[:9], reply(f), flush=True)
"#,
    );
    let mut idle_out = BufReader::new(idle.stdout.take().unwrap()).lines();
    let mut busy_out = BufReader::new(busy.stdout.take().unwrap()).lines();
    assert_eq!(idle_out.next().unwrap().unwrap(), "ready");
    assert_eq!(busy_out.next().unwrap().unwrap(), "ready");
    let term = Command::new(tool("kill", WHY))
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    assert_eq!(idle_out.next().unwrap().unwrap(), "421 4.3.2 <closed>");
    // The server is stopping now; the busy client finishes its message.
    busy.stdin.take().unwrap().write_all(b"go\n").unwrap();
    assert_eq!(busy_out.next().unwrap().unwrap(), "250 2.0.0");
    assert_eq!(busy_out.next().unwrap().unwrap(), "421 4.3.2 <closed>");
    assert!(idle.wait().unwrap().success());
    assert!(busy.wait().unwrap().success());
    let status = server.wait();
    assert!(status.success(), "{status}: {}", server.log_text());
    let dave = server.inbox("dave@example.org");
    assert_eq!(dave.len(), 1);
    assert!(
        dave[0].ends_with("part one\r\npart two\r\n"),
        "{:?}",
        dave[0]
    );
}

#[test]
fn one_client_cannot_hold_every_slot_nor_trickle_forever() {
    // Two connections per client address, four per service: a client's
    // third is turned away, other addresses fill the service, and port 25
    // being full does not touch submission. A client trickling one byte of
    // a command every half second is cut off at the 2 s deadline.
    let tmp = Temp::new("slots");
    let input = limited(
        &tmp.0,
        &[
            ("connections", 4),
            ("client_connections", 2),
            ("smtp_timeout", 2),
        ],
    );
    let server = Server::start(&input, &tmp.0.join("data"));
    let out = py(
        r#"
import time
port, sub = int(sys.argv[1]), int(sys.argv[2])
def conn(p, src):
    s = socket.create_connection(("127.0.0.1", p), timeout=120, source_address=(src, 0))
    return s, s.makefile("rb")
def fill():
    held, seen = [], []
    for src in ["127.0.0.2", "127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.3", "127.0.0.4"]:
        s, f = conn(port, src)
        r = reply(f)
        seen.append("%s %s %s" % (src, r[:3], r[4:]))
        held.append((s, f))
    return held, seen
# Until the readiness probes' sessions are gone (a busy machine is slow
# to see them end), then once more for the record.
for _ in range(100):
    held, seen = fill()
    busy = [l[10:13] for l in seen] != ["220", "220", "421", "220", "220", "421"]
    if busy:
        for s, f in held:
            f.close(); s.close()
        time.sleep(0.2)
        continue
    break
print("\n".join(seen))
s, f = conn(sub, "127.0.0.4")
print("submission", reply(f)[:3])
f.close(); s.close()
for s, f in held:
    f.close(); s.close()
for _ in range(100):
    s, f = conn(port, "127.0.0.5")
    r = reply(f)
    if r.startswith("220"):
        break
    f.close(); s.close()
    time.sleep(0.2)
print("trickle", r[:3])
for i in range(120):
    try:
        s.sendall(b"N")
    except OSError:
        break
    r, _, _ = __import__("select").select([s], [], [], 0.5)
    if r:
        print("cut off", reply(f)[:9], i < 110)
        break
"#,
        &[server.smtp.to_string(), server.submission.to_string()],
    );
    assert_eq!(
        out,
        "127.0.0.2 220 mail.example.com ESMTP mailc\n\
         127.0.0.2 220 mail.example.com ESMTP mailc\n\
         127.0.0.2 421 4.7.0 mail.example.com too many connections from your address, try again later\n\
         127.0.0.3 220 mail.example.com ESMTP mailc\n\
         127.0.0.3 220 mail.example.com ESMTP mailc\n\
         127.0.0.4 421 4.7.0 mail.example.com too many connections, try again later\n\
         submission 220\n\
         trickle 220\n\
         cut off 421 4.4.2 True\n",
        "{out}"
    );
}

#[test]
fn failed_logins_are_slowed_then_refused_per_address() {
    // After limits.auth_failures (3 here) failed AUTHs from one address,
    // that address gets 454 even with the right password; another address
    // still logs in. Unknown users count as failures like wrong passwords.
    let tmp = Temp::new("guess");
    let input = limited(&tmp.0, &[("auth_failures", 3)]);
    let server = Server::start(&input, &tmp.0.join("data"));
    let out = py(
        &format!(
            "{SUBMIT}\n{}",
            r#"
port = int(sys.argv[1])
def session(src):
    s = smtplib.SMTP(timeout=120, source_address=(src, 0))
    s.connect("127.0.0.1", port)
    return s
s = session("127.0.0.2")
print(attempt(lambda: login(s, "alice@example.com", "wrong", "PLAIN")))
print(attempt(lambda: login(s, "nobody@example.com", "x", "PLAIN")))
s.quit()
s = session("127.0.0.2")
print(attempt(lambda: login(s, "bob@example.com", "nope", "LOGIN")))
print(attempt(lambda: login(s, "alice@example.com", "alice-pw", "PLAIN")))
s.quit()
s = session("127.0.0.3")
print(attempt(lambda: login(s, "alice@example.com", "alice-pw", "PLAIN")))
s.quit()
"#
        ),
        &[server.submission.to_string()],
    );
    assert_eq!(
        out,
        "535 5.7.8 authentication credentials invalid\n\
         535 5.7.8 authentication credentials invalid\n\
         535 5.7.8 authentication credentials invalid\n\
         454 4.7.0 too many failed authentications from your address, try again later\n\
         235 2.7.0 authentication successful\n",
        "{out}"
    );
}

#[test]
fn a_flood_of_parallel_logins_is_cut_at_the_lock_and_mail_still_flows() {
    // 24 sessions from one address send a wrong AUTH at the same moment,
    // before any failure is counted. Hash checks run at most one per CPU,
    // and one that waited for its turn is not made once the address is
    // locked: at most auth_failures (3) + CPUs get 535, the rest 454
    // without a check. Meanwhile port 25 takes a message and another
    // address logs in.
    let tmp = Temp::new("flood");
    let input = limited(&tmp.0, &[("auth_failures", 3)]);
    let server = Server::start(&input, &tmp.0.join("data"));
    let out = py(
        &format!(
            "{SUBMIT}\n{}",
            r#"
import threading
smtp, sub = int(sys.argv[1]), int(sys.argv[2])
N = 24
ready = threading.Barrier(N + 1)
codes = [None] * N
def flood(i):
    s = smtplib.SMTP(timeout=120, source_address=("127.0.0.9", 0))
    s.connect("127.0.0.1", sub)
    s.ehlo("flood.example")
    ready.wait()
    codes[i] = attempt(lambda: s.auth("PLAIN", lambda c=None: "\0alice@example.com\0wrong%d" % i, initial_response_ok=True)).split()[0]
    s.close()
threads = [threading.Thread(target=flood, args=(i,)) for i in range(N)]
for t in threads:
    t.start()
ready.wait()
m = smtplib.SMTP("127.0.0.1", smtp, timeout=120)
m.ehlo("mx.remote.test")
print(m.sendmail("x@remote.test", ["alice@example.com"], "Subject: during the flood\r\n\r\nhi\r\n"))
m.quit()
for t in threads:
    t.join()
cpus = len(os.sched_getaffinity(0))
wrong, locked = codes.count("535"), codes.count("454")
print(wrong + locked == N, 3 <= wrong < 3 + cpus, wrong, locked)
s = smtplib.SMTP(timeout=120, source_address=("127.0.0.10", 0))
s.connect("127.0.0.1", sub)
print(attempt(lambda: login(s, "alice@example.com", "alice-pw", "PLAIN")))
s.quit()
"#
        ),
        &[server.smtp.to_string(), server.submission.to_string()],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0], "{}", "{out}");
    assert!(lines[1].starts_with("True True "), "{out}");
    assert_eq!(lines[2], "235 2.7.0 authentication successful", "{out}");
    assert!(
        server
            .inbox("alice@example.com")
            .iter()
            .any(|m| m.contains("Subject: during the flood")),
        "{}",
        server.log_text()
    );
}

#[test]
fn every_route_table_row_gets_the_routes_reply_at_rcpt() {
    use mailc::model::route::{Outcome, route};
    let mut tables: Vec<PathBuf> = std::fs::read_dir(root().join("tests/routes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tsv"))
        .collect();
    tables.sort();
    let mut failures = Vec::new();
    let mut asked = 0;
    for table in tables {
        let name = table.file_stem().unwrap().to_str().unwrap().to_string();
        let dir = spec_dir(&name);
        let model = model_of(&dir);
        // Rows by host: one server per host.
        let mut by_host: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in std::fs::read_to_string(&table).unwrap().lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            by_host
                .entry(cols[0].to_string())
                .or_default()
                .push(cols[1].to_string());
        }
        // A copy with every DKIM key the spec names (serve refuses a
        // missing one).
        let tmp = Temp::new(&name);
        let work = tmp.0.join("spec");
        copy_dir(&dir, &work);
        let keygen = Mailc::new(&work, &["dkim", "keygen", "mailc.yaml"]).output();
        assert!(keygen.status.success(), "{name}: keygen: {keygen:?}");
        for (host, addresses) in by_host {
            let input = Input {
                path: work.join("mailc.yaml"),
                host: Some(host.clone()),
                extra: Vec::new(),
                open: false,
            };
            let server = Server::start(&input, &tmp.0.join(format!("data-{host}")));
            let mut args = vec![server.smtp.to_string()];
            args.extend(addresses.iter().cloned());
            let out = py(
                r#"
port = int(sys.argv[1])
for a in sys.argv[2:]:
    s = smtplib.SMTP("127.0.0.1", port, timeout=120)
    s.command_encoding = "utf-8"
    s.ehlo("client.remote.test")
    code, _ = s.mail("x@remote.test", ["SMTPUTF8"] if not a.isascii() else [])
    assert code == 250, code
    code, msg = s.rcpt(a)
    print(json.dumps([code, msg.decode("utf-8")]))
    s.quit()
"#,
                &args,
            );
            for (address, line) in addresses.iter().zip(out.lines()) {
                let (code, text): (u16, String) = serde_json::from_str(line).unwrap();
                let got = format!("{code} {text}");
                let want = route(&model, &host, address);
                let expected = match want.outcome {
                    Outcome::Reject => want.reply.clone().unwrap(),
                    Outcome::Remote => {
                        let (l, d) = mailc::serve::decision::normalize(address).unwrap();
                        mailc::serve::decision::relay_denied_reply(&format!("{l}@{d}"))
                    }
                    _ => "250 2.1.5 OK".to_string(),
                };
                if got != expected {
                    failures.push(format!(
                        "{name} {host} {address}: server `{got}`, route `{expected}`"
                    ));
                }
                asked += 1;
            }
        }
    }
    assert!(asked > 100, "only {asked} rows");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A recording SMTP server for what leaves through the queue: EHLO offers
/// only 8BITMIME, so the MAIL and RCPT lines it records are exactly the
/// ones the server needs to send.
fn sink() -> Sink {
    Sink::start(
        0,
        SinkConfig {
            bare_ehlo: true,
            ..SinkConfig::default()
        },
    )
}

#[test]
fn forwards_relays_bounces_and_srs_returns_leave_through_the_queue() {
    let (_tmp, sink, server) = embedded_to_sink("forward");
    let out = py(
        &format!(
            "{SUBMIT}\n{}",
            r#"
port, sub = int(sys.argv[1]), int(sys.argv[2])
s = smtplib.SMTP("127.0.0.1", port, timeout=120)
for to in ["team@example.com", "hello@forward.example", "typo@relay.example", "typo@bounce.example"]:
    print(attempt(lambda: s.sendmail("x@remote.test", [to], "Subject: to %s\r\n\r\nhi\r\n" % to)))
s.quit()
s = smtplib.SMTP("127.0.0.1", sub, timeout=120)
login(s, "alice@example.com", "alice-pw", "PLAIN")
print(attempt(lambda: s.sendmail("alice@example.com", ["x@elsewhere.test", "bob@example.com"], "Subject: out\r\n\r\nhi\r\n")))
s.quit()
"#
        ),
        &[server.smtp.to_string(), server.submission.to_string()],
    );
    assert_eq!(out, "{}\n{}\n{}\n{}\n{}\n", "{out}");
    // team: three mailboxes here (nested aliases), one forward out.
    for user in ["alice@example.com", "bob@example.com", "carol@example.org"] {
        assert!(
            server
                .inbox(user)
                .iter()
                .any(|m| m.contains("Subject: to team@example.com")),
            "{user}"
        );
    }
    let got = sink.wait_for(5, || server.log_text());
    assert_eq!(got.len(), 5, "{got:#?}");
    let partner = Sink::sent_to(&got, "partner@external.test");
    assert_eq!(partner.from, "x@remote.test");
    assert!(partner.text().contains("Subject: to team@example.com"));
    // forward.example asks for SRS.
    let srs = Sink::sent_to(&got, "someone@mailbox.test").from;
    assert!(
        srs.starts_with("SRS0=") && srs.ends_with("=remote.test=x@forward.example"),
        "{srs}"
    );
    assert_eq!(
        Sink::sent_to(&got, "typo@relay.example").from,
        "x@remote.test"
    );
    let bounce = Sink::sent_to(&got, "x@remote.test");
    assert_eq!(bounce.from, "");
    assert!(bounce.text().contains("typo@bounce.example"));
    let outbound = Sink::sent_to(&got, "x@elsewhere.test");
    assert_eq!(outbound.from, "alice@example.com");
    assert!(
        server
            .inbox("bob@example.com")
            .iter()
            .any(|m| m.contains("Subject: out"))
    );
    // The forward's bounce comes back to its SRS address and goes on to the
    // original sender; a forged SRS address is refused (as `mailc route`
    // refuses `=` in a local part of ours).
    let forged = srs.replacen("SRS0=", "SRS0=AAAA", 1);
    let out = py(
        &format!(
            "{SUBMIT}\n{}",
            r#"
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=120)
print(attempt(lambda: s.sendmail("", [sys.argv[2]], "Subject: returned\r\n\r\nundeliverable\r\n")))
print(attempt(lambda: s.sendmail("", [sys.argv[3]], "Subject: forged\r\n\r\nx\r\n")))
# Only a bounce may use an SRS address: anyone else would be relayed
# to the original sender through it.
refused = lambda r: "(501, b'5.1.3 " in r and "bad recipient address syntax" in r
print(refused(attempt(lambda: s.sendmail("y@remote.test", [sys.argv[2]], "Subject: not a bounce\r\n\r\nx\r\n"))))
# The hash covers each part with its length: re-cutting them is forgery.
print(refused(attempt(lambda: s.sendmail("", [sys.argv[4]], "Subject: recut\r\n\r\nx\r\n"))))
s.quit()
"#
        ),
        &[
            server.smtp.to_string(),
            srs.clone(),
            forged.clone(),
            srs.replace("=remote.test=x@", "=remote.tes=tx@"),
        ],
    );
    let lower = forged.to_lowercase();
    assert_eq!(
        out,
        format!(
            "{{}}\n{{'{forged}': (501, b'5.1.3 <{lower}>: bad recipient address syntax')}}\n\
             True\nTrue\n"
        ),
        "{out}"
    );
    let got = sink.wait_for(6, || server.log_text());
    let back = got
        .iter()
        .find(|m| m.text().contains("Subject: returned"))
        .unwrap();
    assert_eq!(back.to[0], "x@remote.test");
    assert_eq!(back.from, "");
}

#[test]
fn addresses_leave_as_parsed_and_routing_tricks_are_refused() {
    // A quoted local part holding `>` and a parameter, NUL bytes, `%`
    // routing: refused at RCPT in our domains (as `mailc route` does) and
    // at MAIL when unwritable; a quoted sender that is fine is written back
    // quoted, into the forward (SRS), the relay and the bounce; an
    // authenticated user's quoted remote recipients leave quoted. The sink
    // checks the exact command lines the next hop gets.
    let (_tmp, sink, server) = embedded_to_sink("quoted");
    let out = py(
        &format!(
            "{SUBMIT}\n{}",
            r#"
port, sub = int(sys.argv[1]), int(sys.argv[2])
s = smtplib.SMTP("127.0.0.1", port, timeout=120)
s.ehlo("client.remote.test")
for c in ['MAIL FROM:<x@remote.test>',
          'RCPT TO:<"victim@gmail.com> ORCPT=rfc822;x"@relay.example>',
          'RCPT TO:<x%evil.com@example.org>',
          'RCPT TO:<"a\0b"@relay.example>',
          'RCPT TO:<a\0b@relay.example>',
          'RCPT TO:<x@[192.0.2.1]>',
          'RCPT TO:<Postmaster>']:
    print(s.docmd(c)[0])
print(s.data(b"Subject: to the postmaster\r\n\r\nhi\r\n")[0])
for c in [
          'MAIL FROM:<"a\0b"@remote.test>',
          'MAIL FROM:<"x\x1b[2J"@remote.test>',
          'MAIL FROM:<"x> SIZE=1 BODY=8BITMIME y"@remote.test>',
          'RCPT TO:<hello@forward.example>',
          'RCPT TO:<typo@relay.example>',
          'RCPT TO:<typo@bounce.example>']:
    print(s.docmd(c)[0])
print(s.data(b"Subject: quoted\r\n\r\nhi\r\n")[0])
s.quit()
s = smtplib.SMTP("127.0.0.1", sub, timeout=120)
login(s, "alice@example.com", "alice-pw", "PLAIN")
for c in ['MAIL FROM:<alice@example.com>',
          'RCPT TO:<"victim@gmail.com> ORCPT=rfc822;x"@elsewhere.test>',
          'RCPT TO:<"john \\"jj\\" smith"@elsewhere.test>']:
    print(s.docmd(c)[0])
print(s.data(b"Subject: out quoted\r\n\r\nhi\r\n")[0])
s.quit()
"#
        ),
        &[server.smtp.to_string(), server.submission.to_string()],
    );
    assert_eq!(
        out,
        "250\n501\n501\n501\n501\n501\n250\n250\n501\n501\n250\n250\n250\n250\n250\n250\n250\n250\n250\n",
        "{out}"
    );
    // RFC 5321 §4.5.1: the host's postmaster (example.com has none; the
    // first domain that delivers one is example.org, to carol).
    assert!(
        server
            .inbox("carol@example.org")
            .iter()
            .any(|m| m.contains("Subject: to the postmaster")),
        "{}",
        server.log_text()
    );
    let got = sink.wait_for(4, || server.log_text());
    let lines: Vec<String> = got.iter().map(|m| m.command_lines()).collect();
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let find = |prefix: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix}: {lines:#?}"))
    };
    let quoted = "\"x> SIZE=1 BODY=8BITMIME y\"@remote.test";
    assert_eq!(
        find("MAIL FROM:<>"),
        &format!("MAIL FROM:<>\r\nRCPT TO:<{quoted}>\r\n"),
        "the bounce"
    );
    assert_eq!(
        find("MAIL FROM:<alice"),
        "MAIL FROM:<alice@example.com>\r\n\
         RCPT TO:<\"john \\\"jj\\\" smith\"@elsewhere.test>\r\n\
         RCPT TO:<\"victim@gmail.com> ORCPT=rfc822;x\"@elsewhere.test>\r\n",
        "the submission"
    );
    let srs = find("MAIL FROM:<\"SRS0=");
    assert!(
        srs.ends_with(
            "=remote.test=x> SIZE=1 BODY=8BITMIME y\"@forward.example>\r\n\
             RCPT TO:<someone@mailbox.test>\r\n"
        ),
        "the forward: {srs}"
    );
    assert_eq!(
        find("MAIL FROM:<\"x"),
        &format!("MAIL FROM:<{quoted}>\r\nRCPT TO:<typo@relay.example>\r\n"),
        "the relay"
    );
}

#[test]
fn a_failed_store_is_451_for_the_whole_message() {
    let tmp = Temp::new("451");
    let data = tmp.0.join("data");
    // dave's Maildir cannot be made: a file stands where it would go.
    std::fs::create_dir_all(data.join("mail/example.org")).unwrap();
    std::fs::write(data.join("mail/example.org/dave"), "in the way").unwrap();
    let input = Input {
        path: root().join("tests/cases/embedded-stack/mailc.yaml"),
        host: Some("mx1".into()),
        extra: Vec::new(),
        open: false,
    };
    let server = Server::start(&input, &data);
    let out = py(
        &format!(
            "{SUBMIT}\n{}",
            r#"
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=120)
print(attempt(lambda: s.sendmail("x@remote.test", ["alice@example.com", "dave@example.org"], "Subject: x\r\n\r\nx\r\n")))
print(attempt(lambda: s.sendmail("x@remote.test", ["alice@example.com"], "Subject: y\r\n\r\ny\r\n")))
s.quit()
"#
        ),
        &[server.smtp.to_string()],
    );
    assert_eq!(
        out, "451 4.3.0 error: local delivery failed, try again later\n{}\n",
        "{out}"
    );
    assert!(
        server.log_text().contains("not stored"),
        "{}",
        server.log_text()
    );
}

#[test]
fn over_quota_at_data_time_bounces_to_the_sender() {
    let (_tmp, sink, server) = embedded_to_sink("quota-data");
    // No SIZE= announced: the third 6K message fits nowhere but is only
    // known to be too big after DATA. bob gets no copy, the sender a
    // report; alice, also a recipient, gets hers.
    let out = py(
        r#"
s, f = sock(sys.argv[1])
reply(f)
body = b"Subject: big\r\n\r\n" + (b"q" * 98 + b"\r\n") * 60 + b".\r\n"
s.sendall(b"EHLO c\r\n"); reply(f)
for i in range(3):
    to = b"<bob@example.com>" if i < 2 else b"<bob@example.com>\r\nRCPT TO:<alice@example.com>"
    s.sendall(b"MAIL FROM:<x@remote.test>\r\nRCPT TO:" + to + b"\r\nDATA\r\n")
    codes = [reply(f)[:3] for _ in range(4 if i == 2 else 3)]
    s.sendall(body)
    print(" ".join(codes), reply(f)[:3])
"#,
        &[server.smtp.to_string()],
    );
    assert_eq!(
        out,
        "250 250 354 250\n250 250 354 250\n250 250 250 354 250\n"
    );
    assert_eq!(server.inbox("bob@example.com").len(), 2);
    assert_eq!(server.inbox("alice@example.com").len(), 1);
    let got = sink.wait_for(1, || server.log_text());
    let report = Sink::sent_to(&got, "x@remote.test");
    assert_eq!(report.from, "");
    let text = report.text();
    assert!(
        text.contains("bob@example.com") && text.contains("5.2.2"),
        "{text}"
    );
}

#[test]
fn random_bytes_never_bring_the_server_down() {
    let (_tmp, server) = embedded("garbage");
    // A fixed seed: 300 sessions of random bytes mixed with real verbs,
    // bare CR and LF, NULs, huge and empty lines, cut off anywhere.
    py(
        r#"
import random
rng = random.Random(7)
words = [b"EHLO x", b"HELO", b"MAIL FROM:<a@b>", b"MAIL FROM:<>", b"RCPT TO:<alice@example.com>",
         b"RCPT TO:<", b"DATA", b"BDAT 10 LAST", b"AUTH PLAIN", b"AUTH LOGIN", b"STARTTLS",
         b"RSET", b"VRFY a", b"EXPN b", b"NOOP", b"\x00", b"\r", b"\n", b".", b"..", b"=", b"*",
         b"MAIL FROM:<a@b> SIZE=99999999999999999999", b"RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS"]
for n in range(300):
    s, f = sock(sys.argv[1])
    s.settimeout(10)
    parts = []
    for _ in range(rng.randrange(1, 40)):
        r = rng.random()
        if r < 0.5:
            parts.append(rng.choice(words) + rng.choice([b"\r\n", b"\n", b"", b"\r"]))
        elif r < 0.9:
            parts.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))))
        else:
            parts.append(b"A" * rng.randrange(1, 20000))
    try:
        s.sendall(b"".join(parts))
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()
"#,
        &[server.smtp.to_string()],
    );
    let t = swaks(
        server.smtp,
        &["--from", "x@remote.test", "--to", "alice@example.com"],
    );
    assert!(t.contains("250 2.0.0 OK: queued as"), "{t}");
    assert!(
        !server.log_text().contains("panicked"),
        "{}",
        server.log_text()
    );
}

#[test]
fn only_crlf_dot_crlf_ends_data_and_bare_newlines_are_refused() {
    // SMTP smuggling: `<CR><LF>.<CR><CR><LF>` or `<LF>.<LF>` must not end
    // DATA, or what follows would run as a second transaction (here one
    // "from admin@example.com" to bob). Only `<CR><LF>.<CR><LF>` ends it;
    // a message with a bare CR or LF is refused whole (DATA and BDAT), and
    // so is a command line ending in a bare LF.
    let (_tmp, server) = embedded("smuggle");
    let out = py(
        r#"
s, f = sock(sys.argv[1])
reply(f)
s.sendall(b"EHLO c\r\n"); reply(f)
smuggled = (b"MAIL FROM:<admin@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n"
            b"Subject: smuggled\r\n\r\nfrom admin\r\n.\r\n")
for end in [b"\r\n.\r\r\n", b"\n.\n", b"\r\n.\n", b"\n.\r\n", b"\r.\r\n"]:
    s.sendall(b"MAIL FROM:<x@remote.test>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n")
    print(reply(f)[:3], reply(f)[:3], reply(f)[:3])
    s.sendall(b"Subject: carrier\r\n\r\nhello" + end + smuggled)
    print(reply(f))
    s.sendall(b"NOOP\r\n"); print(reply(f))
s.sendall(b"NOOP\n"); print(reply(f))
s.sendall(b"NO\rOP\r\n"); print(reply(f))
s.sendall(b"MAIL FROM:<x@remote.test>\r\nRCPT TO:<carol@example.org>\r\nBDAT 12 LAST\r\nSubject: x\n\n")
print(reply(f)[:3], reply(f)[:3], reply(f)[:3])
s.sendall(b"MAIL FROM:<x@remote.test>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n")
print(reply(f)[:3], reply(f)[:3], reply(f)[:3])
s.sendall(b"Subject: fine\r\n\r\n.. and dots\r\n.\r\n")
print(reply(f)[:9])
s.close()
"#,
        &[server.smtp.to_string()],
    );
    let refused = "554 5.6.0 message refused: a bare <CR> or <LF> in it; every line ends in <CR><LF> (RFC 5321 §2.3.8)";
    let mut want = String::new();
    for _ in 0..5 {
        want.push_str(&format!("250 250 354\n{refused}\n250 2.0.0 OK\n"));
    }
    want.push_str(
        "500 5.5.2 bare <CR> or <LF> received: every line ends in <CR><LF> (RFC 5321 §2.3.8)\n",
    );
    want.push_str(
        "500 5.5.2 bare <CR> or <LF> received: every line ends in <CR><LF> (RFC 5321 §2.3.8)\n",
    );
    want.push_str("250 250 554\n250 250 354\n250 2.0.0\n");
    assert_eq!(out, want, "{out}");
    assert_eq!(server.inbox("bob@example.com"), Vec::<String>::new());
    let carol = server.inbox("carol@example.org");
    assert_eq!(carol.len(), 1, "{carol:?}");
    assert!(
        carol[0].ends_with("Subject: fine\r\n\r\n. and dots\r\n"),
        "{carol:?}"
    );
}

#[test]
fn chunking_bdat_takes_bytes_as_they_are() {
    let (_tmp, server) = embedded("bdat");
    // RFC 3030: chunks are counted, not dot-stuffed; every chunk's bytes
    // are read even when the command is refused, so the session stays in
    // step.
    let out = py(
        r#"
s, f = sock(sys.argv[1])
reply(f)
s.sendall(b"EHLO c\r\n"); print("250-CHUNKING" in reply(f))
msg = b"Subject: chunked\r\n\r\nline one\r\n.\r\n..dots stay\r\n"
a, b = msg[:20], msg[20:]
s.sendall(b"MAIL FROM:<x@remote.test>\r\nRCPT TO:<carol@example.org>\r\nBDAT %d\r\n" % len(a) + a
          + b"BDAT %d LAST\r\n" % len(b) + b)
print(" | ".join(reply(f)[:22] for _ in range(4)))
s.sendall(b"BDAT 6 LAST\r\nNOOP\r\nNOOP\r\n")
print(reply(f)[:9], reply(f)[:9])
s.sendall(b"MAIL FROM:<x@remote.test>\r\nRCPT TO:<carol@example.org>\r\nBDAT 3\r\nabcDATA\r\nRSET\r\n")
print(" ".join(reply(f)[:3] for _ in range(5)))
s.sendall(b"MAIL FROM:<x@remote.test>\r\nRCPT TO:<carol@example.org>\r\nBDAT 99999999999 LAST\r\n")
print(" ".join(reply(f)[:3] for _ in range(2)))
s.sendall(b"x" * 4096)
s.close()
"#,
        &[server.smtp.to_string()],
    );
    assert_eq!(
        out,
        "True\n250 2.1.0 OK | 250 2.1.5 OK | 250 2.0.0 20 octets re | 250 2.0.0 OK: queued a\n\
         503 5.5.1 250 2.0.0\n250 250 250 503 250\n250 250\n",
        "{out}"
    );
    let carol = server.inbox("carol@example.org");
    assert_eq!(carol.len(), 1);
    assert!(
        carol[0].ends_with("\r\nSubject: chunked\r\n\r\nline one\r\n.\r\n..dots stay\r\n"),
        "{:?}",
        carol[0]
    );
}

#[test]
fn off_loopback_auth_needs_tls_first() {
    let tmp = Temp::new("offlo");
    let input = Input {
        path: root().join("tests/cases/embedded-stack/mailc.yaml"),
        host: Some("mx1".into()),
        extra: Vec::new(),
        open: true,
    };
    let server = Server::start(&input, &tmp.0.join("data"));
    let out = py(
        &format!(
            "{SUBMIT}\n{}",
            r#"
host, port = sys.argv[1], int(sys.argv[2])
s = smtplib.SMTP(host, port, timeout=120)
s.ehlo("c")
print(s.has_extn("auth"), s.has_extn("starttls"))
print(attempt(lambda: s.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0alice@example.com\0alice-pw").decode())))
print(attempt(lambda: s.mail("alice@example.com")))
s.starttls(context=unverified())
s.ehlo("c")
print(s.has_extn("auth"), s.has_extn("starttls"))
print(attempt(lambda: login(s, "alice@example.com", "alice-pw", "PLAIN")))
print(attempt(lambda: s.sendmail("alice@example.com", ["bob@example.com"], "Subject: tls\r\n\r\nx\r\n")))
s.quit()
"#
        ),
        &[outside_address(), server.submission.to_string()],
    );
    assert_eq!(
        out,
        "False True\n\
         538 5.7.11 encryption required for requested authentication mechanism\n\
         530 5.7.0 must issue a STARTTLS command first\n\
         True False\n\
         235 2.7.0 authentication successful\n{}\n",
        "{out}"
    );
    let bob = server.inbox("bob@example.com");
    assert_eq!(bob.len(), 1);
    assert!(bob[0].contains("with ESMTPSA id"), "{}", bob[0]);
}

#[test]
fn an_endless_line_is_cut_off() {
    let (_tmp, server) = embedded("flood");
    // Over the line limit: answered at once; 64 limits' worth without an
    // end: 421 and the connection closes.
    let out = py(
        r#"
s, f = sock(sys.argv[1])
reply(f)
s.sendall(b"z" * 400000)
print(reply(f))
print(reply(f)[:9])
print(reply(f))
"#,
        &[server.smtp.to_string()],
    );
    assert_eq!(
        out, "500 5.5.2 line too long\n421 4.7.0\n<closed>\n",
        "{out}"
    );
}

/// `mailc test --live` against `mailc serve`: every host of every example,
/// run by `mailc serve SPEC --host H`, answers each route test of that host
/// over SMTP as the example's `tests` say; and a test the server does not
/// meet fails at its place, naming the server and its reply.
#[test]
fn mailc_test_live_passes_against_every_example_host() {
    let mut hosts = 0;
    for entry in std::fs::read_dir(root().join("examples")).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let model = model_of(&dir);
        let tmp = Temp::new(&format!("live-{name}"));
        for host in model.hosts.keys() {
            let input = Input {
                path: dir.join("mailc.yaml"),
                host: Some(host.clone()),
                extra: Vec::new(),
                open: false,
            };
            let server = Server::start(&input, &tmp.0.join(format!("data-{host}")));
            for file in ["mailc.yaml", "mailc.kdl"] {
                let out = Mailc::new(&dir, &["test", file, "--live"])
                    .arg(format!("{host}=127.0.0.1:{}", server.smtp))
                    .output();
                let (stdout, stderr) = (
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr),
                );
                assert!(
                    out.status.success() && stdout.contains(" passed"),
                    "{name}/{file} on {host}: {stdout}{stderr}\nserver log:\n{}",
                    server.log_text()
                );
            }
            hosts += 1;
        }
    }
    assert!(hosts >= 6, "only {hosts} hosts");

    // Wrong for the server: a refused address expected delivered, an
    // accepted one expected refused, a reply code that differs.
    let tmp = Temp::new("live-wrong");
    let spec = tmp.0.join("mailc.yaml");
    let quickstart =
        std::fs::read_to_string(root().join("examples/quickstart/mailc.yaml")).unwrap();
    let head = &quickstart[..quickstart.find("\n# What must become").unwrap()];
    std::fs::write(
        &spec,
        format!(
            "{head}\ntests:\n  - address: nobody@example.com\n    deliver: [alice]\n  \
             - address: info@example.com\n    reject: true\n  \
             - address: bob@example.com\n    deliver: [bob]\n  \
             - address: x@elsewhere.example\n    reject: 550 5.1.1\n"
        ),
    )
    .unwrap();
    let input = Input {
        path: spec.clone(),
        host: Some("mx1".into()),
        extra: Vec::new(),
        open: false,
    };
    let server = Server::start(&input, &tmp.0.join("data"));
    let out = Mailc::new(
        &tmp.0,
        &["--color", "never", "test", "mailc.yaml", "--live"],
    )
    .arg(format!("mail.example.com=127.0.0.1:{}", server.smtp))
    .output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.matches("mailc::test::failed\n").count(),
        3,
        "{stderr}"
    );
    assert!(stderr.contains("error: 3 of 4 checks failed"), "{stderr}");
    let out = Mailc::new(
        &tmp.0,
        &["test", "mailc.yaml", "--format", "json", "--live"],
    )
    .arg(format!("mx1=127.0.0.1:{}", server.smtp))
    .output();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let subject = |a: &str| format!("`{a}` on mx1 at 127.0.0.1:{}", server.smtp);
    let got: Vec<(String, String, bool, u64)> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let actual = c["actual"].as_str().unwrap();
            (
                c["subject"].as_str().unwrap().to_string(),
                actual.split(' ').take(2).collect::<Vec<_>>().join(" "),
                c["passed"].as_bool().unwrap(),
                c["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                subject("nobody@example.com"),
                "`550 5.1.1".into(),
                false,
                35
            ),
            (subject("info@example.com"), "`250 2.1.5".into(), false, 37),
            (subject("bob@example.com"), "`250 2.1.5".into(), true, 39),
            (
                subject("x@elsewhere.example"),
                "`550 5.7.1".into(),
                false,
                41
            ),
        ],
        "{report:#}"
    );
    // Nothing was sent: the store is empty.
    assert!(server.inbox("bob@example.com").is_empty());
}

/// The files of a user's Maildir++ folder `new/` (`INBOX` or a folder name).
fn folder(server: &Server, user: &str, name: &str) -> Vec<String> {
    let (local, domain) = user.split_once('@').unwrap();
    let mut dir = server.data.join("mail").join(domain).join(local);
    if name != "INBOX" {
        dir = dir.join(format!(".{name}"));
    }
    let mut out: Vec<String> = match std::fs::read_dir(dir.join("new")) {
        Ok(entries) => entries
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

#[test]
fn rules_file_forward_and_the_autoresponder_answers_once_across_kill_9() {
    // tests/cases/rules, served by mailc serve itself.
    let tmp = Temp::new("rules");
    let spec = std::fs::read_to_string(root().join("tests/cases/rules/mailc.yaml"))
        .unwrap()
        .replace("stack: postfix-dovecot", "stack: embedded");
    let path = tmp.0.join("mailc.yaml");
    std::fs::write(&path, spec).unwrap();
    let input = Input {
        path,
        host: Some("mx1".into()),
        extra: Vec::new(),
        open: false,
    };
    let mut server = Server::start(&input, &tmp.0.join("data"));
    let send = |port: u16, mails: &[(&str, &str, &str)]| {
        let mut script = String::from(
            "port = int(sys.argv[1])\ns = smtplib.SMTP(\"127.0.0.1\", port, timeout=120)\n",
        );
        for (from, to, headers) in mails {
            script.push_str(&format!(
                "s.sendmail({from:?}, [{to:?}], {:?})\n",
                format!(
                    "{headers}\r\nMessage-ID: <{}@remote.test>\r\n\r\nHello.\r\n",
                    to.len()
                )
            ));
        }
        script.push_str("s.quit()\n");
        py(&script, &[port.to_string()]);
    };
    send(
        server.smtp,
        &[
            (
                "friend@remote.test",
                "alice@example.com",
                "From: friend@remote.test\r\nTo: alice@example.com\r\nSubject: [Rust] news",
            ),
            (
                "boss@example.net",
                "a.smith@example.com",
                "From: Boss <boss@example.net>\r\nTo: a.smith@example.com\r\nSubject: Report",
            ),
            (
                "friend@remote.test",
                "alice@example.com",
                "From: friend@remote.test\r\nTo: alice@example.com\r\nSubject: Hello",
            ),
            (
                "carol@example.com",
                "bob@example.com",
                "From: carol@example.com\r\nTo: bob@example.com\r\nSubject: Lunch?",
            ),
            (
                "carol@example.com",
                "bob@example.com",
                "From: carol@example.com\r\nTo: bob@example.com\r\nSubject: Lunch again?",
            ),
            (
                "carol@example.com",
                "bob@example.com",
                "From: carol@example.com\r\nTo: bob@example.com\r\nList-Id: <team.lists.example>\r\nSubject: Minutes",
            ),
            (
                "",
                "robert@example.com",
                "From: MAILER-DAEMON@remote.test\r\nTo: robert@example.com\r\nSubject: Undelivered",
            ),
        ],
    );
    let alice = "alice@example.com";
    assert_eq!(folder(&server, alice, "Lists.Rust").len(), 1);
    assert_eq!(folder(&server, alice, "Boss").len(), 1);
    assert_eq!(folder(&server, alice, "INBOX").len(), 1);
    let bob = "bob@example.com";
    assert_eq!(folder(&server, bob, "INBOX").len(), 3);
    assert_eq!(folder(&server, bob, "Lists").len(), 1);
    // carol: the boss's message (a copy forwarded by alice's rule) and one
    // reply from bob's autoresponder, whatever else she sent him.
    let carol = folder(&server, "carol@example.com", "INBOX");
    assert_eq!(carol.len(), 2, "{carol:#?}");
    let reply = carol
        .iter()
        .find(|m| m.contains("Auto-Submitted: auto-replied"))
        .expect("a reply");
    assert!(reply.starts_with("Return-Path: <>\r\n"), "{reply}");
    assert!(reply.contains("Subject: Away until Monday\r\n"), "{reply}");
    assert!(reply.contains("From: <bob@example.com>\r\n"), "{reply}");
    assert!(reply.contains("In-Reply-To: <"), "{reply}");
    assert!(carol.iter().any(|m| m.contains("Subject: Report")));
    // The record of whom it answered survives kill -9.
    server.restart();
    send(
        server.smtp,
        &[(
            "carol@example.com",
            "bob@example.com",
            "From: carol@example.com\r\nTo: bob@example.com\r\nSubject: Still away?",
        )],
    );
    assert_eq!(folder(&server, bob, "INBOX").len(), 4);
    assert_eq!(folder(&server, "carol@example.com", "INBOX").len(), 2);
}

/// Sending limits in submission: 450 at a mailbox's limit while the
/// domain still sends, 450 at the domain's, the counts kept across kill -9.
#[test]
fn sending_limits_hold_across_kill_9() {
    let tmp = Temp::new("limits");
    let input = Input {
        path: root().join("tests/cases/limits/mailc.yaml"),
        host: Some("em".into()),
        extra: Vec::new(),
        open: false,
    };
    let mut server = Server::start(&input, &tmp.0.join("data"));
    let send = |port: u16| {
        move |login: &str, to: &str| {
            let password = format!("{}-pw", login.split('@').next().unwrap());
            swaks(
                port,
                &[
                    "--auth",
                    "PLAIN",
                    "--auth-user",
                    login,
                    "--auth-password",
                    &password,
                    "--from",
                    login,
                    "--to",
                    to,
                    "--helo",
                    "client.test",
                ],
            )
        }
    };
    send_limits::fill("em.example", send(server.submission));
    server.restart();
    send_limits::still_full("em.example", send(server.submission));
    // Refused mail is not dropped: only what was accepted was stored.
    assert_eq!(
        server.inbox("bob@em.example").len(),
        2,
        "{}",
        server.log_text()
    );
    assert_eq!(server.inbox("alice@em.example").len(), 2);
}
