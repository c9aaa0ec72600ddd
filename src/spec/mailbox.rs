//! A domain's recipients as written: mailboxes, their rules and
//! autoresponder, aliases, and what becomes of mail to unknown recipients.

use super::*;

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
