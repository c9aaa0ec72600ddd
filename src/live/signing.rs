//! When a DKIM key may start signing: only once DNS serves its record. A
//! host that signs with a key whose record receivers cannot find yet makes
//! every one of those messages fail DKIM.
//!
//! A key *starts signing* when our hosts sign with it now and did not with
//! the output mailc wrote last (`--out`, as the file plan found it): the
//! hosts of every stack have a copy of each signing key
//! (`dkim/HOST/keys/…`, `exim/HOST/dkim/…`, `server/HOST/keys/…`), and the
//! embedded server's manifest (`server/HOST/manifest.json`) lists them.
//! A key whose copy changes (a new key under the same selector) starts
//! signing too. Each key that starts signing must be served already: for a pushed zone
//! by the server as read before the push (a record this push publishes is
//! not served yet), else as a resolver answers. `--no-dns-wait` skips the
//! check.

use std::collections::BTreeSet;

use hickory_proto::rr::{Name, RData};

use crate::backend::shared::signing_keys;
use crate::manifest::Manifest;
use crate::model::Model;

/// A key by domain and selector.
pub type KeyName = (String, String);

/// The keys the previous output signed with, from its files: `(path, bytes)`
/// of every file `--out` held.
pub fn signed_before<'a>(files: impl Iterator<Item = (&'a str, &'a [u8])>) -> BTreeSet<KeyName> {
    let mut out = BTreeSet::new();
    for (path, bytes) in files {
        if let Some(key) = key_copy(path) {
            out.insert(key);
            continue;
        }
        let parts: Vec<&str> = path.split('/').collect();
        if let ["server", _, "manifest.json"] = parts.as_slice()
            && let Ok(m) = Manifest::from_json(bytes)
        {
            for (domain, keys) in m.dkim {
                for k in keys {
                    out.insert((domain.clone(), k.selector));
                }
            }
        }
    }
    out
}

/// The key a signer's copy of a key file stands for
/// (`dkim/HOST/keys/DOMAIN/SELECTOR.key`, `exim/HOST/dkim/DOMAIN/SELECTOR.key`,
/// `server/HOST/keys/DOMAIN/SELECTOR.key`).
pub fn key_copy(path: &str) -> Option<KeyName> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["dkim", _, "keys", domain, file]
        | ["exim", _, "dkim", domain, file]
        | ["server", _, "keys", domain, file] => {
            let selector = file.strip_suffix(".key")?;
            Some((domain.to_string(), selector.to_string()))
        }
        _ => None,
    }
}

/// The keys our hosts sign with per the model, each once.
pub fn signing_now(model: &Model) -> BTreeSet<KeyName> {
    let mut out = BTreeSet::new();
    for h in model.hosts.values() {
        for s in signing_keys(model, &h.key) {
            out.insert((s.domain.name.clone(), s.key.selector.clone()));
        }
    }
    out
}

/// The keys that start signing with this apply.
pub fn starting(model: &Model, before: &BTreeSet<KeyName>) -> Vec<KeyName> {
    signing_now(model)
        .into_iter()
        .filter(|k| !before.contains(k))
        .collect()
}

/// `SELECTOR._domainkey.DOMAIN.`
pub fn record_name(key: &KeyName) -> Option<Name> {
    Name::from_ascii(format!("{}._domainkey.{}.", key.1, key.0)).ok()
}

/// Whether a served TXT record publishes the same key as `want` (the
/// record mailc builds): the same `k=` and `p=` (RFC 6376 §3.6.1; spaces
/// inside `p=` aside).
pub fn same_key(served: &RData, want: &RData) -> bool {
    let text = |d: &RData| -> Option<String> {
        let RData::TXT(t) = d else { return None };
        let bytes: Vec<u8> = t.txt_data.iter().flat_map(|s| s.iter().copied()).collect();
        Some(String::from_utf8_lossy(&bytes).into_owned())
    };
    let (Some(a), Some(b)) = (text(served), text(want)) else {
        return false;
    };
    let tag = |s: &str, name: &str| -> Option<String> {
        s.split(';').find_map(|t| {
            let (k, v) = t.split_once('=')?;
            (k.trim() == name).then(|| v.split_ascii_whitespace().collect())
        })
    };
    let k = |s: &str| tag(s, "k").unwrap_or_else(|| "rsa".into());
    tag(&a, "p").is_some_and(|p| !p.is_empty()) && tag(&a, "p") == tag(&b, "p") && k(&a) == k(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::TXT;

    #[test]
    fn previous_signers_come_from_key_copies_and_manifests() {
        let files = [
            ("dkim/mx1/keys/example.com/s1.key", &b"pem"[..]),
            ("exim/mx2/dkim/example.org/s2.key", &b"pem"[..]),
            ("dkim/mx1/KeyTable", &b""[..]),
            ("server/mx3/manifest.json", &b"not json"[..]),
        ];
        let got = signed_before(files.iter().copied());
        let want: BTreeSet<KeyName> = [
            ("example.com".to_string(), "s1".to_string()),
            ("example.org".to_string(), "s2".to_string()),
        ]
        .into();
        assert_eq!(got, want);
    }

    #[test]
    fn keys_compare_by_type_and_key() {
        let r = |s: &str| RData::TXT(TXT::new(vec![s.into()]));
        let want = r("v=DKIM1; k=rsa; p=MIIB");
        assert!(same_key(&r("v=DKIM1; p=MI IB"), &want));
        assert!(!same_key(&r("v=DKIM1; k=ed25519; p=MIIB"), &want));
        assert!(!same_key(
            &r("v=DKIM1; k=rsa; p="),
            &r("v=DKIM1; k=rsa; p=")
        ));
    }
}
