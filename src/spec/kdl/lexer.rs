//! The characters and tokens of KDL 2.0: which code points are spaces,
//! newlines, identifier characters or forbidden; comments and line
//! continuations; strings (identifier, quoted, raw, multi-line) with their
//! escapes and dedent; numbers and `#` keywords.
//!
//! The parser asks for one token at a time at the current byte offset. No
//! text is scanned more than twice (the look-ahead for `key=` reads the
//! spaces after a string again), so reading is linear in the text whatever
//! it holds. A malformed token is reported into `errors` and skipped whole,
//! so that the parser carries on with the rest of its node.
//!
//! One file on purpose, though long: the token grammar is one thing, each
//! kind of token built from the classes and escapes above it, and its
//! linear-time promise can only be checked by reading the scanners side by
//! side.

use std::borrow::Cow;

use super::document::Value;
use super::parser::{MAX_ERRORS, SyntaxError};
use crate::source::Span;

/// What a code point may be used for (the "Whitespace", "Newline",
/// "Non-identifier characters" and "Disallowed Literal Code Points"
/// sections of the KDL 2.0 specification).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Class {
    /// May appear in an identifier string.
    Ident,
    /// Whitespace that is not a newline (`unicode-space`).
    Space,
    Newline,
    /// One of `\/(){};[]"#=`.
    Punct,
    /// May not appear literally anywhere in a document.
    Banned,
}

const fn ascii_class(b: u8) -> Class {
    match b {
        b'\t' | b' ' => Class::Space,
        b'\n' | 0x0B | 0x0C | b'\r' => Class::Newline,
        0x00..=0x08 | 0x0E..=0x1F | 0x7F => Class::Banned,
        b'\\' | b'/' | b'(' | b')' | b'{' | b'}' | b';' | b'[' | b']' | b'"' | b'#' | b'=' => {
            Class::Punct
        }
        _ => Class::Ident,
    }
}

static ASCII: [Class; 128] = {
    let mut table = [Class::Ident; 128];
    let mut i = 0;
    while i < 128 {
        table[i] = ascii_class(i as u8);
        i += 1;
    }
    table
};

pub(super) fn classify(c: char) -> Class {
    match c {
        '\0'..='\x7f' => ASCII[c as usize],
        '\u{A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => {
            Class::Space
        }
        '\u{85}' | '\u{2028}' | '\u{2029}' => Class::Newline,
        // Direction controls and the byte order mark (allowed only first).
        '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}' => Class::Banned,
        _ => Class::Ident,
    }
}

fn is_space(c: char) -> bool {
    classify(c) == Class::Space
}

/// An error already recorded: the parser skips to the end of the node.
#[derive(Debug)]
pub(super) struct Stop;

pub(super) struct Lexer<'a> {
    pub text: &'a str,
    pub b: &'a [u8],
    pub pos: usize,
    pub errors: Vec<SyntaxError>,
}

/// A problem inside a string, reported once the string's end is known.
enum Bad {
    /// Spans the whole string: an escape KDL does not have.
    Escape(String),
    /// A character no document may hold, at this offset.
    Banned(usize),
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str) -> Self {
        Lexer {
            text,
            b: text.as_bytes(),
            pos: 0,
            errors: Vec::new(),
        }
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    pub fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    pub fn peek_at(&self, i: usize) -> Option<u8> {
        self.b.get(i).copied()
    }

    pub fn starts_with(&self, s: &[u8]) -> bool {
        self.b[self.pos.min(self.b.len())..].starts_with(s)
    }

    /// Records an error; past [`MAX_ERRORS`], the rest go unreported.
    pub fn error(&mut self, span: Span, message: impl Into<String>, label: &'static str) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(SyntaxError::new(span, message, label));
        }
    }

    pub fn error_help(
        &mut self,
        span: Span,
        message: impl Into<String>,
        label: &'static str,
        help: impl Into<String>,
    ) {
        if self.errors.len() < MAX_ERRORS {
            self.errors
                .push(SyntaxError::new(span, message, label).help(help));
        }
    }

    /// The character at `i` (a character boundary before the end) and its length.
    pub fn char_at(&self, i: usize) -> (char, usize) {
        match self.text.get(i..).and_then(|s| s.chars().next()) {
            Some(c) => (c, c.len_utf8()),
            None => ('\u{FFFD}', 1),
        }
    }

    /// The class and length of the character at `i`; CRLF is one newline.
    pub fn class_at(&self, i: usize) -> (Class, usize) {
        match self.b.get(i) {
            None => (Class::Punct, 0),
            Some(b'\r') if self.b.get(i + 1) == Some(&b'\n') => (Class::Newline, 2),
            Some(&c) if c < 0x80 => (ASCII[c as usize], 1),
            Some(_) => {
                let (c, n) = self.char_at(i);
                (classify(c), n)
            }
        }
    }

    /// The length of the newline at `i`, 0 if there is none.
    pub fn newline_len(&self, i: usize) -> usize {
        match self.class_at(i) {
            (Class::Newline, n) => n,
            _ => 0,
        }
    }

    /// The span of the character at `i` (empty at the end).
    pub fn char_span(&self, i: usize) -> Span {
        let n = if i < self.b.len() {
            self.class_at(i).1
        } else {
            0
        };
        Span::new(i, n)
    }

    pub fn banned(&mut self, i: usize) {
        let (c, n) = self.char_at(i);
        self.error_help(
            Span::new(i, n),
            format!(
                "the character U+{:04X} may not appear in a KDL document",
                c as u32
            ),
            "not allowed",
            "remove it; inside a quoted string it can be written as an escape `\\u{...}`",
        );
    }

    /// Skips `ws*`: spaces and `/* */` comments. True if it moved.
    pub fn ws(&mut self) -> bool {
        let from = self.pos;
        loop {
            match self.b.get(self.pos) {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'/') if self.b.get(self.pos + 1) == Some(&b'*') => self.block_comment(),
                Some(&c) if c >= 0x80 => match self.class_at(self.pos) {
                    (Class::Space, n) => self.pos += n,
                    _ => break,
                },
                _ => break,
            }
        }
        self.pos > from
    }

    /// Skips a `/* */` comment at `pos`, nested ones included. A comment
    /// may hold any character (the grammar leaves them out of strings and
    /// identifiers only).
    fn block_comment(&mut self) {
        let start = self.pos;
        let mut depth = 0usize;
        let mut i = self.pos;
        while i + 1 < self.b.len() {
            match (self.b[i], self.b[i + 1]) {
                (b'/', b'*') => {
                    depth += 1;
                    i += 2;
                }
                (b'*', b'/') => {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        self.pos = i;
                        return;
                    }
                }
                _ => i += 1,
            }
        }
        self.pos = self.b.len();
        self.error_help(
            Span::new(start, 2),
            "comment not closed: `/*` has no matching `*/`",
            "not closed",
            "close the comment with `*/` (comments nest: each `/*` needs its own `*/`)",
        );
    }

    /// Skips a `//` comment at `pos` and the newline that ends it.
    pub fn line_comment(&mut self) {
        let mut i = self.pos + 2;
        while i < self.b.len() {
            match self.b[i] {
                b'\n' | 0x0B | 0x0C | b'\r' => break,
                c if c < 0x80 => i += 1,
                _ => match self.class_at(i) {
                    (Class::Newline, _) => break,
                    (_, n) => i += n,
                },
            }
        }
        self.pos = i + self.newline_len(i);
    }

    /// Skips `node-space*`: spaces, `/* */` comments and line continuations
    /// (`\` then an optional `//` comment and the newline). True if it moved.
    pub fn node_space(&mut self) -> Result<bool, Stop> {
        let from = self.pos;
        loop {
            self.ws();
            if self.peek() != Some(b'\\') {
                break;
            }
            let slash = self.pos;
            self.pos += 1;
            self.ws();
            if self.at_end() {
                break;
            }
            if self.starts_with(b"//") {
                self.line_comment();
                continue;
            }
            match self.newline_len(self.pos) {
                0 => {
                    self.error_help(
                        Span::new(slash, 1),
                        "a `\\` outside a string continues the node on the next line, \
                         and must end its line",
                        "not at the end of the line",
                        "put a newline (or a `//` comment) after the `\\`, or quote the text \
                         that holds it",
                    );
                    return Err(Stop);
                }
                n => self.pos += n,
            }
        }
        Ok(self.pos > from)
    }

    /// Skips `line-space*`: node-space, newlines and `//` comments.
    pub fn line_space(&mut self) -> Result<(), Stop> {
        loop {
            self.node_space()?;
            if self.starts_with(b"//") {
                self.line_comment();
                continue;
            }
            match self.newline_len(self.pos) {
                0 => return Ok(()),
                n => self.pos += n,
            }
        }
    }

    /// Where node-space from `pos` ends, without reporting anything (None
    /// if it holds an error): the parser's look-ahead for `key=`.
    pub fn peek_node_space(&self) -> Option<usize> {
        // Plain spaces, then anything but a comment, a line continuation or
        // a non-ASCII character: no need for the full scan.
        let mut i = self.pos;
        while matches!(self.b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        match self.b.get(i) {
            None => return Some(i),
            Some(b'\\' | b'/') => {}
            Some(&c) if c < 0x80 => return Some(i),
            Some(_) => {}
        }
        let mut probe = Lexer {
            text: self.text,
            b: self.b,
            pos: self.pos,
            errors: Vec::new(),
        };
        match probe.node_space() {
            Ok(_) if probe.errors.is_empty() => Some(probe.pos),
            _ => None,
        }
    }

    /// Where the run of identifier characters from `i` ends.
    pub fn bare_end(&self, mut i: usize) -> usize {
        while let Some(&c) = self.b.get(i) {
            if c < 0x80 {
                if ASCII[c as usize] != Class::Ident {
                    break;
                }
                i += 1;
            } else {
                let (ch, n) = self.char_at(i);
                if classify(ch) != Class::Ident {
                    break;
                }
                i += n;
            }
        }
        i
    }

    /// True if an identifier character starts at `i`.
    pub fn ident_at(&self, i: usize) -> bool {
        self.bare_end(i) > i
    }

    /// A quoted string (`"…"` or `"""` multi-line) at `pos`, unescaped.
    pub fn quoted(&mut self) -> Cow<'a, str> {
        if self.b[self.pos..].starts_with(b"\"\"\"") {
            return self.multi_line(None);
        }
        let start = self.pos;
        let mut i = start + 1;
        let mut out: Option<String> = None;
        let mut seg = i;
        let mut bad: Option<Bad> = None;
        loop {
            let Some(&c) = self.b.get(i) else {
                return self.unclosed(start, i);
            };
            match c {
                b'"' => break,
                b'\\' => {
                    let o = out.get_or_insert_with(String::new);
                    o.push_str(&self.text[seg..i]);
                    i = self.escape(i, o, &mut bad, false);
                    seg = i;
                }
                // Printable ASCII, the bulk of every string.
                0x20..=0x7E => i += 1,
                _ => match self.class_at(i) {
                    (Class::Newline, _) => return self.unclosed(start, i),
                    (Class::Banned, n) => {
                        if bad.is_none() {
                            bad = Some(Bad::Banned(i));
                        }
                        i += n;
                    }
                    (_, n) => i += n,
                },
            }
        }
        self.pos = i + 1;
        if let Some(bad) = bad {
            self.report(bad, Span::new(start, self.pos - start));
            return Cow::Borrowed("");
        }
        match out {
            None => Cow::Borrowed(&self.text[start + 1..i]),
            Some(mut o) => {
                o.push_str(&self.text[seg..i]);
                Cow::Owned(o)
            }
        }
    }

    /// A single-line string that reached a newline or the end at `i`.
    fn unclosed(&mut self, start: usize, i: usize) -> Cow<'a, str> {
        self.pos = i;
        self.error_help(
            Span::new(start, i - start),
            "string not closed before the end of its line",
            "not closed",
            "close it with `\"`; write a line break as `\\n`, or use a multi-line string \
             (`\"\"\"`, then a newline)",
        );
        Cow::Borrowed("")
    }

    fn report(&mut self, bad: Bad, whole: Span) {
        match bad {
            Bad::Escape(esc) => self.error_help(
                whole,
                format!("unknown escape `{esc}` in a string"),
                "unknown escape",
                "the escapes are \\n \\r \\t \\\\ \\\" \\b \\f \\s and \\u{hex}; write a \
                 backslash as `\\\\`, or use a raw string `#\"...\"#`",
            ),
            Bad::Banned(i) => self.banned(i),
        }
    }

    /// The escape whose `\` is at `i`: appends what it stands for to `out`
    /// (with `keep`, a non-whitespace escape is appended as written, for a
    /// multi-line string to resolve after its dedent). Returns the index
    /// after it.
    fn escape(&self, i: usize, out: &mut String, bad: &mut Option<Bad>, keep: bool) -> usize {
        let Some(&c) = self.b.get(i + 1) else {
            return i + 1;
        };
        let simple = match c {
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            b'\\' => Some('\\'),
            b'"' => Some('"'),
            b'b' => Some('\u{8}'),
            b'f' => Some('\u{c}'),
            b's' => Some(' '),
            _ => None,
        };
        if let Some(ch) = simple {
            if keep {
                out.push_str(&self.text[i..i + 2]);
            } else {
                out.push(ch);
            }
            return i + 2;
        }
        if c == b'u' {
            return match self.unicode_escape(i) {
                Some((ch, end)) => {
                    if keep {
                        out.push_str(&self.text[i..end]);
                    } else {
                        out.push(ch);
                    }
                    end
                }
                None => {
                    let end = self.bare_end(i + 2).max(i + 2);
                    let end = if self.b.get(end) == Some(&b'}') {
                        end + 1
                    } else {
                        end
                    };
                    bad.get_or_insert(Bad::Escape(self.text[i..end].to_string()));
                    i + 2
                }
            };
        }
        // A whitespace escape: `\` and every space and newline after it.
        let mut j = i + 1;
        loop {
            match self.class_at(j) {
                (Class::Space | Class::Newline, n) if j < self.b.len() => j += n,
                _ => break,
            }
        }
        if j > i + 1 {
            return j;
        }
        let (_, n) = self.char_at(i + 1);
        bad.get_or_insert(Bad::Escape(self.text[i..i + 1 + n].to_string()));
        i + 1 + n
    }

    /// `\u{X}` with 1 to 6 hex digits naming a Unicode scalar value.
    fn unicode_escape(&self, i: usize) -> Option<(char, usize)> {
        if self.b.get(i + 2) != Some(&b'{') {
            return None;
        }
        let digits = self.b[i + 3..]
            .iter()
            .take(7)
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        if !(1..=6).contains(&digits) || self.b.get(i + 3 + digits) != Some(&b'}') {
            return None;
        }
        let hex = &self.text[i + 3..i + 3 + digits];
        let ch = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)?;
        Some((ch, i + 4 + digits))
    }

    /// A multi-line string at `pos` (`"""`, or `#"""` with `hashes` for a
    /// raw one): its lines dedented by the closing line's indentation.
    fn multi_line(&mut self, hashes: Option<usize>) -> Cow<'a, str> {
        let start = self.pos;
        let open = start + hashes.unwrap_or(0) + 3;
        let mut close: Vec<u8> = b"\"\"\"".to_vec();
        close.extend(std::iter::repeat_n(b'#', hashes.unwrap_or(0)));
        let nl = self.newline_len(open);
        let mut i = open + nl;
        let mut logical = String::new();
        let mut seg = i;
        let mut bad: Option<Bad> = None;
        let end = loop {
            let Some(&c) = self.b.get(i) else {
                self.pos = self.b.len();
                self.error_help(
                    Span::new(start, open - start),
                    "multi-line string not closed",
                    "not closed",
                    format!(
                        "close it with `{}` on a line of its own",
                        String::from_utf8_lossy(&close)
                    ),
                );
                return Cow::Borrowed("");
            };
            match c {
                b'"' if self.b[i..].starts_with(&close) => break i,
                b'\\' if hashes.is_none() => {
                    logical.push_str(&self.text[seg..i]);
                    i = self.escape(i, &mut logical, &mut bad, true);
                    seg = i;
                }
                b'\n' => i += 1,
                _ => match self.class_at(i) {
                    (Class::Newline, n) => {
                        logical.push_str(&self.text[seg..i]);
                        logical.push('\n');
                        i += n;
                        seg = i;
                    }
                    (Class::Banned, n) => {
                        if bad.is_none() {
                            bad = Some(Bad::Banned(i));
                        }
                        i += n;
                    }
                    (_, n) => i += n,
                },
            }
        };
        logical.push_str(&self.text[seg..end]);
        self.pos = end + close.len();
        let whole = Span::new(start, self.pos - start);
        if nl == 0 {
            self.error_help(
                whole,
                "a multi-line string must start a new line right after its opening `\"\"\"`",
                "not a multi-line string",
                "write a one-line string with single quotes `\"...\"`, or put a newline \
                 after the opening `\"\"\"`",
            );
            return Cow::Borrowed("");
        }
        if let Some(bad) = bad {
            self.report(bad, whole);
            return Cow::Borrowed("");
        }
        match dedent(&logical) {
            Ok(text) if hashes.is_some() => Cow::Owned(text),
            Ok(text) => Cow::Owned(unescape(&text)),
            Err(message) => {
                self.error_help(
                    whole,
                    message,
                    "bad indentation",
                    "every line of a multi-line string starts with the whitespace before its \
                     closing `\"\"\"`, which stands on a line of its own",
                );
                Cow::Borrowed("")
            }
        }
    }

    /// A raw string at `pos` (`#"…"#`, `##"…"##`, `#"""` multi-line …).
    /// The caller has seen `#`s then `"`.
    pub fn raw(&mut self) -> Cow<'a, str> {
        let start = self.pos;
        let hashes = self.b[start..].iter().take_while(|&&c| c == b'#').count();
        let q = start + hashes;
        if self.b.get(q) != Some(&b'"') {
            self.pos = self.bare_end(q);
            self.error_help(
                Span::new(start, self.pos - start),
                "expected `\"` after the `#`s that open a raw string",
                "not a raw string",
                "write a raw string as `#\"...\"#`, a keyword as `#true`, `#false` or `#null`",
            );
            return Cow::Borrowed("");
        }
        if self.b[q..].starts_with(b"\"\"\"") {
            return self.multi_line(Some(hashes));
        }
        let mut i = q + 1;
        let mut bad: Option<Bad> = None;
        loop {
            let Some(&c) = self.b.get(i) else {
                return self.raw_unclosed(start, i, hashes);
            };
            match c {
                b'"' if self.b[i + 1..]
                    .iter()
                    .take(hashes)
                    .filter(|&&h| h == b'#')
                    .count()
                    == hashes =>
                {
                    break;
                }
                _ => match self.class_at(i) {
                    (Class::Newline, _) => return self.raw_unclosed(start, i, hashes),
                    (Class::Banned, n) => {
                        if bad.is_none() {
                            bad = Some(Bad::Banned(i));
                        }
                        i += n;
                    }
                    (_, n) => i += n,
                },
            }
        }
        self.pos = i + 1 + hashes;
        if let Some(bad) = bad {
            self.report(bad, Span::new(start, self.pos - start));
            return Cow::Borrowed("");
        }
        Cow::Borrowed(&self.text[q + 1..i])
    }

    fn raw_unclosed(&mut self, start: usize, i: usize, hashes: usize) -> Cow<'a, str> {
        self.pos = i;
        self.error_help(
            Span::new(start, i - start),
            "raw string not closed before the end of its line",
            "not closed",
            format!(
                "close it with `\"{}`, or use a multi-line raw string (`{}\"\"\"`, then a newline)",
                "#".repeat(hashes),
                "#".repeat(hashes)
            ),
        );
        Cow::Borrowed("")
    }
}

/// The value of a multi-line string's body (whitespace escapes already
/// removed, newlines already `\n`): the last line is the indentation every
/// other line starts with, and is dropped; lines of only whitespace are empty.
fn dedent(logical: &str) -> Result<String, &'static str> {
    let (body, last) = match logical.rfind('\n') {
        Some(k) => (Some(&logical[..k]), &logical[k + 1..]),
        None => (None, logical),
    };
    if !last.chars().all(is_space) {
        return Err("the closing `\"\"\"` of a multi-line string must stand on a line of its own");
    }
    let Some(body) = body else {
        return Ok(String::new());
    };
    let mut out = String::with_capacity(body.len());
    for (n, line) in body.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        if line.chars().all(is_space) {
            continue;
        }
        match line.strip_prefix(last) {
            Some(rest) => out.push_str(rest),
            None => {
                return Err(
                    "a line of a multi-line string does not start with the indentation of its \
                     closing line",
                );
            }
        }
    }
    Ok(out)
}

/// Resolves escapes already checked by [`Lexer::escape`].
fn unescape(text: &str) -> String {
    if !text.contains('\\') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else { break };
        out.push(match e {
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'b' => '\u{8}',
            'f' => '\u{c}',
            's' => ' ',
            'u' => {
                let rest = &text[i + 3..];
                let close = rest.find('}').unwrap_or(rest.len());
                for _ in 0..close + 2 {
                    chars.next();
                }
                u32::from_str_radix(&rest[..close], 16)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}')
            }
            other => other,
        });
    }
    out
}

/// A number token (the whole run of identifier characters that starts
/// with a digit, or a sign and a digit): decimal, `0x` hex, `0o` octal or
/// `0b` binary, `_` allowed between and after digits. Integers must fit in
/// an `i128`; a fraction or an exponent makes a float.
pub(super) fn number(word: &str) -> Result<Value<'static>, String> {
    let (neg, body) = match word.as_bytes().first() {
        Some(b'-') => (true, &word[1..]),
        Some(b'+') => (false, &word[1..]),
        _ => (false, word),
    };
    let radix = match body.get(..2) {
        Some("0x") => 16,
        Some("0o") => 8,
        Some("0b") => 2,
        _ => 10,
    };
    if radix != 10 {
        let digits = &body[2..];
        let name = match radix {
            16 => "hexadecimal",
            8 => "octal",
            _ => "binary",
        };
        if !digits.chars().next().is_some_and(|c| c.is_digit(radix))
            || !digits.chars().all(|c| c == '_' || c.is_digit(radix))
        {
            return Err(format!(
                "`{word}` is not a {name} number: `{}` is followed by {name} digits (`_` may \
                 separate them, not come first)",
                &body[..2]
            ));
        }
        return integer(digits, radix, neg).ok_or_else(|| too_large(word));
    }
    let b = body.as_bytes();
    let digits_from = |mut i: usize| {
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
        Some(i)
    };
    let not_a_number = || format!("`{word}` starts like a number but is not one");
    let Some(mut i) = digits_from(0) else {
        return Err(not_a_number());
    };
    let int_end = i;
    let mut float = false;
    if b.get(i) == Some(&b'.') {
        i = digits_from(i + 1).ok_or_else(|| {
            format!("`{word}` is not a number: a `.` in a number is followed by digits")
        })?;
        float = true;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        i = digits_from(j).ok_or_else(|| {
            format!("`{word}` is not a number: an exponent `e` is followed by digits")
        })?;
        float = true;
    }
    if i != b.len() {
        return Err(not_a_number());
    }
    if !float {
        return integer(&body[..int_end], 10, neg).ok_or_else(|| too_large(word));
    }
    let clean: String = word.chars().filter(|&c| c != '_').collect();
    clean
        .parse::<f64>()
        .map(Value::Float)
        .map_err(|_| not_a_number())
}

fn too_large(word: &str) -> String {
    format!("the number `{word}` is too large (integers are 128-bit)")
}

/// Digits (with `_`) in `radix`, at most `i128::MAX` in magnitude.
fn integer(digits: &str, radix: u32, neg: bool) -> Option<Value<'static>> {
    let mut v: i128 = 0;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let d = c.to_digit(radix)?;
        v = v.checked_mul(radix as i128)?.checked_add(d as i128)?;
    }
    Some(Value::Integer(if neg { -v } else { v }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let ok = |w: &str| number(w).unwrap_or_else(|e| panic!("{w}: {e}"));
        assert_eq!(ok("0"), Value::Integer(0));
        assert_eq!(ok("-12_3__"), Value::Integer(-123));
        assert_eq!(ok("+0xF_f"), Value::Integer(255));
        assert_eq!(ok("0o17"), Value::Integer(15));
        assert_eq!(ok("-0b1_01"), Value::Integer(-5));
        assert_eq!(ok("1.5e-3"), Value::Float(1.5e-3));
        assert_eq!(ok("1_0.2_5E+1_"), Value::Float(102.5));
        assert_eq!(ok("1e999"), Value::Float(f64::INFINITY));
        assert_eq!(
            ok("170141183460469231731687303715884105727"),
            Value::Integer(i128::MAX)
        );
        for bad in [
            "1.",
            "1.e5",
            "1e",
            "1e+",
            "0x",
            "0x_1",
            "0X1",
            "1x",
            "1.0v2",
            "0b2",
            "0o8",
            "1._5",
            "1.5.5",
            "1e5e5",
            "170141183460469231731687303715884105728",
            "-170141183460469231731687303715884105728",
        ] {
            assert!(number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dedent_rules() {
        assert_eq!(dedent("  a\n    b\n\n \n  ").unwrap(), "a\n  b\n\n");
        assert_eq!(dedent("   ").unwrap(), "");
        assert!(dedent("  a\n x").is_err());
        assert!(dedent(" a\n  ").is_err());
        assert!(dedent("\ta\n  b\n \t\n\t").is_err());
    }
}
