//! Saved plans (`mailc plan --save PLANFILE`): a versioned JSON document with
//! the exact bytes of every file to write — secret files by SHA-256
//! fingerprint only — the stamp of every file the plan expected to find in
//! `--out`, the spec's path and fingerprint, and a seal (see [`super::seal`]).
//!
//! A plan file is for review; it is never the source of what is written.
//! `mailc apply PLANFILE` accepts it only when
//! 1. its seal verifies under the plan key of the folder it writes to;
//! 2. the spec it names has the very bytes it was made from (checked before
//!    the spec is parsed, so no other file is ever quoted);
//! 3. `--out` has not drifted since; and
//! 4. compiling that spec again gives exactly the saved changes — paths,
//!    actions, fingerprints and modes (0644, or 0600 for secrets).
//!
//! Then it writes the plan it just compiled, which is that plan.
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
use super::managed;
use super::path::{self, PathError};
use super::seal::{PlanKey, SealError};
use super::{Action, Plan, Summary};
use crate::limits::ReadError;

/// The plan file format this mailc writes and reads.
pub const FORMAT: u32 = 2;

/// How many differing paths an error names before it counts the rest.
const NAMED: usize = 10;

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
        "the plan file is larger than {}",
        crate::limits::bytes(crate::limits::PLAN_FILE_BYTES)
    )]
    TooLarge,
    #[error("the plan file is not sealed")]
    Unsealed,
    #[error(
        "`{}` holds no plan key, so no plan was saved for it; `mailc plan --save` makes one",
        .0.display()
    )]
    NoKey(PathBuf),
    #[error(
        "the plan file's seal does not verify: it was changed after mailc saved it, or saved for another output folder than `{}`",
        .0.display()
    )]
    BadSeal(PathBuf),
    #[error(
        "`{0}` is not the spec this plan was made from: it changed since, or cannot be read as it was"
    )]
    SpecChanged(String),
    #[error("the spec now compiles differently than when the plan was made: {}", list(.0))]
    Differs(Vec<String>),
    #[error(transparent)]
    Seal(#[from] SealError),
}

/// At most [`NAMED`] paths, then a count.
fn list(paths: &[String]) -> String {
    let mut s = paths
        .iter()
        .take(NAMED)
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > NAMED {
        s.push_str(&format!(" and {} more", paths.len() - NAMED));
    }
    s
}

/// A saved plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// The format version, under a key that marks the file as a plan.
    pub mailc_plan: u32,
    pub mailc_version: String,
    /// The spec as given to `mailc plan` (relative to the folder it ran in):
    /// compiled again at apply time.
    pub spec: String,
    /// The fingerprint of the spec's bytes when the plan was made.
    pub spec_sha256: Fingerprint,
    /// `--out` as given to `mailc plan`.
    pub out: String,
    /// For people reading the file.
    pub summary: Summary,
    pub changes: Vec<SavedChange>,
    /// The files mailc owns after the apply.
    pub managed: BTreeSet<String>,
    /// What every path concerned held when the plan was made (`null`:
    /// absent), the managed list included.
    pub expected: BTreeMap<String, Option<Stamp>>,
    /// Zones pushed to DNS servers: the state each was read in, and what
    /// the push changes there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<SavedZone>,
    /// HMAC-SHA256 of the file without this field, under `--out`'s plan
    /// key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<String>,
}

/// One zone's push in a saved plan. At apply time the zone is read from
/// its server again and the push computed again; both must be these.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedZone {
    pub zone: String,
    pub target: String,
    /// The zone's SOA serial when the plan was made.
    pub serial: u32,
    /// A fingerprint of every record the server served then.
    pub fingerprint: Fingerprint,
    /// The records removed (`- …`) and added (`+ …`), and TTLs changed
    /// (`~ …`), as the plan shows them.
    pub changes: Vec<String>,
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
    /// Records a plan, unsealed; `spec` and `out` as the user gave them,
    /// `spec_sha256` the fingerprint of the spec's bytes.
    pub fn new(plan: &Plan, spec: &str, spec_sha256: Fingerprint, out: &str) -> PlanFile {
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
            spec_sha256,
            out: out.to_string(),
            summary: plan.summary(),
            changes,
            managed: plan.managed_after.clone(),
            expected: plan.expected.clone(),
            dns: Vec::new(),
            seal: None,
        }
    }

    /// Seals the plan under `key`.
    pub fn seal(&mut self, key: &PlanKey) {
        self.seal = None;
        self.seal = Some(key.seal(&self.to_bytes()));
    }

    /// Checks the seal under `key` (the key of the folder it writes to).
    pub fn verify(&mut self, key: &PlanKey, out: &Path) -> Result<(), PlanFileError> {
        let Some(seal) = self.seal.take() else {
            return Err(PlanFileError::Unsealed);
        };
        let ok = key.verify(&self.to_bytes(), &seal);
        self.seal = Some(seal);
        if ok {
            Ok(())
        } else {
            Err(PlanFileError::BadSeal(out.to_path_buf()))
        }
    }

    /// Checks that `spec` holds the bytes the plan was made from. Nothing of
    /// a file that fails is shown.
    pub fn check_spec(&self, spec: &[u8]) -> Result<(), PlanFileError> {
        if Fingerprint::of(spec) == self.spec_sha256 {
            Ok(())
        } else {
            Err(PlanFileError::SpecChanged(self.spec.clone()))
        }
    }

    /// Checks that `now` — the spec compiled again, against `--out` as it
    /// is — makes exactly the saved changes and leaves exactly the saved
    /// files managed; returns it to apply, expecting `--out` to be what the
    /// saved plan saw (the apply checks that again under its lock).
    pub fn confirm(&self, mut now: Plan) -> Result<Plan, PlanFileError> {
        let saved: BTreeMap<&str, &SavedChange> =
            self.changes.iter().map(|c| (c.path.as_str(), c)).collect();
        let mut differ: BTreeSet<String> = BTreeSet::new();
        for c in &now.changes {
            let same = saved.get(c.path.as_str()).is_some_and(|s| {
                s.action == c.action
                    && match &c.new {
                        None => s.sha256.is_none() && s.mode.is_none(),
                        Some(n) => {
                            s.mode == Some(Mode(n.mode))
                                && s.secret == n.secret
                                && s.sha256 == Some(Fingerprint::of(&n.bytes))
                        }
                    }
            });
            if !same {
                differ.insert(c.path.clone());
            }
        }
        let now_paths: BTreeSet<&str> = now.changes.iter().map(|c| c.path.as_str()).collect();
        differ.extend(
            saved
                .keys()
                .filter(|p| !now_paths.contains(*p))
                .map(|p| p.to_string()),
        );
        differ.extend(
            self.managed
                .symmetric_difference(&now.managed_after)
                .cloned(),
        );
        if !differ.is_empty() {
            return Err(PlanFileError::Differs(differ.into_iter().collect()));
        }
        now.expected = self.expected.clone();
        Ok(now)
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
        let bytes =
            crate::limits::read(path, crate::limits::PLAN_FILE_BYTES).map_err(|e| match e {
                ReadError::TooLarge { .. } => PlanFileError::TooLarge,
                ReadError::NotAFile => PlanFileError::Read {
                    path: path.to_path_buf(),
                    source: io::Error::other("not a regular file"),
                },
                ReadError::Io(source) => PlanFileError::Read {
                    path: path.to_path_buf(),
                    source,
                },
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

    /// The paths `--out` must be scanned for to check this plan.
    pub fn expected_paths(&self) -> impl Iterator<Item = &str> {
        self.expected
            .keys()
            .map(String::as_str)
            .filter(|p| *p != managed::FILE_NAME)
    }

    /// How `--out` differs from what the plan expected.
    pub fn drift(&self, current: &Current) -> Vec<Drift> {
        current::drift(&self.expected, &current.stamps())
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
                    // Secrets 0600, the rest 0644: no other mode is ever written.
                    let want = if c.secret { 0o600 } else { 0o644 };
                    match c.mode {
                        None => return Err(invalid(&c.path, "a file to write has no mode")),
                        Some(Mode(m)) if m != want => {
                            return Err(invalid(
                                &c.path,
                                "the mode is not 0644 (0600 for a secret file)",
                            ));
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        for p in &self.managed {
            path::check(p)?;
        }
        for p in self.expected.keys() {
            if p != managed::FILE_NAME {
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
    use crate::output::{Output, OutputFile};

    fn output(users: &str) -> Output {
        let mut o = Output::default();
        o.insert("dns/a.zone", OutputFile::public("a\n"));
        o.insert("bin", OutputFile::public(vec![0xff, 0x00]));
        o.insert("users", OutputFile::secret(users));
        o
    }

    fn plan() -> Plan {
        Plan::new(
            &output("alice:{SHA512-CRYPT}$6$salt$hash\n"),
            Current::default(),
        )
        .unwrap()
    }

    fn saved(plan: &Plan) -> PlanFile {
        PlanFile::new(plan, "mailc.yaml", Fingerprint::of(b"spec"), "out")
    }

    fn key() -> (tempfile::TempDir, PlanKey) {
        let dir = tempfile::tempdir().unwrap();
        let k = PlanKey::load_or_create(dir.path()).unwrap();
        (dir, k)
    }

    #[test]
    fn round_trips_without_secret_bytes() {
        let plan = plan();
        let (_dir, key) = key();
        let mut file = saved(&plan);
        file.seal(&key);
        let bytes = file.to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(!text.contains("SHA512-CRYPT"), "{text}");
        assert!(PlanFile::sniff(&bytes));
        assert!(!PlanFile::sniff(b"version: 1\n"));
        let mut back = PlanFile::parse(&bytes).unwrap();
        assert_eq!(back, file);
        back.verify(&key, Path::new("out")).unwrap();
        back.check_spec(b"spec").unwrap();
        assert!(matches!(
            back.check_spec(b"root:x:0:0\n"),
            Err(PlanFileError::SpecChanged(_))
        ));
        assert_eq!(back.confirm(plan.clone()).unwrap(), plan);
    }

    /// What the spec compiles to now must be what was saved, secrets
    /// included (by fingerprint).
    #[test]
    fn confirms_only_the_same_changes() {
        let file = saved(&plan());
        let other = Plan::new(&output("alice:other\n"), Current::default()).unwrap();
        match file.confirm(other) {
            Err(PlanFileError::Differs(p)) => assert_eq!(p, ["users"]),
            other => panic!("{other:?}"),
        }
        let mut fewer = output("alice:{SHA512-CRYPT}$6$salt$hash\n");
        fewer.files.remove("bin");
        let fewer = Plan::new(&fewer, Current::default()).unwrap();
        match file.confirm(fewer) {
            Err(PlanFileError::Differs(p)) => assert_eq!(p, ["bin"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_edited_plan_loses_its_seal() {
        let (_dir, key) = key();
        let mut file = saved(&plan());
        file.seal(&key);
        let text = String::from_utf8(file.to_bytes()).unwrap();
        for edited in [
            text.replace("\"spec\": \"mailc.yaml\"", "\"spec\": \"/etc/shadow\""),
            text.replace("\"out\": \"out\"", "\"out\": \"/etc\""),
        ] {
            assert_ne!(edited, text);
            let mut f = PlanFile::parse(edited.as_bytes()).unwrap();
            assert!(matches!(
                f.verify(&key, Path::new("out")),
                Err(PlanFileError::BadSeal(_))
            ));
        }
        let mut unsealed = saved(&plan());
        assert!(matches!(
            unsealed.verify(&key, Path::new("out")),
            Err(PlanFileError::Unsealed)
        ));
    }

    #[test]
    fn refuses_inconsistent_files() {
        let text = String::from_utf8(saved(&plan()).to_bytes()).unwrap();
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
        let future = text.replace("\"mailc_plan\": 2", "\"mailc_plan\": 3");
        assert!(matches!(
            PlanFile::parse(future.as_bytes()),
            Err(PlanFileError::Version { found: 3 })
        ));
        for (from, to) in [("\"0644\"", "\"6777\""), ("\"0600\"", "\"0644\"")] {
            let moded = text.replacen(from, to, 1);
            assert_ne!(moded, text);
            assert!(
                matches!(
                    PlanFile::parse(moded.as_bytes()),
                    Err(PlanFileError::Invalid { .. })
                ),
                "{to}"
            );
        }
    }
}
