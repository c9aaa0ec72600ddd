//! Typing the spanned tree into a [`Spec`]: known keys, value kinds, choices.
//!
//! Every problem is reported and reading carries on: a wrong value becomes
//! `None` (a placeholder later checks skip), so one mistake gives one
//! diagnostic, never a cascade.

use super::tree::{Key, Node, Value};
use super::*;
use crate::diag::{Code, Diagnostic, Diagnostics, suggest};
use crate::limits;
use crate::source::{Dialect, Span};

/// Reads the whole document.
pub fn read(tree: &Node, dialect: Dialect, diags: &mut Diagnostics) -> Spec {
    let mut r = Reader { dialect, diags };
    r.spec(tree)
}

/// Reads a file the spec includes: its `domains`, and a report for each
/// other key (those belong in the main spec).
pub fn read_included(tree: &Node, dialect: Dialect, diags: &mut Diagnostics) -> Entries<Domain> {
    let mut r = Reader { dialect, diags };
    let entries = match &tree.value {
        Value::Map(entries) => entries,
        Value::Null => return Entries::default(),
        _ => {
            r.type_error(tree, "a map", "an included file");
            return Entries::default();
        }
    };
    let mut domains = Entries::default();
    for (k, v) in entries {
        let name = r.key_name(k).into_owned();
        if name == "domains" {
            domains.0.extend(r.domains(v).0);
            continue;
        }
        let shown = dialect.spell(&name);
        let d = match name.as_str() {
            "include" => Diagnostic::error(
                Code::Include,
                k.span,
                "an included file cannot include others".to_string(),
            )
            .label("include in an included file")
            .help("list these paths in the `include` of the main spec, beside this file's own"),
            _ => Diagnostic::error(
                Code::Include,
                k.span,
                format!("`{shown}` cannot be set in an included file"),
            )
            .label("only `domains` here")
            .help(format!(
                "an included file holds `domains` only; move `{shown}` to the main spec"
            )),
        };
        r.push(d);
    }
    domains
}

struct Reader<'d> {
    dialect: Dialect,
    diags: &'d mut Diagnostics,
}

/// The entries of one map being read, tracking which keys were consumed.
struct Fields<'n> {
    entries: &'n [(Key<'n>, Node<'n>)],
    used: Vec<bool>,
    /// Required keys found absent, with their report: sent by `finish`
    /// unless an unknown key of the map is a misspelling of the key.
    missing: Vec<(&'static str, Diagnostic)>,
}

impl<'d> Reader<'d> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// The key in YAML spelling; borrowed unless KDL's `-` must become `_`
    /// (`take` asks this of every key it passes).
    fn key_name<'k>(&self, key: &'k Key<'_>) -> std::borrow::Cow<'k, str> {
        match self.dialect {
            Dialect::Kdl if key.name.contains('-') => key.name.replace('-', "_").into(),
            Dialect::Yaml | Dialect::Kdl => std::borrow::Cow::Borrowed(&*key.name),
        }
    }

    fn type_error(&mut self, node: &Node, expected: &str, what: &str) {
        let d = Diagnostic::error(
            Code::Type,
            node.span,
            format!("{what} must be {expected}, found {}", node.kind()),
        )
        .label(format!("expected {expected}"))
        .help(format!("write {what} as {expected}"));
        self.push(d);
    }

    fn fields<'n>(&mut self, node: &'n Node<'n>, what: &str) -> Option<Fields<'n>> {
        match &node.value {
            Value::Map(entries) => Some(Fields {
                entries,
                used: vec![false; entries.len()],
                missing: Vec::new(),
            }),
            Value::Null => Some(Fields {
                entries: &[],
                used: Vec::new(),
                missing: Vec::new(),
            }),
            _ => {
                self.type_error(node, "a map", what);
                None
            }
        }
    }

    /// Takes key `name` (YAML spelling); a second occurrence is an error.
    fn take<'n>(&mut self, f: &mut Fields<'n>, name: &str) -> Option<&'n Node<'n>> {
        let mut found: Option<(usize, &'n Key)> = None;
        for (i, (key, _)) in f.entries.iter().enumerate() {
            if f.used[i] || self.key_name(key) != name {
                continue;
            }
            f.used[i] = true;
            match found {
                None => found = Some((i, key)),
                Some((_, first)) => {
                    let shown = self.dialect.spell(name);
                    let d = Diagnostic::error(
                        Code::DuplicateKey,
                        key.span,
                        format!("`{shown}` is given twice"),
                    )
                    .label("second time")
                    .with(first.span, "first time")
                    .help(format!("keep one `{shown}`; its values are not merged"));
                    self.push(d);
                }
            }
        }
        found.map(|(i, _)| &f.entries[i].1)
    }

    /// Reports the keys nobody took, and the required keys found absent —
    /// unless a key nobody took is a misspelling of one (that key's report
    /// says so: one typo, one error). Returns the known keys that unknown
    /// keys misspell: checks that depend on them stay quiet.
    fn finish(&mut self, f: Fields<'_>, known: &[&'static str], what: &str) -> Vec<&'static str> {
        let mut misspelt = Vec::new();
        let unknown: Vec<&Key> = f
            .entries
            .iter()
            .enumerate()
            .filter(|(i, _)| !f.used[*i])
            .map(|(_, (k, _))| k)
            .collect();
        for (name, d) in f.missing {
            if !unknown
                .iter()
                .any(|k| suggest(&self.key_name(k), [name]).is_some())
            {
                self.push(d);
            }
        }
        for key in unknown {
            let name = self.key_name(key);
            let spelled: Vec<String> = known.iter().map(|k| self.dialect.spell(k)).collect();
            let mut d = Diagnostic::error(
                Code::UnknownKey,
                key.span,
                format!("unknown key `{}` in {what}", key.name),
            )
            .label("not a key of the spec language");
            d = match suggest(&name, known.iter().copied()) {
                Some(s) => {
                    misspelt.push(s);
                    d.help(format!("did you mean `{}`?", self.dialect.spell(s)))
                }
                None => d.help(format!("the keys of {what} are: {}", quote_list(&spelled))),
            };
            self.push(d);
        }
        misspelt
    }

    /// Takes a required key; when it is absent, the report waits for
    /// `finish` (see there).
    fn required<'n>(
        &mut self,
        f: &mut Fields<'n>,
        name: &'static str,
        span: Span,
        what: &str,
        example: (&str, &str),
    ) -> Option<&'n Node<'n>> {
        let found = self.take(f, name);
        if found.is_none() {
            let d = self.missing_key(span, name, what, example);
            f.missing.push((name, d));
        }
        found
    }

    /// Reports a required key that is absent; `example` shows the fix in
    /// YAML and in KDL (where scalar fields are properties and list keys
    /// are nodes or arguments).
    fn missing(&mut self, span: Span, key: &str, what: &str, example: (&str, &str)) {
        let d = self.missing_key(span, key, what, example);
        self.push(d);
    }

    /// The report of an absent required key.
    fn missing_key(&self, span: Span, key: &str, what: &str, example: (&str, &str)) -> Diagnostic {
        let key = self.dialect.spell(key);
        let example = match self.dialect {
            Dialect::Yaml => example.0,
            Dialect::Kdl => example.1,
        };
        Diagnostic::error(Code::MissingKey, span, format!("{what} has no `{key}`"))
            .label(format!("`{key}` is required here"))
            .help(if example.contains('`') {
                example.to_string()
            } else {
                format!("add `{example}`")
            })
    }

    fn check_text(&mut self, s: &str, span: Span) -> bool {
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

    fn string(&mut self, node: &Node, what: &str) -> Option<Sp<String>> {
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

    fn key(&mut self, key: &Key) -> Option<Sp<String>> {
        self.check_text(&key.name, key.span)
            .then(|| Sp::new(key.name.to_string(), key.span))
    }

    fn int<T: TryFrom<i128>>(&mut self, node: &Node, what: &str, range: &str) -> Option<Sp<T>> {
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

    fn bool(&mut self, node: &Node, what: &str) -> Option<Sp<bool>> {
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

    fn choice<T: Copy>(&mut self, node: &Node, what: &str, options: &[(&str, T)]) -> Option<Sp<T>> {
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
    fn strings(&mut self, node: &Node, what: &str) -> Option<Vec<Sp<String>>> {
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
    fn items<'n>(&mut self, node: &'n Node<'n>) -> &'n [Node<'n>] {
        match &node.value {
            Value::Seq(items) => items,
            Value::Null => &[],
            _ => std::slice::from_ref(node),
        }
    }

    fn entries<T>(
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

    // ---- the spec's own shapes ----

    fn spec(&mut self, node: &Node) -> Spec {
        let mut spec = Spec::default();
        let Some(mut f) = self.fields(node, "the spec") else {
            return spec;
        };
        match self.take(&mut f, "version") {
            Some(n) => spec.version = self.int(n, "`version`", "1"),
            None => {
                let d = self.missing_key(
                    node.span,
                    "version",
                    "the spec",
                    ("version: 1", "version 1"),
                );
                f.missing.push(("version", d));
            }
        }
        if let Some(n) = self.take(&mut f, "include") {
            spec.include = self.strings(n, "an included path").unwrap_or_default();
        }
        if let Some(n) = self.take(&mut f, "defaults") {
            spec.defaults = self.defaults(n);
        }
        match self.take(&mut f, "hosts") {
            Some(n) => {
                spec.hosts = self.entries(n, "`hosts`", |r, k, v| Some(r.host(k, v)));
                if !complete(n, &spec.hosts) {
                    spec.broken.push("hosts");
                }
            }
            None => {
                let d = self.missing_key(
                    node.span,
                    "hosts",
                    "the spec",
                    (
                        "hosts: {}",
                        "add a `host` node, like `host mx1 hostname=\"mx1.example.com\" ipv4=\"203.0.113.10\" stack=postfix-dovecot`, or an empty `hosts` node",
                    ),
                );
                f.missing.push(("hosts", d));
                spec.hosts = Some(Entries::default());
            }
        }
        if let Some(n) = self.take(&mut f, "domains") {
            spec.domains = self.domains(n);
        }
        if let Some(n) = self.take(&mut f, "dns_targets") {
            spec.dns_targets = self
                .entries(n, "`dns_targets`", |r, k, v| Some(r.dns_target(k, v)))
                .unwrap_or_default();
        }
        if let Some(n) = self.take(&mut f, "outbound_relays") {
            spec.outbound_relays = self
                .entries(n, "`outbound_relays`", |r, k, v| {
                    Some(r.outbound_relay(k, v))
                })
                .unwrap_or_default();
        }
        if let Some(n) = self.take(&mut f, "tests") {
            spec.tests = self.items(n).iter().filter_map(|n| self.test(n)).collect();
        }
        let misspelt = self.finish(
            f,
            &[
                "version",
                "include",
                "defaults",
                "hosts",
                "domains",
                "dns_targets",
                "outbound_relays",
                "tests",
            ],
            "the spec",
        );
        spec.broken.extend(misspelt);
        spec
    }

    /// The domains, read on every core (a hosting spec has thousands; each
    /// is read on its own). Diagnostics are merged, and sorted later.
    fn domains(&mut self, node: &Node) -> Entries<Domain> {
        let Value::Map(entries) = &node.value else {
            return self
                .entries(node, "`domains`", |r, k, v| Some(r.domain(k, v)))
                .unwrap_or_default();
        };
        let dialect = self.dialect;
        let parts = crate::par::map_chunks(entries, 256, |part| {
            let mut found = Diagnostics::new();
            let mut r = Reader {
                dialect,
                diags: &mut found,
            };
            let read: Vec<(Sp<String>, Domain)> = part
                .iter()
                .filter_map(|(k, v)| {
                    let key = r.key(k)?;
                    let domain = r.domain(&key, v);
                    Some((key, domain))
                })
                .collect();
            (read, found)
        });
        let mut all = Vec::with_capacity(entries.len());
        for (read, found) in parts {
            all.extend(read);
            self.diags.append(found);
        }
        Entries(all)
    }

    fn defaults(&mut self, node: &Node) -> Option<Defaults> {
        let mut f = self.fields(node, "`defaults`")?;
        let mut d = Defaults::default();
        self.inherited(&mut f, &mut d);
        d.broken = self.finish(f, DEFAULTS_KEYS, "`defaults`");
        Some(d)
    }

    /// The keys `defaults` and a domain share.
    fn inherited(&mut self, f: &mut Fields<'_>, d: &mut Defaults) {
        if let Some(n) = self.take(f, "ttl") {
            d.ttl = self.int(n, "`ttl`", "0..=2147483647");
        }
        if let Some(n) = self.take(f, "unknown_recipients") {
            d.unknown_recipients = self.unknown_recipients(n);
        }
        if let Some(n) = self.take(f, "spf") {
            d.spf = self.spf(n);
        }
        if let Some(n) = self.take(f, "dmarc") {
            d.dmarc = self.dmarc(n);
        }
        if let Some(n) = self.take(f, "mta_sts") {
            d.mta_sts = self.mta_sts(n);
        }
        if let Some(n) = self.take(f, "tls_rpt") {
            d.tls_rpt = self.tls_rpt(n);
        }
        if let Some(n) = self.take(f, "quota") {
            d.quota = self.string(n, "`quota`");
        }
        if let Some(n) = self.take(f, "nameservers") {
            d.nameservers = self.strings(n, "a nameserver");
        }
        if let Some(n) = self.take(f, "hostmaster") {
            d.hostmaster = self.string(n, "`hostmaster`");
        }
        if let Some(n) = self.take(f, "srs") {
            d.srs = self.bool(n, "`srs`");
        }
        if let Some(n) = self.take(f, "dns") {
            d.dns = self.dns_push(n);
        }
        if let Some(n) = self.take(f, "limits") {
            d.limits = self.send_limits(n);
        }
    }

    fn send_limits(&mut self, node: &Node) -> Option<SendLimits> {
        let mut f = self.fields(node, "`limits`")?;
        let mut l = SendLimits {
            span: node.span,
            ..SendLimits::default()
        };
        if let Some(n) = self.take(&mut f, "messages_per_hour") {
            l.messages_per_hour = self.int(n, "`messages_per_hour`", "1..=4294967295");
        }
        if let Some(n) = self.take(&mut f, "recipients_per_hour") {
            l.recipients_per_hour = self.int(n, "`recipients_per_hour`", "1..=4294967295");
        }
        self.finish(f, LIMITS_KEYS, "`limits`");
        Some(l)
    }

    fn dns_push(&mut self, node: &Node) -> Option<DnsPush> {
        let mut f = self.fields(node, "`dns`")?;
        let mut d = DnsPush {
            span: node.span,
            ..DnsPush::default()
        };
        if let Some(n) = self.take(&mut f, "target") {
            d.target = self.string(n, "a DNS target's name");
        }
        if let Some(n) = self.take(&mut f, "owns") {
            d.owns = self.choice(n, "`owns`", &[("mail", Owns::Mail), ("zone", Owns::Zone)]);
        }
        self.finish(f, &["target", "owns"], "`dns`");
        Some(d)
    }

    fn dns_target(&mut self, key: &Sp<String>, node: &Node) -> DnsTarget {
        let mut t = DnsTarget {
            span: node.span,
            ..DnsTarget::default()
        };
        let what = format!("DNS target `{}`", key.value);
        let Some(mut f) = self.fields(node, &what) else {
            return t;
        };
        if let Some(n) = self.required(
            &mut f,
            "type",
            key.span,
            &what,
            ("type: rfc2136", "type=rfc2136"),
        ) {
            t.kind = self.choice(
                n,
                "DNS target type",
                &[
                    ("rfc2136", DnsTargetKind::Rfc2136),
                    ("powerdns", DnsTargetKind::Powerdns),
                ],
            );
        }
        let kind = t.kind.as_ref().map(|k| k.value);
        let rfc2136 = kind != Some(DnsTargetKind::Powerdns);
        let powerdns = kind != Some(DnsTargetKind::Rfc2136);
        let mut known = vec!["type"];
        if rfc2136 {
            known.extend(["server", "tsig_key", "tsig_algorithm", "tsig_secret_file"]);
            let req = |k| kind == Some(DnsTargetKind::Rfc2136) && k != "tsig_algorithm";
            for (name, example) in [
                ("server", ("server: 192.0.2.53", "server=\"192.0.2.53\"")),
                ("tsig_key", ("tsig_key: mailc-key", "tsig-key=mailc-key")),
                (
                    "tsig_secret_file",
                    (
                        "tsig_secret_file: keys/mailc-key.secret",
                        "tsig-secret-file=\"keys/mailc-key.secret\"",
                    ),
                ),
                ("tsig_algorithm", ("", "")),
            ] {
                let n = if req(name) {
                    self.required(&mut f, name, key.span, &what, example)
                } else {
                    self.take(&mut f, name)
                };
                let Some(n) = n else { continue };
                match name {
                    "server" => t.server = self.string(n, "`server`"),
                    "tsig_key" => t.tsig_key = self.string(n, "`tsig_key`"),
                    "tsig_secret_file" => t.tsig_secret_file = self.string(n, "`tsig_secret_file`"),
                    _ => {
                        t.tsig_algorithm = self.choice(
                            n,
                            "TSIG algorithm",
                            &[
                                ("hmac-sha256", TsigAlgorithm::HmacSha256),
                                ("hmac-sha512", TsigAlgorithm::HmacSha512),
                            ],
                        )
                    }
                }
            }
        }
        if powerdns {
            known.extend(["url", "server_id", "api_key_file"]);
            let req = |k| kind == Some(DnsTargetKind::Powerdns) && k != "server_id";
            for (name, example) in [
                (
                    "url",
                    (
                        "url: http://127.0.0.1:8081",
                        "url=\"http://127.0.0.1:8081\"",
                    ),
                ),
                (
                    "api_key_file",
                    (
                        "api_key_file: keys/powerdns-api.key",
                        "api-key-file=\"keys/powerdns-api.key\"",
                    ),
                ),
                ("server_id", ("", "")),
            ] {
                let n = if req(name) {
                    self.required(&mut f, name, key.span, &what, example)
                } else {
                    self.take(&mut f, name)
                };
                let Some(n) = n else { continue };
                let v = self.string(n, &format!("`{name}`"));
                match name {
                    "url" => t.url = v,
                    "api_key_file" => t.api_key_file = v,
                    _ => t.server_id = v,
                }
            }
        }
        self.finish(f, &known, &what);
        t
    }

    fn host(&mut self, key: &Sp<String>, node: &Node) -> Host {
        let mut h = Host::default();
        let what = format!("host `{}`", key.value);
        let Some(mut f) = self.fields(node, &what) else {
            return h;
        };
        if let Some(n) = self.required(
            &mut f,
            "hostname",
            key.span,
            &what,
            ("hostname: mx1.example.com", "hostname=\"mx1.example.com\""),
        ) {
            h.hostname = self.string(n, "`hostname`");
        }
        if let Some(n) = self.required(
            &mut f,
            "ipv4",
            key.span,
            &what,
            ("ipv4: 203.0.113.10", "ipv4=\"203.0.113.10\""),
        ) {
            h.ipv4 = self.string(n, "`ipv4`");
        }
        if let Some(n) = self.take(&mut f, "ipv6") {
            h.ipv6 = self.string(n, "`ipv6`");
        }
        if let Some(n) = self.required(
            &mut f,
            "stack",
            key.span,
            &what,
            ("stack: postfix-dovecot", "stack=postfix-dovecot"),
        ) {
            h.stack = self.choice(n, "stack", STACKS);
        }
        if let Some(n) = self.take(&mut f, "outbound_relay") {
            h.outbound_relay = self.string(n, "`outbound_relay`");
        }
        self.finish(
            f,
            &["hostname", "ipv4", "ipv6", "stack", "outbound_relay"],
            &what,
        );
        h
    }

    fn outbound_relay(&mut self, key: &Sp<String>, node: &Node) -> OutboundRelay {
        let mut r = OutboundRelay {
            span: node.span,
            ..OutboundRelay::default()
        };
        let what = format!("outbound relay `{}`", key.value);
        let Some(mut f) = self.fields(node, &what) else {
            return r;
        };
        if let Some(n) = self.required(
            &mut f,
            "host",
            key.span,
            &what,
            ("host: smtp.provider.example", "host=smtp.provider.example"),
        ) {
            r.host = self.string(n, "`host`");
        }
        if let Some(n) = self.take(&mut f, "port") {
            r.port = self.int(n, "`port`", "1..=65535");
        }
        if let Some(n) = self.take(&mut f, "tls") {
            r.tls = self.choice(
                n,
                "`tls`",
                &[
                    ("starttls", RelayTls::Starttls),
                    ("implicit", RelayTls::Implicit),
                    ("opportunistic", RelayTls::Opportunistic),
                ],
            );
        }
        if let Some(n) = self.take(&mut f, "username") {
            r.username = self.string(n, "`username`");
        }
        if let Some(n) = self.take(&mut f, "password_file") {
            r.password_file = self.string(n, "`password_file`");
        }
        if let Some(n) = self.take(&mut f, "senders") {
            r.senders = self.strings(n, "a sender").unwrap_or_default();
        }
        self.finish(
            f,
            &[
                "host",
                "port",
                "tls",
                "username",
                "password_file",
                "senders",
            ],
            &what,
        );
        r
    }

    fn domain(&mut self, key: &Sp<String>, node: &Node) -> Domain {
        let mut d = Domain::default();
        let what = format!("domain `{}`", key.value);
        let Some(mut f) = self.fields(node, &what) else {
            return d;
        };
        if let Some(n) = self.take(&mut f, "routing") {
            d.routing = self.routing(n);
        }
        if let Some(n) = self.required(
            &mut f,
            "mx",
            key.span,
            &what,
            (
                "add `mx: [mx1]`, or `mx: []` for a domain that receives no mail",
                "add a child node `mx mx1`, or a bare `mx` for a domain that receives no mail",
            ),
        ) {
            d.mx = self.mx(n);
        }
        if let Some(n) = self.take(&mut f, "dkim") {
            d.dkim = self.items(n).iter().filter_map(|n| self.dkim(n)).collect();
        }
        let mut broken = Vec::new();
        if let Some(n) = self.take(&mut f, "mailboxes") {
            let read = self.entries(n, "`mailboxes`", |r, k, v| Some(r.mailbox(k, v)));
            if !complete(n, &read) {
                broken.push("mailboxes");
            }
            d.mailboxes = read.unwrap_or_default();
        }
        if let Some(n) = self.take(&mut f, "aliases") {
            let read = self.entries(n, "`aliases`", |r, k, v| r.alias(k, v));
            if !complete(n, &read) {
                broken.push("aliases");
            }
            d.aliases = read.unwrap_or_default();
        }
        if let Some(n) = self.take(&mut f, "records") {
            d.records = self
                .items(n)
                .iter()
                .filter_map(|n| self.record(n))
                .collect();
        }
        if let Some(n) = self.take(&mut f, "zone") {
            d.zone = self.bool(n, "`zone`");
        }
        if let Some(n) = self.take(&mut f, "services") {
            d.services = self.services(n);
        }
        if let Some(n) = self.take(&mut f, "mail") {
            d.mail = self.bool(n, "`mail`");
        }
        self.inherited(&mut f, &mut d.own);
        broken.extend(self.finish(f, DOMAIN_KEYS, &what));
        d.own.broken = broken;
        d
    }

    /// A list of access protocols; each named once.
    fn services(&mut self, node: &Node) -> Option<Sp<Vec<Sp<Service>>>> {
        let mut out: Vec<Sp<Service>> = Vec::new();
        for item in self.items(node) {
            let Some(s) = self.choice(item, "service", SERVICES) else {
                continue;
            };
            if let Some(first) = out.iter().find(|o| o.value == s.value) {
                let name = SERVICES
                    .iter()
                    .find(|(_, v)| *v == s.value)
                    .map_or("", |(n, _)| n);
                self.push(
                    Diagnostic::error(
                        Code::DuplicateKey,
                        s.span,
                        format!("service `{name}` is listed twice"),
                    )
                    .label("listed again here")
                    .with(first.span, "first listed here")
                    .help(format!("remove one `{name}`")),
                );
                continue;
            }
            out.push(s);
        }
        Some(Sp::new(out, node.span))
    }

    fn routing(&mut self, node: &Node) -> Option<Sp<Routing>> {
        match &node.value {
            Value::Map(_) => {
                let per_host = self.entries(node, "`routing`", |r, _, v| {
                    r.choice(v, "routing mode", MODES)
                })?;
                Some(Sp::new(Routing::PerHost(per_host), node.span))
            }
            _ => self
                .choice(node, "routing mode", MODES)
                .map(|m| Sp::new(Routing::All(m.value), m.span)),
        }
    }

    fn mx(&mut self, node: &Node) -> Option<Sp<Vec<MxEntry>>> {
        let mut out = Vec::new();
        for item in self.items(node) {
            match &item.value {
                Value::Map(_) => {
                    let Some(mut f) = self.fields(item, "an MX entry") else {
                        continue;
                    };
                    let host = match self.take(&mut f, "host") {
                        Some(n) => self.string(n, "an MX host"),
                        None => {
                            self.missing(
                                item.span,
                                "host",
                                "this MX entry",
                                ("host: mx1", "add the host as the `mx` node's argument: `mx mx1 priority=10`"),
                            );
                            None
                        }
                    };
                    let priority = match self.take(&mut f, "priority") {
                        Some(n) => self.int(n, "an MX priority", "0..=65535"),
                        None => None,
                    };
                    self.finish(f, &["host", "priority"], "an MX entry");
                    if let Some(host) = host {
                        out.push(MxEntry::WithPriority(MxWithPriority { host, priority }));
                    }
                }
                _ => {
                    if let Some(h) = self.string(item, "an MX entry") {
                        out.push(MxEntry::Bare(h));
                    }
                }
            }
        }
        Some(Sp::new(out, node.span))
    }

    fn spf(&mut self, node: &Node) -> Option<Spf> {
        let mut f = self.fields(node, "`spf`")?;
        let mut s = Spf {
            span: node.span,
            ..Spf::default()
        };
        if let Some(n) = self.take(&mut f, "include") {
            s.include = self.strings(n, "an SPF include");
        }
        if let Some(n) = self.take(&mut f, "ip4") {
            s.ip4 = self.strings(n, "an SPF ip4 network");
        }
        if let Some(n) = self.take(&mut f, "ip6") {
            s.ip6 = self.strings(n, "an SPF ip6 network");
        }
        if let Some(n) = self.take(&mut f, "a") {
            s.a = self.strings(n, "an SPF `a` name");
        }
        if let Some(n) = self.take(&mut f, "mx") {
            s.mx = self.strings(n, "an SPF `mx` name");
        }
        if let Some(n) = self.take(&mut f, "ptr") {
            s.ptr = self.strings(n, "an SPF `ptr` name");
        }
        if let Some(n) = self.take(&mut f, "exists") {
            s.exists = self.strings(n, "an SPF `exists` name");
        }
        if let Some(n) = self.take(&mut f, "redirect") {
            s.redirect = self.string(n, "an SPF redirect");
        }
        if let Some(n) = self.take(&mut f, "all") {
            s.all = self.choice(
                n,
                "SPF `all`",
                &[
                    ("-all", SpfAll::Fail),
                    ("~all", SpfAll::SoftFail),
                    ("?all", SpfAll::Neutral),
                ],
            );
        }
        if let Some(n) = self.take(&mut f, "record") {
            s.record = self.string(n, "an SPF record");
        }
        self.finish(
            f,
            &[
                "include", "ip4", "ip6", "a", "mx", "ptr", "exists", "redirect", "all", "record",
            ],
            "`spf`",
        );
        if let (Some(r), Some(a)) = (&s.redirect, &s.all) {
            self.push(
                Diagnostic::error(
                    Code::SpfTerm,
                    r.span,
                    "`redirect` hands the rest of the policy to another record: beside `all` it would never be used (RFC 7208 §6.1)".to_string(),
                )
                .label("redirect")
                .with(a.span, "`all` decides first")
                .help("keep `redirect` and remove `all` (the redirected record ends with its own), or remove `redirect`"),
            );
        }
        if let Some(r) = &s.record
            && s.has_terms()
        {
            let record = self.dialect.spell("record");
            self.push(
                Diagnostic::error(
                    Code::SpfRecord,
                    r.span,
                    format!("`{record}` gives the whole SPF record: it cannot stand beside the other SPF keys (`include`, `ip4`, `ip6`, `a`, `mx`, `ptr`, `exists`, `redirect`, `all`)"),
                )
                .label("the whole record")
                .help(format!("write those terms into the record, or remove `{record}` to let mailc write the record")),
            );
        }
        Some(s)
    }

    fn dkim(&mut self, node: &Node) -> Option<Dkim> {
        let mut f = self.fields(node, "a DKIM key")?;
        let mut k = Dkim {
            span: node.span,
            ..Dkim::default()
        };
        if let Some(n) = self.required(
            &mut f,
            "selector",
            node.span,
            "this DKIM key",
            (
                "selector: s2026",
                "add the selector as the `dkim` node's argument, like `dkim s2026`",
            ),
        ) {
            k.selector = self.string(n, "a DKIM selector");
        }
        if let Some(n) = self.take(&mut f, "algorithm") {
            k.algorithm = self.choice(n, "DKIM algorithm", DKIM_ALGORITHMS);
        }
        if let Some(n) = self.take(&mut f, "private_key") {
            k.private_key = self.string(n, "`private_key`");
        }
        if let Some(n) = self.take(&mut f, "public_key") {
            k.public_key = self.string(n, "`public_key`");
        }
        if let Some(n) = self.take(&mut f, "sign") {
            k.sign = self.bool(n, "`sign`");
        }
        if let Some(n) = self.take(&mut f, "state") {
            k.state = self.choice(
                n,
                "DKIM key state",
                &[
                    ("published", DkimState::Published),
                    ("signing", DkimState::Signing),
                    ("retired", DkimState::Retired),
                    ("revoked", DkimState::Revoked),
                ],
            );
        }
        self.finish(
            f,
            &[
                "selector",
                "algorithm",
                "private_key",
                "public_key",
                "sign",
                "state",
            ],
            "a DKIM key",
        );
        Some(k)
    }

    fn dmarc(&mut self, node: &Node) -> Option<Dmarc> {
        let mut f = self.fields(node, "`dmarc`")?;
        let mut d = Dmarc {
            span: node.span,
            ..Dmarc::default()
        };
        if let Some(n) = self.take(&mut f, "policy") {
            d.policy = self.choice(n, "DMARC policy", DMARC_POLICIES);
        }
        if let Some(n) = self.take(&mut f, "subdomain_policy") {
            d.subdomain_policy = self.choice(n, "DMARC policy", DMARC_POLICIES);
        }
        if let Some(n) = self.take(&mut f, "rua") {
            d.rua = self.strings(n, "a DMARC report address");
        }
        if let Some(n) = self.take(&mut f, "ruf") {
            d.ruf = self.strings(n, "a DMARC report address");
        }
        if let Some(n) = self.take(&mut f, "adkim") {
            d.adkim = self.choice(n, "DMARC alignment", ALIGNMENTS);
        }
        if let Some(n) = self.take(&mut f, "aspf") {
            d.aspf = self.choice(n, "DMARC alignment", ALIGNMENTS);
        }
        if let Some(n) = self.take(&mut f, "pct") {
            d.pct = self.int(n, "DMARC `pct`", "0..=100");
        }
        self.finish(
            f,
            &[
                "policy",
                "subdomain_policy",
                "rua",
                "ruf",
                "adkim",
                "aspf",
                "pct",
            ],
            "`dmarc`",
        );
        Some(d)
    }

    fn mta_sts(&mut self, node: &Node) -> Option<MtaSts> {
        let mut f = self.fields(node, "`mta_sts`")?;
        let mut m = MtaSts {
            span: node.span,
            ..MtaSts::default()
        };
        if let Some(n) = self.take(&mut f, "mode") {
            m.mode = self.choice(
                n,
                "MTA-STS mode",
                &[
                    ("enforce", MtaStsMode::Enforce),
                    ("testing", MtaStsMode::Testing),
                    ("none", MtaStsMode::None),
                ],
            );
        }
        if let Some(n) = self.take(&mut f, "max_age") {
            m.max_age = self.int(n, "MTA-STS `max_age`", "0..=31557600");
        }
        self.finish(f, &["mode", "max_age"], "`mta_sts`");
        Some(m)
    }

    fn tls_rpt(&mut self, node: &Node) -> Option<TlsRpt> {
        let mut f = self.fields(node, "`tls_rpt`")?;
        let mut t = TlsRpt {
            span: node.span,
            ..TlsRpt::default()
        };
        if let Some(n) = self.take(&mut f, "rua") {
            t.rua = self.strings(n, "a TLS-RPT report address");
        }
        self.finish(f, &["rua"], "`tls_rpt`");
        Some(t)
    }

    fn mailbox(&mut self, key: &Sp<String>, node: &Node) -> Mailbox {
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

    /// Text that may run over several lines (a vacation reply): newlines
    /// and tabs are kept, other control characters refused.
    fn body_text(&mut self, node: &Node, what: &str) -> Option<Sp<String>> {
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
    fn rule(&mut self, node: &Node) -> Option<Rule> {
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
    fn condition(&mut self, node: &Node) -> Option<Condition> {
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
    fn action(&mut self, node: &Node) -> Option<Action> {
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

    /// One alias's value: its targets, or `{drop: true}`.
    fn alias(&mut self, key: &Sp<String>, node: &Node) -> Option<Targets> {
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

    fn vacation(&mut self, node: &Node) -> Option<Vacation> {
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
    fn policies(&self) -> &'static str {
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
    fn policy_word(&mut self, node: &Node) -> Option<Sp<UnknownRecipients>> {
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

    fn unknown_recipients(&mut self, node: &Node) -> Option<Sp<UnknownRecipients>> {
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

    /// A list of strings with the span of the whole list.
    fn string_list(&mut self, node: &Node, what: &str) -> Option<Sp<Vec<Sp<String>>>> {
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

    /// One expectation of `tests`. Which keys fit a route test (`address`)
    /// and which a DNS test (`domain`) is judged when the model is built.
    fn test(&mut self, node: &Node) -> Option<Test> {
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
    fn test_shape(&mut self, t: &Test, said_nothing: bool) {
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
    fn said_nothing(&mut self, node: &Node, key: &str) {
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

    fn record(&mut self, node: &Node) -> Option<Record> {
        let mut f = self.fields(node, "a record")?;
        let mut rec = Record {
            span: node.span,
            ..Record::default()
        };
        const KDL_RECORD: &str =
            "write it as `record NAME TYPE VALUE`, like `record www A \"203.0.113.20\"`";
        for (key, example) in [
            ("name", ("name: www", KDL_RECORD)),
            ("type", ("type: A", KDL_RECORD)),
            ("value", ("value: 203.0.113.20", KDL_RECORD)),
        ] {
            if let Some(n) = self.required(&mut f, key, node.span, "this record", example) {
                let v = self.string(n, &format!("a record's `{key}`"));
                match key {
                    "name" => rec.name = v,
                    "type" => rec.rtype = v,
                    _ => rec.value = v,
                }
            }
        }
        if let Some(n) = self.take(&mut f, "ttl") {
            rec.ttl = self.int(n, "a record's `ttl`", "0..=2147483647");
        }
        self.finish(f, &["name", "type", "value", "ttl"], "a record");
        Some(rec)
    }
}

/// Whether every entry of the map `node` was read into `read`: a map that
/// is not one, or an entry dropped for an error, leaves what it names
/// unknown to later checks.
fn complete<T>(node: &Node, read: &Option<Entries<T>>) -> bool {
    match (&node.value, read) {
        (Value::Map(entries), Some(read)) => entries.len() == read.len(),
        (_, Some(_)) => true,
        (_, None) => false,
    }
}

/// `a`, `b` and `c` → "`a`, `b`, `c`".
fn quote_list<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

const FIELDS: &[(&str, Field)] = &[
    ("from", Field::From),
    ("to", Field::To),
    ("sender", Field::Sender),
    ("subject", Field::Subject),
    ("header", Field::Header),
    ("size", Field::Size),
];

const DEFAULTS_KEYS: &[&str] = &[
    "ttl",
    "unknown_recipients",
    "spf",
    "dmarc",
    "mta_sts",
    "tls_rpt",
    "quota",
    "nameservers",
    "hostmaster",
    "srs",
    "dns",
    "limits",
];

const LIMITS_KEYS: &[&str] = &["messages_per_hour", "recipients_per_hour"];

const DOMAIN_KEYS: &[&str] = &[
    "routing",
    "mx",
    "spf",
    "dkim",
    "dmarc",
    "mta_sts",
    "tls_rpt",
    "mailboxes",
    "aliases",
    "unknown_recipients",
    "records",
    "srs",
    "zone",
    "services",
    "mail",
    "ttl",
    "quota",
    "nameservers",
    "hostmaster",
    "dns",
    "limits",
];

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

const STACKS: &[(&str, Stack)] = &[
    ("postfix-dovecot", Stack::PostfixDovecot),
    ("exim-dovecot", Stack::EximDovecot),
    ("embedded", Stack::Embedded),
];

const SERVICES: &[(&str, Service)] = &[
    ("imap", Service::Imap),
    ("pop3", Service::Pop3),
    ("submission", Service::Submission),
];

const MODES: &[(&str, RoutingMode)] = &[
    ("auto", RoutingMode::Auto),
    ("local", RoutingMode::Local),
    ("remote", RoutingMode::Remote),
    ("backup", RoutingMode::Backup),
];

const DKIM_ALGORITHMS: &[(&str, DkimAlgorithm)] = &[
    ("rsa-2048", DkimAlgorithm::Rsa2048),
    ("rsa-3072", DkimAlgorithm::Rsa3072),
    ("rsa-4096", DkimAlgorithm::Rsa4096),
    ("ed25519", DkimAlgorithm::Ed25519),
];

const DMARC_POLICIES: &[(&str, DmarcPolicy)] = &[
    ("none", DmarcPolicy::None),
    ("quarantine", DmarcPolicy::Quarantine),
    ("reject", DmarcPolicy::Reject),
];

const ALIGNMENTS: &[(&str, Alignment)] = &[("s", Alignment::S), ("r", Alignment::R)];
