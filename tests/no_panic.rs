//! No input makes the front half panic, and every diagnostic points inside the
//! text it was reported for.
//!
//! (a) arbitrary bytes, arbitrary Unicode and token soup, read as YAML and as
//!     KDL, go through the front half, `mailc::compile` (and the renderers);
//! (b) a valid spec (in both dialects) mutated at random — lines deleted,
//!     duplicated, swapped, re-indented, characters replaced or inserted, the
//!     text truncated — goes through the same, and every label of every
//!     diagnostic lies within the text, on character boundaries.
//!
//! 256 cases per property unless `PROPTEST_CASES` says otherwise (e.g.
//! `PROPTEST_CASES=20000 cargo test --release --test no_panic` for a longer hunt).

use std::panic::{AssertUnwindSafe, catch_unwind};

use mailc::compile::Inputs;
use mailc::diag::{Diagnostic, render};
use mailc::source::{Dialect, Source};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError};

fn config() -> Config {
    let mut c = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = 256;
    }
    // No `proptest-regressions/` files: a failure prints its minimal input.
    c.failure_persistence = None;
    c
}

const SHA512: &str = "{SHA512-CRYPT}$6$xInzCrOFUMJDu05D$IkGIdsFX3ChOgR6dKmos.Acg7X8MM/MERFGu9bQGTehZ076AXVA3a25cIKfYA8PQBOOJU1gnaVjJ4nDA0xpar.";
const ARGON2ID: &str = "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$QfmXPz2ld0i+oLFLnKRyKg$NMgPIIycXezHXwlU1UkBdZeQDb3TTs24EmkTHlUceko";
const BLF: &str = "{BLF-CRYPT}$2y$10$9A5PuhzQ8r/doq62QrnP5.Xk5Z8F4.emzwbJXIIIwAd8U9pGvMhGi";
/// RFC 8463's Ed25519 example public key.
const ED25519_PUB: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

/// The complete example of docs/spec.md, with whole hashes and keys.
fn valid_yaml() -> String {
    format!(
        r#"version: 1

defaults:
  ttl: 3600
  unknown_recipients: reject
  spf: {{all: "-all"}}
  dmarc: {{policy: quarantine, rua: ["mailto:dmarc@example.com"]}}
  quota: 2G
  nameservers: [ns1.dns-host.example, ns2.dns-host.example]
  hostmaster: hostmaster@example.com

hosts:
  mx1:
    hostname: mx1.example.com
    ipv4: 203.0.113.10
    ipv6: "2001:db8::10"
    stack: postfix-dovecot
  mx2:
    hostname: mx2.example.net
    ipv4: 198.51.100.7
    stack: embedded

domains:
  example.com:
    routing: auto
    srs: false
    mx: [mx1, mx2]
    spf:
      include: [_spf.google.com]
      ip4: [192.0.2.0/24]
      all: "-all"
    dkim:
      - selector: s2026
        algorithm: ed25519
        private_key: keys/example.com/s2026.key
      - selector: s2025
        private_key: keys/example.com/s2025.key
        sign: false
      - selector: google
        algorithm: ed25519
        public_key: "{ED25519_PUB}"
    dmarc: {{policy: reject, rua: ["mailto:dmarc@example.com"], adkim: s, aspf: r, pct: 100}}
    mta_sts: {{mode: enforce, max_age: 604800}}
    tls_rpt: {{rua: ["mailto:tlsrpt@example.com"]}}
    mailboxes:
      alice:
        password: "{SHA512}"
        quota: 5G
        aliases: [a.smith, postmaster]
      bob:
        password: "{ARGON2ID}"
      noreply:
        password: "{BLF}"
        send_only: true
    aliases:
      sales: [alice, bob, partner@external.org]
      info: alice
      team: [sales, info]
    unknown_recipients: {{forward: alice}}
    records:
      - {{name: www, type: A, value: 203.0.113.20}}
      - {{name: "@", type: CAA, value: '0 issue "letsencrypt.org"'}}

  example.org:
    routing: remote
    mx:
      - {{host: aspmx.l.google.com, priority: 1}}
      - {{host: alt1.aspmx.l.google.com, priority: 5}}
    spf: {{include: [_spf.google.com], all: "~all"}}

  forward.example:
    mx: [mx1]
    srs: true
    aliases:
      hello: someone@gmail.com
    unknown_recipients: reject
"#
    )
}

/// The same spec in KDL.
fn valid_kdl() -> String {
    format!(
        r#"version 1
defaults ttl=3600 quota="2G" hostmaster=hostmaster@example.com {{
    nameservers ns1.dns-host.example ns2.dns-host.example
    unknown-recipients reject
    spf all="-all"
    dmarc policy=quarantine {{ rua "mailto:dmarc@example.com" }}
}}
host mx1 hostname=mx1.example.com ipv4="203.0.113.10" ipv6="2001:db8::10" stack=postfix-dovecot
host mx2 hostname=mx2.example.net ipv4="198.51.100.7" stack=embedded
domain example.com routing=auto srs=#false {{
    mx mx1 mx2
    spf all="-all" {{ include _spf.google.com; ip4 "192.0.2.0/24" }}
    dkim s2026 algorithm=ed25519 private-key="keys/example.com/s2026.key"
    dkim s2025 private-key="keys/example.com/s2025.key" sign=#false
    dkim google algorithm=ed25519 public-key="{ED25519_PUB}"
    dmarc policy=reject adkim=s aspf=r pct=100 {{ rua "mailto:dmarc@example.com" }}
    mta-sts mode=enforce max-age=604800
    tls-rpt {{ rua "mailto:tlsrpt@example.com" }}
    mailbox alice password="{SHA512}" quota="5G" {{
        aliases a.smith postmaster
    }}
    mailbox bob password="{ARGON2ID}"
    mailbox noreply password="{BLF}" send-only=#true
    alias sales alice bob partner@external.org
    alias info alice
    alias team sales info
    unknown-recipients forward=alice
    record www A "203.0.113.20"
    record "@" CAA "0 issue \"letsencrypt.org\""
}}
domain example.org routing=remote {{
    mx aspmx.l.google.com priority=1
    mx alt1.aspmx.l.google.com priority=5
    spf all="~all" {{ include _spf.google.com }}
}}
domain forward.example srs=#true {{
    mx mx1
    alias hello someone@gmail.com
    unknown-recipients reject
}}
"#
    )
}

/// Parses, builds and renders `text`; a panic anywhere is returned as an
/// error showing the input.
fn compile(text: &str, dialect: Dialect) -> Result<Vec<Diagnostic>, TestCaseError> {
    let name = if dialect == Dialect::Yaml {
        "fuzz.yaml"
    } else {
        "fuzz.kdl"
    };
    let source = Source::new(name, text, dialect);
    let result = catch_unwind(AssertUnwindSafe(|| {
        mailc::compile::compile(source, &Inputs::text_only())
    }));
    match result {
        Ok(compiled) => {
            let (source, diags) = (compiled.source, compiled.diagnostics);
            check_spans(text, &diags)?;
            let rendered = catch_unwind(AssertUnwindSafe(|| {
                render::graphical(&diags, &source, false);
                render::json(&diags, &source);
            }));
            if rendered.is_err() {
                return Err(TestCaseError::fail(format!(
                    "{dialect:?}: rendering panicked on {text:?}"
                )));
            }
            Ok(diags)
        }
        Err(_) => Err(TestCaseError::fail(format!(
            "{dialect:?}: the front half panicked on {text:?}"
        ))),
    }
}

/// Every label of every diagnostic lies within `text`, on character boundaries.
fn check_spans(text: &str, diags: &[Diagnostic]) -> Result<(), TestCaseError> {
    for d in diags {
        for (i, l) in d.labels.iter().enumerate() {
            let what = if i == 0 { "primary" } else { "secondary" };
            let (start, end) = (l.span.start, l.span.start.checked_add(l.span.len));
            let ok = end.is_some_and(|end| {
                end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end)
            });
            prop_assert!(
                ok,
                "{what} span {:?} of {:?} ({}) is not within the {}-byte text on char boundaries\ntext: {text:?}",
                l.span,
                d.code,
                d.message,
                text.len()
            );
        }
    }
    Ok(())
}

fn both(text: &str) -> Result<(), TestCaseError> {
    compile(text, Dialect::Yaml)?;
    compile(text, Dialect::Kdl)?;
    Ok(())
}

/// Fragments of both dialects, for text that gets past the first token.
#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "version", "1", "2", "defaults", "hosts", "host", "domains", "domain", "mx1", "mx2", "hostname",
    "ipv4", "ipv6", "stack", "postfix-dovecot", "embedded", "mx", "routing", "local", "backup",
    "remote", "auto", "mailboxes", "mailbox", "aliases", "alias", "password", "unknown_recipients",
    "unknown-recipients", "forward", "relay", "bounce", "reject", "spf", "include", "ip4", "all",
    "dkim", "selector", "private_key", "private-key", "public_key", "public-key", "dmarc", "rua",
    "policy", "records", "record", "name", "type", "value", "ttl", "quota", "nameservers",
    "hostmaster", "srs", "zone", "send_only", "send-only", "priority", "example.com", "alice",
    "bob", "x@example.com", "203.0.113.10", "\"2001:db8::10\"", "2G", "-all", "#true", "#false",
    "true", "null", SHA512, BLF, ED25519_PUB, "xn--", "é", "ß.example", "\u{202e}", "\0", ":", ": ",
    "{", "}", "[", "]", ",", "\"", "'", "=", ";", "-", "- ", "#", "//", "/*", "*/", "&a", "*a",
    "<<", "!!str", "|", ">", "\\", "(ip)", "r#\"", "\"#", "\n", "\n  ", "\n    ", "\t", " ", "  ",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..80).prop_map(|t| t.concat())
}

#[derive(Clone, Debug)]
enum Mutation {
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    ReplaceChar(Index, char),
    InsertChar(Index, char),
    Truncate(Index),
    /// Adds (positive) or removes (negative) leading spaces of a line; 0 indents with a tab.
    Indent(Index, i8),
}

const PUNCT: &[char] = &[
    ':', '{', '}', '[', ']', '"', ',', '#', '@', '.', '\n', '\t', '-',
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let ch = prop::sample::select(PUNCT);
    prop_oneof![
        any::<Index>().prop_map(Mutation::DeleteLine),
        any::<Index>().prop_map(Mutation::DuplicateLine),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<Index>(), ch.clone()).prop_map(|(i, c)| Mutation::ReplaceChar(i, c)),
        (any::<Index>(), ch).prop_map(|(i, c)| Mutation::InsertChar(i, c)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), -6i8..=6).prop_map(|(i, d)| Mutation::Indent(i, d)),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    match m {
        Mutation::DeleteLine(i) => {
            lines.remove(i.index(lines.len()));
        }
        Mutation::DuplicateLine(i) => {
            let i = i.index(lines.len());
            lines.insert(i, lines[i].clone());
        }
        Mutation::SwapLines(a, b) => {
            let (a, b) = (a.index(lines.len()), b.index(lines.len()));
            lines.swap(a, b);
        }
        Mutation::ReplaceChar(i, c) | Mutation::InsertChar(i, c) => {
            if chars.is_empty() {
                return c.to_string();
            }
            let (at, old) = chars[i.index(chars.len())];
            let skip = if matches!(m, Mutation::ReplaceChar(..)) {
                old.len_utf8()
            } else {
                0
            };
            return format!("{}{c}{}", &text[..at], &text[at + skip..]);
        }
        Mutation::Truncate(i) => {
            let at = if chars.is_empty() {
                0
            } else {
                chars[i.index(chars.len())].0
            };
            return text[..at].to_string();
        }
        Mutation::Indent(i, d) => {
            let n = lines.len();
            let line = &mut lines[i.index(n)];
            *line = match *d {
                0 => format!("\t{line}"),
                d if d > 0 => format!("{}{line}", " ".repeat(d as usize)),
                d => {
                    let strip = line.len() - line.trim_start_matches(' ').len();
                    line[strip.min(d.unsigned_abs() as usize)..].to_string()
                }
            };
        }
    }
    lines.join("\n")
}

fn mutated(base: String) -> impl Strategy<Value = (Vec<Mutation>, String)> {
    prop::collection::vec(mutation(), 1..5).prop_map(move |ms| {
        let text = ms.iter().fold(base.clone(), |t, m| apply(&t, m));
        (ms, text)
    })
}

#[test]
fn the_base_specs_are_valid() {
    for (text, dialect) in [(valid_yaml(), Dialect::Yaml), (valid_kdl(), Dialect::Kdl)] {
        let diags = compile(&text, dialect).unwrap();
        assert!(diags.is_empty(), "{dialect:?}: {diags:#?}");
    }
}

/// Runs `f` in a child process (this test binary, filtered to `test`), on a
/// thread with the 8 MiB stack of a CLI's main thread: a stack overflow aborts
/// the process, and should fail this one test, not the whole binary.
fn in_child(test: &str, f: impl FnOnce() + Send + 'static) {
    const CHILD: &str = "MAILC_NO_PANIC_CHILD";
    if std::env::var(CHILD).as_deref() == Ok(test) {
        let t = std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(f)
            .expect("spawn");
        if t.join().is_err() {
            panic!("{test} failed");
        }
        return;
    }
    let exe = std::env::current_exe().expect("the test binary");
    let out = std::process::Command::new(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, test)
        .output()
        .expect("run the test binary");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let why = if stderr.contains("has overflowed its stack") {
        "stack overflow: the process aborted"
    } else {
        "failed"
    };
    assert!(
        out.status.success(),
        "{test}: {why} ({})\n{}",
        out.status,
        stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Nesting far deeper than any spec: refused or read, but no stack overflow
/// (which aborts the process instead of panicking). One test per shape and
/// dialect, each in a child process.
macro_rules! deep {
    ($($name:ident: $text:expr;)*) => {
        mod deep {
            use super::*;
            const N: usize = 20_000;
            $(
                mod $name {
                    use super::*;
                    #[test]
                    fn yaml() {
                        in_child(concat!("deep::", stringify!($name), "::yaml"), || {
                            compile(&$text, Dialect::Yaml).unwrap();
                        });
                    }
                    #[test]
                    fn kdl() {
                        in_child(concat!("deep::", stringify!($name), "::kdl"), || {
                            compile(&$text, Dialect::Kdl).unwrap();
                        });
                    }
                }
            )*
        }
    };
}

deep! {
    open_brackets: "[".repeat(N);
    open_braces: "{".repeat(N);
    brackets: "[".repeat(N) + &"]".repeat(N);
    flow_maps: "{a: ".repeat(N) + &"}".repeat(N);
    block_seqs: "- ".repeat(N) + "x";
    block_maps: (0..300).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect::<String>();
    kdl_children: "a {".repeat(N) + &"}".repeat(N);
    kdl_unclosed: "a {\n".repeat(N);
    kdl_parens: "a (".repeat(N);
    kdl_comments: "/*".repeat(N);
    // Not nested: one long comment with many `/` or `*` in it, like a
    // commented-out part of a big spec (hashes and paths hold slashes).
    kdl_long_comment: "/* ".to_string() + &"a/".repeat(N) + " */";
    kdl_slashdash: "/-".repeat(N) + "a";
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        both(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn arbitrary_unicode(text in any::<String>()) {
        both(&text)?;
    }

    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        both(&text)?;
    }

    #[test]
    fn mutated_yaml((_mutations, text) in mutated(valid_yaml())) {
        compile(&text, Dialect::Yaml)?;
    }

    #[test]
    fn mutated_kdl((_mutations, text) in mutated(valid_kdl())) {
        compile(&text, Dialect::Kdl)?;
    }

}

proptest! {
    // Fewer cases: text of the other dialect mostly stops at its first line.
    #![proptest_config(Config { cases: config().cases / 4, ..config() })]

    /// Mutations of one dialect's spec read as the other.
    #[test]
    fn mutated_cross_dialect((_m, yaml) in mutated(valid_yaml()), (_n, kdl) in mutated(valid_kdl())) {
        compile(&yaml, Dialect::Kdl)?;
        compile(&kdl, Dialect::Yaml)?;
    }
}
