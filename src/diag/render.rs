//! Turning diagnostics into text: miette's graphical report for people,
//! JSON (with line and column) for machines.

use std::fmt::Write as _;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan};

use super::snippet::{self, Lines, Window};
use super::{Diagnostic, Severity};
use crate::source::{Part, Source};

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

/// The line index of each file of a spec, made when first needed.
struct PartLines<'s> {
    source: &'s Source,
    lines: std::collections::HashMap<usize, Lines<'s>>,
}

impl<'s> PartLines<'s> {
    fn new(source: &'s Source) -> Self {
        PartLines {
            source,
            lines: std::collections::HashMap::new(),
        }
    }

    /// The file holding byte `offset`, its text, its line index, and the
    /// offset within it.
    fn at(&mut self, offset: usize) -> (&'s Part, &'s str, &Lines<'s>, usize) {
        let part = self.source.part_at(offset);
        let text = self.source.part_text(part);
        let lines = self
            .lines
            .entry(part.base)
            .or_insert_with(|| Lines::new(text));
        (part, text, lines, offset.saturating_sub(part.base))
    }
}

/// A diagnostic as one file shows it: the labels in the file of its
/// primary place, moved to offsets in that file; those in other files of
/// the spec become notes (`first definition at domains/a.yaml:3:3`)
/// ahead of the help.
fn in_its_file<'s>(diag: &Diagnostic, source: &'s Source) -> (Diagnostic, &'s Part) {
    let part = source.part_at(diag.span().start);
    if source.parts.len() == 1 {
        return (diag.clone(), part);
    }
    let mut local = diag.clone();
    let mut notes = Vec::new();
    local.labels.clear();
    for l in &diag.labels {
        if source.part_at(l.span.start) == part {
            let mut l = l.clone();
            l.span.start -= part.base;
            local.labels.push(l);
        } else {
            let what = if l.text.is_empty() { "also" } else { &l.text };
            notes.push(format!("{what} at {}", source.place(l.span.start)));
        }
    }
    if !notes.is_empty() {
        let mut help = notes.join("; ");
        if let Some(h) = &diag.help {
            help = format!("{help}; {h}");
        }
        local.help = Some(help);
    }
    (local, part)
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
        .with_context_lines(snippet::CONTEXT)
        .with_links(false);
    let mut lines = PartLines::new(source);
    let mut out = String::new();
    for diag in diags.iter().take(MAX_DRAWN) {
        let (diag, part) = in_its_file(diag, source);
        let (_, text, part_lines, _) = lines.at(part.base);
        let spans: Vec<_> = diag.labels.iter().map(|l| l.span).collect();
        let report = Report {
            diag: &diag,
            message: snippet::clean(&diag.message),
            window: Window::new(&part.name, text, part_lines, &spans),
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
    /// Only for a label in another file of the spec than the diagnostic's.
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
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
    /// The file of the primary place (the main spec when there is none);
    /// lines, columns and offsets are within the file they are in.
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
    let mut lines = PartLines::new(source);
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
                let (part, _, part_lines, local) = lines.at(d.span().start);
                let place = (!d.labels.is_empty()).then(|| part_lines.line_col(local));
                JsonDiagnostic {
                    code: d.code.as_str(),
                    severity: d.severity,
                    message: snippet::clean(&d.message),
                    file: &part.name,
                    line: place.map(|p| p.0),
                    column: place.map(|p| p.1),
                    help: d.help.as_deref().map(snippet::clean),
                    labels: d
                        .labels
                        .iter()
                        .map(|l| {
                            let (lpart, _, part_lines, local) = lines.at(l.span.start);
                            let (line, column) = part_lines.line_col(local);
                            JsonLabel {
                                file: (lpart != part).then_some(&*lpart.name),
                                line,
                                column,
                                offset: local,
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
