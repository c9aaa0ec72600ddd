//! One record of a master file: its TTL, class and type, and its data
//! read by type.

use super::*;

impl Parser {
    pub(super) fn record(&mut self, file: &str, l: Line) -> Result<(), Finding> {
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

    pub(super) fn rdata(
        &self,
        file: &str,
        at: usize,
        rtype: &str,
        t: &[Token],
    ) -> Result<Data, Finding> {
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

pub(super) fn tok_u32(t: &Token) -> Option<u32> {
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
