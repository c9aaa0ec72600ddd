//! The spec being assembled from the sources, in the terms of the spec
//! language (docs/spec.md): hosts, domains, mailboxes, aliases, the
//! unknown-recipient policy, DNS keys and records. [`write`](super::write)
//! prints it; nothing here knows where a value came from.

use std::collections::{BTreeMap, BTreeSet};

/// A spec under construction.
#[derive(Clone, Debug, Default)]
pub struct Draft {
    /// By host key.
    pub hosts: BTreeMap<String, Host>,
    /// By domain name (lowercase A-labels).
    pub domains: BTreeMap<String, Domain>,
    /// What the sources do with each address they name, where the spec
    /// does the same: the spec's `tests` (route tests).
    pub tests: Vec<crate::model::route::Route>,
    /// Outbound relays, by name.
    pub relays: BTreeMap<String, Relay>,
}

/// An outbound relay (a smart host), as the spec's `outbound_relays` write it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relay {
    pub host: String,
    pub port: u16,
    /// `starttls`, `implicit` or `opportunistic`.
    pub tls: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub key: String,
    pub hostname: String,
    pub ipv4: String,
    pub ipv6: Option<String>,
    pub stack: &'static str,
    /// The address is a placeholder (the sources did not say it).
    pub placeholder: bool,
    /// The relay (a key of [`Draft::relays`]) of its outbound mail.
    pub relay: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Domain {
    pub name: String,
    /// The MX list; `None` until known.
    pub mx: Option<Vec<Mx>>,
    /// Host key → `local`, `remote` or `backup`, where `auto` would not do.
    pub routing: BTreeMap<String, &'static str>,
    pub mailboxes: BTreeMap<String, Mailbox>,
    /// Local part → targets (full addresses).
    pub aliases: BTreeMap<String, Vec<String>>,
    /// Local parts whose mail is accepted and thrown away (`{drop: true}`).
    pub drops: BTreeSet<String>,
    pub unknown: Unknown,
    pub spf: Option<Spf>,
    pub dkim: Vec<Dkim>,
    pub dmarc: Option<Dmarc>,
    pub tls_rpt: Option<Vec<String>>,
    pub records: Vec<Record>,
    /// Whether the spec publishes the zone (`zone: true`).
    pub published: bool,
    pub ttl: Option<u32>,
    pub nameservers: Vec<String>,
    pub hostmaster: Option<String>,
    /// The host that delivers the domain's mail, as the sources say.
    pub local: Option<String>,
    /// Where a source declares the domain (for the report).
    pub place: Option<(String, Option<usize>)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mx {
    /// A host key of the spec, or an outside FQDN.
    pub host: String,
    pub priority: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    pub password: String,
    pub quota: Option<String>,
    /// No password was found: the hash matches no password.
    pub locked: bool,
    /// Logs in and sends, receives nothing.
    pub send_only: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Unknown {
    #[default]
    Reject,
    Bounce,
    /// Accepted and thrown away.
    Drop,
    /// A full address.
    Forward(String),
    /// `HOST[:PORT]`.
    Relay(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spf {
    pub include: Vec<String>,
    pub ip4: Vec<String>,
    pub ip6: Vec<String>,
    pub all: String,
    /// The whole record, where its terms do not fit the keys above.
    pub record: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dkim {
    pub selector: String,
    pub public_key: String,
    pub ed25519: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dmarc {
    pub policy: String,
    pub subdomain_policy: Option<String>,
    pub rua: Vec<String>,
    pub ruf: Vec<String>,
    pub adkim: Option<String>,
    pub aspf: Option<String>,
    pub pct: Option<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Record {
    /// Relative to the zone, `@` for the apex.
    pub name: String,
    pub rtype: String,
    pub value: String,
    pub ttl: Option<u32>,
}

impl Domain {
    pub fn new(name: &str) -> Domain {
        Domain {
            name: name.to_string(),
            ..Domain::default()
        }
    }

    /// Whether `local` is claimed by a mailbox or an alias.
    pub fn claims(&self, local: &str) -> bool {
        self.mailboxes.contains_key(local)
            || self.aliases.contains_key(local)
            || self.drops.contains(local)
    }

    /// Every local part that receives mail (send-only mailboxes do not),
    /// sorted.
    pub fn receiving(&self) -> BTreeSet<String> {
        self.mailboxes
            .iter()
            .filter(|(_, m)| !m.send_only)
            .map(|(l, _)| l)
            .chain(self.aliases.keys())
            .chain(self.drops.iter())
            .cloned()
            .collect()
    }

    /// Sets a catch-all to `targets`: one target directly; several
    /// through an alias of their own (named `catchall`, or the first free
    /// `catchall-N`), which the catch-all already reaches with the same
    /// result. Returns the alias's name when one was made.
    pub fn catch_all(&mut self, targets: Vec<String>) -> Option<String> {
        match targets.len() {
            0 => {
                self.unknown = Unknown::Reject;
                None
            }
            1 => {
                self.unknown = Unknown::Forward(targets[0].clone());
                None
            }
            _ => {
                let name = std::iter::once("catchall".to_string())
                    .chain((1..).map(|n| format!("catchall-{n}")))
                    .find(|n| !self.claims(n))
                    .unwrap_or_default();
                self.aliases.insert(name.clone(), targets);
                self.unknown = Unknown::Forward(format!("{name}@{}", self.name));
                Some(name)
            }
        }
    }
}

/// A host key from a host name: its first label, in `[a-z0-9-]`, unique
/// among `taken`.
pub fn host_key(hostname: &str, taken: &BTreeSet<String>) -> String {
    let first = hostname.split('.').next().unwrap_or("");
    let mut key: String = first
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    if key.is_empty() {
        key = "mx".into();
    }
    if !taken.contains(&key) {
        return key;
    }
    (2..)
        .map(|n| format!("{key}{n}"))
        .find(|k| !taken.contains(k))
        .unwrap_or(key)
}

/// A SHA-512-crypt hash that no password matches: the digest is not one
/// crypt computed but a fixed derivation of the address (finding a password
/// for it is finding a SHA-512 preimage). Deterministic, so the same source
/// gives the same spec.
pub fn locked_hash(address: &str) -> String {
    use sha2::Digest as _;
    let salt = crypt64(&sha2::Sha256::digest(format!("mailc-import-salt:{address}"))[..12]);
    let mut digest = crypt64(&sha2::Sha512::digest(format!(
        "mailc-import-locked:{address}"
    )));
    digest.truncate(85);
    // The final character carries two bits; `.` is a value crypt can write.
    digest.push('.');
    format!("{{SHA512-CRYPT}}$6${salt}${digest}")
}

/// SHA512-CRYPT of a plaintext password found in a source, with a salt
/// derived from the address (not from the password): the same source gives
/// the same spec.
pub fn hash_plaintext(address: &str, password: &str) -> Option<String> {
    use sha_crypt::PasswordHasher as _;
    use sha2::Digest as _;
    if password.is_empty() || password.contains('\0') {
        return None;
    }
    let salt = &sha2::Sha256::digest(format!("mailc-import-salt:{address}"))[..12];
    let params = sha_crypt::Params::new(5_000).ok()?;
    let full = sha_crypt::ShaCrypt::new(sha_crypt::Algorithm::Sha512Crypt, params)
        .hash_password_with_salt(password.as_bytes(), salt)
        .ok()?
        .to_string();
    // As `mailc passwd` writes it: the default rounds left out.
    let body = full.replacen("$rounds=5000$", "$", 1);
    let hashed = format!("{{SHA512-CRYPT}}{body}");
    matches!(
        crate::passwd::classify(&hashed),
        crate::passwd::Classification::Hashed(_)
    )
    .then_some(hashed)
}

/// crypt(3)'s base-64: `./0-9A-Za-z`, six bits per character.
fn crypt64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let mut v = 0u32;
        for (i, b) in chunk.iter().enumerate() {
            v |= u32::from(*b) << (8 * i);
        }
        for i in 0..(chunk.len() * 8).div_ceil(6) {
            out.push(ALPHABET[((v >> (6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passwd::{Classification, classify, verify};

    #[test]
    fn locked_and_plaintext_hashes_are_valid_and_deterministic() {
        let l = locked_hash("alice@example.com");
        assert!(matches!(classify(&l), Classification::Hashed(_)), "{l}");
        assert_eq!(l, locked_hash("alice@example.com"));
        assert!(!verify("", &l).unwrap_or(true));
        let h = hash_plaintext("bob@example.com", "secret").unwrap();
        assert_eq!(Some(h.clone()), hash_plaintext("bob@example.com", "secret"));
        assert!(verify("secret", &h).unwrap());
        assert!(!verify("other", &h).unwrap());
    }

    #[test]
    fn host_keys() {
        let mut taken = BTreeSet::new();
        assert_eq!(host_key("Mail.Example.com", &taken), "mail");
        taken.insert("mail".to_string());
        assert_eq!(host_key("mail.example.net", &taken), "mail2");
        assert_eq!(host_key("_x.example", &taken), "x");
    }

    #[test]
    fn catch_all_with_several_targets_gets_an_alias() {
        let mut d = Domain::new("example.com");
        d.aliases
            .insert("catchall".into(), vec!["a@example.com".into()]);
        assert_eq!(
            d.catch_all(vec!["a@example.com".into(), "b@example.net".into()]),
            Some("catchall-1".into())
        );
        assert_eq!(d.unknown, Unknown::Forward("catchall-1@example.com".into()));
    }
}
