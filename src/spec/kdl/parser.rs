//! The KDL 2.0 grammar over the lexer's tokens: nodes with their type
//! annotations, arguments, properties and children blocks, slashdash
//! comments and node terminators, into a [`Document`].
//!
//! The parser is a loop over an explicit stack of open children blocks, so
//! nesting costs heap, not call depth; it is capped at [`MAX_DEPTH`]. After
//! a malformed token it carries on with the node; after a malformed node it
//! skips to the node's end (newline, `;`, `}` or the `{` of its children) and
//! carries on, so that one pass reports the problems of every node.
//!
//! One file on purpose, though long: the loop, its stack and its recovery
//! points are one state machine, read whole; the unit tests at the end pin
//! its recovery.

use std::borrow::Cow;

use super::document::{Document, Entry, Node, Text, Value};
use super::lexer::{Class, Lexer, Stop};
use crate::source::Span;

/// Children blocks nested deeper than this are refused: a spec needs four
/// levels, and the walk over the document recurses once per level.
pub const MAX_DEPTH: usize = 32;

/// Reading stops after this many syntax errors.
pub(super) const MAX_ERRORS: usize = 64;

/// One syntax error: where, what, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
    pub label: &'static str,
    pub help: Option<String>,
}

impl SyntaxError {
    pub fn new(span: Span, message: impl Into<String>, label: &'static str) -> Self {
        SyntaxError {
            span,
            message: message.into(),
            label,
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Reads a KDL 2.0 document, or reports every syntax error found.
pub fn parse(text: &str) -> Result<Document<'_>, Vec<SyntaxError>> {
    let mut p = Parser {
        lx: Lexer::new(text),
    };
    // A byte order mark may start the document.
    if text.starts_with('\u{FEFF}') {
        p.lx.pos = '\u{FEFF}'.len_utf8();
    }
    let mut top: Vec<Node> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    while p.lx.errors.len() < MAX_ERRORS {
        let step = match p.lx.line_space() {
            Err(Stop) => Err(Stop),
            Ok(()) => match p.lx.peek() {
                None => break,
                Some(b'}') => {
                    let brace = p.lx.pos;
                    p.lx.pos += 1;
                    match stack.pop() {
                        Some(open) => p.close(open, brace),
                        None => {
                            p.lx.error_help(
                                Span::new(brace, 1),
                                "unexpected `}`: no children block is open here",
                                "nothing to close",
                                "remove it, or add the `{` it should close",
                            );
                            continue;
                        }
                    }
                }
                Some(_) => p.node(),
            },
        };
        let opened = match step {
            Ok(Step::Done(done)) => {
                if !done.dashed {
                    let siblings = stack.last_mut().map_or(&mut top, |o| &mut o.nodes);
                    siblings.push(done.node);
                }
                None
            }
            Ok(Step::Open(pending, dashed_block, brace)) => Some((pending, dashed_block, brace)),
            Err(Stop) => p
                .recover()
                .map(|brace| (Pending::placeholder(), true, brace)),
        };
        if let Some((pending, dashed_block, brace)) = opened {
            if stack.len() >= MAX_DEPTH {
                p.lx.errors.push(
                    SyntaxError::new(
                        Span::new(brace, 1),
                        format!("child blocks nested more than {MAX_DEPTH} deep"),
                        "too deep",
                    )
                    .help("a spec nests at most `domain { mailbox { ... } }`; close the blocks"),
                );
                return Err(p.lx.errors);
            }
            stack.push(Open {
                pending,
                dashed_block,
                brace,
                nodes: Vec::new(),
            });
        }
    }
    if p.lx.errors.len() < MAX_ERRORS {
        for open in stack.iter().rev() {
            p.lx.error(
                Span::new(open.brace, 1),
                "no closing '}' for child block",
                "not closed",
            );
            let inside = open.brace + 1;
            if inside < text.len() {
                p.lx.error(
                    Span::new(inside, text.len() - inside),
                    "closing '}' was not found after nodes",
                    "not closed",
                );
            }
        }
    }
    if p.lx.errors.is_empty() {
        Ok(Document { nodes: top })
    } else {
        Err(p.lx.errors)
    }
}

/// What may still follow in a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tail {
    /// Arguments, properties and children blocks.
    Entries,
    /// After a slashdashed children block: only children blocks.
    AfterDashedBlock,
    /// After the children block: only slashdashed children blocks.
    AfterBlock,
}

/// A node being read.
struct Pending<'a> {
    node: Node<'a>,
    /// Slashdashed (or a stand-in after an error): read, then dropped.
    dashed: bool,
    tail: Tail,
}

impl Pending<'_> {
    /// Stands for a node that could not be read, whose `{` was found.
    fn placeholder() -> Self {
        Pending {
            node: Node {
                ty: None,
                name: Text {
                    value: Cow::Borrowed(""),
                    span: Span::default(),
                },
                entries: Vec::new(),
                children: None,
                span: Span::default(),
            },
            dashed: true,
            tail: Tail::AfterBlock,
        }
    }
}

/// An open children block.
struct Open<'a> {
    pending: Pending<'a>,
    /// The block is slashdashed: its nodes are dropped.
    dashed_block: bool,
    brace: usize,
    nodes: Vec<Node<'a>>,
}

enum Step<'a> {
    /// The node ended (its terminator read, or a `}` or the end ahead).
    Done(Pending<'a>),
    /// A children block opened at the `{` there (slashdashed if true).
    Open(Pending<'a>, bool, usize),
}

struct Parser<'a> {
    lx: Lexer<'a>,
}

impl<'a> Parser<'a> {
    /// Reports an error (or, at a character no KDL document may hold, that).
    fn fail_help(
        &mut self,
        span: Span,
        message: impl Into<String>,
        label: &'static str,
        help: impl Into<String>,
    ) -> Stop {
        if self.lx.class_at(span.start).0 == Class::Banned {
            self.lx.banned(span.start);
        } else {
            self.lx.error_help(span, message, label, help);
        }
        Stop
    }

    /// What is at `i`, for "expected X, found Y".
    fn found(&self, i: usize) -> String {
        match self.lx.peek_at(i) {
            None => "the end of the document".to_string(),
            Some(_) if self.lx.newline_len(i) > 0 => "the end of the line".to_string(),
            Some(_) => {
                let (c, _) = self.lx.char_at(i);
                format!("`{}`", c.escape_debug())
            }
        }
    }

    /// A node, from its optional `/-` to the end of its entries.
    fn node(&mut self) -> Result<Step<'a>, Stop> {
        let mut dashed = false;
        if self.lx.starts_with(b"/-") {
            let dash = Span::new(self.lx.pos, 2);
            self.lx.pos += 2;
            self.lx.line_space()?;
            dashed = true;
            self.after_slashdash(dash)?;
        }
        let start = self.lx.pos;
        let ty = if self.lx.peek() == Some(b'(') {
            let ty = self.annotation()?;
            self.lx.node_space()?;
            Some(ty)
        } else {
            None
        };
        let name = self.name("a node name")?;
        let span = Span::new(start, name.span.end() - start);
        self.tail(
            Pending {
                node: Node {
                    ty,
                    name,
                    entries: Vec::new(),
                    children: None,
                    span,
                },
                dashed,
                tail: Tail::Entries,
            },
            false,
        )
    }

    /// Refuses what cannot follow a `/-` (and the space after it).
    fn after_slashdash(&mut self, dash: Span) -> Result<(), Stop> {
        if self.lx.starts_with(b"/-") {
            return Err(self.fail_help(
                Span::new(self.lx.pos, 2),
                "a second `/-` after a `/-`",
                "slashdash again",
                "one `/-` comments out the whole node, entry or children block after it",
            ));
        }
        if matches!(self.lx.peek(), None | Some(b'}' | b';')) {
            return Err(self.fail_help(
                dash,
                "`/-` comments out nothing here",
                "nothing after it",
                "put `/-` right before the node, argument, property or children block to \
                 comment out, or remove it",
            ));
        }
        Ok(())
    }

    /// The rest of a node: entries, children blocks, the terminator.
    /// `after_brace`: it goes on after the `}` of a children block, which
    /// a `/-` may follow without a space (a name or value may not).
    fn tail(&mut self, mut p: Pending<'a>, mut after_brace: bool) -> Result<Step<'a>, Stop> {
        loop {
            let spaced = std::mem::take(&mut after_brace) | self.lx.node_space()?;
            let at = self.lx.pos;
            let Some(c) = self.lx.peek() else {
                return Ok(Step::Done(p));
            };
            match c {
                b';' => {
                    self.lx.pos += 1;
                    return Ok(Step::Done(p));
                }
                b'}' => return Ok(Step::Done(p)),
                b'/' if self.lx.peek_at(at + 1) == Some(b'/') => {
                    self.lx.line_comment();
                    return Ok(Step::Done(p));
                }
                b'{' => {
                    if p.tail == Tail::AfterBlock {
                        return Err(self.second_block(at));
                    }
                    self.lx.pos += 1;
                    return Ok(Step::Open(p, false, at));
                }
                b'/' if self.lx.peek_at(at + 1) == Some(b'-') => {
                    let dash = Span::new(at, 2);
                    if !spaced {
                        return Err(self.fail_help(
                            dash,
                            "`/-` right after the previous token",
                            "no space before",
                            "put a space before `/-`",
                        ));
                    }
                    self.lx.pos += 2;
                    self.lx.line_space()?;
                    if self.lx.peek() == Some(b'{') {
                        let brace = self.lx.pos;
                        self.lx.pos += 1;
                        return Ok(Step::Open(p, true, brace));
                    }
                    self.after_slashdash(dash)?;
                    if p.tail != Tail::Entries {
                        return Err(self.after_block(dash));
                    }
                    self.entry()?;
                }
                _ if self.lx.newline_len(at) > 0 => {
                    self.lx.pos += self.lx.newline_len(at);
                    return Ok(Step::Done(p));
                }
                _ => {
                    if p.tail != Tail::Entries {
                        return Err(self.after_block(self.lx.char_span(at)));
                    }
                    if !spaced {
                        let end = self.lx.bare_end(at).max(at + self.lx.char_span(at).len);
                        return Err(self.fail_help(
                            Span::new(at, end - at),
                            format!("expected a space before {}", self.found(at)),
                            "no space before",
                            "separate arguments and properties with spaces; end a node with a \
                             newline or `;`",
                        ));
                    }
                    let entry = self.entry()?;
                    p.node.span.len = entry.span.end() - p.node.span.start;
                    p.node.entries.push(entry);
                }
            }
        }
    }

    fn second_block(&mut self, at: usize) -> Stop {
        self.fail_help(
            Span::new(at, 1),
            "a second children block: a node has at most one",
            "second block",
            "put all the children into one `{ ... }`, or comment one block out with `/-`",
        )
    }

    fn after_block(&mut self, span: Span) -> Stop {
        self.fail_help(
            span,
            "only the end of the node may follow its children block",
            "after the children",
            "put arguments and properties before the `{`, and end the node (newline or `;`) \
             after the `}`",
        )
    }

    /// A closed children block: back to the rest of its node.
    fn close(&mut self, open: Open<'a>, brace: usize) -> Result<Step<'a>, Stop> {
        let Open {
            mut pending,
            dashed_block,
            nodes,
            ..
        } = open;
        if dashed_block {
            if pending.tail == Tail::Entries {
                pending.tail = Tail::AfterDashedBlock;
            }
        } else {
            pending.node.children = Some(nodes);
            pending.tail = Tail::AfterBlock;
            pending.node.span.len = brace + 1 - pending.node.span.start;
        }
        self.tail(pending, true)
    }

    /// `(type)` at `pos`: the type's name.
    fn annotation(&mut self) -> Result<Text<'a>, Stop> {
        let open = self.lx.pos;
        self.lx.pos += 1;
        self.lx.node_space()?;
        if self.lx.peek() == Some(b')') {
            return Err(self.fail_help(
                Span::new(open, self.lx.pos + 1 - open),
                "empty type annotation",
                "no type",
                "write a type name inside `( )`, or remove them",
            ));
        }
        let ty = self.name("a type name")?;
        self.lx.node_space()?;
        if self.lx.peek() != Some(b')') {
            let at = self.lx.pos;
            return Err(self.fail_help(
                self.lx.char_span(at),
                format!(
                    "expected `)` to close the type annotation, found {}",
                    self.found(at)
                ),
                "not closed",
                "a type annotation is one name in parentheses: `(type)`",
            ));
        }
        self.lx.pos += 1;
        Ok(ty)
    }

    /// A string where a name goes: a node's name, a key, a type.
    fn name(&mut self, what: &str) -> Result<Text<'a>, Stop> {
        let start = self.lx.pos;
        let value = match self.lx.peek() {
            Some(b'"') => self.lx.quoted(),
            Some(b'#') if matches!(self.lx.peek_at(start + 1), Some(b'#' | b'"')) => self.lx.raw(),
            Some(b'#') => {
                let end = self.lx.bare_end(start + 1);
                self.lx.pos = end;
                let word = &self.lx.text[start..end];
                self.lx.error_help(
                    Span::new(start, end - start),
                    format!("expected {what}, found the keyword `{word}`"),
                    "not a string",
                    format!("a name is a string; quote it: `\"{word}\"`"),
                );
                Cow::Borrowed("")
            }
            Some(_) if self.lx.ident_at(start) => {
                let end = self.lx.bare_end(start);
                self.lx.pos = end;
                let word = &self.lx.text[start..end];
                self.identifier(word, Span::new(start, end - start), what);
                Cow::Borrowed(word)
            }
            _ => {
                return Err(self.fail_help(
                    self.lx.char_span(start),
                    format!("expected {what}, found {}", self.found(start)),
                    "not a name",
                    "a name is a string: a bare word like `mx1`, or quoted (`\"...\"`, `#\"...\"#`)",
                ));
            }
        };
        Ok(Text {
            value,
            span: Span::new(start, self.lx.pos - start),
        })
    }

    /// Reports a bare word that cannot be an identifier string.
    fn identifier(&mut self, word: &str, span: Span, what: &str) {
        let b = word.as_bytes();
        let signed = matches!(b[0], b'+' | b'-');
        let digit_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
        if matches!(word, "true" | "false" | "null" | "inf" | "-inf" | "nan") {
            self.lx.error_help(
                span,
                format!("bare `{word}` is not a string in KDL 2"),
                "keyword",
                format!("write `#{word}` for the value, or quote it (`\"{word}\"`) for the text"),
            );
        } else if digit_at(0) || (signed && digit_at(1)) {
            self.lx.error_help(
                span,
                format!("`{word}` cannot be {what}: a bare word may not start like a number"),
                "starts like a number",
                format!("quote it: `\"{word}\"`"),
            );
        } else if (b[0] == b'.' && digit_at(1))
            || (signed && b.get(1) == Some(&b'.') && digit_at(2))
        {
            self.lx.error_help(
                span,
                format!("`{word}` is neither a number nor a string"),
                "not a number",
                format!("a number needs a digit before its `.` (`0.5`); quote text: `\"{word}\"`"),
            );
        }
    }

    /// A value (string, number or keyword) at `pos`, without annotation.
    fn value(&mut self) -> Result<(Value<'a>, Span), Stop> {
        let start = self.lx.pos;
        let value = match self.lx.peek() {
            Some(b'"') => Value::String(self.lx.quoted()),
            Some(b'#') if matches!(self.lx.peek_at(start + 1), Some(b'#' | b'"')) => {
                Value::String(self.lx.raw())
            }
            Some(b'#') => {
                let end = self.lx.bare_end(start + 1);
                self.lx.pos = end;
                match &self.lx.text[start + 1..end] {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    "inf" => Value::Float(f64::INFINITY),
                    "-inf" => Value::Float(f64::NEG_INFINITY),
                    "nan" => Value::Float(f64::NAN),
                    word => {
                        self.lx.error_help(
                            Span::new(start, end - start),
                            format!("unknown keyword `#{word}`"),
                            "not a keyword",
                            "the keywords are #true, #false, #null, #inf, #-inf and #nan; quote \
                             text: `\"#...\"`",
                        );
                        Value::Null
                    }
                }
            }
            Some(c) if self.lx.ident_at(start) => {
                let end = self.lx.bare_end(start);
                self.lx.pos = end;
                let word = &self.lx.text[start..end];
                let b = word.as_bytes();
                if c.is_ascii_digit()
                    || (matches!(c, b'+' | b'-') && b.get(1).is_some_and(u8::is_ascii_digit))
                {
                    match super::lexer::number(word) {
                        Ok(v) => v,
                        Err(message) => {
                            self.lx.error_help(
                                Span::new(start, end - start),
                                message,
                                "not a number",
                                format!(
                                    "quote it if it is text: `\"{word}\"` (a bare word may not \
                                     start like a number)"
                                ),
                            );
                            Value::Null
                        }
                    }
                } else if word == "r" && matches!(self.lx.peek(), Some(b'"' | b'#')) {
                    // KDL 1's raw string `r"..."` / `r#"..."#`.
                    let errors = self.lx.errors.len();
                    if self.lx.peek() == Some(b'"') {
                        self.lx.quoted();
                    } else {
                        self.lx.raw();
                    }
                    self.lx.errors.truncate(errors);
                    self.lx.error(
                        Span::new(start, self.lx.pos - start),
                        "expected a value",
                        "not a value",
                    );
                    Value::Null
                } else {
                    self.identifier(word, Span::new(start, end - start), "a string");
                    Value::String(Cow::Borrowed(word))
                }
            }
            _ => {
                return Err(self.fail_help(
                    self.lx.char_span(start),
                    format!("expected a value, found {}", self.found(start)),
                    "not a value",
                    "a value is a string, a number, #true, #false or #null; quote text that \
                     holds a space or any of `\\ / ( ) { } [ ] ; = \" #`: `\"...\"`",
                ));
            }
        };
        Ok((value, Span::new(start, self.lx.pos - start)))
    }

    /// An argument or a property at `pos`.
    fn entry(&mut self) -> Result<Entry<'a>, Stop> {
        let start = self.lx.pos;
        if self.lx.peek() == Some(b'(') {
            let ty = self.annotation()?;
            self.lx.node_space()?;
            let (value, value_span) = self.value()?;
            if let Some(after) = self.lx.peek_node_space()
                && self.lx.peek_at(after) == Some(b'=')
            {
                return Err(self.fail_help(
                    Span::new(start, value_span.end() - start),
                    "a property's key cannot have a type annotation",
                    "annotated key",
                    "annotate the value instead: `key=(type)value`",
                ));
            }
            return Ok(Entry {
                name: None,
                ty: Some(ty),
                value,
                value_span,
                span: Span::new(start, value_span.end() - start),
            });
        }
        let (value, value_span) = self.value()?;
        let key = match value {
            Value::String(s) => match self.lx.peek_node_space() {
                Some(after) if self.lx.peek_at(after) == Some(b'=') => {
                    self.lx.pos = after + 1;
                    Text {
                        value: s,
                        span: value_span,
                    }
                }
                _ => {
                    return Ok(Entry {
                        name: None,
                        ty: None,
                        value: Value::String(s),
                        value_span,
                        span: value_span,
                    });
                }
            },
            value => {
                return Ok(Entry {
                    name: None,
                    ty: None,
                    value,
                    value_span,
                    span: value_span,
                });
            }
        };
        self.lx.node_space()?;
        let ty = if self.lx.peek() == Some(b'(') {
            let ty = self.annotation()?;
            self.lx.node_space()?;
            Some(ty)
        } else {
            None
        };
        if matches!(self.lx.peek(), None | Some(b';' | b'}'))
            || self.lx.newline_len(self.lx.pos) > 0
            || self.lx.starts_with(b"//")
        {
            let at = self.lx.pos;
            return Err(self.fail_help(
                Span::new(start, at - start),
                format!("property `{}=` has no value", key.value),
                "no value",
                "write the value right after `=` (quote an empty string: `\"\"`)",
            ));
        }
        let (value, value_span) = self.value()?;
        Ok(Entry {
            name: Some(key),
            ty,
            value,
            value_span,
            span: Span::new(start, value_span.end() - start),
        })
    }

    /// After an error: skips to the end of the node — past its newline or
    /// `;`, before a `}` that closes an enclosing block — over strings and
    /// comments. Braces opened and closed on the way are part of the bad
    /// text (`key={X}y`); a `{` still open at the end of the line is the
    /// node's children block: its position is returned, for the caller to
    /// open (and later drop).
    fn recover(&mut self) -> Option<usize> {
        let errors = self.lx.errors.len();
        // Braces open on the way, and where the outermost one opened.
        let (mut depth, mut first) = (0usize, None);
        while let Some(c) = self.lx.peek() {
            let at = self.lx.pos;
            match c {
                b';' if depth == 0 => {
                    self.lx.pos += 1;
                    break;
                }
                b'}' if depth == 0 => break,
                b'}' => {
                    depth -= 1;
                    self.lx.pos += 1;
                }
                b'{' => {
                    if depth == 0 {
                        first = Some(at);
                    }
                    depth += 1;
                    self.lx.pos += 1;
                }
                b'"' => {
                    self.lx.quoted();
                }
                b'#' if matches!(self.lx.peek_at(at + 1), Some(b'#' | b'"')) => {
                    self.lx.raw();
                }
                b'/' if self.lx.peek_at(at + 1) == Some(b'/') => {
                    self.lx.line_comment();
                    break;
                }
                b'/' if self.lx.peek_at(at + 1) == Some(b'*') => {
                    self.lx.ws();
                }
                b'\\' => {
                    if self.lx.node_space().is_err() {
                        self.lx.pos = at + 1;
                    }
                }
                _ => match self.lx.newline_len(at) {
                    0 => self.lx.pos += self.lx.char_span(at).len.max(1),
                    n => {
                        self.lx.pos += n;
                        break;
                    }
                },
            }
        }
        self.lx.errors.truncate(errors);
        if depth > 0 { first } else { None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Document<'_> {
        parse(text).unwrap_or_else(|e| panic!("{text:?}: {e:#?}"))
    }

    fn errors(text: &str) -> Vec<SyntaxError> {
        match parse(text) {
            Ok(doc) => panic!("{text:?} read as {doc:#?}"),
            Err(e) => e,
        }
    }

    fn at(text: &str, span: Span) -> &str {
        &text[span.start..span.end()]
    }

    #[test]
    fn spans_are_the_tokens() {
        let text = "(t)a 1 (u)\"x\" k = (v)#true { b }  // c\nc";
        let doc = read(text);
        let a = &doc.nodes[0];
        assert_eq!(at(text, a.span), "(t)a 1 (u)\"x\" k = (v)#true { b }");
        assert_eq!(at(text, a.name.span), "a");
        assert_eq!(at(text, a.ty.as_ref().unwrap().span), "t");
        let e = &a.entries;
        assert_eq!(
            (at(text, e[1].span), at(text, e[1].value_span)),
            ("(u)\"x\"", "\"x\"")
        );
        assert_eq!(
            (at(text, e[2].span), at(text, e[2].value_span)),
            ("k = (v)#true", "#true")
        );
        assert_eq!(at(text, e[2].name.as_ref().unwrap().span), "k");
        assert_eq!(e[2].value, Value::Bool(true));
        assert_eq!(at(text, doc.nodes[1].span), "c");
    }

    #[test]
    fn slashdash_drops_exactly_its_part() {
        let doc = read("/-a 1\nb /-1 2 /-k=3 /-{ c } { d } /-{ e }\n/-f { g }; h /-\n  i");
        let names: Vec<&str> = doc.nodes.iter().map(|n| &*n.name.value).collect();
        assert_eq!(names, ["b", "h"]);
        let b = &doc.nodes[0];
        assert_eq!(b.entries.len(), 1);
        assert_eq!(b.entries[0].value, Value::Integer(2));
        let children = b.children.as_ref().unwrap();
        assert_eq!(children.len(), 1);
        assert_eq!(children[0].name.value, "d");
        assert!(doc.nodes[1].entries.is_empty());
    }

    #[test]
    fn strings() {
        let doc = read(concat!(
            "a plain \"quoted\" \"esc\\t\\u{e9}\\\n   joined\" #\"raw \\n\"# ##\"has \"# in\"##\n",
            "b \"\"\"\n    one\n      two\n\n    three\\n\n    \"\"\"\n",
        ));
        let values: Vec<&Value> = doc.nodes[0].entries.iter().map(|e| &e.value).collect();
        let s = |v: &'static str| Value::String(v.into());
        assert_eq!(
            values,
            [
                &s("plain"),
                &s("quoted"),
                &s("esc\téjoined"),
                &s("raw \\n"),
                &s("has \"# in")
            ]
        );
        // Text written without escapes is borrowed from the source.
        assert!(matches!(
            &doc.nodes[0].entries[1].value,
            Value::String(Cow::Borrowed("quoted"))
        ));
        assert_eq!(doc.nodes[1].entries[0].value, s("one\n  two\n\nthree\n"));
    }

    #[test]
    fn one_error_per_bad_node_and_reading_goes_on() {
        let text = "a [x] {\n  b\n}\nc 1x\nd true false\ne key={X}y; f\n}\n";
        let e = errors(text);
        let found: Vec<&str> = e.iter().map(|e| at(text, e.span)).collect();
        assert_eq!(found, ["[", "1x", "true", "false", "{", "}"], "{e:#?}");
    }

    #[test]
    fn unclosed_blocks_innermost_first() {
        let text = "a {\n b {\n";
        let e = errors(text);
        let spans: Vec<(usize, usize)> = e.iter().map(|e| (e.span.start, e.span.len)).collect();
        assert_eq!(spans, [(7, 1), (8, 1), (2, 1), (3, 6)]);
        assert_eq!(e[0].message, "no closing '}' for child block");
        assert_eq!(e[1].message, "closing '}' was not found after nodes");
        // Nothing after the `{`: only the first of the two.
        assert_eq!(errors("a {").len(), 1);
    }

    #[test]
    fn hostile_input_is_read_in_one_pass() {
        const N: usize = 100_000;
        assert_eq!(errors(&"a (".repeat(N)).len(), 1);
        assert_eq!(errors(&"/*".repeat(N)).len(), 1);
        assert_eq!(errors(&("/* ".to_string() + &"a/*/".repeat(N))).len(), 1);
        assert_eq!(errors(&"/-".repeat(N)).len(), 1);
        assert!(errors(&"\"".repeat(N + 1)).len() <= 2);
        assert_eq!(errors(&"}".repeat(N)).len(), MAX_ERRORS);
        assert_eq!(errors(&format!("a{}", " 1x".repeat(N))).len(), MAX_ERRORS);
        assert_eq!(errors(&"a {\n".repeat(N)).len(), 1);
        assert!(errors(&"{".repeat(N)).len() <= 3);
        assert_eq!(errors(&"a{".repeat(N)).last().unwrap().label, "too deep");
        let deep = "a {".repeat(MAX_DEPTH) + &"}".repeat(MAX_DEPTH);
        assert_eq!(read(&deep).nodes.len(), 1);
        assert_eq!(read(&("a".to_string() + &" \\\n".repeat(N))).nodes.len(), 1);
        assert_eq!(read(&"a;".repeat(N)).nodes.len(), N);
    }
}
