//! What the spec publishes, as the checks `mailc check` runs: per domain its
//! MX set, SPF, DKIM keys, DMARC, MTA-STS and TLS-RPT records, per host the
//! PTR of each address. The record strings come from the DNS backend
//! ([`dns::domain_records`]), so the check compares exactly what `mailc
//! apply` writes into the zones.

use std::fmt;
use std::net::IpAddr;

use hickory_proto::rr::{Name, RData, RecordType};

use crate::backend::{Context, dns};
use crate::model::{DkimSource, Model};

/// What one check looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Mx,
    Spf,
    /// By selector.
    Dkim(String),
    Dmarc,
    MtaSts,
    TlsRpt,
    /// The PTR of one of a host's addresses.
    Ptr(IpAddr),
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Mx => f.write_str("MX"),
            Kind::Spf => f.write_str("SPF"),
            Kind::Dkim(s) => write!(f, "DKIM {s}"),
            Kind::Dmarc => f.write_str("DMARC"),
            Kind::MtaSts => f.write_str("MTA-STS"),
            Kind::TlsRpt => f.write_str("TLS-RPT"),
            Kind::Ptr(ip) => write!(f, "PTR {ip}"),
        }
    }
}

/// The records a check wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Want {
    /// The MX set at `at`: (preference, exchange), sorted.
    Mx { at: Name, records: Vec<(u16, Name)> },
    /// One TXT record at `at`, as the zone writes it.
    Txt { at: Name, record: String },
    /// `ip`'s PTR names `host`, and `host` resolves to `ip` (forward-confirmed).
    Ptr { ip: IpAddr, host: Name },
}

impl Want {
    /// The DNS questions the check needs answered.
    pub fn queries(&self) -> Vec<(Name, RecordType)> {
        match self {
            Want::Mx { at, .. } => vec![(at.clone(), RecordType::MX)],
            Want::Txt { at, .. } => vec![(at.clone(), RecordType::TXT)],
            Want::Ptr { ip, host } => vec![
                (reverse(*ip), RecordType::PTR),
                (host.clone(), address_type(*ip)),
            ],
        }
    }
}

/// How drift is mended, for the `help:` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fix {
    /// The name is in a zone this spec publishes.
    Apply { zone: String },
    /// The domain's zone is published elsewhere (`zone: false`, or a host
    /// name outside every zone of the spec).
    ByHand { domain: String },
    /// A PTR: set by whoever holds the address block.
    Reverse,
}

/// One check to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// The domain, or for a PTR the host's name: what the output groups by.
    pub group: String,
    pub kind: Kind,
    pub want: Want,
    pub fix: Fix,
    /// For a PTR: how the host's forward record is mended.
    pub forward_fix: Option<Fix>,
}

/// Every check of a spec, and what could not be checked.
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    pub checks: Vec<Expected>,
    /// Things left out, said why (a DKIM key whose public half is unknown).
    pub notes: Vec<String>,
}

/// The `in-addr.arpa` / `ip6.arpa` name of an address (RFC 1035 §3.5,
/// RFC 3596 §2.5).
pub fn reverse(ip: IpAddr) -> Name {
    let mut n = Name::from(ip);
    n.set_fqdn(true);
    n
}

/// The record type that holds an address like `ip`.
pub fn address_type(ip: IpAddr) -> RecordType {
    match ip {
        IpAddr::V4(_) => RecordType::A,
        IpAddr::V6(_) => RecordType::AAAA,
    }
}

/// A TXT record's strings joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
pub fn joined(data: &RData) -> Option<String> {
    let RData::TXT(t) = data else { return None };
    let bytes: Vec<u8> = t.txt_data.iter().flat_map(|s| s.iter().copied()).collect();
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn abs(name: &str) -> Option<Name> {
    Name::from_ascii(format!("{name}.")).ok()
}

/// `name` is `zone` or below it.
fn within(name: &str, zone: &str) -> bool {
    name == zone || name.strip_suffix(zone).is_some_and(|r| r.ends_with('.'))
}

/// Every check the spec asks for. Domains the spec does not publish (`zone:
/// false`) are checked too: the spec still states their mail records (its
/// servers sign with the DKIM keys, its MTA-STS policy lists the MX), only
/// someone else publishes them.
pub fn expectations(model: &Model, ctx: Option<&dyn Context>) -> Expectations {
    let mut out = Expectations::default();
    for d in model.domains.values() {
        let Some(origin) = abs(&d.name) else { continue };
        let records = dns::domain_records(model, d, ctx);
        let fix = if d.zone {
            Fix::Apply {
                zone: d.name.clone(),
            }
        } else {
            Fix::ByHand {
                domain: d.name.clone(),
            }
        };
        let mut push = |kind: Kind, want: Want| {
            out.checks.push(Expected {
                group: d.name.clone(),
                kind,
                want,
                fix: fix.clone(),
                forward_fix: None,
            })
        };
        let txt_at = |at: &Name, keep: &dyn Fn(&str) -> bool| -> Option<String> {
            records
                .iter()
                .filter(|r| r.owner == *at)
                .filter_map(|r| joined(&r.data))
                .find(|t| keep(t))
        };

        let mut mx: Vec<(u16, Name)> = records
            .iter()
            .filter(|r| r.owner == origin)
            .filter_map(|r| match &r.data {
                RData::MX(m) => Some((m.preference, m.exchange.clone())),
                _ => None,
            })
            .collect();
        mx.sort();
        push(
            Kind::Mx,
            Want::Mx {
                at: origin.clone(),
                records: mx,
            },
        );
        if let Some(record) = txt_at(&origin, &crate::model::validate::spf::is_spf) {
            push(
                Kind::Spf,
                Want::Txt {
                    at: origin.clone(),
                    record,
                },
            );
        }
        for key in &d.dkim {
            let Some(at) = abs(&format!("{}._domainkey.{}", key.selector, d.name)) else {
                continue;
            };
            match txt_at(&at, &|_| true) {
                Some(record) => push(Kind::Dkim(key.selector.clone()), Want::Txt { at, record }),
                None => out.notes.push(match &key.source {
                    DkimSource::PrivateKey(path) => format!(
                        "{} DKIM {}: not checked, the key file `{path}` cannot be read (`mailc dkim keygen` makes missing keys)",
                        d.name, key.selector
                    ),
                    DkimSource::PublicKey(_) => format!(
                        "{} DKIM {}: not checked, the spec's public key cannot be read",
                        d.name, key.selector
                    ),
                }),
            }
        }
        let tagged = [
            (d.dmarc.is_some(), "_dmarc", "DMARC1", Kind::Dmarc),
            (d.mta_sts.is_some(), "_mta-sts", "STSv1", Kind::MtaSts),
            (d.tls_rpt.is_some(), "_smtp._tls", "TLSRPTv1", Kind::TlsRpt),
        ];
        for (wanted, label, version, kind) in tagged {
            if !wanted {
                continue;
            }
            let Some(at) = abs(&format!("{label}.{}", d.name)) else {
                continue;
            };
            if let Some(record) = txt_at(&at, &|t| super::tags::has_version(t, version)) {
                push(kind, Want::Txt { at, record });
            }
        }
    }

    // Hosts: PTR → hostname → the same address (FCrDNS).
    let published: Vec<&str> = model
        .domains
        .values()
        .filter(|d| d.zone)
        .map(|d| d.name.as_str())
        .collect();
    for h in model.hosts.values() {
        let Some(host) = abs(&h.hostname) else {
            continue;
        };
        // The most specific published zone holding the name gets its A/AAAA.
        let zone = published
            .iter()
            .filter(|z| within(&h.hostname, z))
            .max_by_key(|z| z.len());
        let forward = match zone {
            Some(z) => Fix::Apply {
                zone: z.to_string(),
            },
            None => Fix::ByHand {
                domain: h.hostname.clone(),
            },
        };
        let ips = std::iter::once(IpAddr::V4(h.ipv4)).chain(h.ipv6.map(IpAddr::V6));
        for ip in ips {
            out.checks.push(Expected {
                group: h.hostname.clone(),
                kind: Kind::Ptr(ip),
                want: Want::Ptr {
                    ip,
                    host: host.clone(),
                },
                fix: Fix::Reverse,
                forward_fix: Some(forward.clone()),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse("192.0.2.10".parse().unwrap()).to_ascii(),
            "10.2.0.192.in-addr.arpa."
        );
        assert!(
            reverse("2001:db8::10".parse().unwrap())
                .to_ascii()
                .starts_with("0.1.0.0.0.0.0.0")
        );
    }

    #[test]
    fn names_within_zones() {
        assert!(within("mx1.example.com", "example.com"));
        assert!(within("example.com", "example.com"));
        assert!(!within("badexample.com", "example.com"));
    }
}
