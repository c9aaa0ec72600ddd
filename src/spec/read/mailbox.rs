//! A domain's recipients: mailboxes, aliases, the autoresponder, and what
//! becomes of mail to unknown recipients.

use super::*;

impl<'d> Reader<'d> {
    pub(super) fn mailbox(&mut self, key: &Sp<String>, node: &Node) -> Mailbox {
        let mut m = Mailbox::default();
        let what = format!("mailbox `{}`", key.value);
        let Some(mut f) = self.fields(node, &what) else {
            return m;
        };
        if let Some(n) = self.required(
            &mut f,
            "password",
            key.span,
            &what,
            (
                "add `password:` with a hash made by `mailc passwd`",
                "add `password=` with a hash made by `mailc passwd`",
            ),
        ) {
            m.password = self.string(n, "`password`");
        }
        if let Some(n) = self.take(&mut f, "quota") {
            m.quota = self.string(n, "`quota`");
        }
        if let Some(n) = self.take(&mut f, "aliases") {
            m.aliases = self.strings(n, "a mailbox alias").unwrap_or_default();
        }
        if let Some(n) = self.take(&mut f, "send_only") {
            m.send_only = self.bool(n, "`send_only`");
        }
        if let Some(n) = self.take(&mut f, "services") {
            m.services = self.services(n);
        }
        if let Some(n) = self.take(&mut f, "disabled") {
            m.disabled = self.bool(n, "`disabled`");
        }
        if let Some(n) = self.take(&mut f, "rules") {
            for item in self.items(n) {
                if let Some(rule) = self.rule(item) {
                    m.rules.push(rule);
                }
            }
        }
        if let Some(n) = self.take(&mut f, "vacation") {
            m.vacation = self.vacation(n);
        }
        if let Some(n) = self.take(&mut f, "limits") {
            m.limits = self.send_limits(n);
        }
        self.finish(
            f,
            &[
                "password",
                "quota",
                "aliases",
                "send_only",
                "services",
                "disabled",
                "rules",
                "vacation",
                "limits",
            ],
            &what,
        );
        m
    }

    /// One alias's value: its targets, or `{drop: true}`.
    pub(super) fn alias(&mut self, key: &Sp<String>, node: &Node) -> Option<Targets> {
        if !matches!(node.value, Value::Map(_)) {
            let targets = self.strings(node, "an alias target")?;
            return Some(Targets {
                targets,
                drop: None,
                span: node.span,
            });
        }
        let what = format!("alias `{}`", key.value);
        let mut f = self.fields(node, &what)?;
        let Some(n) = self.take(&mut f, "drop") else {
            // Not the drop form: one diagnostic, as for any other wrong kind.
            let expected = match self.dialect {
                Dialect::Yaml => "a list of strings, or `{drop: true}`",
                Dialect::Kdl => "a list of strings, or `drop=#true`",
            };
            self.type_error(node, expected, "an alias target");
            return None;
        };
        let drop = self.bool(n, "`drop`");
        self.finish(f, &["drop"], &what);
        Some(Targets {
            targets: Vec::new(),
            drop,
            span: node.span,
        })
    }

    pub(super) fn vacation(&mut self, node: &Node) -> Option<Vacation> {
        let mut f = self.fields(node, "`vacation`")?;
        let mut v = Vacation {
            span: node.span,
            ..Vacation::default()
        };
        if let Some(n) = self.take(&mut f, "subject") {
            v.subject = self.string(n, "the reply's subject");
        }
        if let Some(n) = self.required(
            &mut f,
            "text",
            node.span,
            "`vacation`",
            (
                "add `text:` with the reply's text",
                "add `text \"...\"` with the reply's text",
            ),
        ) {
            v.text = self.body_text(n, "the reply's text");
        }
        if let Some(n) = self.take(&mut f, "start") {
            v.start = self.string(n, "`start`");
        }
        if let Some(n) = self.take(&mut f, "end") {
            v.end = self.string(n, "`end`");
        }
        if let Some(n) = self.take(&mut f, "days") {
            v.days = self.int(n, "`days`", "1..=90");
        }
        if let Some(n) = self.take(&mut f, "addresses") {
            v.addresses = self.strings(n, "an address");
        }
        self.finish(
            f,
            &["subject", "text", "start", "end", "days", "addresses"],
            "`vacation`",
        );
        Some(v)
    }

    /// Every unknown-recipients policy, as this dialect writes it.
    pub(super) fn policies(&self) -> &'static str {
        match self.dialect {
            Dialect::Yaml => {
                "`reject`, `bounce`, `drop`, `{forward: ADDRESS}` (a catch-all) or `{relay: HOST[:PORT]}`"
            }
            Dialect::Kdl => {
                "`unknown-recipients reject` (or `bounce`, `drop`), `unknown-recipients forward=ADDRESS` \
                 (a catch-all) or `unknown-recipients relay=\"HOST:PORT\"`"
            }
        }
    }

    /// `unknown_recipients` written as one word: `reject`, `bounce`, or a
    /// word that shows which map was meant (`alice` → `{forward: alice}`).
    pub(super) fn policy_word(&mut self, node: &Node) -> Option<Sp<UnknownRecipients>> {
        let s = self.string(node, "`unknown_recipients`")?;
        let policy = match s.value.as_str() {
            "reject" => UnknownRecipients::Reject,
            "bounce" => UnknownRecipients::Bounce,
            "drop" => UnknownRecipients::Drop,
            _ => {
                let word = &s.value;
                let (yaml, kdl) = if ["reject", "bounce", "drop"]
                    .iter()
                    .any(|w| word.eq_ignore_ascii_case(w))
                {
                    let w = word.to_ascii_lowercase();
                    (
                        format!("write it in lowercase: `{w}`"),
                        format!("write it in lowercase: `unknown-recipients {w}`"),
                    )
                } else if let Some(near) = suggest(word, ["reject", "bounce", "drop"]).or([
                    "discard",
                    "blackhole",
                    ":blackhole:",
                    "devnull",
                    "/dev/null",
                ]
                .iter()
                .any(|w| word.eq_ignore_ascii_case(w))
                .then_some("drop"))
                {
                    (
                        format!("did you mean `{near}`?"),
                        format!("did you mean `unknown-recipients {near}`?"),
                    )
                } else if !word.contains('@') && (word.contains('.') || word.contains(':')) {
                    (
                        format!(
                            "to pass such mail on to the server `{word}`, write `{{relay: {word}}}`; the policies are {}",
                            self.policies()
                        ),
                        format!(
                            "to pass such mail on to the server `{word}`, write `unknown-recipients relay=\"{word}\"`; the policies are {}",
                            self.policies()
                        ),
                    )
                } else {
                    (
                        format!(
                            "to deliver such mail to `{word}` (a catch-all), write `{{forward: {word}}}`; the policies are {}",
                            self.policies()
                        ),
                        format!(
                            "to deliver such mail to `{word}` (a catch-all), write `unknown-recipients forward=\"{word}\"`; the policies are {}",
                            self.policies()
                        ),
                    )
                };
                let d = Diagnostic::error(
                    Code::BadEnum,
                    s.span,
                    format!("`{word}` is not an unknown-recipients policy"),
                )
                .label("expected `reject`, `bounce`, `drop`, a forward or a relay");
                let d = match self.dialect {
                    Dialect::Yaml => d.help(yaml),
                    Dialect::Kdl => d.help(kdl),
                };
                self.push(d);
                return None;
            }
        };
        Some(Sp::new(policy, s.span))
    }

    pub(super) fn unknown_recipients(&mut self, node: &Node) -> Option<Sp<UnknownRecipients>> {
        let help = format!("use {}", self.policies());
        match &node.value {
            Value::Map(entries) if entries.len() == 1 => {
                let (k, v) = &entries[0];
                match &*self.key_name(k) {
                    "forward" => self
                        .string(v, "`forward`")
                        .map(|s| Sp::new(UnknownRecipients::Forward(s), node.span)),
                    "relay" => self
                        .string(v, "`relay`")
                        .map(|s| Sp::new(UnknownRecipients::Relay(s), node.span)),
                    other => {
                        let mut d = Diagnostic::error(
                            Code::UnknownKey,
                            k.span,
                            format!(
                                "unknown key `{}` in `{}`",
                                k.name,
                                self.dialect.spell("unknown_recipients")
                            ),
                        )
                        .label("not an unknown-recipients policy");
                        d = match suggest(other, ["forward", "relay"]) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None => d.help(help),
                        };
                        self.push(d);
                        None
                    }
                }
            }
            Value::Map(_) => {
                let d = Diagnostic::error(
                    Code::Type,
                    node.span,
                    "`unknown_recipients` takes one policy",
                )
                .label("more than one key")
                .help(help);
                self.push(d);
                None
            }
            _ => self.policy_word(node),
        }
    }
}
