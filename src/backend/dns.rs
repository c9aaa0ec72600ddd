//! The DNS backend: one zone per published domain (`zone: true`), written to
//! `dns/DOMAIN.zone` by [`zone`](super::zone).
//!
//! What each zone holds:
//!
//! - SOA (MNAME: the first name server; RNAME: `hostmaster`) and NS;
//! - MX: the domain's exchanges by preference, or the null MX `0 .` for
//!   `mx: []` (RFC 7505 §3);
//! - A/AAAA for every host of the spec whose name falls inside the zone;
//! - SPF at the apex, `v=spf1` and the model's terms (RFC 7208 §3);
//! - DKIM at `SELECTOR._domainkey`: `v=DKIM1; k=rsa|ed25519; p=…` (RFC 6376
//!   §3.6.1, RFC 8463 §4), the public half derived from the key file, or the
//!   spec's `public_key`;
//! - DMARC at `_dmarc` (RFC 7489 §6.3), tags in the ABNF's order;
//! - MTA-STS: `_mta-sts` TXT `v=STSv1; id=…` and addresses for `mta-sts`
//!   (see [`mta_sts`](super::mta_sts)); TLS-RPT at `_smtp._tls` (RFC 8460 §3);
//! - for a domain with a local host, the client SRV records of RFC 6186 and
//!   RFC 8314 pointing at it, and `0 0 0 .` ("not offered", RFC 6186 §4) for
//!   what its stack does not serve ([`services`](crate::model::services));
//! - DMARC report authorization, `D._report._dmarc.R TXT "v=DMARC1"`
//!   (RFC 7489 §7.1), in the zone of a report domain R we publish, for every
//!   domain D of the spec that sends reports there — unless R is D, an
//!   ancestor or a descendant of it (then both share one Organizational
//!   Domain and no authorization is asked for);
//! - a delegation (NS, plus glue for in-zone name servers) for every
//!   published zone below another one (RFC 1034 §4.2.2);
//! - the spec's own `records`.
//!
//! A name belongs to the most specific zone we publish that contains it.
//!
//! **SOA serial, without a clock:** the zone is rendered with the serial of
//! the file already at its path in `--out`. If that gives the very same
//! bytes, the serial is kept; otherwise it is the old serial plus one in
//! RFC 1982 serial arithmetic (modulo 2^32, always "greater" than the old
//! one). A zone with no readable predecessor starts at serial 1. So a
//! re-run changes no byte, and a serial moves exactly when its zone does.
//!
//! Before writing, every zone is checked for what DNS servers refuse
//! (`named-checkzone -k/-m/-n/-S fail`): in-zone MX, NS and SRV targets
//! without an address, a CNAME beside other data, data hidden below a
//! delegation. [`check`] runs the same build without key material, for
//! `mailc validate`.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr as _;

use hickory_proto::rr::rdata::{A, AAAA, MX, NS, SRV};
use hickory_proto::rr::{Name, RData, RecordType};

use super::shared::{key_file_problem, problem};
use super::zone::{Zone, serial_of, txt};
use super::{Context, mta_sts};
use crate::diag::{About, Code, Diagnostic};
use crate::dkim::DkimAlgorithm;
use crate::dkim::{self, KeyType, PublicKey};
use crate::model::services;
use crate::model::{DkimKey, DkimSource, Dmarc, Domain, Model};
use crate::output::{Output, OutputFile};
use crate::vocab::{Alignment, DkimState, DmarcPolicy};

/// The zone file's path under `--out`.
pub fn path(domain: &str) -> String {
    format!("dns/{domain}.zone")
}

/// The zone checks of the build, without key material (for `mailc validate`).
pub fn check(model: &Model) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    build(model, None, &mut diags);
    diags
}

/// The records one domain's entries give its zone (MX, SPF, DKIM, DMARC,
/// MTA-STS, TLS-RPT, SRV, its `records`), built exactly as for the zone file,
/// also for a domain the spec does not publish (`zone: false`): what
/// `mailc check` compares with live DNS. SOA and NS are not among them. A
/// DKIM key whose public half is not at hand is left out.
pub fn domain_records(
    model: &Model,
    domain: &Domain,
    ctx: Option<&dyn Context>,
) -> Vec<super::zone::Rr> {
    let mut d = std::borrow::Cow::Borrowed(domain);
    // Placeholders let a domain without SOA data through; they are dropped below.
    if d.nameservers.is_empty() || d.hostmaster.is_none() {
        let d = d.to_mut();
        d.nameservers = vec!["invalid".into()];
        d.hostmaster = Some("hostmaster@invalid".into());
    }
    let mut diags = Vec::new();
    let zone = Builder { diags: &mut diags }.domain_zone(model, &d, ctx);
    zone.map(|z| {
        z.records()
            .iter()
            .filter(|r| !(r.owner == z.origin && matches!(r.data, RData::NS(_))))
            .cloned()
            .collect()
    })
    .unwrap_or_default()
}

/// Writes every published zone, with its serial decided against `--out`.
pub fn compile(model: &Model, ctx: &dyn Context, out: &mut Output, diags: &mut Vec<Diagnostic>) {
    for (domain, zone) in build(model, Some(ctx), diags) {
        let path = path(&domain);
        let previous = ctx.previous(&path).and_then(|b| String::from_utf8(b).ok());
        let text = match previous.as_deref().map(|p| (p, serial_of(p))) {
            Some((text, Some(old))) => {
                let same = zone.render(old);
                if same == text {
                    same
                } else {
                    // RFC 1982 §3.1: serial addition, modulo 2^32.
                    zone.render(old.wrapping_add(1))
                }
            }
            _ => zone.render(1),
        };
        out.insert(path, OutputFile::public(text));
    }
}

/// An absolute name from a lowercase A-label string (no trailing dot).
fn abs(name: &str) -> Result<Name, String> {
    Name::from_ascii(format!("{name}.")).map_err(|e| format!("`{name}` is not a DNS name: {e}"))
}

/// `name` is `zone` or below it.
fn within(name: &str, zone: &str) -> bool {
    name == zone
        || (name.len() > zone.len()
            && name.ends_with(zone)
            && name.as_bytes()[name.len() - zone.len() - 1] == b'.')
}

/// `name` and the names above it, most specific first: `a.b.c`, `b.c`, `c`.
fn suffixes(name: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(name), |n| n.split_once('.').map(|(_, up)| up))
}

/// Every zone, by domain name, before serials.
fn build(
    model: &Model,
    ctx: Option<&dyn Context>,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Zone> {
    let published: Vec<&Domain> = model.domains.values().filter(|d| d.zone).collect();
    let names: BTreeSet<&str> = published.iter().map(|d| d.name.as_str()).collect();
    // The most specific published zone holding `name`.
    let zone_for = |name: &str| -> Option<String> {
        suffixes(name)
            .find(|n| names.contains(n))
            .map(str::to_string)
    };
    // Each domain's own records, over the cores; merged in domain order.
    let parts = crate::par::map_chunks(&published, 256, |part| {
        let mut found = Vec::new();
        let mut b = Builder { diags: &mut found };
        let zones: Vec<(String, Zone)> = part
            .iter()
            .filter_map(|d| Some((d.name.clone(), b.domain_zone(model, d, ctx)?)))
            .collect();
        (zones, found)
    });
    let mut zones: BTreeMap<String, Zone> = BTreeMap::new();
    for (part, found) in parts {
        zones.extend(part);
        diags.extend(found);
    }
    let b = Builder { diags };

    // Our hosts' addresses, in the zone that holds each name.
    for h in model.hosts.values() {
        let (Some(z), Ok(owner)) = (zone_for(&h.hostname), abs(&h.hostname)) else {
            continue;
        };
        if let Some(zone) = zones.get_mut(&z) {
            zone.push(owner.clone(), None, RData::A(A(h.ipv4)));
            if let Some(v6) = h.ipv6 {
                zone.push(owner, None, RData::AAAA(AAAA(v6)));
            }
        }
    }

    // RFC 7489 §7.1: report domains authorize the domains that report to them.
    for d in model.domains.values() {
        let Some(dmarc) = &d.dmarc else { continue };
        for r in report_domains(dmarc) {
            if within(&d.name, &r) || within(&r, &d.name) {
                continue;
            }
            let Some(z) = zone_for(&r) else { continue };
            let owner = format!("{}._report._dmarc.{r}", d.name);
            match (abs(&owner), zones.get_mut(&z)) {
                (Ok(name), Some(zone)) => zone.push(name, None, RData::TXT(txt("v=DMARC1"))),
                (Err(_), _) => b.diags.push(problem(
                    Code::Zone,
                    format!("the DMARC report authorization `{owner}` is too long for a DNS name"),
                    "receive the reports at an address of a shorter domain",
                    About::DmarcReports(d.name.clone()),
                )),
                (Ok(_), None) => {}
            }
        }
    }

    // RFC 1034 §4.2.2: a zone below another is delegated from it.
    let children: Vec<String> = zones.keys().cloned().collect();
    for child in &children {
        let Some((_, up)) = child.split_once('.') else {
            continue;
        };
        let Some(parent) = zone_for(up) else { continue };
        let Some(c) = zones.get(child) else { continue };
        let mut add: Vec<(Name, RData)> = Vec::new();
        for r in c.records() {
            if r.owner == c.origin
                && let RData::NS(ns) = &r.data
            {
                add.push((c.origin.clone(), r.data.clone()));
                // Glue: addresses of name servers inside the child.
                if c.contains(&ns.0) {
                    for g in c.records() {
                        if g.owner == ns.0 && matches!(g.data, RData::A(_) | RData::AAAA(_)) {
                            add.push((g.owner.clone(), g.data.clone()));
                        }
                    }
                }
            }
        }
        if let Some(p) = zones.get_mut(&parent) {
            for (owner, data) in add {
                p.push(owner, None, data);
            }
        }
    }

    for zone in zones.values() {
        integrity(zone, b.diags);
    }
    zones
}

struct Builder<'a> {
    diags: &'a mut Vec<Diagnostic>,
}

impl Builder<'_> {
    fn internal(&mut self, domain: &str, why: String) {
        self.diags.push(problem(
            Code::Zone,
            format!("the zone of `{domain}` cannot be written: {why}"),
            "this is a bug in mailc; please report it with the spec",
            About::Domain(domain.to_string()),
        ));
    }

    /// The zone of one domain: everything but other zones' contributions.
    fn domain_zone(
        &mut self,
        model: &Model,
        d: &Domain,
        ctx: Option<&dyn Context>,
    ) -> Option<Zone> {
        let origin = match abs(&d.name) {
            Ok(o) => o,
            Err(why) => {
                self.internal(&d.name, why);
                return None;
            }
        };
        let (Some(ns1), Some(hostmaster)) = (d.nameservers.first(), d.hostmaster.as_deref()) else {
            self.diags.push(problem(
                Code::Nameservers,
                format!(
                    "the zone of `{}` has no name servers or no hostmaster",
                    d.name
                ),
                "set `nameservers` and `hostmaster`, or `zone: false`",
                About::Domain(d.name.clone()),
            ));
            return None;
        };
        let rname = match rname(hostmaster) {
            Ok(n) => n,
            Err(why) => {
                self.internal(&d.name, why);
                return None;
            }
        };
        let mname = match abs(ns1) {
            Ok(n) => n,
            Err(why) => {
                self.internal(&d.name, why);
                return None;
            }
        };
        let mut z = Zone::new(origin.clone(), d.ttl, mname, rname);
        let at = |rel: &str| -> Result<Name, String> { abs(&format!("{rel}.{}", d.name)) };

        for ns in &d.nameservers {
            match abs(ns) {
                Ok(n) => z.push(origin.clone(), None, RData::NS(NS(n))),
                Err(why) => self.internal(&d.name, why),
            }
        }
        // RFC 7505 §3: "0 ." says the domain accepts no mail.
        if d.mx.is_empty() {
            z.push(origin.clone(), None, RData::MX(MX::new(0, Name::root())));
        }
        let mut mx: Vec<_> = d.mx.iter().collect();
        mx.sort_by_key(|m| m.preference);
        for m in mx {
            match abs(&m.hostname) {
                Ok(n) => z.push(origin.clone(), None, RData::MX(MX::new(m.preference, n))),
                Err(why) => self.internal(&d.name, why),
            }
        }
        // RFC 7208 §3: one SPF record, at the apex.
        let spf = format!("v=spf1 {}", d.spf.terms.join(" "));
        z.push(origin.clone(), None, RData::TXT(txt(&spf)));

        for key in &d.dkim {
            let record = if key.state == DkimState::Revoked {
                // RFC 6376 §3.6.1: an empty `p=` revokes the key.
                format!("v=DKIM1; k={}; p=", KeyType::of(key.algorithm).tag())
            } else {
                let Some(public) = self.dkim_public(d, key, ctx) else {
                    continue;
                };
                dkim_record(&public)
            };
            match at(&format!("{}._domainkey", key.selector)) {
                Ok(owner) => z.push(owner, None, RData::TXT(txt(&record))),
                Err(why) => self.internal(&d.name, why),
            }
        }
        if let Some(dmarc) = &d.dmarc {
            match at("_dmarc") {
                Ok(owner) => z.push(owner, None, RData::TXT(txt(&dmarc_record(dmarc)))),
                Err(why) => self.internal(&d.name, why),
            }
        }
        if let Some(policy) = mta_sts::policy(d) {
            let record = format!("v=STSv1; id={}", mta_sts::id(&policy));
            match (at("_mta-sts"), at("mta-sts")) {
                (Ok(rec), Ok(host)) => {
                    z.push(rec, None, RData::TXT(txt(&record)));
                    for h in mta_sts::policy_hosts(model, d) {
                        z.push(host.clone(), None, RData::A(A(h.ipv4)));
                        if let Some(v6) = h.ipv6 {
                            z.push(host.clone(), None, RData::AAAA(AAAA(v6)));
                        }
                    }
                }
                (Err(why), _) | (_, Err(why)) => self.internal(&d.name, why),
            }
        }
        if let Some(rpt) = &d.tls_rpt {
            let record = format!("v=TLSRPTv1; rua={}", rpt.rua.join(","));
            match at("_smtp._tls") {
                Ok(owner) => z.push(owner, None, RData::TXT(txt(&record))),
                Err(why) => self.internal(&d.name, why),
            }
        }
        // RFC 6186 / RFC 8314: where mail clients of the domain connect.
        if let Some(host) = d.local_host().and_then(|k| model.hosts.get(k))
            && !d.null_mx()
        {
            for s in services::ALL {
                let data = if services::offers(host.stack, d, s) {
                    abs(&host.hostname).map(|t| SRV::new(s.priority, 1, s.port, t))
                } else {
                    Ok(SRV::new(0, 0, 0, Name::root()))
                };
                match (at(s.srv), data) {
                    (Ok(owner), Ok(srv)) => z.push(owner, None, RData::SRV(srv)),
                    (Err(why), _) | (_, Err(why)) => self.internal(&d.name, why),
                }
            }
        }
        for r in &d.records {
            let owner = if r.name == "@" {
                Ok(origin.clone())
            } else {
                at(&r.name)
            };
            let data = match RecordType::from_str(&r.rtype) {
                Ok(RecordType::TXT) => Ok(RData::TXT(txt(&r.value))),
                Ok(t) => RData::try_from_str(t, &r.value).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match (owner, data) {
                (Ok(owner), Ok(data)) => z.push(owner, r.ttl, data),
                (Err(why), _) | (_, Err(why)) => self.internal(&d.name, why),
            }
        }
        Some(z)
    }

    /// The public half of a DKIM key, or `None` (with a diagnostic when the
    /// key file cannot be used; silently when no key material is at hand).
    fn dkim_public(
        &mut self,
        d: &Domain,
        key: &DkimKey,
        ctx: Option<&dyn Context>,
    ) -> Option<PublicKey> {
        match &key.source {
            DkimSource::PublicKey(b64) => {
                match dkim::public_from_published(b64, key.algorithm == DkimAlgorithm::Ed25519) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        self.diags.push(problem(
                            Code::DkimPublicKey,
                            format!(
                                "the DKIM public key `{}` of `{}` cannot be read: {e}",
                                key.selector, d.name
                            ),
                            "paste the base64 of the key's SubjectPublicKeyInfo",
                            About::DkimKey {
                                domain: d.name.clone(),
                                selector: key.selector.clone(),
                            },
                        ));
                        None
                    }
                }
            }
            DkimSource::PrivateKey(path) => {
                let ctx = ctx?;
                let Some(bytes) = ctx.private_key(path) else {
                    self.diags
                        .push(key_file_problem(path, "it cannot be read".into()));
                    return None;
                };
                match dkim::public_from_private_pem(&bytes) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        self.diags.push(key_file_problem(path, e.0));
                        None
                    }
                }
            }
        }
    }
}

/// SOA RNAME (RFC 1035 §8): the local part as one label (a `.` in it is
/// escaped by the writer), then the domain's labels.
fn rname(address: &str) -> Result<Name, String> {
    let (local, domain) = address
        .rsplit_once('@')
        .ok_or_else(|| format!("`{address}` is not an address"))?;
    let mut labels: Vec<&[u8]> = vec![local.as_bytes()];
    labels.extend(domain.split('.').map(str::as_bytes));
    Name::from_labels(labels).map_err(|e| format!("`{address}` cannot be an SOA RNAME: {e}"))
}

/// `v=DKIM1; k=…; p=…` (RFC 6376 §3.6.1).
fn dkim_record(key: &PublicKey) -> String {
    let k = match key.key_type {
        KeyType::Rsa => "rsa",
        KeyType::Ed25519 => "ed25519",
    };
    format!("v=DKIM1; k={k}; p={}", key.p)
}

/// The DMARC record, tags in the order of RFC 7489 §6.4's ABNF.
fn dmarc_record(d: &Dmarc) -> String {
    let policy = |p: DmarcPolicy| match p {
        DmarcPolicy::None => "none",
        DmarcPolicy::Quarantine => "quarantine",
        DmarcPolicy::Reject => "reject",
    };
    let align = |a: Alignment| match a {
        Alignment::S => "s",
        Alignment::R => "r",
    };
    let mut s = format!("v=DMARC1; p={}", policy(d.policy));
    if let Some(sp) = d.subdomain_policy {
        s.push_str(&format!("; sp={}", policy(sp)));
    }
    if !d.rua.is_empty() {
        s.push_str(&format!("; rua={}", d.rua.join(",")));
    }
    if !d.ruf.is_empty() {
        s.push_str(&format!("; ruf={}", d.ruf.join(",")));
    }
    if let Some(a) = d.adkim {
        s.push_str(&format!("; adkim={}", align(a)));
    }
    if let Some(a) = d.aspf {
        s.push_str(&format!("; aspf={}", align(a)));
    }
    if let Some(p) = d.pct {
        s.push_str(&format!("; pct={p}"));
    }
    s
}

/// The domains of a DMARC record's `mailto:` report addresses.
fn report_domains(d: &Dmarc) -> BTreeSet<String> {
    d.rua
        .iter()
        .chain(&d.ruf)
        .filter_map(|u| u.strip_prefix("mailto:"))
        .map(|a| a.split('!').next().unwrap_or(a))
        .filter_map(|a| a.rsplit_once('@').map(|(_, dom)| dom.to_string()))
        .collect()
}

/// What `named-checkzone -i local -k/-m/-n/-S fail` and Knot would refuse.
fn integrity(zone: &Zone, diags: &mut Vec<Diagnostic>) {
    let origin = zone.origin.to_ascii();
    let origin = origin.trim_end_matches('.');
    let show = |n: &Name| n.to_ascii().trim_end_matches('.').to_string();
    let mut types: BTreeMap<&Name, BTreeSet<RecordType>> = BTreeMap::new();
    for r in zone.records() {
        types
            .entry(&r.owner)
            .or_default()
            .insert(r.data.record_type());
    }
    let has_address = |n: &Name| {
        types
            .get(n)
            .is_some_and(|t| t.contains(&RecordType::A) || t.contains(&RecordType::AAAA))
    };
    // Delegation points below the apex, with their name servers.
    let mut cuts: BTreeMap<&Name, Vec<&Name>> = BTreeMap::new();
    for r in zone.records() {
        if let RData::NS(ns) = &r.data
            && r.owner != zone.origin
        {
            cuts.entry(&r.owner).or_default().push(&ns.0);
        }
    }
    let below_cut = |n: &Name| cuts.keys().find(|c| c.zone_of(n)).copied();

    // RFC 1034 §3.6.2: a CNAME stands alone.
    for (owner, t) in &types {
        if t.contains(&RecordType::CNAME) && t.len() > 1 {
            diags.push(problem(
                Code::RecordCollision,
                format!(
                    "`{}` has a CNAME beside other records in the zone `{origin}`",
                    show(owner)
                ),
                "a name with a CNAME may hold nothing else: use A/AAAA records, or another name",
                About::Record {
                    owner: show(owner),
                    rtype: "CNAME",
                    target: None,
                },
            ));
        }
    }
    for r in zone.records() {
        // Data below a delegation is not the zone's (RFC 1034 §4.2.1), except glue.
        if let Some(cut) = below_cut(&r.owner) {
            let glue = matches!(r.data, RData::A(_) | RData::AAAA(_))
                && cuts.get(cut).is_some_and(|ns| ns.contains(&&r.owner));
            let delegation = r.owner == *cut && matches!(r.data, RData::NS(_));
            if let RData::NS(ns) = &r.data
                && delegation
                && cut.zone_of(&ns.0)
                && !has_address(&ns.0)
            {
                diags.push(problem(
                    Code::Zone,
                    format!(
                        "the name server `{}` of `{}` lies inside the delegated zone, but `{origin}` has no glue address for it",
                        show(&ns.0),
                        show(cut)
                    ),
                    "give the name server an A/AAAA record (in the records of the domain it belongs to)",
                    About::Record {
                        owner: show(cut),
                        rtype: "NS",
                        target: Some(show(&ns.0)),
                    },
                ));
            }
            if !glue && !delegation {
                diags.push(problem(
                    Code::Zone,
                    format!(
                        "the {} record at `{}` in the zone `{origin}` is hidden below the delegation of `{}`",
                        r.data.record_type(),
                        show(&r.owner),
                        show(cut)
                    ),
                    "put the record in the zone it belongs to (the delegated domain's own records), or remove it",
                    About::Record {
                        owner: show(&r.owner),
                        rtype: record_type_name(&r.data),
                        target: None,
                    },
                ));
            }
            continue;
        }
        // In-zone targets need addresses (`-i local` with -m/-n/-S fail).
        let (target, what, help, rtype) = match &r.data {
            RData::MX(mx) => (
                &mx.exchange,
                "MX host",
                "add its A/AAAA record under the domain's `records` (`- {name: NAME, type: A, value: ADDRESS}`), or make it one of `hosts`",
                "MX",
            ),
            RData::NS(ns) => (
                &ns.0,
                "name server",
                "add its A/AAAA record (the glue resolvers need) under the domain's `records` (`- {name: NAME, type: A, value: ADDRESS}`)",
                "NS",
            ),
            RData::SRV(srv) => (
                &srv.target,
                "SRV target",
                "add its A/AAAA record under the domain's `records` (`- {name: NAME, type: A, value: ADDRESS}`)",
                "SRV",
            ),
            _ => continue,
        };
        if target.is_root() || !zone.contains(target) || below_cut(target).is_some() {
            continue;
        }
        let about = About::Record {
            owner: show(&r.owner),
            rtype,
            target: Some(show(target)),
        };
        if !has_address(target) {
            let name = show(target);
            let rel = name
                .strip_suffix(&format!(".{origin}"))
                .unwrap_or("@")
                .to_string();
            let mut d = problem(
                Code::Zone,
                format!(
                    "the {what} `{name}` is inside the zone `{origin}`, but the zone gives it no address"
                ),
                help,
                about,
            );
            d.help = Some(help.replace("NAME", &rel));
            d.kdl_help = Some(format!(
                "add its address to the domain: `record {rel} A ADDRESS`{}",
                if rtype == "MX" {
                    ", or make it one of the `host` nodes"
                } else {
                    ""
                }
            ));
            diags.push(d);
        } else if types
            .get(target)
            .is_some_and(|t| t.contains(&RecordType::CNAME))
        {
            diags.push(problem(
                Code::RecordCollision,
                format!("the {what} `{}` is a CNAME (RFC 2181 §10.3)", show(target)),
                "point it at a name with A/AAAA records",
                about,
            ));
        }
    }
}

/// The type of a record, as a spec's `records` writes it.
fn record_type_name(data: &RData) -> &'static str {
    match data.record_type() {
        RecordType::A => "A",
        RecordType::AAAA => "AAAA",
        RecordType::CNAME => "CNAME",
        RecordType::TXT => "TXT",
        RecordType::SRV => "SRV",
        RecordType::CAA => "CAA",
        RecordType::TLSA => "TLSA",
        RecordType::NS => "NS",
        RecordType::MX => "MX",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::{suffixes, within};

    #[test]
    fn names_within_zones() {
        assert!(within("example.com", "example.com"));
        assert!(within("mx1.example.com", "example.com"));
        assert!(!within("badexample.com", "example.com"));
        assert!(!within("com", "example.com"));
        let s: Vec<&str> = suffixes("a.b.c").collect();
        assert_eq!(s, ["a.b.c", "b.c", "c"]);
    }
}
