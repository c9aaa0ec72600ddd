//! `mailc test` against the compiled spec:
//!
//! - every example carries a `tests` section that passes, in YAML and KDL
//!   alike (the same checks, the same verdicts);
//! - `tests/expectations/*.{yaml,kdl}` hold wrong expectations of every
//!   kind: each is reported as `mailc::test::failed` at its place, with what
//!   was expected and what the spec gives, pinned in `*.stderr`
//!   (`MAILC_BLESS=1` rewrites them);
//! - a spec without tests, and the JSON report.

use std::path::{Path, PathBuf};

mod support;
use support::{Mailc, Run, root};

fn mailc(dir: &Path, args: &[&str]) -> Run {
    Mailc::new(dir, args).color_as_users_see_it().run()
}

fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| exts.iter().any(|x| e == *x)))
        .collect();
    v.sort();
    v
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", run.stdout, run.stderr))
}

#[test]
fn every_example_passes_its_tests_in_both_dialects() {
    let mut examples = 0;
    let mut dirs: Vec<PathBuf> = Vec::new();
    for parent in ["examples", "tests/cases"] {
        for entry in std::fs::read_dir(root().join(parent)).unwrap() {
            let dir = entry.unwrap().path();
            // Every example; the test cases that have tests.
            let yaml = std::fs::read_to_string(dir.join("mailc.yaml")).unwrap_or_default();
            if parent == "examples" || yaml.contains("\ntests:") {
                dirs.push(dir);
            }
        }
    }
    for dir in dirs {
        let mut reports = Vec::new();
        for file in ["mailc.yaml", "mailc.kdl"] {
            let run = mailc(&dir, &["test", file, "--format", "json"]);
            let name = format!("{}/{file}", dir.display());
            assert_eq!(run.code, 0, "{name}:\n{}\n{}", run.stdout, run.stderr);
            let v = json(&run);
            assert_eq!(v["failed"], 0, "{name}");
            assert!(
                v["passed"].as_u64().unwrap() >= 5,
                "{name}: only {} checks",
                v["passed"]
            );
            let text = mailc(&dir, &["test", file]);
            assert_eq!(text.code, 0, "{name}: {}", text.stderr);
            assert!(text.stdout.contains(" checks passed"), "{}", text.stdout);
            // Without lines: the two dialects place their tests differently.
            let mut checks = v["checks"].as_array().unwrap().clone();
            for c in &mut checks {
                let c = c.as_object_mut().unwrap();
                for k in ["file", "line", "column"] {
                    c.remove(k);
                }
            }
            // In file order, which differs between the dialects.
            checks.sort_by_key(|c| c.to_string());
            reports.push(checks);
        }
        assert_eq!(
            reports[0],
            reports[1],
            "{}: YAML and KDL check different things",
            dir.display()
        );
        examples += 1;
    }
    assert!(
        examples >= 6,
        "only {examples} examples and cases with tests"
    );
}

#[test]
fn wrong_expectations_give_pinned_diagnostics() {
    let dir = root().join("tests/expectations");
    let mut failures = Vec::new();
    let specs = files(&dir, &["yaml", "kdl"]);
    assert!(specs.len() >= 2);
    for spec in specs {
        let name = spec.file_name().unwrap().to_str().unwrap().to_string();
        let run = mailc(&dir, &["test", "--color", "never", &name]);
        if run.code != 1 {
            failures.push(format!("{name}: exit {}", run.code));
        }
        // Every expectation of these files is wrong, and each is reported.
        let report = json(&mailc(&dir, &["test", "--format", "json", &name]));
        let failed = report["failed"].as_u64().unwrap() as usize;
        if report["passed"] != 0 || failed == 0 {
            failures.push(format!("{name}: {report}"));
        }
        let shown = run.stderr.matches("mailc::test::failed\n").count();
        if shown != failed {
            failures.push(format!("{name}: {shown} drawn, {failed} failed"));
        }
        let pinned = spec.with_extension(format!(
            "{}.stderr",
            spec.extension().unwrap().to_str().unwrap()
        ));
        if let Err(e) = support::golden::file(&pinned, &run.stderr) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_json_report_places_every_check() {
    let dir = root().join("tests/expectations");
    let v = json(&mailc(&dir, &["test", "--format", "json", "wrong.yaml"]));
    let first = &v["checks"][0];
    assert_eq!(first["file"], "wrong.yaml");
    assert_eq!(first["line"], 26);
    assert_eq!(first["column"], 14);
    assert_eq!(first["passed"], false);
    assert_eq!(first["subject"], "`sales@example.com` on mx1");
    assert_eq!(
        first["expected"],
        "delivered to alice@example.com, bob@example.com"
    );
    assert_eq!(
        first["actual"],
        "delivered to alice@example.com; also forwarded to partner@external.example"
    );
}

#[test]
fn a_spec_without_tests_is_an_error() {
    let run = mailc(
        &root().join("tests/cases/spec-example"),
        &["test", "--color", "never"],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("mailc.yaml has no `tests`: nothing to check"),
        "{}",
        run.stderr
    );
}
