//! What mailc says about itself, generated from the clap definitions: the
//! examples at the end of each `--help`, shell completions
//! (`mailc completions SHELL`) and manual pages in roff (`mailc man`).

use std::io::{self, Write};
use std::path::Path;

use clap::CommandFactory;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

use super::Cli;

/// The `Examples:` block that ends a command's `--help`: each command line,
/// then what it does. [`examples_roff`] reads the same text back for the
/// manual page, so the two never differ.
pub(crate) fn examples(list: &[(&str, &str)]) -> String {
    let mut s = String::from("Examples:");
    for (line, what) in list {
        s.push_str(&format!("\n  {line}\n      {what}"));
    }
    s
}

/// The date the manual pages carry: that of the release they describe
/// (a fixed string, so the same binary always prints the same pages).
const MANUAL_DATE: &str = "2026-12-07";

/// The command tree as the manual shows it: `mailc`, its subcommands named
/// `mailc-validate` and so on (the pages' names). Possible values are left
/// to each flag's description, which names them in a sentence.
fn command() -> clap::Command {
    fn plain(cmd: clap::Command) -> clap::Command {
        cmd.mut_args(|a| {
            let takes_values = a.get_action().takes_values();
            a.hide_possible_values(takes_values)
        })
        .mut_subcommands(plain)
    }
    let mut cmd = plain(Cli::command().disable_help_subcommand(true));
    cmd.build();
    cmd
}

/// Prints the completion script for `shell` on stdout.
pub(crate) fn completions(shell: clap_complete::Shell) -> io::Result<()> {
    let mut cmd = Cli::command();
    let mut out = io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "mailc", &mut out);
    out.flush()
}

/// The manual page of `mailc` (an empty `path`) or of one of its commands
/// (`["dkim", "keygen"]`), in roff.
pub(crate) fn page(path: &[String]) -> Result<Vec<u8>, String> {
    let mut cmd = command();
    for name in path {
        let names: Vec<String> = cmd
            .get_subcommands()
            .filter(|c| !c.is_hide_set())
            .map(|c| c.get_name().to_string())
            .collect();
        let next = cmd
            .get_subcommands()
            .find(|c| !c.is_hide_set() && c.get_name() == name)
            .cloned()
            .ok_or_else(|| {
                format!(
                    "`{name}` is not a command with a manual page; they are: {}",
                    names.join(", ")
                )
            })?;
        cmd = next;
    }
    let mut buf = Vec::new();
    render(&cmd, path.is_empty(), &mut buf).map_err(|e| e.to_string())?;
    Ok(buf)
}

/// Writes every manual page (`mailc.1`, `mailc-validate.1`, …) into `dir`
/// and returns their file names.
pub(crate) fn write_pages(dir: &Path) -> io::Result<Vec<String>> {
    fn walk(cmd: &clap::Command, top: bool, dir: &Path, names: &mut Vec<String>) -> io::Result<()> {
        let name = format!("{}.1", display_name(cmd));
        let mut buf = Vec::new();
        render(cmd, top, &mut buf)?;
        std::fs::write(dir.join(&name), buf)?;
        names.push(name);
        for sub in cmd.get_subcommands().filter(|c| !c.is_hide_set()) {
            walk(sub, false, dir, names)?;
        }
        Ok(())
    }
    std::fs::create_dir_all(dir)?;
    let mut names = Vec::new();
    walk(&command(), true, dir, &mut names)?;
    Ok(names)
}

fn display_name(cmd: &clap::Command) -> &str {
    cmd.get_display_name().unwrap_or_else(|| cmd.get_name())
}

/// One page: clap_mangen's title, name, synopsis, description, options and
/// command list, then the examples, and for `mailc` itself what a manual
/// page of a command-line tool also says (exit status, environment, files).
fn render(cmd: &clap::Command, top: bool, w: &mut dyn Write) -> io::Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    let man = Man::new(cmd.clone())
        .title(display_name(cmd).to_uppercase())
        .date(MANUAL_DATE)
        .source(format!("mailc {version}"))
        .manual("mailc manual");
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut page)?;
    }
    if cmd.get_subcommands().any(|c| !c.is_hide_set()) {
        man.render_subcommands_section(&mut page)?;
    }
    // Each part opens with the same two lines defining `\*(Aq`: once is enough.
    let text = String::from_utf8_lossy(&page);
    let mut seen = std::collections::HashSet::new();
    for line in text.lines() {
        let preamble = line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq");
        if !preamble || seen.insert(line) {
            writeln!(w, "{line}")?;
        }
    }
    let mut roff = Roff::default();
    if let Some(text) = cmd.get_after_help() {
        examples_roff(&text.to_string(), &mut roff);
    }
    if top {
        top_sections(&mut roff);
    } else {
        roff.control("SH", ["SEE ALSO"]);
        roff.text([roman("mailc(1)")]);
    }
    roff.to_writer(w)
}

/// The `Examples:` block of [`examples`] as an EXAMPLES section.
fn examples_roff(text: &str, roff: &mut Roff) {
    let mut lines = text.lines();
    if lines.next() != Some("Examples:") {
        return;
    }
    roff.control("SH", ["EXAMPLES"]);
    for line in lines {
        if let Some(what) = line.strip_prefix("      ") {
            roff.text([roman(what)]);
        } else if let Some(cmd) = line.strip_prefix("  ") {
            roff.control("TP", []);
            roff.text([bold(cmd)]);
        }
    }
}

fn top_sections(roff: &mut Roff) {
    let item = |roff: &mut Roff, term: &str, text: &str| {
        roff.control("TP", []);
        roff.text([bold(term)]);
        roff.text([roman(text)]);
    };
    roff.control("SH", ["EXIT STATUS"]);
    item(
        roff,
        "0",
        "Success: the spec is valid, the plan was shown or applied, DNS is in sync.",
    );
    item(
        roff,
        "1",
        "An error: an invalid spec, a usage error, a declined or refused apply, a DNS question without an answer.",
    );
    item(
        roff,
        "2",
        "Only from mailc plan --detailed-exitcode (changes pending) and mailc check (DNS differs from the spec).",
    );
    roff.control("SH", ["ENVIRONMENT"]);
    item(
        roff,
        "NO_COLOR",
        "When set and not empty, --color auto draws diagnostics and plans without color.",
    );
    roff.control("SH", ["FILES"]);
    item(
        roff,
        "mailc.yaml, mailc.kdl",
        "The spec every command reads when none is named: mailc.yaml in the current folder, else mailc.kdl.",
    );
    item(
        roff,
        "out/",
        "The output folder of mailc plan and mailc apply (--out): one sub-folder per kind of output and host.",
    );
    item(
        roff,
        "out/.mailc-managed",
        "The files mailc wrote there; only these are ever deleted.",
    );
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman(
        "postfix(1), dovecot(1), exim4(8), named(8), opendkim(8). The reference of the spec language, \
         the commands and deployment is in the docs/ folder of the mailc sources.",
    )]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command, hidden ones aside, with its path.
    fn commands() -> Vec<(String, clap::Command)> {
        fn walk(prefix: &str, cmd: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
            for sub in cmd.get_subcommands().filter(|c| !c.is_hide_set()) {
                let path = format!("{prefix} {}", sub.get_name());
                out.push((path.clone(), sub.clone()));
                walk(&path, sub, out);
            }
        }
        let mut out = vec![("mailc".to_string(), command())];
        walk("mailc", &command(), &mut out);
        out
    }

    #[test]
    fn every_flag_and_argument_has_a_description() {
        let mut missing = Vec::new();
        for (path, cmd) in commands() {
            for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path}: {}", arg.get_id()));
                }
            }
            if cmd.get_about().is_none() {
                missing.push(format!("{path}: the command itself"));
            }
        }
        assert!(missing.is_empty(), "no description: {missing:#?}");
    }

    #[test]
    fn every_command_help_ends_with_examples() {
        for (path, cmd) in commands() {
            let after = cmd.get_after_help().map(|s| s.to_string());
            let text = after.unwrap_or_default();
            assert!(
                text.starts_with("Examples:\n  mailc"),
                "`{path} --help` ends without examples: {text:?}"
            );
        }
    }
}
