//! A KDL 2.0 document as read: nodes, their type annotations, arguments,
//! properties and children, every part with the byte span it was written at.
//! Text borrows from the source wherever it needed no unescaping.
//!
//! Slashdashed (`/-`) nodes, entries and children blocks are gone; the
//! entries keep their written order, a repeated property stays repeated.

use std::borrow::Cow;

use crate::source::Span;

/// A whole document: its top-level nodes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document<'a> {
    pub nodes: Vec<Node<'a>>,
}

/// A string as written somewhere a name goes: a node's name, a property's
/// key, a type annotation. The span is the whole token (quotes included).
#[derive(Clone, Debug, PartialEq)]
pub struct Text<'a> {
    pub value: Cow<'a, str>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node<'a> {
    /// `(type)` before the name.
    pub ty: Option<Text<'a>>,
    pub name: Text<'a>,
    pub entries: Vec<Entry<'a>>,
    /// The children block, if the node has one (possibly empty: `node {}`).
    pub children: Option<Vec<Node<'a>>>,
    /// From the type annotation (or the name) to the last entry or the
    /// children block's closing `}`: no trailing blanks, comments or `;`.
    pub span: Span,
}

/// An argument (`name` is `None`) or a property.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry<'a> {
    /// The property's key.
    pub name: Option<Text<'a>>,
    /// `(type)` before the value.
    pub ty: Option<Text<'a>>,
    pub value: Value<'a>,
    /// The value's own token (a string's quotes included).
    pub value_span: Span,
    /// An argument: from its type annotation (if any) to the end of the value;
    /// a property: from the key to the end of the value.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    String(Cow<'a, str>),
    Integer(i128),
    /// Decimals with a fraction or exponent, `#inf`, `#-inf` and `#nan`.
    Float(f64),
    Bool(bool),
    Null,
}

impl<'a> Node<'a> {
    /// The arguments, in order.
    pub fn args(&self) -> impl Iterator<Item = &Entry<'a>> {
        self.entries.iter().filter(|e| e.name.is_none())
    }

    /// The properties, in order (a repeated key appears each time).
    pub fn props(&self) -> impl Iterator<Item = &Entry<'a>> {
        self.entries.iter().filter(|e| e.name.is_some())
    }
}
