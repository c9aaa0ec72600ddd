//! SPF (RFC 7208): the record's terms, and the 10-lookup limit.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Spf, SpfAll, names};
use crate::source::Span;
use crate::spec::Sp;

/// RFC 7208 §4.6.4: at most 10 terms that cause DNS lookups.
pub const MAX_LOOKUPS: usize = 10;

/// The SPF inputs of one domain after inheritance.
pub struct Input<'a> {
    pub include: &'a [Sp<String>],
    pub ip4: &'a [Sp<String>],
    pub ip6: &'a [Sp<String>],
    pub all: SpfAll,
    /// Where the domain's (or the default's) `spf` map is, for the lookup error.
    pub span: Span,
}

/// Builds the record: our local hosts' addresses, the given networks,
/// includes, then `all`. A null-MX domain sends nothing: `v=spf1 -all`.
pub fn check(
    domain: &str,
    input: &Input<'_>,
    local_ips: (&[Ipv4Addr], &[Ipv6Addr]),
    null_mx: bool,
    diags: &mut Diagnostics,
) -> Spf {
    if null_mx && input.include.is_empty() && input.ip4.is_empty() && input.ip6.is_empty() {
        return Spf {
            terms: vec!["-all".into()],
            lookups: 0,
        };
    }
    let mut terms: Vec<String> = Vec::new();
    let mut push = |t: String| {
        if !terms.contains(&t) {
            terms.push(t);
        }
    };
    for ip in local_ips.0 {
        push(format!("ip4:{ip}"));
    }
    for ip in local_ips.1 {
        push(format!("ip6:{ip}"));
    }
    for net in input.ip4 {
        match parse_net::<Ipv4Addr>(&net.value, 32) {
            Ok(t) => push(format!("ip4:{t}")),
            Err(why) => diags.push(bad_term(net, "ip4", &why, "203.0.113.0/24")),
        }
    }
    for net in input.ip6 {
        match parse_net::<Ipv6Addr>(&net.value, 128) {
            Ok(t) => push(format!("ip6:{t}")),
            Err(why) => diags.push(bad_term(net, "ip6", &why, "2001:db8::/32")),
        }
    }
    let mut lookups = 0;
    for inc in input.include {
        match names::dns_name(&inc.value) {
            Ok(name) => {
                lookups += 1;
                push(format!("include:{name}"));
            }
            Err(why) => diags.push(bad_term(inc, "include", &why, "_spf.google.com")),
        }
    }
    if lookups > MAX_LOOKUPS {
        let first_over = &input.include[MAX_LOOKUPS];
        let d = Diagnostic::error(
            Code::SpfLookups,
            first_over.span,
            format!("the SPF record of `{domain}` needs {lookups} DNS lookups; receivers allow at most {MAX_LOOKUPS} (RFC 7208 §4.6.4)"),
        )
        .label(format!("lookup number {}", MAX_LOOKUPS + 1))
        .with(input.span, "in this SPF policy")
        .help("drop includes, or replace some with the `ip4`/`ip6` networks they stand for");
        diags.push(d);
    }
    terms.push(input.all.as_str().to_string());
    Spf { terms, lookups }
}

/// A record given whole (`spf: {record: ...}`): `v=spf1` and its terms,
/// US-ASCII (RFC 7208 §3), written as given; only the 10-lookup limit is
/// checked (RFC 7208 §4.6.4: `include`, `a`, `mx`, `ptr`, `exists` and
/// `redirect` each cost one).
pub fn record(domain: &str, record: &Sp<String>, diags: &mut Diagnostics) -> Spf {
    let text = record.value.as_str();
    let bad = |message: String, help: &str| {
        Diagnostic::error(Code::SpfRecord, record.span, message)
            .label("this SPF record")
            .help(help.to_string())
    };
    let mut words = text.split(' ').filter(|w| !w.is_empty());
    let version = words.next().unwrap_or("");
    let terms: Vec<String> = words.map(str::to_string).collect();
    if !version.eq_ignore_ascii_case("v=spf1") {
        diags.push(bad(
            format!("the SPF record of `{domain}` does not start with `v=spf1`"),
            "write the record as published, like `v=spf1 mx include:_spf.example.net -all`",
        ));
    } else if let Some(c) = text
        .chars()
        .find(|c| (!c.is_ascii_graphic() && *c != ' ') || *c == '"' || *c == '\\')
    {
        diags.push(bad(
            format!("the SPF record of `{domain}` holds `{c}`, which an SPF record cannot (RFC 7208 §3: US-ASCII, no quotes or backslashes)"),
            "write the record as published, without quotes",
        ));
    } else if terms.is_empty() {
        diags.push(bad(
            format!("the SPF record of `{domain}` has no term after `v=spf1`"),
            "for a domain that sends no mail, write `v=spf1 -all`",
        ));
    }
    let lookups = terms
        .iter()
        .filter(|t| {
            let t = t
                .trim_start_matches(['+', '-', '~', '?'])
                .to_ascii_lowercase();
            let name = t.split([':', '/', '=']).next().unwrap_or("");
            matches!(name, "include" | "a" | "mx" | "ptr" | "exists") || t.starts_with("redirect=")
        })
        .count();
    if lookups > MAX_LOOKUPS {
        diags.push(
            Diagnostic::error(
                Code::SpfLookups,
                record.span,
                format!("the SPF record of `{domain}` needs {lookups} DNS lookups; receivers allow at most {MAX_LOOKUPS} (RFC 7208 §4.6.4)"),
            )
            .label("this SPF record")
            .help("replace some of `include`, `a`, `mx`, `ptr`, `exists` with the `ip4:`/`ip6:` networks they stand for"),
        );
    }
    Spf { terms, lookups }
}

/// `ADDR` or `ADDR/LEN`, written back in canonical form.
fn parse_net<A: std::str::FromStr + std::fmt::Display>(
    s: &str,
    max_len: u8,
) -> Result<String, String> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: A = addr
        .parse()
        .map_err(|_| format!("`{addr}` is not an address"))?;
    match len {
        None => Ok(addr.to_string()),
        Some(l) => {
            let len: u8 = l
                .parse()
                .map_err(|_| format!("`/{l}` is not a prefix length"))?;
            if len > max_len {
                return Err(format!("a prefix length is at most {max_len}"));
            }
            Ok(format!("{addr}/{len}"))
        }
    }
}

fn bad_term(v: &Sp<String>, kind: &str, why: &str, example: &str) -> Diagnostic {
    Diagnostic::error(
        Code::SpfTerm,
        v.span,
        format!("`{}` is not a valid SPF {kind}: {why}", v.value),
    )
    .label(format!("invalid {kind}"))
    .help(format!("write it like `{example}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_given_whole() {
        let sp = |s: &str| Sp::new(s.to_string(), Span::default());
        let mut diags = Diagnostics::default();
        let spf = record(
            "example.org",
            &sp("v=spf1 mx a:mail.example.org ip4:198.51.100.0/24 redirect=_spf.example.net"),
            &mut diags,
        );
        assert!(diags.is_empty());
        assert_eq!(spf.terms[0], "mx");
        assert_eq!(spf.lookups, 3);
        for bad in [
            "spf1 -all",
            "v=spf10 -all",
            "v=spf1",
            "v=spf1 \"-all\"",
            "v=spf1 ip4:192.0.2.1 -all é",
        ] {
            let mut diags = Diagnostics::default();
            record("example.org", &sp(bad), &mut diags);
            assert_eq!(diags.len(), 1, "{bad}");
        }
        let mut diags = Diagnostics::default();
        let many = format!("v=spf1 {}-all", "include:x.example ".repeat(11));
        record("example.org", &sp(&many), &mut diags);
        assert_eq!(diags.len(), 1);
    }

    #[test]
    fn nets() {
        assert_eq!(
            parse_net::<Ipv4Addr>("192.0.2.0/24", 32).unwrap(),
            "192.0.2.0/24"
        );
        assert_eq!(
            parse_net::<Ipv6Addr>("2001:DB8::/32", 128).unwrap(),
            "2001:db8::/32"
        );
        assert!(parse_net::<Ipv4Addr>("192.0.2.0/33", 32).is_err());
        assert!(parse_net::<Ipv4Addr>("192.0.2.0 a:evil", 32).is_err());
    }
}
