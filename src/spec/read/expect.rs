//! The `tests` section: each expectation, and the shapes a test may not
//! have (a key that says nothing, two verdicts at once).

use super::*;

impl<'d> Reader<'d> {
    /// One expectation of `tests`. Which keys fit a route test (`address`)
    /// and which a DNS test (`domain`) is judged when the model is built.
    pub(super) fn test(&mut self, node: &Node) -> Option<Test> {
        let mut f = self.fields(node, "a test")?;
        let mut t = Test {
            span: node.span,
            ..Test::default()
        };
        if let Some(n) = self.take(&mut f, "address") {
            t.address = self.string(n, "a test's `address`");
        }
        if let Some(n) = self.take(&mut f, "domain") {
            t.domain = self.string(n, "a test's `domain`");
        }
        if let Some(n) = self.take(&mut f, "host") {
            t.host = self.string_list(n, "a host");
        }
        if let Some(n) = self.take(&mut f, "deliver") {
            t.deliver = self.string_list(n, "a mailbox");
        }
        if let Some(n) = self.take(&mut f, "forward") {
            t.forward = self.string_list(n, "an address");
        }
        if let Some(n) = self.take(&mut f, "relay") {
            t.relay = self.string(n, "`relay`");
        }
        // `reject: false` and the like are reported once, not again as a
        // test without an outcome.
        let mut said_nothing = false;
        if let Some(n) = self.take(&mut f, "reject") {
            t.reject = match &n.value {
                Value::Bool(true) => Some(Sp::new(Reject::Any, n.span)),
                Value::Bool(false) => {
                    self.said_nothing(n, "reject");
                    said_nothing = true;
                    None
                }
                _ => self
                    .string(n, "`reject`")
                    .map(|s| Sp::new(Reject::Reply(s.value), s.span)),
            };
        }
        for key in ["bounce", "drop", "remote"] {
            if let Some(n) = self.take(&mut f, key) {
                let v = self.bool(n, &format!("`{key}`"));
                if v.as_ref().is_some_and(|b| !b.value) {
                    self.said_nothing(n, key);
                    said_nothing = true;
                    continue;
                }
                match key {
                    "bounce" => t.bounce = v,
                    "drop" => t.drop = v,
                    _ => t.remote = v,
                }
            }
        }
        if let Some(n) = self.take(&mut f, "mx") {
            t.mx = self.mx(n).map(|mx| {
                let end = mx
                    .value
                    .iter()
                    .flat_map(|e| [Some(e.host().span), e.priority().map(|p| p.span)])
                    .flatten()
                    .map(|s| s.end())
                    .fold(mx.span.end(), usize::max);
                let span = Span::new(mx.span.start, end - mx.span.start);
                Sp::new(mx.value, span)
            });
        }
        if let Some(n) = self.take(&mut f, "spf_allows") {
            t.spf_allows = self.string_list(n, "an IP address");
        }
        if let Some(n) = self.take(&mut f, "spf_denies") {
            t.spf_denies = self.string_list(n, "an IP address");
        }
        if let Some(n) = self.take(&mut f, "dmarc_at_least") {
            t.dmarc_at_least = self.choice(n, "DMARC policy", DMARC_POLICIES);
        }
        self.finish(f, TEST_KEYS, "a test");
        self.test_shape(&t, said_nothing);
        Some(t)
    }

    /// A test is about an address or a domain, says what it expects, and
    /// uses only its own kind's keys. Reported here, where keys are spelled
    /// as written; values are judged against the model later.
    pub(super) fn test_shape(&mut self, t: &Test, said_nothing: bool) {
        let sp = |o: Option<Span>, k: &'static str| o.map(|s| (k, s));
        let route: Vec<(&str, Span)> = [
            sp(t.host.as_ref().map(|v| v.span), "host"),
            sp(t.deliver.as_ref().map(|v| v.span), "deliver"),
            sp(t.forward.as_ref().map(|v| v.span), "forward"),
            sp(t.relay.as_ref().map(|v| v.span), "relay"),
            sp(t.reject.as_ref().map(|v| v.span), "reject"),
            sp(t.bounce.as_ref().map(|v| v.span), "bounce"),
            sp(t.drop.as_ref().map(|v| v.span), "drop"),
            sp(t.remote.as_ref().map(|v| v.span), "remote"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let dns: Vec<(&str, Span)> = [
            sp(t.mx.as_ref().map(|v| v.span), "mx"),
            sp(t.spf_allows.as_ref().map(|v| v.span), "spf_allows"),
            sp(t.spf_denies.as_ref().map(|v| v.span), "spf_denies"),
            sp(t.dmarc_at_least.as_ref().map(|v| v.span), "dmarc_at_least"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let invalid = |span: Span, message: String, label: &str, help: String| {
            Diagnostic::error(Code::TestInvalid, span, message)
                .label(label)
                .help(help)
        };
        let (subject, wrong, other) = match (&t.address, &t.domain) {
            (Some(_), Some(d)) => {
                let d = invalid(
                    d.span,
                    format!(
                        "a test is about an address or a domain, not both; this one names `{}` too",
                        d.value
                    ),
                    "second subject",
                    "make two tests: one with `address` (what becomes of its mail), one with `domain` (its DNS facts)".to_string(),
                );
                self.push(d);
                return;
            }
            (None, None) => {
                let (yaml, kdl) = (
                    "give `address: info@example.com` (what becomes of its mail) or `domain: example.com` (its DNS facts)",
                    "write the test as `address info@example.com ...` or `domain example.com ...`",
                );
                self.missing(t.span, "address", "this test", (yaml, kdl));
                return;
            }
            (Some(a), None) => (a, &dns, "a domain"),
            (None, Some(d)) => (d, &route, "an address"),
        };
        for (key, span) in wrong {
            let shown = self.dialect.spell(key);
            let d = invalid(
                *span,
                format!(
                    "`{shown}` belongs to a test of {other}; this test is about `{}`",
                    subject.value
                ),
                "not a key of this kind of test",
                format!(
                    "move it into a test with `{}`",
                    other.rsplit(' ').next().unwrap_or(other)
                ),
            );
            self.push(d);
        }
        if t.address.is_some() {
            // A route test: exactly one fate (`deliver` and `forward` are one).
            let fates: Vec<&(&str, Span)> = route
                .iter()
                .filter(|(k, _)| *k != "host" && *k != "forward")
                .chain(
                    route
                        .iter()
                        .filter(|(k, _)| *k == "forward" && t.deliver.is_none()),
                )
                .collect();
            match fates.as_slice() {
                [] if said_nothing => {}
                [] => {
                    let d = invalid(
                        subject.span,
                        format!(
                            "the test of `{}` does not say what must happen to its mail",
                            subject.value
                        ),
                        "no expected outcome",
                        "add one of `deliver`, `forward`, `relay`, `reject`, `bounce`, `drop` or `remote`"
                            .to_string(),
                    );
                    self.push(d);
                }
                [_] => {}
                [(first, first_span), rest @ ..] => {
                    for (key, span) in rest {
                        let d = invalid(
                            *span,
                            format!(
                                "`{}` and `{}` cannot both happen to mail for `{}`",
                                self.dialect.spell(first),
                                self.dialect.spell(key),
                                subject.value
                            ),
                            "second outcome",
                            "keep one outcome per test; where hosts differ, write one test per host with `host`".to_string(),
                        )
                        .with(*first_span, "first outcome");
                        self.push(d);
                    }
                }
            }
        } else if dns.is_empty() && route.is_empty() {
            let d = invalid(
                subject.span,
                format!("the test of `{}` checks nothing", subject.value),
                "no DNS fact",
                format!(
                    "add one of `mx`, `{}`, `{}` or `{}`",
                    self.dialect.spell("spf_allows"),
                    self.dialect.spell("spf_denies"),
                    self.dialect.spell("dmarc_at_least")
                ),
            );
            self.push(d);
        }
    }

    /// `reject: false`, `bounce: false`: an expectation that says nothing.
    pub(super) fn said_nothing(&mut self, node: &Node, key: &str) {
        let key = self.dialect.spell(key);
        let (yes, no) = match self.dialect {
            Dialect::Yaml => (format!("{key}: true"), format!("{key}: false")),
            Dialect::Kdl => (format!("{key}=#true"), format!("{key}=#false")),
        };
        let d = Diagnostic::error(
            Code::Type,
            node.span,
            format!("`{no}` does not say what must happen"),
        )
        .label("expects nothing")
        .help(format!(
            "write `{yes}`, or the outcome that must happen instead (`deliver`, `forward`, `relay`, `reject`, `bounce`, `drop`, `remote`)"
        ));
        self.push(d);
    }
}

const TEST_KEYS: &[&str] = &[
    "address",
    "domain",
    "host",
    "deliver",
    "forward",
    "relay",
    "reject",
    "bounce",
    "drop",
    "remote",
    "mx",
    "spf_allows",
    "spf_denies",
    "dmarc_at_least",
];
