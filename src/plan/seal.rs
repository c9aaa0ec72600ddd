//! The seal of saved plans: an HMAC-SHA256 under a key kept in the output
//! folder (`--out/.mailc-plan.key`, 32 random bytes, mode 0600, owned by the
//! user mailc runs as). `mailc plan --save` makes the key when it is absent
//! and seals the plan file; `mailc apply PLANFILE` refuses a plan file whose
//! seal does not verify under the key of the folder it writes to. Whoever
//! can edit a plan file but cannot read the key cannot make mailc accept it.

use std::io::Write as _;
use std::path::Path;

use ring::hmac;
use thiserror::Error;

use super::tree::{Tree, TreeError};

/// The key's file name in `--out` (mailc's own prefix: no output path can
/// collide with it).
pub const KEY_FILE: &str = ".mailc-plan.key";

const KEY_LEN: usize = 32;

#[derive(Debug, Error)]
pub enum SealError {
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error("cannot make a random key: {0}")]
    Random(String),
}

/// The key that seals plan files for one output folder.
pub struct PlanKey(hmac::Key);

impl std::fmt::Debug for PlanKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlanKey(…)")
    }
}

impl PlanKey {
    /// The key of `out`; `None` when `out` or the key does not exist.
    pub fn load(out: &Path) -> Result<Option<PlanKey>, SealError> {
        let mut tree = Tree::new(out);
        let Some(root) = tree.folder("")? else {
            return Ok(None);
        };
        Ok(root
            .read_private(KEY_FILE, KEY_LEN)?
            .map(|k| PlanKey(hmac::Key::new(hmac::HMAC_SHA256, &k))))
    }

    /// The key of `out`, made (and `out` with it) when absent.
    pub fn load_or_create(out: &Path) -> Result<PlanKey, SealError> {
        let mut tree = Tree::new(out);
        let root = tree.folder_or_create("")?;
        loop {
            if let Some(k) = root.read_private(KEY_FILE, KEY_LEN)? {
                return Ok(PlanKey(hmac::Key::new(hmac::HMAC_SHA256, &k)));
            }
            let mut key = [0u8; KEY_LEN];
            getrandom::fill(&mut key).map_err(|e| SealError::Random(e.to_string()))?;
            let mut file = match root.create_new(KEY_FILE) {
                Ok(f) => f,
                // Another `plan --save` made it meanwhile: read theirs.
                Err(TreeError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::AlreadyExists =>
                {
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let path = root.path().join(KEY_FILE);
            file.write_all(&key)
                .and_then(|()| file.sync_all())
                .map_err(|source| TreeError::Io {
                    what: "write",
                    path,
                    source,
                })?;
            root.sync()?;
            return Ok(PlanKey(hmac::Key::new(hmac::HMAC_SHA256, &key)));
        }
    }

    /// The seal of `bytes`, as hex.
    pub fn seal(&self, bytes: &[u8]) -> String {
        hmac::sign(&self.0, bytes)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether `seal` is the seal of `bytes` (compared in constant time).
    pub fn verify(&self, bytes: &[u8], seal: &str) -> bool {
        let Some(raw) = unhex(seal) else {
            return false;
        };
        hmac::verify(&self.0, bytes, &raw).is_ok()
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 128 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_key_is_made_once_private_and_verifies_its_own_seals() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        assert!(PlanKey::load(&out).unwrap().is_none());
        let k = PlanKey::load_or_create(&out).unwrap();
        let meta = std::fs::metadata(out.join(KEY_FILE)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let again = PlanKey::load(&out).unwrap().unwrap();
        let seal = k.seal(b"plan");
        assert!(again.verify(b"plan", &seal));
        assert!(!again.verify(b"plan!", &seal));
        assert!(!again.verify(b"plan", "00"));
        assert!(!again.verify(b"plan", "zz"));
    }

    #[test]
    fn a_key_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        PlanKey::load_or_create(dir.path()).unwrap();
        let key = dir.path().join(KEY_FILE);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            PlanKey::load(dir.path()),
            Err(SealError::Tree(TreeError::NotPrivate(_)))
        ));
    }
}
