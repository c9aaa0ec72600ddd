//! `cargo +nightly fuzz run parse` (from the repository root): bytes read as
//! YAML and as KDL, through `spec::parse` + `model::build`. Any panic, and any
//! diagnostic whose span is not within the text on character boundaries, is a
//! crash.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailc::diag::Diagnostics;
use mailc::model::{self, Inputs};
use mailc::source::{Dialect, Source};
use mailc::spec;
use mailc::validate::dkim::{KeyFiles, MissingKey};

struct AllFiles;

impl KeyFiles for AllFiles {
    fn exists(&self, _: &str) -> bool {
        true
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for dialect in [Dialect::Yaml, Dialect::Kdl] {
        let source = Source::new("fuzz", text.as_ref(), dialect);
        let mut diags = Diagnostics::new();
        if let Some(spec) = spec::parse(&source, &mut diags) {
            let inputs = Inputs {
                key_files: &AllFiles,
                missing_keys: MissingKey::Error,
            };
            model::build(&spec, &inputs, &mut diags);
        }
        for d in diags.iter() {
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
    }
});
