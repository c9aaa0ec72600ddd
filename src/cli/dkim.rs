//! `mailc dkim keygen [SPEC]`: creates every DKIM `private_key` file the spec
//! names that does not exist yet (`mailc dkim rotate` makes one new key and
//! says how to bring it into the spec) — RSA (2048/3072/4096) or Ed25519 as the
//! key's `algorithm` says, PEM (PKCS#8), mode 0600 from the moment it exists,
//! folders made as needed (mode 0700). An existing file is never touched.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use super::load;
use crate::dkim::DkimAlgorithm;
use crate::model::MissingKey;
use crate::model::{DkimSource, Model};
use crate::vocab::DkimState;

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
    /// Make a new key for a domain and print the spec change that publishes
    /// it without signing yet (the first step of a rotation).
    #[command(after_help = super::manual::examples(&[
        ("mailc dkim rotate example.com", "A new key of the algorithm the domain signs with, selector sYYYYMMDD."),
        ("mailc dkim rotate example.com --selector s2 --algorithm ed25519", "A chosen selector and algorithm."),
    ]))]
    Rotate {
        /// The domain whose key is replaced.
        domain: String,
        /// The spec (default: mailc.yaml, else mailc.kdl).
        spec: Option<PathBuf>,
        /// The new key's selector (default: `s` and today's date, UTC).
        #[arg(long)]
        selector: Option<String>,
        /// rsa-2048, rsa-3072, rsa-4096 or ed25519 (default: that of the
        /// key the domain signs with).
        #[arg(long)]
        algorithm: Option<String>,
    },
}

pub(crate) fn run(cmd: DkimCommand, color: bool) -> ExitCode {
    match cmd {
        DkimCommand::Keygen { spec } => keygen(spec, color),
        DkimCommand::Rotate {
            domain,
            spec,
            selector,
            algorithm,
        } => rotate(&domain, spec, selector, algorithm.as_deref(), color),
    }
}

/// Today's date as `YYYYMMDD` (UTC).
fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let date = epoch
        .checked_add_days(chrono::Days::new(days))
        .unwrap_or(epoch);
    date.format("%Y%m%d").to_string()
}

/// `mailc dkim rotate DOMAIN`: a new key file, and the spec change that
/// publishes it in state `published`; the steps that follow are printed.
fn rotate(
    domain: &str,
    spec: Option<PathBuf>,
    selector: Option<String>,
    algorithm: Option<&str>,
    color: bool,
) -> ExitCode {
    let path = load::spec_path(spec.as_deref());
    let loaded = load::load(&path, MissingKey::Warn);
    let model = match loaded.valid(
        color,
        "no key was made",
        "fix the errors above (`mailc validate` shows them all), then rotate again",
    ) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let name = crate::model::names::domain(domain).unwrap_or_else(|_| domain.to_string());
    let Some(d) = model.domains.get(&name) else {
        return super::fail(
            &format!("`{domain}` is not a domain of {}", loaded.source.name),
            Some("name one of the spec's domains"),
        );
    };
    let algorithm = match algorithm {
        Some(a) => match [
            DkimAlgorithm::Rsa2048,
            DkimAlgorithm::Rsa3072,
            DkimAlgorithm::Rsa4096,
            DkimAlgorithm::Ed25519,
        ]
        .into_iter()
        .find(|x| algorithm_name(*x) == a)
        {
            Some(x) => x,
            None => {
                return super::fail(
                    &format!("`{a}` is not a DKIM algorithm"),
                    Some("use rsa-2048, rsa-3072, rsa-4096 or ed25519"),
                );
            }
        },
        None => d
            .dkim
            .iter()
            .find(|k| k.sign)
            .or(d.dkim.first())
            .map_or(DkimAlgorithm::Rsa2048, |k| k.algorithm),
    };
    let taken = |s: &str| d.dkim.iter().any(|k| k.selector == s);
    let selector = match selector {
        Some(s) => match crate::model::names::dns_name(&s) {
            Ok(s) if !taken(&s) => s,
            Ok(s) => {
                return super::fail(
                    &format!("`{name}` has a DKIM key `{s}` already"),
                    Some("choose another `--selector`"),
                );
            }
            Err(why) => {
                return super::fail(
                    &format!("`{s}` is not a DKIM selector: {why}"),
                    Some("a selector is one or more DNS labels, like `s2026`"),
                );
            }
        },
        None => {
            let base = format!("s{}", today());
            let mut s = base.clone();
            for c in 'b'..='z' {
                if !taken(&s) {
                    break;
                }
                s = format!("{base}{c}");
            }
            s
        }
    };
    let written = format!("keys/{name}/{selector}.key");
    let full = loaded.dir.join(&written);
    let file = load::shown(&loaded.dir, &written);
    if full.exists() {
        return super::fail(
            &format!("`{file}` exists already; no key was made"),
            Some("choose another `--selector`, or remove the file if it is not in use"),
        );
    }
    if let Err(e) = create(&full, algorithm) {
        return super::fail(&format!("cannot create `{file}`: {e}"), None);
    }
    let alg = algorithm_name(algorithm);
    println!(
        "created {file} ({alg})
"
    );
    let replaces = d.dkim.iter().find(|k| k.sign).map(|k| k.selector.clone());
    // The file that defines the domain (the main spec or an included one).
    let holder = load::domain_file(&loaded.source, &name);
    let spec_name = &holder.name;
    match holder.dialect {
        crate::source::Dialect::Kdl => println!(
            "Add this node to `domain {name}` in {spec_name} (published, not signing yet):\n\n    \
             dkim {selector} algorithm={alg} private-key=\"{written}\" state=published\n"
        ),
        crate::source::Dialect::Yaml => println!(
            "Add this key to the `dkim` list of `{name}` in {spec_name} (published, not signing yet):\n\n      \
             - {{selector: {selector}, algorithm: {alg}, private_key: {written}, state: published}}\n"
        ),
    }
    let retire = match &replaces {
        Some(old) => format!(", and the key it replaces (`{old}`) `state: retired`"),
        None => String::new(),
    };
    println!(
        "Then:\n  \
         1. `mailc apply` publishes its record (signing with it is refused until DNS serves it);\n  \
         2. once DNS serves it (`mailc check`), give it `state: signing`{retire}, and apply again;"
    );
    if replaces.is_some() {
        println!(
            "  3. when mail signed with the old key is no longer in flight (a few days), give the \
             old key `state: revoked`, or remove it."
        );
    }
    ExitCode::SUCCESS
}

/// Every key file the spec names, once, with the algorithm of its first use.
fn key_files(model: &Model) -> BTreeMap<&str, DkimAlgorithm> {
    let mut files = BTreeMap::new();
    for d in model.domains.values() {
        // A revoked key publishes no key: its file is not needed.
        for k in d.dkim.iter().filter(|k| k.state != DkimState::Revoked) {
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
    let model = match loaded.valid(
        color,
        "no keys were made",
        "fix the errors above (`mailc validate` shows them all), then run keygen again",
    ) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let (mut created, mut present, mut failed) = (0, 0, 0);
    for (file, algorithm) in key_files(model) {
        let full = loaded.dir.join(file);
        let file = load::shown(&loaded.dir, file);
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
