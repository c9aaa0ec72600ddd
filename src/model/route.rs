//! `mailc route`: how one address is handled on one host, explained.

use serde::Serialize;

use super::{Expansion, Model, Role, Unknown, names};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Deliver,
    Forward,
    Relay,
    Remote,
    Reject,
    Bounce,
}

/// The answer, in the JSON shape `mailc route --format json` prints (docs/cli.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Route {
    pub address: String,
    pub host: String,
    pub outcome: Outcome,
    pub mailboxes: Vec<String>,
    pub forward: Vec<String>,
    pub next_hop: Option<String>,
    pub reply: Option<String>,
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
    };
    let (local, domain) =
        match names::address(address.trim_start_matches('<').trim_end_matches('>')) {
            Ok(x) => x,
            Err(_) => {
                r.outcome = Outcome::Reject;
                r.reply = Some(format!(
                    "501 5.1.3 <{address}>: bad recipient address syntax"
                ));
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
        r.reply = Some(format!(
            "556 5.1.10 <{addr}>: recipient address rejected: domain {domain} does not accept mail (null MX)"
        ));
        return r;
    }
    let role = d.roles.get(host).cloned().unwrap_or(Role::Remote);
    if role == Role::Remote {
        return r;
    }
    let unknown_reply = format!(
        "550 5.1.1 <{addr}>: recipient address rejected: user unknown in virtual mailbox table"
    );
    // What the domain's primary does with the address.
    enum Verdict<'a> {
        Expand(&'a Expansion),
        Bounce,
        Relay(String),
    }
    let verdict = match d.recipients.get(&local) {
        Some(rec) if !rec.target.is_empty() => Some(Verdict::Expand(&rec.target)),
        Some(_) => None, // only send-only mailboxes behind it
        None => match &d.unknown {
            Unknown::Reject => None,
            Unknown::Bounce => Some(Verdict::Bounce),
            Unknown::Forward { target } if target.is_empty() => None,
            Unknown::Forward { target } => Some(Verdict::Expand(target)),
            Unknown::Relay { host, port } => Some(Verdict::Relay(match port {
                Some(p) => format!("{host}:{p}"),
                None => host.clone(),
            })),
        },
    };
    let Some(verdict) = verdict else {
        r.outcome = Outcome::Reject;
        r.reply = Some(unknown_reply);
        return r;
    };
    if let Role::Backup { primary } = role {
        r.outcome = Outcome::Relay;
        r.next_hop = Some(primary);
        return r;
    }
    match verdict {
        Verdict::Bounce => r.outcome = Outcome::Bounce,
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
