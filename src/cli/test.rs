//! `mailc test`: the spec's `tests` checked against the compiled model, or
//! (`--live`) its route tests against running servers over SMTP.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use super::{Format, fail, load};
use crate::diag::render;
use crate::expect::check::{self, Checked};
use crate::expect::live::{self, Target};
use crate::model::MissingKey;
use crate::source::Source;

#[derive(Args)]
pub struct TestArgs {
    /// The spec (default: mailc.yaml, else mailc.kdl).
    spec: Option<PathBuf>,
    /// Check the route tests of host HOST against the server listening at
    /// ADDRESS (port 25 unless given) over SMTP: the RCPT reply of each
    /// address; no message is sent. Give it once per server.
    #[arg(long, value_name = "HOST=ADDRESS[:PORT]", value_parser = live::parse_target)]
    live: Vec<Target>,
    /// Seconds to wait for each SMTP reply with `--live`.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: u64,
    /// `text`: each failed expectation drawn at its place, then a summary;
    /// `json`: every check as one document on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// One check in `--format json`.
#[derive(Serialize)]
struct JsonCheck<'a> {
    #[serde(flatten)]
    check: &'a Checked,
    file: &'a str,
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    passed: usize,
    failed: usize,
    checks: Vec<JsonCheck<'a>>,
}

pub fn run(args: TestArgs, color: bool) -> ExitCode {
    let path = load::spec_path(args.spec.as_deref());
    let loaded = load::load(&path, MissingKey::Warn);
    let name = loaded.source.name.clone();
    let model = match loaded.valid(color, "fix it before testing it", "run `mailc validate`") {
        Ok(m) => m,
        Err(code) => return code,
    };
    if loaded.tests.is_empty() {
        return fail(
            &format!("{name} has no `tests`: nothing to check"),
            Some(
                "add a `tests` section that says what must become of mail to your addresses (docs/spec.md, \"Tests\")",
            ),
        );
    }
    let mut checks = Vec::new();
    let mut errors = Vec::new();
    if args.live.is_empty() {
        checks = check::run(model, &loaded.tests);
    } else {
        let timeout = Duration::from_secs(args.timeout);
        for target in &args.live {
            let Some(host) = super::host_key(model, &target.host) else {
                return fail(
                    &format!("`{}` is not a host of {name}", target.host),
                    Some(
                        "give `--live HOST=ADDRESS[:PORT]` with a host key or hostname of the spec",
                    ),
                );
            };
            let tests: Vec<_> = check::route_tests(&loaded.tests)
                .map(|(_, t)| t)
                .filter(|t| check::hosts_of(model, t).contains(&host))
                .collect();
            if tests.is_empty() {
                errors.push(format!("{name} has no route tests for host `{host}`"));
                continue;
            }
            let addresses: Vec<String> = tests.iter().map(|t| t.address.clone()).collect();
            match live::probe(&target.server, &addresses, timeout) {
                Ok(replies) => checks.extend(
                    tests
                        .iter()
                        .zip(&replies)
                        .map(|(t, r)| live::judge(t, &host, &target.server, r)),
                ),
                Err(e) => errors.push(format!("cannot test host `{host}`: {e}")),
            }
        }
    }
    // In the order of the file, as every diagnostic.
    checks.sort_by_key(|c| c.at.start);
    let failed: Vec<&Checked> = checks.iter().filter(|c| !c.passed).collect();
    match args.format {
        Format::Json => print!("{}", json(&checks, &loaded.source)),
        Format::Text => {
            let diags: Vec<_> = failed.iter().map(|c| c.diagnostic()).collect();
            eprint!("{}", render::graphical(&diags, &loaded.source, color));
            if failed.is_empty() && errors.is_empty() {
                println!("{name}: {} passed", plural(checks.len(), "check", "checks"));
            } else if !failed.is_empty() {
                eprintln!(
                    "error: {} of {} failed",
                    failed.len(),
                    plural(checks.len(), "check", "checks")
                );
            }
        }
    }
    for e in &errors {
        eprintln!("error: {e}");
    }
    loaded.release();
    if failed.is_empty() && errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn json(checks: &[Checked], source: &Source) -> String {
    let failed = checks.iter().filter(|c| !c.passed).count();
    let report = JsonReport {
        passed: checks.len() - failed,
        failed,
        checks: checks
            .iter()
            .map(|c| {
                let (line, column) = source.line_col(c.at.start);
                JsonCheck {
                    check: c,
                    file: &source.name,
                    line,
                    column,
                }
            })
            .collect(),
    };
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}
