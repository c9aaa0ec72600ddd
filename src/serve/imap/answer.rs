//! The pieces IMAP answers are built of: tagged and untagged statuses,
//! response codes, non-zero numbers, UID sets and sequence sets, and a
//! response written as bytes.

use imap_codec::ResponseCodec;
use imap_codec::encode::Encoder;
use imap_next::imap_types::response::Response;
use std::num::{NonZeroU32, NonZeroU64};

use imap_next::imap_types::core::{Tag, Text, Vec1};
use imap_next::imap_types::extensions::uidplus::{UidElement, UidSet};
use imap_next::imap_types::response::{
    Bye, Code, CodeOther, Data, Status, StatusBody, StatusKind, Tagged,
};
use imap_next::imap_types::sequence::SequenceSet;

pub(super) fn text(s: &str) -> Text<'static> {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    Text::try_from(clean).unwrap_or_else(|_| Text::unvalidated("done"))
}

pub(super) fn status(
    tag: &Tag<'static>,
    kind: StatusKind,
    code: Option<Code<'static>>,
    msg: &str,
) -> Status<'static> {
    Status::Tagged(Tagged {
        tag: tag.clone(),
        body: StatusBody {
            kind,
            code,
            text: text(msg),
        },
    })
}

pub(super) fn ok(tag: &Tag<'static>, msg: &str) -> Status<'static> {
    status(tag, StatusKind::Ok, None, msg)
}
pub(super) fn no(tag: &Tag<'static>, msg: &str) -> Status<'static> {
    status(tag, StatusKind::No, None, msg)
}
pub(super) fn bad(tag: &Tag<'static>, msg: &str) -> Status<'static> {
    status(tag, StatusKind::Bad, None, msg)
}

pub(super) fn untagged(
    kind: StatusKind,
    code: Option<Code<'static>>,
    msg: &str,
) -> Status<'static> {
    Status::Untagged(StatusBody {
        kind,
        code,
        text: text(msg),
    })
}

pub(super) fn bye(msg: &str) -> Status<'static> {
    Status::Bye(Bye {
        code: None,
        text: text(msg),
    })
}

pub(super) fn code_other(s: &'static str) -> Code<'static> {
    Code::Other(CodeOther::unvalidated(s.as_bytes()))
}

pub(super) fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// The same UIDs as a sequence set.
pub(super) fn uid_sequence_set(set: &UidSet) -> SequenceSet {
    use imap_next::imap_types::sequence::{SeqOrUid, Sequence};
    let seqs: Vec<Sequence> = set
        .0
        .as_ref()
        .iter()
        .map(|e| match e {
            UidElement::Single(n) => Sequence::Single(SeqOrUid::Value(*n)),
            UidElement::Range(a, b) => Sequence::Range(SeqOrUid::Value(*a), SeqOrUid::Value(*b)),
        })
        .collect();
    SequenceSet(Vec1::try_from(seqs).expect("a UID set is not empty"))
}

/// The UIDs of `wanted` (below `uidnext`) that are not among `present`
/// (ascending), as a sequence set; found gap by gap, so a huge range costs
/// no more than the mailbox's size.
pub(super) fn missing(wanted: &SequenceSet, present: &[u32], uidnext: u32) -> Option<SequenceSet> {
    use imap_next::imap_types::sequence::{SeqOrUid, Sequence};
    let last = uidnext.saturating_sub(1);
    if last == 0 {
        return None;
    }
    let raw = |s: &SeqOrUid| match s {
        SeqOrUid::Value(v) => v.get(),
        SeqOrUid::Asterisk => last,
    };
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for seq in wanted.0.as_ref() {
        let (a, b) = match seq {
            Sequence::Single(v) => (raw(v), raw(v)),
            Sequence::Range(x, y) => (raw(x).min(raw(y)), raw(x).max(raw(y))),
        };
        if a > last {
            continue;
        }
        let b = b.min(last);
        // The gaps of `present` within a..=b.
        let mut at = a;
        let start = present.partition_point(|&u| u < a);
        for &u in present[start..].iter().take_while(|&&u| u <= b) {
            if u > at {
                ranges.push((at, u - 1));
            }
            at = u + 1;
        }
        if at <= b {
            ranges.push((at, b));
        }
    }
    ranges.sort_unstable();
    let mut text = String::new();
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(m) if a <= m.1.saturating_add(1) => m.1 = m.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    for (a, b) in merged {
        if !text.is_empty() {
            text.push(',');
        }
        if a == b {
            text.push_str(&a.to_string());
        } else {
            text.push_str(&format!("{a}:{b}"));
        }
    }
    SequenceSet::try_from(text.as_str()).ok()
}

pub(super) fn nz64(n: u64) -> NonZeroU64 {
    NonZeroU64::new(n).unwrap_or(NonZeroU64::MIN)
}

pub(super) fn uid_set(uids: impl Iterator<Item = u32>) -> Option<UidSet> {
    let mut out: Vec<UidElement> = Vec::new();
    let push = |out: &mut Vec<UidElement>, (a, b): (u32, u32)| {
        out.push(if a == b {
            UidElement::Single(nz(a))
        } else {
            UidElement::Range(nz(a), nz(b))
        })
    };
    let mut run: Option<(u32, u32)> = None;
    for u in uids {
        run = match run {
            Some((a, b)) if u == b + 1 => Some((a, u)),
            Some(r) => {
                push(&mut out, r);
                Some((u, u))
            }
            None => Some((u, u)),
        };
    }
    if let Some(r) = run {
        push(&mut out, r);
    }
    Vec1::try_from(out).ok().map(UidSet)
}

/// A response as imap-codec writes it.
pub(super) fn encode(data: Data<'static>) -> Vec<u8> {
    ResponseCodec::default()
        .encode(&Response::Data(data))
        .dump()
}

/// A status response as imap-codec writes it.
pub(super) fn encode_status(st: Status<'static>) -> Vec<u8> {
    ResponseCodec::default()
        .encode(&Response::Status(st))
        .dump()
}

/// A sequence set in the order given: runs of consecutive numbers become
/// `a:b`.
pub(super) fn set(ids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < ids.len() {
        let mut j = i;
        while j + 1 < ids.len() && ids[j + 1] == ids[j].wrapping_add(1) {
            j += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if j > i {
            out.push_str(&format!("{}:{}", ids[i], ids[j]));
        } else {
            out.push_str(&ids[i].to_string());
        }
        i = j + 1;
    }
    out
}
