//! The mailbox commands: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE,
//! LIST, LSUB, STATUS and NAMESPACE (RFC 3501 §6.3, RFC 2342).

use std::collections::BTreeMap;

use imap_next::imap_types::IntoStatic;
use imap_next::imap_types::core::{Atom, IString, QuotedChar, Tag};
use imap_next::imap_types::extensions::namespace::Namespace;
use imap_next::imap_types::flag::FlagNameAttribute;
use imap_next::imap_types::mailbox::{ListMailbox, Mailbox};
use imap_next::imap_types::response::{Data, Status, StatusKind};
use imap_next::imap_types::status::{StatusDataItem, StatusDataItemName};
use imap_next::server::Server;

use super::answer::{code_other, encode, no, nz, ok, status};
use super::maildir::{self, DELIMITER, Entry, Folder, Name, Refusal};
use super::session::{Session, blocking};

impl Session {
    /// NAMESPACE (RFC 2342): one personal namespace, the root.
    pub(super) fn namespace(&mut self, server: &mut Server, tag: &Tag<'static>) -> Status<'static> {
        let ns = Namespace::new(
            IString::try_from("").expect("valid"),
            QuotedChar::try_from(DELIMITER).ok(),
        );
        server.enqueue_data(Data::Namespace {
            personal: vec![ns],
            other: Vec::new(),
            shared: Vec::new(),
        });
        ok(tag, "NAMESPACE done")
    }

    pub(super) fn create(&mut self, tag: &Tag<'static>, mailbox: &Mailbox) -> Status<'static> {
        // RFC 3501 §6.3.3: a trailing delimiter only says names go under it.
        let name = match mailbox {
            Mailbox::Other(o) => {
                let raw = o.inner().as_ref();
                let raw = raw.strip_suffix(&[DELIMITER as u8]).unwrap_or(raw);
                self.new_name(raw)
            }
            Mailbox::Inbox => Ok(Name::inbox()),
        };
        let name = match name {
            Ok(n) if n.is_inbox() => return no(tag, "INBOX always exists"),
            Ok(n) => n,
            Err(e) => return no(tag, e),
        };
        let acct = self.account();
        let cap = self.shared.manifest.limits.mailboxes as usize;
        match blocking(|| {
            let _l = acct.lock()?;
            acct.room_for(&name, cap)?;
            acct.create(&name)
        }) {
            Ok(()) => ok(tag, "created"),
            // RFC 5530 §3.
            Err(e @ Refusal::TooMany(_)) => status(
                tag,
                StatusKind::No,
                Some(code_other("LIMIT")),
                &e.to_string(),
            ),
            Err(Refusal::Exists) => status(
                tag,
                StatusKind::No,
                Some(code_other("ALREADYEXISTS")),
                "mailbox already exists",
            ),
            Err(e) => no(tag, &e.to_string()),
        }
    }

    /// DELETE (`to` is `None`) or RENAME.
    pub(super) fn mailbox_op(
        &mut self,
        tag: &Tag<'static>,
        from: &Mailbox,
        to: Option<&Mailbox>,
    ) -> Status<'static> {
        let from = match self.name(from) {
            Ok(n) => n,
            Err(e) => return no(tag, e),
        };
        let to = match to {
            None => None,
            Some(Mailbox::Inbox) => Some(Name::inbox()),
            Some(Mailbox::Other(o)) => match self.new_name(o.inner().as_ref()) {
                Ok(n) => Some(n),
                Err(e) => return no(tag, e),
            },
        };
        let acct = self.account();
        let cap = self.shared.manifest.limits.mailboxes as usize;
        let res = blocking(|| {
            let _l = acct.lock()?;
            match &to {
                None => acct.delete(&from),
                Some(to) => {
                    // Renaming INBOX or into new parents makes mailboxes.
                    let grows = from.is_inbox() || to.parents().iter().any(|p| !acct.exists(p));
                    if grows {
                        acct.room_for(to, cap + usize::from(!from.is_inbox()))?;
                    }
                    acct.rename(&from, to)
                }
            }
        });
        match res {
            Ok(()) => {
                if to.is_none() && self.selected.as_ref().is_some_and(|s| s.name == from) {
                    self.selected = None;
                }
                ok(tag, if to.is_none() { "deleted" } else { "renamed" })
            }
            Err(Refusal::NoMailbox) => status(
                tag,
                StatusKind::No,
                Some(code_other("NONEXISTENT")),
                "no such mailbox",
            ),
            Err(Refusal::Exists) => status(
                tag,
                StatusKind::No,
                Some(code_other("ALREADYEXISTS")),
                "target mailbox already exists",
            ),
            Err(e @ Refusal::TooMany(_)) => status(
                tag,
                StatusKind::No,
                Some(code_other("LIMIT")),
                &e.to_string(),
            ),
            Err(e) => no(tag, &e.to_string()),
        }
    }

    pub(super) fn subscribe(
        &mut self,
        tag: &Tag<'static>,
        mailbox: &Mailbox,
        on: bool,
    ) -> Status<'static> {
        let name = match self.name(mailbox) {
            Ok(n) => n,
            Err(e) => return no(tag, e),
        };
        let acct = self.account();
        match blocking(|| {
            let _l = acct.lock()?;
            acct.subscribe(&name, on)
        }) {
            Ok(()) => ok(tag, if on { "subscribed" } else { "unsubscribed" }),
            Err(e) => no(tag, &e.to_string()),
        }
    }

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

    pub(super) fn status(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        mailbox: &Mailbox,
        names: &[StatusDataItemName],
    ) -> Status<'static> {
        let name = match self.name(mailbox) {
            Ok(n) => n,
            Err(e) => return no(tag, e),
        };
        match self.status_data(&name, names) {
            Ok(data) => {
                server.enqueue_data(data);
                ok(tag, "STATUS done")
            }
            Err(Refusal::NoMailbox) => no(tag, "no such mailbox"),
            Err(e) => no(tag, &e.to_string()),
        }
    }

    /// The `* STATUS` of one mailbox (RFC 3501 §7.2.4).
    pub(super) fn status_data(
        &mut self,
        name: &Name,
        names: &[StatusDataItemName],
    ) -> Result<Data<'static>, Refusal> {
        if names.contains(&StatusDataItemName::HighestModSeq) {
            // RFC 7162 §3.1: a CONDSTORE-enabling command.
            self.condstore = true;
        }
        let acct = self.account();
        let res = blocking(|| {
            let _l = acct.lock()?;
            Folder::sync(&acct, name, false)
        });
        let (folder, _) = res?;
        let count =
            |f: &dyn Fn(&Entry) -> bool| folder.entries.iter().filter(|e| f(e)).count() as u32;
        let items: Vec<StatusDataItem> = names
            .iter()
            .map(|n| match n {
                StatusDataItemName::Messages => {
                    StatusDataItem::Messages(folder.entries.len() as u32)
                }
                StatusDataItemName::Recent => {
                    StatusDataItem::Recent(count(&|e| e.uid >= folder.recent_from))
                }
                StatusDataItemName::UidNext => StatusDataItem::UidNext(nz(folder.uidnext)),
                StatusDataItemName::UidValidity => {
                    StatusDataItem::UidValidity(nz(folder.uidvalidity))
                }
                StatusDataItemName::Unseen => {
                    StatusDataItem::Unseen(count(&|e| !e.flags.contains("\\Seen")))
                }
                StatusDataItemName::Deleted => {
                    StatusDataItem::Deleted(count(&|e| e.flags.contains("\\Deleted")))
                }
                StatusDataItemName::HighestModSeq => {
                    StatusDataItem::HighestModSeq(folder.highestmodseq)
                }
                // RFC 8438, and RFC 9051 §6.3.11: the mailbox's octets.
                StatusDataItemName::Size => {
                    StatusDataItem::Size(folder.entries.iter().map(|e| e.size).sum())
                }
                _ => StatusDataItem::DeletedStorage(
                    folder
                        .entries
                        .iter()
                        .filter(|e| e.flags.contains("\\Deleted"))
                        .map(|e| e.size)
                        .sum(),
                ),
            })
            .collect();
        Ok(Data::Status {
            mailbox: self.mailbox_of(name.as_str()),
            items: items.into(),
        })
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
