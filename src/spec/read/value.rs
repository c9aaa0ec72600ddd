//! Typing one value of the tree: strings (checked for what no spec text may
//! hold), integers, booleans, words from a fixed list, lists and maps of
//! entries.

use super::*;

impl<'d> Reader<'d> {
    pub(super) fn check_text(&mut self, s: &str, span: Span) -> bool {
        if s.len() > limits::VALUE_BYTES {
            let d = Diagnostic::error(
                Code::ValueSize,
                span,
                format!(
                    "this value is {} bytes long; a value may be at most {}",
                    s.len(),
                    limits::bytes(limits::VALUE_BYTES as u64)
                ),
            )
            .label("too long")
            .help("no value of a spec needs more (a DNS record holds at most 65,535 bytes); look for a quote that is not closed");
            self.push(d);
            return false;
        }
        if let Some(c) = s.chars().find(|c| c.is_control()) {
            let d = Diagnostic::error(
                Code::ControlChar,
                span,
                format!("value contains the control character {}", c.escape_default()),
            )
            .label("control character inside")
            .help("remove it: no value in a spec may contain a newline, tab or other control character");
            self.push(d);
            return false;
        }
        true
    }

    pub(super) fn string(&mut self, node: &Node, what: &str) -> Option<Sp<String>> {
        let s = match &node.value {
            // Checked before it is copied: it may be huge.
            Value::Str(s) if !self.check_text(s, node.span) => return None,
            Value::Str(s) => return Some(Sp::new(s.to_string(), node.span)),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            _ => {
                self.type_error(node, "a string", what);
                return None;
            }
        };
        self.check_text(&s, node.span)
            .then(|| Sp::new(s, node.span))
    }

    pub(super) fn key(&mut self, key: &Key) -> Option<Sp<String>> {
        self.check_text(&key.name, key.span)
            .then(|| Sp::new(key.name.to_string(), key.span))
    }

    pub(super) fn int<T: TryFrom<i128>>(
        &mut self,
        node: &Node,
        what: &str,
        range: &str,
    ) -> Option<Sp<T>> {
        match &node.value {
            Value::Int(i) => match T::try_from(*i) {
                Ok(v) => Some(Sp::new(v, node.span)),
                Err(_) => {
                    let d = Diagnostic::error(
                        Code::Type,
                        node.span,
                        format!("{what} `{i}` is out of range"),
                    )
                    .label(format!("expected {range}"))
                    .help(format!("use a whole number in {range}"));
                    self.push(d);
                    None
                }
            },
            _ => {
                self.type_error(node, "a whole number", what);
                None
            }
        }
    }

    pub(super) fn bool(&mut self, node: &Node, what: &str) -> Option<Sp<bool>> {
        match &node.value {
            Value::Bool(b) => Some(Sp::new(*b, node.span)),
            _ => {
                let d = Diagnostic::error(
                    Code::Type,
                    node.span,
                    format!("{what} must be true or false, found {}", node.kind()),
                )
                .label("expected a boolean")
                .help(match self.dialect {
                    Dialect::Yaml => "write `true` or `false`",
                    Dialect::Kdl => "write `#true` or `#false`",
                });
                self.push(d);
                None
            }
        }
    }

    pub(super) fn choice<T: Copy>(
        &mut self,
        node: &Node,
        what: &str,
        options: &[(&str, T)],
    ) -> Option<Sp<T>> {
        let s = self.string(node, what)?;
        if let Some((_, v)) = options.iter().find(|(name, _)| *name == s.value) {
            return Some(Sp::new(*v, s.span));
        }
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        let mut d = Diagnostic::error(
            Code::BadEnum,
            s.span,
            format!("`{}` is not a valid {what}", s.value),
        )
        .label(format!("expected one of {}", quote_list(&names)));
        d = match options
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&s.value))
        {
            Some((n, _)) => d.help(format!("write it in lowercase: `{n}`")),
            None => match suggest(&s.value, names.iter().copied()) {
                Some(n) => d.help(format!("did you mean `{n}`?")),
                None => d.help(format!("use one of {}", quote_list(&names))),
            },
        };
        self.push(d);
        None
    }

    /// A list of strings; a single string counts as a list of one.
    pub(super) fn strings(&mut self, node: &Node, what: &str) -> Option<Vec<Sp<String>>> {
        match &node.value {
            Value::Seq(items) => Some(items.iter().filter_map(|n| self.string(n, what)).collect()),
            Value::Str(_) | Value::Int(_) => self.string(node, what).map(|s| vec![s]),
            Value::Null => Some(Vec::new()),
            _ => {
                self.type_error(node, "a list of strings", what);
                None
            }
        }
    }

    /// A list of items; a single item counts as a list of one.
    pub(super) fn items<'n>(&mut self, node: &'n Node<'n>) -> &'n [Node<'n>] {
        match &node.value {
            Value::Seq(items) => items,
            Value::Null => &[],
            _ => std::slice::from_ref(node),
        }
    }

    pub(super) fn entries<T>(
        &mut self,
        node: &Node,
        what: &str,
        mut item: impl FnMut(&mut Self, &Sp<String>, &Node) -> Option<T>,
    ) -> Option<Entries<T>> {
        let Value::Map(entries) = &node.value else {
            if node.value == Value::Null {
                return Some(Entries::default());
            }
            self.type_error(node, "a map", what);
            return None;
        };
        let mut out = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            let Some(key) = self.key(k) else { continue };
            if let Some(value) = item(self, &key, v) {
                out.push((key, value));
            }
        }
        Some(Entries(out))
    }

    /// A list of strings with the span of the whole list.
    pub(super) fn string_list(&mut self, node: &Node, what: &str) -> Option<Sp<Vec<Sp<String>>>> {
        let v = self.strings(node, what)?;
        // From the list's start over its last item (a flow list's node may
        // span its `[` only).
        let end = v
            .iter()
            .map(|s| s.span.end())
            .fold(node.span.end(), usize::max);
        let span = Span::new(node.span.start, end - node.span.start);
        Some(Sp::new(v, span))
    }
}
