//! The KDL front end's tests: the documented example in both dialects,
//! tree shapes, spans, and the diagnostics of KDL 1 and syntax errors.

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
    let src =
        "host mx1 ipv4=\"1\" ipv4=\"2\"\nhost mx1\ndefaults { spf all=\"-all\"; spf all=\"~all\" }";
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
    let d = errors("domain x.example {\n    mailbox noreply password=\"{X}y\" send-only=true\n}\n");
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
