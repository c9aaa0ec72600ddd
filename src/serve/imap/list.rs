//! LIST and LSUB (RFC 3501 §6.3.8, §6.3.9), LIST-EXTENDED (RFC 5258)
//! with LIST-STATUS (RFC 5819) and the SPECIAL-USE attributes (RFC 6154),
//! the one `* LIST` line SELECT sends an IMAP4rev2 client, and the
//! matching of LIST's wildcards.

use std::collections::BTreeMap;

use imap_next::imap_types::IntoStatic;
use imap_next::imap_types::core::{Atom, QuotedChar, Tag};
use imap_next::imap_types::flag::FlagNameAttribute;
use imap_next::imap_types::mailbox::{ListMailbox, Mailbox};
use imap_next::imap_types::response::{Data, Status};
use imap_next::server::Server;

use super::answer::{encode, no, ok};
use super::ext::List;
use super::maildir::{self, DELIMITER, Name};
use super::session::{Session, blocking};

impl Session {
    /// The `* LIST` line of one mailbox, with the attributes LIST gives it
    /// (RFC 9051 §6.3.2 has SELECT send it).
    pub(super) fn list_line(&self, name: &Name) -> Vec<u8> {
        let acct = self.account();
        let names = blocking(|| {
            let _l = acct.lock()?;
            acct.list()
        })
        .unwrap_or_default();
        let prefix = format!("{}{DELIMITER}", name.as_str());
        let children = names.iter().any(|m| m.as_str().starts_with(&prefix));
        let special = maildir::SPECIAL_USE
            .iter()
            .find(|(n, _)| *n == name.as_str())
            .map(|(_, use_)| *use_);
        let attr = if children {
            "HasChildren"
        } else {
            "HasNoChildren"
        };
        let items = std::iter::once(attr)
            .chain(special)
            .filter_map(|a| Atom::try_from(a).ok())
            .map(|a| FlagNameAttribute::from(a).into_static())
            .collect();
        encode(Data::List {
            items,
            delimiter: QuotedChar::try_from(DELIMITER).ok(),
            mailbox: self.mailbox_of(name.as_str()),
        })
    }

    pub(super) fn list(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        reference: &Mailbox,
        pattern: &ListMailbox,
        lsub: bool,
    ) -> Status<'static> {
        let reference: Vec<u8> = match reference {
            Mailbox::Inbox => b"INBOX".to_vec(),
            Mailbox::Other(o) => o.inner().as_ref().to_vec(),
        };
        let pattern: Vec<u8> = match pattern {
            ListMailbox::Token(t) => t.as_ref().to_vec(),
            ListMailbox::String(s) => s.as_ref().to_vec(),
        };
        let delim = QuotedChar::try_from(DELIMITER).ok();
        if pattern.is_empty() && !lsub {
            // RFC 3501 §6.3.8: the delimiter and the root.
            server.enqueue_data(Data::List {
                items: vec![FlagNameAttribute::Noselect],
                delimiter: delim,
                mailbox: self.mailbox_of(""),
            });
            return ok(tag, "LIST done");
        }
        let mut full = reference;
        full.extend_from_slice(&pattern);
        let acct = self.account();
        let res = blocking(|| {
            let _l = acct.lock()?;
            Ok::<_, std::io::Error>((acct.list()?, acct.subscriptions()?))
        });
        let Ok((names, subs)) = res else {
            return no(tag, "cannot list mailboxes");
        };
        let children = |n: &str| {
            let prefix = format!("{n}{DELIMITER}");
            names.iter().any(|m| m.as_str().starts_with(&prefix))
        };
        // Patterns match the names as the client sees them.
        let hit = |n: &str| {
            let shown = self.shown_name(n);
            wildcard(&full, shown.as_bytes())
                || (n == "INBOX" && wildcard(&full.to_ascii_uppercase(), n.as_bytes()))
        };
        // Each name once, with whether it is only there as the superior of
        // a subscribed name that `%` stopped at (RFC 3501 §6.3.9: LSUB
        // gives it as \Noselect).
        let mut found: BTreeMap<String, bool> = BTreeMap::new();
        if lsub {
            for n in &subs {
                if hit(n) {
                    found.insert(n.clone(), false);
                    continue;
                }
                for p in Name::parse(n.as_bytes())
                    .map(|n| n.parents())
                    .unwrap_or_default()
                {
                    if hit(p.as_str()) && !subs.contains(p.as_str()) {
                        found.entry(p.as_str().to_string()).or_insert(true);
                    }
                }
            }
        } else {
            found.extend(
                names
                    .iter()
                    .filter(|n| hit(n.as_str()))
                    .map(|n| (n.as_str().to_string(), false)),
            );
        }
        // INBOX first, as LIST has always shown it.
        let mut order: Vec<(String, bool)> = found.into_iter().collect();
        order.sort_by_key(|(n, _)| n != "INBOX");
        for (n, noselect) in order {
            let mut items = Vec::new();
            if noselect {
                items.push(FlagNameAttribute::Noselect);
            } else {
                let attr = if children(&n) {
                    "HasChildren"
                } else {
                    "HasNoChildren"
                };
                // RFC 6154 §2: LIST itself names the special-use mailboxes.
                let special = maildir::SPECIAL_USE
                    .iter()
                    .find(|(name, _)| *name == n)
                    .filter(|_| !lsub)
                    .map(|(_, use_)| *use_);
                for a in std::iter::once(attr).chain(special) {
                    if let Ok(a) = Atom::try_from(a) {
                        items.push(FlagNameAttribute::from(a).into_static());
                    }
                }
            }
            let mailbox = self.mailbox_of(&n);
            server.enqueue_data(if lsub {
                Data::Lsub {
                    items,
                    delimiter: delim,
                    mailbox,
                }
            } else {
                Data::List {
                    items,
                    delimiter: delim,
                    mailbox,
                }
            });
        }
        ok(tag, if lsub { "LSUB done" } else { "LIST done" })
    }

    /// LIST-EXTENDED (RFC 5258) with LIST-STATUS (RFC 5819).
    pub(super) fn list_extended(&mut self, tag: &Tag<'static>, list: &List) -> Status<'static> {
        let delim = QuotedChar::try_from(DELIMITER).ok();
        if list.patterns.iter().all(Vec::is_empty) {
            // RFC 3501 §6.3.8: the delimiter and the root.
            self.raw.extend(encode(Data::List {
                items: vec![FlagNameAttribute::Noselect],
                delimiter: delim,
                mailbox: self.mailbox_of(""),
            }));
            return ok(tag, "LIST done");
        }
        let patterns: Vec<Vec<u8>> = list
            .patterns
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| [&list.reference[..], p].concat())
            .collect();
        // Patterns match the names as the client sees them.
        let hit = |n: &str| {
            let shown = self.shown_name(n);
            patterns.iter().any(|p| {
                wildcard(p, shown.as_bytes())
                    || (n == "INBOX" && wildcard(&p.to_ascii_uppercase(), n.as_bytes()))
            })
        };
        let acct = self.account();
        let res = blocking(|| {
            let _l = acct.lock()?;
            Ok::<_, std::io::Error>((acct.list()?, acct.subscriptions()?))
        });
        let Ok((names, subs)) = res else {
            return no(tag, "cannot list mailboxes");
        };
        let exists = |n: &str| names.iter().any(|m| m.as_str() == n);
        let children = |n: &str| {
            let prefix = format!("{n}{DELIMITER}");
            names.iter().any(|m| m.as_str().starts_with(&prefix))
        };
        let special = |n: &str| {
            maildir::SPECIAL_USE
                .iter()
                .find(|(name, _)| *name == n)
                .map(|(_, use_)| *use_)
        };
        // The names selected, each with whether a descendant that matches
        // the selection but not the patterns stands behind it (CHILDINFO,
        // RFC 5258 §3.5).
        let mut found: BTreeMap<String, bool> = BTreeMap::new();
        if list.subscribed {
            for n in &subs {
                if hit(n) {
                    found.entry(n.to_string()).or_insert(false);
                } else if list.recursive {
                    for p in Name::parse(n.as_bytes())
                        .map(|n| n.parents())
                        .unwrap_or_default()
                    {
                        if hit(p.as_str()) {
                            found.insert(p.as_str().to_string(), true);
                        }
                    }
                }
            }
        } else {
            found.extend(
                names
                    .iter()
                    .filter(|n| hit(n.as_str()))
                    .map(|n| (n.as_str().to_string(), false)),
            );
        }
        if list.special_use_only {
            found.retain(|n, _| special(n).is_some());
        }
        let mut order: Vec<(String, bool)> = found.into_iter().collect();
        order.sort_by_key(|(n, _)| n != "INBOX");
        for (n, childinfo) in order {
            let subscribed = subs.contains(&n);
            let mut attrs: Vec<&str> = Vec::new();
            if !exists(&n) {
                attrs.push("NonExistent");
            } else {
                // Given whether or not RETURN (CHILDREN) asks (RFC 5258 §4).
                attrs.push(if children(&n) {
                    "HasChildren"
                } else {
                    "HasNoChildren"
                });
            }
            if subscribed && (list.subscribed || list.return_subscribed) {
                attrs.push("Subscribed");
            }
            attrs.extend(special(&n).filter(|_| exists(&n)));
            let items = attrs
                .into_iter()
                .filter_map(|a| Atom::try_from(a).ok())
                .map(|a| FlagNameAttribute::from(a).into_static())
                .collect();
            let mut line = encode(Data::List {
                items,
                delimiter: delim,
                mailbox: self.mailbox_of(&n),
            });
            if childinfo {
                line.truncate(line.len() - 2);
                line.extend_from_slice(b" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n");
            }
            self.raw.extend(line);
            // RFC 5819 §2: STATUS after the mailbox's LIST, for mailboxes
            // that can be selected.
            if !list.status.is_empty() && exists(&n) {
                let Some(name) = Name::parse(n.as_bytes()) else {
                    continue;
                };
                if let Ok(data) = self.status_data(&name, &list.status) {
                    self.raw.extend(encode(data));
                }
            }
        }
        ok(tag, "LIST done")
    }
}

/// LIST matching (RFC 3501 §6.3.8): `*` matches anything, `%` anything
/// but the delimiter. One pass per pattern byte, so a hostile pattern costs
/// no more than its length times the name's.
pub(super) fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    // reach[j]: the pattern so far matches the first j bytes of the name.
    let mut reach = vec![false; name.len() + 1];
    reach[0] = true;
    for &c in pattern {
        let mut next = vec![false; name.len() + 1];
        let mut on = false;
        for j in 0..=name.len() {
            match c {
                b'*' => {
                    on |= reach[j];
                    next[j] = on;
                }
                b'%' => {
                    if j > 0 && name[j - 1] == DELIMITER as u8 {
                        on = false;
                    }
                    on |= reach[j];
                    next[j] = on;
                }
                _ => next[j] = j > 0 && reach[j - 1] && name[j - 1] == c,
            }
        }
        reach = next;
    }
    reach[name.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_wildcards() {
        assert!(wildcard(b"*", b"a.b"));
        assert!(wildcard(b"%", b"a"));
        assert!(!wildcard(b"%", b"a.b"));
        assert!(wildcard(b"a.%", b"a.b"));
        assert!(wildcard(b"INBOX", b"INBOX"));
        assert!(!wildcard(b"a*c", b"ab"));
        assert!(wildcard(b"a*c", b"abc.c"));
        assert!(wildcard(b"%.%", b"a.b"));
        assert!(!wildcard(b"%.%", b"a.b.c"));
        assert!(wildcard(b"", b""));
        let long = vec![b'a'; 200];
        assert!(!wildcard(b"*a*a*a*a*a*a*a*a*a*a*a*b", &long));
    }
}
