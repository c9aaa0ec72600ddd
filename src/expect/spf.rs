//! SPF evaluated against the records the spec compiles to (RFC 7208 §4),
//! as far as the spec shows them: `ip4`, `ip6`, `all`, `include` and
//! `redirect` of names whose records the spec defines, `a` and `mx` where
//! the addresses are the spec's too. Anything decided elsewhere (an
//! `include` of another organisation's record, `exists`, `ptr`, a macro) is
//! [`SpfResult::Unknown`], with the term that made it so.

use std::collections::BTreeMap;
use std::net::IpAddr;

use hickory_proto::rr::RData;

use crate::backend::dns;
use crate::model::Model;

/// The result of `check_host()` (RFC 7208 §2.6), or that the spec does not
/// say enough to tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpfResult {
    Pass,
    Fail,
    SoftFail,
    Neutral,
    /// No SPF record.
    None,
    /// The record cannot be evaluated (RFC 7208 §2.6.7), and why.
    PermError(String),
    /// Decided by records outside the spec: which.
    Unknown(String),
}

impl SpfResult {
    pub fn name(&self) -> &'static str {
        match self {
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::Neutral => "neutral",
            SpfResult::None => "none",
            SpfResult::PermError(_) => "permerror",
            SpfResult::Unknown(_) => "unknown",
        }
    }
}

/// A result with the term that decided it (`ip4:203.0.113.10`, `-all`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub result: SpfResult,
    pub term: Option<String>,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.result.name())?;
        match (&self.result, &self.term) {
            (SpfResult::PermError(why) | SpfResult::Unknown(why), _) => write!(f, " ({why})"),
            (_, Some(t)) => write!(f, " (by `{t}`)"),
            _ => Ok(()),
        }
    }
}

/// RFC 7208 §4.6.4: at most 10 terms that cause DNS lookups.
const MAX_LOOKUPS: usize = 10;

/// Every record the spec's domains get, by owner name (lowercase, no final
/// dot), and the names whose records the spec fully defines.
pub struct Records {
    by_name: BTreeMap<String, Vec<RData>>,
    /// Domains whose zones the spec publishes: every name below them is
    /// the spec's.
    zones: Vec<String>,
    /// Domains of the spec whose zone is published elsewhere: their own
    /// records are the spec's, names below them are not.
    apexes: Vec<String>,
}

impl Records {
    pub fn of(model: &Model) -> Records {
        let mut by_name: BTreeMap<String, Vec<RData>> = BTreeMap::new();
        for d in model.domains.values() {
            for rr in dns::domain_records(model, d, None) {
                let owner = rr.owner.to_ascii().trim_end_matches('.').to_lowercase();
                by_name.entry(owner).or_default().push(rr.data);
            }
        }
        Records {
            by_name,
            zones: model
                .domains
                .values()
                .filter(|d| d.zone)
                .map(|d| d.name.clone())
                .collect(),
            apexes: model.domains.keys().cloned().collect(),
        }
    }

    /// Whether the spec says everything about `name`'s records.
    fn known(&self, name: &str) -> bool {
        self.apexes.iter().any(|a| a == name)
            || self
                .zones
                .iter()
                .any(|z| name == z || name.ends_with(&format!(".{z}")))
    }

    fn get(&self, name: &str) -> &[RData] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// The addresses of `name`, or `None` when they are not the spec's.
    fn addresses(&self, name: &str) -> Option<Vec<IpAddr>> {
        self.known(name).then(|| {
            self.get(name)
                .iter()
                .filter_map(|r| match r {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                    _ => None,
                })
                .collect()
        })
    }
}

/// `check_host(ip, domain)`: what `domain`'s SPF record says of mail from `ip`.
pub fn evaluate(records: &Records, domain: &str, ip: IpAddr) -> Verdict {
    let mut lookups = 0;
    check_host(records, domain, ip, &mut lookups)
}

fn verdict(result: SpfResult, term: Option<&str>) -> Verdict {
    Verdict {
        result,
        term: term.map(str::to_string),
    }
}

fn check_host(records: &Records, domain: &str, ip: IpAddr, lookups: &mut usize) -> Verdict {
    if !records.known(domain) {
        return verdict(
            SpfResult::Unknown(format!(
                "the SPF record of `{domain}` is not the spec's: it decides"
            )),
            None,
        );
    }
    // RFC 7208 §4.5: the TXT records that start with `v=spf1`.
    let spf: Vec<String> = records
        .get(domain)
        .iter()
        .filter_map(crate::live::check::expect::joined)
        .filter(|t| {
            let l = t.to_ascii_lowercase();
            l == "v=spf1" || l.starts_with("v=spf1 ")
        })
        .collect();
    let record = match spf.as_slice() {
        [] => return verdict(SpfResult::None, None),
        [one] => one,
        _ => {
            return verdict(
                SpfResult::PermError(format!("`{domain}` has more than one SPF record")),
                None,
            );
        }
    };
    let mut redirect = None;
    for term in record.split_ascii_whitespace().skip(1) {
        let lower = term.to_ascii_lowercase();
        if let Some((name, value)) = lower.split_once('=')
            && !name.contains(':')
            && !name.contains('/')
        {
            // Modifiers (RFC 7208 §6); only `redirect` changes the result.
            if name == "redirect" {
                redirect = Some(value.to_string());
            }
            continue;
        }
        let (qualifier, mech) = match lower.as_bytes().first() {
            Some(b'+') => (SpfResult::Pass, &lower[1..]),
            Some(b'-') => (SpfResult::Fail, &lower[1..]),
            Some(b'~') => (SpfResult::SoftFail, &lower[1..]),
            Some(b'?') => (SpfResult::Neutral, &lower[1..]),
            _ => (SpfResult::Pass, &lower[..]),
        };
        let (kind, arg) = match mech.find([':', '/']) {
            Some(i) => (&mech[..i], &mech[i..]),
            None => (mech, ""),
        };
        if matches!(kind, "include" | "a" | "mx" | "ptr" | "exists") {
            *lookups += 1;
            if *lookups > MAX_LOOKUPS {
                return verdict(
                    SpfResult::PermError("more than 10 DNS lookups (RFC 7208 §4.6.4)".into()),
                    Some(term),
                );
            }
        }
        let matched = match kind {
            "all" => Ok(true),
            "ip4" | "ip6" => Ok(network_contains(arg.trim_start_matches(':'), ip)),
            "include" => {
                let target = arg.trim_start_matches(':');
                let inner = check_host(records, target, ip, lookups);
                match inner.result {
                    SpfResult::Pass => Ok(true),
                    SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral => Ok(false),
                    SpfResult::None => Err(SpfResult::PermError(format!(
                        "`{term}` names a domain without an SPF record"
                    ))),
                    SpfResult::PermError(why) => Err(SpfResult::PermError(why)),
                    SpfResult::Unknown(_) => Err(SpfResult::Unknown(format!(
                        "`{term}` is decided outside the spec"
                    ))),
                }
            }
            "a" | "mx" => {
                let (name, cidr) = target_and_cidr(arg, domain);
                let hosts = if kind == "a" {
                    Some(vec![name.clone()])
                } else if records.known(&name) {
                    Some(
                        records
                            .get(&name)
                            .iter()
                            .filter_map(|r| match r {
                                RData::MX(mx) => Some(
                                    mx.exchange.to_ascii().trim_end_matches('.').to_lowercase(),
                                ),
                                _ => None,
                            })
                            .collect::<Vec<_>>(),
                    )
                } else {
                    None
                };
                let addrs: Option<Vec<IpAddr>> = hosts.and_then(|hs| {
                    hs.iter()
                        .map(|h| records.addresses(h))
                        .collect::<Option<Vec<_>>>()
                        .map(|v| v.concat())
                });
                match addrs {
                    Some(list) => Ok(list.iter().any(|a| within(*a, ip, cidr))),
                    None => Err(SpfResult::Unknown(format!(
                        "`{term}` names addresses outside the spec"
                    ))),
                }
            }
            _ => Err(SpfResult::Unknown(format!(
                "`{term}` depends on DNS mailc does not see"
            ))),
        };
        match matched {
            Ok(true) => return verdict(qualifier, Some(term)),
            Ok(false) => {}
            Err(r) => return verdict(r, Some(term)),
        }
    }
    if let Some(target) = redirect {
        // RFC 7208 §6.1: the redirect's result, `none` becoming permerror.
        *lookups += 1;
        let v = check_host(records, &target, ip, lookups);
        return match v.result {
            SpfResult::None => verdict(
                SpfResult::PermError(format!("`redirect={target}` has no SPF record")),
                None,
            ),
            _ => v,
        };
    }
    // RFC 7208 §4.7: no term matched.
    verdict(SpfResult::Neutral, None)
}

/// `ip4:192.0.2.0/24`'s network holds `ip` (a bare address is a /32 or /128).
fn network_contains(net: &str, ip: IpAddr) -> bool {
    match (net.parse::<ipnet::IpNet>(), net.parse::<IpAddr>()) {
        (Ok(n), _) => n.contains(&ip),
        (_, Ok(a)) => a == ip,
        _ => false,
    }
}

/// `a:host/24//64`'s name (the current domain when none) and prefix lengths.
fn target_and_cidr(arg: &str, domain: &str) -> (String, (u8, u8)) {
    let (name, cidr) = match arg.strip_prefix(':') {
        Some(rest) => match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        },
        None => (domain, arg),
    };
    // `/24`, `//64`, `/24//64` (RFC 7208 §5.6).
    let (four, six) = match cidr.split_once("//") {
        Some((a, b)) => (a, Some(b)),
        None => (cidr, None),
    };
    let v4 = four
        .strip_prefix('/')
        .and_then(|p| p.parse().ok())
        .unwrap_or(32);
    let v6 = six.and_then(|p| p.parse().ok()).unwrap_or(128);
    (name.trim_end_matches('.').to_string(), (v4, v6))
}

/// `addr` within `prefix` bits of `ip`.
fn within(addr: IpAddr, ip: IpAddr, (v4, v6): (u8, u8)) -> bool {
    match (addr, ip) {
        (IpAddr::V4(a), IpAddr::V4(i)) => {
            ipnet::Ipv4Net::new(a, v4.min(32)).is_ok_and(|n| n.trunc().contains(&i))
        }
        (IpAddr::V6(a), IpAddr::V6(i)) => {
            ipnet::Ipv6Net::new(a, v6.min(128)).is_ok_and(|n| n.trunc().contains(&i))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        crate::model::from_test_yaml(
            "version: 1\n\
             defaults: {nameservers: [ns1.example.net], hostmaster: h@example.net, dmarc: {policy: none}}\n\
             hosts:\n  mx1: {hostname: mx1.example.com, ipv4: 203.0.113.10, stack: embedded}\n\
             domains:\n  example.com:\n    mx: [mx1]\n    spf: {ip4: [192.0.2.0/24], include: [_spf.google.com, example.org], all: \"~all\"}\n  \
             example.org:\n    mx: [mx1]\n    spf: {ip6: [\"2001:db8::/32\"]}\n",
        )
    }

    #[test]
    fn evaluates_what_the_spec_shows() {
        let m = model();
        let r = Records::of(&m);
        let at = |ip: &str| evaluate(&r, "example.com", ip.parse().unwrap());
        assert_eq!(at("203.0.113.10").result, SpfResult::Pass);
        assert_eq!(at("203.0.113.10").term.as_deref(), Some("ip4:203.0.113.10"));
        assert_eq!(at("192.0.2.77").result, SpfResult::Pass);
        // Past the outside include, nothing is certain.
        assert!(matches!(at("198.51.100.1").result, SpfResult::Unknown(_)));
        let org = |ip: &str| evaluate(&r, "example.org", ip.parse().unwrap());
        assert_eq!(org("2001:db8::5").result, SpfResult::Pass);
        assert_eq!(org("198.51.100.1").result, SpfResult::Fail);
        assert_eq!(org("198.51.100.1").to_string(), "fail (by `-all`)");
        assert!(matches!(
            evaluate(&r, "elsewhere.test", "192.0.2.1".parse().unwrap()).result,
            SpfResult::Unknown(_)
        ));
    }

    #[test]
    fn cidr_suffixes() {
        assert_eq!(target_and_cidr("", "d.test"), ("d.test".into(), (32, 128)));
        assert_eq!(
            target_and_cidr(":m.test/24", "d.test"),
            ("m.test".into(), (24, 128))
        );
        assert_eq!(
            target_and_cidr("/24//64", "d.test"),
            ("d.test".into(), (24, 64))
        );
        assert_eq!(
            target_and_cidr("//64", "d.test"),
            ("d.test".into(), (32, 64))
        );
        assert!(within(
            "192.0.2.1".parse().unwrap(),
            "192.0.2.200".parse().unwrap(),
            (24, 128)
        ));
    }
}
