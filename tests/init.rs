//! `mailc init` as a new user runs it: in an empty folder it writes a
//! starter spec that `mailc validate` accepts and `mailc apply` compiles, in
//! both dialects; it never overwrites; the password comes from one line of
//! a pipe, or from a terminal without echo, asked twice.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use support::{Mailc, Temp};

const PASSWORD: &str = "correct horse battery staple";

fn mailc(dir: &Path, args: &[&str], stdin: &str) -> Output {
    Mailc::new(dir, args).stdin(stdin).output()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The files of a folder tree, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The password hash in a starter spec (the one quoted `{SHA512-CRYPT}` value).
fn hash_in(spec: &str) -> String {
    let start = spec.find("{SHA512-CRYPT}").expect("a hash");
    let rest = &spec[start..];
    let end = rest.find(['\'', '"']).expect("closing quote");
    rest[..end].to_string()
}

fn init_validate_apply(args: &[&str], spec_name: &str, domain: &str) {
    let dir = Temp::new("init");
    let init = mailc(&dir.0, args, &format!("{PASSWORD}\n"));
    assert_eq!(init.status.code(), Some(0), "{}", text(&init.stderr));
    let key = format!("keys/{domain}/s1.key");
    assert_eq!(files(&dir.0), [".gitignore", &key, spec_name]);
    let spec = std::fs::read_to_string(dir.0.join(spec_name)).unwrap();
    assert!(
        !spec.contains(PASSWORD),
        "the password itself is in the spec"
    );
    assert!(
        mailc::passwd::verify(PASSWORD, &hash_in(&spec)).unwrap(),
        "the hash is not of the password given"
    );
    let gitignore = std::fs::read_to_string(dir.0.join(".gitignore")).unwrap();
    assert!(gitignore.lines().any(|l| l == "/keys/"), "{gitignore}");
    let mode = std::fs::metadata(dir.0.join(&key))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{key}");
    let mode = std::fs::metadata(dir.0.join(spec_name))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{spec_name} holds a password hash");

    let validate = mailc(&dir.0, &["validate"], "");
    assert_eq!(
        validate.status.code(),
        Some(0),
        "{}{}",
        text(&validate.stdout),
        text(&validate.stderr)
    );
    assert!(
        text(&validate.stderr).is_empty(),
        "the starter spec has warnings:\n{}",
        text(&validate.stderr)
    );
    let apply = mailc(&dir.0, &["apply", "--auto-approve"], "");
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));
    let out = files(&dir.0.join("out"));
    for want in [
        format!("dns/{domain}.zone"),
        "server/mx1/manifest.json".to_string(),
        format!("server/mx1/keys/{domain}/s1.key"),
    ] {
        assert!(out.contains(&want), "no out/{want} in {out:?}");
    }
    let zone = std::fs::read_to_string(dir.0.join(format!("out/dns/{domain}.zone"))).unwrap();
    assert!(
        zone.contains("v=DMARC1; p=none; rua=mailto:dmarc@"),
        "{zone}"
    );
    assert!(zone.contains("s1._domainkey"), "{zone}");

    // A second init refuses and changes nothing.
    let before: Vec<Vec<u8>> = [spec_name, ".gitignore", key.as_str()]
        .iter()
        .map(|f| std::fs::read(dir.0.join(f)).unwrap())
        .collect();
    for again in [
        &["init"][..],
        &["init", "--kdl"],
        &["init", "other.example"],
    ] {
        let second = mailc(&dir.0, again, &format!("{PASSWORD}\n"));
        assert_eq!(second.status.code(), Some(1), "{again:?}");
        assert!(
            text(&second.stderr).contains("never overwrites"),
            "{}",
            text(&second.stderr)
        );
    }
    let after: Vec<Vec<u8>> = [spec_name, ".gitignore", key.as_str()]
        .iter()
        .map(|f| std::fs::read(dir.0.join(f)).unwrap())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn yaml_starter_validates_and_applies() {
    init_validate_apply(&["init", "Example.ORG"], "mailc.yaml", "example.org");
}

#[test]
fn kdl_starter_validates_and_applies() {
    init_validate_apply(&["init", "--kdl"], "mailc.kdl", "example.com");
}

#[test]
fn international_and_digit_led_domains_give_valid_specs() {
    for (given, domain) in [
        ("café.example", "xn--caf-dma.example"),
        ("1und1.example", "1und1.example"),
    ] {
        for dialect in [&[][..], &["--kdl"]] {
            let dir = Temp::new("init-idn");
            let mut args = vec!["init", given];
            args.extend_from_slice(dialect);
            let init = mailc(&dir.0, &args, &format!("{PASSWORD}\n"));
            assert_eq!(init.status.code(), Some(0), "{}", text(&init.stderr));
            assert!(dir.0.join(format!("keys/{domain}/s1.key")).is_file());
            let validate = mailc(&dir.0, &["validate"], "");
            assert_eq!(
                validate.status.code(),
                Some(0),
                "{args:?}: {}",
                text(&validate.stderr)
            );
        }
    }
}

#[test]
fn refuses_a_bad_domain_or_an_empty_password_and_writes_nothing() {
    let dir = Temp::new("init-refuse");
    for (args, stdin, says) in [
        (
            &["init", "exa mple.com"][..],
            "pw\n",
            "is not a domain name",
        ),
        (&["init", "localhost"], "pw\n", "at least two labels"),
        (&["init"], "", "the password is empty"),
        (&["init"], "\nsecond line\n", "stdin holds 2 lines"),
    ] {
        let run = mailc(&dir.0, args, stdin);
        assert_eq!(run.status.code(), Some(1), "{args:?}");
        assert!(
            text(&run.stderr).contains(says),
            "{args:?}: {}",
            text(&run.stderr)
        );
        assert!(
            files(&dir.0).is_empty(),
            "{args:?} wrote {:?}",
            files(&dir.0)
        );
    }
}

#[test]
fn an_existing_gitignore_gets_one_line_added() {
    let dir = Temp::new("init-gitignore");
    std::fs::write(dir.0.join(".gitignore"), "/target").unwrap();
    let run = mailc(&dir.0, &["init"], &format!("{PASSWORD}\n"));
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let g = std::fs::read_to_string(dir.0.join(".gitignore")).unwrap();
    assert!(g.starts_with("/target\n"), "{g}");
    assert!(g.ends_with("/keys/\n"), "{g}");
    // One that already keeps keys/ out is left as it is.
    let dir = Temp::new("init-gitignore");
    std::fs::write(dir.0.join(".gitignore"), "keys/\n").unwrap();
    let run = mailc(&dir.0, &["init"], &format!("{PASSWORD}\n"));
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert_eq!(
        std::fs::read_to_string(dir.0.join(".gitignore")).unwrap(),
        "keys/\n"
    );
}

/// Runs `mailc init` on a pseudo-terminal (Python's `pty`), typing
/// `first` and `second` when asked; returns the exit code and everything
/// the terminal showed.
fn on_a_terminal(dir: &Path, first: &str, second: &str) -> (i32, String) {
    let script = r#"
import os, pty, sys, select, time
mailc, first, second = sys.argv[1], sys.argv[2], sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    os.execv(mailc, [mailc, "init"])
seen = b""
def until(word, limit=60):
    global seen
    end = time.time() + limit
    while word not in seen:
        left = end - time.time()
        if left <= 0:
            sys.exit("timed out waiting for %r; saw %r" % (word, seen))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                chunk = b""
            if not chunk:
                sys.exit("mailc ended before %r; saw %r" % (word, seen))
            seen += chunk
until(b"Password for admin@example.com: ")
os.write(fd, first.encode() + b"\n")
until(b"(again): ")
os.write(fd, second.encode() + b"\n")
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let out = Command::new("python3")
        .current_dir(dir)
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_mailc"))
        .arg(first)
        .arg(second)
        .env("NO_COLOR", "1")
        .output()
        .expect("python3 is needed (see docs/testing.md)");
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", text(&out.stdout), text(&out.stderr)),
    )
}

#[test]
fn on_a_terminal_the_password_is_hidden_and_asked_twice() {
    let dir = Temp::new("init-tty");
    let (code, shown) = on_a_terminal(&dir.0, PASSWORD, PASSWORD);
    assert_eq!(code, 0, "{shown}");
    assert!(
        !shown.contains(PASSWORD),
        "the password was echoed:\n{shown}"
    );
    assert!(shown.contains("wrote mailc.yaml"), "{shown}");
    let spec = std::fs::read_to_string(dir.0.join("mailc.yaml")).unwrap();
    assert!(mailc::passwd::verify(PASSWORD, &hash_in(&spec)).unwrap());

    let dir = Temp::new("init-tty");
    let (code, shown) = on_a_terminal(&dir.0, PASSWORD, "something else");
    assert_eq!(code, 1, "{shown}");
    assert!(shown.contains("the two passwords differ"), "{shown}");
    assert!(files(&dir.0).is_empty());
}
