//! Turning diagnostics into text: miette's graphical report for people,
//! JSON (with line and column) for machines.

use std::fmt::Write as _;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};

use super::{Diagnostic, Severity};
use crate::source::Source;

/// A diagnostic bound to its source, as miette wants it.
struct Report<'a> {
    diag: &'a Diagnostic,
    source: NamedSource<String>,
}

impl std::fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diag.message)
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
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.diag.labels.iter().map(|l| {
            let text = (!l.text.is_empty()).then(|| l.text.clone());
            LabeledSpan::new_with_span(text, l.span)
        })))
    }
}

/// Renders diagnostics for a terminal. `color` picks ANSI styling.
pub fn graphical(diags: &[Diagnostic], source: &Source, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let named = NamedSource::new(&*source.name, source.text.to_string());
    let mut out = String::new();
    for diag in diags {
        let report = Report {
            diag,
            source: named.clone(),
        };
        let _ = handler.render_report(&mut out, &report);
        out.push('\n');
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
    text: &'a str,
}

#[derive(serde::Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: Severity,
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    help: Option<&'a str>,
    labels: Vec<JsonLabel<'a>>,
}

#[derive(serde::Serialize)]
struct JsonReport<'a> {
    valid: bool,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

/// Renders diagnostics as one JSON document.
pub fn json(diags: &[Diagnostic], source: &Source) -> String {
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
                let (line, column) = source.line_col(d.span().start);
                JsonDiagnostic {
                    code: d.code.as_str(),
                    severity: d.severity,
                    message: &d.message,
                    file: &source.name,
                    line,
                    column,
                    help: d.help.as_deref(),
                    labels: d
                        .labels
                        .iter()
                        .map(|l| {
                            let (line, column) = source.line_col(l.span.start);
                            JsonLabel {
                                line,
                                column,
                                offset: l.span.start,
                                length: l.span.len,
                                text: &l.text,
                            }
                        })
                        .collect(),
                }
            })
            .collect(),
    };
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}
