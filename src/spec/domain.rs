//! A domain as written, and the `defaults` it inherits from: routing and MX,
//! SPF, DKIM, DMARC, MTA-STS, TLS-RPT and its own DNS records.

use super::*;

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
