//! What `mailc import` tells its user: errors that stop it (nothing is
//! written) and the report of everything it could not carry over, each at
//! the file and line it comes from.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The import stops; nothing is written.
    Error,
    /// Something of the source is not carried over, or behaves otherwise.
    Warning,
    /// Carried over in another form, with the same effect.
    Note,
}

/// One problem or report item, at a file (as the user named it) and line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl Finding {
    pub fn new(
        severity: Severity,
        file: &str,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            severity,
            file: file.to_string(),
            line,
            message: message.into(),
            help: None,
        }
    }

    pub fn error(file: &str, line: Option<usize>, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, file, line, message)
    }

    pub fn warning(file: &str, line: Option<usize>, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, file, line, message)
    }

    pub fn note(file: &str, line: Option<usize>, message: impl Into<String>) -> Self {
        Self::new(Severity::Note, file, line, message)
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The place, `FILE:LINE` (or `FILE`).
    pub fn place(&self) -> String {
        match self.line {
            Some(l) => format!("{}:{l}", self.file),
            None => self.file.clone(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        write!(f, "{word}: {}: {}", self.place(), self.message)?;
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

/// Findings in a stable order: by file, line, then severity and text.
pub fn sort(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.severity, &a.message).cmp(&(&b.file, b.line, b.severity, &b.message))
    });
    findings.dedup();
}
