//! Update contexts (CONTEXT=SEARCH and CONTEXT=SORT, RFC 5267 §4.3): the
//! results of `SEARCH RETURN (UPDATE ...)` and `SORT RETURN (UPDATE ...)`
//! kept for the client, and the `* ESEARCH (TAG "..") ADDTO (...)` and
//! `REMOVEFROM (...)` lines that keep its copy in step as messages
//! arrive, change flags or are expunged.
//!
//! A session without a context pays for none of it: [`Contexts`] is empty
//! and every hook returns at its first test. With contexts, only the
//! messages changed since the last look (a higher mod-sequence or UID) are
//! searched again, so an update costs the change, not the mailbox.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use imap_next::imap_types::core::Vec1;
use imap_next::imap_types::extensions::sort::SortCriterion;
use imap_next::imap_types::response::{Data, Status};
use imap_next::imap_types::search::SearchKey;
use imap_next::imap_types::sequence::SequenceSet;
use imap_next::server::Server;

use super::maildir::{self, Entry};
use super::message::Parsed;
use super::search::{self, Candidate};
use super::sort::{self, Keys};

/// Update contexts one selected mailbox may hold (RFC 5267 §4.3.1: at
/// least one). A search asking for more is answered, with `* NO
/// [NOUPDATE "tag"]` and no updates.
pub const MAX_CONTEXTS: usize = 16;

/// Why a context was not opened.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// RFC 5267 §4.3: a tag already naming a context; the command is BAD.
    TagInUse,
    /// RFC 5267 §4.3.1: past [`MAX_CONTEXTS`]; answered with NOUPDATE.
    TooMany,
}

/// The result as the client holds it.
enum Members {
    /// SEARCH: the UIDs, ascending (mailbox order, RFC 5267 §4.1).
    Search(BTreeSet<u32>),
    /// SORT: the sort keys (their ids UIDs) in the requested order.
    Sort(Vec<Keys>, Vec<SortCriterion>),
}

/// One UPDATE context.
struct Context {
    tag: String,
    /// Answered with UIDs (UID SEARCH, UID SORT) or sequence numbers.
    uid: bool,
    /// The search keys, sequence numbers already turned into UIDs.
    keys: Vec<SearchKey<'static>>,
    members: Members,
    /// The highest mod-sequence and UID looked at: a message past either
    /// is new or has changed, and is searched again.
    modseq: u64,
    last_uid: u32,
}

/// The update contexts of the selected mailbox; they end with it (RFC
/// 5267 §4.3: updates cease when the mailbox is no longer selected).
#[derive(Default)]
pub struct Contexts(Vec<Context>);

/// What a new context starts from: the result the command answered.
pub enum Start {
    /// SEARCH's UIDs.
    Search(Vec<u32>),
    /// SORT's keys (ids UIDs) in order, and the criteria.
    Sort(Vec<Keys>, Vec<SortCriterion>),
}

impl Contexts {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `tag` names a context (RFC 5267 §4.3: reusing it is BAD).
    pub fn has(&self, tag: &str) -> bool {
        self.0.iter().any(|c| c.tag == tag)
    }

    /// Opens a context for the command `tag`, whose keys (sequence sets
    /// already [`freeze`]d) found `start` among `msgs`.
    pub fn open(
        &mut self,
        tag: &str,
        uid: bool,
        keys: Vec<SearchKey<'static>>,
        start: Start,
        msgs: &[Entry],
    ) -> Result<(), Refused> {
        if self.has(tag) {
            return Err(Refused::TagInUse);
        }
        if self.0.len() >= MAX_CONTEXTS {
            return Err(Refused::TooMany);
        }
        let members = match start {
            Start::Search(uids) => Members::Search(uids.into_iter().collect()),
            Start::Sort(keys, criteria) => Members::Sort(keys, criteria),
        };
        self.0.push(Context {
            tag: tag.to_string(),
            uid,
            keys,
            members,
            modseq: msgs.iter().map(|e| e.modseq).max().unwrap_or(0),
            last_uid: msgs.iter().map(|e| e.uid).max().unwrap_or(0),
        });
        Ok(())
    }

    /// CANCELUPDATE (RFC 5267 §4.3.5) of one context; false when `tag`
    /// names none.
    pub fn cancel(&mut self, tag: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|c| c.tag != tag);
        self.0.len() != before
    }

    /// The messages `gone` are about to be expunged from `msgs`: the
    /// REMOVEFROM lines, numbered as `msgs` still is (RFC 5267 §4.3.4:
    /// sent before the EXPUNGE, so sequence numbers stay valid).
    pub fn expunged(&mut self, gone: &BTreeSet<u32>, msgs: &[Entry], out: &mut Vec<u8>) {
        for c in &mut self.0 {
            let removed = c.remove(|uid| gone.contains(&uid));
            c.write("REMOVEFROM", &removed, msgs, out);
        }
    }

    /// Searches again the messages of `msgs` changed or new since the last
    /// look, and writes the REMOVEFROM and ADDTO lines of what left or
    /// joined each result. `dir` is the mailbox's folder, read for the
    /// keys that need the message (BODY, HEADER, and SORT's).
    pub fn changed(
        &mut self,
        msgs: &[Entry],
        recent: &HashSet<u32>,
        dir: &Path,
        out: &mut Vec<u8>,
    ) {
        if self.0.is_empty() {
            return;
        }
        let modseq = msgs.iter().map(|e| e.modseq).max().unwrap_or(0);
        let last_uid = msgs.last().map_or(0, |e| e.uid);
        let load = |e: &Entry| -> Option<Vec<u8>> { maildir::read_message(dir, &e.file).ok() };
        for c in &mut self.0 {
            let fresh: Vec<usize> = (0..msgs.len())
                .filter(|&i| msgs[i].modseq > c.modseq || msgs[i].uid > c.last_uid)
                .collect();
            (c.modseq, c.last_uid) = (c.modseq.max(modseq), c.last_uid.max(last_uid));
            if fresh.is_empty() {
                continue;
            }
            let candidates: Vec<Candidate> = fresh
                .iter()
                .map(|&i| Candidate {
                    seq: i as u32 + 1,
                    entry: &msgs[i],
                    recent: recent.contains(&msgs[i].uid),
                    load: &load,
                })
                .collect();
            let hits = search::run(&candidates, &c.keys, last_uid);
            // A sorted result's members, looked up once each.
            let sorted: HashSet<u32> = match &c.members {
                Members::Sort(keys, _) => keys.iter().map(|k| k.id).collect(),
                Members::Search(_) => HashSet::new(),
            };
            let holds = |uid: u32| match &c.members {
                Members::Search(set) => set.contains(&uid),
                Members::Sort(..) => sorted.contains(&uid),
            };
            let (mut joined, mut left) = (Vec::new(), HashSet::new());
            for (n, &i) in fresh.iter().enumerate() {
                let uid = msgs[i].uid;
                match (hits.contains(&n), holds(uid)) {
                    (true, false) => joined.push(&msgs[i]),
                    (false, true) => {
                        left.insert(uid);
                    }
                    _ => {}
                }
            }
            let removed = c.remove(|uid| left.contains(&uid));
            c.write("REMOVEFROM", &removed, msgs, out);
            let added = c.add(&joined, &load);
            c.write("ADDTO", &added, msgs, out);
        }
    }
}

impl Context {
    /// Takes the members `gone` says out: the pairs of context position
    /// and UIDs, each position that of its first UID when the pairs
    /// before it are applied (RFC 5267 §4.3.4). SEARCH uses position 0,
    /// "wherever they are", in mailbox order.
    fn remove(&mut self, gone: impl Fn(u32) -> bool) -> Vec<(u32, Vec<u32>)> {
        match &mut self.members {
            Members::Search(set) => {
                let out: Vec<u32> = set.iter().copied().filter(|&u| gone(u)).collect();
                for u in &out {
                    set.remove(u);
                }
                pairs_at_zero(out)
            }
            Members::Sort(keys, _) => {
                let mut pairs: Vec<(u32, Vec<u32>)> = Vec::new();
                let mut kept = Vec::with_capacity(keys.len());
                let mut last_removed = false;
                for k in keys.drain(..) {
                    if gone(k.id) {
                        match pairs.last_mut() {
                            Some((_, run)) if last_removed => run.push(k.id),
                            // Its position once the runs before are gone:
                            // right after the members kept so far.
                            _ => pairs.push((kept.len() as u32 + 1, vec![k.id])),
                        }
                        last_removed = true;
                    } else {
                        kept.push(k);
                        last_removed = false;
                    }
                }
                *keys = kept;
                pairs
            }
        }
    }

    /// Puts `joined` in: the pairs of context position and UIDs, each
    /// position where its first UID lands once the pairs before it are
    /// applied (RFC 5267 §4.3.3), so in increasing order; SEARCH uses
    /// position 0.
    fn add(
        &mut self,
        joined: &[&Entry],
        load: &dyn Fn(&Entry) -> Option<Vec<u8>>,
    ) -> Vec<(u32, Vec<u32>)> {
        match &mut self.members {
            Members::Search(set) => {
                set.extend(joined.iter().map(|e| e.uid));
                let mut uids: Vec<u32> = joined.iter().map(|e| e.uid).collect();
                uids.sort_unstable();
                pairs_at_zero(uids)
            }
            Members::Sort(keys, criteria) => {
                let mut new: BTreeSet<u32> = BTreeSet::new();
                for e in joined {
                    let bytes = load(e).unwrap_or_default();
                    let mut scratch = Vec::new();
                    let k = Keys::of(&Parsed::new(&bytes, &mut scratch), e.uid, e.date, e.size);
                    let at = keys.partition_point(|x| sort::before(x, &k, criteria));
                    keys.insert(at, k);
                    new.insert(e.uid);
                }
                let mut pairs: Vec<(u32, Vec<u32>)> = Vec::new();
                let mut last_new = false;
                for (i, k) in keys.iter().enumerate() {
                    let is_new = new.contains(&k.id);
                    if is_new {
                        match pairs.last_mut() {
                            Some((_, run)) if last_new => run.push(k.id),
                            _ => pairs.push((i as u32 + 1, vec![k.id])),
                        }
                    }
                    last_new = is_new;
                }
                pairs
            }
        }
    }

    /// `* ESEARCH (TAG "..") [UID] ADDTO|REMOVEFROM (pos set ...)` for the
    /// pairs, the UIDs shown as sequence numbers of `msgs` for a plain
    /// SEARCH or SORT (RFC 5267 §4.3.2).
    fn write(&self, item: &str, pairs: &[(u32, Vec<u32>)], msgs: &[Entry], out: &mut Vec<u8>) {
        if pairs.is_empty() {
            return;
        }
        let mut line = format!("* ESEARCH (TAG \"{}\")", self.tag);
        if self.uid {
            line.push_str(" UID");
        }
        line.push(' ');
        line.push_str(item);
        line.push_str(" (");
        for (n, (pos, uids)) in pairs.iter().enumerate() {
            let ids: Vec<u32> = if self.uid {
                uids.clone()
            } else {
                uids.iter().filter_map(|&u| seq_of(msgs, u)).collect()
            };
            if n > 0 {
                line.push(' ');
            }
            line.push_str(&format!("{pos} {}", super::answer::set(&ids)));
        }
        line.push_str(")\r\n");
        out.extend_from_slice(line.as_bytes());
    }
}

/// Where untagged responses go: imap-next's queue, or, while update
/// contexts are active, the session's bytes ([`Session::raw`]), so that
/// the ESEARCH updates written there keep their place among them (RFC
/// 5267 §4.3.3: ADDTO after the EXISTS; §4.3.4: REMOVEFROM before the
/// EXPUNGE).
pub(super) struct Out<'a> {
    pub server: &'a mut Server,
    pub raw: Option<&'a mut Vec<u8>>,
}

impl<'a> Out<'a> {
    /// To the queue unless `contexts` are active.
    pub fn new(server: &'a mut Server, contexts: &Contexts, raw: &'a mut Vec<u8>) -> Out<'a> {
        let raw = (!contexts.is_empty()).then_some(raw);
        Out { server, raw }
    }

    pub fn data(&mut self, data: Data<'static>) {
        match &mut self.raw {
            Some(raw) => raw.extend(super::answer::encode(data)),
            None => {
                self.server.enqueue_data(data);
            }
        }
    }

    pub fn status(&mut self, st: Status<'static>) {
        match &mut self.raw {
            Some(raw) => raw.extend(super::answer::encode_status(st)),
            None => {
                self.server.enqueue_status(st);
            }
        }
    }
}

/// SEARCH's pair: position 0 and the UIDs in mailbox order (RFC 5267
/// §4.3.3: the shortest form in set syntax).
fn pairs_at_zero(uids: Vec<u32>) -> Vec<(u32, Vec<u32>)> {
    if uids.is_empty() {
        Vec::new()
    } else {
        vec![(0, uids)]
    }
}

/// The sequence number of `uid` in `msgs` (in UID order).
fn seq_of(msgs: &[Entry], uid: u32) -> Option<u32> {
    msgs.binary_search_by_key(&uid, |e| e.uid)
        .ok()
        .or_else(|| msgs.iter().position(|e| e.uid == uid))
        .map(|i| i as u32 + 1)
}

/// `key` with every sequence set (and so `$` of a plain SEARCH) turned
/// into the UIDs it named in `msgs`: an update context searches the
/// messages the command named, however numbers shift after.
pub fn freeze(key: &SearchKey<'static>, msgs: &[Entry]) -> SearchKey<'static> {
    match key {
        SearchKey::SequenceSet(set) => {
            let count = msgs.len() as u32;
            let uids: Vec<u32> = msgs
                .iter()
                .enumerate()
                .filter(|(i, _)| search::contains(set, *i as u32 + 1, count))
                .map(|(_, e)| e.uid)
                .collect();
            match SequenceSet::try_from(super::answer::set(&uids).as_str()) {
                Ok(set) => SearchKey::Uid(set),
                Err(_) => SearchKey::Not(Box::new(SearchKey::All)),
            }
        }
        SearchKey::And(keys) => {
            let keys: Vec<SearchKey<'static>> =
                keys.as_ref().iter().map(|k| freeze(k, msgs)).collect();
            Vec1::try_from(keys).map_or(SearchKey::All, SearchKey::And)
        }
        SearchKey::Not(k) => SearchKey::Not(Box::new(freeze(k, msgs))),
        SearchKey::Or(a, b) => SearchKey::Or(Box::new(freeze(a, msgs)), Box::new(freeze(b, msgs))),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_next::imap_types::extensions::sort::SortKey;

    fn entry(uid: u32, flags: &[&str], modseq: u64) -> Entry {
        Entry {
            uid,
            date: 1_700_000_000 + i64::from(uid),
            size: 100 + u64::from(uid),
            file: format!("{uid}.test"),
            flags: flags.iter().map(|f| f.to_string()).collect(),
            modseq,
        }
    }

    fn key(s: &str) -> SearchKey<'static> {
        use imap_codec::CommandCodec;
        use imap_codec::decode::Decoder;
        use imap_next::imap_types::IntoStatic;
        use imap_next::imap_types::command::CommandBody;
        let line = format!("a SEARCH {s}\r\n");
        let (_, cmd) = CommandCodec::default().decode(line.as_bytes()).unwrap();
        match cmd.body {
            CommandBody::Search { criteria, .. } => {
                let keys: Vec<SearchKey<'static>> = criteria
                    .as_ref()
                    .iter()
                    .map(|k| k.clone().into_static())
                    .collect();
                Vec1::try_from(keys).map(SearchKey::And).unwrap()
            }
            _ => unreachable!(),
        }
    }

    fn text(out: &[u8]) -> String {
        String::from_utf8(out.to_vec()).unwrap()
    }

    const NOWHERE: &str = "/nonexistent";

    #[test]
    fn search_updates_flags_arrivals_and_expunges() {
        let mut msgs: Vec<Entry> = (1..=5).map(|u| entry(u, &[], u.into())).collect();
        let mut cx = Contexts::default();
        let keys = vec![freeze(&key("SEEN"), &msgs)];
        cx.open("s1", false, keys, Start::Search(vec![]), &msgs)
            .unwrap();
        let mut out = Vec::new();
        cx.changed(&msgs, &HashSet::new(), Path::new(NOWHERE), &mut out);
        assert!(out.is_empty(), "nothing changed");
        // RFC 5267 §4.3.3: ADDTO, position 0 for SEARCH, in mailbox order.
        for (i, m) in [0, 1, 3].into_iter().zip(6..) {
            msgs[i].flags.insert("\\Seen".into());
            msgs[i].modseq = m;
        }
        cx.changed(&msgs, &HashSet::new(), Path::new(NOWHERE), &mut out);
        assert_eq!(text(&out), "* ESEARCH (TAG \"s1\") ADDTO (0 1:2,4)\r\n");
        out.clear();
        for (i, m) in [0, 1].into_iter().zip(9..) {
            msgs[i].flags.clear();
            msgs[i].modseq = m;
        }
        cx.changed(&msgs, &HashSet::new(), Path::new(NOWHERE), &mut out);
        assert_eq!(text(&out), "* ESEARCH (TAG \"s1\") REMOVEFROM (0 1:2)\r\n");
        out.clear();
        // §4.3.4: numbered before the expunge.
        let gone: BTreeSet<u32> = [3, 4, 5].into();
        cx.expunged(&gone, &msgs, &mut out);
        assert_eq!(text(&out), "* ESEARCH (TAG \"s1\") REMOVEFROM (0 4)\r\n");
        out.clear();
        msgs.retain(|e| !gone.contains(&e.uid));
        msgs.push(entry(6, &["\\Seen"], 11));
        cx.changed(&msgs, &HashSet::new(), Path::new(NOWHERE), &mut out);
        assert_eq!(text(&out), "* ESEARCH (TAG \"s1\") ADDTO (0 3)\r\n");
        out.clear();
        assert!(cx.cancel("s1") && !cx.cancel("s1") && cx.is_empty());
        msgs[0].flags.insert("\\Seen".into());
        msgs[0].modseq = 12;
        cx.changed(&msgs, &HashSet::new(), Path::new(NOWHERE), &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn uid_contexts_and_frozen_sequence_sets() {
        let mut msgs: Vec<Entry> = (1..=4).map(|u| entry(u * 10, &[], u.into())).collect();
        let mut cx = Contexts::default();
        // `2:*` is messages 2 to 4 as the command ran: UIDs 20:40.
        let keys = vec![freeze(&key("2:* FLAGGED"), &msgs)];
        cx.open("u", true, keys, Start::Search(vec![]), &msgs)
            .unwrap();
        msgs.push(entry(50, &["\\Flagged"], 5));
        msgs[0].flags.insert("\\Flagged".into());
        msgs[0].modseq = 6;
        msgs[2].flags.insert("\\Flagged".into());
        msgs[2].modseq = 7;
        let mut out = Vec::new();
        cx.changed(&msgs, &HashSet::new(), Path::new(NOWHERE), &mut out);
        assert_eq!(text(&out), "* ESEARCH (TAG \"u\") UID ADDTO (0 30)\r\n");
    }

    #[test]
    fn limits_and_tags() {
        let msgs: Vec<Entry> = Vec::new();
        let mut cx = Contexts::default();
        for n in 0..MAX_CONTEXTS {
            cx.open(&n.to_string(), false, vec![], Start::Search(vec![]), &msgs)
                .unwrap();
        }
        let again = cx.open("0", false, vec![], Start::Search(vec![]), &msgs);
        assert_eq!(again, Err(Refused::TagInUse));
        let more = cx.open("x", false, vec![], Start::Search(vec![]), &msgs);
        assert_eq!(more, Err(Refused::TooMany));
    }

    #[test]
    fn sort_positions() {
        // By size, descending: UIDs 5 4 3 2 1 (sizes 105..101).
        let mut msgs: Vec<Entry> = (1..=5).map(|u| entry(u, &["\\Seen"], u.into())).collect();
        let criteria = vec![SortCriterion {
            reverse: true,
            key: SortKey::Size,
        }];
        let keys: Vec<Keys> = msgs
            .iter()
            .rev()
            .map(|e| Keys {
                id: e.uid,
                size: e.size,
                ..Keys::default()
            })
            .collect();
        let mut cx = Contexts::default();
        cx.open(
            "o",
            false,
            vec![key("SEEN")],
            Start::Sort(keys, criteria),
            &msgs,
        )
        .unwrap();
        // 4 and 2 leave: positions 2 and, once it is gone, 3.
        for (i, m) in [3, 1].into_iter().zip(6..) {
            msgs[i].flags.clear();
            msgs[i].modseq = m;
        }
        let mut out = Vec::new();
        cx.changed(&msgs, &HashSet::new(), Path::new(NOWHERE), &mut out);
        assert_eq!(text(&out), "* ESEARCH (TAG \"o\") REMOVEFROM (2 4 3 2)\r\n");
        out.clear();
        // Back again: where their sizes put them.
        for (i, m) in [3, 1].into_iter().zip(8..) {
            msgs[i].flags.insert("\\Seen".into());
            msgs[i].modseq = m;
        }
        cx.changed(&msgs, &HashSet::new(), Path::new(NOWHERE), &mut out);
        assert_eq!(text(&out), "* ESEARCH (TAG \"o\") ADDTO (2 4 4 2)\r\n");
        out.clear();
        // Runs removed together: 4:3 at position 2.
        let gone: BTreeSet<u32> = [3, 4].into();
        cx.expunged(&gone, &msgs, &mut out);
        assert_eq!(text(&out), "* ESEARCH (TAG \"o\") REMOVEFROM (2 4,3)\r\n");
    }
}
