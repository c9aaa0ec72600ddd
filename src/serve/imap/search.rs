//! SEARCH (RFC 3501 §6.4.4): which messages of the selected mailbox match
//! a list of keys, and the sequence sets every command addresses messages
//! with.

use std::collections::BTreeSet;

use imap_types::search::SearchKey;
use imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

use super::maildir::Entry;
use super::message::{self, Parsed};

/// Whether `n` is in `set`, `*` being `largest` (RFC 3501 §9: `n:m` is the
/// same as `m:n`, and `*` is the largest number in use).
pub fn contains(set: &SequenceSet, n: u32, largest: u32) -> bool {
    let val = |s: &SeqOrUid| match s {
        SeqOrUid::Value(v) => v.get(),
        SeqOrUid::Asterisk => largest,
    };
    set.0.as_ref().iter().any(|s| match s {
        Sequence::Single(v) => val(v) == n,
        Sequence::Range(a, b) => {
            let (a, b) = (val(a), val(b));
            a.min(b) <= n && n <= a.max(b)
        }
    })
}

/// Whether a sequence set names a message past the last one, `count`:
/// a single number past it, or a range wholly past it (`6:*` with five
/// messages is message 5).
pub fn past_the_end(set: &SequenceSet, count: u32) -> bool {
    let val = |s: &SeqOrUid| match s {
        SeqOrUid::Value(v) => v.get(),
        SeqOrUid::Asterisk => count,
    };
    set.0.as_ref().iter().any(|s| match s {
        Sequence::Single(v) => val(v) > count,
        Sequence::Range(a, b) => val(a).min(val(b)) > count,
    })
}

/// One message as SEARCH sees it; the bytes are read only if a key needs
/// them.
pub struct Candidate<'a> {
    pub seq: u32,
    pub entry: &'a Entry,
    pub recent: bool,
    pub load: &'a (dyn Fn(&Entry) -> Option<Vec<u8>> + Sync),
}

struct Ctx<'a> {
    c: &'a Candidate<'a>,
    count: u32,
    max_uid: u32,
    bytes: std::cell::OnceCell<Option<Vec<u8>>>,
}

impl Ctx<'_> {
    fn with_parsed<T>(&self, f: impl FnOnce(&Parsed) -> T) -> Option<T> {
        let bytes = self
            .bytes
            .get_or_init(|| (self.c.load)(self.c.entry))
            .as_ref()?;
        let mut scratch = Vec::new();
        Some(f(&Parsed::new(bytes, &mut scratch)))
    }
}

fn has(e: &Entry, flag: &str) -> bool {
    e.flags.iter().any(|f| f.eq_ignore_ascii_case(flag))
}

fn day_of(secs: i64) -> chrono::NaiveDate {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

fn needle(s: &impl AsRef<[u8]>) -> String {
    String::from_utf8_lossy(s.as_ref()).to_lowercase()
}

fn matches(ctx: &Ctx, key: &SearchKey) -> bool {
    let e = ctx.c.entry;
    let header = |name: &str, what: &[u8]| {
        let what = needle(&what);
        ctx.with_parsed(|p| {
            message::header_text(p, name).is_some_and(|h| what.is_empty() || h.contains(&what))
        })
        .unwrap_or(false)
    };
    let sent = |f: &dyn Fn(chrono::NaiveDate) -> bool| {
        ctx.with_parsed(|p| {
            p.sent_date()
                .and_then(|(y, m, d)| chrono::NaiveDate::from_ymd_opt(y, m, d))
                .is_some_and(f)
        })
        .unwrap_or(false)
    };
    match key {
        SearchKey::And(keys) => keys.as_ref().iter().all(|k| matches(ctx, k)),
        SearchKey::SequenceSet(set) => contains(set, ctx.c.seq, ctx.count),
        SearchKey::Uid(set) => contains(set, e.uid, ctx.max_uid),
        SearchKey::All => true,
        SearchKey::Answered => has(e, "\\Answered"),
        SearchKey::Unanswered => !has(e, "\\Answered"),
        SearchKey::Deleted => has(e, "\\Deleted"),
        SearchKey::Undeleted => !has(e, "\\Deleted"),
        SearchKey::Draft => has(e, "\\Draft"),
        SearchKey::Undraft => !has(e, "\\Draft"),
        SearchKey::Flagged => has(e, "\\Flagged"),
        SearchKey::Unflagged => !has(e, "\\Flagged"),
        SearchKey::Seen => has(e, "\\Seen"),
        SearchKey::Unseen => !has(e, "\\Seen"),
        SearchKey::Keyword(k) => has(e, k.as_ref()),
        SearchKey::Unkeyword(k) => !has(e, k.as_ref()),
        SearchKey::Recent => ctx.c.recent,
        SearchKey::New => ctx.c.recent && !has(e, "\\Seen"),
        SearchKey::Old => !ctx.c.recent,
        SearchKey::Larger(n) => e.size > u64::from(*n),
        SearchKey::Smaller(n) => e.size < u64::from(*n),
        SearchKey::Before(d) => day_of(e.date) < *d.as_ref(),
        SearchKey::On(d) => day_of(e.date) == *d.as_ref(),
        SearchKey::Since(d) => day_of(e.date) >= *d.as_ref(),
        SearchKey::SentBefore(d) => sent(&|x| x < *d.as_ref()),
        SearchKey::SentOn(d) => sent(&|x| x == *d.as_ref()),
        SearchKey::SentSince(d) => sent(&|x| x >= *d.as_ref()),
        SearchKey::From(s) => header("From", s.as_ref()),
        SearchKey::To(s) => header("To", s.as_ref()),
        SearchKey::Cc(s) => header("Cc", s.as_ref()),
        SearchKey::Bcc(s) => header("Bcc", s.as_ref()),
        SearchKey::Subject(s) => header("Subject", s.as_ref()),
        SearchKey::Header(name, s) => {
            let name = String::from_utf8_lossy(name.as_ref()).to_string();
            header(&name, s.as_ref())
        }
        SearchKey::Body(s) => {
            let what = needle(s);
            ctx.with_parsed(|p| message::body_text(p).contains(&what))
                .unwrap_or(false)
        }
        SearchKey::Text(s) => {
            let what = needle(s);
            ctx.with_parsed(|p| {
                String::from_utf8_lossy(p.header())
                    .to_lowercase()
                    .contains(&what)
                    || message::body_text(p).contains(&what)
            })
            .unwrap_or(false)
        }
        SearchKey::Not(k) => !matches(ctx, k),
        SearchKey::Or(a, b) => matches(ctx, a) || matches(ctx, b),
        // RFC 7162 §3.1.5: changed at or after that mod-sequence.
        SearchKey::ModSequence { modseq, .. } => e.modseq >= *modseq,
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// Whether a key (or one inside it) is MODSEQ.
pub fn uses_modseq(key: &SearchKey) -> bool {
    match key {
        SearchKey::ModSequence { .. } => true,
        SearchKey::And(keys) => keys.as_ref().iter().any(uses_modseq),
        SearchKey::Not(k) => uses_modseq(k),
        SearchKey::Or(a, b) => uses_modseq(a) || uses_modseq(b),
        _ => false,
    }
}

/// The candidates that match every key.
pub fn run<'a>(
    candidates: &'a [Candidate<'a>],
    keys: &[SearchKey],
    max_uid: u32,
) -> BTreeSet<usize> {
    let count = candidates.len() as u32;
    let mut out = BTreeSet::new();
    for (i, c) in candidates.iter().enumerate() {
        let ctx = Ctx {
            c,
            count,
            max_uid,
            bytes: std::cell::OnceCell::new(),
        };
        if keys.iter().all(|k| matches(&ctx, k)) {
            out.insert(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> SequenceSet {
        SequenceSet::try_from(s).unwrap()
    }

    #[test]
    fn sequence_sets() {
        // RFC 3501 §6.4.8 and §9: `*` is the last, ranges go either way.
        assert!(contains(&set("6:*"), 5, 5));
        assert!(contains(&set("4:2"), 3, 5));
        assert!(!contains(&set("1:3,5"), 4, 5));
        assert!(!past_the_end(&set("6:*"), 5));
        assert!(past_the_end(&set("6"), 5));
        assert!(past_the_end(&set("6:7"), 5));
        assert!(!past_the_end(&set("1:*"), 0));
    }
}
