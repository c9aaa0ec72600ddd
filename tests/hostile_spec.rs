//! Specs written to hurt the operator who compiles them: alias graphs that
//! overflow a recursive expander or ask for quadratic tables, values and
//! files of gigabytes, secrets next to an error, key paths that probe or
//! write the file system, hash parameters that make logins a weapon. Each
//! gets a diagnostic, in bounded time and output, and nothing else.

mod support;
use support::mailc;

const HASH: &str = "{SHA512-CRYPT}$6$z6MQEt/GaGznLHgp$Byj6wliyFlYZHsGkA4BNdNtrTqS5pXmwqZNxvUaM4udekNI5s8a/QT1eru.9fx11jrZ56JBhTYoI/a1fP.cNA.";

/// A one-domain spec whose domain block ends with `tail` (indented by the
/// caller, four spaces for a domain key).
fn spec(tail: &str) -> String {
    format!(
        "version: 1\n\
         defaults: {{nameservers: [ns1.example.net, ns2.example.net], hostmaster: hostmaster@example.com}}\n\
         hosts:\n\
         \x20 mx1: {{hostname: mail.example.com, ipv4: 203.0.113.10, stack: postfix-dovecot}}\n\
         domains:\n\
         \x20 example.com:\n\
         \x20   mx: [mx1]\n\
         \x20   dmarc: {{policy: none}}\n\
         {tail}"
    )
}

fn project(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mailc.yaml"), text).unwrap();
    dir
}

/// `aliases:` with `n` entries made by `entry(i)`, after one mailbox.
fn aliases(n: usize, entry: impl Fn(usize) -> String) -> String {
    let mut s = format!("    mailboxes:\n      alice: {{password: '{HASH}'}}\n    aliases:\n");
    for i in 0..n {
        s.push_str(&format!("      {}\n", entry(i)));
    }
    s
}

/// A chain of 20,000 aliases is expanded without recursion: valid, on every
/// command that expands it.
#[test]
fn a_chain_of_20000_aliases_is_valid() {
    let n = 20_000;
    let dir = project(&spec(&aliases(n, |i| {
        if i + 1 < n {
            format!("a{i}: a{}", i + 1)
        } else {
            format!("a{i}: alice")
        }
    })));
    let run = mailc(dir.path(), &["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("is valid"), "{}", run.stdout);
    let run = mailc(dir.path(), &["plan"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = mailc(dir.path(), &["route", "a0@example.com"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("alice@example.com"), "{}", run.stdout);
}

/// A cycle through 10,000 aliases is one short diagnostic.
#[test]
fn a_cycle_of_10000_aliases_is_one_short_error() {
    let n = 10_000;
    let dir = project(&spec(&aliases(n, |i| format!("a{i}: a{}", (i + 1) % n))));
    for format in ["text", "json"] {
        let run = mailc(dir.path(), &["validate", "--format", format]);
        assert_eq!(run.code, 1, "{}", run.stdout);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(all.contains("mailc::alias::cycle"), "{all}");
        assert!(all.contains("(10000 aliases"), "{all}");
        assert!(all.len() < 20_000, "{} bytes of diagnostics", all.len());
    }
}

/// Aliases nested so that each lists every address of the next would need
/// tables quadratic in the spec (72 million addresses from 480 KB): refused
/// before anything is expanded.
#[test]
fn quadratic_alias_tables_are_refused() {
    let n = 12_000;
    let dir = project(&spec(&aliases(n, |i| {
        format!("a{i}: [a{}, x{i}@elsewhere.example]", i + 1)
    })));
    let run = mailc(dir.path(), &["validate"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("mailc::alias::expansion"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("more than the 5000000"),
        "{}",
        run.stderr
    );
}

/// A value of a megabyte is refused without being quoted, in either
/// format and either dialect.
#[test]
fn a_huge_value_is_refused_without_quoting_it() {
    let big = "A".repeat(1 << 20);
    let dir = project(&spec(&format!(
        "    records:\n      - {{name: www, type: TXT, value: \"{big}\"}}\n"
    )));
    std::fs::write(
        dir.path().join("mailc.kdl"),
        format!(
            "version 1\n\
             defaults hostmaster=hostmaster@example.com {{\n    nameservers ns1.example.net\n}}\n\
             host mx1 hostname=mail.example.com ipv4=\"203.0.113.10\" stack=postfix-dovecot\n\
             domain example.com {{\n    mx mx1\n    record www TXT \"{big}\"\n}}\n"
        ),
    )
    .unwrap();
    for (file, format) in [
        ("mailc.yaml", "text"),
        ("mailc.yaml", "json"),
        ("mailc.kdl", "text"),
        ("mailc.kdl", "json"),
    ] {
        let run = mailc(dir.path(), &["validate", file, "--format", format]);
        assert_eq!(run.code, 1);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(all.contains("mailc::value::size"), "{all}");
        assert!(all.len() < 4_000, "{} bytes of diagnostics", all.len());
        for line in all.lines() {
            let chars = line.chars().count();
            assert!(chars < 250, "a line of {chars} characters");
        }
    }
}

/// A spec file or a key file larger than its limit is refused before it is
/// read (sparse files: nothing is written to disk).
#[test]
fn huge_files_are_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let spec_file = std::fs::File::create(d.join("mailc.yaml")).unwrap();
    spec_file.set_len(600 << 20).unwrap();
    let run = mailc(d, &["validate"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("is larger than 512 MiB, the most a spec may be"),
        "{}",
        run.stderr
    );

    std::fs::write(
        d.join("mailc.yaml"),
        spec("    dkim: [{selector: s1, algorithm: ed25519, private_key: keys/s1.key}]\n"),
    )
    .unwrap();
    std::fs::create_dir(d.join("keys")).unwrap();
    let key = std::fs::File::create(d.join("keys/s1.key")).unwrap();
    key.set_len(3 << 30).unwrap();
    for args in [&["validate"][..], &["plan"]] {
        let run = mailc(d, args);
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert!(run.stderr.contains("larger than 64 KiB"), "{}", run.stderr);
    }
}

/// An error next to a mailbox never shows its password hash, in the
/// graphical report or in JSON, in YAML or KDL, and even when the file
/// does not parse.
#[test]
fn secrets_near_an_error_are_masked() {
    let yaml = spec(&format!(
        "    mailboxes:\n      alice:\n        password: '{HASH}'\n        quota: bogus\n"
    ));
    let kdl = format!(
        "version 1\n\
         defaults hostmaster=hostmaster@example.com {{\n    nameservers ns1.example.net\n}}\n\
         host mx1 hostname=mail.example.com ipv4=\"203.0.113.10\" stack=postfix-dovecot\n\
         domain example.com {{\n    mx mx1\n    mailbox alice password=\"{HASH}\" quota=bogus\n}}\n"
    );
    let broken = format!(
        "version: 1\nhosts: {{}}\ndomains:\n  example.com:\n    mailboxes:\n      alice: {{password: '{HASH}'\n      bob: [\n"
    );
    for (file, text) in [
        ("mailc.yaml", &yaml),
        ("mailc.kdl", &kdl),
        ("broken.yaml", &broken),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(file), text).unwrap();
        for format in ["text", "json"] {
            let run = mailc(dir.path(), &["validate", file, "--format", format]);
            assert_eq!(run.code, 1, "{file}: {}", run.stdout);
            let all = format!("{}{}", run.stdout, run.stderr);
            assert!(all.contains("mailc::"), "{file}: {all}");
            for secret in ["$6$z6MQEt", "Byj6wliyFlYZ", "SHA512-CRYPT}$"] {
                assert!(
                    !all.contains(secret),
                    "{file} ({format}) shows the hash:\n{all}"
                );
            }
        }
        let run = mailc(dir.path(), &["validate", file]);
        assert!(run.stderr.contains("********"), "{file}: {}", run.stderr);
    }
}

/// Key paths stay below the spec's folder: an absolute path is refused
/// alike whether the file exists or not (no existence oracle), and
/// `dkim keygen` creates nothing there.
#[test]
fn absolute_key_paths_are_refused_alike() {
    let outside = tempfile::tempdir().unwrap();
    let exists = outside.path().join("exists.key");
    std::fs::write(&exists, "not a key").unwrap();
    let absent = outside.path().join("absent.key");
    let mut seen = Vec::new();
    for path in [&exists, &absent] {
        let dir = project(&spec(&format!(
            "    dkim: [{{selector: s1, algorithm: ed25519, private_key: {}}}]\n",
            path.display()
        )));
        let run = mailc(dir.path(), &["validate", "--format", "json"]);
        assert_eq!(run.code, 1);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let d = &v["diagnostics"][0];
        assert_eq!(d["code"], "mailc::dkim::key_path", "{}", run.stdout);
        let message = d["message"]
            .as_str()
            .unwrap()
            .replace(&path.display().to_string(), "PATH");
        seen.push(message);
        let run = mailc(dir.path(), &["dkim", "keygen"]);
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert!(!absent.exists(), "keygen made {}", absent.display());
    }
    assert_eq!(seen[0], seen[1], "the messages tell the two apart");
    assert_eq!(std::fs::read_to_string(&exists).unwrap(), "not a key");
}

/// Hash parameters that make each login cost minutes or gigabytes are
/// refused; Dovecot's defaults pass.
#[test]
fn costly_hashes_are_refused() {
    for (hash, ok) in [
        (HASH.replace("$6$", "$6$rounds=999999999$"), false),
        (
            "{ARGON2ID}$argon2id$v=19$m=2097152,t=4,p=1$szefYfDWwupw42MWfCZGng$WEKui/ZYtrovBTDdT/13oDFUZjyhMsPek/dPDIQTKjk".to_string(),
            false,
        ),
        (
            "{ARGON2ID}$argon2id$v=19$m=65536,t=4294967295,p=1$szefYfDWwupw42MWfCZGng$WEKui/ZYtrovBTDdT/13oDFUZjyhMsPek/dPDIQTKjk".to_string(),
            false,
        ),
        (HASH.to_string(), true),
    ] {
        let dir = project(&spec(&format!(
            "    mailboxes:\n      alice: {{password: '{hash}'}}\n"
        )));
        let run = mailc(dir.path(), &["validate"]);
        assert_eq!(run.code == 0, ok, "{hash}: {}", run.stderr);
        if !ok {
            assert!(run.stderr.contains("mailc::password::cost"), "{}", run.stderr);
        }
    }
}

/// A record's TTL has the range of a domain's (RFC 2181 §8).
#[test]
fn record_and_domain_ttls_share_one_range() {
    for (ttl, ok) in [
        (2_147_483_647u64, true),
        (2_147_483_648, false),
        (4_294_967_295, false),
    ] {
        for tail in [
            format!("    ttl: {ttl}\n"),
            format!("    records: [{{name: www, type: A, value: 203.0.113.20, ttl: {ttl}}}]\n"),
        ] {
            let dir = project(&spec(&tail));
            let run = mailc(dir.path(), &["validate"]);
            assert_eq!(run.code == 0, ok, "{tail}: {}", run.stderr);
        }
    }
}
