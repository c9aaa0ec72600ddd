//! What the server does with one recipient, looked up in the manifest: the
//! same answer `mailc route` gives for the host (a test holds the two
//! together), with the reply text Postfix's backend uses.

use crate::manifest::{Manifest, NextHop, Role, Target, Unknown};
use crate::reply;

/// The decision for one RCPT TO.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Accepted: copies into these users' INBOXes, and on to these addresses.
    Deliver(Target),
    /// Accepted and queued for another server (a backup's primary, a
    /// domain's `relay`).
    Relay(NextHop),
    /// Accepted, then a non-delivery report goes back to the sender.
    Bounce,
    /// Accepted and thrown away.
    Drop,
    /// Refused with this reply (`550 5.1.1 …`, `556 5.1.10 …`).
    Reject(String),
    /// Not one of our domains: only an authenticated sender may send it
    /// (out by MX lookup); anyone else gets `550 5.7.1` relay denied.
    NotOurs,
}

/// Refusal for a stranger asking us to relay.
pub fn relay_denied_reply(address: &str) -> String {
    reply::relay_denied(550, address)
}

/// Splits `local@domain` and lowercases it (domains are A-labels in the
/// manifest; an U-label domain is converted).
pub fn normalize(address: &str) -> Option<(String, String)> {
    let (local, domain) = address.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    let domain = idna::domain_to_ascii(domain.trim_end_matches('.')).ok()?;
    Some((local.to_lowercase(), domain))
}

/// Refusal for an address that is not well formed (or, in one of our
/// domains, has a local part no mailbox of ours can have).
pub fn syntax_reply(address: &str) -> String {
    reply::bad_syntax(Some(&crate::serve::address::display(address)))
}

/// Whether a local part is one a spec can give a mailbox or alias: letters,
/// digits and `. _ - +`, no dot leading, trailing or doubled, at most 64
/// octets — what `mailc route` accepts (a test holds the two together).
/// In our domains anything else is refused at RCPT: it can only reach a
/// catch-all, and `%`, `!`, `@` or quotes in it would be routing a next
/// hop might act on (as Postfix's `allow_untrusted_routing = no`).
pub fn valid_local(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
}

/// The address `RCPT TO:<Postmaster>` (no domain, RFC 5321 §4.5.1) stands
/// for: `postmaster@` the host name, else its nearest parent domain that is
/// ours, else the first of our domains (in name order) that delivers or
/// relays mail for its postmaster. `None` when no domain of ours does.
pub fn postmaster(m: &Manifest) -> Option<String> {
    let takes = |a: &str| matches!(decide(m, a), Decision::Deliver(_) | Decision::Relay(_));
    let mut name = m.hostname.trim_end_matches('.').to_ascii_lowercase();
    loop {
        let a = format!("postmaster@{name}");
        if m.domains.contains_key(&name) && takes(&a) {
            return Some(a);
        }
        match name.split_once('.') {
            Some((_, parent)) if parent.contains('.') => name = parent.to_string(),
            _ => break,
        }
    }
    m.domains
        .keys()
        .map(|d| format!("postmaster@{d}"))
        .find(|a| takes(a))
}

/// Decides one recipient address (internal form, without angle brackets).
pub fn decide(m: &Manifest, address: &str) -> Decision {
    let Some((local, domain)) = normalize(address) else {
        return Decision::Reject(syntax_reply(address));
    };
    let addr = format!("{local}@{domain}");
    let Some(d) = m.domains.get(&domain) else {
        return Decision::NotOurs;
    };
    if !valid_local(&local) {
        return Decision::Reject(syntax_reply(&addr));
    }
    if d.role == Role::NullMx {
        return Decision::Reject(reply::null_mx(&addr, &domain));
    }
    if d.role == Role::MailOff {
        return Decision::Reject(reply::mail_off(&addr, &domain));
    }
    let known = d.recipients.get(&local);
    if known.is_none() && d.refused.contains(&local) {
        return Decision::Reject(reply::unknown(&addr));
    }
    if let Role::Backup { next_hop } = &d.role {
        return match (known, &d.unknown) {
            (None, Unknown::Reject) => Decision::Reject(reply::unknown(&addr)),
            _ => Decision::Relay(next_hop.clone()),
        };
    }
    if let Some(t) = known {
        return deliver(t);
    }
    match &d.unknown {
        Unknown::Reject => Decision::Reject(reply::unknown(&addr)),
        Unknown::Bounce => Decision::Bounce,
        Unknown::Drop => Decision::Drop,
        Unknown::Forward { target } => deliver(target),
        Unknown::Relay { next_hop } => Decision::Relay(next_hop.clone()),
    }
}

/// Delivery to a target, or the drop of an alias that only drops.
fn deliver(t: &Target) -> Decision {
    if t.drop && t.mailboxes.is_empty() && t.forward.is_empty() {
        Decision::Drop
    } else {
        Decision::Deliver(t.clone())
    }
}
