//! The command line (`docs/cli.md`): parsing arguments, running a
//! command, turning results into output and an exit code.

mod build;
mod check;
mod context;
mod diff;
mod dkim;
mod git;
mod import;
mod incremental;
mod init;
mod load;
mod manual;
mod plan;
mod policy;
mod prompt;
mod push;
mod serve;
mod test;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::diag::{Code, Severity, render};
use crate::model::MissingKey;
use crate::model::{relay, route};
use crate::passwd::{self, Scheme};

#[derive(Parser)]
#[command(
    name = "mailc",
    version,
    about = "A declarative compiler for mail domains",
    long_about = "A declarative compiler for mail domains.\n\n\
        mailc reads a spec (hosts, domains, mailboxes, aliases, catch-alls and routing, in \
        YAML as mailc.yaml or in KDL as mailc.kdl), reports every problem in it at once, and \
        compiles it into DNS zones and the configuration of Postfix, Exim, Dovecot and \
        OpenDKIM, or into the manifest of its own SMTP and IMAP server, mailc serve.",
    max_term_width = 100,
    after_help = manual::examples(&[
        ("mailc init example.org", "Start a spec in an empty folder."),
        ("mailc validate", "Check ./mailc.yaml (else ./mailc.kdl): every problem at once."),
        ("mailc plan && mailc apply", "See what would change in ./out, then write it."),
    ])
)]
pub struct Cli {
    /// When to use color: auto (on a terminal, unless NO_COLOR is set), always, never.
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

impl ColorChoice {
    /// Whether to color one output stream: `auto` means that stream is a
    /// terminal and `NO_COLOR` is unset or empty (no-color.org).
    fn color(self, terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Write a starter spec (and a .gitignore for keys/) into the current folder.
    #[command(after_help = manual::examples(&[
        ("mailc init example.org", "Write mailc.yaml for example.org, asking for admin@example.org's password."),
        ("printf '%s\\n' \"$PW\" | mailc init example.org --kdl", "The same in KDL, the password from a pipe."),
    ]))]
    Init(init::InitArgs),
    /// Parse and check a spec; report every problem at once.
    #[command(after_help = manual::examples(&[
        ("mailc validate", "Check ./mailc.yaml (else ./mailc.kdl)."),
        ("mailc validate site/mailc.kdl --format json", "Every diagnostic as JSON, with line and column."),
    ]))]
    Validate {
        /// The spec (default: mailc.yaml, else mailc.kdl).
        spec: Option<PathBuf>,
        /// `text`: drawn diagnostics on stderr and a summary; `json`: one
        /// document on stdout.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Explain how one address is handled on a host.
    #[command(after_help = manual::examples(&[
        ("mailc route info@example.com", "What every host of the spec does with mail to info@, and why."),
        ("mailc route bob@example.com --host mx2 --format json", "The answer on host mx2, as JSON."),
        ("mailc route --from news@example.com", "Which relay mail from news@example.com to outside addresses leaves each host through."),
    ]))]
    Route {
        /// The recipient address (not with `--from`).
        #[arg(required_unless_present = "from")]
        address: Option<String>,
        /// The spec (default: mailc.yaml, else mailc.kdl).
        spec: Option<PathBuf>,
        /// The host, by key or hostname (default: every host).
        #[arg(long)]
        host: Option<String>,
        /// Instead of a recipient's route: which outbound relay mail from
        /// this sender (an address, or `<>`) to outside addresses leaves
        /// through. The one argument is then the spec.
        #[arg(long, value_name = "SENDER")]
        from: Option<String>,
        /// `text`: the verdict and why; `json`: the outcome, mailboxes,
        /// forwards, next hop, reply and rule as one object (an array of
        /// them when several hosts answer).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Check the spec's `tests`: against the compiled spec, or (`--live`)
    /// against running servers over SMTP.
    #[command(after_help = manual::examples(&[
        ("mailc test", "Check every expectation of ./mailc.yaml against what it compiles to."),
        ("mailc test --live mx1=192.0.2.10 --live mx2=192.0.2.20:2525", "Ask the running servers: the RCPT reply of each tested address."),
    ]))]
    Test(test::TestArgs),
    /// Write a spec from an existing setup: zone files, Postfix + Dovecot,
    /// docker-mailserver, cPanel; report what could not be carried over.
    #[command(after_help = manual::examples(&[
        ("mailc import db.example.com /etc/postfix /etc/dovecot/users", "A zone, Postfix's maps and Dovecot's users into ./mailc.yaml."),
        ("mailc import --root ./server-copy ./server-copy --dialect kdl", "A copy of a cPanel server's files into ./mailc.kdl."),
    ]))]
    Import(import::ImportArgs),
    /// Compare what the spec compiles to at two git revisions: records,
    /// routing verdicts and files (exit 2 when they differ).
    #[command(after_help = manual::examples(&[
        ("mailc diff", "What the uncommitted changes to ./mailc.yaml change: HEAD against the working tree."),
        ("mailc diff origin/main HEAD --format markdown", "A pull request's changes, as a comment to paste."),
    ]))]
    Diff(diff::DiffArgs),
    /// Print the JSON Schema of the spec language.
    #[command(after_help = manual::examples(&[
        ("mailc schema > mailc.schema.json", "Save it for an editor's YAML language server."),
    ]))]
    Schema,
    /// Compile the spec and show what would change in the output folder.
    #[command(after_help = manual::examples(&[
        ("mailc plan", "Compare ./out with what ./mailc.yaml compiles to."),
        ("mailc plan --save change.plan --detailed-exitcode", "Save the plan for review; exit 2 if anything would change."),
    ]))]
    Plan(plan::PlanArgs),
    /// Show the plan, ask, then write exactly it (or a saved plan file).
    #[command(after_help = manual::examples(&[
        ("mailc apply", "Show the plan for ./out and write it once you answer `yes`."),
        ("mailc apply change.plan", "Write a plan saved by `mailc plan --save`, if ./out has not changed since."),
    ]))]
    Apply(plan::ApplyArgs),
    /// Read a new password and print its Dovecot-style hash: typed twice
    /// without echo on a terminal, exactly one line from a pipe.
    #[command(after_help = manual::examples(&[
        ("mailc passwd", "Type the password (not shown); paste the hash into the spec."),
        ("printf '%s\\n' \"$PW\" | mailc passwd --scheme ARGON2ID", "Hash one line from a pipe with Argon2id."),
    ]))]
    Passwd {
        /// SHA512-CRYPT (default), SHA256-CRYPT, BLF-CRYPT, ARGON2I or ARGON2ID.
        #[arg(long, default_value = "SHA512-CRYPT")]
        scheme: String,
    },
    /// DKIM keys.
    #[command(after_help = manual::examples(&[
        ("mailc dkim keygen", "Create every private_key file ./mailc.yaml names that does not exist yet."),
    ]))]
    Dkim {
        #[command(subcommand)]
        command: dkim::DkimCommand,
    },
    /// Compare live DNS with what the spec publishes and report drift.
    #[command(after_help = manual::examples(&[
        ("mailc check", "Ask the system's resolvers; exit 2 when DNS differs from the spec."),
        ("mailc check --resolver 192.0.2.53:53 --format json", "Ask one server; the checks as JSON."),
    ]))]
    Check(check::CheckArgs),
    /// Run the embedded SMTP (MX, submission) and IMAP server for a host.
    #[command(after_help = manual::examples(&[
        ("mailc serve out/server/mx1/manifest.json", "Run what `mailc apply` compiled for host mx1, on its own addresses."),
        ("mailc serve --host mx1 --smtp 127.0.0.1:2525 --imap 127.0.0.1:2143 --data /tmp/mx1", "Try host mx1 of ./mailc.yaml on local ports."),
    ]))]
    Serve(Box<serve::ServeArgs>),
    /// Enforce a Postfix host's sending limits: a policy service Postfix's
    /// submission asks at each RCPT TO.
    #[command(after_help = manual::examples(&[
        ("mailc policy", "Serve /etc/postfix/send_limits on 127.0.0.1:10045, counts in /var/lib/mailc-policy/send-counts."),
        ("mailc policy --limits out/postfix/mx1/send_limits --state /tmp/counts --listen 127.0.0.1:10045", "The same with files of your choice."),
    ]))]
    Policy(policy::PolicyArgs),
    /// Print a shell completion script.
    #[command(after_help = manual::examples(&[
        ("mailc completions bash > ~/.local/share/bash-completion/completions/mailc", "Complete mailc in bash."),
        ("mailc completions zsh > ~/.zfunc/_mailc", "Complete mailc in zsh (with ~/.zfunc in $fpath)."),
    ]))]
    Completions {
        /// The shell the script is for: bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print mailc's manual page (roff), or write every page into a folder.
    #[command(after_help = manual::examples(&[
        ("mailc man | man -l -", "Read the manual page of mailc."),
        ("mailc man --dir /usr/local/share/man/man1", "Install mailc.1 and a page per command (mailc-plan.1, ...)."),
    ]))]
    Man {
        /// The command whose page to print (`plan`, `dkim keygen`); none: mailc's own.
        command: Vec<String>,
        /// Write every page (`mailc.1`, `mailc-validate.1`, ...) into this folder instead.
        #[arg(long, value_name = "DIR", conflicts_with = "command")]
        dir: Option<PathBuf>,
    },
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
    let color = cli.color.color(std::io::stderr().is_terminal());
    match cli.command {
        Command::Validate { spec, format } => validate(spec, format, color),
        Command::Route {
            address,
            spec,
            host,
            from,
            format,
        } => match (from, address) {
            (Some(sender), address) => match (address, spec) {
                (Some(_), Some(_)) => fail(
                    "with --from, give only the spec, not a recipient address",
                    Some("`mailc route --from SENDER [SPEC]`"),
                ),
                (address, spec) => from_cmd(
                    &sender,
                    spec.or(address.map(PathBuf::from)),
                    host,
                    format,
                    color,
                ),
            },
            (None, Some(address)) => route_cmd(&address, spec, host, format, color),
            (None, None) => fail("give a recipient address, or --from SENDER", None),
        },
        Command::Schema => {
            print!("{}", crate::spec::json_schema());
            ExitCode::SUCCESS
        }
        Command::Passwd { scheme } => passwd_cmd(&scheme),
        Command::Init(args) => init::run(args),
        Command::Import(args) => import::run(args),
        Command::Completions { shell } => match manual::completions(shell) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("cannot write the script: {e}"), None),
        },
        Command::Man { command, dir } => man_cmd(&command, dir.as_deref()),
        Command::Dkim { command } => dkim::run(command, color),
        Command::Build { spec, out } => build::run(spec, &out, color),
        Command::Serve(args) => serve::run(*args, color),
        Command::Policy(args) => policy::run(args),
        Command::Plan(args) => plan::plan(args, cli.color),
        Command::Apply(args) => plan::apply(args, cli.color),
        Command::Check(args) => check::run(args, cli.color),
        Command::Test(args) => test::run(args, color),
        Command::Diff(args) => diff::run(args, cli.color),
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

/// The spec file could not be read at all (missing, a folder, unreadable).
fn unread(loaded: &load::Loaded) -> bool {
    loaded.diagnostics.iter().any(|d| d.code == Code::Io) && loaded.source.text.is_empty()
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
            if unread(&loaded) {
                eprintln!("error: no spec was read");
            } else if errors > 0 {
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
                // `validate` judges the spec; `plan` and `apply` also need
                // the keys to sign with, and say so as errors.
                let missing_keys = loaded
                    .diagnostics
                    .iter()
                    .filter(|d| d.code == crate::diag::Code::DkimKeyMissing)
                    .count();
                if missing_keys > 0 {
                    eprintln!(
                        "note: `mailc plan` and `mailc apply` refuse this spec until `mailc dkim keygen` has made the {} it names",
                        if missing_keys == 1 {
                            "missing DKIM key file".to_string()
                        } else {
                            format!("{missing_keys} missing DKIM key files")
                        }
                    );
                }
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

/// The spec's model and the hosts a route question is asked of (`--host`,
/// else every host), or the exit code of the failure already reported.
fn route_hosts(
    spec: Option<PathBuf>,
    host: Option<String>,
    color: bool,
) -> Result<(load::Loaded, Vec<String>), ExitCode> {
    let path = load::spec_path(spec.as_deref());
    let loaded = load::load(&path, MissingKey::Warn);
    let model = loaded.valid(
        color,
        "fix it before asking for routes",
        "run `mailc validate`",
    )?;
    let hosts: Vec<String> = match host {
        Some(h) => match host_key(model, &h) {
            Some(k) => vec![k],
            None => {
                let keys: Vec<&str> = model.hosts.keys().map(String::as_str).collect();
                let help = match crate::diag::suggest(&h, keys.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "give a host key or hostname; the hosts are: {}",
                        model
                            .hosts
                            .values()
                            .map(|x| format!("{} ({})", x.key, x.hostname))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                return Err(fail(
                    &format!("`{h}` is not a host of {}", loaded.source.name),
                    Some(&help),
                ));
            }
        },
        // Without `--host`, every host answers.
        None => model.hosts.keys().cloned().collect(),
    };
    if hosts.is_empty() {
        return Err(fail(
            &format!("{} has no hosts to route on", loaded.source.name),
            Some("define the mail servers under `hosts`"),
        ));
    }
    Ok((loaded, hosts))
}

/// Prints one answer per host: the object alone for one host, else an
/// array in host order (JSON), or each answer's text.
fn print_answers<T: serde::Serialize>(answers: &[T], format: Format, text: impl Fn(&T) -> String) {
    match format {
        Format::Json if answers.len() == 1 => println!(
            "{}",
            serde_json::to_string_pretty(&answers[0]).unwrap_or_default()
        ),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(answers).unwrap_or_default()
        ),
        Format::Text => {
            for a in answers {
                print!("{}", text(a));
            }
        }
    }
}

fn route_cmd(
    address: &str,
    spec: Option<PathBuf>,
    host: Option<String>,
    format: Format,
    color: bool,
) -> ExitCode {
    let (loaded, hosts) = match route_hosts(spec, host, color) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(model) = &loaded.model else {
        return ExitCode::FAILURE;
    };
    let routes: Vec<route::Route> = hosts
        .iter()
        .map(|h| route::route(model, h, address))
        .collect();
    print_answers(&routes, format, |r| explain(model, r));
    ExitCode::SUCCESS
}

/// `mailc route --from SENDER`: the outbound relay of each host.
fn from_cmd(
    sender: &str,
    spec: Option<PathBuf>,
    host: Option<String>,
    format: Format,
    color: bool,
) -> ExitCode {
    let sender = match relay::sender_syntax(sender) {
        Ok(s) => s,
        Err(why) => {
            return fail(
                &format!("`{sender}` is not a sender address: {why}"),
                Some("give an address like `news@example.com`, or `<>` for bounces"),
            );
        }
    };
    let (loaded, hosts) = match route_hosts(spec, host, color) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(model) = &loaded.model else {
        return ExitCode::FAILURE;
    };
    let answers: Vec<relay::Outbound> = hosts
        .iter()
        .filter_map(|h| model.hosts.get(h))
        .map(|h| relay::outbound(model, h, &sender))
        .collect();
    print_answers(&answers, format, explain_outbound);
    ExitCode::SUCCESS
}

/// An outbound answer in words.
fn explain_outbound(o: &relay::Outbound) -> String {
    let who = if o.sender.is_empty() {
        "<>".to_string()
    } else {
        o.sender.clone()
    };
    let way = match (&o.relay, &o.next_hop, o.tls) {
        (Some(name), Some(hop), Some(tls)) => {
            let tls = match tls {
                crate::vocab::RelayTls::Implicit => "TLS from the first byte",
                crate::vocab::RelayTls::Starttls => "STARTTLS required",
                crate::vocab::RelayTls::Opportunistic => "STARTTLS when offered",
            };
            let auth = if o.auth { ", logged in" } else { "" };
            format!("through relay `{name}` ({hop}, {tls}{auth})")
        }
        _ => "straight to each recipient domain's MX".to_string(),
    };
    let why = match o.rule {
        relay::OutboundRule::Address => format!(
            "the address is among relay `{}`'s senders",
            o.relay.as_deref().unwrap_or("")
        ),
        relay::OutboundRule::Domain => format!(
            "the sender's domain is among relay `{}`'s senders",
            o.relay.as_deref().unwrap_or("")
        ),
        relay::OutboundRule::Host => format!(
            "host `{}` sends all other outbound mail through it (`outbound_relay`)",
            o.host
        ),
        relay::OutboundRule::Direct => {
            "no relay's senders name the sender, and the host has no `outbound_relay`".to_string()
        }
    };
    format!("mail from {who} on {} leaves {way}\n  why: {why}\n", o.host)
}

/// The key of the host `given` names: a host key, else a hostname (any
/// case, a final dot or not, Unicode or A-labels).
fn host_key(model: &crate::model::Model, given: &str) -> Option<String> {
    if model.hosts.contains_key(given) {
        return Some(given.to_string());
    }
    let name = crate::model::names::fqdn(given.strip_suffix('.').unwrap_or(given)).ok()?;
    model
        .hosts
        .values()
        .find(|h| h.hostname == name)
        .map(|h| h.key.clone())
}

/// A route in words, for people: the verdict, then the rule that decided.
fn explain(model: &crate::model::Model, r: &route::Route) -> String {
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
        Drop => s.push_str("accepted, then discarded"),
    }
    if r.outcome == Deliver && !r.forward.is_empty() {
        s.push_str(&format!("; also forwarded to {}", r.forward.join(", ")));
    }
    s.push_str(&format!("\n  why: {}\n", route::why(model, r)));
    if !r.rules.is_empty() {
        s.push_str(&format!(
            "  rules: {} {} rules or an autoresponder; they apply after delivery, to each message as it comes\n",
            r.rules.join(", "),
            if r.rules.len() == 1 { "has" } else { "have" }
        ));
    }
    s
}

fn man_cmd(command: &[String], dir: Option<&std::path::Path>) -> ExitCode {
    if let Some(dir) = dir {
        return match manual::write_pages(dir) {
            Ok(names) => {
                println!("wrote {} pages into {}", names.len(), dir.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(&format!("cannot write into `{}`: {e}", dir.display()), None),
        };
    }
    match manual::page(command) {
        Ok(page) => {
            let mut out = std::io::stdout().lock();
            if out.write_all(&page).and_then(|()| out.flush()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, Some("`mailc man` alone prints mailc's own page")),
    }
}

fn passwd_cmd(scheme: &str) -> ExitCode {
    let Some(scheme) = Scheme::from_name(scheme) else {
        let names: Vec<&str> = Scheme::ALL.iter().map(|s| s.name()).collect();
        return fail(
            &format!("`{scheme}` is not a supported scheme"),
            Some(&format!("use one of {}", names.join(", "))),
        );
    };
    let pw = match prompt::password("Password") {
        Ok(pw) => pw,
        Err(e) => return fail(&e.to_string(), Some(e.help())),
    };
    match passwd::hash(&pw, scheme) {
        Ok(h) => {
            println!("{h}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("cannot hash the password: {e}"), None),
    }
}
