//! ESEARCH and ESORT (RFC 4731, RFC 5267 §3): the `* ESEARCH` answer of
//! a SEARCH or SORT with RETURN options, `$` kept for SEARCHRES (RFC
//! 5182), and the update contexts of CONTEXT=SEARCH and CONTEXT=SORT
//! (RFC 5267 §4) opened and cancelled (kept in [`super::context`]).

use imap_next::imap_types::command::{Command, CommandBody};
use imap_next::imap_types::core::Tag;
use imap_next::imap_types::response::Status;
use imap_next::imap_types::search::SearchKey;
use imap_next::server::Server;

use super::answer::{bad, no, ok, set};
use super::context::{Refused, Start, freeze};
use super::ext::Return;
use super::session::Session;
use super::sort;

/// `* ESEARCH` (RFC 4731 §3.1, RFC 5267 §3.2) for `ids`, in the order
/// of the result (ascending for SEARCH, the sort order for SORT), with
/// the highest mod-sequence when a MODSEQ key asked for it (RFC 7162
/// §3.1.5).
pub(super) fn esearch(
    tag: &Tag,
    uid: bool,
    ret: &Return,
    ids: &[u32],
    modseq: Option<u64>,
) -> Vec<u8> {
    let mut out = format!("* ESEARCH (TAG \"{}\")", tag.as_ref());
    if uid {
        out.push_str(" UID");
    }
    if let (true, Some(first)) = (ret.min, ids.first()) {
        out.push_str(&format!(" MIN {first}"));
    }
    if let (true, Some(last)) = (ret.max, ids.last()) {
        out.push_str(&format!(" MAX {last}"));
    }
    if ret.all && !ids.is_empty() {
        out.push_str(&format!(" ALL {}", set(ids)));
    }
    if ret.count {
        out.push_str(&format!(" COUNT {}", ids.len()));
    }
    if let Some((from, to)) = ret.partial {
        let part: Vec<u32> = ids
            .iter()
            .skip(from as usize - 1)
            .take((to - from) as usize + 1)
            .copied()
            .collect();
        let shown = if part.is_empty() {
            "NIL".to_string()
        } else {
            set(&part)
        };
        out.push_str(&format!(" PARTIAL ({from}:{to} {shown})"));
    }
    if let Some(m) = modseq.filter(|_| !ids.is_empty()) {
        out.push_str(&format!(" MODSEQ {m}"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

impl Session {
    pub(super) fn esearch(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        ret: &Return,
        command: Command<'static>,
    ) -> Status<'static> {
        let Some(sel) = self.selected.as_ref() else {
            return bad(tag, "select a mailbox first");
        };
        // RFC 5267 §4.3: a tag naming a context already is refused.
        if ret.update && sel.contexts.has(tag.as_ref()) {
            return bad(tag, "tag reuse: that tag names an update context");
        }
        let mut update = None;
        let (ids, modseq, uid, done) = match command.body {
            CommandBody::Search {
                charset,
                criteria,
                uid,
            } => {
                if let Some(st) = self.refuse_charset(tag, charset.as_ref(), true) {
                    return st;
                }
                let (ids, modseq) = self.search_ids(criteria.as_ref(), uid);
                if ret.update {
                    let uids = self.uids_of(&ids, uid);
                    update = Some((criteria.into_inner(), Start::Search(uids)));
                }
                (ids, modseq, uid, "SEARCH done")
            }
            CommandBody::Sort {
                sort_criteria,
                charset,
                search_criteria,
                uid,
            } => {
                if let Some(st) = self.refuse_charset(tag, Some(&charset), false) {
                    return st;
                }
                let (mut keys, modseq) = self.sort_keys(search_criteria.as_ref(), uid);
                sort::sort(&mut keys, sort_criteria.as_ref());
                let ids: Vec<u32> = keys.iter().map(|k| k.id).collect();
                if ret.update {
                    let uids = self.uids_of(&ids, uid);
                    for (k, u) in keys.iter_mut().zip(uids) {
                        k.id = u;
                    }
                    let criteria = sort_criteria.into_inner();
                    update = Some((search_criteria.into_inner(), Start::Sort(keys, criteria)));
                }
                (ids, modseq, uid, "SORT done")
            }
            _ => return bad(tag, "RETURN goes with SEARCH and SORT"),
        };
        // RFC 4731 §3.2 with RFC 7162 §3.1.5: with MIN or MAX alone, the
        // mod-sequence is that of the messages returned.
        let modseq = match (&self.selected, modseq) {
            (Some(sel), Some(highest)) if !ret.all && !ret.count && ret.partial.is_none() => {
                let of = |id: u32| {
                    let found = if uid {
                        sel.msgs.iter().find(|e| e.uid == id)
                    } else {
                        sel.msgs.get(id as usize - 1)
                    };
                    found.map_or(0, |e| e.modseq)
                };
                let shown = [
                    ids.first().filter(|_| ret.min),
                    ids.last().filter(|_| ret.max),
                ];
                shown
                    .into_iter()
                    .flatten()
                    .map(|&id| of(id))
                    .max()
                    .or(Some(highest))
            }
            (_, m) => m,
        };
        if ret.save {
            self.save_result(ret, &ids, uid);
        }
        // RFC 5182 §2.4: SAVE alone is answered with no ESEARCH.
        let shown = Return {
            save: false,
            ..*ret
        };
        if shown != Return::default() {
            self.raw
                .extend_from_slice(&esearch(tag, uid, ret, &ids, modseq));
        }
        if let Some((keys, start)) = update {
            self.open_context(tag, uid, &keys, start);
        }
        if uid {
            self.refresh(server, true);
        }
        ok(tag, done)
    }

    /// Keeps a SEARCH's result for `$` (RFC 5182 §2.1): with MIN or MAX
    /// and neither ALL nor COUNT, only those; else all of it. Kept as UIDs,
    /// so an expunged message leaves it.
    fn save_result(&mut self, ret: &Return, ids: &[u32], uid: bool) {
        let Some(sel) = self.selected.as_mut() else {
            return;
        };
        let picked: Vec<u32> = if (ret.min || ret.max) && !ret.all && !ret.count {
            let mut p: Vec<u32> = [
                ids.first().filter(|_| ret.min),
                ids.last().filter(|_| ret.max),
            ]
            .into_iter()
            .flatten()
            .copied()
            .collect();
            p.dedup();
            p
        } else {
            ids.to_vec()
        };
        let mut uids: Vec<u32> = picked
            .into_iter()
            .filter_map(|id| match uid {
                true => Some(id),
                false => sel.msgs.get(id as usize - 1).map(|e| e.uid),
            })
            .collect();
        uids.sort_unstable();
        uids.dedup();
        sel.saved = uids;
    }
}

impl Session {
    /// The UIDs of a search's answer (`ids` sequence numbers unless
    /// `uid`).
    pub(super) fn uids_of(&self, ids: &[u32], uid: bool) -> Vec<u32> {
        let Some(sel) = self.selected.as_ref() else {
            return Vec::new();
        };
        match uid {
            true => ids.to_vec(),
            false => ids
                .iter()
                .filter_map(|&n| sel.msgs.get(n as usize - 1).map(|e| e.uid))
                .collect(),
        }
    }

    /// RETURN (UPDATE): a context for the command `tag` (its tag checked
    /// free before it ran), or, past the limit, `* NO [NOUPDATE "tag"]`
    /// after its answer (RFC 5267 §4.3.1).
    pub(super) fn open_context(
        &mut self,
        tag: &Tag<'static>,
        uid: bool,
        keys: &[SearchKey<'static>],
        start: Start,
    ) {
        let Some(sel) = self.selected.as_mut() else {
            return;
        };
        let frozen = keys.iter().map(|k| freeze(k, &sel.msgs)).collect();
        let opened = sel
            .contexts
            .open(tag.as_ref(), uid, frozen, start, &sel.msgs);
        if opened == Err(Refused::TooMany) {
            let line = format!(
                "* NO [NOUPDATE \"{}\"] too many update contexts, results will not be updated\r\n",
                tag.as_ref()
            );
            self.raw.extend_from_slice(line.as_bytes());
        }
    }

    /// CANCELUPDATE (RFC 5267 §4.3.5).
    pub(super) fn cancel_update(&mut self, tag: &Tag<'static>, tags: &[String]) -> Status<'static> {
        let Some(sel) = self.selected.as_mut() else {
            return bad(tag, "select a mailbox first");
        };
        let unknown: Vec<&String> = tags.iter().filter(|t| !sel.contexts.cancel(t)).collect();
        match unknown.first() {
            None => ok(tag, "CANCELUPDATE done"),
            Some(t) => no(tag, &format!("no update context has the tag {t}")),
        }
    }

    /// Empties `$` (RFC 5182 §2.1).
    pub(super) fn forget_saved(&mut self) {
        if let Some(sel) = self.selected.as_mut() {
            sel.saved.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esearch_lines() {
        let tag = Tag::try_from("t1").unwrap();
        let all = Return {
            min: true,
            max: true,
            all: true,
            count: true,
            partial: Some((2, 3)),
            save: false,
            update: false,
        };
        assert_eq!(
            esearch(&tag, true, &all, &[1, 2, 4, 5], Some(9)),
            b"* ESEARCH (TAG \"t1\") UID MIN 1 MAX 5 ALL 1:2,4:5 COUNT 4 PARTIAL (2:3 2,4) MODSEQ 9\r\n"
        );
        assert_eq!(
            esearch(&tag, false, &all, &[], Some(9)),
            b"* ESEARCH (TAG \"t1\") COUNT 0 PARTIAL (2:3 NIL)\r\n"
        );
        assert_eq!(set(&[3, 1, 2, 7]), "3,1:2,7");
    }
}
