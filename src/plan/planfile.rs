//! Saved plans (`mailc plan --save PLANFILE`): a versioned JSON document with
//! the exact bytes of every file to write — secret files by SHA-256
//! fingerprint only — plus the stamp of every file the plan expected to find
//! in `--out`. `mailc apply PLANFILE` writes those bytes without compiling
//! again, except the secret files, which it compiles again and refuses when a
//! fingerprint differs; and it refuses a plan whose `--out` has drifted.
//!
//! A plan file is written atomically with mode 0600.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::current::{self, Current, Drift, Mode, Stamp};
use super::fingerprint::Fingerprint;
use super::manifest;
use super::path::{self, PathError};
use super::{Action, Change, Desired, Plan, Summary};
use crate::output::Output;

/// The plan file format this mailc writes and reads.
pub const FORMAT: u32 = 1;

/// The marker key every plan file starts with; its value is the format.
const MARKER: &str = "mailc_plan";

#[derive(Debug, Error)]
pub enum PlanFileError {
    #[error("cannot read the plan file `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write the plan file `{}`: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("not a valid mailc plan file: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the plan file has format {found}; this mailc reads format {FORMAT}")]
    Version { found: u32 },
    #[error("the plan file names a bad path: {0}")]
    Path(#[from] PathError),
    #[error("the plan file is inconsistent at `{path}`: {why}")]
    Invalid { path: String, why: &'static str },
    #[error(
        "the spec now compiles these secret files differently than when the plan was made: {}",
        .0.join(", ")
    )]
    SecretsChanged(Vec<String>),
}

/// A saved plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// The format version, under a key that marks the file as a plan.
    pub mailc_plan: u32,
    pub mailc_version: String,
    /// The spec as given to `mailc plan` (relative to the folder it ran in):
    /// compiled again at apply time for the secret files.
    pub spec: String,
    /// `--out` as given to `mailc plan`.
    pub out: String,
    /// For people reading the file; not trusted on apply.
    pub summary: Summary,
    pub changes: Vec<SavedChange>,
    /// The files mailc owns after the apply.
    pub managed: BTreeSet<String>,
    /// What every path concerned held when the plan was made (`null`:
    /// absent), the manifest included.
    pub expected: BTreeMap<String, Option<Stamp>>,
}

/// One file to add, change or delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedChange {
    pub path: String,
    pub action: Action,
    /// The new mode (absent for a delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// A secret file: its bytes are not in the plan file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
    /// The fingerprint of the new bytes (absent for a delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Fingerprint>,
    /// The new bytes when they are UTF-8 text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The new bytes otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

/// Only the marker, to tell a plan file from a spec and check its format
/// before reading the rest.
#[derive(Deserialize)]
struct Header {
    mailc_plan: u32,
}

impl PlanFile {
    /// Records a plan; `spec` and `out` as the user gave them.
    pub fn new(plan: &Plan, spec: &str, out: &str) -> PlanFile {
        let changes = plan
            .changes
            .iter()
            .map(|c| match &c.new {
                None => SavedChange {
                    path: c.path.clone(),
                    action: c.action,
                    mode: None,
                    secret: false,
                    sha256: None,
                    text: None,
                    base64: None,
                },
                Some(n) => {
                    let (text, base64) = if n.secret {
                        (None, None)
                    } else {
                        match std::str::from_utf8(&n.bytes) {
                            Ok(t) => (Some(t.to_string()), None),
                            Err(_) => (None, Some(BASE64.encode(&n.bytes))),
                        }
                    };
                    SavedChange {
                        path: c.path.clone(),
                        action: c.action,
                        mode: Some(Mode(n.mode)),
                        secret: n.secret,
                        sha256: Some(Fingerprint::of(&n.bytes)),
                        text,
                        base64,
                    }
                }
            })
            .collect();
        PlanFile {
            mailc_plan: FORMAT,
            mailc_version: env!("CARGO_PKG_VERSION").to_string(),
            spec: spec.to_string(),
            out: out.to_string(),
            summary: plan.summary(),
            changes,
            managed: plan.managed_after.clone(),
            expected: plan.expected.clone(),
        }
    }

    /// Whether these bytes look like a plan file rather than a spec.
    pub fn sniff(bytes: &[u8]) -> bool {
        let head = &bytes[..bytes.len().min(256)];
        let text = String::from_utf8_lossy(head);
        text.trim_start().starts_with('{') && text.contains(&format!("\"{MARKER}\""))
    }

    /// Parses and checks a plan file's bytes.
    pub fn parse(bytes: &[u8]) -> Result<PlanFile, PlanFileError> {
        let header: Header = serde_json::from_slice(bytes)?;
        if header.mailc_plan != FORMAT {
            return Err(PlanFileError::Version {
                found: header.mailc_plan,
            });
        }
        let file: PlanFile = serde_json::from_slice(bytes)?;
        file.check()?;
        Ok(file)
    }

    pub fn load(path: &Path) -> Result<PlanFile, PlanFileError> {
        let bytes = std::fs::read(path).map_err(|source| PlanFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        PlanFile::parse(&bytes)
    }

    /// The plan file's bytes: pretty JSON, ending in a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// Writes the plan file atomically, mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), PlanFileError> {
        let err = |source| PlanFileError::Write {
            path: path.to_path_buf(),
            source,
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".mailc-plan.")
            .permissions(std::fs::Permissions::from_mode(0o600))
            .tempfile_in(dir)
            .map_err(err)?;
        tmp.write_all(&self.to_bytes()).map_err(err)?;
        tmp.as_file().sync_all().map_err(err)?;
        tmp.persist(path).map_err(|e| err(e.error))?;
        Ok(())
    }

    /// Whether applying needs the secret files compiled again.
    pub fn needs_secrets(&self) -> bool {
        self.changes.iter().any(|c| c.secret)
    }

    /// The paths `--out` must be scanned for to check this plan.
    pub fn expected_paths(&self) -> impl Iterator<Item = &str> {
        self.expected
            .keys()
            .map(String::as_str)
            .filter(|p| *p != manifest::FILE_NAME)
    }

    /// How `--out` differs from what the plan expected.
    pub fn drift(&self, current: &Current) -> Vec<Drift> {
        current::drift(&self.expected, &current.stamps())
    }

    /// The plan to apply: new bytes from the file (secrets from `compiled`,
    /// checked against their fingerprints), old bytes from `current`, which
    /// must have been scanned for [`Self::expected_paths`] and found without
    /// drift.
    pub fn into_plan(
        self,
        mut current: Current,
        compiled: Option<&Output>,
    ) -> Result<Plan, PlanFileError> {
        let mut changed_secrets = Vec::new();
        let mut changes = Vec::with_capacity(self.changes.len());
        for c in self.changes {
            let old = current.files.remove(&c.path).flatten();
            let new = match c.action {
                Action::Delete => None,
                Action::Add | Action::Change => {
                    let (Some(mode), Some(sha256)) = (c.mode, c.sha256) else {
                        return Err(invalid(
                            &c.path,
                            "a file to write has no mode or fingerprint",
                        ));
                    };
                    let bytes = if c.secret {
                        match compiled.and_then(|o| o.files.get(&c.path)) {
                            Some(f) if f.secret && Fingerprint::of(&f.bytes) == sha256 => {
                                f.bytes.clone()
                            }
                            _ => {
                                changed_secrets.push(c.path.clone());
                                continue;
                            }
                        }
                    } else {
                        content(&c)?
                    };
                    Some(Desired {
                        bytes,
                        mode: mode.0,
                        secret: c.secret,
                    })
                }
            };
            changes.push(Change {
                path: c.path,
                action: c.action,
                old,
                new,
            });
        }
        if !changed_secrets.is_empty() {
            return Err(PlanFileError::SecretsChanged(changed_secrets));
        }
        Ok(Plan {
            changes,
            managed_before: current.managed,
            managed_after: self.managed,
            expected: self.expected,
        })
    }

    /// Everything a hand-edited or truncated plan file could get wrong.
    fn check(&self) -> Result<(), PlanFileError> {
        let mut seen = BTreeSet::new();
        for c in &self.changes {
            path::check(&c.path)?;
            if !seen.insert(c.path.as_str()) {
                return Err(invalid(&c.path, "the path is listed twice"));
            }
            if !self.expected.contains_key(&c.path) {
                return Err(invalid(
                    &c.path,
                    "the plan does not say what it expected there",
                ));
            }
            match c.action {
                Action::Delete => {
                    if c.mode.is_some()
                        || c.sha256.is_some()
                        || c.text.is_some()
                        || c.base64.is_some()
                    {
                        return Err(invalid(&c.path, "a delete carries content"));
                    }
                    if self.managed.contains(&c.path) {
                        return Err(invalid(
                            &c.path,
                            "a deleted file is still listed as managed",
                        ));
                    }
                }
                Action::Add | Action::Change => {
                    if !self.managed.contains(&c.path) {
                        return Err(invalid(&c.path, "a written file is not listed as managed"));
                    }
                    if c.secret {
                        if c.text.is_some() || c.base64.is_some() {
                            return Err(invalid(&c.path, "a secret file carries its content"));
                        }
                        if c.sha256.is_none() {
                            return Err(invalid(&c.path, "a secret file has no fingerprint"));
                        }
                    } else {
                        let bytes = content(c)?;
                        if c.sha256 != Some(Fingerprint::of(&bytes)) {
                            return Err(invalid(
                                &c.path,
                                "the content does not match its fingerprint",
                            ));
                        }
                    }
                    if c.mode.is_none() {
                        return Err(invalid(&c.path, "a file to write has no mode"));
                    }
                }
            }
        }
        for p in &self.managed {
            path::check(p)?;
        }
        for p in self.expected.keys() {
            if p != manifest::FILE_NAME {
                path::check(p)?;
            }
        }
        Ok(())
    }
}

fn invalid(path: &str, why: &'static str) -> PlanFileError {
    PlanFileError::Invalid {
        path: path.to_string(),
        why,
    }
}

/// The new bytes of a public file.
fn content(c: &SavedChange) -> Result<Vec<u8>, PlanFileError> {
    match (&c.text, &c.base64) {
        (Some(t), None) => Ok(t.clone().into_bytes()),
        (None, Some(b)) => BASE64
            .decode(b)
            .map_err(|_| invalid(&c.path, "the base64 content does not decode")),
        _ => Err(invalid(
            &c.path,
            "a file to write needs exactly one of `text` and `base64`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::OutputFile;

    fn plan() -> (Plan, Output) {
        let mut o = Output::default();
        o.insert("dns/a.zone", OutputFile::public("a\n"));
        o.insert("bin", OutputFile::public(vec![0xff, 0x00]));
        o.insert(
            "users",
            OutputFile::secret("alice:{SHA512-CRYPT}$6$salt$hash\n"),
        );
        let plan = Plan::new(&o, Current::default()).unwrap();
        (plan, o)
    }

    #[test]
    fn round_trips_without_secret_bytes() {
        let (plan, out) = plan();
        let file = PlanFile::new(&plan, "mailc.yaml", "out");
        let bytes = file.to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(!text.contains("SHA512-CRYPT"), "{text}");
        assert!(PlanFile::sniff(&bytes));
        assert!(!PlanFile::sniff(b"version: 1\n"));
        let back = PlanFile::parse(&bytes).unwrap();
        assert_eq!(back, file);
        assert!(back.needs_secrets());
        let again = back.into_plan(Current::default(), Some(&out)).unwrap();
        assert_eq!(again, plan);
    }

    #[test]
    fn refuses_changed_secrets() {
        let (plan, mut out) = plan();
        let file = PlanFile::new(&plan, "mailc.yaml", "out");
        out.insert("users", OutputFile::secret("alice:other\n"));
        match file.clone().into_plan(Current::default(), Some(&out)) {
            Err(PlanFileError::SecretsChanged(p)) => assert_eq!(p, ["users"]),
            other => panic!("{other:?}"),
        }
        assert!(file.into_plan(Current::default(), None).is_err());
    }

    #[test]
    fn refuses_edited_files() {
        let (plan, _) = plan();
        let bytes = PlanFile::new(&plan, "mailc.yaml", "out").to_bytes();
        let text = String::from_utf8(bytes).unwrap();
        let edited = text.replace("\"text\": \"a\\n\"", "\"text\": \"evil\\n\"");
        assert_ne!(edited, text);
        assert!(matches!(
            PlanFile::parse(edited.as_bytes()),
            Err(PlanFileError::Invalid { .. })
        ));
        let escaped = text.replace("dns/a.zone", "../a.zone");
        assert!(matches!(
            PlanFile::parse(escaped.as_bytes()),
            Err(PlanFileError::Path(_))
        ));
        let future = text.replace("\"mailc_plan\": 1", "\"mailc_plan\": 2");
        assert!(matches!(
            PlanFile::parse(future.as_bytes()),
            Err(PlanFileError::Version { found: 2 })
        ));
    }
}
