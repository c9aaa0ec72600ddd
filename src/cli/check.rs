//! `mailc check`: compile the spec, ask DNS, print one line per check and a
//! summary; exit 0 in sync, 2 drift, 1 error (docs/cli.md). The
//! checking itself lives in [`crate::live::check`].

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use clap::Args;

use super::context::DiskContext;
use super::{ColorChoice, Format, fail, load};
use crate::live::check::{self, Check, QueryError, Report, Resolvers, Status};
use crate::model::MissingKey;
use crate::plan::render::Paint;

/// Exit code when DNS differs from the spec.
const DRIFT: u8 = 2;

const GREEN: Style = AnsiColor::Green.on_default();
const RED: Style = AnsiColor::Red.on_default();
const CYAN: Style = AnsiColor::Cyan.on_default();

/// Errors shown before the rest are counted.
const SHOWN_ERRORS: usize = 5;

#[derive(Args)]
pub struct CheckArgs {
    /// The spec (default: mailc.yaml, else mailc.kdl).
    spec: Option<PathBuf>,
    /// Ask this DNS server (IP:PORT) instead of the system's resolvers
    /// (/etc/resolv.conf). Given more than once: tried in order, the next
    /// when one does not answer usably.
    #[arg(long, value_name = "IP:PORT")]
    resolver: Vec<SocketAddr>,
    /// Seconds to wait for a server's answer (default: 5, or resolv.conf's
    /// `timeout`).
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// `text` for people, `json` for machines.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub fn run(args: CheckArgs, choice: ColorChoice) -> ExitCode {
    let err_color = choice.color(std::io::stderr().is_terminal());
    let path = load::spec_path(args.spec.as_deref());
    // A key file not made yet only leaves its DKIM record unchecked.
    let loaded = load::load(&path, MissingKey::Warn);
    let model = match loaded.valid(
        err_color,
        "fix it before checking DNS",
        "run `mailc validate`",
    ) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let timeout = match args.timeout {
        Some(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Some(Duration::from_secs_f64(s)),
        Some(s) => {
            return fail(
                &format!("`{s}` is not a timeout in seconds"),
                Some("give a number of seconds between 0 and 3600, like `--timeout 2`"),
            );
        }
        None => None,
    };
    let resolvers = match args.resolver {
        servers if !servers.is_empty() => Resolvers {
            servers,
            timeout: timeout.unwrap_or(Duration::from_secs(5)),
        },
        _ => match Resolvers::system(timeout) {
            Ok(r) => r,
            Err(e) => {
                return fail(
                    &e.to_string(),
                    Some("name a DNS server with `--resolver IP:PORT`"),
                );
            }
        },
    };
    let ctx = DiskContext::new(&loaded.dir, &loaded.dir);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start the DNS client: {e}"), None),
    };
    let report = runtime.block_on(check::run(model, Some(&ctx), &resolvers));
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report.checks).unwrap_or_default()
        ),
        Format::Text => {
            let out_color = choice.color(std::io::stdout().is_terminal());
            print!("{}", text(&report, out_color));
            let mut err = std::io::stderr().lock();
            for n in &report.notes {
                let _ = writeln!(err, "note: {n}");
            }
        }
    }
    if !report.errors.is_empty() {
        query_errors(&report.errors, &resolvers)
    } else if report.drifted() > 0 {
        ExitCode::from(DRIFT)
    } else {
        ExitCode::SUCCESS
    }
}

/// Questions without a usable answer: an error (exit 1), not drift.
fn query_errors(errors: &[QueryError], resolvers: &Resolvers) -> ExitCode {
    let mut err = std::io::stderr().lock();
    for e in errors.iter().take(SHOWN_ERRORS) {
        let _ = writeln!(err, "error: {e}");
    }
    if errors.len() > SHOWN_ERRORS {
        let _ = writeln!(
            err,
            "error: … and {} more questions without a usable answer",
            errors.len() - SHOWN_ERRORS
        );
    }
    let servers: Vec<String> = resolvers.servers.iter().map(|s| s.to_string()).collect();
    let _ = writeln!(
        err,
        "  help: check that {} answers for these names (a name outside its own zones needs a recursive resolver); `--timeout SECS` waits longer",
        servers.join(", ")
    );
    ExitCode::FAILURE
}

fn quoted(records: &[String]) -> String {
    if records.is_empty() {
        return "(none)".into();
    }
    records
        .iter()
        .map(|r| format!("{r:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line per check (and a `help:` under each one out of sync), then the
/// summary.
fn text(report: &Report, color: bool) -> String {
    let mut s = String::new();
    for c in &report.checks {
        s.push_str(&line(c, color));
    }
    let decided = report.checks.len();
    let total = decided + report.unchecked;
    let drifted = report.drifted();
    let unchecked = if report.unchecked > 0 {
        format!(", {} not checked (no usable answer)", report.unchecked)
    } else {
        String::new()
    };
    s.push_str(&format!(
        "{total} check{}: {} in sync, {drifted} drifted{unchecked}.\n",
        if total == 1 { "" } else { "s" },
        decided - drifted
    ));
    s
}

fn line(c: &Check, color: bool) -> String {
    let head = format!("{} {}", c.domain, c.check);
    let mut s = match c.status {
        Status::InSync => match &c.detail {
            Some(d) => format!("{} {head} ({d})\n", Paint(color, GREEN, "✓")),
            None => format!("{} {head}\n", Paint(color, GREEN, "✓")),
        },
        Status::Missing => format!(
            "{} {head}: missing at {} ({}); spec {}\n",
            Paint(color, RED, "✗"),
            c.name,
            c.detail.as_deref().unwrap_or("no record"),
            quoted(&c.expected)
        ),
        Status::Drift => {
            let detail = c
                .detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            format!(
                "{} {head}: live {}, spec {}{detail}\n",
                Paint(color, RED, "✗"),
                quoted(&c.live),
                quoted(&c.expected)
            )
        }
    };
    if let Some(h) = &c.help {
        s.push_str(&format!("  {} {h}\n", Paint(color, CYAN, "help:")));
    }
    s
}
