//! Pushing zones to real name servers on 127.0.0.1 (docs/cli.md, "Pushing
//! zones"; docs/testing.md, "DNS"): BIND and Knot over RFC 2136 with TSIG,
//! PowerDNS through its HTTP API.
//!
//! For each server: every example is planned, applied and planned again
//! (no change left); a zone changed on the server between `plan --save`
//! and `apply` is refused; a wrong secret is refused and changes nothing;
//! a BIND refusing the update by policy (REFUSED) and a TSIG signature
//! from a clock two hours behind (BADTIME) change nothing;
//! `owns: mail` keeps records that are not mail's; a 4,096-bit DKIM key
//! (a TXT record of several strings) is replaced and then planned as no
//! change. And a BIND primary's zones reach a Knot secondary by NOTIFY and
//! IXFR, where `mailc check` finds everything in sync.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use hickory_proto::rr::{Name, RData, RecordType};
use support::dns::{Bind, Knot, PowerDns, TsigKey};
use support::{Run, Temp, copy_dir, mailc, model_of, root};

/// The three kinds of server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bind,
    Knot,
    PowerDns,
}

/// A running server and the key mailc pushes with.
enum Served {
    Bind(Bind, TsigKey),
    Knot(Knot, TsigKey),
    PowerDns(PowerDns),
}

/// The zone a provider hands out before mailc pushes to it.
fn empty_zone(origin: &str) -> String {
    format!(
        "$ORIGIN {origin}.\n$TTL 300\n@ IN SOA ns1.provider.test. hostmaster.provider.test. 1 3600 900 1209600 300\n\
         @ IN NS ns1.provider.test.\n"
    )
}

impl Served {
    fn start(kind: Kind, zones: &[(String, String)]) -> Served {
        let key = TsigKey::new("mailc-key", "hmac-sha256");
        match kind {
            Kind::Bind => Served::Bind(Bind::config().zones(zones).key(&key).start(), key),
            Kind::Knot => Served::Knot(Knot::primary(zones, &key), key),
            Kind::PowerDns => Served::PowerDns(PowerDns::start(zones)),
        }
    }

    fn port(&self) -> u16 {
        match self {
            Served::Bind(b, _) => b.port,
            Served::Knot(k, _) => k.port,
            Served::PowerDns(p) => p.dns_port,
        }
    }

    /// The `dns_targets` entry (YAML flow map) for this server, its secret
    /// written into `spec` (the wrong one when `wrong`).
    fn target(&self, spec: &Path, wrong: bool) -> String {
        match self {
            Served::Bind(_, key) | Served::Knot(_, key) => {
                let k = if wrong {
                    key.with_other_secret()
                } else {
                    key.clone()
                };
                k.write_secret(&spec.join("secrets/tsig.key"));
                format!(
                    "{{type: rfc2136, server: \"127.0.0.1:{}\", tsig_key: {}, tsig_secret_file: secrets/tsig.key}}",
                    self.port(),
                    key.name
                )
            }
            Served::PowerDns(p) => {
                p.write_api_key(&spec.join("secrets/pdns.key"));
                if wrong {
                    std::fs::write(spec.join("secrets/pdns.key"), "not-the-key\n").unwrap();
                }
                format!(
                    "{{type: powerdns, url: \"{}\", api_key_file: secrets/pdns.key}}",
                    p.url()
                )
            }
        }
    }

    fn dig(&self, name: &str, rtype: &str) -> Vec<String> {
        support::dns::dig(self.port(), name, rtype)
    }

    fn log(&self) -> String {
        match self {
            Served::Bind(b, _) => b.log(),
            Served::Knot(k, _) => k.log(),
            Served::PowerDns(p) => p.log(),
        }
    }

    /// Adds a TXT record to the zone the way its owner would by hand: an
    /// UPDATE with the key, or a PATCH through the API.
    fn add_by_hand(&self, zone: &str, owner: &str, text: &str) {
        let name = Name::from_ascii(format!("{owner}.")).unwrap();
        let origin = Name::from_ascii(format!("{zone}.")).unwrap();
        let data = RData::TXT(hickory_proto::rr::rdata::TXT::new(vec![text.into()]));
        match self {
            Served::Bind(_, key) | Served::Knot(_, key) => {
                use base64::Engine as _;
                let secret = base64::engine::general_purpose::STANDARD
                    .decode(&key.secret)
                    .unwrap();
                let server = mailc::live::wire::Server {
                    addr: format!("127.0.0.1:{}", self.port()).parse().unwrap(),
                    key: Some(
                        mailc::live::wire::signer(
                            &key.name,
                            mailc::vocab::TsigAlgorithm::HmacSha256,
                            secret,
                        )
                        .unwrap(),
                    ),
                    timeout: Duration::from_secs(10),
                };
                server
                    .update(
                        &origin,
                        vec![],
                        vec![mailc::live::wire::add_record(&name, 300, &data)],
                    )
                    .unwrap();
            }
            Served::PowerDns(p) => {
                let api = mailc::live::powerdns::Api::new(
                    &p.url(),
                    "localhost",
                    p.api_key.clone(),
                    Duration::from_secs(10),
                );
                api.patch(
                    &origin,
                    &[mailc::live::powerdns::SetPatch {
                        owner: name,
                        rtype: RecordType::TXT,
                        ttl: 300,
                        records: vec![data],
                        disabled: vec![],
                    }],
                )
                .unwrap();
            }
        }
    }
}

/// The published zones of a spec folder.
fn published(dir: &Path) -> Vec<String> {
    model_of(dir)
        .domains
        .values()
        .filter(|d| d.zone)
        .map(|d| d.name.clone())
        .collect()
}

/// A working copy of a spec folder, its keys made, pushing every published
/// zone to `target` with `owns`.
fn pushing(dir: &Path, owns: &str, served: &Served, wrong: bool) -> Temp {
    let tmp = Temp::new("live");
    copy_dir(dir, &tmp.0);
    let r = mailc(&tmp.0, &["dkim", "keygen", "mailc.yaml"]);
    assert_eq!(r.code, 0, "keygen: {}", r.said());
    set_target(&tmp.0, owns, &served.target(&tmp.0, wrong));
    tmp
}

/// Gives the spec's `defaults` a `dns` target and `owns`, and the target.
fn set_target(dir: &Path, owns: &str, target: &str) {
    let spec = dir.join("mailc.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    let mut out = String::new();
    let mut done = false;
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        if !done && line.starts_with("defaults:") {
            out.push_str(&format!("  dns: {{target: live, owns: {owns}}}\n"));
            done = true;
        }
    }
    assert!(done, "no `defaults:` in {}", spec.display());
    out.push_str(&format!("dns_targets:\n  live: {target}\n"));
    std::fs::write(&spec, out).unwrap();
}

/// The push part of a text plan (after the file plan).
fn pushes(r: &Run) -> &str {
    r.stdout.find("\npush  ").map_or("", |at| &r.stdout[at..])
}

fn assert_ok(r: &Run, what: &str) {
    assert_eq!(r.code, 0, "{what}: {}", r.said());
}

/// `plan`, `apply`, `plan` again: the first shows pushes, the last none.
/// DKIM keys that start signing with a first push are let through
/// (`--no-dns-wait`): the check itself is tested on its own.
fn plan_apply_plan(dir: &Path, served: &Served) {
    let r = mailc(dir, &["plan", "--detailed-exitcode"]);
    let wait: &[&str] = if r.code == 1 && r.stderr.contains("would start signing") {
        &["--no-dns-wait"]
    } else {
        &[]
    };
    let r = mailc(dir, &[&["plan", "--detailed-exitcode"], wait].concat());
    assert_eq!(r.code, 2, "plan: {}\n{}", r.said(), served.log());
    assert!(r.stdout.contains("\npush  "), "{}", r.said());
    let r = mailc(dir, &[&["apply", "--auto-approve"], wait].concat());
    assert_ok(&r, &format!("apply\n{}", served.log()));
    assert!(r.stdout.contains(" pushed."), "{}", r.said());
    let r = mailc(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "plan after apply: {}", r.said());
    assert!(r.stdout.contains("Push: no changes in "), "{}", r.said());
}

fn examples_round_trip(kind: Kind) {
    for example in [
        "quickstart",
        "forwarding",
        "google-workspace",
        "primary-backup",
        "hosting",
    ] {
        let dir = root().join("examples").join(example);
        let zones: Vec<(String, String)> = published(&dir)
            .into_iter()
            .map(|z| {
                let t = empty_zone(&z);
                (z, t)
            })
            .collect();
        let served = Served::start(kind, &zones);
        let spec = pushing(&dir, "zone", &served, false);
        plan_apply_plan(&spec.0, &served);
        // The server serves what the zone file says.
        let model = model_of(&spec.0);
        for d in model.domains.values().filter(|d| d.zone) {
            let mx = served.dig(&d.name, "MX");
            assert_eq!(mx.len(), d.mx.len().max(1), "{example} {}: {mx:?}", d.name);
            let spf = served.dig(&d.name, "TXT");
            assert!(
                spf.iter().any(|t| t.contains("v=spf1")),
                "{example} {}: {spf:?}",
                d.name
            );
        }
    }
}

#[test]
fn bind_examples_plan_apply_plan_again() {
    examples_round_trip(Kind::Bind);
}

#[test]
fn knot_examples_plan_apply_plan_again() {
    examples_round_trip(Kind::Knot);
}

#[test]
fn powerdns_examples_plan_apply_plan_again() {
    examples_round_trip(Kind::PowerDns);
}

/// The quickstart, served by `kind`, pushed with `owns`.
fn quickstart(kind: Kind, owns: &str, extra: &str, wrong: bool) -> (Served, Temp) {
    let dir = root().join("examples/quickstart");
    let zone = format!("{}{extra}", empty_zone("example.com"));
    let served = Served::start(kind, &[("example.com".into(), zone)]);
    let spec = pushing(&dir, owns, &served, wrong);
    (served, spec)
}

fn a_stale_saved_plan_is_refused(kind: Kind) {
    let (served, spec) = quickstart(kind, "zone", "", false);
    let r = mailc(&spec.0, &["plan", "--save", "p.plan"]);
    assert_ok(&r, "plan --save");
    let saved = std::fs::read_to_string(spec.0.join("p.plan")).unwrap();
    assert!(saved.contains("\"dns\""), "{saved}");
    served.add_by_hand("example.com", "hand.example.com", "made by hand");
    let r = mailc(&spec.0, &["apply", "p.plan"]);
    assert_eq!(r.code, 1, "{}", r.said());
    assert!(
        r.stderr
            .contains("the zone `example.com` changed on its server since the plan was made"),
        "{}",
        r.said()
    );
    // Nothing of the plan was pushed: no MX.
    assert!(served.dig("example.com", "MX").is_empty());
    assert!(!spec.0.join("out/dns/example.com.zone").exists());
}

#[test]
fn bind_refuses_a_stale_saved_plan() {
    a_stale_saved_plan_is_refused(Kind::Bind);
}

#[test]
fn knot_refuses_a_stale_saved_plan() {
    a_stale_saved_plan_is_refused(Kind::Knot);
}

#[test]
fn powerdns_refuses_a_stale_saved_plan() {
    a_stale_saved_plan_is_refused(Kind::PowerDns);
}

fn a_wrong_secret_changes_nothing(kind: Kind, says: &str) {
    let (served, spec) = quickstart(kind, "zone", "", true);
    let before = served.dig("example.com", "SOA");
    let r = mailc(&spec.0, &["apply", "--auto-approve"]);
    assert_eq!(r.code, 1, "{}", r.said());
    assert!(r.stderr.contains(says), "{}", r.said());
    assert!(
        r.stderr
            .contains("error: the zone `example.com` at `live` ("),
        "{}",
        r.said()
    );
    assert!(
        !r.stderr.contains(
            &std::fs::read_to_string(spec.0.join(if kind == Kind::PowerDns {
                "secrets/pdns.key"
            } else {
                "secrets/tsig.key"
            }))
            .unwrap()
            .trim()
            .to_string()
        ),
        "the secret is never shown"
    );
    assert_eq!(served.dig("example.com", "SOA"), before);
    assert!(served.dig("example.com", "MX").is_empty());
    assert!(!spec.0.join("out").exists(), "no file written");
}

#[test]
fn bind_wrong_tsig_secret_is_badsig() {
    a_wrong_secret_changes_nothing(Kind::Bind, "answered NOTAUTH (BADSIG: ");
}

#[test]
fn knot_wrong_tsig_secret_is_badsig() {
    a_wrong_secret_changes_nothing(Kind::Knot, "answered NOTAUTH (BADSIG: ");
}

#[test]
fn powerdns_wrong_api_key_is_refused() {
    a_wrong_secret_changes_nothing(Kind::PowerDns, "the API key is not accepted (HTTP 401)");
}

/// A push the server refuses changes nothing: the zone as it was, no file
/// written, the error naming the zone, the server and the reason.
fn refused_changes_nothing(served: &Served, spec: &Path, r: &Run, says: &str) {
    assert_eq!(r.code, 1, "{}\n{}", r.said(), served.log());
    assert!(r.stderr.contains(says), "{}", r.said());
    assert!(
        r.stderr.contains(&format!(
            "error: the zone `example.com` at `live` (rfc2136 127.0.0.1:{})",
            served.port()
        )),
        "{}",
        r.said()
    );
    assert!(served.dig("example.com", "MX").is_empty());
    assert_eq!(support::dns::serial(served.port(), "example.com"), Some(1));
    assert!(!spec.join("out").exists(), "no file written");
}

#[test]
fn bind_refusing_an_update_by_policy_changes_nothing() {
    let key = TsigKey::new("mailc-key", "hmac-sha256");
    // The key may read the zone (AXFR), and update one name only.
    let bind = Bind::config()
        .zone("example.com", &empty_zone("example.com"))
        .key(&key)
        .update_policy("grant \"mailc-key\" name only.example.com. TXT;")
        .start();
    let served = Served::Bind(bind, key);
    let spec = pushing(&root().join("examples/quickstart"), "zone", &served, false);
    let r = mailc(&spec.0, &["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 2, "plan reads the zone: {}", r.said());
    let r = mailc(&spec.0, &["apply", "--auto-approve", "--no-dns-wait"]);
    refused_changes_nothing(
        &served,
        &spec.0,
        &r,
        "answered REFUSED (the server does not allow it: ",
    );
    assert!(
        served
            .log()
            .contains("update failed: rejected by secure update (REFUSED)"),
        "{}",
        served.log()
    );
}

/// TSIG signatures carry the signer's time (RFC 8945 §5.2.3): mailc run
/// under `faketime` two hours behind signs with that time, and BIND, whose
/// clock is right, answers BADTIME.
#[test]
fn bind_tsig_time_skew_is_badtime() {
    let (served, spec) = quickstart(Kind::Bind, "zone", "", false);
    let faketime = support::tool(
        "faketime",
        "the TSIG clock test runs mailc with a shifted clock",
    );
    let out = std::process::Command::new(faketime)
        .args(["-f", "-2h"])
        .arg(env!("CARGO_BIN_EXE_mailc"))
        .args(["apply", "--auto-approve", "--no-dns-wait"])
        .current_dir(&spec.0)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run mailc under faketime");
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    refused_changes_nothing(
        &served,
        &spec.0,
        &r,
        "answered NOTAUTH (BADTIME: this machine's clock and the server's differ by more than ",
    );
    // With the clock right, the same push goes through.
    let r = mailc(&spec.0, &["apply", "--auto-approve", "--no-dns-wait"]);
    assert_ok(&r, "apply with the right clock");
    assert!(!served.dig("example.com", "MX").is_empty());
}

/// Records at the apex that are not mail's.
const FOREIGN: &str = "@ IN TXT \"google-site-verification=abc123\"\n\
                       @ IN TXT \"v=spf1 -all\"\n\
                       @ IN A 192.0.2.80\n\
                       www IN A 192.0.2.80\n";

fn mail_mode_keeps_what_is_not_mail(kind: Kind) {
    let (served, spec) = quickstart(kind, "mail", FOREIGN, false);
    let r = mailc(&spec.0, &["plan"]);
    assert_ok(&r, "plan");
    let push = pushes(&r);
    assert!(
        push.contains("    - example.com. TXT \"v=spf1 -all\"\n"),
        "the old SPF string is mail's: {}",
        r.said()
    );
    assert!(!push.contains("google-site-verification"), "{}", r.said());
    assert!(!push.contains("192.0.2.80"), "{}", r.said());
    assert!(!push.contains(" NS "), "NS is not mail's: {}", r.said());
    plan_apply_plan(&spec.0, &served);
    let txt = served.dig("example.com", "TXT");
    assert!(
        txt.contains(&"\"google-site-verification=abc123\"".to_string()),
        "{txt:?}"
    );
    assert_eq!(
        txt.iter().filter(|t| t.contains("v=spf1")).count(),
        1,
        "{txt:?}"
    );
    assert!(!txt.contains(&"\"v=spf1 -all\"".to_string()), "{txt:?}");
    assert_eq!(served.dig("example.com", "A"), ["192.0.2.80"]);
    assert_eq!(served.dig("www.example.com", "A"), ["192.0.2.80"]);
    assert_eq!(served.dig("example.com", "NS"), ["ns1.provider.test."]);
}

#[test]
fn bind_mail_mode_keeps_foreign_records() {
    mail_mode_keeps_what_is_not_mail(Kind::Bind);
}

#[test]
fn knot_mail_mode_keeps_foreign_records() {
    mail_mode_keeps_what_is_not_mail(Kind::Knot);
}

#[test]
fn powerdns_mail_mode_keeps_foreign_records() {
    mail_mode_keeps_what_is_not_mail(Kind::PowerDns);
}

/// The TXT strings of the DKIM record `s2026._domainkey.example.com`,
/// joined.
fn dkim_record(served: &Served) -> String {
    let lines = served.dig("s2026._domainkey.example.com", "TXT");
    assert_eq!(lines.len(), 1, "{lines:?}");
    lines[0]
        .split("\" \"")
        .map(|s| s.trim_matches('"'))
        .collect()
}

fn a_long_dkim_key_is_replaced_whole(kind: Kind) {
    let (served, spec) = quickstart(kind, "mail", "", false);
    // A 4,096-bit RSA key: its record is three TXT strings.
    let yaml = std::fs::read_to_string(spec.0.join("mailc.yaml")).unwrap();
    std::fs::write(
        spec.0.join("mailc.yaml"),
        yaml.replacen(
            "    mx: [mx1]\n",
            "    mx: [mx1]\n    dkim: [{selector: s2026, algorithm: rsa-4096, private_key: keys/s2026.key}]\n",
            1,
        ),
    )
    .unwrap();
    let r = mailc(&spec.0, &["dkim", "keygen", "mailc.yaml"]);
    assert_ok(&r, "keygen");
    plan_apply_plan(&spec.0, &served);
    let first = dkim_record(&served);
    assert!(first.len() > 700, "{first}");
    assert!(
        served.dig("s2026._domainkey.example.com", "TXT")[0]
            .matches("\" \"")
            .count()
            >= 2
    );
    // A new key of the same size replaces it: the whole TXT set goes.
    std::fs::remove_dir_all(spec.0.join("keys")).unwrap();
    let r = mailc(&spec.0, &["dkim", "keygen", "mailc.yaml"]);
    assert_ok(&r, "keygen again");
    // A new key under the same selector starts signing: refused while the
    // server serves the old one.
    let r = mailc(&spec.0, &["plan"]);
    assert_eq!(r.code, 1, "{}", r.said());
    assert!(
        r.stderr
            .contains("the DKIM key `s2026` of `example.com` would start signing"),
        "{}",
        r.said()
    );
    let r = mailc(&spec.0, &["plan", "--no-dns-wait"]);
    assert!(
        pushes(&r).contains("    - s2026._domainkey.example.com. TXT \"v=DKIM1; k=rsa; p="),
        "{}",
        r.said()
    );
    plan_apply_plan(&spec.0, &served);
    let second = dkim_record(&served);
    assert_ne!(first, second);
    assert_eq!(served.dig("s2026._domainkey.example.com", "TXT").len(), 1);
}

#[test]
fn bind_replaces_a_4096_bit_dkim_key() {
    a_long_dkim_key_is_replaced_whole(Kind::Bind);
}

#[test]
fn knot_replaces_a_4096_bit_dkim_key() {
    a_long_dkim_key_is_replaced_whole(Kind::Knot);
}

#[test]
fn powerdns_replaces_a_4096_bit_dkim_key() {
    a_long_dkim_key_is_replaced_whole(Kind::PowerDns);
}

#[test]
fn a_large_change_needs_allow_large_change() {
    let mut many = String::new();
    for i in 0..20 {
        many.push_str(&format!("host{i} IN A 192.0.2.{i}\n"));
    }
    let (served, spec) = quickstart(Kind::Bind, "zone", &many, false);
    let r = mailc(&spec.0, &["plan"]);
    assert_ok(&r, "plan");
    assert!(
        r.stdout
            .contains("refuses it without `--allow-large-change`"),
        "{}",
        r.said()
    );
    let r = mailc(&spec.0, &["apply", "--auto-approve"]);
    assert_eq!(r.code, 1, "{}", r.said());
    assert!(
        r.stderr.contains("error: the push of the zone `example.com` removes or changes 21 of the 21 records mailc owns there (over 30 %); nothing was pushed or written"),
        "{}",
        r.said()
    );
    assert_eq!(served.dig("host3.example.com", "A"), ["192.0.2.3"]);
    assert!(!spec.0.join("out").exists());
    let r = mailc(
        &spec.0,
        &["apply", "--auto-approve", "--allow-large-change"],
    );
    assert_ok(&r, "apply --allow-large-change");
    assert!(served.dig("host3.example.com", "A").is_empty());
}

#[test]
fn a_zone_the_server_lacks_and_a_server_that_is_down() {
    let (served, spec) = quickstart(Kind::Bind, "zone", "", false);
    // The server has example.com only; the spec now has another domain.
    let yaml = std::fs::read_to_string(spec.0.join("mailc.yaml")).unwrap();
    std::fs::write(
        spec.0.join("mailc.yaml"),
        yaml.replace("domains:\n", "domains:\n  example.org:\n    mx: [mx1]\n"),
    )
    .unwrap();
    let r = mailc(&spec.0, &["plan"]);
    assert_eq!(r.code, 1, "{}", r.said());
    assert!(
        r.stderr.contains(&format!(
            "error: the zone `example.org` at `live` (rfc2136 127.0.0.1:{}): answered NOTAUTH",
            served.port()
        )),
        "{}",
        r.said()
    );
    assert!(
        r.stderr
            .contains("help: the server has no zone `example.org`: create it there first"),
        "{}",
        r.said()
    );
    drop(served);
    let r = mailc(&spec.0, &["plan"]);
    assert_eq!(r.code, 1, "{}", r.said());
    assert!(r.stderr.contains("cannot connect: "), "{}", r.said());
    assert!(
        r.stderr
            .contains("help: check that the name server at 127.0.0.1:"),
        "{}",
        r.said()
    );
}

#[test]
fn bind_primary_to_knot_secondary_is_in_sync_for_check() {
    let dir = root().join("tests/cases/dns-records");
    let zones: Vec<(String, String)> = published(&dir)
        .into_iter()
        .map(|z| {
            let t = empty_zone(&z);
            (z, t)
        })
        .collect();
    let key = TsigKey::new("mailc-key", "hmac-sha256");
    let knot_port = support::dns::free_port();
    let bind = Bind::config()
        .zones(&zones)
        .key(&key)
        .notify(knot_port)
        .start();
    let origins: Vec<&str> = zones.iter().map(|(o, _)| o.as_str()).collect();
    let knot = Knot::secondary(knot_port, &origins, bind.port, &key);
    let served = Served::Bind(bind, key.clone());
    let spec = pushing(&dir, "zone", &served, false);
    plan_apply_plan(&spec.0, &served);
    // The secondary follows by NOTIFY and IXFR.
    let start = Instant::now();
    loop {
        let in_sync = origins
            .iter()
            .all(|o| support::dns::serial(knot.port, o) == support::dns::serial(served.port(), o));
        if in_sync {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the secondary did not follow:\n{}",
            knot.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = mailc(
        &spec.0,
        &["check", "--resolver", &knot.addr(), "--format", "json"],
    );
    let checks: serde_json::Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{}", r.said()));
    let mut decided = 0;
    for c in checks.as_array().unwrap() {
        // The secondary serves these zones only: PTRs are not its to answer.
        if c["check"].as_str().unwrap().starts_with("PTR ") {
            continue;
        }
        assert_eq!(c["status"], "in_sync", "{c}");
        decided += 1;
    }
    assert_eq!(decided, 13, "{}", r.said());
}
