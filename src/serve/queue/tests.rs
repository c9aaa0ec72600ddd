//! The queue through its Rust API against a small SMTP sink on 127.0.0.1:
//! delivery, SRS, DKIM (verified by dkimpy), retry, bounce into a local
//! Maildir, expiry, and a queue taken up again after a restart.
//!
//! One test module, kept whole: its eleven scenarios share one fixture
//! (the sink, the manifest and the queue it builds) and each reads as a
//! story from the submission to what the sink or the Maildir holds; split,
//! each part would need that fixture moved out and imported back.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;
use crate::manifest::{
    DkimAlgorithm, DkimKey, Domain, Limits, Listen, Manifest, Role, Target, Tls, Unknown,
};
use crate::serve::{Options, Shared, store::Store};

/// What the sink received in one transaction.
#[derive(Clone, Debug)]
struct Received {
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
    /// Whether it came over TLS.
    tls: bool,
}

/// The sink's answer to `RCPT TO` on connection `n` (0-based).
type Policy = Arc<dyn Fn(usize, &str) -> String + Send + Sync>;

/// What the sink does about STARTTLS.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Starttls {
    /// Not offered.
    No,
    /// Offered and done properly (a self-signed certificate).
    Yes,
    /// Offered, then the handshake is garbage.
    Broken,
}

struct Sink {
    port: u16,
    got: Arc<Mutex<Vec<Received>>>,
    connections: Arc<AtomicUsize>,
}

fn accept_all() -> Policy {
    Arc::new(|_, _| "250 2.1.5 ok".to_string())
}

fn sink(policy: Policy) -> Sink {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    sink_on(l, policy, Starttls::No)
}

fn sink_on(l: TcpListener, policy: Policy, starttls: Starttls) -> Sink {
    let port = l.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(AtomicUsize::new(0));
    let (g, c) = (got.clone(), connections.clone());
    let tls = crate::serve::tls::config(
        "sink.test",
        Path::new("/nonexistent/cert.pem"),
        Path::new("/nonexistent/key.pem"),
        true,
    )
    .unwrap()
    .0;
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let n = c.fetch_add(1, Ordering::SeqCst);
            let (g, p, tls) = (g.clone(), policy.clone(), tls.clone());
            std::thread::spawn(move || -> std::io::Result<()> {
                s.write_all(b"220 sink ESMTP\r\n")?;
                let mut r = BufReader::new(s);
                if commands(&mut r, n, &p, &g, starttls, false)? {
                    let tcp = r.into_inner();
                    if starttls == Starttls::Broken {
                        let mut tcp = tcp;
                        tcp.write_all(b"this is not a TLS handshake\r\n")?;
                        return Ok(());
                    }
                    let conn = rustls::ServerConnection::new(tls).map_err(std::io::Error::other)?;
                    let mut r = BufReader::new(rustls::StreamOwned::new(conn, tcp));
                    commands(&mut r, n, &p, &g, Starttls::No, true)?;
                }
                Ok(())
            });
        }
    });
    Sink {
        port,
        got,
        connections,
    }
}

/// Serves SMTP commands until QUIT or EOF (false) or an accepted STARTTLS
/// (true: the caller switches to TLS).
fn commands<S: std::io::Read + Write>(
    r: &mut BufReader<S>,
    n: usize,
    policy: &Policy,
    got: &Mutex<Vec<Received>>,
    starttls: Starttls,
    tls: bool,
) -> std::io::Result<bool> {
    let mut cur = Received {
        from: String::new(),
        to: Vec::new(),
        data: Vec::new(),
        tls,
    };
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(false);
        }
        let upper = line.to_ascii_uppercase();
        let arg = |l: &str| {
            l.split_once('<')
                .and_then(|(_, rest)| rest.split_once('>'))
                .map(|(a, _)| a.to_string())
                .unwrap_or_default()
        };
        let w = r.get_mut();
        if upper.starts_with("EHLO") {
            let tls_line = if starttls == Starttls::No {
                ""
            } else {
                "250-STARTTLS\r\n"
            };
            w.write_all(
                format!("250-sink\r\n{tls_line}250-8BITMIME\r\n250 SIZE 10000000\r\n").as_bytes(),
            )?;
        } else if upper.starts_with("STARTTLS") && starttls != Starttls::No {
            w.write_all(b"220 2.0.0 go ahead\r\n")?;
            w.flush()?;
            return Ok(true);
        } else if upper.starts_with("MAIL FROM:") {
            cur.from = arg(&line);
            w.write_all(b"250 2.1.0 ok\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            let a = arg(&line);
            let reply = policy(n, &a);
            if reply.starts_with('2') {
                cur.to.push(a);
            }
            w.write_all(format!("{reply}\r\n").as_bytes())?;
        } else if upper.starts_with("DATA") {
            w.write_all(b"354 go on\r\n")?;
            w.flush()?;
            let mut data = Vec::new();
            loop {
                let mut l = Vec::new();
                if r.read_until(b'\n', &mut l)? == 0 {
                    return Ok(false);
                }
                if l == b".\r\n" {
                    break;
                }
                if l.starts_with(b"..") {
                    l.remove(0);
                }
                data.extend_from_slice(&l);
            }
            cur.data = data;
            got.lock().unwrap().push(cur.clone());
            r.get_mut().write_all(b"250 2.0.0 queued\r\n")?;
        } else if upper.starts_with("QUIT") {
            w.write_all(b"221 bye\r\n")?;
            w.flush()?;
            return Ok(false);
        } else {
            w.write_all(b"250 ok\r\n")?;
        }
        r.get_mut().flush()?;
    }
}

/// Polls until `f` gives something, for at most a minute.
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn target(mailboxes: &[&str], forward: &[&str]) -> Target {
    Target {
        mailboxes: mailboxes.iter().map(|s| s.to_string()).collect(),
        forward: forward.iter().map(|s| s.to_string()).collect(),
        drop: false,
    }
}

/// Keys for `queue.test` made once per test process: (rsa, ed25519) PEM.
fn keys() -> &'static (String, String) {
    static KEYS: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let rsa = crate::dkim::generate(crate::dkim::DkimAlgorithm::Rsa2048).unwrap();
        let ed = crate::dkim::generate(crate::dkim::DkimAlgorithm::Ed25519).unwrap();
        (rsa.to_string(), ed.to_string())
    })
}

fn manifest(data: &Path, lifetime: u32) -> Manifest {
    let mut recipients = BTreeMap::new();
    recipients.insert("alice".to_string(), target(&["alice@queue.test"], &[]));
    recipients.insert("fwd".to_string(), target(&[], &["far@remote.test"]));
    recipients.insert("tiny".to_string(), target(&["tiny@queue.test"], &[]));
    let mut domains = BTreeMap::new();
    domains.insert(
        "queue.test".to_string(),
        Domain {
            role: Role::Local,
            recipients: recipients.clone(),
            refused: Default::default(),
            unknown: Unknown::Reject,
            srs: true,
            limits: Default::default(),
            pop3: false,
        },
    );
    domains.insert(
        "plain.test".to_string(),
        Domain {
            role: Role::Local,
            recipients: [("bob".to_string(), target(&["bob@plain.test"], &[]))].into(),
            refused: Default::default(),
            unknown: Unknown::Reject,
            srs: false,
            limits: Default::default(),
            pop3: false,
        },
    );
    let mut dkim = BTreeMap::new();
    dkim.insert(
        "queue.test".to_string(),
        vec![
            DkimKey {
                selector: "r1".into(),
                algorithm: DkimAlgorithm::RsaSha256,
                key: "keys/r1.key".into(),
            },
            DkimKey {
                selector: "e1".into(),
                algorithm: DkimAlgorithm::Ed25519Sha256,
                key: "keys/e1.key".into(),
            },
        ],
    );
    Manifest {
        version: crate::manifest::VERSION,
        host: "mx".into(),
        hostname: "mx.queue.test".into(),
        listen: Listen::default(),
        data_dir: data.display().to_string(),
        tls: Tls {
            cert: "missing.pem".into(),
            key: "missing.key".into(),
        },
        limits: Limits {
            queue_lifetime: lifetime,
            ..Limits::default()
        },
        users: [(
            "tiny@queue.test".to_string(),
            crate::manifest::User {
                password: "{SHA512-CRYPT}x".into(),
                quota: Some(10),
                send_only: false,
                disabled: false,
                services: crate::manifest::default_services(),
                send_as: vec!["tiny@queue.test".into()],
                rules: Vec::new(),
                vacation: None,
                limits: Default::default(),
            },
        )]
        .into(),
        domains,
        dkim,
        relays: Default::default(),
        sender_relays: Default::default(),
        relay: None,
    }
}

/// A server's worth of shared state around a queue in `dir` (keys in
/// `dir/keys`), with every message sent to 127.0.0.1:`port`.
struct Rig {
    dir: PathBuf,
    queue: Arc<Queue>,
    shared: Arc<Shared>,
    stop: tokio::sync::watch::Sender<bool>,
    rt: tokio::runtime::Runtime,
    task: Option<tokio::task::JoinHandle<()>>,
}

fn rig(dir: &Path, port: u16, lifetime: u32) -> Rig {
    let keydir = dir.join("keys");
    std::fs::create_dir_all(&keydir).unwrap();
    std::fs::write(keydir.join("r1.key"), &keys().0).unwrap();
    std::fs::write(keydir.join("e1.key"), &keys().1).unwrap();
    let m = manifest(dir, lifetime);
    let queue = Arc::new(Queue::open(dir).unwrap());
    queue.configure(&m, |p| dir.join(p)).expect("the keys load");
    let (tls, _) = crate::serve::tls::config(
        &m.hostname,
        &dir.join("missing.pem"),
        &dir.join("missing.key"),
        true,
    )
    .unwrap();
    let shared = Arc::new(Shared::new(
        m,
        Options {
            base_dir: dir.to_path_buf(),
            relay_all: Some(NextHop {
                host: "127.0.0.1".into(),
                port,
            }),
            retry_base: Some(1),
            ..Options::default()
        },
        tokio_rustls::TlsAcceptor::from(tls),
        Store::open(dir).unwrap(),
        queue.clone(),
        dir.to_path_buf(),
    ));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = Some(rt.spawn(queue.clone().run(shared.clone(), stopped)));
    Rig {
        dir: dir.to_path_buf(),
        queue,
        shared,
        stop,
        rt,
        task,
    }
}

impl Rig {
    fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.task.take() {
            self.rt.block_on(t).unwrap();
        }
    }

    fn inbox(&self, user: &str) -> Vec<Vec<u8>> {
        let dir = self.shared.store.user_dir(user).unwrap().join("new");
        let Ok(rd) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        rd.map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect()
    }

    fn queued(&self) -> usize {
        self.queue.spool.ids().unwrap().len()
    }
}

fn out(from: &str, to: &[&str], kind: Kind) -> Outgoing {
    Outgoing {
        from: from.into(),
        to: to.iter().map(|s| s.to_string()).collect(),
        next_hop: None,
        kind,
    }
}

const MESSAGE: &[u8] = b"From: Alice <alice@queue.test>\r\nTo: far@remote.test\r\n\
Subject: queued hello\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <1@queue.test>\r\n\r\nHello.\r\n.leading dot\r\n";

/// The key records the zone would publish for the test keys.
fn key_records() -> Vec<(String, String)> {
    [("r1", &keys().0, "rsa"), ("e1", &keys().1, "ed25519")]
        .into_iter()
        .map(|(sel, pem, k)| {
            let p = crate::dkim::public_from_private_pem(pem.as_bytes()).unwrap();
            (
                format!("{sel}._domainkey.queue.test."),
                format!("v=DKIM1; k={k}; p={}", p.p),
            )
        })
        .collect()
}

/// dkimpy (see docs/testing.md) verifies every RSA signature of `message`
/// (without PyNaCl it cannot check Ed25519 ones), with the published keys.
fn dkimpy_verifies_rsa(message: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let msg = dir.path().join("msg.eml");
    std::fs::write(&msg, message).unwrap();
    let records: BTreeMap<String, String> = key_records().into_iter().collect();
    let table = serde_json::to_string(&records).unwrap();
    let script = r#"
import sys, json, dkim
records = json.loads(sys.argv[2])
def dnsfunc(name, timeout=5):
    n = name.decode() if isinstance(name, bytes) else name
    return records.get(n if n.endswith('.') else n + '.', '').encode() or None
msg = open(sys.argv[1], 'rb').read()
d = dkim.DKIM(msg)
sigs = [v for (k, v) in d.headers if k.lower() == b'dkim-signature']
out = []
for i, v in enumerate(sigs):
    if b'a=rsa-sha256' in v.replace(b' ', b''):
        out.append(str(dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc)))
print(' '.join(out))
"#;
    let py = "/opt/oracle-venv/bin/python";
    let r = std::process::Command::new(py)
        .args(["-c", script, msg.to_str().unwrap(), &table])
        .output()
        .unwrap_or_else(|e| {
            panic!("{py} (dkimpy, installed by `.ci/install-oracles`) is needed: {e}")
        });
    assert!(
        r.status.success(),
        "dkimpy failed: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&r.stdout).trim(),
        "True",
        "dkimpy did not verify:\n{}",
        String::from_utf8_lossy(message)
    );
}

/// mail-auth's verifier passes every signature of `message`, looking the
/// keys up in DNS (a server on 127.0.0.1 publishing [`key_records`]).
fn mail_auth_verifies(message: &[u8], signatures: usize) {
    use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
    use hickory_resolver::proto::rr::rdata::TXT;
    use hickory_resolver::proto::rr::{RData, RecordType};
    use mail_auth::{AuthenticatedMessage, DkimResult, MessageAuthenticator};
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let table = key_records()
            .into_iter()
            .map(|(name, txt)| {
                let chunks: Vec<String> = txt
                    .as_bytes()
                    .chunks(255)
                    .map(|c| String::from_utf8(c.to_vec()).unwrap())
                    .collect();
                (name, RecordType::TXT, RData::TXT(TXT::new(chunks)))
            })
            .collect();
        let server = super::hop::test_dns(table).await;
        let mut ns = NameServerConfig::udp_and_tcp(server.ip());
        for c in &mut ns.connections {
            c.port = server.port();
        }
        let auth = MessageAuthenticator::new(
            ResolverConfig::from_name_servers(vec![ns]),
            ResolverOpts::default(),
        )
        .unwrap();
        let parsed = AuthenticatedMessage::parse(message).unwrap();
        let results = auth.verify_dkim(mail_auth::Parameters::new(&parsed)).await;
        assert_eq!(results.len(), signatures);
        for r in &results {
            assert_eq!(r.result(), &DkimResult::Pass, "{results:?}");
        }
    });
}

#[test]
fn submission_is_signed_and_forward_gets_srs() {
    let s = sink(accept_all());
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), s.port, 3600);
    r.queue
        .enqueue(
            out("alice@queue.test", &["far@remote.test"], Kind::Submission),
            MESSAGE,
        )
        .unwrap();
    r.queue
        .enqueue(
            out(
                "someone@origin.test",
                &["far@remote.test"],
                Kind::Forward {
                    domain: "queue.test".into(),
                },
            ),
            MESSAGE,
        )
        .unwrap();
    r.queue
        .enqueue(
            out(
                "someone@origin.test",
                &["far@remote.test"],
                Kind::Forward {
                    domain: "plain.test".into(),
                },
            ),
            MESSAGE,
        )
        .unwrap();
    let got = wait_for("three messages", || {
        let g = s.got.lock().unwrap();
        (g.len() == 3).then(|| g.clone())
    });
    let signed = got
        .iter()
        .find(|m| m.from == "alice@queue.test")
        .expect("the submission");
    assert_eq!(signed.to, ["far@remote.test"]);
    let text = String::from_utf8_lossy(&signed.data);
    assert_eq!(text.matches("DKIM-Signature:").count(), 2, "{text}");
    assert!(text.contains("a=ed25519-sha256"), "{text}");
    assert!(text.contains("a=rsa-sha256"), "{text}");
    assert!(text.ends_with("Hello.\r\n.leading dot\r\n"), "{text}");
    dkimpy_verifies_rsa(&signed.data);
    mail_auth_verifies(&signed.data, 2);
    let srs = got
        .iter()
        .find(|m| m.from.starts_with("SRS0="))
        .expect("the SRS forward");
    assert!(
        srs.from.ends_with("=origin.test=someone@queue.test"),
        "{}",
        srs.from
    );
    assert!(!String::from_utf8_lossy(&srs.data).contains("DKIM-Signature"));
    assert_eq!(
        r.queue.srs_reverse(&srs.from).as_deref(),
        Some("someone@origin.test")
    );
    assert!(
        got.iter().any(|m| m.from == "someone@origin.test"),
        "a domain without srs forwards unchanged: {got:?}"
    );
    let mode = std::fs::metadata(r.dir.join("srs.secret")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600
    );
    wait_for("an empty queue", || (r.queued() == 0).then_some(()));
    r.stop();
}

#[test]
fn deferred_then_delivered() {
    let s = sink(Arc::new(|n, _| {
        if n == 0 {
            "451 4.3.0 try again later".to_string()
        } else {
            "250 2.1.5 ok".to_string()
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), s.port, 3600);
    r.queue
        .enqueue(
            out("alice@queue.test", &["far@remote.test"], Kind::Relay),
            MESSAGE,
        )
        .unwrap();
    let got = wait_for("the retried message", || {
        s.got.lock().unwrap().first().cloned()
    });
    assert_eq!(got.data, MESSAGE);
    assert!(s.connections.load(Ordering::SeqCst) >= 2);
    wait_for("an empty queue", || (r.queued() == 0).then_some(()));
    assert!(r.inbox("alice@queue.test").is_empty(), "no bounce");
    r.stop();
}

#[test]
fn permanent_failure_bounces_to_local_sender() {
    let s = sink(Arc::new(|_, a| {
        if a.starts_with("gone") {
            format!("550 5.1.1 <{a}>: no such user")
        } else {
            "250 2.1.5 ok".to_string()
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), s.port, 3600);
    r.queue
        .enqueue(
            out(
                "alice@queue.test",
                &["gone@remote.test", "here@remote.test", "Here@remote.test"],
                Kind::Submission,
            ),
            MESSAGE,
        )
        .unwrap();
    let bounce = wait_for("the bounce in alice's INBOX", || {
        r.inbox("alice@queue.test").into_iter().next()
    });
    let text = String::from_utf8_lossy(&bounce);
    assert!(text.contains("multipart/report"), "{text}");
    assert!(
        text.contains("Final-Recipient: rfc822; gone@remote.test"),
        "{text}"
    );
    assert!(text.contains("Status: 5.1.1"), "{text}");
    assert!(text.contains("Subject: queued hello"), "{text}");
    assert!(!text.contains("here@remote.test\r\nAction"), "{text}");
    let got = wait_for("the good copy", || s.got.lock().unwrap().first().cloned());
    assert_eq!(got.to, ["here@remote.test"]);
    wait_for("an empty queue", || (r.queued() == 0).then_some(()));
    // A failed report is never reported on.
    r.queue
        .enqueue(out("", &["gone@remote.test"], Kind::Bounce), MESSAGE)
        .unwrap();
    wait_for("an empty queue", || (r.queued() == 0).then_some(()));
    assert_eq!(r.inbox("alice@queue.test").len(), 1);
    r.stop();
}

#[test]
fn expired_mail_bounces_and_srs_bounces_find_the_sender() {
    // Nothing listens: every attempt fails; lifetime 0 expires at once.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), port, 0);
    r.queue
        .enqueue(
            out("alice@queue.test", &["far@remote.test"], Kind::Submission),
            MESSAGE,
        )
        .unwrap();
    let bounce = wait_for("the expiry report", || {
        r.inbox("alice@queue.test").into_iter().next()
    });
    let text = String::from_utf8_lossy(&bounce);
    assert!(text.starts_with("Return-Path: <>\r\n"), "{text}");
    assert!(text.contains("Status: 4.4.7"), "{text}");
    // Forwarded by queue.test (SRS) for bob@plain.test: the report goes
    // to the SRS address, which leads back to bob.
    let fwd = out(
        "bob@plain.test",
        &["far@remote.test"],
        Kind::Forward {
            domain: "queue.test".into(),
        },
    );
    r.queue.enqueue(fwd, MESSAGE).unwrap();
    let bounce = wait_for("the report of the forward", || {
        r.inbox("bob@plain.test").into_iter().next()
    });
    let text = String::from_utf8_lossy(&bounce);
    assert!(text.contains("To: <bob@plain.test>"), "{text}");
    assert!(
        text.contains("Final-Recipient: rfc822; far@remote.test"),
        "{text}"
    );
    wait_for("an empty queue", || (r.queued() == 0).then_some(()));
    r.stop();
}

#[test]
fn a_restart_takes_the_queue_up_again() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let dir = tempfile::tempdir().unwrap();
    {
        // Queued while nothing listens, then the server goes away.
        let r = rig(dir.path(), port, 3600);
        r.queue
            .enqueue(
                out("alice@queue.test", &["far@remote.test"], Kind::Relay),
                MESSAGE,
            )
            .unwrap();
        wait_for("a failed attempt", || {
            let ids = r.queue.spool.ids().unwrap();
            let env = r.queue.spool.read_env(ids.first()?).ok()?;
            (env.attempts > 0).then_some(())
        });
        r.stop();
    }
    let s = sink_on(
        TcpListener::bind(("127.0.0.1", port)).unwrap(),
        accept_all(),
        Starttls::No,
    );
    let r = rig(dir.path(), port, 3600);
    let got = wait_for("the message after the restart", || {
        s.got.lock().unwrap().first().cloned()
    });
    assert_eq!(got.data, MESSAGE);
    wait_for("an empty queue", || (r.queued() == 0).then_some(()));
    r.stop();
}

#[test]
fn local_recipients_go_to_the_store() {
    let s = sink(accept_all());
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), s.port, 3600);
    r.queue
        .enqueue(
            out(
                "bob@origin.test",
                &["alice@queue.test", "fwd@queue.test"],
                Kind::Relay,
            ),
            MESSAGE,
        )
        .unwrap();
    let got = wait_for("alice's copy", || {
        r.inbox("alice@queue.test").into_iter().next()
    });
    assert!(got.starts_with(b"Return-Path: <bob@origin.test>\r\n"));
    assert!(got.ends_with(MESSAGE));
    // fwd@ forwards on, as a forward of queue.test: with SRS.
    let fwd = wait_for("the forward", || s.got.lock().unwrap().first().cloned());
    assert_eq!(fwd.to, ["far@remote.test"]);
    assert!(fwd.from.starts_with("SRS0="), "{}", fwd.from);
    r.stop();
}

#[test]
fn unreadable_keys_fail_configure() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), 60);
    let q = Queue::open(dir.path()).unwrap();
    let err = q.configure(&m, |p| dir.path().join(p)).unwrap_err();
    assert!(err.contains("keys/r1.key"), "{err}");
    assert!(err.contains("keys/e1.key"), "{err}");
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    std::fs::write(dir.path().join("keys/r1.key"), &keys().1).unwrap();
    std::fs::write(dir.path().join("keys/e1.key"), "not a key").unwrap();
    let q = Queue::open(dir.path()).unwrap();
    let err = q.configure(&m, |p| dir.path().join(p)).unwrap_err();
    assert!(err.contains("not an RSA private key"), "{err}");
    assert!(err.contains("no PEM private key"), "{err}");
    assert!(!err.contains("BEGIN"), "{err}");
}

#[test]
fn backoff_doubles_and_caps() {
    assert_eq!(backoff(60, 1), 60);
    assert_eq!(backoff(60, 2), 120);
    assert_eq!(backoff(60, 3), 240);
    assert_eq!(backoff(60, 30), 3600);
    assert_eq!(backoff(1, 1), 1);
    assert_eq!(backoff(7200, 5), 7200);
}

#[test]
fn starttls_when_offered_and_plaintext_when_it_breaks() {
    let good = sink_on(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        accept_all(),
        Starttls::Yes,
    );
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), good.port, 3600);
    r.queue
        .enqueue(
            out("alice@queue.test", &["far@remote.test"], Kind::Relay),
            MESSAGE,
        )
        .unwrap();
    let got = wait_for("the message over TLS", || {
        good.got.lock().unwrap().first().cloned()
    });
    assert!(got.tls, "not sent over TLS");
    assert_eq!(got.data, MESSAGE);
    r.stop();
    // RFC 7435: a failed handshake is no reason not to deliver.
    let broken = sink_on(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        accept_all(),
        Starttls::Broken,
    );
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), broken.port, 3600);
    r.queue
        .enqueue(
            out("alice@queue.test", &["far@remote.test"], Kind::Relay),
            MESSAGE,
        )
        .unwrap();
    let got = wait_for("the message in plaintext", || {
        broken.got.lock().unwrap().first().cloned()
    });
    assert!(!got.tls);
    assert_eq!(broken.connections.load(Ordering::SeqCst), 2);
    wait_for("an empty queue", || (r.queued() == 0).then_some(()));
    r.stop();
}

#[test]
fn pkcs1_rsa_keys_sign_too() {
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    use rsa::pkcs8::DecodePrivateKey as _;
    let dir = tempfile::tempdir().unwrap();
    let keydir = dir.path().join("keys");
    std::fs::create_dir_all(&keydir).unwrap();
    // As opendkim-genkey writes it: `RSA PRIVATE KEY`.
    let rsa = rsa::RsaPrivateKey::from_pkcs8_pem(&keys().0).unwrap();
    let pkcs1 = rsa.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    std::fs::write(keydir.join("r1.key"), pkcs1.as_bytes()).unwrap();
    std::fs::write(keydir.join("e1.key"), &keys().1).unwrap();
    let q = Queue::open(dir.path()).unwrap();
    q.configure(&manifest(dir.path(), 60), |p| dir.path().join(p))
        .unwrap();
    let (signed, problems) = q.config.get().unwrap().signers.sign("QUEUE.test", MESSAGE);
    assert!(problems.is_empty(), "{problems:?}");
    mail_auth_verifies(&signed, 2);
    dkimpy_verifies_rsa(&signed);
}

#[test]
fn a_full_local_mailbox_bounces() {
    let s = sink(accept_all());
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), s.port, 3600);
    r.queue
        .enqueue(
            out("alice@queue.test", &["tiny@queue.test"], Kind::Relay),
            MESSAGE,
        )
        .unwrap();
    let bounce = wait_for("the report in alice's INBOX", || {
        r.inbox("alice@queue.test").into_iter().next()
    });
    let text = String::from_utf8_lossy(&bounce);
    assert!(text.contains("Status: 5.2.2"), "{text}");
    assert!(r.inbox("tiny@queue.test").is_empty());
    wait_for("an empty queue", || (r.queued() == 0).then_some(()));
    r.stop();
}
