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
