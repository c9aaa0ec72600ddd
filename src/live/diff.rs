//! What a push changes in one zone: the records mailc would have the server
//! serve, against what it serves now, within the part of the zone mailc
//! owns. Pure: no I/O.
//!
//! **Ownership.** With `owns: zone` every record of the zone is mailc's (the
//! SOA and DNSSEC records aside, see [`records`](super::records)): what the
//! spec does not produce is removed. With `owns: mail` only mail's records
//! are, and a record outside them is never touched:
//!
//! - the MX set at the apex, and at the apex only the SPF string among the
//!   TXT records (RFC 7208 §4.5: the one `v=spf1` record);
//! - TXT records under `_domainkey` (DKIM keys, RFC 6376 §3.6.2.1), at and
//!   under `_dmarc` (DMARC and report authorizations, RFC 7489 §6.1, §7.1),
//!   at `_mta-sts` and `_smtp._tls` (RFC 8461 §3.1, RFC 8460 §3), and the
//!   addresses of `mta-sts`;
//! - the client SRV records (RFC 6186, RFC 8314);
//! - the RRsets the spec itself gives the zone: its hosts' addresses and its
//!   `records`;
//! - a record mailc published before (in the zone file it last wrote), so a
//!   record dropped from the spec is removed from the server too.
//!
//! In `mail` mode NS records are never pushed: the delegation is the zone
//! owner's.
//!
//! **Safety.** [`ZoneDiff::too_large`] is the share rule: a push that removes
//! or changes more than 30 % of the records mailc owns in a zone holding more
//! than 10 of them needs `--allow-large-change`.

use std::collections::BTreeSet;

use hickory_proto::rr::{Name, RData, RecordType};

use super::records::{Key, Records, Set, same_data, text};
use crate::model::services;
use crate::vocab::Owns;

/// A share of a zone's records a push may remove or change without
/// `--allow-large-change`, in percent (as octoDNS).
pub const LARGE_CHANGE_PERCENT: usize = 30;
/// Zones holding at most this many owned records are never "large" changes.
pub const LARGE_CHANGE_MIN_RECORDS: usize = 10;

/// Which records of a zone are mailc's.
#[derive(Clone, Debug)]
pub struct Scope {
    pub owns: Owns,
    pub origin: Name,
    /// For `mail`: RRsets the spec gives the zone besides mail's own names
    /// (its hosts' addresses, its `records`).
    pub spec_sets: BTreeSet<Key>,
    /// For `mail`: what mailc published in the zone before.
    pub previous: Records,
}

impl Scope {
    pub fn new(owns: Owns, origin: &Name) -> Scope {
        let mut origin = origin.to_lowercase();
        origin.set_fqdn(true);
        Scope {
            owns,
            origin,
            spec_sets: BTreeSet::new(),
            previous: Records::default(),
        }
    }

    /// Whether the RRset `key` is mail's as a whole.
    fn mail_set(&self, key: &Key) -> bool {
        if self.spec_sets.contains(key) {
            return true;
        }
        let Some(rel) = relative(&key.owner, &self.origin) else {
            return false;
        };
        let under = |label: &str| rel == label || rel.ends_with(&format!(".{label}"));
        match key.rtype {
            RecordType::MX => rel.is_empty(),
            RecordType::TXT => {
                under("_domainkey") || under("_dmarc") || rel == "_mta-sts" || rel == "_smtp._tls"
            }
            RecordType::A | RecordType::AAAA => rel == "mta-sts",
            RecordType::SRV => services::is_client_srv(&rel),
            _ => false,
        }
    }

    /// Whether one record is mailc's to keep, change or remove.
    pub fn owns(&self, key: &Key, data: &RData) -> bool {
        match self.owns {
            Owns::Zone => true,
            Owns::Mail => {
                if key.rtype == RecordType::NS {
                    return false;
                }
                if self.previous.contains(&key.owner, data) {
                    return true;
                }
                if key.rtype == RecordType::TXT && key.owner == self.origin {
                    // RFC 7208 §4.5: the apex TXT set is shared; the SPF
                    // string alone is mail's.
                    return is_spf(data) || self.spec_sets.contains(key);
                }
                self.mail_set(key)
            }
        }
    }

    /// The records mailc would have the server serve: all of `built` for
    /// `zone`; for `mail`, its mail records (not NS, not what lies outside
    /// mail's names and the spec's own sets).
    pub fn desired(&self, built: &Records) -> Records {
        match self.owns {
            Owns::Zone => built.clone(),
            Owns::Mail => {
                let mut out = Records::default();
                for (key, set) in &built.sets {
                    for d in &set.data {
                        if self.owns(key, d) {
                            out.add(&key.owner, set.ttl, d.clone());
                        }
                    }
                }
                out
            }
        }
    }
}

/// `name` relative to `origin` (`""` for the apex), lowercase, or `None`
/// outside it.
fn relative(name: &Name, origin: &Name) -> Option<String> {
    if !origin.zone_of(name) {
        return None;
    }
    let keep = name.iter().count() - origin.iter().count();
    let labels: Vec<String> = name
        .iter()
        .take(keep)
        .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
        .collect();
    Some(labels.join("."))
}

/// Whether a TXT record is an SPF record (RFC 7208 §4.5).
fn is_spf(data: &RData) -> bool {
    let RData::TXT(t) = data else { return false };
    let joined: Vec<u8> = t.txt_data.iter().flat_map(|s| s.iter().copied()).collect();
    joined.len() >= 6
        && joined[..6].eq_ignore_ascii_case(b"v=spf1")
        && (joined.len() == 6 || joined[6] == b' ')
}

/// The change of one RRset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetChange {
    pub key: Key,
    /// The TTL the set gets.
    pub ttl: u32,
    /// The set's TTL now (`None`: no record there yet).
    pub old_ttl: Option<u32>,
    /// mailc's records the server serves now and must not any more.
    pub remove: Vec<RData>,
    /// Records to add.
    pub add: Vec<RData>,
    /// The server's records in the set that are not mailc's: they stay.
    pub keep: Vec<RData>,
    /// Every record of the set after the push (what mailc wants and what stays).
    pub after: Vec<RData>,
}

impl SetChange {
    /// Only the TTL changes.
    pub fn ttl_only(&self) -> bool {
        self.remove.is_empty() && self.add.is_empty()
    }
}

/// Everything a push changes in one zone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZoneDiff {
    pub changes: Vec<SetChange>,
    /// How many of the server's records mailc owned before.
    pub owned_before: usize,
}

impl ZoneDiff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Records removed, plus records whose TTL changes.
    pub fn changed(&self) -> usize {
        self.changes
            .iter()
            .map(|c| {
                if c.ttl_only() {
                    c.after.len() - c.keep.len()
                } else {
                    c.remove.len()
                }
            })
            .sum()
    }

    pub fn added(&self) -> usize {
        self.changes.iter().map(|c| c.add.len()).sum()
    }

    pub fn removed(&self) -> usize {
        self.changes.iter().map(|c| c.remove.len()).sum()
    }

    /// Whether the push removes or changes more than
    /// [`LARGE_CHANGE_PERCENT`] of the records mailc owns in a zone of more
    /// than [`LARGE_CHANGE_MIN_RECORDS`].
    pub fn too_large(&self) -> bool {
        self.owned_before > LARGE_CHANGE_MIN_RECORDS
            && self.changed() * 100 > self.owned_before * LARGE_CHANGE_PERCENT
    }

    /// The records removed and added, as the plan shows them (`- …`,
    /// `+ …`, and `~ owner. TYPE TTL old → new` for a TTL alone).
    pub fn lines(&self) -> Vec<(char, String)> {
        let mut out = Vec::new();
        for c in &self.changes {
            for d in &c.remove {
                out.push(('-', text(&c.key.owner, d)));
            }
            for d in &c.add {
                out.push(('+', text(&c.key.owner, d)));
            }
            if let Some(old) = c.old_ttl
                && old != c.ttl
                && !c.after.is_empty()
                && c.keep.is_empty()
            {
                out.push(('~', format!("{} TTL {old} → {}", c.key.text(), c.ttl)));
            }
        }
        out
    }
}

/// What to push so that `live` serves `built` within `scope`.
pub fn diff(built: &Records, live: &Records, scope: &Scope) -> ZoneDiff {
    let desired = scope.desired(built);
    let keys: BTreeSet<&Key> = desired.sets.keys().chain(live.sets.keys()).collect();
    let empty = Set {
        ttl: 0,
        data: Vec::new(),
    };
    let mut out = ZoneDiff::default();
    for key in keys {
        let want = desired.sets.get(key);
        let have = live.sets.get(key);
        let (owned, keep): (Vec<&RData>, Vec<&RData>) = have
            .unwrap_or(&empty)
            .data
            .iter()
            .partition(|d| scope.owns(key, d));
        out.owned_before += owned.len();
        let want_data = want.map_or(&[][..], |s| &s.data[..]);
        let remove: Vec<RData> = owned
            .iter()
            .filter(|d| !want_data.iter().any(|w| same_data(w, d)))
            .map(|d| (*d).clone())
            .collect();
        let add: Vec<RData> = want_data
            .iter()
            .filter(|w| !owned.iter().any(|d| same_data(w, d)))
            .cloned()
            .collect();
        let ttl = want.or(have).map_or(0, |s| s.ttl);
        // A set shared with records that are not mailc's keeps their TTL.
        let ttl_moves = keep.is_empty()
            && !owned.is_empty()
            && want.is_some()
            && have.is_some_and(|h| h.ttl != ttl);
        if remove.is_empty() && add.is_empty() && !ttl_moves {
            continue;
        }
        let mut after: Vec<RData> = want_data.to_vec();
        after.extend(keep.iter().map(|d| (*d).clone()));
        out.changes.push(SetChange {
            key: key.clone(),
            ttl,
            old_ttl: have.filter(|h| !h.data.is_empty()).map(|h| h.ttl),
            remove,
            add,
            keep: keep.into_iter().cloned().collect(),
            after,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, MX, NS, TXT};

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn txt(s: &str) -> RData {
        RData::TXT(TXT::new(vec![s.into()]))
    }

    fn zone(records: &[(&str, RData)]) -> Records {
        let mut r = Records::default();
        for (owner, d) in records {
            r.add(&n(owner), 3600, d.clone());
        }
        r
    }

    #[test]
    fn mail_mode_keeps_foreign_records_at_the_apex() {
        let built = zone(&[
            ("example.com.", RData::NS(NS(n("ns1.example.net.")))),
            (
                "example.com.",
                RData::MX(MX::new(10, n("mx1.example.net."))),
            ),
            ("example.com.", txt("v=spf1 mx -all")),
            ("_dmarc.example.com.", txt("v=DMARC1; p=reject")),
        ]);
        let live = zone(&[
            ("example.com.", RData::NS(NS(n("ns.provider.example.")))),
            (
                "example.com.",
                RData::MX(MX::new(10, n("old.example.net."))),
            ),
            ("example.com.", txt("v=spf1 -all")),
            ("example.com.", txt("google-site-verification=abc")),
            ("example.com.", RData::A(A::new(192, 0, 2, 80))),
            ("www.example.com.", RData::A(A::new(192, 0, 2, 80))),
            ("old._domainkey.example.com.", txt("v=DKIM1; p=")),
        ]);
        let scope = Scope::new(Owns::Mail, &n("example.com."));
        let d = diff(&built, &live, &scope);
        let lines: Vec<String> = d.lines().iter().map(|(s, l)| format!("{s} {l}")).collect();
        assert_eq!(
            lines,
            [
                "- example.com. MX 10 old.example.net.",
                "+ example.com. MX 10 mx1.example.net.",
                "- example.com. TXT \"v=spf1 -all\"",
                "+ example.com. TXT \"v=spf1 mx -all\"",
                "+ _dmarc.example.com. TXT \"v=DMARC1; p=reject\"",
                "- old._domainkey.example.com. TXT \"v=DKIM1; p=\"",
            ]
        );
        let apex_txt = d
            .changes
            .iter()
            .find(|c| c.key.rtype == RecordType::TXT)
            .unwrap();
        assert_eq!(apex_txt.keep, [txt("google-site-verification=abc")]);
        assert_eq!(d.owned_before, 3);
        // Zone mode: everything else goes too, NS included.
        let d = diff(&built, &live, &Scope::new(Owns::Zone, &n("example.com.")));
        assert_eq!(d.removed(), 7);
        assert_eq!(d.added(), 4);
        assert!(!d.too_large(), "7 records are too few to judge");
    }

    #[test]
    fn no_change_when_served_alike_and_ttl_changes_show() {
        let built = zone(&[("example.com.", txt("v=spf1 -all"))]);
        let mut live = Records::default();
        live.add(
            &n("EXAMPLE.com."),
            3600,
            RData::TXT(TXT::new(vec!["v=spf1".into(), " -all".into()])),
        );
        let scope = Scope::new(Owns::Zone, &n("example.com."));
        assert!(diff(&built, &live, &scope).is_empty());
        let mut live = Records::default();
        live.add(&n("example.com."), 60, txt("v=spf1 -all"));
        let d = diff(&built, &live, &scope);
        assert_eq!(
            d.lines(),
            [('~', "example.com. TXT TTL 60 → 3600".to_string())]
        );
        assert_eq!(d.changed(), 1);
    }

    #[test]
    fn records_published_before_are_removed_in_mail_mode() {
        let built = zone(&[]);
        let live = zone(&[("www.example.com.", RData::A(A::new(192, 0, 2, 1)))]);
        let mut scope = Scope::new(Owns::Mail, &n("example.com."));
        assert!(diff(&built, &live, &scope).is_empty());
        scope.previous = live.clone();
        assert_eq!(diff(&built, &live, &scope).removed(), 1);
    }

    #[test]
    fn large_changes_are_a_share_of_a_zone_of_more_than_ten() {
        let live: Vec<(String, RData)> = (0..20)
            .map(|i| (format!("h{i}.example.com."), RData::A(A::new(192, 0, 2, i))))
            .collect();
        let live_ref: Vec<(&str, RData)> =
            live.iter().map(|(o, d)| (o.as_str(), d.clone())).collect();
        let live = zone(&live_ref);
        let keep = |k: usize| zone(&live_ref[..k]);
        let scope = Scope::new(Owns::Zone, &n("example.com."));
        assert!(
            !diff(&keep(14), &live, &scope).too_large(),
            "6 of 20 is 30 %"
        );
        assert!(
            diff(&keep(13), &live, &scope).too_large(),
            "7 of 20 is 35 %"
        );
    }
}
