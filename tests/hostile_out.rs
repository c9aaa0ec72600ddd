//! `mailc plan` and `apply` against an output folder someone else can write
//! into: symbolic links and hard links below `--out` are refused with their
//! path, never followed — not when reading for a diff, not when writing, not
//! when deleting — and nothing outside `--out` is read, written or removed.

use std::os::unix::fs::symlink;
use std::path::Path;

mod support;
use support::{Mailc, Run};

fn mailc(dir: &Path, args: &[&str]) -> Run {
    Mailc::new(dir, args).run()
}

const HASH: &str = "{SHA512-CRYPT}$6$z6MQEt/GaGznLHgp$Byj6wliyFlYZHsGkA4BNdNtrTqS5pXmwqZNxvUaM4udekNI5s8a/QT1eru.9fx11jrZ56JBhTYoI/a1fP.cNA.";

/// A spec with one Postfix host (`postfix/mx1/…`) and, optionally, a
/// second one (`postfix/mx2/…`).
fn spec(two_hosts: bool) -> String {
    let mut s = String::from(
        "version: 1\n\
         defaults: {nameservers: [ns1.example.net, ns2.example.net], hostmaster: hostmaster@example.com}\n\
         hosts:\n\
         \x20 mx1: {hostname: mail.example.com, ipv4: 203.0.113.10, stack: postfix-dovecot}\n",
    );
    if two_hosts {
        s.push_str(
            "  mx2: {hostname: mail2.example.com, ipv4: 203.0.113.11, stack: postfix-dovecot}\n",
        );
    }
    s.push_str(&format!(
        "domains:\n\
         \x20 example.com:\n\
         \x20   mx: [mx1]\n\
         \x20   dmarc: {{policy: none}}\n\
         \x20   mailboxes:\n\
         \x20     alice: {{password: '{HASH}'}}\n"
    ));
    s
}

/// A project folder, and a folder outside `--out` with a file only its
/// owner should see.
fn project(two_hosts: bool) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mailc.yaml"), spec(two_hosts)).unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(
        elsewhere.join("shadow"),
        "root:SECRET-SHADOW-LINE:19000::::::\n",
    )
    .unwrap();
    (dir, elsewhere)
}

/// Every file below `dir`, relative, with its bytes.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

fn assert_refused(run: &Run, path: &str) {
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(path) && run.stderr.contains("symbolic link"),
        "the refusal names `{path}`:\n{}",
        run.stderr
    );
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains("SECRET-SHADOW-LINE"), "{text}");
    }
}

/// A managed file replaced by a link to a file elsewhere: the plan (text
/// and JSON) refuses, naming the link, and never shows the file's lines.
#[test]
fn a_linked_file_is_never_shown() {
    let (dir, elsewhere) = project(false);
    let d = dir.path();
    assert_eq!(mailc(d, &["apply", "--auto-approve"]).code, 0);
    let main_cf = d.join("out/postfix/mx1/main.cf");
    assert!(main_cf.is_file());
    std::fs::remove_file(&main_cf).unwrap();
    symlink(elsewhere.join("shadow"), &main_cf).unwrap();
    for args in [
        &["plan"][..],
        &["plan", "--format", "json"],
        &["plan", "--save", "p.json"],
        &["apply", "--auto-approve"],
    ] {
        let run = mailc(d, args);
        assert_refused(&run, "postfix/mx1/main.cf");
    }
    assert!(!d.join("p.json").exists());
    assert_eq!(
        std::fs::read_to_string(elsewhere.join("shadow")).unwrap(),
        "root:SECRET-SHADOW-LINE:19000::::::\n"
    );
}

/// A folder below `--out` replaced by a link to a folder elsewhere: apply
/// refuses to write through it, and a later apply that would delete the
/// files there refuses too; the folder elsewhere is never touched.
#[test]
fn a_linked_folder_is_never_written_or_emptied() {
    let (dir, elsewhere) = project(true);
    let d = dir.path();
    // Not yet applied: `out/postfix` is a link before the first write.
    std::fs::create_dir(d.join("out")).unwrap();
    symlink(&elsewhere, d.join("out/postfix")).unwrap();
    let before = tree(&elsewhere);
    let run = mailc(d, &["apply", "--auto-approve"]);
    assert_refused(&run, "out/postfix");
    assert_eq!(tree(&elsewhere), before);

    // Applied for real, then the folder of mx2's files swapped for a link
    // to a copy elsewhere; dropping mx2 from the spec would delete them.
    std::fs::remove_file(d.join("out/postfix")).unwrap();
    assert_eq!(mailc(d, &["apply", "--auto-approve"]).code, 0);
    let mx2 = d.join("out/postfix/mx2");
    let copy = elsewhere.join("mx2");
    std::fs::create_dir(&copy).unwrap();
    for e in std::fs::read_dir(&mx2).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, copy.join(p.file_name().unwrap())).unwrap();
    }
    std::fs::remove_dir_all(&mx2).unwrap();
    symlink(&copy, &mx2).unwrap();
    std::fs::write(d.join("mailc.yaml"), spec(false)).unwrap();
    let before = tree(&elsewhere);
    for args in [&["plan"][..], &["apply", "--auto-approve"]] {
        let run = mailc(d, args);
        assert_refused(&run, "postfix/mx2");
    }
    assert_eq!(tree(&elsewhere), before, "nothing outside --out removed");
}

/// The lock file as a link: refused, and nothing created where it points.
#[test]
fn a_linked_lock_file_is_refused() {
    let (dir, elsewhere) = project(false);
    let d = dir.path();
    std::fs::create_dir(d.join("out")).unwrap();
    symlink(
        elsewhere.join("created-by-mailc"),
        d.join("out/.mailc.lock"),
    )
    .unwrap();
    let run = mailc(d, &["apply", "--auto-approve"]);
    assert_refused(&run, ".mailc.lock");
    assert!(!elsewhere.join("created-by-mailc").exists());
}

/// A file with another hard link (e.g. to a file of another user) is not
/// read, so its bytes never reach a diff.
#[test]
fn a_hard_linked_file_is_never_shown() {
    let (dir, elsewhere) = project(false);
    let d = dir.path();
    assert_eq!(mailc(d, &["apply", "--auto-approve"]).code, 0);
    let main_cf = d.join("out/postfix/mx1/main.cf");
    std::fs::remove_file(&main_cf).unwrap();
    std::fs::hard_link(elsewhere.join("shadow"), &main_cf).unwrap();
    let run = mailc(d, &["plan"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("postfix/mx1/main.cf") && run.stderr.contains("hard links"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("SECRET-SHADOW-LINE"));
    assert!(!run.stderr.contains("SECRET-SHADOW-LINE"));
}

/// `--out` itself may be a link (the operator's choice): followed.
#[test]
fn out_itself_may_be_a_link() {
    let (dir, _) = project(false);
    let d = dir.path();
    std::fs::create_dir(d.join("real-out")).unwrap();
    symlink(d.join("real-out"), d.join("out")).unwrap();
    let run = mailc(d, &["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(d.join("real-out/postfix/mx1/main.cf").is_file());
    let run = mailc(d, &["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

// ---- saved plans -------------------------------------------------------

/// A project applied once, then changed, with the change saved as
/// `p.json`: what an operator reviews before `mailc apply p.json`.
fn saved(two_hosts_then: bool) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, elsewhere) = project(!two_hosts_then);
    let d = dir.path();
    assert_eq!(mailc(d, &["apply", "--auto-approve"]).code, 0);
    std::fs::write(d.join("mailc.yaml"), spec(two_hosts_then)).unwrap();
    let run = mailc(d, &["plan", "--save", "p.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    (dir, elsewhere)
}

fn plan_text(d: &Path) -> String {
    std::fs::read_to_string(d.join("p.json")).unwrap()
}

/// Every refusal of a saved plan writes nothing.
fn assert_plan_refused(d: &Path, run: &Run, says: &str) {
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(says),
        "expected `{says}`:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("SECRET-SHADOW-LINE"), "{}", run.stderr);
    assert!(!d.join("out/postfix/mx2").exists(), "nothing was written");
}

/// A plan file edited by hand — content with its fingerprint recomputed, a
/// mode, a secret made world-readable, the spec or `out` pointed elsewhere —
/// is refused; an untouched one applies.
#[test]
fn an_edited_plan_file_is_refused() {
    let (dir, _) = saved(true);
    let d = dir.path();
    let original = plan_text(d);
    let plan: serde_json::Value = serde_json::from_str(&original).unwrap();
    let changes = plan["changes"].as_array().unwrap();
    let public = changes
        .iter()
        .find(|c| c["text"].is_string())
        .expect("a public file");
    let old_text = public["text"].as_str().unwrap();
    let old_sha = public["sha256"].as_str().unwrap();
    let evil = format!("{old_text}# added by someone else\n");
    let evil_sha = {
        use std::fmt::Write as _;
        let digest = mailc::plan::Fingerprint::of(evil.as_bytes());
        let mut s = String::new();
        write!(s, "{digest}").unwrap();
        s
    };
    let secret = changes
        .iter()
        .find(|c| c["secret"] == true)
        .expect("a secret file");
    let secret_path = secret["path"].as_str().unwrap();

    let edits: Vec<(&str, String)> = vec![
        (
            "seal does not verify",
            original
                .replacen(
                    &serde_json::to_string(old_text).unwrap(),
                    &serde_json::to_string(&evil).unwrap(),
                    1,
                )
                .replacen(old_sha, &evil_sha, 1),
        ),
        ("the mode is not 0644", original.replacen("\"0644\"", "\"6777\"", 1)),
        (
            "the mode is not 0644",
            original.replacen(
                &format!("\"path\": \"{secret_path}\",\n      \"action\": \"add\",\n      \"mode\": \"0600\""),
                &format!("\"path\": \"{secret_path}\",\n      \"action\": \"add\",\n      \"mode\": \"0644\""),
                1,
            ),
        ),
        (
            "seal does not verify",
            original.replacen("\"spec\": \"mailc.yaml\"", "\"spec\": \"elsewhere/shadow\"", 1),
        ),
        (
            "`elsewhere` holds no plan key",
            original.replacen("\"out\": \"out\"", "\"out\": \"elsewhere\"", 1),
        ),
    ];
    for (says, edited) in edits {
        assert_ne!(edited, original, "the edit for `{says}` applies");
        std::fs::write(d.join("p.json"), &edited).unwrap();
        let run = mailc(d, &["apply", "p.json"]);
        assert_plan_refused(d, &run, says);
    }
    // `elsewhere` got no plan key either: a plan is sealed to its folder.
    std::fs::write(d.join("p.json"), &original).unwrap();
    let run = mailc(d, &["apply", "p.json", "--out", "elsewhere"]);
    assert_plan_refused(d, &run, "holds no plan key");
    let run = mailc(d, &["apply", "p.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(d.join("out/postfix/mx2/main.cf").is_file());
}

/// Even a plan sealed with the folder's own key names a spec only by its
/// fingerprint: another file at that path is refused without a word of it,
/// and so is the spec edited since.
#[test]
fn a_plan_only_reads_the_spec_it_was_made_from() {
    use mailc::plan::planfile::PlanFile;
    use mailc::plan::seal::PlanKey;
    let (dir, _) = saved(true);
    let d = dir.path();
    let key = PlanKey::load(&d.join("out")).unwrap().unwrap();
    let mut file = PlanFile::load(&d.join("p.json")).unwrap();
    file.spec = "elsewhere/shadow".to_string();
    file.seal(&key);
    file.save(&d.join("p2.json")).unwrap();
    let run = mailc(d, &["apply", "p2.json"]);
    assert_plan_refused(
        d,
        &run,
        "`elsewhere/shadow` is not the spec this plan was made from",
    );
    // A missing file says the same: no existence oracle.
    file.spec = "elsewhere/no-such-file".to_string();
    file.seal(&key);
    file.save(&d.join("p2.json")).unwrap();
    let run = mailc(d, &["apply", "p2.json"]);
    assert_plan_refused(
        d,
        &run,
        "`elsewhere/no-such-file` is not the spec this plan was made from",
    );

    // The spec edited after the plan was saved.
    let spec_now = std::fs::read_to_string(d.join("mailc.yaml")).unwrap();
    std::fs::write(d.join("mailc.yaml"), format!("{spec_now}\n# edited\n")).unwrap();
    let run = mailc(d, &["apply", "p.json"]);
    assert_plan_refused(
        d,
        &run,
        "`mailc.yaml` is not the spec this plan was made from",
    );
}
