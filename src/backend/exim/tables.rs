//! The lookup files of one Exim host, decided from the model: which
//! domains and addresses it accepts, delivers, expands, relays or refuses,
//! and who may send as whom. Every rule mirrors
//! [`route`](crate::model::route::route), the contract; the differential
//! test asks Exim itself (`-bt`, `-bh`) and compares.
//!
//! Every file is read with plain `lsearch` by a fixed path and a full key
//! (a whole domain or a whole address): no wildcard, no partial match, no
//! default entry, so `.` and `*` in a key mean themselves. Keys and values
//! are lowercase A-labels and local parts of `[a-z0-9._+-]` (the model's
//! rules), which `lsearch` reads without quoting.
//!
//! Per (domain, host) role:
//!
//! - **Local**: the domain is in `local_domains`. Receiving mailboxes are in
//!   `mailboxes` (delivered to Dovecot over LMTP), every other claimed
//!   address that receives something is in `aliases` with its full
//!   expansion (mailboxes and outside addresses), so alias chains never
//!   reach Exim. Unknown addresses follow the domain's policy: `forward` →
//!   `catch_all_domains` (the catch-all's expansion), `relay` →
//!   `relay_domains` (the next hop), `bounce` → `bounce_domains` (accepted,
//!   then Exim returns a non-delivery report), `drop` → `drop_domains`
//!   (accepted, then thrown away by a `:blackhole:` redirect), `reject` →
//!   nothing (refused at RCPT). An alias that drops is in `aliases` with
//!   the value `:blackhole:`.
//! - **Backup**: the domain is in `backup_any_domains` when the primary
//!   accepts any address (catch-all, bounce, relay), else in
//!   `backup_domains` with the accepted addresses in `recipients`; either
//!   maps to the primary as Exim's `route_data`.
//! - **Remote**: in no file; mail leaves by MX lookup, for authenticated
//!   senders only.
//!
//! On every host, claimed addresses that receive nothing (send-only
//! mailboxes, aliases leading only to them) are in `refused` (550 5.1.1 at
//! RCPT, and a failure when routed, so a catch-all cannot take them), and a
//! null-MX domain (RFC 7505) is in `null_mx_domains` (556 5.1.10), a domain
//! whose mail service is off in `mail_off_domains` (550 5.7.1).

use std::collections::BTreeMap;

use crate::model::{Domain, Expansion, Model, Role, Unknown};

/// One lookup file: key → value, sorted.
pub type Table = BTreeMap<String, String>;

/// Every lookup file of one host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tables {
    pub local_domains: Table,
    pub null_mx_domains: Table,
    pub mail_off_domains: Table,
    pub backup_domains: Table,
    pub backup_any_domains: Table,
    pub catch_all_domains: Table,
    pub relay_domains: Table,
    pub bounce_domains: Table,
    pub drop_domains: Table,
    pub srs_domains: Table,
    pub recipients: Table,
    pub refused: Table,
    pub mailboxes: Table,
    pub aliases: Table,
    pub sender_logins: Table,
}

/// A file's name (in `exim/HOST/`) and what it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TableFile {
    pub file: &'static str,
    pub what: &'static str,
}

const fn file(file: &'static str, what: &'static str) -> TableFile {
    TableFile { file, what }
}

impl Tables {
    /// Every file, in a fixed order.
    pub fn files(&self) -> [(TableFile, &Table); 15] {
        [
            (
                file("local_domains", "domains delivered here"),
                &self.local_domains,
            ),
            (
                file(
                    "null_mx_domains",
                    "domains that receive no mail (null MX, RFC 7505)",
                ),
                &self.null_mx_domains,
            ),
            (
                file(
                    "mail_off_domains",
                    "domains whose mail service is off (`mail: false`)",
                ),
                &self.mail_off_domains,
            ),
            (
                file(
                    "backup_domains",
                    "backup MX domains whose primary takes listed addresses only -> the primary",
                ),
                &self.backup_domains,
            ),
            (
                file(
                    "backup_any_domains",
                    "backup MX domains whose primary takes any address -> the primary",
                ),
                &self.backup_any_domains,
            ),
            (
                file(
                    "catch_all_domains",
                    "local domains with a catch-all -> where unknown addresses go",
                ),
                &self.catch_all_domains,
            ),
            (
                file(
                    "relay_domains",
                    "local domains that relay unknown addresses -> the next hop",
                ),
                &self.relay_domains,
            ),
            (
                file(
                    "bounce_domains",
                    "local domains that accept unknown addresses, then bounce them",
                ),
                &self.bounce_domains,
            ),
            (
                file(
                    "drop_domains",
                    "local domains that accept unknown addresses, then throw the mail away",
                ),
                &self.drop_domains,
            ),
            (
                file(
                    "srs_domains",
                    "local domains whose forwarded mail gets an SRS envelope sender",
                ),
                &self.srs_domains,
            ),
            (
                file(
                    "recipients",
                    "addresses accepted at RCPT (local and backup domains)",
                ),
                &self.recipients,
            ),
            (
                file(
                    "refused",
                    "claimed addresses that receive nothing: refused with 550 5.1.1",
                ),
                &self.refused,
            ),
            (
                file("mailboxes", "addresses delivered to a mailbox here"),
                &self.mailboxes,
            ),
            (
                file(
                    "aliases",
                    "aliases -> their full expansion (mailboxes and outside addresses)",
                ),
                &self.aliases,
            ),
            (
                file("sender_logins", "sender address -> the login that owns it"),
                &self.sender_logins,
            ),
        ]
    }
}

/// Decides every file of host `host`. `primary` gives Exim's `route_data`
/// for a backup's primary (by the hostname the model gives).
pub fn build(model: &Model, host: &str, primary: &dyn Fn(&str) -> String) -> Tables {
    let mut t = Tables::default();
    for d in model.domains.values() {
        if d.null_mx() {
            t.null_mx_domains.insert(d.name.clone(), d.name.clone());
            continue;
        }
        if !d.mail {
            t.mail_off_domains.insert(d.name.clone(), d.name.clone());
            continue;
        }
        match d.roles.get(host) {
            Some(Role::Local) => local(d, &mut t),
            Some(Role::Backup { primary: p }) => backup(d, &primary(p), &mut t),
            Some(Role::Remote) | None => {}
        }
    }
    t
}

fn address(local: &str, d: &Domain) -> String {
    format!("{local}@{}", d.name)
}

/// An expansion as a redirect list: `a@x, b@y`.
fn join(e: &Expansion) -> String {
    let all: Vec<&str> = e
        .mailboxes
        .iter()
        .chain(e.external.iter())
        .map(String::as_str)
        .collect();
    all.join(", ")
}

/// `host[:port]` as a one-item Exim host list (a port's colon doubled).
pub fn route_data(host: &str, port: Option<u16>) -> String {
    // The host list is colon-separated: a colon inside an item is doubled,
    // and an IPv6 address with a port goes in brackets (Exim's manualroute).
    if host.contains(':') {
        let host = host.replace(':', "::");
        return match port {
            Some(p) => format!("[{host}]::{p}"),
            None => host,
        };
    }
    match port {
        Some(p) => format!("{host}::{p}"),
        None => host.to_string(),
    }
}

/// Claimed addresses: accepted when they receive something, else refused.
fn claimed(d: &Domain, t: &mut Tables) {
    for (local, r) in &d.recipients {
        let a = address(local, d);
        if r.target.is_empty() {
            t.refused.insert(a.clone(), a);
        } else {
            t.recipients.insert(a.clone(), a);
        }
    }
}

fn local(d: &Domain, t: &mut Tables) {
    t.local_domains.insert(d.name.clone(), d.name.clone());
    claimed(d, t);
    for (local, r) in &d.recipients {
        if r.target.is_empty() {
            continue;
        }
        let a = address(local, d);
        let to_self = r.target.external.is_empty()
            && r.target.mailboxes.len() == 1
            && r.target.mailboxes.contains(&a);
        if to_self {
            t.mailboxes.insert(a.clone(), a);
        } else if r.target.drops() {
            t.aliases.insert(a, BLACKHOLE.to_string());
        } else {
            t.aliases.insert(a, join(&r.target));
        }
    }
    match &d.unknown {
        Unknown::Reject => {}
        Unknown::Forward { target } if target.is_empty() => {}
        Unknown::Drop => {
            t.drop_domains.insert(d.name.clone(), d.name.clone());
        }
        Unknown::Forward { target } if target.drops() => {
            t.drop_domains.insert(d.name.clone(), d.name.clone());
        }
        Unknown::Forward { target } => {
            t.catch_all_domains.insert(d.name.clone(), join(target));
        }
        Unknown::Bounce => {
            t.bounce_domains.insert(d.name.clone(), d.name.clone());
        }
        Unknown::Relay { host, port } => {
            t.relay_domains
                .insert(d.name.clone(), route_data(host, *port));
        }
    }
    if d.srs {
        t.srs_domains.insert(d.name.clone(), d.name.clone());
    }
    for m in d.mailboxes.values() {
        t.sender_logins.insert(m.address.clone(), m.address.clone());
    }
    for (local, r) in &d.recipients {
        if r.kind != crate::model::RecipientKind::MailboxAlias {
            continue;
        }
        // A mailbox alias sends as its one owner (none when the owner is
        // send-only: it receives nothing and sends as nobody).
        if let (1, Some(owner)) = (r.target.mailboxes.len(), r.target.mailboxes.first()) {
            t.sender_logins.insert(address(local, d), owner.clone());
        }
    }
}

/// Whether the domain's primary accepts any address (so a backup must too).
fn accepts_any(d: &Domain) -> bool {
    match &d.unknown {
        Unknown::Reject => false,
        Unknown::Forward { target } => !target.is_empty(),
        Unknown::Bounce | Unknown::Relay { .. } | Unknown::Drop => true,
    }
}

/// A redirect to nowhere: the mail is accepted and thrown away.
const BLACKHOLE: &str = ":blackhole:";

fn backup(d: &Domain, primary: &str, t: &mut Tables) {
    if accepts_any(d) {
        t.backup_any_domains
            .insert(d.name.clone(), primary.to_string());
    } else {
        t.backup_domains.insert(d.name.clone(), primary.to_string());
    }
    claimed(d, t);
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "'{SHA512-CRYPT}$6$z6MQEt/GaGznLHgp$Byj6wliyFlYZHsGkA4BNdNtrTqS5pXmwqZNxvUaM4udekNI5s8a/QT1eru.9fx11jrZ56JBhTYoI/a1fP.cNA.'";

    /// mx1 (local) and mx2 (backup) for `d.example`, configured by `domain`.
    fn tables(domain: &str, host: &str) -> Tables {
        let yaml = format!(
            "version: 1\n\
             defaults: {{nameservers: [ns1.example.net], hostmaster: h@example.net}}\n\
             hosts:\n  \
               mx1: {{hostname: mx1.example.net, ipv4: 192.0.2.1, stack: exim-dovecot}}\n  \
               mx2: {{hostname: mx2.example.net, ipv4: 192.0.2.2, stack: exim-dovecot}}\n\
             domains:\n  \
               d.example:\n    mx: [mx1, mx2]\n{domain}\n  \
               parked.example: {{mx: []}}\n  \
               elsewhere.example: {{mx: [mx.elsewhere.test]}}\n"
        )
        .replace("HASH", HASH);
        let model = crate::model::from_test_yaml(&yaml);
        build(&model, host, &|h: &str| format!("{h}::25"))
    }

    fn get<'a>(t: &'a Table, key: &str) -> Option<&'a str> {
        t.get(key).map(String::as_str)
    }

    const CATCH_ALL: &str = "    mailboxes: {a: {password: HASH, aliases: [al]}, b: {password: HASH}, n: {password: HASH, send_only: true}}\n    \
                             aliases: {team: [a, b, x@out.test]}\n    \
                             unknown_recipients: {forward: a}";

    #[test]
    fn mailboxes_aliases_and_the_catch_all_are_apart() {
        let t = tables(CATCH_ALL, "mx1");
        assert_eq!(get(&t.mailboxes, "a@d.example"), Some("a@d.example"));
        assert_eq!(get(&t.aliases, "al@d.example"), Some("a@d.example"));
        assert_eq!(
            get(&t.aliases, "team@d.example"),
            Some("a@d.example, b@d.example, x@out.test")
        );
        assert_eq!(get(&t.catch_all_domains, "d.example"), Some("a@d.example"));
        assert_eq!(get(&t.refused, "n@d.example"), Some("n@d.example"));
        assert!(get(&t.recipients, "n@d.example").is_none());
        assert!(get(&t.mailboxes, "n@d.example").is_none());
        assert_eq!(get(&t.sender_logins, "al@d.example"), Some("a@d.example"));
        assert_eq!(get(&t.sender_logins, "n@d.example"), Some("n@d.example"));
    }

    #[test]
    fn a_backup_accepts_exactly_what_the_primary_does() {
        let t = tables("    mailboxes: {a: {password: HASH, aliases: [al]}}", "mx2");
        assert_eq!(
            t.recipients.keys().collect::<Vec<_>>(),
            ["a@d.example", "al@d.example"]
        );
        assert_eq!(
            get(&t.backup_domains, "d.example"),
            Some("mx1.example.net::25")
        );
        assert!(t.local_domains.is_empty() && t.mailboxes.is_empty() && t.aliases.is_empty());
        let t = tables(CATCH_ALL, "mx2");
        assert_eq!(
            get(&t.backup_any_domains, "d.example"),
            Some("mx1.example.net::25")
        );
        assert!(t.backup_domains.is_empty());
        assert_eq!(get(&t.refused, "n@d.example"), Some("n@d.example"));
    }

    #[test]
    fn bounce_relay_and_null_mx() {
        let t = tables(
            "    mailboxes: {a: {password: HASH}}\n    unknown_recipients: bounce",
            "mx1",
        );
        assert_eq!(get(&t.bounce_domains, "d.example"), Some("d.example"));
        let t = tables(
            "    mailboxes: {a: {password: HASH}}\n    unknown_recipients: {relay: old.test:2525}",
            "mx1",
        );
        assert_eq!(get(&t.relay_domains, "d.example"), Some("old.test::2525"));
        // As `exim -bt` reads them: `host 2001:db8::25 [2001:db8::25] port=2525`.
        assert_eq!(
            route_data("2001:db8::25", Some(2525)),
            "[2001::db8::::25]::2525"
        );
        assert_eq!(route_data("2001:db8::25", None), "2001::db8::::25");
        assert_eq!(
            get(&t.null_mx_domains, "parked.example"),
            Some("parked.example")
        );
        for (_, table) in t.files() {
            assert!(table.keys().all(|k| !k.contains("elsewhere.example")));
        }
    }
}
