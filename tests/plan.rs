//! The plan/apply library against hand-built outputs, so these tests do not
//! depend on which backends exist:
//!
//! - state transitions: empty → adds → applied → no changes → edits →
//!   exactly those changes; deletes only of files mailc wrote;
//! - saved plans: stale ones refused naming the files, fresh ones converge;
//! - secrets never in rendered plans or plan files, written 0600;
//! - the lock refuses a second apply; drift under the lock is refused;
//! - crash safety: an apply stopped after every single step (fault
//!   injection), and one killed with SIGKILL at many moments while writing a
//!   large output, leaves every file old or new, and the next plan converges.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mailc::output::{Output, OutputFile};
use mailc::plan::apply::{self, ApplyError, Step};
use mailc::plan::current::DriftKind;
use mailc::plan::planfile::{PlanFile, PlanFileError};
use mailc::plan::{Action, Current, Fingerprint, Plan, render};

fn output(files: &[(&str, &str, bool)]) -> Output {
    let mut o = Output::default();
    for (path, text, secret) in files {
        let f = if *secret {
            OutputFile::secret(*text)
        } else {
            OutputFile::public(*text)
        };
        o.insert(*path, f);
    }
    o
}

/// A plan as `mailc plan --save` records it (unsealed).
fn saved_plan(plan: &Plan) -> PlanFile {
    PlanFile::new(plan, "mailc.yaml", Fingerprint::of(b"spec"), "out")
}

fn plan_for(output: &Output, dir: &Path) -> Plan {
    let current = Current::scan(dir, output.files.keys().map(String::as_str)).expect("scan");
    Plan::new(output, current).expect("plan")
}

fn go(_: Step<'_>) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

fn apply_all(plan: &Plan, dir: &Path) {
    apply::apply(plan, dir, &mut go).expect("apply");
}

/// Every file under `dir`: relative path → (bytes, mode).
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (Vec<u8>, u32)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_str().unwrap().to_string();
                let mode = e.metadata().unwrap().permissions().mode() & 0o777;
                out.insert(rel, (std::fs::read(&p).unwrap(), mode));
            }
        }
    }
    let mut m = BTreeMap::new();
    walk(dir, dir, &mut m);
    m
}

fn text_of(plan: &Plan) -> String {
    let mut v = Vec::new();
    render::text(plan, &mut v, false).unwrap();
    String::from_utf8(v).unwrap()
}

const ZONE_V1: &str = "$ORIGIN example.com.\n$TTL 3600\n@ IN SOA ns1.example.net. hostmaster.example.com. ( 1 3600 900 1209600 300 )\n@ IN NS ns1.example.net.\n@ IN MX 10 mx1.example.net.\n";
const ZONE_V2: &str = "$ORIGIN example.com.\n$TTL 3600\n@ IN SOA ns1.example.net. hostmaster.example.com. ( 2 3600 900 1209600 300 )\n@ IN NS ns1.example.net.\n@ IN MX 10 mx1.example.net.\n@ IN MX 20 mx2.example.net.\n";
const HASH: &str =
    "{SHA512-CRYPT}$6$z6MQEt/GaGznLHgp$Byj6wliyFlYZHsGkA4BNdNtrTqS5pXmwqZNxvUaM4udekNI5s8a/QT1eru";
const KEY: &str = "MC4CAQAwBQYDK2VwBCIEICEtndV2rBlh+rt46Enm0ID/3piCrlkScJzU+cup7i6Y";

fn v1() -> Output {
    output(&[
        ("dns/example.com.zone", ZONE_V1, false),
        ("postfix/mx1/main.cf", "myhostname = mx1\n", false),
        ("postfix/mx1/old.cf", "obsolete = yes\n", false),
        (
            "dovecot/mx1/users",
            &format!("alice@example.com:{HASH}\n"),
            true,
        ),
    ])
}

fn v2() -> Output {
    output(&[
        ("dns/example.com.zone", ZONE_V2, false),
        ("postfix/mx1/main.cf", "myhostname = mx1\n", false),
        (
            "dovecot/mx1/users",
            &format!("alice@example.com:{HASH}\nbob@example.com:{HASH}x\n"),
            true,
        ),
        (
            "dkim/mx1/keys/example.com.s1.pem",
            &format!("-----BEGIN PRIVATE KEY-----\n{KEY}\n-----END PRIVATE KEY-----\n"),
            true,
        ),
        (
            "postfix/mx1/transport",
            "example.com lmtp:unix:private/dovecot-lmtp\n",
            false,
        ),
        (
            "mta-sts/example.com/.well-known/mta-sts.txt",
            "version: STSv1\n",
            false,
        ),
    ])
}

#[test]
fn state_transitions() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");

    // Empty → every file is an add.
    let plan = plan_for(&v1(), &out);
    assert_eq!(
        plan.summary().to_string(),
        "Plan: 4 to add, 0 to change, 0 to delete."
    );
    assert!(text_of(&plan).ends_with("Plan: 4 to add, 0 to change, 0 to delete.\n"));
    assert!(!out.exists(), "planning writes nothing");
    apply_all(&plan, &out);

    // Modes, managed list, and a plan after the apply that is empty.
    let snap = snapshot(&out);
    assert_eq!(snap["dovecot/mx1/users"].1, 0o600);
    assert_eq!(snap["dns/example.com.zone"].1, 0o644);
    assert!(snap.contains_key(".mailc-managed"));
    let again = plan_for(&v1(), &out);
    assert!(again.is_empty() && !again.managed_list_stale());
    assert_eq!(text_of(&again), "No changes.\n");

    // A person's files: never deleted, even where mailc writes.
    std::fs::write(out.join("notes.txt"), "mine\n").unwrap();
    std::fs::write(out.join("postfix/mx1/local.cf"), "mine too\n").unwrap();

    // Edit → exactly the expected changes.
    let plan = plan_for(&v2(), &out);
    let got: Vec<(&str, Action)> = plan
        .changes
        .iter()
        .map(|c| (c.path.as_str(), c.action))
        .collect();
    assert_eq!(
        got,
        [
            ("dkim/mx1/keys/example.com.s1.pem", Action::Add),
            ("dns/example.com.zone", Action::Change),
            ("dovecot/mx1/users", Action::Change),
            ("mta-sts/example.com/.well-known/mta-sts.txt", Action::Add),
            ("postfix/mx1/old.cf", Action::Delete),
            ("postfix/mx1/transport", Action::Add),
        ]
    );
    let text = text_of(&plan);
    let zone_block: String = text
        .split("\n\n")
        .find(|b| b.starts_with("change dns/example.com.zone"))
        .unwrap()
        .to_string();
    assert_eq!(
        zone_block,
        "change dns/example.com.zone\n\
         \x20   + example.com. MX 20 mx2.example.net.\n\
         --- a/dns/example.com.zone\n\
         +++ b/dns/example.com.zone\n\
         @@ -1,5 +1,6 @@\n\
         \x20$ORIGIN example.com.\n\
         \x20$TTL 3600\n\
         -@ IN SOA ns1.example.net. hostmaster.example.com. ( 1 3600 900 1209600 300 )\n\
         +@ IN SOA ns1.example.net. hostmaster.example.com. ( 2 3600 900 1209600 300 )\n\
         \x20@ IN NS ns1.example.net.\n\
         \x20@ IN MX 10 mx1.example.net.\n\
         +@ IN MX 20 mx2.example.net."
    );
    assert!(text.contains("delete postfix/mx1/old.cf\n--- a/postfix/mx1/old.cf\n+++ /dev/null\n"));
    assert!(text.ends_with("Plan: 3 to add, 2 to change, 1 to delete.\n"));
    apply_all(&plan, &out);

    let snap = snapshot(&out);
    assert_eq!(snap["notes.txt"].0, b"mine\n");
    assert_eq!(snap["postfix/mx1/local.cf"].0, b"mine too\n");
    assert!(!snap.contains_key("postfix/mx1/old.cf"));
    assert_eq!(snap["dkim/mx1/keys/example.com.s1.pem"].1, 0o600);
    assert!(plan_for(&v2(), &out).is_empty());

    // Dropping everything deletes only mailc's files, and the folders that
    // leaves empty.
    let plan = plan_for(&Output::default(), &out);
    assert_eq!(plan.summary().delete, 6);
    apply_all(&plan, &out);
    let left: Vec<String> = snapshot(&out).into_keys().collect();
    assert_eq!(
        left,
        [
            ".mailc-managed",
            ".mailc.lock",
            "notes.txt",
            "postfix/mx1/local.cf"
        ]
    );
    assert!(!out.join("dkim").exists() && !out.join("dns").exists());
}

#[test]
fn a_mode_change_alone_is_a_change_without_diff() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    apply_all(&plan_for(&v1(), out), out);
    std::fs::set_permissions(
        out.join("postfix/mx1/main.cf"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let plan = plan_for(&v1(), out);
    assert_eq!(plan.summary().change, 1);
    let text = text_of(&plan);
    // The file was 0600: it may have held a secret, so it is not shown.
    assert!(
        text.starts_with("change postfix/mx1/main.cf (mode 0600 → 0644)\n"),
        "{text}"
    );
    apply_all(&plan, out);
    assert_eq!(snapshot(out)["postfix/mx1/main.cf"].1, 0o644);
}

#[test]
fn secrets_never_leave_the_output() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    apply_all(&plan_for(&v1(), &out), &out);
    let plan = plan_for(&v2(), &out);
    let text = text_of(&plan);
    let json = render::json(&plan);
    let saved = String::from_utf8(saved_plan(&plan).to_bytes()).unwrap();
    for (what, s) in [("text", &text), ("json", &json), ("plan file", &saved)] {
        for secret in [HASH, KEY, "bob@example.com"] {
            assert!(!s.contains(secret), "{what} shows `{secret}`:\n{s}");
        }
    }
    assert!(text.contains("change dovecot/mx1/users\n  (sensitive content hidden)\n"));
    assert!(
        text.contains("add    dkim/mx1/keys/example.com.s1.pem\n  (sensitive content hidden)\n")
    );
    assert!(json.contains("\"sensitive\": true"));
}

#[test]
fn saved_plans_are_0600_and_refused_when_stale() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    apply_all(&plan_for(&v1(), &out), &out);
    let planfile = tmp.path().join("plan.json");
    let saved = plan_for(&v2(), &out);
    saved_plan(&saved).save(&planfile).unwrap();
    let mode = std::fs::metadata(&planfile).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let load = || PlanFile::load(&planfile).unwrap();
    let scan = |f: &PlanFile| Current::scan(&out, f.expected_paths()).unwrap();

    // Fresh: no drift, applies, and the plan after it is empty.
    let f = load();
    assert!(f.drift(&scan(&f)).is_empty());

    // An unchanged file edited, a managed one touched, a new one created
    // where the plan adds: all named.
    let main_cf = out.join("postfix/mx1/main.cf");
    std::fs::write(&main_cf, "myhostname = edited\n").unwrap();
    let zone = std::fs::File::options()
        .write(true)
        .open(out.join("dns/example.com.zone"))
        .unwrap();
    zone.set_modified(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1))
        .unwrap();
    std::fs::create_dir_all(out.join("mta-sts/example.com/.well-known")).unwrap();
    std::fs::write(out.join("mta-sts/example.com/.well-known/mta-sts.txt"), "x").unwrap();
    let f = load();
    let drift: Vec<(String, DriftKind)> = f
        .drift(&scan(&f))
        .into_iter()
        .map(|d| (d.path, d.kind))
        .collect();
    assert_eq!(
        drift,
        [
            ("dns/example.com.zone".to_string(), DriftKind::Touched),
            (
                "mta-sts/example.com/.well-known/mta-sts.txt".to_string(),
                DriftKind::Appeared
            ),
            ("postfix/mx1/main.cf".to_string(), DriftKind::Content),
        ]
    );
    // The spec compiled again no longer gives the saved plan; and the apply
    // of the plan as saved re-checks under the lock, whatever the caller did.
    let f = load();
    assert!(matches!(
        f.confirm(Plan::new(&v2(), scan(&f)).unwrap()),
        Err(PlanFileError::Differs(_))
    ));
    match apply::apply(&saved, &out, &mut go) {
        Err(ApplyError::Drift { drift, .. }) => assert_eq!(drift.len(), 3),
        other => panic!("{other:?}"),
    }

    // A fresh plan over the new state applies and converges.
    let plan = plan_for(&v2(), &out);
    saved_plan(&plan).save(&planfile).unwrap();
    let f = load();
    let current = scan(&f);
    assert!(f.drift(&current).is_empty());
    // Compiled from other secrets, it is refused.
    let mut other = v2();
    other.insert("dovecot/mx1/users", OutputFile::secret("alice:other\n"));
    assert!(matches!(
        f.confirm(Plan::new(&other, current.clone()).unwrap()),
        Err(PlanFileError::Differs(_))
    ));
    let plan = f.confirm(Plan::new(&v2(), current).unwrap()).unwrap();
    apply_all(&plan, &out);
    assert!(plan_for(&v2(), &out).is_empty());
    assert_eq!(
        std::fs::read_to_string(&main_cf).unwrap(),
        "myhostname = mx1\n"
    );
}

#[test]
fn a_second_apply_waits_for_no_one() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    let lock = std::fs::File::create(out.join(apply::LOCK_FILE)).unwrap();
    lock.try_lock().unwrap();
    let plan = plan_for(&v1(), out);
    assert!(matches!(
        apply::apply(&plan, out, &mut go),
        Err(ApplyError::Locked(_))
    ));
    assert_eq!(snapshot(out).len(), 1, "nothing written");
    lock.unlock().unwrap();
    apply_all(&plan, out);
}

/// What each path may hold after an interrupted apply of `new` over
/// `before`: (old, new) states, `None` meaning absent.
type States = BTreeMap<String, (Option<Vec<u8>>, Option<Vec<u8>>)>;

fn allowed(before: &BTreeMap<String, (Vec<u8>, u32)>, plan: &Plan) -> States {
    let mut m: States = before
        .iter()
        .map(|(p, (b, _))| (p.clone(), (Some(b.clone()), Some(b.clone()))))
        .collect();
    for c in &plan.changes {
        let old = before.get(&c.path).map(|(b, _)| b.clone());
        m.insert(
            c.path.clone(),
            (old, c.new.as_ref().map(|n| n.bytes.clone())),
        );
    }
    m
}

/// Every file is its old or its new self; nothing else appeared but
/// mailc's bookkeeping and leftover temporary files; every file mailc
/// wrote is in the managed list.
fn check_old_or_new(out: &Path, states: &States, people: &[&str], when: &str) {
    let snap = snapshot(out);
    for (path, (old, new)) in states {
        if path == ".mailc-managed" || path == ".mailc.lock" {
            continue;
        }
        let now = snap.get(path).map(|(b, _)| b.clone());
        assert!(
            now == *old || now == *new,
            "{when}: `{path}` is neither old nor new"
        );
    }
    for path in snap.keys() {
        let name = path.rsplit('/').next().unwrap_or(path);
        assert!(
            states.contains_key(path)
                || name.starts_with(apply::TMP_PREFIX)
                || path == ".mailc-managed"
                || path == ".mailc.lock",
            "{when}: stray file `{path}`"
        );
    }
    let managed = mailc::plan::managed::parse(&snap[".mailc-managed"].0).unwrap();
    for (path, (old, new)) in states {
        let now = snap.get(path).map(|(b, _)| b.clone());
        // (A person's file is claimed only after it was overwritten.)
        if now.is_some() && now == *new && now != *old && !people.contains(&path.as_str()) {
            assert!(
                managed.contains(path),
                "{when}: `{path}` written but not in the managed list"
            );
        }
    }
    // A person's file the apply did not overwrite yet is still theirs.
    for path in people {
        let now = snap.get(*path).map(|(b, _)| b.clone());
        if now == states[*path].0 {
            assert!(
                !managed.contains(*path),
                "{when}: a person's `{path}` was claimed"
            );
        }
    }
}

/// Plans and applies until nothing is left, then checks the final state.
fn converge(out: &Path, target: &Output, person: &BTreeMap<&str, &str>, when: &str) {
    let plan = plan_for(target, out);
    apply_all(&plan, out);
    let plan = plan_for(target, out);
    assert!(
        plan.is_empty() && !plan.managed_list_stale(),
        "{when}: did not converge"
    );
    let snap = snapshot(out);
    for (path, f) in &target.files {
        assert_eq!(snap[path].0, f.bytes, "{when}: {path}");
        assert_eq!(snap[path].1, f.mode(), "{when}: mode of {path}");
    }
    for (path, text) in person {
        assert_eq!(snap[*path].0, text.as_bytes(), "{when}: a person's file");
    }
    let strays: Vec<&String> = snap
        .keys()
        .filter(|p| p.contains(apply::TMP_PREFIX))
        .collect();
    assert!(
        strays.is_empty(),
        "{when}: temporary files left: {strays:?}"
    );
}

#[test]
fn an_apply_stopped_after_any_step_leaves_old_or_new() {
    let person = BTreeMap::from([
        ("notes.txt", "mine\n"),
        ("postfix/mx1/local.cf", "mine too\n"),
    ]);
    // A person's file at a path v2 produces: overwritten, as the plan says.
    let overwritten = ("postfix/mx1/transport", "by hand\n");
    let mut steps_seen = 0;
    for stop_at in 1.. {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        apply_all(&plan_for(&v1(), &out), &out);
        for (p, t) in person.iter().chain([(&overwritten.0, &overwritten.1)]) {
            std::fs::write(out.join(p), t).unwrap();
        }
        let before = snapshot(&out);
        let plan = plan_for(&v2(), &out);
        let states = allowed(&before, &plan);
        let mut n = 0;
        let mut stopped_at = None;
        let result = apply::apply(&plan, &out, &mut |s: Step<'_>| {
            n += 1;
            if n == stop_at {
                stopped_at = Some(format!("{s:?}"));
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        let when = format!("stopped after step {stop_at} ({stopped_at:?})");
        check_old_or_new(&out, &states, &["postfix/mx1/transport"], &when);
        converge(&out, &v2(), &person, &when);
        match result {
            Err(ApplyError::Interrupted(_)) => steps_seen = stop_at,
            Ok(_) => break,
            Err(e) => panic!("{when}: {e}"),
        }
    }
    // claimed, staged, 5 written, synced, 1 deleted, done.
    assert_eq!(steps_seen, 10);
}

/// A large output: `n` zone-sized files in a few folders, one big file.
fn large(n: usize, version: u32) -> Output {
    let mut o = Output::default();
    for i in 0..n {
        let mut zone = format!(
            "$ORIGIN d{i}.example.\n$TTL 3600\n@ IN SOA ns1. h. ( {version} 3600 900 1209600 300 )\n"
        );
        for r in 0..40 {
            zone.push_str(&format!(
                "host{r} IN A 192.0.2.{}\n",
                (r + version as usize) % 250
            ));
        }
        o.insert(format!("dns/d{i}.example.zone"), OutputFile::public(zone));
        if i % 50 == 0 {
            o.insert(
                format!("postfix/mx{}/users", i / 50 + version as usize % 2),
                OutputFile::secret(format!("u{i}:{version}\n")),
            );
        }
    }
    let big: String = (0..20_000)
        .map(|l| format!("line {l} v{}\n", version * (l % 7)))
        .collect();
    o.insert("postfix/mx0/virtual", OutputFile::public(big));
    o
}

const CHILD_ENV: &str = "MAILC_TEST_SIGKILL_CHILD_OUT";

/// Run by [`killed_at_many_moments`] in a child process: applies the new
/// version of the large output over whatever the folder holds, saying
/// `staged` when every file is staged and slowing the renames down (1 ms
/// each) so that kills land among them too.
#[test]
fn sigkill_child() {
    use std::io::Write;
    let Some(out) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let out = Path::new(&out);
    let plan = plan_for(&large(200, 2), out);
    apply::apply(&plan, out, &mut |s: Step<'_>| {
        match s {
            Step::Staged => {
                let mut o = std::io::stdout().lock();
                let _ = writeln!(o, "staged");
                let _ = o.flush();
            }
            Step::Written(_) => std::thread::sleep(Duration::from_millis(1)),
            _ => {}
        }
        ControlFlow::Continue(())
    })
    .expect("apply");
}

#[test]
fn killed_at_many_moments() {
    use std::io::BufRead;
    let exe = std::env::current_exe().unwrap();
    let spawn = |out: &Path| {
        Command::new(&exe)
            .args([
                "--exact",
                "sigkill_child",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(CHILD_ENV, out)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // Blocks until the child says every file is staged (false: it never
    // did); the pipe stays open (returned) so the child can finish writing.
    let wait_staged = |child: &mut std::process::Child| {
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while stdout.read_line(&mut line).is_ok_and(|n| n > 0) {
            if line.trim_end().ends_with("staged") {
                return (true, stdout);
            }
            line.clear();
        }
        (false, stdout)
    };
    let setup = || {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        apply_all(&plan_for(&large(200, 1), &out), &out);
        std::fs::write(out.join("dns/mine.zone"), "a person's zone\n").unwrap();
        let before = snapshot(&out);
        let plan = plan_for(&large(200, 2), &out);
        let states = allowed(&before, &plan);
        (tmp, out, states)
    };
    // How long staging and renaming take, start-up included.
    let (_tmp, out, _) = setup();
    let t = Instant::now();
    let mut child = spawn(&out);
    let (staged, _pipe) = wait_staged(&mut child);
    assert!(staged);
    let staging = t.elapsed();
    assert!(child.wait().unwrap().success());
    let renaming = t.elapsed() - staging;

    let person = BTreeMap::from([("dns/mine.zone", "a person's zone\n")]);
    const DURING_STAGING: u32 = 4;
    const DURING_RENAMES: u32 = 8;
    let mut outcomes = Vec::new();
    for i in 0..DURING_STAGING + DURING_RENAMES {
        let (_tmp, out, states) = setup();
        let mut child = spawn(&out);
        let when = if i < DURING_STAGING {
            let delay = staging * i / DURING_STAGING;
            std::thread::sleep(delay);
            format!("killed {delay:?} after the start")
        } else {
            let delay = renaming * (i - DURING_STAGING) / DURING_RENAMES;
            let _pipe = wait_staged(&mut child);
            std::thread::sleep(delay);
            format!("killed {delay:?} into the renames")
        };
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        check_old_or_new(&out, &states, &[], &when);
        let snap = snapshot(&out);
        let (mut old, mut new) = (0, 0);
        for (path, (o, n)) in &states {
            if o != n {
                if snap.get(path).map(|(b, _)| b) == o.as_ref() {
                    old += 1;
                } else {
                    new += 1;
                }
            }
        }
        let temps = snap
            .keys()
            .filter(|p| p.contains(apply::TMP_PREFIX))
            .count();
        outcomes.push(format!("{old}/{new}/{temps}"));
        converge(&out, &large(200, 2), &person, &when);
    }
    eprintln!(
        "staging {staging:?}, renames {renaming:?}; old/new/temporary files after each kill: {}",
        outcomes.join(" ")
    );
    // Some kills must have landed between the first and the last rename.
    assert!(
        outcomes
            .iter()
            .any(|o| !o.starts_with("0/") && !o.contains("/0/")),
        "no kill landed among the renames: {outcomes:?}"
    );
}
