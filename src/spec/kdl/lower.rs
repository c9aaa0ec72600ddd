//! Walking KDL nodes into the tree: keys and values from arguments and
//! properties, maps of children, and the generic rule every node without a
//! shape of its own follows.

use super::*;

impl Builder {
    /// A synthesized key (`hosts`, `selector`, ...) at the node's name.
    pub(super) fn name_key<'a>(&self, n: &doc::Node<'a>, name: &'static str) -> Key<'a> {
        Key {
            name: Cow::Borrowed(name),
            span: n.name.span,
        }
    }

    /// The node's own name as a key.
    pub(super) fn node_key<'a>(&self, n: &doc::Node<'a>) -> Key<'a> {
        Key {
            name: n.name.value.clone(),
            span: n.name.span,
        }
    }

    /// The span of an entry's value token: for a property, without `key=`.
    pub(super) fn value_span(&self, e: &doc::Entry<'_>) -> Span {
        match e.name {
            None => e.span,
            Some(_) => e.value_span,
        }
    }

    pub(super) fn value<'a>(&self, e: &doc::Entry<'a>) -> Node<'a> {
        let value = match &e.value {
            doc::Value::String(s) => Value::Str(s.clone()),
            doc::Value::Integer(i) => Value::Int(*i),
            doc::Value::Float(f) => Value::Float(*f),
            doc::Value::Bool(b) => Value::Bool(*b),
            doc::Value::Null => Value::Null,
        };
        Node::new(self.value_span(e), value)
    }

    pub(super) fn prop<'a>(&self, e: &doc::Entry<'a>) -> (Key<'a>, Node<'a>) {
        let key = match &e.name {
            Some(k) => Key {
                name: k.value.clone(),
                span: k.span,
            },
            None => Key {
                name: Cow::Borrowed(""),
                span: e.span,
            },
        };
        (key, self.value(e))
    }

    pub(super) fn error(
        &mut self,
        code: Code,
        span: Span,
        message: String,
        label: &str,
        help: String,
    ) {
        self.dropped = true;
        self.diags.push(
            Diagnostic::error(code, span, message)
                .label(label)
                .help(help),
        );
    }

    /// A map of the node's properties, then its children by the child rules.
    pub(super) fn map_of<'a>(&mut self, n: &doc::Node<'a>) -> MapB<'a> {
        let mut m = MapB::default();
        for e in props(n) {
            let (k, v) = self.prop(e);
            m.push(k, v);
        }
        if let Some(children) = &n.children {
            for child in children {
                self.add_child(&mut m, child);
            }
        }
        m
    }

    /// Reports the arguments from `allowed` on of a node that takes `allowed`
    /// arguments and otherwise only properties and children.
    pub(super) fn extra_args(&mut self, n: &doc::Node<'_>, name: &str, allowed: usize, what: &str) {
        let args = args(n);
        if let Some(extra) = args.get(allowed) {
            let span = self.value_span(extra);
            let message = match allowed {
                0 => format!("`{name}` takes properties and child nodes, not arguments"),
                1 => format!("`{name}` takes one argument, {what}; the rest are properties"),
                _ => format!("`{name}` takes {allowed} arguments, {what}; the rest are properties"),
            };
            self.error(
                Code::Type,
                span,
                message,
                "unexpected argument",
                help_for(name),
            );
        }
    }

    /// A node with a name argument (`host`, `domain`, `mailbox`) into the
    /// synthesized map `slot`, keyed by that name.
    pub(super) fn named_map<'a>(
        &mut self,
        m: &mut MapB<'a>,
        n: &doc::Node<'a>,
        name: &str,
        slot: &'static str,
        what: &str,
    ) {
        let span = n.span;
        let Some(first) = args(n).first().copied() else {
            self.error(
                Code::MissingKey,
                span,
                format!("`{name}` needs {what} as its first argument"),
                "no name",
                help_for(name),
            );
            return;
        };
        self.extra_args(n, name, 1, what);
        let key_node = self.value(first);
        let key_name = match &key_node.value {
            Value::Str(s) => s.clone(),
            _ => {
                self.error(
                    Code::Type,
                    key_node.span,
                    format!("{what} must be a string, found {}", key_node.kind()),
                    "not a name",
                    help_for(name),
                );
                return;
            }
        };
        let outer = self.within;
        self.within = match name {
            "host" => Within::Host,
            "domain" => Within::Domain,
            "mailbox" => Within::Mailbox,
            _ => Within::Other,
        };
        let inner = self.map_of(n);
        self.within = outer;
        let key_span = self.name_key(n, slot).span;
        m.map(slot, key_span, span).push((
            Key {
                name: key_name,
                span: key_node.span,
            },
            Node::new(span, Value::Map(inner.entries)),
        ));
    }

    /// Reports properties and children on a node that takes only arguments.
    pub(super) fn only_args(&mut self, n: &doc::Node<'_>, name: &str) {
        if let Some(p) = props(n).next() {
            let span = p.span;
            self.error(
                Code::Type,
                span,
                format!("`{name}` takes only arguments, not properties"),
                "unexpected property",
                help_for(name),
            );
        }
        if n.children.as_ref().is_some_and(|c| !c.is_empty()) {
            let span = n.span;
            self.error(
                Code::Type,
                span,
                format!("`{name}` takes only arguments, not child nodes"),
                "child block",
                help_for(name),
            );
        }
    }

    /// Any other node: one argument is a scalar, several a list, none a map
    /// of its properties and children.
    pub(super) fn generic<'a>(&mut self, m: &mut MapB<'a>, n: &doc::Node<'a>, name: &str) {
        let span = n.span;
        let key = self.node_key(n);
        let args = args(n);
        let has_props = props(n).next().is_some();
        let has_children = n.children.as_ref().is_some_and(|c| !c.is_empty());
        let node = match args.len() {
            0 => Node::new(span, Value::Map(self.map_of(n).entries)),
            _ if has_props || has_children => {
                if KNOWN_NODES.contains(&name) {
                    self.error(
                        Code::Type,
                        span,
                        format!("`{name}` takes either arguments or properties and child nodes, not both"),
                        "arguments and properties",
                        help_for(name),
                    );
                } else {
                    let help = match crate::diag::suggest(name, KNOWN_NODES.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`? {}", help_for(s)),
                        None => help_for(name),
                    };
                    self.error(
                        Code::UnknownKey,
                        span,
                        format!("unknown node `{name}`"),
                        "not a node of the spec",
                        help,
                    );
                }
                return;
            }
            1 => self.value(args[0]),
            _ => Node::new(
                span,
                Value::Seq(args.iter().map(|e| self.value(e)).collect()),
            ),
        };
        m.push(key, node);
    }
}
