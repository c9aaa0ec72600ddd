//! Mail rules against Pigeonhole, Dovecot's Sieve (`docs/testing.md`):
//!
//! - every Sieve script mailc writes (the examples and `tests/cases/*`)
//!   compiles with `sievec`, and the `dovecot.conf` beside it passes
//!   `doveconf -n`;
//! - differential: every row of `tests/rules/rows.tsv` — a mailbox of
//!   `tests/cases/rules`, an envelope and a message — runs through
//!   `sieve-test` on the compiled script (actions executed: stores,
//!   redirects, rejects and vacation replies are reported) and through
//!   `mailc serve`'s engine (`mailc::rules::engine`); both must give the
//!   row's actions.
//!
//! The programs are required: a missing one fails with a pointer to
//! `.ci/install-oracles`, never a skip.

mod mail_stack;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use mail_stack::instance::chown;
use mail_stack::{Nothing, model_of, root, run, show, tool};
use mailc::model::Model;
use mailc::rules::engine::{self, Answer, Envelope};
use mailc::rules::message::Header;

/// A minimal Dovecot config for the Sieve tools: mail as `nobody`.
fn sieve_conf(dir: &Path) -> PathBuf {
    let conf = dir.join("dovecot.conf");
    std::fs::write(
        &conf,
        format!(
            "mail_location = maildir:{0}/mail\nmail_uid = nobody\nmail_gid = nogroup\n\
             base_dir = {0}/run\nstate_dir = {0}/state\n\
             plugin {{\n  sieve_vacation_dont_check_recipient = no\n  \
             sieve_vacation_send_from_recipient = no\n}}\n",
            dir.display()
        ),
    )
    .unwrap();
    conf
}

/// Every spec folder: the examples and `tests/cases/*`.
fn specs() -> Vec<(String, Model)> {
    mail_stack::specs_where(|_| true)
        .into_iter()
        .map(|(name, _, model)| (name, model))
        .collect()
}

/// The Dovecot files of `model`.
fn dovecot_files(model: &Model) -> Vec<(String, Vec<u8>)> {
    let mut output = mailc::output::Output::default();
    mailc::backend::dovecot::compile(model, &Nothing, &mut output, &mut Vec::new());
    output
        .files
        .iter()
        .map(|(p, f)| (p.clone(), f.bytes.clone()))
        .collect()
}

#[test]
fn every_generated_script_passes_sievec() {
    let sievec = tool("sievec");
    let doveconf = tool("doveconf");
    let tmp = tempfile::tempdir().unwrap();
    let conf = sieve_conf(tmp.path());
    let mut scripts = 0;
    let mut failures = Vec::new();
    for (name, model) in specs() {
        for (path, bytes) in dovecot_files(&model) {
            let file = tmp.path().join(&name).join(&path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, &bytes).unwrap();
            if path.ends_with(".sieve") {
                scripts += 1;
                let bin = file.with_extension("svbin");
                let out = run(
                    &sievec,
                    &[
                        "-c",
                        conf.to_str().unwrap(),
                        file.to_str().unwrap(),
                        bin.to_str().unwrap(),
                    ],
                );
                if !out.status.success() || !out.stderr.is_empty() {
                    failures.push(format!("{name}: sievec {path}: {}", show(&out)));
                }
            }
            if path.ends_with("/dovecot.conf") && path.contains("mx1") && name == "rules" {
                let out = run(&doveconf, &["-c", file.to_str().unwrap(), "-n"]);
                if !out.status.success() || !out.stderr.is_empty() {
                    failures.push(format!("{name}: doveconf -n {path}: {}", show(&out)));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(scripts >= 2, "only {scripts} scripts were written");
}

/// One row of `tests/rules/rows.tsv`.
struct Row {
    line: usize,
    mailbox: String,
    sender: String,
    message: Vec<u8>,
    expect: BTreeSet<String>,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(root().join("tests/rules/rows.tsv")).unwrap();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 5, "rows.tsv:{}: five columns", i + 1);
        let pad: usize = cols[3].parse().unwrap();
        let mut message = cols[2].replace("\\n", "\r\n");
        message.push_str("\r\n\r\nHello.\r\n");
        for _ in 0..pad / 50 {
            message.push_str(&"x".repeat(48));
            message.push_str("\r\n");
        }
        out.push(Row {
            line: i + 1,
            mailbox: format!("{}@example.com", cols[0]),
            sender: if cols[1] == "<>" {
                String::new()
            } else {
                cols[1].to_string()
            },
            message: message.into_bytes(),
            expect: cols[4].split_whitespace().map(str::to_string).collect(),
        });
    }
    out
}

/// What `sieve-test -e` did, as the row's action words.
fn sieve_actions(said: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in said.lines() {
        let after = |marker: &str| line.split_once(marker).map(|(_, r)| r.to_string());
        if let Some(r) = after("stored mail into mailbox '") {
            out.insert(format!("store:{}", r.split('\'').next().unwrap()));
        } else if let Some(r) = after("redirect action: forwarded to <") {
            out.insert(format!("forward:{}", r.split('>').next().unwrap()));
        } else if line.contains("reject action: rejected message") {
            out.insert("reject".into());
        } else if let Some(r) = after("vacation action: sent vacation response to <") {
            out.insert(format!("reply:{}", r.split('>').next().unwrap()));
        }
    }
    if out.is_empty() {
        out.insert("discard".into());
    }
    out
}

/// The engine's verdict on a row, as action words.
fn engine_actions(model: &Model, row: &Row, today: &str) -> BTreeSet<String> {
    let (local, domain) = row.mailbox.split_once('@').unwrap();
    let m = &model.domains[domain].mailboxes[local];
    let header = Header::parse(&row.message);
    let env = Envelope {
        sender: &row.sender,
        recipient: &row.mailbox,
    };
    let o = engine::run(&m.rules, &header, row.message.len() as u64, env);
    let mut out: BTreeSet<String> = o.folders.iter().map(|f| format!("store:{f}")).collect();
    out.extend(o.forwards.iter().map(|f| format!("forward:{f}")));
    if o.reject.is_some() {
        out.insert("reject".into());
    }
    if let Some(v) = &m.vacation
        && let Answer::Reply { to, .. } = engine::answer(v, &header, env, today)
    {
        out.insert(format!("reply:{to}"));
    }
    if out.is_empty() {
        out.insert("discard".into());
    }
    out
}

#[test]
fn sieve_test_and_the_engine_agree_on_every_row() {
    let sieve_test = tool("sieve-test");
    let setpriv = tool("setpriv");
    let model = model_of(&root().join("tests/cases/rules"));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let conf = sieve_conf(dir);
    for (path, bytes) in dovecot_files(&model) {
        let file = dir.join(&path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, &bytes).unwrap();
    }
    let today = String::from_utf8(
        Command::new(tool("date"))
            .arg("+%F")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let rows = rows();
    assert!(rows.len() >= 30, "only {} rows", rows.len());
    let mut failures = Vec::new();
    for row in &rows {
        let local = row.mailbox.split('@').next().unwrap();
        let script = dir.join(format!("dovecot/mx1/sieve/example.com/{local}.sieve"));
        let run_dir = dir.join(format!("row{}", row.line));
        std::fs::create_dir_all(run_dir.join("mail")).unwrap();
        let msg = run_dir.join("msg.eml");
        std::fs::write(&msg, &row.message).unwrap();
        chown("nobody:nogroup", dir);
        let _ = Command::new(tool("chown"))
            .args(["-R", "nobody:nogroup", run_dir.to_str().unwrap()])
            .status();
        let from = if row.sender.is_empty() {
            "<>".to_string()
        } else {
            row.sender.clone()
        };
        let location = format!("maildir:{}/mail", run_dir.display());
        let out = Command::new(&setpriv)
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(&sieve_test)
            .args(["-e", "-l", &location, "-c"])
            .arg(&conf)
            .args(["-r", &row.mailbox, "-a", &row.mailbox, "-f", &from])
            .arg(&script)
            .arg(&msg)
            .env("HOME", &run_dir)
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let pigeonhole = sieve_actions(&said);
        let ours = engine_actions(&model, row, &today);
        if pigeonhole != row.expect || ours != row.expect {
            failures.push(format!(
                "rows.tsv:{}: expected {:?}\n  sieve-test: {:?}\n  engine:     {:?}\n  sieve-test said:\n{said}",
                row.line, row.expect, pigeonhole, ours
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows disagree:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}
