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

/// A spec file as read: its display name, its text, and its dialect.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: Arc<str>,
    pub text: Arc<str>,
    pub dialect: Dialect,
}

impl Source {
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>, dialect: Dialect) -> Self {
        Source {
            name: name.into(),
            text: text.into(),
            dialect,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text.as_bytes()[..offset];
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
}
