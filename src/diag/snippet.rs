//! What a rendered diagnostic may show of the spec: a few lines around each
//! label, each cut to [`WIDTH`] bytes around the label, with every secret
//! masked and every control or bidirectional-override character replaced.
//!
//! A diagnostic is drawn from a [`Window`]: the lines it needs, copied and
//! cleaned, with its labels moved to match. miette then draws from that
//! window alone, so drawing costs the window's size, not the file's, and
//! nothing outside it can appear.
//!
//! Secrets are found in the text itself, so that they stay hidden even in a
//! file that does not parse: the value of every `password` key (YAML
//! `password: …`, KDL `password=…`), and anything shaped like a password
//! hash (`{SCHEME}…`, `$6$…`, `$2y$…`, `$argon2id$…`) wherever it stands.

use std::borrow::Cow;
use std::ops::Range;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::source::Span;

/// The widest source line a snippet shows, in bytes (cut around the label,
/// with `…` at each cut).
pub const WIDTH: usize = 160;

/// Lines shown above and below each label.
pub const CONTEXT: usize = 1;

/// A label covering more lines than this is shown by its first line.
pub const LABEL_LINES: usize = 4;

/// At most this many labels of one diagnostic are drawn.
pub const LABELS: usize = 16;

/// Messages, help and label texts are cut at this many bytes.
pub const MESSAGE: usize = 1000;

/// What a secret shows as: always the same, so not even its length shows.
pub const MASK: &str = "********";

/// Stands for a character that must not reach a terminal.
const REPLACEMENT: &str = "\u{FFFD}";

/// Line starts of a text, for line look-ups in O(log n).
pub struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lines { text, starts }
    }

    /// The 0-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset) - 1
    }

    /// The byte range of line `n`, without its line break.
    pub fn range(&self, n: usize) -> Range<usize> {
        let start = self.starts[n];
        let mut end = self
            .starts
            .get(n + 1)
            .map_or(self.text.len(), |next| next - 1);
        if end > start && self.text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        start..end
    }

    /// Lines of text; a final line break does not start another.
    pub fn count(&self) -> usize {
        let n = self.starts.len();
        if n > 1 && self.text.ends_with('\n') {
            n - 1
        } else {
            n
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_of(offset);
        let start = self.starts[line];
        let col = String::from_utf8_lossy(&self.text.as_bytes()[start..offset])
            .chars()
            .count()
            + 1;
        (line + 1, col)
    }
}

/// A part of a shown line: original bytes `orig` (relative to the line)
/// shown as display bytes starting at `shown`, `len` long; `verbatim` when
/// the bytes are the original ones (offsets inside map one to one).
struct Piece {
    orig: Range<usize>,
    shown: usize,
    len: usize,
    verbatim: bool,
}

/// One line as shown, with the map back to the original.
struct ShownLine {
    text: String,
    pieces: Vec<Piece>,
}

impl ShownLine {
    /// Where original offset `o` (relative to the line) starts when shown.
    fn start_of(&self, o: usize) -> usize {
        for p in &self.pieces {
            if o < p.orig.end || (o == p.orig.start && p.orig.is_empty()) {
                return if p.verbatim {
                    p.shown + o.saturating_sub(p.orig.start)
                } else {
                    p.shown
                };
            }
        }
        self.text.len()
    }

    /// Where a range ending at original offset `o` ends when shown.
    fn end_of(&self, o: usize) -> usize {
        for p in &self.pieces {
            if o <= p.orig.start {
                return p.shown;
            }
            if o <= p.orig.end {
                return if p.verbatim {
                    p.shown + (o - p.orig.start)
                } else {
                    p.shown + p.len
                };
            }
        }
        self.text.len()
    }
}

/// Characters never shown as they are: controls (a tab excepted) and the
/// bidirectional overrides that make text read differently than it is.
fn hidden_char(c: char) -> bool {
    (c.is_control() && c != '\t') || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Shows `line`, keeping bytes `keep` of it, masking `secrets` (sorted,
/// relative to the line).
fn show(line: &str, keep: Range<usize>, secrets: &[Range<usize>]) -> ShownLine {
    let mut s = ShownLine {
        text: String::new(),
        pieces: Vec::new(),
    };
    let push = |s: &mut ShownLine, orig: Range<usize>, text: &str, verbatim: bool| {
        s.pieces.push(Piece {
            orig,
            shown: s.text.len(),
            len: text.len(),
            verbatim,
        });
        s.text.push_str(text);
    };
    if keep.start > 0 {
        push(&mut s, 0..keep.start, "…", false);
    }
    let mut i = keep.start;
    let mut run = i;
    while i < keep.end {
        let secret = secrets.iter().find(|r| r.start <= i && i < r.end);
        let Some(c) = line[i..].chars().next() else {
            break;
        };
        if secret.is_none() && !hidden_char(c) {
            i += c.len_utf8();
            continue;
        }
        if run < i {
            push(&mut s, run..i, &line[run..i], true);
        }
        match secret {
            Some(r) => {
                let end = r.end.min(keep.end);
                push(&mut s, i..end, MASK, false);
                i = end;
            }
            None => {
                push(&mut s, i..i + c.len_utf8(), REPLACEMENT, false);
                i += c.len_utf8();
            }
        }
        run = i;
    }
    if run < keep.end {
        push(&mut s, run..keep.end, &line[run..keep.end], true);
    }
    if keep.end < line.len() {
        push(&mut s, keep.end..line.len(), "…", false);
    }
    s
}

/// The largest char boundary of `s` at or below `i`.
fn floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// How far around the shown part of a long line secrets are looked for: a
/// value starting that far before it can still reach into it.
const SCAN: usize = crate::limits::VALUE_BYTES + 1024;

/// A line as shown: all of it when short enough once masked, else about
/// [`WIDTH`] bytes of it, starting a little before the first label on it.
fn shown_line(line: &str, first_label: Option<usize>) -> ShownLine {
    if line.len() <= SCAN {
        let secrets = secrets(line);
        let all = show(line, 0..line.len(), &secrets);
        if all.text.len() <= WIDTH {
            return all;
        }
        return cut(line, first_label, &secrets);
    }
    // A very long line: secrets looked for around the part shown only.
    let start = floor(line, first_label.unwrap_or(0).saturating_sub(WIDTH / 4));
    let from = floor(line, start.saturating_sub(SCAN));
    let to = floor(line, start + SCAN + 8 * WIDTH);
    let secrets: Vec<Range<usize>> = secrets(&line[from..to])
        .into_iter()
        .map(|r| r.start + from..r.end + from)
        .collect();
    cut(line, first_label, &secrets)
}

/// About [`WIDTH`] shown bytes of `line` around `first_label`.
fn cut(line: &str, first_label: Option<usize>, secrets: &[Range<usize>]) -> ShownLine {
    let start = floor(line, first_label.unwrap_or(0).saturating_sub(WIDTH / 4));
    let mut end = floor(line, start + WIDTH);
    loop {
        let s = show(line, start..end, secrets);
        // Masks shorten what is shown: take more until it is wide enough.
        let shown = s.text.len();
        if shown >= WIDTH || end >= line.len() {
            return s;
        }
        let more = floor(line, end + (WIDTH - shown).max(4));
        if more <= end {
            return s;
        }
        end = more;
    }
}

/// Byte ranges of `line` that hold secrets, sorted and disjoint.
pub fn secrets(line: &str) -> Vec<Range<usize>> {
    let mut found: Vec<Range<usize>> = Vec::new();
    let b = line.as_bytes();
    // The value of a `password` key, in either dialect.
    let mut from = 0;
    while let Some(at) = find_ascii_ci(&line[from..], "password").map(|p| p + from) {
        from = at + "password".len();
        let mut i = from;
        while i < b.len() && matches!(b[i], b'"' | b'\'') {
            i += 1;
        }
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let yaml = match b.get(i) {
            Some(b':') => true,
            Some(b'=') => false,
            _ => continue,
        };
        i += 1;
        while i < b.len() && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        let end = value_end(line, i, yaml);
        if end > i {
            found.push(i..end);
        }
        from = end.max(from);
    }
    found.extend(hashes(line));
    found.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in found {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

/// Byte ranges of `text` shaped like a password hash.
fn hashes(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if matches!(b[i], b'{' | b'$')
            && let Some(len) = hash_at(&text[i..])
        {
            found.push(i..i + len);
            i += len;
        } else {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    found
}

fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.len();
    hay.as_bytes()
        .windows(n)
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Where a value starting at `i` ends: a quoted one at its closing quote
/// (or the line's end), a bare one at what ends a value in its dialect.
fn value_end(line: &str, i: usize, yaml: bool) -> usize {
    let b = line.as_bytes();
    let mut j = i;
    // KDL raw strings: `#"…"#`.
    while j < b.len() && b[j] == b'#' && !yaml {
        j += 1;
    }
    let hashes = j - i;
    match b.get(j) {
        Some(&q @ (b'"' | b'\'')) => {
            let mut k = j + 1;
            while k < b.len() {
                if b[k] == b'\\' && q == b'"' {
                    k += 2;
                    continue;
                }
                if b[k] == q {
                    // YAML's `''` is a quote inside a single-quoted value.
                    if q == b'\'' && b.get(k + 1) == Some(&b'\'') {
                        k += 2;
                        continue;
                    }
                    let mut end = k + 1;
                    while end < b.len() && end - (k + 1) < hashes && b[end] == b'#' {
                        end += 1;
                    }
                    return end;
                }
                k += 1;
            }
            b.len()
        }
        _ => {
            let mut k = j;
            while k < b.len() {
                let c = b[k];
                let stop = if yaml {
                    matches!(c, b',' | b']' | b'}') || (c == b'#' && k > 0 && b[k - 1] == b' ')
                } else {
                    c.is_ascii_whitespace() || matches!(c, b';' | b'}')
                };
                if stop {
                    break;
                }
                k += 1;
            }
            // Trailing blanks are not part of the value.
            while k > i && matches!(b[k - 1], b' ' | b'\t') {
                k -= 1;
            }
            k
        }
    }
}

/// The length of a password hash starting exactly here: a Dovecot
/// `{SCHEME}` followed by something, or a crypt string (`$6$…`).
fn hash_at(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let body_from = if b.first() == Some(&b'{') {
        let close = b.iter().take(34).position(|&c| c == b'}')?;
        let scheme = &s[1..close];
        if scheme.is_empty()
            || scheme.len() > 32
            || !scheme
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'-')
        {
            return None;
        }
        close + 1
    } else if b.first() == Some(&b'$') {
        const IDS: &[&str] = &[
            "$1$",
            "$2a$",
            "$2b$",
            "$2x$",
            "$2y$",
            "$5$",
            "$6$",
            "$7$",
            "$y$",
            "$gy$",
            "$argon2i$",
            "$argon2d$",
            "$argon2id$",
            "$sha1$",
            "$md5",
        ];
        if !IDS.iter().any(|id| s.starts_with(id)) {
            return None;
        }
        0
    } else {
        return None;
    };
    let body = s[body_from..]
        .find(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '`' | '}' | ']' | ';'))
        .unwrap_or(s.len() - body_from);
    if body == 0 {
        return None;
    }
    Some(body_from + body)
}

/// Masks hashes in a message, help or label text (mailc's own words, with
/// values quoted), and cuts it at [`MESSAGE`] bytes. A hash's marker alone,
/// as a help shows the shape to write (`{SHA512-CRYPT}$6$…`), is no secret
/// and stays.
pub fn clean(text: &str) -> Cow<'_, str> {
    let secrets: Vec<Range<usize>> = hashes(text)
        .into_iter()
        .filter(|r| !marker_only(&text[r.clone()]))
        .collect();
    let hidden = text.chars().any(hidden_char);
    if secrets.is_empty() && !hidden && text.len() <= MESSAGE {
        return Cow::Borrowed(text);
    }
    let keep = 0..floor(text, MESSAGE);
    Cow::Owned(show(text, keep, &secrets).text)
}

/// A hash cut right after its scheme and crypt id, with `…` for the rest:
/// `{SHA512-CRYPT}…`, `{BLF-CRYPT}$2y$…`, `$argon2id$…`.
fn marker_only(hash: &str) -> bool {
    let Some(rest) = hash.strip_suffix('…') else {
        return false;
    };
    let rest = match rest.strip_prefix('{') {
        Some(r) => r.split_once('}').map_or("", |(_, after)| after),
        None => rest,
    };
    rest.is_empty()
        || rest
            .strip_prefix('$')
            .and_then(|r| r.strip_suffix('$'))
            .is_some_and(|id| {
                !id.is_empty()
                    && id
                        .bytes()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            })
}

/// One contiguous run of lines of a window.
struct Chunk {
    /// Where its text starts in the window's text.
    offset: usize,
    len: usize,
    /// Its first line's number in the spec (0-based).
    first_line: usize,
}

/// The lines one diagnostic needs, cleaned, and its labels moved onto
/// them.
pub struct Window {
    name: String,
    text: String,
    chunks: Vec<Chunk>,
    /// The byte column in the spec of each label's start, by its offset in
    /// the window (masks and cuts move it): what the `file:line:col` header
    /// shows.
    columns: std::collections::HashMap<usize, usize>,
    /// The labels' spans in the window's text, in the diagnostic's order.
    pub spans: Vec<Span>,
}

impl Window {
    /// The window of `labels` (spans in `text`).
    pub fn new(name: &str, text: &str, lines: &Lines<'_>, labels: &[Span]) -> Window {
        // Each label as (first line, last line, start, end), clipped.
        let mut marks = Vec::with_capacity(labels.len());
        for span in labels.iter().take(LABELS) {
            // Inside the text, on character boundaries; an empty span stays
            // empty (drawn as a point).
            let start = floor(text, span.start);
            let mut end = floor(text, span.end().max(start));
            if end < span.end().min(text.len()) {
                end += text[end..].chars().next().map_or(0, char::len_utf8);
            }
            let span = Span::new(start, end - start);
            let first = lines.line_of(span.start);
            let mut end = span.end();
            let mut last = lines.line_of(end.saturating_sub(1).max(span.start));
            if last - first >= LABEL_LINES {
                end = lines.range(first).end.max(span.start);
                last = first;
            }
            marks.push((first, last, span.start, end));
        }
        // The lines to show: each label's, and CONTEXT around; runs that
        // meet become one.
        let mut runs: Vec<(usize, usize)> = marks
            .iter()
            .map(|&(f, l, ..)| {
                (
                    f.saturating_sub(CONTEXT),
                    (l + CONTEXT).min(lines.count() - 1),
                )
            })
            .collect();
        runs.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (a, b) in runs {
            match merged.last_mut() {
                Some(m) if a <= m.1 + 1 => m.1 = m.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        let mut w = Window {
            name: name.to_string(),
            text: String::new(),
            chunks: Vec::new(),
            columns: std::collections::HashMap::new(),
            spans: Vec::new(),
        };
        // Shown lines by line number, to move the labels.
        let mut shown: Vec<(usize, usize, ShownLine)> = Vec::new();
        for (a, b) in merged {
            let offset = w.text.len();
            for n in a..=b {
                let range = lines.range(n);
                let line = &text[range.clone()];
                let first_label = marks
                    .iter()
                    .filter(|m| m.0 <= n && n <= m.1)
                    .map(|m| m.2.max(range.start) - range.start)
                    .min();
                let s = shown_line(line, first_label);
                shown.push((n, w.text.len(), s));
                let s = &shown.last().map(|x| &x.2).expect("just pushed").text;
                w.text.push_str(s);
                w.text.push('\n');
            }
            w.chunks.push(Chunk {
                offset,
                len: w.text.len() - offset,
                first_line: a,
            });
            // A blank line between chunks, in no chunk: miette never sees
            // two chunks as one.
            w.text.push('\n');
        }
        let at = |n: usize| {
            let i = shown.partition_point(|(m, ..)| *m < n);
            &shown[i]
        };
        for &(first, last, start, end) in &marks {
            let (_, base, line) = at(first);
            let column = start - lines.range(first).start;
            let s = base + line.start_of(column);
            w.columns.entry(s).or_insert(column);
            let (_, base, line) = at(last);
            let range = lines.range(last);
            let e = if end > range.end {
                // The label covers the line break: so does its copy.
                base + line.text.len() + 1
            } else {
                base + line.end_of(end.max(start) - range.start)
            };
            w.spans.push(Span::new(s, e.saturating_sub(s)));
        }
        w
    }
}

impl SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let (start, end) = (span.offset(), span.offset() + span.len());
        let chunk = self
            .chunks
            .iter()
            .find(|c| c.offset <= start && end <= c.offset + c.len)
            .ok_or(MietteError::OutOfBounds)?;
        let local = &self.text[chunk.offset..chunk.offset + chunk.len];
        let inner = local.read_span(
            &SourceSpan::new((start - chunk.offset).into(), span.len()),
            before,
            after,
        )?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            SourceSpan::new(
                (inner.span().offset() + chunk.offset).into(),
                inner.span().len(),
            ),
            inner.line() + chunk.first_line,
            self.columns.get(&start).copied().unwrap_or(inner.column()),
            inner.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(line: &str) -> String {
        show(line, 0..line.len(), &secrets(line)).text
    }

    #[test]
    fn passwords_and_hashes_are_masked_in_both_dialects() {
        for (line, want) in [
            (
                "      alice: {password: '{SHA512-CRYPT}$6$abc$def', quota: 5G}",
                "      alice: {password: ********, quota: 5G}",
            ),
            (
                "    password: hunter2 # old",
                "    password: ******** # old",
            ),
            (
                "    password: \"{BLF-CRYPT}$2y$05$x\"",
                "    password: ********",
            ),
            (
                "mailbox bob password=\"{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$s$h\" quota=\"1G\"",
                "mailbox bob password=******** quota=\"1G\"",
            ),
            (
                "mailbox bob password=#\"raw\"# {",
                "mailbox bob password=******** {",
            ),
            ("    bob: x $6$salt$hash y", "    bob: x ******** y"),
            ("    note: {PLAIN}secret", "    note: ********"),
            ("    quota: bogus", "    quota: bogus"),
            ("    passwords_are: fine", "    passwords_are: fine"),
        ] {
            assert_eq!(masked(line), want, "{line}");
        }
    }

    #[test]
    fn messages_keep_a_hash_marker_but_not_a_hash() {
        let help = "write `{SHA512-CRYPT}` before the hash: \"{SHA512-CRYPT}$6$…\" or \"{ARGON2ID}$argon2id$…\"";
        assert_eq!(clean(help), help);
        assert_eq!(
            clean("not \"{SHA512-CRYPT}$6$abc$def…\" nor \"$6$abc…\""),
            "not \"********\" nor \"********\""
        );
    }

    #[test]
    fn control_and_bidi_characters_are_replaced() {
        assert_eq!(
            masked("a\u{1b}[2Jb\u{202e}c\td"),
            "a\u{FFFD}[2Jb\u{FFFD}c\td"
        );
    }

    #[test]
    fn long_lines_are_cut_around_the_label() {
        let line = format!("value: {}X{}", "a".repeat(5000), "b".repeat(5000));
        let s = shown_line(&line, Some(5007));
        assert!(s.text.len() <= WIDTH + 2 * "…".len(), "{}", s.text.len());
        assert!(s.text.starts_with('…') && s.text.ends_with('…'));
        let x = s.start_of(5007);
        assert_eq!(&s.text[x..x + 1], "X");
    }

    #[test]
    fn windows_keep_line_numbers_and_labels() {
        let text = "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\nf: 6\ng: 7\n";
        let lines = Lines::new(text);
        let labels = [Span::new(10, 1), Span::new(30, 1)];
        let w = Window::new("t", text, &lines, &labels);
        assert_eq!(w.chunks.len(), 2, "{:?}", w.text);
        for (label, want) in w.spans.iter().zip(["c", "g"]) {
            assert_eq!(&w.text[label.start..label.end()], want);
        }
        let c = w
            .read_span(&SourceSpan::new(w.spans[1].start.into(), 1), 1, 1)
            .unwrap();
        assert_eq!(c.line(), 5, "0-based line of `f: 6`, the line above");
    }
}
