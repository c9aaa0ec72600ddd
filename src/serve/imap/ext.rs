//! The extended forms of commands that imap-codec does not parse, read
//! from the bytes of a command it refused (after login only; before it
//! the wire's limits apply as to every command):
//!
//! - SEARCH and SORT with `RETURN (...)`: ESEARCH (RFC 4731) and ESORT
//!   (RFC 5267 §3), answered with `* ESEARCH`, with the CONTEXT, UPDATE
//!   and PARTIAL options of CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267
//!   §4), and CANCELUPDATE;
//! - APPEND of several messages: MULTIAPPEND (RFC 3502);
//! - LIST with selection options, several patterns or return options:
//!   LIST-EXTENDED (RFC 5258), with STATUS among them (LIST-STATUS, RFC
//!   5819) and the SPECIAL-USE ones (RFC 6154 §5.1).
//!
//! The parts these share with the base commands (search keys, sort
//! criteria, flags, dates, status items) are handed back to imap-codec as
//! a base command of their own, so one grammar reads them everywhere.

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use std::collections::BTreeMap;

use imap_next::imap_types::IntoStatic;
use imap_next::imap_types::command::{Command, CommandBody};
use imap_next::imap_types::core::{Atom, QuotedChar, Tag};
use imap_next::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_next::imap_types::flag::FlagNameAttribute;
use imap_next::imap_types::mailbox::Mailbox;
use imap_next::imap_types::response::{Code, CodeOther, Data, Status, StatusKind};
use imap_next::imap_types::search::SearchKey;
use imap_next::imap_types::status::StatusDataItemName;
use imap_next::server::Server;

use super::answer::{bad, encode, no, ok, set, status};
use super::context::{Refused, Start, freeze};
use super::flags::flag_names;
use super::mailboxes::wildcard;
use super::maildir::{self, DELIMITER, Flags, Folder, Name, Refusal};
use super::session::{Selected, Session, blocking};
use super::sort;
use crate::serve::quota;

/// A command read here, or why it is malformed (answered `BAD`).
pub(super) type Parsed = Result<Ext, (Tag<'static>, &'static str)>;

pub(super) enum Ext {
    /// SEARCH or SORT (`command`, as imap-codec read it without the
    /// RETURN options) answered with ESEARCH.
    Search {
        tag: Tag<'static>,
        ret: Return,
        command: Command<'static>,
    },
    /// MULTIAPPEND: one APPEND per message, all to the same mailbox;
    /// `utf8` when a message came as `UTF8 (...)` (RFC 6855 §4).
    Append {
        tag: Tag<'static>,
        appends: Vec<Command<'static>>,
        utf8: bool,
    },
    List {
        tag: Tag<'static>,
        list: List,
    },
    /// CANCELUPDATE (RFC 5267 §4.3.5) of the contexts these tags name.
    CancelUpdate {
        tag: Tag<'static>,
        tags: Vec<String>,
    },
    /// A malformed SEARCH or SORT that asked to SAVE: answered `BAD`, and
    /// `$` emptied (RFC 5182 §2.1).
    BadSave {
        tag: Tag<'static>,
        why: &'static str,
    },
}

/// The RETURN options of ESEARCH and ESORT; none given means ALL (RFC
/// 4731 §3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Return {
    pub min: bool,
    pub max: bool,
    pub all: bool,
    pub count: bool,
    /// PARTIAL (RFC 5267 §4.4): positions `from..=to` of the result, from 1.
    pub partial: Option<(u32, u32)>,
    /// SAVE (RFC 5182 §2): keep the result for `$`.
    pub save: bool,
    /// UPDATE (RFC 5267 §4.3): keep the result up to date for the client.
    pub update: bool,
}

/// An extended LIST (RFC 5258 §3).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct List {
    pub reference: Vec<u8>,
    pub patterns: Vec<Vec<u8>>,
    /// Selection options.
    pub subscribed: bool,
    pub recursive: bool,
    pub special_use_only: bool,
    /// Return options.
    pub children: bool,
    pub return_subscribed: bool,
    pub status: Vec<StatusDataItemName>,
}

/// Reads `bytes`, a whole command (its literals included) that imap-codec
/// refused; `None` when it is none of the forms above (the caller
/// answers the usual `BAD`).
pub(super) fn parse(bytes: &[u8]) -> Option<Parsed> {
    let mut r = Reader { b: bytes, pos: 0 };
    let tag_bytes = r.word();
    let tag = Tag::try_from(tag_bytes.to_vec()).ok()?;
    if !r.sp() {
        return None;
    }
    let after_tag = r.pos;
    let mut name = r.word().to_ascii_uppercase();
    if name == b"UID" {
        if !r.sp() {
            return None;
        }
        name = r.word().to_ascii_uppercase();
    }
    let bad = |why| Some(Err((tag.clone(), why)));
    match name.as_slice() {
        b"SEARCH" | b"SORT" => {
            let head_end = r.pos;
            if !r.sp() || !r.keyword(b"RETURN") {
                return None;
            }
            if !r.sp() {
                return bad("RETURN needs its options");
            }
            let mut ret = Return::default();
            let failed = |why, ret: &Return| match ret.save {
                true => Some(Ok(Ext::BadSave {
                    tag: tag.clone(),
                    why,
                })),
                false => Some(Err((tag.clone(), why))),
            };
            if let Err(why) = r.return_options(&mut ret) {
                return failed(why, &ret);
            }
            if !r.sp() {
                return failed("search criteria expected after RETURN (...)", &ret);
            }
            let mut base = bytes[..head_end].to_vec();
            base.push(b' ');
            base.extend_from_slice(&bytes[r.pos..]);
            match decode(&base) {
                Some(command) => Some(Ok(Ext::Search { tag, ret, command })),
                None => failed("syntax error in search criteria", &ret),
            }
        }
        // RFC 5267 §5: `CANCELUPDATE 1*(SP quoted)`.
        b"CANCELUPDATE" if after_tag + 12 == r.pos => {
            let mut tags = Vec::new();
            while r.sp() {
                match r.string() {
                    Ok(t) => tags.push(String::from_utf8_lossy(&t).into_owned()),
                    Err(_) => return bad("CANCELUPDATE takes the quoted tags of searches"),
                }
            }
            if tags.is_empty() || !r.at_end() {
                return bad("CANCELUPDATE takes the quoted tags of searches");
            }
            Some(Ok(Ext::CancelUpdate { tag, tags }))
        }
        b"APPEND" if after_tag + 6 == r.pos => {
            let mut utf8 = false;
            let Some(appends) = multiappend(&mut r, bytes, tag_bytes, &mut utf8) else {
                return bad("syntax error in APPEND");
            };
            Some(Ok(Ext::Append { tag, appends, utf8 }))
        }
        b"LIST" if after_tag + 4 == r.pos => match r.list() {
            Ok(list) => Some(Ok(Ext::List { tag, list })),
            Err(why) => bad(why),
        },
        _ => None,
    }
}

/// A base command through imap-codec; `None` unless it reads whole.
pub(super) fn decode(bytes: &[u8]) -> Option<Command<'static>> {
    match CommandCodec::default().decode(bytes) {
        Ok((&[], cmd)) => Some(cmd.into_static()),
        _ => None,
    }
}

/// The messages of an APPEND after its mailbox: `[flags] [date] literal`
/// (or `UTF8 (literal8)`), one or more, each made a single APPEND for
/// imap-codec to read; `any_utf8` is set when one used the UTF8 form.
fn multiappend(
    r: &mut Reader,
    bytes: &[u8],
    tag: &[u8],
    any_utf8: &mut bool,
) -> Option<Vec<Command<'static>>> {
    if !r.sp() {
        return None;
    }
    let start = r.pos;
    r.astring().ok()?;
    let mailbox = &bytes[start..r.pos];
    let mut appends = Vec::new();
    while r.sp() {
        let start = r.pos;
        if r.peek() == Some(b'(') {
            r.skip_to(b')')?;
            if !r.sp() {
                return None;
            }
        }
        if r.peek() == Some(b'"') {
            r.string().ok()?;
            if !r.sp() {
                return None;
            }
        }
        // RFC 6855 §4: `UTF8 (literal8)` says the message has UTF-8
        // headers; it is stored as any other.
        let head_end = r.pos;
        let utf8 = r.keyword(b"UTF8");
        if utf8 && !(r.sp() && r.eat(b'(')) {
            return None;
        }
        let literal_start = r.pos;
        r.eat(b'~');
        if r.peek() != Some(b'{') {
            return None;
        }
        r.string().ok()?;
        let literal_end = r.pos;
        if utf8 && !r.eat(b')') {
            return None;
        }
        *any_utf8 |= utf8;
        let mut one = tag.to_vec();
        one.extend_from_slice(b" APPEND ");
        one.extend_from_slice(mailbox);
        one.push(b' ');
        one.extend_from_slice(&bytes[start..head_end]);
        one.extend_from_slice(&bytes[literal_start..literal_end]);
        one.extend_from_slice(b"\r\n");
        appends.push(decode(&one)?);
    }
    (r.at_end() && !appends.is_empty()).then_some(appends)
}

/// `bytes` with each `$` (RFC 5182 §2.1: the result of the last `SEARCH
/// RETURN (SAVE)`) written out as the messages it holds: as UIDs after a
/// `UID` search key and as the set of a UID command, else as sequence
/// numbers. An empty result is a UID no message has (`UID 4294967295` in a
/// search, a UID command in place of the plain one), so the command acts
/// on nothing. `None` when there is no `$` outside strings and literals.
pub(super) fn with_saved(bytes: &[u8], sel: &Selected) -> Option<Vec<u8>> {
    const NONE: &str = "4294967295";
    let uids = &sel.saved;
    let seqs: Vec<u32> = uids
        .iter()
        .filter_map(|u| sel.msgs.iter().position(|e| e.uid == *u))
        .map(|i| i as u32 + 1)
        .collect();
    // The word that ends just before `at`.
    let word_before = |at: usize| -> &[u8] {
        let start = bytes[..at]
            .iter()
            .rposition(|&b| b == b' ' || b == b'(')
            .map_or(0, |p| p + 1);
        &bytes[start..at]
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut found = false;
    let mut uid_command = false;
    let mut spaces = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'"' => {
                // A quoted string, escapes and all.
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(bytes.len());
                out.extend_from_slice(&bytes[i..end]);
                i = end;
                continue;
            }
            b'{' => {
                // A literal: its bytes go over unread.
                let close = bytes[i..].iter().position(|&b| b == b'}');
                let n: Option<usize> = close.and_then(|c| {
                    std::str::from_utf8(&bytes[i + 1..i + c])
                        .ok()?
                        .trim_end_matches('+')
                        .parse()
                        .ok()
                });
                let data = close.and_then(|c| {
                    (i + c + 1..bytes.len())
                        .find(|&k| bytes[k] == b'\n')
                        .map(|k| k + 1)
                });
                if let (Some(n), Some(d)) = (n, data) {
                    let end = (d + n).min(bytes.len());
                    out.extend_from_slice(&bytes[i..end]);
                    i = end;
                    continue;
                }
            }
            b' ' => {
                spaces += 1;
                if spaces == 2 && word_before(i).eq_ignore_ascii_case(b"UID") {
                    uid_command = true;
                }
            }
            b'$' if i > 0
                && matches!(bytes[i - 1], b' ' | b'(')
                && matches!(bytes.get(i + 1), Some(b' ' | b')' | b'\r' | b'\n')) =>
            {
                found = true;
                let after_uid_key = word_before(i - 1).eq_ignore_ascii_case(b"UID");
                // `tag UID FETCH $`: the set of a UID command.
                let set_of_uid_command = uid_command && spaces == 3;
                let text = if after_uid_key || set_of_uid_command {
                    if uids.is_empty() {
                        NONE.to_string()
                    } else {
                        set(uids)
                    }
                } else if !seqs.is_empty() {
                    set(&seqs)
                } else if spaces == 2 && !word_before(i - 1).eq_ignore_ascii_case(b"SEARCH") {
                    // `tag FETCH $` with nothing saved: `tag UID FETCH NONE`.
                    let at = out.len() - word_before(i - 1).len() - 1;
                    out.splice(at..at, b"UID ".iter().copied());
                    NONE.to_string()
                } else {
                    format!("UID {NONE}")
                };
                out.extend_from_slice(text.as_bytes());
                i += 1;
                continue;
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    found.then_some(out)
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

/// Characters that end an atom (RFC 3501 §9 atom-specials, with `]`
/// allowed as in ASTRING-CHAR; list wildcards are taken as in
/// list-char).
fn atom_char(c: u8) -> bool {
    c > b' ' && c < 0x7f && !b"(){\"\\".contains(&c)
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn sp(&mut self) -> bool {
        self.eat(b' ')
    }

    fn at_end(&self) -> bool {
        matches!(&self.b[self.pos..], b"\r\n" | b"\n")
    }

    /// Atom characters.
    fn word(&mut self) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(atom_char) {
            self.pos += 1;
        }
        &self.b[start..self.pos]
    }

    fn keyword(&mut self, kw: &[u8]) -> bool {
        let save = self.pos;
        if self.word().eq_ignore_ascii_case(kw) {
            true
        } else {
            self.pos = save;
            false
        }
    }

    fn skip_to(&mut self, c: u8) -> Option<()> {
        let at = self.b[self.pos..].iter().position(|&b| b == c)?;
        self.pos += at + 1;
        Some(())
    }

    /// A quoted string or a literal.
    fn string(&mut self) -> Result<Vec<u8>, &'static str> {
        if self.eat(b'"') {
            let mut out = Vec::new();
            loop {
                match self.peek() {
                    Some(b'"') => {
                        self.pos += 1;
                        return Ok(out);
                    }
                    Some(b'\\') => {
                        self.pos += 1;
                        match self.peek() {
                            Some(c @ (b'"' | b'\\')) => out.push(c),
                            _ => return Err("bad escape in a quoted string"),
                        }
                    }
                    Some(b'\r' | b'\n') | None => return Err("unterminated quoted string"),
                    Some(c) => out.push(c),
                }
                self.pos += 1;
            }
        }
        if !self.eat(b'{') {
            return Err("string expected");
        }
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let n: usize = std::str::from_utf8(&self.b[start..self.pos])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("bad literal length")?;
        self.eat(b'+');
        if !self.eat(b'}') {
            return Err("bad literal");
        }
        self.eat(b'\r');
        if !self.eat(b'\n') {
            return Err("bad literal");
        }
        let data = self.b.get(self.pos..self.pos + n).ok_or("short literal")?;
        self.pos += n;
        Ok(data.to_vec())
    }

    /// An astring, or a list-mailbox (`%` and `*` are atom characters
    /// here).
    fn astring(&mut self) -> Result<Vec<u8>, &'static str> {
        match self.peek() {
            Some(b'"' | b'{') => self.string(),
            _ => {
                let w = self.word();
                if w.is_empty() {
                    Err("mailbox name expected")
                } else {
                    Ok(w.to_vec())
                }
            }
        }
    }

    /// `(opt opt ...)`, each option an atom, optionally followed by its
    /// own argument that `arg` reads.
    fn options(
        &mut self,
        mut each: impl FnMut(&mut Self, &[u8]) -> Result<(), &'static str>,
    ) -> Result<(), &'static str> {
        if !self.eat(b'(') {
            return Err("options in parentheses expected");
        }
        if self.eat(b')') {
            return Ok(());
        }
        loop {
            let w = self.word().to_ascii_uppercase();
            if w.is_empty() {
                return Err("option expected");
            }
            each(self, &w)?;
            if self.eat(b')') {
                return Ok(());
            }
            if !self.sp() {
                return Err("space or ) expected between options");
            }
        }
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        std::str::from_utf8(&self.b[start..self.pos])
            .ok()?
            .parse()
            .ok()
            .filter(|&n| n > 0)
    }

    /// RFC 4731 §3.1, RFC 5267 §4, into `ret` (as far as they read, so a
    /// malformed list that asked to SAVE is known).
    fn return_options(&mut self, ret: &mut Return) -> Result<(), &'static str> {
        let mut any = false;
        self.options(|r, w| {
            any = true;
            match w {
                b"MIN" => ret.min = true,
                b"MAX" => ret.max = true,
                b"COUNT" => ret.count = true,
                b"SAVE" => ret.save = true,
                b"UPDATE" => ret.update = true,
                // RFC 5267 §4.2: a hint that the search comes again; every
                // result is worked out afresh here, so nothing to keep.
                b"CONTEXT" => {}
                // RFC 5267 §4.4: one PARTIAL or one ALL, not both.
                b"ALL" | b"PARTIAL" if ret.all || ret.partial.is_some() => {
                    return Err("one ALL or PARTIAL, not both");
                }
                b"ALL" => ret.all = true,
                b"PARTIAL" => {
                    let range = (|| {
                        if !r.sp() {
                            return None;
                        }
                        let a = r.number()?;
                        if !r.eat(b':') {
                            return None;
                        }
                        let b = r.number()?;
                        Some((a.min(b), a.max(b)))
                    })();
                    ret.partial =
                        Some(range.ok_or("PARTIAL needs a range n:m of positive numbers")?);
                }
                _ => return Err("unknown RETURN option"),
            }
            Ok(())
        })?;
        if !any {
            ret.all = true;
        }
        Ok(())
    }

    /// After `tag LIST`: RFC 5258 §6's grammar.
    fn list(&mut self) -> Result<List, &'static str> {
        let mut list = List::default();
        if !self.sp() {
            return Err("LIST needs a reference and a pattern");
        }
        if self.peek() == Some(b'(') {
            let mut base = false;
            self.options(|_, w| {
                match w {
                    b"SUBSCRIBED" => {
                        list.subscribed = true;
                        base = true;
                    }
                    b"SPECIAL-USE" => {
                        list.special_use_only = true;
                        base = true;
                    }
                    b"REMOTE" => {}
                    b"RECURSIVEMATCH" => list.recursive = true,
                    _ => return Err("unknown LIST selection option"),
                }
                Ok(())
            })?;
            // RFC 5258 §3.1: RECURSIVEMATCH goes with a base option.
            if list.recursive && !base {
                return Err("RECURSIVEMATCH needs another selection option");
            }
            if !self.sp() {
                return Err("LIST needs a reference and a pattern");
            }
        }
        list.reference = self.astring()?;
        if !self.sp() {
            return Err("LIST needs a pattern");
        }
        if self.eat(b'(') {
            loop {
                list.patterns.push(self.astring()?);
                if self.eat(b')') {
                    break;
                }
                if !self.sp() {
                    return Err("space or ) expected between patterns");
                }
            }
        } else {
            list.patterns.push(self.astring()?);
        }
        if self.sp() {
            if !self.keyword(b"RETURN") || !self.sp() {
                return Err("RETURN (...) expected");
            }
            self.options(|r, w| {
                match w {
                    b"CHILDREN" => list.children = true,
                    b"SUBSCRIBED" => list.return_subscribed = true,
                    b"SPECIAL-USE" => {}
                    b"STATUS" => {
                        // The items, read by imap-codec as a STATUS of its own.
                        if !r.sp() || r.peek() != Some(b'(') {
                            return Err("STATUS needs its items");
                        }
                        let start = r.pos;
                        r.skip_to(b')').ok_or("STATUS needs its items")?;
                        let mut base = b"s STATUS INBOX ".to_vec();
                        base.extend_from_slice(&r.b[start..r.pos]);
                        base.extend_from_slice(b"\r\n");
                        match decode(&base).map(|c| c.body) {
                            Some(CommandBody::Status { item_names, .. }) => {
                                list.status = item_names.into_owned();
                            }
                            _ => return Err("unknown STATUS item"),
                        }
                    }
                    _ => return Err("unknown LIST return option"),
                }
                Ok(())
            })?;
        }
        if !self.at_end() {
            return Err("unexpected text after LIST");
        }
        Ok(list)
    }
}

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

/// The mailbox names of a MULTIAPPEND's commands (all the same).
pub(super) fn append_mailbox<'a>(appends: &'a [Command<'static>]) -> Option<&'a Mailbox<'static>> {
    match &appends.first()?.body {
        CommandBody::Append { mailbox, .. } => Some(mailbox),
        _ => None,
    }
}

impl Session {
    /// Answers a command read by [`parse`]; the ESEARCH, LIST and STATUS
    /// lines go to [`Session::raw`].
    pub(super) fn extended(&mut self, server: &mut Server, ext: Ext) -> Status<'static> {
        match ext {
            Ext::Search { tag, ret, command } => {
                let st = self.esearch(server, &tag, &ret, command);
                // RFC 5182 §2.1: a SEARCH that asked to SAVE and failed
                // leaves `$` empty.
                let failed = matches!(&st, Status::Tagged(t) if t.body.kind != StatusKind::Ok);
                if ret.save && failed {
                    self.forget_saved();
                }
                st
            }
            Ext::BadSave { tag, why } => {
                self.forget_saved();
                bad(&tag, why)
            }
            Ext::CancelUpdate { tag, tags } => self.cancel_update(&tag, &tags),
            Ext::Append { tag, appends, utf8 } => {
                // RFC 6855 §4: the UTF8 form belongs to clients that enabled it.
                if utf8 && !self.utf8() {
                    return bad(&tag, "APPEND UTF8 needs ENABLE UTF8=ACCEPT first");
                }
                let st = self.multiappend(&tag, &appends);
                self.refresh(server, true);
                st
            }
            Ext::List { tag, list } => {
                let st = self.list_extended(&tag, &list);
                self.refresh(server, true);
                st
            }
        }
    }

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

    /// MULTIAPPEND (RFC 3502): the messages of one APPEND command.
    fn multiappend(&mut self, tag: &Tag<'static>, appends: &[Command<'static>]) -> Status<'static> {
        let Some(mailbox) = append_mailbox(appends) else {
            return bad(tag, "APPEND needs a message");
        };
        let mut messages: Vec<(&[u8], Flags, i64)> = Vec::new();
        for a in appends {
            let CommandBody::Append {
                flags,
                date,
                message,
                ..
            } = &a.body
            else {
                return bad(tag, "APPEND expected");
            };
            let bytes: &[u8] = match message {
                LiteralOrLiteral8::Literal(l) => l.data(),
                LiteralOrLiteral8::Literal8(l) => &l.data[..],
            };
            let date = date
                .as_ref()
                .map_or_else(maildir::now, |d| d.as_ref().timestamp());
            messages.push((bytes, flag_names(flags), date));
        }
        self.append(tag, mailbox, messages)
    }

    /// APPEND of one message or several (MULTIAPPEND, RFC 3502 §6.3.11):
    /// every message is stored, in one commit, or none is. A message may
    /// come as a literal8 (BINARY, RFC 3516 §4.3).
    pub(super) fn append(
        &mut self,
        tag: &Tag<'static>,
        mailbox: &Mailbox,
        messages: Vec<(&[u8], Flags, i64)>,
    ) -> Status<'static> {
        let name = match self.name(mailbox) {
            Ok(n) => n,
            Err(e) => return no(tag, e),
        };
        let limit = self.shared.manifest.limits.message_size;
        if messages.iter().any(|(b, _, _)| b.len() as u64 > limit) {
            return status(tag, StatusKind::No, Some(Code::TooBig), "message too big");
        }
        // RFC 3516 §4.3: parts sent as binary are kept as base64.
        let stored: Vec<Option<Vec<u8>>> = messages
            .iter()
            .map(|(b, _, _)| super::binary::store_form(b))
            .collect();
        let messages: Vec<(&[u8], Flags, i64)> = messages
            .into_iter()
            .zip(&stored)
            .map(|((b, f, d), s)| (s.as_deref().unwrap_or(b), f, d))
            .collect();
        let total: u64 = messages.iter().map(|(b, _, _)| b.len() as u64).sum();
        let quota = self.quota_limit();
        let acct = self.account();
        let res = blocking(
            || -> Result<Result<(u32, Vec<u32>), Status<'static>>, Refusal> {
                let _l = acct.lock()?;
                if !acct.exists(&name) {
                    return Ok(Err(status(
                        tag,
                        StatusKind::No,
                        Some(Code::TryCreate),
                        "no such mailbox",
                    )));
                }
                if let Some(q) = quota
                    && quota::usage(acct.root()) + total > q
                {
                    return Ok(Err(status(
                        tag,
                        StatusKind::No,
                        Some(Code::OverQuota),
                        "quota exceeded",
                    )));
                }
                let mut folder = Folder::open(&acct, &name)?;
                let uids = folder.add_all(&messages)?;
                Ok(Ok((folder.uidvalidity, uids)))
            },
        );
        match res {
            Ok(Ok((v, uids))) => {
                self.shared.store.notify();
                // RFC 4315 §3: APPENDUID, with a set for several messages.
                let code = format!("APPENDUID {v} {}", set(&uids));
                status(
                    tag,
                    StatusKind::Ok,
                    Some(Code::Other(CodeOther::unvalidated(code.into_bytes()))),
                    "APPEND done",
                )
            }
            Ok(Err(st)) => st,
            Err(e) => no(tag, &e.to_string()),
        }
    }

    /// LIST-EXTENDED (RFC 5258) with LIST-STATUS (RFC 5819).
    fn list_extended(&mut self, tag: &Tag<'static>, list: &List) -> Status<'static> {
        let delim = QuotedChar::try_from(DELIMITER).ok();
        if list.patterns.iter().all(Vec::is_empty) {
            // RFC 3501 §6.3.8: the delimiter and the root.
            self.raw.extend(encode(Data::List {
                items: vec![FlagNameAttribute::Noselect],
                delimiter: delim,
                mailbox: self.mailbox_of(""),
            }));
            return ok(tag, "LIST done");
        }
        let patterns: Vec<Vec<u8>> = list
            .patterns
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| [&list.reference[..], p].concat())
            .collect();
        // Patterns match the names as the client sees them.
        let hit = |n: &str| {
            let shown = self.shown_name(n);
            patterns.iter().any(|p| {
                wildcard(p, shown.as_bytes())
                    || (n == "INBOX" && wildcard(&p.to_ascii_uppercase(), n.as_bytes()))
            })
        };
        let acct = self.account();
        let res = blocking(|| {
            let _l = acct.lock()?;
            Ok::<_, std::io::Error>((acct.list()?, acct.subscriptions()?))
        });
        let Ok((names, subs)) = res else {
            return no(tag, "cannot list mailboxes");
        };
        let exists = |n: &str| names.iter().any(|m| m.as_str() == n);
        let children = |n: &str| {
            let prefix = format!("{n}{DELIMITER}");
            names.iter().any(|m| m.as_str().starts_with(&prefix))
        };
        let special = |n: &str| {
            maildir::SPECIAL_USE
                .iter()
                .find(|(name, _)| *name == n)
                .map(|(_, use_)| *use_)
        };
        // The names selected, each with whether a descendant that matches
        // the selection but not the patterns stands behind it (CHILDINFO,
        // RFC 5258 §3.5).
        let mut found: BTreeMap<String, bool> = BTreeMap::new();
        if list.subscribed {
            for n in &subs {
                if hit(n) {
                    found.entry(n.to_string()).or_insert(false);
                } else if list.recursive {
                    for p in Name::parse(n.as_bytes())
                        .map(|n| n.parents())
                        .unwrap_or_default()
                    {
                        if hit(p.as_str()) {
                            found.insert(p.as_str().to_string(), true);
                        }
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
        if list.special_use_only {
            found.retain(|n, _| special(n).is_some());
        }
        let mut order: Vec<(String, bool)> = found.into_iter().collect();
        order.sort_by_key(|(n, _)| n != "INBOX");
        for (n, childinfo) in order {
            let subscribed = subs.contains(&n);
            let mut attrs: Vec<&str> = Vec::new();
            if !exists(&n) {
                attrs.push("NonExistent");
            } else {
                // Given whether or not RETURN (CHILDREN) asks (RFC 5258 §4).
                attrs.push(if children(&n) {
                    "HasChildren"
                } else {
                    "HasNoChildren"
                });
            }
            if subscribed && (list.subscribed || list.return_subscribed) {
                attrs.push("Subscribed");
            }
            attrs.extend(special(&n).filter(|_| exists(&n)));
            let items = attrs
                .into_iter()
                .filter_map(|a| Atom::try_from(a).ok())
                .map(|a| FlagNameAttribute::from(a).into_static())
                .collect();
            let mut line = encode(Data::List {
                items,
                delimiter: delim,
                mailbox: self.mailbox_of(&n),
            });
            if childinfo {
                line.truncate(line.len() - 2);
                line.extend_from_slice(b" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n");
            }
            self.raw.extend(line);
            // RFC 5819 §2: STATUS after the mailbox's LIST, for mailboxes
            // that can be selected.
            if !list.status.is_empty() && exists(&n) {
                let Some(name) = Name::parse(n.as_bytes()) else {
                    continue;
                };
                if let Ok(data) = self.status_data(&name, &list.status) {
                    self.raw.extend(encode(data));
                }
            }
        }
        ok(tag, "LIST done")
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

    fn ext(s: &str) -> Ext {
        match parse(s.as_bytes()) {
            Some(Ok(e)) => e,
            Some(Err((_, why))) => panic!("{s}: {why}"),
            None => panic!("{s}: not ours"),
        }
    }

    fn why(s: &str) -> &'static str {
        match parse(s.as_bytes()) {
            Some(Err((_, why))) => why,
            _ => panic!("{s}: accepted"),
        }
    }

    #[test]
    fn search_return() {
        let Ext::Search { ret, command, .. } = ext("a UID SEARCH RETURN (MIN COUNT) SEEN\r\n")
        else {
            panic!()
        };
        assert!(ret.min && ret.count && !ret.all);
        assert!(matches!(
            command.body,
            CommandBody::Search { uid: true, .. }
        ));
        let Ext::Search { ret, .. } = ext("a search return () charset utf-8 all\r\n") else {
            panic!()
        };
        assert!(ret.all);
        let Ext::Search { ret, .. } = ext("a SEARCH RETURN (PARTIAL 4:2) ALL\r\n") else {
            panic!()
        };
        assert_eq!(ret.partial, Some((2, 4)));
        let Ext::Search { command, .. } =
            ext("a SORT RETURN (ALL) (DATE) UTF-8 SUBJECT {3}\r\nfoo\r\n")
        else {
            panic!()
        };
        assert!(matches!(command.body, CommandBody::Sort { .. }));
        let Ext::Search { ret, .. } = ext("a SEARCH RETURN (SAVE MIN) ALL\r\n") else {
            panic!()
        };
        assert!(ret.save && ret.min && !ret.all);
        assert_eq!(
            why("a SEARCH RETURN (FUZZY) ALL\r\n"),
            "unknown RETURN option"
        );
        // RFC 5267 §4: CONTEXT is a hint, UPDATE keeps the result; no ALL
        // is implied once an option is given.
        let Ext::Search { ret, .. } = ext("a SEARCH RETURN (CONTEXT UPDATE) SEEN\r\n") else {
            panic!()
        };
        assert!(ret.update && !ret.all);
        assert_eq!(
            why("a SEARCH RETURN (ALL PARTIAL 1:5) ALL\r\n"),
            "one ALL or PARTIAL, not both"
        );
        assert_eq!(
            why("a SEARCH RETURN (PARTIAL 1:5 PARTIAL 6:9) ALL\r\n"),
            "one ALL or PARTIAL, not both"
        );
        // RFC 5182 §2.1: a malformed SAVE empties `$`.
        for bad_save in [
            "a SEARCH RETURN (SAVE) NOSUCHKEY\r\n",
            "a SEARCH RETURN (SAVE FUZZY) ALL\r\n",
        ] {
            assert!(
                matches!(parse(bad_save.as_bytes()), Some(Ok(Ext::BadSave { .. }))),
                "{bad_save}"
            );
        }
        assert_eq!(
            why("a SEARCH RETURN (MIN) NOSUCHKEY\r\n"),
            "syntax error in search criteria"
        );
        assert!(parse(b"a SEARCH NOSUCHKEY\r\n").is_none());
    }

    #[test]
    fn cancelupdate() {
        let Ext::CancelUpdate { tags, .. } = ext("c CANCELUPDATE \"a1\" \"b 2\"\r\n") else {
            panic!()
        };
        assert_eq!(tags, ["a1", "b 2"]);
        for bad in ["c CANCELUPDATE\r\n", "c CANCELUPDATE a1\r\n"] {
            assert_eq!(why(bad), "CANCELUPDATE takes the quoted tags of searches");
        }
    }

    #[test]
    fn multiappend() {
        let Ext::Append { appends, .. } = ext(
            "a APPEND Drafts (\\Seen) {3}\r\none \"01-Jan-2026 10:00:00 +0000\" {3+}\r\ntwo\r\n",
        ) else {
            panic!()
        };
        assert_eq!(appends.len(), 2);
        assert!(append_mailbox(&appends).is_some());
        assert_eq!(
            why("a APPEND Drafts {3}\r\none junk\r\n"),
            "syntax error in APPEND"
        );
    }

    #[test]
    fn list_extended() {
        let Ext::List { list, .. } = ext(
            "a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (\"a\" b.% {1}\r\n*) RETURN (CHILDREN STATUS (MESSAGES UIDNEXT))\r\n",
        ) else {
            panic!()
        };
        assert!(list.subscribed && list.recursive && list.children);
        assert_eq!(
            list.patterns,
            vec![b"a".to_vec(), b"b.%".to_vec(), b"*".to_vec()]
        );
        assert_eq!(
            list.status,
            vec![StatusDataItemName::Messages, StatusDataItemName::UidNext]
        );
        assert_eq!(
            why("a LIST (RECURSIVEMATCH) \"\" %\r\n"),
            "RECURSIVEMATCH needs another selection option"
        );
        assert_eq!(
            why("a LIST (RECURSIVEMATCH REMOTE) \"\" %\r\n"),
            "RECURSIVEMATCH needs another selection option"
        );
        assert_eq!(
            why("a LIST (IMAPTEST) \"\" %\r\n"),
            "unknown LIST selection option"
        );
        assert_eq!(
            why("a LIST \"\" % RETURN (IMAPTEST)\r\n"),
            "unknown LIST return option"
        );
    }

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
