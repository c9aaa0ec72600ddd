//! DKIM key material (RFC 6376, RFC 8463): reading a PEM private key,
//! deriving the public half a zone publishes at `SELECTOR._domainkey`, and
//! generating new keys for `mailc dkim keygen`.
//!
//! Pure: bytes in, bytes out. The command layer reads and writes the files;
//! the checks (`validate::dkim`) and the DNS backend share these parsers, so
//! they can never disagree about what a key file holds. No hand-rolled
//! crypto: RSA through the `rsa` crate, Ed25519 through `ring`.

use std::fmt;

use base64::Engine as _;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::der::zeroize::Zeroizing;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
use rsa::traits::PublicKeyParts as _;
use spki::DecodePublicKey as _;

// The key algorithms a spec may choose for a DKIM key (RFC 6376 §3.3,
// RFC 8463 for Ed25519); the spec and the model name them from here.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    schemars::JsonSchema,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum DkimAlgorithm {
    // Named by hand: serde's kebab-case writes `rsa2048`.
    #[serde(rename = "rsa-2048")]
    Rsa2048,
    #[serde(rename = "rsa-3072")]
    Rsa3072,
    #[serde(rename = "rsa-4096")]
    Rsa4096,
    Ed25519,
}

/// `rsaEncryption` (RFC 8017 appendix C).
const OID_RSA: &str = "1.2.840.113549.1.1.1";
/// `id-Ed25519` (RFC 8410 §3).
const OID_ED25519: &str = "1.3.101.112";

/// The DKIM key types (`k=` in the key record, RFC 6376 §3.6.1, RFC 8463 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyType {
    Rsa,
    Ed25519,
}

impl KeyType {
    /// The `k=` tag value.
    pub fn tag(self) -> &'static str {
        match self {
            KeyType::Rsa => "rsa",
            KeyType::Ed25519 => "ed25519",
        }
    }

    /// The key type the spec's `algorithm` asks for.
    pub fn of(algorithm: DkimAlgorithm) -> KeyType {
        match algorithm {
            DkimAlgorithm::Ed25519 => KeyType::Ed25519,
            DkimAlgorithm::Rsa2048 | DkimAlgorithm::Rsa3072 | DkimAlgorithm::Rsa4096 => {
                KeyType::Rsa
            }
        }
    }
}

/// The public half of a DKIM key, as published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pub key_type: KeyType,
    /// The RSA modulus size in bits (256 for Ed25519).
    pub bits: usize,
    /// The `p=` value: base64 of the SubjectPublicKeyInfo for RSA (what
    /// `openssl rsa -pubout` and opendkim-genkey publish), of the raw 32-byte
    /// key for Ed25519 (RFC 8463 §4).
    pub p: String,
}

/// Why a key could not be used. The text completes "the key … cannot be used: {reason}".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyError(pub String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

fn err<T>(why: impl Into<String>) -> Result<T, KeyError> {
    Err(KeyError(why.into()))
}

/// The first PEM block of `text`: its label and its decoded bytes. Text
/// around the block (comments, `Bag Attributes`) is ignored, as OpenSSL does.
fn pem_block(bytes: &[u8]) -> Result<(String, Zeroizing<Vec<u8>>), KeyError> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return err("it is not a PEM text file");
    };
    let Some(start) = text.find("-----BEGIN ") else {
        return err("it holds no PEM block (`-----BEGIN PRIVATE KEY-----`)");
    };
    let rest = &text[start + "-----BEGIN ".len()..];
    let Some(label_end) = rest.find("-----") else {
        return err("its PEM header is cut short");
    };
    let label = rest[..label_end].to_string();
    // RFC 7468 §2: a label is printable ASCII without `-` at its ends; real
    // ones are a few uppercase words. Anything else is not echoed, since the
    // message would quote the file.
    if label.is_empty()
        || label.len() > 64
        || !label
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b' ')
    {
        return err("its PEM header is not `-----BEGIN PRIVATE KEY-----` or another PEM label");
    }
    let body = &rest[label_end + "-----".len()..];
    let end_marker = format!("-----END {label}-----");
    let Some(body_end) = body.find(&end_marker) else {
        return err(format!("its PEM block has no `{end_marker}` line"));
    };
    let b64: Zeroizing<String> = Zeroizing::new(
        body[..body_end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect(),
    );
    match base64::engine::general_purpose::STANDARD.decode(b64.as_bytes()) {
        Ok(der) => Ok((label, Zeroizing::new(der))),
        Err(_) => err("its PEM block is not valid base64"),
    }
}

/// Reads a PEM private key — PKCS#8 (`PRIVATE KEY`, RSA or Ed25519) or
/// PKCS#1 (`RSA PRIVATE KEY`, as opendkim-genkey writes) — and returns the
/// public half to publish.
pub fn public_from_private_pem(bytes: &[u8]) -> Result<PublicKey, KeyError> {
    let (label, der) = pem_block(bytes)?;
    match label.as_str() {
        "PRIVATE KEY" => {
            let info = match rsa::pkcs8::PrivateKeyInfo::try_from(der.as_slice()) {
                Ok(i) => i,
                Err(_) => return err("its PKCS#8 structure cannot be read"),
            };
            match info.algorithm.oid.to_string().as_str() {
                OID_RSA => match RsaPrivateKey::from_pkcs8_der(&der) {
                    Ok(key) => rsa_public(&key),
                    Err(_) => err("its RSA key cannot be read"),
                },
                OID_ED25519 => match Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der) {
                    Ok(pair) => Ok(ed25519_public(pair.public_key().as_ref())),
                    Err(_) => err("its Ed25519 key cannot be read"),
                },
                other => err(format!("its algorithm {other} is neither RSA nor Ed25519")),
            }
        }
        "RSA PRIVATE KEY" => match RsaPrivateKey::from_pkcs1_der(&der) {
            Ok(key) => rsa_public(&key),
            Err(_) => err("its RSA key cannot be read"),
        },
        "ENCRYPTED PRIVATE KEY" => err("it is encrypted; signers need the key unencrypted"),
        other => err(format!(
            "a `{other}` PEM block is not a private key (expected `PRIVATE KEY` or `RSA PRIVATE KEY`)"
        )),
    }
}

fn rsa_public(key: &RsaPrivateKey) -> Result<PublicKey, KeyError> {
    if key.validate().is_err() {
        return err("its RSA key is inconsistent");
    }
    let public = key.to_public_key();
    match public.to_public_key_der() {
        Ok(der) => Ok(PublicKey {
            key_type: KeyType::Rsa,
            bits: public.n().bits(),
            p: base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
        }),
        Err(_) => err("its public half cannot be encoded"),
    }
}

fn ed25519_public(raw: &[u8]) -> PublicKey {
    PublicKey {
        key_type: KeyType::Ed25519,
        bits: 256,
        p: base64::engine::general_purpose::STANDARD.encode(raw),
    }
}

/// A `public_key` from the spec (base64 SubjectPublicKeyInfo, or a raw
/// 32-byte Ed25519 key), as it is published. The key type is read from the
/// key itself; an Ed25519 SubjectPublicKeyInfo is published as its raw
/// 32 bytes (RFC 8463 §4). `ed25519_hint`: a bare 32-byte value is Ed25519.
pub fn public_from_published(b64: &str, ed25519_hint: bool) -> Result<PublicKey, KeyError> {
    let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(&compact) else {
        return err("it is not base64");
    };
    if der.len() == 32 && ed25519_hint {
        return Ok(ed25519_public(&der));
    }
    if let Ok(key) = rsa::RsaPublicKey::from_public_key_der(&der) {
        return Ok(PublicKey {
            key_type: KeyType::Rsa,
            bits: key.n().bits(),
            p: compact,
        });
    }
    match spki::SubjectPublicKeyInfoRef::try_from(der.as_slice()) {
        Ok(info) if info.algorithm.oid.to_string() == OID_ED25519 => {
            let raw = info.subject_public_key.raw_bytes();
            if raw.len() == 32 {
                Ok(ed25519_public(raw))
            } else {
                err("its Ed25519 key is not 32 bytes")
            }
        }
        Ok(info) => err(format!(
            "its algorithm {} is neither RSA nor Ed25519",
            info.algorithm.oid
        )),
        Err(_) => err("it is not a SubjectPublicKeyInfo"),
    }
}

/// A new private key for `algorithm`, as PKCS#8 PEM (`PRIVATE KEY`).
pub fn generate(algorithm: DkimAlgorithm) -> Result<Zeroizing<String>, KeyError> {
    match algorithm {
        DkimAlgorithm::Ed25519 => {
            let rng = ring::rand::SystemRandom::new();
            let Ok(doc) = Ed25519KeyPair::generate_pkcs8(&rng) else {
                return err("the system's random number generator failed");
            };
            // ring writes PKCS#8 v2 (RFC 5958, with the public key), which
            // OpenSSL 3.0 — and so OpenDKIM — cannot load. Write v1 (RFC 8410
            // §7), as `openssl genpkey -algorithm ed25519` does.
            let Ok(mut info) = rsa::pkcs8::PrivateKeyInfo::try_from(doc.as_ref()) else {
                return err("the new key cannot be read back");
            };
            info.public_key = None;
            let Ok(der) = rsa::pkcs8::der::Encode::to_der(&info).map(Zeroizing::new) else {
                return err("the key cannot be encoded");
            };
            match rsa::pkcs8::der::pem::encode_string("PRIVATE KEY", LineEnding::LF, &der) {
                Ok(pem) => Ok(Zeroizing::new(pem)),
                Err(_) => err("the key cannot be encoded as PEM"),
            }
        }
        DkimAlgorithm::Rsa2048 | DkimAlgorithm::Rsa3072 | DkimAlgorithm::Rsa4096 => {
            let bits = match algorithm {
                DkimAlgorithm::Rsa3072 => 3072,
                DkimAlgorithm::Rsa4096 => 4096,
                _ => 2048,
            };
            let Ok(key) = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits) else {
                return err("RSA key generation failed");
            };
            match key.to_pkcs8_pem(LineEnding::LF) {
                Ok(pem) => Ok(pem),
                Err(_) => err("the key cannot be encoded as PEM"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_read_back() {
        let ed = generate(DkimAlgorithm::Ed25519).unwrap();
        assert!(ed.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let p = public_from_private_pem(ed.as_bytes()).unwrap();
        assert_eq!((p.key_type, p.bits), (KeyType::Ed25519, 256));
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(&p.p)
                .unwrap()
                .len(),
            32
        );

        let rsa = generate(DkimAlgorithm::Rsa2048).unwrap();
        let p = public_from_private_pem(rsa.as_bytes()).unwrap();
        assert_eq!((p.key_type, p.bits), (KeyType::Rsa, 2048));
        // The published form reads back as the same key.
        assert_eq!(public_from_published(&p.p, false).unwrap(), p);
    }

    #[test]
    fn ed25519_spki_is_published_raw() {
        // openssl pkey -pubout of an Ed25519 key: 12-byte SPKI prefix + 32 bytes.
        let spki = "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=";
        let p = public_from_published(spki, false).unwrap();
        assert_eq!(p.key_type, KeyType::Ed25519);
        assert_eq!(p.p, "Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=");
        assert_eq!(public_from_published(&p.p, true).unwrap(), p);
        assert!(public_from_published(&p.p, false).is_err());
    }

    #[test]
    fn unusable_files_say_why() {
        let e = |b: &[u8]| public_from_private_pem(b).unwrap_err().0;
        assert!(e(b"hello").contains("no PEM block"));
        assert!(e(b"\xff\xfe").contains("not a PEM text"));
        assert!(
            e(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .contains("CERTIFICATE")
        );
        assert!(
            e(b"-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n").contains("base64")
        );
        assert!(
            e(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").contains("PKCS#8")
        );
        assert!(e(b"-----BEGIN PRIVATE KEY-----\nAAAA\n").contains("END"));
        // What stands between the markers of a header that is not a label
        // is never quoted.
        let e = e(b"-----BEGIN root:secret-line:19000\nmore secret -----\n");
        assert!(!e.contains("secret"), "{e}");
    }
}
