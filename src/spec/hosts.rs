//! The spec's machines and services: `hosts`, `outbound_relays` with their
//! send limits, and `dns_targets` with `dns_push`.

use super::*;

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
