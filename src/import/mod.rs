//! `mailc import` (docs/import.md): an existing setup — BIND zone files,
//! Postfix + Dovecot, docker-mailserver, cPanel — into a spec that compiles
//! to the same behaviour, and a report of everything it could not carry
//! over. Nothing is written unless every source was read; before that, the
//! spec is compiled and its zones and routes are compared with the
//! sources' own ([`verify`]).
//!
//! One module per source kind (`zone`/`dns`, `postfix`, `dms`, `cpanel`,
//! with `accounts` for passwords and passwd-files), `source` reading each
//! one and `assemble` building the draft from what they said, `draft` for
//! the spec being assembled, `write` for its YAML and KDL, `report` for
//! findings.

mod assemble;
mod source;

mod accounts;

mod cpanel;

mod dms;

mod dns;

mod draft;

mod files;

mod mail;

mod postfix;

pub mod report;

mod verify;

mod write;

pub mod zone;

use accounts::{Password, User};
use draft::{Domain, Draft, Host, Mailbox, Mx, Unknown};
use files::Confine;
use hickory_proto::rr::{Name, RData};
use mail::{AliasUnknown, MailSource, Role, SrcUnknown};
use report::{Finding, Severity};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use verify::Expect;

pub use report::Finding as ImportFinding;

use assemble::*;
use source::*;

/// How to import.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Write KDL instead of YAML.
    pub kdl: bool,
    /// A copy of a server's file system: absolute paths named in the
    /// sources are read below it, and nothing outside it is read.
    pub root: Option<PathBuf>,
    /// The spec's file name, for the compiled spec's diagnostics.
    pub spec_name: String,
}

/// The result of an import.
#[derive(Debug)]
pub struct Imported {
    /// The spec's text.
    pub text: String,
    /// The report: warnings and notes, sorted.
    pub findings: Vec<Finding>,
    pub hosts: usize,
    pub domains: usize,
    pub mailboxes: usize,
    pub aliases: usize,
}

/// Why an import stopped: its errors, or a spec that does not compile.
#[derive(Debug)]
pub enum Failure {
    /// Problems in the sources; nothing was written.
    Sources(Vec<Finding>),
    /// The assembled spec does not compile (the spec text, and its own
    /// diagnostics drawn).
    Spec { text: String, rendered: String },
}

/// Everything the sources say, before assembly.
#[derive(Default)]
struct Parts {
    zones: Vec<(zone::ZoneFile, String)>,
    mail: Vec<MailSource>,
    users: Vec<BTreeMap<String, User>>,
}

/// Imports `sources`: the spec and its report, or why not.
pub fn run(sources: &[String], opts: &Options) -> Result<Imported, Failure> {
    let mut parts = Parts::default();
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    if sources.is_empty() {
        return Err(Failure::Sources(vec![Finding::error("mailc import", None, "no source given").help(
            "name zone files, Postfix's config folder, a Dovecot passwd-file, a docker-mailserver config folder or a copy of a cPanel server",
        )]));
    }
    for arg in sources {
        if let Err(e) = read_source(arg, opts, &mut parts, &mut findings) {
            errors.push(e);
        }
    }
    if !errors.is_empty() {
        report::sort(&mut errors);
        return Err(Failure::Sources(errors));
    }
    let (draft, zones, expects) = assemble(parts, &mut findings);
    let errs: Vec<Finding> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .cloned()
        .collect();
    if !errs.is_empty() {
        return Err(Failure::Sources(errs));
    }
    let header = write::Header { sources };
    let text = if opts.kdl {
        write::kdl(&draft, &header)
    } else {
        write::yaml(&draft, &header)
    };
    let model = match verify::compile(&opts.spec_name, &text, opts.kdl) {
        Ok(m) => m,
        Err((source, diags)) => {
            return Err(Failure::Spec {
                rendered: places(&source, &diags),
                text,
            });
        }
    };
    verify::compare_zones(&model, &zones, &mut findings);
    let mut draft = draft;
    draft.tests = verify::compare_routes(&model, &expects, &mut findings);
    let text = if draft.tests.is_empty() {
        text
    } else {
        // The same spec with its tests, which must compile too.
        let with_tests = if opts.kdl {
            write::kdl(&draft, &header)
        } else {
            write::yaml(&draft, &header)
        };
        if let Err((source, diags)) = verify::compile(&opts.spec_name, &with_tests, opts.kdl) {
            return Err(Failure::Spec {
                rendered: places(&source, &diags),
                text: with_tests,
            });
        }
        with_tests
    };
    report::sort(&mut findings);
    Ok(Imported {
        text,
        findings,
        hosts: draft.hosts.len(),
        domains: draft.domains.len(),
        mailboxes: draft.domains.values().map(|d| d.mailboxes.len()).sum(),
        aliases: draft.domains.values().map(|d| d.aliases.len()).sum(),
    })
}

/// A spec's diagnostics by place and message only: its lines hold password
/// hashes, which no message may show.
fn places(source: &crate::source::Source, diags: &[crate::diag::Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| {
            let (line, col) = source.line_col(d.span().start);
            format!(
                "{}:{line}:{col}: {} [{}]\n",
                source.name,
                d.message,
                d.code.as_str()
            )
        })
        .collect()
}
