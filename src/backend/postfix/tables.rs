//! The lookup tables of one Postfix host, decided from the model: which
//! addresses it delivers, rewrites, relays, refuses, and who may send as
//! whom. `main.cf` names each table; `postmap` builds it. Every rule here
//! mirrors [`route`](crate::model::route::route), which is the contract: the
//! differential test asks Postfix itself (`sendmail -bv`) and compares.
//!
//! Per (domain, host) role:
//!
//! - **Local**: a virtual mailbox domain. Receiving mailboxes are listed in
//!   `virtual_mailboxes` and map to themselves in `virtual_aliases`: Postfix
//!   stops alias expansion at an address that maps to itself, so a catch-all
//!   (`@domain` in the same table) never swallows a real mailbox — the
//!   well-known pitfall of virtual catch-alls. Aliases map to their full
//!   expansion (mailboxes and outside addresses), which ends at those
//!   self-mappings. Unknown addresses follow the domain's policy:
//!   - `reject`: nothing listed, so `smtpd_reject_unlisted_recipient`
//!     refuses them at RCPT with `550 5.1.1`;
//!   - `forward`: `@domain` → the catch-all's expansion;
//!   - `drop`: `@domain` is a valid mailbox (accepted at RCPT) whose
//!     transport is `discard:`; the domain's own mailboxes keep the LMTP
//!     transport, as for `relay`;
//!   - `bounce`: `@domain` is a valid mailbox (accepted at RCPT); Dovecot,
//!     which has no such user, refuses it over LMTP, and Postfix sends the
//!     sender a non-delivery report;
//!   - `relay`: `@domain` is accepted and its transport is the relay host;
//!     the domain's own mailboxes keep the LMTP transport.
//! - **Backup**: a relay domain whose `relay_recipients` are exactly the
//!   addresses the primary accepts (`@domain` when it accepts any: catch-all,
//!   bounce, relay), with a transport to the primary. `recipient_access`
//!   refuses the rest with the primary's own reply (`DUNNO` for the known
//!   ones, the refusal for the domain).
//! - **Remote**: in no table; mail leaves by MX lookup (authenticated senders
//!   only, by `reject_unauth_destination`).
//!
//! An alias that drops (`{drop: true}`, or aliases that lead only to one)
//! maps to itself, so it is listed and a catch-all cannot take it, and its
//! transport is `discard:`: accepted at RCPT, then thrown away.
//!
//! On every host, addresses the domain refuses although they are claimed
//! (send-only mailboxes, aliases leading only to them) are refused at RCPT by
//! `recipient_access` with `550 5.1.1` and mapped to themselves, so a
//! catch-all cannot take them; and a null-MX domain (RFC 7505) is refused
//! with `556 5.1.10` (RFC 7505 §4.2), a domain whose mail service is off
//! (`mail: false`) with `550 5.7.1`. All also get an `error:` transport, so
//! mail that enters without SMTP (`sendmail`, `-bv` probes) meets the same
//! verdict (smtpd itself also refuses recipients whose transport is `error:`).

use std::borrow::Cow;

use serde::Serialize;

use crate::model::{Domain, Expansion, Model, Role, Unknown};
use crate::reply::{self, MAIL_OFF, NULL_MX, UNKNOWN, USER_UNKNOWN};

/// Text of a table: borrowed from the model where it can be (addresses,
/// `OK`), built where it must be (expansions, replies).
type Text<'a> = Cow<'a, str>;

/// One lookup table: key → value, each key once, grouped by the domain of
/// its key and sorted by key within it ([`crate::output::by_domain`]):
/// Postfix reads the `postmap`-built table by key, so the order is free, and
/// a domain's rows together let the cache replace them alone.
///
/// Rows are collected in a vector and sorted once by [`Table::finish`]
/// (which [`build`] calls): a hosting server's tables hold a row per
/// address, and one sort of the whole is linear-ish and cache-friendly where
/// a map insert per row is not. A key inserted twice keeps its last value,
/// as a map would.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table<'a> {
    rows: Vec<(Text<'a>, Text<'a>)>,
}

impl<'a> Table<'a> {
    fn insert(&mut self, key: impl Into<Text<'a>>, value: impl Into<Text<'a>>) {
        self.rows.push((key.into(), value.into()));
    }

    /// Sorts by domain then key; of equal keys the last inserted stays.
    fn finish(&mut self) {
        // Stable: equal keys keep their insertion order, the last one wins.
        self.rows
            .sort_by(|a, b| crate::output::by_domain(&a.0, &b.0));
        let mut rows = std::mem::take(&mut self.rows);
        rows.reverse();
        rows.dedup_by(|later, earlier| later.0 == earlier.0);
        rows.reverse();
        self.rows = rows;
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.rows
            .binary_search_by(|(k, _)| crate::output::by_domain(k, key))
            .ok()
            .map(|i| self.rows[i].1.as_ref())
    }

    /// Rows in order: by domain, then key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.rows.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

    /// Keys in order: by domain, then key.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.rows.iter().map(|(k, _)| k.as_ref())
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Postfix's `error:` transport refusing with `status` and `text`, as the
/// access map does at RCPT.
fn error_transport(status: reply::Status, text: &str) -> String {
    format!("error:{} {text}", status.enhanced)
}

/// Every table of one host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tables<'a> {
    /// `virtual_mailbox_domains`: the domains this host delivers.
    pub virtual_domains: Table<'a>,
    /// `virtual_mailbox_maps`: addresses that reach a mailbox here.
    pub virtual_mailboxes: Table<'a>,
    /// `virtual_alias_maps`: aliases, catch-alls, self-mappings.
    pub virtual_aliases: Table<'a>,
    /// `relay_domains`: the domains this host is backup MX for.
    pub relay_domains: Table<'a>,
    /// `relay_recipient_maps`: what the backup accepts for them.
    pub relay_recipients: Table<'a>,
    /// `transport_maps`: next hops that differ from the class default.
    pub transport: Table<'a>,
    /// `check_recipient_access`: replies for refused recipients.
    pub recipient_access: Table<'a>,
    /// `smtpd_sender_login_maps`: sender address → the login owning it.
    pub sender_logins: Table<'a>,
}

/// A table's file (in `postfix/HOST/`), the `main.cf` parameter or
/// restriction that reads it, and what it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TableFile {
    pub file: &'static str,
    pub parameter: &'static str,
    pub what: &'static str,
}

const fn file(file: &'static str, parameter: &'static str, what: &'static str) -> TableFile {
    TableFile {
        file,
        parameter,
        what,
    }
}

impl<'a> Tables<'a> {
    /// Every table with its file, in `main.cf` order.
    pub fn files(&self) -> [(TableFile, &Table<'a>); 8] {
        [
            (
                file(
                    "virtual_domains",
                    "virtual_mailbox_domains",
                    "domains delivered here",
                ),
                &self.virtual_domains,
            ),
            (
                file(
                    "virtual_mailboxes",
                    "virtual_mailbox_maps",
                    "addresses that reach a mailbox here",
                ),
                &self.virtual_mailboxes,
            ),
            (
                file(
                    "virtual_aliases",
                    "virtual_alias_maps",
                    "aliases, catch-alls, and each mailbox mapped to itself",
                ),
                &self.virtual_aliases,
            ),
            (
                file(
                    "relay_domains",
                    "relay_domains",
                    "domains this host is backup MX for",
                ),
                &self.relay_domains,
            ),
            (
                file(
                    "relay_recipients",
                    "relay_recipient_maps",
                    "what the backup accepts: what the primary would",
                ),
                &self.relay_recipients,
            ),
            (
                file(
                    "transport",
                    "transport_maps",
                    "next hops that differ from the default",
                ),
                &self.transport,
            ),
            (
                file(
                    "recipient_access",
                    "check_recipient_access",
                    "recipients refused at RCPT, with the reply",
                ),
                &self.recipient_access,
            ),
            (
                file(
                    "sender_logins",
                    "smtpd_sender_login_maps",
                    "sender address -> the login that owns it",
                ),
                &self.sender_logins,
            ),
        ]
    }
}

/// Where mail leaves to, as the tables need to name it.
pub struct Hops<'a> {
    /// The transport of local mailboxes (`lmtp:unix:private/dovecot-lmtp`).
    pub lmtp: &'a str,
    /// Postfix's next hop (`[name]:port`) for a backup's primary, by the
    /// hostname the model gives.
    pub primary: &'a dyn Fn(&str) -> String,
}

/// Decides every table of host `host`.
pub fn build<'a>(model: &'a Model, host: &str, hops: &Hops) -> Tables<'a> {
    let mut t = Tables::default();
    for d in model.domains.values() {
        if d.null_mx() {
            let why = reply::null_mx_reason(&d.name);
            t.recipient_access
                .insert(d.name.as_str(), NULL_MX.reply(&why));
            t.transport
                .insert(d.name.as_str(), error_transport(NULL_MX, &why));
            continue;
        }
        if !d.mail {
            let why = reply::mail_off_reason(&d.name);
            t.recipient_access
                .insert(d.name.as_str(), MAIL_OFF.reply(&why));
            t.transport
                .insert(d.name.as_str(), error_transport(MAIL_OFF, &why));
            continue;
        }
        match d.roles.get(host) {
            Some(Role::Local) => local(d, hops, &mut t),
            Some(Role::Backup { primary }) => backup(d, &(hops.primary)(primary), &mut t),
            Some(Role::Remote) | None => {}
        }
    }
    for table in [
        &mut t.virtual_domains,
        &mut t.virtual_mailboxes,
        &mut t.virtual_aliases,
        &mut t.relay_domains,
        &mut t.relay_recipients,
        &mut t.transport,
        &mut t.recipient_access,
        &mut t.sender_logins,
    ] {
        table.finish();
    }
    t
}

/// `local@domain`, borrowed from the mailbox when there is one (most
/// addresses of a hosting server are).
fn address<'a>(local: &str, d: &'a Domain) -> Text<'a> {
    if let Some(m) = d.mailboxes.get(local) {
        return Text::Borrowed(m.address.as_str());
    }
    let mut a = String::with_capacity(local.len() + 1 + d.name.len());
    a.push_str(local);
    a.push('@');
    a.push_str(&d.name);
    Text::Owned(a)
}

/// The expansion as a table value, `a@x, b@y`; borrowed when it is one
/// address.
fn join(e: &Expansion) -> Text<'_> {
    if let (Some(one), true) = (
        e.mailboxes.first(),
        e.mailboxes.len() + e.external.len() == 1,
    ) {
        return Text::Borrowed(one.as_str());
    }
    let mut all = String::new();
    for a in e.mailboxes.iter().chain(e.external.iter()) {
        if !all.is_empty() {
            all.push_str(", ");
        }
        all.push_str(a);
    }
    Text::Owned(all)
}

/// Claimed addresses that receive nothing: refused like unknown ones, and
/// protected from the catch-all.
fn refuse<'a>(d: &'a Domain, t: &mut Tables<'a>) {
    for (local, r) in &d.recipients {
        if r.target.is_empty() {
            let a = address(local, d);
            t.recipient_access
                .insert(a.clone(), UNKNOWN.reply(USER_UNKNOWN));
            t.transport
                .insert(a.clone(), error_transport(UNKNOWN, USER_UNKNOWN));
            t.virtual_aliases.insert(a.clone(), a);
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

/// The transport of mail that is accepted and thrown away.
const DISCARD: &str = "discard:";

fn local<'a>(d: &'a Domain, hops: &Hops, t: &mut Tables<'a>) {
    t.virtual_domains.insert(d.name.as_str(), "OK");
    let catch_all = format!("@{}", d.name);
    // Unknown addresses accepted at RCPT: `bounce` hands them to Dovecot,
    // which has no such user, so Postfix returns a non-delivery report;
    // `relay` sends them on, and then the domain's own mailboxes need their
    // transport spelled out. (An `error:` transport would not do for
    // `bounce`: smtpd refuses such recipients at RCPT.)
    if matches!(d.unknown, Unknown::Bounce | Unknown::Relay { .. }) || d.unknown.drops() {
        t.virtual_mailboxes.insert(catch_all.clone(), "OK");
    }
    let relay = match &d.unknown {
        Unknown::Relay { host, port } => Some(format!("smtp:[{host}]:{}", port.unwrap_or(25))),
        u if u.drops() => Some(DISCARD.to_string()),
        _ => None,
    };
    if let Some(hop) = &relay {
        t.transport.insert(d.name.as_str(), hop.clone());
    }
    for m in d.mailboxes.values().filter(|m| !m.send_only) {
        t.virtual_mailboxes.insert(m.address.as_str(), "OK");
        if relay.is_some() {
            t.transport
                .insert(m.address.as_str(), hops.lmtp.to_string());
        }
    }
    for (local, r) in &d.recipients {
        if r.target.drops() {
            let a = address(local, d);
            t.transport.insert(a.clone(), DISCARD);
            t.virtual_aliases.insert(a.clone(), a);
        } else if !r.target.is_empty() {
            t.virtual_aliases.insert(address(local, d), join(&r.target));
        }
    }
    if let Unknown::Forward { target } = &d.unknown
        && !target.is_empty()
        && !target.drops()
    {
        t.virtual_aliases.insert(catch_all, join(target));
    }
    refuse(d, t);
    senders(d, t);
}

/// A login (a mailbox's address) sends as itself and as its own aliases.
fn senders<'a>(d: &'a Domain, t: &mut Tables<'a>) {
    for m in d.mailboxes.values() {
        t.sender_logins
            .insert(m.address.as_str(), m.address.as_str());
    }
    for (local, r) in &d.recipients {
        if r.kind != crate::model::RecipientKind::MailboxAlias {
            continue;
        }
        // A mailbox alias expands to its one owner (none when the owner is
        // send-only: such an alias receives nothing and sends as nobody).
        if let (1, Some(owner)) = (r.target.mailboxes.len(), r.target.mailboxes.first()) {
            t.sender_logins.insert(address(local, d), owner.as_str());
        }
    }
}

fn backup<'a>(d: &'a Domain, primary: &str, t: &mut Tables<'a>) {
    t.relay_domains.insert(d.name.as_str(), "OK");
    t.transport
        .insert(d.name.as_str(), format!("smtp:{primary}"));
    let refused = UNKNOWN.reply(USER_UNKNOWN);
    if accepts_any(d) {
        t.relay_recipients.insert(format!("@{}", d.name), "OK");
    } else {
        for (local, r) in &d.recipients {
            if !r.target.is_empty() {
                let a = address(local, d);
                t.relay_recipients.insert(a.clone(), "OK");
                // Known: the domain's entry below does not apply.
                t.recipient_access.insert(a, "DUNNO");
            }
        }
        // The rest is refused with the primary's very reply
        // (relay_recipient_maps alone would say "relay recipient table").
        t.recipient_access.insert(d.name.as_str(), refused.clone());
    }
    // Refused at RCPT like the primary does; no alias rewriting here: the
    // primary expands.
    for (local, r) in &d.recipients {
        if r.target.is_empty() {
            t.recipient_access
                .insert(address(local, d), refused.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "'{SHA512-CRYPT}$6$z6MQEt/GaGznLHgp$Byj6wliyFlYZHsGkA4BNdNtrTqS5pXmwqZNxvUaM4udekNI5s8a/QT1eru.9fx11jrZ56JBhTYoI/a1fP.cNA.'";

    /// mx1 (local) and mx2 (backup) for `d.example`, configured by `domain`.
    fn tables(domain: &str, host: &str) -> Tables<'static> {
        let yaml = format!(
            "version: 1\n\
             defaults: {{nameservers: [ns1.example.net], hostmaster: h@example.net}}\n\
             hosts:\n  \
               mx1: {{hostname: mx1.example.net, ipv4: 192.0.2.1, stack: postfix-dovecot}}\n  \
               mx2: {{hostname: mx2.example.net, ipv4: 192.0.2.2, stack: postfix-dovecot}}\n\
             domains:\n  \
               d.example:\n    mx: [mx1, mx2]\n{domain}\n  \
               parked.example: {{mx: []}}\n  \
               elsewhere.example: {{mx: [mx.elsewhere.test]}}\n"
        )
        .replace("HASH", HASH);
        let model = crate::model::from_test_yaml(&yaml);
        // The tables borrow the model; a test's model lives to the end.
        let model = Box::leak(Box::new(model));
        let primary = |h: &str| format!("[{h}]:25");
        build(
            model,
            host,
            &Hops {
                lmtp: "lmtp:unix:private/dovecot-lmtp",
                primary: &primary,
            },
        )
    }

    fn get<'a>(t: &'a Table, key: &str) -> Option<&'a str> {
        t.get(key)
    }

    #[test]
    fn a_table_is_sorted_and_the_last_insert_of_a_key_wins() {
        let mut t = Table::default();
        t.insert("b", "1");
        t.insert("a", "2");
        t.insert("b", "3");
        t.insert("c".to_string(), "4".to_string());
        t.insert("b", "5");
        t.finish();
        assert_eq!(
            t.iter().collect::<Vec<_>>(),
            [("a", "2"), ("b", "5"), ("c", "4")]
        );
        assert_eq!(t.get("b"), Some("5"));
        assert_eq!(t.get("d"), None);
        assert_eq!(t.len(), 3);
    }

    const CATCH_ALL: &str = "    mailboxes: {a: {password: HASH}, b: {password: HASH}, n: {password: HASH, send_only: true}}\n    \
                             aliases: {team: [a, b, x@out.test]}\n    \
                             unknown_recipients: {forward: a}";

    #[test]
    fn a_catch_all_never_swallows_a_mailbox() {
        let t = tables(CATCH_ALL, "mx1");
        assert_eq!(get(&t.virtual_aliases, "@d.example"), Some("a@d.example"));
        assert_eq!(get(&t.virtual_aliases, "b@d.example"), Some("b@d.example"));
        assert_eq!(
            get(&t.virtual_aliases, "team@d.example"),
            Some("a@d.example, b@d.example, x@out.test")
        );
        assert_eq!(get(&t.virtual_domains, "d.example"), Some("OK"));
    }

    #[test]
    fn send_only_is_refused_everywhere_and_out_of_the_catch_alls_reach() {
        let t = tables(CATCH_ALL, "mx1");
        let refused = "550 5.1.1 User unknown in virtual mailbox table";
        assert_eq!(get(&t.recipient_access, "n@d.example"), Some(refused));
        assert_eq!(get(&t.virtual_aliases, "n@d.example"), Some("n@d.example"));
        assert!(get(&t.virtual_mailboxes, "n@d.example").is_none());
        assert!(
            get(&t.transport, "n@d.example")
                .unwrap()
                .starts_with("error:5.1.1")
        );
        assert_eq!(get(&t.sender_logins, "n@d.example"), Some("n@d.example"));
        let backup = tables(CATCH_ALL, "mx2");
        assert_eq!(get(&backup.recipient_access, "n@d.example"), Some(refused));
    }

    #[test]
    fn a_backup_accepts_exactly_what_the_primary_does() {
        let reject = "    mailboxes: {a: {password: HASH, aliases: [al]}}";
        let t = tables(reject, "mx2");
        let accepted: Vec<&str> = t.relay_recipients.keys().collect();
        assert_eq!(accepted, ["a@d.example", "al@d.example"]);
        assert_eq!(get(&t.recipient_access, "a@d.example"), Some("DUNNO"));
        assert!(
            get(&t.recipient_access, "d.example")
                .unwrap()
                .starts_with("550 5.1.1")
        );
        assert_eq!(
            get(&t.transport, "d.example"),
            Some("smtp:[mx1.example.net]:25")
        );
        assert!(t.virtual_domains.is_empty() && t.virtual_aliases.is_empty());
        // A primary that takes anything: so does the backup.
        let t = tables(CATCH_ALL, "mx2");
        assert_eq!(
            t.relay_recipients.keys().collect::<Vec<_>>(),
            ["@d.example"]
        );
        assert!(get(&t.recipient_access, "d.example").is_none());
    }

    #[test]
    fn bounce_and_relay_accept_any_address() {
        let bounce = "    mailboxes: {a: {password: HASH}}\n    unknown_recipients: bounce";
        let t = tables(bounce, "mx1");
        assert_eq!(get(&t.virtual_mailboxes, "@d.example"), Some("OK"));
        assert!(
            get(&t.transport, "d.example").is_none(),
            "Dovecot refuses, Postfix bounces"
        );
        let relay =
            "    mailboxes: {a: {password: HASH}}\n    unknown_recipients: {relay: old.test:2525}";
        let t = tables(relay, "mx1");
        assert_eq!(get(&t.transport, "d.example"), Some("smtp:[old.test]:2525"));
        assert_eq!(
            get(&t.transport, "a@d.example"),
            Some("lmtp:unix:private/dovecot-lmtp")
        );
    }

    #[test]
    fn null_mx_is_refused_and_remote_domains_are_in_no_table() {
        for host in ["mx1", "mx2"] {
            let t = tables("    mailboxes: {a: {password: HASH}}", host);
            assert!(
                get(&t.recipient_access, "parked.example")
                    .unwrap()
                    .starts_with("556 5.1.10 ")
            );
            assert!(
                get(&t.transport, "parked.example")
                    .unwrap()
                    .starts_with("error:5.1.10 ")
            );
            for (_, table) in t.files() {
                assert!(
                    table.keys().all(|k| !k.contains("elsewhere.example")),
                    "{table:?}"
                );
            }
        }
    }
}
