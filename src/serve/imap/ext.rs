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
//! What is read here is answered in [`super::esearch`],
//! [`super::append`] and [`super::list`].

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;

use imap_next::imap_types::IntoStatic;
use imap_next::imap_types::command::{Command, CommandBody};
use imap_next::imap_types::core::Tag;
use imap_next::imap_types::mailbox::Mailbox;
use imap_next::imap_types::status::StatusDataItemName;

use super::answer::set;
use super::session::Selected;

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

/// The mailbox names of a MULTIAPPEND's commands (all the same).
pub(super) fn append_mailbox<'a>(appends: &'a [Command<'static>]) -> Option<&'a Mailbox<'static>> {
    match &appends.first()?.body {
        CommandBody::Append { mailbox, .. } => Some(mailbox),
        _ => None,
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
}
