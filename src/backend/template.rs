//! The template engine of the config backends: minijinja with every template
//! of `templates/` embedded at build time (`build.rs`), strict about what it
//! prints.
//!
//! Templates format; they do not decide. A backend builds a view struct with
//! every decision made, and a template loops over it and prints. To keep it
//! that way the engine is strict:
//!
//! - an undefined variable is an error (`UndefinedBehavior::Strict`);
//! - only strings and numbers print: `none`, a bool, a list or a map printed
//!   as such is a template bug, refused;
//! - no value may carry a control character (the injection guard): a newline
//!   smuggled into `main.cf` or a passwd-file line would add a setting or a
//!   user. The spec checker already refuses control characters anywhere in a
//!   spec; this is the second line of defence.
//!
//! Every failure is therefore a bug in mailc, never a property of the spec:
//! [`render`] panics with the template and the reason rather than write a
//! config that says something the view did not.

use std::fmt::Write as _;
use std::sync::OnceLock;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};
use serde::Serialize;

/// The one auto-escape mode of every template: config text, never HTML.
const CONF: &str = "conf";

/// The shared environment, built once.
fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(build)
}

fn build() -> Environment<'static> {
    let mut env = Environment::new();
    // minijinja 3: whitespace options live in the syntax config and apply to
    // templates loaded after it is set.
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .expect("the default delimiters are a valid syntax");
    env.set_syntax(syntax);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::Custom(CONF.into()));
    env.set_formatter(|out, state, value| {
        if !matches!(state.auto_escape(), AutoEscape::Custom(mode) if mode == CONF) {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "templates are config files: auto-escaping must stay `conf`",
            ));
        }
        let text = match value.kind() {
            ValueKind::String | ValueKind::Number => value.to_string(),
            other => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("refusing to print a {other} value ({value:?}): views carry strings and numbers"),
                ));
            }
        };
        plain(&text).map_err(|why| Error::new(ErrorKind::InvalidOperation, why))?;
        out.write_str(&text).map_err(Error::from)
    });
    minijinja_embed::load_templates!(&mut env);
    env
}

/// The injection guard of every printed value, for the backends that write
/// their big files (one line per address) without a template loop: `Err`
/// names the control character `text` carries.
pub fn plain(text: &str) -> Result<(), String> {
    // Printable ASCII, nearly all text, passes in one pass over the bytes.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Ok(());
    }
    match text.chars().find(|c| c.is_control()) {
        None => Ok(()),
        Some(c) => Err(format!(
            "value {text:?} contains the control character {c:?}"
        )),
    }
}

/// Renders template `name` (its path under `templates/`) with `view`.
///
/// # Panics
///
/// When the template does not exist, uses a name the view lacks, or would
/// print a control character: each is a bug in mailc (see the module docs).
pub fn render<V: Serialize>(name: &str, view: &V) -> String {
    try_render(name, view).unwrap_or_else(|e| panic!("mailc bug: {e}"))
}

/// [`render`], returning the engine's error (for tests of the guard).
pub fn try_render<V: Serialize>(name: &str, view: &V) -> Result<String, String> {
    let describe = |e: Error| {
        let mut s = format!("template `{name}`: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(inner) = source {
            let _ = write!(s, ": {inner}");
            source = inner.source();
        }
        s
    };
    let template = env().get_template(name).map_err(describe)?;
    template.render(Serde(view)).map_err(describe)
}

/// The names of every embedded template, sorted.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = env().templates().map(|(n, _)| n.to_string()).collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Probe<'a> {
        value: &'a str,
    }

    #[test]
    fn every_template_loads() {
        let names = names();
        assert!(names.iter().any(|n| n.starts_with("postfix/")), "{names:?}");
        assert!(names.iter().any(|n| n.starts_with("dovecot/")), "{names:?}");
        for n in &names {
            env().get_template(n).expect(n);
        }
    }

    #[test]
    fn control_characters_are_refused() {
        let env = build();
        let t = env.template_from_str("x = {{ value }}\n").unwrap();
        assert_eq!(t.render(Serde(Probe { value: "a" })).unwrap(), "x = a\n");
        let err = t
            .render(Serde(Probe {
                value: "a\nrelayhost = evil",
            }))
            .unwrap_err();
        assert!(err.to_string().contains("control character"), "{err}");
    }

    #[test]
    fn the_guard_alone_refuses_what_the_formatter_refuses() {
        assert!(plain("a@b.example").is_ok());
        assert!(plain("é ü").is_ok());
        for bad in ["a\nb", "a\tb", "\u{7f}", "x\u{85}y", "\r"] {
            let err = plain(bad).unwrap_err();
            assert!(err.contains("control character"), "{err}");
        }
    }

    #[test]
    fn undefined_names_and_non_text_values_are_refused() {
        let env = build();
        let t = env.template_from_str("{{ valeu }}").unwrap();
        assert!(t.render(Serde(Probe { value: "a" })).is_err());
        let t = env.template_from_str("{{ none }}{{ [1] }}").unwrap();
        assert!(t.render(Serde(Probe { value: "a" })).is_err());
        let t = env.template_from_str("{{ true }}").unwrap();
        assert!(t.render(Serde(Probe { value: "a" })).is_err());
    }
}
