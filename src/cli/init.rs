//! `mailc init [DOMAIN] [--kdl]`: a starter spec in the current folder — one
//! host running the embedded server, one domain with DMARC `p=none` and a
//! report address, one mailbox whose password is asked for, a DKIM key —
//! and a `.gitignore` that keeps `keys/` out of git. Nothing existing is
//! overwritten: a spec already there refuses the whole command, and an
//! existing `.gitignore` only gets the `keys/` line added when it lacks it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::{fail, prompt};
use crate::dkim::DkimAlgorithm;
use crate::passwd::{self, Scheme};

/// The mailbox the starter spec has; its aliases take the role addresses
/// (RFC 2142) and the DMARC reports.
const MAILBOX: &str = "admin";
/// The starter's DKIM selector.
const SELECTOR: &str = "s1";

#[derive(Args)]
pub struct InitArgs {
    /// The mail domain (default: example.com). International names are
    /// written as A-labels (`xn--`).
    domain: Option<String>,
    /// Write `mailc.kdl` instead of `mailc.yaml`.
    #[arg(long)]
    kdl: bool,
}

pub(crate) fn run(args: InitArgs) -> ExitCode {
    run_in(Path::new("."), args)
}

fn run_in(dir: &Path, args: InitArgs) -> ExitCode {
    for name in ["mailc.yaml", "mailc.kdl"] {
        if dir.join(name).exists() {
            return fail(
                &format!("`{name}` already exists here; mailc init never overwrites a spec"),
                Some("run `mailc init` in an empty folder, or edit the spec you have"),
            );
        }
    }
    let given = args.domain.as_deref().unwrap_or("example.com");
    let domain = match domain_name(given) {
        Ok(d) => d,
        Err(why) => {
            return fail(
                &format!("`{given}` is not a domain name: {why}"),
                Some("give the mail domain, e.g. `mailc init example.org`"),
            );
        }
    };
    let key = format!("keys/{domain}/{SELECTOR}.key");
    if dir.join(&key).exists() {
        return fail(
            &format!("`{key}` already exists here; mailc init never overwrites a key"),
            Some("run `mailc init` in an empty folder"),
        );
    }
    let address = format!("{MAILBOX}@{domain}");
    let password = match prompt::password(&format!("Password for {address}")) {
        Ok(p) => p,
        Err(e) => return fail(&e.to_string(), Some(e.help())),
    };
    let hash = match passwd::hash(&password, Scheme::Sha512Crypt) {
        Ok(h) => h,
        Err(e) => return fail(&format!("cannot hash the password: {e}"), None),
    };
    drop(password);

    let (name, text) = if args.kdl {
        ("mailc.kdl", kdl(&domain, &hash))
    } else {
        ("mailc.yaml", yaml(&domain, &hash))
    };
    if let Err(why) = check(name, &text) {
        return fail(
            &format!("the starter spec for `{domain}` would not be valid: {why}"),
            Some("give a shorter domain name"),
        );
    }
    if let Err(e) = create_new(&dir.join(name), text.as_bytes(), 0o600) {
        return fail(&format!("cannot write `{name}`: {e}"), None);
    }
    println!("wrote {name} ({address}, host mx1 running `mailc serve`)");
    match gitignore(&dir.join(".gitignore")) {
        Ok(Some(what)) => println!("{what} .gitignore (keeps keys/ out of git)"),
        Ok(None) => {}
        Err(e) => return fail(&format!("cannot write `.gitignore`: {e}"), None),
    }
    if let Err(e) = super::dkim::create(&dir.join(&key), DkimAlgorithm::Rsa2048) {
        return fail(&format!("cannot create `{key}`: {e}"), None);
    }
    println!("created {key} (rsa-2048)");
    println!(
        "next: put your server's address and name servers into {name}, then \
         `mailc validate` and `mailc plan`"
    );
    ExitCode::SUCCESS
}

/// `DOMAIN` as the spec will hold it: lowercase A-labels (UTS-46), at least
/// two labels, no trailing dot.
fn domain_name(given: &str) -> Result<String, String> {
    let trimmed = given.strip_suffix('.').unwrap_or(given);
    let ascii = idna::domain_to_ascii_strict(trimmed).map_err(|_| {
        "it holds a character no domain name may (letters, digits, hyphens and dots only)"
            .to_string()
    })?;
    if !ascii.contains('.') {
        return Err("a mail domain has at least two labels (`example.org`)".into());
    }
    if !ascii
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err("letters, digits, hyphens and dots only".into());
    }
    Ok(ascii)
}

/// The first error `mailc validate` would report on the starter spec (its
/// key file counted as present: init makes it next).
fn check(name: &str, text: &str) -> Result<(), String> {
    use crate::compile::{Inputs, compile};
    use crate::diag::Severity;
    use crate::source::{Dialect, Source};
    let source = Source::new(name, text.to_string(), Dialect::from_path(name));
    let compiled = compile(source, &Inputs::text_only());
    let first = compiled
        .diagnostics
        .into_iter()
        .find(|d| d.severity == Severity::Error);
    match first {
        Some(d) => Err(d.message),
        None => Ok(()),
    }
}

/// Writes `bytes` to a new file of this mode; an existing one is an
/// error, never replaced.
fn create_new(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Makes sure `.gitignore` keeps `keys/` out: a new file, or one line added
/// to an existing one that does not mention `keys/` yet. Says what it did.
fn gitignore(path: &PathBuf) -> std::io::Result<Option<&'static str>> {
    const LINES: &str = "# DKIM private keys (mailc dkim keygen): never in git\n/keys/\n";
    match std::fs::read_to_string(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            create_new(path, LINES.as_bytes(), 0o644)?;
            Ok(Some("wrote"))
        }
        Err(e) => Err(e),
        Ok(text) => {
            let covered = text
                .lines()
                .any(|l| matches!(l.trim(), "keys" | "keys/" | "/keys" | "/keys/"));
            if covered {
                return Ok(None);
            }
            let mut f = std::fs::OpenOptions::new().append(true).open(path)?;
            let sep = if text.is_empty() || text.ends_with('\n') {
                ""
            } else {
                "\n"
            };
            f.write_all(format!("{sep}{LINES}").as_bytes())?;
            f.sync_all()?;
            Ok(Some("added /keys/ to"))
        }
    }
}

fn yaml(domain: &str, hash: &str) -> String {
    format!(
        r#"# A starter mail spec (`mailc init`). The reference of every key: docs/spec.md.
# Check it with `mailc validate`; see what it compiles to with `mailc plan`.
version: 1

defaults:
  # The name servers that publish your zones (your DNS provider's), and the
  # SOA contact address.
  nameservers: [ns1.dns-provider.example, ns2.dns-provider.example]
  hostmaster: hostmaster@{domain}

hosts:
  # hostname: the server's name (its address's PTR must say the same);
  # ipv4: its public address (this one is a placeholder); add ipv6 if it has one;
  # stack: embedded is mailc serve; or postfix-dovecot, exim-dovecot.
  mx1:
    hostname: mail.{domain}
    ipv4: 203.0.113.10
    stack: embedded

domains:
  {domain}:
    mx: [mx1]
    # The key is made by mailc init / mailc dkim keygen.
    dkim:
      - selector: {SELECTOR}
        private_key: keys/{domain}/{SELECTOR}.key
    # Collect reports first; tighten to quarantine or reject once they look right.
    dmarc: {{policy: none, rua: ["mailto:dmarc@{domain}"]}}
    mailboxes:
      # The password is a hash from `mailc passwd`, never the password itself.
      {MAILBOX}:
        password: '{hash}'
        aliases: [postmaster, abuse, hostmaster, dmarc]
"#
    )
}

fn kdl(domain: &str, hash: &str) -> String {
    format!(
        r#"// A starter mail spec (`mailc init`). The reference of every key: docs/spec.md.
// Check it with `mailc validate`; see what it compiles to with `mailc plan`.
version 1

// The name servers that publish your zones (your DNS provider's), and the
// SOA contact address.
defaults hostmaster="hostmaster@{domain}" {{
    nameservers ns1.dns-provider.example ns2.dns-provider.example
}}

// hostname: the server's name (its address's PTR must say the same);
// ipv4: its public address (this one is a placeholder); add ipv6="..." if it has one.
// stack: embedded is mailc serve; or postfix-dovecot, exim-dovecot.
host mx1 hostname="mail.{domain}" ipv4="203.0.113.10" stack=embedded

domain "{domain}" {{
    mx mx1
    // The key is made by mailc init / mailc dkim keygen.
    dkim {SELECTOR} private-key="keys/{domain}/{SELECTOR}.key"
    // Collect reports first; tighten to quarantine or reject once they look right.
    dmarc policy=none {{ rua "mailto:dmarc@{domain}" }}
    // A hash from `mailc passwd`, never the password.
    mailbox {MAILBOX} password="{hash}" {{
        aliases postmaster abuse hostmaster dmarc
    }}
}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_become_lowercase_a_labels() {
        assert_eq!(domain_name("Example.ORG.").unwrap(), "example.org");
        assert_eq!(domain_name("café.example").unwrap(), "xn--caf-dma.example");
        for bad in [
            "localhost",
            "a b.example",
            "x\"y.example",
            "ex:ample.com",
            "",
        ] {
            assert!(domain_name(bad).is_err(), "{bad:?}");
        }
    }
}
