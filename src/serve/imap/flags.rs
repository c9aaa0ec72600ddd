//! Flags as the client is told of them: FLAGS and PERMANENTFLAGS with the
//! keywords new to a mailbox, the flag names a client may set, and the
//! FLAGS and MODSEQ items of a FETCH response.

use std::collections::BTreeSet;
use std::num::{NonZeroU32, NonZeroU64};

use imap_next::imap_types::IntoStatic;
use imap_next::imap_types::fetch::MessageDataItem;
use imap_next::imap_types::flag::{Flag, FlagFetch, FlagPerm};
use imap_next::imap_types::response::{Code, Data, StatusKind};

use super::answer::untagged;
use super::context::Out;
use super::maildir::{Entry, Flags};
use super::session::Selected;

/// FLAGS: the system flags and the mailbox's keywords.
pub(super) fn defined_flags(keywords: &BTreeSet<String>) -> Vec<Flag<'static>> {
    let mut flags = vec![
        Flag::Answered,
        Flag::Flagged,
        Flag::Deleted,
        Flag::Seen,
        Flag::Draft,
    ];
    flags.extend(
        keywords
            .iter()
            .filter_map(|k| Flag::try_from(k.as_str()).ok().map(|f| f.into_static())),
    );
    flags
}

/// Tells the client of keywords new to the mailbox (RFC 3501 §7.2.6: FLAGS
/// lists the flags defined in it), before the responses that use them.
pub(super) fn announce_keywords<'f>(
    out: &mut Out,
    sel: &mut Selected,
    flags: impl IntoIterator<Item = &'f String>,
) {
    let mut new = false;
    for f in flags {
        if !f.starts_with('\\') && !sel.keywords.contains(f) {
            sel.keywords.insert(f.clone());
            new = true;
        }
    }
    if new {
        let flags = defined_flags(&sel.keywords);
        out.data(Data::Flags(flags.clone()));
        if !sel.read_only {
            let mut perm: Vec<FlagPerm<'static>> = flags.into_iter().map(FlagPerm::Flag).collect();
            perm.push(FlagPerm::Asterisk);
            out.status(untagged(
                StatusKind::Ok,
                Some(Code::PermanentFlags(perm)),
                "flags kept",
            ));
        }
    }
}

/// The names of flags a client may set (`\Recent` and unknown system flags
/// are not kept).
pub(super) fn flag_names(flags: &[Flag]) -> Flags {
    flags
        .iter()
        .filter(|f| !matches!(f, Flag::Extension(_)))
        .map(|f| f.to_string())
        .collect()
}

/// `FLAGS (...)`, with `\Recent` for a message new to this session.
pub(super) fn flags_item(flags: &Flags, recent: bool) -> MessageDataItem<'static> {
    let mut out: Vec<FlagFetch<'static>> = flags
        .iter()
        .filter_map(|f| Flag::try_from(f.as_str()).ok().map(|f| f.into_static()))
        .map(FlagFetch::Flag)
        .collect();
    if recent {
        out.push(FlagFetch::Recent);
    }
    MessageDataItem::Flags(out)
}

/// The items of an unsolicited flag change: `FLAGS`, with `UID` when
/// QRESYNC is on and `MODSEQ` when CONDSTORE is (RFC 7162 §3.2.4, §3.1.4).
pub(super) fn flags_items(
    e: &Entry,
    recent: bool,
    with_uid: bool,
    with_modseq: bool,
) -> Vec<MessageDataItem<'static>> {
    let mut items = Vec::new();
    if with_uid {
        items.push(MessageDataItem::Uid(
            NonZeroU32::new(e.uid).unwrap_or(NonZeroU32::MIN),
        ));
    }
    items.push(flags_item(&e.flags, recent));
    if with_modseq {
        items.push(modseq_item(e.modseq));
    }
    items
}

pub(super) fn modseq_item(modseq: u64) -> MessageDataItem<'static> {
    MessageDataItem::ModSeq(NonZeroU64::new(modseq).unwrap_or(NonZeroU64::MIN))
}
