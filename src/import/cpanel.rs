//! A copy of a cPanel server's mail files, laid out below one folder as on
//! the server (cPanel's documentation: "Email Routing", "Forwarders",
//! "Default Address"; the files Exim reads):
//!
//! - `etc/localdomains`, `etc/remotedomains`, `etc/secondarymx`: one domain
//!   per line; the server is the final destination, not a destination, or a
//!   backup MX for it (Email Routing: local, remote, backup);
//! - `etc/valiases/DOMAIN`: forwarders, `ADDRESS: TARGET[, TARGET…]`; `*:`
//!   is the default address; a target may be `:fail: TEXT` (refused),
//!   `:blackhole:` (thrown away: the spec's `drop`), `|PROGRAM` or `/FILE`;
//! - `etc/vdomainaliases/DOMAIN`: `DOMAIN: OTHER`, every address of DOMAIN
//!   forwarded to the same local part of OTHER;
//! - `home/ACCOUNT/etc/DOMAIN/passwd` (`USER:x:UID:GID::HOME:SHELL`),
//!   `shadow` (`USER:HASH:…`, crypt(3) hashes) and `quota` (`USER:BYTES`):
//!   the domain's mailboxes;
//! - `etc/hostname` and `var/cpanel/mainip`, when present: the host.
//!
//! cPanel runs Exim and Dovecot: the host's stack is `exim-dovecot`. The
//! verdicts follow Exim's routers as cPanel configures them: a forwarder
//! first (an address that is also a mailbox keeps a copy), then the
//! mailbox, then the domain forwarder, then the default address; recipients
//! are verified at RCPT, so `:fail:` refuses there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::accounts;
use super::files;
use super::mail::{
    AliasUnknown, DomainAlias, MailDomain, MailSource, Role, SrcMailbox, SrcUnknown,
};
use super::report::Finding;
use super::verify::Verdict;

/// A forwarder target.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Address(String),
    /// A bare name: a system user (the account's own mailbox).
    User(String),
    Fail(String),
    Blackhole,
    Pipe(String),
}

fn targets(value: &str, domain: &str) -> Vec<Target> {
    let v = value.trim();
    if let Some(msg) = v.strip_prefix(":fail:") {
        return vec![Target::Fail(msg.trim().to_string())];
    }
    if v.starts_with(":blackhole:") {
        return vec![Target::Blackhole];
    }
    v.split(',')
        .map(|t| t.trim().trim_matches('"').to_string())
        .filter(|t| !t.is_empty())
        .map(|t| {
            if t.starts_with('|') || t.starts_with('/') {
                Target::Pipe(t)
            } else if t == ":blackhole:" {
                Target::Blackhole
            } else if t.contains('@') {
                Target::Address(t.to_ascii_lowercase())
            } else if t.eq_ignore_ascii_case(domain) {
                Target::User(t)
            } else {
                Target::User(t.to_ascii_lowercase())
            }
        })
        .collect()
}

fn domain_file(
    root: &Path,
    rel: &str,
    findings: &mut Vec<Finding>,
) -> Result<Vec<(String, String, usize)>, Finding> {
    let path = root.join(rel);
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let shown = path.display().to_string();
    let text = files::read_text(&path, &shown)?;
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let d = l
            .split('#')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if d.is_empty() {
            continue;
        }
        match crate::model::names::domain(&d) {
            Ok(d) => out.push((d, shown.clone(), i + 1)),
            Err(why) => {
                findings.push(Finding::warning(
                    &shown,
                    Some(i + 1),
                    format!("`{d}` is not a domain name ({why}): left out"),
                ));
            }
        }
    }
    Ok(out)
}

/// `NAME:FIELD:…` lines of an account's `etc/DOMAIN/` file: name → (fields, line).
fn colon_file(path: &Path, shown: &str) -> Result<BTreeMap<String, (Vec<String>, usize)>, Finding> {
    let text = files::read_text(path, shown)?;
    let mut out = BTreeMap::new();
    for (i, l) in text.lines().enumerate() {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let fields: Vec<String> = l.split(':').map(str::to_string).collect();
        if fields.len() < 2 {
            return Err(Finding::error(
                shown,
                Some(i + 1),
                "a line needs at least `NAME:VALUE`",
            ));
        }
        out.insert(
            fields[0].trim().to_ascii_lowercase(),
            (fields[1..].to_vec(), i + 1),
        );
    }
    Ok(out)
}

struct Forwarders {
    /// Address or `*` → targets, and where.
    entries: BTreeMap<String, (Vec<Target>, String, usize)>,
}

pub fn read(root: &Path, findings: &mut Vec<Finding>) -> Result<MailSource, Finding> {
    let shown = |rel: &str| root.join(rel).display().to_string();
    let mut src = MailSource {
        label: root.display().to_string(),
        stack: "exim-dovecot",
        ..MailSource::default()
    };
    let hostname = root.join("etc/hostname");
    if hostname.is_file() {
        let h = files::read_text(&hostname, &shown("etc/hostname"))?;
        let h = h.trim().trim_end_matches('.').to_ascii_lowercase();
        if h.contains('.') {
            src.hostname = Some(h);
        }
    }
    let mainip = root.join("var/cpanel/mainip");
    if mainip.is_file() {
        let ip = files::read_text(&mainip, &shown("var/cpanel/mainip"))?;
        if let Ok(ip) = ip.trim().parse::<std::net::Ipv4Addr>() {
            src.ipv4 = Some(ip.to_string());
        }
    }

    // Routing modes.
    let mut roles: BTreeMap<String, (Role, String, usize)> = BTreeMap::new();
    for (rel, role) in [
        ("etc/localdomains", Role::Local),
        ("etc/remotedomains", Role::Remote),
        ("etc/secondarymx", Role::Backup),
    ] {
        for (d, f, l) in domain_file(root, rel, findings)? {
            if let Some((other, of, ol)) = roles.get(&d) {
                findings.push(Finding::warning(
                    &f,
                    Some(l),
                    format!("`{d}` is also listed in {of}:{ol} ({other:?}); the first is kept"),
                ));
                continue;
            }
            roles.insert(d, (role.clone(), f, l));
        }
    }

    // Mailboxes: home/ACCOUNT/etc/DOMAIN/{passwd,shadow,quota}.
    let mut mailbox_set: BTreeSet<String> = BTreeSet::new();
    let home = root.join("home");
    let mut accounts_dirs: Vec<std::path::PathBuf> = match std::fs::read_dir(&home) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path().join("etc")))
            .filter(|p| p.is_dir())
            .collect(),
        Err(_) => Vec::new(),
    };
    accounts_dirs.sort();
    for etc in accounts_dirs {
        let mut domain_dirs: Vec<std::path::PathBuf> = std::fs::read_dir(&etc)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.join("passwd").is_file())
                    .collect()
            })
            .unwrap_or_default();
        domain_dirs.sort();
        for dd in domain_dirs {
            let domain = dd
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            let passwd_shown = dd.join("passwd").display().to_string();
            let passwd = colon_file(&dd.join("passwd"), &passwd_shown)?;
            let shadow_path = dd.join("shadow");
            let shadow_shown = shadow_path.display().to_string();
            let shadow = if shadow_path.is_file() {
                colon_file(&shadow_path, &shadow_shown)?
            } else {
                BTreeMap::new()
            };
            let quota_path = dd.join("quota");
            let quota_shown = quota_path.display().to_string();
            let quota = if quota_path.is_file() {
                colon_file(&quota_path, &quota_shown)?
            } else {
                BTreeMap::new()
            };
            let (role, f, l) = match roles.get(&domain) {
                Some((r, f, l)) => (r.clone(), f.clone(), Some(*l)),
                None => {
                    findings.push(Finding::warning(&passwd_shown, None, format!("`{domain}` is in no routing file (localdomains, remotedomains, secondarymx); it is imported as local")));
                    (Role::Local, passwd_shown.clone(), None)
                }
            };
            let md = src
                .domains
                .entry(domain.clone())
                .or_insert_with(|| MailDomain::new(role, &f, l));
            for (user, (_, line)) in &passwd {
                let address = format!("{user}@{domain}");
                if crate::model::names::local_part(user).is_err() {
                    findings.push(super::mail::unaccepted(
                        &passwd_shown,
                        Some(*line),
                        &address,
                    ));
                    continue;
                }
                let password = match shadow.get(user) {
                    Some((fields, sl)) => {
                        accounts::password(&fields[0], &address, &shadow_shown, *sl)?
                    }
                    None => accounts::Password::Locked,
                };
                let q = match quota.get(user) {
                    Some((fields, ql)) => {
                        let v = fields[0].trim();
                        match v.parse::<u64>() {
                            Ok(n) => accounts::bytes_size(n),
                            Err(_) if v.eq_ignore_ascii_case("unlimited") => None,
                            Err(_) => {
                                return Err(Finding::error(
                                    &quota_shown,
                                    Some(*ql),
                                    format!("`{v}` is not a quota in bytes"),
                                )
                                .help("each line is `USER:BYTES`; 0 or `unlimited` for no limit"));
                            }
                        }
                    }
                    None => None,
                };
                mailbox_set.insert(address);
                md.mailboxes.insert(
                    user.clone(),
                    SrcMailbox {
                        password: Some(password),
                        quota: q,
                        file: passwd_shown.clone(),
                        line: Some(*line),
                    },
                );
            }
            for (user, (_, line)) in &shadow {
                if !passwd.contains_key(user) {
                    findings.push(Finding::warning(
                        &shadow_shown,
                        Some(*line),
                        format!(
                            "`{user}@{domain}` has a password but no passwd line: not carried over"
                        ),
                    ));
                }
            }
        }
    }

    // Forwarders.
    let mut forwarders: BTreeMap<String, Forwarders> = BTreeMap::new();
    let valiases = root.join("etc/valiases");
    let files_in = |dir: &Path| -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    for path in files_in(&valiases) {
        let domain = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let file = path.display().to_string();
        let text = files::read_text(&path, &file)?;
        let mut fw = Forwarders {
            entries: BTreeMap::new(),
        };
        for (i, l) in text.lines().enumerate() {
            let n = i + 1;
            let t = l.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let Some((key, value)) = t.split_once(':') else {
                return Err(Finding::error(&file, Some(n), format!("`{t}` is not `ADDRESS: TARGET`"))
                    .help("each line is `ADDRESS: TARGET[, TARGET…]`, or `*: TARGET` for the default address"));
            };
            let key = key.trim().to_ascii_lowercase();
            if value.trim().is_empty() {
                return Err(Finding::error(
                    &file,
                    Some(n),
                    format!("the forwarder `{key}` has no target"),
                ));
            }
            if key != "*" {
                let ok = key.rsplit_once('@').is_some_and(|(l, d)| {
                    d == domain && crate::model::names::local_part(l).is_ok()
                });
                if !ok {
                    return Err(Finding::error(
                        &file,
                        Some(n),
                        format!("`{key}` is not an address of `{domain}`"),
                    ));
                }
            }
            fw.entries
                .insert(key, (targets(value, &domain), file.clone(), n));
        }
        forwarders.insert(domain, fw);
    }
    let mut domain_aliases: BTreeMap<String, (String, String, usize)> = BTreeMap::new();
    for path in files_in(&root.join("etc/vdomainaliases")) {
        let domain = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let file = path.display().to_string();
        let text = files::read_text(&path, &file)?;
        for (i, l) in text.lines().enumerate() {
            let t: String = l.chars().filter(|c| !c.is_whitespace()).collect();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let Some((from, to)) = t.split_once(':') else {
                return Err(Finding::error(
                    &file,
                    Some(i + 1),
                    "a domain forwarder is `DOMAIN: OTHERDOMAIN`",
                ));
            };
            if from.eq_ignore_ascii_case(&domain) && !to.is_empty() {
                domain_aliases.insert(
                    domain.clone(),
                    (to.to_ascii_lowercase(), file.clone(), i + 1),
                );
            }
        }
    }

    // Into the spec's terms.
    for (domain, fw) in &forwarders {
        let (role, f, l) = match roles.get(domain) {
            Some((r, f, l)) => (r.clone(), f.clone(), Some(*l)),
            None => (Role::Local, String::new(), None),
        };
        let md = src
            .domains
            .entry(domain.clone())
            .or_insert_with(|| MailDomain::new(role, &f, l));
        for (key, (ts, file, line)) in &fw.entries {
            let addresses: Vec<String> = ts
                .iter()
                .filter_map(|t| match t {
                    Target::Address(a) => Some(a.clone()),
                    _ => None,
                })
                .collect();
            // `:blackhole:` alone: accepted and thrown away, the spec's
            // drop. Beside other targets it adds nothing.
            let blackhole = !ts.is_empty() && ts.iter().all(|t| *t == Target::Blackhole);
            for t in ts {
                let why = match t {
                    Target::Pipe(_) => Some(
                        "pipes to programs and deliveries into files have no counterpart in the spec",
                    ),
                    Target::User(_) => Some(
                        "a bare name is a system user (the cPanel account's own mailbox), which the spec does not hold",
                    ),
                    Target::Fail(_) if key != "*" => {
                        Some("the spec cannot refuse one address of a domain with its own text")
                    }
                    _ => None,
                };
                if let Some(why) = why {
                    findings.push(
                        Finding::warning(file, Some(*line), format!("the target of `{key}` is not carried over: {why}"))
                            .help("mailc import reports how mail to this address is routed instead; change the spec by hand if that is not right"),
                    );
                }
            }
            if key == "*" {
                md.unknown = if blackhole {
                    SrcUnknown::Drop
                } else if addresses.is_empty() {
                    SrcUnknown::Reject
                } else {
                    SrcUnknown::Forward(addresses)
                };
                continue;
            }
            let local = key.rsplit_once('@').map_or("", |(l, _)| l).to_string();
            if blackhole {
                md.drop((file, Some(*line)), key, &local, "cPanel", findings);
                continue;
            }
            md.forwarder(
                (file, Some(*line)),
                key,
                &local,
                &addresses,
                "cPanel",
                findings,
            );
        }
    }
    for (alias, (target, file, line)) in &domain_aliases {
        src.domain_aliases.push(DomainAlias {
            alias: alias.clone(),
            target: target.clone(),
            unknown: AliasUnknown::AsTarget,
            file: file.clone(),
            line: Some(*line),
        });
        if !src.domains.contains_key(alias) {
            let (role, f, l) = match roles.get(alias) {
                Some((r, f, l)) => (r.clone(), f.clone(), Some(*l)),
                None => (Role::Local, file.clone(), Some(*line)),
            };
            src.domains
                .insert(alias.clone(), MailDomain::new(role, &f, l));
        }
    }
    for (d, (role, f, l)) in &roles {
        src.domains
            .entry(d.clone())
            .or_insert_with(|| MailDomain::new(role.clone(), f, Some(*l)));
    }

    // What Exim does with each address, and an unknown one per domain.
    let sim = Sim {
        roles: src
            .domains
            .iter()
            .map(|(d, m)| (d.clone(), m.role.clone()))
            .collect(),
        mailboxes: mailbox_set.clone(),
        forwarders: &forwarders,
        domain_aliases: domain_aliases
            .iter()
            .map(|(a, (t, _, _))| (a.clone(), t.clone()))
            .collect(),
    };
    let mut places: BTreeMap<String, (String, Option<usize>)> = BTreeMap::new();
    for (domain, fw) in &forwarders {
        for (key, (_, f, l)) in &fw.entries {
            let addr = if key == "*" {
                super::mail::unknown_probe(domain)
            } else {
                key.clone()
            };
            places.insert(addr, (f.clone(), Some(*l)));
        }
    }
    for (d, md) in &src.domains {
        for (local, mb) in &md.mailboxes {
            places
                .entry(format!("{local}@{d}"))
                .or_insert((mb.file.clone(), mb.line));
        }
    }
    super::mail::judge(&mut src, places, |a| sim.verdict(a));
    Ok(src)
}

/// What Exim, as cPanel configures it, does with an address.
struct Sim<'a> {
    roles: BTreeMap<String, Role>,
    mailboxes: BTreeSet<String>,
    forwarders: &'a BTreeMap<String, Forwarders>,
    domain_aliases: BTreeMap<String, String>,
}

/// Where an address ends.
enum Leaf {
    Mailbox(String),
    Forward(String),
    Fail,
    Discard,
    Other,
}

impl Sim<'_> {
    fn verdict(&self, addr: &str) -> Option<Verdict> {
        let domain = addr.rsplit_once('@')?.1;
        match self.roles.get(domain) {
            Some(Role::Local) => {}
            Some(Role::Remote) | None => return Some(Verdict::Remote),
            // The primary is known from the zone only; not judged here.
            Some(_) => return None,
        }
        let mut leaves = Vec::new();
        self.resolve(addr, 0, &mut leaves);
        let mut mailboxes = BTreeSet::new();
        let mut forward = BTreeSet::new();
        let (mut fail, mut discard, mut other) = (false, false, false);
        for l in leaves {
            match l {
                Leaf::Mailbox(m) => {
                    mailboxes.insert(m);
                }
                Leaf::Forward(a) => {
                    forward.insert(a);
                }
                Leaf::Fail => fail = true,
                Leaf::Discard => discard = true,
                Leaf::Other => other = true,
            }
        }
        let delivered = !mailboxes.is_empty() || !forward.is_empty();
        Some(if fail {
            // Recipients are verified at RCPT: any failure refuses.
            Verdict::Refuse
        } else if other {
            Verdict::Other("hands it to a program or file".into())
        } else if discard && !delivered {
            Verdict::Discard
        } else if discard {
            Verdict::Other("delivers part of it and throws part away".into())
        } else {
            Verdict::Deliver { mailboxes, forward }
        })
    }

    fn resolve(&self, addr: &str, depth: usize, out: &mut Vec<Leaf>) {
        if depth > 20 {
            out.push(Leaf::Fail);
            return;
        }
        let Some((local, domain)) = addr.rsplit_once('@') else {
            out.push(Leaf::Other);
            return;
        };
        if self.roles.get(domain) != Some(&Role::Local) {
            out.push(Leaf::Forward(addr.to_string()));
            return;
        }
        let fw = self.forwarders.get(domain);
        let is_mailbox = self.mailboxes.contains(addr);
        if let Some((ts, _, _)) = fw.and_then(|f| f.entries.get(addr)) {
            if is_mailbox {
                out.push(Leaf::Mailbox(addr.to_string()));
            }
            self.targets(ts, depth, out);
            return;
        }
        if is_mailbox {
            out.push(Leaf::Mailbox(addr.to_string()));
            return;
        }
        if let Some(target) = self.domain_aliases.get(domain) {
            self.resolve(&format!("{local}@{target}"), depth + 1, out);
            return;
        }
        match fw.and_then(|f| f.entries.get("*")) {
            Some((ts, _, _)) => self.targets(ts, depth, out),
            None => out.push(Leaf::Fail),
        }
    }

    fn targets(&self, ts: &[Target], depth: usize, out: &mut Vec<Leaf>) {
        for t in ts {
            match t {
                Target::Address(a) => self.resolve(a, depth + 1, out),
                Target::Fail(_) => out.push(Leaf::Fail),
                Target::Blackhole => out.push(Leaf::Discard),
                Target::Pipe(_) | Target::User(_) => out.push(Leaf::Other),
            }
        }
    }
}
