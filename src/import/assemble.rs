//! Building the draft spec from what the sources said: hosts from the
//! zones' addresses, each domain's MX, mailboxes, aliases and policies,
//! with a finding for everything that could not be carried over.

use super::*;

/// The address a host gets when the sources do not give one (RFC 5737's
/// documentation network): the spec needs one, the report says to set it.
pub(super) const PLACEHOLDER_IPV4: &str = "192.0.2.1";

/// The addresses a zone gives `name` (A and AAAA), from any imported zone.
pub(super) fn addresses_in_zones(
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
pub(super) fn mx_of(
    zones: &[(zone::ZoneFile, String)],
    domains: &BTreeSet<String>,
) -> Option<String> {
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
pub(super) fn assemble(
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
pub(super) fn auto_role(mx: &[Mx], h: &str) -> &'static str {
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
pub(super) fn mirror(draft: &mut Draft, a: &mail::DomainAlias, findings: &mut Vec<Finding>) {
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
