//! `mailc plan` and `mailc apply` as users run them. These tests assert
//! relationships that hold whichever backends exist — counts equal the
//! number of compiled files, a plan right after an apply is empty, an edit
//! changes exactly what it should — rather than fixed file lists (the
//! backends' own tests pin those).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

mod support;
use support::{Mailc, Run};

/// The one way these tests run the binary: stdin is not a terminal, color
/// as mailc chooses it on a pipe.
fn mailc(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    env.iter()
        .fold(
            Mailc::new(dir, args).color_as_users_see_it(),
            |run, (k, v)| run.env(k, v),
        )
        .run()
}

const HASH_ALICE: &str = "{SHA512-CRYPT}$6$z6MQEt/GaGznLHgp$Byj6wliyFlYZHsGkA4BNdNtrTqS5pXmwqZNxvUaM4udekNI5s8a/QT1eru.9fx11jrZ56JBhTYoI/a1fP.cNA.";
const HASH_BOB: &str = "{SHA512-CRYPT}$6$wkF0N8l8jvBomvUo$Becam2cw1zKkZhDQhi1tGkqxdnQgHX49IA/e/DxHP6obCfgzazS5yUch7Yx.VRv7Tb.wJTIDk/59mfDZ.mw/q/";
/// A throwaway Ed25519 key (PKCS #8), made for these tests only.
const KEY_B64: &str = "MC4CAQAwBQYDK2VwBCIEICEtndV2rBlh+rt46Enm0ID/3piCrlkScJzU+cup7i6Y";

fn spec(dmarc: &str, with_org: bool) -> String {
    let mut s = format!(
        "version: 1\n\
         defaults:\n\
         \x20 nameservers: [ns1.example.net, ns2.example.net]\n\
         \x20 hostmaster: hostmaster@example.com\n\
         hosts:\n\
         \x20 mx1: {{hostname: mail.example.com, ipv4: 203.0.113.10, stack: postfix-dovecot}}\n\
         domains:\n\
         \x20 example.com:\n\
         \x20   mx: [mx1]\n\
         \x20   dmarc: {{policy: {dmarc}, rua: [\"mailto:dmarc@example.com\"]}}\n\
         \x20   dkim:\n\
         \x20     - {{selector: s1, algorithm: ed25519, private_key: keys/s1.key}}\n\
         \x20   mailboxes:\n\
         \x20     alice: {{password: '{HASH_ALICE}'}}\n"
    );
    if with_org {
        s.push_str(&format!(
            "  example.org:\n\
             \x20   mx: [mx1]\n\
             \x20   dmarc: {{policy: none}}\n\
             \x20   mailboxes:\n\
             \x20     bob: {{password: '{HASH_BOB}'}}\n"
        ));
    }
    s
}

/// A folder with `mailc.yaml` and its DKIM key.
fn project(dmarc: &str, with_org: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mailc.yaml"), spec(dmarc, with_org)).unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    let key = dir.path().join("keys/s1.key");
    std::fs::write(
        &key,
        format!("-----BEGIN PRIVATE KEY-----\n{KEY_B64}\n-----END PRIVATE KEY-----\n"),
    )
    .unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    dir
}

/// Every file under `dir` but mailc's bookkeeping: path → (bytes, mode).
fn files(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (Vec<u8>, u32)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_str().unwrap().to_string();
                let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
                out.insert(rel, (std::fs::read(&p).unwrap(), mode));
            }
        }
    }
    let mut m = BTreeMap::new();
    walk(dir, dir, &mut m);
    m.retain(|k, _| !k.starts_with(".mailc"));
    m
}

fn managed(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out.join(".mailc-managed"))
        .unwrap_or_default()
        .lines()
        .skip(1)
        .map(String::from)
        .collect()
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", run.stdout, run.stderr))
}

fn last_line(s: &str) -> &str {
    s.trim_end().lines().last().unwrap_or("")
}

fn changes_of(plan: &serde_json::Value) -> Vec<(String, String)> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["path"].as_str().unwrap().to_string(),
                c["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn plan_apply_plan_edit_remove() {
    let dir = project("none", true);
    let d = dir.path();
    let out = d.join("out");

    // Empty → N adds; nothing written.
    let run = mailc(d, &["plan", "--detailed-exitcode", "--format", "json"], &[]);
    let plan = json(&run);
    let n = plan["summary"]["add"].as_u64().unwrap() as usize;
    assert_eq!(run.code, if n > 0 { 2 } else { 0 }, "{}", run.stderr);
    assert!(changes_of(&plan).iter().all(|(_, a)| a == "add"));
    let run = mailc(d, &["plan"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expect = if n > 0 {
        format!("Plan: {n} to add, 0 to change, 0 to delete.")
    } else {
        "No changes.".to_string()
    };
    assert_eq!(last_line(&run.stdout), expect);
    assert!(!out.exists(), "plan wrote something");

    // Apply writes exactly the planned files, all recorded as mailc's.
    let run = mailc(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let written = files(&out);
    assert_eq!(written.len(), n);
    let planned: Vec<String> = changes_of(&plan).into_iter().map(|(p, _)| p).collect();
    assert_eq!(written.keys().cloned().collect::<Vec<_>>(), planned);
    if n > 0 {
        assert_eq!(managed(&out), planned);
        assert_eq!(
            last_line(&run.stdout),
            format!("Apply complete: {n} added, 0 changed, 0 deleted.")
        );
    }

    // A plan right after an apply is empty; so is a second apply.
    let run = mailc(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(
        (run.code, last_line(&run.stdout)),
        (0, "No changes."),
        "{}",
        run.stderr
    );
    let run = mailc(d, &["apply", "--auto-approve"], &[]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "No changes.\n"));
    assert_eq!(files(&out), written, "a no-change apply rewrote something");

    // A person's files in --out.
    std::fs::write(out.join("README.txt"), "ours\n").unwrap();
    std::fs::create_dir_all(out.join("dns")).unwrap();
    std::fs::write(out.join("dns/handmade.zone"), "; mine\n").unwrap();

    // DMARC none → reject: only changes, and in every diff exactly the
    // p=none lines become p=reject lines (zone serials aside).
    std::fs::write(d.join("mailc.yaml"), spec("reject", true)).unwrap();
    let run = mailc(d, &["plan", "--format", "json"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan = json(&run);
    for c in plan["changes"].as_array().unwrap() {
        let path = c["path"].as_str().unwrap();
        assert_eq!(c["action"], "change", "{path}");
        assert!(!path.contains("example.org"), "{path} changed");
        let Some(diff) = c["diff"].as_str() else {
            continue;
        };
        let serial = |l: &&str| {
            let body = l[1..].trim();
            body.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .parse::<u32>()
                .is_ok()
                && body.contains("serial")
        };
        let removed: Vec<String> = diff
            .lines()
            .filter(|l| l.starts_with('-') && !l.starts_with("---"))
            .filter(|l| !serial(l))
            .map(|l| l[1..].replace("p=none", "p=reject"))
            .collect();
        let added: Vec<String> = diff
            .lines()
            .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
            .filter(|l| !serial(l))
            .map(|l| l[1..].to_string())
            .collect();
        assert_eq!(removed, added, "{path}:\n{diff}");
        assert!(!added.is_empty(), "{path}: nothing but the serial changed");
        if path == "dns/example.com.zone" {
            assert_eq!(
                c["records"],
                serde_json::json!({
                    "removed": ["_dmarc.example.com. TXT \"v=DMARC1; p=none; rua=mailto:dmarc@example.com\""],
                    "added": ["_dmarc.example.com. TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@example.com\""],
                })
            );
        }
    }
    if written.contains_key("dns/example.com.zone") {
        assert!(changes_of(&plan).contains(&("dns/example.com.zone".into(), "change".into())));
        let text = mailc(d, &["plan"], &[]).stdout;
        assert!(text.contains(
            "\n    - _dmarc.example.com. TXT \"v=DMARC1; p=none; rua=mailto:dmarc@example.com\"\n    + _dmarc.example.com. TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@example.com\"\n"
        ), "{text}");
    }
    let run = mailc(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(last_line(&mailc(d, &["plan"], &[]).stdout), "No changes.");

    // Dropping a domain deletes only files mailc wrote; the person's stay.
    let before = managed(&out);
    std::fs::write(d.join("mailc.yaml"), spec("reject", false)).unwrap();
    let plan = json(&mailc(d, &["plan", "--format", "json"], &[]));
    for (path, action) in changes_of(&plan) {
        if action == "delete" {
            assert!(
                before.contains(&path),
                "deletes {path}, which mailc did not write"
            );
        }
    }
    let run = mailc(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after = files(&out);
    assert_eq!(after["README.txt"].0, b"ours\n");
    assert_eq!(after["dns/handmade.zone"].0, b"; mine\n");
    let run = mailc(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!((run.code, last_line(&run.stdout)), (0, "No changes."));
    // Everything else in --out is exactly what mailc manages.
    let mut left: Vec<String> = after.into_keys().collect();
    left.retain(|p| p != "README.txt" && p != "dns/handmade.zone");
    assert_eq!(left, managed(&out));
}

#[test]
fn saved_plans() {
    let dir = project("none", true);
    let d = dir.path();
    let out = d.join("out");
    assert_eq!(mailc(d, &["apply", "--auto-approve"], &[]).code, 0);
    let files_before = managed(&out);
    std::fs::write(d.join("mailc.yaml"), spec("reject", true)).unwrap();

    let run = mailc(d, &["plan", "--save", "p.json"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mode = std::fs::metadata(d.join("p.json"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);

    // Touching a file (its mtime only) or editing one makes it stale.
    if let Some(first) = files_before.first() {
        let f = std::fs::File::options()
            .write(true)
            .open(out.join(first))
            .unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
        drop(f);
        let run = mailc(d, &["apply", "p.json"], &[]);
        assert_eq!(run.code, 1);
        assert!(run.stderr.contains(first.as_str()), "{}", run.stderr);
        assert!(run.stderr.contains("stale"), "{}", run.stderr);

        let run = mailc(d, &["plan", "--save", "p.json"], &[]);
        assert_eq!(run.code, 0);
        let last = files_before.last().unwrap();
        let mut bytes = std::fs::read(out.join(last)).unwrap();
        bytes.extend_from_slice(b"# edited by hand\n");
        std::fs::write(out.join(last), bytes).unwrap();
        let run = mailc(d, &["apply", "p.json", "--auto-approve"], &[]);
        assert_eq!(run.code, 1);
        assert!(
            run.stderr.contains(&format!("{last} (content changed)")),
            "{}",
            run.stderr
        );
    }

    // A fresh plan applies (a saved plan was reviewed: no question), and the
    // plan after it is empty.
    let run = mailc(d, &["plan", "--save", "p.json"], &[]);
    assert_eq!(run.code, 0);
    let run = mailc(d, &["apply", "p.json"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = mailc(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(
        (run.code, last_line(&run.stdout)),
        (0, "No changes."),
        "{}",
        run.stdout
    );

    // Applying it twice: the folder changed since, so it is refused.
    let run = mailc(d, &["apply", "p.json"], &[]);
    let unchanged = mailc(d, &["plan"], &[]).stdout;
    if last_line(&unchanged) == "No changes." && !files_before.is_empty() {
        assert_eq!(run.code, 1, "{}", run.stdout);
    }

    // A plan file that is not one is reported, not read as a spec.
    std::fs::write(d.join("bad.json"), "{\"mailc_plan\": 99}").unwrap();
    let run = mailc(d, &["apply", "bad.json"], &[]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("format 99"), "{}", run.stderr);
}

#[test]
fn secrets_stay_out_of_plans_and_plan_files() {
    let dir = project("none", true);
    let d = dir.path();
    let mut seen = String::new();
    for args in [
        &["plan"][..],
        &["plan", "--format", "json"],
        &["plan", "--save", "p.json", "--color", "always"],
        &["apply", "--auto-approve"],
    ] {
        let run = mailc(d, args, &[]);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        seen.push_str(&run.stdout);
        seen.push_str(&run.stderr);
    }
    // Change the secrets, plan again.
    std::fs::write(
        d.join("mailc.yaml"),
        spec("none", true).replace(HASH_BOB, HASH_ALICE),
    )
    .unwrap();
    for args in [
        &["plan"][..],
        &["plan", "--format", "json", "--save", "q.json"],
    ] {
        let run = mailc(d, args, &[]);
        seen.push_str(&run.stdout);
        seen.push_str(&run.stderr);
    }
    seen.push_str(&std::fs::read_to_string(d.join("p.json")).unwrap());
    seen.push_str(&std::fs::read_to_string(d.join("q.json")).unwrap());
    // The hashes, their distinctive parts, and the key.
    for secret in [
        HASH_ALICE,
        HASH_BOB,
        "z6MQEt/GaGznLHgp",
        "Byj6wliyFlYZHsGkA4BNdNtrTqS5pXmwqZNxvUaM4ud",
        "Becam2cw1zKkZhDQhi1tGkqxdnQgHX49IA",
        KEY_B64,
        "rt46Enm0ID",
    ] {
        assert!(!seen.contains(secret), "`{secret}` was shown");
    }
    // Files holding them are 0600 and hidden in plans.
    let out = files(&d.join("out"));
    let plan = mailc(d, &["plan", "--format", "json"], &[]);
    for (path, (bytes, mode)) in &out {
        let text = String::from_utf8_lossy(bytes);
        if text.contains("z6MQEt/GaGznLHgp") || text.contains("rt46Enm0ID") {
            assert_eq!(*mode, 0o600, "{path}");
        }
    }
    for c in json(&plan)["changes"].as_array().unwrap() {
        if c["mode"] == "0600" {
            assert_eq!(c["sensitive"], true);
            assert!(c["diff"].is_null());
        }
    }
}

#[test]
fn errors_write_nothing() {
    let dir = project("none", true);
    let d = dir.path();
    let out = d.join("out");

    // An invalid spec: diagnostics as `validate` prints them, exit 1.
    std::fs::write(
        d.join("mailc.yaml"),
        spec("none", true).replace(
            "mx: [mx1]\n    dmarc: {policy: none}",
            "mx: [mx9]\n    dmarc: {policy: none}",
        ),
    )
    .unwrap();
    for args in [&["plan"][..], &["apply", "--auto-approve"]] {
        let run = mailc(d, args, &[]);
        assert_eq!(run.code, 1, "{args:?}");
        assert!(run.stderr.contains("mx9"), "{}", run.stderr);
        assert!(run.stderr.contains("is invalid"), "{}", run.stderr);
        assert!(!out.exists());
    }

    // A missing DKIM key is a warning for `validate`, an error here.
    std::fs::write(d.join("mailc.yaml"), spec("none", true)).unwrap();
    std::fs::remove_file(d.join("keys/s1.key")).unwrap();
    assert_eq!(mailc(d, &["validate"], &[]).code, 0);
    for args in [&["plan"][..], &["apply", "--auto-approve"]] {
        let run = mailc(d, args, &[]);
        assert_eq!(run.code, 1, "{args:?}");
        assert!(run.stderr.contains("keys/s1.key"), "{}", run.stderr);
        assert!(!out.exists());
    }
}

#[test]
fn apply_asks_and_never_hangs() {
    let dir = project("none", true);
    let d = dir.path();
    let n = json(&mailc(d, &["plan", "--format", "json"], &[]))["summary"]["add"]
        .as_u64()
        .unwrap();
    let run = mailc(d, &["apply"], &[]);
    if n > 0 {
        assert_eq!(run.code, 1);
        assert!(
            run.stderr.contains("stdin is not a terminal"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("--auto-approve"));
        assert!(!d.join("out").exists());
    } else {
        assert_eq!((run.code, run.stdout.as_str()), (0, "No changes.\n"));
    }
}

/// `mailc apply` on a terminal (util-linux `script` gives it one), with
/// `answer` typed in; `None` when `script` is not installed.
fn apply_on_a_terminal(dir: &Path, answer: &str) -> Option<Run> {
    let exe = env!("CARGO_BIN_EXE_mailc");
    let mut child = Command::new("script")
        .args(["-qec", &format!("'{exe}' apply --color never"), "/dev/null"])
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(answer.as_bytes())
        .expect("type the answer");
    let out = child.wait_with_output().expect("wait for script");
    Some(Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

#[test]
fn only_yes_proceeds_on_a_terminal() {
    let dir = project("none", true);
    let d = dir.path();
    let n = json(&mailc(d, &["plan", "--format", "json"], &[]))["summary"]["add"]
        .as_u64()
        .unwrap();
    if n == 0 {
        return;
    }
    for no in ["no\n", "y\n", "YES\n", "yes please\n", ""] {
        let Some(run) = apply_on_a_terminal(d, no) else {
            eprintln!("skipped: util-linux `script` is not installed");
            return;
        };
        assert_eq!(run.code, 1, "{no:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("Only `yes` will be accepted."),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains("Apply cancelled; nothing was written."));
        assert!(!d.join("out").exists(), "{no:?} wrote something");
    }
    let run = apply_on_a_terminal(d, "yes\n").expect("script ran before");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("Apply complete: {n} added, 0 changed, 0 deleted."))
    );
    assert_eq!(last_line(&mailc(d, &["plan"], &[]).stdout), "No changes.");
}

#[test]
fn a_held_lock_refuses_a_second_apply() {
    let dir = project("none", true);
    let d = dir.path();
    let out = d.join("out");
    std::fs::create_dir(&out).unwrap();
    let lock = std::fs::File::create(out.join(".mailc.lock")).unwrap();
    lock.try_lock().unwrap();
    let run = mailc(d, &["apply", "--auto-approve"], &[]);
    if last_line(&run.stdout) != "No changes." {
        assert_eq!(run.code, 1);
        assert!(
            run.stderr.contains("another `mailc apply`"),
            "{}",
            run.stderr
        );
        assert!(files(&out).is_empty());
    }
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let dir = project("none", true);
    let d = dir.path();
    let esc = "\x1b[";
    assert!(
        mailc(d, &["plan", "--color", "always"], &[])
            .stdout
            .contains(esc)
    );
    assert!(
        !mailc(d, &["plan"], &[]).stdout.contains(esc),
        "auto, not a terminal"
    );
    assert!(
        !mailc(d, &["plan", "--color", "never"], &[])
            .stdout
            .contains(esc)
    );
    assert!(
        !mailc(d, &["plan", "--color", "auto"], &[("NO_COLOR", "1")])
            .stdout
            .contains(esc)
    );
}

/// Copies a folder tree, modes included.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

#[test]
fn an_apply_killed_after_any_step_is_old_or_new_and_converges() {
    // The starting point: v1 applied, plus a person's file; then the spec
    // changes (a DMARC edit, a domain dropped).
    let base = project("none", true);
    let b = base.path();
    assert_eq!(mailc(b, &["apply", "--auto-approve"], &[]).code, 0);
    std::fs::write(b.join("out/notes.txt"), "mine\n").unwrap();
    std::fs::write(b.join("mailc.yaml"), spec("reject", false)).unwrap();
    let before = files(&b.join("out"));

    // Where a whole apply leads.
    let reference = tempfile::tempdir().unwrap();
    copy_tree(b, reference.path());
    let run = mailc(reference.path(), &["apply", "--auto-approve"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after = files(&reference.path().join("out"));

    let mut killed = 0;
    for step in 1..100 {
        let work = tempfile::tempdir().unwrap();
        let w = work.path();
        copy_tree(b, w);
        let run = mailc(
            w,
            &["apply", "--auto-approve"],
            &[("MAILC_FAULT_AFTER_STEPS", &step.to_string())],
        );
        let now = files(&w.join("out"));
        for path in before.keys().chain(after.keys()) {
            let got = now.get(path).map(|(b, _)| b);
            assert!(
                got == before.get(path).map(|(b, _)| b) || got == after.get(path).map(|(b, _)| b),
                "killed after step {step}: `{path}` is neither old nor new"
            );
        }
        // The next apply finishes the job, and then nothing is left.
        let rerun = mailc(w, &["apply", "--auto-approve"], &[]);
        assert_eq!(rerun.code, 0, "{}", rerun.stderr);
        let done = files(&w.join("out"));
        assert_eq!(
            done.keys().collect::<Vec<_>>(),
            after.keys().collect::<Vec<_>>(),
            "after step {step}"
        );
        for (p, (bytes, mode)) in &after {
            assert_eq!(
                (&done[p].0, done[p].1),
                (bytes, *mode),
                "after step {step}: {p}"
            );
        }
        let plan = mailc(w, &["plan", "--detailed-exitcode"], &[]);
        assert_eq!((plan.code, last_line(&plan.stdout)), (0, "No changes."));
        if run.code == 0 {
            break;
        }
        assert_eq!(run.code, 137, "{}", run.stderr);
        killed += 1;
    }
    if before != after {
        assert!(killed >= 3, "only {killed} kill points");
    }
}

/// A new zone is shown once (its diff, not also a list of its records);
/// `--compact` gives one line per file with line and record counts; past
/// 1,000 changed lines that is the default, with `--full` one flag away;
/// the JSON keeps every diff.
#[test]
fn plans_at_scale_are_compact() {
    let dir = project("none", true);
    let d = dir.path();
    // A first plan: every file new, each zone shown once.
    let run = mailc(d, &["plan", "--full"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let zone = run
        .stdout
        .split("\n\n")
        .find(|b| b.starts_with("add    dns/example.com.zone"))
        .expect("the zone's block");
    assert!(
        !zone.contains("\n    + "),
        "records listed besides the diff:\n{zone}"
    );
    assert_eq!(zone.matches("MX").count(), 1, "{zone}");

    let plan = json(&mailc(d, &["plan", "--format", "json"], &[]));
    let n = changes_of(&plan).len();
    for c in plan["changes"].as_array().unwrap() {
        let shown = !c["diff"].is_null();
        assert_eq!(c["added_lines"].is_u64(), shown, "{c}");
        if shown {
            let added = c["diff"]
                .as_str()
                .unwrap()
                .lines()
                .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
                .count();
            assert_eq!(c["added_lines"].as_u64(), Some(added as u64), "{c}");
        }
    }
    let run = mailc(d, &["plan", "--compact"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), n + 2, "{}", run.stdout);
    assert_eq!(lines[n], "");
    assert_eq!(
        lines[n + 1],
        format!("Plan: {n} to add, 0 to change, 0 to delete.")
    );
    let zone_line = lines
        .iter()
        .find(|l| l.contains("dns/example.com.zone"))
        .unwrap();
    assert!(
        zone_line.starts_with("add    dns/example.com.zone"),
        "{zone_line}"
    );
    assert!(zone_line.ends_with(" records"), "{zone_line}");
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("(sensitive content hidden)")),
        "{}",
        run.stdout
    );

    // A change: the zone's line counts its lines and records.
    assert_eq!(mailc(d, &["apply", "--auto-approve"], &[]).code, 0);
    std::fs::write(d.join("mailc.yaml"), spec("reject", true)).unwrap();
    let run = mailc(d, &["plan", "--compact"], &[]);
    let zone_line = run
        .stdout
        .lines()
        .find(|l| l.contains("dns/example.com.zone"))
        .unwrap();
    assert!(
        zone_line.starts_with("change dns/example.com.zone")
            && zone_line.ends_with("+2 -2 lines; records +1 -1"),
        "{zone_line}"
    );
    // `--compact` asked for: no note that the size made it so (the cache's
    // note naming the changed spec file may stand).
    assert!(!run.stderr.contains("one line per file"), "{}", run.stderr);

    // Past 1,000 changed lines the default is compact, and says so.
    let mut big = spec("reject", true);
    big.push_str("  many.example:\n    mx: [mx1]\n    dmarc: {policy: none}\n    mailboxes:\n");
    for i in 0..600 {
        big.push_str(&format!("      user{i}: {{password: '{HASH_BOB}'}}\n"));
    }
    std::fs::write(d.join("mailc.yaml"), big).unwrap();
    let run = mailc(d, &["plan"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("note: ") && run.stderr.contains("`--full` shows every diff"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stdout.contains("\n@@ "),
        "not compact:\n{}",
        run.stdout
    );
    let full = mailc(d, &["plan", "--full"], &[]);
    assert!(
        full.stdout.contains("\n@@ ") && !full.stderr.contains("one line per file"),
        "{}",
        full.stderr
    );
    assert_eq!(last_line(&full.stdout), last_line(&run.stdout));
    let run = mailc(d, &["plan", "--compact", "--full"], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
}
