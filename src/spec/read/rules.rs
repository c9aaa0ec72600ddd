//! A mailbox's mail rules: conditions, actions, and the text of a reply.

use super::*;

impl<'d> Reader<'d> {
    /// Text that may run over several lines (a vacation reply): newlines
    /// and tabs are kept, other control characters refused.
    pub(super) fn body_text(&mut self, node: &Node, what: &str) -> Option<Sp<String>> {
        let Value::Str(s) = &node.value else {
            return self.string(node, what);
        };
        if s.len() > limits::VALUE_BYTES {
            return self.string(node, what);
        }
        if let Some(c) = s
            .chars()
            .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
        {
            let d = Diagnostic::error(
                Code::ControlChar,
                node.span,
                format!(
                    "value contains the control character {}",
                    c.escape_default()
                ),
            )
            .label("control character inside")
            .help("remove it: this text may hold newlines and tabs, no other control character");
            self.push(d);
            return None;
        }
        Some(Sp::new(s.replace("\r\n", "\n"), node.span))
    }

    /// One mail rule: `match`, `if` (conditions), `then` (actions).
    pub(super) fn rule(&mut self, node: &Node) -> Option<Rule> {
        let mut f = self.fields(node, "a rule")?;
        let mut r = Rule {
            span: node.span,
            ..Rule::default()
        };
        if let Some(n) = self.take(&mut f, "match") {
            r.match_ = self.choice(
                n,
                "rule match",
                &[("all", RuleMatch::All), ("any", RuleMatch::Any)],
            );
        }
        if let Some(n) = self.take(&mut f, "if") {
            let written = self.items(n);
            let items: Vec<Condition> = written.iter().filter_map(|c| self.condition(c)).collect();
            // A condition that could not be read was reported: the list is
            // empty only when nothing was written.
            if written.is_empty() || !items.is_empty() {
                r.conditions = Some(Sp::new(items, n.span));
            }
        }
        if let Some(n) = self.required(
            &mut f,
            "then",
            node.span,
            "a rule",
            (
                "add `then:` with its actions, e.g. `then: [{fileinto: Lists}]`",
                "add a `then` block with its actions, e.g. `then { fileinto Lists }`",
            ),
        ) {
            let items: Vec<Action> = self
                .items(n)
                .iter()
                .filter_map(|a| self.action(a))
                .collect();
            r.actions = Some(Sp::new(items, n.span));
        }
        self.finish(f, &["match", "if", "then"], "a rule");
        Some(r)
    }

    /// One condition: `{FIELD: {COMPARISON: VALUE}}` (`header` with `name`).
    pub(super) fn condition(&mut self, node: &Node) -> Option<Condition> {
        let help = match self.dialect {
            Dialect::Yaml => {
                "write a condition as `{subject: {contains: TEXT}}`, `{header: {name: X-Spam, is: \"yes\"}}` or `{size: {over: 1M}}`; the fields are from, to, sender, subject, header, size"
            }
            Dialect::Kdl => {
                "write a condition as `subject contains=TEXT`, `header X-Spam is=\"yes\"` or `size over=\"1M\"`; the fields are from, to, sender, subject, header, size"
            }
        };
        let Value::Map(entries) = &node.value else {
            let d = Diagnostic::error(
                Code::Type,
                node.span,
                format!("a condition must be a map, found {}", node.kind()),
            )
            .label("not a condition")
            .help(help);
            self.push(d);
            return None;
        };
        if entries.len() != 1 {
            let d = Diagnostic::error(
                Code::Type,
                node.span,
                "a condition names one field; give each its own item of `if`",
            )
            .label(if entries.is_empty() {
                "empty condition"
            } else {
                "more than one field"
            })
            .help(help);
            self.push(d);
            return None;
        }
        let (k, v) = &entries[0];
        let field = self.choice(
            &Node::new(k.span, Value::Str(k.name.clone())),
            "condition field",
            FIELDS,
        )?;
        let mut c = Condition {
            field: Some(field.clone()),
            name: None,
            compare: None,
            value: None,
            span: node.span,
        };
        let what = format!("the `{}` condition", k.name);
        let mut f = self.fields(v, &what)?;
        let mut known: Vec<&'static str> = Vec::new();
        if field.value == Field::Header {
            known.push("name");
            if let Some(n) = self.required(
                &mut f,
                "name",
                node.span,
                &what,
                (
                    "add `name:` with the header's name",
                    "add the header's name as the first argument",
                ),
            ) {
                c.name = self.string(n, "a header name");
            }
        }
        let compares: &[(&'static str, Compare)] = if field.value == Field::Size {
            &[("over", Compare::Over), ("under", Compare::Under)]
        } else {
            &[
                ("contains", Compare::Contains),
                ("is", Compare::Is),
                ("matches", Compare::Matches),
            ]
        };
        for (name, cmp) in compares {
            known.push(name);
            if let Some(n) = self.take(&mut f, name) {
                if c.compare.is_some() {
                    let d = Diagnostic::error(
                        Code::Type,
                        n.span,
                        "a condition compares one way; give each comparison its own condition",
                    )
                    .label("second comparison")
                    .help(help);
                    self.push(d);
                    continue;
                }
                c.compare = Some(Sp::new(*cmp, n.span));
                c.value = self.string(n, "a condition's value");
            }
        }
        let had_compare = c.compare.is_some();
        self.finish(f, &known, &what);
        if !had_compare {
            let d = Diagnostic::error(
                Code::EmptyCondition,
                node.span,
                format!("{what} says nothing to compare"),
            )
            .label("empty condition")
            .help(format!(
                "add one of {}",
                quote_list(&known[known.len() - compares.len()..])
            ));
            self.push(d);
            return None;
        }
        Some(c)
    }

    /// One action: `keep`, `discard`, `stop`, or `{fileinto|forward|reject: ...}`.
    pub(super) fn action(&mut self, node: &Node) -> Option<Action> {
        let help = match self.dialect {
            Dialect::Yaml => {
                "the actions are `fileinto: FOLDER`, `forward: ADDRESS` (or `{to: ADDRESS, copy: true}`), `reject: TEXT`, `keep`, `discard`, `stop`"
            }
            Dialect::Kdl => {
                "the actions are `fileinto FOLDER`, `forward ADDRESS` (with `copy=#true` to keep a copy), `reject TEXT`, `keep`, `discard`, `stop`"
            }
        };
        let words = ["keep", "discard", "stop", "fileinto", "forward", "reject"];
        let unknown = |r: &mut Self, name: &str, span: Span| {
            let mut d =
                Diagnostic::error(Code::BadEnum, span, format!("`{name}` is not an action"))
                    .label("unknown action");
            d = match suggest(name, words) {
                Some(s) => d.help(format!("did you mean `{s}`? {help}")),
                None => d.help(help),
            };
            r.push(d);
        };
        let kind = match &node.value {
            Value::Str(w) => match &**w {
                "keep" => ActionKind::Keep,
                "discard" => ActionKind::Discard,
                "stop" => ActionKind::Stop,
                other => {
                    unknown(self, other, node.span);
                    return None;
                }
            },
            Value::Map(entries) if entries.len() == 1 => {
                let (k, v) = &entries[0];
                match &*self.key_name(k) {
                    "fileinto" => ActionKind::FileInto(self.string(v, "a folder")?),
                    "reject" => ActionKind::Reject(self.body_text(v, "a reject text")?),
                    "forward" => match &v.value {
                        Value::Map(_) => {
                            let mut f = self.fields(v, "`forward`")?;
                            let to = self.required(
                                &mut f,
                                "to",
                                v.span,
                                "`forward`",
                                (
                                    "add `to:` with the address",
                                    "give the address as the argument",
                                ),
                            );
                            let to = to.and_then(|n| self.string(n, "a forward address"));
                            let copy = self
                                .take(&mut f, "copy")
                                .and_then(|n| self.bool(n, "`copy`"));
                            self.finish(f, &["to", "copy"], "`forward`");
                            ActionKind::Forward {
                                to: to?,
                                copy: copy.is_some_and(|c| c.value),
                            }
                        }
                        _ => ActionKind::Forward {
                            to: self.string(v, "a forward address")?,
                            copy: false,
                        },
                    },
                    "keep" | "discard" | "stop" => {
                        let d = Diagnostic::error(
                            Code::Type,
                            v.span,
                            format!("`{}` takes no value", k.name),
                        )
                        .label("unexpected value")
                        .help(help);
                        self.push(d);
                        return None;
                    }
                    other => {
                        unknown(self, other, k.span);
                        return None;
                    }
                }
            }
            _ => {
                let d = Diagnostic::error(
                    Code::Type,
                    node.span,
                    format!(
                        "an action must be a word or a map of one key, found {}",
                        node.kind()
                    ),
                )
                .label("not an action")
                .help(help);
                self.push(d);
                return None;
            }
        };
        Some(Action {
            kind,
            span: node.span,
        })
    }
}

const FIELDS: &[(&str, Field)] = &[
    ("from", Field::From),
    ("to", Field::To),
    ("sender", Field::Sender),
    ("subject", Field::Subject),
    ("header", Field::Header),
    ("size", Field::Size),
];
