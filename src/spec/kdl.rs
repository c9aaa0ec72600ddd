//! The KDL 2.0 front end: mailc's own reader ([`parser`], over [`lexer`])
//! reads the [`document`], which is walked by hand into the same YAML-shaped
//! spanned [`Node`] tree that the YAML front end produces (the mapping is
//! described in docs/spec.md, "KDL"). `read` then types the tree, so unknown
//! keys, wrong value kinds and duplicates are reported there, once, for both
//! dialects.
//!
//! Tree shape decisions:
//! - Key names keep the KDL spelling (`private-key`, `send-only`); `read`
//!   maps `-` to `_`. Keys synthesized for YAML-only containers use the YAML
//!   names (`hosts`, `domains`, `mailboxes`, `aliases`, `records`, ...).
//! - Spans are byte spans of the KDL tokens. A string value's span includes
//!   its quotes (`"203.0.113.10"`, `#"raw"#`); a bare identifier's is the word
//!   itself. For a property the span is the value's token only (not `key=`),
//!   and the key's span is the property name. A synthesized map or list has
//!   the span of the node it came from (the first such node for lists and
//!   maps continued over several nodes: `mx`, `rua`, `dkim`, `record`,
//!   `host`, `domain`, `mailbox`, `alias`); a synthesized key has the span of
//!   the node's name.
//! - Repeated list nodes (`mx`, `nameservers`, `aliases`, `rua`, `ruf`,
//!   `include`, `ip4`, `ip6`) continue one list; a node that is a map with
//!   fixed fields (`spf`, `dmarc`, `defaults`, ...) given twice, or a property
//!   given twice, stays twice in the map for `read` to report.
//! - Type annotations (`(ip)"192.0.2.1"`) are ignored.
//! - Text borrows from the spec's source wherever it was written without
//!   escapes.

pub mod document;
mod lexer;
pub mod parser;
pub mod write;

use std::borrow::Cow;

use self::document as doc;
use self::parser::SyntaxError;
use super::tree;
use crate::diag::{Code, Diagnostic};
use crate::source::Span;

type Node<'a> = tree::Node<'a>;
type Key<'a> = tree::Key<'a>;
type Value<'a> = tree::Value<'a>;

/// Parses KDL 2.0 text into the spanned tree and the problems the walk
/// recovered from (the tree says what the spec means, so reading goes on),
/// or every diagnostic found when the tree would be short of the spec.
pub fn parse(text: &str) -> Result<(Node<'_>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let doc = parser::parse(text).map_err(|errors| {
        errors
            .iter()
            .map(|e| syntax_error(e, text))
            .collect::<Vec<_>>()
    })?;
    let mut b = Builder {
        diags: Vec::new(),
        dropped: false,
        within: Within::Top,
    };
    let mut root = MapB::default();
    for node in &doc.nodes {
        b.add_child(&mut root, node);
    }
    let span = doc
        .nodes
        .first()
        .map_or(Span::default(), |n| Span::new(n.span.start, 0));
    if !b.dropped {
        Ok((Node::new(span, Value::Map(root.entries)), b.diags))
    } else {
        Err(b.diags)
    }
}

/// One syntax error as a mailc diagnostic; KDL 1 spellings get their own code.
fn syntax_error(e: &SyntaxError, text: &str) -> Diagnostic {
    let span = clamp(text, e.span);
    let token = text.get(span.start..span.end()).unwrap_or("");
    if let Some(v1) = kdl_v1(token, span) {
        return v1;
    }
    let help = e.help.clone().unwrap_or_else(|| {
        "fix the KDL 2 syntax at this place; the rest of the spec is checked once it parses"
            .to_string()
    });
    Diagnostic::error(Code::Syntax, span, format!("invalid KDL: {}", e.message))
        .label(e.label)
        .help(help)
}

/// Recognizes a KDL 1 spelling in the token the KDL 2 parser stopped at.
fn kdl_v1(token: &str, span: Span) -> Option<Diagnostic> {
    let word = token.trim().trim_end_matches([';', '}', '{']).trim_end();
    let (what, help) = match word {
        "true" | "false" => (
            format!("bare `{word}`"),
            format!("KDL 2 writes booleans as `#true` / `#false`: write `#{word}`"),
        ),
        "null" => (
            "bare `null`".to_string(),
            "KDL 2 writes null as `#null`".to_string(),
        ),
        _ if word.starts_with("r\"") || word.starts_with("r#") => {
            let raw = &word[1..];
            let v2 = if raw.starts_with('#') {
                raw.to_string()
            } else {
                format!("#{raw}#")
            };
            (
                "raw string `r\"...\"`".to_string(),
                format!("KDL 2 writes raw strings as `#\"...\"#`: write `{v2}`"),
            )
        }
        _ if word.starts_with('"') && word.contains("\\/") => (
            "escape `\\/`".to_string(),
            "KDL 2 has no `\\/` escape: write `/`".to_string(),
        ),
        _ => return None,
    };
    Some(
        Diagnostic::error(
            Code::KdlV1,
            span,
            format!("KDL 1 syntax ({what}); mailc reads KDL 2"),
        )
        .label("KDL 1")
        .help(help),
    )
}

fn clamp(text: &str, span: Span) -> Span {
    let start = span.start.min(text.len());
    Span::new(start, span.len.min(text.len() - start))
}

/// A map under construction. `slots` remembers the entries this builder
/// synthesized for continued lists and maps, by (key, is-a-map), so that the
/// next `mx` or `mailbox` node continues them.
#[derive(Default)]
struct MapB<'a> {
    entries: Vec<(Key<'a>, Node<'a>)>,
    slots: Vec<(&'static str, bool, usize)>,
}

impl<'a> MapB<'a> {
    fn push(&mut self, key: Key<'a>, node: Node<'a>) {
        self.entries.push((key, node));
    }

    /// The entries of the synthesized list (`is_map` false) or map under `name`,
    /// created at `key_span` / `span` the first time.
    fn slot(
        &mut self,
        name: &'static str,
        is_map: bool,
        key_span: Span,
        span: Span,
    ) -> &mut Node<'a> {
        let index = match self
            .slots
            .iter()
            .find(|(n, m, _)| *n == name && *m == is_map)
        {
            Some(&(_, _, i)) => i,
            None => {
                let value = if is_map {
                    Value::Map(Vec::new())
                } else {
                    Value::Seq(Vec::new())
                };
                self.entries.push((
                    Key {
                        name: Cow::Borrowed(name),
                        span: key_span,
                    },
                    Node::new(span, value),
                ));
                self.slots.push((name, is_map, self.entries.len() - 1));
                self.entries.len() - 1
            }
        };
        &mut self.entries[index].1
    }

    fn seq(&mut self, name: &'static str, key_span: Span, span: Span) -> &mut Vec<Node<'a>> {
        match &mut self.slot(name, false, key_span, span).value {
            Value::Seq(items) => items,
            _ => unreachable!("a list slot holds a list"),
        }
    }

    fn map(
        &mut self,
        name: &'static str,
        key_span: Span,
        span: Span,
    ) -> &mut Vec<(Key<'a>, Node<'a>)> {
        match &mut self.slot(name, true, key_span, span).value {
            Value::Map(entries) => entries,
            _ => unreachable!("a map slot holds a map"),
        }
    }
}

/// Node names whose arguments are list items; repeated nodes continue one list.
#[rustfmt::skip]
const LIST_NODES: &[&str] = &[
    "nameservers",
    "aliases",
    "rua",
    "ruf",
    "include",
    "ip4",
    "ip6",
    "senders",
    "a",
    "ptr",
    "exists",
];

/// Node names that are maps with fixed fields: properties and children only.
const FIXED_MAPS: &[&str] = &[
    "defaults", "spf", "dmarc", "mta-sts", "tls-rpt", "dns", "vacation", "limits",
];

/// Every node name the mapping knows, for "did you mean" on a node no key fits.
#[rustfmt::skip]
const KNOWN_NODES: &[&str] = &[
    "version", "defaults", "host", "domain", "mx", "nameservers", "aliases", "alias",
    "mailbox", "dkim", "record", "spf", "dmarc", "mta-sts", "tls-rpt", "unknown-recipients",
    "routing", "rua", "ruf", "include", "ip4", "ip6", "ttl", "quota", "hostmaster", "srs",
    "zone", "mail", "password", "send-only", "disabled", "hostname", "ipv4", "ipv6", "stack", "algorithm",
    "private-key", "public-key", "sign", "policy", "subdomain-policy", "adkim", "aspf", "pct",
    "mode", "max-age", "all", "dns", "dns-target", "target", "owns", "type", "server",
    "tsig-key", "tsig-algorithm", "tsig-secret-file", "url", "server-id", "api-key-file",
    "tests", "address", "deliver", "forward", "relay", "reject", "bounce", "drop", "remote",
    "spf-allows", "spf-denies", "dmarc-at-least", "state", "outbound-relay", "host", "port",
    "tls", "username", "password-file", "senders", "rule", "vacation", "match", "if", "then",
    "subject", "text", "start", "end", "days", "addresses", "a", "ptr", "exists", "redirect",
    "limits", "messages-per-hour", "recipients-per-hour",
];

/// How a node is written, for the `help:` of a shape error.
fn example(name: &str) -> Option<&'static str> {
    Some(match name {
        "version" => "`version 1`",
        "defaults" => {
            "`defaults ttl=3600 quota=\"2G\" { nameservers ns1.example.net ns2.example.net }`"
        }
        "host" => "`host mx1 hostname=mx1.example.com ipv4=\"203.0.113.10\" stack=postfix-dovecot`",
        "domain" => "`domain example.com routing=auto { mx mx1 mx2 }`",
        "mailbox" => {
            "`mailbox alice password=\"{SHA512-CRYPT}$6$...\" quota=\"5G\" { aliases a.smith }`"
        }
        "alias" => "`alias sales alice bob partner@external.org` (or `alias spam drop=#true`)",
        "dkim" => "`dkim s2026 algorithm=ed25519 private-key=\"keys/example.com/s2026.key\"`",
        "record" => "`record www A \"203.0.113.20\" ttl=300` (name, type, value, then `ttl=`)",
        "mx" => {
            "`mx mx1 mx2`, or one node per host with a priority: `mx aspmx.l.google.com priority=1`"
        }
        "nameservers" => "`nameservers ns1.example.net ns2.example.net`",
        "aliases" => "`aliases a.smith postmaster`",
        "rua" => "`rua \"mailto:dmarc@example.com\"`",
        "ruf" => "`ruf \"mailto:dmarc-failures@example.com\"`",
        "include" => "`include _spf.google.com`",
        "ip4" => "`ip4 \"192.0.2.0/24\"`",
        "ip6" => "`ip6 \"2001:db8::/32\"`",
        "a" => "`a \"@\" mail.example.net`",
        "ptr" => "`ptr \"@\"`",
        "exists" => "`exists \"%{i}._spf.example.net\"`",
        "spf" => "`spf all=\"-all\" { include _spf.google.com; ip4 \"192.0.2.0/24\" }`",
        "dmarc" => "`dmarc policy=reject pct=100 { rua \"mailto:dmarc@example.com\" }`",
        "mta-sts" => "`mta-sts mode=enforce max-age=604800`",
        "tls-rpt" => "`tls-rpt { rua \"mailto:tlsrpt@example.com\" }`",
        "unknown-recipients" => {
            "`unknown-recipients reject` (or `bounce`, `drop`), `unknown-recipients forward=alice` \
             or `unknown-recipients relay=\"mx.example.net:25\"`"
        }
        "routing" => {
            "`routing mx1=local mx2=backup`, or one mode for every host as the domain's \
             property: `domain example.com routing=local`"
        }
        "dns" => "`dns target=primary owns=mail`",
        "limits" => "`limits messages-per-hour=200 recipients-per-hour=1000`",
        "rule" => {
            "`rule match=any { if { subject contains=\"[list]\"; header List-Id contains=lists }; \
             then { fileinto Lists; stop } }`"
        }
        "vacation" => {
            "`vacation subject=\"Away\" days=7 start=\"2026-12-20\" end=\"2027-01-03\" \
             { text \"Back in January.\"; addresses a.smith }`"
        }
        "dns-target" => {
            "`dns-target primary type=rfc2136 server=\"192.0.2.53\" tsig-key=mailc-key \
             tsig-secret-file=\"keys/mailc-key.secret\"`, or `dns-target pdns type=powerdns \
             url=\"http://127.0.0.1:8081\" api-key-file=\"keys/powerdns-api.key\"`"
        }
        "outbound-relay" => {
            "`outbound-relay provider host=smtp.provider.example port=587 tls=starttls \
             username=acct password-file=\"keys/provider.secret\" { senders example.com }`"
        }
        "senders" => "`senders example.com news@example.org`",
        "tests" => {
            "`tests { address info@example.com host=mx1 { deliver alice bob }; \
             domain example.com dmarc-at-least=quarantine { mx mx1 } }`"
        }
        _ => return None,
    })
}

fn help_for(name: &str) -> String {
    match example(name) {
        Some(e) => format!("write it as {e}"),
        None => "write one value as an argument (`name value`), a list as several \
                 arguments, a map as properties and child nodes"
            .to_string(),
    }
}

struct Builder {
    diags: Vec<Diagnostic>,
    /// Whether a problem left the tree short of what the spec says (a node
    /// was dropped): then `read` must not see it, or it would report what is
    /// missing as a second problem.
    dropped: bool,
    /// The named map whose children are being walked: a node means
    /// different things in a domain and in a mailbox (`aliases`).
    within: Within,
}

/// Where in the tree the builder is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Within {
    Top,
    Host,
    Domain,
    Mailbox,
    Other,
}

impl Builder {
    /// A synthesized key (`hosts`, `selector`, ...) at the node's name.
    fn name_key<'a>(&self, n: &doc::Node<'a>, name: &'static str) -> Key<'a> {
        Key {
            name: Cow::Borrowed(name),
            span: n.name.span,
        }
    }

    /// The node's own name as a key.
    fn node_key<'a>(&self, n: &doc::Node<'a>) -> Key<'a> {
        Key {
            name: n.name.value.clone(),
            span: n.name.span,
        }
    }

    /// The span of an entry's value token: for a property, without `key=`.
    fn value_span(&self, e: &doc::Entry<'_>) -> Span {
        match e.name {
            None => e.span,
            Some(_) => e.value_span,
        }
    }

    fn value<'a>(&self, e: &doc::Entry<'a>) -> Node<'a> {
        let value = match &e.value {
            doc::Value::String(s) => Value::Str(s.clone()),
            doc::Value::Integer(i) => Value::Int(*i),
            doc::Value::Float(f) => Value::Float(*f),
            doc::Value::Bool(b) => Value::Bool(*b),
            doc::Value::Null => Value::Null,
        };
        Node::new(self.value_span(e), value)
    }

    fn prop<'a>(&self, e: &doc::Entry<'a>) -> (Key<'a>, Node<'a>) {
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

    fn error(&mut self, code: Code, span: Span, message: String, label: &str, help: String) {
        self.dropped = true;
        self.diags.push(
            Diagnostic::error(code, span, message)
                .label(label)
                .help(help),
        );
    }

    /// A map of the node's properties, then its children by the child rules.
    fn map_of<'a>(&mut self, n: &doc::Node<'a>) -> MapB<'a> {
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
    fn extra_args(&mut self, n: &doc::Node<'_>, name: &str, allowed: usize, what: &str) {
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
    fn named_map<'a>(
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

    fn add_child<'a>(&mut self, m: &mut MapB<'a>, n: &doc::Node<'a>) {
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
    fn tests<'a>(&mut self, m: &mut MapB<'a>, n: &doc::Node<'a>) {
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
    fn rule<'a>(&mut self, m: &mut MapB<'a>, n: &doc::Node<'a>) {
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
    fn rule_condition<'a>(&mut self, n: &doc::Node<'a>) -> Node<'a> {
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
    fn rule_action<'a>(&mut self, n: &doc::Node<'a>) -> Node<'a> {
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
    fn alias_block<'a>(&mut self, m: &mut MapB<'a>, n: &doc::Node<'a>) {
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

    /// Reports properties and children on a node that takes only arguments.
    fn only_args(&mut self, n: &doc::Node<'_>, name: &str) {
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
    fn generic<'a>(&mut self, m: &mut MapB<'a>, n: &doc::Node<'a>, name: &str) {
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

fn args<'d, 'a>(n: &'d doc::Node<'a>) -> Vec<&'d doc::Entry<'a>> {
    n.args().collect()
}

/// An entry's value as text, for a help that shows it again.
fn entry_text(e: &doc::Entry<'_>) -> String {
    match &e.value {
        doc::Value::String(s) => s.to_string(),
        doc::Value::Integer(i) => i.to_string(),
        doc::Value::Float(f) => f.to_string(),
        doc::Value::Bool(b) => format!("#{b}"),
        doc::Value::Null => "#null".to_string(),
    }
}

fn props<'d, 'a>(n: &'d doc::Node<'a>) -> impl Iterator<Item = &'d doc::Entry<'a>> {
    n.props()
}

#[cfg(test)]
mod tests {
    use super::parser::MAX_DEPTH;
    use super::*;

    /// The complete example of docs/spec.md in KDL, hashes and keys shortened (parsing only).
    const SPEC_KDL: &str = r##"
version 1
defaults ttl=3600 quota="2G" hostmaster=hostmaster@example.com {
    nameservers ns1.dns-host.example ns2.dns-host.example
    unknown-recipients reject
    spf all="-all"
    dmarc policy=quarantine { rua "mailto:dmarc@example.com" }
}
host mx1 hostname=mx1.example.com ipv4="203.0.113.10" ipv6="2001:db8::10" stack=postfix-dovecot
host mx2 hostname=mx2.example.net ipv4="198.51.100.7" stack=embedded
domain example.com routing=auto {
    mx mx1 mx2
    spf all="-all" { include _spf.google.com; ip4 "192.0.2.0/24" }
    dkim s2026 algorithm=ed25519 private-key="keys/example.com/s2026.key"
    dkim s2025 private-key="keys/example.com/s2025.key" sign=#false
    dkim google public-key="MIIBIjANBgkqh..."
    dmarc policy=reject adkim=s aspf=r pct=100 { rua "mailto:dmarc@example.com" }
    mta-sts mode=enforce max-age=604800
    tls-rpt { rua "mailto:tlsrpt@example.com" }
    mailbox alice password="{SHA512-CRYPT}$6$..." quota="5G" {
        aliases a.smith postmaster
    }
    mailbox bob password="{ARGON2ID}$argon2id$v=19$..."
    mailbox noreply password="{BLF-CRYPT}$2y$05$..." send-only=#true
    alias sales alice bob partner@external.org
    alias info alice
    unknown-recipients forward=alice
    record www A "203.0.113.20"
    record "@" CAA "0 issue \"letsencrypt.org\""
}
domain example.org routing=remote {
    mx aspmx.l.google.com priority=1        // an external MX with a priority: one node each
    mx alt1.aspmx.l.google.com priority=5
    spf all="~all" { include _spf.google.com }
    dkim google public-key="MIIBIjANBgkqh..."
}
domain forward.example srs=#true {
    mx mx1
    alias hello someone@gmail.com
    unknown-recipients reject
}
"##;

    /// The complete example of docs/spec.md in YAML, hashes and keys shortened (parsing only).
    const SPEC_YAML: &str = r##"
version: 1

defaults:                      # inherited by every domain, overridable per domain
  ttl: 3600
  unknown_recipients: reject   # reject | bounce | drop | {forward: ADDRESS} | {relay: HOST[:PORT]}
  spf: {all: "-all"}
  dmarc: {policy: quarantine, rua: ["mailto:dmarc@example.com"]}
  quota: 2G                    # default mailbox quota; absent = unlimited
  nameservers: [ns1.dns-host.example, ns2.dns-host.example]   # NS of every zone we publish
  hostmaster: hostmaster@example.com                          # SOA RNAME

hosts:                         # the mail servers this spec configures
  mx1:
    hostname: mx1.example.com  # FQDN; HELO name; must be what the IP's PTR says
    ipv4: 203.0.113.10
    ipv6: "2001:db8::10"       # optional
    stack: postfix-dovecot     # postfix-dovecot | exim-dovecot | embedded
  mx2:
    hostname: mx2.example.net
    ipv4: 198.51.100.7
    stack: embedded

domains:
  example.com:
    routing: auto              # auto (default) | local | remote | backup | {HOST: MODE, ...}
    mx: [mx1, mx2]             # host keys or external FQDNs, or {host: ..., priority: N}
    spf:
      include: [_spf.google.com]
      ip4: [192.0.2.0/24]
      all: "-all"              # -all | ~all | ?all
    dkim:
      - selector: s2026
        algorithm: ed25519     # rsa-2048 (default) | rsa-3072 | rsa-4096 | ed25519
        private_key: keys/example.com/s2026.key   # path relative to the spec; made by `mailc dkim keygen`
      - selector: s2025        # rotating out: still published, no longer signing
        private_key: keys/example.com/s2025.key
        sign: false
      - selector: google       # signing done elsewhere: publish the given key only
        public_key: "MIIBIjANBgkqh..."
    dmarc: {policy: reject, rua: ["mailto:dmarc@example.com"], adkim: s, aspf: r, pct: 100}
    mta_sts: {mode: enforce, max_age: 604800}
    tls_rpt: {rua: ["mailto:tlsrpt@example.com"]}
    mailboxes:
      alice:
        password: "{SHA512-CRYPT}$6$..."   # a hash only; plaintext is an error (see `mailc passwd`)
        quota: 5G
        aliases: [a.smith, postmaster]
      bob:
        password: "{ARGON2ID}$argon2id$v=19$..."
      noreply:
        password: "{BLF-CRYPT}$2y$05$..."
        send_only: true                    # may send, receives nothing (mail to it is refused)
    aliases:
      sales: [alice, bob, partner@external.org]   # local parts or full addresses
      info: alice
    unknown_recipients: {forward: alice}          # catch-all
    records:                                      # any other DNS records of the zone
      - {name: www, type: A, value: 203.0.113.20}
      - {name: "@", type: CAA, value: '0 issue "letsencrypt.org"'}

  example.org:                  # mail hosted elsewhere (Google Workspace); DNS stays here
    routing: remote
    mx:
      - {host: aspmx.l.google.com, priority: 1}
      - {host: alt1.aspmx.l.google.com, priority: 5}
    spf: {include: [_spf.google.com], all: "~all"}
    dkim: [{selector: google, public_key: "MIIBIjANBgkqh..."}]

  forward.example:              # forwarding only, like a mail-routing service
    mx: [mx1]
    srs: true                   # rewrite envelope senders so forwarded mail keeps passing SPF
    aliases:
      hello: someone@gmail.com
    unknown_recipients: reject
"##;

    /// A tree without spans, with `-` in keys as `_`, map entries sorted by
    /// key (lists keep their order), and a single alias target as a list.
    #[derive(Debug, PartialEq)]
    enum Plain {
        Null,
        Bool(bool),
        Int(i128),
        Float(f64),
        Str(String),
        Seq(Vec<Plain>),
        Map(Vec<(String, Plain)>),
    }

    fn plain(node: &Node) -> Plain {
        match &node.value {
            Value::Null => Plain::Null,
            Value::Bool(b) => Plain::Bool(*b),
            Value::Int(i) => Plain::Int(*i),
            Value::Float(f) => Plain::Float(*f),
            Value::Str(s) => Plain::Str(s.to_string()),
            Value::Seq(items) => Plain::Seq(items.iter().map(plain).collect()),
            Value::Map(entries) => {
                let mut out: Vec<(String, Plain)> = entries
                    .iter()
                    .map(|(k, v)| {
                        let name = k.name.replace('-', "_");
                        let value = match &v.value {
                            Value::Map(aliases) if name == "aliases" => alias_map(aliases),
                            _ => plain(v),
                        };
                        (name, value)
                    })
                    .collect();
                out.sort_by(|a, b| a.0.cmp(&b.0));
                Plain::Map(out)
            }
        }
    }

    /// The domain's alias map: `info: alice` means `info: [alice]`.
    fn alias_map(entries: &[(Key, Node)]) -> Plain {
        let mut out: Vec<(String, Plain)> = entries
            .iter()
            .map(|(k, v)| {
                let value = match &v.value {
                    Value::Str(s) => Plain::Seq(vec![Plain::Str(s.to_string())]),
                    _ => plain(v),
                };
                (k.name.to_string(), value)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Plain::Map(out)
    }

    fn text_at(src: &str, span: Span) -> &str {
        &src[span.start..span.end()]
    }

    fn get<'a, 't>(node: &'a Node<'t>, path: &[&str]) -> &'a Node<'t> {
        let mut node = node;
        for step in path {
            node = match &node.value {
                Value::Map(entries) => {
                    &entries
                        .iter()
                        .find(|(k, _)| k.name == *step)
                        .unwrap_or_else(|| panic!("no {step}"))
                        .1
                }
                Value::Seq(items) => &items[step.parse::<usize>().expect("an index")],
                _ => panic!("{step}: not a container"),
            };
        }
        node
    }

    fn key<'a, 't>(node: &'a Node<'t>, name: &str) -> &'a Key<'t> {
        let Value::Map(entries) = &node.value else {
            panic!("not a map")
        };
        &entries
            .iter()
            .find(|(k, _)| k.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .0
    }

    #[test]
    fn spec_example_matches_the_yaml_one() {
        let kdl = parse(SPEC_KDL).unwrap_or_else(|d| panic!("{d:#?}")).0;
        let yaml = crate::spec::yaml::parse(SPEC_YAML).unwrap_or_else(|d| panic!("{d:#?}"));
        let (kdl, yaml) = (plain(&kdl), plain(&yaml));
        let Plain::Map(root) = &kdl else {
            panic!("root is not a map")
        };
        assert_eq!(root.len(), 4);
        assert_eq!(kdl, yaml);
        if std::env::var_os("MAILC_SHOW_TREE").is_some() {
            eprintln!("{kdl:#?}");
        }
    }

    #[test]
    fn shapes_of_the_spec_example() {
        let t = parse(SPEC_KDL).unwrap().0;
        let Value::Map(root) = &t.value else {
            panic!("root is not a map")
        };
        let names: Vec<&str> = root.iter().map(|(k, _)| &*k.name).collect();
        assert_eq!(names, ["version", "defaults", "hosts", "domains"]);
        assert_eq!(get(&t, &["version"]).value, Value::Int(1));
        let mx = get(&t, &["domains", "example.org", "mx"]);
        let Value::Seq(items) = &mx.value else {
            panic!("mx is not a list")
        };
        assert_eq!(items.len(), 2);
        assert_eq!(
            get(mx, &["1", "host"]).value,
            Value::Str("alt1.aspmx.l.google.com".into())
        );
        assert_eq!(get(mx, &["1", "priority"]).value, Value::Int(5));
        let sales = get(&t, &["domains", "example.com", "aliases", "sales"]);
        let Value::Seq(targets) = &sales.value else {
            panic!("alias is not a list")
        };
        assert_eq!(targets.len(), 3);
        let info = get(&t, &["domains", "example.com", "aliases", "info"]);
        assert_eq!(
            info.value,
            Value::Seq(vec![Node::new(info_span(&t), Value::Str("alice".into()))])
        );
        assert_eq!(
            get(
                &t,
                &[
                    "domains",
                    "example.com",
                    "mailboxes",
                    "noreply",
                    "send-only"
                ]
            )
            .value,
            Value::Bool(true)
        );
        assert_eq!(
            get(&t, &["domains", "example.com", "dkim", "1", "sign"]).value,
            Value::Bool(false)
        );
        assert_eq!(
            get(&t, &["domains", "example.com", "records", "1", "value"]).value,
            Value::Str("0 issue \"letsencrypt.org\"".into())
        );
        assert_eq!(
            get(&t, &["domains", "forward.example", "unknown-recipients"]).value,
            Value::Str("reject".into())
        );
        assert_eq!(
            get(
                &t,
                &["domains", "example.com", "unknown-recipients", "forward"]
            )
            .value,
            Value::Str("alice".into())
        );
    }

    fn info_span(t: &Node) -> Span {
        get(t, &["domains", "example.com", "aliases", "info", "0"]).span
    }

    #[test]
    fn spans_are_the_tokens() {
        let src = SPEC_KDL;
        let t = parse(src).unwrap().0;
        // A quoted string's span includes its quotes; a property's value span
        // leaves out `key=`; a bare identifier is the word itself.
        let ipv4 = get(&t, &["hosts", "mx1", "ipv4"]);
        assert_eq!(text_at(src, ipv4.span), "\"203.0.113.10\"");
        assert_eq!(
            text_at(src, key(get(&t, &["hosts", "mx1"]), "ipv4").span),
            "ipv4"
        );
        assert_eq!(
            text_at(src, get(&t, &["hosts", "mx1", "stack"]).span),
            "postfix-dovecot"
        );
        assert_eq!(text_at(src, get(&t, &["defaults", "ttl"]).span), "3600");
        assert_eq!(
            text_at(src, get(&t, &["domains", "example.com", "mx", "1"]).span),
            "mx2"
        );
        assert_eq!(text_at(src, key(&t, "hosts").span), "host");
        assert_eq!(text_at(src, key(get(&t, &["hosts"]), "mx2").span), "mx2");
        let domain = get(&t, &["domains", "example.org"]);
        assert!(text_at(src, domain.span).starts_with("domain example.org routing=remote {"));
        assert!(text_at(src, domain.span).ends_with('}'));
        // No trailing comment in a node's span.
        let mx0 = get(domain, &["mx", "0"]);
        assert_eq!(text_at(src, mx0.span), "mx aspmx.l.google.com priority=1");
        assert_eq!(text_at(src, get(mx0, &["host"]).span), "aspmx.l.google.com");
        let rec = get(&t, &["domains", "example.com", "records", "1"]);
        assert_eq!(text_at(src, get(rec, &["name"]).span), "\"@\"");
        assert_eq!(text_at(src, key(rec, "type").span), "record");
        let dkim = get(&t, &["domains", "example.com", "dkim", "0"]);
        assert_eq!(text_at(src, get(dkim, &["selector"]).span), "s2026");
        assert_eq!(text_at(src, key(dkim, "private-key").span), "private-key");
        let send_only = get(
            &t,
            &[
                "domains",
                "example.com",
                "mailboxes",
                "noreply",
                "send-only",
            ],
        );
        assert_eq!(text_at(src, send_only.span), "#true");
        let alias = key(get(&t, &["domains", "example.com", "aliases"]), "sales");
        assert_eq!(text_at(src, alias.span), "sales");
    }

    #[test]
    fn non_ascii_spans_are_byte_spans() {
        let src = "domain \"exämple.com\" { mailbox \"jürgen\" password=\"{X}é\" }";
        let t = parse(src).unwrap().0;
        let mbox = get(&t, &["domains", "exämple.com", "mailboxes"]);
        assert_eq!(text_at(src, key(mbox, "jürgen").span), "\"jürgen\"");
        assert_eq!(
            text_at(src, get(mbox, &["jürgen", "password"]).span),
            "\"{X}é\""
        );
    }

    #[test]
    fn lists_continue_and_mx_alone_is_null_mx() {
        let src = "domain a.example {\n    mx\n}\ndomain b.example {\n    mx x1\n    mx x2 x3\n    mx x4 priority=40\n}\n";
        let t = parse(src).unwrap().0;
        assert_eq!(
            get(&t, &["domains", "a.example", "mx"]).value,
            Value::Seq(vec![])
        );
        let Value::Seq(items) = &get(&t, &["domains", "b.example", "mx"]).value else {
            panic!()
        };
        assert_eq!(items.len(), 4);
        assert_eq!(
            get(&t, &["domains", "b.example", "mx", "3", "priority"]).value,
            Value::Int(40)
        );
        let src = "defaults { dmarc { rua a; rua b c; ruf d } }";
        let t = parse(src).unwrap().0;
        let Value::Seq(rua) = &get(&t, &["defaults", "dmarc", "rua"]).value else {
            panic!()
        };
        assert_eq!(rua.len(), 3);
        let Value::Seq(ruf) = &get(&t, &["defaults", "dmarc", "ruf"]).value else {
            panic!()
        };
        assert_eq!(ruf.len(), 1);
    }

    #[test]
    fn duplicates_stay_for_read_to_report() {
        let src = "host mx1 ipv4=\"1\" ipv4=\"2\"\nhost mx1\ndefaults { spf all=\"-all\"; spf all=\"~all\" }";
        let t = parse(src).unwrap().0;
        let Value::Map(hosts) = &get(&t, &["hosts"]).value else {
            panic!()
        };
        assert_eq!(hosts.len(), 2);
        let Value::Map(mx1) = &hosts[0].1.value else {
            panic!()
        };
        assert_eq!(mx1.len(), 2);
        let Value::Map(defaults) = &get(&t, &["defaults"]).value else {
            panic!()
        };
        assert_eq!(defaults.len(), 2);
    }

    #[test]
    fn unknown_nodes_stay_in_the_tree() {
        let src = "domain x.example { mx; mailboxs 1; frobnicate a b; widget size=3 }\nextra #null";
        let t = parse(src).unwrap().0;
        assert_eq!(
            get(&t, &["domains", "x.example", "mailboxs"]).value,
            Value::Int(1)
        );
        let Value::Seq(items) = &get(&t, &["domains", "x.example", "frobnicate"]).value else {
            panic!()
        };
        assert_eq!(items.len(), 2);
        assert_eq!(
            get(&t, &["domains", "x.example", "widget", "size"]).value,
            Value::Int(3)
        );
        assert_eq!(get(&t, &["extra"]).value, Value::Null);
    }

    #[test]
    fn routing_and_unknown_recipients() {
        let src = "domain x.example routing=auto { routing mx1=local mx2=backup; unknown-recipients relay=\"mx.example.net:2525\" }";
        let t = parse(src).unwrap().0;
        let Value::Map(domain) = &get(&t, &["domains", "x.example"]).value else {
            panic!()
        };
        assert_eq!(domain[0].1.value, Value::Str("auto".into()));
        assert_eq!(domain[1].0.name, "routing");
        assert_eq!(
            get(&domain[1].1, &["mx2"]).value,
            Value::Str("backup".into())
        );
        assert_eq!(
            get(&t, &["domains", "x.example", "unknown-recipients", "relay"]).value,
            Value::Str("mx.example.net:2525".into())
        );
    }

    fn errors(src: &str) -> Vec<Diagnostic> {
        match parse(src) {
            Ok((t, d)) if d.is_empty() => panic!("parsed: {t:#?}"),
            Ok((_, d)) | Err(d) => d,
        }
    }

    #[test]
    fn kdl_v1_is_refused_with_the_kdl2_spelling() {
        let d =
            errors("domain x.example {\n    mailbox noreply password=\"{X}y\" send-only=true\n}\n");
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!(d[0].code, Code::KdlV1);
        assert!(
            d[0].help.as_deref().unwrap().contains("#true"),
            "{:?}",
            d[0].help
        );
        assert_eq!(
            text_at(
                "domain x.example {\n    mailbox noreply password=\"{X}y\" send-only=true\n}\n",
                d[0].span()
            ),
            "true"
        );
        let d = errors("defaults ttl=null");
        assert_eq!(d[0].code, Code::KdlV1);
        assert!(d[0].help.as_deref().unwrap().contains("#null"));
        let d = errors("record www TXT r\"a\\b\"");
        assert_eq!(d[0].code, Code::KdlV1);
        assert!(
            d[0].help.as_deref().unwrap().contains("#\"a\\b\"#"),
            "{:?}",
            d[0].help
        );
        let d = errors("record www TXT r#\"a\"b\"#");
        assert_eq!(d[0].code, Code::KdlV1);
        assert!(
            d[0].help.as_deref().unwrap().contains("`#\"a\"b\"#`"),
            "{:?}",
            d[0].help
        );
    }

    #[test]
    fn syntax_errors_are_converted() {
        let d = errors("domain x.example {\n  mx mx1\n");
        assert!(d.iter().all(|d| d.code == Code::Syntax), "{d:#?}");
        assert!(
            d[0].message.starts_with("invalid KDL: "),
            "{}",
            d[0].message
        );
        assert!(d[0].help.is_some());
        let d = errors(&"a {".repeat(100));
        assert_eq!(d[0].code, Code::Syntax);
        // The deepest nesting allowed parses on a test thread's small stack.
        let deep = "n {".repeat(MAX_DEPTH) + &"}".repeat(MAX_DEPTH);
        assert!(parse(&deep).is_ok());
        // Braces in strings and comments neither hide nor add nesting.
        let hidden = "a \"}}\" #\"}\"}\"# /* } /* } */ } */ {\n".repeat(MAX_DEPTH + 1);
        assert_eq!(
            errors(&hidden)[0].message,
            errors(&"a {".repeat(100))[0].message
        );
        let in_strings = "n \"{{{{\" #\"\"\"\n{{{{{{{{\n\"\"\"# // {{{{\n".repeat(MAX_DEPTH);
        assert!(parse(&in_strings).is_ok());
    }

    #[test]
    fn shape_errors_show_the_kdl_spelling() {
        let cases: &[(&str, Code, &str)] = &[
            (
                "host hostname=mx1.example.com",
                Code::MissingKey,
                "host mx1",
            ),
            (
                "domain x.example { record www A }",
                Code::MissingKey,
                "record www A",
            ),
            (
                "domain x.example { mailbox alice bob password=\"{X}y\" }",
                Code::Type,
                "mailbox alice",
            ),
            (
                "domain x.example { spf \"v=spf1 -all\" }",
                Code::Type,
                "spf all=",
            ),
            ("defaults 3600", Code::Type, "defaults ttl="),
            (
                "domain x.example { mx a b priority=1 }",
                Code::Type,
                "priority=1",
            ),
            (
                "domain x.example { include x=1 }",
                Code::Type,
                "include _spf",
            ),
            (
                "domain x.example { unknown-recipients }",
                Code::Type,
                "forward=",
            ),
            (
                "domain x.example { alias }",
                Code::MissingKey,
                "alias sales",
            ),
            (
                "domain x.example { dkim algorithm=ed25519 }",
                Code::MissingKey,
                "dkim s2026",
            ),
            ("version", Code::Type, "version 1"),
            (
                "domain x.example { mailbx alice password=\"x\" }",
                Code::UnknownKey,
                "did you mean `mailbox`",
            ),
            (
                "domain x.example { routing auto mx1=local }",
                Code::Type,
                "routing mx1=local",
            ),
        ];
        for (src, code, help) in cases {
            let d = errors(src);
            assert_eq!(d.len(), 1, "{src}: {d:#?}");
            assert_eq!(d[0].code, *code, "{src}: {d:#?}");
            assert!(
                d[0].help.as_deref().unwrap_or("").contains(help),
                "{src}: {:?}",
                d[0].help
            );
            let span = d[0].span();
            assert!(span.end() <= src.len() && span.len > 0, "{src}: {span:?}");
        }
        // Every shape error is reported, not only the first.
        let d = errors("host\nhost\ndomain x.example { record a }");
        assert_eq!(d.len(), 3, "{d:#?}");
    }

    #[test]
    fn garbage_never_panics() {
        let inputs = [
            "",
            " ",
            "\n",
            "{",
            "}",
            "{{}}",
            "a {",
            "a }",
            "a=1",
            "=",
            "\"",
            "#",
            "#\"",
            "r#\"",
            "/-",
            "/*",
            "*/",
            "//",
            "(",
            "()",
            "(t)a (u)1",
            "a (t)",
            "a #inf #-inf #nan",
            "a 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
            "a 1e999",
            "a \"\\u{0}\"",
            "a \"\\u{110000}\"",
            "\u{feff}a 1",
            "a \"\"\"\n x\n \"\"\"",
            "a #\"\"\"\n x\n \"\"\"#",
            "\0",
            "a\0b",
            "mx priority=1",
            "alias",
            "alias 1 2",
            "host 1",
            "domain #null",
            "record 1 2 3 4",
            "dkim #true",
            "mailbox",
            "unknown-recipients a b",
            "version 1 2",
            "mx { a }",
        ];
        for src in inputs {
            let _ = parse(src);
        }
        for (i, _) in SPEC_KDL.char_indices() {
            let _ = parse(&SPEC_KDL[..i]);
            if i % 5 == 0 {
                let _ = parse(&SPEC_KDL[i..]);
            }
        }
    }
}
