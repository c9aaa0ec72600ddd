//! DKIM signing of submitted mail (RFC 6376, RFC 8463) with mail-auth: every
//! key the manifest lists for the sender's domain adds one
//! `DKIM-Signature`. Keys are read once, at start; their bytes are never
//! logged, and an error names the file, not its content.

use std::collections::BTreeMap;
use std::path::Path;

use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter as _;
use mail_auth::dkim::{Canonicalization, DkimSigner, Done};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject as _;

use crate::manifest::{DkimAlgorithm, DkimKey};

/// The header fields signed, when present (RFC 6376 §5.4.1's list, less
/// the ones a list manager routinely rewrites).
const SIGNED: &[&str] = &[
    "From",
    "Reply-To",
    "Subject",
    "Date",
    "To",
    "Cc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-ID",
    "Content-Description",
    "Resent-Date",
    "Resent-From",
    "Resent-To",
    "Resent-Cc",
    "Resent-Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "Sender",
];

enum Key {
    Rsa(DkimSigner<RsaKey<Sha256>, Done>),
    Ed25519(DkimSigner<Ed25519Key, Done>),
}

/// One loaded key.
pub struct Signer {
    selector: String,
    key: Key,
}

/// The signing keys, by domain.
#[derive(Default)]
pub struct Signers {
    by_domain: BTreeMap<String, Vec<Signer>>,
}

impl std::fmt::Debug for Signers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Selectors only: never the key material.
        let names: BTreeMap<&str, Vec<&str>> = self
            .by_domain
            .iter()
            .map(|(d, v)| (d.as_str(), v.iter().map(|s| s.selector.as_str()).collect()))
            .collect();
        f.debug_struct("Signers").field("keys", &names).finish()
    }
}

fn builder_headers() -> impl Iterator<Item = &'static str> {
    SIGNED.iter().copied()
}

/// Reads one key file as `algorithm` says.
fn load(domain: &str, k: &DkimKey, path: &Path) -> Result<Signer, String> {
    let what = || {
        format!(
            "the DKIM key `{}` of {domain} (selector `{}`)",
            path.display(),
            k.selector
        )
    };
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", what()))?;
    let der = PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| {
        format!(
            "cannot use {}: it holds no PEM private key (`PRIVATE KEY` or `RSA PRIVATE KEY`)",
            what()
        )
    })?;
    let key = match k.algorithm {
        DkimAlgorithm::RsaSha256 => {
            let key = RsaKey::<Sha256>::from_key_der(der)
                .map_err(|_| format!("cannot use {}: it is not an RSA private key", what()))?;
            Key::Rsa(
                DkimSigner::from_key(key)
                    .domain(domain)
                    .selector(&k.selector)
                    .headers(builder_headers())
                    .header_canonicalization(Canonicalization::Relaxed)
                    .body_canonicalization(Canonicalization::Relaxed),
            )
        }
        DkimAlgorithm::Ed25519Sha256 => {
            let PrivateKeyDer::Pkcs8(p8) = der else {
                return Err(format!(
                    "cannot use {}: an Ed25519 key must be PKCS#8 (`PRIVATE KEY`)",
                    what()
                ));
            };
            // OpenSSL and `mailc dkim keygen` write PKCS#8 v1 (no public
            // key inside), which ring reads only this way.
            let key = Ed25519Key::from_pkcs8_maybe_unchecked_der(p8.secret_pkcs8_der())
                .map_err(|_| format!("cannot use {}: it is not an Ed25519 private key", what()))?;
            Key::Ed25519(
                DkimSigner::from_key(key)
                    .domain(domain)
                    .selector(&k.selector)
                    .headers(builder_headers())
                    .header_canonicalization(Canonicalization::Relaxed)
                    .body_canonicalization(Canonicalization::Relaxed),
            )
        }
    };
    Ok(Signer {
        selector: k.selector.clone(),
        key,
    })
}

impl Signers {
    /// Reads every key of the manifest; `path` resolves a manifest path.
    /// All problems are reported, one per line.
    pub fn load(
        keys: &BTreeMap<String, Vec<DkimKey>>,
        path: impl Fn(&str) -> std::path::PathBuf,
    ) -> Result<Signers, String> {
        let mut by_domain: BTreeMap<String, Vec<Signer>> = BTreeMap::new();
        let mut errors = Vec::new();
        for (domain, list) in keys {
            for k in list {
                match load(domain, k, &path(&k.key)) {
                    Ok(s) => by_domain.entry(domain.to_lowercase()).or_default().push(s),
                    Err(e) => errors.push(e),
                }
            }
        }
        if errors.is_empty() {
            Ok(Signers { by_domain })
        } else {
            Err(errors.join("\n"))
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_domain.is_empty()
    }

    /// `message` with one `DKIM-Signature` per key of `domain` in front; the
    /// message unchanged when the domain has no keys. A key that fails to
    /// sign (no header to sign at all) is skipped with the reason.
    pub fn sign(&self, domain: &str, message: &[u8]) -> (Vec<u8>, Vec<String>) {
        let Some(signers) = self.by_domain.get(&domain.to_lowercase()) else {
            return (message.to_vec(), Vec::new());
        };
        let mut headers = Vec::new();
        let mut problems = Vec::new();
        for s in signers {
            let sig = match &s.key {
                Key::Rsa(k) => k.sign(message),
                Key::Ed25519(k) => k.sign(message),
            };
            match sig {
                Ok(sig) => headers.extend_from_slice(sig.to_header().as_bytes()),
                Err(e) => problems.push(format!("selector `{}`: {e}", s.selector)),
            }
        }
        headers.extend_from_slice(message);
        (headers, problems)
    }
}
