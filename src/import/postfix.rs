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

mod config;
mod resolve;
mod tables;

use super::files::{self, Confine};
use super::mail::{
    AliasUnknown, DomainAlias, MailDomain, MailSource, Role, SrcMailbox, SrcUnknown,
};
use super::report::Finding;
use super::verify::Verdict;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub(super) use config::*;
pub(super) use resolve::*;
pub(super) use tables::*;

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
mod tests;
