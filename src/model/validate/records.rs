//! The spec's own DNS records: types mailc writes safely, values parsed and
//! normalized, and no collision with a record mailc writes itself.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{UserRecord, names};
use crate::source::Span;
use crate::spec::Record;

/// The record types a spec may give.
pub const TYPES: &[&str] = &["A", "AAAA", "CNAME", "TXT", "SRV", "CAA", "TLSA", "NS"];

/// What mailc itself writes into one zone, by relative owner name → why.
#[derive(Default)]
pub struct Reserved {
    pub names: BTreeMap<String, String>,
    /// Names of our hosts inside the zone: mailc writes their A/AAAA records.
    pub host_names: BTreeMap<String, String>,
    /// Relative names of the zone's MX targets (to refuse an MX pointing at a CNAME).
    pub mx_targets: BTreeSet<String>,
}

pub fn check(
    domain: &str,
    records: &[Record],
    reserved: &Reserved,
    spf: &mut Vec<super::spf::Published>,
    diags: &mut Diagnostics,
) -> Vec<UserRecord> {
    let mut out: Vec<(UserRecord, Span)> = Vec::new();
    for r in records {
        let (Some(name), Some(rtype), Some(value)) = (&r.name, &r.rtype, &r.value) else {
            continue;
        };
        let owner = match owner_name(&name.value, domain) {
            Ok(o) => o,
            Err(why) => {
                diags.push(
                    Diagnostic::error(Code::Record, name.span, format!("`{}` is not a valid record name: {why}", name.value))
                        .label("invalid name")
                        .help("write a name relative to the zone (`www`, `_acme-challenge`), or `@` for the zone itself"),
                );
                continue;
            }
        };
        let t = rtype.value.to_ascii_uppercase();
        if t == "MX" || t == "SOA" {
            diags.push(
                Diagnostic::error(
                    Code::RecordCollision,
                    rtype.span,
                    format!(
                        "{} {t} record in `records` collides with the one mailc writes",
                        if t == "MX" { "an" } else { "a" }
                    ),
                )
                .label("written by mailc")
                .help(if t == "MX" {
                    "list mail exchangers under the domain's `mx`"
                } else {
                    "mailc writes the SOA from `nameservers` and `hostmaster`"
                }),
            );
            continue;
        }
        if !TYPES.contains(&t.as_str()) {
            diags.push(
                Diagnostic::error(
                    Code::RecordType,
                    rtype.span,
                    format!("mailc does not write records of type `{}`", rtype.value),
                )
                .label("unsupported type")
                .help(format!("use one of {}", TYPES.join(", "))),
            );
            continue;
        }
        // RFC 952 / RFC 1123 §2.1: a name with an address is a host name.
        // BIND refuses a zone that breaks this (check-names).
        if matches!(t.as_str(), "A" | "AAAA") && owner.contains('_') {
            diags.push(
                Diagnostic::error(
                    Code::Record,
                    name.span,
                    format!("`{}` cannot hold an {t} record: `_` is not allowed in a host name", name.value),
                )
                .label("not a host name")
                .help("give addresses to names of letters, digits and hyphens; `_` names are for TXT and SRV records"),
            );
            continue;
        }
        let value_n = match normalize(&t, &value.value, domain) {
            Ok(v) => v,
            Err(why) => {
                diags.push(
                    Diagnostic::error(
                        Code::Record,
                        value.span,
                        format!("`{}` is not a valid {t} value: {why}", value.value),
                    )
                    .label(format!("invalid {t} data"))
                    .help(example(&t)),
                );
                continue;
            }
        };
        if let Some(why) = collision(&owner, &t, &value_n, reserved) {
            diags.push(
                Diagnostic::error(
                    Code::RecordCollision,
                    r.span,
                    format!("the {t} record at `{owner}` collides with {why}"),
                )
                .label("collides with a record mailc writes")
                .help("remove this record: mailc writes that one from the spec's own keys"),
            );
            continue;
        }
        // The same range as a domain's `ttl` (RFC 2181 §8).
        if let Some(d) = r.ttl.as_ref().and_then(crate::model::ttl_error) {
            diags.push(d);
            continue;
        }
        let rec = UserRecord {
            name: owner,
            rtype: t,
            value: value_n,
            ttl: r.ttl.as_ref().map(|t| t.value),
        };
        if let Some((_, first)) = out
            .iter()
            .find(|(o, _)| o.name == rec.name && o.rtype == rec.rtype && o.value == rec.value)
        {
            diags.push(
                Diagnostic::error(
                    Code::Record,
                    r.span,
                    format!("the {} record at `{}` is given twice", rec.rtype, rec.name),
                )
                .label("second time")
                .with(*first, "first time")
                .help("remove one of them"),
            );
            continue;
        }
        // An SPF record at another name (`_spf`, a subdomain that sends):
        // checked as a record given whole, and counted with the records
        // that include it.
        if rec.rtype == "TXT" && super::spf::is_spf(&rec.value) {
            let fqdn = match rec.name.as_str() {
                "@" => domain.to_string(),
                n => format!("{n}.{domain}"),
            };
            let parsed = super::spf::record(
                &fqdn,
                &crate::spec::Sp::new(rec.value.clone(), value.span),
                diags,
            );
            spf.push(super::spf::Published {
                name: fqdn,
                terms: parsed.terms,
                span: value.span,
            });
        }
        out.push((rec, r.span));
    }
    // CNAME may not stand beside other data (RFC 1034 §3.6.2), nor at the apex.
    for (rec, span) in &out {
        if rec.rtype != "CNAME" {
            continue;
        }
        let why = if rec.name == "@" {
            Some("the zone's apex, which holds SOA and NS".to_string())
        } else if let Some(other) = out
            .iter()
            .find(|(o, _)| o.name == rec.name && !std::ptr::eq(o, rec))
        {
            Some(format!("a {} record of the same name", other.0.rtype))
        } else if let Some(why) = reserved
            .names
            .get(&rec.name)
            .or_else(|| reserved.host_names.get(&rec.name))
        {
            Some(why.clone())
        } else if reserved.mx_targets.contains(&rec.name) {
            Some("an MX target (MX must not point at a CNAME, RFC 2181 §10.3)".to_string())
        } else {
            None
        };
        if let Some(why) = why {
            diags.push(
                Diagnostic::error(Code::RecordCollision, *span, format!("a CNAME at `{}` stands beside {why}", rec.name))
                    .label("CNAME beside other data")
                    .help("a name with a CNAME may hold nothing else: use A/AAAA records, or another name"),
            );
        }
    }
    out.into_iter().map(|(r, _)| r).collect()
}

/// `@`, or a name relative to the zone. An absolute name inside the zone
/// (`www.example.com.`) is made relative.
pub(crate) fn owner_name(name: &str, domain: &str) -> Result<String, String> {
    if name == "@" {
        return Ok("@".into());
    }
    let rel = if let Some(abs) = name.strip_suffix('.') {
        let abs = abs.to_ascii_lowercase();
        if abs == domain {
            return Ok("@".into());
        }
        match abs.strip_suffix(&format!(".{domain}")) {
            Some(r) => r.to_string(),
            None => return Err(format!("it is outside the zone `{domain}`")),
        }
    } else {
        name.to_string()
    };
    let (wild, rest) = match rel.strip_prefix("*.") {
        Some(r) => (true, r),
        None if rel == "*" => return Ok("*".into()),
        None => (false, rel.as_str()),
    };
    let n = names::dns_name(rest)?;
    Ok(if wild { format!("*.{n}") } else { n })
}

/// A target name: absolute with a trailing dot; a single label is relative to the zone.
fn target(s: &str, domain: &str) -> Result<String, String> {
    if s == "." {
        return Ok(".".into());
    }
    let n = names::dns_name(s)?;
    Ok(if s.ends_with('.') || n.contains('.') {
        format!("{n}.")
    } else {
        format!("{n}.{domain}.")
    })
}

/// A target that must be a host name (NS, SRV: RFC 2181 §10.3, RFC 2782):
/// no `_` labels.
fn host_target(s: &str, domain: &str) -> Result<String, String> {
    let t = target(s, domain)?;
    if t.contains('_') {
        return Err("it must be a host name, without `_`".into());
    }
    Ok(t)
}

fn normalize(t: &str, v: &str, domain: &str) -> Result<String, String> {
    let v = v.trim();
    let fields: Vec<&str> = v.split_whitespace().collect();
    let num = |s: &str, max: u32, what: &str| -> Result<u32, String> {
        s.parse::<u32>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| format!("`{s}` is not a {what} (0–{max})"))
    };
    match t {
        "A" => v
            .parse::<Ipv4Addr>()
            .map(|a| a.to_string())
            .map_err(|_| "it is not an IPv4 address".into()),
        "AAAA" => v
            .parse::<Ipv6Addr>()
            .map(|a| a.to_string())
            .map_err(|_| "it is not an IPv6 address".into()),
        "CNAME" => target(v, domain),
        "NS" => host_target(v, domain),
        "TXT" => {
            if v.len() > 4000 {
                return Err(format!(
                    "it is {} bytes long; keep TXT data under 4000",
                    v.len()
                ));
            }
            Ok(v.to_string())
        }
        "SRV" => {
            let [p, w, port, tgt] = fields[..] else {
                return Err("it needs four fields".into());
            };
            Ok(format!(
                "{} {} {} {}",
                num(p, 65535, "priority")?,
                num(w, 65535, "weight")?,
                num(port, 65535, "port")?,
                host_target(tgt, domain)?
            ))
        }
        "CAA" => {
            let mut parts = v.splitn(3, char::is_whitespace);
            let (Some(flags), Some(tag), Some(val)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err("it needs a flag, a tag and a value".into());
            };
            let flags = num(flags, 255, "flag")?;
            if tag.is_empty() || !tag.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(format!("`{tag}` is not a CAA tag"));
            }
            let val = val.trim();
            let inner = val
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(val);
            if inner.contains(['"', '\\'])
                || !inner.is_ascii()
                || (inner == val && inner.contains(char::is_whitespace))
            {
                return Err(
                    "the value must be one quoted string without quotes or backslashes inside"
                        .into(),
                );
            }
            Ok(format!("{flags} {} \"{inner}\"", tag.to_ascii_lowercase()))
        }
        "TLSA" => {
            let [u, s, m, data @ ..] = &fields[..] else {
                return Err("it needs usage, selector, matching type and data".into());
            };
            let hex: String = data.concat();
            if hex.is_empty()
                || !hex.len().is_multiple_of(2)
                || !hex.chars().all(|c| c.is_ascii_hexdigit())
            {
                return Err("its data is not an even number of hex digits".into());
            }
            Ok(format!(
                "{} {} {} {}",
                num(u, 3, "usage")?,
                num(s, 1, "selector")?,
                num(m, 2, "matching type")?,
                hex.to_ascii_lowercase()
            ))
        }
        _ => Err("unsupported type".into()),
    }
}

fn collision(owner: &str, t: &str, value: &str, reserved: &Reserved) -> Option<String> {
    if owner == "@" && t == "NS" {
        return Some("the zone's NS records (set `nameservers`)".into());
    }
    if owner == "@" && t == "TXT" && value.to_ascii_lowercase().starts_with("v=spf1") {
        return Some("the SPF record mailc writes (set `spf`)".into());
    }
    if t == "CNAME" {
        return None; // judged with the whole set
    }
    if matches!(t, "A" | "AAAA")
        && let Some(why) = reserved.host_names.get(owner)
    {
        return Some(why.clone());
    }
    reserved.names.get(owner).cloned()
}

fn example(t: &str) -> String {
    let e = match t {
        "A" => "203.0.113.20",
        "AAAA" => "2001:db8::20",
        "CNAME" => "web.example.net.",
        "NS" => "ns1.example.net.",
        "TXT" => "google-site-verification=abc123",
        "SRV" => "0 5 5060 sip.example.com.",
        "CAA" => "0 issue \"letsencrypt.org\"",
        "TLSA" => "3 1 1 <sha256 hex>",
        _ => "",
    };
    format!("write it like `{e}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(
            normalize("CAA", "0 issue \"letsencrypt.org\"", "x.com").unwrap(),
            "0 issue \"letsencrypt.org\""
        );
        assert_eq!(
            normalize("CAA", "0 issue letsencrypt.org", "x.com").unwrap(),
            "0 issue \"letsencrypt.org\""
        );
        assert!(normalize("CAA", "0 issue \"a\" IN A 1.2.3.4", "x.com").is_err());
        assert_eq!(normalize("CNAME", "web", "x.com").unwrap(), "web.x.com.");
        assert_eq!(
            normalize("SRV", "0 5 443 host.x.com", "x.com").unwrap(),
            "0 5 443 host.x.com."
        );
        assert!(normalize("A", "1.2.3.4\nevil", "x.com").is_err());
        assert!(normalize("TLSA", "3 1 1 abc", "x.com").is_err());
        assert!(normalize("NS", "_ns.x.com.", "x.com").is_err());
        assert!(normalize("SRV", "0 5 443 _h.x.com.", "x.com").is_err());
    }

    #[test]
    fn owners() {
        assert_eq!(owner_name("www.x.com.", "x.com").unwrap(), "www");
        assert_eq!(owner_name("*.dev", "x.com").unwrap(), "*.dev");
        assert!(owner_name("www.y.com.", "x.com").is_err());
        assert!(owner_name("a b", "x.com").is_err());
    }
}
