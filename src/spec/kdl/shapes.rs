//! The nodes with a shape of their own: a child node by where it stands
//! (host, domain, mailbox), `tests`, mail rules and alias blocks.

use super::*;

impl Builder {
    pub(super) fn add_child<'a>(&mut self, m: &mut MapB<'a>, n: &doc::Node<'a>) {
        let name: &str = &n.name.value;
        let span = n.span;
        let key_span = n.name.span;
        let has_children = n.children.as_ref().is_some_and(|c| !c.is_empty());
        match name {
            "version" => {
                if args(n).len() != 1 || props(n).next().is_some() || has_children {
                    self.error(
                        Code::Type,
                        span,
                        "`version` takes one argument, the spec version".to_string(),
                        "not one version",
                        help_for("version"),
                    );
                    return;
                }
                self.generic(m, n, name);
            }
            "host" => self.named_map(m, n, "host", "hosts", "the host key (`mx1`)"),
            "domain" => self.named_map(m, n, "domain", "domains", "the domain name"),
            "mailbox" => self.named_map(m, n, "mailbox", "mailboxes", "the local part"),
            "dns-target" => self.named_map(m, n, "dns-target", "dns_targets", "the target's name"),
            // A relay's definition has properties or children; a bare
            // `outbound-relay NAME` (inside a host) names one.
            "outbound-relay" if props(n).next().is_some() || has_children => self.named_map(
                m,
                n,
                "outbound-relay",
                "outbound_relays",
                "the relay's name",
            ),
            "tests" => self.tests(m, n),
            "rule" => self.rule(m, n),
            "alias" => {
                let args = args(n);
                let Some(first) = args.first().copied() else {
                    self.error(
                        Code::MissingKey,
                        span,
                        "`alias` needs the alias's local part, then its targets, as arguments"
                            .to_string(),
                        "no name",
                        help_for("alias"),
                    );
                    return;
                };
                // `alias spam drop=#true` is the map form, `{drop: true}`.
                let map_form = args.len() == 1 && props(n).next().is_some();
                if !map_form {
                    self.only_args(n, "alias");
                }
                let key = self.value(first);
                let key_name = match &key.value {
                    Value::Str(s) => s.clone(),
                    _ => {
                        self.error(
                            Code::Type,
                            key.span,
                            format!("an alias name must be a string, found {}", key.kind()),
                            "not a local part",
                            help_for("alias"),
                        );
                        return;
                    }
                };
                let value = if map_form {
                    Value::Map(self.map_of(n).entries)
                } else {
                    Value::Seq(args[1..].iter().map(|e| self.value(e)).collect())
                };
                m.map("aliases", key_span, span).push((
                    Key {
                        name: key_name,
                        span: key.span,
                    },
                    Node::new(span, value),
                ));
            }
            "dkim" => {
                self.extra_args(n, "dkim", 1, "the selector");
                let mut entries = Vec::new();
                match args(n).first() {
                    Some(sel) => entries.push((self.name_key(n, "selector"), self.value(sel))),
                    None if props(n)
                        .any(|e| e.name.as_ref().is_some_and(|k| k.value == "selector")) => {}
                    None => {
                        self.error(
                            Code::MissingKey,
                            span,
                            "`dkim` needs the selector as its first argument".to_string(),
                            "no selector",
                            help_for("dkim"),
                        );
                        return;
                    }
                }
                entries.extend(self.map_of(n).entries);
                m.seq("dkim", key_span, span)
                    .push(Node::new(span, Value::Map(entries)));
            }
            "record" => {
                self.extra_args(n, "record", 3, "name, type and value");
                let args = args(n);
                let mut entries = Vec::new();
                let given: Vec<String> = props(n)
                    .filter_map(|e| e.name.as_ref().map(|k| k.value.to_string()))
                    .collect();
                let mut missing = Vec::new();
                for (i, field) in ["name", "type", "value"].into_iter().enumerate() {
                    match args.get(i) {
                        Some(e) => entries.push((self.name_key(n, field), self.value(e))),
                        None if given.iter().any(|g| g == field) => {}
                        None => missing.push(field),
                    }
                }
                if !missing.is_empty() {
                    self.error(
                        Code::MissingKey,
                        span,
                        format!(
                            "`record` needs its name, type and value as arguments; {} missing",
                            missing.join(", ")
                        ),
                        "incomplete record",
                        help_for("record"),
                    );
                    return;
                }
                entries.extend(self.map_of(n).entries);
                m.seq("records", key_span, span)
                    .push(Node::new(span, Value::Map(entries)));
            }
            "mx" => {
                let args = args(n);
                let has_props = props(n).next().is_some();
                if has_children {
                    self.error(
                        Code::Type,
                        span,
                        "`mx` takes host names as arguments, not child nodes".to_string(),
                        "child block",
                        help_for("mx"),
                    );
                }
                if has_props && args.len() != 1 {
                    self.error(
                        Code::Type,
                        span,
                        "`priority=` belongs to an `mx` node with exactly one host".to_string(),
                        "give each host with a priority its own node",
                        help_for("mx"),
                    );
                    return;
                }
                let items: Vec<Node> = if has_props {
                    let mut entries = vec![(self.name_key(n, "host"), self.value(args[0]))];
                    entries.extend(props(n).map(|e| self.prop(e)));
                    vec![Node::new(span, Value::Map(entries))]
                } else {
                    args.iter().map(|e| self.value(e)).collect()
                };
                m.seq("mx", key_span, span).extend(items);
            }
            "aliases" if self.within == Within::Domain && has_children => {
                self.alias_block(m, n);
            }
            list if LIST_NODES.contains(&list) => {
                let slot = LIST_NODES
                    .iter()
                    .copied()
                    .find(|l| *l == list)
                    .unwrap_or("aliases");
                self.only_args(n, slot);
                let items: Vec<Node> = args(n).iter().map(|e| self.value(e)).collect();
                m.seq(slot, key_span, span).extend(items);
            }
            fixed if FIXED_MAPS.contains(&fixed) => {
                self.extra_args(n, fixed, 0, "");
                let inner = self.map_of(n);
                m.push(self.node_key(n), Node::new(span, Value::Map(inner.entries)));
            }
            "unknown-recipients" => {
                let nargs = args(n).len();
                let nprops = props(n).count();
                if nargs + nprops != 1 || has_children {
                    self.error(
                        Code::Type,
                        span,
                        "`unknown-recipients` takes one argument, `reject`, `bounce` or `drop`, \
                         or one property, `forward=` or `relay=`"
                            .to_string(),
                        "not one choice",
                        help_for("unknown-recipients"),
                    );
                    return;
                }
                self.generic(m, n, name);
            }
            _ => self.generic(m, n, name),
        }
    }

    /// `tests { address A host=mx1 { deliver alice bob }; domain D { mx mx1 } }`:
    /// each child is one item of the `tests` list, its name the item's first
    /// key and its argument that key's value; then its properties, and its
    /// children by the generic rule (`mx` by its own).
    pub(super) fn tests<'a>(&mut self, m: &mut MapB<'a>, n: &doc::Node<'a>) {
        self.extra_args(n, "tests", 0, "");
        if let Some(p) = props(n).next() {
            self.error(
                Code::Type,
                p.span,
                "`tests` takes child nodes only".to_string(),
                "unexpected property",
                help_for("tests"),
            );
        }
        let mut items = Vec::new();
        for child in n.children.as_deref().unwrap_or_default() {
            let name: &str = &child.name.value;
            let (key, what): (&'static str, &str) = match name {
                "address" => ("address", "the address"),
                "domain" => ("domain", "the domain"),
                _ => {
                    let help = match crate::diag::suggest(name, ["address", "domain"]) {
                        Some(s) => format!("did you mean `{s}`? {}", help_for("tests")),
                        None => help_for("tests"),
                    };
                    self.error(
                        Code::UnknownKey,
                        child.name.span,
                        format!("unknown node `{name}` in `tests`"),
                        "not a kind of test",
                        help,
                    );
                    continue;
                }
            };
            let Some(first) = args(child).first().copied() else {
                self.error(
                    Code::MissingKey,
                    child.span,
                    format!("`{key}` needs {what} as its first argument"),
                    "nothing to test",
                    help_for("tests"),
                );
                continue;
            };
            if let Some(extra) = args(child).get(1) {
                self.error(
                    Code::Type,
                    extra.value_span,
                    format!("`{key}` takes one argument, {what}; the rest are properties"),
                    "unexpected argument",
                    help_for("tests"),
                );
            }
            let mut inner = MapB::default();
            inner.push(self.name_key(child, key), self.value(first));
            for e in props(child) {
                let (k, v) = self.prop(e);
                inner.push(k, v);
            }
            for gc in child.children.as_deref().unwrap_or_default() {
                if gc.name.value == "mx" {
                    self.add_child(&mut inner, gc);
                } else {
                    let gname = gc.name.value.to_string();
                    self.generic(&mut inner, gc, &gname);
                }
            }
            items.push(Node::new(child.span, Value::Map(inner.entries)));
        }
        m.seq("tests", n.name.span, n.span).extend(items);
    }

    /// `rule match=any { if { subject contains=X; header NAME is=Y }; then {
    /// fileinto F; forward A copy=#true; discard } }` into one item of the
    /// `rules` list, shaped as YAML writes it: `if` and `then` are lists of
    /// one-key maps (a bare word for an action without a value).
    pub(super) fn rule<'a>(&mut self, m: &mut MapB<'a>, n: &doc::Node<'a>) {
        self.extra_args(n, "rule", 0, "");
        let mut inner = MapB::default();
        for e in props(n) {
            let (k, v) = self.prop(e);
            inner.push(k, v);
        }
        for child in n.children.as_deref().unwrap_or_default() {
            let cname: &str = &child.name.value;
            match cname {
                "if" | "then" => {
                    self.extra_args(child, cname, 0, "");
                    if let Some(p) = props(child).next() {
                        self.error(
                            Code::Type,
                            p.span,
                            format!("`{cname}` takes child nodes only"),
                            "unexpected property",
                            help_for("rule"),
                        );
                    }
                    let items: Vec<Node<'a>> = child
                        .children
                        .as_deref()
                        .unwrap_or_default()
                        .iter()
                        .map(|gc| {
                            if cname == "if" {
                                self.rule_condition(gc)
                            } else {
                                self.rule_action(gc)
                            }
                        })
                        .collect();
                    inner.push(
                        self.node_key(child),
                        Node::new(child.span, Value::Seq(items)),
                    );
                }
                _ => {
                    let gname = cname.to_string();
                    self.generic(&mut inner, child, &gname);
                }
            }
        }
        m.seq("rules", n.name.span, n.span)
            .push(Node::new(n.span, Value::Map(inner.entries)));
    }

    /// `subject contains=X` → `{subject: {contains: X}}`; `header NAME is=Y`
    /// → `{header: {name: NAME, is: Y}}`.
    pub(super) fn rule_condition<'a>(&mut self, n: &doc::Node<'a>) -> Node<'a> {
        let mut entries = Vec::new();
        let args = args(n);
        if let Some(first) = args.first() {
            entries.push((self.name_key(n, "name"), self.value(first)));
        }
        self.extra_args(n, &n.name.value, 1, "the header's name");
        entries.extend(self.map_of(n).entries);
        Node::new(
            n.span,
            Value::Map(vec![(
                self.node_key(n),
                Node::new(n.span, Value::Map(entries)),
            )]),
        )
    }

    /// `discard` → `discard`; `fileinto F` → `{fileinto: F}`; `forward A
    /// copy=#true` → `{forward: {to: A, copy: true}}`.
    pub(super) fn rule_action<'a>(&mut self, n: &doc::Node<'a>) -> Node<'a> {
        let args = args(n);
        let has_props = props(n).next().is_some();
        let has_children = n.children.as_ref().is_some_and(|c| !c.is_empty());
        if args.is_empty() && !has_props && !has_children {
            return Node::new(n.name.span, Value::Str(n.name.value.clone()));
        }
        self.extra_args(n, &n.name.value, 1, "the action's value");
        let value = if has_props || has_children {
            let mut entries = Vec::new();
            if let Some(first) = args.first() {
                entries.push((self.name_key(n, "to"), self.value(first)));
            }
            entries.extend(self.map_of(n).entries);
            Node::new(n.span, Value::Map(entries))
        } else {
            self.value(args[0])
        };
        Node::new(n.span, Value::Map(vec![(self.node_key(n), value)]))
    }

    /// `aliases { sales alice bob }` in a domain: YAML's shape, where KDL
    /// writes one `alias` node per alias. Reported with the spec's own
    /// aliases rewritten, and read as meant, so the domain's other problems
    /// still show.
    pub(super) fn alias_block<'a>(&mut self, m: &mut MapB<'a>, n: &doc::Node<'a>) {
        let children = n.children.as_deref().unwrap_or_default();
        let shown: Vec<String> = children
            .iter()
            .take(2)
            .map(|c| {
                let mut line = format!("alias {}", c.name.value);
                for e in args(c) {
                    line.push(' ');
                    line.push_str(&crate::source::kdl_str(&entry_text(e)));
                }
                line
            })
            .collect();
        self.diags.push(
            Diagnostic::error(
                Code::Type,
                n.name.span,
                "a domain's aliases are one `alias` node each, not an `aliases` block".to_string(),
            )
            .label("block of aliases")
            .help(format!(
                "write `{}` in the domain (`aliases a.smith postmaster` is a mailbox's own list of extra addresses)",
                shown.join("; ")
            )),
        );
        for c in children {
            if props(c).next().is_some() || c.children.as_ref().is_some_and(|g| !g.is_empty()) {
                self.only_args(c, "alias");
                continue;
            }
            let targets = args(c).iter().map(|e| self.value(e)).collect();
            m.map("aliases", n.name.span, n.span).push((
                Key {
                    name: c.name.value.clone(),
                    span: c.name.span,
                },
                Node::new(c.span, Value::Seq(targets)),
            ));
        }
    }
}
