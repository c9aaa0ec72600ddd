//! The selected state: SELECT and EXAMINE (with CONDSTORE and QRESYNC,
//! RFC 7162), EXPUNGE, the message numbers a sequence set names, and the
//! updates every command brings (EXISTS, RECENT, FETCH FLAGS, EXPUNGE or
//! VANISHED, and the ADDTO and REMOVEFROM of kept SEARCH and SORT results).

use std::collections::{BTreeSet, HashSet};

use imap_next::imap_types::command::SelectParameter;
use imap_next::imap_types::core::Tag;
use imap_next::imap_types::fetch::MessageDataItem;
use imap_next::imap_types::flag::FlagPerm;
use imap_next::imap_types::mailbox::Mailbox;
use imap_next::imap_types::response::{Code, Data, Status, StatusKind};
use imap_next::imap_types::sequence::SequenceSet;
use imap_next::server::Server;

use super::answer::{bad, missing, no, nz, nz64, ok, status, uid_sequence_set, uid_set, untagged};
use super::context::{Contexts, Out};
use super::expunged::Watch;
use super::flags::{announce_keywords, defined_flags};
use super::maildir::{Folder, Refusal};
use super::search;
use super::session::{Selected, Session, blocking};

impl Session {
    /// Whether the selected mailbox may have changed since this session
    /// last looked: mail waits in `new/`, or the uidlist was written. (A
    /// file removed from `cur/` behind the server's back is noticed at the
    /// next change or SELECT.) Every command asks, so it must stay cheap.
    pub(super) fn may_have_changed(&self) -> bool {
        let (Some(acct), Some(sel)) = (&self.account, &self.selected) else {
            return false;
        };
        let dir = acct.dir(&sel.name);
        blocking(|| Folder::has_new(&dir) || Folder::stamp(&dir) != sel.stamp)
    }

    /// [`Session::sync`] when [`Session::may_have_changed`].
    pub(super) fn refresh(&mut self, server: &mut Server, expunges: bool) {
        if self.may_have_changed() {
            self.sync(server, expunges);
        }
    }

    /// The ADDTO and REMOVEFROM lines of what changed since the last look,
    /// into [`Session::raw`]: after every command and every look during
    /// IDLE. Nothing to do, and no cost, without a context.
    pub(super) fn context_updates(&mut self) {
        let (Some(acct), Some(sel)) = (&self.account, &mut self.selected) else {
            return;
        };
        if sel.contexts.is_empty() {
            return;
        }
        let dir = acct.dir(&sel.name);
        sel.contexts
            .changed(&sel.msgs, &sel.recent, &dir, &mut self.raw);
    }

    /// Brings the selected mailbox up to date and tells the client: new
    /// messages (EXISTS, RECENT), changed flags (FETCH) and, when
    /// `expunges` (never during FETCH, STORE, SEARCH: RFC 3501 §7.4.1),
    /// messages removed by other sessions (EXPUNGE).
    fn sync(&mut self, server: &mut Server, expunges: bool) {
        let (Some(acct), Some(sel)) = (&self.account, &mut self.selected) else {
            return;
        };
        let res = blocking(|| {
            let _l = acct.lock()?;
            let synced = Folder::sync(acct, &sel.name, !sel.read_only);
            if expunges && synced.is_ok() {
                // Under the same lock as the read: what this session drops
                // below is all that was expunged so far.
                sel.watch.told();
            }
            synced
        });
        let (folder, given) = match res {
            Ok(x) => x,
            Err(Refusal::NoMailbox) => (
                Folder {
                    dir: Default::default(),
                    uidvalidity: sel.uidvalidity,
                    uidnext: sel.uidnext,
                    recent_from: sel.uidnext,
                    entries: Vec::new(),
                    highestmodseq: sel.highestmodseq,
                },
                Vec::new(),
            ),
            Err(_) => return,
        };
        if self.rev2 {
            // RFC 9051 §2.3.2: nothing is \Recent.
        } else if sel.read_only {
            sel.recent.extend(unclaimed(&folder));
        } else {
            sel.recent.extend(given);
        }
        sel.stamp = Folder::stamp(&folder.dir);
        let mut out = Out::new(server, &sel.contexts, &mut self.raw);
        if expunges {
            let gone: BTreeSet<u32> = sel
                .msgs
                .iter()
                .map(|m| m.uid)
                .filter(|&u| folder.find(u).is_none())
                .collect();
            report_expunged(&mut out, sel, &gone, true, self.qresync);
        }
        announce_keywords(
            &mut out,
            sel,
            folder.entries.iter().flat_map(|e| e.flags.iter()),
        );
        for (i, m) in sel.msgs.iter_mut().enumerate() {
            let Some(e) = folder.find(m.uid) else {
                continue;
            };
            let flags_changed = e.flags != m.flags;
            m.modseq = e.modseq;
            if flags_changed {
                m.flags = e.flags.clone();
                let items = super::flags::flags_items(
                    m,
                    sel.recent.contains(&m.uid),
                    self.qresync,
                    self.condstore,
                );
                if let Ok(d) = Data::fetch(i as u32 + 1, items) {
                    out.data(d);
                }
            }
        }
        sel.highestmodseq = folder.highestmodseq;
        let max = sel.max_uid();
        let before = sel.msgs.len();
        sel.msgs
            .extend(folder.entries.iter().filter(|e| e.uid > max).cloned());
        if sel.msgs.len() != before {
            out.data(Data::Exists(sel.msgs.len() as u32));
            if !self.rev2 {
                let recent = sel
                    .msgs
                    .iter()
                    .filter(|m| sel.recent.contains(&m.uid))
                    .count();
                out.data(Data::Recent(recent as u32));
            }
        }
        sel.uidnext = folder.uidnext;
    }

    pub(super) fn select(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        mailbox: &Mailbox,
        read_only: bool,
        parameters: &[SelectParameter],
    ) -> Status<'static> {
        let mut qresync = None;
        for p in parameters {
            match p {
                SelectParameter::CondStore => self.condstore = true,
                SelectParameter::QResync {
                    uid_validity,
                    mod_sequence_value,
                    known_uids,
                    ..
                } => {
                    // RFC 7162 §3.2.5: only after ENABLE QRESYNC.
                    if !self.qresync {
                        return bad(tag, "QRESYNC needs ENABLE QRESYNC first");
                    }
                    qresync = Some((uid_validity.get(), mod_sequence_value.get(), known_uids));
                }
            }
        }
        if self.selected.take().is_some() {
            // RFC 7162 §3.2.11: where the old mailbox's responses end.
            server.enqueue_status(untagged(StatusKind::Ok, Some(Code::Closed), "closed"));
        }
        let name = match self.name(mailbox) {
            Ok(n) => n,
            Err(e) => return no(tag, e),
        };
        let acct = self.account();
        let res = blocking(|| {
            let _l = acct.lock()?;
            let (folder, given) = Folder::sync(&acct, &name, !read_only)?;
            // Watched from the read on: a message in this view stays
            // readable until this session is told of its expunge.
            let watch = Watch::new(&folder.dir);
            Ok::<_, Refusal>((folder, given, watch))
        });
        let (folder, given, watch) = match res {
            Ok(x) => x,
            Err(Refusal::NoMailbox) => return no(tag, "no such mailbox"),
            Err(e) => return no(tag, &format!("cannot open the mailbox: {e}")),
        };
        let keywords: BTreeSet<String> = folder
            .entries
            .iter()
            .flat_map(|e| e.flags.iter().filter(|f| !f.starts_with('\\')).cloned())
            .collect();
        let flags = defined_flags(&keywords);
        server.enqueue_data(Data::Flags(flags.clone()));
        server.enqueue_data(Data::Exists(folder.entries.len() as u32));
        let recent: HashSet<u32> = if self.rev2 {
            // RFC 9051 §2.3.2: \Recent is gone from IMAP4rev2.
            HashSet::new()
        } else if read_only {
            // RFC 3501 §6.3.2: EXAMINE changes nothing, so it shows the
            // messages no session has claimed as \Recent yet without
            // claiming them: the next SELECT still gets them.
            unclaimed(&folder)
        } else {
            given.into_iter().collect()
        };
        if self.rev2 {
            // RFC 9051 §6.3.2: the mailbox's LIST, in place of RECENT and
            // UNSEEN.
            let line = self.list_line(&name);
            self.raw.extend(line);
        } else {
            server.enqueue_data(Data::Recent(recent.len() as u32));
        }
        if let Some(i) = folder
            .entries
            .iter()
            .position(|e| !e.flags.contains("\\Seen"))
            .filter(|_| !self.rev2)
        {
            server.enqueue_status(untagged(
                StatusKind::Ok,
                Some(Code::Unseen(nz(i as u32 + 1))),
                "first unseen",
            ));
        }
        let perm: Vec<FlagPerm<'static>> = if read_only {
            Vec::new()
        } else {
            let mut p: Vec<FlagPerm<'static>> = flags.into_iter().map(FlagPerm::Flag).collect();
            p.push(FlagPerm::Asterisk);
            p
        };
        server.enqueue_status(untagged(
            StatusKind::Ok,
            Some(Code::PermanentFlags(perm)),
            "flags kept",
        ));
        server.enqueue_status(untagged(
            StatusKind::Ok,
            Some(Code::UidValidity(nz(folder.uidvalidity))),
            "UIDs valid",
        ));
        server.enqueue_status(untagged(
            StatusKind::Ok,
            Some(Code::UidNext(nz(folder.uidnext))),
            "next UID",
        ));
        // RFC 7162 §3.1.2.1: mod-sequences are kept for every mailbox.
        server.enqueue_status(untagged(
            StatusKind::Ok,
            Some(Code::HighestModSeq(nz64(folder.highestmodseq))),
            "highest mod-sequence",
        ));
        if let Some((validity, since, known)) = qresync
            && validity == folder.uidvalidity
        {
            // RFC 7162 §3.2.5.1: what vanished (every known UID that is no
            // longer there: expunges are not remembered one by one), then
            // what changed since the client's mod-sequence.
            if since < folder.highestmodseq {
                let wanted = known.clone().unwrap_or_else(|| {
                    SequenceSet::try_from(format!("1:{}", folder.uidnext.max(2) - 1).as_str())
                        .expect("valid")
                });
                let uids: Vec<u32> = folder.entries.iter().map(|e| e.uid).collect();
                if let Some(gone) = missing(&wanted, &uids, folder.uidnext) {
                    server.enqueue_data(Data::Vanished {
                        earlier: true,
                        known_uids: gone,
                    });
                }
            }
            for (i, e) in folder.entries.iter().enumerate() {
                if e.modseq > since {
                    let items = vec![
                        MessageDataItem::Uid(nz(e.uid)),
                        super::flags::flags_item(&e.flags, recent.contains(&e.uid)),
                        MessageDataItem::ModSeq(nz64(e.modseq)),
                    ];
                    if let Ok(d) = Data::fetch(i as u32 + 1, items) {
                        server.enqueue_data(d);
                    }
                }
            }
        }
        self.selected = Some(Selected {
            name,
            read_only,
            uidvalidity: folder.uidvalidity,
            uidnext: folder.uidnext,
            highestmodseq: folder.highestmodseq,
            stamp: Folder::stamp(&folder.dir),
            keywords,
            msgs: folder.entries,
            recent,
            watch,
            saved: Vec::new(),
            contexts: Contexts::default(),
        });
        let (code, msg) = if read_only {
            (Code::ReadOnly, "EXAMINE done")
        } else {
            (Code::ReadWrite, "SELECT done")
        };
        status(tag, StatusKind::Ok, Some(code), msg)
    }

    /// The indexes into the selected mailbox a sequence set names, or the
    /// BAD answer for sequence numbers past the end.
    pub(super) fn resolve(
        &self,
        tag: &Tag<'static>,
        set: &SequenceSet,
        uid: bool,
    ) -> Result<Vec<usize>, Status<'static>> {
        let Some(sel) = self.selected.as_ref() else {
            return Err(bad(tag, "select a mailbox first"));
        };
        if uid {
            let max = sel.max_uid();
            Ok((0..sel.msgs.len())
                .filter(|&i| search::contains(set, sel.msgs[i].uid, max))
                .collect())
        } else {
            let n = sel.msgs.len() as u32;
            if search::past_the_end(set, n) {
                return Err(bad(tag, "invalid message sequence number"));
            }
            Ok((0..sel.msgs.len())
                .filter(|&i| search::contains(set, i as u32 + 1, n))
                .collect())
        }
    }

    pub(super) fn expunge(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        set: Option<&SequenceSet>,
        tell: bool,
    ) -> Status<'static> {
        let only: Option<HashSet<u32>> = match set {
            Some(set) => match self.resolve(tag, set, true) {
                Ok(idx) => {
                    let sel = self.selected.as_ref().expect("selected");
                    Some(idx.into_iter().map(|i| sel.msgs[i].uid).collect())
                }
                Err(st) => return st,
            },
            None => None,
        };
        let acct = self.account();
        let Some(sel) = self.selected.as_mut() else {
            return bad(tag, "select a mailbox first");
        };
        if sel.read_only {
            return no(tag, "mailbox is read-only");
        }
        let known: HashSet<u32> = sel.msgs.iter().map(|m| m.uid).collect();
        let me = sel.watch.id();
        let res = blocking(|| -> Result<BTreeSet<u32>, Refusal> {
            let _l = acct.lock()?;
            let mut folder = Folder::open(&acct, &sel.name)?;
            let gone: BTreeSet<u32> = folder
                .entries
                .iter()
                .filter(|e| e.flags.contains("\\Deleted") && known.contains(&e.uid))
                .filter(|e| only.as_ref().is_none_or(|o| o.contains(&e.uid)))
                .map(|e| e.uid)
                .collect();
            if !gone.is_empty() {
                folder.remove_by(&gone, Some(me))?;
            }
            Ok(gone)
        });
        let gone = match res {
            Ok(g) => g,
            Err(e) => return no(tag, &e.to_string()),
        };
        let mut out = Out::new(server, &sel.contexts, &mut self.raw);
        report_expunged(&mut out, sel, &gone, tell, self.qresync);
        ok(tag, "EXPUNGE done")
    }
}

/// The UIDs no session has been told are `\Recent` yet.
pub(super) fn unclaimed(folder: &Folder) -> HashSet<u32> {
    folder
        .entries
        .iter()
        .map(|e| e.uid)
        .filter(|&u| u >= folder.recent_from)
        .collect()
}

/// Drops expunged messages from the session's view, saying so when
/// `tell`: EXPUNGE for each, or one VANISHED of their UIDs when QRESYNC is
/// on (RFC 7162 §3.2.10); update contexts' REMOVEFROM first (RFC 5267
/// §4.3.4).
pub(super) fn report_expunged(
    out: &mut Out,
    sel: &mut Selected,
    gone: &BTreeSet<u32>,
    tell: bool,
    vanished: bool,
) {
    if gone.is_empty() {
        return;
    }
    if let Some(raw) = out.raw.as_deref_mut() {
        let mut untold = Vec::new();
        let to = if tell { raw } else { &mut untold };
        sel.contexts.expunged(gone, &sel.msgs, to);
    }
    let mut said = Vec::new();
    let mut i = 0;
    while i < sel.msgs.len() {
        if gone.contains(&sel.msgs[i].uid) {
            if tell && !vanished {
                out.data(Data::Expunge(nz(i as u32 + 1)));
            }
            said.push(sel.msgs[i].uid);
            sel.msgs.remove(i);
        } else {
            i += 1;
        }
    }
    if tell
        && vanished
        && let Some(set) = uid_set(said.into_iter())
    {
        out.data(Data::Vanished {
            earlier: false,
            known_uids: uid_sequence_set(&set),
        });
    }
}
