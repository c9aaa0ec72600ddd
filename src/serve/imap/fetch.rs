//! FETCH (RFC 3501 §6.4.5, with BINARY of RFC 3516 §4.2) and STORE
//! (§6.4.6) on the selected mailbox.

use std::num::NonZeroU32;

use imap_next::imap_types::IntoStatic;
use imap_next::imap_types::command::FetchModifier;
use imap_next::imap_types::core::{IString, Literal, LiteralMode, NString, NString8, Tag, Vec1};
use imap_next::imap_types::datetime::DateTime;
use imap_next::imap_types::extensions::binary::Literal8;
use imap_next::imap_types::fetch::{
    MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName, Section,
};
use imap_next::imap_types::flag::{Flag, StoreResponse, StoreType};
use imap_next::imap_types::response::{Data, Status};
use imap_next::imap_types::sequence::SequenceSet;
use imap_next::server::{ResponseHandle, Server};

use super::answer::{bad, encode, missing, no, ok, status, uid_sequence_set, uid_set};
use super::binary;
use super::flags::{announce_keywords, flag_names, flags_item, modseq_item};
use super::maildir::{Flags, Folder, Refusal};
use super::message::{Parsed, What};
use super::session::{Session, blocking};

/// The most message bytes one step of a FETCH reads before sending.
const CHUNK_BYTES: u64 = 8 << 20;

/// One message's FETCH response: data for imap-next to write, or bytes
/// written here ([`fetch_line`]).
enum Answer {
    Data(Data<'static>),
    Raw(Vec<u8>),
}

/// A FETCH being answered, chunk by chunk.
pub(super) struct FetchJob {
    pub(super) tag: Tag<'static>,
    names: Vec<MessageDataItemName<'static>>,
    pub(super) uid: bool,
    /// Indexes into the selected mailbox.
    pub(super) chunks: Vec<Vec<usize>>,
}

/// Message bytes as a literal. A literal cannot hold NUL (RFC 3501 §4.3),
/// so a stored NUL goes out as 0x80, as Dovecot sends it.
fn literal(mut bytes: Vec<u8>) -> NString<'static> {
    for b in bytes.iter_mut().filter(|b| **b == 0) {
        *b = 0x80;
    }
    match Literal::try_from(bytes) {
        Ok(l) => NString(Some(IString::Literal(l))),
        Err(_) => NString(None),
    }
}

fn internal_date(secs: i64) -> Option<DateTime> {
    let utc = chrono::FixedOffset::east_opt(0)?;
    let d = chrono::DateTime::from_timestamp(secs, 0)?.with_timezone(&utc);
    DateTime::try_from(d).ok()
}

/// `data[start..start+len]` for a partial fetch.
fn partial(data: Vec<u8>, p: Option<(u32, NonZeroU32)>) -> Vec<u8> {
    match p {
        None => data,
        Some((start, len)) => {
            let start = (start as usize).min(data.len());
            let end = start.saturating_add(len.get() as usize).min(data.len());
            data[start..end].to_vec()
        }
    }
}

/// BINARY data (RFC 3516 §4.2): a literal8 when it holds a NUL, else a
/// plain literal, which every client reads.
fn binary_value(bytes: Vec<u8>) -> NString8<'static> {
    if bytes.contains(&0) {
        NString8::Literal8(Literal8 {
            data: bytes.into(),
            mode: LiteralMode::Sync,
        })
    } else {
        NString8::NString(literal(bytes))
    }
}

/// `* n FETCH (...)` as bytes, for a FETCH with a partial BINARY item,
/// whose `<origin>` imap-codec does not write (RFC 3516 §4.2): each item
/// is written by imap-codec on its own, the origin put after its section.
fn fetch_line(seq: u32, items: Vec<(MessageDataItem<'static>, Option<u32>)>) -> Vec<u8> {
    let mut out = format!("* {seq} FETCH (").into_bytes();
    let head = b"* 1 FETCH (";
    for (n, (item, origin)) in items.into_iter().enumerate() {
        let bytes = encode(Data::Fetch {
            seq: NonZeroU32::MIN,
            items: Vec1::from(item),
        });
        let Some(mut one) = bytes
            .strip_prefix(&head[..])
            .and_then(|b| b.strip_suffix(b")\r\n"))
            .map(<[u8]>::to_vec)
        else {
            continue;
        };
        if let Some(o) = origin
            && let Some(at) = one.iter().position(|&b| b == b']')
        {
            one.splice(at + 1..at + 1, format!("<{o}>").into_bytes());
        }
        if n > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(&one);
    }
    out.extend_from_slice(b")\r\n");
    out
}

/// Whether an item needs the message's bytes.
fn needs_body(n: &MessageDataItemName) -> bool {
    !matches!(
        n,
        MessageDataItemName::Flags
            | MessageDataItemName::ModSeq
            | MessageDataItemName::Uid
            | MessageDataItemName::InternalDate
            | MessageDataItemName::Rfc822Size
    )
}

/// Whether an item sets `\Seen` (RFC 3501 §6.4.5: BODY[...] and RFC822,
/// RFC822.TEXT; not the .PEEK forms nor RFC822.HEADER).
fn sets_seen(n: &MessageDataItemName) -> bool {
    matches!(
        n,
        MessageDataItemName::BodyExt { peek: false, .. }
            | MessageDataItemName::Binary { peek: false, .. }
            | MessageDataItemName::Rfc822
            | MessageDataItemName::Rfc822Text
    )
}

fn section_bytes(p: &Parsed, section: &Option<Section>) -> Vec<u8> {
    let fields = |names: &Vec1<imap_next::imap_types::core::AString>| -> Vec<String> {
        names
            .as_ref()
            .iter()
            .map(|n| String::from_utf8_lossy(n.as_ref()).to_string())
            .collect()
    };
    let parts = |p: &Option<imap_next::imap_types::fetch::Part>| -> Vec<NonZeroU32> {
        p.as_ref()
            .map(|p| p.0.as_ref().to_vec())
            .unwrap_or_default()
    };
    let got = match section {
        None => Some(p.raw.to_vec()),
        Some(Section::Part(part)) => p.section(part.0.as_ref(), What::All),
        Some(Section::Header(part)) => p.section(&parts(part), What::Header),
        Some(Section::Text(part)) => p.section(&parts(part), What::Text),
        Some(Section::Mime(part)) => p.section(part.0.as_ref(), What::Mime),
        Some(Section::HeaderFields(part, names)) => {
            let f = fields(names);
            p.section(&parts(part), What::Fields(&f, false))
        }
        Some(Section::HeaderFieldsNot(part, names)) => {
            let f = fields(names);
            p.section(&parts(part), What::Fields(&f, true))
        }
    };
    got.unwrap_or_default()
}

impl Session {
    /// Checks a FETCH and says what it will send; [`Session::fetch_chunk`]
    /// then answers it a few messages at a time, so a FETCH of a whole
    /// mailbox never holds more than [`CHUNK_BYTES`] of it in memory.
    pub(super) fn fetch_job(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        set: &SequenceSet,
        items: MacroOrMessageDataItemNames<'static>,
        uid: bool,
        modifiers: &[FetchModifier],
    ) -> Result<FetchJob, Status<'static>> {
        let mut changed_since = None;
        let mut vanished = false;
        for m in modifiers {
            match m {
                FetchModifier::ChangedSince(n) => changed_since = Some(n.get()),
                FetchModifier::Vanished => vanished = true,
            }
        }
        // RFC 7162 §3.2.6: VANISHED only in UID FETCH with CHANGEDSINCE,
        // after ENABLE QRESYNC.
        if vanished && !(uid && self.qresync && changed_since.is_some()) {
            return Err(bad(
                tag,
                "VANISHED needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC",
            ));
        }
        if changed_since.is_some() {
            // The mod-sequences compared are the mailbox's, not an old view.
            self.refresh(server, false);
        }
        let mut idx = self.resolve(tag, set, uid)?;
        let mut names: Vec<MessageDataItemName<'static>> = match items {
            MacroOrMessageDataItemNames::Macro(m) => {
                m.expand().into_iter().map(|n| n.into_static()).collect()
            }
            MacroOrMessageDataItemNames::MessageDataItemNames(n) => n,
        };
        // RFC 7162 §3.2.4: with QRESYNC on, every FETCH response has UID.
        if (uid || self.qresync) && !names.contains(&MessageDataItemName::Uid) {
            names.insert(0, MessageDataItemName::Uid);
        }
        // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ; either turns
        // CONDSTORE on.
        if changed_since.is_some() && !names.contains(&MessageDataItemName::ModSeq) {
            names.push(MessageDataItemName::ModSeq);
        }
        if names.contains(&MessageDataItemName::ModSeq) {
            self.condstore = true;
        }
        let sel = self.selected.as_ref().expect("resolved");
        if let Some(since) = changed_since {
            idx.retain(|&i| sel.msgs[i].modseq > since);
            if vanished {
                let uids: Vec<u32> = sel.msgs.iter().map(|m| m.uid).collect();
                if let Some(gone) = missing(set, &uids, sel.uidnext) {
                    server.enqueue_data(Data::Vanished {
                        earlier: true,
                        known_uids: gone,
                    });
                }
            }
        }
        let with_body = names.iter().any(needs_body);
        let mut chunks: Vec<Vec<usize>> = Vec::new();
        let mut bytes = 0u64;
        let sel = self.selected.as_ref().expect("resolved");
        for i in idx {
            let size = if with_body { sel.msgs[i].size } else { 1024 };
            if chunks.is_empty() || bytes + size > CHUNK_BYTES {
                chunks.push(Vec::new());
                bytes = 0;
            }
            bytes += size;
            chunks.last_mut().expect("pushed").push(i);
        }
        Ok(FetchJob {
            tag: tag.clone(),
            names,
            uid,
            chunks,
        })
    }

    /// Answers one chunk of a FETCH; returns the last response queued.
    pub(super) fn fetch_chunk(
        &mut self,
        server: &mut Server,
        job: &FetchJob,
        idx: &[usize],
    ) -> Result<Option<ResponseHandle>, Status<'static>> {
        let (tag, names) = (&job.tag, &job.names);
        // When nothing changed and nothing is to be written, this session's
        // view serves: only a full read may be written back.
        // A mod-sequence is always read from the mailbox: another session's
        // change may not have reached this session's view yet.
        let writes = (names.iter().any(sets_seen)
            && self.selected.as_ref().is_some_and(|s| !s.read_only))
            || names.contains(&MessageDataItemName::ModSeq);
        let unchanged = !writes && !self.may_have_changed();
        let Some(acct) = self.account.clone() else {
            return Err(bad(tag, "log in first"));
        };
        let Some(sel) = self.selected.as_mut() else {
            return Err(bad(tag, "select a mailbox first"));
        };
        let read_only = sel.read_only;
        let marks_seen = !read_only && names.iter().any(sets_seen);
        let condstore = self.condstore;
        let with_body = names.iter().any(needs_body);
        let uids: Vec<(usize, u32)> = idx.iter().map(|&i| (i, sel.msgs[i].uid)).collect();
        // A partial BINARY item's origin is written here ([`fetch_line`]).
        let as_bytes = names.iter().any(|n| {
            matches!(
                n,
                MessageDataItemName::Binary {
                    partial: Some(_),
                    ..
                }
            )
        });
        type Fetched = (Vec<Answer>, Vec<(usize, Flags, u64)>);
        // The inner error: a part's encoding is unknown.
        let res = blocking(|| -> Result<Result<Fetched, ()>, Refusal> {
            let _l = acct.lock()?;
            let mut folder = if unchanged {
                // This session's view is the mailbox: no need to read it.
                Folder {
                    dir: acct.dir(&sel.name),
                    uidvalidity: sel.uidvalidity,
                    uidnext: sel.uidnext,
                    recent_from: sel.uidnext,
                    entries: idx.iter().map(|&i| sel.msgs[i].clone()).collect(),
                    highestmodseq: sel.highestmodseq,
                }
            } else {
                let (folder, given) = Folder::sync(&acct, &sel.name, !read_only)?;
                if !read_only {
                    sel.recent.extend(given);
                }
                folder
            };
            let mut out = Vec::new();
            let mut changed = Vec::new();
            let mut dirty = false;
            for (i, u) in &uids {
                // A message another session expunged stays visible here
                // until this one is told, as it was (RFC 2180 §4.1.1): its
                // file is kept until then ([`super::expunged`]).
                let (entry, gone) = match folder.find(*u) {
                    Some(e) => (e.clone(), false),
                    None => (sel.msgs[*i].clone(), true),
                };
                let bytes = if with_body {
                    folder.read(&entry).unwrap_or_default()
                } else {
                    Vec::new()
                };
                let mut scratch = Vec::new();
                let parsed = match with_body {
                    true => Some(Parsed::new(&bytes, &mut scratch)),
                    false => None,
                };
                let mut flags = entry.flags.clone();
                let mut modseq = entry.modseq;
                let newly_seen = marks_seen && !gone && !flags.contains("\\Seen");
                if newly_seen {
                    flags.insert("\\Seen".to_string());
                    folder.set_flags(*u, flags.clone());
                    modseq = folder.find(*u).map_or(modseq, |e| e.modseq);
                    dirty = true;
                }
                let recent = sel.recent.contains(u);
                let mut items: Vec<(MessageDataItem<'static>, Option<u32>)> = Vec::new();
                let mut origin = None;
                for n in names {
                    let item = match (n, &parsed) {
                        (MessageDataItemName::Uid, _) => {
                            MessageDataItem::Uid(NonZeroU32::new(*u).unwrap_or(NonZeroU32::MIN))
                        }
                        (MessageDataItemName::Flags, _) => flags_item(&flags, recent),
                        (MessageDataItemName::ModSeq, _) => modseq_item(modseq),
                        (MessageDataItemName::InternalDate, _) => match internal_date(entry.date) {
                            Some(d) => MessageDataItem::InternalDate(d),
                            None => continue,
                        },
                        (MessageDataItemName::Rfc822Size, _) => {
                            MessageDataItem::Rfc822Size(entry.size.min(u64::from(u32::MAX)) as u32)
                        }
                        (_, None) => continue,
                        (MessageDataItemName::Envelope, Some(p)) => {
                            MessageDataItem::Envelope(p.envelope())
                        }
                        (MessageDataItemName::Body, Some(p)) => {
                            MessageDataItem::Body(p.body_structure(false))
                        }
                        (MessageDataItemName::BodyStructure, Some(p)) => {
                            MessageDataItem::BodyStructure(p.body_structure(true))
                        }
                        (MessageDataItemName::Rfc822, Some(p)) => {
                            MessageDataItem::Rfc822(literal(p.raw.to_vec()))
                        }
                        (MessageDataItemName::Rfc822Header, Some(p)) => {
                            MessageDataItem::Rfc822Header(literal(p.header().to_vec()))
                        }
                        (MessageDataItemName::Rfc822Text, Some(p)) => {
                            MessageDataItem::Rfc822Text(literal(p.text().to_vec()))
                        }
                        (
                            MessageDataItemName::BodyExt {
                                section,
                                partial: part,
                                ..
                            },
                            Some(p),
                        ) => MessageDataItem::BodyExt {
                            section: section.clone(),
                            origin: part.map(|(s, _)| s),
                            data: literal(partial(section_bytes(p, section), *part)),
                        },
                        (
                            MessageDataItemName::Binary {
                                section,
                                partial: part,
                                ..
                            },
                            Some(p),
                        ) => {
                            let Ok(bytes) = binary::decoded(p, section) else {
                                return Ok(Err(()));
                            };
                            origin = part.map(|(s, _)| s);
                            MessageDataItem::Binary {
                                section: section.clone(),
                                value: binary_value(partial(bytes, *part)),
                            }
                        }
                        (MessageDataItemName::BinarySize { section }, Some(p)) => {
                            let Ok(bytes) = binary::decoded(p, section) else {
                                return Ok(Err(()));
                            };
                            MessageDataItem::BinarySize {
                                section: section.clone(),
                                size: bytes.len().min(u32::MAX as usize) as u32,
                            }
                        }
                    };
                    items.push((item, origin.take()));
                }
                if newly_seen && !names.contains(&MessageDataItemName::Flags) {
                    items.push((flags_item(&flags, recent), None));
                }
                if newly_seen && condstore && !names.contains(&MessageDataItemName::ModSeq) {
                    items.push((modseq_item(modseq), None));
                }
                if newly_seen {
                    changed.push((*i, flags.clone(), modseq));
                }
                let seq = *i as u32 + 1;
                if as_bytes {
                    if !items.is_empty() {
                        out.push(Answer::Raw(fetch_line(seq, items)));
                    }
                } else if let Ok(items) =
                    Vec1::try_from(items.into_iter().map(|(item, _)| item).collect::<Vec<_>>())
                {
                    out.push(Answer::Data(Data::Fetch {
                        seq: NonZeroU32::new(seq).unwrap_or(NonZeroU32::MIN),
                        items,
                    }));
                }
            }
            if dirty {
                folder.save()?;
            }
            Ok(Ok((out, changed)))
        });
        match res {
            Ok(Ok((answers, changed))) => {
                for (i, f, m) in changed {
                    sel.msgs[i].flags = f;
                    sel.msgs[i].modseq = m;
                }
                let mut last = None;
                for a in answers {
                    match a {
                        Answer::Data(d) => last = Some(server.enqueue_data(d)),
                        Answer::Raw(bytes) => self.raw.extend_from_slice(&bytes),
                    }
                }
                Ok(last)
            }
            // RFC 3516 §4.3.
            Ok(Err(())) => Err(status(
                tag,
                imap_next::imap_types::response::StatusKind::No,
                Some(imap_next::imap_types::response::Code::Other(
                    imap_next::imap_types::response::CodeOther::unvalidated(&b"UNKNOWN-CTE"[..]),
                )),
                "a part's content-transfer-encoding is unknown",
            )),
            Err(e) => Err(no(tag, &format!("cannot read the mailbox: {e}"))),
        }
    }

    /// STORE, and with `unchanged_since` the conditional STORE of RFC 7162
    /// §3.1.3: a message changed after that mod-sequence is left alone and
    /// named in `[MODIFIED]`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn store(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        set: &SequenceSet,
        (kind, response): (StoreType, StoreResponse),
        flags: &[Flag<'static>],
        uid: bool,
        unchanged_since: Option<u64>,
    ) -> Status<'static> {
        if unchanged_since.is_some() {
            self.condstore = true;
        }
        let condstore = self.condstore;
        let idx = match self.resolve(tag, set, uid) {
            Ok(i) => i,
            Err(st) => return st,
        };
        let Some(acct) = self.account.clone() else {
            return bad(tag, "log in first");
        };
        let Some(sel) = self.selected.as_mut() else {
            return bad(tag, "select a mailbox first");
        };
        if sel.read_only {
            return no(tag, "mailbox is read-only");
        }
        let given = flag_names(flags);
        let uids: Vec<(usize, u32)> = idx.iter().map(|&i| (i, sel.msgs[i].uid)).collect();
        // (index, flags, mod-sequence, whether this STORE changed them)
        type Stored = (Vec<(usize, Flags, u64, bool)>, Vec<u32>);
        let res = blocking(|| -> Result<Stored, Refusal> {
            let _l = acct.lock()?;
            let mut folder = Folder::open(&acct, &sel.name)?;
            let mut out = Vec::new();
            let mut modified = Vec::new();
            for (i, u) in &uids {
                let Some(e) = folder.find(*u) else {
                    continue;
                };
                if unchanged_since.is_some_and(|n| e.modseq > n) {
                    modified.push(if uid { *u } else { *i as u32 + 1 });
                    continue;
                }
                let mut new = e.flags.clone();
                match kind {
                    StoreType::Replace => new = given.clone(),
                    StoreType::Add => new.extend(given.iter().cloned()),
                    StoreType::Remove => new.retain(|f| !given.contains(f)),
                }
                let changed = folder.set_flags(*u, new);
                let e = folder.find(*u).expect("found above");
                out.push((*i, e.flags.clone(), e.modseq, changed));
            }
            // Nothing changed, nothing to make durable.
            if out.iter().any(|o| o.3) {
                folder.save()?;
            }
            Ok((out, modified))
        });
        let (changed, modified) = match res {
            Ok(c) => c,
            Err(e) => return no(tag, &format!("cannot store flags: {e}")),
        };
        // Before the FETCHes that use them, so through imap-next's queue
        // as they are.
        announce_keywords(
            &mut super::context::Out { server, raw: None },
            sel,
            changed.iter().flat_map(|(_, f, _, _)| f.iter()),
        );
        for (i, f, modseq, did) in changed {
            sel.msgs[i].flags = f.clone();
            sel.msgs[i].modseq = modseq;
            // RFC 7162 §3.1.3: with CONDSTORE on, even a silent STORE tells
            // the new mod-sequence of what it changed.
            let silent = response == StoreResponse::Silent;
            if silent && !(condstore && did) {
                continue;
            }
            let mut items = Vec::new();
            if !silent {
                items.push(flags_item(&f, sel.recent.contains(&sel.msgs[i].uid)));
            }
            if uid || self.qresync {
                items.push(MessageDataItem::Uid(
                    NonZeroU32::new(sel.msgs[i].uid).unwrap_or(NonZeroU32::MIN),
                ));
            }
            if condstore {
                items.push(modseq_item(modseq));
            }
            if let Ok(d) = Data::fetch(i as u32 + 1, items) {
                server.enqueue_data(d);
            }
        }
        if let Some(set) = uid_set(modified.into_iter()) {
            return status(
                tag,
                imap_next::imap_types::response::StatusKind::Ok,
                Some(imap_next::imap_types::response::Code::Modified(
                    uid_sequence_set(&set),
                )),
                "conditional STORE failed for some messages",
            );
        }
        ok(tag, "STORE done")
    }
}
