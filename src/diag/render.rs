//! Turning diagnostics into text: miette's graphical report for people,
//! JSON (with line and column) for machines.

use std::fmt::Write as _;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan};

use super::snippet::{self, Lines, Window};
use super::{Diagnostic, Severity};
use crate::source::Source;

/// A diagnostic bound to the lines it shows ([`Window`]), as miette wants
/// it; every text cleaned by [`snippet::clean`].
struct Report<'a> {
    diag: &'a Diagnostic,
    message: std::borrow::Cow<'a, str>,
    window: Window,
}

impl std::fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        Some(Box::new(self.diag.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(snippet::clean(h)) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.window)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(
            self.diag
                .labels
                .iter()
                .zip(&self.window.spans)
                .map(|(l, span)| {
                    let text = (!l.text.is_empty()).then(|| snippet::clean(&l.text).into_owned());
                    LabeledSpan::new_with_span(text, *span)
                }),
        ))
    }
}

/// At most this many diagnostics are drawn for a terminal; the rest are
/// counted, and `--format json` lists them all.
pub const MAX_DRAWN: usize = 200;

/// Renders diagnostics for a terminal. `color` picks ANSI styling.
pub fn graphical(diags: &[Diagnostic], source: &Source, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_context_lines(snippet::CONTEXT)
        .with_links(false);
    let lines = Lines::new(&source.text);
    let mut out = String::new();
    for diag in diags.iter().take(MAX_DRAWN) {
        let spans: Vec<_> = diag.labels.iter().map(|l| l.span).collect();
        let report = Report {
            diag,
            message: snippet::clean(&diag.message),
            window: Window::new(&source.name, &source.text, &lines, &spans),
        };
        let _ = handler.render_report(&mut out, &report);
        out.push('\n');
    }
    if diags.len() > MAX_DRAWN {
        let _ = writeln!(
            out,
            "… and {} more (`mailc validate --format json` lists every one)\n",
            diags.len() - MAX_DRAWN
        );
    }
    out
}

/// A one-line tally: `2 errors, 1 warning`.
pub fn summary(errors: usize, warnings: usize) -> String {
    let mut s = String::new();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let _ = write!(
        s,
        "{errors} error{}, {warnings} warning{}",
        plural(errors),
        plural(warnings)
    );
    s
}

#[derive(serde::Serialize)]
struct JsonLabel<'a> {
    line: usize,
    column: usize,
    offset: usize,
    length: usize,
    text: std::borrow::Cow<'a, str>,
}

#[derive(serde::Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: Severity,
    message: std::borrow::Cow<'a, str>,
    file: &'a str,
    /// `null` for a problem with no place in the spec (it could not be read).
    line: Option<usize>,
    column: Option<usize>,
    help: Option<std::borrow::Cow<'a, str>>,
    labels: Vec<JsonLabel<'a>>,
}

#[derive(serde::Serialize)]
struct JsonReport<'a> {
    valid: bool,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

/// Renders diagnostics as one JSON document (no source text; messages,
/// help and label texts cleaned as in the graphical report).
pub fn json(diags: &[Diagnostic], source: &Source) -> String {
    let lines = Lines::new(&source.text);
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let report = JsonReport {
        valid: errors == 0,
        errors,
        warnings: diags.len() - errors,
        diagnostics: diags
            .iter()
            .map(|d| {
                let place = (!d.labels.is_empty()).then(|| lines.line_col(d.span().start));
                JsonDiagnostic {
                    code: d.code.as_str(),
                    severity: d.severity,
                    message: snippet::clean(&d.message),
                    file: &source.name,
                    line: place.map(|p| p.0),
                    column: place.map(|p| p.1),
                    help: d.help.as_deref().map(snippet::clean),
                    labels: d
                        .labels
                        .iter()
                        .map(|l| {
                            let (line, column) = lines.line_col(l.span.start);
                            JsonLabel {
                                line,
                                column,
                                offset: l.span.start,
                                length: l.span.len,
                                text: snippet::clean(&l.text),
                            }
                        })
                        .collect(),
                }
            })
            .collect(),
    };
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::Lines;

    #[test]
    fn line_index_agrees_with_a_scan() {
        let text = "ab\nçd\n\nx";
        let idx = Lines::new(text);
        let src = crate::source::Source::new("t", text, crate::source::Dialect::Yaml);
        for off in [0, 1, 3, 5, 6, 7, 8, 9] {
            assert_eq!(idx.line_col(off), src.line_col(off), "offset {off}");
        }
    }
}
