//! The spec as written (version 1, described in `docs/spec.md`): typed, every value with its
//! span, nothing resolved yet. Both front ends (YAML, KDL) produce these types
//! through the spanned [`tree`]; the JSON Schema in `schemas/` is generated
//! from them.
//!
//! Required keys are `Option`s here so that a missing one is reported once (by
//! `read`) and later checks simply skip it instead of cascading.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::diag::Diagnostics;
use crate::dkim::DkimAlgorithm;
use crate::source::{Dialect, Part, Source, Span};
use crate::vocab::{
    Alignment, DkimState, DmarcPolicy, MtaStsMode, Owns, RelayTls, Service, SpfAll, Stack,
    TsigAlgorithm,
};

pub mod include;
pub mod kdl;
mod read;
mod schema;
pub mod tree;
pub mod yaml;

pub use schema::json_schema;
use schema::{OneOrMany, OrNull, Text};

/// A value with the span it was written at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Sp<T> {
    pub fn new(value: T, span: Span) -> Self {
        Sp { value, span }
    }
}

impl<T: JsonSchema> JsonSchema for Sp<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        T::json_schema(g)
    }
}

/// A map from names to items, in the order written. Duplicates are kept so
/// that checks can point at both places.
#[derive(Clone, Debug, PartialEq)]
pub struct Entries<T>(pub Vec<(Sp<String>, T)>);

impl<T> Default for Entries<T> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<T> Entries<T> {
    pub fn iter(&self) -> impl Iterator<Item = (&Sp<String>, &T)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: JsonSchema> JsonSchema for Entries<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", T::schema_name()).into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let item = g.subschema_for::<T>();
        // `read` takes an empty entry (`mailboxes:`) as no entries.
        json_schema!({ "type": ["object", "null"], "additionalProperties": item })
    }
}

/// A whole spec file.
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "mailc spec, version 1")]
pub struct Spec {
    /// The spec language version. Only `1` exists.
    #[schemars(required, with = "u32", range(min = 1, max = 1))]
    pub version: Option<Sp<u32>>,
    /// Files whose `domains` join this spec's: paths or globs (`*`, `?`
    /// within one path segment), relative to this file's folder, matched
    /// in sorted order; YAML and KDL may be mixed. Only the main spec
    /// includes; an included file holds `domains` and nothing else.
    #[serde(default)]
    #[schemars(with = "OneOrMany<Text>")]
    pub include: Vec<Sp<String>>,
    /// Values every domain inherits unless it sets its own.
    #[serde(default)]
    #[schemars(with = "OrNull<Defaults>")]
    pub defaults: Option<Defaults>,
    /// The mail servers this spec configures, by host key (`[a-z0-9-]`, no dots).
    #[schemars(required, with = "Entries<Host>")]
    pub hosts: Option<Entries<Host>>,
    /// The mail domains, by domain name.
    #[serde(default)]
    pub domains: Entries<Domain>,
    /// Name servers mailc pushes zones to, by a name of your choice
    /// (domains choose one with `dns.target`).
    #[serde(default)]
    pub dns_targets: Entries<DnsTarget>,
    /// Smart hosts outbound mail may leave through, by a name of your
    /// choice: a host's `outbound_relay` sends all its outbound mail there,
    /// a relay's `senders` send one domain's or one address's mail there.
    #[serde(default)]
    pub outbound_relays: Entries<OutboundRelay>,
    /// Keys of the spec that could not be read (misspelt, or a value of the
    /// wrong kind): checks that depend on them stay quiet.
    #[serde(skip)]
    pub broken: Vec<&'static str>,
    /// Expectations `mailc test` checks: what becomes of mail to an
    /// address on our hosts, and DNS facts of our domains.
    #[serde(default)]
    #[schemars(with = "OneOrMany<Test>")]
    pub tests: Vec<Test>,
}

/// The keys `defaults` gives every domain and a domain may set for itself.
/// A domain's value replaces the default's, except the fixed-field maps
/// (`spf`, `dmarc`, `mta_sts`, `tls_rpt`), which merge field by field.
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// TTL of every record mailc writes (seconds, at most 2^31 - 1 as RFC
    /// 2181 §8 says). Default 3600.
    #[serde(default)]
    #[schemars(with = "u32", range(max = 2147483647))]
    pub ttl: Option<Sp<u32>>,
    /// What happens to mail for addresses no mailbox or alias claims. Default `reject`.
    #[serde(default)]
    #[schemars(with = "UnknownRecipients")]
    pub unknown_recipients: Option<Sp<UnknownRecipients>>,
    #[serde(default)]
    #[schemars(with = "OrNull<Spf>")]
    pub spf: Option<Spf>,
    #[serde(default)]
    #[schemars(with = "OrNull<Dmarc>")]
    pub dmarc: Option<Dmarc>,
    #[serde(default)]
    #[schemars(with = "OrNull<MtaSts>")]
    pub mta_sts: Option<MtaSts>,
    #[serde(default)]
    #[schemars(with = "OrNull<TlsRpt>")]
    pub tls_rpt: Option<TlsRpt>,
    /// Default mailbox quota (`500M`, `2G`, `1T`). Absent: unlimited.
    #[serde(default)]
    #[schemars(with = "Text")]
    pub quota: Option<Sp<String>>,
    /// NS records of every published zone.
    #[serde(default)]
    #[schemars(with = "OneOrMany<Text>")]
    pub nameservers: Option<Vec<Sp<String>>>,
    /// The SOA RNAME, as an address (`hostmaster@example.com`).
    #[serde(default)]
    #[schemars(with = "Text")]
    pub hostmaster: Option<Sp<String>>,
    /// Rewrite envelope senders of forwarded mail (SRS). Default false.
    #[serde(default)]
    #[schemars(with = "bool")]
    pub srs: Option<Sp<bool>>,
    /// Where the zone is served and how much of it mailc owns there.
    #[serde(default)]
    #[schemars(with = "OrNull<DnsPush>")]
    pub dns: Option<DnsPush>,
    /// Sending limits of authenticated submission. Under `defaults`: the
    /// limits of each mailbox (a mailbox's own `limits` replace them field
    /// by field). On a domain: the total of all its mailboxes together,
    /// not inherited from `defaults`. Absent: no limit.
    #[serde(default)]
    #[schemars(with = "OrNull<SendLimits>")]
    pub limits: Option<SendLimits>,
    /// Keys here that could not be read (misspelt, or a value of the wrong
    /// kind; for a domain, its own keys too): checks that depend on them
    /// stay quiet.
    #[serde(skip)]
    pub broken: Vec<&'static str>,
}

/// Which DNS target serves a domain's zone, and how much of the zone is
/// mailc's. Fields merge with the default's.
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsPush {
    /// The name of an entry of `dns_targets`.
    #[serde(default)]
    #[schemars(with = "Text")]
    pub target: Option<Sp<String>>,
    /// `mail` (default): only mail's records; `zone`: the whole zone.
    #[serde(default)]
    #[schemars(with = "Owns")]
    pub owns: Option<Sp<Owns>>,
    #[serde(skip)]
    pub span: Span,
}

/// A name server mailc pushes zones to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DnsTarget {
    pub kind: Option<Sp<DnsTargetKind>>,
    /// `rfc2136`: the primary's address, `IP` or `IP:PORT` (port 53).
    pub server: Option<Sp<String>>,
    /// `rfc2136`: the TSIG key's name, as the server knows it.
    pub tsig_key: Option<Sp<String>>,
    /// `rfc2136`: `hmac-sha256` (default) or `hmac-sha512`.
    pub tsig_algorithm: Option<Sp<TsigAlgorithm>>,
    /// `rfc2136`: the file holding the key's secret, relative to the spec.
    pub tsig_secret_file: Option<Sp<String>>,
    /// `powerdns`: the API's base URL, `http://HOST:PORT` or `https://…`.
    pub url: Option<Sp<String>>,
    /// `powerdns`: the server id in the API's paths. Default `localhost`.
    pub server_id: Option<Sp<String>>,
    /// `powerdns`: the file holding the API key, relative to the spec.
    pub api_key_file: Option<Sp<String>>,
    pub span: Span,
}

/// How mailc talks to a DNS target.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DnsTargetKind {
    /// Dynamic updates (RFC 2136) signed with TSIG, zones read by AXFR.
    Rfc2136,
    /// PowerDNS Authoritative's HTTP API.
    Powerdns,
}

impl JsonSchema for DnsTarget {
    fn schema_name() -> Cow<'static, str> {
        "DnsTarget".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A name server mailc pushes zones to: `rfc2136` (dynamic updates signed with TSIG) or `powerdns` (its HTTP API).",
            "oneOf": [
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["type", "server", "tsig_key", "tsig_secret_file"],
                    "properties": {
                        "type": { "const": "rfc2136" },
                        "server": { "type": ["string", "number"], "description": "The primary's address: IP or IP:PORT (port 53 by default)." },
                        "tsig_key": { "type": ["string", "number"], "description": "The TSIG key's name, as the server knows it." },
                        "tsig_algorithm": { "enum": ["hmac-sha256", "hmac-sha512"], "description": "Default hmac-sha256." },
                        "tsig_secret_file": { "type": ["string", "number"], "description": "The file holding the key's base64 secret (or a BIND key file), relative to the spec; mode 0600." }
                    }
                },
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["type", "url", "api_key_file"],
                    "properties": {
                        "type": { "const": "powerdns" },
                        "url": { "type": ["string", "number"], "description": "The API's base URL: http://HOST:PORT or https://HOST:PORT." },
                        "server_id": { "type": ["string", "number"], "description": "The server id in the API's paths. Default localhost." },
                        "api_key_file": { "type": ["string", "number"], "description": "The file holding the API key, relative to the spec; mode 0600." }
                    }
                }
            ]
        })
    }
}

/// One mail server.
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// FQDN: the HELO name, and what the PTR of `ipv4` must say.
    #[schemars(required, with = "Text")]
    pub hostname: Option<Sp<String>>,
    #[schemars(required, with = "Text")]
    pub ipv4: Option<Sp<String>>,
    #[serde(default)]
    #[schemars(with = "Text")]
    pub ipv6: Option<Sp<String>>,
    #[schemars(required, with = "Stack")]
    pub stack: Option<Sp<Stack>>,
    /// The name of an entry of `outbound_relays` this host sends all its
    /// outbound mail through, unless a relay's `senders` names the sender.
    /// Absent: mail goes straight to the recipient domain's MX.
    #[serde(default)]
    #[schemars(with = "Text")]
    pub outbound_relay: Option<Sp<String>>,
}

/// A smart host outbound mail leaves through.
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboundRelay {
    /// The relay's host name or IP address. mailc connects to it as
    /// written: no MX lookup.
    #[schemars(required, with = "Text")]
    pub host: Option<Sp<String>>,
    /// TCP port. Default by `tls`: 465 for `implicit`, 587 for `starttls`,
    /// 25 for `opportunistic`.
    #[serde(default)]
    #[schemars(with = "u16", range(min = 1))]
    pub port: Option<Sp<u16>>,
    /// `starttls` (default): STARTTLS is required, mail waits rather than
    /// cross in clear; `implicit`: TLS from the first byte (port 465);
    /// `opportunistic`: STARTTLS when offered, else in clear.
    #[serde(default)]
    #[schemars(with = "RelayTls")]
    pub tls: Option<Sp<RelayTls>>,
    /// The user name to authenticate with (SMTP AUTH). Needs
    /// `password_file`, and `tls` other than `opportunistic`.
    #[serde(default)]
    #[schemars(with = "Text")]
    pub username: Option<Sp<String>>,
    /// The file holding the password (its first line), relative to the
    /// spec; keep it mode 0600. The compiled files that hold it are 0600.
    #[serde(default)]
    #[schemars(with = "Text")]
    pub password_file: Option<Sp<String>>,
    /// Sender domains of the spec (`example.com`) and sender addresses
    /// (`news@example.com`) whose mail leaves through this relay on every
    /// host. An address wins over its domain, a domain over the host's
    /// `outbound_relay`.
    #[serde(default)]
    #[schemars(with = "OneOrMany<Text>")]
    pub senders: Vec<Sp<String>>,
    #[serde(skip)]
    pub span: Span,
}

/// How much a mailbox (or a domain's mailboxes together) may send through
/// authenticated submission per clock hour. Mail over a limit is refused
/// for now (`450 4.7.1`), never dropped.
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendLimits {
    /// Messages per hour (each `MAIL FROM` accepted counts one). Absent:
    /// no limit.
    #[serde(default)]
    #[schemars(with = "u32", range(min = 1))]
    pub messages_per_hour: Option<Sp<u32>>,
    /// Recipients per hour, over all messages (each `RCPT TO` accepted
    /// counts one). Absent: no limit.
    #[serde(default)]
    #[schemars(with = "u32", range(min = 1))]
    pub recipients_per_hour: Option<Sp<u32>>,
    #[serde(skip)]
    pub span: Span,
}

/// One mail domain.
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    /// How each host treats the domain. Default `auto`.
    #[serde(default)]
    #[schemars(with = "Routing")]
    pub routing: Option<Sp<Routing>>,
    /// MX entries: host keys or external FQDNs. `[]` publishes a null MX.
    #[schemars(required, with = "OneOrMany<MxEntry>")]
    pub mx: Option<Sp<Vec<MxEntry>>>,
    #[serde(default)]
    #[schemars(with = "OneOrMany<Dkim>")]
    pub dkim: Vec<Dkim>,
    #[serde(default)]
    pub mailboxes: Entries<Mailbox>,
    /// Alias local part → targets (local parts or full addresses).
    #[serde(default)]
    pub aliases: Entries<Targets>,
    /// Other DNS records of the zone.
    #[serde(default)]
    #[schemars(with = "OneOrMany<Record>")]
    pub records: Vec<Record>,
    /// Whether this spec publishes the domain's zone. Default true.
    #[serde(default)]
    #[schemars(with = "bool")]
    pub zone: Option<Sp<bool>>,
    /// The access protocols the domain offers its mailboxes' mail clients.
    /// Default `[imap, submission]`.
    #[serde(default)]
    #[schemars(with = "OneOrMany<Service>")]
    pub services: Option<Sp<Vec<Sp<Service>>>>,
    /// Whether the domain's mail service is on. Default true. `false`: its
    /// MX hosts refuse every recipient of it (`550 5.7.1`), its mailboxes
    /// and aliases leave the compiled maps (no logins), nothing is
    /// DKIM-signed for it; its DNS records stay as written.
    #[serde(default)]
    #[schemars(with = "bool")]
    pub mail: Option<Sp<bool>>,
    /// The domain's own values of the inherited keys.
    #[serde(flatten)]
    pub own: Defaults,
}

/// `auto`, `local`, `remote`, `backup`, or per host `{HOST: MODE}`.
#[derive(Clone, Debug, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Routing {
    All(RoutingMode),
    PerHost(Entries<Sp<RoutingMode>>),
}

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    JsonSchema,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum RoutingMode {
    Auto,
    Local,
    Remote,
    Backup,
}

/// An MX entry: a host key or an external FQDN, bare or with a priority.
#[derive(Clone, Debug, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum MxEntry {
    Bare(#[schemars(with = "Text")] Sp<String>),
    WithPriority(MxWithPriority),
}

#[derive(Clone, Debug, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MxWithPriority {
    #[schemars(with = "Text")]
    pub host: Sp<String>,
    #[serde(default)]
    #[schemars(with = "u16")]
    pub priority: Option<Sp<u16>>,
}

impl MxEntry {
    pub fn host(&self) -> &Sp<String> {
        match self {
            MxEntry::Bare(h) => h,
            MxEntry::WithPriority(m) => &m.host,
        }
    }
    pub fn priority(&self) -> Option<&Sp<u16>> {
        match self {
            MxEntry::Bare(_) => None,
            MxEntry::WithPriority(m) => m.priority.as_ref(),
        }
    }
}

/// SPF terms. Lists replace the default's whole; `all` is inherited alone.
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spf {
    #[serde(default)]
    #[schemars(with = "OneOrMany<Text>")]
    pub include: Option<Vec<Sp<String>>>,
    #[serde(default)]
    #[schemars(with = "OneOrMany<Text>")]
    pub ip4: Option<Vec<Sp<String>>>,
    #[serde(default)]
    #[schemars(with = "OneOrMany<Text>")]
    pub ip6: Option<Vec<Sp<String>>>,
    /// `a` terms: `@` (the domain itself) or a name, with an optional
    /// prefix length (`@/24`, `mail.example.net//64`).
    #[serde(default)]
    #[schemars(with = "OneOrMany<Text>")]
    pub a: Option<Vec<Sp<String>>>,
    /// `mx` terms: `@` or a name, with an optional prefix length.
    #[serde(default)]
    #[schemars(with = "OneOrMany<Text>")]
    pub mx: Option<Vec<Sp<String>>>,
    /// `ptr` terms: `@` or a name. RFC 7208 §5.5 says not to use them (a warning).
    #[serde(default)]
    #[schemars(with = "OneOrMany<Text>")]
    pub ptr: Option<Vec<Sp<String>>>,
    /// `exists` terms: a name, macros allowed (`%{i}._spf.example.net`).
    #[serde(default)]
    #[schemars(with = "OneOrMany<Text>")]
    pub exists: Option<Vec<Sp<String>>>,
    /// `redirect=`: the rest of the policy is that domain's SPF record;
    /// written instead of `all`, so not beside `all`.
    #[serde(default)]
    #[schemars(with = "Text")]
    pub redirect: Option<Sp<String>>,
    /// `-all` (default), `~all` or `?all`.
    #[serde(default)]
    #[schemars(with = "SpfAll")]
    pub all: Option<Sp<SpfAll>>,
    /// The whole record, `v=spf1 ...`, written as given: mailc adds
    /// nothing to it. Not beside the other keys.
    #[serde(default)]
    #[schemars(with = "Text")]
    pub record: Option<Sp<String>>,
    #[serde(skip)]
    pub span: Span,
}

impl Spf {
    /// Whether any key besides `record` is given.
    pub fn has_terms(&self) -> bool {
        self.include.is_some()
            || self.ip4.is_some()
            || self.ip6.is_some()
            || self.a.is_some()
            || self.mx.is_some()
            || self.ptr.is_some()
            || self.exists.is_some()
            || self.redirect.is_some()
            || self.all.is_some()
    }
}

/// A DKIM key: one we hold (`private_key`) or one we only publish (`public_key`).
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dkim {
    #[schemars(required, with = "Text")]
    pub selector: Option<Sp<String>>,
    /// Default `rsa-2048`.
    #[serde(default)]
    #[schemars(with = "DkimAlgorithm")]
    pub algorithm: Option<Sp<DkimAlgorithm>>,
    /// Path of the PEM private key, relative to the spec file.
    #[serde(default)]
    #[schemars(with = "Text")]
    pub private_key: Option<Sp<String>>,
    /// Base64 SubjectPublicKeyInfo (or a raw Ed25519 key) of a key held elsewhere.
    #[serde(default)]
    #[schemars(with = "Text")]
    pub public_key: Option<Sp<String>>,
    /// Whether our hosts sign with it. Default true. (`state` says more.)
    #[serde(default)]
    #[schemars(with = "bool")]
    pub sign: Option<Sp<bool>>,
    /// Where the key is in its life: `published`, `signing` (default for a
    /// `private_key`), `retired` or `revoked`.
    #[serde(default)]
    #[schemars(with = "DkimState")]
    pub state: Option<Sp<DkimState>>,
    #[serde(skip)]
    pub span: Span,
}

/// DMARC (RFC 7489). Fields merge with the default's.
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dmarc {
    #[serde(default)]
    #[schemars(with = "DmarcPolicy")]
    pub policy: Option<Sp<DmarcPolicy>>,
    /// Policy for subdomains (`sp=`). Default: as `policy`.
    #[serde(default)]
    #[schemars(with = "DmarcPolicy")]
    pub subdomain_policy: Option<Sp<DmarcPolicy>>,
    /// Aggregate report addresses (`mailto:` URIs).
    #[serde(default)]
    #[schemars(with = "OneOrMany<Text>")]
    pub rua: Option<Vec<Sp<String>>>,
    /// Failure report addresses (`mailto:` URIs).
    #[serde(default)]
    #[schemars(with = "OneOrMany<Text>")]
    pub ruf: Option<Vec<Sp<String>>>,
    #[serde(default)]
    #[schemars(with = "Alignment")]
    pub adkim: Option<Sp<Alignment>>,
    #[serde(default)]
    #[schemars(with = "Alignment")]
    pub aspf: Option<Sp<Alignment>>,
    /// Percentage of mail the policy applies to, 0–100.
    #[serde(default)]
    #[schemars(with = "u8")]
    pub pct: Option<Sp<u8>>,
    #[serde(skip)]
    pub span: Span,
}

/// MTA-STS (RFC 8461).
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MtaSts {
    /// Default `testing`.
    #[serde(default)]
    #[schemars(with = "MtaStsMode")]
    pub mode: Option<Sp<MtaStsMode>>,
    /// Seconds, at most 31557600 (one year). Default 604800.
    #[serde(default)]
    #[schemars(with = "u32")]
    pub max_age: Option<Sp<u32>>,
    #[serde(skip)]
    pub span: Span,
}

/// TLS reporting (RFC 8460).
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsRpt {
    /// `mailto:` or `https:` report URIs.
    #[serde(default)]
    #[schemars(with = "OneOrMany<Text>")]
    pub rua: Option<Vec<Sp<String>>>,
    #[serde(skip)]
    pub span: Span,
}

/// One mailbox.
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mailbox {
    /// A Dovecot `{SCHEME}` hash: SHA512-CRYPT, SHA256-CRYPT, BLF-CRYPT, ARGON2I, ARGON2ID.
    #[schemars(required, with = "Text")]
    pub password: Option<Sp<String>>,
    #[serde(default)]
    #[schemars(with = "Text")]
    pub quota: Option<Sp<String>>,
    /// Other local parts of this domain that deliver here.
    #[serde(default)]
    #[schemars(with = "OneOrMany<Text>")]
    pub aliases: Vec<Sp<String>>,
    /// May send, receives nothing. Default false.
    #[serde(default)]
    #[schemars(with = "bool")]
    pub send_only: Option<Sp<bool>>,
    /// The access protocols this mailbox may log in by: some of its
    /// domain's `services`. Default: all of them.
    #[serde(default)]
    #[schemars(with = "OneOrMany<Service>")]
    pub services: Option<Sp<Vec<Sp<Service>>>>,
    /// Receives mail as usual, but logs in by no protocol (and so sends
    /// nothing). Default false.
    #[serde(default)]
    #[schemars(with = "bool")]
    pub disabled: Option<Sp<bool>>,
    /// Rules run in order on every message delivered to the mailbox, after
    /// it was accepted.
    #[serde(default)]
    #[schemars(with = "OneOrMany<Rule>")]
    pub rules: Vec<Rule>,
    /// An autoresponder: one reply per sender per `days`.
    #[serde(default)]
    #[schemars(with = "Vacation")]
    pub vacation: Option<Vacation>,
    /// This mailbox's sending limits; each field replaces the one of
    /// `defaults.limits`.
    #[serde(default)]
    #[schemars(with = "OrNull<SendLimits>")]
    pub limits: Option<SendLimits>,
}

/// One mail rule: when its conditions hold, its actions run, in order.
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `all` (default): every condition must hold; `any`: one is enough.
    #[serde(default, rename = "match")]
    #[schemars(with = "RuleMatch")]
    pub match_: Option<Sp<RuleMatch>>,
    /// The conditions; without `if` the rule applies to every message.
    #[serde(default, rename = "if")]
    #[schemars(with = "OneOrMany<Condition>")]
    pub conditions: Option<Sp<Vec<Condition>>>,
    /// What to do, in order.
    #[serde(rename = "then")]
    #[schemars(required, with = "OneOrMany<Action>")]
    pub actions: Option<Sp<Vec<Action>>>,
    #[serde(skip)]
    pub span: Span,
}

/// Whether every condition of a rule must hold, or one.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum RuleMatch {
    All,
    Any,
}

/// What a condition looks at.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    /// The addresses of the `From` header.
    From,
    /// The addresses of the `To` and `Cc` headers.
    To,
    /// The envelope sender (`MAIL FROM`).
    Sender,
    /// The `Subject` header.
    Subject,
    /// Any header, named by `name`.
    Header,
    /// The message's size in bytes (`over` or `under`, `K`/`M`/`G` suffixes).
    Size,
}

/// How a condition compares: text (case-insensitive for ASCII letters) or size.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Compare {
    /// The text contains the value.
    Contains,
    /// The text is the value.
    Is,
    /// The text matches the value, a pattern where `*` stands for any
    /// text and every other character for itself.
    Matches,
    /// The size is larger than the value.
    Over,
    /// The size is smaller than the value.
    Under,
}

/// One condition: `{FIELD: {COMPARISON: VALUE}}`; `header` also takes the
/// header's `name`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub field: Option<Sp<Field>>,
    /// The header's name (`header` only).
    pub name: Option<Sp<String>>,
    pub compare: Option<Sp<Compare>>,
    pub value: Option<Sp<String>>,
    pub span: Span,
}

impl JsonSchema for Condition {
    fn schema_name() -> Cow<'static, str> {
        "Condition".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let text = json_schema!({
            "type": "object",
            "additionalProperties": false,
            "minProperties": 1,
            "maxProperties": 1,
            "properties": {
                "contains": { "type": ["string", "number"] },
                "is": { "type": ["string", "number"] },
                "matches": { "type": ["string", "number"] }
            }
        });
        let header = json_schema!({
            "type": "object",
            "additionalProperties": false,
            "required": ["name"],
            "minProperties": 2,
            "maxProperties": 2,
            "properties": {
                "name": { "type": ["string", "number"], "description": "The header's name." },
                "contains": { "type": ["string", "number"] },
                "is": { "type": ["string", "number"] },
                "matches": { "type": ["string", "number"] }
            }
        });
        let size = json_schema!({
            "type": "object",
            "additionalProperties": false,
            "minProperties": 1,
            "maxProperties": 1,
            "properties": {
                "over": { "type": ["string", "number"] },
                "under": { "type": ["string", "number"] }
            }
        });
        json_schema!({
            "description": "A condition: `from`, `to`, `sender`, `subject`, `header` (with `name`) compared by `contains`, `is` or `matches` (ASCII letters in either case); `size` by `over` or `under`.",
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": false,
            "properties": {
                "from": text.clone(),
                "to": text.clone(),
                "sender": text.clone(),
                "subject": text,
                "header": header,
                "size": size
            }
        })
    }
}

/// One action of a rule.
#[derive(Clone, Debug, PartialEq)]
pub enum ActionKind {
    /// File into this folder, created when first used.
    FileInto(Sp<String>),
    /// Send on to this address; `copy` keeps one in the mailbox too.
    Forward { to: Sp<String>, copy: bool },
    /// Drop the message silently.
    Discard,
    /// Refuse it, returning this text to the sender.
    Reject(Sp<String>),
    /// Keep it in the inbox (what happens when no action files it).
    Keep,
    /// Run no further rules.
    Stop,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    pub kind: ActionKind,
    pub span: Span,
}

impl JsonSchema for Action {
    fn schema_name() -> Cow<'static, str> {
        "Action".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An action: `keep`, `discard`, `stop`, or a map of one key: `fileinto: FOLDER`, `forward: ADDRESS` (or `{to: ADDRESS, copy: true}` to keep a copy), `reject: TEXT`.",
            "oneOf": [
                { "enum": ["keep", "discard", "stop"] },
                {
                    "type": "object",
                    "additionalProperties": false,
                    "minProperties": 1,
                    "maxProperties": 1,
                    "properties": {
                        "fileinto": { "type": ["string", "number"], "description": "A folder; created when first used." },
                        "reject": { "type": ["string", "number"], "description": "The text returned to the sender." },
                        "forward": {
                            "anyOf": [
                                { "type": ["string", "number"] },
                                {
                                    "type": "object",
                                    "additionalProperties": false,
                                    "required": ["to"],
                                    "properties": {
                                        "to": { "type": ["string", "number"] },
                                        "copy": { "type": "boolean", "description": "Keep a copy in the mailbox too. Default false." }
                                    }
                                }
                            ]
                        }
                    }
                }
            ]
        })
    }
}

/// A mailbox's autoresponder (RFC 5230).
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vacation {
    /// The reply's subject. Default `Auto: ` and the message's subject.
    #[serde(default)]
    #[schemars(with = "Text")]
    pub subject: Option<Sp<String>>,
    /// The reply's text (several lines allowed).
    #[schemars(required, with = "Text")]
    pub text: Option<Sp<String>>,
    /// First day it answers, `YYYY-MM-DD` (the server's local date).
    #[serde(default)]
    #[schemars(with = "Text")]
    pub start: Option<Sp<String>>,
    /// Last day it answers, `YYYY-MM-DD`.
    #[serde(default)]
    #[schemars(with = "Text")]
    pub end: Option<Sp<String>>,
    /// Days between two replies to one sender, 1 to 90. Default 7.
    #[serde(default)]
    #[schemars(with = "u32", range(min = 1, max = 90))]
    pub days: Option<Sp<u32>>,
    /// The addresses it answers mail to besides the mailbox's own (local
    /// parts of the domain or full addresses). Default: the mailbox's aliases.
    #[serde(default)]
    #[schemars(with = "OneOrMany<Text>")]
    pub addresses: Option<Vec<Sp<String>>>,
    #[serde(skip)]
    pub span: Span,
}

/// Alias targets as read: local parts or full addresses, or `{drop: true}`
/// (accept the mail and discard it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Targets {
    pub targets: Vec<Sp<String>>,
    /// `{drop: true}` (or `drop=#true` in KDL): where it is written.
    pub drop: Option<Sp<bool>>,
    pub span: Span,
}

impl JsonSchema for Targets {
    fn schema_name() -> Cow<'static, str> {
        "AliasTargets".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A local part or full address, or a list of them; or `{drop: true}`: accept the mail and discard it.",
            "oneOf": [
                { "type": ["string", "number"] },
                { "type": "array", "items": { "type": ["string", "number"] }, "minItems": 1 },
                {
                    "type": "object",
                    "properties": { "drop": { "const": true } },
                    "required": ["drop"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// What happens to mail for an address no mailbox or alias claims.
#[derive(Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnknownRecipients {
    /// Refuse at RCPT with `550 5.1.1` (default).
    Reject,
    /// Accept and send a non-delivery report (backscatter).
    Bounce,
    /// Accept and discard, silently.
    Drop,
    /// Catch-all: deliver as an alias target would.
    Forward(#[schemars(with = "Text")] Sp<String>),
    /// Pass such mail on to `HOST[:PORT]`.
    Relay(#[schemars(with = "Text")] Sp<String>),
}

/// A DNS record of the zone beyond the ones mailc writes.
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Relative to the zone (`www`), `@` for the apex.
    #[schemars(required, with = "Text")]
    pub name: Option<Sp<String>>,
    /// A, AAAA, CNAME, TXT, SRV, CAA, TLSA, NS (below the apex).
    #[schemars(required, with = "Text")]
    #[serde(rename = "type")]
    pub rtype: Option<Sp<String>>,
    /// Presentation form of the data (TXT: the text itself, unquoted).
    #[schemars(required, with = "Text")]
    pub value: Option<Sp<String>>,
    /// This record's TTL (seconds, at most 2^31 - 1 as RFC 2181 §8 says);
    /// default the domain's.
    #[serde(default)]
    #[schemars(with = "u32", range(max = 2147483647))]
    pub ttl: Option<Sp<u32>>,
    #[serde(skip)]
    pub span: Span,
}

/// One expectation of the `tests` section: a route test (`address`, what
/// must become of mail to it on which hosts) or a DNS test (`domain`, facts
/// of its records). Which keys fit which kind is checked when the model is
/// built (`expect::resolve`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Test {
    /// A route test's recipient address.
    pub address: Option<Sp<String>>,
    /// A DNS test's domain.
    pub domain: Option<Sp<String>>,
    /// The hosts (keys or hostnames) a route test is about; absent: every host.
    pub host: Option<Sp<Vec<Sp<String>>>>,
    /// Delivered into exactly these mailboxes (local parts of the
    /// address's domain, or full addresses).
    pub deliver: Option<Sp<Vec<Sp<String>>>>,
    /// Forwarded to exactly these outside addresses.
    pub forward: Option<Sp<Vec<Sp<String>>>>,
    /// Relayed to this server: a host key, or `NAME[:PORT]`.
    pub relay: Option<Sp<String>>,
    /// Refused at RCPT: any refusal, or with this reply code (`550`,
    /// `550 5.1.1`).
    pub reject: Option<Sp<Reject>>,
    /// Accepted, then returned with a non-delivery report.
    pub bounce: Option<Sp<bool>>,
    /// Accepted and discarded.
    pub drop: Option<Sp<bool>>,
    /// Not this host's domain: sent out by MX lookup.
    pub remote: Option<Sp<bool>>,
    /// The domain's MX set: host keys or names, bare or with a priority.
    pub mx: Option<Sp<Vec<MxEntry>>>,
    /// Addresses the domain's SPF record passes.
    pub spf_allows: Option<Sp<Vec<Sp<String>>>>,
    /// Addresses the domain's SPF record does not pass.
    pub spf_denies: Option<Sp<Vec<Sp<String>>>>,
    /// The least DMARC policy (`p=`) the domain must publish.
    pub dmarc_at_least: Option<Sp<DmarcPolicy>>,
    pub span: Span,
}

/// What a `reject` expectation asks of the refusal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reject {
    /// `reject: true`: any refusal.
    Any,
    /// The reply's code, optionally with its enhanced status code.
    Reply(String),
}

impl JsonSchema for Test {
    fn schema_name() -> Cow<'static, str> {
        "Test".into()
    }
    // Shaped as `read` reads a test: text may be a number, a list may be
    // one item, and no optional key may be written `null`.
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let text = g.subschema_for::<Text>();
        let list = |g: &mut SchemaGenerator, description: &str| {
            let mut s = g.subschema_for::<OneOrMany<Text>>();
            s.insert("description".into(), description.into());
            s
        };
        let host = list(
            g,
            "The hosts (keys or hostnames) the expectation is about; absent: every host.",
        );
        let deliver = list(
            g,
            "Delivered into exactly these mailboxes (local parts of the address's domain, or full addresses).",
        );
        let forward = list(g, "Forwarded to exactly these outside addresses.");
        let spf_allows = list(g, "IP addresses the SPF record passes.");
        let spf_denies = list(g, "IP addresses the SPF record does not pass.");
        let mut mx = g.subschema_for::<OneOrMany<MxEntry>>();
        mx.insert(
            "description".into(),
            "The MX set: host keys or names, bare or {host, priority}.".into(),
        );
        json_schema!({
            "description": "An expectation `mailc test` checks: a route test (`address`: what must become of mail to it) or a DNS test (`domain`: facts of its records).",
            "oneOf": [
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["address"],
                    "properties": {
                        "address": { "type": ["string", "number"], "description": "The recipient address." },
                        "host": host,
                        "deliver": deliver,
                        "forward": forward,
                        "relay": { "type": ["string", "number"], "description": "Relayed to this server: a host key, or NAME[:PORT]." },
                        "reject": {
                            "description": "Refused at RCPT: `true` for any refusal, or the reply code (`550`, `550 5.1.1`).",
                            "anyOf": [{ "const": true }, text]
                        },
                        "bounce": { "const": true, "description": "Accepted, then returned with a non-delivery report." },
                        "drop": { "const": true, "description": "Accepted and discarded." },
                        "remote": { "const": true, "description": "Not this host's domain: sent out by MX lookup." }
                    }
                },
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["domain"],
                    "properties": {
                        "domain": { "type": ["string", "number"], "description": "A domain of the spec." },
                        "mx": mx,
                        "spf_allows": spf_allows,
                        "spf_denies": spf_denies,
                        "dmarc_at_least": { "enum": ["none", "quarantine", "reject"], "description": "The least DMARC policy the domain must publish." }
                    }
                }
            ]
        })
    }
}

/// Reads a spec file's text in its dialect. Problems go to `diags`; the spec
/// holds what could be read (placeholders where a value was wrong).
pub fn parse(source: &Source, diags: &mut Diagnostics) -> Option<Spec> {
    let spec = parse_main(source, diags);
    parse_included(source, spec, diags)
}

/// Parses the main file of the spec (the first part of `source`) only.
pub fn parse_main(source: &Source, diags: &mut Diagnostics) -> Option<Spec> {
    diags.set_dialect(source.dialect);
    diags.speak_kdl_with(kdl::write::help);
    let main = source.parts.first()?;
    parse_part(source, main, diags, |tree, diags| {
        read::read(tree, main.dialect, diags)
    })
}

/// Parses the files the spec includes (every part of `source` after the
/// first), each alone, and adds their domains to `spec` (the main file's).
pub fn parse_included(
    source: &Source,
    mut spec: Option<Spec>,
    diags: &mut Diagnostics,
) -> Option<Spec> {
    let included = source.parts.get(1..).unwrap_or_default();
    if included.is_empty() {
        return spec;
    }
    diags.set_parts(source.parts.iter().map(|p| (p.base, p.dialect)));
    // Files are read on every core; each reads its domains alone.
    let read = crate::par::map_chunks(included, 64, |parts| {
        let mut found = Diagnostics::new();
        let specs: Vec<Option<Entries<Domain>>> = parts
            .iter()
            .map(|part| {
                parse_part(source, part, &mut found, |tree, diags| {
                    read::read_included(tree, part.dialect, diags)
                })
            })
            .collect();
        (specs, found)
    });
    for (domains, found) in read {
        diags.append(found);
        for d in domains {
            match (&mut spec, d) {
                (Some(spec), Some(d)) => spec.domains.0.extend(d.0),
                _ => spec = None,
            }
        }
    }
    spec
}

/// Parses one file of the spec alone and reads it with `read`, its spans
/// (and those of the problems found) moved to where the file stands in the
/// source's text.
fn parse_part<T>(
    source: &Source,
    part: &Part,
    diags: &mut Diagnostics,
    read: impl FnOnce(&tree::Node, &mut Diagnostics) -> T,
) -> Option<T> {
    let text = source.part_text(part);
    let tree = match part.dialect {
        Dialect::Yaml => yaml::parse(text)
            .map(|t| (t, Vec::new()))
            .map_err(|d| vec![d]),
        Dialect::Kdl => kdl::parse(text),
    };
    let shift = |mut d: crate::diag::Diagnostic| {
        for l in &mut d.labels {
            l.span.start += part.base;
        }
        d
    };
    match tree {
        Ok((mut tree, recovered)) => {
            for d in recovered {
                diags.push(shift(d));
            }
            if part.base != 0 {
                tree::shift(&mut tree, part.base);
            }
            Some(read(&tree, diags))
        }
        Err(errors) => {
            for d in errors {
                diags.push(shift(d));
            }
            None
        }
    }
}
