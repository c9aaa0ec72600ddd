//! DKIM keys (RFC 6376): selectors, where each key comes from, and key sizes.

use std::collections::BTreeMap;

use base64::Engine as _;
use rsa::traits::PublicKeyParts;
use spki::DecodePublicKey;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::dkim::DkimAlgorithm;
use crate::dkim::KeyType;
use crate::model::{DkimKey, DkimSource, KeyFiles, MissingKey, names};
use crate::source::Span;
use crate::spec::{Dkim, Sp};
use crate::vocab::DkimState;

pub fn check(
    domain: &str,
    keys: &[Dkim],
    files: &dyn KeyFiles,
    missing: MissingKey,
    diags: &mut Diagnostics,
) -> Vec<DkimKey> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<String, Span> = BTreeMap::new();
    for k in keys {
        let Some(sel) = &k.selector else { continue };
        let selector = match selector(&sel.value) {
            Ok(s) => s,
            Err(why) => {
                diags.push(
                    Diagnostic::error(
                        Code::DkimSelector,
                        sel.span,
                        format!("`{}` is not a valid DKIM selector: {why}", sel.value),
                    )
                    .label("invalid selector")
                    .help("a selector is one or more DNS labels, like `s2026` or `mail`"),
                );
                continue;
            }
        };
        if let Some(first) = seen.insert(selector.clone(), sel.span) {
            diags.push(
                Diagnostic::error(
                    Code::DuplicateSelector,
                    sel.span,
                    format!("DKIM selector `{selector}` is used twice in `{domain}`"),
                )
                .label("second time")
                .with(first, "first time")
                .help("give each key its own selector"),
            );
            continue;
        }
        let algorithm = k
            .algorithm
            .as_ref()
            .map_or(DkimAlgorithm::Rsa2048, |a| a.value);
        let state = state(&selector, k, diags);
        let source = match (&k.private_key, &k.public_key) {
            // A revoked key publishes no key: its file is not needed.
            (Some(p), None) if state == Some(DkimState::Revoked) => match unsafe_path(&p.value) {
                None => Some(DkimSource::PrivateKey(p.value.clone())),
                Some(_) => private(p, algorithm, files, missing, diags).map(DkimSource::PrivateKey),
            },
            (Some(p), None) => {
                private(p, algorithm, files, missing, diags).map(DkimSource::PrivateKey)
            }
            (None, Some(p)) => public(p, k.algorithm.as_ref(), diags).map(DkimSource::PublicKey),
            (Some(a), Some(b)) => {
                diags.push(
                    Diagnostic::error(Code::DkimKeySource, b.span, format!("DKIM key `{selector}` has both a private and a public key"))
                        .label("public key")
                        .with(a.span, "private key")
                        .help("keep `private_key` for a key our hosts sign with, or `public_key` for one held elsewhere"),
                );
                None
            }
            (None, None) => {
                diags.push(
                    Diagnostic::error(Code::DkimKeySource, k.span, format!("DKIM key `{selector}` has neither `private_key` nor `public_key`"))
                        .label("no key")
                        .help(format!("add `private_key: keys/{domain}/{selector}.key` and run `mailc dkim keygen`")),
                );
                None
            }
        };
        if let Some(source) = source {
            let ours = matches!(source, DkimSource::PrivateKey(_));
            let state = match state {
                Some(s) => s,
                // A key held elsewhere is only published here.
                None if !ours => DkimState::Published,
                None if k.sign.as_ref().is_some_and(|s| !s.value) => DkimState::Published,
                None => DkimState::Signing,
            };
            if state == DkimState::Signing && !ours {
                let at = k.state.as_ref().map_or(k.span, |s| s.span);
                diags.push(
                    Diagnostic::error(Code::DkimState, at, format!("DKIM key `{selector}` is held elsewhere (`public_key`): our hosts cannot sign with it"))
                        .label("no private key here")
                        .help("a `public_key` is `published`, `retired` or `revoked`; give a `private_key` for a key our hosts sign with"),
                );
            }
            out.push(DkimKey {
                selector,
                algorithm,
                sign: ours && state == DkimState::Signing,
                state,
                source,
            });
        }
    }
    last_signer(domain, keys, &out, diags);
    out
}

/// A key's state as written: `state`, or the older `sign` (both at once
/// are an error). `None`: the default for its kind of key.
fn state(selector: &str, k: &Dkim, diags: &mut Diagnostics) -> Option<DkimState> {
    if let (Some(st), Some(sign)) = (&k.state, &k.sign) {
        diags.push(
            Diagnostic::error(
                Code::DkimState,
                sign.span,
                format!("DKIM key `{selector}` has both `state` and `sign`"),
            )
            .label("`sign` beside `state`")
            .with(st.span, "state")
            .help("keep `state` alone (`sign: false` is `state: published`)"),
        );
    }
    k.state.as_ref().map(|s| s.value)
}

/// RFC 6376 asks nothing of how many keys sign, but a domain whose last
/// signing key was retired or revoked sends unsigned mail, which DMARC then
/// judges by SPF alone: an error, pointing at the retired key.
fn last_signer(domain: &str, written: &[Dkim], keys: &[DkimKey], diags: &mut Diagnostics) {
    let ours = |k: &&DkimKey| matches!(k.source, DkimSource::PrivateKey(_));
    if keys.iter().filter(ours).any(|k| k.sign) {
        return;
    }
    let Some(gone) = keys
        .iter()
        .filter(ours)
        .find(|k| matches!(k.state, DkimState::Retired | DkimState::Revoked))
    else {
        return;
    };
    let span = written
        .iter()
        .find(|w| {
            w.selector
                .as_ref()
                .is_some_and(|s| s.value.eq_ignore_ascii_case(&gone.selector))
        })
        .map_or(Span::default(), |w| {
            w.state.as_ref().map_or(w.span, |s| s.span)
        });
    diags.push(
        Diagnostic::error(
            Code::DkimNoSigner,
            span,
            format!("no DKIM key of `{domain}` signs: the last signing one, `{}`, is {}", gone.selector, match gone.state {
                DkimState::Revoked => "revoked",
                _ => "retired",
            }),
        )
        .label("the last signer")
        .help("keep it `signing` until another key signs: `mailc dkim rotate` publishes a new one, a later apply makes it `signing`"),
    );
}

/// A selector: DNS labels, lowercased (underscores allowed, as DNS allows).
fn selector(s: &str) -> Result<String, String> {
    names::dns_name(s)
}

/// Why a path to a key or secret file is not safe to name in configs and
/// open: empty, characters other than letters, digits and `. _ - / + @`,
/// absolute, a `..` component, or a folder. `None` when it is fine.
///
/// Such paths are relative to the spec's folder and stay below it, so a
/// spec can neither read nor make files elsewhere, nor learn whether a file
/// exists elsewhere. A folder kept elsewhere is reached through a link in
/// the spec's folder, which only whoever controls that folder can make.
pub fn unsafe_path(path: &str) -> Option<String> {
    let bad_char = path
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | '+' | '@')));
    if path.is_empty() {
        Some("it is empty".to_string())
    } else if let Some(c) = bad_char {
        Some(format!(
            "`{}` is not allowed in a key path",
            c.escape_default()
        ))
    } else if path.starts_with('/') {
        Some("it is absolute; the files a spec names live under the spec's folder".to_string())
    } else if path.split('/').any(|c| c == "..") {
        Some("it climbs out of its folder with `..`".to_string())
    } else if path.ends_with('/') {
        Some("it names a folder".to_string())
    } else {
        None
    }
}

/// A key path, checked by [`unsafe_path`]; then whether the file exists
/// and holds a usable key.
fn private(
    p: &Sp<String>,
    algorithm: DkimAlgorithm,
    files: &dyn KeyFiles,
    missing: MissingKey,
    diags: &mut Diagnostics,
) -> Option<String> {
    let path = &p.value;
    if let Some(why) = unsafe_path(path) {
        diags.push(
            Diagnostic::error(Code::DkimKeyPath, p.span, format!("`{path}` is not a usable key path: {why}"))
                .label("unsafe path")
                .help("use a path below the spec's folder, of letters, digits and `. _ - /`, like `keys/example.com/s2026.key` (to keep keys elsewhere, link a folder there to them)"),
        );
        return None;
    }
    if !files.exists(path) {
        let path = files.shown(path);
        let d = match missing {
            MissingKey::Warn => Diagnostic::warning(
                Code::DkimKeyMissing,
                p.span,
                format!("the DKIM key file `{path}` does not exist yet"),
            ),
            MissingKey::Error => Diagnostic::error(
                Code::DkimKeyMissing,
                p.span,
                format!("the DKIM key file `{path}` does not exist"),
            ),
        };
        let help = match missing {
            MissingKey::Warn => {
                "run `mailc dkim keygen` to create every missing key; `mailc plan` and `mailc apply` refuse until it has"
            }
            MissingKey::Error => "run `mailc dkim keygen` to create every missing key",
        };
        diags.push(d.label("no such file").help(help));
    } else if let Some(read) = files.read(path) {
        key_file(p, algorithm, read, &files.shown(path), diags);
    }
    Some(path.clone())
}

/// An existing key file holds a usable key of the declared type and size.
fn key_file(
    p: &Sp<String>,
    algorithm: DkimAlgorithm,
    read: Result<Vec<u8>, String>,
    path: &str,
    diags: &mut Diagnostics,
) {
    let unusable = |why: String| {
        Diagnostic::error(
            Code::DkimKeyFile,
            p.span,
            format!("the DKIM key file `{path}` cannot be used: {why}"),
        )
        .label("unusable key file")
    };
    let bytes = match read {
        Ok(b) => b,
        Err(why) => {
            diags.push(unusable(why).help(format!(
                "a key file is a regular file of at most {}, readable by the user running mailc",
                crate::limits::bytes(crate::limits::KEY_FILE_BYTES)
            )));
            return;
        }
    };
    let key = match crate::dkim::public_from_private_pem(&bytes) {
        Ok(k) => k,
        Err(e) => {
            diags.push(unusable(e.0).help(
                "point `private_key` at a PEM private key (PKCS#8 or PKCS#1), or move the file away and run `mailc dkim keygen`",
            ));
            return;
        }
    };
    let wanted = KeyType::of(algorithm);
    if key.key_type != wanted {
        diags.push(
            unusable(format!(
                "it holds an {} key, but `algorithm` asks for an {} key",
                key.key_type.tag(),
                wanted.tag()
            ))
            .help("set `algorithm` to match the key, or give the key another selector"),
        );
    } else if key.key_type == KeyType::Rsa && key.bits < 1024 {
        diags.push(
            Diagnostic::error(Code::DkimKeySize, p.span, format!("the RSA key in `{path}` has {} bits; verifiers ignore keys under 1024 (RFC 8301)", key.bits))
                .label("too small")
                .help("make a new key of 2048 bits or more under a new selector"),
        );
    } else if key.key_type == KeyType::Rsa && key.bits < 2048 {
        diags.push(
            Diagnostic::warning(
                Code::DkimKeySize,
                p.span,
                format!(
                    "the RSA key in `{path}` has {} bits; 2048 or more is recommended (RFC 8301)",
                    key.bits
                ),
            )
            .label("small key")
            .help("rotate to a 2048-bit key under a new selector"),
        );
    }
}

/// A published key we don't hold: base64 SubjectPublicKeyInfo (RSA or
/// Ed25519), or a raw 32-byte Ed25519 key (RFC 8463).
fn public(
    p: &Sp<String>,
    algorithm: Option<&Sp<DkimAlgorithm>>,
    diags: &mut Diagnostics,
) -> Option<String> {
    let compact: String = p
        .value
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let fail = |why: String| {
        Diagnostic::error(
            Code::DkimPublicKey,
            p.span,
            format!("the DKIM public key cannot be read: {why}"),
        )
        .label("unreadable key")
        .help(
            "paste the base64 of the key's SubjectPublicKeyInfo (the `p=` value of its DNS record)",
        )
    };
    let der = match base64::engine::general_purpose::STANDARD.decode(&compact) {
        Ok(d) => d,
        Err(e) => {
            diags.push(fail(format!("it is not base64 ({e})")));
            return None;
        }
    };
    let is_ed = algorithm.is_some_and(|a| a.value == DkimAlgorithm::Ed25519);
    if der.len() == 32 && is_ed {
        return Some(compact);
    }
    match rsa::RsaPublicKey::from_public_key_der(&der) {
        Ok(key) => {
            if is_ed {
                diags.push(fail(
                    "it is an RSA key, but `algorithm` says ed25519".into(),
                ));
                return None;
            }
            let bits = key.n().bits();
            if bits < 1024 {
                diags.push(
                    Diagnostic::error(Code::DkimKeySize, p.span, format!("this RSA key has {bits} bits; verifiers ignore keys under 1024 (RFC 8301)"))
                        .label("too small")
                        .help("publish a key of 2048 bits or more"),
                );
                return None;
            } else if bits < 2048 {
                diags.push(
                    Diagnostic::warning(
                        Code::DkimKeySize,
                        p.span,
                        format!(
                            "this RSA key has {bits} bits; 2048 or more is recommended (RFC 8301)"
                        ),
                    )
                    .label("small key")
                    .help("rotate to a 2048-bit key under a new selector"),
                );
            }
            Some(compact)
        }
        Err(_) => match spki::SubjectPublicKeyInfoRef::try_from(der.as_slice()) {
            Ok(info) if info.algorithm.oid.to_string() == "1.3.101.112" => {
                if info.subject_public_key.raw_bytes().len() == 32 {
                    Some(compact)
                } else {
                    diags.push(fail("its Ed25519 key is not 32 bytes".into()));
                    None
                }
            }
            Ok(info) => {
                diags.push(fail(format!(
                    "its algorithm {} is neither RSA nor Ed25519",
                    info.algorithm.oid
                )));
                None
            }
            Err(_) if der.len() == 32 => {
                diags.push(fail("a raw 32-byte key needs `algorithm: ed25519`".into()));
                None
            }
            Err(_) => {
                diags.push(fail("it is not a SubjectPublicKeyInfo".into()));
                None
            }
        },
    }
}
