//! Reading BIND master files (RFC 1035 §5.1): `$ORIGIN`, `$TTL`,
//! `$INCLUDE`, relative names and `@`, owners left blank, TTL and class in
//! either order, TTLs with units (`1h30m`), `( … )` continued over lines,
//! quoted strings with `\"` and `\DDD` escapes, `;` comments. Every record
//! keeps the file and line it came from, for the report.
//!
//! Files named by `$INCLUDE` are read through [`Includes`], which the
//! caller confines to the folder the user named.

use std::str::FromStr as _;

use hickory_proto::rr::rdata::{CNAME, MX, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, RecordType};

use super::report::Finding;

/// How deep `$INCLUDE`s may nest (a file including itself stops here).
const MAX_INCLUDE_DEPTH: usize = 8;

/// One record as read.
#[derive(Clone, Debug)]
pub struct Entry {
    pub owner: Name,
    pub ttl: u32,
    pub data: Data,
    /// Where it was written: the file as shown to the user, and the line.
    pub file: String,
    pub line: usize,
}

/// A record's data: parsed, or (for types mailc neither writes nor needs)
/// kept as text for the report.
#[derive(Clone, Debug)]
pub enum Data {
    Known(RData),
    Other { rtype: String, text: String },
}

impl Entry {
    /// The record's type as written in zone files.
    pub fn type_name(&self) -> String {
        match &self.data {
            Data::Known(d) => d.record_type().to_string(),
            Data::Other { rtype, .. } => rtype.clone(),
        }
    }

    /// `owner TTL TYPE data`, for the report.
    pub fn text(&self) -> String {
        let data = match &self.data {
            Data::Known(d) => crate::backend::zone::rdata_text(d),
            Data::Other { text, .. } => text.clone(),
        };
        format!(
            "{} {} {} {data}",
            crate::backend::zone::name_text(&self.owner),
            self.ttl,
            self.type_name()
        )
    }
}

/// A zone file and what it includes, read.
#[derive(Debug)]
pub struct ZoneFile {
    pub origin: Name,
    pub entries: Vec<Entry>,
    /// Lines read but not carried into records (`$GENERATE`), as findings.
    pub skipped: Vec<Finding>,
}

/// Reads the files a zone includes: `(name as shown, text)` or why not.
pub trait Includes {
    /// `path` as written after `$INCLUDE`, named in `from` (as shown).
    fn read(&mut self, path: &str, from: &str, line: usize) -> Result<(String, String), Finding>;
}

/// Parses the zone `text` (shown as `file`), whose origin is `origin` unless
/// the file sets one with `$ORIGIN` before its first record.
pub fn parse(
    file: &str,
    text: &str,
    origin: Option<Name>,
    includes: &mut dyn Includes,
) -> Result<ZoneFile, Finding> {
    let mut p = Parser {
        origin,
        default_ttl: None,
        last_ttl: None,
        last_owner: None,
        soa_minimum: None,
        entries: Vec::new(),
        skipped: Vec::new(),
        first_origin: None,
    };
    p.file(file, text, includes, 0)?;
    let origin = p
        .first_origin
        .clone()
        .or(p.origin.clone())
        .ok_or_else(|| {
            Finding::error(
                file,
                Some(1),
                "the zone's origin is not known: the file has no `$ORIGIN` and no absolute SOA owner",
            )
            .help("add `$ORIGIN example.com.` as the file's first line, or name the file after its zone (`example.com.zone`)")
        })?;
    Ok(ZoneFile {
        origin,
        entries: p.entries,
        skipped: p.skipped,
    })
}

/// A token of a logical line.
#[derive(Clone, Debug)]
struct Token {
    /// The text with escapes kept (names are read from it).
    raw: String,
    /// The bytes it stands for (escapes resolved, quotes removed).
    bytes: Vec<u8>,
    quoted: bool,
    line: usize,
}

/// One logical line: its tokens, and whether it began with white space
/// (then the owner is the previous record's).
struct Line {
    tokens: Vec<Token>,
    indented: bool,
    line: usize,
}

struct Parser {
    origin: Option<Name>,
    default_ttl: Option<u32>,
    last_ttl: Option<u32>,
    last_owner: Option<Name>,
    soa_minimum: Option<u32>,
    entries: Vec<Entry>,
    skipped: Vec<Finding>,
    /// The origin in force at the first record: the zone's.
    first_origin: Option<Name>,
}

impl Parser {
    fn file(
        &mut self,
        file: &str,
        text: &str,
        includes: &mut dyn Includes,
        depth: usize,
    ) -> Result<(), Finding> {
        for line in lines(file, text)? {
            self.line(file, line, includes, depth)?;
        }
        Ok(())
    }

    fn err(file: &str, line: usize, msg: impl Into<String>) -> Finding {
        Finding::error(file, Some(line), msg)
    }

    fn line(
        &mut self,
        file: &str,
        l: Line,
        includes: &mut dyn Includes,
        depth: usize,
    ) -> Result<(), Finding> {
        let at = l.line;
        let first = &l.tokens[0];
        if !l.indented && !first.quoted && first.raw.starts_with('$') {
            let args = &l.tokens[1..];
            return match first.raw.to_ascii_uppercase().as_str() {
                "$ORIGIN" => {
                    let [name] = args else {
                        return Err(Self::err(file, at, "`$ORIGIN` takes one name"));
                    };
                    let n = self.name(file, name)?;
                    self.origin = Some(n);
                    Ok(())
                }
                "$TTL" => {
                    let [ttl] = args else {
                        return Err(Self::err(file, at, "`$TTL` takes one value"));
                    };
                    self.default_ttl = Some(ttl_value(&ttl.raw).ok_or_else(|| {
                        Self::err(file, at, format!("`{}` is not a TTL", ttl.raw))
                            .help("write seconds (`3600`) or a duration (`1h`, `2d`)")
                    })?);
                    Ok(())
                }
                "$INCLUDE" => {
                    let (path, origin) = match args {
                        [p] => (p, None),
                        [p, o] => (p, Some(self.name(file, o)?)),
                        _ => {
                            return Err(Self::err(
                                file,
                                at,
                                "`$INCLUDE` takes a file name and an optional origin",
                            ));
                        }
                    };
                    if depth >= MAX_INCLUDE_DEPTH {
                        return Err(Self::err(
                            file,
                            at,
                            format!("`$INCLUDE` nested more than {MAX_INCLUDE_DEPTH} deep"),
                        )
                        .help("a file that includes itself never ends; include each file once"));
                    }
                    let path = String::from_utf8_lossy(&path.bytes).into_owned();
                    let (name, text) = includes.read(&path, file, at)?;
                    // RFC 1035 §5.1: the included file starts at the given
                    // origin (else the current one); ours is restored after.
                    let saved = self.origin.clone();
                    if origin.is_some() {
                        self.origin = origin;
                    }
                    self.file(&name, &text, includes, depth + 1)?;
                    self.origin = saved;
                    Ok(())
                }
                "$GENERATE" => {
                    self.skipped.push(
                        Finding::warning(
                            file,
                            Some(at),
                            "`$GENERATE` is not carried over: the records it makes are not imported",
                        )
                        .help("expand it (`named-compilezone -o - ZONE FILE` writes every record), or add those records to the spec by hand"),
                    );
                    Ok(())
                }
                other => {
                    Err(
                        Self::err(file, at, format!("`{other}` is not a zone file directive"))
                            .help("the directives are `$ORIGIN`, `$TTL` and `$INCLUDE`"),
                    )
                }
            };
        }
        self.record(file, l)
    }

    /// An absolute name: relative ones below the current origin.
    fn name(&self, file: &str, t: &Token) -> Result<Name, Finding> {
        if t.raw == "@" {
            return self.origin.clone().ok_or_else(|| {
                Self::err(file, t.line, "`@` used before the origin is known")
                    .help("add `$ORIGIN example.com.` before the first record")
            });
        }
        let bad = |why: String| {
            Self::err(
                file,
                t.line,
                format!("`{}` is not a DNS name: {why}", t.raw),
            )
        };
        let n = Name::from_ascii(&t.raw).map_err(|e| bad(e.to_string()))?;
        if t.raw.ends_with('.') && !t.raw.ends_with("\\.") {
            return Ok(n);
        }
        let origin = self.origin.as_ref().ok_or_else(|| {
            Self::err(
                file,
                t.line,
                format!("the relative name `{}` is used before the origin is known", t.raw),
            )
            .help("add `$ORIGIN example.com.` before the first record, or write names with a final dot")
        })?;
        n.append_domain(origin).map_err(|e| bad(e.to_string()))
    }

    fn record(&mut self, file: &str, l: Line) -> Result<(), Finding> {
        let at = l.line;
        let mut tokens = l.tokens.into_iter().peekable();
        let owner = if l.indented {
            self.last_owner.clone().ok_or_else(|| {
                Self::err(file, at, "a record without an owner comes before any owner")
                    .help("start the first record's line with its name, or `@`")
            })?
        } else {
            let t = tokens
                .next()
                .ok_or_else(|| Self::err(file, at, "empty record"))?;
            self.name(file, &t)?
        };
        // TTL and class, in either order, then the type.
        let mut ttl = None;
        let mut rtype: Option<(String, usize)> = None;
        for t in tokens.by_ref() {
            let up = t.raw.to_ascii_uppercase();
            if t.quoted {
                return Err(Self::err(file, t.line, "a record type is missing"));
            }
            if ttl.is_none()
                && t.raw.starts_with(|c: char| c.is_ascii_digit())
                && let Some(v) = ttl_value(&t.raw)
            {
                ttl = Some(v);
                continue;
            }
            if matches!(up.as_str(), "IN") {
                continue;
            }
            if matches!(up.as_str(), "CH" | "HS" | "CS" | "CLASS3" | "CLASS4") {
                return Err(Self::err(
                    file,
                    t.line,
                    format!("records of class `{}` are not supported", t.raw),
                )
                .help("mail domains are class IN"));
            }
            rtype = Some((up, t.line));
            break;
        }
        let Some((rtype, type_line)) = rtype else {
            return Err(Self::err(file, at, "a record type is missing")
                .help("write `NAME [TTL] [IN] TYPE DATA`, like `www 3600 IN A 203.0.113.20`"));
        };
        let rdata: Vec<Token> = tokens.collect();
        let ttl = match ttl.or(self.default_ttl).or(self.last_ttl) {
            Some(t) => t,
            None if rtype == "SOA" => 0, // replaced by its own minimum below
            None => self.soa_minimum.ok_or_else(|| {
                Self::err(file, at, "the record has no TTL and there is no `$TTL`")
                    .help("add `$TTL 3600` at the top of the file")
            })?,
        };
        let data = self.rdata(file, type_line, &rtype, &rdata)?;
        let ttl = match &data {
            Data::Known(RData::SOA(soa)) if ttl == 0 && self.default_ttl.is_none() => soa.minimum,
            _ => ttl,
        };
        if let Data::Known(RData::SOA(soa)) = &data {
            self.soa_minimum = Some(soa.minimum);
        }
        if self.entries.is_empty() {
            self.first_origin = self
                .origin
                .clone()
                .or_else(|| matches!(data, Data::Known(RData::SOA(_))).then(|| owner.clone()));
        }
        self.last_owner = Some(owner.clone());
        self.last_ttl = Some(ttl);
        self.entries.push(Entry {
            owner,
            ttl,
            data,
            file: file.to_string(),
            line: at,
        });
        Ok(())
    }

    fn rdata(&self, file: &str, at: usize, rtype: &str, t: &[Token]) -> Result<Data, Finding> {
        let count = |n: usize| -> Result<(), Finding> {
            if t.len() == n {
                Ok(())
            } else {
                Err(Self::err(
                    file,
                    at,
                    format!(
                        "a {rtype} record takes {n} field{}, this one has {}",
                        if n == 1 { "" } else { "s" },
                        t.len()
                    ),
                ))
            }
        };
        let num = |tok: &Token, what: &str| -> Result<u16, Finding> {
            tok.raw.parse::<u16>().map_err(|_| {
                Self::err(
                    file,
                    tok.line,
                    format!("`{}` is not a {what} (0–65535)", tok.raw),
                )
            })
        };
        let data = match rtype {
            "SOA" => {
                count(7)?;
                let n32 = |tok: &Token, what: &str| -> Result<u32, Finding> {
                    ttl_value(&tok.raw).ok_or_else(|| {
                        Self::err(
                            file,
                            tok.line,
                            format!("`{}` is not an SOA {what}", tok.raw),
                        )
                    })
                };
                let serial = tok_u32(&t[2]).ok_or_else(|| {
                    Self::err(
                        file,
                        t[2].line,
                        format!("`{}` is not an SOA serial", t[2].raw),
                    )
                })?;
                let i = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
                RData::SOA(SOA::new(
                    self.name(file, &t[0])?,
                    self.name(file, &t[1])?,
                    serial,
                    i(n32(&t[3], "refresh")?),
                    i(n32(&t[4], "retry")?),
                    i(n32(&t[5], "expire")?),
                    n32(&t[6], "minimum")?,
                ))
            }
            "NS" => {
                count(1)?;
                RData::NS(NS(self.name(file, &t[0])?))
            }
            "CNAME" => {
                count(1)?;
                RData::CNAME(CNAME(self.name(file, &t[0])?))
            }
            "PTR" => {
                count(1)?;
                RData::PTR(PTR(self.name(file, &t[0])?))
            }
            "MX" => {
                count(2)?;
                RData::MX(MX::new(num(&t[0], "preference")?, self.name(file, &t[1])?))
            }
            "SRV" => {
                count(4)?;
                RData::SRV(SRV::new(
                    num(&t[0], "priority")?,
                    num(&t[1], "weight")?,
                    num(&t[2], "port")?,
                    self.name(file, &t[3])?,
                ))
            }
            "TXT" => {
                if t.is_empty() {
                    return Err(Self::err(
                        file,
                        at,
                        "a TXT record needs at least one string",
                    ));
                }
                if let Some(long) = t.iter().find(|s| s.bytes.len() > 255) {
                    return Err(Self::err(
                        file,
                        long.line,
                        format!(
                            "a TXT string is {} bytes long; one string holds at most 255",
                            long.bytes.len()
                        ),
                    )
                    .help("split the text into several quoted strings: \"first part\" \"second part\""));
                }
                RData::TXT(TXT::from_bytes(
                    t.iter().map(|s| s.bytes.as_slice()).collect(),
                ))
            }
            "A" | "AAAA" | "CAA" | "TLSA" => {
                let text = t
                    .iter()
                    .map(|s| s.raw.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                let rt =
                    RecordType::from_str(rtype).map_err(|e| Self::err(file, at, e.to_string()))?;
                RData::try_from_str(rt, &text).map_err(|e| {
                    Self::err(file, at, format!("`{text}` is not valid {rtype} data: {e}"))
                })?
            }
            other => {
                let known = RecordType::from_str(other)
                    .ok()
                    .is_some_and(|r| !matches!(r, RecordType::Unknown(_)))
                    || (other.starts_with("TYPE") && other[4..].parse::<u16>().is_ok());
                if !known {
                    return Err(
                        Self::err(file, at, format!("`{other}` is not a record type")).help(
                            "write `NAME [TTL] [IN] TYPE DATA`, like `www 3600 IN A 203.0.113.20`",
                        ),
                    );
                }
                return Ok(Data::Other {
                    rtype: other.to_string(),
                    text: t
                        .iter()
                        .map(|s| s.raw.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                });
            }
        };
        Ok(Data::Known(data))
    }
}

fn tok_u32(t: &Token) -> Option<u32> {
    t.raw.parse().ok()
}

/// A TTL: seconds, or BIND's units (`1w2d3h4m5s`, any case).
pub fn ttl_value(s: &str) -> Option<u32> {
    if let Ok(n) = s.parse::<u32>() {
        return Some(n);
    }
    let mut total: u64 = 0;
    let mut num: Option<u64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(
                num.unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(u64::from(d))?,
            );
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            'w' => 604_800,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total = total.checked_add(num.take()?.checked_mul(unit)?)?;
    }
    if let Some(n) = num {
        total = total.checked_add(n)?;
    }
    u32::try_from(total).ok()
}

/// Splits `text` into logical lines of tokens.
fn lines(file: &str, text: &str) -> Result<Vec<Line>, Finding> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut cur: Option<Line> = None;
    let mut depth = 0usize;
    let mut paren_line = 0;
    let mut at_line_start = true;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                i += 1;
                if depth == 0 {
                    if let Some(l) = cur.take() {
                        out.push(l);
                    }
                    at_line_start = true;
                }
            }
            b';' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b' ' | b'\t' | b'\r' => {
                if at_line_start && depth == 0 && cur.is_none() {
                    cur = Some(Line {
                        tokens: Vec::new(),
                        indented: true,
                        line,
                    });
                }
                at_line_start = false;
                i += 1;
            }
            b'(' => {
                if depth == 0 {
                    paren_line = line;
                }
                depth += 1;
                at_line_start = false;
                i += 1;
            }
            b')' => {
                if depth == 0 {
                    return Err(Finding::error(
                        file,
                        Some(line),
                        "`)` without a `(` before it",
                    ));
                }
                depth -= 1;
                i += 1;
            }
            _ => {
                at_line_start = false;
                let start_line = line;
                let mut raw = Vec::new();
                let mut bytes = Vec::new();
                let quoted = c == b'"';
                if quoted {
                    i += 1;
                    loop {
                        let Some(&c) = b.get(i) else {
                            return Err(Finding::error(
                                file,
                                Some(start_line),
                                "a quoted string is not closed",
                            )
                            .help("end it with `\"`"));
                        };
                        match c {
                            b'"' => {
                                i += 1;
                                break;
                            }
                            b'\\' => {
                                let (n, v) = escape(&b[i..]).ok_or_else(|| {
                                    Finding::error(file, Some(line), "a `\\` escape is cut short")
                                })?;
                                raw.extend_from_slice(&b[i..i + n]);
                                bytes.push(v);
                                i += n;
                            }
                            b'\n' => {
                                return Err(Finding::error(
                                    file,
                                    Some(start_line),
                                    "a quoted string runs past the end of its line",
                                )
                                .help("close the string on the line it starts, and continue with another string"));
                            }
                            _ => {
                                raw.push(c);
                                bytes.push(c);
                                i += 1;
                            }
                        }
                    }
                } else {
                    while let Some(&c) = b.get(i) {
                        if matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"') {
                            break;
                        }
                        if c == b'\\' {
                            let (n, v) = escape(&b[i..]).ok_or_else(|| {
                                Finding::error(file, Some(line), "a `\\` escape is cut short")
                            })?;
                            raw.extend_from_slice(&b[i..i + n]);
                            bytes.push(v);
                            i += n;
                        } else {
                            raw.push(c);
                            bytes.push(c);
                            i += 1;
                        }
                    }
                }
                let raw = String::from_utf8(raw).map_err(|_| {
                    Finding::error(file, Some(start_line), "the text is not UTF-8")
                        .help("write non-ASCII bytes as `\\DDD` escapes")
                })?;
                let l = cur.get_or_insert_with(|| Line {
                    tokens: Vec::new(),
                    indented: false,
                    line: start_line,
                });
                l.tokens.push(Token {
                    raw,
                    bytes,
                    quoted,
                    line: start_line,
                });
            }
        }
    }
    if depth > 0 {
        return Err(Finding::error(
            file,
            Some(paren_line),
            "a `(` is never closed: the file ends inside it",
        )
        .help("close the record's data with `)`; a file cut short loses its last records"));
    }
    if let Some(l) = cur.take() {
        out.push(l);
    }
    Ok(out.into_iter().filter(|l| !l.tokens.is_empty()).collect())
}

/// A `\X` or `\DDD` escape at the start of `b`: its length and byte.
fn escape(b: &[u8]) -> Option<(usize, u8)> {
    let next = *b.get(1)?;
    if next.is_ascii_digit() {
        let d = b.get(1..4)?;
        if !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let v = u32::from(d[0] - b'0') * 100 + u32::from(d[1] - b'0') * 10 + u32::from(d[2] - b'0');
        Some((4, u8::try_from(v).ok()?))
    } else if next == b'\n' {
        None
    } else {
        Some((2, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoIncludes;
    impl Includes for NoIncludes {
        fn read(
            &mut self,
            path: &str,
            from: &str,
            line: usize,
        ) -> Result<(String, String), Finding> {
            Err(Finding::error(from, Some(line), format!("no {path}")))
        }
    }

    struct OneInclude(&'static str);
    impl Includes for OneInclude {
        fn read(&mut self, path: &str, _: &str, _: usize) -> Result<(String, String), Finding> {
            Ok((path.to_string(), self.0.to_string()))
        }
    }

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    #[test]
    fn styles() {
        let z = "$TTL 1h\n$ORIGIN Example.COM.\n@ IN SOA ns1 host\\.master ( 2024010101 ; serial\n 3h 15m 2w\n 5m )\n  IN NS ns1.example.net.\nwww 300 IN A 192.0.2.1\n\tIN AAAA 2001:db8::1\n_dmarc TXT ( \"v=DMARC1; \" \"p=none\" )\nmail IN 60 MX 10 mx1\n@ CAA 0 issue \"letsencrypt.org\"\nx HINFO \"PC\" \"Linux\"\n";
        let f = parse("z", z, None, &mut NoIncludes).unwrap();
        assert_eq!(f.origin, n("example.com."));
        assert_eq!(f.entries.len(), 8);
        let soa = &f.entries[0];
        let Data::Known(RData::SOA(s)) = &soa.data else {
            panic!()
        };
        assert_eq!(s.rname.to_ascii(), "host\\.master.Example.COM.");
        assert_eq!(
            (s.refresh, s.retry, s.expire, s.minimum),
            (10800, 900, 1_209_600, 300)
        );
        assert_eq!(soa.ttl, 3600);
        assert_eq!(f.entries[1].owner, n("example.com."));
        assert_eq!(f.entries[3].owner, n("www.example.com."));
        assert_eq!(f.entries[3].line, 8);
        let Data::Known(RData::TXT(t)) = &f.entries[4].data else {
            panic!()
        };
        assert_eq!(t.txt_data.len(), 2);
        assert_eq!(f.entries[5].ttl, 60);
        assert!(matches!(f.entries[7].data, Data::Other { .. }));
    }

    #[test]
    fn includes_keep_their_own_origin() {
        let z =
            "$ORIGIN example.com.\n$TTL 300\n$INCLUDE keys.inc sub.example.com.\nwww A 192.0.2.1\n";
        let f = parse("z", z, None, &mut OneInclude("k TXT \"a b\"\n")).unwrap();
        assert_eq!(f.entries[0].owner, n("k.sub.example.com."));
        assert_eq!(f.entries[0].file, "keys.inc");
        assert_eq!(f.entries[1].owner, n("www.example.com."));
    }

    #[test]
    fn garbage_names_file_and_line() {
        let e = parse(
            "z",
            "$TTL 1\n@ SOA a. b. 1 2 3 4 5\nwww A ( 192.0.2.1\n",
            Some(n("x.")),
            &mut NoIncludes,
        )
        .unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("z", Some(3)));
        let e = parse(
            "z",
            "$TTL 1\nwww A 999.1.1.1\n",
            Some(n("x.")),
            &mut NoIncludes,
        )
        .unwrap_err();
        assert_eq!(e.line, Some(2));
        let e = parse("z", "$TTL 1\nwww BOGUS 1\n", Some(n("x.")), &mut NoIncludes).unwrap_err();
        assert!(e.message.contains("BOGUS"));
    }

    #[test]
    fn ttls() {
        assert_eq!(
            ttl_value("1w2d3h4m5s"),
            Some(604_800 + 172_800 + 10_800 + 240 + 5)
        );
        assert_eq!(ttl_value("86400"), Some(86400));
        assert_eq!(ttl_value("1x"), None);
        assert_eq!(ttl_value("h"), None);
    }
}
