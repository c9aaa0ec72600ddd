//! `mailc import` (docs/import.md): an existing setup — BIND zone files,
//! Postfix + Dovecot, docker-mailserver, cPanel — into a spec that compiles
//! to the same behaviour, and a report of everything it could not carry
//! over. Nothing is written unless every source was read; before that, the
//! spec is compiled and its zones and routes are compared with the
//! sources' own ([`verify`]).
//!
//! One module per source kind (`zone`/`dns`, `postfix`, `dms`, `cpanel`,
//! with `accounts` for passwords and passwd-files), `draft` for the spec
//! being assembled, `write` for its YAML and KDL, `report` for findings.

mod accounts;
mod cpanel;
mod dms;
mod dns;
mod draft;
mod files;
mod mail;
mod postfix;
pub mod report;
mod verify;
mod write;
pub mod zone;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hickory_proto::rr::{Name, RData};

use accounts::{Password, User};
use draft::{Domain, Draft, Host, Mailbox, Mx, Unknown};
use files::Confine;
use mail::{AliasUnknown, MailSource, Role, SrcUnknown};
use report::{Finding, Severity};
use verify::Expect;

pub use report::Finding as ImportFinding;

/// The address a host gets when the sources do not give one (RFC 5737's
/// documentation network): the spec needs one, the report says to set it.
const PLACEHOLDER_IPV4: &str = "192.0.2.1";

/// How to import.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Write KDL instead of YAML.
    pub kdl: bool,
    /// A copy of a server's file system: absolute paths named in the
    /// sources are read below it, and nothing outside it is read.
    pub root: Option<PathBuf>,
    /// The spec's file name, for the compiled spec's diagnostics.
    pub spec_name: String,
}

/// The result of an import.
#[derive(Debug)]
pub struct Imported {
    /// The spec's text.
    pub text: String,
    /// The report: warnings and notes, sorted.
    pub findings: Vec<Finding>,
    pub hosts: usize,
    pub domains: usize,
    pub mailboxes: usize,
    pub aliases: usize,
}

/// Why an import stopped: its errors, or a spec that does not compile.
#[derive(Debug)]
pub enum Failure {
    /// Problems in the sources; nothing was written.
    Sources(Vec<Finding>),
    /// The assembled spec does not compile (the spec text, and its own
    /// diagnostics drawn).
    Spec { text: String, rendered: String },
}

/// Kinds of sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Zone,
    ZoneFolder,
    Postfix,
    Passwd,
    Dms,
    Cpanel,
}

/// A source as given: `KIND:PATH` or a path whose kind is detected.
fn kind_of(arg: &str) -> Result<(Kind, PathBuf), Finding> {
    let prefixed = [
        ("zone:", Kind::Zone),
        ("postfix:", Kind::Postfix),
        ("dovecot:", Kind::Passwd),
        ("dms:", Kind::Dms),
        ("cpanel:", Kind::Cpanel),
    ];
    for (p, k) in prefixed {
        if let Some(rest) = arg.strip_prefix(p) {
            let path = PathBuf::from(rest);
            return Ok((
                if k == Kind::Zone && path.is_dir() {
                    Kind::ZoneFolder
                } else {
                    k
                },
                path,
            ));
        }
    }
    let path = PathBuf::from(arg);
    let meta = std::fs::metadata(&path)
        .map_err(|e| Finding::error(arg, None, format!("cannot open it: {e}")).help("give a zone file, a folder of zone files, Postfix's config folder (with main.cf), a Dovecot passwd-file, a docker-mailserver config folder, or a copy of a cPanel server's root"))?;
    if meta.is_dir() {
        let kind = if path.join("etc/localdomains").is_file() {
            Kind::Cpanel
        } else if path.join("postfix-accounts.cf").is_file() {
            Kind::Dms
        } else if path.join("main.cf").is_file() {
            Kind::Postfix
        } else {
            Kind::ZoneFolder
        };
        return Ok((kind, path));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(match name.as_str() {
        "main.cf" => (Kind::Postfix, path),
        "postfix-accounts.cf" => (Kind::Dms, path),
        _ => {
            let head = std::fs::read(&path)
                .map(|b| String::from_utf8_lossy(&b[..b.len().min(4096)]).into_owned())
                .unwrap_or_default();
            if accounts::looks_like_passwd(&head) {
                (Kind::Passwd, path)
            } else {
                (Kind::Zone, path)
            }
        }
    })
}

/// The folder of a source: itself, or the file's.
fn folder_of(path: &Path) -> PathBuf {
    if path.is_dir() {
        return path.to_path_buf();
    }
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Everything the sources say, before assembly.
#[derive(Default)]
struct Parts {
    zones: Vec<(zone::ZoneFile, String)>,
    mail: Vec<MailSource>,
    users: Vec<BTreeMap<String, User>>,
}

/// Reads `$INCLUDE`d files inside the zone's confinement.
struct ZoneIncludes<'a> {
    confine: &'a Confine,
    dir: PathBuf,
}

impl zone::Includes for ZoneIncludes<'_> {
    fn read(&mut self, path: &str, from: &str, line: usize) -> Result<(String, String), Finding> {
        let p = self.confine.resolve(path, &self.dir, from, Some(line))?;
        let shown = files::shown(&p);
        let text = files::read_text(&p, &shown)?;
        Ok((shown, text))
    }
}

/// The zone's origin from its file name: `example.com.zone`, `db.example.com`,
/// `example.com.db`, `example.com`.
fn origin_from_name(path: &Path) -> Option<Name> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let name = name.strip_prefix("db.").unwrap_or(&name);
    let name = [".zone", ".db", ".hosts"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name);
    let d = crate::model::names::domain(name).ok()?;
    if !d.contains('.') {
        return None;
    }
    Name::from_ascii(format!("{d}.")).ok()
}

fn read_zone(
    path: &Path,
    shown: &str,
    confine: &Confine,
    parts: &mut Parts,
    findings: &mut Vec<Finding>,
) -> Result<(), Finding> {
    let text = files::read_text(path, shown)?;
    let mut inc = ZoneIncludes {
        confine,
        dir: folder_of(path),
    };
    let z = zone::parse(shown, &text, origin_from_name(path), &mut inc)?;
    findings.extend(z.skipped.iter().cloned());
    parts.zones.push((z, shown.to_string()));
    Ok(())
}

/// Imports `sources`: the spec and its report, or why not.
pub fn run(sources: &[String], opts: &Options) -> Result<Imported, Failure> {
    let mut parts = Parts::default();
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    if sources.is_empty() {
        return Err(Failure::Sources(vec![Finding::error("mailc import", None, "no source given").help(
            "name zone files, Postfix's config folder, a Dovecot passwd-file, a docker-mailserver config folder or a copy of a cPanel server",
        )]));
    }
    for arg in sources {
        if let Err(e) = read_source(arg, opts, &mut parts, &mut findings) {
            errors.push(e);
        }
    }
    if !errors.is_empty() {
        report::sort(&mut errors);
        return Err(Failure::Sources(errors));
    }
    let (draft, zones, expects) = assemble(parts, &mut findings);
    let errs: Vec<Finding> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .cloned()
        .collect();
    if !errs.is_empty() {
        return Err(Failure::Sources(errs));
    }
    let header = write::Header { sources };
    let text = if opts.kdl {
        write::kdl(&draft, &header)
    } else {
        write::yaml(&draft, &header)
    };
    let model = match verify::compile(&opts.spec_name, &text, opts.kdl) {
        Ok(m) => m,
        Err((source, diags)) => {
            return Err(Failure::Spec {
                rendered: places(&source, &diags),
                text,
            });
        }
    };
    verify::compare_zones(&model, &zones, &mut findings);
    let mut draft = draft;
    draft.tests = verify::compare_routes(&model, &expects, &mut findings);
    let text = if draft.tests.is_empty() {
        text
    } else {
        // The same spec with its tests, which must compile too.
        let with_tests = if opts.kdl {
            write::kdl(&draft, &header)
        } else {
            write::yaml(&draft, &header)
        };
        if let Err((source, diags)) = verify::compile(&opts.spec_name, &with_tests, opts.kdl) {
            return Err(Failure::Spec {
                rendered: places(&source, &diags),
                text: with_tests,
            });
        }
        with_tests
    };
    report::sort(&mut findings);
    Ok(Imported {
        text,
        findings,
        hosts: draft.hosts.len(),
        domains: draft.domains.len(),
        mailboxes: draft.domains.values().map(|d| d.mailboxes.len()).sum(),
        aliases: draft.domains.values().map(|d| d.aliases.len()).sum(),
    })
}

/// A spec's diagnostics by place and message only: its lines hold password
/// hashes, which no message may show.
fn places(source: &crate::source::Source, diags: &[crate::diag::Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| {
            let (line, col) = source.line_col(d.span().start);
            format!(
                "{}:{line}:{col}: {} [{}]\n",
                source.name,
                d.message,
                d.code.as_str()
            )
        })
        .collect()
}

fn read_source(
    arg: &str,
    opts: &Options,
    parts: &mut Parts,
    findings: &mut Vec<Finding>,
) -> Result<(), Finding> {
    let (kind, path) = kind_of(arg)?;
    let shown = path.display().to_string();
    let confine = Confine::new(&folder_of(&path), opts.root.as_deref())?;
    match kind {
        Kind::Zone => read_zone(&path, &shown, &confine, parts, findings),
        Kind::ZoneFolder => {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
                .map_err(|e| Finding::error(&shown, None, format!("cannot list it: {e}")))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let n = p
                        .file_name()
                        .map(|n| n.to_string_lossy().to_ascii_lowercase())
                        .unwrap_or_default();
                    p.is_file()
                        && (n.ends_with(".zone") || n.ends_with(".db") || n.starts_with("db."))
                })
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(Finding::error(&shown, None, "this folder holds no zone file (`*.zone`, `*.db`, `db.*`), no main.cf, no postfix-accounts.cf and no etc/localdomains")
                    .help("name the files or the configuration folder to import"));
            }
            for f in files {
                let s = f.display().to_string();
                read_zone(&f, &s, &confine, parts, findings)?;
            }
            Ok(())
        }
        Kind::Passwd => {
            let text = files::read_text(&path, &shown)?;
            parts
                .users
                .push(accounts::passwd_file(&text, &shown, findings)?);
            Ok(())
        }
        Kind::Postfix => {
            let dir = folder_of(&path);
            parts.mail.push(postfix::read(&dir, &confine, findings)?);
            Ok(())
        }
        Kind::Dms => {
            let dir = folder_of(&path);
            parts.mail.push(dms::read(&dir, findings)?);
            Ok(())
        }
        Kind::Cpanel => {
            parts.mail.push(cpanel::read(&path, findings)?);
            Ok(())
        }
    }
}

/// The addresses a zone gives `name` (A and AAAA), from any imported zone.
fn addresses_in_zones(
    zones: &[(zone::ZoneFile, String)],
    name: &str,
) -> (Option<String>, Option<String>) {
    let mut v4 = None;
    let mut v6 = None;
    for (z, _) in zones {
        for e in &z.entries {
            if dns::plain(&e.owner) != name {
                continue;
            }
            match &e.data {
                zone::Data::Known(RData::A(a)) if v4.is_none() => v4 = Some(a.0.to_string()),
                zone::Data::Known(RData::AAAA(a)) if v6.is_none() => v6 = Some(a.0.to_string()),
                _ => {}
            }
        }
    }
    (v4, v6)
}

/// The most preferred MX target the zones give these domains, when they
/// agree on one: the name of the server that receives their mail.
fn mx_of(zones: &[(zone::ZoneFile, String)], domains: &BTreeSet<String>) -> Option<String> {
    let mut found = BTreeSet::new();
    for (z, _) in zones {
        if !domains.contains(&dns::plain(&z.origin)) {
            continue;
        }
        let best = z
            .entries
            .iter()
            .filter(|e| e.owner == z.origin)
            .filter_map(|e| match &e.data {
                zone::Data::Known(RData::MX(m)) if !m.exchange.is_root() => {
                    Some((m.preference, dns::plain(&m.exchange)))
                }
                _ => None,
            })
            .min();
        if let Some((_, n)) = best {
            found.insert(n);
        }
    }
    (found.len() == 1).then(|| found.into_iter().next().unwrap_or_default())
}

/// Puts the sources together into one spec.
fn assemble(
    parts: Parts,
    findings: &mut Vec<Finding>,
) -> (Draft, Vec<dns::ZoneImport>, Vec<Expect>) {
    let mut draft = Draft::default();
    let mut expects = Vec::new();
    // Users of every passwd-file, by name.
    let mut users: BTreeMap<String, User> = BTreeMap::new();
    for u in parts.users {
        for (name, user) in u {
            if let Some(first) = users.get(&name) {
                findings.push(Finding::warning(
                    &user.file,
                    Some(user.line),
                    format!(
                        "`{name}` is also in {}:{}; the first is kept",
                        first.file, first.line
                    ),
                ));
                continue;
            }
            users.insert(name, user);
        }
    }
    let mut used_users: BTreeSet<String> = BTreeSet::new();
    let mut desired: BTreeMap<(String, String), Role> = BTreeMap::new();

    for src in &parts.mail {
        // The host.
        let local_domains: BTreeSet<String> = src
            .domains
            .iter()
            .filter(|(_, d)| matches!(d.role, Role::Local | Role::RelayTo(_)))
            .map(|(n, _)| n.clone())
            .collect();
        let hostname = match src
            .hostname
            .clone()
            .or_else(|| mx_of(&parts.zones, &local_domains))
        {
            Some(h) => h,
            None => {
                let first = local_domains
                    .iter()
                    .next()
                    .cloned()
                    .unwrap_or_else(|| "example.com".into());
                let h = format!("mail.{first}");
                findings.push(
                    Finding::warning(
                        &src.label,
                        None,
                        format!("the sources do not name this server; it is imported as `{h}`"),
                    )
                    .help("set the host's `hostname` to the name its MX records and PTR give"),
                );
                h
            }
        };
        let key = match draft.hosts.values().find(|h| h.hostname == hostname) {
            Some(h) => h.key.clone(),
            None => {
                let taken: BTreeSet<String> = draft.hosts.keys().cloned().collect();
                let key = draft::host_key(&hostname, &taken);
                let (z4, z6) = addresses_in_zones(&parts.zones, &hostname);
                let ipv4 = z4.or_else(|| src.ipv4.clone());
                let placeholder = ipv4.is_none();
                if placeholder {
                    findings.push(
                        Finding::warning(&src.label, None, format!("the sources do not give the public address of `{hostname}`; the spec holds the placeholder {PLACEHOLDER_IPV4}"))
                            .help("set the host's `ipv4` (and `ipv6`) before applying: it goes into SPF and the zones"),
                    );
                }
                draft.hosts.insert(
                    key.clone(),
                    Host {
                        key: key.clone(),
                        hostname: hostname.clone(),
                        ipv4: ipv4.unwrap_or_else(|| PLACEHOLDER_IPV4.into()),
                        ipv6: z6.or_else(|| src.ipv6.clone()),
                        stack: src.stack,
                        placeholder,
                        relay: src.relay.as_ref().map(|_| "relayhost".to_string()),
                    },
                );
                if let Some(r) = &src.relay {
                    draft.relays.insert("relayhost".into(), r.clone());
                }
                key
            }
        };

        // Its domains.
        for (name, md) in &src.domains {
            desired.insert((name.clone(), key.clone()), md.role.clone());
            if md.role == Role::Remote {
                if !md.mailboxes.is_empty() || !md.aliases.is_empty() {
                    findings.push(
                        Finding::warning(&md.file, md.line, format!("`{name}` is routed elsewhere (remote), so its mailboxes and forwarders here receive nothing; they are not carried over"))
                            .help("import them by making the domain local, if this server is to receive its mail"),
                    );
                } else if !parts
                    .zones
                    .iter()
                    .any(|(z, _)| dns::plain(&z.origin) == *name)
                {
                    findings.push(Finding::note(
                        &md.file,
                        md.line,
                        format!("`{name}` is routed elsewhere (remote): it is left out of the spec, and every host sends its mail out by MX lookup"),
                    ));
                }
                continue;
            }
            let d = draft
                .domains
                .entry(name.clone())
                .or_insert_with(|| Domain::new(name));
            if d.place.is_none() {
                d.place = Some((md.file.clone(), md.line));
            }
            if matches!(md.role, Role::Local | Role::RelayTo(_)) {
                if let Some(other) = &d.local
                    && *other != key
                {
                    findings.push(Finding::error(
                        &md.file,
                        md.line,
                        format!("`{name}` is delivered by two servers (`{other}` and `{key}`); a domain has one final destination"),
                    ));
                }
                d.local = Some(key.clone());
            }
            if let Role::RelayTo(hop) = &md.role {
                d.unknown = Unknown::Relay(hop.clone());
            }
            if md.role == Role::Backup {
                // A backup accepts what the primary would; for an outside
                // primary, every address, relayed there.
                if d.unknown == Unknown::Reject {
                    d.unknown = Unknown::Relay(String::new());
                }
            }
            for (local, mb) in &md.mailboxes {
                let address = format!("{local}@{name}");
                let password = match &mb.password {
                    Some(p) => Some(p.clone()),
                    None => {
                        let user = users.get(&address).or_else(|| users.get(local.as_str()));
                        if user.is_some() {
                            used_users.insert(if users.contains_key(&address) {
                                address.clone()
                            } else {
                                local.clone()
                            });
                        }
                        user.map(|u| u.password.clone())
                    }
                };
                let quota = mb
                    .quota
                    .clone()
                    .or_else(|| users.get(&address).and_then(|u| u.quota.clone()));
                if let Some(Password::Hashed(_)) = &password {
                    let (f, l) = match (&mb.password, users.get(&address)) {
                        (None, Some(u)) => (u.file.clone(), Some(u.line)),
                        _ => (mb.file.clone(), mb.line),
                    };
                    findings.push(Finding::note(
                        &f,
                        l,
                        format!(
                            "the plaintext password of `{address}` is stored as a SHA512-CRYPT hash"
                        ),
                    ));
                }
                let (hash, locked) = match password {
                    Some(Password::Hash(h) | Password::Hashed(h)) => (h, false),
                    Some(Password::Locked) => (draft::locked_hash(&address), true),
                    None => {
                        findings.push(
                            Finding::warning(&mb.file, mb.line, format!("`{address}` has no password in the sources: it is imported as a mailbox nobody can log in to"))
                                .help("give the Dovecot passwd-file as a source too, or set a password with `mailc passwd`"),
                        );
                        (draft::locked_hash(&address), true)
                    }
                };
                d.mailboxes.insert(
                    local.clone(),
                    Mailbox {
                        password: hash,
                        quota,
                        locked,
                        send_only: false,
                    },
                );
            }
            for (local, targets) in &md.aliases {
                d.aliases.insert(local.clone(), targets.clone());
            }
            d.drops.extend(md.drops.iter().cloned());
            match &md.unknown {
                SrcUnknown::Reject => {}
                SrcUnknown::Drop => d.unknown = Unknown::Drop,
                SrcUnknown::Forward(t) => {
                    d.catch_all(t.clone());
                }
            }
        }
        for (address, verdict, file, line) in &src.verdicts {
            expects.push(Expect {
                host: key.clone(),
                address: address.clone(),
                verdict: verdict.clone(),
                file: file.clone(),
                line: *line,
            });
        }
    }

    // Passwd-file users that are no mailbox: they log in and send only.
    for (name, u) in &users {
        if used_users.contains(name) {
            continue;
        }
        let Some((local, domain)) = name.rsplit_once('@') else {
            findings.push(Finding::warning(
                &u.file,
                Some(u.line),
                format!(
                    "`{name}` names no domain, and no mailbox has that local part: not carried over"
                ),
            ));
            continue;
        };
        match draft.domains.get_mut(domain) {
            Some(d) if d.local.is_some() && !d.claims(local) => {
                findings.push(Finding::note(&u.file, Some(u.line), format!("`{name}` logs in but no map delivers mail to it: imported as a send-only mailbox")));
                let (password, locked) = match &u.password {
                    Password::Hash(h) | Password::Hashed(h) => (h.clone(), false),
                    Password::Locked => (draft::locked_hash(name), true),
                };
                d.mailboxes.insert(
                    local.to_string(),
                    Mailbox {
                        password,
                        quota: u.quota.clone(),
                        locked,
                        send_only: true,
                    },
                );
            }
            _ => findings.push(Finding::warning(
                &u.file,
                Some(u.line),
                format!(
                    "`{name}` is not an address of a domain this server delivers: not carried over"
                ),
            )),
        }
    }

    // Domains that take another's addresses.
    for src in &parts.mail {
        for a in &src.domain_aliases {
            mirror(&mut draft, a, findings);
        }
    }

    // Zones.
    let mut zones = Vec::new();
    for (z, file) in &parts.zones {
        zones.push(dns::map(z, file, &mut draft, findings));
    }

    // MX lists and routing.
    let hosts: Vec<String> = draft.hosts.keys().cloned().collect();
    let mut drop_domains = Vec::new();
    for (name, d) in draft.domains.iter_mut() {
        let (pf, pl) = d
            .place
            .clone()
            .unwrap_or_else(|| ("mailc import".into(), None));
        if d.mx.is_none() {
            match &d.local {
                Some(k) => {
                    d.mx = Some(vec![Mx {
                        host: k.clone(),
                        priority: 10,
                    }]);
                    if !d.published {
                        findings.push(Finding::note(
                            &pf,
                            pl,
                            format!("no zone of `{name}` was given: its MX is taken to be host `{k}`, and the spec does not publish its zone (`zone: false`)"),
                        ));
                    }
                }
                None => {
                    findings.push(
                        Finding::warning(&pf, pl, format!("`{name}` has no local server and no zone was given to say where its mail goes: it is left out, so every host treats it as an outside domain"))
                            .help(format!("give the zone of `{name}` as a source, so its MX says which server is its primary")),
                    );
                    drop_domains.push(name.clone());
                    continue;
                }
            }
        }
        let mx = d.mx.clone().unwrap_or_default();
        for h in &hosts {
            let want = desired
                .get(&(name.clone(), h.clone()))
                .cloned()
                .unwrap_or(Role::Remote);
            let auto = auto_role(&mx, h);
            let want_word = match want {
                Role::Local | Role::RelayTo(_) => "local",
                Role::Backup => "backup",
                Role::Remote => "remote",
            };
            if want_word == auto {
                continue;
            }
            if want_word == "remote" && auto == "local" {
                findings.push(
                    Finding::warning(&pf, pl, format!("the MX of `{name}` names host `{h}` first, but that server does not take the domain's mail; the spec makes it local"))
                        .help("fix the MX records, or add the domain to the server"),
                );
                continue;
            }
            d.routing.insert(
                h.clone(),
                match want_word {
                    "local" => "local",
                    "backup" => "backup",
                    _ => "remote",
                },
            );
        }
        // A backup's catch-all relay goes to the primary: the first MX
        // entry that is not one of the backups.
        if d.unknown == Unknown::Relay(String::new()) {
            let primary = mx
                .iter()
                .find(|m| !draft.hosts.contains_key(&m.host))
                .map(|m| m.host.clone());
            match primary {
                Some(p) => d.unknown = Unknown::Relay(p),
                None => d.unknown = Unknown::Reject,
            }
        }
    }
    for n in drop_domains {
        draft.domains.remove(&n);
    }
    (draft, zones, expects)
}

/// What `auto` routing makes of host `h` with this MX list (docs/spec.md,
/// Routing).
fn auto_role(mx: &[Mx], h: &str) -> &'static str {
    let Some(mine) = mx.iter().find(|m| m.host == h) else {
        return "remote";
    };
    let best = mx.iter().map(|m| m.priority).min().unwrap_or(0);
    if mine.priority == best && mx.iter().filter(|m| m.priority == best).count() == 1 {
        "local"
    } else if mine.priority == best {
        "tie"
    } else {
        "backup"
    }
}

/// `x@alias` becomes `x@target`: every address `target` claims gets an
/// alias of the same local part in `alias`; unknown ones follow the
/// source's rule.
fn mirror(draft: &mut Draft, a: &mail::DomainAlias, findings: &mut Vec<Finding>) {
    let Some(target) = draft.domains.get(&a.target).cloned() else {
        findings.push(Finding::warning(
            &a.file,
            a.line,
            format!(
                "`{}` forwards to the domain `{}`, which no source defines: not carried over",
                a.alias, a.target
            ),
        ));
        return;
    };
    let d = draft
        .domains
        .entry(a.alias.clone())
        .or_insert_with(|| Domain::new(&a.alias));
    if d.local.is_none() {
        d.local = target.local.clone();
    }
    if d.place.is_none() {
        d.place = Some((a.file.clone(), a.line));
    }
    for local in target.receiving() {
        if !d.claims(&local) {
            d.aliases
                .insert(local.clone(), vec![format!("{local}@{}", a.target)]);
        }
    }
    d.unknown = match (&target.unknown, a.unknown) {
        (Unknown::Forward(t), _) => Unknown::Forward(t.clone()),
        (u, AliasUnknown::AsTarget) => u.clone(),
        (_, AliasUnknown::BounceUnlessCatchAll) => Unknown::Bounce,
    };
    if d.unknown == Unknown::Bounce {
        findings.push(Finding::note(
            &a.file,
            a.line,
            format!("unknown addresses of `{}` are accepted and then bounced, as the wildcard alias to `{}` does", a.alias, a.target),
        ));
    }
}
