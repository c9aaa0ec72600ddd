//! The spec front end: bytes read as YAML and as KDL go through the front
//! half (`mailc::compile`: reading, checking, the zone checks), their diagnostics are
//! rendered (graphical and JSON), and a valid model is compiled by every
//! backend. A panic, or a diagnostic whose span is not within the text on
//! character boundaries, is a finding.

use mailc::backend::{self, Context};
use mailc::compile::{Inputs, compile};
use mailc::diag::render;
use mailc::source::{Dialect, Source};

/// An empty output folder and no key material: backends that need a key
/// report it instead of compiling.
struct Nothing;

impl Context for Nothing {
    fn previous(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
    fn private_key(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
}

/// Pieces of both dialects and of the spec language, for the replay's
/// mutator.
pub const TOKENS: &[&str] = &[
    "\n",
    "  ",
    ": ",
    "- ",
    "{",
    "}",
    "[",
    "]",
    "\"",
    "'",
    "#",
    "&a ",
    "*a",
    "<<: ",
    "!!str ",
    "|\n",
    ">-\n",
    "---\n",
    "...",
    "\\u{0}",
    "#true",
    "#false",
    "=",
    ";",
    "/-",
    "r#\"",
    "version: 1\n",
    "hosts:",
    "domains:",
    "mailboxes:",
    "aliases:",
    "records:",
    "dkim:",
    "password: ",
    "{SHA512-CRYPT}$6$rounds=999999999$",
    "{ARGON2ID}$argon2id$v=19$m=4194304,t=4294967295,p=255$",
    "{BLF-CRYPT}$2y$31$",
    "private_key: /etc/shadow",
    "private_key: ../x",
    "ttl: 4294967295",
    "ttl: 2147483648",
    "unknown_recipients: ",
    "{forward: a}",
    "mx: [mx1]",
    "routing: backup",
    "alias ",
    "mailbox ",
    "domain ",
    "host ",
    "record ",
    "type: TXT",
    "value: ",
    "é",
    "\u{202e}",
    "xn--",
    "@",
    "postmaster",
    "2001:db8::1",
    "203.0.113.1",
    "0/0",
];

pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for dialect in [Dialect::Yaml, Dialect::Kdl] {
        let source = Source::new("fuzz", text.as_ref(), dialect);
        let compiled = compile(source, &Inputs::text_only());
        let (source, diags, model) = (compiled.source, compiled.diagnostics, compiled.model);
        for d in &diags {
            for l in &d.labels {
                let end = l.span.start.checked_add(l.span.len);
                assert!(
                    end.is_some_and(|end| end <= text.len()
                        && text.is_char_boundary(l.span.start)
                        && text.is_char_boundary(end)),
                    "{dialect:?}: span {:?} of {:?} is outside the {}-byte text",
                    l.span,
                    d.code,
                    text.len()
                );
            }
        }
        let _ = render::graphical(&diags, &source, false);
        let _ = render::json(&diags, &source);
        if let Some(model) = model {
            let _ = backend::compile(&model, &Nothing);
        }
    }
}
