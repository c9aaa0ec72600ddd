//! Helpers every integration test crate shares: the repository root, scratch
//! folders, copying a spec folder, and a spec read through the library.
//! (Each `tests/*.rs` is its own crate, so not every one uses every helper.)
#![allow(dead_code)]

pub mod dns;
pub mod golden;
pub mod imap;
pub mod pop3;
pub mod serve;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch folder under the system's temp dir, removed when dropped.
pub struct Temp(pub PathBuf);

impl Temp {
    pub fn new(label: &str) -> Temp {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "mailc-test-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Temp(p)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies a folder tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A spec folder's `mailc.yaml` as the library's model (every key file
/// counted as present).
pub fn model_of(dir: &Path) -> mailc::model::Model {
    let compiled = compiled_of(dir);
    compiled
        .model
        .unwrap_or_else(|| panic!("a valid spec: {:#?}", compiled.diagnostics))
}

/// A spec folder's `mailc.yaml` through the front half (every key file
/// counted as present).
pub fn compiled_of(dir: &Path) -> mailc::compile::Compiled {
    let text = std::fs::read_to_string(dir.join("mailc.yaml")).unwrap();
    let source = mailc::source::Source::new("mailc.yaml", text, mailc::source::Dialect::Yaml);
    mailc::compile::compile(source, &mailc::compile::Inputs::text_only())
}

/// The folder of a route table: an example, else a test case, of that name.
pub fn spec_dir(name: &str) -> PathBuf {
    let ex = root().join("examples").join(name);
    if ex.is_dir() {
        ex
    } else {
        root().join("tests/cases").join(name)
    }
}

/// A port of `first..first+1000` free on 127.0.0.1, different for every
/// call in this process (test crates own disjoint blocks; processes start
/// at different offsets).
pub fn free_port(first: u16) -> u16 {
    use std::sync::atomic::AtomicU16;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = (std::process::id() % 50) as u16 * 20;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = first + (base + n) % 1000;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
        assert!(n < 2000, "no free port in {first}-{}", first + 999);
    }
}

/// This machine's address on its default route: not loopback (for what
/// a server does with a client from elsewhere).
pub fn outside_address() -> String {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    // connect() on UDP only picks a route; nothing is sent.
    probe
        .connect("192.0.2.1:9")
        .or_else(|_| probe.connect("10.255.255.1:9"))
        .expect("this test needs a network interface besides loopback");
    let ip = probe.local_addr().unwrap().ip();
    assert!(
        !ip.is_loopback() && !ip.is_unspecified(),
        "this test needs a network interface besides loopback"
    );
    ip.to_string()
}

/// A program the tests need (on PATH, or in /usr/sbin, /usr/bin), or a
/// failure saying what it is for and how to install it.
pub fn tool(name: &str, for_what: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .chain(["/usr/sbin".into(), "/usr/bin".into()])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("`{name}` is not installed; {for_what}. Run `.ci/install-oracles`")
        })
}

/// Why the JSON Schema checks need Python's `jsonschema` and `check-jsonschema`.
const SCHEMA_TOOLS: &str = "the JSON Schema tests check `schemas/mailc.schema.json` with \
     Python's jsonschema and check-jsonschema, which `.ci/install-oracles` installs into /opt/oracle-venv";

/// The Python of the oracles' virtualenv (it has `jsonschema`).
fn schema_python() -> PathBuf {
    let py = PathBuf::from("/opt/oracle-venv/bin/python");
    assert!(py.is_file(), "{SCHEMA_TOOLS}");
    py
}

/// Each document checked against `schemas/mailc.schema.json` by Python's
/// `jsonschema` (draft 2020-12): `None` when it conforms, else the first
/// complaint.
pub fn schema_verdicts(docs: &[serde_json::Value]) -> Vec<Option<String>> {
    use std::io::Write;
    const SCRIPT: &str = r#"
import json, sys
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
v = Draft202012Validator(schema)
out = []
for doc in json.load(sys.stdin):
    if v.is_valid(doc):
        out.append(None)
        continue
    e = best_match(v.iter_errors(doc))
    out.append("/".join(map(str, e.absolute_path)) + ": " + e.message[:300])
json.dump(out, sys.stdout)
"#;
    let mut child = std::process::Command::new(schema_python())
        .args(["-c", SCRIPT])
        .arg(root().join("schemas/mailc.schema.json"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{SCHEMA_TOOLS}: {e}"));
    let input = serde_json::to_vec(docs).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{SCHEMA_TOOLS}");
    serde_json::from_slice(&out.stdout).expect("the checker's verdicts")
}

/// Checks YAML files against `schemas/mailc.schema.json` as an editor
/// would: `check-jsonschema`, which reads the YAML itself. `Err` holds its
/// report.
pub fn check_jsonschema(files: &[PathBuf]) -> Result<(), String> {
    let exe = PathBuf::from("/opt/oracle-venv/bin/check-jsonschema");
    assert!(exe.is_file(), "{SCHEMA_TOOLS}");
    let out = std::process::Command::new(exe)
        .arg("--schemafile")
        .arg(root().join("schemas/mailc.schema.json"))
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("{SCHEMA_TOOLS}: {e}"));
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Git as the tests run it: no user or system configuration, fixed names
/// and dates, so commits (and the pinned comment) are the same everywhere.
pub fn git_cmd(dir: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(tool("git", "`mailc diff` reads revisions with git"));
    c.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Admin")
        .env("GIT_AUTHOR_EMAIL", "admin@example.com")
        .env("GIT_COMMITTER_NAME", "Admin")
        .env("GIT_COMMITTER_EMAIL", "admin@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .stdin(std::process::Stdio::null());
    c
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_cmd(dir).args(args).output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What a run of the `mailc` binary did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Everything it said, for assertion messages.
    pub fn said(&self) -> String {
        format!("exit {}\n{}{}", self.code, self.stdout, self.stderr)
    }
}

/// Runs `mailc ARGS` in `dir`, without color and with no stdin.
pub fn mailc(dir: &Path, args: &[&str]) -> Run {
    Mailc::new(dir, args).run()
}

/// One run of the `mailc` binary, built up before it runs: by default
/// without color, with no stdin, and with the fault injection of
/// `MAILC_FAULT_AFTER_STEPS` off whatever the test's own environment says.
pub struct Mailc {
    cmd: std::process::Command,
    stdin: Option<Vec<u8>>,
}

impl Mailc {
    /// `mailc ARGS` in `dir`.
    pub fn new(dir: &Path, args: &[&str]) -> Mailc {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mailc"));
        cmd.current_dir(dir)
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("MAILC_FAULT_AFTER_STEPS");
        Mailc { cmd, stdin: None }
    }

    /// Leaves color to mailc's own choice (`NO_COLOR` unset), as a user's
    /// shell would.
    pub fn color_as_users_see_it(mut self) -> Mailc {
        self.cmd.env_remove("NO_COLOR");
        self
    }

    /// One more argument.
    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Mailc {
        self.cmd.arg(arg);
        self
    }

    /// One more variable in mailc's environment.
    pub fn env(mut self, key: &str, value: &str) -> Mailc {
        self.cmd.env(key, value);
        self
    }

    /// What mailc reads on its standard input (a pipe, not a terminal).
    pub fn stdin(mut self, input: &str) -> Mailc {
        self.stdin = Some(input.as_bytes().to_vec());
        self
    }

    /// Runs it to the end.
    pub fn run(self) -> Run {
        let out = self.output();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs it to the end: its status and output as bytes.
    pub fn output(mut self) -> std::process::Output {
        use std::io::Write as _;
        use std::process::Stdio;
        self.cmd
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("run mailc");
        if let Some(input) = &self.stdin {
            // mailc may refuse before reading (a bad flag): a broken pipe is no failure.
            let _ = child.stdin.take().expect("stdin").write_all(input);
        }
        child.wait_with_output().expect("wait for mailc")
    }
}
