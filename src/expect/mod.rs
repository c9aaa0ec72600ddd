//! Expectations: the spec's `tests` section, resolved ([`resolve`], while
//! the model is built) and checked — against the compiled model
//! ([`check`], through `mailc route`'s engine and the DNS backend's
//! records, SPF evaluated by [`spf`]) or against a running server over SMTP
//! ([`live`]). `mailc test` drives both.

pub mod check;
pub mod live;
mod resolve;
pub mod spf;

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde::Serialize;

use crate::vocab::DmarcPolicy;
pub use resolve::resolve;

use crate::source::Span;

/// Where an expectation was written. It says where, not what: two specs
/// that expect the same things in other places are equal.
#[derive(Clone, Copy, Debug, Default)]
pub struct At(pub Span);

impl Serialize for At {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

impl PartialEq for At {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for At {}

/// One item of `tests`, resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expectation {
    /// The whole item.
    pub at: At,
    pub kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Route(RouteTest),
    Dns(DnsTest),
}

/// What must become of mail to one address on some hosts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteTest {
    /// Normalized: lowercase, A-label domain.
    pub address: String,
    pub address_at: At,
    /// Host keys; empty: every host of the spec.
    pub hosts: Vec<String>,
    pub fate: Fate,
    /// The key that states the fate (`deliver:`, `reject:`...).
    pub fate_at: At,
}

/// The fate a route test expects, in the terms of `mailc route`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Fate {
    /// Into exactly these mailboxes, and forwarded to exactly these
    /// addresses (outcome `deliver`, or `forward` without mailboxes).
    Deliver {
        mailboxes: BTreeSet<String>,
        forward: BTreeSet<String>,
    },
    /// To this server: a name, with `:PORT` unless it is 25.
    Relay {
        hop: String,
    },
    /// Refused at RCPT; with `reply`, a reply starting with that code.
    Reject {
        reply: Option<String>,
    },
    Bounce,
    Drop,
    Remote,
}

impl Fate {
    /// The fate in words: `delivered to a@x; also forwarded to b@y`.
    pub fn describe(&self) -> String {
        let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
        match self {
            Fate::Deliver { mailboxes, forward } if mailboxes.is_empty() => {
                format!("forwarded to {}", list(forward))
            }
            Fate::Deliver { mailboxes, forward } if forward.is_empty() => {
                format!("delivered to {}", list(mailboxes))
            }
            Fate::Deliver { mailboxes, forward } => format!(
                "delivered to {}; also forwarded to {}",
                list(mailboxes),
                list(forward)
            ),
            Fate::Relay { hop } => format!("relayed to {hop}"),
            Fate::Reject { reply: None } => "refused".to_string(),
            Fate::Reject { reply: Some(r) } => format!("refused with {r}"),
            Fate::Bounce => "accepted, then bounced".to_string(),
            Fate::Drop => "accepted and discarded".to_string(),
            Fate::Remote => "not a local domain here (remote)".to_string(),
        }
    }
}

/// Facts of one domain's published records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DnsTest {
    /// A-label, a domain of the spec.
    pub domain: String,
    pub domain_at: At,
    pub facts: Vec<(DnsFact, At)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsFact {
    /// The MX set: each exchange, with its preference where one is given.
    /// Empty: a null MX.
    Mx(Vec<(Option<u16>, String)>),
    SpfAllows(IpAddr),
    SpfDenies(IpAddr),
    DmarcAtLeast(DmarcPolicy),
}

/// How strict a DMARC policy is: `none` < `quarantine` < `reject`.
pub fn strictness(p: DmarcPolicy) -> u8 {
    match p {
        DmarcPolicy::None => 0,
        DmarcPolicy::Quarantine => 1,
        DmarcPolicy::Reject => 2,
    }
}

pub fn policy_name(p: DmarcPolicy) -> &'static str {
    match p {
        DmarcPolicy::None => "none",
        DmarcPolicy::Quarantine => "quarantine",
        DmarcPolicy::Reject => "reject",
    }
}
