//! mailc's BIND master-file writer (RFC 1035 §5). Records are typed values
//! (hickory-proto's [`Name`] and [`RData`]); this module alone turns them into
//! text. hickory has no zone writer, and its `Display` is not zone syntax
//! (TXT unquoted, names in Unicode, octal escapes), so the escaping is ours:
//!
//! - every `<character-string>` is quoted; `"` and `\` are escaped with a
//!   backslash, bytes outside printable ASCII (control characters, non-ASCII
//!   UTF-8) as `\DDD` in decimal (RFC 1035 §5.1). A `;` inside quotes is
//!   data, not a comment, and no value can end a line: a newline becomes
//!   `\010`;
//! - TXT data is split into strings of at most 255 bytes (RFC 1035 §3.3.14),
//!   at UTF-8 character boundaries, so a resolver joining them sees exactly
//!   the original text (RFC 7208 §3.3, RFC 6376 §3.6.2.2); the strings of one
//!   record stay on its line;
//! - names are written as A-labels; owners relative to `$ORIGIN` (`@` for the
//!   apex), targets absolute with the trailing dot.
//!
//! Layout, stable so that a diff shows only what changed: a header comment,
//! `$ORIGIN`, `$TTL`, the SOA, then every other record sorted by owner in
//! canonical DNS order (RFC 4034 §6.1: the apex first, then by labels from the
//! right), then by type (NS, MX, A, AAAA, CNAME, TXT, SRV, CAA, TLSA), then in
//! the order built. The owner is repeated on every line.
//!
//! The SOA serial is not part of the zone's content: the DNS backend renders
//! the zone with the serial of the file already in `--out` and keeps it when
//! nothing else changed (see [`crate::backend::dns`]).

use std::collections::HashSet;
use std::fmt::Write as _;

use hickory_proto::rr::rdata::{SOA, TXT};
use hickory_proto::rr::{Name, RData, RecordType};

/// One resource record of a zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rr {
    /// Absolute owner name, inside the zone.
    pub owner: Name,
    /// `None`: the zone's `$TTL`.
    pub ttl: Option<u32>,
    pub data: RData,
}

/// SOA timers (RFC 1035 §3.3.13), the same for every zone mailc writes.
/// Refresh 1 h, retry 15 min, expire 2 weeks (RFC 1912 §2.2 asks for 2–4
/// weeks), negative-caching TTL 5 min (RFC 2308 §5), so a record added
/// later becomes visible quickly.
pub const REFRESH: i32 = 3600;
pub const RETRY: i32 = 900;
pub const EXPIRE: i32 = 1_209_600;
pub const NEGATIVE_TTL: u32 = 300;

/// Width of the owner column.
const OWNER_WIDTH: usize = 23;

/// A zone: its origin, default TTL, SOA names and records.
#[derive(Clone, Debug)]
pub struct Zone {
    pub origin: Name,
    pub ttl: u32,
    /// SOA MNAME: the primary name server.
    pub mname: Name,
    /// SOA RNAME: the hostmaster's address as a name (RFC 1035 §8).
    pub rname: Name,
    records: Vec<Rr>,
    /// (owner, data) of every record, to keep each once. Membership only:
    /// the output's order comes from `records`.
    seen: HashSet<(Name, RData)>,
}

impl Zone {
    pub fn new(origin: Name, ttl: u32, mname: Name, rname: Name) -> Zone {
        Zone {
            origin,
            ttl,
            mname,
            rname,
            records: Vec::new(),
            seen: HashSet::new(),
        }
    }

    /// Adds a record; an identical one (owner, type and data) is kept once.
    pub fn push(&mut self, owner: Name, ttl: Option<u32>, data: RData) {
        if self.seen.insert((owner.clone(), data.clone())) {
            self.records.push(Rr { owner, ttl, data });
        }
    }

    pub fn records(&self) -> &[Rr] {
        &self.records
    }

    /// Whether `name` is the origin or below it.
    pub fn contains(&self, name: &Name) -> bool {
        self.origin.zone_of(name)
    }

    /// The master file, with `serial` in the SOA.
    pub fn render(&self, serial: u32) -> String {
        let origin = name_text(&self.origin);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "; Zone {}: written by mailc from the spec. Do not edit; mailc rewrites it.\n\
             ; The SOA serial changes only when the rest of the zone does.",
            origin.trim_end_matches('.')
        );
        let _ = writeln!(out, "$ORIGIN {origin}");
        let _ = writeln!(out, "$TTL {}", self.ttl);
        let soa = SOA::new(
            self.mname.clone(),
            self.rname.clone(),
            serial,
            REFRESH,
            RETRY,
            EXPIRE,
            NEGATIVE_TTL,
        );
        let pad = " ".repeat(OWNER_WIDTH + 1 + "IN SOA   ".len());
        let _ = writeln!(
            out,
            "{:<OWNER_WIDTH$} IN SOA   {} {} (\n\
             {pad}{:<10} ; serial\n\
             {pad}{:<10} ; refresh\n\
             {pad}{:<10} ; retry\n\
             {pad}{:<10} ; expire\n\
             {pad}{:<10} ; negative-caching TTL\n\
             {pad})",
            "@",
            name_text(&soa.mname),
            name_text(&soa.rname),
            soa.serial,
            soa.refresh,
            soa.retry,
            soa.expire,
            soa.minimum,
        );
        let mut order: Vec<&Rr> = self.records.iter().collect();
        // A stable sort keeps the build order within one owner and type.
        order.sort_by(|a, b| {
            a.owner
                .cmp(&b.owner)
                .then(rank(a.data.record_type()).cmp(&rank(b.data.record_type())))
        });
        for r in order {
            let ttl = r.ttl.map(|t| format!("{t} ")).unwrap_or_default();
            let head = format!(
                "{:<OWNER_WIDTH$} {ttl}IN {:<5} ",
                self.relative(&r.owner),
                r.data.record_type().to_string()
            );
            let _ = writeln!(out, "{head}{}", rdata_text(&r.data));
        }
        out
    }

    /// `@` for the origin, else the labels above it.
    fn relative(&self, name: &Name) -> String {
        if name == &self.origin {
            return "@".into();
        }
        // Not `num_labels()`: it leaves out a leading `*` (RFC 4034 §3.1.3).
        let keep = name
            .iter()
            .count()
            .saturating_sub(self.origin.iter().count());
        name.iter()
            .take(keep)
            .map(label_text)
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// Where a type sorts among the records of one owner.
fn rank(t: RecordType) -> u8 {
    match t {
        RecordType::SOA => 0,
        RecordType::NS => 1,
        RecordType::MX => 2,
        RecordType::A => 3,
        RecordType::AAAA => 4,
        RecordType::CNAME => 5,
        RecordType::TXT => 6,
        RecordType::SRV => 7,
        RecordType::CAA => 8,
        RecordType::TLSA => 9,
        _ => 10,
    }
}

/// One label in master-file syntax: LDH, `_` and a leading `*` as they are;
/// other printable ASCII escaped with a backslash (so a `.` inside the local
/// part of an SOA RNAME stays inside its label, RFC 1035 §8); the rest `\DDD`.
fn label_text(label: &[u8]) -> String {
    let mut s = String::with_capacity(label.len());
    for (i, &b) in label.iter().enumerate() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' => s.push(char::from(b)),
            b'*' if i == 0 && label.len() == 1 => s.push('*'),
            0x21..=0x7e => {
                s.push('\\');
                s.push(char::from(b));
            }
            _ => {
                let _ = write!(s, "\\{b:03}");
            }
        }
    }
    s
}

/// An absolute name with its trailing dot; the root is `.`.
pub fn name_text(name: &Name) -> String {
    if name.is_root() {
        return ".".into();
    }
    let mut s: String = name.iter().map(label_text).collect::<Vec<_>>().join(".");
    s.push('.');
    s
}

/// A `<character-string>` in quotes (RFC 1035 §5.1).
pub fn quote(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    for &b in bytes {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => {
                let _ = write!(s, "\\{b:03}");
            }
        }
    }
    s.push('"');
    s
}

/// TXT data for `value`: strings of at most 255 bytes, cut at character
/// boundaries (RFC 1035 §3.3.14). An empty value is one empty string.
pub fn txt(value: &str) -> TXT {
    let mut parts: Vec<&[u8]> = Vec::new();
    let mut rest = value;
    while rest.len() > 255 {
        let mut cut = 255;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        parts.push(&rest.as_bytes()[..cut]);
        rest = &rest[cut..];
    }
    parts.push(rest.as_bytes());
    TXT::from_bytes(parts)
}

/// TXT strings, all on the record's one line. Not in parentheses over
/// several lines: hickory's parser misreads quoted strings inside `( … )`.
fn txt_text(txt: &TXT) -> String {
    let strings: Vec<String> = txt.txt_data.iter().map(|s| quote(s)).collect();
    strings.join(" ")
}

/// A record's data in master-file syntax.
pub fn rdata_text(data: &RData) -> String {
    match data {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(a) => a.0.to_string(),
        RData::NS(n) => name_text(&n.0),
        RData::CNAME(n) => name_text(&n.0),
        RData::MX(mx) => format!("{} {}", mx.preference, name_text(&mx.exchange)),
        RData::SRV(srv) => format!(
            "{} {} {} {}",
            srv.priority,
            srv.weight,
            srv.port,
            name_text(&srv.target)
        ),
        RData::CAA(caa) => format!("{} {} {}", caa.flags(), caa.tag, quote(&caa.value)),
        RData::TLSA(t) => {
            let mut hex = String::with_capacity(t.cert_data.len() * 2);
            for b in &t.cert_data {
                let _ = write!(hex, "{b:02x}");
            }
            format!(
                "{} {} {} {hex}",
                u8::from(t.cert_usage),
                u8::from(t.selector),
                u8::from(t.matching)
            )
        }
        RData::TXT(txt) => txt_text(txt),
        // Only the types above are built by mailc.
        other => other.to_string(),
    }
}

/// The SOA serial of a master file, or `None`. Reads only the first SOA's
/// fields (comments and quoted strings skipped); it never follows
/// `$INCLUDE` or touches anything else.
pub fn serial_of(text: &str) -> Option<u32> {
    let mut tokens = Vec::new();
    for line in text.lines() {
        let mut cur = String::new();
        let mut quoted = false;
        let mut escaped = false;
        for c in line.chars() {
            if escaped {
                escaped = false;
                cur.push(c);
                continue;
            }
            match c {
                '\\' => {
                    escaped = true;
                    cur.push(c);
                }
                '"' => {
                    quoted = !quoted;
                    cur.push(c);
                }
                ';' if !quoted => break,
                c if c.is_whitespace() && !quoted => {
                    if !cur.is_empty() {
                        tokens.push(std::mem::take(&mut cur));
                    }
                }
                c => cur.push(c),
            }
        }
        if !cur.is_empty() {
            tokens.push(cur);
        }
    }
    let at = tokens.iter().position(|t| t.eq_ignore_ascii_case("SOA"))?;
    tokens[at + 1..]
        .iter()
        .filter(|t| *t != "(" && *t != ")")
        .nth(2)
        .and_then(|t| t.trim_start_matches('(').parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, MX};

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    #[test]
    fn quoting() {
        assert_eq!(quote(br#"a"b\c;d"#), r#""a\"b\\c;d""#);
        assert_eq!(quote("café\n".as_bytes()), r#""caf\195\169\010""#);
    }

    #[test]
    fn splitting() {
        let long = "é".repeat(200); // 400 bytes
        let t = txt(&long);
        assert_eq!(t.txt_data.len(), 2);
        assert_eq!(t.txt_data[0].len(), 254);
        let joined: Vec<u8> = t.txt_data.iter().flat_map(|s| s.iter().copied()).collect();
        assert_eq!(joined, long.as_bytes());
        assert_eq!(txt("").txt_data.len(), 1);
        assert_eq!(txt(&"a".repeat(255)).txt_data.len(), 1);
        assert_eq!(txt(&"a".repeat(256)).txt_data.len(), 2);
    }

    #[test]
    fn labels() {
        let rname = Name::from_labels(vec!["first.last", "example", "com"]).unwrap();
        assert_eq!(name_text(&rname), r"first\.last.example.com.");
        assert_eq!(name_text(&Name::root()), ".");
        assert_eq!(label_text(b"a+b"), r"a\+b");
        assert_eq!(label_text(b"*"), "*");
    }

    #[test]
    fn layout_and_serial() {
        let mut z = Zone::new(
            n("example.com."),
            3600,
            n("ns1.example.net."),
            n("hostmaster.example.com."),
        );
        z.push(
            n("www.example.com."),
            Some(60),
            RData::A(A::new(192, 0, 2, 1)),
        );
        z.push(
            n("*.dev.example.com."),
            None,
            RData::A(A::new(192, 0, 2, 2)),
        );
        z.push(
            n("example.com."),
            None,
            RData::MX(MX::new(10, n("mx1.example.com."))),
        );
        z.push(
            n("_dmarc.example.com."),
            None,
            RData::TXT(txt("v=DMARC1; p=none")),
        );
        z.push(
            n("_dmarc.example.com."),
            None,
            RData::TXT(txt("v=DMARC1; p=none")),
        );
        let text = z.render(42);
        let body: Vec<&str> = text.lines().skip(11).collect();
        assert_eq!(
            body,
            [
                "@                       IN MX    10 mx1.example.com.",
                "_dmarc                  IN TXT   \"v=DMARC1; p=none\"",
                "*.dev                   IN A     192.0.2.2",
                "www                     60 IN A     192.0.2.1",
            ]
        );
        assert_eq!(serial_of(&text), Some(42));
        assert_eq!(
            serial_of("@ IN SOA ns. h. (2024010101 1 2 3 4)"),
            Some(2_024_010_101)
        );
        assert_eq!(
            serial_of("; SOA 1 2 3\n@ 60 IN SOA a. b. 7 1 2 3 4"),
            Some(7)
        );
        assert_eq!(serial_of("garbage"), None);
    }
}
