//! A zone's content as sets of records, the one shape both sides of a push
//! are compared in: what mailc builds (from the DNS backend's [`Zone`]) and
//! what a server serves (read by AXFR or from PowerDNS's API).
//!
//! Records are grouped into RRsets by owner and type (RFC 2181 §5). Owner
//! names are kept in lowercase (RFC 4343: DNS names compare without regard
//! to case). Two records are the same when their data is (see
//! [`same_data`]); a TXT record is compared by the text its strings join
//! into (RFC 7208 §3.3, RFC 6376 §3.6.2.2), so a server that cut a long
//! DKIM key into other 255-byte pieces still holds the same record.
//!
//! SOA and the DNSSEC records a signing server adds (RRSIG, NSEC, NSEC3,
//! NSEC3PARAM, DNSKEY, CDS, CDNSKEY) are never part of a zone's content
//! here: the server keeps its own serial and signatures.

use std::collections::BTreeMap;

use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::serialize::binary::BinEncodable;

use crate::backend::zone::{Zone, name_text, rdata_text};

/// One RRset: an owner (lowercase, absolute) and a type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub owner: Name,
    pub rtype: RecordType,
}

impl Key {
    pub fn new(owner: &Name, rtype: RecordType) -> Key {
        let mut owner = owner.to_lowercase();
        owner.set_fqdn(true);
        Key { owner, rtype }
    }

    /// `owner. TYPE`, as the plan shows an RRset.
    pub fn text(&self) -> String {
        format!("{} {}", name_text(&self.owner), self.rtype)
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // RFC 4034 §6.1 order of names (the apex first), then by type number.
        self.owner
            .cmp(&other.owner)
            .then(u16::from(self.rtype).cmp(&u16::from(other.rtype)))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The records of one RRset, each once, and the set's TTL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Set {
    pub ttl: u32,
    pub data: Vec<RData>,
}

impl Set {
    /// Whether the set holds a record with the same data as `data`.
    pub fn contains(&self, data: &RData) -> bool {
        self.data.iter().any(|d| same_data(d, data))
    }
}

/// A zone's records by RRset, in canonical order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Records {
    pub sets: BTreeMap<Key, Set>,
}

impl Records {
    /// Adds a record, once; an RRset takes the lowest TTL given to any of
    /// its records (RFC 2181 §5.2: all records of an RRset share one TTL).
    /// SOA and DNSSEC records are left out.
    pub fn add(&mut self, owner: &Name, ttl: u32, data: RData) {
        let rtype = data.record_type();
        if !content_type(rtype) {
            return;
        }
        let set = self.sets.entry(Key::new(owner, rtype)).or_insert(Set {
            ttl,
            data: Vec::new(),
        });
        set.ttl = set.ttl.min(ttl);
        if !set.contains(&data) {
            set.data.push(data);
        }
    }

    /// The records the DNS backend built for a zone (records without a
    /// TTL of their own get the zone's).
    pub fn from_zone(zone: &Zone) -> Records {
        let mut r = Records::default();
        for rr in zone.records() {
            r.add(&rr.owner, rr.ttl.unwrap_or(zone.ttl), rr.data.clone());
        }
        r
    }

    /// The records of a master file mailc wrote (`out/dns/DOMAIN.zone`);
    /// `None` when it does not parse.
    pub fn from_master_file(text: &str, origin: &Name) -> Option<Records> {
        let parser = hickory_proto::serialize::txt::Parser::new(text, None, Some(origin.clone()));
        let (_, sets) = parser.parse().ok()?;
        let mut r = Records::default();
        for set in sets.values() {
            for rr in set.records_without_rrsigs() {
                r.add(&rr.name, rr.ttl, rr.data.clone());
            }
        }
        Some(r)
    }

    /// How many records there are.
    pub fn len(&self) -> usize {
        self.sets.values().map(|s| s.data.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Whether `owner`/`data` is among the records.
    pub fn contains(&self, owner: &Name, data: &RData) -> bool {
        self.sets
            .get(&Key::new(owner, data.record_type()))
            .is_some_and(|s| s.contains(data))
    }
}

/// Whether records of this type are zone content mailc compares and
/// pushes: not the SOA (the server keeps its serial) and not what a
/// DNSSEC-signing server adds on its own.
pub fn content_type(t: RecordType) -> bool {
    !matches!(
        t,
        RecordType::SOA
            | RecordType::RRSIG
            | RecordType::NSEC
            | RecordType::NSEC3
            | RecordType::NSEC3PARAM
            | RecordType::DNSKEY
            | RecordType::CDS
            | RecordType::CDNSKEY
            | RecordType::TSIG
            | RecordType::OPT
    ) && u16::from(t) != 65534 // BIND's private signing-state records
}

/// Whether two records' data are the same: TXT by the text its strings
/// join into; names without regard to case; everything else byte for byte.
pub fn same_data(a: &RData, b: &RData) -> bool {
    a.record_type() == b.record_type() && canonical(a) == canonical(b)
}

/// A record's data in the form it is compared in.
fn canonical(d: &RData) -> Vec<u8> {
    let lower = |n: &Name| n.to_lowercase();
    let data = match d {
        RData::TXT(t) => return t.txt_data.iter().flat_map(|s| s.iter().copied()).collect(),
        RData::MX(mx) => RData::MX(hickory_proto::rr::rdata::MX::new(
            mx.preference,
            lower(&mx.exchange),
        )),
        RData::NS(ns) => RData::NS(hickory_proto::rr::rdata::NS(lower(&ns.0))),
        RData::CNAME(c) => RData::CNAME(hickory_proto::rr::rdata::CNAME(lower(&c.0))),
        RData::PTR(p) => RData::PTR(hickory_proto::rr::rdata::PTR(lower(&p.0))),
        RData::SRV(s) => RData::SRV(hickory_proto::rr::rdata::SRV::new(
            s.priority,
            s.weight,
            s.port,
            lower(&s.target),
        )),
        other => other.clone(),
    };
    data.to_bytes().unwrap_or_default()
}

/// `owner. TYPE data` — a record as plans and errors show it (the form of
/// the zone-file summaries: absolute owner, no TTL or class).
pub fn text(owner: &Name, data: &RData) -> String {
    format!(
        "{} {} {}",
        name_text(owner),
        data.record_type(),
        rdata_text(data)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{MX, TXT};

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    #[test]
    fn txt_compares_by_joined_text_and_names_by_lowercase() {
        let one = RData::TXT(TXT::new(vec!["abc".repeat(100)]));
        let two = RData::TXT(TXT::new(vec!["abc".repeat(50), "abc".repeat(50)]));
        assert!(same_data(&one, &two));
        assert!(!same_data(&one, &RData::TXT(TXT::new(vec!["abc".into()]))));
        let mx = RData::MX(MX::new(10, n("MX1.Example.com.")));
        assert!(same_data(
            &mx,
            &RData::MX(MX::new(10, n("mx1.example.com.")))
        ));
        assert!(!same_data(
            &mx,
            &RData::MX(MX::new(20, n("mx1.example.com.")))
        ));
    }

    #[test]
    fn sets_group_by_owner_and_type_once_each() {
        let mut r = Records::default();
        r.add(
            &n("Example.com."),
            300,
            RData::MX(MX::new(10, n("a.example.com."))),
        );
        r.add(
            &n("example.com."),
            60,
            RData::MX(MX::new(10, n("A.example.com."))),
        );
        r.add(
            &n("example.com."),
            300,
            RData::MX(MX::new(20, n("b.example.com."))),
        );
        assert_eq!(r.sets.len(), 1);
        assert_eq!(r.len(), 2);
        let set = r.sets.values().next().unwrap();
        assert_eq!(set.ttl, 60);
        assert_eq!(
            text(&n("example.com."), &set.data[1]),
            "example.com. MX 20 b.example.com."
        );
    }

    #[test]
    fn master_files_read_back() {
        let text = "$ORIGIN example.com.\n$TTL 300\n@ IN SOA ns1 h 7 1 2 3 4\n@ IN NS ns1\n\
                    ns1 IN A 192.0.2.1\n@ IN TXT \"v=spf1 -all\"\n";
        let r = Records::from_master_file(text, &n("example.com.")).unwrap();
        assert_eq!(r.len(), 3, "{r:?}");
        assert!(r.contains(
            &n("example.com."),
            &RData::TXT(TXT::new(vec!["v=spf1 -all".into()]))
        ));
    }
}
