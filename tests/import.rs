//! `mailc import` (docs/import.md) as users run it, judged by real programs
//! and by `mailc route`:
//!
//! - zones: every zone the project generates (`tests/expected/*/dns/`) and
//!   hand-written zones in other styles (relative names, `$INCLUDE`, long TXT
//!   in parentheses, TTL units, records mailc does not write) are imported,
//!   compiled, and both the original and the result are read by BIND's
//!   `named-compilezone`: the RRsets agree, SOA serial aside, except exactly
//!   the records the report names;
//! - cPanel and docker-mailserver: fixture folders written here from the
//!   documented file formats; every forwarder, mailbox and routing mode
//!   routes (`mailc route`) as the original treats it, one table per fixture
//!   (`:blackhole:` as the spec's drop, on one address and as the default
//!   address);
//! - garbage (a truncated zone, a binary file, a map line without a value, a
//!   shadow line with an unknown hash, an `$INCLUDE` out of the folder): a
//!   diagnostic naming the file and line, exit 1, nothing written;
//! - YAML and KDL output compile to the same files; an existing spec is never
//!   overwritten; the spec is written 0600.
//!
//! Postfix + Dovecot run for real in `tests/import_postfix.rs`.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

mod support;
use support::{Temp, mailc, root, tool};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `mailc import ARGS` in `dir`, which must succeed; the report (stderr).
fn import(dir: &Path, args: &[&str]) -> String {
    let r = mailc(dir, &[&["import"], args].concat());
    assert_eq!(
        r.code, 0,
        "mailc import {args:?}:\n{}{}",
        r.stdout, r.stderr
    );
    assert!(r.stdout.starts_with("wrote "), "{}", r.stdout);
    r.stderr
}

/// `mailc build SPEC --out OUT` in `dir`; the files, by relative path.
fn build(dir: &Path, spec: &str, out: &str) -> BTreeMap<String, Vec<u8>> {
    let r = mailc(dir, &["build", spec, "--out", out]);
    assert_eq!(r.code, 0, "build {spec}: {}{}", r.stdout, r.stderr);
    let mut files = BTreeMap::new();
    let base = dir.join(out);
    let mut stack = vec![base.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(&base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    files
}

/// The quoted strings of a TXT record's data, joined (what SPF, DKIM and
/// DMARC read, RFC 7208 §3.3, RFC 6376 §3.6.2.2).
fn joined(rdata: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    let mut chars = rdata.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => inside = !inside,
            '\\' if inside => {
                out.push(c);
                out.extend(chars.next());
            }
            _ if inside => out.push(c),
            _ => {}
        }
    }
    format!("\"{out}\"")
}

/// A zone as BIND reads it (`named-compilezone -s full`, run in `cwd` so
/// relative `$INCLUDE`s resolve there): one line per record, `owner TTL
/// class type data`, lowercase owners, sorted. The SOA serial is left out;
/// TXT strings are joined; SPF terms after `v=spf1` and before `all` are
/// sorted (an order of `+` mechanisms does not change a verdict).
fn canonical(origin: &str, file: &Path, cwd: &Path) -> Vec<String> {
    let out = Command::new(tool(
        "named-compilezone",
        "the zone round trips are judged by BIND",
    ))
    .current_dir(cwd)
    .args([
        "-q", "-k", "ignore", "-n", "ignore", "-i", "none", "-s", "full", "-o", "-", origin,
    ])
    .arg(file)
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "named-compilezone {origin} {}: {}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (owner, ttl, class, rtype) = (f[0].to_lowercase(), f[1], f[2], f[3]);
            let mut data = f[4..].join(" ");
            if rtype == "SOA" {
                let mut d: Vec<&str> = f[4..].to_vec();
                d[2] = "SERIAL";
                data = d.join(" ");
            }
            if rtype == "TXT" {
                data = joined(&data);
                if data.starts_with("\"v=spf1 ") {
                    let inner = data.trim_matches('"');
                    let mut terms: Vec<&str> = inner.split(' ').skip(1).collect();
                    let all = terms.pop().unwrap_or("");
                    terms.sort();
                    data = format!("\"v=spf1 {} {all}\"", terms.join(" "));
                }
            }
            format!("{owner} {ttl} {class} {rtype} {data}")
        })
        .collect();
    lines.sort();
    lines
}

/// Lines only in `a`, and only in `b`.
fn differences(a: &[String], b: &[String]) -> (Vec<String>, Vec<String>) {
    let only = |x: &[String], y: &[String]| x.iter().filter(|l| !y.contains(l)).cloned().collect();
    (only(a, b), only(b, a))
}

#[test]
fn every_generated_zone_round_trips() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root().join("tests/expected"))
        .unwrap()
        .map(|e| e.unwrap().path().join("dns"))
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "only {} cases have zones", cases.len());
    let mut failures = Vec::new();
    let mut zones = 0;
    for dns in cases {
        let case = dns
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let tmp = Temp::new("import-zones");
        let mut args: Vec<String> = std::fs::read_dir(&dns)
            .unwrap()
            .map(|e| e.unwrap().path().display().to_string())
            .collect();
        args.sort();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let report = import(&tmp.0, &refs);
        if report.contains("warning:") {
            failures.push(format!("{case}: the report warns:\n{report}"));
        }
        let yaml = build(&tmp.0, "mailc.yaml", "out");
        // The same sources in KDL compile to the same files.
        import(&tmp.0, &[&refs[..], &["--out", "mailc.kdl"]].concat());
        let kdl = build(&tmp.0, "mailc.kdl", "out-kdl");
        if yaml != kdl {
            failures.push(format!(
                "{case}: the YAML and KDL imports compile differently"
            ));
        }
        for original in &args {
            let original = Path::new(original);
            let origin = original.file_stem().unwrap().to_string_lossy().into_owned();
            let mine = tmp.0.join("out/dns").join(format!("{origin}.zone"));
            let (gone, added) = differences(
                &canonical(&origin, original, &tmp.0),
                &canonical(&origin, &mine, &tmp.0),
            );
            if !gone.is_empty() || !added.is_empty() {
                failures.push(format!(
                    "{case}/{origin}: records lost {gone:#?}, records added {added:#?}"
                ));
            }
            zones += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(zones >= 30, "only {zones} zones compared");
}

/// An RSA-2048 public key (SubjectPublicKeyInfo, base64), as a DKIM record
/// publishes it.
const RSA_KEY: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtQoPjhR209GeV8Djorpsv5m8hp7c5j6ZdIReYr4H5hnwZf2dB2b9QPOo6cdsWyEi9qR0gFnlMoCqAy8x12Z9JFft1ywWfmxHrGuXx4OUU11jVlyaG5usmy6Cev9pUZ/vJ/fMDoMYXRcSAV5C6V2D/+fZ3Q3JqxDAJfc40c5hoiuWTV83V1WjMWEQDjVxfeJjDns8Su2h74XCFZfk/K/tJ7sjbZy/mvZTNPqFJPB0rIJqvgsiNG5rnYPsrTleiUfFvklvw8VEzuIHX3z21UroT0h1Mw7+tPOeBVPhXWo3b+hfj8logMh8V6olZgxHhLQHkYKHlPl+8GgqevPTkB7/RwIDAQAB";

/// A zone's origin, its file, and the records that cannot come through,
/// each with what the report says about it.
type HandWritten = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
);

/// Zones as people write them by hand (BIND master-file syntax, RFC 1035
/// §5.1): each with the records that cannot come through, and a text of the
/// report that names each of them.
fn hand_written(dir: &Path) -> Vec<HandWritten> {
    // $TTL with units, $ORIGIN, relative names, owners left blank, SOA
    // over several lines with comments, a TTL before the class, TXT strings
    // in parentheses, an $INCLUDE, a delegation with glue, a wildcard, and
    // two types mailc does not write (HINFO, SSHFP).
    write(
        &dir.join("example.com.zone"),
        "; example.com, edited by hand for years\n\
         $TTL 1h\n\
         $ORIGIN example.com.\n\
         @\tIN\tSOA\tns1.example.net. hostmaster.example.com. (\n\
         \t\t2024052001\t; serial\n\
         \t\t3h\t\t; refresh\n\
         \t\t15m\t\t; retry\n\
         \t\t2w\t\t; expire\n\
         \t\t5m )\t\t; negative TTL\n\
         \tIN\tNS\tns1.example.net.\n\
         \tIN\tNS\tns2.example.net.\n\
         \tIN\tMX\t10 mail\n\
         \tIN\tMX\t20 backup.example.net.\n\
         \tIN\tTXT\t\"v=spf1 ip4:203.0.113.0/28 include:_spf.example.net -all\"\n\
         \tIN\tCAA\t0 issue \"letsencrypt.org\"\n\
         mail\tIN\tA\t203.0.113.10\n\
         \tIN\tAAAA\t2001:db8::10\n\
         www\t300\tIN\tCNAME\tweb.example.net.\n\
         WWW2\tIN\tA\t203.0.113.20\t; an owner in capitals\n\
         _dmarc\tIN\tTXT\t( \"v=DMARC1; p=quarantine; \"\n\
         \t\t\t  \"rua=mailto:dmarc@example.com\" )\n\
         $INCLUDE keys/dkim.inc\n\
         _sip._tcp\tIN\tSRV\t10 5 5060 sip\n\
         sip\tIN\tA\t203.0.113.30\n\
         _25._tcp.mail\tIN\tTLSA\t3 1 1 (\n\
         \t\t0011223344556677889900112233445566778899001122334455667788990011 )\n\
         lab\tIN\tNS\tns.lab\n\
         ns.lab\tIN\tA\t203.0.113.40\n\
         *.dev\tIN\tA\t203.0.113.50\n\
         old\tIN\tHINFO\t\"PC\" \"Linux\"\n\
         mail\tIN\tSSHFP\t1 1 0123456789abcdef0123456789abcdef01234567\n",
    );
    let (a, b) = RSA_KEY.split_at(200);
    write(
        &dir.join("keys/dkim.inc"),
        &format!(
            "; the DKIM key, kept apart\ns1._domainkey\tIN\tTXT\t( \"v=DKIM1; k=rsa; \"\n\t\"p={a}\"\n\t\"{b}\" )\n"
        ),
    );
    // No $ORIGIN (the file's name says it), absolute names, TTLs on every
    // record, a null MX, and a type given by number.
    write(
        &dir.join("db.example.net"),
        "example.net. 7200 IN SOA ns1.example.net. hostmaster.example.com. 7 3600 900 1209600 300\n\
         example.net. 7200 IN NS ns1.example.net.\n\
         example.net. 7200 IN NS ns2.example.net.\n\
         example.net. 7200 IN MX 0 .\n\
         example.net. 7200 IN TXT \"v=spf1 -all\"\n\
         ns1.example.net. 7200 IN A 198.51.100.1\n\
         ns2.example.net. 7200 IN A 198.51.100.2\n\
         web.example.net. 300 IN A 198.51.100.80\n\
         private.example.net. 7200 IN TYPE65280 \\# 4 0A000001\n",
    );
    // An SPF record in a form mailc's keys do not hold; TLS-RPT, and MTA-STS
    // served from elsewhere.
    write(
        &dir.join("example.org.db"),
        "$TTL 86400\n\
         @ IN SOA ns1.example.net. hostmaster.example.com. 2024010101 3600 900 1209600 300\n\
         @ IN NS ns1.example.net.\n\
         @ IN NS ns2.example.net.\n\
         @ IN MX 1 aspmx.l.google.com.\n\
         @ IN MX 5 alt1.aspmx.l.google.com.\n\
         @ IN TXT \"v=spf1 mx a:mail.example.org ip4:198.51.100.0/24 ~all\"\n\
         @ IN TXT \"google-site-verification=abc123\"\n\
         _dmarc IN TXT \"v=DMARC1; p=none; rua=mailto:dmarc@example.org; fo=1\"\n\
         _smtp._tls IN TXT \"v=TLSRPTv1; rua=mailto:tls-reports@example.org\"\n\
         _mta-sts IN TXT \"v=STSv1; id=20240101T000000\"\n\
         mta-sts IN CNAME web.example.net.\n",
    );
    vec![
        (
            "example.com",
            "example.com.zone",
            vec![
                (
                    "old.example.com. 3600 IN HINFO",
                    "the HINFO record at `old.example.com.` is not carried over",
                ),
                (
                    "mail.example.com. 3600 IN SSHFP",
                    "the SSHFP record at `mail.example.com.` is not carried over",
                ),
            ],
        ),
        (
            "example.net",
            "db.example.net",
            vec![(
                "private.example.net. 7200 IN TYPE65280",
                "the TYPE65280 record at `private.example.net.` is not carried over",
            )],
        ),
        ("example.org", "example.org.db", vec![]),
    ]
}

#[test]
fn hand_written_zones_round_trip_except_what_the_report_names() {
    let tmp = Temp::new("import-hand");
    let zones = hand_written(&tmp.0);
    let files: Vec<&str> = zones.iter().map(|(_, f, _)| *f).collect();
    let report = import(&tmp.0, &files);
    let from_yaml = build(&tmp.0, "mailc.yaml", "out");
    let mut failures = Vec::new();
    // The KDL spec says the same.
    import(&tmp.0, &[&files[..], &["--out", "mailc.kdl"]].concat());
    if build(&tmp.0, "mailc.kdl", "out-kdl") != from_yaml {
        failures.push("the KDL spec builds other files than the YAML spec".to_string());
    }
    for (origin, file, expected) in &zones {
        let before = canonical(origin, &tmp.0.join(file), &tmp.0);
        let after = canonical(
            origin,
            &tmp.0.join("out/dns").join(format!("{origin}.zone")),
            &tmp.0,
        );
        let (gone, added) = differences(&before, &after);
        // The SOA's timers are mailc's own; the report says so.
        let soa = |l: &&String| l.contains(" SOA ");
        let gone: Vec<&String> = gone.iter().filter(|l| !soa(l)).collect();
        let added: Vec<&String> = added.iter().filter(|l| !soa(l)).collect();
        for (record, said) in expected {
            if !gone.iter().any(|l| l.starts_with(record)) {
                failures.push(format!("{origin}: `{record}` was expected to be lost"));
            }
            if !report.contains(said) {
                failures.push(format!("{origin}: the report does not say `{said}`"));
            }
        }
        for l in &gone {
            if !expected.iter().any(|(r, _)| l.starts_with(r)) {
                failures.push(format!("{origin}: `{l}` is lost without being expected"));
            }
        }
        for l in &added {
            failures.push(format!("{origin}: `{l}` is added"));
        }
    }
    for said in [
        "example.com.zone:4: the SOA record changes: refresh 10800 → 3600",
        "keys/dkim.inc:2: the strings of the TXT record at `s1._domainkey.example.com.` are joined",
        "DKIM key `s1` of `example.com` is imported as published only",
        "example.org.db:9: the DMARC record has tags the spec's `dmarc` does not hold",
        "example.org.db:7: the SPF record has terms the spec's `spf` keys cannot hold (`mx a:mail.example.org`): it is kept whole",
        "example.org.db:11: MTA-STS is kept as records",
    ] {
        if !report.contains(said) {
            failures.push(format!("the report does not say `{said}`:\n{report}"));
        }
    }
    let spec = std::fs::read_to_string(tmp.0.join("mailc.yaml")).unwrap();
    for kept in [
        "{name: '*.dev', type: A, value: 203.0.113.50}",
        "{name: www, type: CNAME, value: web.example.net., ttl: 300}",
        "mx: []",
        "tls_rpt: {rua: ['mailto:tls-reports@example.org']}",
        "spf: {record: 'v=spf1 mx a:mail.example.org ip4:198.51.100.0/24 ~all'}",
    ] {
        if !spec.contains(kept) {
            failures.push(format!("the spec lacks `{kept}`:\n{spec}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\nreport:\n{report}",
        failures.join("\n")
    );
}

/// Runs a failing import in `dir`: exit 1, the report names `place`, and
/// no spec is written.
fn refused(dir: &Path, args: &[&str], place: &str, says: &str) -> Option<String> {
    let r = mailc(dir, &[&["import"], args].concat());
    let written = dir.join("mailc.yaml").exists();
    (r.code != 1 || !r.stderr.contains(place) || !r.stderr.contains(says) || written).then(|| {
        format!("import {args:?}: exit {}, spec written: {written}, expected `{place}` and `{says}`:\n{}{}", r.code, r.stdout, r.stderr)
    })
}

#[test]
fn garbage_is_refused_at_its_file_and_line_and_nothing_is_written() {
    let tmp = Temp::new("import-garbage");
    let d = &tmp.0;
    let mut failures = Vec::new();
    // A zone cut short inside its parentheses.
    write(
        &d.join("cut/example.com.zone"),
        "$TTL 3600\n@ IN SOA ns1.example.net. hostmaster.example.com. 1 3600 900 1209600 300\n@ IN NS ns1.example.net.\n_dmarc IN TXT ( \"v=DMARC1; \"\n  \"p=none\"\n",
    );
    failures.extend(refused(
        d,
        &["cut/example.com.zone"],
        "cut/example.com.zone:4:",
        "never closed",
    ));
    // A binary file given as a zone.
    std::fs::create_dir_all(d.join("bin")).unwrap();
    std::fs::write(
        d.join("bin/example.com.zone"),
        b"$TTL 3600\n\x00\x01\x02binary\n",
    )
    .unwrap();
    failures.extend(refused(
        d,
        &["bin/example.com.zone"],
        "bin/example.com.zone:2:",
        "binary file",
    ));
    // A Postfix map line without a value.
    write(
        &d.join("pf/main.cf"),
        "myhostname = mail.example.com\nvirtual_mailbox_domains = example.com\nvirtual_alias_maps = hash:virtual\n",
    );
    write(
        &d.join("pf/virtual"),
        "info@example.com alice@example.com\nsales@example.com\n",
    );
    failures.extend(refused(d, &["pf"], "virtual:2:", "has a key but no value"));
    // A cPanel shadow line with a hash of no known kind.
    write(&d.join("cp/etc/localdomains"), "example.com\n");
    write(
        &d.join("cp/home/acct/etc/example.com/passwd"),
        "alice:x:1000:1000::/home/acct/mail/example.com/alice:/home/acct\n",
    );
    write(
        &d.join("cp/home/acct/etc/example.com/shadow"),
        "alice:zz%%not-a-hash%%:19000::::::\n",
    );
    failures.extend(refused(d, &["cp"], "shadow:1:", "not a hash mailc knows"));
    // A hash mailc cannot keep.
    write(
        &d.join("users"),
        "alice@example.com:{SHA512-CRYPT}$6$z6MQEt/GaGznLHgp$Byj6wliyFlYZHsGkA4BNdNtrTqS5pXmwqZNxvUaM4udekNI5s8a/QT1eru.9fx11jrZ56JBhTYoI/a1fP.cNA.\nbob@example.com:$1$abcdefgh$0123456789abcdefghijkl\n",
    );
    failures.extend(refused(d, &["users"], "users:2:", "MD5-CRYPT"));
    // An $INCLUDE that leaves the folder it was given in.
    write(&d.join("secret.inc"), "www IN A 192.0.2.1\n");
    write(
        &d.join("inc/example.com.zone"),
        "$TTL 3600\n@ IN SOA ns1.example.net. hostmaster.example.com. 1 3600 900 1209600 300\n@ IN NS ns1.example.net.\n$INCLUDE ../secret.inc\n",
    );
    failures.extend(refused(
        d,
        &["inc/example.com.zone"],
        "inc/example.com.zone:4:",
        "lies outside the folder being imported",
    ));
    // A map named by an absolute path outside the folder.
    write(
        &d.join("pf2/main.cf"),
        "myhostname = mail.example.com\nvirtual_mailbox_domains = example.com\nvirtual_mailbox_maps = hash:/etc/passwd\n",
    );
    failures.extend(refused(
        d,
        &["pf2"],
        "main.cf:3",
        "lies outside the folder being imported",
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn an_existing_spec_is_never_overwritten_and_the_spec_is_secret() {
    let tmp = Temp::new("import-exists");
    hand_written(&tmp.0);
    std::fs::write(tmp.0.join("mailc.yaml"), "mine\n").unwrap();
    let r = mailc(&tmp.0, &["import", "example.com.zone"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("never overwrites"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(tmp.0.join("mailc.yaml")).unwrap(),
        "mine\n"
    );
    let r = mailc(
        &tmp.0,
        &[
            "import",
            "example.com.zone",
            "--out",
            "x.yaml",
            "--dialect",
            "kdl",
        ],
    );
    assert_eq!(
        r.code, 1,
        "a KDL spec named .yaml would be read as YAML: {}",
        r.stderr
    );
    import(&tmp.0, &["example.com.zone", "--out", "new.kdl"]);
    let mode = std::fs::metadata(tmp.0.join("new.kdl"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    assert!(
        std::fs::read_to_string(tmp.0.join("new.kdl"))
            .unwrap()
            .contains("domain example.com")
    );
}

/// One row of a route table: `address outcome mailboxes forward`.
fn check_routes(spec: &Path, host: &str, table: &str) -> Vec<String> {
    let dir = spec.parent().unwrap();
    let name = spec.file_name().unwrap().to_str().unwrap();
    let mut failures = Vec::new();
    for row in table
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let cols: Vec<&str> = row.split_whitespace().collect();
        let [address, outcome, mailboxes, forward, hop] = cols[..] else {
            panic!("bad row {row}");
        };
        let r = mailc(
            dir,
            &["route", address, name, "--host", host, "--format", "json"],
        );
        assert_eq!(r.code, 0, "route {address}: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let list = |k: &str| -> String {
            let items: Vec<String> = v[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect();
            if items.is_empty() {
                "-".into()
            } else {
                items.join(",")
            }
        };
        let got = format!(
            "{} {} {} {}",
            v["outcome"].as_str().unwrap(),
            list("mailboxes"),
            list("forward"),
            v["next_hop"].as_str().unwrap_or("-")
        );
        let want = format!("{outcome} {mailboxes} {forward} {hop}");
        if got != want {
            failures.push(format!(
                "{address} on {host}: want `{want}`, mailc route says `{got}`"
            ));
        }
    }
    failures
}

/// The route tests the import wrote into `spec` (in `dir`): at least
/// `least` of them, and `mailc test` passes them. The KDL spec imported from
/// the same sources carries the same tests, which pass too.
fn spec_tests_pass(dir: &Path, sources: &[&str], least: usize) -> Vec<String> {
    let mut failures = Vec::new();
    import(dir, &[sources, &["--out", "mailc.kdl"]].concat());
    let yaml = std::fs::read_to_string(dir.join("mailc.yaml")).unwrap();
    let kdl = std::fs::read_to_string(dir.join("mailc.kdl")).unwrap();
    let in_yaml = yaml.matches("- {address: ").count();
    let in_kdl = kdl
        .lines()
        .filter(|l| l.trim_start().starts_with("address "))
        .count();
    if in_yaml < least || in_yaml != in_kdl {
        failures.push(format!(
            "{in_yaml} route tests in mailc.yaml, {in_kdl} in mailc.kdl; want at least {least}, alike"
        ));
    }
    for spec in ["mailc.yaml", "mailc.kdl"] {
        let r = mailc(dir, &["test", spec]);
        if r.code != 0 {
            failures.push(format!("mailc test {spec}: {}{}", r.stdout, r.stderr));
        }
    }
    failures
}

#[test]
fn cpanel_routes_as_the_original() {
    let tmp = Temp::new("import-cpanel");
    let r = &tmp.0.join("server");
    let hash = "$6$z6MQEt/GaGznLHgp$Byj6wliyFlYZHsGkA4BNdNtrTqS5pXmwqZNxvUaM4udekNI5s8a/QT1eru.9fx11jrZ56JBhTYoI/a1fP.cNA.";
    // cPanel's Email Routing: one domain per line in the file of its mode.
    write(&r.join("etc/hostname"), "server1.host.example\n");
    write(&r.join("var/cpanel/mainip"), "203.0.113.50\n");
    write(
        &r.join("etc/localdomains"),
        "shop.example\nshop-alias.example\nquiet.example\n",
    );
    write(&r.join("etc/remotedomains"), "elsewhere.example\n");
    write(&r.join("etc/secondarymx"), "backup.example\n");
    // Forwarders (/etc/valiases/DOMAIN): `ADDRESS: TARGET, TARGET`, and
    // `*:` the default address (`:fail: TEXT`, `:blackhole:`, an address).
    write(
        &r.join("etc/valiases/shop.example"),
        "sales@shop.example: owner@shop.example, partner@outside.example\n\
         info@shop.example: sales@shop.example\n\
         noreply@shop.example: :blackhole:\n\
         *: :fail: No Such User Here\n",
    );
    write(&r.join("etc/valiases/quiet.example"), "*: :blackhole:\n");
    // Domain forwarders (/etc/vdomainaliases/DOMAIN): `DOMAIN: OTHER`.
    write(
        &r.join("etc/vdomainaliases/shop-alias.example"),
        "shop-alias.example: shop.example\n",
    );
    // An account's mail users: passwd (`USER:x:UID:GID::HOME:SHELL`),
    // shadow (`USER:CRYPT:...`), quota (`USER:BYTES`).
    let etc = r.join("home/shop/etc/shop.example");
    write(
        &etc.join("passwd"),
        "owner:x:1001:1001::/home/shop/mail/shop.example/owner:/home/shop\nstaff:x:1001:1001::/home/shop/mail/shop.example/staff:/home/shop\n",
    );
    write(
        &etc.join("shadow"),
        &format!("owner:{hash}:19000::::::\nstaff:{hash}:19000::::::\n"),
    );
    write(&etc.join("quota"), "owner:1073741824\nstaff:0\n");
    let q = r.join("home/quiet/etc/quiet.example");
    write(
        &q.join("passwd"),
        "me:x:1002:1002::/home/quiet/mail/quiet.example/me:/home/quiet\n",
    );
    write(&q.join("shadow"), &format!("me:{hash}:19000::::::\n"));
    // The backup domain's zone says who its primary is.
    write(
        &tmp.0.join("backup.example.zone"),
        "$TTL 3600\n@ IN SOA ns1.example.net. hostmaster.backup.example. 1 3600 900 1209600 300\n@ IN NS ns1.example.net.\n@ IN NS ns2.example.net.\n@ IN MX 10 mx.primary.example.\n@ IN MX 20 server1.host.example.\n@ IN TXT \"v=spf1 -all\"\n",
    );
    let report = import(&tmp.0, &["server", "backup.example.zone"]);
    // What cPanel's Exim does with each address (the forwarder, then the
    // account, then the domain forwarder, then the default address; RCPT
    // verification refuses `:fail:`).
    let table = "
        # address                    outcome  mailboxes            forward                  next hop
        owner@shop.example           deliver  owner@shop.example   -                        -
        staff@shop.example           deliver  staff@shop.example   -                        -
        sales@shop.example           deliver  owner@shop.example   partner@outside.example  -
        info@shop.example            deliver  owner@shop.example   partner@outside.example  -
        nobody@shop.example          reject   -                    -                        -
        owner@shop-alias.example     deliver  owner@shop.example   -                        -
        sales@shop-alias.example     deliver  owner@shop.example   partner@outside.example  -
        nobody@shop-alias.example    reject   -                    -                        -
        noreply@shop.example         drop     -                    -                        -
        me@quiet.example             deliver  me@quiet.example     -                        -
        whoever@quiet.example        drop     -                    -                        -
        someone@elsewhere.example    remote   -                    -                        -
        someone@backup.example       relay    -                    -                        mx.primary.example
    ";
    let mut failures = check_routes(&tmp.0.join("mailc.yaml"), "server1", table);
    failures.extend(spec_tests_pass(
        &tmp.0,
        &["server", "backup.example.zone"],
        8,
    ));
    // `:blackhole:` is carried over as a drop: nothing to report about it.
    if report.contains("blackhole") || report.contains("throws it away") {
        failures.push("the report still speaks of `:blackhole:`".into());
    }
    let spec = std::fs::read_to_string(tmp.0.join("mailc.yaml")).unwrap();
    for kept in [
        "noreply: {drop: true}",
        "unknown_recipients: drop",
        "stack: exim-dovecot",
        "ipv4: 203.0.113.50",
        "quota: 1G",
        "mx: [mx.primary.example, server1]",
    ] {
        if !spec.contains(kept) {
            failures.push(format!("the spec lacks `{kept}`"));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\nreport:\n{report}\nspec:\n{spec}",
        failures.join("\n")
    );
}

#[test]
fn docker_mailserver_routes_as_the_original() {
    let tmp = Temp::new("import-dms");
    let c = &tmp.0.join("config");
    let hash = "{SHA512-CRYPT}$6$z6MQEt/GaGznLHgp$Byj6wliyFlYZHsGkA4BNdNtrTqS5pXmwqZNxvUaM4udekNI5s8a/QT1eru.9fx11jrZ56JBhTYoI/a1fP.cNA.";
    // postfix-accounts.cf: `ADDRESS|{SCHEME}HASH`, as `setup email add` writes.
    write(
        &c.join("postfix-accounts.cf"),
        &format!("alice@example.com|{hash}\nbob@example.com|{hash}\ncarol@example.org|{hash}\n"),
    );
    // postfix-virtual.cf: Postfix virtual(5), `ALIAS TARGET[,TARGET]`,
    // `@DOMAIN TARGET` a catch-all, `@DOMAIN @OTHER` a domain alias.
    write(
        &c.join("postfix-virtual.cf"),
        "info@example.com alice@example.com\n\
         team@example.com alice@example.com,bob@example.com,friend@outside.example\n\
         @example.org carol@example.org\n\
         @example.net @example.com\n",
    );
    // dovecot-quotas.cf: `ADDRESS:SIZE`, as `setup quota set` writes.
    write(&c.join("dovecot-quotas.cf"), "alice@example.com:2G\n");
    write(
        &c.join("postfix-sasl-password.cf"),
        "[smtp.relay.example]:587 user:secret\n",
    );
    // The zone names the server: its MX.
    write(
        &tmp.0.join("example.com.zone"),
        "$TTL 3600\n@ IN SOA ns1.example.net. hostmaster.example.com. 1 3600 900 1209600 300\n@ IN NS ns1.example.net.\n@ IN MX 10 mail.example.com.\nmail IN A 203.0.113.25\n@ IN TXT \"v=spf1 mx -all\"\n",
    );
    let report = import(&tmp.0, &["config", "example.com.zone"]);
    let table = "
        # address                 outcome  mailboxes                             forward                  next hop
        alice@example.com         deliver  alice@example.com                     -                        -
        info@example.com          deliver  alice@example.com                     -                        -
        team@example.com          deliver  alice@example.com,bob@example.com     friend@outside.example   -
        nobody@example.com        reject   -                                     -                        -
        carol@example.org         deliver  carol@example.org                     -                        -
        whoever@example.org       deliver  carol@example.org                     -                        -
        alice@example.net         deliver  alice@example.com                     -                        -
        team@example.net          deliver  alice@example.com,bob@example.com     friend@outside.example   -
        nobody@example.net        bounce   -                                     -                        -
    ";
    let mut failures = check_routes(&tmp.0.join("mailc.yaml"), "mail", table);
    failures.extend(spec_tests_pass(&tmp.0, &["config", "example.com.zone"], 8));
    let spec = std::fs::read_to_string(tmp.0.join("mailc.yaml")).unwrap();
    for kept in [
        "hostname: mail.example.com",
        "ipv4: 203.0.113.25",
        "quota: 2G",
    ] {
        if !spec.contains(kept) {
            failures.push(format!("the spec lacks `{kept}`"));
        }
    }
    for said in [
        "postfix-sasl-password.cf: not carried over",
        "the SPF term `mx` is written as the address of the domain's local host, its only MX",
    ] {
        if !report.contains(said) {
            failures.push(format!("the report does not say `{said}`"));
        }
    }
    assert!(
        !report.contains("secret"),
        "a credential reached the report:\n{report}"
    );
    assert!(
        failures.is_empty(),
        "{}\n\nreport:\n{report}\nspec:\n{spec}",
        failures.join("\n")
    );
}

/// Postfix's `relayhost` becomes the host's outbound relay (its TLS from
/// `smtp_tls_security_level`), in both dialects; its login is reported,
/// never carried.
#[test]
fn a_postfix_relayhost_becomes_the_hosts_outbound_relay() {
    let tmp = Temp::new("import-relayhost");
    write(
        &tmp.0.join("root/etc/postfix/main.cf"),
        "myhostname = mail.example.com\ninet_interfaces = 203.0.113.10\n\
         virtual_mailbox_domains = example.com\nvirtual_mailbox_maps = hash:/etc/postfix/vmailbox\n\
         relayhost = [smtp.isp.example]:587\nsmtp_tls_security_level = encrypt\n\
         smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd\n",
    );
    write(
        &tmp.0.join("root/etc/postfix/vmailbox"),
        "alice@example.com example.com/alice/\n",
    );
    let report = import(&tmp.0, &["--root", "./root", "./root/etc/postfix"]);
    assert!(report.contains("outbound relay `relayhost`"), "{report}");
    assert!(report.contains("login is not carried over"), "{report}");
    let yaml = std::fs::read_to_string(tmp.0.join("mailc.yaml")).unwrap();
    assert!(yaml.contains("    outbound_relay: relayhost\n"), "{yaml}");
    assert!(
        yaml.contains("  relayhost: {host: smtp.isp.example, port: 587, tls: starttls}\n"),
        "{yaml}"
    );
    import(
        &tmp.0,
        &[
            "--root",
            "./root",
            "./root/etc/postfix",
            "--out",
            "x.kdl",
            "--dialect",
            "kdl",
        ],
    );
    for spec in ["mailc.yaml", "x.kdl"] {
        let r = mailc(
            &tmp.0,
            &[
                "route",
                "--from",
                "alice@example.com",
                spec,
                "--format",
                "json",
            ],
        );
        assert_eq!(r.code, 0, "{spec}: {}", r.stderr);
        assert!(
            r.stdout.contains("\"next_hop\": \"smtp.isp.example:587\""),
            "{spec}: {}",
            r.stdout
        );
    }
}
