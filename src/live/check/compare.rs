//! Comparing what the spec publishes with what DNS answered: pure, no I/O.
//! Each [`Expected`] and the answers to its questions give one [`Check`].
//!
//! What counts as "the same":
//!
//! - MX: the same set of (preference, exchange), names without regard to
//!   case (RFC 4343);
//! - SPF: exactly one `v=spf1` record at the apex (RFC 7208 §4.5: two are a
//!   permerror), with the same terms in the same order (order matters to
//!   the evaluation), spacing and case aside;
//! - DKIM: exactly one record at the selector (RFC 6376 §3.6.2.2: more give
//!   undefined results) with the same key type `k=` (absent means `rsa`)
//!   and public key `p=` (spaces inside the base64 aside, RFC 6376 §3.6.1);
//!   other tags are not compared;
//! - DMARC: exactly one `v=DMARC1` record (RFC 7489 §6.6.3) whose `p`, `sp`,
//!   `adkim`, `aspf`, `pct`, `rua` and `ruf` mean the same, defaults applied
//!   (`sp` = `p`, `adkim` = `aspf` = `r`, `pct` = 100) and report URIs in
//!   any order;
//! - MTA-STS: exactly one `v=STSv1` record (RFC 8461 §3.1) with the spec's
//!   `id` (the policy file itself, served over HTTPS, is not fetched);
//! - TLS-RPT: exactly one `v=TLSRPTv1` record (RFC 8460 §3) with the same
//!   `rua` URIs;
//! - PTR: the address's PTR names exactly the host, and the host's A/AAAA
//!   records include the address (forward-confirmed reverse DNS).
//!
//! No record where one is expected (NXDOMAIN, or no data) is `missing`.

use hickory_proto::rr::{Name, RData, RecordType};
use serde::Serialize;

use super::expect::{Expected, Fix, Kind, Want, address_type, joined, reverse};
use super::tags;
pub use crate::live::resolve::{Answer, Answers};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    InSync,
    Drift,
    Missing,
}

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub domain: String,
    pub check: String,
    /// The name asked about, without the trailing dot.
    pub name: String,
    pub status: Status,
    /// The records DNS gave, as text (TXT strings joined).
    pub live: Vec<String>,
    /// The records the spec publishes there.
    pub expected: Vec<String>,
    /// What differs, in words, when not in sync.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

fn show(n: &Name) -> String {
    let s = n.to_ascii();
    match s.strip_suffix('.') {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => s,
    }
}

fn mx_text(pref: u16, exchange: &Name) -> String {
    format!("{pref} {}", show(exchange))
}

/// The records of one question, or why there are none.
fn records<'a>(
    answers: &'a Answers,
    name: &Name,
    rtype: RecordType,
) -> Result<&'a [RData], String> {
    match answers.get(name, rtype) {
        Some(Answer::Records(r)) => Ok(r),
        Some(Answer::NoData) | None => Err(format!("no {rtype} record")),
        Some(Answer::NxDomain) => Err("NXDOMAIN: the name does not exist".into()),
    }
}

/// Compares one check's records with the answers.
pub fn compare(e: &Expected, answers: &Answers) -> Check {
    let mut c = Check {
        domain: e.group.clone(),
        check: e.kind.to_string(),
        name: String::new(),
        status: Status::InSync,
        live: Vec::new(),
        expected: Vec::new(),
        detail: None,
        help: None,
    };
    match &e.want {
        Want::Mx { at, records: want } => {
            c.name = show(at);
            c.expected = want.iter().map(|(p, x)| mx_text(*p, x)).collect();
            match records(answers, at, RecordType::MX) {
                Err(why) => missing(&mut c, &why),
                Ok(live) => {
                    let mut got: Vec<(u16, String)> = live
                        .iter()
                        .filter_map(|r| match r {
                            RData::MX(m) => {
                                Some((m.preference, show(&m.exchange).to_ascii_lowercase()))
                            }
                            _ => None,
                        })
                        .collect();
                    got.sort();
                    c.live = got.iter().map(|(p, x)| format!("{p} {x}")).collect();
                    let mut want: Vec<(u16, String)> = want
                        .iter()
                        .map(|(p, x)| (*p, show(x).to_ascii_lowercase()))
                        .collect();
                    want.sort();
                    if got != want {
                        c.status = Status::Drift;
                    }
                }
            }
        }
        Want::Txt { at, record } => {
            c.name = show(at);
            c.expected = vec![record.clone()];
            match records(answers, at, RecordType::TXT) {
                Err(why) => missing(&mut c, &why),
                Ok(live) => {
                    let texts: Vec<String> = live.iter().filter_map(joined).collect();
                    txt(&mut c, &e.kind, record, texts);
                }
            }
        }
        Want::Ptr { ip, host } => {
            let rev = reverse(*ip);
            c.name = show(&rev);
            c.expected = vec![show(host)];
            match records(answers, &rev, RecordType::PTR) {
                Err(why) => missing(&mut c, &why),
                Ok(live) => {
                    c.live = live
                        .iter()
                        .filter_map(|r| match r {
                            RData::PTR(p) => Some(show(&p.0)),
                            _ => None,
                        })
                        .collect();
                    c.live.sort();
                    let ours = show(host);
                    if c.live.len() != 1 || !c.live[0].eq_ignore_ascii_case(&ours) {
                        c.status = Status::Drift;
                        if c.live.len() > 1 {
                            c.detail = Some("more than one PTR record".into());
                        }
                    } else {
                        // Forward confirmation: the name leads back to the address.
                        let rtype = address_type(*ip);
                        let back = match records(answers, host, rtype) {
                            Ok(r) => r
                                .iter()
                                .filter_map(|d| match d {
                                    RData::A(a) => Some(std::net::IpAddr::V4(a.0)),
                                    RData::AAAA(a) => Some(std::net::IpAddr::V6(a.0)),
                                    _ => None,
                                })
                                .collect(),
                            Err(_) => Vec::new(),
                        };
                        if !back.contains(ip) {
                            c.status = Status::Drift;
                            let has = if back.is_empty() {
                                "none".to_string()
                            } else {
                                back.iter()
                                    .map(|a| a.to_string())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            };
                            c.detail = Some(format!(
                                "not forward-confirmed: `{ours}` {rtype} is {has}, not {ip}"
                            ));
                        }
                    }
                }
            }
        }
    }
    if c.status != Status::InSync {
        c.help = Some(help(e, &c));
    }
    c
}

fn missing(c: &mut Check, why: &str) {
    c.status = Status::Missing;
    c.detail = Some(why.to_string());
}

/// A TXT check: pick the records of the kind, then compare their meaning.
fn txt(c: &mut Check, kind: &Kind, want: &str, texts: Vec<String>) {
    let (ours, what): (Vec<String>, &str) = match kind {
        Kind::Spf => (
            texts
                .into_iter()
                .filter(|t| crate::model::validate::spf::is_spf(t))
                .collect(),
            "SPF",
        ),
        Kind::Dmarc => (
            texts
                .into_iter()
                .filter(|t| tags::has_version(t, "DMARC1"))
                .collect(),
            "DMARC",
        ),
        Kind::MtaSts => (
            texts
                .into_iter()
                .filter(|t| tags::has_version(t, "STSv1"))
                .collect(),
            "MTA-STS",
        ),
        Kind::TlsRpt => (
            texts
                .into_iter()
                .filter(|t| tags::has_version(t, "TLSRPTv1"))
                .collect(),
            "TLS-RPT",
        ),
        _ => (texts, "DKIM"),
    };
    c.live = ours;
    c.live.sort();
    match c.live.len() {
        0 => {
            c.status = Status::Missing;
            c.detail = Some(format!("no {what} record"));
        }
        1 => {
            let differs = differences(kind, &c.live[0], want);
            if !differs.is_empty() {
                c.status = Status::Drift;
                if !matches!(kind, Kind::Spf) {
                    c.detail = Some(format!("differs in {}", differs.join(", ")));
                }
            }
        }
        n => {
            c.status = Status::Drift;
            c.detail = Some(format!(
                "{n} {what} records where there must be one ({})",
                match kind {
                    Kind::Spf => "RFC 7208 §4.5: a permerror",
                    Kind::Dmarc => "RFC 7489 §6.6.3: no policy applies",
                    Kind::MtaSts => "RFC 8461 §3.1: no policy applies",
                    Kind::TlsRpt => "RFC 8460 §3: no reports are sent",
                    _ => "RFC 6376 §3.6.2.2: verification is undefined",
                }
            ));
        }
    }
}

/// The tags (or for SPF, the terms) in which `live` and `want` differ.
fn differences(kind: &Kind, live: &str, want: &str) -> Vec<&'static str> {
    let l = tags::parse(live);
    let w = tags::parse(want);
    let get = |t: &[(String, String)], n: &str| tags::get(t, n).map(str::to_string);
    let lower = |v: Option<String>| v.map(|s| s.to_ascii_lowercase());
    let mut out = Vec::new();
    match kind {
        Kind::Spf => {
            let terms = |s: &str| -> Vec<String> {
                s.split_ascii_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect()
            };
            if terms(live) != terms(want) {
                out.push("terms");
            }
        }
        Kind::Dkim(_) => {
            let k = |t: &[(String, String)]| lower(get(t, "k")).unwrap_or_else(|| "rsa".into());
            let p = |t: &[(String, String)]| {
                get(t, "p").map(|v| v.split_ascii_whitespace().collect::<String>())
            };
            if k(&l) != k(&w) {
                out.push("k");
            }
            if p(&l) != p(&w) {
                out.push("p");
            }
            if get(&l, "v").is_some_and(|v| v != "DKIM1") {
                out.push("v");
            }
        }
        Kind::Dmarc => {
            let p = |t: &[(String, String)]| lower(get(t, "p"));
            let sp = |t: &[(String, String)]| lower(get(t, "sp")).or_else(|| p(t));
            let align =
                |t: &[(String, String)], n: &str| lower(get(t, n)).unwrap_or_else(|| "r".into());
            let pct =
                |t: &[(String, String)]| get(t, "pct").map_or(Some(100), |v| v.parse::<u32>().ok());
            if p(&l) != p(&w) {
                out.push("p");
            }
            if sp(&l) != sp(&w) {
                out.push("sp");
            }
            for n in ["rua", "ruf"] {
                if tags::uri_list(tags::get(&l, n)) != tags::uri_list(tags::get(&w, n)) {
                    out.push(n);
                }
            }
            if align(&l, "adkim") != align(&w, "adkim") {
                out.push("adkim");
            }
            if align(&l, "aspf") != align(&w, "aspf") {
                out.push("aspf");
            }
            if pct(&l) != pct(&w) {
                out.push("pct");
            }
        }
        Kind::MtaSts => {
            if get(&l, "id") != get(&w, "id") {
                out.push("id");
            }
        }
        Kind::TlsRpt => {
            if tags::uri_list(tags::get(&l, "rua")) != tags::uri_list(tags::get(&w, "rua")) {
                out.push("rua");
            }
        }
        Kind::Mx | Kind::Ptr(_) => {}
    }
    out
}

/// The `help:` for a check out of sync.
fn help(e: &Expected, c: &Check) -> String {
    let name = &c.name;
    let records = c
        .expected
        .iter()
        .map(|r| format!("{r:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let rtype = match e.kind {
        Kind::Mx => "MX",
        Kind::Ptr(_) => "PTR",
        _ => "TXT",
    };
    let forward_broken = c
        .detail
        .as_deref()
        .is_some_and(|d| d.starts_with("not forward-confirmed"));
    let fix = if forward_broken {
        e.forward_fix.as_ref().unwrap_or(&e.fix)
    } else {
        &e.fix
    };
    match (fix, &e.want) {
        (Fix::Apply { zone }, _) => format!(
            "publish the zone: `mailc apply`, then reload `{zone}` on its primary name server (`rndc reload {zone}`) or push the zone file to your DNS provider"
        ),
        (Fix::ByHand { domain }, Want::Ptr { ip, host }) => format!(
            "`{domain}` is in no zone this spec publishes: add `{} {} {ip}` at its DNS provider",
            show(host),
            address_type(*ip)
        ),
        (Fix::ByHand { domain }, _) => format!(
            "the spec does not publish the zone of `{domain}` (`zone: false`): set `{name} {rtype}` to {records} at its DNS provider"
        ),
        (Fix::Reverse, Want::Ptr { ip, host }) => format!(
            "ask whoever holds the address block of {ip} (your hosting provider) to set its PTR to `{}`",
            show(host)
        ),
        (Fix::Reverse, _) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{MX, TXT};

    fn name(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn txt_check(kind: Kind, want: &str, live: &[&str]) -> Check {
        let at = name("_dmarc.example.com.");
        let e = Expected {
            group: "example.com".into(),
            kind,
            want: Want::Txt {
                at: at.clone(),
                record: want.into(),
            },
            fix: Fix::Apply {
                zone: "example.com".into(),
            },
            forward_fix: None,
        };
        let mut a = Answers::default();
        let recs = live
            .iter()
            .map(|s| RData::TXT(TXT::new(vec![s.to_string()])))
            .collect();
        a.insert(&at, RecordType::TXT, Answer::Records(recs));
        compare(&e, &a)
    }

    #[test]
    fn dmarc_is_compared_by_meaning() {
        let want = "v=DMARC1; p=reject; rua=mailto:a@x,mailto:b@x";
        let c = txt_check(
            Kind::Dmarc,
            want,
            &["v=DMARC1;p=Reject;sp=reject;rua=mailto:b@x, mailto:a@x;pct=100;adkim=r"],
        );
        assert_eq!(c.status, Status::InSync);
        let c = txt_check(
            Kind::Dmarc,
            want,
            &["v=DMARC1; p=none; rua=mailto:a@x,mailto:b@x"],
        );
        assert_eq!(c.status, Status::Drift);
        assert_eq!(c.detail.as_deref(), Some("differs in p, sp"));
        let c = txt_check(Kind::Dmarc, want, &["v=spf1 -all"]);
        assert_eq!(c.status, Status::Missing);
    }

    #[test]
    fn dkim_compares_key_type_and_key() {
        let want = "v=DKIM1; k=rsa; p=MIIBIj";
        assert_eq!(
            txt_check(Kind::Dkim("s".into()), want, &["p=MII BIj"]).status,
            Status::InSync
        );
        let c = txt_check(
            Kind::Dkim("s".into()),
            want,
            &["v=DKIM1; k=ed25519; p=MIIBIj"],
        );
        assert_eq!(c.detail.as_deref(), Some("differs in k"));
        let c = txt_check(Kind::Dkim("s".into()), want, &[want, "v=DKIM1; p="]);
        assert_eq!(c.status, Status::Drift);
    }

    #[test]
    fn spf_terms_in_order() {
        let want = "v=spf1 mx include:_spf.google.com -all";
        let spf = Kind::Spf;
        assert_eq!(
            txt_check(
                spf.clone(),
                want,
                &["v=spf1  MX include:_spf.google.com -all", "other"]
            )
            .status,
            Status::InSync
        );
        assert_eq!(
            txt_check(spf.clone(), want, &["v=spf1 mx -all"]).status,
            Status::Drift
        );
        assert_eq!(
            txt_check(spf.clone(), want, &[want, want.trim_end_matches(" -all")]).status,
            Status::Drift
        );
        assert_eq!(txt_check(spf, want, &["hello"]).status, Status::Missing);
    }

    #[test]
    fn mx_sets_and_missing_names() {
        let at = name("example.com.");
        let e = Expected {
            group: "example.com".into(),
            kind: Kind::Mx,
            want: Want::Mx {
                at: at.clone(),
                records: vec![
                    (10, name("mx1.example.com.")),
                    (20, name("mx2.example.net.")),
                ],
            },
            fix: Fix::ByHand {
                domain: "example.com".into(),
            },
            forward_fix: None,
        };
        let mut a = Answers::default();
        let live = vec![
            RData::MX(MX::new(20, name("MX2.example.net."))),
            RData::MX(MX::new(10, name("mx1.example.com."))),
        ];
        a.insert(&at, RecordType::MX, Answer::Records(live));
        assert_eq!(compare(&e, &a).status, Status::InSync);
        a.insert(&at, RecordType::MX, Answer::NxDomain);
        let c = compare(&e, &a);
        assert_eq!(c.status, Status::Missing);
        assert!(c.help.unwrap().contains("`zone: false`"));
    }

    #[test]
    fn ptr_must_name_the_host_and_lead_back() {
        use hickory_proto::rr::rdata::{A, PTR};
        let ip: std::net::IpAddr = "192.0.2.10".parse().unwrap();
        let host = name("mx1.example.com.");
        let e = Expected {
            group: "mx1.example.com".into(),
            kind: Kind::Ptr(ip),
            want: Want::Ptr {
                ip,
                host: host.clone(),
            },
            fix: Fix::Reverse,
            forward_fix: Some(Fix::Apply {
                zone: "example.com".into(),
            }),
        };
        let rev = reverse(ip);
        let answers = |ptr: &str, a: &str| {
            let mut x = Answers::default();
            x.insert(
                &rev,
                RecordType::PTR,
                Answer::Records(vec![RData::PTR(PTR(name(ptr)))]),
            );
            x.insert(
                &host,
                RecordType::A,
                Answer::Records(vec![RData::A(A(a.parse().unwrap()))]),
            );
            x
        };
        let c = compare(&e, &answers("MX1.example.com.", "192.0.2.10"));
        assert_eq!(c.status, Status::InSync);
        let c = compare(&e, &answers("host.isp.example.", "192.0.2.10"));
        assert_eq!(c.status, Status::Drift);
        assert!(
            c.help
                .unwrap()
                .starts_with("ask whoever holds the address block of 192.0.2.10")
        );
        let c = compare(&e, &answers("mx1.example.com.", "192.0.2.99"));
        assert_eq!(c.status, Status::Drift);
        assert_eq!(
            c.detail.as_deref(),
            Some("not forward-confirmed: `mx1.example.com` A is 192.0.2.99, not 192.0.2.10")
        );
        assert!(c.help.unwrap().contains("`rndc reload example.com`"));
    }
}
