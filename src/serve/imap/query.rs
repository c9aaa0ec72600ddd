//! SEARCH, SORT and THREAD on the selected mailbox (RFC 3501 §6.4.4, RFC
//! 5256): which messages match, their order or threads, and the charsets
//! refused. The keys are read in [`super::search`], ordered in
//! [`super::sort`].

use std::collections::BTreeSet;

use imap_next::imap_types::core::{Charset, Tag};
use imap_next::imap_types::extensions::sort::SortCriterion;
use imap_next::imap_types::response::{Code, Data, Status, StatusKind};
use imap_next::imap_types::search::SearchKey;
use imap_next::server::Server;

use super::answer::{bad, nz, nz64, ok, status};
use super::maildir::{self, Entry};
use super::search;
use super::session::{Session, blocking};
use super::sort;

impl Session {
    /// The indexes of the selected mailbox's messages that match `keys`.
    fn matching(&self, keys: &[SearchKey]) -> BTreeSet<usize> {
        let acct = self.account();
        let Some(sel) = self.selected.as_ref() else {
            return BTreeSet::new();
        };
        let dir = acct.dir(&sel.name);
        let load =
            move |e: &Entry| -> Option<Vec<u8>> { maildir::read_message(&dir, &e.file).ok() };
        let candidates: Vec<search::Candidate> = sel
            .msgs
            .iter()
            .enumerate()
            .map(|(i, e)| search::Candidate {
                seq: i as u32 + 1,
                entry: e,
                recent: sel.recent.contains(&e.uid),
                load: &load,
            })
            .collect();
        blocking(|| search::run(&candidates, keys, sel.max_uid()))
    }

    pub(super) fn search(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        keys: &[SearchKey],
        uid: bool,
    ) -> Status<'static> {
        let (found, highest) = self.search_ids(keys, uid);
        let found = found.into_iter().map(nz).collect();
        server.enqueue_data(Data::Search(found, highest.map(nz64)));
        if uid {
            self.refresh(server, true);
        }
        ok(tag, "SEARCH done")
    }

    /// The sequence numbers (or UIDs) of the messages matching `keys`, in
    /// mailbox order, and with a MODSEQ key the highest mod-sequence of
    /// them (RFC 7162 §3.1.5).
    pub(super) fn search_ids(&mut self, keys: &[SearchKey], uid: bool) -> (Vec<u32>, Option<u64>) {
        let hits = self.matching(keys);
        let Some(sel) = self.selected.as_ref() else {
            return (Vec::new(), None);
        };
        let by_modseq = keys.iter().any(search::uses_modseq);
        let highest = hits.iter().map(|&i| sel.msgs[i].modseq).max();
        let found = hits
            .into_iter()
            .map(|i| if uid { sel.msgs[i].uid } else { i as u32 + 1 })
            .collect();
        if by_modseq {
            self.condstore = true;
        }
        (found, highest.filter(|_| by_modseq))
    }

    /// SORT, or THREAD with its algorithm (RFC 5256): the messages that
    /// match `keys`, ordered or threaded by their headers.
    pub(super) fn sort(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        keys: &[SearchKey],
        uid: bool,
        how: Ordering,
    ) -> Status<'static> {
        let (mut found, highest) = self.sort_keys(keys, uid);
        match how {
            Ordering::Sort(criteria) => {
                sort::sort(&mut found, criteria);
                server.enqueue_data(Data::Sort(
                    found.iter().map(|k| nz(k.id)).collect(),
                    highest.map(nz64),
                ));
            }
            Ordering::References => {
                server.enqueue_data(Data::Thread(sort::references(&found)));
            }
            Ordering::OrderedSubject => {
                server.enqueue_data(Data::Thread(sort::ordered_subject(&found)));
            }
        }
        if uid {
            self.refresh(server, true);
        }
        ok(
            tag,
            if matches!(how, Ordering::Sort(_)) {
                "SORT done"
            } else {
                "THREAD done"
            },
        )
    }

    /// The sort keys of the messages matching `keys` (their ids sequence
    /// numbers or UIDs), in mailbox order, and with a MODSEQ key the
    /// highest mod-sequence of them.
    pub(super) fn sort_keys(
        &mut self,
        keys: &[SearchKey],
        uid: bool,
    ) -> (Vec<sort::Keys>, Option<u64>) {
        let hits = self.matching(keys);
        let acct = self.account();
        let Some(sel) = self.selected.as_ref() else {
            return (Vec::new(), None);
        };
        let dir = acct.dir(&sel.name);
        let found: Vec<sort::Keys> = blocking(|| {
            hits.iter()
                .map(|&i| {
                    let e = &sel.msgs[i];
                    let id = if uid { e.uid } else { i as u32 + 1 };
                    let bytes = maildir::read_message(&dir, &e.file).unwrap_or_default();
                    let mut scratch = Vec::new();
                    let p = super::message::Parsed::new(&bytes, &mut scratch);
                    sort::Keys::of(&p, id, e.date, e.size)
                })
                .collect()
        });
        let by_modseq = keys.iter().any(search::uses_modseq);
        let highest = hits.iter().map(|&i| sel.msgs[i].modseq).max();
        if by_modseq {
            self.condstore = true;
        }
        (found, highest.filter(|_| by_modseq))
    }
}

/// What [`Session::sort`] answers.
pub(super) enum Ordering<'c> {
    Sort(&'c [SortCriterion]),
    References,
    OrderedSubject,
}

impl Session {
    /// The refusal of a search's charset, if any: `NO [BADCHARSET]` for
    /// one other than US-ASCII and UTF-8; after UTF8=ACCEPT, `BAD` for any
    /// SEARCH CHARSET and for a SORT or THREAD charset other than UTF-8
    /// (RFC 6855 §3 with erratum 4029: the labels would conflict).
    /// `optional` is SEARCH's case.
    pub(super) fn refuse_charset(
        &self,
        tag: &Tag<'static>,
        charset: Option<&Charset>,
        optional: bool,
    ) -> Option<Status<'static>> {
        let cs = charset?.as_ref().to_ascii_uppercase();
        if self.utf8_accept {
            if optional {
                return Some(bad(tag, "no CHARSET after ENABLE UTF8=ACCEPT"));
            }
            if cs != "UTF-8" {
                return Some(bad(tag, "only UTF-8 after ENABLE UTF8=ACCEPT"));
            }
        }
        (cs != "US-ASCII" && cs != "UTF-8").then(|| {
            status(
                tag,
                StatusKind::No,
                Some(Code::BadCharset {
                    allowed: Vec::new(),
                }),
                "only US-ASCII and UTF-8",
            )
        })
    }
}
