//! The command line (`docs/cli.md`): parsing arguments, running a
//! command, turning results into output and an exit code.

mod build;
mod check;
mod context;
mod dkim;
mod load;
mod plan;
mod serve;

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::diag::{Severity, render};
use crate::model::route;
use crate::passwd::{self, Scheme};
use crate::validate::dkim::MissingKey;

#[derive(Parser)]
#[command(
    name = "mailc",
    version,
    about = "A declarative compiler for mail domains",
    max_term_width = 100
)]
pub struct Cli {
    /// When to use colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and check a spec; report every problem at once.
    Validate {
        /// The spec (default: mailc.yaml, else mailc.kdl).
        spec: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Explain how one address is handled on a host.
    Route {
        /// The recipient address.
        address: String,
        /// The spec (default: mailc.yaml, else mailc.kdl).
        spec: Option<PathBuf>,
        /// The host key (may be left out when the spec has one host).
        #[arg(long)]
        host: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the JSON Schema of the spec language.
    Schema,
    /// Compile the spec and show what would change in the output folder.
    Plan(plan::PlanArgs),
    /// Show the plan, ask, then write exactly it (or a saved plan file).
    Apply(plan::ApplyArgs),
    /// Read a password on stdin and print its Dovecot-style hash.
    Passwd {
        /// SHA512-CRYPT (default), SHA256-CRYPT, BLF-CRYPT, ARGON2I or ARGON2ID.
        #[arg(long, default_value = "SHA512-CRYPT")]
        scheme: String,
    },
    /// DKIM keys.
    Dkim {
        #[command(subcommand)]
        command: dkim::DkimCommand,
    },
    /// Compare live DNS with what the spec publishes and report drift.
    Check(check::CheckArgs),
    /// Run the embedded SMTP (MX, submission) and IMAP server for a host.
    Serve(Box<serve::ServeArgs>),
    /// Compile and write every output file into a folder (development aid).
    #[command(hide = true)]
    Build {
        /// The spec (default: mailc.yaml, else mailc.kdl).
        spec: Option<PathBuf>,
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
}

/// Exit code of a usage error (unknown flag or command, bad flag value).
/// clap's own is 2, which `plan --detailed-exitcode` and `check` use for
/// "changes pending" and "drift": a typo must never read as either.
const USAGE: u8 = 1;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // `--help` and `--version` are answers, not errors.
            return if e.use_stderr() {
                ExitCode::from(USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    };
    match cli.command {
        Command::Validate { spec, format } => validate(spec, format, color),
        Command::Route {
            address,
            spec,
            host,
            format,
        } => route_cmd(&address, spec, host, format, color),
        Command::Schema => {
            print!("{}", crate::spec::json_schema());
            ExitCode::SUCCESS
        }
        Command::Passwd { scheme } => passwd_cmd(&scheme),
        Command::Dkim { command } => dkim::run(command, color),
        Command::Build { spec, out } => build::run(spec, &out, color),
        Command::Serve(args) => serve::run(*args, color),
        Command::Plan(args) => plan::plan(args, cli.color),
        Command::Apply(args) => plan::apply(args, cli.color),
        Command::Check(args) => check::run(args, cli.color),
    }
}

fn fail(msg: &str, help: Option<&str>) -> ExitCode {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {msg}");
    if let Some(h) = help {
        let _ = writeln!(err, "  help: {h}");
    }
    ExitCode::FAILURE
}

fn validate(spec: Option<PathBuf>, format: Format, color: bool) -> ExitCode {
    let path = load::spec_path(spec.as_deref());
    let loaded = load::load(&path, MissingKey::Warn);
    let errors = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = loaded.diagnostics.len() - errors;
    match format {
        Format::Json => print!("{}", render::json(&loaded.diagnostics, &loaded.source)),
        Format::Text => {
            eprint!(
                "{}",
                render::graphical(&loaded.diagnostics, &loaded.source, color)
            );
            if errors > 0 {
                eprintln!(
                    "error: {} is invalid ({})",
                    loaded.source.name,
                    render::summary(errors, warnings)
                );
            } else if let Some(m) = &loaded.model {
                let mailboxes: usize = m.domains.values().map(|d| d.mailboxes.len()).sum();
                let plural =
                    |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
                println!(
                    "{} is valid: {}, {}, {}{}",
                    loaded.source.name,
                    plural(m.hosts.len(), "host"),
                    plural(m.domains.len(), "domain"),
                    if mailboxes == 1 {
                        "1 mailbox".to_string()
                    } else {
                        format!("{mailboxes} mailboxes")
                    },
                    if warnings > 0 {
                        format!(" ({})", plural(warnings, "warning"))
                    } else {
                        String::new()
                    }
                );
            }
        }
    }
    loaded.release();
    if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn route_cmd(
    address: &str,
    spec: Option<PathBuf>,
    host: Option<String>,
    format: Format,
    color: bool,
) -> ExitCode {
    let path = load::spec_path(spec.as_deref());
    let loaded = load::load(&path, MissingKey::Warn);
    let Some(model) = &loaded.model else {
        let errs: Vec<_> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .cloned()
            .collect();
        eprint!("{}", render::graphical(&errs, &loaded.source, color));
        return fail(
            &format!(
                "{} is invalid; fix it before asking for routes",
                loaded.source.name
            ),
            Some("run `mailc validate`"),
        );
    };
    let host = match host {
        Some(h) if model.hosts.contains_key(&h) => h,
        Some(h) => {
            let keys: Vec<&str> = model.hosts.keys().map(String::as_str).collect();
            let help = match crate::diag::suggest(&h, keys.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the hosts are: {}", keys.join(", ")),
            };
            return fail(
                &format!("`{h}` is not a host of {}", loaded.source.name),
                Some(&help),
            );
        }
        None if model.hosts.len() == 1 => model.hosts.keys().next().cloned().unwrap_or_default(),
        None => {
            let keys: Vec<&str> = model.hosts.keys().map(String::as_str).collect();
            return fail(
                "the spec has more than one host; say which with `--host`",
                Some(&format!(
                    "the hosts are: {}",
                    if keys.is_empty() {
                        "(none)".into()
                    } else {
                        keys.join(", ")
                    }
                )),
            );
        }
    };
    let r = route::route(model, &host, address);
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default()),
        Format::Text => print!("{}", explain(&r)),
    }
    ExitCode::SUCCESS
}

/// A route in words, for people.
fn explain(r: &route::Route) -> String {
    use route::Outcome::*;
    let mut s = format!("{} on {}: ", r.address, r.host);
    match r.outcome {
        Deliver => s.push_str(&format!("delivered to {}", r.mailboxes.join(", "))),
        Forward => s.push_str(&format!("forwarded to {}", r.forward.join(", "))),
        Relay => s.push_str(&format!(
            "relayed to {}",
            r.next_hop.as_deref().unwrap_or("?")
        )),
        Remote => s.push_str(
            "not a local domain here: sent out by MX lookup (for authenticated senders only)",
        ),
        Reject => s.push_str(&format!("refused: {}", r.reply.as_deref().unwrap_or(""))),
        Bounce => s.push_str("accepted, then bounced with a non-delivery report"),
    }
    if r.outcome == Deliver && !r.forward.is_empty() {
        s.push_str(&format!("; also forwarded to {}", r.forward.join(", ")));
    }
    s.push('\n');
    s
}

fn passwd_cmd(scheme: &str) -> ExitCode {
    let Some(scheme) = Scheme::from_name(scheme) else {
        let names: Vec<&str> = Scheme::ALL.iter().map(|s| s.name()).collect();
        return fail(
            &format!("`{scheme}` is not a supported scheme"),
            Some(&format!("use one of {}", names.join(", "))),
        );
    };
    if std::io::stdin().is_terminal() {
        eprint!("Password: ");
    }
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        return fail(&format!("cannot read the password from stdin: {e}"), None);
    }
    let pw = input.lines().next().unwrap_or("");
    if pw.is_empty() {
        return fail(
            "the password is empty",
            Some("pipe the password in: `printf '%s' \"$PW\" | mailc passwd`"),
        );
    }
    match passwd::hash(pw, scheme) {
        Ok(h) => {
            println!("{h}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("cannot hash the password: {e}"), None),
    }
}
