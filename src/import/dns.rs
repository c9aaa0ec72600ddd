//! A zone file's records into a domain of the spec: SOA and NS into
//! `hostmaster` and `nameservers`, MX into `mx` (our hosts by key), SPF into
//! `spf`, DKIM public keys into `dkim`, DMARC and TLS-RPT into their keys,
//! our hosts' addresses and the client SRV records left to mailc, and the
//! rest into `records`. What the spec language cannot hold is reported.
//! [`verify`](super::verify) then compiles the spec and compares the zone
//! it writes with the original, record by record.

use std::collections::{BTreeMap, BTreeSet};

use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, RecordType};

use super::draft::{Dkim, Dmarc, Domain, Draft, Mx, Record, Spf};
use super::report::Finding;
use super::zone::{Data, Entry, ZoneFile};
use crate::backend::zone::{name_text, rdata_text};
use crate::live::records::{Key, Records};
use crate::model::services;

/// What the comparison needs to know about one imported zone.
#[derive(Debug)]
pub struct ZoneImport {
    pub domain: String,
    /// The zone file as the user named it.
    pub file: String,
    /// The original records (SOA aside), by RRset.
    pub original: Records,
    pub soa: Option<(SOA, u32, usize)>,
    /// Where each original RRset was first written: file and line.
    pub place: BTreeMap<Key, (String, usize)>,
    /// RRsets whose difference a finding already explains.
    pub explained: BTreeSet<Key>,
}

/// A name as the spec writes it: lowercase, no final dot.
pub fn plain(n: &Name) -> String {
    n.to_lowercase()
        .to_ascii()
        .trim_end_matches('.')
        .to_string()
}

/// The types a signing name server adds on its own.
fn dnssec(t: &str) -> bool {
    matches!(
        t,
        "RRSIG" | "NSEC" | "NSEC3" | "NSEC3PARAM" | "DNSKEY" | "CDS" | "CDNSKEY" | "TYPE65534"
    )
}

/// Reads the zone into `draft` (its domain is made if need be).
pub fn map(
    zone: &ZoneFile,
    file: &str,
    draft: &mut Draft,
    findings: &mut Vec<Finding>,
) -> ZoneImport {
    let domain = plain(&zone.origin);
    let mut imp = ZoneImport {
        domain: domain.clone(),
        file: file.to_string(),
        original: Records::default(),
        soa: None,
        place: BTreeMap::new(),
        explained: BTreeSet::new(),
    };
    let hosts: BTreeMap<String, (String, String, Option<String>)> = draft
        .hosts
        .values()
        .map(|h| {
            (
                h.hostname.clone(),
                (h.key.clone(), h.ipv4.clone(), h.ipv6.clone()),
            )
        })
        .collect();
    let d = draft
        .domains
        .entry(domain.clone())
        .or_insert_with(|| Domain::new(&domain));
    d.published = true;
    if d.place.is_none() {
        d.place = Some((file.to_string(), None));
    }
    let has_local = d.local.is_some();

    // The TTL most records have becomes the domain's.
    let mut ttls: BTreeMap<u32, usize> = BTreeMap::new();
    for e in &zone.entries {
        *ttls.entry(e.ttl).or_default() += 1;
    }
    let ttl = ttls
        .iter()
        .max_by_key(|(t, n)| (**n, std::cmp::Reverse(**t)))
        .map_or(3600, |(t, _)| *t);
    d.ttl = (ttl != 3600).then_some(ttl);

    let mut mx: Vec<(u16, Name, &Entry)> = Vec::new();
    let mut nameservers: Vec<String> = Vec::new();
    let mut spf_seen = false;
    // The terms the spec's keys cannot hold, the record, and its place.
    let mut spf_dropped: Option<(Vec<String>, String, String, usize)> = None;
    let mut seen_records: BTreeSet<Record> = BTreeSet::new();

    for e in &zone.entries {
        if !zone.origin.zone_of(&e.owner) {
            findings.push(
                Finding::warning(
                    &e.file,
                    Some(e.line),
                    format!(
                        "`{}` is outside the zone `{domain}`: not carried over",
                        name_text(&e.owner)
                    ),
                )
                .help("name servers ignore such records too; put it in the zone it belongs to"),
            );
            continue;
        }
        let apex = e.owner == zone.origin;
        let rel = if apex {
            "@".to_string()
        } else {
            let full = plain(&e.owner);
            full.strip_suffix(&format!(".{domain}"))
                .unwrap_or(&full)
                .to_string()
        };
        let data = match &e.data {
            Data::Known(d) => d,
            Data::Other { rtype, .. } => {
                if dnssec(rtype) {
                    findings.push(Finding::note(
                        &e.file,
                        Some(e.line),
                        format!(
                            "the {rtype} record at `{}` is left to the signing name server",
                            name_text(&e.owner)
                        ),
                    ));
                } else {
                    findings.push(not_written(e, rtype));
                }
                continue;
            }
        };
        if let RData::SOA(soa) = data {
            if apex && imp.soa.is_none() {
                imp.soa = Some((soa.clone(), e.ttl, e.line));
                d.hostmaster = rname_address(&soa.rname);
                if d.hostmaster.is_none() {
                    findings.push(Finding::error(
                        &e.file,
                        Some(e.line),
                        format!(
                            "the SOA contact `{}` is not a mail address",
                            name_text(&soa.rname)
                        ),
                    ));
                }
            } else {
                findings.push(Finding::warning(
                    &e.file,
                    Some(e.line),
                    "a second SOA record, or one below the zone's apex: not carried over",
                ));
            }
            continue;
        }
        imp.original.add(&e.owner, e.ttl, data.clone());
        let key = Key::new(&e.owner, data.record_type());
        imp.place
            .entry(key.clone())
            .or_insert((e.file.clone(), e.line));
        let rtype = data.record_type();
        match (rtype, data) {
            (RecordType::NS, RData::NS(ns)) if apex => {
                let n = plain(&ns.0);
                if !nameservers.contains(&n) {
                    nameservers.push(n);
                }
                continue;
            }
            (RecordType::MX, RData::MX(m)) => {
                if apex {
                    mx.push((m.preference, m.exchange.clone(), e));
                } else {
                    findings.push(
                        Finding::warning(
                            &e.file,
                            Some(e.line),
                            format!("the MX record of `{}` is not carried over: mailc writes MX records for the spec's domains only", name_text(&e.owner)),
                        )
                        .help(format!("to receive mail for `{}`, add it as a domain of the spec", plain(&e.owner))),
                    );
                    imp.explained.insert(key);
                }
                continue;
            }
            (RecordType::TXT, RData::TXT(t)) => {
                let Some(text) = txt_text(t) else {
                    findings.push(
                        Finding::warning(
                            &e.file,
                            Some(e.line),
                            format!("the TXT record at `{}` holds control characters or bytes that are not UTF-8, which a spec value cannot: not carried over", name_text(&e.owner)),
                        ),
                    );
                    imp.explained.insert(key);
                    continue;
                };
                if t.txt_data.len() > 1 && crate::backend::zone::txt(&text).txt_data != t.txt_data {
                    findings.push(Finding::note(
                        &e.file,
                        Some(e.line),
                        format!("the strings of the TXT record at `{}` are joined and cut at 255 bytes as mailc writes them (the same text)", name_text(&e.owner)),
                    ));
                }
                if apex && text.to_ascii_lowercase().starts_with("v=spf1") {
                    if spf_seen {
                        findings.push(
                            Finding::warning(
                                &e.file,
                                Some(e.line),
                                "a second SPF record: receivers treat two as an error (RFC 7208 §4.5); only the first is carried over",
                            ),
                        );
                        imp.explained.insert(key);
                    } else {
                        spf_seen = true;
                        let (spf, dropped) = parse_spf(&text);
                        if !dropped.is_empty() {
                            spf_dropped = Some((dropped, text.clone(), e.file.clone(), e.line));
                            imp.explained.insert(key);
                        }
                        d.spf = Some(spf);
                    }
                    continue;
                }
                if let Some(sel) = rel.strip_suffix("._domainkey") {
                    if let Some(k) = dkim_key(sel, &text) {
                        findings.push(
                            Finding::new(
                                if has_local { super::report::Severity::Warning } else { super::report::Severity::Note },
                                &e.file,
                                Some(e.line),
                                format!("DKIM key `{sel}` of `{domain}` is imported as published only (its public key): mailc hosts do not sign with it"),
                            )
                            .help(format!("to sign with it, copy its private key to `keys/{domain}/{sel}.key` and write `private_key` instead of `public_key`; or make a new key with `mailc dkim rotate {domain}` and retire this one once the new one signs")),
                        );
                        d.dkim.push(k);
                        continue;
                    }
                } else if rel == "_dmarc" {
                    if let Some(m) = parse_dmarc(&text) {
                        d.dmarc = Some(m);
                        continue;
                    }
                    findings.push(
                        Finding::note(&e.file, Some(e.line), "the DMARC record has tags the spec's `dmarc` does not hold: kept as a TXT record")
                            .help("write it as `dmarc` (policy, subdomain_policy, rua, ruf, adkim, aspf, pct) to let mailc manage it"),
                    );
                } else if rel == "_smtp._tls" {
                    if let Some(rua) = parse_tls_rpt(&text) {
                        d.tls_rpt = Some(rua);
                        continue;
                    }
                } else if rel == "_mta-sts" {
                    findings.push(
                        Finding::note(&e.file, Some(e.line), "MTA-STS is kept as records: its policy lives on a web server (https://mta-sts.DOMAIN/.well-known/mta-sts.txt), not in the zone")
                            .help("to let mailc write the policy, set `mta_sts` (mode, max_age) as the policy says and remove the `_mta-sts` and `mta-sts` records"),
                    );
                }
                push_record(
                    d,
                    &mut seen_records,
                    e,
                    &rel,
                    "TXT",
                    text,
                    ttl,
                    findings,
                    &key,
                    &mut imp.explained,
                );
            }
            (RecordType::A | RecordType::AAAA, _) => {
                let value = rdata_text(data);
                if let Some((hkey, v4, v6)) = hosts.get(&plain(&e.owner)) {
                    let same = if rtype == RecordType::A {
                        *v4 == value
                    } else {
                        v6.as_deref() == Some(value.as_str())
                    };
                    if !same {
                        findings.push(Finding::warning(
                            &e.file,
                            Some(e.line),
                            format!("`{}` is the name of host `{hkey}`, whose address mailc writes; this {rtype} record ({value}) is not carried over", name_text(&e.owner)),
                        ));
                        imp.explained.insert(key);
                    }
                    continue;
                }
                if rel.contains('_') {
                    findings.push(Finding::warning(
                        &e.file,
                        Some(e.line),
                        format!("an address at `{}`, a name with `_`, is not carried over (not a host name; BIND refuses it)", name_text(&e.owner)),
                    ));
                    imp.explained.insert(key);
                    continue;
                }
                push_record(
                    d,
                    &mut seen_records,
                    e,
                    &rel,
                    &rtype.to_string(),
                    value,
                    ttl,
                    findings,
                    &key,
                    &mut imp.explained,
                );
            }
            (RecordType::SRV, _) if has_local && services::is_client_srv(&rel) => {
                // mailc writes these for the domain's local host.
            }
            (RecordType::CNAME | RecordType::NS | RecordType::SRV | RecordType::TLSA, _) => {
                push_record(
                    d,
                    &mut seen_records,
                    e,
                    &rel,
                    &rtype.to_string(),
                    rdata_text(data),
                    ttl,
                    findings,
                    &key,
                    &mut imp.explained,
                );
            }
            (RecordType::CAA, RData::CAA(c)) => {
                let ok = c.value.is_ascii()
                    && !c
                        .value
                        .iter()
                        .any(|b| matches!(b, b'"' | b'\\') || b.is_ascii_control());
                if ok {
                    push_record(
                        d,
                        &mut seen_records,
                        e,
                        &rel,
                        "CAA",
                        rdata_text(data),
                        ttl,
                        findings,
                        &key,
                        &mut imp.explained,
                    );
                } else {
                    findings.push(Finding::warning(
                        &e.file,
                        Some(e.line),
                        format!("the CAA record at `{}` has a value with quotes, backslashes or non-ASCII bytes, which the spec cannot hold: not carried over", name_text(&e.owner)),
                    ));
                    imp.explained.insert(key);
                }
            }
            _ => {
                findings.push(not_written(e, &rtype.to_string()));
                imp.explained.insert(key);
            }
        }
    }

    // The SOA's primary name server first: mailc names the first as MNAME.
    if let Some((soa, _, _)) = &imp.soa {
        let mname = plain(&soa.mname);
        if let Some(i) = nameservers.iter().position(|n| *n == mname) {
            let first = nameservers.remove(i);
            nameservers.insert(0, first);
        }
    }
    if imp.soa.is_none() {
        findings.push(
            Finding::error(
                file,
                None,
                format!("the zone `{domain}` has no SOA record at its apex"),
            )
            .help("give the whole zone file, with its SOA and NS records"),
        );
    }
    if nameservers.is_empty() {
        findings.push(
            Finding::error(
                file,
                None,
                format!("the zone `{domain}` has no NS records at its apex"),
            )
            .help("give the whole zone file, with its SOA and NS records"),
        );
    }
    d.nameservers = nameservers;

    // MX, most preferred first; our hosts by key.
    mx.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| plain(&a.1).cmp(&plain(&b.1))));
    let null = mx.iter().any(|(_, n, _)| n.is_root());
    if null && mx.len() > 1 {
        let e = mx[0].2;
        findings.push(
            Finding::warning(&e.file, Some(e.line), "a null MX (`0 .`) beside other MX records: only the others are carried over (RFC 7505 §3)"),
        );
        imp.explained.insert(Key::new(&zone.origin, RecordType::MX));
    }
    d.mx = Some(
        mx.iter()
            .filter(|(_, n, _)| !n.is_root())
            .map(|(pref, n, _)| {
                let name = plain(n);
                Mx {
                    host: hosts.get(&name).map_or(name, |(k, _, _)| k.clone()),
                    priority: *pref,
                }
            })
            .collect(),
    );
    // `mx` in SPF stands for the MX hosts' addresses: when the only MX is
    // the domain's local host, mailc lists that address itself.
    if let Some((mut dropped, text, f, line)) = spf_dropped {
        let local_name = d
            .local
            .as_ref()
            .and_then(|k| hosts.iter().find(|(_, (key, _, _))| key == k))
            .map(|(name, _)| name.clone());
        let only_local = !mx.is_empty() && mx.iter().all(|(_, n, _)| Some(plain(n)) == local_name);
        if only_local && dropped.iter().any(|t| t == "mx" || t == "+mx") {
            dropped.retain(|t| t != "mx" && t != "+mx");
            findings.push(Finding::note(
                &f,
                Some(line),
                "the SPF term `mx` is written as the address of the domain's local host, its only MX",
            ));
        }
        // Other terms: the record is kept whole, where mailc can write it.
        let whole = {
            let words: Vec<&str> = text.split_whitespace().collect();
            let mut diags = crate::diag::Diagnostics::default();
            let record = crate::spec::Sp::new(words.join(" "), crate::source::Span::default());
            crate::model::validate::spf::record(&domain, &record, &mut diags);
            diags.is_empty().then_some(record.value)
        };
        if dropped.is_empty() {
            // Only `mx`, noted above.
        } else if let Some(record) = whole {
            findings.push(
                Finding::warning(
                    &f,
                    Some(line),
                    format!("the SPF record has terms the spec's `spf` keys cannot hold (`{}`): it is kept whole as `spf: {{record: ...}}`, and mailc adds nothing to it", dropped.join(" ")),
                )
                .help("the addresses of new hosts must then be added to the record by hand; to let mailc write it, list the senders under `spf` as `ip4`, `ip6` or `include` instead"),
            );
            d.spf = Some(Spf {
                record: Some(record),
                ..Spf::default()
            });
        } else {
            findings.push(
                Finding::warning(
                    &f,
                    Some(line),
                    format!("SPF terms the spec cannot hold are not carried over: `{}`", dropped.join(" ")),
                )
                .help("mailc lists the addresses of the domain's local hosts itself; add other senders under `spf` as `ip4`, `ip6` or `include`"),
            );
        }
    }
    if mx.is_empty() {
        // No MX: the domain's mail goes to its address (RFC 5321 §5.1);
        // a spec states its exchangers.
        findings.push(
            Finding::warning(file, None, format!("the zone `{domain}` has no MX record: it is imported with a null MX (`mx: []`), which says the domain takes no mail"))
                .help("senders fall back to the domain's own address without an MX (RFC 5321 §5.1); list that server under `mx` if it receives mail"),
        );
        imp.explained.insert(Key::new(&zone.origin, RecordType::MX));
    }
    if !spf_seen {
        // mailc always publishes SPF; `?all` keeps the verdict neutral, as
        // having none is.
        d.spf = Some(Spf {
            all: "?all".into(),
            ..Spf::default()
        });
        findings.push(
            Finding::warning(file, None, format!("the zone `{domain}` has no SPF record; mailc publishes one, here with `?all` (neutral, as none is)"))
                .help("list every server that sends the domain's mail under `spf`, then make `all` `~all` or `-all`"),
        );
        imp.explained
            .insert(Key::new(&zone.origin, RecordType::TXT));
    }
    imp
}

/// A record mailc does not write.
fn not_written(e: &Entry, rtype: &str) -> Finding {
    Finding::warning(
        &e.file,
        Some(e.line),
        format!(
            "the {rtype} record at `{}` is not carried over: mailc writes A, AAAA, CNAME, TXT, SRV, CAA, TLSA and NS records",
            name_text(&e.owner)
        ),
    )
    .help("publish it from another zone, or keep this zone out of the spec (`zone: false`) and serve it as before")
}

#[allow(clippy::too_many_arguments)]
fn push_record(
    d: &mut Domain,
    seen: &mut BTreeSet<Record>,
    e: &Entry,
    rel: &str,
    rtype: &str,
    value: String,
    zone_ttl: u32,
    findings: &mut Vec<Finding>,
    key: &Key,
    explained: &mut BTreeSet<Key>,
) {
    let name_ok = rel == "@" || {
        let rest = rel.strip_prefix("*.").unwrap_or(rel);
        rel == "*" || crate::model::names::dns_name(rest).is_ok()
    };
    if !name_ok || (rtype == "TXT" && value.len() > 4000) {
        findings.push(Finding::warning(
            &e.file,
            Some(e.line),
            format!(
                "the {rtype} record at `{}` is not carried over: {}",
                name_text(&e.owner),
                if name_ok {
                    "its text is longer than the 4000 bytes a spec holds"
                } else {
                    "its name is not one the spec accepts"
                }
            ),
        ));
        explained.insert(key.clone());
        return;
    }
    let r = Record {
        name: rel.to_string(),
        rtype: rtype.to_string(),
        value,
        ttl: (e.ttl != zone_ttl).then_some(e.ttl),
    };
    // A record given twice is one record (an RRset is a set).
    let dedup = Record {
        ttl: None,
        ..r.clone()
    };
    if seen.insert(dedup) {
        d.records.push(r);
    }
}

/// The text a TXT record's strings join into, when a spec value can hold
/// it (UTF-8, no control characters).
fn txt_text(t: &hickory_proto::rr::rdata::TXT) -> Option<String> {
    let bytes: Vec<u8> = t.txt_data.iter().flat_map(|s| s.iter().copied()).collect();
    let s = String::from_utf8(bytes).ok()?;
    (!s.chars().any(char::is_control)).then_some(s)
}

/// SOA RNAME → address: the first label is the local part (RFC 1035 §8).
fn rname_address(rname: &Name) -> Option<String> {
    let labels: Vec<String> = rname
        .iter()
        .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
        .collect();
    let (local, rest) = labels.split_first()?;
    if rest.is_empty() {
        return None;
    }
    let addr = format!("{local}@{}", rest.join("."));
    crate::model::names::address(&addr)
        .ok()
        .map(|(l, d)| format!("{l}@{d}"))
}

/// The parts of an SPF record the spec holds, and the terms it cannot.
pub fn parse_spf(text: &str) -> (Spf, Vec<String>) {
    let mut spf = Spf::default();
    let mut dropped = Vec::new();
    let mut all: Option<String> = None;
    for term in text.split_whitespace().skip(1) {
        let t = term.strip_prefix('+').unwrap_or(term);
        let lower = t.to_ascii_lowercase();
        if all.is_some() {
            // RFC 7208 §5.1: nothing after `all` is ever evaluated.
            dropped.push(term.to_string());
        } else if let Some(v) = lower.strip_prefix("ip4:") {
            spf.ip4.push(v.to_string());
        } else if let Some(v) = lower.strip_prefix("ip6:") {
            spf.ip6.push(v.to_string());
        } else if let Some(v) = lower.strip_prefix("include:") {
            spf.include.push(v.trim_end_matches('.').to_string());
        } else if matches!(lower.as_str(), "-all" | "~all" | "?all") {
            all = Some(lower);
        } else {
            dropped.push(term.to_string());
        }
    }
    // RFC 7208 §4.7: no `all` means neutral.
    spf.all = all.unwrap_or_else(|| "?all".into());
    (spf, dropped)
}

/// `v=DKIM1; k=rsa|ed25519; p=…` with no other tags, and a key mailc
/// accepts: a `dkim` entry. Anything else stays a TXT record.
fn dkim_key(selector: &str, text: &str) -> Option<Dkim> {
    let mut k = None;
    let mut p = None;
    for (i, tag) in text
        .split(';')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .enumerate()
    {
        let (name, value) = tag.split_once('=')?;
        match (name.trim(), value.trim()) {
            ("v", "DKIM1") if i == 0 => {}
            ("k", v @ ("rsa" | "ed25519")) if k.is_none() => k = Some(v),
            ("p", v) if p.is_none() && !v.is_empty() => {
                p = Some(v.replace(char::is_whitespace, ""))
            }
            _ => return None,
        }
    }
    let ed25519 = k == Some("ed25519");
    let p = p?;
    let key = crate::dkim::public_from_published(&p, ed25519).ok()?;
    let ok = match key.key_type {
        crate::dkim::KeyType::Rsa => !ed25519 && key.bits >= 1024,
        crate::dkim::KeyType::Ed25519 => ed25519,
    };
    let label_ok = selector.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    (ok && label_ok).then(|| Dkim {
        selector: selector.to_string(),
        public_key: p,
        ed25519,
    })
}

/// A DMARC record of the tags the spec's `dmarc` holds, else `None`.
fn parse_dmarc(text: &str) -> Option<Dmarc> {
    let mut m = Dmarc::default();
    let mut policy = None;
    let uris = |v: &str| -> Option<Vec<String>> {
        let list: Vec<String> = v.split(',').map(|u| u.trim().to_string()).collect();
        list.iter()
            .all(|u| u.starts_with("mailto:") || u.starts_with("https:"))
            .then_some(list)
    };
    let pol = |v: &str| matches!(v, "none" | "quarantine" | "reject").then(|| v.to_string());
    let align = |v: &str| matches!(v, "s" | "r").then(|| v.to_string());
    for (i, tag) in text
        .split(';')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .enumerate()
    {
        let (name, value) = tag.split_once('=')?;
        let value = value.trim();
        match name.trim() {
            "v" if i == 0 && value == "DMARC1" => {}
            "p" => policy = Some(pol(value)?),
            "sp" => m.subdomain_policy = Some(pol(value)?),
            "rua" => m.rua = uris(value)?,
            "ruf" => m.ruf = uris(value)?,
            "adkim" => m.adkim = Some(align(value)?),
            "aspf" => m.aspf = Some(align(value)?),
            "pct" => m.pct = Some(value.parse::<u8>().ok().filter(|p| *p <= 100)?),
            _ => return None,
        }
    }
    m.policy = policy?;
    Some(m)
}

/// `v=TLSRPTv1; rua=…` → the report addresses.
fn parse_tls_rpt(text: &str) -> Option<Vec<String>> {
    let mut tags = text.split(';').map(str::trim).filter(|t| !t.is_empty());
    if tags.next()? != "v=TLSRPTv1" {
        return None;
    }
    let rua = tags.next()?.strip_prefix("rua=")?;
    if tags.next().is_some() {
        return None;
    }
    let list: Vec<String> = rua.split(',').map(|u| u.trim().to_string()).collect();
    list.iter()
        .all(|u| u.starts_with("mailto:") || u.starts_with("https:"))
        .then_some(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spf_parts() {
        let (s, d) = parse_spf("v=spf1 ip4:192.0.2.0/24 +include:_spf.google.com. mx ~all");
        assert_eq!(s.ip4, ["192.0.2.0/24"]);
        assert_eq!(s.include, ["_spf.google.com"]);
        assert_eq!(s.all, "~all");
        assert_eq!(d, ["mx"]);
        let (s, d) = parse_spf("v=spf1 ip6:2001:db8::/32");
        assert_eq!((s.all.as_str(), d.len()), ("?all", 0));
    }

    #[test]
    fn dmarc_and_tls_rpt() {
        let m = parse_dmarc(
            "v=DMARC1; p=reject; rua=mailto:a@example.com,mailto:b@example.com; pct=50",
        )
        .unwrap();
        assert_eq!(
            (m.policy.as_str(), m.rua.len(), m.pct),
            ("reject", 2, Some(50))
        );
        assert!(parse_dmarc("v=DMARC1; p=none; fo=1").is_none());
        assert_eq!(
            parse_tls_rpt("v=TLSRPTv1; rua=mailto:t@example.com").unwrap(),
            ["mailto:t@example.com"]
        );
        assert!(parse_tls_rpt("v=TLSRPTv1;").is_none());
    }

    #[test]
    fn rname() {
        let n = Name::from_ascii("host\\.master.example.com.").unwrap();
        assert_eq!(rname_address(&n).unwrap(), "host.master@example.com");
    }
}
