//! Pushing zones: for every domain with a DNS target, read what the server
//! serves (AXFR for `rfc2136`, the API for `powerdns`), compare it with the
//! zone mailc built ([`diff`](super::diff)), and send exactly the
//! difference — then read the zone back and check it is what was meant.
//!
//! **RFC 2136.** A zone's change is one UPDATE (RFC 2136 §3.7: the server
//! applies all of it or nothing) whose prerequisite is the SOA as read
//! (§2.4.2), so a change made on the server since it was read makes the
//! UPDATE fail with NXRRSET instead of being overwritten. An RRset whose
//! records are all mailc's is deleted and added again whole; TXT sets in
//! particular are never edited string by string, which works whatever
//! boundaries the server cut a long record at. An RRset shared with
//! records that are not mailc's (the apex TXT set in `mail` mode) loses
//! exactly the records removed, each matched by the data the server gave.
//! The apex NS set is changed record by record (RFC 2136 §3.4.2.4: servers
//! ignore deleting it whole). A change too large for one DNS message (64
//! KiB) goes as several UPDATEs, each guarded by the SOA the previous one
//! left.
//!
//! **PowerDNS.** One PATCH replacing (or deleting) every changed RRset with
//! its records after the push; PowerDNS applies it in one transaction. The
//! API has no prerequisite: the zone is read again just before the PATCH
//! and must not have changed.
//!
//! A zone's state when it was read — its SOA serial and a fingerprint of
//! its records — is what a saved plan records, and what `apply` checks
//! before it pushes.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, RecordType};

use super::diff::{self, Scope, SetChange, ZoneDiff};
use super::powerdns::{Api, ApiError, SetPatch};
use super::records::{Key, Records, same_data, text};
use super::wire::{self, Refusal, Server, WireError};
use crate::model::{DnsTarget, Domain, Model, TargetKind};
use crate::plan::Fingerprint;
use crate::vocab::Owns;

/// How many zones are read at once.
const READERS: usize = 16;

/// Room kept free in an UPDATE message for its header, zone and
/// prerequisite, and the TSIG record.
const UPDATE_BUDGET: usize = 60_000;

/// A target ready to be talked to: its secret read.
pub enum Client {
    Rfc2136(Server),
    PowerDns(Api),
}

/// A target's client, with how it is named in messages.
pub struct Connection {
    pub target: String,
    /// `rfc2136 127.0.0.1:53` or `powerdns http://…`.
    pub shown: String,
    pub client: Client,
}

/// Why a zone could not be read or pushed. Never holds a secret.
#[derive(Clone, Debug, thiserror::Error)]
#[error("the zone `{zone}` at `{target}` ({server}): {reason}")]
pub struct ZoneError {
    pub zone: String,
    pub target: String,
    pub server: String,
    pub reason: String,
    pub help: Option<String>,
}

/// The connections for a model's targets; `secret` reads a secret file
/// named by the spec. A target whose secret cannot be read is an error
/// naming the target and the file (never the content).
pub fn connect(
    model: &Model,
    secret: &dyn Fn(&str) -> Result<Vec<u8>, String>,
    timeout: Duration,
) -> Result<BTreeMap<String, Connection>, Vec<String>> {
    let used: BTreeSet<&str> = model
        .domains
        .values()
        .filter_map(|d| d.push.as_ref().map(|p| p.target.as_str()))
        .collect();
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    for name in used {
        let Some(t) = model.dns_targets.get(name) else {
            continue;
        };
        match connection(t, secret, timeout) {
            Ok(c) => {
                out.insert(name.to_string(), c);
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn connection(
    t: &DnsTarget,
    secret: &dyn Fn(&str) -> Result<Vec<u8>, String>,
    timeout: Duration,
) -> Result<Connection, String> {
    match &t.kind {
        TargetKind::Rfc2136 {
            server,
            key_name,
            algorithm,
            secret_file,
        } => {
            let bytes = secret(secret_file).map_err(|why| {
                format!(
                    "the TSIG secret file `{secret_file}` of DNS target `{}` cannot be used: {why}",
                    t.name
                )
            })?;
            let key = super::secret::tsig_secret(&bytes, key_name, *algorithm).map_err(|why| {
                format!(
                    "the TSIG secret file `{secret_file}` of DNS target `{}` cannot be used: {why}",
                    t.name
                )
            })?;
            let signer = wire::signer(key_name, *algorithm, key)
                .map_err(|why| format!("DNS target `{}`: {why}", t.name))?;
            Ok(Connection {
                target: t.name.clone(),
                shown: format!("rfc2136 {server}"),
                client: Client::Rfc2136(Server {
                    addr: *server,
                    key: Some(signer),
                    timeout,
                }),
            })
        }
        TargetKind::PowerDns {
            url,
            server_id,
            api_key_file,
        } => {
            let bytes = secret(api_key_file).map_err(|why| {
                format!(
                    "the API key file `{api_key_file}` of DNS target `{}` cannot be used: {why}",
                    t.name
                )
            })?;
            let key = super::secret::api_key(&bytes).map_err(|why| {
                format!(
                    "the API key file `{api_key_file}` of DNS target `{}` cannot be used: {why}",
                    t.name
                )
            })?;
            Ok(Connection {
                target: t.name.clone(),
                shown: format!("powerdns {url}"),
                client: Client::PowerDns(Api::new(url, server_id, key, timeout)),
            })
        }
    }
}

/// A zone as a server serves it.
#[derive(Clone, Debug)]
pub struct Live {
    pub serial: u32,
    /// The SOA as read (RFC 2136 targets: the UPDATE's prerequisite).
    pub soa: Option<SOA>,
    pub records: Records,
    /// PowerDNS's disabled records, by RRset, as the API wrote them.
    pub disabled: BTreeMap<Key, Vec<String>>,
    /// A fingerprint of everything read, the SOA included.
    pub stamp: Fingerprint,
}

/// The state of a zone a push is made against: a saved plan records it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stamp {
    pub serial: u32,
    pub fingerprint: Fingerprint,
}

fn origin(domain: &str) -> Name {
    Name::from_ascii(format!("{domain}.")).unwrap_or_else(|_| Name::root())
}

/// What a failed exchange means for the zone, and how to fix it.
fn wire_error(zone: &str, c: &Connection, e: WireError, reading: bool) -> ZoneError {
    let help = match &e {
        WireError::Connect(_) | WireError::Timeout(_) => Some(format!(
            "check that the name server at {} is running and reachable from here",
            c.shown.trim_start_matches("rfc2136 ")
        )),
        WireError::Answered(Refusal {
            rcode: hickory_proto::op::ResponseCode::NotAuth,
            tsig: None,
        }) if reading => Some(format!(
            "the server has no zone `{zone}`: create it there first (an SOA and NS records are enough), allowing updates and transfers with the TSIG key; then run `mailc plan` again"
        )),
        WireError::Answered(Refusal {
            rcode: hickory_proto::op::ResponseCode::Refused,
            tsig: None,
        }) => Some(
            "allow the key on the server: BIND `update-policy { grant KEY zonesub ANY; }` and `allow-transfer { key KEY; }`, Knot an `acl` with `action: [update, transfer]`, PowerDNS `TSIG-ALLOW-DNSUPDATE` and `TSIG-ALLOW-AXFR`".into(),
        ),
        WireError::Answered(Refusal { tsig: Some(_), .. }) => Some(
            "give mailc the key the server has: the same name, algorithm and secret".into(),
        ),
        WireError::Answered(Refusal {
            rcode: hickory_proto::op::ResponseCode::NXRRSet,
            ..
        }) => Some("run `mailc plan` again and review the new plan".into()),
        _ => None,
    };
    ZoneError {
        zone: zone.to_string(),
        target: c.target.clone(),
        server: c.shown.clone(),
        reason: e.to_string(),
        help,
    }
}

fn api_error(zone: &str, c: &Connection, e: ApiError) -> ZoneError {
    let help = match &e {
        ApiError::NoZone => Some(format!(
            "create the zone first (`pdnsutil create-zone {zone}`, or POST it to the API's `zones`); then run `mailc plan` again"
        )),
        ApiError::Unauthorized => {
            Some("put the server's `api-key` (pdns.conf) in the API key file".into())
        }
        ApiError::Connect(_) => Some(
            "check that PowerDNS runs with `api=yes` and `webserver=yes` and listens at the target's URL".into(),
        ),
        _ => None,
    };
    ZoneError {
        zone: zone.to_string(),
        target: c.target.clone(),
        server: c.shown.clone(),
        reason: e.to_string(),
        help,
    }
}

/// Reads a zone from its server.
pub fn read(c: &Connection, domain: &str) -> Result<Live, ZoneError> {
    let zone = origin(domain);
    let mut live = Live {
        serial: 0,
        soa: None,
        records: Records::default(),
        disabled: BTreeMap::new(),
        stamp: Fingerprint::of(b""),
    };
    let mut lines: Vec<String> = Vec::new();
    match &c.client {
        Client::Rfc2136(server) => {
            let t = server
                .axfr(&zone)
                .map_err(|e| wire_error(domain, c, e, true))?;
            live.serial = t.serial();
            if let RData::SOA(soa) = &t.soa.data {
                live.soa = Some(soa.clone());
                lines.push(t.soa.data.to_string());
            }
            for r in t.records {
                lines.push(format!("{} {} {}", r.name, r.ttl, text(&r.name, &r.data)));
                live.records.add(&r.name, r.ttl, r.data);
            }
        }
        Client::PowerDns(api) => {
            let z = api.zone(&zone).map_err(|e| api_error(domain, c, e))?;
            live.serial = z.serial;
            lines.push(z.serial.to_string());
            for (owner, ttl, data) in z.records {
                lines.push(format!("{ttl} {}", text(&owner, &data)));
                live.records.add(&owner, ttl, data);
            }
            for (owner, rtype, content) in z.disabled {
                lines.push(format!("disabled {owner} {rtype} {content}"));
                live.disabled
                    .entry(Key::new(&owner, rtype))
                    .or_default()
                    .push(content);
            }
        }
    }
    lines.sort();
    live.stamp = Fingerprint::of(lines.join("\n").as_bytes());
    Ok(live)
}

/// One zone's push.
#[derive(Clone, Debug)]
pub struct ZonePush {
    pub domain: String,
    pub target: String,
    pub owns: Owns,
    /// The zone as read.
    pub stamp: Stamp,
    pub diff: ZoneDiff,
    /// What the server served when it was read.
    pub served: Records,
    soa: Option<SOA>,
    disabled: BTreeMap<Key, Vec<String>>,
}

/// The RRsets a domain's spec gives its zone besides mail's own names:
/// its hosts' addresses and its `records` (what `mail` mode owns whole).
fn spec_sets(model: &Model, d: &Domain, zone: &Name) -> BTreeSet<Key> {
    let mut out = BTreeSet::new();
    for h in model.hosts.values() {
        if let Ok(n) = Name::from_ascii(format!("{}.", h.hostname))
            && zone.zone_of(&n)
        {
            out.insert(Key::new(&n, RecordType::A));
            out.insert(Key::new(&n, RecordType::AAAA));
        }
    }
    for r in &d.records {
        let owner = if r.name == "@" {
            Ok(zone.clone())
        } else {
            Name::from_ascii(format!("{}.{}.", r.name, d.name))
        };
        if let (Ok(owner), Ok(t)) = (owner, RecordType::from_str(&r.rtype)) {
            out.insert(Key::new(&owner, t));
        }
    }
    out
}

/// What a push of one domain's zone changes: the zone mailc built (its
/// zone file's text), what mailc published before (the zone file found in
/// `--out`), and what the server serves.
pub fn plan_zone(
    model: &Model,
    d: &Domain,
    built: &str,
    previous: Option<&str>,
    live: Live,
) -> Option<ZonePush> {
    let push = d.push.as_ref()?;
    let zone = origin(&d.name);
    let built = Records::from_master_file(built, &zone)?;
    let mut scope = Scope::new(push.owns, &zone);
    if push.owns == Owns::Mail {
        scope.spec_sets = spec_sets(model, d, &zone);
        scope.previous = previous
            .and_then(|p| Records::from_master_file(p, &zone))
            .unwrap_or_default();
    }
    let diff = diff::diff(&built, &live.records, &scope);
    Some(ZonePush {
        domain: d.name.clone(),
        target: push.target.clone(),
        owns: push.owns,
        stamp: Stamp {
            serial: live.serial,
            fingerprint: live.stamp,
        },
        diff,
        served: live.records,
        soa: live.soa,
        disabled: live.disabled,
    })
}

/// `f` on every item, [`READERS`] at a time; results in item order.
pub fn each<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    let chunks: Vec<Vec<(usize, R)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..READERS.min(items.len()))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    for (i, r) in chunks.into_iter().flatten() {
        slots[i] = Some(r);
    }
    slots.into_iter().flatten().collect()
}

/// Whether a set is changed record by record rather than replaced whole.
fn by_record(c: &SetChange, zone: &Name) -> bool {
    !c.keep.is_empty() || (c.key.rtype == RecordType::NS && c.key.owner == *zone)
}

/// The update section of an UPDATE for one set (RFC 2136 §2.5).
fn updates(c: &SetChange, zone: &Name) -> Vec<hickory_proto::rr::Record> {
    let owner = &c.key.owner;
    let mut out = Vec::new();
    if by_record(c, zone) {
        // Adds first: a server ignores deleting the last NS of the apex
        // (RFC 2136 §3.4.2.4), so the new ones must be there already.
        let ttl_moves = c.old_ttl.is_some_and(|t| t != c.ttl) && c.keep.is_empty();
        // A TTL alone changes by adding a record again with the new TTL
        // (servers give an RRset one TTL, the last one added).
        let add: &[RData] = if ttl_moves && c.add.is_empty() {
            &c.after
        } else {
            &c.add
        };
        out.extend(add.iter().map(|d| wire::add_record(owner, c.ttl, d)));
        out.extend(c.remove.iter().map(|d| wire::delete_record(owner, d)));
    } else {
        out.push(wire::delete_rrset(owner, c.key.rtype));
        out.extend(c.after.iter().map(|d| wire::add_record(owner, c.ttl, d)));
    }
    out
}

/// Sends a zone's push to its server. Nothing is sent for an empty diff.
pub fn push(c: &Connection, p: &ZonePush) -> Result<(), ZoneError> {
    if p.diff.is_empty() {
        return Ok(());
    }
    let zone = origin(&p.domain);
    match &c.client {
        Client::Rfc2136(server) => {
            let mut soa = match &p.soa {
                Some(s) => s.clone(),
                None => return Err(stale(p, c, "the zone's SOA was not read")),
            };
            let mut batch: Vec<hickory_proto::rr::Record> = Vec::new();
            let mut size = 0;
            let mut batches = Vec::new();
            for change in &p.diff.changes {
                let ups = updates(change, &zone);
                let len: usize = ups.iter().map(wire::encoded_len).sum();
                if size + len > UPDATE_BUDGET && !batch.is_empty() {
                    batches.push(std::mem::take(&mut batch));
                    size = 0;
                }
                size += len;
                batch.extend(ups);
            }
            batches.push(batch);
            let last = batches.len() - 1;
            for (i, b) in batches.into_iter().enumerate() {
                server
                    .update(&zone, vec![wire::soa_prerequisite(&zone, &soa)], b)
                    .map_err(|e| wire_error(&p.domain, c, e, false))?;
                if i < last {
                    let r = server
                        .soa(&zone)
                        .map_err(|e| wire_error(&p.domain, c, e, false))?;
                    if let RData::SOA(s) = r.data {
                        soa = s;
                    }
                }
            }
            Ok(())
        }
        Client::PowerDns(api) => {
            let sets: Vec<SetPatch> = p
                .diff
                .changes
                .iter()
                .map(|ch| SetPatch {
                    owner: ch.key.owner.clone(),
                    rtype: ch.key.rtype,
                    ttl: ch.ttl,
                    records: ch.after.clone(),
                    disabled: p.disabled.get(&ch.key).cloned().unwrap_or_default(),
                })
                .collect();
            api.patch(&zone, &sets)
                .map_err(|e| api_error(&p.domain, c, e))
        }
    }
}

fn stale(p: &ZonePush, c: &Connection, why: &str) -> ZoneError {
    ZoneError {
        zone: p.domain.clone(),
        target: c.target.clone(),
        server: c.shown.clone(),
        reason: why.to_string(),
        help: Some("run `mailc plan` again and review the new plan".into()),
    }
}

/// Reads the zone back after a push: every changed RRset must hold
/// exactly the records planned (the server may have refused one
/// silently, as Knot does for a TXT beside a CNAME).
pub fn verify(c: &Connection, p: &ZonePush) -> Result<(), ZoneError> {
    let live = read(c, &p.domain)?;
    let mut wrong = Vec::new();
    for ch in &p.diff.changes {
        let got = live.records.sets.get(&ch.key);
        let have: &[RData] = got.map_or(&[], |s| &s.data);
        let missing = ch
            .after
            .iter()
            .filter(|d| !have.iter().any(|h| same_data(h, d)));
        let extra = have
            .iter()
            .filter(|h| !ch.after.iter().any(|d| same_data(h, d)));
        for d in missing {
            wrong.push(format!("missing {}", text(&ch.key.owner, d)));
        }
        for d in extra {
            wrong.push(format!("unexpected {}", text(&ch.key.owner, d)));
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(ZoneError {
            zone: p.domain.clone(),
            target: c.target.clone(),
            server: c.shown.clone(),
            reason: format!(
                "after the push the server does not serve what was pushed: {}",
                wrong.join("; ")
            ),
            help: Some(
                "look in the server's log for why it dropped the change (a CNAME beside other data, a policy), fix the spec, then run `mailc plan` again".into(),
            ),
        })
    }
}
