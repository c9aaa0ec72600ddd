//! `mailc import SOURCE... [--dialect yaml|kdl] [--out SPEC] [--root DIR]`:
//! writes a spec from an existing setup (docs/import.md) and prints the
//! report of what it could not carry over. The spec is written only when
//! every source was read and the spec compiles, never over an existing
//! file, and with mode 0600 (it holds password hashes).

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::import::{self, Failure, report::Severity};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Dialect {
    Yaml,
    Kdl,
}

#[derive(Args)]
pub struct ImportArgs {
    /// What to import: zone files (or a folder of them), Postfix's config
    /// folder (with main.cf), Dovecot passwd-files, a docker-mailserver
    /// config folder, a copy of a cPanel server's root. Prefix `zone:`,
    /// `postfix:`, `dovecot:`, `dms:` or `cpanel:` to say which.
    #[arg(required = true, value_name = "SOURCE")]
    sources: Vec<String>,
    /// The dialect of the spec (default: from --out's name, else YAML).
    #[arg(long, value_enum)]
    dialect: Option<Dialect>,
    /// The spec to write (default: mailc.yaml, or mailc.kdl with `--dialect
    /// kdl`). An existing file is never overwritten.
    #[arg(long, value_name = "SPEC")]
    out: Option<PathBuf>,
    /// A copy of a server's file system: absolute paths in the sources are
    /// read below it, and nothing outside it is read.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
}

pub(crate) fn run(args: ImportArgs) -> ExitCode {
    let from_name = |p: &PathBuf| {
        if p.extension().is_some_and(|e| e == "kdl") {
            Dialect::Kdl
        } else {
            Dialect::Yaml
        }
    };
    let (out, dialect) = match (&args.out, args.dialect) {
        (Some(p), Some(d)) if from_name(p) != d => {
            return super::fail(
                &format!(
                    "`{}` would be read as {}",
                    p.display(),
                    if d == Dialect::Kdl { "YAML" } else { "KDL" }
                ),
                Some(
                    "mailc reads `.kdl` files as KDL and anything else as YAML: name the file to match --dialect",
                ),
            );
        }
        (Some(p), d) => (p.clone(), d.unwrap_or_else(|| from_name(p))),
        (None, Some(Dialect::Kdl)) => (PathBuf::from("mailc.kdl"), Dialect::Kdl),
        (None, _) => (PathBuf::from("mailc.yaml"), Dialect::Yaml),
    };
    if out.exists() {
        return super::fail(
            &format!(
                "`{}` already exists; mailc import never overwrites a spec",
                out.display()
            ),
            Some("give another name with --out, or move the file away"),
        );
    }
    let opts = import::Options {
        kdl: dialect == Dialect::Kdl,
        root: args.root,
        spec_name: out.display().to_string(),
    };
    let imported = match import::run(&args.sources, &opts) {
        Ok(i) => i,
        Err(Failure::Sources(errors)) => {
            let mut err = std::io::stderr().lock();
            for e in &errors {
                let _ = writeln!(err, "{e}");
            }
            let n = errors.len();
            return super::fail(
                &format!(
                    "{n} problem{} in the sources; nothing was written",
                    if n == 1 { "" } else { "s" }
                ),
                None,
            );
        }
        Err(Failure::Spec { rendered, .. }) => {
            eprint!("{rendered}");
            return super::fail(
                "the spec made from these sources does not compile; nothing was written",
                Some("this is a bug in mailc import: please report it with the diagnostics above"),
            );
        }
    };
    let mut err = std::io::stderr().lock();
    for f in &imported.findings {
        let _ = writeln!(err, "{f}");
    }
    drop(err);
    if let Err(e) = write_new(&out, imported.text.as_bytes()) {
        return super::fail(&format!("cannot write `{}`: {e}", out.display()), None);
    }
    let warnings = imported
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    let notes = imported
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Note)
        .count();
    let n = |k: usize, w: &str| format!("{k} {w}{}", if k == 1 { "" } else { "s" });
    println!(
        "wrote {}: {}, {}, {}, {}{}",
        out.display(),
        n(imported.hosts, "host"),
        n(imported.domains, "domain"),
        if imported.mailboxes == 1 {
            "1 mailbox".to_string()
        } else {
            format!("{} mailboxes", imported.mailboxes)
        },
        if imported.aliases == 1 {
            "1 alias".to_string()
        } else {
            format!("{} aliases", imported.aliases)
        },
        if warnings + notes > 0 {
            format!(
                "; not carried over as it was: {} and {} (above)",
                n(warnings, "warning"),
                n(notes, "note")
            )
        } else {
            String::new()
        }
    );
    ExitCode::SUCCESS
}

/// Creates `path` (never over an existing file), mode 0600, with `bytes`.
fn write_new(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}
