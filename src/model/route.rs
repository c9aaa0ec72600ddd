//! `mailc route`: how one address is handled on one host, and which rule of
//! the spec decided it.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use super::{Domain, Expansion, Model, RecipientKind, Role, Unknown, names};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Deliver,
    Forward,
    Relay,
    Remote,
    Reject,
    Bounce,
    /// Accepted and discarded: an alias that drops, or `unknown_recipients:
    /// drop`.
    Drop,
}

/// The rule of the spec that decided a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The address cannot be read.
    Syntax,
    /// The domain is not one of the spec's.
    NotOurDomain,
    /// The domain receives no mail (`mx: []`).
    NullMx,
    /// The domain's mail service is off (`mail: false`).
    MailOff,
    /// The domain is the spec's, but this host treats it as remote.
    Remote,
    /// A mailbox of the domain.
    Mailbox,
    /// One of a mailbox's `aliases`.
    MailboxAlias,
    /// An alias (possibly through other aliases).
    Alias,
    /// The address leads only to send-only mailboxes.
    SendOnly,
    /// Nobody claims the address; the catch-all (`unknown_recipients:
    /// {forward: …}`) takes it.
    CatchAll,
    /// Nobody claims the address; `unknown_recipients` is `reject`,
    /// `bounce`, `drop` or `{relay: …}`.
    UnknownRecipients,
    /// This host is a backup MX of the domain: it relays to the primary.
    Backup,
}

/// The answer, in the JSON shape of `mailc route --format json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Route {
    pub address: String,
    pub host: String,
    pub outcome: Outcome,
    pub mailboxes: Vec<String>,
    pub forward: Vec<String>,
    pub next_hop: Option<String>,
    pub reply: Option<String>,
    /// The rule that decided; for a backup host, [`Rule::Backup`] (the
    /// primary's rule is in `primary_rule`).
    pub rule: Rule,
    /// For a backup host, the rule the primary applies to the address.
    pub primary_rule: Option<Rule>,
    /// How the address leads to each recipient: one path per mailbox or
    /// outside address, from the address itself, through aliases (or the
    /// catch-all), to the recipient. Empty when no alias is involved.
    pub via: Vec<Vec<String>>,
    /// Mailboxes of `mailboxes` with rules or an autoresponder: they run
    /// after delivery, on each message, so the route cannot say what they
    /// will do.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
}

/// Whether the mailbox `address` has rules or an autoresponder.
fn has_rules(model: &Model, address: &str) -> bool {
    let Some((local, dom)) = address.rsplit_once('@') else {
        return false;
    };
    model
        .domains
        .get(dom)
        .and_then(|d| d.mailboxes.get(local))
        .is_some_and(|m| !m.rules.is_empty() || m.vacation.is_some())
}

/// Explains what host `host` (a key of `model.hosts`) does with mail to `address`.
pub fn route(model: &Model, host: &str, address: &str) -> Route {
    let mut r = Route {
        address: address.to_string(),
        host: host.to_string(),
        outcome: Outcome::Remote,
        mailboxes: Vec::new(),
        forward: Vec::new(),
        next_hop: None,
        reply: None,
        rule: Rule::NotOurDomain,
        primary_rule: None,
        via: Vec::new(),
        rules: Vec::new(),
    };
    let (local, domain) =
        match names::address(address.trim_start_matches('<').trim_end_matches('>')) {
            Ok(x) => x,
            Err(_) => {
                r.outcome = Outcome::Reject;
                r.rule = Rule::Syntax;
                r.reply = Some(crate::reply::bad_syntax(Some(address)));
                return r;
            }
        };
    let addr = format!("{local}@{domain}");
    r.address = addr.clone();
    let Some(d) = model.domains.get(&domain) else {
        return r; // not ours: remote
    };
    if d.null_mx() {
        r.outcome = Outcome::Reject;
        r.rule = Rule::NullMx;
        r.reply = Some(crate::reply::null_mx(&addr, &domain));
        return r;
    }
    if !d.mail {
        r.outcome = Outcome::Reject;
        r.rule = Rule::MailOff;
        r.reply = Some(crate::reply::mail_off(&addr, &domain));
        return r;
    }
    let role = d.roles.get(host).cloned().unwrap_or(Role::Remote);
    if role == Role::Remote {
        r.rule = Rule::Remote;
        return r;
    }
    let unknown_reply = crate::reply::unknown(&addr);
    // What the domain's primary does with the address.
    enum Verdict<'a> {
        Expand(&'a Expansion),
        Bounce,
        Drop,
        Relay(String),
    }
    let (verdict, rule) = match d.recipients.get(&local) {
        Some(rec) => {
            let rule = match rec.kind {
                RecipientKind::Mailbox => Rule::Mailbox,
                RecipientKind::MailboxAlias => Rule::MailboxAlias,
                RecipientKind::Alias => Rule::Alias,
            };
            if rec.target.is_empty() {
                (None, Rule::SendOnly) // only send-only mailboxes behind it
            } else {
                (Some(Verdict::Expand(&rec.target)), rule)
            }
        }
        None => match &d.unknown {
            Unknown::Reject => (None, Rule::UnknownRecipients),
            Unknown::Bounce => (Some(Verdict::Bounce), Rule::UnknownRecipients),
            Unknown::Drop => (Some(Verdict::Drop), Rule::UnknownRecipients),
            Unknown::Forward { target } if target.is_empty() => (None, Rule::CatchAll),
            Unknown::Forward { target } => (Some(Verdict::Expand(target)), Rule::CatchAll),
            Unknown::Relay { host, port } => (
                Some(Verdict::Relay(match port {
                    Some(p) if host.contains(':') => format!("[{host}]:{p}"),
                    Some(p) => format!("{host}:{p}"),
                    None => host.clone(),
                })),
                Rule::UnknownRecipients,
            ),
        },
    };
    r.rule = rule;
    if let Some(Verdict::Expand(e)) = &verdict
        && rule != Rule::Mailbox
    {
        r.via = paths(model, d, &local, e);
    }
    let Some(verdict) = verdict else {
        r.outcome = Outcome::Reject;
        r.reply = Some(unknown_reply);
        return r;
    };
    if let Role::Backup { primary } = role {
        r.outcome = Outcome::Relay;
        r.next_hop = Some(primary);
        r.primary_rule = Some(r.rule);
        r.rule = Rule::Backup;
        return r;
    }
    match verdict {
        Verdict::Bounce => r.outcome = Outcome::Bounce,
        Verdict::Drop => r.outcome = Outcome::Drop,
        Verdict::Expand(e) if e.drops() => r.outcome = Outcome::Drop,
        Verdict::Relay(hop) => {
            r.outcome = Outcome::Relay;
            r.next_hop = Some(hop);
        }
        Verdict::Expand(e) => {
            for m in &e.mailboxes {
                // A mailbox of a domain this host delivers: here; else it leaves.
                let dom = m.rsplit_once('@').map_or("", |(_, d)| d);
                let here =
                    model.domains.get(dom).and_then(|x| x.roles.get(host)) == Some(&Role::Local);
                if here {
                    r.mailboxes.push(m.clone())
                } else {
                    r.forward.push(m.clone())
                }
            }
            r.forward.extend(e.external.iter().cloned());
            r.mailboxes.sort();
            r.rules = r
                .mailboxes
                .iter()
                .filter(|m| has_rules(model, m))
                .cloned()
                .collect();
            r.forward.sort();
            r.forward.dedup();
            r.outcome = if r.mailboxes.is_empty() {
                Outcome::Forward
            } else {
                Outcome::Deliver
            };
        }
    }
    r
}

/// The shortest path from `local@d` to each address of `e`, following
/// aliases, mailbox aliases and (for an address nobody claims) the
/// catch-all. Breadth first over the alias graph: linear in its size, however
/// the aliases share targets.
fn paths(model: &Model, d: &Domain, local: &str, e: &Expansion) -> Vec<Vec<String>> {
    let start = format!("{local}@{}", d.name);
    let next = |addr: &str| -> Vec<String> {
        let Some((l, dom)) = addr.rsplit_once('@') else {
            return Vec::new();
        };
        let Some(domain) = model.domains.get(dom) else {
            return Vec::new();
        };
        match domain.recipients.get(l) {
            Some(rec) => rec.via.clone(),
            None if addr == start => domain.catch_all.iter().cloned().collect(),
            None => Vec::new(),
        }
    };
    let mut parent: BTreeMap<String, Option<String>> = BTreeMap::new();
    parent.insert(start.clone(), None);
    let mut queue = VecDeque::from([start.clone()]);
    while let Some(addr) = queue.pop_front() {
        for n in next(&addr) {
            if !parent.contains_key(&n) {
                parent.insert(n.clone(), Some(addr.clone()));
                queue.push_back(n);
            }
        }
    }
    e.mailboxes
        .iter()
        .chain(e.external.iter())
        .filter_map(|leaf| {
            let mut path = vec![leaf.clone()];
            let mut at = parent.get(leaf)?.clone();
            while let Some(p) = at {
                at = parent.get(&p).cloned().flatten();
                path.push(p);
            }
            path.reverse();
            Some(path)
        })
        .collect()
}

/// A path for people: `team → sales → alice`, with local parts alone
/// where they share the first address's domain.
pub fn show_path(path: &[String]) -> String {
    let domain = path
        .first()
        .and_then(|a| a.rsplit_once('@'))
        .map_or("", |(_, d)| d);
    path.iter()
        .map(|a| match a.rsplit_once('@') {
            Some((l, d)) if d == domain => l.to_string(),
            _ => a.clone(),
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

/// Why the route is what it is, in words: the rule and, for aliases, the
/// chains that lead to each recipient.
pub fn why(model: &Model, r: &Route) -> String {
    let domain = r.address.rsplit_once('@').map_or("", |(_, d)| d);
    let chains = || {
        r.via
            .iter()
            .map(|p| show_path(p))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let policy = |d: Option<&Domain>| match d.map(|d| &d.unknown) {
        Some(Unknown::Bounce) => "`unknown_recipients: bounce`".to_string(),
        Some(Unknown::Drop) => "`unknown_recipients: drop`".to_string(),
        Some(Unknown::Relay { .. }) => "`unknown_recipients: {relay: …}`".to_string(),
        _ => "`unknown_recipients: reject` (the default)".to_string(),
    };
    // Whether the address's expansion only drops (an alias, or the
    // catch-all, ending at `{drop: true}`).
    let local = r.address.rsplit_once('@').map_or("", |(l, _)| l);
    let drops = |d: Option<&Domain>| {
        d.is_some_and(|d| match d.recipients.get(local) {
            Some(rec) => rec.target.drops(),
            None => matches!(&d.unknown, Unknown::Forward { target } if target.drops()),
        })
    };
    let itself_drops = |d: Option<&Domain>| {
        d.and_then(|d| d.recipients.get(local))
            .is_some_and(|rec| rec.target.drops() && rec.via.is_empty())
    };
    let rule = |rule: Rule| -> String {
        let d = model.domains.get(domain);
        match rule {
            Rule::Syntax => "the address cannot be read".into(),
            Rule::NotOurDomain => format!("`{domain}` is not a domain of this spec"),
            Rule::NullMx => format!("`{domain}` receives no mail (`mx: []`, a null MX)"),
            Rule::MailOff => format!("the mail service of `{domain}` is off (`mail: false`)"),
            Rule::Remote => format!(
                "host `{}` treats `{domain}` as remote (it is not in the domain's MX list, or its routing says so)",
                r.host
            ),
            Rule::Mailbox => "mailbox".into(),
            Rule::Alias if itself_drops(d) => {
                "alias that drops its mail (`{drop: true}`): accepted and discarded".into()
            }
            Rule::Alias | Rule::CatchAll if drops(d) => {
                let what = if rule == Rule::Alias {
                    "alias"
                } else {
                    "no mailbox or alias; the catch-all"
                };
                format!(
                    "{what}, which leads only to an alias that drops its mail (`{{drop: true}}`): accepted and discarded"
                )
            }
            Rule::MailboxAlias => format!("mailbox alias: {}", chains()),
            Rule::Alias => format!("alias: {}", chains()),
            Rule::SendOnly => "it leads only to send-only mailboxes, which receive nothing".into(),
            Rule::CatchAll if r.via.is_empty() => {
                "catch-all (`unknown_recipients: {forward: …}`), which leads only to send-only mailboxes".into()
            }
            Rule::CatchAll => format!("no mailbox or alias; catch-all: {}", chains()),
            Rule::UnknownRecipients => format!("no mailbox or alias; {}", policy(d)),
            Rule::Backup => "backup MX".into(),
        }
    };
    match (r.rule, r.primary_rule) {
        (Rule::Backup, Some(p)) => format!(
            "host `{}` is a backup MX of `{domain}`: it accepts what the primary accepts and relays it there (the primary's rule: {})",
            r.host,
            rule(p)
        ),
        (other, _) => rule(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";

    fn model() -> Model {
        crate::model::from_test_yaml(&format!(
            "version: 1\n\
             defaults: {{nameservers: [ns1.example.net], hostmaster: h@example.net, dmarc: {{policy: none}}}}\n\
             hosts:\n  mx1: {{hostname: mx1.example.net, ipv4: 192.0.2.1, stack: embedded}}\n  \
             mx2: {{hostname: mx2.example.net, ipv4: 192.0.2.2, stack: embedded}}\n\
             domains:\n  example.com:\n    mx: [mx1, mx2]\n    mailboxes:\n      \
             alice: {{password: \"{HASH}\", aliases: [a.smith]}}\n      bob: {{password: \"{HASH}\"}}\n    \
             aliases:\n      team: [sales, bob]\n      sales: [alice, partner@far.test]\n    \
             unknown_recipients: {{forward: team}}\n  other.example:\n    mx: [mx1]\n    \
             unknown_recipients: bounce\n"
        ))
    }

    #[test]
    fn routes_name_the_mailboxes_whose_rules_apply_after_delivery() {
        let m = crate::model::from_test_yaml(&format!(
            "version: 1\n\
             defaults: {{nameservers: [ns1.example.net], hostmaster: h@example.net, dmarc: {{policy: none}}}}\n\
             hosts:\n  mx1: {{hostname: mx1.example.net, ipv4: 192.0.2.1, stack: embedded}}\n\
             domains:\n  example.com:\n    mx: [mx1]\n    mailboxes:\n      \
             alice: {{password: \"{HASH}\", rules: [{{then: [{{fileinto: Archive}}]}}]}}\n      \
             bob: {{password: \"{HASH}\", vacation: {{text: Away}}}}\n      \
             carol: {{password: \"{HASH}\"}}\n    \
             aliases:\n      team: [alice, bob, carol]\n"
        ));
        let r = route(&m, "mx1", "team@example.com");
        assert_eq!(r.rules, ["alice@example.com", "bob@example.com"]);
        assert!(route(&m, "mx1", "carol@example.com").rules.is_empty());
    }

    #[test]
    fn every_route_names_its_rule() {
        let m = model();
        let cases = [
            ("mx1", "alice@example.com", Rule::Mailbox, None),
            ("mx1", "a.smith@example.com", Rule::MailboxAlias, None),
            ("mx1", "team@example.com", Rule::Alias, None),
            ("mx1", "nobody@example.com", Rule::CatchAll, None),
            ("mx1", "x@other.example", Rule::UnknownRecipients, None),
            ("mx1", "x@far.test", Rule::NotOurDomain, None),
            ("mx2", "x@other.example", Rule::Remote, None),
            ("mx2", "team@example.com", Rule::Backup, Some(Rule::Alias)),
            ("mx1", "not an address", Rule::Syntax, None),
        ];
        for (host, addr, rule, primary) in cases {
            let r = route(&m, host, addr);
            assert_eq!((r.rule, r.primary_rule), (rule, primary), "{host} {addr}");
        }
    }

    #[test]
    fn drops_are_accepted_and_discarded() {
        let m = crate::model::from_test_yaml(&format!(
            "version: 1\n\
             defaults: {{nameservers: [ns1.example.net], hostmaster: h@example.net, dmarc: {{policy: none}}}}\n\
             hosts:\n  mx1: {{hostname: mx1.example.net, ipv4: 192.0.2.1, stack: embedded}}\n\
             domains:\n  example.com:\n    mx: [mx1]\n    mailboxes:\n      \
             alice: {{password: \"{HASH}\"}}\n    \
             aliases:\n      spam: {{drop: true}}\n      junk: spam\n      both: [spam, alice]\n    \
             unknown_recipients: {{forward: junk}}\n  drop.example:\n    mx: [mx1]\n    \
             unknown_recipients: drop\n"
        ));
        let cases = [
            ("spam@example.com", Outcome::Drop, Rule::Alias),
            ("junk@example.com", Outcome::Drop, Rule::Alias),
            ("both@example.com", Outcome::Deliver, Rule::Alias),
            ("nobody@example.com", Outcome::Drop, Rule::CatchAll),
            ("x@drop.example", Outcome::Drop, Rule::UnknownRecipients),
        ];
        for (addr, outcome, rule) in cases {
            let r = route(&m, "mx1", addr);
            assert_eq!((r.outcome, r.rule), (outcome, rule), "{addr}");
        }
        let r = route(&m, "mx1", "spam@example.com");
        assert!(
            why(&m, &r).starts_with("alias that drops"),
            "{}",
            why(&m, &r)
        );
        let r = route(&m, "mx1", "junk@example.com");
        assert!(why(&m, &r).contains("leads only to an alias that drops"));
        assert_eq!(
            route(&m, "mx1", "both@example.com").mailboxes,
            ["alice@example.com"]
        );
    }

    #[test]
    fn alias_chains_are_shown_to_each_recipient() {
        let m = model();
        let r = route(&m, "mx1", "team@example.com");
        let shown: Vec<String> = r.via.iter().map(|p| show_path(p)).collect();
        assert_eq!(
            shown,
            [
                "team → sales → alice",
                "team → bob",
                "team → sales → partner@far.test"
            ]
        );
        let r = route(&m, "mx1", "a.smith@example.com");
        assert_eq!(r.via, [["a.smith@example.com", "alice@example.com"]]);
        let r = route(&m, "mx1", "nobody@example.com");
        assert_eq!(show_path(&r.via[0]), "nobody → team → sales → alice");
        assert!(why(&m, &r).starts_with("no mailbox or alias; catch-all: nobody → team"));
        let r = route(&m, "mx1", "alice@example.com");
        assert!(r.via.is_empty());
        assert_eq!(why(&m, &r), "mailbox");
        let r = route(&m, "mx2", "alice@example.com");
        assert!(
            why(&m, &r).contains("backup MX of `example.com`"),
            "{}",
            why(&m, &r)
        );
    }
}
