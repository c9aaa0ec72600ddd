//! SPF (RFC 7208): the record's terms, the 10-lookup limit within one
//! record and across the records of the spec that include each other, and
//! the terms as [`Lookup`]s for `mailc check` to follow in live DNS.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Spf, names};
use crate::source::Span;
use crate::spec::Sp;
use crate::vocab::SpfAll;

/// Whether a TXT record is an SPF record: `v=spf1` alone or followed by a
/// space, in any case (RFC 7208 §4.5).
pub fn is_spf(record: &str) -> bool {
    let b = record.as_bytes();
    b.len() >= 6 && b[..6].eq_ignore_ascii_case(b"v=spf1") && (b.len() == 6 || b[6] == b' ')
}

/// RFC 7208 §4.6.4: at most 10 terms that cause DNS lookups.
pub const MAX_LOOKUPS: usize = 10;

/// RFC 7208 §4.6.4: at most 2 lookups that find nothing ("void lookups").
pub const MAX_VOID_LOOKUPS: usize = 2;

/// The SPF inputs of one domain after inheritance.
pub struct Input<'a> {
    pub include: &'a [Sp<String>],
    pub ip4: &'a [Sp<String>],
    pub ip6: &'a [Sp<String>],
    pub a: &'a [Sp<String>],
    pub mx: &'a [Sp<String>],
    pub ptr: &'a [Sp<String>],
    pub exists: &'a [Sp<String>],
    /// `redirect=`: written instead of `all`.
    pub redirect: Option<&'a Sp<String>>,
    pub all: SpfAll,
    /// Where the domain's (or the default's) `spf` map is, for the lookup error.
    pub span: Span,
}

/// Builds the record: our local hosts' addresses, the given networks, the
/// `a`, `mx`, `ptr` and `exists` terms, the includes, then `redirect=` or
/// `all`. A null-MX domain that gives no terms sends nothing: `v=spf1 -all`.
pub fn check(
    domain: &str,
    input: &Input<'_>,
    local_ips: (&[Ipv4Addr], &[Ipv6Addr]),
    null_mx: bool,
    diags: &mut Diagnostics,
) -> Spf {
    let given = [
        input.include,
        input.ip4,
        input.ip6,
        input.a,
        input.mx,
        input.ptr,
        input.exists,
    ];
    if null_mx && given.iter().all(|l| l.is_empty()) && input.redirect.is_none() {
        return Spf {
            terms: vec!["-all".into()],
            lookups: 0,
        };
    }
    let mut terms: Vec<String> = Vec::new();
    // The terms that cost a lookup, with where each was written.
    let mut costly: Vec<Span> = Vec::new();
    let mut push = |t: String, cost: Option<Span>| {
        if !terms.contains(&t) {
            terms.push(t);
            costly.extend(cost);
        }
    };
    for ip in local_ips.0 {
        push(format!("ip4:{ip}"), None);
    }
    for ip in local_ips.1 {
        push(format!("ip6:{ip}"), None);
    }
    for net in input.ip4 {
        match parse_net::<Ipv4Addr>(&net.value, 32) {
            Ok(t) => push(format!("ip4:{t}"), None),
            Err(why) => diags.push(bad_term(net, "ip4", &why, "203.0.113.0/24")),
        }
    }
    for net in input.ip6 {
        match parse_net::<Ipv6Addr>(&net.value, 128) {
            Ok(t) => push(format!("ip6:{t}"), None),
            Err(why) => diags.push(bad_term(net, "ip6", &why, "2001:db8::/32")),
        }
    }
    for (kind, list, example) in [("a", input.a, "mail.example.net/24"), ("mx", input.mx, "@")] {
        for v in list {
            match target(&v.value, true) {
                Ok(arg) => push(format!("{kind}{arg}"), Some(v.span)),
                Err(why) => diags.push(bad_term(v, kind, &why, example)),
            }
        }
    }
    for v in input.ptr {
        match target(&v.value, false) {
            Ok(arg) => {
                diags.push(ptr_warning(v.span, domain));
                push(format!("ptr{arg}"), Some(v.span));
            }
            Err(why) => diags.push(bad_term(v, "ptr", &why, "@")),
        }
    }
    for v in input.exists {
        match domain_spec(&v.value) {
            Ok(spec) => push(format!("exists:{spec}"), Some(v.span)),
            Err(why) => diags.push(bad_term(v, "exists", &why, "%{i}._spf.example.net")),
        }
    }
    for inc in input.include {
        match names::dns_name(&inc.value) {
            Ok(name) => push(format!("include:{name}"), Some(inc.span)),
            Err(why) => diags.push(bad_term(inc, "include", &why, "_spf.google.com")),
        }
    }
    match input.redirect {
        Some(r) => match names::dns_name(&r.value) {
            Ok(name) => push(format!("redirect={name}"), Some(r.span)),
            Err(why) => diags.push(bad_term(r, "redirect", &why, "_spf.example.net")),
        },
        None => push(input.all.as_str().to_string(), None),
    }
    let lookups = costly.len();
    if lookups > MAX_LOOKUPS {
        let d = Diagnostic::error(
            Code::SpfLookups,
            costly[MAX_LOOKUPS],
            format!("the SPF record of `{domain}` needs {lookups} DNS lookups; receivers allow at most {MAX_LOOKUPS} (RFC 7208 §4.6.4)"),
        )
        .label(format!("lookup number {}", MAX_LOOKUPS + 1))
        .with(input.span, "in this SPF policy")
        .help("drop some of `include`, `a`, `mx`, `ptr`, `exists`, or replace them with the `ip4`/`ip6` networks they stand for");
        diags.push(d);
    }
    Spf { terms, lookups }
}

/// RFC 7208 §5.5: `ptr` "SHOULD NOT be used": slow, unreliable, and a load
/// on the address owner's name servers; many receivers skip it.
fn ptr_warning(span: Span, domain: &str) -> Diagnostic {
    Diagnostic::warning(
        Code::SpfPtr,
        span,
        format!("the SPF record of `{domain}` uses `ptr`, which RFC 7208 §5.5 says not to use: it is slow and unreliable, and some receivers ignore it"),
    )
    .label("`ptr` term")
    .help("list the senders' networks with `ip4`/`ip6`, or their names with `a`")
}

/// `@`, `NAME`, and for `a`/`mx` a CIDR suffix (`/24`, `//64`, `/24//64`,
/// RFC 7208 §5.6), as the term writes them after its name: ``, `/24`,
/// `:NAME`, `:NAME/24//64`.
fn target(value: &str, cidr: bool) -> Result<String, String> {
    let (name, suffix) = match value.find('/') {
        Some(i) if cidr => (&value[..i], &value[i..]),
        Some(_) => return Err("`ptr` takes no prefix length".into()),
        None => (value, ""),
    };
    let suffix = if suffix.is_empty() {
        String::new()
    } else {
        let (four, six) = match suffix.split_once("//") {
            Some((a, b)) => (a, Some(b)),
            None => (suffix, None),
        };
        let len = |s: &str, max: u8| -> Result<u8, String> {
            s.parse::<u8>()
                .ok()
                .filter(|l| *l <= max)
                .ok_or_else(|| format!("`{s}` is not a prefix length from 0 to {max}"))
        };
        let mut out = String::new();
        if !four.is_empty() {
            let l = four
                .strip_prefix('/')
                .ok_or_else(|| format!("`{suffix}` is not a prefix length"))?;
            out.push_str(&format!("/{}", len(l, 32)?));
        }
        if let Some(six) = six {
            out.push_str(&format!("//{}", len(six, 128)?));
        }
        out
    };
    if name == "@" {
        return Ok(suffix);
    }
    let name = names::dns_name(name)?;
    Ok(format!(":{name}{suffix}"))
}

/// A `domain-spec` (RFC 7208 §7.1): a name that may hold macros such as
/// `%{i}` or `%{ir}.%{v}`; the last label is a name's or a macro.
pub fn domain_spec(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("it is empty".into());
    }
    let b = value.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => match b.get(i + 1) {
                Some(b'%' | b'_' | b'-') => i += 2,
                Some(b'{') => {
                    let end = value[i..]
                        .find('}')
                        .map(|e| i + e)
                        .ok_or("a `%{` macro is not closed with `}`")?;
                    let body = &value[i + 2..end];
                    let mut chars = body.chars();
                    let letter = chars.next().unwrap_or(' ').to_ascii_lowercase();
                    // RFC 7208 §7.2: `c`, `r` and `t` only in `exp=` text.
                    if !"slodiphv".contains(letter) {
                        return Err(format!(
                            "`%{{{body}}}` is not a macro (letters `s l o d i p h v`)"
                        ));
                    }
                    let rest: String = chars.collect();
                    let digits = rest.trim_start_matches(|c: char| c.is_ascii_digit());
                    let delims = digits.strip_prefix(['r', 'R']).unwrap_or(digits);
                    if !delims.chars().all(|c| ".-+,/_=".contains(c)) {
                        return Err(format!(
                            "`%{{{body}}}` is not a macro: after the letter come digits, `r`, then delimiters `.-+,/_=`"
                        ));
                    }
                    i = end + 1;
                }
                _ => return Err("a `%` starts a macro: write `%%` for a percent sign".into()),
            },
            0x21..=0x7e => i += 1,
            _ => {
                return Err("it holds a character SPF does not allow (US-ASCII, no spaces)".into());
            }
        }
    }
    if !value.contains('%') {
        return names::dns_name(value);
    }
    // RFC 7208 §7.1: domain-end is `.` toplabel or a macro-expand.
    let last = value.trim_end_matches('.').rsplit('.').next().unwrap_or("");
    if !last.ends_with('}') && names::dns_name(last).is_err() {
        return Err(format!(
            "its last label `{last}` is neither a name's nor a macro"
        ));
    }
    Ok(value.to_string())
}

/// A term that costs a DNS lookup (RFC 7208 §4.6.4), and what it asks about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    /// The term as written.
    pub term: String,
    /// `include`, `a`, `mx`, `ptr`, `exists` or `redirect`.
    pub kind: &'static str,
    /// The name it asks about, lowercase without the final dot; `None` for
    /// the record's own domain (`a`, `mx`, `ptr` without a name).
    pub target: Option<String>,
}

impl Lookup {
    /// `include` and `redirect`: the target's own SPF record is evaluated.
    pub fn follows(&self) -> bool {
        matches!(self.kind, "include" | "redirect")
    }

    /// The target holds a macro: known only when mail arrives.
    pub fn has_macro(&self) -> bool {
        self.target.as_deref().is_some_and(|t| t.contains('%'))
    }
}

/// The terms of a record (after `v=spf1`) that cost a DNS lookup, in order.
/// `redirect=` counts only without `all`: with one, it is never used
/// (RFC 7208 §6.1).
pub fn lookups<S: AsRef<str>>(terms: &[S]) -> Vec<Lookup> {
    let has_all = terms.iter().any(|t| {
        t.as_ref()
            .trim_start_matches(['+', '-', '~', '?'])
            .eq_ignore_ascii_case("all")
    });
    let mut out = Vec::new();
    for t in terms {
        let term = t.as_ref();
        let lower = term.to_ascii_lowercase();
        if let Some(target) = lower.strip_prefix("redirect=") {
            if !has_all {
                out.push(Lookup {
                    term: term.to_string(),
                    kind: "redirect",
                    target: Some(target.trim_end_matches('.').to_string()),
                });
            }
            continue;
        }
        let mech = lower.trim_start_matches(['+', '-', '~', '?']);
        let (name, arg) = match mech.find([':', '/']) {
            Some(i) => (&mech[..i], &mech[i..]),
            None => (mech, ""),
        };
        let kind = match name {
            "include" => "include",
            "a" => "a",
            "mx" => "mx",
            "ptr" => "ptr",
            "exists" => "exists",
            _ => continue,
        };
        let target = arg.strip_prefix(':').map(|rest| {
            let name = if matches!(kind, "a" | "mx") {
                rest.split('/').next().unwrap_or("")
            } else {
                rest
            };
            name.trim_end_matches('.').to_string()
        });
        out.push(Lookup {
            term: term.to_string(),
            kind,
            target,
        });
    }
    out
}

/// The mechanisms and modifiers RFC 7208 §5 and §6 define.
const MECHANISMS: &[&str] = &["all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"];

/// A record given whole (`spf: {record: ...}`, or a `v=spf1` TXT record in
/// `records`): `v=spf1` and its terms, US-ASCII (RFC 7208 §3), written as
/// given; its terms must be mechanisms or modifiers SPF knows, `ptr` gets a
/// warning, and the 10-lookup limit is checked (RFC 7208 §4.6.4:
/// `include`, `a`, `mx`, `ptr`, `exists` and `redirect` each cost one).
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
    } else if let Some(t) = terms.iter().find(|t| !known_term(t)) {
        // RFC 7208 §4.6.1: an unknown mechanism is a permerror for every mail.
        diags.push(bad(
            format!("the SPF record of `{domain}` holds `{t}`, which is not an SPF mechanism or modifier (RFC 7208 §4.6.1: receivers answer permerror)"),
            "use `all`, `include:`, `a`, `mx`, `ptr`, `ip4:`, `ip6:`, `exists:`, `redirect=` or `exp=`",
        ));
    }
    if terms.iter().any(|t| {
        let m = t
            .trim_start_matches(['+', '-', '~', '?'])
            .to_ascii_lowercase();
        m == "ptr" || m.starts_with("ptr:")
    }) {
        diags.push(ptr_warning(record.span, domain));
    }
    let lookups = lookups(&terms).len();
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

/// A mechanism SPF knows (with its qualifier), or a modifier `name=value`
/// (RFC 7208 §6: unknown modifiers are ignored, so any name is allowed).
fn known_term(term: &str) -> bool {
    let lower = term.to_ascii_lowercase();
    if let Some((name, _)) = lower.split_once('=')
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return true;
    }
    let mech = lower.trim_start_matches(['+', '-', '~', '?']);
    let name = mech.split([':', '/']).next().unwrap_or("");
    mech.len() + 1 >= lower.len() && MECHANISMS.contains(&name)
}

/// An SPF record the spec publishes: at a domain's apex, or a `v=spf1` TXT
/// record of its `records`.
pub struct Published {
    /// Lowercase, without the final dot.
    pub name: String,
    pub terms: Vec<String>,
    /// Where it is written.
    pub span: Span,
}

/// RFC 7208 §4.6.4 counts the lookups of every record `include`d or
/// `redirect`ed to as well. Where those records are the spec's own, their
/// lookups are added: a record within the limit by itself that goes over
/// it with the spec's records it names is an error, as is a loop. Records
/// outside the spec count one lookup each (what they cost is not known).
pub fn across(records: &[Published], diags: &mut Diagnostics) {
    let by_name: BTreeMap<&str, &Published> =
        records.iter().map(|r| (r.name.as_str(), r)).collect();
    let mut totals: BTreeMap<&str, Total> = BTreeMap::new();
    for r in records {
        total(r, &by_name, &mut totals, &mut Vec::new());
    }
    for r in records {
        let Some(t) = totals.get(r.name.as_str()) else {
            continue;
        };
        if let Some(cycle) = &t.cycle {
            if cycle.first().map(String::as_str) == Some(r.name.as_str()) {
                diags.push(
                    Diagnostic::error(
                        Code::SpfLookups,
                        r.span,
                        format!(
                            "the SPF record of `{}` includes itself: {} (RFC 7208 §4.6.4: receivers answer permerror)",
                            r.name,
                            cycle.join(" → ")
                        ),
                    )
                    .label("this SPF record")
                    .help("break the loop: no record may include or redirect to one that leads back to it"),
                );
            }
            continue;
        }
        let own = lookups(&r.terms).len();
        // Over by itself: already reported; over through a record of the
        // spec that is itself over: reported there.
        let inner_over = t.chain.iter().skip(1).any(|(n, _)| {
            totals
                .get(n.as_str())
                .is_some_and(|x| x.count > MAX_LOOKUPS)
        });
        if own > MAX_LOOKUPS || t.count <= MAX_LOOKUPS || inner_over {
            continue;
        }
        let chain: Vec<String> = t
            .chain
            .iter()
            .map(|(n, c)| format!("`{n}` ({c})"))
            .collect();
        let mut d = Diagnostic::error(
            Code::SpfLookups,
            r.span,
            format!(
                "the SPF record of `{}` needs {} DNS lookups with the records it includes: {}; receivers allow at most {MAX_LOOKUPS} (RFC 7208 §4.6.4)",
                r.name,
                t.count,
                chain.join(" + ")
            ),
        )
        .label(format!("{own} of its own"));
        for (n, c) in t.chain.iter().skip(1) {
            if let Some(inner) = by_name.get(n.as_str()) {
                d = d.with(inner.span, format!("`{n}`: {c} of its own"));
            }
        }
        diags.push(d.help(
            "replace some `include`s with the `ip4`/`ip6` networks they stand for, or merge the included records",
        ));
    }
}

/// A record's lookups with those of the spec's records it names.
#[derive(Clone, Default)]
struct Total {
    count: usize,
    /// Each record counted, with its own lookups, depth first.
    chain: Vec<(String, usize)>,
    /// The names around a loop, when there is one.
    cycle: Option<Vec<String>>,
}

fn total<'a>(
    r: &'a Published,
    by_name: &BTreeMap<&'a str, &'a Published>,
    totals: &mut BTreeMap<&'a str, Total>,
    stack: &mut Vec<&'a str>,
) -> Total {
    if let Some(t) = totals.get(r.name.as_str()) {
        return t.clone();
    }
    stack.push(r.name.as_str());
    let terms = lookups(&r.terms);
    let mut t = Total {
        count: terms.len(),
        chain: vec![(r.name.clone(), terms.len())],
        cycle: None,
    };
    for l in terms.iter().filter(|l| l.follows()) {
        let Some(inner) = l.target.as_deref().and_then(|n| by_name.get(n)) else {
            continue;
        };
        if let Some(at) = stack.iter().position(|s| *s == inner.name) {
            let mut names: Vec<String> = stack[at..].iter().map(|s| s.to_string()).collect();
            names.push(inner.name.clone());
            t.cycle = Some(names);
            break;
        }
        let it = total(inner, by_name, totals, stack);
        if let Some(c) = it.cycle {
            t.cycle = Some(c);
            break;
        }
        t.count += it.count;
        t.chain.extend(it.chain);
    }
    stack.pop();
    // A record on a loop is recorded by the loop's first name only.
    if t.cycle.is_none() || t.cycle.as_ref().and_then(|c| c.first()) == Some(&r.name) {
        totals.insert(r.name.as_str(), t.clone());
    }
    t
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
    fn spf_prefix() {
        assert!(is_spf("v=spf1 -all"));
        assert!(is_spf("V=SPF1"));
        assert!(!is_spf("v=spf10 -all"));
        assert!(!is_spf("google-site-verification=x"));
    }

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
    fn targets_and_macros() {
        assert_eq!(target("@", true).unwrap(), "");
        assert_eq!(target("@/24//64", true).unwrap(), "/24//64");
        assert_eq!(
            target("Relay.Example.NET//64", true).unwrap(),
            ":relay.example.net//64"
        );
        assert!(target("@/33", true).is_err());
        assert!(target("@//129", true).is_err());
        assert!(target("@/24", false).is_err());
        assert!(target("a b", true).is_err());
        assert!(domain_spec("%{i}._spf.example.net").is_ok());
        assert!(domain_spec("%{ir}.%{v}.%{d2}.example.net").is_ok());
        assert!(domain_spec("%{l1r-}.u.example.net").is_ok());
        assert!(domain_spec("example.net.%{d}").is_ok());
        assert!(domain_spec("%{c}.example.net").is_err());
        assert!(domain_spec("%{i.example.net").is_err());
        assert!(domain_spec("%x.example.net").is_err());
        assert!(domain_spec("%{i}.example.-net-").is_err());
    }

    #[test]
    fn lookups_of_terms() {
        let l = lookups(&[
            "ip4:192.0.2.1",
            "a",
            "-a:x.example/24",
            "MX",
            "ptr:x.example",
            "exists:%{i}.x.example",
            "include:_spf.x.example.",
            "redirect=_r.x.example",
        ]);
        let kinds: Vec<&str> = l.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            ["a", "a", "mx", "ptr", "exists", "include", "redirect"]
        );
        assert_eq!(l[1].target.as_deref(), Some("x.example"));
        assert_eq!(l[0].target, None);
        assert_eq!(l[5].target.as_deref(), Some("_spf.x.example"));
        assert!(l[4].has_macro() && l[5].follows() && l[6].follows());
        // With `all`, `redirect=` is never used and costs nothing.
        assert_eq!(lookups(&["redirect=x.example", "~all"]).len(), 0);
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
