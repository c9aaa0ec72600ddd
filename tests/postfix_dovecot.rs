//! The `postfix-dovecot` stack against real Postfix 3.7 and Dovecot 2.3
//! (`docs/testing.md`):
//!
//! - static: for every example and test case with a `postfix-dovecot` host,
//!   the production configs and the test-root configs pass `postconf -n`
//!   and `-M` without a warning, `postmap` builds every table, `doveconf -n`
//!   accepts `dovecot.conf`, and (test root) `postfix check` passes;
//! - end to end (`tests/cases/postfix-stack`): two hosts run for real on
//!   127.0.0.1 — mail to a mailbox, an alias, a nested alias, a catch-all
//!   domain lands exactly where `mailc route` says (read over IMAP), an
//!   unknown address gets `550 5.1.1` at RCPT, a bounce domain bounces, the
//!   backup accepts only valid recipients and relays to the primary,
//!   submission with SASL works and sending as someone else is refused; a
//!   disabled mailbox receives (read by doveadm) but logs in neither over
//!   IMAP nor for submission; a domain whose mail is off gets `550 5.7.1`;
//! - differential: for every row of `tests/routes/*.tsv` on a
//!   `postfix-dovecot` host, Postfix's own verdict — the RCPT reply on port
//!   25 and `sendmail -bv`'s resolution — agrees with `mailc route`.
//!
//! - relays: for every Postfix row of `tests/cases/relays/senders.tsv`,
//!   `postmap -q` on the built `sender_relays` (else `relayhost`) names
//!   the relay `mailc route --from` does;
//! - sending limits (`tests/cases/limits`): `mailc policy` beside a real
//!   Postfix answers `450 4.7.1` at a mailbox's limit while its domain
//!   still sends, then at the domain's, and the counts hold across a
//!   kill -9 of the policy service (ports 25700–25799).
//!
//! The programs are required: a missing one fails with a pointer to
//! `.ci/install-oracles`. Every process is stopped by PID. Tests run in
//! parallel, so each test that starts servers has a block of ports on
//! 127.0.0.1 of its own (100 per host of its spec): 25200 rules, 25400 POP3, 25700
//! sending limits, 26000 end to end, 26200 and 26400 the route lanes,
//! 26600 `mailc test --live`, 26800 and 26900 relays.

mod mail_stack;
#[path = "support/limits.rs"]
mod send_limits;
#[path = "support/sink.rs"]
mod sink;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use mail_stack::client::{Smtp, Tls, imap_subjects, refused_logins, submission_rules};
use mail_stack::instance::Instance;
use mail_stack::scenario::{self, inbox, password};
use mail_stack::{
    Nothing, golden, mailc_test_live, model_of, pop3, postfix_specs, postmap_all, require_root,
    root, run, show, tool, write_stack, write_test_root,
};
use mailc::vocab::Stack;

/// `postconf -c DIR -n` and `-M`: success and not one warning.
fn postconf_clean(dir: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    for flag in ["-n", "-M"] {
        let out = run(&tool("postconf"), &["-c", dir.to_str().unwrap(), flag]);
        if !out.status.success() || !out.stderr.is_empty() {
            failures.push(format!(
                "postconf -c {} {flag}: {}",
                dir.display(),
                show(&out)
            ));
        }
    }
    failures
}

/// `doveconf -c FILE -n`: success and nothing on stderr.
fn doveconf_clean(conf: &Path) -> Vec<String> {
    let out = run(&tool("doveconf"), &["-c", conf.to_str().unwrap(), "-n"]);
    if out.status.success() && out.stderr.is_empty() {
        Vec::new()
    } else {
        vec![format!("doveconf -c {} -n: {}", conf.display(), show(&out))]
    }
}

#[test]
fn configs_pass_postfix_and_dovecot_checks() {
    require_root();
    let specs = postfix_specs();
    assert!(
        specs.len() >= 5,
        "only {} specs have a postfix-dovecot host",
        specs.len()
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, _, model) in &specs {
        // Production: what an administrator installs in /etc.
        let prod = tempfile::tempdir().unwrap();
        write_stack(model, &Nothing, prod.path());
        // The test root: the same templates, runnable here.
        let test = tempfile::tempdir().unwrap();
        let root = write_test_root(model, test.path(), 26000);
        for host in model.hosts.values() {
            let dovecot = matches!(host.stack, Stack::PostfixDovecot | Stack::EximDovecot);
            for dir in [prod.path(), test.path()] {
                if dovecot {
                    let conf = dir.join("dovecot").join(&host.key).join("dovecot.conf");
                    failures.extend(
                        doveconf_clean(&conf)
                            .into_iter()
                            .map(|f| format!("{name}: {f}")),
                    );
                }
                if host.stack != Stack::PostfixDovecot {
                    continue;
                }
                let pf = dir.join("postfix").join(&host.key);
                failures.extend(
                    postconf_clean(&pf)
                        .into_iter()
                        .map(|f| format!("{name}: {f}")),
                );
                failures.extend(postmap_all(&pf).into_iter().map(|f| format!("{name}: {f}")));
                checked += 1;
            }
            if host.stack == Stack::PostfixDovecot {
                // Folders, certificate, postmap, `postfix check` (root only).
                let _ = Instance::prepare(&root, model, &host.key);
            }
        }
        let users_mode = std::fs::metadata(
            prod.path()
                .join("dovecot")
                .join(
                    model
                        .hosts
                        .values()
                        .find(|h| h.stack == Stack::PostfixDovecot)
                        .unwrap()
                        .key
                        .as_str(),
                )
                .join("users"),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            users_mode.permissions().mode() & 0o777,
            0o600,
            "{name}: users must be secret"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(checked >= 10, "only {checked} Postfix configs were checked");
}

/// Every file under `dir`, by relative path.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    golden::tree(dir)
}

/// The production `postfix/` and `dovecot/` trees of every spec match
/// `tests/expected/<case>/` (`MAILC_BLESS=1` rewrites them; secret files
/// are pinned as a placeholder), and a second compilation gives the same
/// bytes.
#[test]
fn output_trees_match_pinned_files() {
    let mut failures = Vec::new();
    for (name, _, model) in postfix_specs() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write_stack(&model, &Nothing, a.path());
        write_stack(&model, &Nothing, b.path());
        let actual = files(a.path());
        assert_eq!(actual, files(b.path()), "{name}: two compilations differ");
        let tops = ["postfix", "dovecot"];
        let shown = golden::produced(a.path(), &tops);
        let pinned_dir = root().join("tests/expected").join(&name);
        golden::tree_under(&pinned_dir, &tops, &shown, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{}\n(run `MAILC_BLESS=1 cargo test --test postfix_dovecot output_trees` to accept)",
        failures.join("\n\n")
    );
}

/// The reply `mailc route` gives, as Postfix's smtpd sends it. One
/// difference is Postfix's and cannot be configured away: smtpd rewrites the
/// enhanced status code of an access-table reply for a recipient when it is
/// not a detail it knows (`smtpd_dsn_fix`: `X.1.10` becomes `X.1.0`), so the
/// null-MX refusal `556 5.1.10` (RFC 7505 §4.2) leaves as `556 5.1.0`. Postfix
/// says `5.1.10` only when it finds the null MX in DNS itself.
fn as_postfix_says(reply: &str) -> String {
    reply.replacen(" 5.1.10 ", " 5.1.0 ", 1).to_lowercase()
}

#[test]
fn end_to_end_delivery_backup_and_submission() {
    require_root();
    let dir = root().join("tests/cases/postfix-stack");
    let model = model_of(&dir);
    let tmp = tempfile::tempdir().unwrap();
    let root = write_test_root(&model, tmp.path(), 26000);
    let mx1 = Instance::start(&root, &model, "mx1");
    let mx2 = Instance::start(&root, &model, "mx2");
    let (p1, p2) = (mx1.install.ports, mx2.install.ports);
    let log = || {
        format!(
            "mx1 maillog:\n{}\nmx2 maillog:\n{}\nmx1 dovecot:\n{}",
            mx1.maillog(),
            mx2.maillog(),
            mx1.dovecot_log()
        )
    };

    // Refused at RCPT exactly as `mailc route` says (Postfix words a null
    // MX's 5.1.10 as 5.1.0); mail through port 25 where it says; a bounce
    // back to a local sender.
    scenario::refusals(
        &model,
        &[(p1.smtp, "mx1"), (p2.smtp, "mx2")],
        |got| got.line().to_lowercase(),
        as_postfix_says,
    );
    let mut expected = scenario::deliveries(&model, p1.smtp, p2.smtp);
    scenario::bounce(
        &model,
        p1.smtp,
        "Undelivered Mail Returned to Sender",
        &mut expected,
    );

    // Submission: TLS + SASL on 587 (STARTTLS) and 465 (implicit TLS); a
    // login sends as itself and its own aliases, and as nobody else.
    let starttls = (p1.submission, Tls::StartTls);
    // Before any failure from this address: Dovecot delays the logins
    // of an address with failures, and the MTA's SASL wait is short.
    refused_logins(p1.imap, starttls, &log);
    submission_rules(
        starttls,
        (p1.submissions, Tls::Implicit),
        &log,
        &mut expected,
    );

    // Quotas reach Dovecot: alice has 1G, bob none (unlimited).
    let user = |u: &str| {
        let out = run(
            &tool("doveadm"),
            &["-c", mx1.dovecot_conf.to_str().unwrap(), "user", u],
        );
        assert!(out.status.success(), "doveadm user {u}: {}", show(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        user("alice@example.com").contains("*:storage=1G"),
        "{}",
        user("alice@example.com")
    );
    assert!(
        !user("bob@example.com").contains("quota_rule"),
        "{}",
        user("bob@example.com")
    );

    scenario::mailboxes_hold(&model, p1.imap, &mx1.dovecot_conf, &expected, &log);

    // SRS: mail forwarded for forward.example leaves with its envelope
    // sender rewritten into forward.example; senders of the host's own
    // domains keep theirs.
    let mut smtp = Smtp::connect(p1.smtp);
    smtp.send(
        "sender@client.test",
        &["hello@forward.example"],
        "to-forward",
    );
    smtp.quit();
    let forwarded = || {
        mail_stack::client::statuses(&mx1.maillog())
            .into_iter()
            .find(|s| {
                s.to == "someone@mailbox.test"
                    && s.orig_to.as_deref() == Some("hello@forward.example")
            })
    };
    mail_stack::instance::wait_for(
        20,
        "the forwarded message in mx1's log",
        || forwarded().is_some(),
        log,
    );
    let qid = forwarded().unwrap().queue_id;
    let from = mx1
        .maillog()
        .lines()
        .find_map(|l| {
            l.split_once(&format!("{qid}: from=<"))
                .map(|(_, r)| r.split('>').next().unwrap_or("").to_string())
        })
        .unwrap_or_default();
    assert!(
        from.starts_with("SRS0=") && from.ends_with("@forward.example"),
        "forwarded with envelope sender <{from}>\n{}",
        log()
    );
    assert!(
        mx1.maillog().contains(": from=<bob@example.com>, "),
        "a local sender was rewritten\n{}",
        log()
    );
}

/// One row of a route table.
#[derive(Clone)]
struct Row {
    host: String,
    address: String,
}

fn route_rows(table: &Path) -> Vec<Row> {
    std::fs::read_to_string(table)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Row {
                host: cols[0].to_string(),
                address: cols[1].to_string(),
            }
        })
        .collect()
}

/// Postfix's verdict on one address, as much as the differential needs.
#[derive(Debug, Default)]
struct Verdict {
    rcpt: String,
    /// `sendmail -bv` status lines, when the address was accepted.
    lines: Vec<mail_stack::client::Status>,
}

/// Compares Postfix's verdict with `mailc route`'s; `None` when they agree.
fn disagreement(
    model: &mailc::model::Model,
    root: &mailc::backend::install::TestRoot,
    r: &mailc::model::route::Route,
    v: &Verdict,
) -> Option<String> {
    use mailc::model::route::Outcome;
    let set = |service: &[&str]| -> BTreeSet<String> {
        v.lines
            .iter()
            .filter(|s| service.contains(&s.service.as_str()))
            .map(|s| s.to.clone())
            .collect()
    };
    let accepted = v.rcpt.starts_with("250 ");
    let problem = match r.outcome {
        Outcome::Reject => {
            let want = as_postfix_says(r.reply.as_deref().unwrap_or(""));
            (v.rcpt.to_lowercase() != want).then(|| format!("RCPT reply should be `{want}`"))
        }
        Outcome::Remote => {
            if !(v.rcpt.starts_with("554 5.7.1") && v.rcpt.contains("Relay access denied")) {
                Some("an unauthenticated client should be refused relaying (554 5.7.1)".into())
            } else if set(&["smtp"]) != BTreeSet::from([r.address.clone()]) || v.lines.len() != 1 {
                Some("it should leave unchanged by SMTP".into())
            } else {
                None
            }
        }
        Outcome::Deliver | Outcome::Forward => {
            let mailboxes: BTreeSet<String> = r.mailboxes.iter().cloned().collect();
            let forward: BTreeSet<String> = r.forward.iter().cloned().collect();
            if !accepted {
                Some("RCPT should be accepted".into())
            } else if set(&["lmtp"]) != mailboxes {
                Some(format!("LMTP (Dovecot) should get exactly {mailboxes:?}"))
            } else if set(&["smtp"]) != forward {
                Some(format!("SMTP should get exactly {forward:?}"))
            } else if v
                .lines
                .iter()
                .any(|s| s.service == "lmtp" && s.status != "deliverable")
            {
                Some("Dovecot should take every mailbox".into())
            } else if v
                .lines
                .iter()
                .any(|s| !["lmtp", "smtp"].contains(&s.service.as_str()))
            {
                Some("nothing else should happen".into())
            } else {
                None
            }
        }
        Outcome::Drop => {
            if !accepted {
                Some("RCPT should be accepted".into())
            } else if v.lines.is_empty()
                || v.lines
                    .iter()
                    .any(|s| s.service != "discard" || s.status != "deliverable")
            {
                Some("it should be discarded (the discard transport)".into())
            } else {
                None
            }
        }
        Outcome::Bounce => {
            if !accepted {
                Some("RCPT should be accepted".into())
            } else if v.lines.is_empty()
                || v.lines
                    .iter()
                    .any(|s| s.status != "undeliverable" || !s.dsn.starts_with("5."))
            {
                Some("delivery should fail for good (a bounce)".into())
            } else {
                None
            }
        }
        Outcome::Relay => {
            let hop = r.next_hop.clone().unwrap_or_default();
            let ours = model.hosts.values().find(|h| h.hostname == hop);
            if !accepted {
                Some("RCPT should be accepted".into())
            } else if set(&["smtp", "relay"]) != BTreeSet::from([r.address.clone()])
                || v.lines.len() != 1
            {
                Some("it should leave unchanged by SMTP".into())
            } else if let Some(h) = ours {
                // Our own host: in the test root, its SMTP port on 127.0.0.1.
                let want = format!("127.0.0.1[127.0.0.1]:{}", root.install(h).ports.smtp);
                (v.lines[0].relay != want || v.lines[0].status != "deliverable")
                    .then(|| format!("it should be taken by {want} ({hop})"))
            } else {
                let name = hop.split(':').next().unwrap_or("");
                (!v.lines[0].reason.contains(&format!("name={name} "))
                    && !v.lines[0].relay.starts_with(name))
                .then(|| format!("it should go to {hop}"))
            }
        }
    };
    problem.map(|p| {
        format!(
            "{} on {}: mailc route says {:?}; {p}\n  Postfix: RCPT `{}`, -bv {:#?}",
            r.address, r.host, r.outcome, v.rcpt, v.lines
        )
    })
}

/// Runs the hosts of one spec and compares every row; returns the number
/// of rows compared and the disagreements.
fn differential(
    name: &str,
    model: &mailc::model::Model,
    rows: &[Row],
    first_port: u16,
) -> (usize, Vec<String>) {
    let tmp = tempfile::tempdir().unwrap();
    let root = write_test_root(model, tmp.path(), first_port);
    let instances: Vec<Instance> = model
        .hosts
        .values()
        .filter(|h| h.stack == Stack::PostfixDovecot)
        .map(|h| Instance::start(&root, model, &h.key))
        .collect();
    let instance = |host: &str| instances.iter().find(|i| i.host == host).unwrap();
    // Addresses as an SMTP client sends them: the domain in A-labels (as
    // `mailc route` normalizes it; no SMTPUTF8).
    let routes: Vec<_> = rows
        .iter()
        .map(|row| mailc::model::route::route(model, &row.host, &row.address))
        .collect();
    // Port 25: the RCPT reply of each address, one connection each.
    let mut verdicts: Vec<Verdict> = routes
        .iter()
        .map(|r| {
            let mut smtp = Smtp::connect(instance(&r.host).install.ports.smtp);
            let rcpt = smtp
                .probe("probe@client.test", &[&r.address])
                .remove(0)
                .line();
            smtp.quit();
            Verdict {
                rcpt,
                lines: Vec::new(),
            }
        })
        .collect();
    // `sendmail -bv`: Postfix resolves each address (mail submitted on the
    // host itself is not subject to the relay check) and asks the next hop
    // (Dovecot over LMTP, the primary over SMTP) without delivering. Not for
    // addresses refused at RCPT: there is no more to know.
    let probed = |v: &Verdict| v.rcpt.starts_with("250 ") || v.rcpt.starts_with("554 5.7.1");
    for i in &instances {
        let wanted: BTreeSet<String> = routes
            .iter()
            .zip(&verdicts)
            .filter(|(r, v)| r.host == i.host && probed(v))
            .map(|(r, _)| r.address.clone())
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let mut args = vec![
            "-C",
            i.postfix_dir.to_str().unwrap(),
            "-f",
            "probe@verify.invalid",
            "-bv",
        ];
        args.extend(wanted.iter().map(String::as_str));
        let out = run(&tool("sendmail"), &args);
        assert!(out.status.success(), "{name}: sendmail -bv: {}", show(&out));
        // How many final recipients each address should show: an alias's
        // outside forward may be reported well after its mailboxes (a DNS
        // lookup that times out here).
        let need: BTreeMap<&str, usize> = wanted
            .iter()
            .map(|a| {
                let r = mailc::model::route::route(model, &i.host, a);
                (a.as_str(), (r.mailboxes.len() + r.forward.len()).max(1))
            })
            .collect();
        // Until every address has its lines and none came for a second
        // (or, should Postfix report fewer than expected, for eight).
        let mut last = (0, Instant::now());
        mail_stack::instance::wait_for(
            60,
            &format!("{name}: Postfix's -bv verdicts on {}", i.host),
            || {
                let lines = mail_stack::client::statuses(&i.maillog());
                let mut seen: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
                for l in &lines {
                    seen.entry(l.original()).or_default().insert(&l.to);
                }
                if lines.len() != last.0 {
                    last = (lines.len(), Instant::now());
                }
                let all = wanted.iter().all(|a| seen.contains_key(a));
                let complete = need
                    .iter()
                    .all(|(a, n)| seen.get(*a).is_some_and(|t| t.len() >= *n));
                let quiet = last.1.elapsed();
                all && ((complete && quiet > Duration::from_secs(1))
                    || quiet > Duration::from_secs(8))
            },
            || i.maillog(),
        );
        let lines = mail_stack::client::statuses(&i.maillog());
        for (r, v) in routes.iter().zip(verdicts.iter_mut()) {
            if r.host == i.host {
                v.lines = lines
                    .iter()
                    .filter(|s| s.original() == r.address)
                    .cloned()
                    .collect();
            }
        }
    }
    let failures = routes
        .iter()
        .zip(&verdicts)
        .filter_map(|(r, v)| disagreement(model, &root, r, v))
        .map(|d| format!("{name}: {d}"))
        .collect();
    (routes.len(), failures)
}

#[test]
fn postfix_agrees_with_mailc_route() {
    require_root();
    let mut tables: Vec<_> = std::fs::read_dir(root().join("tests/routes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tsv"))
        .collect();
    tables.sort();
    let specs = postfix_specs();
    let mut work = Vec::new();
    for table in tables {
        let name = table.file_stem().unwrap().to_string_lossy().into_owned();
        let Some((_, _, model)) = specs.iter().find(|(n, ..)| *n == name) else {
            continue; // no postfix-dovecot host
        };
        let rows: Vec<Row> = route_rows(&table)
            .into_iter()
            .filter(|r| {
                model
                    .hosts
                    .get(&r.host)
                    .is_some_and(|h| h.stack == Stack::PostfixDovecot)
            })
            .collect();
        if !rows.is_empty() {
            work.push((name, model.clone(), rows));
        }
    }
    assert!(
        work.len() >= 5,
        "only {} route tables have postfix-dovecot rows",
        work.len()
    );
    // Two lanes, each with its own ports (two hosts per spec at most).
    let lanes: Vec<_> = [26200u16, 26400]
        .into_iter()
        .enumerate()
        .map(|(lane, port)| {
            let mine: Vec<_> = work.iter().skip(lane).step_by(2).cloned().collect();
            std::thread::spawn(move || {
                let mut out = (0, Vec::new());
                for (name, model, rows) in mine {
                    assert!(
                        model.hosts.len() <= 2,
                        "{name}: more hosts than a lane has ports"
                    );
                    let (n, f) = differential(&name, &model, &rows, port);
                    out.0 += n;
                    out.1.extend(f);
                }
                out
            })
        })
        .collect();
    let (mut compared, mut failures) = (0, Vec::new());
    for lane in lanes {
        let (n, f) = lane.join().expect("a lane panicked");
        compared += n;
        failures.extend(f);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(compared >= 50, "only {compared} addresses compared");
}

/// `mailc test --live` against Postfix: for every spec with tests and a
/// `postfix-dovecot` host, the host runs for real and answers each route
/// test of that host over SMTP as the spec's `tests` say (the null-MX
/// refusal is tested by its code, `556`, which Postfix sends as `556 5.1.0`).
#[test]
fn mailc_test_live_passes_against_postfix() {
    require_root();
    let mut checked = 0;
    for (name, dir, model) in postfix_specs() {
        if mail_stack::compiled_of(&dir).tests.is_empty() {
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        let root = write_test_root(&model, tmp.path(), 26600);
        for host in model.hosts.values() {
            if host.stack != Stack::PostfixDovecot {
                continue;
            }
            let instance = Instance::start(&root, &model, &host.key);
            let target = format!("{}=127.0.0.1:{}", host.key, instance.install.ports.smtp);
            if let Err(said) = mailc_test_live(&dir, &target) {
                panic!(
                    "{name} on {}: {said}\nmaillog:\n{}",
                    host.key,
                    instance.maillog()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} Postfix hosts tested");
}

/// A Postfix host whose spec has two relays (`sink::spec`), each a sink.
fn postfix_with_relays(
    label: &str,
    first_port: u16,
    plain: u16,
    login: u16,
) -> (tempfile::TempDir, Instance) {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let spec_dir = tmp.path().join("spec");
    sink::spec(&spec_dir, "postfix-dovecot", plain, login);
    let model = model_of(&spec_dir);
    let dir = tmp.path().join(label);
    let root = mailc::backend::install::TestRoot::new(dir.to_str().unwrap(), &model, first_port);
    write_stack(
        &model,
        &mailc::backend::install::TestRootContext {
            inner: &mail_stack::SpecFiles(spec_dir),
            root: &root,
        },
        &dir,
    );
    let inst = Instance::start(&root, &model, "mx1");
    (tmp, inst)
}

/// Mail from each sender class leaves a real Postfix through the relay the
/// spec names (`relayhost`, `sender_dependent_relayhost_maps`), logged in
/// over STARTTLS where the relay has a login (`smtp_sasl_password_maps`,
/// sender-dependent); the password is in no log, and its table is 0600.
#[test]
fn postfix_sends_each_sender_through_its_relay() {
    let (plain, login) = sink::sinks();
    let (_tmp, pf) = postfix_with_relays("relays", 26800, plain.port, login.port);
    sink::send_each_sender(pf.install.ports.smtp, &plain, &login, || pf.maillog());
    use std::os::unix::fs::PermissionsExt as _;
    let table = Path::new(&pf.install.postfix_dir).join("sasl_passwd");
    let mode = std::fs::metadata(&table).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", table.display());
}

/// A relay that answers 451 leaves the mail deferred in Postfix's queue
/// (retried there), never sent through another relay.
#[test]
fn postfix_waits_for_a_relay_that_refuses_for_now() {
    let (plain, login) = sink::refusing_sinks();
    let (_tmp, pf) = postfix_with_relays("relays-4xx", 26900, plain.port, login.port);
    let r = sink::smtp_send(
        pf.install.ports.smtp,
        "offers@example.com",
        "fwd@example.com",
        "waits",
    );
    assert!(r.starts_with("250"), "{r}\n{}", pf.maillog());
    let deadline = Instant::now() + Duration::from_secs(120);
    let log = loop {
        let log = pf.maillog();
        if log.contains("status=deferred") {
            break log;
        }
        assert!(Instant::now() < deadline, "no deferral logged:\n{log}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(log.contains("451 4.3.0"), "{log}");
    assert!(login.mail_attempts() >= 1);
    sink::kept_back(&plain, &login, &log);
}

/// POP3 on Dovecot where the domain offers it (`services` of example.com in
/// `tests/cases/postfix-stack`): mail delivered through Postfix and LMTP is
/// listed and read over POP3 (Python's poplib, after STLS and on implicit
/// TLS, and fetchmail), each UIDL is the message's IMAP UID and UIDVALIDITY,
/// TOP leaves it unread and RETR marks it read, DELE takes effect at QUIT
/// only (a dropped connection deletes nothing), and a mailbox of
/// example.org, which does not offer POP3, is refused there but not over
/// IMAP.
#[test]
fn dovecot_serves_pop3_where_the_domain_offers_it() {
    require_root();
    let dir = root().join("tests/cases/postfix-stack");
    let model = model_of(&dir);
    let tmp = tempfile::tempdir().unwrap();
    let root = write_test_root(&model, tmp.path(), 25400);
    let mx1 = Instance::start(&root, &model, "mx1");
    let p = mx1.install.ports;
    mail_stack::instance::wait_for(
        15,
        "Dovecot's POP3 listeners",
        || mail_stack::instance::listening(p.pop3) && mail_stack::instance::listening(p.pop3s),
        || mx1.dovecot_log(),
    );
    let user = "bob@example.com";
    let pw = password(user);
    let subjects = ["pop-one", "pop-two", "pop-three"];
    // One at a time, each in the mailbox before the next is sent: Postfix
    // delivers its queue in parallel, and the checks below rely on the
    // order of the messages.
    let mut want = BTreeSet::new();
    for s in subjects {
        let mut smtp = Smtp::connect(p.smtp);
        let replies = smtp.send("sender@client.test", &[user], s);
        smtp.quit();
        assert_eq!(replies[0].code, 250, "{:?}", replies[0]);
        want.insert(s.to_string());
        assert_eq!(
            inbox(p.imap, user, &want, 30),
            want,
            "{}",
            mx1.dovecot_log()
        );
    }

    let login = format!("login:{user}:{pw}");
    let said = pop3::session(p.pop3, &["stls", &login, "capa", "stat", "uidl", "quit"]);
    pop3::ok(&said, 2);
    let capa = pop3::ok(&said, 3);
    for c in ["TOP", "UIDL"] {
        assert!(capa.get(c).is_some(), "CAPA without {c}: {capa}");
    }
    assert_eq!(pop3::ok(&said, 4)[0], 3, "{said:?}");
    let (validity, uids, seen) = pop3::imap_uids(p.imap, user, &pw);
    let want_uidl: Vec<(u32, String)> = uids
        .iter()
        .enumerate()
        .map(|(i, u)| (i as u32 + 1, pop3::uidl_of(validity, *u)))
        .collect();
    assert_eq!(pop3::uidls(pop3::ok(&said, 5)), want_uidl);
    assert!(seen.is_empty(), "{seen:?}");

    // TOP leaves the message unread, RETR marks it read (as over IMAP).
    let said = pop3::session(p.pop3s, &["tls", &login, "top:1:0", "retr:2", "quit"]);
    let top = &pop3::ok(&said, 2)["lines"];
    assert!(
        top.as_array()
            .unwrap()
            .iter()
            .any(|l| l == "Subject: pop-one"),
        "{top}"
    );
    let retr = &pop3::ok(&said, 3)["lines"];
    assert!(
        retr.as_array()
            .unwrap()
            .iter()
            .any(|l| l == "Subject: pop-two"),
        "{retr}"
    );
    assert_eq!(pop3::imap_uids(p.imap, user, &pw).2, vec![uids[1]]);

    // fetchmail sees the three messages and keeps them.
    let fm = tmp.path().join("fetchmail");
    let (code, said_fm) = pop3::fetchmail(&fm, p.pop3, user, &pw, false);
    assert_eq!(code, 0, "{said_fm}");
    let fetched = std::fs::read_to_string(fm.join("fetched")).unwrap_or_default();
    for s in subjects {
        assert!(fetched.contains(&format!("Subject: {s}")), "{fetched}");
    }
    let (code, said_fm) = pop3::fetchmail(&fm, p.pop3, user, &pw, false);
    assert_eq!(code, 1, "nothing new: {said_fm}");

    // DELE counts at QUIT only.
    let said = pop3::session(p.pop3, &["stls", &login, "dele:1", "drop"]);
    pop3::ok(&said, 3);
    assert_eq!(pop3::imap_uids(p.imap, user, &pw).1, uids);
    let said = pop3::session(
        p.pop3,
        &[
            "stls", &login, "dele:1", "stat", "rset", "stat", "dele:3", "quit",
        ],
    );
    assert_eq!(pop3::ok(&said, 4)[0], 2);
    assert_eq!(pop3::ok(&said, 6)[0], 3);
    pop3::ok(&said, 8);
    assert_eq!(pop3::imap_uids(p.imap, user, &pw).1, uids[..2].to_vec());
    let said = pop3::session(p.pop3, &["stls", &login, "uidl", "quit"]);
    assert_eq!(pop3::uidls(pop3::ok(&said, 3)), want_uidl[..2].to_vec());

    // example.org does not offer POP3: dave is refused there, not over IMAP.
    let dave = "dave@example.org";
    let said = pop3::session(
        p.pop3,
        &["stls", &format!("login:{dave}:{}", password(dave))],
    );
    assert!(pop3::err(&said, 2).starts_with("-ERR"), "{said:?}");
    imap_subjects(p.imap, dave, &password(dave)).expect("dave logs in over IMAP");
}

/// `mailc policy` as its systemd unit runs it (the compiled unit's
/// arguments), killed (SIGKILL) when dropped.
struct PolicyService(std::process::Child);

impl PolicyService {
    fn start(pf: &Instance) -> PolicyService {
        let limits = Path::new(&pf.install.postfix_dir).join("send_limits");
        let unit = std::fs::read_to_string(
            Path::new(&pf.install.postfix_dir).join("mailc-policy.service"),
        )
        .unwrap();
        assert!(
            unit.contains(&format!(
                "policy --limits {} --state {} --listen {}",
                limits.display(),
                pf.install.policy_state,
                pf.install.policy_listen
            )),
            "{unit}"
        );
        std::fs::create_dir_all(Path::new(&pf.install.policy_state).parent().unwrap()).unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_mailc"))
            .args([
                "policy",
                "--limits",
                limits.to_str().unwrap(),
                "--state",
                &pf.install.policy_state,
                "--listen",
                &pf.install.policy_listen,
            ])
            .stdin(std::process::Stdio::null())
            .spawn()
            .expect("start mailc policy");
        let addr = pf.install.policy_listen.clone();
        mail_stack::instance::wait_for(
            15,
            &format!("mailc policy on {addr}"),
            || std::net::TcpStream::connect(&addr).is_ok(),
            String::new,
        );
        PolicyService(child)
    }
}

impl Drop for PolicyService {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sending limits on a real Postfix through `mailc policy`: 450 at a
/// mailbox's limit while another mailbox of its domain still sends, 450 at
/// the domain's, and the counts hold across a kill -9 of the service.
#[test]
fn sending_limits_hold_across_a_restart_of_the_policy_service() {
    require_root();
    let mut model = model_of(&root().join("tests/cases/limits"));
    model.hosts.retain(|k, _| k == "pf");
    let tmp = tempfile::tempdir().unwrap();
    let test_root = write_test_root(&model, tmp.path(), 25700);
    let pf = Instance::start(&test_root, &model, "pf");
    let mut policy = PolicyService::start(&pf);
    let port = pf.install.ports.submission;
    let send = |login: &str, to: &str| {
        let password = format!("{}-pw", login.split('@').next().unwrap());
        let t = mail_stack::client::submit(
            (port, Tls::StartTls),
            login,
            &password,
            login,
            to,
            "limits",
        )
        .1;
        format!("{t}\nmaillog:\n{}", pf.maillog())
    };
    send_limits::fill("pf.example", send);
    drop(policy);
    policy = PolicyService::start(&pf);
    send_limits::still_full("pf.example", send);
    drop(policy);
    assert!(!pf.maillog().contains("fatal"), "{}", pf.maillog());
}

/// For every Postfix row of `tests/cases/relays/senders.tsv`, Postfix's own
/// lookups pick the relay `mailc route --from` names: `postmap -q` on the
/// built `sender_relays` map (the address, then `@domain`, as
/// `sender_dependent_relayhost_maps` asks; `<>` for the null sender), else
/// the host's `relayhost` (`postconf -h`).
#[test]
fn postfix_picks_the_relay_mailc_route_from_names() {
    let dir = root().join("tests/cases/relays");
    let model = model_of(&dir);
    let tmp = tempfile::tempdir().unwrap();
    let test_root = write_test_root(&model, tmp.path(), 26000);
    let table = std::fs::read_to_string(dir.join("senders.tsv")).unwrap();
    let (mut checked, mut failures) = (0, Vec::new());
    for line in table.lines().filter(|l| !l.starts_with('#')) {
        let c: Vec<&str> = line.split('\t').collect();
        let host = &model.hosts[c[0]];
        if host.stack != Stack::PostfixDovecot {
            continue;
        }
        let pf = test_root.install(host).postfix_dir;
        if checked == 0 {
            let problems = postmap_all(Path::new(&pf));
            assert!(problems.is_empty(), "{}", problems.join("\n"));
        }
        let want = match c[2] {
            "-" => String::new(),
            name => {
                let r = &model.relays[name];
                format!("[{}]:{}", r.host, r.port)
            }
        };
        let map = format!("hash:{pf}/sender_relays");
        let query = |key: &str| {
            let out = run(&tool("postmap"), &["-c", &pf, "-q", key, &map]);
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        };
        let keys: Vec<String> = match c[1] {
            "<>" => vec!["<>".into()],
            a => vec![a.into(), format!("@{}", a.rsplit_once('@').unwrap().1)],
        };
        let got = keys.iter().find_map(|k| query(k)).unwrap_or_else(|| {
            let out = run(&tool("postconf"), &["-c", &pf, "-h", "relayhost"]);
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        });
        if got != want {
            failures.push(format!(
                "{line}: Postfix picks {got:?}, mailc route says {want:?}"
            ));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 7, "only {checked} rows checked");
}

/// Mail rules and the autoresponder as Dovecot runs them behind Postfix
/// (tests/cases/rules): Postfix hands each message to Dovecot's LMTP,
/// Pigeonhole runs the mailbox's compiled script, and what it files is in
/// the rule's folder, what it forwards comes back through Postfix, and the
/// vacation reply reaches a sender once, the second message from the same
/// sender getting none.
#[test]
fn rules_and_the_autoresponder_run_in_dovecot_behind_postfix() {
    require_root();
    let dir = root().join("tests/cases/rules");
    let model = model_of(&dir);
    let tmp = tempfile::tempdir().unwrap();
    let root = write_test_root(&model, tmp.path(), 25200);
    let mx1 = Instance::start(&root, &model, "mx1");
    let p = mx1.install.ports;
    let conf = mx1.dovecot_conf.clone();
    let log = || format!("{}\n{}", mx1.maillog(), mx1.dovecot_log());
    mail_stack::client::rules_scenario(p.smtp, &conf, &|| mx1.dovecot_log(), &log);
}
