//! Zones, DKIM keys and MTA-STS policies, checked by the real programs that
//! read them (`docs/testing.md`):
//!
//! - every zone of every example and test case passes `named-checkzone` in
//!   its strictest mode and `kzonecheck`, and parses with hickory;
//! - YAML and KDL of each spec compile to byte-identical output trees, whose
//!   pinned folders ([`PINNED`]) match `tests/expected/<case>/`
//!   (`MAILC_BLESS=1` rewrites them; secret files are pinned as a
//!   placeholder line, never the key);
//! - a real BIND on 127.0.0.1 serves compiled zones and `dig` sees exactly
//!   the intended SPF, DMARC, DKIM and TXT strings; `opendkim-testkey` (RSA)
//!   and an OpenSSL signature check (Ed25519) accept the published keys
//!   against the private key files; `opendkim -n` accepts the signer config;
//! - re-running changes no byte; an alias change moves no serial; an MX
//!   change moves exactly that zone's serial;
//! - `mailc dkim keygen` makes every missing key (0600) and touches nothing else.
//!
//! The oracles are required: a missing one fails the test and names
//! `.ci/install-oracles`.
//!
//! Specs naming private keys are compiled in a temporary copy. For the pinned
//! trees the keys come from `tests/keys/<case>/` (test-only keys, made by
//! `mailc dkim keygen` when blessing), so the pinned DKIM records are stable.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod support;
use support::dns::Bind;
use support::golden::{self, bless, tree};
use support::{Temp, copy_dir, mailc, model_of, root};

/// A real program the tests check against; missing is a failure, not a skip.
fn oracle(name: &str) -> PathBuf {
    support::tool(name, "the DNS tests check every zone and key with it")
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run oracle")
}

fn said(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The examples and test cases: folders with `mailc.yaml` + `mailc.kdl`.
fn spec_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for parent in ["examples", "tests/cases"] {
        for e in std::fs::read_dir(root().join(parent)).unwrap() {
            let p = e.unwrap().path();
            if p.join("mailc.yaml").is_file() {
                dirs.push(p);
            }
        }
    }
    dirs.sort();
    dirs
}

fn name_of(dir: &Path) -> String {
    dir.file_name().unwrap().to_str().unwrap().to_string()
}

/// A working copy of a spec folder with every key it names: the pinned test
/// keys of `tests/keys/<case>/` when `pinned_keys`, then `mailc dkim keygen`
/// for whatever is still missing.
fn prepared(dir: &Path, pinned_keys: bool) -> Temp {
    let tmp = Temp::new(&name_of(dir));
    copy_dir(dir, &tmp.0);
    let fixtures = root().join("tests/keys").join(name_of(dir));
    if pinned_keys && fixtures.is_dir() {
        copy_dir(&fixtures, &tmp.0);
    }
    let r = mailc(&tmp.0, &["dkim", "keygen", "mailc.yaml"]);
    assert_eq!(
        r.code,
        0,
        "{}: keygen: {}{}",
        dir.display(),
        r.stdout,
        r.stderr
    );
    if pinned_keys && bless() && r.stdout.contains("created ") {
        // Keep the keys just made as the case's pinned test keys.
        for line in r.stdout.lines() {
            if let Some(rest) = line.strip_prefix("created ") {
                let rel = rest.split(" (").next().unwrap();
                let to = fixtures.join(rel);
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::fs::copy(tmp.0.join(rel), &to).unwrap();
            }
        }
    }
    tmp
}

/// `mailc build SPEC --out OUT` in `dir`; panics on failure.
fn build(dir: &Path, spec: &str, out: &str) -> BTreeMap<String, Vec<u8>> {
    let r = mailc(dir, &["build", spec, "--out", out, "--color", "never"]);
    assert_eq!(
        r.code,
        0,
        "{}/{spec}: {}{}",
        dir.display(),
        r.stdout,
        r.stderr
    );
    tree(&dir.join(out))
}

fn zones(files: &BTreeMap<String, Vec<u8>>) -> Vec<(String, String)> {
    files
        .iter()
        .filter_map(|(p, b)| {
            let origin = p.strip_prefix("dns/")?.strip_suffix(".zone")?;
            Some((origin.to_string(), String::from_utf8(b.clone()).unwrap()))
        })
        .collect()
}

fn serial(zone: &str) -> u32 {
    let line = zone
        .lines()
        .find(|l| l.trim_end().ends_with("; serial"))
        .unwrap();
    line.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn every_zone_passes_bind_and_knot_and_both_dialects_agree() {
    let checkzone = oracle("named-checkzone");
    let kzonecheck = oracle("kzonecheck");
    let mut failures = Vec::new();
    let mut checked = 0;
    for dir in spec_dirs() {
        let tmp = prepared(&dir, false);
        let from_yaml = build(&tmp.0, "mailc.yaml", "out-yaml");
        let from_kdl = build(&tmp.0, "mailc.kdl", "out-kdl");
        if from_yaml != from_kdl {
            failures.push(format!(
                "{}: YAML and KDL give different output",
                dir.display()
            ));
        }
        for (origin, text) in zones(&from_yaml) {
            let file = tmp.0.join("out-yaml/dns").join(format!("{origin}.zone"));
            let o = run(Command::new(&checkzone)
                .args(["-k", "fail", "-n", "fail", "-m", "fail", "-M", "fail"])
                .args(["-S", "fail", "-r", "fail", "-i", "local"])
                .arg(&origin)
                .arg(&file));
            if !o.status.success() {
                failures.push(format!(
                    "{}: named-checkzone {origin}:\n{}",
                    dir.display(),
                    said(&o)
                ));
            }
            let o = run(Command::new(&kzonecheck).arg("-o").arg(&origin).arg(&file));
            if !o.status.success() {
                failures.push(format!(
                    "{}: kzonecheck {origin}:\n{}",
                    dir.display(),
                    said(&o)
                ));
            }
            let parsed = hickory_proto::serialize::txt::Parser::new(
                text.as_str(),
                None,
                Some(hickory_proto::rr::Name::from_ascii(format!("{origin}.")).unwrap()),
            )
            .parse();
            if let Err(e) = parsed {
                failures.push(format!(
                    "{}: hickory cannot parse {origin}: {e}",
                    dir.display()
                ));
            }
            if serial(&text) != 1 {
                failures.push(format!(
                    "{}: {origin} does not start at serial 1",
                    dir.display()
                ));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(checked >= 15, "only {checked} zones were checked");
}

/// The top-level output folders whose files are pinned. A backend adds its
/// folder here (and blesses) once its output is settled.
const PINNED: &[&str] = &["dns", "mta-sts", "dkim"];

#[test]
fn output_trees_match_pinned_files() {
    let mut failures = Vec::new();
    for dir in spec_dirs() {
        let tmp = prepared(&dir, true);
        let r = mailc(&tmp.0, &["build", "mailc.yaml", "--out", "out"]);
        assert_eq!(r.code, 0, "{}: {}", dir.display(), r.stderr);
        let out = tmp.0.join("out");
        for path in tree(&out).keys() {
            let mode = std::fs::metadata(out.join(path))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert!(
                mode == 0o600 || mode == 0o644,
                "{}: {path} has mode {mode:o}",
                dir.display()
            );
        }
        let actual = golden::produced(&out, PINNED);
        let pinned_dir = root().join("tests/expected").join(name_of(&dir));
        golden::tree_under(&pinned_dir, PINNED, &actual, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{}\n(run `MAILC_BLESS=1 cargo test --test dns` to accept)",
        failures.join("\n\n")
    );
}

#[test]
fn rebuilding_changes_nothing_and_serials_follow_content() {
    let tmp = prepared(&root().join("examples/hosting"), false);
    let spec = tmp.0.join("mailc.yaml");
    let first = build(&tmp.0, "mailc.yaml", "out");

    // The same spec again: no byte changes, nothing written.
    let r = mailc(&tmp.0, &["build", "mailc.yaml", "--out", "out"]);
    assert!(r.stdout.contains(", 0 written"), "{}", r.stdout);
    assert_eq!(tree(&tmp.0.join("out")), first);

    // An alias is not DNS: no zone changes, no serial moves.
    let text = std::fs::read_to_string(&spec).unwrap();
    let edited = text.replacen("orders: [shop, owner]", "orders: [owner]", 1);
    assert_ne!(edited, text);
    std::fs::write(&spec, &edited).unwrap();
    let after_alias = build(&tmp.0, "mailc.yaml", "out");
    for (origin, zone) in zones(&after_alias) {
        assert_eq!(
            zone.as_bytes(),
            first[&format!("dns/{origin}.zone")],
            "{origin}"
        );
    }

    // One MX changes: exactly that zone gets serial 2.
    let before = "  bakery.example:\n    mx: [web1]\n";
    assert!(edited.contains(before));
    let with_mx = edited.replacen(
        before,
        "  bakery.example:\n    mx: [web1, {host: backup-mx.example, priority: 50}]\n",
        1,
    );
    std::fs::write(&spec, &with_mx).unwrap();
    let after_mx = build(&tmp.0, "mailc.yaml", "out");
    for (origin, zone) in zones(&after_mx) {
        let old = &first[&format!("dns/{origin}.zone")];
        if origin == "bakery.example" {
            assert_eq!(serial(&zone), 2);
            let old = String::from_utf8(old.clone()).unwrap();
            let changed: Vec<_> = zone
                .lines()
                .filter(|l| !old.lines().any(|o| o == *l))
                .collect();
            assert_eq!(
                changed.len(),
                2,
                "only the serial and the new MX: {changed:?}"
            );
        } else {
            assert_eq!(zone.as_bytes(), old, "{origin} changed");
        }
    }
    // Compiled again: the new serial stays.
    assert_eq!(build(&tmp.0, "mailc.yaml", "out"), after_mx);
    // Back to the old MX: content as at first, but the serial only goes up.
    std::fs::write(&spec, &edited).unwrap();
    let back = build(&tmp.0, "mailc.yaml", "out");
    assert_eq!(
        serial(&String::from_utf8(back["dns/bakery.example.zone"].clone()).unwrap()),
        3
    );
}

/// The TXT records at `name` as a resolver sees them: each record's
/// strings joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2), sorted.
fn txt(bind: &Bind, name: &str) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = bind.dig(name, "TXT").iter().map(|l| unescape(l)).collect();
    v.sort();
    v
}

/// dig's presentation of one TXT record (`"a" "b"`, with `\"`, `\\` and
/// decimal `\DDD`) back to bytes, the strings joined.
fn unescape(line: &str) -> Vec<u8> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut quoted) = (0, false);
    while i < b.len() {
        match b[i] {
            b'"' => quoted = !quoted,
            b'\\' if i + 3 < b.len() && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) => {
                let n: u16 = std::str::from_utf8(&b[i + 1..i + 4])
                    .unwrap()
                    .parse()
                    .unwrap();
                out.push(u8::try_from(n).unwrap());
                i += 3;
            }
            b'\\' => {
                out.push(b[i + 1]);
                i += 1;
            }
            c if quoted => out.push(c),
            _ => {}
        }
        i += 1;
    }
    out
}

fn openssl(args: &[&str]) -> Vec<u8> {
    let o = run(Command::new(oracle("openssl")).args(args));
    assert!(o.status.success(), "openssl {args:?}: {}", said(&o));
    o.stdout
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn bind_serves_exactly_the_intended_strings_and_the_keys_verify() {
    let testkey = oracle("opendkim-testkey");
    // Fresh keys from keygen, not the pinned ones.
    let spec = prepared(&root().join("tests/cases/spec-example"), false);
    build(&spec.0, "mailc.yaml", "out");
    let records = prepared(&root().join("tests/cases/dns-records"), false);
    build(&records.0, "mailc.yaml", "out");
    let zone = |p: std::path::PathBuf| std::fs::read_to_string(p).unwrap();
    let bind = Bind::config()
        .zone(
            "example.com",
            &zone(spec.0.join("out/dns/example.com.zone")),
        )
        .zone(
            "example.net",
            &zone(records.0.join("out/dns/example.net.zone")),
        )
        .start();
    let one = |s: &str| vec![s.as_bytes().to_vec()];

    // SPF, DMARC: the strings the spec means.
    assert_eq!(
        txt(&bind, "example.com"),
        one(
            "v=spf1 ip4:203.0.113.10 ip6:2001:db8::10 ip4:192.0.2.0/24 include:_spf.google.com -all"
        )
    );
    assert_eq!(
        txt(&bind, "_dmarc.example.com"),
        one("v=DMARC1; p=reject; rua=mailto:dmarc@example.com; adkim=s; aspf=r; pct=100")
    );
    assert_eq!(
        txt(&bind, "example.org._report._dmarc.example.com"),
        one("v=DMARC1")
    );

    // DKIM: the public halves OpenSSL derives from the key files.
    let rsa = spec.0.join("keys/example.com/s2025.key");
    let ed = spec.0.join("keys/example.com/s2026.key");
    let rsa_spki = openssl(&[
        "pkey",
        "-in",
        rsa.to_str().unwrap(),
        "-pubout",
        "-outform",
        "DER",
    ]);
    let ed_spki = openssl(&[
        "pkey",
        "-in",
        ed.to_str().unwrap(),
        "-pubout",
        "-outform",
        "DER",
    ]);
    assert_eq!(
        txt(&bind, "s2025._domainkey.example.com"),
        one(&format!("v=DKIM1; k=rsa; p={}", b64(&rsa_spki)))
    );
    let ed_raw = &ed_spki[ed_spki.len() - 32..];
    assert_eq!(
        txt(&bind, "s2026._domainkey.example.com"),
        one(&format!("v=DKIM1; k=ed25519; p={}", b64(ed_raw)))
    );

    // TXT values with quotes, backslashes, semicolons, non-ASCII, > 255 bytes.
    let apex = txt(&bind, "example.net");
    assert!(
        apex.contains(&br#"quote " backslash \ semicolon ; end"#.to_vec()),
        "{apex:?}"
    );
    assert_eq!(
        txt(&bind, "unicode.example.net"),
        one("café — ünïcode ✓ 日本語")
    );
    let long = txt(&bind, "long.example.net");
    assert_eq!(long[0].len(), 335);
    assert!(
        bind.dig("long.example.net", "TXT")[0].contains("\" \""),
        "split in two strings"
    );

    // opendkim-testkey checks the RSA record against the key file over DNS.
    let unbound = bind.dir.0.join("unbound.conf");
    std::fs::write(
        &unbound,
        format!(
            "server:\n    do-not-query-localhost: no\nforward-zone:\n    name: \"example.com.\"\n    forward-addr: 127.0.0.1@{}\n",
            bind.port
        ),
    )
    .unwrap();
    let conf = bind.dir.0.join("opendkim.conf");
    std::fs::write(
        &conf,
        format!("ResolverConfiguration {}\n", unbound.display()),
    )
    .unwrap();
    let check = |selector: &str, key: &Path| {
        run(Command::new(&testkey)
            .arg("-x")
            .arg(&conf)
            .args(["-d", "example.com", "-s", selector, "-vvv", "-k"])
            .arg(key))
    };
    let o = check("s2025", &rsa);
    assert!(
        o.status.success() && said(&o).contains("key OK"),
        "{}",
        said(&o)
    );
    // The same oracle refuses a key that is not the published one.
    let o = check("google", &rsa);
    assert!(!o.status.success(), "{}", said(&o));

    // Ed25519 (opendkim-testkey reads RSA only): a signature by the key file
    // verifies with the key served by DNS.
    let msg = bind.dir.0.join("msg");
    std::fs::write(&msg, "DKIM test message\r\n").unwrap();
    let sig = bind.dir.0.join("sig");
    openssl(&[
        "pkeyutl",
        "-sign",
        "-rawin",
        "-inkey",
        ed.to_str().unwrap(),
        "-in",
        msg.to_str().unwrap(),
        "-out",
        sig.to_str().unwrap(),
    ]);
    let served = &txt(&bind, "s2026._domainkey.example.com")[0];
    let p = String::from_utf8(served.clone()).unwrap();
    let p = p.split("p=").nth(1).unwrap();
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD.decode(p).unwrap();
    // RFC 8410 SubjectPublicKeyInfo prefix for an Ed25519 key.
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    der.extend(&raw);
    let pubkey = bind.dir.0.join("ed.pub.der");
    std::fs::write(&pubkey, der).unwrap();
    let out = openssl(&[
        "pkeyutl",
        "-verify",
        "-rawin",
        "-pubin",
        "-keyform",
        "DER",
        "-inkey",
        pubkey.to_str().unwrap(),
        "-in",
        msg.to_str().unwrap(),
        "-sigfile",
        sig.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&out).contains("Signature Verified Successfully"));
}

/// The bytes a zone's TXT string stands for, from what hickory's parser
/// made of it. hickory 0.26.3 reads a decimal escape `\DDD` as the char
/// `(D1 << 16) + (D2 << 8) + D3` (zone_lex.rs `escape_seq`) instead of the
/// byte `DDD`; such chars (above U+FFFF, with "digits" 0–9) are mapped back.
fn hickory_bytes(s: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(s) else {
        return s.to_vec();
    };
    let mut out = Vec::new();
    for c in text.chars() {
        let v = u32::from(c);
        let (d1, d2, d3) = (v >> 16, (v >> 8) & 0xff, v & 0xff);
        if v > 0xffff && d1 <= 9 && d2 <= 9 && d3 <= 9 {
            out.push(u8::try_from(d1 * 100 + d2 * 10 + d3).unwrap());
        } else {
            let mut buf = [0; 4];
            out.extend(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    out
}

#[test]
fn txt_values_round_trip_through_hickorys_parser() {
    use hickory_proto::rr::{LowerName, Name, RData, RecordType};
    let mut seen = 0;
    for dir in spec_dirs() {
        let model = model_of(&dir);
        let tmp = prepared(&dir, false);
        let files = build(&tmp.0, "mailc.yaml", "out");
        for (origin, text) in zones(&files) {
            let origin_name = Name::from_ascii(format!("{origin}.")).unwrap();
            let (_, sets) = hickory_proto::serialize::txt::Parser::new(
                text.as_str(),
                None,
                Some(origin_name.clone()),
            )
            .parse()
            .unwrap_or_else(|e| panic!("{origin}: {e}"));
            let txt_at = |owner: &Name| -> Vec<Vec<u8>> {
                let owner = LowerName::from(owner.clone());
                sets.iter()
                    .filter(|(k, _)| k.record_type == RecordType::TXT && k.name == owner)
                    .flat_map(|(_, set)| set.records_without_rrsigs())
                    .filter_map(|r| match &r.data {
                        RData::TXT(t) => {
                            Some(t.txt_data.iter().flat_map(|s| hickory_bytes(s)).collect())
                        }
                        _ => None,
                    })
                    .collect()
            };
            let d = &model.domains[&origin];
            let spf = format!("v=spf1 {}", d.spf.terms.join(" "));
            assert!(
                txt_at(&origin_name).contains(&spf.into_bytes()),
                "{origin}: SPF"
            );
            for r in d.records.iter().filter(|r| r.rtype == "TXT") {
                let owner = if r.name == "@" {
                    origin_name.clone()
                } else {
                    Name::from_ascii(format!("{}.{origin}.", r.name)).unwrap()
                };
                assert!(
                    txt_at(&owner).contains(&r.value.as_bytes().to_vec()),
                    "{origin}: TXT at {} is not `{}`: {:?}",
                    r.name,
                    r.value,
                    txt_at(&owner)
                );
                seen += 1;
            }
        }
    }
    assert!(seen >= 4, "only {seen} TXT records were checked");
}

#[test]
fn opendkim_accepts_the_signer_config_and_keys_stay_in_key_files() {
    let opendkim = oracle("opendkim");
    let tmp = prepared(&root().join("tests/cases/spec-example"), false);
    let files = build(&tmp.0, "mailc.yaml", "out");
    let out = tmp.0.join("out");

    // The key copy is the key file, mode 0600; its record is in the KeyTable.
    let key = std::fs::read(tmp.0.join("keys/example.com/s2026.key")).unwrap();
    let copy = "dkim/mx1/keys/example.com/s2026.key";
    assert_eq!(files[copy], key);
    let mode = std::fs::metadata(out.join(copy))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let key_table = String::from_utf8(files["dkim/mx1/KeyTable"].clone()).unwrap();
    assert!(key_table.contains(
        "s2026._domainkey.example.com example.com:s2026:/etc/opendkim/keys/example.com/s2026.key"
    ));
    // s2025 has `sign: false`: published, never given to the signer.
    assert!(!key_table.contains("s2025"));
    assert!(!files.contains_key("dkim/mx1/keys/example.com/s2025.key"));
    // mx2 runs the embedded stack: no OpenDKIM files.
    assert!(!files.keys().any(|p| p.starts_with("dkim/mx2")));

    // Private key material appears in the key copies only.
    let rsa = std::fs::read_to_string(tmp.0.join("keys/example.com/s2025.key")).unwrap();
    let secrets: Vec<&str> = [std::str::from_utf8(&key).unwrap(), rsa.as_str()]
        .iter()
        .flat_map(|k| k.lines().filter(|l| !l.starts_with("-----")))
        .collect();
    for (path, bytes) in &files {
        if path.starts_with("dkim/mx1/keys/") {
            continue;
        }
        let t = String::from_utf8_lossy(bytes);
        assert!(!t.contains("PRIVATE KEY"), "{path}");
        for s in &secrets {
            assert!(!t.contains(s), "{path} holds key material");
        }
    }

    // OpenDKIM reads the configuration (installed in a scratch folder,
    // its run folder and socket there too, as the user running the test).
    let conf = String::from_utf8(files["dkim/mx1/opendkim.conf"].clone()).unwrap();
    assert!(
        conf.lines().any(|l| l
            .split_whitespace()
            .eq(["PidFile", "/run/opendkim/opendkim.pid"])),
        "{conf}"
    );
    let etc = tmp.0.join("etc-opendkim");
    copy_dir(&out.join("dkim/mx1"), &etc);
    let pid_file = etc.join("run/opendkim.pid");
    std::fs::create_dir(etc.join("run")).unwrap();
    for f in ["opendkim.conf", "KeyTable"] {
        let p = etc.join(f);
        let t = std::fs::read_to_string(&p).unwrap();
        let t = t
            .replace("/run/opendkim", etc.join("run").to_str().unwrap())
            .replace("/etc/opendkim", etc.to_str().unwrap());
        let t = t
            .lines()
            .filter(|l| !l.starts_with("UserID"))
            .map(|l| match l.starts_with("Socket") {
                true => format!("Socket local:{}", etc.join("run/opendkim.sock").display()),
                false => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&p, t + "\n").unwrap();
    }
    let o = run(Command::new(&opendkim)
        .arg("-n")
        .arg("-x")
        .arg(etc.join("opendkim.conf")));
    assert!(o.status.success(), "opendkim -n: {}", said(&o));

    // And runs on it: the milter writes its PidFile, which is what a
    // service manager waits for.
    struct Running(std::process::Child);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut daemon = Running(
        Command::new(&opendkim)
            .arg("-f")
            .arg("-x")
            .arg(etc.join("opendkim.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start opendkim"),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let written = loop {
        if let Ok(t) = std::fs::read_to_string(&pid_file)
            && !t.trim().is_empty()
        {
            break t;
        }
        if let Some(status) = daemon.0.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(daemon.0.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("opendkim stopped ({status}) without writing its PidFile: {err}");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "opendkim wrote no {} within 120 s",
            pid_file.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(written.trim(), daemon.0.id().to_string());
    drop(daemon);
}

#[test]
fn keygen_makes_every_missing_key_and_touches_nothing_else() {
    let tmp = Temp::new("keygen");
    std::fs::write(
        tmp.0.join("mailc.yaml"),
        "version: 1\nhosts: {}\ndomains:\n  example.com:\n    zone: false\n    mx: []\n    dkim:\n\
         \x20     - {selector: a, algorithm: rsa-2048, private_key: keys/a.key}\n\
         \x20     - {selector: b, algorithm: rsa-3072, private_key: keys/b.key}\n\
         \x20     - {selector: c, algorithm: rsa-4096, private_key: keys/deep/c.key}\n\
         \x20     - {selector: d, algorithm: ed25519, private_key: keys/d.key}\n\
         \x20     - {selector: e, algorithm: ed25519, private_key: keys/e.key}\n",
    )
    .unwrap();
    let made = mailc(&tmp.0, &["dkim", "keygen"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let e_before = std::fs::read(tmp.0.join("keys/e.key")).unwrap();
    std::fs::remove_file(tmp.0.join("keys/a.key")).unwrap();

    let again = mailc(&tmp.0, &["dkim", "keygen"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        again.stdout,
        "created keys/a.key (rsa-2048)\n1 key created, 4 already present\n"
    );
    assert_eq!(std::fs::read(tmp.0.join("keys/e.key")).unwrap(), e_before);

    for (file, want) in [
        ("keys/a.key", "(2048 bit"),
        ("keys/b.key", "(3072 bit"),
        ("keys/deep/c.key", "(4096 bit"),
        ("keys/d.key", "ED25519 Private-Key"),
    ] {
        let p = tmp.0.join(file);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}");
        let pem = std::fs::read_to_string(&p).unwrap();
        assert!(
            pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
            "{file}: PKCS#8"
        );
        let shown = openssl(&["pkey", "-in", p.to_str().unwrap(), "-noout", "-text"]);
        assert!(String::from_utf8_lossy(&shown).contains(want), "{file}");
    }
    let dir_mode = std::fs::metadata(tmp.0.join("keys/deep"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    // The spec is valid now that its keys exist.
    assert_eq!(mailc(&tmp.0, &["validate"]).code, 0);
}

#[test]
fn build_refuses_a_missing_key() {
    let tmp = Temp::new("missing-key");
    copy_dir(&root().join("tests/cases/spec-example"), &tmp.0);
    let r = mailc(&tmp.0, &["build", "--out", "out", "--color", "never"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("mailc::dkim::key_missing"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("mailc dkim keygen"), "{}", r.stderr);
    assert!(!tmp.0.join("out").exists());
}

/// Every stack signs with the `signing` keys only: OpenDKIM's tables, Exim's
/// key copies and `mailc serve`'s manifest; `published` and `retired` keys
/// stay in the zone, a `revoked` one with an empty `p=` and no key file.
#[test]
fn every_stack_signs_with_signing_keys_only() {
    let tmp = Temp::new("dkim-states");
    let mut spec = String::from(
        "version: 1\n\
         defaults: {nameservers: [ns1.example.net], hostmaster: hostmaster@example.com, dmarc: {policy: none}}\n\
         hosts:\n\
         \x20 mx1: {hostname: mx1.example.com, ipv4: 203.0.113.10, stack: postfix-dovecot}\n\
         \x20 mx2: {hostname: mx2.example.com, ipv4: 203.0.113.11, stack: exim-dovecot}\n\
         \x20 mx3: {hostname: mx3.example.com, ipv4: 203.0.113.12, stack: embedded}\n\
         domains:\n",
    );
    let domains = [
        ("mx1", "one.example"),
        ("mx2", "two.example"),
        ("mx3", "three.example"),
    ];
    for (host, domain) in domains {
        spec.push_str(&format!("  {domain}:\n    mx: [{host}]\n    dkim:\n"));
        for (selector, state) in [
            ("s4", "signing"),
            ("s3", "published"),
            ("s2", "retired"),
            ("s1", "revoked"),
        ] {
            spec.push_str(&format!(
                "      - {{selector: {selector}, algorithm: ed25519, private_key: keys/{domain}/{selector}.key, state: {state}}}\n"
            ));
        }
    }
    std::fs::write(tmp.0.join("mailc.yaml"), spec).unwrap();
    let r = mailc(&tmp.0, &["dkim", "keygen", "mailc.yaml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let files = build(&tmp.0, "mailc.yaml", "out");
    let text = |p: &str| String::from_utf8_lossy(&files[p]).into_owned();

    // The signers' key copies: s4 of each domain, by its own host only.
    let copies: Vec<&str> = files
        .keys()
        .map(String::as_str)
        .filter(|p| p.ends_with(".key") && !p.starts_with("dns/"))
        .collect();
    assert_eq!(
        copies,
        [
            "dkim/mx1/keys/one.example/s4.key",
            "exim/mx2/dkim/two.example/s4.key",
            "server/mx3/keys/three.example/s4.key",
        ]
    );
    let signing_table = text("dkim/mx1/SigningTable");
    let key_table = text("dkim/mx1/KeyTable");
    assert!(
        signing_table.contains("s4._domainkey.one.example"),
        "{signing_table}"
    );
    assert!(key_table.contains("one.example:s4:"), "{key_table}");
    for gone in ["s3", "s2", "s1"] {
        assert!(
            !signing_table.contains(&format!("{gone}._domainkey")),
            "{signing_table}"
        );
        assert!(!key_table.contains(&format!(":{gone}:")), "{key_table}");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&files["server/mx3/manifest.json"]).unwrap();
    let selectors: Vec<&str> = manifest["dkim"]["three.example"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["selector"].as_str().unwrap())
        .collect();
    assert_eq!(selectors, ["s4"]);

    // Every key stays in the zone; the revoked one with an empty p= and
    // no key file needed.
    for (_, domain) in domains {
        assert!(!tmp.0.join(format!("keys/{domain}/s1.key")).exists());
        let zone = text(&format!("dns/{domain}.zone"));
        let record = |selector: &str| {
            zone.lines()
                .find(|l| l.starts_with(&format!("{selector}._domainkey")))
                .unwrap_or_else(|| panic!("no {selector} record in\n{zone}"))
                .to_string()
        };
        for published in ["s4", "s3", "s2"] {
            let r = record(published);
            assert!(r.contains("k=ed25519; p=") && !r.ends_with("p=\""), "{r}");
        }
        let r = record("s1");
        assert!(r.ends_with("\"v=DKIM1; k=ed25519; p=\""), "{r}");
    }
}

/// A plan that would leave a domain our hosts signed for without a signing
/// key (the signer removed while a published key stays) is refused; a
/// successor that signs lets it through.
#[test]
fn removing_the_last_signing_key_is_refused() {
    let tmp = Temp::new("last-signer");
    let spec = |keys: &str| {
        std::fs::write(
            tmp.0.join("mailc.yaml"),
            format!(
                "version: 1\n\
                 defaults: {{nameservers: [ns1.example.net], hostmaster: hostmaster@example.com, dmarc: {{policy: none}}}}\n\
                 hosts:\n\
                 \x20 mx1: {{hostname: mx1.example.com, ipv4: 203.0.113.10, stack: postfix-dovecot}}\n\
                 domains:\n\
                 \x20 example.com:\n\
                 \x20   mx: [mx1]\n\
                 \x20   dkim:\n{keys}"
            ),
        )
        .unwrap();
    };
    let a = "      - {selector: a, algorithm: ed25519, private_key: keys/a.key}\n";
    let b = |state: &str| {
        format!(
            "      - {{selector: b, algorithm: ed25519, private_key: keys/b.key, state: {state}}}\n"
        )
    };
    spec(&format!("{a}{}", b("published")));
    let r = mailc(&tmp.0, &["dkim", "keygen", "mailc.yaml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = mailc(&tmp.0, &["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let before = tree(&tmp.0.join("out"));

    spec(&b("published"));
    let r = mailc(&tmp.0, &["plan"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("error: no DKIM key of `example.com` would sign any more"),
        "{}",
        r.stderr
    );
    let r = mailc(&tmp.0, &["apply", "--auto-approve", "--no-dns-wait"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(tree(&tmp.0.join("out")), before, "nothing written");

    spec(&b("signing"));
    let r = mailc(&tmp.0, &["apply", "--auto-approve", "--no-dns-wait"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}
