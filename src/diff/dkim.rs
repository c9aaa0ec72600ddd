//! DKIM keys a revision does not hold. Private keys are secrets and stay
//! out of git, so a spec compiled as it was at a commit often names key
//! files that commit lacks. The backends then get a fixed stand-in key
//! ([`stand_in`]), and the record it gives is replaced in each zone by the
//! record the output folder committed at that revision published for the
//! same name, or, without one, by a marker saying the key is unknown.

use std::collections::BTreeMap;

use base64::Engine as _;

use crate::dkim::public_from_private_pem;
use crate::model::{DkimSource, Model};
use crate::output::Output;
use crate::plan::zone;

/// An Ed25519 key (RFC 8410 PKCS#8 of a seed of zeros): what the backends
/// compile with in place of a key file the revision does not hold. Its
/// records never reach the output shown: [`settle`] replaces them.
pub fn stand_in() -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend([0u8; 32]);
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n").into_bytes()
}

/// Where the record of a key without its file came from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The zone file of the committed output folder.
    OutputFolder { path: String },
    /// Nowhere: the record is shown as unknown.
    Unknown,
}

/// A DKIM key whose file the revision does not hold.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MissingKey {
    pub domain: String,
    pub selector: String,
    /// The key file, as the spec names it.
    pub key: String,
    pub record: Source,
}

/// Replaces, in every zone of `output`, the stand-in records of the keys
/// named in `missing` (key file paths) by the record `committed(path)` —
/// the zone file at that path in the committed output folder — gives for
/// the same name, or by an unknown marker. Returns what was done, per key.
pub fn settle(
    output: &mut Output,
    model: &Model,
    missing: &[String],
    committed: &dyn Fn(&str) -> Option<String>,
) -> Vec<MissingKey> {
    let Ok(stand_in_key) = public_from_private_pem(&stand_in()) else {
        return Vec::new();
    };
    let stand_in_rdata = format!("\"v=DKIM1; k=ed25519; p={}\"", stand_in_key.p);
    // The owner (absolute, with its final dot) of each missing key's record.
    let mut owners: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    for d in model.domains.values() {
        for k in &d.dkim {
            if let DkimSource::PrivateKey(path) = &k.source
                && missing.contains(path)
            {
                owners.insert(
                    format!("{}._domainkey.{}.", k.selector, d.name),
                    (d.name.clone(), k.selector.clone(), path.clone()),
                );
            }
        }
    }
    let mut found: Vec<MissingKey> = Vec::new();
    let zones: Vec<String> = output
        .files
        .keys()
        .filter(|p| zone::is_zone(p))
        .cloned()
        .collect();
    for path in zones {
        let Some(file) = output.files.get_mut(&path) else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(&file.bytes) else {
            continue;
        };
        if !text.contains(&stand_in_rdata) {
            continue;
        }
        let published = committed(&path).map(|t| zone::diff("", &t).added);
        let mut origin = String::new();
        let mut out = String::with_capacity(text.len());
        for line in text.split_inclusive('\n') {
            let first = line.split_whitespace().next().unwrap_or("");
            if first.eq_ignore_ascii_case("$ORIGIN") {
                origin = line.split_whitespace().nth(1).unwrap_or("").to_string();
            }
            let owner = match first {
                "@" => origin.clone(),
                o if o.ends_with('.') => o.to_string(),
                o => format!("{o}.{origin}"),
            };
            let Some((domain, selector, key)) = owners.get(&owner.to_ascii_lowercase()) else {
                out.push_str(line);
                continue;
            };
            if !line.contains(&stand_in_rdata) {
                out.push_str(line);
                continue;
            }
            let prefix = format!("{owner} TXT ");
            let record = published.as_ref().and_then(|rs| {
                rs.iter()
                    .find(|r| r.starts_with(&prefix) && r[prefix.len()..].contains("v=DKIM1"))
                    .map(|r| r[prefix.len()..].to_string())
            });
            let (rdata, source) = match record {
                Some(r) => (r, Source::OutputFolder { path: path.clone() }),
                None => (
                    format!("\"(unknown: the key file {key} is not in this revision)\""),
                    Source::Unknown,
                ),
            };
            out.push_str(&line.replacen(&stand_in_rdata, &rdata, 1));
            if !found.iter().any(|m| &m.key == key) {
                found.push(MissingKey {
                    domain: domain.clone(),
                    selector: selector.clone(),
                    key: key.clone(),
                    record: source,
                });
            }
        }
        file.bytes = out.into_bytes();
    }
    // Keys whose record is in no zone (a domain not published here).
    for (domain, selector, key) in owners.values() {
        if !found.iter().any(|m| &m.key == key) {
            found.push(MissingKey {
                domain: domain.clone(),
                selector: selector.clone(),
                key: key.clone(),
                record: Source::Unknown,
            });
        }
    }
    found.sort_by(|a, b| (&a.domain, &a.selector).cmp(&(&b.domain, &b.selector)));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stand_in_is_a_readable_ed25519_key() {
        let k = public_from_private_pem(&stand_in()).unwrap();
        assert_eq!(k.key_type, crate::dkim::KeyType::Ed25519);
    }
}
