//! `mailc check` against a real BIND on 127.0.0.1 (`docs/testing.md`,
//! BIND): the zones `mailc apply` wrote are in sync; a zone changed by hand
//! drifts in exactly the records changed (and not in those only spelled
//! differently); a server that does not answer, or answers SERVFAIL, is an
//! error naming the question and the server.
//!
//! `named` and `dig` are required: a missing one fails the test and names
//! `.ci/install-oracles`. The BIND harness is `tests/support/dns.rs`.

use std::path::{Path, PathBuf};

mod support;
use support::dns::{Bind, free_port};
use support::{Temp, copy_dir, mailc, model_of};

/// `tests/cases/dns-records` applied into `out/` of a working copy: every
/// kind of record, public DKIM keys only, one host (mx1.mail.example.net,
/// 192.0.2.10 and 2001:db8::10).
fn applied() -> (Temp, Vec<(String, String)>) {
    let tmp = Temp::new("spec");
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/dns-records");
    copy_dir(&case, &tmp.0);
    let r = mailc(
        &tmp.0,
        &["apply", "mailc.yaml", "--out", "out", "--auto-approve"],
    );
    assert_eq!(r.code, 0, "apply: {}", r.said());
    let mut zones = Vec::new();
    for e in std::fs::read_dir(tmp.0.join("out/dns")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        let origin = name.strip_suffix(".zone").unwrap().to_string();
        zones.push((origin, std::fs::read_to_string(&p).unwrap()));
    }
    zones.sort();
    assert_eq!(zones.len(), 3, "{zones:?}");
    (tmp, zones)
}

/// Reverse zones giving the host's addresses their PTR.
fn reverse_zones(ptr: &str) -> Vec<(String, String)> {
    let soa = "$TTL 300\n@ IN SOA ns1.example.net. hostmaster.example.net. 1 3600 900 1209600 300\n\
               @ IN NS ns1.example.net.\n";
    vec![
        (
            "2.0.192.in-addr.arpa".into(),
            format!("{soa}10 IN PTR {ptr}\n"),
        ),
        (
            "8.b.d.0.1.0.0.2.ip6.arpa".into(),
            format!("{soa}0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR {ptr}\n"),
        ),
    ]
}

/// `text` with the line holding `from` replaced by `to` (removed when
/// `to` is empty); the line must exist.
fn edit(text: &str, from: &str, to: &str) -> String {
    let mut found = false;
    let mut out = String::new();
    for line in text.lines() {
        if !found && line.contains(from) {
            found = true;
            if !to.is_empty() {
                out.push_str(to);
                out.push('\n');
            }
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(found, "no line with `{from}`");
    out
}

fn lines_marked<'a>(stdout: &'a str, mark: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix(mark))
        .map(|l| l.split(": ").next().unwrap_or(l))
        .collect()
}

/// The checks of `dns-records`, in the order printed.
const CHECKS: [&str; 15] = [
    "example.net MX",
    "example.net SPF",
    "example.net DKIM ed",
    "example.net DKIM edspki",
    "example.net DMARC",
    "example.net MTA-STS",
    "example.net TLS-RPT",
    "example.org MX",
    "example.org SPF",
    "example.org DMARC",
    "mail.example.net MX",
    "mail.example.net SPF",
    "mail.example.net DMARC",
    "mx1.mail.example.net PTR 192.0.2.10",
    "mx1.mail.example.net PTR 2001:db8::10",
];

#[test]
fn applied_zones_are_in_sync() {
    let (spec, mut zones) = applied();
    zones.extend(reverse_zones("mx1.mail.example.net."));
    let bind = Bind::serving(&zones);
    let r = mailc(
        &spec.0,
        &["check", "mailc.yaml", "--resolver", &bind.addr()],
    );
    assert_eq!(r.code, 0, "{}", r.said());
    assert_eq!(lines_marked(&r.stdout, "✓ "), CHECKS, "{}", r.said());
    assert!(!r.stdout.contains('✗'), "{}", r.said());
    assert!(
        r.stdout.ends_with("15 checks: 15 in sync, 0 drifted.\n"),
        "{}",
        r.said()
    );

    // JSON: the same checks, all in sync, with what was seen and expected.
    let r = mailc(
        &spec.0,
        &[
            "check",
            "--resolver",
            &bind.addr(),
            "--format",
            "json",
            "mailc.yaml",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.said());
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    let checks = v.as_array().unwrap();
    assert_eq!(checks.len(), 15);
    for c in checks {
        assert_eq!(c["status"], "in_sync", "{c}");
        assert_eq!(c["live"], c["expected"], "{c}");
    }
    assert_eq!(checks[0]["domain"], "example.net");
    assert_eq!(checks[0]["check"], "MX");
    assert_eq!(
        checks[0]["expected"],
        serde_json::json!(["10 mx1.mail.example.net", "50 fallback.example.net"])
    );
}

#[test]
fn hand_edited_zone_drifts_in_exactly_the_records_changed() {
    let (spec, zones) = applied();
    let mut served: Vec<(String, String)> = Vec::new();
    for (origin, text) in zones {
        let text = if origin == "example.net" {
            let t = edit(
                &text,
                "IN MX    50 fallback",
                "@ IN MX 60 fallback.example.net.",
            );
            let t = edit(&t, "\"v=spf1 ", "@ IN TXT \"v=spf1 ip4:192.0.2.10 -all\"");
            let t = edit(&t, "ed._domainkey ", "");
            let t = edit(
                &t,
                "_dmarc ",
                "_dmarc IN TXT \"v=DMARC1; p=reject; sp=none; rua=mailto:dmarc@example.net; ruf=mailto:forensic@example.org\"",
            );
            // Spelled differently, meaning the same: still in sync.
            let t = edit(
                &t,
                "edspki._domainkey ",
                "edspki._domainkey IN TXT \"k=ed25519 ;\" \"p=Gb9ECWmEzf6FQbrBZ9w7lsh QhqowtrbLDFw4rXAxZuE=\"",
            );
            edit(
                &t,
                "_smtp._tls ",
                "_smtp._tls IN TXT \"v=TLSRPTv1;rua=https://reports.example.net/tlsrpt, mailto:tlsrpt@example.net;\"",
            )
        } else {
            text
        };
        served.push((origin, text));
    }
    served.extend(reverse_zones("mx1.mail.example.net."));
    let bind = Bind::serving(&served);
    let r = mailc(
        &spec.0,
        &["check", "mailc.yaml", "--resolver", &bind.addr()],
    );
    assert_eq!(r.code, 2, "{}", r.said());
    let drifted = [
        "example.net MX",
        "example.net SPF",
        "example.net DKIM ed",
        "example.net DMARC",
    ];
    assert_eq!(lines_marked(&r.stdout, "✗ "), drifted, "{}", r.said());
    let in_sync: Vec<&str> = CHECKS
        .iter()
        .copied()
        .filter(|c| !drifted.contains(c))
        .collect();
    assert_eq!(lines_marked(&r.stdout, "✓ "), in_sync, "{}", r.said());
    for expected in [
        "✗ example.net MX: live \"10 mx1.mail.example.net\", \"60 fallback.example.net\", spec \"10 mx1.mail.example.net\", \"50 fallback.example.net\"\n",
        "✗ example.net SPF: live \"v=spf1 ip4:192.0.2.10 -all\", spec \"v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 -all\"\n",
        "✗ example.net DKIM ed: missing at ed._domainkey.example.net (NXDOMAIN: the name does not exist); spec \"v=DKIM1; k=ed25519; p=Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\"\n",
        "(differs in p)\n",
        "  help: publish the zone: `mailc apply`, then reload `example.net`",
        "11 in sync, 4 drifted.\n",
    ] {
        assert!(
            r.stdout.contains(expected),
            "no `{expected}` in:\n{}",
            r.said()
        );
    }

    let r = mailc(
        &spec.0,
        &[
            "check",
            "mailc.yaml",
            "--resolver",
            &bind.addr(),
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.said());
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    let status = |check: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|c| c["domain"] == "example.net" && c["check"] == check)
            .map(|c| c["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status("MX"), "drift");
    assert_eq!(status("SPF"), "drift");
    assert_eq!(status("DKIM ed"), "missing");
    assert_eq!(status("DMARC"), "drift");
    assert_eq!(status("DKIM edspki"), "in_sync");
    assert_eq!(status("TLS-RPT"), "in_sync");
}

#[test]
fn wrong_or_unconfirmed_ptr_drifts() {
    let (spec, mut zones) = applied();
    // The IPv4 PTR names another host; the IPv6 one is right.
    let mut rev = reverse_zones("mx1.mail.example.net.");
    rev[0].1 = rev[0]
        .1
        .replace("mx1.mail.example.net.", "host.isp.example.");
    zones.extend(rev);
    // mx1's AAAA gone from its zone: the IPv6 PTR is not forward-confirmed.
    for (origin, text) in &mut zones {
        if origin == "mail.example.net" {
            *text = edit(text, "IN AAAA  2001:db8::10", "");
        }
    }
    let bind = Bind::serving(&zones);
    let r = mailc(
        &spec.0,
        &["check", "mailc.yaml", "--resolver", &bind.addr()],
    );
    assert_eq!(r.code, 2, "{}", r.said());
    assert_eq!(
        lines_marked(&r.stdout, "✗ "),
        [
            "mx1.mail.example.net PTR 192.0.2.10",
            "mx1.mail.example.net PTR 2001:db8::10"
        ],
        "{}",
        r.said()
    );
    for expected in [
        "✗ mx1.mail.example.net PTR 192.0.2.10: live \"host.isp.example\", spec \"mx1.mail.example.net\"\n",
        "help: ask whoever holds the address block of 192.0.2.10",
        "(not forward-confirmed: `mx1.mail.example.net` AAAA is none, not 2001:db8::10)",
        "reload `mail.example.net`",
    ] {
        assert!(
            r.stdout.contains(expected),
            "no `{expected}` in:\n{}",
            r.said()
        );
    }
}

#[test]
fn unpublished_domain_is_checked_with_a_by_hand_help() {
    let tmp = Temp::new("byhand");
    std::fs::write(
        tmp.0.join("mailc.yaml"),
        "version: 1\n\
         hosts:\n  mx1: {hostname: mx1.example.com, ipv4: 192.0.2.10, stack: postfix-dovecot}\n\
         domains:\n  example.com:\n    zone: false\n    mx: [mx1]\n    dmarc: {policy: reject}\n",
    )
    .unwrap();
    let zone = "$TTL 300\n@ IN SOA ns1.example.com. hostmaster.example.com. 1 3600 900 1209600 300\n\
                @ IN NS ns1.example.com.\nns1 IN A 192.0.2.53\n\
                @ IN MX 10 mx1.example.com.\nmx1 IN A 192.0.2.10\n\
                @ IN TXT \"v=spf1 ip4:192.0.2.10 -all\"\n";
    // Other TXT records beside SPF, too many for one UDP answer: the client
    // must retry over TCP to find the SPF record.
    let mut zone = zone.to_string();
    for i in 0..8 {
        zone.push_str(&format!("@ IN TXT \"padding-{i} {}\"\n", "x".repeat(200)));
    }
    let mut zones = vec![("example.com".to_string(), zone)];
    zones.extend(reverse_zones("mx1.example.com.").into_iter().take(1));
    let bind = Bind::serving(&zones);
    let r = mailc(&tmp.0, &["check", "mailc.yaml", "--resolver", &bind.addr()]);
    assert_eq!(r.code, 2, "{}", r.said());
    assert_eq!(
        lines_marked(&r.stdout, "✓ "),
        [
            "example.com MX",
            "example.com SPF",
            "mx1.example.com PTR 192.0.2.10"
        ],
        "{}",
        r.said()
    );
    assert!(
        r.stdout.contains(
            "✗ example.com DMARC: missing at _dmarc.example.com (NXDOMAIN: the name does not exist); spec \"v=DMARC1; p=reject\"\n  \
             help: the spec does not publish the zone of `example.com` (`zone: false`): set `_dmarc.example.com TXT` to \"v=DMARC1; p=reject\" at its DNS provider\n"
        ),
        "{}",
        r.said()
    );
}

#[test]
fn a_server_that_does_not_answer_is_an_error() {
    let (spec, _) = applied();
    // Nothing listens there.
    let port = free_port();
    let server = format!("127.0.0.1:{port}");
    let r = mailc(
        &spec.0,
        &[
            "check",
            "mailc.yaml",
            "--resolver",
            &server,
            "--timeout",
            "1",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.said());
    assert!(
        !r.stdout.contains('✓') && !r.stdout.contains('✗'),
        "{}",
        r.said()
    );
    assert!(
        r.stdout
            .ends_with("15 checks: 0 in sync, 0 drifted, 15 not checked (no usable answer).\n"),
        "{}",
        r.said()
    );
    assert!(
        r.stderr.contains("error: no usable answer for `") && r.stderr.contains(&server),
        "{}",
        r.said()
    );
    assert!(
        r.stderr
            .contains(&format!("help: check that {server} answers")),
        "{}",
        r.said()
    );
}

#[test]
fn servfail_is_an_error_not_drift() {
    let (spec, mut zones) = applied();
    zones.extend(reverse_zones("mx1.mail.example.net."));
    // A zone BIND cannot load: it answers SERVFAIL for every name in it.
    for (origin, text) in &mut zones {
        if origin == "example.org" {
            *text = "this is not a zone file\n".into();
        }
    }
    let bind = Bind::config().zones(&zones).ready_on("example.net").start();
    let r = mailc(
        &spec.0,
        &["check", "mailc.yaml", "--resolver", &bind.addr()],
    );
    assert_eq!(r.code, 1, "{}", r.said());
    assert!(
        r.stderr.contains(&format!(
            "error: no usable answer for `_dmarc.example.org. TXT`: {}: answered SERVFAIL",
            bind.addr()
        )),
        "{}",
        r.said()
    );
    // The other domains are still checked.
    let in_sync: Vec<&str> = CHECKS
        .iter()
        .copied()
        .filter(|c| !c.starts_with("example.org "))
        .collect();
    assert_eq!(lines_marked(&r.stdout, "✓ "), in_sync, "{}", r.said());
    assert!(
        r.stdout
            .ends_with("15 checks: 12 in sync, 0 drifted, 3 not checked (no usable answer).\n"),
        "{}",
        r.said()
    );
}

/// A reverse zone holding one PTR.
fn ptr_zone(origin: &str, owner: &str, target: &str) -> (String, String) {
    (
        origin.to_string(),
        format!(
            "$TTL 300\n@ IN SOA ns1.example.net. hostmaster.example.net. 1 3600 900 1209600 300\n\
             @ IN NS ns1.example.net.\n{owner} IN PTR {target}\n"
        ),
    )
}

#[test]
fn keys_from_key_files_and_split_rsa_records_are_in_sync() {
    // The complete example of docs/spec.md with its pinned test keys: an RSA key
    // (published as two strings) and an Ed25519 key from private key files,
    // a public-only key, three domains and two hosts.
    let tmp = Temp::new("spec-example");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&root.join("tests/cases/spec-example"), &tmp.0);
    copy_dir(&root.join("tests/keys/spec-example"), &tmp.0);
    let r = mailc(
        &tmp.0,
        &["apply", "mailc.yaml", "--out", "out", "--auto-approve"],
    );
    assert_eq!(r.code, 0, "apply: {}", r.said());
    let mut zones = Vec::new();
    for e in std::fs::read_dir(tmp.0.join("out/dns")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        let origin = name.strip_suffix(".zone").unwrap().to_string();
        zones.push((origin, std::fs::read_to_string(&p).unwrap()));
    }
    // mx2.example.net lives in a zone the spec does not publish.
    zones.push((
        "example.net".into(),
        "$TTL 300\n@ IN SOA ns1.example.net. hostmaster.example.net. 1 3600 900 1209600 300\n\
         @ IN NS ns1.example.net.\nns1 IN A 192.0.2.53\nmx2 IN A 198.51.100.7\n"
            .into(),
    ));
    zones.push(ptr_zone("113.0.203.in-addr.arpa", "10", "mx1.example.com."));
    zones.push(ptr_zone("100.51.198.in-addr.arpa", "7", "mx2.example.net."));
    zones.push(ptr_zone(
        "8.b.d.0.1.0.0.2.ip6.arpa",
        "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",
        "mx1.example.com.",
    ));
    let bind = Bind::serving(&zones);
    let r = mailc(&tmp.0, &["check", "mailc.yaml", "--resolver", &bind.addr()]);
    assert_eq!(r.code, 0, "{}", r.said());
    for dkim in [
        "example.com DKIM s2026",
        "example.com DKIM s2025",
        "example.com DKIM google",
        "example.org DKIM google",
    ] {
        assert!(
            lines_marked(&r.stdout, "✓ ").contains(&dkim),
            "{}",
            r.said()
        );
    }
    // The includes of Google's record are not served here: their lookups
    // are left uncounted, and said so.
    assert!(
        r.stderr.lines().all(|l| l.starts_with("note: ")
            && l.contains("SPF lookups: not counted, no usable answer for _spf.google.com TXT")),
        "{}",
        r.said()
    );
    let zone = &zones.iter().find(|(o, _)| o == "example.com").unwrap().1;
    let s2025 = zone
        .lines()
        .find(|l| l.starts_with("s2025._domainkey"))
        .unwrap();
    assert_eq!(
        s2025.matches('"').count(),
        4,
        "the RSA key is two strings: {s2025}"
    );

    // Without the key files, their records are left unchecked, and said so.
    std::fs::remove_dir_all(tmp.0.join("keys")).unwrap();
    let r = mailc(&tmp.0, &["check", "mailc.yaml", "--resolver", &bind.addr()]);
    assert_eq!(r.code, 0, "{}", r.said());
    assert!(!r.stdout.contains("DKIM s2025"), "{}", r.said());
    assert!(
        r.stderr.contains("note: example.com DKIM s2025: not checked, the key file `keys/example.com/s2025.key` cannot be read"),
        "{}",
        r.said()
    );
}

#[test]
fn the_next_resolver_is_asked_when_one_does_not_answer() {
    let (spec, mut zones) = applied();
    zones.extend(reverse_zones("mx1.mail.example.net."));
    let bind = Bind::serving(&zones);
    let silent = format!("127.0.0.1:{}", free_port());
    let r = mailc(
        &spec.0,
        &[
            "check",
            "mailc.yaml",
            "--resolver",
            &silent,
            "--resolver",
            &bind.addr(),
            "--timeout",
            "1",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.said());
    assert!(
        r.stdout.ends_with("15 checks: 15 in sync, 0 drifted.\n"),
        "{}",
        r.said()
    );
}

/// The examples and test cases: folders with `mailc.yaml`.
fn spec_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = Vec::new();
    for parent in ["examples", "tests/cases"] {
        for e in std::fs::read_dir(root.join(parent)).unwrap() {
            let p = e.unwrap().path();
            if p.join("mailc.yaml").is_file() {
                dirs.push(p);
            }
        }
    }
    dirs.sort();
    dirs
}

#[test]
fn every_spec_is_in_sync_with_its_applied_zones() {
    // What `mailc check` expects and what `mailc apply` writes cannot
    // disagree: every example and test case, applied and served, has every
    // record of every published domain in sync. (PTRs and names outside the
    // published zones get no answer from this server; they are left out.)
    let mut failures = Vec::new();
    for dir in spec_dirs() {
        let tmp = Temp::new("every");
        copy_dir(&dir, &tmp.0);
        let r = mailc(&tmp.0, &["dkim", "keygen", "mailc.yaml"]);
        assert_eq!(r.code, 0, "{}: keygen: {}", dir.display(), r.said());
        let r = mailc(
            &tmp.0,
            &["apply", "mailc.yaml", "--out", "out", "--auto-approve"],
        );
        assert_eq!(r.code, 0, "{}: apply: {}", dir.display(), r.said());
        let mut zones = Vec::new();
        for e in std::fs::read_dir(tmp.0.join("out/dns")).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            let origin = name.strip_suffix(".zone").unwrap().to_string();
            zones.push((origin, std::fs::read_to_string(&p).unwrap()));
        }
        zones.sort();
        let bind = Bind::serving(&zones);
        let r = mailc(
            &tmp.0,
            &[
                "check",
                "--resolver",
                &bind.addr(),
                "--format",
                "json",
                "--timeout",
                "2",
            ],
        );
        let checks: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
        let checks = checks.as_array().unwrap();
        for c in checks {
            let check = c["check"].as_str().unwrap();
            if !check.starts_with("PTR ") && c["status"] != "in_sync" {
                failures.push(format!("{}: {c}", dir.display()));
            }
        }
        // Every check of a published domain was decided (and so compared):
        // the library's list of checks, key files read from the copy.
        let model = model_of(&tmp.0);
        let expected = mailc::live::check::expect::expectations(&model, Some(&KeysIn(&tmp.0)));
        assert!(expected.notes.is_empty(), "{:?}", expected.notes);
        for e in &expected.checks {
            let published = zones.iter().any(|(o, _)| *o == e.group);
            let kind = e.kind.to_string();
            let shown = checks
                .iter()
                .any(|c| c["domain"] == e.group.as_str() && c["check"] == kind.as_str());
            if published && !shown {
                failures.push(format!(
                    "{}: {} {kind} not checked:\n{}",
                    dir.display(),
                    e.group,
                    r.said()
                ));
            }
        }
        assert!(
            r.code == 0 || r.code == 1,
            "{}: {}",
            dir.display(),
            r.said()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Key files read from a spec's folder (for the library's expectations).
struct KeysIn<'a>(&'a Path);

impl mailc::backend::Context for KeysIn<'_> {
    fn previous(&self, _: &str) -> Option<Vec<u8>> {
        None
    }

    fn private_key(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.0.join(path)).ok()
    }
}
