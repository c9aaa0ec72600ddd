//! `mailc dkim keygen [SPEC]`: creates every DKIM `private_key` file the spec
//! names that does not exist yet — RSA (2048/3072/4096) or Ed25519 as the
//! key's `algorithm` says, PEM (PKCS#8), mode 0600 from the moment it exists,
//! folders made as needed (mode 0700). An existing file is never touched.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use super::load;
use crate::diag::{Severity, render};
use crate::model::{DkimAlgorithm, DkimSource, Model};
use crate::validate::dkim::MissingKey;

#[derive(Subcommand)]
pub(crate) enum DkimCommand {
    /// Create every `private_key` file the spec names that does not exist yet (mode 0600).
    #[command(after_help = super::manual::examples(&[
        ("mailc dkim keygen", "Make the keys ./mailc.yaml names; existing files are left alone."),
        ("mailc dkim keygen site/mailc.kdl", "The same for a spec elsewhere (paths are relative to it)."),
    ]))]
    Keygen {
        /// The spec (default: mailc.yaml, else mailc.kdl).
        spec: Option<PathBuf>,
    },
}

pub(crate) fn run(cmd: DkimCommand, color: bool) -> ExitCode {
    match cmd {
        DkimCommand::Keygen { spec } => keygen(spec, color),
    }
}

/// Every key file the spec names, once, with the algorithm of its first use.
fn key_files(model: &Model) -> BTreeMap<&str, DkimAlgorithm> {
    let mut files = BTreeMap::new();
    for d in model.domains.values() {
        for k in &d.dkim {
            if let DkimSource::PrivateKey(path) = &k.source {
                files.entry(path.as_str()).or_insert(k.algorithm);
            }
        }
    }
    files
}

fn algorithm_name(a: DkimAlgorithm) -> &'static str {
    match a {
        DkimAlgorithm::Rsa2048 => "rsa-2048",
        DkimAlgorithm::Rsa3072 => "rsa-3072",
        DkimAlgorithm::Rsa4096 => "rsa-4096",
        DkimAlgorithm::Ed25519 => "ed25519",
    }
}

fn keygen(spec: Option<PathBuf>, color: bool) -> ExitCode {
    let path = load::spec_path(spec.as_deref());
    let loaded = load::load(&path, MissingKey::Warn);
    let Some(model) = &loaded.model else {
        let errors: Vec<_> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .cloned()
            .collect();
        eprint!("{}", render::graphical(&errors, &loaded.source, color));
        return super::fail(
            &format!("{} is invalid; no keys were made", loaded.source.name),
            Some("fix the errors above (`mailc validate` shows them all), then run keygen again"),
        );
    };
    let (mut created, mut present, mut failed) = (0, 0, 0);
    for (file, algorithm) in key_files(model) {
        let full = loaded.dir.join(file);
        if full.exists() {
            present += 1;
            continue;
        }
        match create(&full, algorithm) {
            Ok(()) => {
                created += 1;
                println!("created {file} ({})", algorithm_name(algorithm));
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: cannot create `{file}`: {e}");
            }
        }
    }
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    println!(
        "{created} key{} created, {present} already present",
        plural(created)
    );
    if failed > 0 {
        return super::fail(
            &format!("{failed} key file{} could not be created", plural(failed)),
            Some("check that the key folders are writable"),
        );
    }
    ExitCode::SUCCESS
}

/// Writes a new key to `path`: folders 0700, the file 0600 from its
/// creation, and never over an existing file (`create_new`).
pub(super) fn create(path: &Path, algorithm: DkimAlgorithm) -> Result<(), String> {
    let pem = crate::dkim::generate(algorithm).map_err(|e| e.to_string())?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot make its folder: {e}"))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| e.to_string())?;
    file.write_all(pem.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| e.to_string())
}
