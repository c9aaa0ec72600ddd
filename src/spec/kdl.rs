//! The KDL 2.0 front end: mailc's own reader ([`parser`], over [`lexer`])
//! reads the [`document`], which is walked by hand into the same YAML-shaped
//! spanned [`Node`] tree that the YAML front end produces (the mapping is
//! described in docs/spec.md, "KDL"). `read` then types the tree, so unknown
//! keys, wrong value kinds and duplicates are reported there, once, for both
//! dialects.
//!
//! Tree shape decisions:
//! - Key names keep the KDL spelling (`private-key`, `send-only`); `read`
//!   maps `-` to `_`. Keys synthesized for YAML-only containers use the YAML
//!   names (`hosts`, `domains`, `mailboxes`, `aliases`, `records`, ...).
//! - Spans are byte spans of the KDL tokens. A string value's span includes
//!   its quotes (`"203.0.113.10"`, `#"raw"#`); a bare identifier's is the word
//!   itself. For a property the span is the value's token only (not `key=`),
//!   and the key's span is the property name. A synthesized map or list has
//!   the span of the node it came from (the first such node for lists and
//!   maps continued over several nodes: `mx`, `rua`, `dkim`, `record`,
//!   `host`, `domain`, `mailbox`, `alias`); a synthesized key has the span of
//!   the node's name.
//! - Repeated list nodes (`mx`, `nameservers`, `aliases`, `rua`, `ruf`,
//!   `include`, `ip4`, `ip6`) continue one list; a node that is a map with
//!   fixed fields (`spf`, `dmarc`, `defaults`, ...) given twice, or a property
//!   given twice, stays twice in the map for `read` to report.
//! - Type annotations (`(ip)"192.0.2.1"`) are ignored.
//! - Text borrows from the spec's source wherever it was written without
//!   escapes.
//!
//! Rooms: this file parses and converts syntax errors; `spelling.rs` knows
//! the spec's node names, `lower.rs` walks nodes generically and
//! `shapes.rs` the nodes with a shape of their own.

pub mod document;
mod lexer;
mod lower;
pub mod parser;
mod shapes;
mod spelling;
pub mod write;

use std::borrow::Cow;

use self::document as doc;
use self::parser::SyntaxError;
use super::tree;
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use spelling::*;

type Node<'a> = tree::Node<'a>;
type Key<'a> = tree::Key<'a>;
type Value<'a> = tree::Value<'a>;

/// Parses KDL 2.0 text into the spanned tree and the problems the walk
/// recovered from (the tree says what the spec means, so reading goes on),
/// or every diagnostic found when the tree would be short of the spec.
pub fn parse(text: &str) -> Result<(Node<'_>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let doc = parser::parse(text).map_err(|errors| {
        errors
            .iter()
            .map(|e| syntax_error(e, text))
            .collect::<Vec<_>>()
    })?;
    let mut b = Builder {
        diags: Vec::new(),
        dropped: false,
        within: Within::Top,
    };
    let mut root = MapB::default();
    for node in &doc.nodes {
        b.add_child(&mut root, node);
    }
    let span = doc
        .nodes
        .first()
        .map_or(Span::default(), |n| Span::new(n.span.start, 0));
    if !b.dropped {
        Ok((Node::new(span, Value::Map(root.entries)), b.diags))
    } else {
        Err(b.diags)
    }
}

/// One syntax error as a mailc diagnostic; KDL 1 spellings get their own code.
fn syntax_error(e: &SyntaxError, text: &str) -> Diagnostic {
    let span = clamp(text, e.span);
    let token = text.get(span.start..span.end()).unwrap_or("");
    if let Some(v1) = kdl_v1(token, span) {
        return v1;
    }
    let help = e.help.clone().unwrap_or_else(|| {
        "fix the KDL 2 syntax at this place; the rest of the spec is checked once it parses"
            .to_string()
    });
    Diagnostic::error(Code::Syntax, span, format!("invalid KDL: {}", e.message))
        .label(e.label)
        .help(help)
}

/// Recognizes a KDL 1 spelling in the token the KDL 2 parser stopped at.
fn kdl_v1(token: &str, span: Span) -> Option<Diagnostic> {
    let word = token.trim().trim_end_matches([';', '}', '{']).trim_end();
    let (what, help) = match word {
        "true" | "false" => (
            format!("bare `{word}`"),
            format!("KDL 2 writes booleans as `#true` / `#false`: write `#{word}`"),
        ),
        "null" => (
            "bare `null`".to_string(),
            "KDL 2 writes null as `#null`".to_string(),
        ),
        _ if word.starts_with("r\"") || word.starts_with("r#") => {
            let raw = &word[1..];
            let v2 = if raw.starts_with('#') {
                raw.to_string()
            } else {
                format!("#{raw}#")
            };
            (
                "raw string `r\"...\"`".to_string(),
                format!("KDL 2 writes raw strings as `#\"...\"#`: write `{v2}`"),
            )
        }
        _ if word.starts_with('"') && word.contains("\\/") => (
            "escape `\\/`".to_string(),
            "KDL 2 has no `\\/` escape: write `/`".to_string(),
        ),
        _ => return None,
    };
    Some(
        Diagnostic::error(
            Code::KdlV1,
            span,
            format!("KDL 1 syntax ({what}); mailc reads KDL 2"),
        )
        .label("KDL 1")
        .help(help),
    )
}

fn clamp(text: &str, span: Span) -> Span {
    let start = span.start.min(text.len());
    Span::new(start, span.len.min(text.len() - start))
}

/// A map under construction. `slots` remembers the entries this builder
/// synthesized for continued lists and maps, by (key, is-a-map), so that the
/// next `mx` or `mailbox` node continues them.
#[derive(Default)]
struct MapB<'a> {
    entries: Vec<(Key<'a>, Node<'a>)>,
    slots: Vec<(&'static str, bool, usize)>,
}

impl<'a> MapB<'a> {
    fn push(&mut self, key: Key<'a>, node: Node<'a>) {
        self.entries.push((key, node));
    }

    /// The entries of the synthesized list (`is_map` false) or map under `name`,
    /// created at `key_span` / `span` the first time.
    fn slot(
        &mut self,
        name: &'static str,
        is_map: bool,
        key_span: Span,
        span: Span,
    ) -> &mut Node<'a> {
        let index = match self
            .slots
            .iter()
            .find(|(n, m, _)| *n == name && *m == is_map)
        {
            Some(&(_, _, i)) => i,
            None => {
                let value = if is_map {
                    Value::Map(Vec::new())
                } else {
                    Value::Seq(Vec::new())
                };
                self.entries.push((
                    Key {
                        name: Cow::Borrowed(name),
                        span: key_span,
                    },
                    Node::new(span, value),
                ));
                self.slots.push((name, is_map, self.entries.len() - 1));
                self.entries.len() - 1
            }
        };
        &mut self.entries[index].1
    }

    fn seq(&mut self, name: &'static str, key_span: Span, span: Span) -> &mut Vec<Node<'a>> {
        match &mut self.slot(name, false, key_span, span).value {
            Value::Seq(items) => items,
            _ => unreachable!("a list slot holds a list"),
        }
    }

    fn map(
        &mut self,
        name: &'static str,
        key_span: Span,
        span: Span,
    ) -> &mut Vec<(Key<'a>, Node<'a>)> {
        match &mut self.slot(name, true, key_span, span).value {
            Value::Map(entries) => entries,
            _ => unreachable!("a map slot holds a map"),
        }
    }
}

struct Builder {
    diags: Vec<Diagnostic>,
    /// Whether a problem left the tree short of what the spec says (a node
    /// was dropped): then `read` must not see it, or it would report what is
    /// missing as a second problem.
    dropped: bool,
    /// The named map whose children are being walked: a node means
    /// different things in a domain and in a mailbox (`aliases`).
    within: Within,
}

/// Where in the tree the builder is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Within {
    Top,
    Host,
    Domain,
    Mailbox,
    Other,
}

fn args<'d, 'a>(n: &'d doc::Node<'a>) -> Vec<&'d doc::Entry<'a>> {
    n.args().collect()
}

/// An entry's value as text, for a help that shows it again.
fn entry_text(e: &doc::Entry<'_>) -> String {
    match &e.value {
        doc::Value::String(s) => s.to_string(),
        doc::Value::Integer(i) => i.to_string(),
        doc::Value::Float(f) => f.to_string(),
        doc::Value::Bool(b) => format!("#{b}"),
        doc::Value::Null => "#null".to_string(),
    }
}

fn props<'d, 'a>(n: &'d doc::Node<'a>) -> impl Iterator<Item = &'d doc::Entry<'a>> {
    n.props()
}

#[cfg(test)]
mod tests;
