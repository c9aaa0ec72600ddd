//! Outbound relays: `mailc route --from` against the hand-checked sender
//! table of `tests/cases/relays/senders.tsv` (host, sender, relay, rule).

mod support;

use std::path::PathBuf;

use support::{mailc, root};

fn case() -> PathBuf {
    root().join("tests/cases/relays")
}

/// One row of the sender table.
struct Row {
    host: String,
    sender: String,
    /// `None`: straight to the MX.
    relay: Option<String>,
    rule: String,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(case().join("senders.tsv")).unwrap();
    let rows: Vec<Row> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            assert_eq!(c.len(), 4, "senders.tsv: four columns: {l}");
            Row {
                host: c[0].into(),
                sender: c[1].into(),
                relay: (c[2] != "-").then(|| c[2].to_string()),
                rule: c[3].into(),
            }
        })
        .collect();
    assert!(rows.len() >= 20, "the sender table is read whole");
    rows
}

#[test]
fn route_from_matches_the_sender_table() {
    for spec in ["mailc.yaml", "mailc.kdl"] {
        for r in rows() {
            let run = mailc(
                &case(),
                &[
                    "route", "--from", &r.sender, spec, "--host", &r.host, "--format", "json",
                ],
            );
            assert_eq!(
                run.code, 0,
                "{spec} {} {}: {}",
                r.host, r.sender, run.stderr
            );
            let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
            assert_eq!(
                (v["relay"].as_str(), v["rule"].as_str().unwrap()),
                (r.relay.as_deref(), r.rule.as_str()),
                "{spec}: mail from {} on {}",
                r.sender,
                r.host
            );
        }
    }
}

#[test]
fn route_from_explains_and_refuses_bad_senders() {
    let run = mailc(
        &case(),
        &[
            "route",
            "--from",
            "x@news.example.com",
            "mailc.yaml",
            "--host",
            "pf",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "mail from x@news.example.com on pf leaves through relay `mailer` (192.0.2.25:2587, STARTTLS required, logged in)\n  \
         why: the sender's domain is among relay `mailer`'s senders\n"
    );
    let run = mailc(
        &case(),
        &["route", "--from", "not an address", "mailc.yaml"],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("is not a sender address"),
        "{}",
        run.stderr
    );
    // The password never shows, whatever is asked.
    let run = mailc(
        &case(),
        &["route", "--from", "offers@example.com", "mailc.yaml"],
    );
    assert!(!run.stdout.contains("not-a-real-password"));
}

// ------------------------------------------------- mailc serve, for real

#[path = "support/sink.rs"]
mod sink;

use std::time::{Duration, Instant};

use sink::{kept_back, refusing_sinks, send_each_sender, sinks, smtp_send, spec};
use support::Temp;
use support::serve::Server;

/// Polls `f` until it holds, for at most two minutes.
fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `mailc serve` of the relay spec in `dir`, host mx1, SMTP only.
fn serve(dir: &std::path::Path) -> Server {
    Server::build(std::path::Path::new("mailc.yaml"), &dir.join("data"))
        .in_dir(dir)
        .host("mx1")
        .ports_from(31000)
        .on_loopback(&["--smtp"])
        .args(["--retry-base", "1"])
        .log(&dir.join("serve.log"))
        .start()
}

#[test]
fn serve_sends_each_sender_through_its_relay() {
    let (plain, login) = sinks();
    let dir = Temp::new("relay-serve");
    spec(&dir.0, "embedded", plain.port, login.port);
    let serve = serve(&dir.0);
    send_each_sender(serve.port("--smtp"), &plain, &login, || serve.log_text());
}

#[test]
fn serve_waits_for_a_relay_that_refuses_for_now() {
    let (plain, login) = refusing_sinks();
    let dir = Temp::new("relay-serve-4xx");
    spec(&dir.0, "embedded", plain.port, login.port);
    let serve = serve(&dir.0);
    let r = smtp_send(
        serve.port("--smtp"),
        "offers@example.com",
        "fwd@example.com",
        "waits",
    );
    assert!(r.starts_with("250"), "{r}");
    // Retried (every second or two at first), never sent elsewhere.
    wait_until("a second attempt at the refusing relay", || {
        login.mail_attempts() >= 2
    });
    let log = serve.log_text();
    assert!(log.contains("451 4.3.0"), "{log}");
    kept_back(&plain, &login, &log);
}

#[test]
fn relay_passwords_are_0600_and_never_in_a_plan() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = Temp::new("relay-plan");
    support::copy_dir(&case(), &dir.0);
    let secret = "not-a-real-password";
    let plan = mailc(&dir.0, &["plan", "mailc.yaml", "--out", "out"]);
    assert!(!plan.stdout.contains(secret) && !plan.stderr.contains(secret));
    assert!(
        plan.stdout.contains("postfix/pf/sasl_passwd"),
        "{}",
        plan.stdout
    );
    let run = mailc(
        &dir.0,
        &["apply", "mailc.yaml", "--out", "out", "--auto-approve"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    for file in [
        "postfix/pf/sasl_passwd",
        "exim/ex/relay/relay_3.secret",
        "server/em/relays/relay-2.secret",
    ] {
        let path = dir.0.join("out").join(file);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}");
        assert!(
            std::fs::read_to_string(&path).unwrap().contains(secret),
            "{file}"
        );
    }
    // Only the files that need it hold it.
    for file in [
        "postfix/pf/main.cf",
        "exim/ex/exim.conf",
        "server/em/manifest.json",
    ] {
        let text = std::fs::read_to_string(dir.0.join("out").join(file)).unwrap();
        assert!(!text.contains(secret), "{file}");
    }
}
