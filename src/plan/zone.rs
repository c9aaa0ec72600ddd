//! A record-level summary of a zone file change, for reviewers:
//! `+ example.com. MX 20 mx2.example.net.`.
//!
//! The zone files are mailc's own output, so a light reading of the BIND
//! master-file syntax (RFC 1035 §5.1) is enough: comments, parentheses
//! spanning lines, `$ORIGIN`, owners left blank or written `@` or relative,
//! and optional TTL and class before the type. Records are compared as
//! multisets of `owner TYPE rdata` lines; TTLs are left out, and so is the
//! SOA serial, which changes whenever anything else does.

use std::collections::BTreeMap;

/// The records that disappear and appear, each in its file's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordDiff {
    pub removed: Vec<String>,
    pub added: Vec<String>,
}

impl RecordDiff {
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.added.is_empty()
    }
}

/// Whether a path is a zone file the summary applies to.
pub fn is_zone(path: &str) -> bool {
    path.starts_with("dns/") && path.ends_with(".zone")
}

/// How many records a zone text holds.
pub fn count(text: &str) -> usize {
    records(text).len()
}

/// Compares the records of two zone texts (either may be empty).
pub fn diff(old: &str, new: &str) -> RecordDiff {
    let old = records(old);
    let new = records(new);
    let mut counts: BTreeMap<&str, isize> = BTreeMap::new();
    for r in &new {
        *counts.entry(&r.key).or_default() += 1;
    }
    for r in &old {
        *counts.entry(&r.key).or_default() -= 1;
    }
    // Surplus on either side, taken in file order.
    let mut removed = Vec::new();
    for r in &old {
        if let Some(c) = counts.get_mut(r.key.as_str())
            && *c < 0
        {
            *c += 1;
            removed.push(r.shown.clone());
        }
    }
    let mut added = Vec::new();
    for r in &new {
        if let Some(c) = counts.get_mut(r.key.as_str())
            && *c > 0
        {
            *c -= 1;
            added.push(r.shown.clone());
        }
    }
    RecordDiff { removed, added }
}

/// One record: how it is compared and how it is shown.
#[derive(Debug, PartialEq, Eq)]
struct Record {
    key: String,
    shown: String,
}

/// The records of a zone text, in order.
fn records(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    let mut origin: Option<String> = None;
    let mut last_owner: Option<String> = None;
    for entry in entries(text) {
        let Some(first) = entry.tokens.first() else {
            continue;
        };
        if first.starts_with('$') {
            if first.eq_ignore_ascii_case("$ORIGIN")
                && let Some(o) = entry.tokens.get(1)
            {
                origin = Some(absolute(o, origin.as_deref()));
            }
            continue;
        }
        let mut rest = entry.tokens.as_slice();
        let owner = if entry.blank_owner {
            last_owner
                .clone()
                .or_else(|| origin.clone())
                .unwrap_or_default()
        } else {
            rest = &rest[1..];
            absolute(first, origin.as_deref())
        };
        last_owner = Some(owner.clone());
        // Up to two of TTL and class, in either order (RFC 1035 §5.1).
        for _ in 0..2 {
            if let Some(t) = rest.first()
                && (is_ttl(t) || is_class(t))
            {
                rest = &rest[1..];
            }
        }
        let Some((rtype, rdata)) = rest.split_first() else {
            continue;
        };
        let rtype = rtype.to_ascii_uppercase();
        let shown = format!("{owner} {rtype} {}", rdata.join(" "));
        let key = if rtype == "SOA" && rdata.len() >= 3 {
            let mut r = rdata.to_vec();
            r[2] = "*".into();
            format!("{owner} SOA {}", r.join(" "))
        } else {
            shown.clone()
        };
        out.push(Record {
            key,
            shown: shown.trim_end().to_string(),
        });
    }
    out
}

/// `@` is the origin; a name without a trailing dot is relative to it.
fn absolute(name: &str, origin: Option<&str>) -> String {
    match origin {
        _ if name.ends_with('.') => name.to_string(),
        Some(o) if name == "@" => o.to_string(),
        Some(o) => format!("{name}.{o}"),
        None => name.to_string(),
    }
}

fn is_ttl(t: &str) -> bool {
    let t = t.to_ascii_lowercase();
    !t.is_empty()
        && t.starts_with(|c: char| c.is_ascii_digit())
        && t.chars().all(|c| c.is_ascii_digit() || "smhdw".contains(c))
}

fn is_class(t: &str) -> bool {
    ["IN", "CH", "HS", "CS"]
        .iter()
        .any(|c| t.eq_ignore_ascii_case(c))
}

/// One logical entry: its tokens (quoted strings kept whole, with their
/// quotes) and whether its owner field was left blank.
struct Entry {
    tokens: Vec<String>,
    blank_owner: bool,
}

/// Splits a zone text into entries, joining lines inside parentheses and
/// dropping comments.
fn entries(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut current: Option<Entry> = None;
    let mut depth = 0usize;
    for line in text.lines() {
        if depth == 0 {
            if let Some(e) = current.take() {
                out.push(e);
            }
            current = Some(Entry {
                tokens: Vec::new(),
                blank_owner: line.starts_with([' ', '\t']),
            });
        }
        let Some(entry) = current.as_mut() else {
            continue;
        };
        let mut chars = line.chars().peekable();
        let mut token = String::new();
        let flush = |token: &mut String, entry: &mut Entry| {
            if !token.is_empty() {
                entry.tokens.push(std::mem::take(token));
            }
        };
        while let Some(c) = chars.next() {
            match c {
                ';' => break,
                '"' => {
                    token.push('"');
                    while let Some(q) = chars.next() {
                        token.push(q);
                        if q == '\\' {
                            if let Some(n) = chars.next() {
                                token.push(n);
                            }
                        } else if q == '"' {
                            break;
                        }
                    }
                }
                '\\' => {
                    token.push('\\');
                    if let Some(n) = chars.next() {
                        token.push(n);
                    }
                }
                '(' => {
                    flush(&mut token, entry);
                    depth += 1;
                }
                ')' => {
                    flush(&mut token, entry);
                    depth = depth.saturating_sub(1);
                }
                c if c.is_whitespace() => flush(&mut token, entry),
                c => token.push(c),
            }
        }
        flush(&mut token, entry);
    }
    if let Some(e) = current {
        out.push(e);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "\
$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1.example.net. hostmaster.example.com. (
        2024010101 ; serial
        3600 900 1209600 300 )
@       IN NS ns1.example.net.
        IN NS ns2.example.net.
@ 3600 IN MX 10 mx1.example.net.
@ IN TXT \"v=spf1 mx -all\"  ; the policy
_dmarc IN TXT \"v=DMARC1; p=none\"
";

    #[test]
    fn serial_bumps_alone_are_no_record_change() {
        let new = OLD.replace("2024010101", "2024010102");
        assert!(diff(OLD, &new).is_empty());
    }

    #[test]
    fn reports_added_and_removed_records_fully_qualified() {
        let new = OLD
            .replace("2024010101", "2024010102")
            .replace("p=none", "p=reject")
            .replace(
                "@ 3600 IN MX 10 mx1.example.net.\n",
                "@ 3600 IN MX 10 mx1.example.net.\n@ 3600 IN MX 20 mx2.example.net.\n",
            );
        let d = diff(OLD, &new);
        assert_eq!(d.removed, ["_dmarc.example.com. TXT \"v=DMARC1; p=none\""]);
        assert_eq!(
            d.added,
            [
                "example.com. MX 20 mx2.example.net.",
                "_dmarc.example.com. TXT \"v=DMARC1; p=reject\"",
            ]
        );
    }

    #[test]
    fn blank_owners_repeat_the_last_one() {
        let d = diff("", OLD);
        assert!(
            d.added
                .contains(&"example.com. NS ns2.example.net.".to_string())
        );
        assert!(d.added[0].starts_with("example.com. SOA ns1.example.net. hostmaster"));
        assert_eq!(d.added.len(), 6);
    }

    #[test]
    fn duplicate_records_count() {
        let one = "a.example. 60 IN A 192.0.2.1\n";
        let two = format!("{one}{one}");
        assert_eq!(diff(one, &two).added, ["a.example. A 192.0.2.1"]);
        assert!(diff(&two, &two).is_empty());
    }
}
