//! Source files and byte spans: where every value of a spec came from.

use std::fmt::Write as _;
use std::sync::Arc;

/// A byte range in a spec file: `start` and `len` in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub len: usize,
}

impl Span {
    pub const fn new(start: usize, len: usize) -> Self {
        Span { start, len }
    }

    pub const fn end(&self) -> usize {
        self.start + self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_fit_their_text() {
        assert_eq!(fit_span("%", Span::new(1, 1)), Span::new(1, 0));
        assert_eq!(fit_span("{}é", Span::new(2, 1)), Span::new(2, 2));
        assert_eq!(fit_span("é", Span::new(1, 0)), Span::new(0, 2));
        assert_eq!(fit_span("abc", Span::new(1, 5)), Span::new(1, 2));
    }
}

/// Makes `span` safe to show in `text`: inside it, on character boundaries,
/// and covering at least the character it starts at (nothing at the end).
pub fn fit_span(text: &str, span: Span) -> Span {
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = span.end().min(text.len()).max(start);
    if end == start {
        end = text[start..]
            .chars()
            .next()
            .map_or(start, |c| start + c.len_utf8());
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    Span::new(start, end - start)
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        miette::SourceSpan::new(s.start.into(), s.len)
    }
}

impl From<miette::SourceSpan> for Span {
    fn from(s: miette::SourceSpan) -> Self {
        Span::new(s.offset(), s.len())
    }
}

/// Which language a spec is written in. Decides how key names are spelled in
/// messages (`private_key` in YAML, `private-key` in KDL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Yaml,
    Kdl,
}

impl Dialect {
    /// Guesses the dialect from a file name: `.kdl` is KDL, anything else YAML.
    pub fn from_path(path: &str) -> Dialect {
        if path.ends_with(".kdl") {
            Dialect::Kdl
        } else {
            Dialect::Yaml
        }
    }

    /// Spells a YAML key the way this dialect writes it.
    pub fn spell(self, yaml_key: &str) -> String {
        match self {
            Dialect::Yaml => yaml_key.to_string(),
            Dialect::Kdl => yaml_key.replace('_', "-"),
        }
    }
}

/// A KDL string: a bare identifier when KDL 2 reads it as one, else quoted.
pub fn kdl_str(s: &str) -> String {
    let first_ok = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.@+-".contains(c));
    let reserved = matches!(s, "true" | "false" | "null" | "inf" | "nan");
    if first_ok && rest_ok && !reserved {
        s.to_string()
    } else {
        kdl_quoted(s)
    }
}

/// A quoted KDL string.
pub fn kdl_quoted(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\t' => q.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(q, "\\u{{{:x}}}", u32::from(c));
            }
            _ => q.push(c),
        }
    }
    q.push('"');
    q
}

/// A spec as read: its display name (the main file's), its text, and its
/// dialect (the main file's). A spec that includes other files holds them
/// all in `text`, one after the other, each a [`Part`] with its own name and
/// dialect: every span of the spec is an offset into this one text, and
/// [`Source::part_at`] says which file it falls in.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: Arc<str>,
    pub text: Arc<str>,
    pub dialect: Dialect,
    /// The files of the spec, the main one first, in the order of `text`.
    pub parts: Arc<[Part]>,
}

/// One file of a spec: where its text starts in [`Source::text`], how long
/// it is, and how it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub name: Arc<str>,
    pub base: usize,
    pub len: usize,
    pub dialect: Dialect,
}

impl Part {
    pub fn end(&self) -> usize {
        self.base + self.len
    }
}

impl Source {
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>, dialect: Dialect) -> Self {
        let (name, text) = (name.into(), text.into());
        let parts = Arc::from(vec![Part {
            name: name.clone(),
            base: 0,
            len: text.len(),
            dialect,
        }]);
        Source {
            name,
            text,
            dialect,
            parts,
        }
    }

    /// A spec of several files: `parts` cover `text` in order, the main
    /// file first at offset 0.
    pub fn with_parts(text: impl Into<Arc<str>>, parts: Vec<Part>) -> Self {
        let main = parts.first().cloned().unwrap_or(Part {
            name: Arc::from(""),
            base: 0,
            len: 0,
            dialect: Dialect::Yaml,
        });
        Source {
            name: main.name,
            text: text.into(),
            dialect: main.dialect,
            parts: parts.into(),
        }
    }

    /// The file holding byte `offset` (the last one for the end of the text).
    pub fn part_at(&self, offset: usize) -> &Part {
        let i = self.parts.partition_point(|p| p.base <= offset);
        &self.parts[i.saturating_sub(1).min(self.parts.len() - 1)]
    }

    /// The text of one file of the spec.
    pub fn part_text(&self, part: &Part) -> &str {
        &self.text[part.base..part.end()]
    }

    /// 1-based line and column (in characters) of a byte offset, in the file
    /// that holds it.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let part = self.part_at(offset);
        let text = self.part_text(part);
        let offset = offset.saturating_sub(part.base).min(text.len());
        let before = &text.as_bytes()[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let col = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        (line, col)
    }

    /// `FILE:LINE:COL` of a byte offset.
    pub fn place(&self, offset: usize) -> String {
        let (line, col) = self.line_col(offset);
        format!("{}:{line}:{col}", self.part_at(offset).name)
    }
}
