//! The `tests` section: one expectation about where mail goes or what DNS
//! says.

use super::*;

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
