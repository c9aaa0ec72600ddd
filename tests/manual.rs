//! What mailc says about itself, read by the programs that read it for
//! users: every manual page through mandoc's and groff's checkers and
//! `man -l`, every completion script through its shell's parser, and the
//! bash, fish and zsh scripts asked for real completions.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use support::{Mailc, Temp};

fn mailc(args: &[&str]) -> Output {
    Mailc::new(&support::root(), args).output()
}

/// Runs a tool that `.ci/install-oracles` installs; a missing one fails the test.
fn tool(cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
    let name = cmd.get_program().to_string_lossy().into_owned();
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        panic!("`{name}` is needed: run `bash .ci/install-oracles` (see docs/testing.md): {e}")
    });
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write stdin");
    }
    child.wait_with_output().expect("wait")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// mandoc's lint at warning level and groff's checks both say nothing.
fn assert_clean_page(path: &Path) {
    let lint = tool(
        Command::new("mandoc")
            .args(["-Tlint", "-W", "warning"])
            .arg(path),
        None,
    );
    assert!(
        lint.status.success() && lint.stdout.is_empty() && lint.stderr.is_empty(),
        "mandoc -Tlint {}: {}{}",
        path.display(),
        text(&lint.stdout),
        text(&lint.stderr)
    );
    let groff = tool(
        Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(path),
        None,
    );
    assert!(
        groff.status.success() && groff.stderr.is_empty(),
        "groff {}: {}",
        path.display(),
        text(&groff.stderr)
    );
}

#[test]
fn man_prints_a_page_man_renders() {
    let out = mailc(&["man"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = tool(
        Command::new("man")
            .args(["-l", "-"])
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .env("LC_ALL", "C.UTF-8"),
        Some(&out.stdout),
    );
    assert!(shown.status.success(), "man -l -: {}", text(&shown.stderr));
    let page = text(&shown.stdout);
    for want in [
        "MAILC(1)",
        "NAME",
        "SYNOPSIS",
        "mailc-validate(1)",
        "EXAMPLES",
        "EXIT STATUS",
    ] {
        assert!(page.contains(want), "no `{want}` in the page:\n{page}");
    }
    // The same bytes every time: no date from the clock.
    assert_eq!(mailc(&["man"]).stdout, out.stdout);
}

#[test]
fn every_page_passes_mandoc_and_groff() {
    let dir = Temp::new("man");
    let out = mailc(&["man", "--dir", dir.0.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut pages: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    let names: Vec<String> = pages
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "mailc.1",
        "mailc-init.1",
        "mailc-validate.1",
        "mailc-plan.1",
        "mailc-apply.1",
        "mailc-route.1",
        "mailc-serve.1",
        "mailc-dkim-keygen.1",
        "mailc-completions.1",
        "mailc-man.1",
    ] {
        assert!(names.iter().any(|n| n == want), "no {want} in {names:?}");
    }
    for page in &pages {
        assert_clean_page(page);
    }
    // One command's page on stdout is the file `--dir` wrote.
    let keygen = mailc(&["man", "dkim", "keygen"]);
    assert!(keygen.status.success(), "{}", text(&keygen.stderr));
    assert_eq!(
        keygen.stdout,
        std::fs::read(dir.0.join("mailc-dkim-keygen.1")).unwrap()
    );
    let bad = mailc(&["man", "nope"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("`nope` is not a command"));
}

fn script(shell: &str) -> String {
    let out = mailc(&["completions", shell]);
    assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn bash_completion_parses_and_completes() {
    let dir = Temp::new("bash-completion");
    let file = dir.0.join("mailc.bash");
    std::fs::write(&file, script("bash")).unwrap();
    let syntax = tool(Command::new("bash").arg("-n").arg(&file), None);
    assert!(syntax.status.success(), "bash -n: {}", text(&syntax.stderr));
    // What bash's completion machinery does on `mailc va<TAB>`.
    let complete = |words: &str, cur: &str, prev: &str| {
        let out = tool(
            Command::new("bash").arg("-c").arg(format!(
                "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); \
                 _mailc mailc '{cur}' '{prev}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                file.display()
            )),
            None,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(complete("mailc va", "va", "mailc").trim(), "validate");
    let shells = complete("mailc completions ''", "", "completions");
    for s in ["bash", "zsh", "fish", "elvish", "powershell"] {
        assert!(shells.lines().any(|l| l == s), "{s} not offered: {shells}");
    }
}

#[test]
fn zsh_completion_parses_and_registers() {
    let dir = Temp::new("zsh-completion");
    std::fs::write(dir.0.join("_mailc"), script("zsh")).unwrap();
    let syntax = tool(
        Command::new("zsh").arg("-n").arg(dir.0.join("_mailc")),
        None,
    );
    assert!(syntax.status.success(), "zsh -n: {}", text(&syntax.stderr));
    let dump = dir.0.join("zcompdump");
    let out = tool(
        Command::new("zsh").arg("-fc").arg(format!(
            "fpath=({} $fpath); autoload -Uz compinit; compinit -u -d {}; print -r -- ${{_comps[mailc]}}",
            dir.0.display(),
            dump.display()
        )),
        None,
    );
    assert_eq!(
        text(&out.stdout).trim(),
        "_mailc",
        "zsh: {}",
        text(&out.stderr)
    );
}

#[test]
fn fish_completion_parses_and_completes() {
    let dir = Temp::new("fish-completion");
    let file = dir.0.join("mailc.fish");
    std::fs::write(&file, script("fish")).unwrap();
    let syntax = tool(Command::new("fish").arg("--no-execute").arg(&file), None);
    assert!(syntax.status.success(), "fish: {}", text(&syntax.stderr));
    let out = tool(
        Command::new("fish").arg("-c").arg(format!(
            "source {}; complete -C 'mailc va'; complete -C 'mailc plan --'",
            file.display()
        )),
        None,
    );
    let got = text(&out.stdout);
    assert!(got.lines().any(|l| l.starts_with("validate\t")), "{got}");
    assert!(
        got.lines().any(|l| l.starts_with("--detailed-exitcode\t")),
        "{got}"
    );
}

#[test]
fn elvish_completion_compiles() {
    let dir = Temp::new("elvish-completion");
    // `edit:` exists only in an interactive elvish: the script is compiled
    // with a plain map standing in for the completer table.
    let body = script("elvish").replace("edit:completion:arg-completer", "arg-completer");
    let file = dir.0.join("mailc.elv");
    std::fs::write(&file, format!("var arg-completer = [&]\n{body}")).unwrap();
    let out = tool(Command::new("elvish").arg("-compileonly").arg(&file), None);
    assert!(
        out.status.success(),
        "elvish: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn powershell_completion_names_every_command() {
    // PowerShell is not packaged by Debian: the script is checked for what
    // it registers, not run.
    let ps = script("powershell");
    assert!(ps.contains("Register-ArgumentCompleter -Native -CommandName 'mailc'"));
    for cmd in ["init", "validate", "plan", "apply", "route", "serve", "man"] {
        assert!(ps.contains(&format!("'{cmd}'")), "no {cmd}");
    }
}
