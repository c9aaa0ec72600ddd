//! The resolved model: names normalized, defaults applied, routing decided per
//! (domain, host), a recipient table per domain. Backends read only this.
//!
//! [`build`] lowers a [`Spec`](crate::spec::Spec) and is also the checker:
//! every rule reports into the same [`Diagnostics`], and the model is handed
//! out only when no error was found.

mod build;
mod limits;
mod locate;
pub mod names;
mod push;
mod recipients;
pub mod relay;
mod roles;
pub mod route;
pub mod services;
pub mod validate;
mod warn;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::dkim::DkimAlgorithm;
pub use crate::manifest::SendLimits;
use crate::vocab::{
    Alignment, DkimState, DmarcPolicy, MtaStsMode, Owns, Service, SpfAll, Stack, TsigAlgorithm,
};
pub use build::{Inputs, KeyFiles, MissingKey, build, ttl_error};
pub use locate::locate;
pub use relay::{Relay, RelayAuth, RelayRule};

/// A whole resolved spec.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Model {
    /// By host key.
    pub hosts: BTreeMap<String, Host>,
    /// By A-label domain name.
    pub domains: BTreeMap<String, Domain>,
    /// The name servers zones are pushed to, by name.
    pub dns_targets: BTreeMap<String, DnsTarget>,
    /// Outbound relays (smart hosts), by name.
    pub relays: BTreeMap<String, Relay>,
    /// Sender rules: a sender address (`local@domain`) or domain, normalized,
    /// → the name of the relay its mail leaves through on every host.
    pub senders: BTreeMap<String, String>,
}

/// A name server mailc pushes zones to. Its secret is named, never held:
/// it is read from its file when a push needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DnsTarget {
    pub name: String,
    pub kind: TargetKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum TargetKind {
    /// RFC 2136 UPDATE and AXFR, signed with TSIG (RFC 8945).
    Rfc2136 {
        server: std::net::SocketAddr,
        /// The key's name, lowercase, without a trailing dot.
        key_name: String,
        algorithm: TsigAlgorithm,
        /// As written in the spec (relative to its folder).
        secret_file: String,
    },
    /// PowerDNS Authoritative's HTTP API.
    PowerDns {
        /// Scheme, host and port (and any path prefix), no trailing `/`.
        url: String,
        server_id: String,
        /// As written in the spec (relative to its folder).
        api_key_file: String,
    },
}

/// Where a domain's zone is pushed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Push {
    /// A key of [`Model::dns_targets`].
    pub target: String,
    pub owns: Owns,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Host {
    pub key: String,
    /// Lowercase A-label FQDN, no trailing dot.
    pub hostname: String,
    pub ipv4: Ipv4Addr,
    pub ipv6: Option<Ipv6Addr>,
    pub stack: Stack,
    /// The relay (a key of [`Model::relays`]) this host's outbound mail
    /// leaves through when no sender rule picks one.
    pub relay: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Domain {
    pub name: String,
    pub ttl: u32,
    /// Whether this spec publishes the zone.
    pub zone: bool,
    /// Whether the domain's mail service is on. Off: every host refuses its
    /// recipients ([`crate::reply::mail_off`]); it has no mailboxes, no
    /// recipients and no signing key here; its DNS records stay.
    pub mail: bool,
    pub nameservers: Vec<String>,
    /// SOA RNAME as an address.
    pub hostmaster: Option<String>,
    /// Empty: null MX (RFC 7505), mail refused with 556 5.1.10.
    pub mx: Vec<Mx>,
    /// How each of our hosts treats the domain, by host key.
    pub roles: BTreeMap<String, Role>,
    pub spf: Spf,
    pub dkim: Vec<DkimKey>,
    pub dmarc: Option<Dmarc>,
    pub mta_sts: Option<MtaSts>,
    pub tls_rpt: Option<TlsRpt>,
    /// By lowercase local part.
    pub mailboxes: BTreeMap<String, Mailbox>,
    /// Every local part claimed by a mailbox, mailbox alias or alias, with
    /// where its mail goes.
    pub recipients: BTreeMap<String, Recipient>,
    pub unknown: Unknown,
    /// The catch-all's target as written, as a full address (for `mailc
    /// route`); `None` without a catch-all.
    pub catch_all: Option<String>,
    pub srs: bool,
    pub records: Vec<UserRecord>,
    /// Where the zone is pushed (`None`: it is not).
    pub push: Option<Push>,
    /// The access protocols the domain offers its mail clients.
    pub services: BTreeSet<Service>,
    /// What its mailboxes may send per hour together.
    pub limits: SendLimits,
}

/// What a domain offers when its spec names no `services`: IMAP and
/// submission, no POP3.
pub const DEFAULT_SERVICES: [Service; 2] = [Service::Imap, Service::Submission];

impl Domain {
    pub fn null_mx(&self) -> bool {
        self.mx.is_empty()
    }

    /// Whether the domain offers `service` to its mail clients.
    pub fn offers(&self, service: Service) -> bool {
        self.services.contains(&service)
    }

    /// The host key that is local for this domain, if any.
    pub fn local_host(&self) -> Option<&str> {
        self.roles
            .iter()
            .find(|(_, r)| **r == Role::Local)
            .map(|(k, _)| k.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mx {
    /// Lowercase FQDN of the exchange.
    pub hostname: String,
    pub preference: u16,
    /// The host key when the exchange is one of ours.
    pub host: Option<String>,
}

/// What one host does with a domain's mail (cPanel's "Email Routing").
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Role {
    /// Final destination: delivers to the mailboxes.
    Local,
    /// Not ours: sent out by MX lookup; never delivered here.
    Remote,
    /// Accepts what the primary would, queues, relays to `primary`.
    Backup { primary: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Spf {
    /// The record's terms after `v=spf1`, in order, ending with `all`.
    pub terms: Vec<String>,
    /// Terms that cost a DNS lookup (RFC 7208 §4.6.4).
    pub lookups: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DkimKey {
    pub selector: String,
    pub algorithm: DkimAlgorithm,
    pub source: DkimSource,
    /// Whether our hosts sign with it: a key of ours in state `signing`.
    pub sign: bool,
    pub state: DkimState,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DkimSource {
    /// A PEM file, as written in the spec (relative to the spec's folder).
    PrivateKey(String),
    /// Base64 of a key held elsewhere.
    PublicKey(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dmarc {
    pub policy: DmarcPolicy,
    pub subdomain_policy: Option<DmarcPolicy>,
    pub rua: Vec<String>,
    pub ruf: Vec<String>,
    pub adkim: Option<Alignment>,
    pub aspf: Option<Alignment>,
    pub pct: Option<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MtaSts {
    pub mode: MtaStsMode,
    pub max_age: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TlsRpt {
    pub rua: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    pub local: String,
    /// Full address.
    pub address: String,
    /// The `{SCHEME}` hash.
    #[serde(skip)]
    pub password: String,
    /// Bytes; `None` is unlimited.
    pub quota: Option<u64>,
    pub send_only: bool,
    /// Receives mail, logs in by no protocol.
    pub disabled: bool,
    /// The protocols it may log in by (its own `services`, else its
    /// domain's), whatever `disabled` says.
    pub services: BTreeSet<Service>,
    /// Rules run on every message delivered here, in order.
    pub rules: Vec<crate::rules::Rule>,
    pub vacation: Option<crate::rules::Vacation>,
    /// What it may send per hour (`defaults.limits` merged in).
    pub limits: SendLimits,
}

/// Where mail for one claimed local part goes, fully expanded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Recipient {
    /// What claims the local part.
    pub kind: RecipientKind,
    pub target: Expansion,
    /// The next step as written, as full addresses: an alias's own targets,
    /// a mailbox alias's mailbox; empty for a mailbox. `mailc route` follows
    /// these to show the chain that led to each recipient.
    pub via: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    #[default]
    Mailbox,
    MailboxAlias,
    Alias,
}

/// The end of an alias chain: mailboxes of this spec and outside addresses,
/// each once. Empty means the mail is refused (e.g. only send-only
/// mailboxes), unless `drop` says it is accepted and discarded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Expansion {
    pub mailboxes: Addresses,
    pub external: Addresses,
    /// Some chain ends at an alias that drops (`{drop: true}`): with no
    /// mailbox or outside address besides, the mail is accepted and
    /// discarded.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub drop: bool,
}

/// Addresses in order, each once: a set kept as a sorted vector. Nearly
/// every expansion holds one address (a mailbox's own), where a tree set
/// would allocate a whole node per recipient.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Addresses(Vec<String>);

impl Addresses {
    /// Adds `a`; false if it was there already.
    pub fn insert(&mut self, a: String) -> bool {
        match self.0.binary_search(&a) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, a);
                true
            }
        }
    }

    pub fn contains(&self, a: &str) -> bool {
        self.0.binary_search_by(|x| x.as_str().cmp(a)).is_ok()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.iter()
    }

    pub fn first(&self) -> Option<&String> {
        self.0.first()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Extend<String> for Addresses {
    fn extend<I: IntoIterator<Item = String>>(&mut self, items: I) {
        let before = self.0.len();
        self.0.extend(items);
        if self.0.len() > before {
            self.0.sort_unstable();
            self.0.dedup();
        }
    }
}

impl FromIterator<String> for Addresses {
    fn from_iter<I: IntoIterator<Item = String>>(items: I) -> Self {
        let mut a = Addresses::default();
        a.extend(items);
        a
    }
}

impl IntoIterator for Addresses {
    type Item = String;
    type IntoIter = std::vec::IntoIter<String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Addresses {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Expansion {
    /// Nothing receives the mail and nothing drops it: it is refused.
    pub fn is_empty(&self) -> bool {
        self.mailboxes.is_empty() && self.external.is_empty() && !self.drop
    }

    /// Accepted and discarded: only a drop at the end of every chain.
    pub fn drops(&self) -> bool {
        self.drop && self.mailboxes.is_empty() && self.external.is_empty()
    }
}

/// The domain's policy for addresses nobody claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "policy")]
pub enum Unknown {
    Reject,
    Bounce,
    /// Accepted and discarded.
    Drop,
    /// Catch-all, resolved like an alias target.
    Forward {
        target: Expansion,
    },
    Relay {
        host: String,
        port: Option<u16>,
    },
}

impl Unknown {
    /// Whether an address nobody claims is accepted and discarded:
    /// `drop`, or a catch-all that leads only to an alias that drops.
    pub fn drops(&self) -> bool {
        match self {
            Unknown::Drop => true,
            Unknown::Forward { target } => target.drops(),
            Unknown::Reject | Unknown::Bounce | Unknown::Relay { .. } => false,
        }
    }
}

/// A record from the spec's `records`, checked and normalized.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserRecord {
    /// Relative owner name, `@` for the apex.
    pub name: String,
    pub rtype: String,
    pub value: String,
    pub ttl: Option<u32>,
}

/// A YAML spec's model, for unit tests of the backends (every key file
/// counted as present). Panics with the diagnostics when the spec is invalid.
#[cfg(test)]
pub(crate) fn from_test_yaml(yaml: &str) -> Model {
    use crate::model::{KeyFiles, MissingKey};
    struct AllKeys;
    impl KeyFiles for AllKeys {
        fn exists(&self, _: &str) -> bool {
            true
        }
    }
    let source = crate::source::Source::new("t.yaml", yaml, crate::source::Dialect::Yaml);
    let mut diags = crate::diag::Diagnostics::new();
    let spec = crate::spec::parse(&source, &mut diags).expect("a spec");
    let inputs = Inputs {
        key_files: &AllKeys,
        missing_keys: MissingKey::Warn,
    };
    build(&spec, &inputs, &mut diags).unwrap_or_else(|| panic!("{:#?}", diags.into_sorted()))
}

#[cfg(test)]
mod tests {
    use super::Addresses;

    #[test]
    fn addresses_stay_sorted_and_unique() {
        let mut a: Addresses = ["c@x", "a@x", "c@x"]
            .map(String::from)
            .into_iter()
            .collect();
        assert!(a.insert("b@x".into()));
        assert!(!a.insert("a@x".into()));
        a.extend(["d@x".to_string(), "b@x".to_string()]);
        assert_eq!(
            a.iter().map(String::as_str).collect::<Vec<_>>(),
            ["a@x", "b@x", "c@x", "d@x"]
        );
        assert!(a.contains("c@x") && !a.contains("e@x"));
        assert_eq!((a.len(), a.first().map(String::as_str)), (4, Some("a@x")));
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"["a@x","b@x","c@x","d@x"]"#
        );
    }
}
