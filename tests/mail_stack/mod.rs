//! Test support for the `postfix-dovecot` stack: compile a spec for a test
//! root (`mailc::backend::install::TestRoot`), check the files with Postfix's
//! and Dovecot's own tools, start real instances on 127.0.0.1, and talk to
//! them (SMTP, IMAP, `sendmail -bv`).
//!
//! The real programs are required: a missing one fails the test with a
//! pointer to `.ci/install-oracles`, never a skip. Every process started here
//! is stopped by its PID when its guard is dropped.

#![allow(dead_code)] // each test binary uses a part

pub mod client;
pub mod instance;
pub mod scenario;
#[path = "../support/mod.rs"]
mod support;

#[allow(unused_imports)] // each test binary uses a part
pub use support::{Mailc, compiled_of, copy_dir, golden, model_of, pop3, root};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mailc::backend::install::{TestRoot, TestRootContext};
use mailc::backend::{self, Context};
use mailc::model::Model;

/// Finds a program the tests need, or fails saying how to install it.
pub fn tool(name: &str) -> PathBuf {
    support::tool(
        name,
        "these tests run mailc's Postfix, Exim and Dovecot configs in the real programs",
    )
}

/// Fails unless running as root: Postfix's `postfix start` and `check` are
/// reserved for the superuser.
/// Runs `mailc test mailc.yaml --live TARGET` in `dir` (the spec's own
/// tests against a running server); `Err` holds what it said when it did
/// not pass.
pub fn mailc_test_live(dir: &Path, target: &str) -> Result<(), String> {
    let out = Mailc::new(
        dir,
        &["--color", "never", "test", "mailc.yaml", "--live", target],
    )
    .run();
    if out.code == 0 && out.stdout.contains(" passed") {
        Ok(())
    } else {
        Err(format!("{}{}", out.stdout, out.stderr))
    }
}

pub fn require_root() {
    let out = Command::new(tool("id")).arg("-u").output().expect("run id");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "0",
        "these tests start Postfix, which needs root (`postfix start` is reserved for \
         the superuser); run them as root, as CI does"
    );
}

/// Runs a program, returning its output (no check).
pub fn run(program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

pub fn show(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every folder with a `mailc.yaml` (the examples and `tests/cases/*`, in
/// name order) whose model passes `keep`: its name, path and model.
pub fn specs_where(keep: impl Fn(&Model) -> bool) -> Vec<(String, PathBuf, Model)> {
    let mut out = Vec::new();
    for parent in ["examples", "tests/cases"] {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join(parent))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("mailc.yaml").is_file())
            .collect();
        dirs.sort();
        for dir in dirs {
            let model = model_of(&dir);
            if keep(&model) {
                let name = dir.file_name().unwrap().to_string_lossy().into_owned();
                out.push((name, dir, model));
            }
        }
    }
    out
}

/// Every folder with a `mailc.yaml` that has a `postfix-dovecot` host.
pub fn postfix_specs() -> Vec<(String, PathBuf, Model)> {
    specs_where(|m| {
        m.hosts
            .values()
            .any(|h| h.stack == mailc::vocab::Stack::PostfixDovecot)
    })
}

/// The files of a spec folder (relay passwords), for a spec written by a
/// test.
pub struct SpecFiles(pub PathBuf);

impl Context for SpecFiles {
    fn previous(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
    fn private_key(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.0.join(path)).ok()
    }
}

/// No previous output, no key files.
pub struct Nothing;

impl Context for Nothing {
    fn previous(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
    fn private_key(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
    /// Relay passwords: one test-only password for every relay.
    fn secret(&self, _: &str) -> Option<Vec<u8>> {
        Some(b"not-a-real-password\n".to_vec())
    }
}

/// Compiles the Postfix and Dovecot files of `model` with `ctx` and writes
/// them under `out` (secret files 0600).
pub fn write_stack(model: &Model, ctx: &dyn Context, out: &Path) {
    let mut output = mailc::output::Output::default();
    let mut problems = Vec::new();
    backend::postfix::compile(model, ctx, &mut output, &mut problems);
    assert!(problems.is_empty(), "{problems:#?}");
    backend::dovecot::compile(model, ctx, &mut output, &mut problems);
    for (rel, file) in &output.files {
        let path = out.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &file.bytes).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(file.mode())).unwrap();
    }
}

/// Compiles `model` for a test root at `dir` (port blocks from `first_port`)
/// and writes the files there.
pub fn write_test_root(model: &Model, dir: &Path, first_port: u16) -> TestRoot {
    let root = TestRoot::new(dir.to_str().unwrap(), model, first_port);
    write_stack(
        model,
        &TestRootContext {
            inner: &Nothing,
            root: &root,
        },
        dir,
    );
    root
}

/// The lookup table sources of a Postfix config folder.
pub fn maps(dir: &Path) -> Vec<PathBuf> {
    let mut maps: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !name.contains('.') && name != "postsrsd"
        })
        .collect();
    maps.sort();
    maps
}

/// `postmap` builds every table of a Postfix config folder.
pub fn postmap_all(dir: &Path) -> Vec<String> {
    let postmap = tool("postmap");
    let mut failures = Vec::new();
    for map in maps(dir) {
        let spec = format!("hash:{}", map.display());
        let out = run(&postmap, &["-c", dir.to_str().unwrap(), &spec]);
        if !out.status.success() || !out.stderr.is_empty() {
            failures.push(format!("postmap {spec}: {}", show(&out)));
        }
    }
    failures
}
