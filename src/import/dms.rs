//! docker-mailserver's config folder (its documentation, "Configuration →
//! User Management" and "Aliases"): `postfix-accounts.cf` (one
//! `ADDRESS|{SCHEME}HASH` per line, what `setup email add` writes),
//! `postfix-virtual.cf` (Postfix virtual(5) lines: `ALIAS TARGET[,TARGET…]`,
//! `@DOMAIN TARGET` for a catch-all) and `dovecot-quotas.cf`
//! (`ADDRESS:SIZE`, what `setup quota set` writes). Every domain of an
//! account or an alias is a virtual mailbox domain of its Postfix, so the
//! Postfix [`Sim`](super::postfix::Sim) answers for it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::accounts;
use super::files;
use super::mail::{
    AliasUnknown, DomainAlias, MailDomain, MailSource, Role, SrcMailbox, SrcUnknown,
};
use super::postfix::{Class, Sim, table_text};
use super::report::Finding;

/// Files of the folder the import does not carry over, and why.
const OTHER_FILES: &[(&str, &str)] = &[
    (
        "postfix-regexp.cf",
        "regular-expression aliases have no counterpart in the spec",
    ),
    (
        "postfix-relaymap.cf",
        "mailc hosts send mail straight to each domain's MX",
    ),
    (
        "postfix-sasl-password.cf",
        "relay credentials stay with the server's own configuration",
    ),
    (
        "postfix-send-access.cf",
        "per-address sending restrictions have no counterpart in the spec",
    ),
    (
        "postfix-receive-access.cf",
        "per-address receiving restrictions have no counterpart in the spec",
    ),
    (
        "postfix-main.cf",
        "Postfix settings of its own are not part of a spec",
    ),
    (
        "dovecot.cf",
        "Dovecot settings of its own are not part of a spec",
    ),
];

pub fn read(dir: &Path, findings: &mut Vec<Finding>) -> Result<MailSource, Finding> {
    let shown = |name: &str| dir.join(name).display().to_string();
    let accounts_file = shown("postfix-accounts.cf");
    let text = files::read_text(&dir.join("postfix-accounts.cf"), &accounts_file)?;
    let mut src = MailSource {
        label: dir.display().to_string(),
        stack: "postfix-dovecot",
        ..MailSource::default()
    };

    // Accounts.
    let mut mailboxes: BTreeSet<String> = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let Some((address, hash)) = l.split_once('|') else {
            return Err(Finding::error(
                &accounts_file,
                Some(n),
                "an account line is `ADDRESS|{SCHEME}HASH`",
            )
            .help("write it as `setup email add ADDRESS` does"));
        };
        let address = address.trim().to_ascii_lowercase();
        let Ok((local, domain)) = crate::model::names::address(&address) else {
            return Err(Finding::error(
                &accounts_file,
                Some(n),
                format!("`{address}` is not an address"),
            ));
        };
        // Later fields (`|uid|gid|...` of newer versions) are not ours.
        let hash = hash.split('|').next().unwrap_or("");
        let password = accounts::password(hash, &address, &accounts_file, n)?;
        if mailboxes.contains(&address) {
            return Err(Finding::error(
                &accounts_file,
                Some(n),
                format!("`{address}` is listed twice"),
            ));
        }
        mailboxes.insert(address.clone());
        let md = src
            .domains
            .entry(domain.clone())
            .or_insert_with(|| MailDomain::new(Role::Local, &accounts_file, Some(n)));
        md.mailboxes.insert(
            local,
            SrcMailbox {
                password: Some(password),
                quota: None,
                file: accounts_file.clone(),
                line: Some(n),
            },
        );
    }

    // Quotas.
    let quotas_path = dir.join("dovecot-quotas.cf");
    if quotas_path.is_file() {
        let file = shown("dovecot-quotas.cf");
        let text = files::read_text(&quotas_path, &file)?;
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let Some((address, size)) = l.rsplit_once(':') else {
                return Err(Finding::error(
                    &file,
                    Some(n),
                    "a quota line is `ADDRESS:SIZE`",
                ));
            };
            let address = address.trim().to_ascii_lowercase();
            let Some((local, domain)) = address.rsplit_once('@') else {
                return Err(Finding::error(
                    &file,
                    Some(n),
                    format!("`{address}` is not an address"),
                ));
            };
            let Some(mb) = src
                .domains
                .get_mut(domain)
                .and_then(|d| d.mailboxes.get_mut(local))
            else {
                findings.push(Finding::warning(
                    &file,
                    Some(n),
                    format!("`{address}` has a quota but no account: not carried over"),
                ));
                continue;
            };
            match accounts::size(size) {
                Some(q) => mb.quota = Some(q),
                None => {
                    return Err(Finding::error(
                        &file,
                        Some(n),
                        format!("`{}` is not a size", size.trim()),
                    )
                    .help("write sizes like `500M` or `2G`"));
                }
            }
        }
    }

    // Aliases.
    let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut places: BTreeMap<String, (String, Option<usize>)> = BTreeMap::new();
    let virtual_path = dir.join("postfix-virtual.cf");
    if virtual_path.is_file() {
        let file = shown("postfix-virtual.cf");
        let text = files::read_text(&virtual_path, &file)?;
        for e in table_text(&text, &file)? {
            let Some((local, domain)) = e.key.rsplit_once('@') else {
                return Err(Finding::error(
                    &e.file,
                    Some(e.line),
                    format!("`{}` is not an address or `@domain`", e.key),
                ));
            };
            let targets: Vec<String> = e
                .value
                .split([',', ' ', '\t'])
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect();
            if let Some(bad) = targets.iter().find(|t| !t.contains('@')) {
                return Err(Finding::error(
                    &e.file,
                    Some(e.line),
                    format!("the target `{bad}` is not an address"),
                )
                .help("write full addresses, like `user@example.com`"));
            }
            aliases.insert(e.key.clone(), targets.clone());
            places.insert(
                if local.is_empty() {
                    super::mail::unknown_probe(domain)
                } else {
                    e.key.clone()
                },
                (e.file.clone(), Some(e.line)),
            );
            let md = src
                .domains
                .entry(domain.to_string())
                .or_insert_with(|| MailDomain::new(Role::Local, &e.file, Some(e.line)));
            if local.is_empty() {
                match targets.first() {
                    Some(t) if t.starts_with('@') => src.domain_aliases.push(DomainAlias {
                        alias: domain.to_string(),
                        target: t.trim_start_matches('@').to_string(),
                        unknown: AliasUnknown::BounceUnlessCatchAll,
                        file: e.file.clone(),
                        line: Some(e.line),
                    }),
                    _ => md.unknown = SrcUnknown::Forward(targets.clone()),
                }
                continue;
            }
            md.forwarder(
                (&e.file, Some(e.line)),
                &e.key,
                local,
                &targets,
                "docker-mailserver",
                findings,
            );
        }
    }
    for (name, why) in OTHER_FILES {
        if dir.join(name).is_file() {
            findings.push(Finding::warning(
                &shown(name),
                None,
                format!("not carried over: {why}"),
            ));
        }
    }
    if dir.join("opendkim").is_dir() {
        findings.push(
            Finding::note(&shown("opendkim"), None, "DKIM keys are not imported from here; import the zone to carry their public keys over")
                .help("to sign with a key, copy `opendkim/keys/DOMAIN/SELECTOR.private` to `keys/DOMAIN/SELECTOR.key` and add it to the domain's `dkim` as `private_key`"),
        );
    }

    let sim = Sim {
        classes: src
            .domains
            .keys()
            .map(|d| (d.clone(), Class::VirtualMailbox))
            .collect(),
        aliases,
        mailboxes: mailboxes.clone(),
        relay_recipients: None,
        transports: BTreeMap::new(),
        myorigin: String::new(),
    };
    for a in &mailboxes {
        places
            .entry(a.clone())
            .or_insert((accounts_file.clone(), None));
    }
    super::mail::judge(&mut src, places, |a| sim.verdict(a));
    Ok(src)
}
