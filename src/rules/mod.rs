//! Mail rules and the autoresponder as the compiler resolved them: the one
//! meaning both places that run them share. [`sieve`] writes them as a Sieve
//! script (RFC 5228) for Dovecot's Pigeonhole; [`engine`] runs them natively
//! in `mailc serve`, over the message as [`message`] reads it. The manifest
//! carries these types, so the server never sees the spec.

pub mod engine;
pub mod message;
pub mod sieve;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One rule: when its tests hold (all of them, or any with `any`), its
/// actions run in order. No tests: every message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "is_false")]
    pub any: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<Test>,
    pub actions: Vec<Action>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One condition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "test", deny_unknown_fields)]
pub enum Test {
    /// Text of the message or its envelope compared with `value`; ASCII
    /// letters match in either case (`i;ascii-casemap`, RFC 4790 §9.2).
    Text {
        source: Source,
        compare: Compare,
        value: String,
    },
    /// The message is larger (`over`) or smaller than `bytes`.
    Size { over: bool, bytes: u64 },
}

/// What a text test reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "of", content = "name")]
pub enum Source {
    /// Addresses of the `From` header.
    From,
    /// Addresses of the `To` and `Cc` headers.
    To,
    /// The envelope sender.
    Sender,
    /// Every occurrence of a header, by its name (`Subject` included).
    Header(String),
}

/// How a text test compares (RFC 5228 §2.7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Compare {
    Contains,
    Is,
    Matches,
}

/// One action of a rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "action", deny_unknown_fields)]
pub enum Action {
    /// Store into a folder, creating it when missing (RFC 5490 §3.2).
    FileInto { folder: String },
    /// Send on to an address (RFC 5228 §4.2); with `copy` the mailbox keeps
    /// its copy as well (RFC 3894).
    Forward {
        to: String,
        #[serde(default, skip_serializing_if = "is_false")]
        copy: bool,
    },
    /// Drop silently (RFC 5228 §4.5).
    Discard,
    /// Refuse, returning `text` to the sender (RFC 5429).
    Reject { text: String },
    /// Store into the inbox (RFC 5228 §4.3).
    Keep,
    /// No further rules (RFC 5228 §3.3).
    Stop,
}

/// The autoresponder (RFC 5230), already resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vacation {
    /// The reply's subject; `None`: `Auto: ` and the message's subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The reply's text, lines separated by `\n`.
    pub text: String,
    /// First and last day it answers, `YYYY-MM-DD`, in the server's local
    /// time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Days between two replies to one sender.
    pub days: u32,
    /// The addresses it answers for besides the recipient's own, lowercase.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
}

/// The default of `days` (RFC 5230 §4.1 suggests 7).
pub const DEFAULT_DAYS: u32 = 7;
/// The longest `days` Pigeonhole accepts by default (`sieve_vacation_max_period`).
pub const MAX_DAYS: u32 = 90;

/// A size as Sieve writes it: digits and an optional `K`, `M` or `G`
/// (powers of 1024, RFC 5228 §2.4.1).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().last()? {
        (i, 'k' | 'K') => (&t[..i], 1u64 << 10),
        (i, 'm' | 'M') => (&t[..i], 1 << 20),
        (i, 'g' | 'G') => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(unit)
}

/// Whether a date is `YYYY-MM-DD` and exists.
pub fn valid_date(text: &str) -> bool {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() && text.len() == 10
}

/// A folder name rules may file into: Maildir++ folders (`.` separates
/// levels) that both Dovecot and `mailc serve` store the same way.
pub fn folder_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it is empty");
    }
    if !name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Some("it is not printable ASCII");
    }
    if name.contains(['/', '\\', '*', '%', '"']) || name.starts_with('~') {
        return Some("it contains `/`, `\\`, `*`, `%` or `\"`, or starts with `~`");
    }
    if name.split('.').any(|c| c.is_empty() || c.trim() != c) {
        return Some(
            "a `.` separates folder levels: none at either end, never two in a row, no spaces around one",
        );
    }
    if name.len() > 200 {
        return Some("it is longer than 200 bytes");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("1K"), Some(1024));
        assert_eq!(parse_size("2m"), Some(2 << 20));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("M"), None);
        assert_eq!(parse_size("1.5M"), None);
        assert_eq!(parse_size("-1"), None);
    }

    #[test]
    fn dates_and_folders() {
        assert!(valid_date("2026-12-20"));
        assert!(!valid_date("2026-02-30"));
        assert!(!valid_date("2026-1-2"));
        assert_eq!(folder_problem("Lists.Rust"), None);
        assert!(folder_problem("a/b").is_some());
        assert!(folder_problem("a..b").is_some());
    }
}
