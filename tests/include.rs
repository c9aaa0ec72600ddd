//! Specs split across files (`include`): the same spec in one file and
//! split across YAML and KDL files writes the same bytes; `mailc diff`
//! reads the included files of each revision from git.
//!
//! - `tests/split/<example>/mailc.yaml`: `examples/<example>/mailc.yaml`
//!   split across files (its included files beside it).

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use support::{copy_dir, git, mailc, root};

/// Every file under `dir`: its bytes and mode (the plan cache aside: it
/// records the spec files read, which differ).
fn files(dir: &Path) -> Vec<(String, Vec<u8>, u32)> {
    support::golden::tree(dir)
        .into_iter()
        .filter(|(path, _)| path != ".mailc-cache")
        .map(|(path, bytes)| {
            let mode = std::fs::metadata(dir.join(&path))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777;
            (path, bytes, mode)
        })
        .collect()
}

/// The split specs and the one-file spec each splits.
fn split_specs() -> Vec<(PathBuf, PathBuf)> {
    let mut pairs = Vec::new();
    for e in std::fs::read_dir(root().join("tests/split")).unwrap() {
        let dir = e.unwrap().path();
        let name = dir.file_name().unwrap().to_owned();
        let whole = root().join("examples").join(&name).join("mailc.yaml");
        assert!(
            whole.is_file(),
            "{}: no example of that name",
            dir.display()
        );
        pairs.push((dir.join("mailc.yaml"), whole));
    }
    pairs.sort();
    assert!(!pairs.is_empty());
    pairs
}

#[test]
fn one_file_and_split_specs_write_the_same_bytes() {
    for (split, whole) in split_specs() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("whole"), tmp.path().join("split"));
        for (spec, out) in [(&whole, &a), (&split, &b)] {
            let run = mailc(
                tmp.path(),
                &[
                    "apply",
                    "--auto-approve",
                    "--color",
                    "never",
                    spec.to_str().unwrap(),
                    "--out",
                    out.to_str().unwrap(),
                ],
            );
            assert_eq!(run.code, 0, "{}: {}", spec.display(), run.stderr);
        }
        let (fa, fb) = (files(&a), files(&b));
        assert!(fa.len() > 3, "{}", fa.len());
        let names =
            |f: &[(String, Vec<u8>, u32)]| f.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&fa), names(&fb), "{}", split.display());
        for (x, y) in fa.iter().zip(&fb) {
            assert!(
                x == y,
                "{}: {} differs from the one-file spec's",
                split.display(),
                x.0
            );
        }
        // Either spec sees the other's output as its own.
        let run = mailc(
            tmp.path(),
            &[
                "plan",
                "--detailed-exitcode",
                split.to_str().unwrap(),
                "--out",
                a.to_str().unwrap(),
            ],
        );
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        // The same spec, validated, counts the same domains and mailboxes.
        let count = |spec: &Path| {
            let run = mailc(tmp.path(), &["validate", spec.to_str().unwrap()]);
            assert_eq!(run.code, 0, "{}", run.stderr);
            run.stdout
                .split_once(": ")
                .map(|(_, tail)| tail.to_string())
                .unwrap_or_default()
        };
        assert_eq!(count(&split), count(&whole));
    }
}

/// `mailc diff` reads each revision's included files from git: a change
/// in one of them, committed or in the working tree, shows; a file added
/// to a glob's folder joins the spec.
#[test]
fn diff_reads_included_files_at_each_revision() {
    let tmp = tempfile::tempdir().unwrap();
    let top = tmp.path();
    copy_dir(&root().join("tests/split/hosting"), &top.join("site"));
    git(top, &["init", "-q", "-b", "main"]);
    git(top, &["add", "-A"]);
    git(top, &["commit", "-q", "-m", "split spec"]);
    let site = top.join("site");
    let run = mailc(&site, &["diff"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    // An alias changes in an included KDL file of the working tree.
    let kdl = site.join("customers/studio.kdl");
    let text = std::fs::read_to_string(&kdl).unwrap();
    std::fs::write(
        &kdl,
        text.replace("alias orders shop owner", "alias orders shop"),
    )
    .unwrap();
    let run = mailc(&site, &["diff", "--format", "json"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("orders@studio.example"),
        "{}",
        run.stdout
    );
    git(top, &["commit", "-q", "-am", "orders to the shop only"]);

    // A new file in a globbed folder joins the spec at its revision.
    std::fs::write(
        site.join("domains/new.yaml"),
        "domains:\n  new.example:\n    mx: [web1]\n",
    )
    .unwrap();
    git(top, &["add", "-A"]);
    git(top, &["commit", "-q", "-m", "a new customer"]);
    let run = mailc(&site, &["diff", "HEAD~2", "HEAD", "--format", "json"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("new.example"), "{}", run.stdout);
    assert!(
        run.stdout.contains("orders@studio.example"),
        "{}",
        run.stdout
    );
    let run = mailc(&site, &["diff", "HEAD~1", "HEAD~1"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    // A problem in an included file of a revision is shown in that file.
    std::fs::write(
        site.join("domains/new.yaml"),
        "domains:\n  new.example:\n    mx: [web9]\n",
    )
    .unwrap();
    let run = mailc(&site, &["diff"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("site/domains/new.yaml:3"),
        "{}",
        run.stderr
    );
}

/// `mailc dkim rotate` says to add the new key to the file that defines
/// the domain, in that file's dialect.
#[test]
fn dkim_rotate_names_the_file_of_the_domain() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&root().join("tests/split/hosting"), tmp.path());
    for (domain, file, shape) in [
        ("studio.example", "customers/studio.kdl", "dkim s"),
        ("bakery.example", "domains/bakery.yaml", "- {selector: s"),
        ("hosting.example", "mailc.yaml", "- {selector: s"),
    ] {
        let run = mailc(tmp.path(), &["dkim", "rotate", domain]);
        assert_eq!(run.code, 0, "{}", run.said());
        assert!(
            run.stdout.contains(&format!("{domain}` in {file} (")) && run.stdout.contains(shape),
            "{}",
            run.said()
        );
    }
}
