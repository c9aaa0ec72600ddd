//! Reading BIND master files (RFC 1035 §5.1): `$ORIGIN`, `$TTL`,
//! `$INCLUDE`, relative names and `@`, owners left blank, TTL and class in
//! either order, TTLs with units (`1h30m`), `( … )` continued over lines,
//! quoted strings with `\"` and `\DDD` escapes, `;` comments. Every record
//! keeps the file and line it came from, for the report.
//!
//! Files named by `$INCLUDE` are read through [`Includes`], which the
//! caller confines to the folder the user named.

mod lines;
mod rdata;

use super::report::Finding;
use hickory_proto::rr::rdata::{CNAME, MX, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, RecordType};
use std::str::FromStr as _;

use lines::*;
use rdata::*;

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
}

#[cfg(test)]
mod tests;
