//! The mailbox commands but LIST: CREATE, DELETE, RENAME, SUBSCRIBE,
//! UNSUBSCRIBE, STATUS and NAMESPACE (RFC 3501 §6.3, RFC 2342).

use imap_next::imap_types::core::{IString, QuotedChar, Tag};
use imap_next::imap_types::extensions::namespace::Namespace;
use imap_next::imap_types::mailbox::Mailbox;
use imap_next::imap_types::response::{Data, Status, StatusKind};
use imap_next::imap_types::status::{StatusDataItem, StatusDataItemName};
use imap_next::server::Server;

use super::answer::{code_other, no, nz, ok, status};
use super::maildir::{DELIMITER, Entry, Folder, Name, Refusal};
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
