//! Diagnostics as data: a stable code, a severity, labelled spans, a message and
//! a help line. Rendering (miette's graphical report, JSON) lives in `render`.

mod code;
pub mod render;
pub mod snippet;

pub use code::Code;

use crate::source::{Dialect, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One labelled place in the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// One problem found in a spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// The first label is the primary place.
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// The help as a KDL spec needs it, where it shows spec text that KDL
    /// writes otherwise (`dmarc policy=none` for `dmarc: {policy: none}`).
    /// [`Diagnostics::into_sorted`] puts it in place for a KDL spec.
    pub kdl_help: Option<String>,
    /// For a problem found past the spec's text (in a zone mailc builds, in
    /// a key file): what it is about, so that the spec entry behind it can
    /// be pointed at (`model::locate`).
    pub about: Option<Box<About>>,
}

/// What a problem found in mailc's own output is about, named as the model
/// names it (A-labels, lowercase, no trailing dot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum About {
    /// A domain as a whole.
    Domain(String),
    /// A record of a zone: its owner, type and the name it points at.
    Record {
        owner: String,
        rtype: &'static str,
        target: Option<String>,
    },
    /// A domain's DMARC report addresses.
    DmarcReports(String),
    /// A DKIM key of a domain, by selector.
    DkimKey { domain: String, selector: String },
    /// A file the spec names (a DKIM private key), as written there.
    File(String),
}

impl Diagnostic {
    pub fn error(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: vec![Label {
                span,
                text: String::new(),
            }],
            help: None,
            kdl_help: None,
            about: None,
        }
    }

    pub fn warning(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    /// Sets the text of the primary label.
    pub fn label(mut self, text: impl Into<String>) -> Self {
        if let Some(first) = self.labels.first_mut() {
            first.text = text.into();
        }
        self
    }

    /// Adds a secondary labelled place.
    pub fn with(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// A help that shows spec text: as YAML writes it, and as KDL does.
    pub fn help_in(mut self, yaml: impl Into<String>, kdl: impl Into<String>) -> Self {
        self.help = Some(yaml.into());
        self.kdl_help = Some(kdl.into());
        self
    }

    /// Says what a problem without a place in the spec is about.
    pub fn about(mut self, about: About) -> Self {
        self.about = Some(Box::new(about));
        self
    }

    pub fn span(&self) -> Span {
        self.labels.first().map(|l| l.span).unwrap_or_default()
    }
}

/// Every diagnostic of one run, collected as stages go on.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    /// The dialect of the spec, which decides how helps show spec text.
    dialect: Option<Dialect>,
    /// For a spec of several files: where each file starts and its dialect
    /// (a diagnostic speaks the dialect of the file it points into).
    dialects: Vec<(usize, Dialect)>,
    /// Speaks a help written in YAML's words in KDL's (the spec module's
    /// writer; kept here as a function so diagnostics stay below the spec).
    speak_kdl: Option<fn(&str) -> String>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Takes over every diagnostic of `other` (found on another thread).
    pub fn append(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Says which dialect the spec is written in (`spec::parse` does).
    pub fn set_dialect(&mut self, dialect: Dialect) {
        self.dialect = Some(dialect);
    }

    /// Says where each file of a spec of several files starts, and how it
    /// is written.
    pub fn set_parts(&mut self, parts: impl IntoIterator<Item = (usize, Dialect)>) {
        self.dialects = parts.into_iter().collect();
    }

    /// The dialect of the file holding byte `offset`.
    fn dialect_at(&self, offset: usize) -> Option<Dialect> {
        let i = self.dialects.partition_point(|(base, _)| *base <= offset);
        match i {
            0 => self.dialect,
            i => Some(self.dialects[i - 1].1),
        }
    }

    /// How a help without its own KDL text is spoken to a KDL spec.
    pub fn speak_kdl_with(&mut self, speak: fn(&str) -> String) {
        self.speak_kdl = Some(speak);
    }

    /// The diagnostics in source order (then by code), each once, their
    /// helps in the spec's dialect.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        let dialects: Vec<Option<Dialect>> = self
            .items
            .iter()
            .map(|d| self.dialect_at(d.span().start))
            .collect();
        for (d, dialect) in self.items.iter_mut().zip(dialects) {
            let kdl = dialect == Some(Dialect::Kdl);
            match (d.kdl_help.take(), self.speak_kdl) {
                (Some(h), _) if kdl => d.help = Some(h),
                (None, Some(speak)) if kdl => d.help = d.help.as_deref().map(speak),
                _ => {}
            }
            if let (true, Some(speak)) = (kdl, self.speak_kdl) {
                d.message = speak(&d.message);
            }
        }
        self.items.sort_by(|a, b| {
            (a.span().start, a.code, &a.message).cmp(&(b.span().start, b.code, &b.message))
        });
        self.items.dedup();
        self.items
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }
}

/// "did you mean `x`?" for a near miss among `candidates`.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_l = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&word_l, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(d, c)| *d <= 2.max(c.len() / 4) && *d < c.len().max(word.len()))
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::suggest;

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(
            suggest("mailboxs", ["mailboxes", "aliases"]),
            Some("mailboxes")
        );
        assert_eq!(suggest("mx3", ["mx1", "mx2"]), Some("mx1"));
        assert_eq!(suggest("zzzzzz", ["mx1", "mx2"]), None);
    }
}
