//! The `mailc` binary as users run it: exit code, stdout and stderr pinned
//! together, driven by data files.
//!
//! - `tests/invalid/*.{yaml,kdl}`: `mailc validate` output pinned in `.stderr`.
//! - `tests/routes/<example>.tsv`: `mailc route` checked against a hand-written
//!   table of address × host expectations.
//! - `examples/*/mailc.{yaml,kdl}`: both dialects give the same model.
//!
//! `MAILC_BLESS=1 cargo test` rewrites pinned files; nobody edits them by hand.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

mod support;
use support::{Mailc, Run, root};

/// The one way tests run the binary: color as mailc chooses it on a pipe,
/// 100 columns.
fn mailc(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut run = Mailc::new(dir, args)
        .color_as_users_see_it()
        .env("COLUMNS", "100");
    if let Some(input) = stdin {
        run = run.stdin(input);
    }
    run.run()
}

/// Compares `actual` with the pinned file, or rewrites it when blessing.
fn pinned(path: &Path, actual: &str) -> Result<(), String> {
    support::golden::file(path, actual)
}

fn files_with_ext(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| exts.contains(&e))
        })
        .collect();
    v.sort();
    v
}

/// The cases of `tests/invalid`: each spec file alone (run from that
/// folder, pinned in `NAME.EXT.stderr`), and each spec split across files
/// (a folder `NAME.split` holding `mailc.yaml` or `mailc.kdl` and the
/// files it includes, run from inside it, pinned in `NAME.split.stderr`):
/// (name, folder to run in, the spec argument, the pinned output).
fn invalid_cases() -> Vec<(String, PathBuf, Option<String>, PathBuf)> {
    let dir = root().join("tests/invalid");
    let mut cases: Vec<_> = files_with_ext(&dir, &["yaml", "kdl"])
        .into_iter()
        .map(|spec| {
            let name = spec.file_name().unwrap().to_str().unwrap().to_string();
            let ext = spec.extension().unwrap().to_str().unwrap();
            let stderr = spec.with_extension(format!("{ext}.stderr"));
            (name.clone(), dir.clone(), Some(name), stderr)
        })
        .collect();
    for folder in files_with_ext(&dir, &["split"]) {
        let name = folder.file_name().unwrap().to_str().unwrap().to_string();
        let stderr = dir.join(format!("{name}.stderr"));
        cases.push((name, folder, None, stderr));
    }
    cases
}

#[test]
fn invalid_specs_give_pinned_diagnostics() {
    let mut failures = Vec::new();
    let cases = invalid_cases();
    assert!(cases.iter().any(|c| c.2.is_none()), "no split case found");
    for (name, dir, spec, stderr) in cases {
        let args = |first: &[&'static str]| -> Vec<String> {
            first
                .iter()
                .map(|s| s.to_string())
                .chain(spec.clone())
                .collect()
        };
        let argv = args(&["validate", "--color", "never"]);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let run = mailc(&dir, &argv, None);
        let expect_code = if run.stderr.contains(" is invalid (") {
            1
        } else {
            0
        };
        if run.code != expect_code {
            failures.push(format!(
                "{name}: exit {} but output says {expect_code}",
                run.code
            ));
        }
        if run.stderr.contains("panicked") {
            failures.push(format!("{name}: panicked:\n{}", run.stderr));
        }
        // Every diagnostic points at the spec entry behind it, in JSON too.
        let argv = args(&["validate", "--format", "json"]);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let json = mailc(&dir, &argv, None);
        match serde_json::from_str::<serde_json::Value>(&json.stdout) {
            Ok(v) => {
                for d in v["diagnostics"].as_array().into_iter().flatten() {
                    if d["labels"].as_array().is_none_or(|l| l.is_empty()) {
                        failures.push(format!("{name}: no place for {}", d["message"]));
                    }
                }
            }
            Err(e) => failures.push(format!("{name}: --format json: {e}\n{}", json.stdout)),
        }
        if let Err(e) = pinned(&stderr, &run.stderr) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The spec keys as KDL spells them, and those YAML writes with `_`.
fn spec_keys() -> (BTreeSet<String>, BTreeSet<String>) {
    fn walk(v: &serde_json::Value, keys: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, inner) in o {
                    if k == "properties" {
                        keys.extend(
                            inner
                                .as_object()
                                .into_iter()
                                .flat_map(|p| p.keys().cloned()),
                        );
                    }
                    walk(inner, keys);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|i| walk(i, keys)),
            _ => {}
        }
    }
    let schema: serde_json::Value = serde_json::from_str(&mailc::spec::json_schema()).unwrap();
    let mut yaml = BTreeSet::new();
    walk(&schema, &mut yaml);
    let mut kdl: BTreeSet<String> = yaml.iter().map(|k| k.replace('_', "-")).collect();
    kdl.extend(["host", "domain", "mailbox", "alias", "record", "dns-target"].map(String::from));
    let underscored = yaml.into_iter().filter(|k| k.contains('_')).collect();
    (kdl, underscored)
}

/// Whether a snippet is spec text as YAML writes it.
fn yaml_snippet(s: &str, underscored: &BTreeSet<String>) -> bool {
    let outside_quotes: String = s.split('"').step_by(2).collect();
    outside_quotes.contains(": ")
        || outside_quotes.ends_with(':')
        || s.starts_with('{')
        || (s.starts_with('[') && (s.contains(", ") || s == "[]"))
        || outside_quotes
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .any(|w| underscored.contains(w))
}

/// Every pinned YAML case, written in KDL by the mapping docs/spec.md gives
/// (`spec::kdl::write`), gets the same diagnostics, and each help a KDL spec
/// hears shows KDL, in its message and its help: no snippet is YAML, and every snippet that starts with a
/// spec key parses with the KDL reader.
#[test]
fn kdl_specs_hear_every_help_in_kdl() {
    let src = root().join("tests/invalid");
    let tmp = std::env::temp_dir().join(format!("mailc-kdl-helps-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    for f in std::fs::read_dir(&src).unwrap() {
        let f = f.unwrap().path();
        if f.is_file() {
            std::fs::copy(&f, tmp.join(f.file_name().unwrap())).unwrap();
        }
    }
    let (kdl_keys, underscored) = spec_keys();
    let codes = |run: &Run| -> Result<Vec<(String, String)>, String> {
        let v: serde_json::Value = serde_json::from_str(&run.stdout).map_err(|e| e.to_string())?;
        let mut out: Vec<(String, String)> = v["diagnostics"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                (
                    d["code"].as_str().unwrap_or("").to_string(),
                    format!(
                        "{} / {}",
                        d["message"].as_str().unwrap_or(""),
                        d["help"].as_str().unwrap_or("")
                    ),
                )
            })
            .collect();
        out.sort();
        Ok(out)
    };
    let mut failures = Vec::new();
    let mut heard = BTreeSet::new();
    for spec in files_with_ext(&src, &["yaml"]) {
        let name = spec.file_name().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&spec).unwrap();
        let Ok(tree) = mailc::spec::yaml::parse(&text) else {
            continue; // a YAML syntax error has no KDL counterpart
        };
        // Shapes only YAML can get wrong this way: a typo that is a KDL node
        // name (`host:` for `hosts:`), an alias that is not a list.
        let yaml_only = [
            "alias-not-a-list.yaml",
            "typo-hosts.yaml",
            "typo-mailboxes.yaml",
            "typo-three.yaml",
        ];
        let kdl_name = name.replace(".yaml", ".as.kdl");
        let kdl = mailc::spec::kdl::write::document(&tree);
        std::fs::write(tmp.join(&kdl_name), &kdl).unwrap();
        let yaml_run = mailc(&tmp, &["validate", "--format", "json", &name], None);
        let kdl_run = mailc(&tmp, &["validate", "--format", "json", &kdl_name], None);
        let (Ok(yaml_diags), Ok(kdl_diags)) = (codes(&yaml_run), codes(&kdl_run)) else {
            failures.push(format!(
                "{name}: no JSON\n{}{}",
                yaml_run.stdout, kdl_run.stdout
            ));
            continue;
        };
        let yaml_codes: BTreeSet<&String> = yaml_diags.iter().map(|(c, _)| c).collect();
        let kdl_codes: BTreeSet<&String> = kdl_diags.iter().map(|(c, _)| c).collect();
        if yaml_codes != kdl_codes && !yaml_only.contains(&name.as_str()) {
            failures.push(format!(
                "{name}: YAML gives {yaml_codes:?}, the same spec in KDL {kdl_codes:?}:\n{kdl}"
            ));
        }
        for (code, help) in &kdl_diags {
            heard.insert(code.clone());
            for snippet in help.split('`').skip(1).step_by(2) {
                if yaml_snippet(snippet, &underscored) {
                    failures.push(format!(
                        "{name}: {code}: YAML in a KDL help: `{snippet}` ({help})"
                    ));
                    continue;
                }
                let first = snippet.split([' ', '=']).next().unwrap_or("");
                // A property alone (`ipv4="..."`) is read on a node of its own;
                // `password=` names one.
                let node = match snippet[first.len()..].starts_with('=') {
                    true => format!("node {snippet}"),
                    false => snippet.to_string(),
                };
                if kdl_keys.contains(first)
                    && !snippet.ends_with('=')
                    && let Err(e) = mailc::spec::kdl::parser::parse(&node)
                {
                    failures.push(format!(
                        "{name}: {code}: `{snippet}` is not KDL: {e:?} ({help})"
                    ));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        heard.len() > 40,
        "only {} codes heard: {heard:?}",
        heard.len()
    );
}

#[test]
fn every_diagnostic_code_has_a_failing_input() {
    let dir = root().join("tests/invalid");
    let all: String = files_with_ext(&dir, &["stderr"])
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let missing: Vec<&str> = mailc::diag::Code::ALL
        .iter()
        // `mailc test` reports failed expectations: pinned in tests/expectations.
        .filter(|c| **c != mailc::diag::Code::Io && **c != mailc::diag::Code::TestFailed)
        .map(|c| c.as_str())
        .filter(|c| !all.contains(&format!("{c}\n")))
        .collect();
    assert!(
        missing.is_empty(),
        "no input in tests/invalid shows these codes: {missing:?}"
    );
}

#[test]
fn validate_json_has_line_and_column() {
    let dir = root().join("tests/invalid");
    let run = mailc(
        &dir,
        &["validate", "--format", "json", "unknown-target.yaml"],
        None,
    );
    assert_eq!(run.code, 1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(v["valid"], false);
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "mailc::alias::unknown_target");
    assert_eq!(d["file"], "unknown-target.yaml");
    assert_eq!(d["line"], 14);
    assert!(d["column"].as_u64().unwrap() > 1);
    assert!(
        d["help"]
            .as_str()
            .unwrap()
            .contains("did you mean `alice`?")
    );
}

#[test]
fn missing_spec_is_a_clear_error() {
    let dir = std::env::temp_dir();
    let run = mailc(
        &dir,
        &["validate", "no-such-mailc.yaml", "--color", "never"],
        None,
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("cannot read `no-such-mailc.yaml`"),
        "{}",
        run.stderr
    );
}

#[test]
fn examples_are_valid_in_both_dialects_and_give_one_model() {
    use mailc::source::{Dialect, Source};
    let mut seen = 0;
    for dir in spec_dirs() {
        let mut models = Vec::new();
        for (file, dialect) in [("mailc.yaml", Dialect::Yaml), ("mailc.kdl", Dialect::Kdl)] {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            let source = Source::new(file, text, dialect);
            let compiled = mailc::compile::compile(source, &mailc::compile::Inputs::text_only());
            let errors: Vec<_> = compiled
                .diagnostics
                .into_iter()
                .filter(|d| d.severity == mailc::diag::Severity::Error)
                .collect();
            assert!(errors.is_empty(), "{}/{file}: {errors:#?}", dir.display());
            models.push((compiled.model.expect("model"), compiled.tests));
        }
        assert_eq!(
            models[0],
            models[1],
            "{}: YAML and KDL give different models",
            dir.display()
        );
        // The CLI agrees.
        for file in ["mailc.yaml", "mailc.kdl"] {
            let run = mailc(&dir, &["validate", file], None);
            assert_eq!(run.code, 0, "{}/{file}: {}", dir.display(), run.stderr);
        }
        seen += 1;
    }
    assert!(
        seen >= 6,
        "expected at least five examples and the spec-example case"
    );
}

/// Every folder holding a `mailc.yaml` + `mailc.kdl` pair: the examples and `tests/cases/*`.
fn spec_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for parent in ["examples", "tests/cases"] {
        for entry in std::fs::read_dir(root().join(parent)).unwrap() {
            dirs.push(entry.unwrap().path());
        }
    }
    dirs.sort();
    dirs
}

/// The folder of a route table: an example or a test case of that name.
fn spec_dir(name: &str) -> PathBuf {
    spec_dirs()
        .into_iter()
        .find(|d| d.file_name().unwrap() == name)
        .unwrap_or_else(|| panic!("no example or case `{name}`"))
}

/// One row of a route table: `host address outcome mailboxes forward next_hop reply`,
/// tab-separated; lists comma-separated; `-` for empty/null; `reply` is a prefix.
#[test]
fn route_tables_match() {
    let mut failures = Vec::new();
    let mut outcomes = std::collections::BTreeSet::new();
    for table in files_with_ext(&root().join("tests/routes"), &["tsv"]) {
        let example = table.file_stem().unwrap().to_str().unwrap().to_string();
        let dir = spec_dir(&example);
        for (n, line) in std::fs::read_to_string(&table).unwrap().lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(
                cols.len(),
                7,
                "{}:{}: want 7 tab-separated columns",
                table.display(),
                n + 1
            );
            for spec in ["mailc.yaml", "mailc.kdl"] {
                let run = mailc(
                    &dir,
                    &[
                        "route", cols[1], spec, "--host", cols[0], "--format", "json",
                    ],
                    None,
                );
                if run.code != 0 {
                    failures.push(format!(
                        "{example} {line}: exit {}: {}",
                        run.code, run.stderr
                    ));
                    continue;
                }
                let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
                let list = |k: &str| -> String {
                    let items: Vec<&str> = v[k]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_str().unwrap())
                        .collect();
                    if items.is_empty() {
                        "-".into()
                    } else {
                        items.join(",")
                    }
                };
                let opt = |k: &str| v[k].as_str().unwrap_or("-").to_string();
                let got = [
                    opt("host"),
                    opt("outcome"),
                    list("mailboxes"),
                    list("forward"),
                    opt("next_hop"),
                ];
                let want = [cols[0], cols[2], cols[3], cols[4], cols[5]];
                let reply_ok = if cols[6] == "-" {
                    v["reply"].is_null()
                } else {
                    opt("reply").starts_with(cols[6])
                };
                if got.iter().map(String::as_str).ne(want.iter().copied()) || !reply_ok {
                    failures.push(format!(
                        "{example}/{spec} {}: want {want:?} reply {:?}, got {got:?} reply {:?}",
                        cols[1], cols[6], v["reply"]
                    ));
                }
                outcomes.insert(opt("outcome"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let all = ["bounce", "deliver", "forward", "relay", "reject", "remote"];
    for o in all {
        assert!(
            outcomes.contains(o),
            "no route table row covers outcome `{o}`"
        );
    }
}

/// Without `--host`, every host answers; `--host` takes a key or a
/// hostname; each answer says which rule decided.
#[test]
fn route_shows_every_host_and_the_rule_that_decided() {
    let dir = root().join("examples/primary-backup");
    let run = mailc(&dir, &["route", "team@example.com"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "team@example.com on mx1: delivered to alice@example.com, bob@example.com; also forwarded to partner@external.org\n  \
         why: alias: team → alice; team → sales → bob; team → sales → partner@external.org\n\
         team@example.com on mx2: relayed to mx1.example.com\n  \
         why: host `mx2` is a backup MX of `example.com`: it accepts what the primary accepts and relays it there \
         (the primary's rule: alias: team → alice; team → sales → bob; team → sales → partner@external.org)\n"
    );
    for (addr, why) in [
        ("alice@example.com", "why: mailbox"),
        (
            "nobody@example.com",
            "why: no mailbox or alias; catch-all: nobody → alice",
        ),
        (
            "someone@elsewhere.test",
            "why: `elsewhere.test` is not a domain of this spec",
        ),
    ] {
        let run = mailc(&dir, &["route", addr, "--host", "mx1"], None);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout.contains(why), "{addr}: {}", run.stdout);
    }
    // A hostname names the same host as its key, in any case and with a dot.
    let by_key = mailc(
        &dir,
        &[
            "route",
            "bob@example.com",
            "--host",
            "mx2",
            "--format",
            "json",
        ],
        None,
    );
    for name in ["mx2.example.net", "MX2.Example.NET."] {
        let run = mailc(
            &dir,
            &[
                "route",
                "bob@example.com",
                "--host",
                name,
                "--format",
                "json",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stdout, by_key.stdout);
    }
    let v: serde_json::Value = serde_json::from_str(&by_key.stdout).unwrap();
    for field in [
        "address",
        "host",
        "outcome",
        "mailboxes",
        "forward",
        "next_hop",
        "reply",
    ] {
        assert!(v.get(field).is_some(), "no `{field}`: {v}");
    }
    assert_eq!(v["host"], "mx2");
    assert_eq!(
        (&v["rule"], &v["primary_rule"]),
        (&"backup".into(), &"mailbox".into())
    );
    // JSON for every host: an array in host order.
    let run = mailc(
        &dir,
        &["route", "bob@example.com", "--format", "json"],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let hosts: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["mx1", "mx2"]);
    let run = mailc(&dir, &["route", "alice@example.com", "--host", "mx3"], None);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("did you mean `mx1`?"), "{}", run.stderr);
}

#[test]
fn schema_file_is_current() {
    let run = mailc(&root(), &["schema"], None);
    assert_eq!(run.code, 0);
    pinned(&root().join("schemas/mailc.schema.json"), &run.stdout).unwrap();
}

#[test]
fn passwd_hashes_what_dovecot_verifies() {
    let run = mailc(
        &root(),
        &["passwd", "--scheme", "BLF-CRYPT"],
        Some("correct horse\n"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let hash = run.stdout.trim();
    assert!(hash.starts_with("{BLF-CRYPT}$2y$"), "{hash}");
    assert!(mailc::passwd::verify("correct horse", hash).unwrap());
    let run = mailc(&root(), &["passwd"], Some(""));
    assert_eq!(run.code, 1);
    let run = mailc(&root(), &["passwd", "--scheme", "MD5"], Some("x\n"));
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("SHA512-CRYPT"));
}

/// A usage error exits 1 for every command: 2 means only "changes pending"
/// (`plan --detailed-exitcode`) or "drift" (`check`), so a typo in a CI job
/// must not read as either.
#[test]
fn usage_errors_exit_1_for_every_command() {
    let dir = std::env::temp_dir();
    let commands: &[&[&str]] = &[
        &["validate"],
        &["route", "a@example.com"],
        &["schema"],
        &["plan"],
        &["plan", "--detailed-exitcode"],
        &["apply"],
        &["passwd"],
        &["dkim", "keygen"],
        &["check"],
        &["test"],
        &["serve"],
        &["build"],
    ];
    for cmd in commands {
        let mut args = cmd.to_vec();
        args.push("--no-such-flag");
        let run = mailc(&dir, &args, Some(""));
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("--no-such-flag"),
            "{args:?}: {}",
            run.stderr
        );
    }
    // Bad values, missing arguments, unknown commands.
    for args in [
        &["plan", "--detailed-exitcode", "--format", "yaml"][..],
        &["validate", "--format", "xml"],
        &["route"],
        &["check", "--resolver", "not-an-address"],
        &["test", "--live", "mx1"],
        &["test", "--timeout", "0"],
        &["serve", "--smtp", "nowhere"],
        &["--color", "sometimes", "validate"],
        &["dkim"],
        &["frobnicate"],
        &[],
    ] {
        let run = mailc(&dir, args, Some(""));
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
    }
    // Help and version are answers, not errors.
    for args in [&["--help"][..], &["plan", "--help"], &["--version"]] {
        let run = mailc(&dir, args, None);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(!run.stdout.is_empty(), "{args:?}");
    }
}

/// `mailc passwd` under a pseudo-terminal, driven by python3's `pty`: what
/// the terminal showed, the exit code, and whether echo was back on after.
struct Typed {
    screen: String,
    code: i32,
    echo_after: bool,
}

fn passwd_on_a_terminal(args: &[&str], keys: &[&str]) -> Typed {
    const SCRIPT: &str = r#"
import json, os, pty, select, sys, termios, time
exe, args, keys = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
pid, fd = pty.fork()
if pid == 0:
    os.execv(exe, [exe] + args)
screen = b""
def read_until(want, limit=120.0):
    global screen
    end = time.time() + limit
    while want not in screen and time.time() < end:
        r, _, _ = select.select([fd], [], [], 1.0)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            screen += chunk
prompts = [b"Password: ", b"Password (again): "]
for i, key in enumerate(keys):
    read_until(prompts[min(i, 1)])
    time.sleep(0.2)
    os.write(fd, key.encode("latin-1"))
read_until(b"\x00never", 60.0)
status = None
for _ in range(600):
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = st
        break
    time.sleep(0.1)
if status is None:
    os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    screen += b"\n(mailc did not exit; killed)"
try:
    echo = bool(termios.tcgetattr(fd)[3] & termios.ECHO)
except termios.error:
    echo = True
print(json.dumps({"screen": screen.decode("utf-8", "replace"), "code": os.waitstatus_to_exitcode(status), "echo": echo}))
"#;
    let out = Command::new("python3")
        .args([
            "-c",
            SCRIPT,
            env!("CARGO_BIN_EXE_mailc"),
            &serde_json::to_string(args).unwrap(),
            &serde_json::to_string(keys).unwrap(),
        ])
        .output()
        .expect("python3 (its `pty` module drives the terminal tests): run `.ci/install-oracles`");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    Typed {
        screen: v["screen"].as_str().unwrap().to_string(),
        code: v["code"].as_i64().unwrap() as i32,
        echo_after: v["echo"].as_bool().unwrap(),
    }
}

#[test]
fn passwd_on_a_terminal_asks_twice_without_echo() {
    let t = passwd_on_a_terminal(
        &["passwd", "--scheme", "SHA256-CRYPT"],
        &["s3cret pw\r", "s3cret pw\r"],
    );
    assert_eq!(t.code, 0, "{}", t.screen);
    assert!(!t.screen.contains("s3cret"), "echoed: {}", t.screen);
    assert!(t.screen.contains("Password (again): "), "{}", t.screen);
    let hash = t
        .screen
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("{SHA256-CRYPT}$5$"))
        .unwrap_or_else(|| panic!("no hash: {}", t.screen));
    assert!(mailc::passwd::verify("s3cret pw", hash).unwrap());
    assert!(t.echo_after);
    // Backspace edits; Enter (either key code) ends each entry.
    let t = passwd_on_a_terminal(
        &["passwd", "--scheme", "SHA256-CRYPT"],
        &["pw1x\x7f\n", "pw1\r"],
    );
    assert_eq!(t.code, 0, "{}", t.screen);
    assert!(t.screen.contains("{SHA256-CRYPT}$5$"), "{}", t.screen);
    // Two different entries: nothing is printed but the error.
    let t = passwd_on_a_terminal(&["passwd"], &["one\r", "two\r"]);
    assert_eq!(t.code, 1, "{}", t.screen);
    assert!(
        t.screen.contains("the two passwords differ"),
        "{}",
        t.screen
    );
    assert!(!t.screen.contains("{SHA"), "{}", t.screen);
    assert!(t.echo_after);
    // Ctrl-C cancels and gives the terminal back as it was.
    let t = passwd_on_a_terminal(&["passwd"], &["half\x03"]);
    assert_eq!(t.code, 1, "{}", t.screen);
    assert!(t.screen.contains("cancelled"), "{}", t.screen);
    assert!(t.echo_after, "echo left off: {}", t.screen);
}

#[test]
fn passwd_from_a_pipe_takes_exactly_one_line() {
    for input in ["pw from a pipe\n", "pw from a pipe"] {
        let run = mailc(
            &root(),
            &["passwd", "--scheme", "SHA256-CRYPT"],
            Some(input),
        );
        assert_eq!(run.code, 0, "{input:?}: {}", run.stderr);
        assert!(mailc::passwd::verify("pw from a pipe", run.stdout.trim()).unwrap());
        assert!(!run.stderr.contains("Password"), "{}", run.stderr);
    }
    for (input, says) in [
        ("first\nsecond\n", "stdin holds 2 lines"),
        ("first\n\n", "stdin holds 2 lines"),
        ("", "the password is empty"),
        ("\n", "the password is empty"),
    ] {
        let run = mailc(&root(), &["passwd"], Some(input));
        assert_eq!(run.code, 1, "{input:?}: {}", run.stdout);
        assert!(run.stdout.is_empty(), "{input:?}: {}", run.stdout);
        assert!(run.stderr.contains(says), "{input:?}: {}", run.stderr);
    }
}

/// A DKIM key file not made yet: `validate` calls the spec valid and says
/// plainly that `plan` and `apply` refuse until `mailc dkim keygen` ran;
/// `plan` shows the problem itself instead of sending the reader to
/// `validate` (which would call the spec valid).
#[test]
fn validate_and_plan_agree_on_missing_dkim_keys() {
    let dir = root().join("tests/invalid");
    let run = mailc(
        &dir,
        &["validate", "--color", "never", "dkim-key-missing.yaml"],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("is valid"), "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "note: `mailc plan` and `mailc apply` refuse this spec until `mailc dkim keygen` has made"
        ),
        "{}",
        run.stderr
    );
    let out = std::env::temp_dir().join(format!("mailc-keys-out-{}", std::process::id()));
    for cmd in ["plan", "apply"] {
        let run = mailc(
            &dir,
            &[
                cmd,
                "--color",
                "never",
                "dkim-key-missing.yaml",
                "--out",
                out.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(run.code, 1, "{cmd}: {}", run.stderr);
        assert!(
            run.stderr.contains("mailc::dkim::key_missing")
                && run.stderr.contains("keys/example.com/s2026.key"),
            "{cmd}: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("run `mailc dkim keygen` to create them"),
            "{cmd}: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("mailc validate"),
            "{cmd}: {}",
            run.stderr
        );
        assert!(!out.exists(), "{cmd} wrote {}", out.display());
    }
}

/// One typo, one error: the cases of `tests/invalid` that say how many
/// problems they hold (`# expect: 1 error`) get exactly that many; checks
/// that depend on a section that could not be read stay quiet.
#[test]
fn one_typo_one_error() {
    let dir = root().join("tests/invalid");
    let mut seen = 0;
    for spec in files_with_ext(&dir, &["yaml", "kdl"]) {
        let text = std::fs::read_to_string(&spec).unwrap();
        let Some(expect) = text.lines().find_map(|l| {
            l.strip_prefix("# expect: ")
                .or(l.strip_prefix("// expect: "))
        }) else {
            continue;
        };
        let name = spec.file_name().unwrap().to_str().unwrap();
        let run = mailc(&dir, &["validate", "--color", "never", name], None);
        let summary = run.stderr.lines().last().unwrap_or("");
        assert!(
            summary.contains(&format!("({expect}")),
            "{name}: expected {expect}, got:\n{}",
            run.stderr
        );
        seen += 1;
    }
    assert!(seen >= 9, "only {seen} cases say what they expect");
}

/// Messages that name the fix: a catch-all or relay written as a bare word,
/// an MX typo whose suggestion is already listed, an address under the
/// wrong family, and an IPv6 relay with a port (accepted).
#[test]
fn messages_name_the_fix() {
    let dir = std::env::temp_dir().join(format!("mailc-fixes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = |domain_extra: &str, host_extra: &str| {
        format!(
            "version: 1\n\
             defaults: {{nameservers: [ns1.example.net], hostmaster: hostmaster@example.com, dmarc: {{policy: none}}}}\n\
             hosts:\n  mx1: {{hostname: mx1.example.com, ipv4: 203.0.113.10, stack: embedded{host_extra}}}\n  \
             mx2: {{hostname: mx2.example.com, ipv4: 203.0.113.11, stack: embedded}}\n\
             domains:\n  example.com:\n    mx: [mx1]\n{domain_extra}"
        )
    };
    let check = |name: &str, text: String, says: &[&str], never: &[&str]| {
        std::fs::write(dir.join(name), text).unwrap();
        let run = mailc(&dir, &["validate", "--color", "never", name], None);
        // The report wraps at 100 columns.
        let flat = run.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
        for s in says {
            assert!(flat.contains(s), "{name}: no {s:?} in\n{}", run.stderr);
        }
        for s in never {
            assert!(!flat.contains(s), "{name}: {s:?} in\n{}", run.stderr);
        }
        run
    };
    check(
        "forward.yaml",
        spec("    unknown_recipients: alice\n", ""),
        &[
            "`alice` is not an unknown-recipients policy",
            "write `{forward: alice}`",
            "`{relay: HOST[:PORT]}`",
        ],
        &[],
    );
    check(
        "relay.yaml",
        spec("    unknown_recipients: old.example.net:2525\n", ""),
        &["write `{relay: old.example.net:2525}`"],
        &[],
    );
    std::fs::write(
        dir.join("forward.kdl"),
        "version 1\ndefaults hostmaster=hostmaster@example.com { nameservers ns1.example.net; dmarc policy=none }\n\
         host mx1 hostname=mx1.example.com ipv4=\"203.0.113.10\" stack=embedded\n\
         domain example.com {\n    mx mx1\n    unknown-recipients alice\n}\n",
    )
    .unwrap();
    let run = mailc(&dir, &["validate", "--color", "never", "forward.kdl"], None);
    let flat = run.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("write `unknown-recipients forward=\"alice\"`"),
        "{}",
        run.stderr
    );
    check(
        "mx.yaml",
        spec("", "").replace("mx: [mx1]", "mx: [mx1, mx3]"),
        &["did you mean `mx2`?"],
        &["did you mean `mx1`?"],
    );
    check(
        "family.yaml",
        spec("", "").replace("ipv4: 203.0.113.10", "ipv4: \"2001:db8::1\""),
        &[
            "`2001:db8::1` is an IPv6 address, not an IPv4 one",
            "write it under `ipv6:`",
        ],
        &[],
    );
    let run = check(
        "v6relay.yaml",
        spec(
            "    unknown_recipients: {relay: \"[2001:db8::25]:2525\"}\n",
            "",
        ),
        &[],
        &["error"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = mailc(
        &dir,
        &[
            "route",
            "nobody@example.com",
            "v6relay.yaml",
            "--host",
            "mx1",
            "--format",
            "json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (&v["outcome"], &v["next_hop"]),
        (&"relay".into(), &"[2001:db8::25]:2525".into())
    );
    check(
        "v6bare.yaml",
        spec(
            "    unknown_recipients: {relay: \"2001:db8:0:0:0:0:0:25:2525\"}\n",
            "",
        ),
        &["written in brackets, like `[2001:db8::25]:2525`"],
        &[],
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Where the spec is: no spec, a folder, two specs, a spec in another
/// folder. Messages say what is wrong and show paths from where mailc runs.
#[test]
fn spec_paths_are_clear() {
    let dir = std::env::temp_dir().join(format!("mailc-paths-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("site")).unwrap();
    // No spec here: a message, no empty source frame.
    let run = mailc(&dir, &["validate", "--color", "never"], None);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("cannot read `mailc.yaml`: there is no such file"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains('╭'), "{}", run.stderr);
    assert!(
        run.stderr.contains("error: no spec was read"),
        "{}",
        run.stderr
    );
    let json = mailc(&dir, &["validate", "--format", "json"], None);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(v["diagnostics"][0]["line"].is_null(), "{}", json.stdout);
    // A folder: says so, and names the spec inside it.
    let spec = "version: 1\n\
                defaults: {nameservers: [ns1.example.net, ns2.example.net], hostmaster: hostmaster@example.com, dmarc: {policy: none}}\n\
                hosts:\n  mx1: {hostname: mx1.example.net, ipv4: 203.0.113.10, stack: embedded}\n\
                domains:\n  example.com:\n    mx: [mx1]\n    dkim: {selector: s1, private_key: keys/s1.pem}\n";
    std::fs::write(dir.join("site/mailc.yaml"), spec).unwrap();
    let run = mailc(&dir, &["validate", "--color", "never", "site"], None);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("`site` is a folder, not a spec file"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("give the spec inside it: `site/mailc.yaml`"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("permissions"), "{}", run.stderr);
    // A key path is shown from here, not from the spec's folder.
    let run = mailc(
        &dir,
        &["validate", "--color", "never", "site/mailc.yaml"],
        None,
    );
    assert!(
        run.stderr
            .contains("the DKIM key file `site/keys/s1.pem` does not exist yet"),
        "{}",
        run.stderr
    );
    let run = mailc(&dir, &["dkim", "keygen", "site/mailc.yaml"], None);
    assert!(
        run.stdout.contains("created site/keys/s1.pem"),
        "{}",
        run.stdout
    );
    // Two specs: the YAML is read, and a warning says so.
    std::fs::write(dir.join("mailc.yaml"), spec).unwrap();
    std::fs::write(dir.join("mailc.kdl"), "version 1\n").unwrap();
    let run = mailc(&dir, &["validate", "--color", "never"], None);
    assert!(
        run.stderr
            .contains("both mailc.yaml and mailc.kdl are in this folder; reading mailc.yaml"),
        "{}",
        run.stderr
    );
    std::fs::remove_dir_all(&dir).ok();
}
