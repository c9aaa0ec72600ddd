//! The embedded server's manifest: everything `mailc serve` runs for one
//! host, and nothing else. The compiler writes it (`server/HOST/manifest.json`,
//! [`crate::backend::server`]); the server ([`crate::serve`]) reads only this
//! type, never the spec or the model. Every routing decision is already made
//! here: the server looks addresses up, it does not reason about roles.
//!
//! All addresses are lowercase with A-label domains. Maps are sorted, so the
//! JSON is deterministic. The format is versioned by [`VERSION`]; a server
//! refuses a manifest of another version rather than guessing.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The manifest format this mailc writes and runs.
pub const VERSION: u32 = 1;

/// What `mailc serve` runs for one host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`VERSION`].
    pub version: u32,
    /// The host's key in the spec.
    pub host: String,
    /// The host's FQDN: the SMTP greeting and HELO name.
    pub hostname: String,
    pub listen: Listen,
    /// The mail store (`mail/DOMAIN/LOCAL/`) and the outbound queue
    /// (`queue/`).
    pub data_dir: String,
    pub tls: Tls,
    pub limits: Limits,
    /// Login accounts, by full address (what IMAP and submission users log
    /// in with).
    pub users: BTreeMap<String, User>,
    /// The domains this host accepts mail for, by A-label name. A domain not
    /// listed is not ours: mail to it is refused unless an authenticated
    /// user sends it, and then it leaves by MX lookup.
    pub domains: BTreeMap<String, Domain>,
    /// DKIM keys outbound mail is signed with, by the sender's domain.
    pub dkim: BTreeMap<String, Vec<DkimKey>>,
    /// Outbound relays (smart hosts), by id: mail to domains that are not
    /// ours leaves through the relay of its sender (`sender_relays`), else
    /// through `relay`, else by MX lookup.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub relays: BTreeMap<String, Relay>,
    /// Sender address (`local@domain`) or domain → the id of its relay.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sender_relays: BTreeMap<String, String>,
    /// The id of the relay of every other sender's outbound mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<String>,
}

/// A smart host outbound mail leaves through.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Relay {
    /// The relay's name in the spec (for logs).
    pub name: String,
    /// Where to connect: no MX lookup.
    pub next_hop: NextHop,
    pub tls: RelayTls,
    /// The user name to log in with (AUTH PLAIN), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The file holding the password (one line; a relative path is
    /// relative to the manifest's folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
}

/// How the queue uses TLS towards a relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RelayTls {
    /// TLS from the first byte (RFC 8314).
    Implicit,
    /// STARTTLS required: without it the mail waits.
    Starttls,
    /// STARTTLS when offered.
    Opportunistic,
}

/// Socket addresses (`IP:PORT`, IPv6 in brackets) per service; an empty
/// list turns the service off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Listen {
    /// Inbound SMTP (MX), STARTTLS offered.
    pub smtp: Vec<String>,
    /// Submission with STARTTLS (RFC 6409), AUTH required.
    pub submission: Vec<String>,
    /// Submission with implicit TLS (RFC 8314).
    pub submissions: Vec<String>,
    /// IMAP with STARTTLS.
    pub imap: Vec<String>,
    /// IMAP with implicit TLS.
    pub imaps: Vec<String>,
    /// POP3 with STLS (RFC 1939, RFC 2595); only where a domain offers it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pop3: Vec<String>,
    /// POP3 with implicit TLS (RFC 8314).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pop3s: Vec<String>,
}

/// The certificate chain and key (PEM). When the files are missing the
/// server makes a self-signed certificate for `hostname` at start and says
/// so: good for trying a spec, not for the Internet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    pub cert: String,
    pub key: String,
}

/// What one client may cost the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest message accepted, bytes (advertised as SIZE).
    pub message_size: u64,
    /// Recipients per message (RFC 5321 §4.5.3.1.8: at least 100).
    pub recipients: u32,
    /// Open connections per service.
    pub connections: u32,
    /// Open connections per service from one client address (an IPv6
    /// client counts by its /64).
    #[serde(default = "default_client_connections")]
    pub client_connections: u32,
    /// Longest command line, bytes.
    pub line_length: u32,
    /// Seconds an SMTP client has for each command line, and without
    /// sending for a message (RFC 5321 §4.5.3.2): a deadline that bytes
    /// trickling in do not move (a message earns time by arriving).
    pub smtp_timeout: u32,
    /// Seconds an idle IMAP client is kept (RFC 3501 §5.4: at least 30 min).
    pub imap_timeout: u32,
    /// Seconds an IMAP client has from connecting to logging in.
    #[serde(default = "default_login_timeout")]
    pub login_timeout: u32,
    /// Failed logins (SMTP AUTH and IMAP together) from one client address
    /// before its logins are refused for a quarter of an hour.
    #[serde(default = "default_auth_failures")]
    pub auth_failures: u32,
    /// Mailboxes one IMAP user may have, INBOX included.
    #[serde(default = "default_mailboxes")]
    pub mailboxes: u32,
    /// Seconds a queued message is retried before it bounces.
    pub queue_lifetime: u32,
}

fn default_client_connections() -> u32 {
    Limits::default().client_connections
}
fn default_login_timeout() -> u32 {
    Limits::default().login_timeout
}
fn default_auth_failures() -> u32 {
    Limits::default().auth_failures
}
fn default_mailboxes() -> u32 {
    Limits::default().mailboxes
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            message_size: 25 * 1024 * 1024,
            recipients: 100,
            connections: 256,
            client_connections: 50,
            line_length: 4096,
            smtp_timeout: 300,
            imap_timeout: 1800,
            login_timeout: 120,
            auth_failures: 10,
            mailboxes: 1000,
            queue_lifetime: 5 * 24 * 3600,
        }
    }
}

/// One login: a mailbox of a domain this host is local for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// `{SCHEME}hash`, the same string Dovecot's passwd-file holds.
    pub password: String,
    /// Bytes; `None` is unlimited.
    pub quota: Option<u64>,
    /// Receives no mail (it may still log in and send).
    pub send_only: bool,
    /// Receives mail, but logs in by no protocol (IMAP, submission).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// The protocols this user may log in by. Absent: IMAP and submission.
    #[serde(
        default = "default_services",
        skip_serializing_if = "is_default_services"
    )]
    pub services: BTreeSet<Service>,
    /// Envelope senders this user may use: its address and its mailbox
    /// aliases, sorted.
    pub send_as: Vec<String>,
    /// Rules run on every message delivered to this user, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<crate::rules::Rule>,
    /// The autoresponder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vacation: Option<crate::rules::Vacation>,
    /// What this user may send per hour through submission.
    #[serde(default, skip_serializing_if = "SendLimits::is_none")]
    pub limits: SendLimits,
}

/// Sending limits of authenticated submission, per clock hour (UTC):
/// messages (each `MAIL FROM` accepted) and recipients (each `RCPT TO`
/// accepted). `None`: no limit. The model, the Postfix policy table, Exim's
/// lookup file and `mailc serve` all carry this one type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages_per_hour: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients_per_hour: Option<u32>,
}

impl SendLimits {
    /// No limit at all.
    pub fn is_none(&self) -> bool {
        self.messages_per_hour.is_none() && self.recipients_per_hour.is_none()
    }

    /// The limit of one kind.
    pub fn of(&self, kind: SendKind) -> Option<u32> {
        match kind {
            SendKind::Messages => self.messages_per_hour,
            SendKind::Recipients => self.recipients_per_hour,
        }
    }

    /// The row of the Postfix policy table and Exim's lookup file:
    /// `messages=N recipients=N`, the limits that are set.
    pub fn row(&self) -> String {
        let mut parts = Vec::new();
        for kind in [SendKind::Messages, SendKind::Recipients] {
            if let Some(n) = self.of(kind) {
                parts.push(format!("{}={n}", kind.word()));
            }
        }
        parts.join(" ")
    }

    /// Reads a [`row`](Self::row) back; `None` for anything else.
    pub fn parse_row(row: &str) -> Option<SendLimits> {
        let mut l = SendLimits::default();
        for part in row.split_whitespace() {
            let (k, v) = part.split_once('=')?;
            let n: u32 = v.parse().ok()?;
            match k {
                "messages" => l.messages_per_hour = Some(n),
                "recipients" => l.recipients_per_hour = Some(n),
                _ => return None,
            }
        }
        Some(l)
    }
}

/// What a sending limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SendKind {
    Messages,
    Recipients,
}

impl SendKind {
    /// `messages` or `recipients`: the word of replies and table rows.
    pub fn word(self) -> &'static str {
        match self {
            SendKind::Messages => "messages",
            SendKind::Recipients => "recipients",
        }
    }
}

/// An access protocol a user logs in by.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Imap,
    Pop3,
    /// SMTP submission (RFC 6409), on both submission ports.
    Submission,
}

/// What a user may use when the manifest says nothing: IMAP and submission.
pub fn default_services() -> BTreeSet<Service> {
    [Service::Imap, Service::Submission].into_iter().collect()
}

fn is_default_services(s: &BTreeSet<Service>) -> bool {
    *s == default_services()
}

/// How this host treats one domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub role: Role,
    /// Local parts that are accepted, with where their mail goes. On a
    /// backup every target is empty: whatever it accepts goes to the
    /// primary, which expands it.
    pub recipients: BTreeMap<String, Target>,
    /// Local parts that exist but receive nothing (send-only mailboxes, an
    /// alias to them only): refused like unknown ones, even under a
    /// catch-all.
    pub refused: BTreeSet<String>,
    /// Addresses nobody claims.
    pub unknown: Unknown,
    /// Forwarded mail gets an SRS envelope sender (the domain asks).
    pub srs: bool,
    /// What the domain's users may send per hour together.
    #[serde(default, skip_serializing_if = "SendLimits::is_none")]
    pub limits: SendLimits,
    /// The domain's mailboxes may log in over POP3 (its `services` name it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pop3: bool,
}

/// What this host is for a domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "mode", deny_unknown_fields)]
pub enum Role {
    /// Final destination: delivers to the mailboxes here.
    Local,
    /// Accepts what the primary would and queues it for the primary.
    Backup { next_hop: NextHop },
    /// The domain accepts no mail (null MX, RFC 7505): every recipient is
    /// refused with `556 5.1.10`.
    NullMx,
    /// The domain's mail service is off (`mail: false`): every recipient is
    /// refused with `550 5.7.1` ([`crate::reply::mail_off`]).
    MailOff,
}

/// Where one accepted address's mail goes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Addresses of users of this host (keys of [`Manifest::users`]) whose
    /// INBOX gets a copy.
    pub mailboxes: Vec<String>,
    /// Addresses the mail is sent on to (queued).
    pub forward: Vec<String>,
    /// With no mailbox and no forward: the mail is accepted and thrown
    /// away (an alias that drops).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop: bool,
}

/// The policy for addresses nobody claims, already resolved for this host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "policy", deny_unknown_fields)]
pub enum Unknown {
    /// Refused at RCPT: `550 5.1.1`.
    Reject,
    /// Accepted, then returned to the sender in a non-delivery report.
    Bounce,
    /// Accepted and thrown away.
    Drop,
    /// Catch-all: delivered and forwarded like an alias (empty on a backup).
    Forward { target: Target },
    /// Accepted and passed on to another server.
    Relay { next_hop: NextHop },
}

/// A server mail is handed to directly (no MX lookup).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NextHop {
    /// Hostname or IP address.
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for NextHop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// One DKIM signing key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DkimKey {
    pub selector: String,
    pub algorithm: DkimAlgorithm,
    /// The PEM private key file; a relative path is relative to the
    /// manifest's folder.
    pub key: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DkimAlgorithm {
    RsaSha256,
    Ed25519Sha256,
}

/// Why a manifest cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("not a mailc manifest: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "manifest version {found} is not the version this mailc runs ({VERSION}); compile the spec again with this mailc"
    )]
    Version { found: u32 },
}

impl Manifest {
    /// Reads a manifest, refusing other versions.
    pub fn from_json(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        #[derive(Deserialize)]
        struct Probe {
            version: u32,
        }
        let probe: Probe = serde_json::from_slice(bytes)?;
        if probe.version != VERSION {
            return Err(ManifestError::Version {
                found: probe.version,
            });
        }
        Ok(serde_json::from_slice(bytes)?)
    }

    /// Pretty JSON with a final newline: the file's exact bytes.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a manifest always serializes");
        s.push('\n');
        s
    }

    /// The JSON Schema of the manifest (`schemas/manifest.schema.json`).
    pub fn schema() -> String {
        let mut s = serde_json::to_string_pretty(&schemars::schema_for!(Manifest))
            .expect("a schema always serializes");
        s.push('\n');
        s
    }
}
