//! The words a spec and the model share: the choices a spec makes from a
//! fixed list (a host's stack, a mail service, SPF's `all`, DKIM key
//! states, DMARC policy and alignment, MTA-STS mode, a relay's TLS, a DNS
//! target's scope and TSIG algorithm), which the model keeps as they are.
//! One home below both stages, so neither reaches the other's types for
//! them; the spec's JSON Schema describes them from here.

use schemars::JsonSchema;

/// How much of a pushed zone mailc owns.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Owns {
    /// The whole zone: a record the spec does not produce is removed.
    Zone,
    /// Only the records mailc produces; any other record is left alone.
    Mail,
}

/// A TSIG algorithm (RFC 8945 §6).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum TsigAlgorithm {
    HmacSha256,
    HmacSha512,
}

/// How mailc's hosts use TLS towards an outbound relay.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum RelayTls {
    /// TLS from the first byte (RFC 8314 §3.3), port 465.
    Implicit,
    /// STARTTLS (RFC 3207) required: without it the mail waits.
    Starttls,
    /// STARTTLS when the relay offers it, else in clear.
    Opportunistic,
}

/// The software a host runs.
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
#[serde(rename_all = "kebab-case")]
pub enum Stack {
    PostfixDovecot,
    EximDovecot,
    Embedded,
}

/// An access protocol a domain offers its mail clients.
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
pub enum Service {
    /// IMAP (RFC 9051), on 143 with STARTTLS and 993 with implicit TLS.
    Imap,
    /// POP3 (RFC 1939), on 110 with STLS and 995 with implicit TLS.
    Pop3,
    /// Message submission (RFC 6409), on 587 with STARTTLS and 465 with
    /// implicit TLS.
    Submission,
}

impl Service {
    /// The name the spec writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Imap => "imap",
            Service::Pop3 => "pop3",
            Service::Submission => "submission",
        }
    }
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema, serde::Serialize, serde::Deserialize,
)]
pub enum SpfAll {
    #[serde(rename = "-all")]
    Fail,
    #[serde(rename = "~all")]
    SoftFail,
    #[serde(rename = "?all")]
    Neutral,
}

impl SpfAll {
    pub fn as_str(self) -> &'static str {
        match self {
            SpfAll::Fail => "-all",
            SpfAll::SoftFail => "~all",
            SpfAll::Neutral => "?all",
        }
    }
}

/// A DKIM key's place in its life (a rotation goes published → signing →
/// retired → revoked, or is removed).
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
pub enum DkimState {
    /// Its record is published; nothing is signed with it yet.
    Published,
    /// Published, and our hosts sign with it.
    Signing,
    /// Still published (mail signed earlier keeps verifying), no longer signing.
    Retired,
    /// Published with an empty `p=` (RFC 6376 §3.6.1): signatures by it fail.
    Revoked,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DmarcPolicy {
    None,
    Quarantine,
    Reject,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Alignment {
    /// strict
    S,
    /// relaxed
    R,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum MtaStsMode {
    Enforce,
    Testing,
    None,
}
