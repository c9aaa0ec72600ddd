//! The front half in one call: a spec's text and the files it includes →
//! the checked model and the spec's own tests, with every diagnostic. The
//! command line, the tests, the fuzz targets and the benches all come in
//! here, so each checks exactly what `mailc validate` checks, the zones the
//! model would give included. What the spec names on disk (key files,
//! included files) comes in through [`Inputs`]: nothing here opens a file.

use crate::diag::{Diagnostic, Diagnostics};
use crate::expect::Expectation;
use crate::limits::ReadError;
use crate::model::{self, Model};
pub use crate::model::{KeyFiles, MissingKey};
use crate::source::Source;
use crate::spec::include::{self, SpecFiles};

/// What the front half reads besides the spec's own text.
pub struct Inputs<'a> {
    /// The DKIM private key files the spec names.
    pub key_files: &'a dyn KeyFiles,
    /// How a key file that is not there is judged.
    pub missing_keys: MissingKey,
    /// The files an `include` names.
    pub spec_files: &'a dyn SpecFiles,
    /// The main spec's own path among them (no glob includes it).
    pub main_path: &'a str,
}

/// A spec compiled as far as it goes.
pub struct Compiled {
    /// The spec's text, every included file a part of it.
    pub source: Source,
    /// Errors and warnings, sorted by place.
    pub diagnostics: Vec<Diagnostic>,
    /// The model, only when no error was found.
    pub model: Option<Model>,
    /// The spec's `tests` section, resolved against the model.
    pub tests: Vec<Expectation>,
}

/// Reads `source` (and what it includes), lowers and checks it, resolves
/// its tests and checks the zones the model would give.
pub fn compile(source: Source, inputs: &Inputs<'_>) -> Compiled {
    let mut source = source;
    let mut diags = Diagnostics::new();
    let mut spec = crate::spec::parse_main(&source, &mut diags);
    if let Some(main) = spec.as_mut().filter(|s| !s.include.is_empty()) {
        source = include::read_all(
            &source,
            inputs.main_path,
            &main.include,
            inputs.spec_files,
            &mut diags,
        );
        spec = crate::spec::parse_included(&source, spec, &mut diags);
    }
    let mut tests = Vec::new();
    let model = spec.as_ref().and_then(|spec| {
        let model = model::build(
            spec,
            &model::Inputs {
                key_files: inputs.key_files,
                missing_keys: inputs.missing_keys,
            },
            &mut diags,
        )?;
        tests = crate::expect::resolve(&spec.tests, &model, &mut diags);
        (!diags.has_errors()).then_some(model)
    });
    // The zones the model would give must be ones DNS servers accept.
    let model = model.filter(|m| {
        let mut problems = crate::backend::dns::check(m);
        let ok = problems.is_empty();
        if let Some(spec) = &spec {
            model::locate(spec, &mut problems);
        }
        for d in problems {
            diags.push(d);
        }
        ok
    });
    Compiled {
        source,
        diagnostics: diags.into_sorted(),
        model,
        tests,
    }
}

/// Key files all counted as there, none read: for checking a spec whose
/// keys live elsewhere (tests, benches, fuzzing).
pub struct KeysPresent;

impl KeyFiles for KeysPresent {
    fn exists(&self, _: &str) -> bool {
        true
    }
}

/// No file to include: a spec that includes one gets the error a missing
/// file gets, at its `include`.
pub struct NoIncludes;

impl SpecFiles for NoIncludes {
    fn read(&self, _: &str, _: u64) -> Result<Vec<u8>, ReadError> {
        Err(ReadError::Io(std::io::ErrorKind::NotFound.into()))
    }

    fn list(&self, _: &str) -> Option<Vec<(String, bool)>> {
        None
    }

    fn shown(&self, path: &str) -> String {
        path.to_string()
    }
}

impl Inputs<'static> {
    /// A spec read from its text alone: every key file counted as there,
    /// nothing to include.
    pub fn text_only() -> Inputs<'static> {
        Inputs {
            key_files: &KeysPresent,
            missing_keys: MissingKey::Error,
            spec_files: &NoIncludes,
            main_path: "",
        }
    }
}
