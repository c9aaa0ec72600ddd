//! The outbound queue of `mailc serve`, run for real on 127.0.0.1: mail
//! comes in through the server's own SMTP and submission ports (Python's
//! smtplib, `docs/testing.md`) and leaves through `--relay-all` to a
//! sink this test runs, which records every envelope and message.
//!
//! - a forward of an SRS domain leaves with an `SRS0=` sender, a forward of
//!   a domain without SRS with the sender as it was;
//! - a submission leaves DKIM-signed with both keys of its domain; dkimpy
//!   (`docs/testing.md`) verifies the RSA signature with the key of the compiled
//!   zone, and mail-auth verifies both, asking a DNS server on 127.0.0.1
//!   that serves the compiled zone;
//! - a sink that answers 451 first gets the message on a later attempt;
//! - a sink that answers 550 makes a non-delivery report (RFC 3464) that
//!   lands in the local sender's Maildir; for a forward, it finds the
//!   original sender behind the SRS address;
//! - kill -9 with mail queued for a sink that is down: after a restart,
//!   the mail is delivered; a SIGTERM stop leaves it queued;
//! - without `--relay-all`, mail leaves by MX lookup through `--resolver`
//!   (a DNS server on 127.0.0.1; the MX host on 127.0.0.2:25, so as root),
//!   and a null MX is reported as 5.1.10;
//! - a DKIM key that cannot be read stops the start, naming the file.
//!
//! The tools are required: a missing one fails the test, never a skip.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[path = "support/sink.rs"]
mod smtp_sink;
mod support;
use support::serve;
use support::{Mailc, Temp, copy_dir, free_port, root};

/// The case `tests/cases/embedded-queue` with its test keys, in a scratch
/// folder.
fn case(label: &str) -> Temp {
    let t = Temp::new(label);
    copy_dir(&root().join("tests/cases/embedded-queue"), &t.0);
    copy_dir(&root().join("tests/keys/embedded-queue"), &t.0);
    t
}

/// Polls `f` until it gives something, for at most two minutes.
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------- the sink

/// `retry…@` is deferred (451) at its first offer; `gone…@` is refused
/// (550); everything else is taken.
fn policy() -> smtp_sink::RcptPolicy {
    Arc::new(|a, seen| {
        if a.starts_with("retry") && seen == 0 {
            "451 4.3.0 busy, try again later".to_string()
        } else if a.starts_with("gone") {
            format!("550 5.1.1 <{a}>: no such user here")
        } else {
            "250 2.1.5 ok".to_string()
        }
    })
}

/// A plain SMTP server (no STARTTLS) on 127.0.0.1:`port` answering RCPT by
/// [`policy`] and recording every envelope and message.
fn sink(port: u16) -> smtp_sink::Sink {
    sink_at("127.0.0.1", port)
}

fn sink_at(ip: &str, port: u16) -> smtp_sink::Sink {
    smtp_sink::Sink::start_at(
        ip,
        port,
        smtp_sink::SinkConfig {
            plain_only: true,
            rcpt: Some(policy()),
            ..smtp_sink::SinkConfig::default()
        },
    )
}

// -------------------------------------------------------------- the server

/// `mailc serve` of a case, host mx1, with its SMTP and submission ports.
struct Server {
    inner: serve::Server,
    smtp: u16,
    submission: u16,
}

impl Server {
    /// `mailc serve` of the case in `dir`, everything out to `sink_port`.
    fn start(dir: &Path, sink_port: u16) -> Server {
        Server::start_with(dir, &["--relay-all", &format!("127.0.0.1:{sink_port}")])
    }

    /// `mailc serve` of the case in `dir` with these outbound flags.
    fn start_with(dir: &Path, outbound: &[&str]) -> Server {
        Server::start_of(dir, "mailc.yaml", outbound)
    }

    /// `mailc serve WHAT` (the spec, or a compiled manifest) in `dir`, each
    /// start with a log of its own.
    fn start_of(dir: &Path, what: &str, outbound: &[&str]) -> Server {
        static STARTS: AtomicUsize = AtomicUsize::new(0);
        let n = STARTS.fetch_add(1, Ordering::Relaxed);
        let inner = serve::Server::build(Path::new(what), &dir.join("data"))
            .in_dir(dir)
            .host("mx1")
            .ports_from(29000)
            .on_loopback(&["--smtp", "--submission"])
            .args(["--retry-base", "1"])
            .args(outbound)
            .log(&dir.join(format!("serve-{n}.log")))
            .start();
        Server {
            smtp: inner.port("--smtp"),
            submission: inner.port("--submission"),
            inner,
        }
    }

    /// The queue's entries (envelopes) on disk.
    fn queued(&self) -> usize {
        std::fs::read_dir(self.data.join("queue"))
            .map(|rd| {
                rd.filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".env"))
                })
                .count()
            })
            .unwrap_or(0)
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

// -------------------------------------------------------------- the client

/// Sends one message with Python's smtplib; with `login`, AUTH first.
fn send(port: u16, login: Option<(&str, &str)>, from: &str, to: &[&str], message: &str) {
    let script = r#"
import smtplib, sys
port, user, pw, frm, to = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
msg = sys.stdin.buffer.read()
s = smtplib.SMTP('127.0.0.1', port, timeout=60)
s.ehlo('client.test')
if user:
    s.login(user, pw)
refused = s.sendmail(frm, to.split(','), msg)
s.quit()
assert not refused, refused
"#;
    let (user, pw) = login.unwrap_or(("", ""));
    let mut child = Command::new("python3")
        .args([
            "-c",
            script,
            &port.to_string(),
            user,
            pw,
            from,
            &to.join(","),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (smtplib) is needed: run `.ci/install-oracles`");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(message.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "smtplib could not send from {from} to {to:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn message(from: &str, to: &str, subject: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Date: Mon, 23 Nov 2026 12:00:00 +0000\r\nMessage-ID: <{subject}@client.test>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Hello from the queue test.\r\n.a line with a leading dot\r\n"
    )
}

// ------------------------------------------------------------------- tests

#[test]
fn forwards_get_srs_senders_where_the_domain_asks() {
    let dir = case("srs");
    let sink = sink(free_port(29000));
    let server = Server::start(&dir.0, sink.port);
    send(
        server.smtp,
        None,
        "someone@origin.test",
        &["fwd@queue.example"],
        &message("someone@origin.test", "fwd@queue.example", "srs-forward"),
    );
    send(
        server.smtp,
        None,
        "someone@origin.test",
        &["fwd@plain.example"],
        &message("someone@origin.test", "fwd@plain.example", "plain-forward"),
    );
    let srs = wait_for("the SRS forward at the sink", || {
        sink.find(|r| String::from_utf8_lossy(&r.data).contains("Subject: srs-forward"))
    });
    assert_eq!(srs.to, ["someone@far.test"]);
    assert!(
        srs.from.starts_with("SRS0=") && srs.from.ends_with("=origin.test=someone@queue.example"),
        "not an SRS sender: {}",
        srs.from
    );
    let plain = wait_for("the plain forward at the sink", || {
        sink.find(|r| String::from_utf8_lossy(&r.data).contains("Subject: plain-forward"))
    });
    assert_eq!(plain.from, "someone@origin.test");
    assert_eq!(plain.to, ["someone@far.test"]);
    let secret = server.data.join("srs.secret");
    let mode = std::fs::metadata(&secret).expect("the SRS secret exists");
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600
    );
    wait_for("an empty queue", || (server.queued() == 0).then_some(()));
}

/// The compiled zones of the case (`mailc build`): file name → text.
fn zones(dir: &Path) -> BTreeMap<String, String> {
    let out = Mailc::new(dir, &["build", "mailc.yaml", "--out", "out"]).run();
    assert_eq!(out.code, 0, "mailc build: {}", out.stderr);
    std::fs::read_dir(dir.join("out/dns"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

/// dkimpy verifies the RSA signatures of `message`, reading the key record
/// from the compiled zone file (dkimpy without PyNaCl cannot check Ed25519).
fn dkimpy_verifies_rsa(message: &[u8], zone: &Path) {
    let t = Temp::new("dkimpy");
    let msg = t.0.join("msg.eml");
    std::fs::write(&msg, message).unwrap();
    let script = r#"
import sys, re, dkim
zone = open(sys.argv[2]).read()
def dnsfunc(name, timeout=5):
    n = name.decode() if isinstance(name, bytes) else name
    label = n.rstrip('.').split('.queue.example')[0]
    for line in zone.splitlines():
        if line.split() and line.split()[0] == label and ' TXT ' in line:
            return ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', line)).encode()
    return None
msg = open(sys.argv[1], 'rb').read()
d = dkim.DKIM(msg)
sigs = [v for (k, v) in d.headers if k.lower() == b'dkim-signature']
out = [str(dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc))
       for i, v in enumerate(sigs) if b'a=rsa-sha256' in v.replace(b' ', b'')]
print(' '.join(out))
"#;
    let py = "/opt/oracle-venv/bin/python";
    let r = Command::new(py)
        .args(["-c", script, msg.to_str().unwrap(), zone.to_str().unwrap()])
        .output()
        .unwrap_or_else(|e| panic!("{py} with dkimpy is needed (`.ci/install-oracles`): {e}"));
    assert!(
        r.status.success(),
        "dkimpy: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&r.stdout).trim(),
        "True",
        "dkimpy does not verify:\n{}",
        String::from_utf8_lossy(message)
    );
}

/// mail-auth's verdict on every DKIM signature of `message`, with the keys
/// served by DNS from the compiled zones.
fn mail_auth_results(
    message: &[u8],
    zones: &BTreeMap<String, String>,
) -> Vec<mail_auth::DkimResult> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(support::dns::zone_server(zones));
    let results = mail_auth_at(message, server);
    drop(rt);
    results
}

/// mail-auth's verdict on every DKIM signature of `message`, with the keys
/// the DNS server at `server` serves.
fn mail_auth_at(message: &[u8], server: SocketAddr) -> Vec<mail_auth::DkimResult> {
    use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
    use mail_auth::{AuthenticatedMessage, MessageAuthenticator, Parameters};
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut ns = NameServerConfig::udp_and_tcp(server.ip());
        for c in &mut ns.connections {
            c.port = server.port();
        }
        let auth = MessageAuthenticator::new(
            ResolverConfig::from_name_servers(vec![ns]),
            ResolverOpts::default(),
        )
        .unwrap();
        let parsed = AuthenticatedMessage::parse(message).expect("a parsable message");
        auth.verify_dkim(Parameters::new(&parsed))
            .await
            .iter()
            .map(|r| r.result().clone())
            .collect()
    })
}

#[test]
fn submissions_leave_dkim_signed_and_verify() {
    let dir = case("dkim");
    let sink = sink(free_port(29000));
    let server = Server::start(&dir.0, sink.port);
    send(
        server.submission,
        Some(("alice@queue.example", "alice-pw")),
        "alice@queue.example",
        &["someone@far.test"],
        &message("alice@queue.example", "someone@far.test", "signed"),
    );
    let got = wait_for("the submission at the sink", || {
        sink.find(|r| String::from_utf8_lossy(&r.data).contains("Subject: signed"))
    });
    assert_eq!(got.from, "alice@queue.example");
    let text = String::from_utf8_lossy(&got.data).into_owned();
    assert_eq!(text.matches("DKIM-Signature:").count(), 2, "{text}");
    assert!(
        text.contains("s=q2026") && text.contains("s=e2026"),
        "{text}"
    );
    assert!(text.contains("d=queue.example"), "{text}");
    let zones = zones(&dir.0);
    dkimpy_verifies_rsa(&got.data, &dir.0.join("out/dns/queue.example.zone"));
    let pass = mail_auth::DkimResult::Pass;
    assert_eq!(
        mail_auth_results(&got.data, &zones),
        [pass.clone(), pass.clone()]
    );
    // A changed body no longer verifies: the check above means something.
    let tampered = text.replace("Hello from", "Hullo from");
    let results = mail_auth_results(tampered.as_bytes(), &zones);
    assert_eq!(results.len(), 2);
    assert!(!results.contains(&pass), "{results:?}");
}

#[test]
fn a_deferred_message_arrives_after_a_retry() {
    let dir = case("retry");
    let sink = sink(free_port(29000));
    let server = Server::start(&dir.0, sink.port);
    send(
        server.submission,
        Some(("alice@queue.example", "alice-pw")),
        "alice@queue.example",
        &["retry@far.test"],
        &message("alice@queue.example", "retry@far.test", "deferred"),
    );
    let got = wait_for("the retried message at the sink", || {
        sink.find(|r| r.to == ["retry@far.test"])
    });
    assert!(String::from_utf8_lossy(&got.data).contains("Subject: deferred"));
    wait_for("an empty queue", || (server.queued() == 0).then_some(()));
    assert!(
        server.inbox("alice@queue.example").is_empty(),
        "a deferral is no bounce"
    );
    assert!(
        server.log_text().contains("deferred"),
        "{}",
        server.log_text()
    );
}

#[test]
fn a_refused_message_bounces_to_the_local_sender() {
    let dir = case("bounce");
    let sink = sink(free_port(29000));
    let server = Server::start(&dir.0, sink.port);
    send(
        server.submission,
        Some(("alice@queue.example", "alice-pw")),
        "alice@queue.example",
        &["gone@far.test", "someone@far.test"],
        &message("alice@queue.example", "gone@far.test", "refused"),
    );
    let report = wait_for("the report in alice's INBOX", || {
        server.inbox("alice@queue.example").into_iter().next()
    });
    for want in [
        "multipart/report",
        "report-type",
        "delivery-status",
        "Final-Recipient: rfc822; gone@far.test",
        "Action: failed",
        "Status: 5.1.1",
        "Diagnostic-Code: smtp; 550 5.1.1",
        "text/rfc822-headers",
        "Subject: refused",
        "From: \"Mail Delivery System\" <MAILER-DAEMON@mail.queue.example>",
    ] {
        assert!(
            report.contains(want),
            "no `{want}` in the report:\n{report}"
        );
    }
    assert!(!report.contains("Final-Recipient: rfc822; someone@far.test"));
    let good = wait_for("the accepted copy", || {
        sink.find(|r| r.to == ["someone@far.test"])
    });
    assert!(String::from_utf8_lossy(&good.data).contains("Subject: refused"));
    wait_for("an empty queue", || (server.queued() == 0).then_some(()));
}

#[test]
fn queued_mail_survives_kill_9() {
    let dir = case("kill");
    // The sink's port, with nobody listening yet.
    let port = free_port(29000);
    let mut server = Server::start(&dir.0, port);
    send(
        server.smtp,
        None,
        "someone@origin.test",
        &["fwd@plain.example"],
        &message("someone@origin.test", "fwd@plain.example", "survivor"),
    );
    // Acknowledged means queued; let an attempt fail too.
    wait_for("the message in the queue", || {
        (server.queued() == 1 && server.log_text().contains("deferred")).then_some(())
    });
    server.kill9();
    let sink = sink(port);
    let server = Server::start(&dir.0, port);
    let got = wait_for("the message after the restart", || {
        sink.find(|r| String::from_utf8_lossy(&r.data).contains("Subject: survivor"))
    });
    assert_eq!(got.from, "someone@origin.test");
    assert_eq!(got.to, ["someone@far.test"]);
    wait_for("an empty queue", || (server.queued() == 0).then_some(()));
}

#[test]
fn a_refused_forward_bounces_through_srs_to_the_original_sender() {
    let dir = case("srs-bounce");
    let sink = sink(free_port(29000));
    let server = Server::start(&dir.0, sink.port);
    // bob@plain.example writes to lost@queue.example, which forwards to
    // gone@far.test with an SRS sender; the sink refuses it.
    send(
        server.smtp,
        None,
        "bob@plain.example",
        &["lost@queue.example"],
        &message("bob@plain.example", "lost@queue.example", "lost-forward"),
    );
    let report = wait_for("the report in bob's INBOX", || {
        server.inbox("bob@plain.example").into_iter().next()
    });
    for want in [
        "Return-Path: <>",
        "Final-Recipient: rfc822; gone@far.test",
        "Status: 5.1.1",
        "Subject: lost-forward",
    ] {
        assert!(
            report.contains(want),
            "no `{want}` in the report:\n{report}"
        );
    }
    wait_for("an empty queue", || (server.queued() == 0).then_some(()));
}

#[test]
fn an_unreadable_dkim_key_stops_the_start() {
    let dir = case("badkey");
    let out = Mailc::new(&dir.0, &["build", "mailc.yaml", "--out", "out"]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The compiled manifest, with one key damaged and one gone.
    let keys = dir.0.join("out/server/mx1/keys/queue.example");
    std::fs::write(keys.join("q2026.key"), "not a key\n").unwrap();
    std::fs::remove_file(keys.join("e2026.key")).unwrap();
    let port = free_port(29000);
    let out = Mailc::new(
        &dir.0,
        &[
            "serve",
            "out/server/mx1/manifest.json",
            "--smtp",
            &format!("127.0.0.1:{port}"),
            "--data",
            "data",
        ],
    )
    .output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("q2026.key") && stderr.contains("no PEM private key"),
        "{stderr}"
    );
    assert!(
        stderr.contains("e2026.key") && stderr.contains("cannot read"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("not a key"),
        "key content in the error: {stderr}"
    );
}

#[test]
fn mail_leaves_by_mx_lookup_through_the_resolver() {
    // MX hosts listen on port 25: only root may bind it.
    let uid = Command::new("id").arg("-u").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "this test listens on 127.0.0.2:25 as far.test's MX: run it as root"
    );
    let dir = case("mx");
    let soa = "$TTL 300\n@ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300\n";
    let zones: BTreeMap<String, String> = [
        (
            "far.test.zone".to_string(),
            format!("{soa}@ IN MX 10 mx.far.test.\nmx IN A 127.0.0.2\n"),
        ),
        (
            "nomail.test.zone".to_string(),
            format!("{soa}@ IN MX 0 .\n"),
        ),
    ]
    .into();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dns = rt.block_on(support::dns::zone_server(&zones));
    let sink = sink_at("127.0.0.2", 25);
    let server = Server::start_with(&dir.0, &["--resolver", &dns.to_string()]);
    send(
        server.submission,
        Some(("alice@queue.example", "alice-pw")),
        "alice@queue.example",
        &["someone@far.test"],
        &message("alice@queue.example", "someone@far.test", "by-mx"),
    );
    let got = wait_for("the message at far.test's MX", || {
        sink.find(|r| String::from_utf8_lossy(&r.data).contains("Subject: by-mx"))
    });
    assert_eq!(got.to, ["someone@far.test"]);
    // A null MX (RFC 7505) is a permanent failure: 5.1.10, reported.
    send(
        server.submission,
        Some(("alice@queue.example", "alice-pw")),
        "alice@queue.example",
        &["anyone@nomail.test"],
        &message("alice@queue.example", "anyone@nomail.test", "null-mx"),
    );
    let report = wait_for("the null MX report in alice's INBOX", || {
        server.inbox("alice@queue.example").into_iter().next()
    });
    assert!(report.contains("Status: 5.1.10"), "{report}");
    assert!(report.contains("Subject: null-mx"), "{report}");
    wait_for("an empty queue", || (server.queued() == 0).then_some(()));
    drop(rt);
}

#[test]
fn a_stop_leaves_undelivered_mail_in_the_queue() {
    let dir = case("stop");
    let port = free_port(29000); // nobody listens there
    let mut server = Server::start(&dir.0, port);
    send(
        server.smtp,
        None,
        "someone@origin.test",
        &["fwd@plain.example"],
        &message("someone@origin.test", "fwd@plain.example", "kept"),
    );
    wait_for("a deferral", || {
        server.log_text().contains("deferred").then_some(())
    });
    let pid = server.pid().to_string();
    let r = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(r.success());
    let status = wait_for("the server to stop", || server.try_wait());
    assert!(status.success(), "{status}: {}", server.log_text());
    assert_eq!(server.queued(), 1, "{}", server.log_text());
}

/// The selectors of the DKIM signatures of a message, in order.
fn selectors(message: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(message);
    let unfolded = text.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("dkim-signature:"))
        .filter_map(|l| {
            l.split(';')
                .map(str::trim)
                .find_map(|t| t.strip_prefix("s=").map(str::to_string))
        })
        .collect()
}

/// A DKIM rotation end to end, the zones pushed to a BIND: a key is
/// published first and signs only once DNS serves it; a retired key stays
/// published and signs no more. `mailc serve` runs the applied manifest.
#[test]
fn a_rotated_dkim_key_signs_only_once_published() {
    use support::dns::{Bind, TsigKey};
    use support::mailc;
    let dir = case("rotate");
    let key = TsigKey::new("mailc-key", "hmac-sha256");
    let empty = |origin: &str| {
        format!(
            "$ORIGIN {origin}.\n$TTL 300\n@ IN SOA ns1.provider.test. hostmaster.provider.test. 1 3600 900 1209600 300\n@ IN NS ns1.provider.test.\n"
        )
    };
    let bind = Bind::config()
        .zone("queue.example", &empty("queue.example"))
        .zone("plain.example", &empty("plain.example"))
        .key(&key)
        .start();
    key.write_secret(&dir.0.join("secrets/tsig.key"));
    let spec = dir.0.join("mailc.yaml");
    let edit = |from: &str, to: &str| {
        let text = std::fs::read_to_string(&spec).unwrap();
        assert!(text.contains(from), "no `{from}` in the spec");
        std::fs::write(&spec, text.replacen(from, to, 1)).unwrap();
    };
    edit(
        "defaults:\n",
        "defaults:\n  dns: {target: primary, owns: zone}\n",
    );
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        format!(
            "{text}\ndns_targets:\n  primary: {{type: rfc2136, server: \"{}\", tsig_key: mailc-key, tsig_secret_file: secrets/tsig.key}}\n",
            bind.addr()
        ),
    )
    .unwrap();
    let apply = |extra: &[&str]| mailc(&dir.0, &[&["apply", "--auto-approve"], extra].concat());

    // A first deploy would sign before the zone serves the keys.
    let r = apply(&[]);
    assert_eq!(r.code, 1, "{}", r.said());
    assert!(
        r.stderr.contains("error: the DKIM key `q2026` of `queue.example` would start signing, but `primary` does not serve its record yet (this push publishes it); nothing was pushed or written"),
        "{}",
        r.said()
    );
    assert!(bind.dig("q2026._domainkey.queue.example", "TXT").is_empty());
    let r = apply(&["--no-dns-wait"]);
    assert_eq!(r.code, 0, "{}", r.said());

    // Rotate: a new key, published only.
    let r = mailc(
        &dir.0,
        &["dkim", "rotate", "queue.example", "--selector", "q2027"],
    );
    assert_eq!(r.code, 0, "{}", r.said());
    let item = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("- {selector: q2027"))
        .unwrap_or_else(|| panic!("no spec line in:\n{}", r.said()))
        .to_string();
    assert_eq!(
        item.trim(),
        "- {selector: q2027, algorithm: rsa-2048, private_key: keys/queue.example/q2027.key, state: published}"
    );
    assert!(r.stdout.contains("`state: retired`"), "{}", r.said());
    edit("    dkim:\n", &format!("    dkim:\n{item}\n"));
    let r = apply(&[]);
    assert_eq!(r.code, 0, "{}", r.said());
    assert!(
        r.stdout.contains("+ q2027._domainkey.queue.example. TXT"),
        "{}",
        r.said()
    );
    assert_eq!(bind.dig("q2027._domainkey.queue.example", "TXT").len(), 1);

    let manifest = "out/server/mx1/manifest.json";
    let send_one = |subject: &str| {
        let sink = sink(free_port(29000));
        let server = Server::start_of(
            &dir.0,
            manifest,
            &["--relay-all", &format!("127.0.0.1:{}", sink.port)],
        );
        send(
            server.submission,
            Some(("alice@queue.example", "alice-pw")),
            "alice@queue.example",
            &["someone@far.test"],
            &message("alice@queue.example", "someone@far.test", subject),
        );
        let got = wait_for("the submission at the sink", || {
            sink.find(|r| String::from_utf8_lossy(&r.data).contains(&format!("Subject: {subject}")))
        });
        got.data
    };
    let data = send_one("published");
    assert_eq!(
        selectors(&data),
        ["q2026", "e2026"],
        "no signature by q2027 yet"
    );

    // q2027 signs now that the zone serves it; q2026 is retired.
    edit(
        "private_key: keys/queue.example/q2027.key, state: published",
        "private_key: keys/queue.example/q2027.key, state: signing",
    );
    edit(
        "        private_key: keys/queue.example/q2026.key\n",
        "        private_key: keys/queue.example/q2026.key\n        state: retired\n",
    );
    let r = apply(&[]);
    assert_eq!(r.code, 0, "{}", r.said());
    let data = send_one("rotated");
    assert_eq!(selectors(&data), ["q2027", "e2026"]);
    let verdicts = mail_auth_at(&data, bind.addr().parse().unwrap());
    assert_eq!(
        verdicts.first(),
        Some(&mail_auth::DkimResult::Pass),
        "{verdicts:?}"
    );
    // The retired key is still published: mail signed with it verifies.
    assert_eq!(bind.dig("q2026._domainkey.queue.example", "TXT").len(), 1);

    // A key made signing in the same apply that publishes it is refused.
    let r = mailc(
        &dir.0,
        &["dkim", "rotate", "queue.example", "--selector", "q2028"],
    );
    assert_eq!(r.code, 0, "{}", r.said());
    edit(
        "    dkim:\n",
        "    dkim:\n      - {selector: q2028, algorithm: rsa-2048, private_key: keys/queue.example/q2028.key}\n",
    );
    let r = apply(&[]);
    assert_eq!(r.code, 1, "{}", r.said());
    assert!(
        r.stderr
            .contains("the DKIM key `q2028` of `queue.example` would start signing"),
        "{}",
        r.said()
    );
    assert!(bind.dig("q2028._domainkey.queue.example", "TXT").is_empty());
}
