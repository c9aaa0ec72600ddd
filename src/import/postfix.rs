//! Postfix's `main.cf` and the lookup tables it names (postconf(5),
//! virtual(5), transport(5)): virtual mailbox and alias domains, mailboxes,
//! aliases and catch-alls, relay domains and their next hops. Passwords
//! and quotas come from Dovecot's passwd-file, a source of its own.
//!
//! [`Sim`] answers what this Postfix does with an address — RCPT check
//! (`smtpd_reject_unlisted_recipient`), then virtual alias expansion as
//! cleanup(8) does it (recursively, `@domain` wildcards included, an
//! address that maps to itself delivered as is) — so the import can check
//! the spec against it. docker-mailserver runs Postfix with the same
//! tables and uses it too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::files::{self, Confine};
use super::mail::{
    AliasUnknown, DomainAlias, MailDomain, MailSource, Role, SrcMailbox, SrcUnknown,
};
use super::report::Finding;
use super::verify::Verdict;

/// `main.cf`: parameter → (value, line).
type Params = BTreeMap<String, (String, usize)>;

/// Reads `main.cf` (postconf(5): `name = value`, continued on lines that
/// start with white space, `#` comment lines).
fn main_cf(text: &str, file: &str) -> Result<Params, Finding> {
    let mut params = Params::new();
    let mut current: Option<(String, String, usize)> = None;
    let finish = |cur: Option<(String, String, usize)>, params: &mut Params| {
        if let Some((k, v, l)) = cur {
            params.insert(k, (v.trim().to_string(), l));
        }
    };
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match &mut current {
                Some((_, v, _)) => {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                None => {
                    return Err(Finding::error(
                        file,
                        Some(n),
                        "a continuation line before any parameter",
                    )
                    .help("a line that starts with white space continues the parameter above it"));
                }
            }
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(Finding::error(
                file,
                Some(n),
                format!("`{}` is not `name = value`", line.trim()),
            )
            .help("main.cf lines are `parameter = value`; comments start with `#`"));
        };
        let k = k.trim();
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Finding::error(
                file,
                Some(n),
                format!("`{k}` is not a parameter name"),
            ));
        }
        finish(current.take(), &mut params);
        current = Some((k.to_string(), v.trim().to_string(), n));
    }
    finish(current.take(), &mut params);
    Ok(params)
}

/// Parameter values with `$name`, `${name}` and `$(name)` expanded.
struct Config {
    params: Params,
    file: String,
}

impl Config {
    fn default_of(&self, name: &str) -> Option<String> {
        Some(
            match name {
                "mydomain" => {
                    let host = self.get("myhostname")?;
                    host.split_once('.').map(|(_, d)| d.to_string())?
                }
                "myorigin" => "$myhostname".into(),
                "mydestination" => "$myhostname, localhost.$mydomain, localhost".into(),
                "virtual_alias_domains" => "$virtual_alias_maps".into(),
                "virtual_alias_maps" => "$virtual_maps".into(),
                "virtual_mailbox_domains" => "$virtual_mailbox_maps".into(),
                _ => return None,
            }
            .to_string(),
        )
    }

    fn raw(&self, name: &str) -> Option<String> {
        match self.params.get(name) {
            Some((v, _)) => Some(v.clone()),
            None => self.default_of(name),
        }
    }

    /// A parameter's value, expanded; `None` when unset and without default.
    fn get(&self, name: &str) -> Option<String> {
        let raw = self.raw(name)?;
        Some(self.expand(&raw, 0))
    }

    fn line(&self, name: &str) -> Option<usize> {
        self.params.get(name).map(|(_, l)| *l)
    }

    fn expand(&self, v: &str, depth: usize) -> String {
        if depth > 20 || !v.contains('$') {
            return v.to_string();
        }
        let mut out = String::new();
        let mut rest = v;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let (name, len) =
                if let Some(r) = after.strip_prefix('{').or_else(|| after.strip_prefix('(')) {
                    let close = r.find(['}', ')']).unwrap_or(r.len());
                    (&r[..close], close + 2)
                } else {
                    let end = after
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(after.len());
                    (&after[..end], end)
                };
            if name.is_empty() {
                out.push('$');
                rest = after;
                continue;
            }
            if let Some(val) = self.raw(name) {
                out.push_str(&self.expand(&val, depth + 1));
            }
            rest = &after[len.min(after.len())..];
        }
        out.push_str(rest);
        out
    }
}

/// The items of a list value (commas and white space separate them).
fn items(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut braces = 0;
    for c in v.chars() {
        match c {
            '{' => {
                braces += 1;
                cur.push(c);
            }
            '}' => {
                braces -= 1;
                cur.push(c);
            }
            ',' | ' ' | '\t' if braces == 0 => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// One entry of a lookup table: key (lowercase), value, where.
#[derive(Clone, Debug)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub file: String,
    pub line: usize,
}

/// Reads a table's source text (postmap(1) input: `key value`, continued
/// on lines that start with white space, `#` comment lines).
pub fn table_text(text: &str, file: &str) -> Result<Vec<Entry>, Finding> {
    let mut out: Vec<Entry> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match out.last_mut() {
                Some(e) => {
                    e.value.push(' ');
                    e.value.push_str(t);
                    continue;
                }
                None => {
                    return Err(Finding::error(
                        file,
                        Some(n),
                        "a continuation line before any entry",
                    ));
                }
            }
        }
        let (key, value) = match t.split_once(char::is_whitespace) {
            Some((k, v)) if !v.trim().is_empty() => (k, v.trim()),
            _ => {
                return Err(Finding::error(
                    file,
                    Some(n),
                    format!("the entry `{t}` has a key but no value"),
                )
                .help("each line is `key value`, like `info@example.com alice@example.com`"));
            }
        };
        out.push(Entry {
            key: key.to_ascii_lowercase(),
            value: value.to_string(),
            file: file.to_string(),
            line: n,
        });
    }
    Ok(out)
}

/// Reads the tables of a list parameter. Table types Postfix builds from a
/// text file (`hash:`, `texthash:`, `lmdb:`, ...) are read from that file;
/// `inline:{…}` in place. Others cannot be imported.
fn tables(
    cfg: &Config,
    param: &str,
    dir: &Path,
    confine: &Confine,
    findings: &mut Vec<Finding>,
) -> Result<Vec<Entry>, Finding> {
    let Some(v) = cfg.get(param) else {
        return Ok(Vec::new());
    };
    let line = cfg.line(param);
    let mut out = Vec::new();
    for item in items(&v) {
        let item = item.strip_prefix("proxy:").unwrap_or(&item).to_string();
        let Some((kind, name)) = item.split_once(':') else {
            continue; // a literal (a domain in a domain list)
        };
        match kind {
            "hash" | "texthash" | "btree" | "lmdb" | "cdb" | "dbm" | "sdbm" => {
                let path = confine.resolve(name, dir, &cfg.file, line)?;
                let shown = files::shown(&path);
                let text = files::read_text(&path, &shown)?;
                out.extend(table_text(&text, &shown)?);
            }
            "inline" => {
                let body = name.trim().trim_start_matches('{').trim_end_matches('}');
                for pair in body.split(',') {
                    let pair = pair.trim();
                    if pair.is_empty() {
                        continue;
                    }
                    let (k, val) = pair.split_once('=').unwrap_or((pair, ""));
                    out.push(Entry {
                        key: k.trim().to_ascii_lowercase(),
                        value: val.trim().to_string(),
                        file: cfg.file.clone(),
                        line: line.unwrap_or(0),
                    });
                }
            }
            "regexp" | "pcre" => findings.push(
                Finding::warning(&cfg.file, line, format!("the {kind} table `{name}` of `{param}` is not carried over: its patterns have no counterpart in the spec"))
                    .help("write what it matches as aliases or catch-alls by hand"),
            ),
            "static" => {}
            other => {
                return Err(Finding::error(&cfg.file, line, format!("`{param}` reads a `{other}:` table, which mailc import cannot read"))
                    .help("export the table's rows into a text file of `key value` lines and point the parameter at `hash:FILE` for the import"));
            }
        }
    }
    Ok(out)
}

/// A domain list (`mydestination`, `virtual_mailbox_domains`, ...): its
/// literal domains, files of domains, and the domain keys of its tables.
fn domain_list(
    cfg: &Config,
    param: &str,
    dir: &Path,
    confine: &Confine,
    findings: &mut Vec<Finding>,
) -> Result<Vec<(String, String, Option<usize>)>, Finding> {
    let Some(v) = cfg.get(param) else {
        return Ok(Vec::new());
    };
    let line = cfg.line(param);
    let mut out = Vec::new();
    for item in items(&v) {
        if item.contains(':') {
            continue;
        }
        if item.starts_with('/') {
            let path = confine.resolve(&item, dir, &cfg.file, line)?;
            let shown = files::shown(&path);
            let text = files::read_text(&path, &shown)?;
            for (i, l) in text.lines().enumerate() {
                for d in items(l.split('#').next().unwrap_or("")) {
                    out.push((d.to_ascii_lowercase(), shown.clone(), Some(i + 1)));
                }
            }
        } else if let Some(neg) = item.strip_prefix('!') {
            findings.push(Finding::warning(
                &cfg.file,
                line,
                format!("the exclusion `!{neg}` in `{param}` is not carried over"),
            ));
        } else {
            out.push((item.to_ascii_lowercase(), cfg.file.clone(), line));
        }
    }
    for e in tables(cfg, param, dir, confine, findings)? {
        if !e.key.contains('@') {
            out.push((e.key.clone(), e.file.clone(), Some(e.line)));
        }
    }
    Ok(out)
}

/// How Postfix treats a domain (ADDRESS_CLASS_README).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Class {
    /// `mydestination`: local(8), Unix accounts and aliases(5).
    Local,
    VirtualAlias,
    VirtualMailbox,
    Relay,
    /// Not the server's: delivered by MX lookup.
    Default,
}

/// Where a transport entry sends a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Local delivery (LMTP to Dovecot, virtual(8)).
    Deliver,
    /// SMTP to this next hop.
    Relay(String),
    Error,
    Discard,
}

/// A transport(5) value.
fn transport(value: &str) -> Transport {
    let (kind, next) = value.split_once(':').unwrap_or((value, ""));
    match kind {
        "error" | "retry" => Transport::Error,
        "discard" => Transport::Discard,
        "smtp" | "relay" | "" if !next.is_empty() => Transport::Relay(super::verify::hop(next)),
        _ => Transport::Deliver,
    }
}

/// What this Postfix does with an address.
pub struct Sim {
    pub classes: BTreeMap<String, Class>,
    /// virtual_alias_maps: key → targets.
    pub aliases: BTreeMap<String, Vec<String>>,
    /// virtual_mailbox_maps keys.
    pub mailboxes: BTreeSet<String>,
    pub relay_recipients: Option<BTreeSet<String>>,
    pub transports: BTreeMap<String, Transport>,
    pub myorigin: String,
}

impl Sim {
    fn class(&self, domain: &str) -> Class {
        self.classes.get(domain).cloned().unwrap_or(Class::Default)
    }

    fn domain_of(addr: &str) -> &str {
        addr.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// Key, then the `@domain` wildcard (virtual(5), TABLE SEARCH ORDER).
    fn lookup<'a, T>(table: &'a BTreeMap<String, T>, addr: &str) -> Option<&'a T> {
        table
            .get(addr)
            .or_else(|| table.get(&format!("@{}", Self::domain_of(addr))))
    }

    fn in_set(set: &BTreeSet<String>, addr: &str) -> bool {
        set.contains(addr) || set.contains(&format!("@{}", Self::domain_of(addr)))
    }

    /// The final addresses cleanup(8) makes of `addr`.
    fn expand(&self, addr: &str, depth: usize, out: &mut Vec<String>) -> Result<(), ()> {
        if depth > 100 {
            return Err(());
        }
        let Some(targets) = Self::lookup(&self.aliases, addr) else {
            out.push(addr.to_string());
            return Ok(());
        };
        let local = addr.rsplit_once('@').map_or(addr, |(l, _)| l);
        for (i, t) in targets.iter().enumerate() {
            let t = t.to_ascii_lowercase();
            // `@otherdomain` in first place: the same user there.
            let t = if i == 0 && t.starts_with('@') {
                format!("{local}{t}")
            } else if !t.contains('@') {
                format!("{t}@{}", self.myorigin)
            } else {
                t
            };
            if t == addr {
                out.push(t);
            } else {
                self.expand(&t, depth + 1, out)?;
            }
        }
        Ok(())
    }

    /// The verdict on `addr`, as an unauthenticated client sends it to
    /// port 25; `None` for local(8) domains, which mailc does not model.
    pub fn verdict(&self, addr: &str) -> Option<Verdict> {
        let domain = Self::domain_of(addr);
        let class = self.class(domain);
        let alias_hit = Self::lookup(&self.aliases, addr).is_some();
        let accepted = match class {
            Class::Local => return None,
            Class::Default => return Some(Verdict::Remote),
            Class::VirtualAlias => alias_hit,
            Class::VirtualMailbox => alias_hit || Self::in_set(&self.mailboxes, addr),
            Class::Relay => self
                .relay_recipients
                .as_ref()
                .is_none_or(|s| alias_hit || Self::in_set(s, addr)),
        };
        if !accepted {
            return Some(Verdict::Refuse);
        }
        let mut leaves = Vec::new();
        if self.expand(addr, 0, &mut leaves).is_err() {
            return Some(Verdict::Other(
                "loops in its aliases (Postfix bounces it)".into(),
            ));
        }
        let mut mailboxes = BTreeSet::new();
        let mut forward = BTreeSet::new();
        let mut bounced = BTreeSet::new();
        let mut relays = BTreeSet::new();
        let mut discarded = false;
        for leaf in leaves {
            let d = Self::domain_of(&leaf).to_string();
            match (self.class(&d), self.transports.get(&d)) {
                (_, Some(Transport::Error)) => {
                    bounced.insert(leaf);
                }
                (_, Some(Transport::Discard)) => discarded = true,
                (
                    Class::Relay | Class::VirtualMailbox | Class::VirtualAlias,
                    Some(Transport::Relay(h)),
                ) => {
                    relays.insert(h.clone());
                }
                (Class::VirtualMailbox, _) if Self::in_set(&self.mailboxes, &leaf) => {
                    mailboxes.insert(leaf);
                }
                (Class::VirtualMailbox | Class::VirtualAlias, _) => {
                    bounced.insert(leaf);
                }
                (Class::Relay, _) => {
                    relays.insert(String::new());
                }
                (Class::Local, _) => return None,
                (Class::Default, _) => {
                    forward.insert(leaf);
                }
            }
        }
        let kinds = [
            !mailboxes.is_empty() || !forward.is_empty(),
            !bounced.is_empty(),
            !relays.is_empty(),
            discarded,
        ];
        if kinds.iter().filter(|k| **k).count() > 1 {
            return Some(Verdict::Other(format!(
                "splits it: delivered to {mailboxes:?}, forwarded to {forward:?}, bounced for {bounced:?}, relayed to {relays:?}"
            )));
        }
        Some(if !bounced.is_empty() {
            Verdict::Bounce
        } else if discarded {
            Verdict::Discard
        } else if let Some(h) = relays.into_iter().next() {
            if h.is_empty() {
                Verdict::Other("relays it by MX lookup".into())
            } else {
                Verdict::Relay(h)
            }
        } else {
            Verdict::Deliver { mailboxes, forward }
        })
    }
}

/// Reads the Postfix configuration in `dir`.
pub fn read(
    dir: &Path,
    confine: &Confine,
    findings: &mut Vec<Finding>,
) -> Result<MailSource, Finding> {
    let main = confine.resolve("main.cf", dir, &dir.display().to_string(), None)?;
    let file = files::shown(&main);
    let text = files::read_text(&main, &file)?;
    let cfg = Config {
        params: main_cf(&text, &file)?,
        file: file.clone(),
    };
    let mut src = MailSource {
        label: file.clone(),
        stack: "postfix-dovecot",
        ..MailSource::default()
    };
    src.hostname = cfg
        .get("myhostname")
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase());
    for p in ["smtp_bind_address", "inet_interfaces"] {
        if let Some(v) = cfg.get(p)
            && let Ok(ip) = v.trim().parse::<std::net::Ipv4Addr>()
            && !ip.is_loopback()
            && !ip.is_unspecified()
        {
            src.ipv4 = Some(ip.to_string());
            break;
        }
    }
    let myorigin = cfg.get("myorigin").unwrap_or_default().to_ascii_lowercase();

    if let Some(v) = cfg.get("relayhost").filter(|v| !v.trim().is_empty()) {
        match relayhost(v.trim(), &cfg) {
            Some((relay, looked_up)) => {
                let mut f = Finding::note(
                    &file,
                    cfg.line("relayhost"),
                    format!(
                        "`relayhost` becomes the host's outbound relay `relayhost` ({}:{}, tls {})",
                        relay.host, relay.port, relay.tls
                    ),
                );
                if looked_up {
                    f = Finding::warning(
                        &file,
                        cfg.line("relayhost"),
                        format!("`relayhost = {v}` has no brackets: Postfix looks up its MX; the spec's relay connects to `{}` as named", relay.host),
                    )
                    .help("check that this name is the relay itself, not a domain whose MX is the relay");
                }
                findings.push(f);
                src.relay = Some(relay);
            }
            None => findings.push(
                Finding::warning(&file, cfg.line("relayhost"), format!("`relayhost = {v}` is not carried over: it is not one `[host]:port`"))
                    .help("add the relay under `outbound_relays` and name it in the host's `outbound_relay`"),
            ),
        }
    }
    if cfg
        .get("smtp_sasl_password_maps")
        .is_some_and(|v| !v.trim().is_empty())
        && src.relay.is_some()
    {
        findings.push(
            Finding::warning(&file, cfg.line("smtp_sasl_password_maps"), "the relay's login is not carried over: its password stays out of the spec".to_string())
                .help("give relay `relayhost` a `username` and a `password_file` (mode 0600) holding the password, and `tls: starttls`"),
        );
    }
    for p in ["sender_dependent_relayhost_maps", "smtp_sasl_password_maps"] {
        if p == "smtp_sasl_password_maps" && src.relay.is_some() {
            continue;
        }
        if cfg.get(p).is_some_and(|v| !v.trim().is_empty()) {
            findings.push(
                Finding::warning(&file, cfg.line(p), format!("`{p}` is not carried over"))
                    .help("write each sender's relay under `outbound_relays` (`senders`), with its `username` and `password_file`"),
            );
        }
    }
    if cfg
        .get("smtpd_sender_login_maps")
        .is_none_or(|v| v.trim().is_empty())
    {
        findings.push(Finding::note(
            &file,
            None,
            "this Postfix lets a login send as any address (no `smtpd_sender_login_maps`); with mailc a login sends only as its own address",
        ));
    }

    // Domains by class (later classes do not override earlier ones).
    let mut classes: BTreeMap<String, Class> = BTreeMap::new();
    let mut declared: BTreeMap<String, (String, Option<usize>)> = BTreeMap::new();
    let own: BTreeSet<String> = [
        src.hostname.clone().unwrap_or_default(),
        "localhost".to_string(),
        format!("localhost.{}", cfg.get("mydomain").unwrap_or_default()),
    ]
    .into_iter()
    .collect();
    for (param, class) in [
        ("mydestination", Class::Local),
        ("virtual_alias_domains", Class::VirtualAlias),
        ("virtual_mailbox_domains", Class::VirtualMailbox),
        ("relay_domains", Class::Relay),
    ] {
        for (d, f, l) in domain_list(&cfg, param, dir, confine, findings)? {
            let d = d.trim_end_matches('.').to_string();
            if d.is_empty() || classes.contains_key(&d) {
                continue;
            }
            if class == Class::Local && !own.contains(&d) {
                findings.push(
                    Finding::warning(&f, l, format!("`{d}` is delivered to Unix accounts (mydestination): not carried over"))
                        .help("mailc delivers to virtual mailboxes only; make its users mailboxes of a virtual domain first, or add them to the spec by hand"),
                );
            }
            classes.insert(d.clone(), class.clone());
            declared.insert(d, (f, l));
        }
    }
    if classes.values().any(|c| *c == Class::Local) {
        findings.push(Finding::note(
            &file,
            cfg.line("mydestination"),
            "mail for the server's own name (mydestination: local(8), /etc/aliases) stays with the server's system configuration",
        ));
    }

    let alias_entries = tables(&cfg, "virtual_alias_maps", dir, confine, findings)?;
    let mailbox_entries = tables(&cfg, "virtual_mailbox_maps", dir, confine, findings)?;
    let transport_entries = tables(&cfg, "transport_maps", dir, confine, findings)?;
    let relay_entries = if cfg
        .get("relay_recipient_maps")
        .is_some_and(|v| !v.trim().is_empty())
    {
        Some(tables(
            &cfg,
            "relay_recipient_maps",
            dir,
            confine,
            findings,
        )?)
    } else {
        None
    };

    let mut transports = BTreeMap::new();
    let mut transport_at = BTreeMap::new();
    for e in &transport_entries {
        if e.key.contains('@') || e.key.starts_with('.') || e.key == "*" {
            findings.push(Finding::warning(
                &e.file,
                Some(e.line),
                format!(
                    "the transport entry `{}` is not carried over: only whole domains are",
                    e.key
                ),
            ));
            continue;
        }
        transports.insert(e.key.clone(), transport(&e.value));
        transport_at.insert(e.key.clone(), (e.file.clone(), e.line));
    }

    let sim = Sim {
        classes: classes.clone(),
        aliases: alias_entries
            .iter()
            .map(|e| (e.key.clone(), items(&e.value)))
            .collect(),
        mailboxes: mailbox_entries.iter().map(|e| e.key.clone()).collect(),
        relay_recipients: relay_entries
            .as_ref()
            .map(|r| r.iter().map(|e| e.key.clone()).collect()),
        transports: transports.clone(),
        myorigin: myorigin.clone(),
    };

    // The domains the spec gets.
    for (d, class) in &classes {
        let (f, l) = declared.get(d).cloned().unwrap_or((file.clone(), None));
        let role = match (class, transports.get(d)) {
            (Class::Local | Class::Default, _) => continue,
            (_, Some(Transport::Relay(h))) => Role::RelayTo(h.clone()),
            (Class::Relay, _) => Role::Backup,
            _ => Role::Local,
        };
        if let Some(t @ (Transport::Error | Transport::Discard)) = transports.get(d) {
            let (tf, tl) = transport_at.get(d).cloned().unwrap_or((file.clone(), 0));
            findings.push(Finding::warning(
                &tf,
                Some(tl),
                format!(
                    "the transport of `{d}` ({}) is not carried over",
                    if *t == Transport::Error {
                        "error:"
                    } else {
                        "discard:"
                    }
                ),
            ));
        }
        let mut md = MailDomain::new(role, &f, l);
        if class == &Class::Relay
            && let Some(r) = &relay_entries
            && !r.iter().any(|e| e.key == format!("@{d}"))
        {
            findings.push(
                Finding::warning(&f, l, format!("`{d}` accepts only the addresses of relay_recipient_maps; mailc accepts every address of a domain it relays to another server"))
                    .help("the next server refuses unknown addresses itself, after this one accepted them"),
            );
        }
        md.unknown = SrcUnknown::Reject;
        src.domains.insert(d.clone(), md);
    }

    // Mailboxes.
    for e in &mailbox_entries {
        let Some((local, domain)) = e.key.rsplit_once('@') else {
            continue;
        };
        let Some(md) = src.domains.get_mut(domain) else {
            findings.push(Finding::warning(&e.file, Some(e.line), format!("`{}` is not in a virtual mailbox domain: Postfix ignores it, and so does the import", e.key)));
            continue;
        };
        if classes.get(domain) != Some(&Class::VirtualMailbox) {
            findings.push(Finding::warning(&e.file, Some(e.line), format!("`{}` is not in a virtual mailbox domain: Postfix ignores it, and so does the import", e.key)));
            continue;
        }
        if local.is_empty() {
            findings.push(
                Finding::warning(&e.file, Some(e.line), format!("`{}` delivers every address of `{domain}` into one mailbox: not carried over", e.key))
                    .help("give the domain a mailbox and make it the catch-all (`unknown_recipients: {forward: NAME}`)"),
            );
            continue;
        }
        if crate::model::names::local_part(local).is_err() {
            findings.push(super::mail::unaccepted(&e.file, Some(e.line), &e.key));
            continue;
        }
        md.mailboxes.insert(
            local.to_string(),
            SrcMailbox {
                password: None,
                quota: None,
                file: e.file.clone(),
                line: Some(e.line),
            },
        );
    }

    // Aliases, catch-alls and alias domains.
    let mut verdict_places: BTreeMap<String, (String, Option<usize>)> = BTreeMap::new();
    for e in &alias_entries {
        let place = (e.file.clone(), Some(e.line));
        if !e.key.contains('@') {
            if classes.get(&e.key) != Some(&Class::VirtualAlias) {
                findings.push(Finding::warning(&e.file, Some(e.line), format!("`{}` (a bare name) applies to the server's own domains only (mydestination): not carried over", e.key)));
            }
            continue;
        }
        let (local, domain) = e.key.rsplit_once('@').unwrap_or_default();
        let mut targets: Vec<String> = Vec::new();
        for (i, t) in items(&e.value).into_iter().enumerate() {
            let t = t.to_ascii_lowercase();
            if i == 0 && t.starts_with('@') {
                // `@otherdomain` first: the same local part there.
                targets.push(format!("{local}{t}"));
            } else if t.contains('@') {
                targets.push(t);
            } else {
                targets.push(format!("{t}@{myorigin}"));
            }
        }
        let Some(md) = src.domains.get_mut(domain) else {
            findings.push(Finding::warning(
                &e.file,
                Some(e.line),
                format!(
                    "the alias `{}` is not in a domain this server delivers: not carried over",
                    e.key
                ),
            ));
            continue;
        };
        if local.is_empty() {
            if let Some(first) = targets.first()
                && let Some(target) = first.strip_prefix('@')
            {
                src.domain_aliases.push(DomainAlias {
                    alias: domain.to_string(),
                    target: target.to_string(),
                    unknown: AliasUnknown::BounceUnlessCatchAll,
                    file: e.file.clone(),
                    line: Some(e.line),
                });
            } else {
                md.unknown = SrcUnknown::Forward(targets.clone());
            }
            verdict_places.insert(super::mail::unknown_probe(domain), place);
            continue;
        }
        verdict_places.insert(e.key.clone(), place.clone());
        for t in &targets {
            if t.ends_with(&format!("@{domain}")) || classes.contains_key(Sim::domain_of(t)) {
                verdict_places.entry(t.clone()).or_insert(place.clone());
            }
        }
        if crate::model::names::local_part(local).is_err() {
            findings.push(super::mail::unaccepted(&e.file, Some(e.line), &e.key));
            continue;
        }
        md.forwarder(
            (&e.file, Some(e.line)),
            &e.key,
            local,
            &targets,
            "Postfix",
            findings,
        );
    }

    // What Postfix does with every address it knows, and an unknown one per domain.
    for e in &mailbox_entries {
        verdict_places
            .entry(e.key.clone())
            .or_insert((e.file.clone(), Some(e.line)));
    }
    super::mail::judge(&mut src, verdict_places, |a| sim.verdict(a));
    Ok(src)
}

/// Postfix's `relayhost` as a relay: `[host]:port`, `[host]`, `host:port`
/// or `host` (the port 25 when left out; without brackets Postfix looks up
/// the name's MX, which the second value says). TLS from
/// `smtp_tls_security_level` (and `smtp_tls_wrappermode`).
fn relayhost(v: &str, cfg: &Config) -> Option<(super::draft::Relay, bool)> {
    if v.contains([',', ' ']) {
        return None;
    }
    let (host, port, looked_up) = match v.strip_prefix('[') {
        Some(rest) => {
            let (h, after) = rest.split_once(']')?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().ok()?,
                None if after.is_empty() => 25,
                None => return None,
            };
            (
                h.strip_prefix("ipv6:").unwrap_or(h).to_string(),
                port,
                false,
            )
        }
        None => match v.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().ok()?, true),
            None => (v.to_string(), 25, true),
        },
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty()
        || (host.parse::<std::net::IpAddr>().is_err()
            && crate::model::names::domain(&host).is_err())
    {
        return None;
    }
    let level = cfg
        .get("smtp_tls_security_level")
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let wrapper = cfg
        .get("smtp_tls_wrappermode")
        .is_some_and(|w| w.trim() == "yes");
    let tls = match level.as_str() {
        _ if wrapper => "implicit",
        "encrypt" | "dane-only" | "fingerprint" | "verify" | "secure" => "starttls",
        _ => "opportunistic",
    };
    Some((super::draft::Relay { host, port, tls }, looked_up))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_cf_and_expansion() {
        let p = main_cf("# c\nmyhostname = mail.example.com\nmydestination = $myhostname,\n  localhost.$mydomain\nx=${myhostname}/$(mydomain)\n", "main.cf").unwrap();
        let c = Config {
            params: p,
            file: "main.cf".into(),
        };
        assert_eq!(
            c.get("mydestination").unwrap(),
            "mail.example.com, localhost.example.com"
        );
        assert_eq!(c.get("x").unwrap(), "mail.example.com/example.com");
        assert_eq!(c.get("myorigin").unwrap(), "mail.example.com");
        assert!(main_cf("novalue\n", "m").is_err());
    }

    #[test]
    fn tables_need_values() {
        let t = table_text(
            "# x\ninfo@example.com alice@example.com,\n  bob@example.com\n",
            "virtual",
        )
        .unwrap();
        assert_eq!(items(&t[0].value), ["alice@example.com", "bob@example.com"]);
        let e = table_text("a@b c\nlonely@example.com\n", "virtual").unwrap_err();
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn simulation() {
        let sim = Sim {
            classes: [
                ("example.com".to_string(), Class::VirtualMailbox),
                ("alias.example".to_string(), Class::VirtualAlias),
            ]
            .into_iter()
            .collect(),
            aliases: [
                (
                    "info@example.com",
                    vec!["alice@example.com", "x@remote.example"],
                ),
                ("@example.com", vec!["catch@example.com"]),
                ("@alias.example", vec!["@example.com"]),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
            .collect(),
            mailboxes: ["alice@example.com", "catch@example.com"]
                .into_iter()
                .map(String::from)
                .collect(),
            relay_recipients: None,
            transports: BTreeMap::new(),
            myorigin: "mail.example.com".into(),
        };
        // The catch-all swallows alice: no self-mapping.
        assert_eq!(
            sim.verdict("info@example.com"),
            Some(Verdict::Deliver {
                mailboxes: ["catch@example.com".to_string()].into(),
                forward: ["x@remote.example".to_string()].into()
            })
        );
        assert_eq!(
            sim.verdict("alice@alias.example"),
            Some(Verdict::Deliver {
                mailboxes: ["catch@example.com".to_string()].into(),
                forward: BTreeSet::new()
            })
        );
        assert_eq!(sim.verdict("x@other.example"), Some(Verdict::Remote));
    }
}
