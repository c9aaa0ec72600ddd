//! What the server does with one recipient, looked up in the manifest: the
//! same answer `mailc route` gives for the host (a test holds the two
//! together), with the reply text Postfix's backend uses.

use crate::manifest::{Manifest, NextHop, Role, Target, Unknown};

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
    /// Refused with this reply (`550 5.1.1 …`, `556 5.1.10 …`).
    Reject(String),
    /// Not one of our domains: only an authenticated sender may send it
    /// (out by MX lookup); anyone else gets `550 5.7.1` relay denied.
    NotOurs,
}

/// Refusal for an address nobody here accepts (the text of `mailc route`).
pub fn unknown_reply(address: &str) -> String {
    format!(
        "550 5.1.1 <{address}>: recipient address rejected: user unknown in virtual mailbox table"
    )
}

/// Refusal for mail to a domain that publishes a null MX.
pub fn null_mx_reply(address: &str, domain: &str) -> String {
    format!(
        "556 5.1.10 <{address}>: recipient address rejected: domain {domain} does not accept mail (null MX)"
    )
}

/// Refusal for a stranger asking us to relay.
pub fn relay_denied_reply(address: &str) -> String {
    format!("550 5.7.1 <{address}>: relay access denied")
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

/// Decides one recipient address (without angle brackets).
pub fn decide(m: &Manifest, address: &str) -> Decision {
    let Some((local, domain)) = normalize(address) else {
        return Decision::Reject(format!(
            "501 5.1.3 <{address}>: bad recipient address syntax"
        ));
    };
    let addr = format!("{local}@{domain}");
    let Some(d) = m.domains.get(&domain) else {
        return Decision::NotOurs;
    };
    if d.role == Role::NullMx {
        return Decision::Reject(null_mx_reply(&addr, &domain));
    }
    let known = d.recipients.get(&local);
    if known.is_none() && d.refused.contains(&local) {
        return Decision::Reject(unknown_reply(&addr));
    }
    if let Role::Backup { next_hop } = &d.role {
        return match (known, &d.unknown) {
            (None, Unknown::Reject) => Decision::Reject(unknown_reply(&addr)),
            _ => Decision::Relay(next_hop.clone()),
        };
    }
    if let Some(t) = known {
        return Decision::Deliver(t.clone());
    }
    match &d.unknown {
        Unknown::Reject => Decision::Reject(unknown_reply(&addr)),
        Unknown::Bounce => Decision::Bounce,
        Unknown::Forward { target } => Decision::Deliver(target.clone()),
        Unknown::Relay { next_hop } => Decision::Relay(next_hop.clone()),
    }
}
