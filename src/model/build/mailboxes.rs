//! A domain's recipients: mailboxes (password, quota, services, rules,
//! vacation), their aliases, aliases, and what becomes of mail to unknown
//! recipients; every local part claimed once.

use super::*;

/// A domain's recipients, as [`Builder::recipients`] read them.
pub(super) struct Recipients {
    pub claims: Claims,
    pub mailboxes: BTreeMap<String, Mailbox>,
    pub forwards: Vec<validate::rules::Forward>,
    pub unknown: Unknown,
    pub catch_all: Option<String>,
}

impl Builder<'_> {
    /// The domain's mailboxes and aliases, claimed for the recipient
    /// tables, and what becomes of mail to anyone else.
    pub(super) fn recipients(
        &mut self,
        name: &str,
        d: &spec::Domain,
        services: &BTreeSet<Service>,
        hosts: &[HostEntry],
        roles: &BTreeMap<String, Role>,
        mail: bool,
    ) -> Recipients {
        let def = self.defaults;
        let quota_default = d.own.quota.as_ref().or(def.quota.as_ref());
        let mut claims = Claims::default();
        let mut claimed: BTreeMap<String, Span> = BTreeMap::new();
        let mut mailboxes = BTreeMap::new();
        let mut forwards = Vec::new();
        for (local, m) in d.mailboxes.iter() {
            let Some(l) = self.local(local, "mailbox") else {
                continue;
            };
            if !self.claim(&mut claimed, &l, local.span, name) {
                continue;
            }
            let address = format!("{l}@{name}");
            let password = m
                .password
                .as_ref()
                .and_then(|p| validate::password::check(p, &address, self.diags));
            let quota = m
                .quota
                .as_ref()
                .or(quota_default)
                .and_then(|q| self.quota(q));
            let send_only = m.send_only.as_ref().is_some_and(|s| s.value);
            let limits =
                crate::model::limits::mailbox(m.limits.as_ref(), def.limits.as_ref(), self.diags);
            let disabled = m.disabled.as_ref().is_some_and(|s| s.value);
            let mailbox_services = match &m.services {
                None => services.clone(),
                Some(list) => {
                    for s in list.value.iter().filter(|s| !services.contains(&s.value)) {
                        let word = s.value.as_str();
                        self.err(
                            Code::MailboxService,
                            s.span,
                            format!(
                                "mailbox `{l}@{name}` lists `{word}`, which `{name}` does not offer"
                            ),
                            "not among the domain's services",
                            format!(
                                "add `{word}` to the `services` of `{name}`, or remove it here"
                            ),
                        );
                    }
                    list.value
                        .iter()
                        .map(|s| s.value)
                        .filter(|s| services.contains(s))
                        .collect()
                }
            };
            claims.mailboxes.insert(l.clone(), (send_only, local.span));
            let mut own_aliases = Vec::new();
            for a in &m.aliases {
                let Some(al) = self.local(a, "mailbox alias") else {
                    continue;
                };
                own_aliases.push(format!("{al}@{name}"));
                if self.claim(&mut claimed, &al, a.span, name) {
                    claims.mailbox_aliases.insert(al, (l.clone(), a.span));
                }
            }
            let rules = validate::rules::rules(&m.rules, &address, name, &mut forwards, self.diags);
            let reject = m
                .rules
                .iter()
                .flat_map(|r| r.actions.iter())
                .flat_map(|a| &a.value)
                .find_map(|a| matches!(a.kind, spec::ActionKind::Reject(_)).then_some(a.span));
            let vacation = m
                .vacation
                .as_ref()
                .and_then(|v| validate::rules::vacation(v, name, &own_aliases, reject, self.diags));
            mailboxes.insert(
                l.clone(),
                Mailbox {
                    address,
                    local: l,
                    password: password.unwrap_or_default(),
                    quota,
                    send_only,
                    disabled,
                    services: mailbox_services,
                    rules,
                    vacation,
                    limits,
                },
            );
        }
        for (local, targets) in d.aliases.iter() {
            let Some(l) = self.local(local, "alias") else {
                continue;
            };
            if !self.claim(&mut claimed, &l, local.span, name) {
                continue;
            }
            if let Some(drop) = &targets.drop {
                if drop.value {
                    claims
                        .aliases
                        .insert(l, (vec![(Target::Drop, drop.span)], local.span));
                    continue;
                }
                self.err(
                    Code::EmptyAlias,
                    drop.span,
                    format!("alias `{l}` has no targets"),
                    "`drop: false` says nothing",
                    "list where its mail goes, or write `{drop: true}` to accept it and discard it"
                        .into(),
                );
                continue;
            }
            if targets.targets.is_empty() {
                self.err(
                    Code::EmptyAlias,
                    local.span,
                    format!("alias `{l}` has no targets"),
                    "empty alias",
                    "list where its mail goes, or remove it".into(),
                );
                continue;
            }
            let ts: Vec<(Target, Span)> = targets
                .targets
                .iter()
                .filter_map(|t| self.target(t, name).map(|x| (x, t.span)))
                .collect();
            if ts.len() != targets.targets.len() {
                claims.broken.push(l.clone());
            }
            claims.aliases.insert(l, (ts, local.span));
        }
        let unknown_spec = d
            .own
            .unknown_recipients
            .as_ref()
            .or(def.unknown_recipients.as_ref());
        let mut catch_all = None;
        let unknown = match unknown_spec.map(|u| (&u.value, u.span)) {
            None | Some((UnknownRecipients::Reject, _)) => Unknown::Reject,
            Some((UnknownRecipients::Bounce, span)) => {
                self.diags.push(
                    Diagnostic::warning(Code::Bounce, span, format!("unknown recipients of `{name}` are accepted, then bounced"))
                        .label("backscatter")
                        .help("bounces of forged-sender spam go to innocent people; `reject` refuses at RCPT time instead"),
                );
                Unknown::Bounce
            }
            Some((UnknownRecipients::Drop, _)) => Unknown::Drop,
            Some((UnknownRecipients::Forward(t), _)) => {
                if let Some(target) = self.target(t, name) {
                    catch_all = target.address(name);
                    claims.catch_all = Some((target, t.span));
                }
                Unknown::Forward {
                    target: Expansion::default(),
                }
            }
            Some((UnknownRecipients::Relay(h), _)) => {
                self.relay(h, hosts).unwrap_or(Unknown::Reject)
            }
        };
        claims.closed = roles.values().any(|r| *r == Role::Local) || !claimed.is_empty();
        claims.incomplete = broken(d, def, "mailboxes") || broken(d, def, "aliases");
        claims.mail_off = !mail;
        Recipients {
            claims,
            mailboxes,
            forwards,
            unknown,
            catch_all,
        }
    }

    fn local(&mut self, l: &Sp<String>, what: &str) -> Option<String> {
        match names::local_part(&l.value) {
            Ok(x) => Some(x),
            Err(why) => {
                self.err(
                    Code::LocalPart,
                    l.span,
                    format!("`{}` is not a valid {what} name: {why}", l.value),
                    "invalid local part",
                    "use letters, digits and `. _ - +` (no leading, trailing or double dot)".into(),
                );
                None
            }
        }
    }

    /// Records that `local` is claimed; a second claim is an error at both places.
    fn claim(
        &mut self,
        claimed: &mut BTreeMap<String, Span>,
        local: &str,
        span: Span,
        domain: &str,
    ) -> bool {
        if let Some(first) = claimed.get(local) {
            self.diags.push(
                Diagnostic::error(Code::DuplicateRecipient, span, format!("`{local}@{domain}` is defined twice"))
                    .label("second definition")
                    .with(*first, "first definition")
                    .help("a local part is one thing only (a mailbox, a mailbox's alias, or an alias); local parts are compared in lowercase"),
            );
            return false;
        }
        claimed.insert(local.to_string(), span);
        true
    }

    fn target(&mut self, t: &Sp<String>, domain: &str) -> Option<Target> {
        if t.value.contains('@') {
            match names::address(&t.value) {
                Ok((l, d)) if d == domain => Some(Target::Local(l)),
                Ok((l, d)) => Some(Target::Address(l, d)),
                Err(why) => {
                    self.err(
                        Code::Address,
                        t.span,
                        format!("`{}` is not a valid address: {why}", t.value),
                        "invalid address",
                        "write a local part of this domain (`alice`) or a full address (`bob@example.org`)".into(),
                    );
                    None
                }
            }
        } else {
            self.local(t, "target").map(Target::Local)
        }
    }

    fn quota(&mut self, q: &Sp<String>) -> Option<u64> {
        match names::quota(&q.value) {
            Ok(b) => Some(b),
            Err(why) => {
                self.err(
                    Code::Quota,
                    q.span,
                    format!("`{}` is not a valid quota: {why}", q.value),
                    "invalid quota",
                    "write a size like `500M`, `2G` or `1T`; leave `quota` out for no limit".into(),
                );
                None
            }
        }
    }

    fn relay(&mut self, h: &Sp<String>, hosts: &[HostEntry]) -> Option<Unknown> {
        let bad = |b: &mut Self, why: String| {
            b.err(
                Code::Relay,
                h.span,
                format!("`{}` is not a valid relay destination: {why}", h.value),
                "invalid relay",
                "write a host key of this spec, an FQDN or an IP address, with an optional port: `mx.example.net:2525`, `192.0.2.25:2525`, `[2001:db8::25]:2525`".into(),
            );
            None
        };
        let (host, port) = match names::host_port(&h.value) {
            Ok(x) => x,
            Err(why) => return bad(self, why),
        };
        if host.parse::<std::net::IpAddr>().is_ok() {
            return Some(Unknown::Relay { host, port });
        }
        if let Some(x) = hosts.iter().find(|x| x.key == host) {
            return Some(Unknown::Relay {
                host: x.hostname.clone(),
                port,
            });
        }
        match names::fqdn(&host) {
            Ok(name) => Some(Unknown::Relay { host: name, port }),
            Err(why) => bad(self, why),
        }
    }
}
