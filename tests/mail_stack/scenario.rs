//! The end-to-end scenario every MTA stack runs on its case
//! (`tests/cases/<stack>-stack`: mx1 the primary, mx2 the backup): refusals
//! at RCPT exactly as `mailc route` gives them, mail through port 25 that
//! lands where `mailc route` says, a bounce back to a local sender, and
//! every mailbox of mx1 holding exactly that at the end. The Postfix and
//! Exim suites run these steps, with their own checks between them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use mailc::model::Model;
use mailc::model::route::{Outcome, route};

use super::client::{Reply, Smtp, doveadm_inbox, imap_subjects};

/// What each mailbox of mx1 is expected to hold at the end: its subjects.
pub type Expected = BTreeMap<String, BTreeSet<String>>;

/// Each mailbox's password in the stack cases: `LOCAL-pw`.
pub fn password(address: &str) -> String {
    format!("{}-pw", address.split('@').next().unwrap())
}

/// Polls `mailbox`'s INBOX on `port` until it holds at least `want`, then
/// returns everything it holds.
pub fn inbox(port: u16, mailbox: &str, want: &BTreeSet<String>, secs: u64) -> BTreeSet<String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let got: BTreeSet<String> = imap_subjects(port, mailbox, &password(mailbox))
            .unwrap_or_else(|e| panic!("IMAP login of {mailbox} refused: {e}"))
            .into_iter()
            .collect();
        if got.is_superset(want) || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Refused at RCPT, on the primary and on the backup alike (`hosts`: each
/// SMTP port and its host), exactly as `mailc route` says: `said` is the
/// MTA's reply on one line and `says` the route's reply as that MTA words
/// it. Nothing is relayed for an unauthenticated client.
pub fn refusals(
    model: &Model,
    hosts: &[(u16, &str)],
    said: impl Fn(&Reply) -> String,
    says: impl Fn(&str) -> String,
) {
    for &(port, host) in hosts {
        for rcpt in [
            "nobody@example.com",
            "noreply@example.com",
            "anyone@parked.example",
            "info@off.example",
            "anyone@off.example",
        ] {
            let want = route(model, host, rcpt).reply.expect("a refusal");
            let mut smtp = Smtp::connect(port);
            let got = smtp.probe("sender@client.test", &[rcpt]).remove(0);
            smtp.quit();
            assert_eq!(
                said(&got),
                says(&want),
                "{host}: RCPT {rcpt}: mailc route says `{want}`"
            );
        }
        // Not ours to relay for an unauthenticated client.
        let mut smtp = Smtp::connect(port);
        let got = smtp
            .probe("sender@client.test", &["someone@remote.example"])
            .remove(0);
        smtp.quit();
        assert!(
            got.code == 554 && got.text.contains("5.7.1"),
            "{host}: relayed for anyone: {got:?}"
        );
    }
}

/// Mail through port 25 of mx1 (`mx1`) and mx2 (`mx2`), every message
/// accepted; returns where `mailc route` says each ends (the backup relays
/// to the primary, which delivers).
pub fn deliveries(model: &Model, mx1: u16, mx2: u16) -> Expected {
    // (subject, host it is sent to, recipient).
    let messages = [
        ("to-mailbox", "mx1", "bob@example.com"),
        ("to-mailbox-alias", "mx1", "A.Smith@example.com"),
        ("to-alias", "mx1", "info@example.com"),
        ("to-nested-alias", "mx1", "team@example.com"),
        ("to-catch-all", "mx1", "whoever@example.org"),
        ("to-dave", "mx1", "dave@example.org"),
        ("to-relay-domain-mailbox", "mx1", "frank@relay.example"),
        ("via-backup", "mx2", "alice@example.com"),
        ("via-backup-catch-all", "mx2", "someone-else@example.org"),
        // Accepted and thrown away: in no mailbox at the end.
        ("to-drop-alias", "mx1", "spam@example.com"),
        ("to-drop-domain", "mx1", "nobody@drop.example"),
        ("via-backup-drop", "mx2", "junk@example.com"),
        // A disabled mailbox receives as any other.
        ("to-disabled", "mx1", "gone@example.com"),
        ("via-backup-disabled", "mx2", "gone@example.com"),
    ];
    let mut expected = Expected::new();
    for (subject, host, rcpt) in messages {
        let port = if host == "mx1" { mx1 } else { mx2 };
        let mut smtp = Smtp::connect(port);
        let replies = smtp.send("sender@client.test", &[rcpt], subject);
        smtp.quit();
        assert_eq!(
            replies[0].code, 250,
            "{host}: RCPT {rcpt}: {:?}",
            replies[0]
        );
        let mut r = route(model, host, rcpt);
        if r.outcome == Outcome::Relay {
            assert_eq!(r.next_hop.as_deref(), Some("mx1.example.com"));
            r = route(model, "mx1", rcpt);
        }
        assert!(
            !r.mailboxes.is_empty() || r.outcome == Outcome::Drop,
            "{subject}: mailc route delivers nowhere: {r:?}"
        );
        for m in r.mailboxes {
            expected.entry(m).or_default().insert(subject.to_string());
        }
    }
    expected
}

/// Accepted on mx1's `port`, then bounced: the sender (a local mailbox)
/// gets the MTA's report, whose subject is `report`.
pub fn bounce(model: &Model, port: u16, report: &str, expected: &mut Expected) {
    let mut smtp = Smtp::connect(port);
    let replies = smtp.send(
        "bob@example.com",
        &["typo@bounce.example"],
        "to-bounce-domain",
    );
    smtp.quit();
    assert_eq!(
        replies[0].code, 250,
        "bounce domain must accept: {:?}",
        replies[0]
    );
    assert_eq!(
        route(model, "mx1", "typo@bounce.example").outcome,
        Outcome::Bounce
    );
    expected
        .entry("bob@example.com".into())
        .or_default()
        .insert(report.into());
}

/// Every mailbox of mx1 holds exactly what `mailc route` sent it: read
/// over IMAP on `imap`, a disabled one (it cannot log in) by doveadm with
/// `dovecot_conf`.
pub fn mailboxes_hold(
    model: &Model,
    imap: u16,
    dovecot_conf: &Path,
    expected: &Expected,
    log: &dyn Fn() -> String,
) {
    for m in model.domains.values().flat_map(|d| d.mailboxes.values()) {
        let address = m.address.clone();
        let want = expected.get(&address).cloned().unwrap_or_default();
        let got = if m.disabled {
            doveadm_inbox(dovecot_conf, &address, &want, 30)
        } else {
            inbox(imap, &address, &want, 30)
        };
        assert_eq!(got, want, "INBOX of {address}\n{}", log());
    }
}
