//! The spanned document tree both front ends produce: YAML's shape, with the
//! byte span of every key and value. `read` turns it into the typed [`Spec`].
//!
//! Text borrows from the spec's source where the parser could hand it over
//! as written (most keys and scalars of a YAML spec), and owns it where it
//! had to be unescaped or came from a parser that keeps its own copy (KDL).
//!
//! [`Spec`]: super::Spec

use std::borrow::Cow;

use crate::source::Span;

/// A value of the document with the span it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Node<'a> {
    pub span: Span,
    pub value: Value<'a>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(Cow<'a, str>),
    Seq(Vec<Node<'a>>),
    /// Entries in the order written; a key may repeat (reported by `read`).
    Map(Vec<(Key<'a>, Node<'a>)>),
}

/// A map key as written (`private-key` in KDL, `private_key` in YAML).
#[derive(Clone, Debug, PartialEq)]
pub struct Key<'a> {
    pub name: Cow<'a, str>,
    pub span: Span,
}

impl<'a> Node<'a> {
    pub fn new(span: Span, value: Value<'a>) -> Self {
        Node { span, value }
    }

    /// What kind of value this is, for "expected a list, found a string".
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "a number",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
}

/// Moves every span of `node` `by` bytes on: a file parsed alone takes its
/// place in the text of a spec of several files.
pub fn shift(node: &mut Node<'_>, by: usize) {
    node.span.start += by;
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| shift(n, by)),
        Value::Map(entries) => {
            for (k, v) in entries {
                k.span.start += by;
                shift(v, by);
            }
        }
        _ => {}
    }
}
