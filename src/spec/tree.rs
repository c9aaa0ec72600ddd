//! The spanned document tree both front ends produce: YAML's shape, with the
//! byte span of every key and value. `read` turns it into the typed [`Spec`].
//!
//! [`Spec`]: super::Spec

use crate::source::Span;

/// A value of the document with the span it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in the order written; a key may repeat (reported by `read`).
    Map(Vec<(Key, Node)>),
}

/// A map key as written (`private-key` in KDL, `private_key` in YAML).
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

impl Node {
    pub fn new(span: Span, value: Value) -> Self {
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
