//! SPF in full, checked by a real evaluator against a real server: the
//! records mailc compiles (`a`, `mx`, `exists` with a macro, `include`,
//! `redirect`, one under `records:`) are served by BIND on 127.0.0.1 and
//! evaluated by pyspf (Debian's `python3-spf`, `.ci/install-oracles`) for
//! senders that each term should decide; then `mailc check` follows the
//! live includes, within the limits for one domain and past 10 lookups and
//! 2 void lookups for another, which pyspf answers `permerror` as well.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod support;
use support::dns::Bind;
use support::{Temp, mailc};

const SPEC: &str = r#"version: 1
defaults:
  nameservers: [ns1.example.com]
  hostmaster: hostmaster@example.com
  dmarc: {policy: none}
hosts:
  mx1: {hostname: mx1.example.com, ipv4: 203.0.113.10, stack: embedded}
domains:
  example.com:
    mx: [mx1]
    spf:
      ip4: [198.51.100.0/28]
      a: [relay.example.com/30]
      mx: ["@"]
      exists: ["%{i}.allow.example.com"]
      include: [_spf.example.org]
      redirect: _spf.example.com
    records:
      - {name: ns1, type: A, value: 127.0.0.1}
      - {name: relay, type: A, value: 192.0.2.8}
      - {name: 192.0.2.77.allow, type: A, value: 127.0.0.2}
      - {name: _spf, type: TXT, value: "v=spf1 ip4:192.0.2.128/25 ~all"}
  example.org:
    mx: [mx1]
    spf: {ip6: ["2001:db8:5::/48"]}
    records:
      - {name: _spf, type: TXT, value: "v=spf1 ip4:198.51.100.64/26 -all"}
  example.net:
    mx: [mx1]
    spf: {include: [_spf.provider.test]}
"#;

/// A provider outside the spec whose chain costs 11 lookups, 3 of them void.
const PROVIDER: &str = "$ORIGIN provider.test.\n$TTL 300\n\
@ IN SOA ns1.provider.test. hostmaster.provider.test. 1 3600 600 86400 300\n\
@ IN NS ns1.provider.test.\n\
@ IN MX 10 h1.provider.test.\n\
ns1 IN A 127.0.0.1\n\
h1 IN A 192.0.2.1\nh2 IN A 192.0.2.2\nh3 IN A 192.0.2.3\nh4 IN A 192.0.2.4\n\
_spf IN TXT \"v=spf1 include:_a.provider.test include:_b.provider.test a:gone1.provider.test a:gone2.provider.test a:gone3.provider.test -all\"\n\
_a IN TXT \"v=spf1 a:h1.provider.test a:h2.provider.test a:h3.provider.test a:h4.provider.test mx:provider.test ~all\"\n\
_b IN TXT \"v=spf1 ip4:192.0.2.0/24 ~all\"\n";

/// Debian's Python with pyspf and pydns.
fn pyspf() -> PathBuf {
    let py = PathBuf::from("/usr/bin/python3");
    let ok = Command::new(&py)
        .args(["-c", "import spf, DNS"])
        .stdin(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "pyspf is not installed (python3-spf); the SPF tests evaluate records with it. Run `.ci/install-oracles`"
    );
    py
}

/// pyspf's `check2` result for each (address, sender), asking BIND at `port`.
fn evaluate(port: u16, cases: &[(&str, &str)]) -> Vec<String> {
    let script = r#"import sys, DNS, spf
DNS.defaults['server'] = ['127.0.0.1']
DNS.defaults['port'] = int(sys.argv[1])
for case in sys.argv[2:]:
    ip, sender = case.split(',')
    print(spf.check2(i=ip, s=sender, h='client.sender.test', timeout=20)[0])
"#;
    let out = Command::new(pyspf())
        .arg("-c")
        .arg(script)
        .arg(port.to_string())
        .args(cases.iter().map(|(ip, s)| format!("{ip},{s}")))
        .stdin(Stdio::null())
        .output()
        .expect("run pyspf");
    assert!(
        out.status.success(),
        "pyspf failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn zone(dir: &Path, name: &str) -> (String, String) {
    let text = std::fs::read_to_string(dir.join("out/dns").join(format!("{name}.zone")))
        .expect("mailc wrote the zone");
    (name.to_string(), text)
}

#[test]
fn compiled_spf_is_what_a_real_evaluator_decides_and_check_follows_includes() {
    let dir = Temp::new("spf");
    std::fs::write(dir.0.join("mailc.yaml"), SPEC).unwrap();
    let r = mailc(&dir.0, &["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.said());
    let mut zones: Vec<(String, String)> = ["example.com", "example.org", "example.net"]
        .iter()
        .map(|z| zone(&dir.0, z))
        .collect();
    assert!(
        zones[0].1.contains(
            "\"v=spf1 ip4:203.0.113.10 ip4:198.51.100.0/28 a:relay.example.com/30 mx exists:%{i}.allow.example.com include:_spf.example.org redirect=_spf.example.com\""
        ),
        "{}",
        zones[0].1
    );
    zones.push(("provider.test".into(), PROVIDER.into()));
    zones.push((
        "113.0.203.in-addr.arpa".into(),
        "$TTL 300\n@ IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 86400 300\n\
         @ IN NS ns1.example.com.\n10 IN PTR mx1.example.com.\n"
            .into(),
    ));
    let bind = Bind::serving(&zones);

    let sender = "someone@example.com";
    let cases = [
        ("203.0.113.10", sender, "pass"),   // our host, and `mx`
        ("198.51.100.5", sender, "pass"),   // ip4
        ("192.0.2.9", sender, "pass"),      // a:relay.example.com/30
        ("192.0.2.77", sender, "pass"),     // exists:%{i}.allow
        ("198.51.100.70", sender, "pass"),  // include:_spf.example.org
        ("192.0.2.200", sender, "pass"),    // redirect=_spf.example.com
        ("192.0.2.12", sender, "softfail"), // the redirect's ~all
        // An IPv6 sender: `a:relay`, the MX host and `exists` find no AAAA,
        // three void lookups where RFC 7208 §4.6.4 allows two.
        ("2001:db8:5::1", sender, "permerror"),
        ("2001:db8:5::1", "someone@example.org", "pass"),
        ("192.0.2.12", "someone@example.org", "fail"),
        ("10.9.9.9", "someone@example.net", "permerror"), // 11 lookups, 3 void
    ];
    let got = evaluate(
        bind.port,
        &cases.iter().map(|(ip, s, _)| (*ip, *s)).collect::<Vec<_>>(),
    );
    let want: Vec<String> = cases.iter().map(|c| c.2.to_string()).collect();
    assert_eq!(got, want, "pyspf's verdicts, case by case: {cases:?}");

    let r = mailc(&dir.0, &["check", "--resolver", &bind.addr()]);
    assert_eq!(
        r.code,
        2,
        "example.net's chain is over the limits: {}",
        r.said()
    );
    assert!(
        r.stdout
            .contains("✓ example.com SPF lookups (5 of 10 lookups, 0 of 2 void, in 3 records; \
             `exists:%{i}.allow.example.com` holds a macro, known only when mail arrives: not followed)"),
        "{}",
        r.said()
    );
    // A record without lookups has nothing to count.
    assert!(
        !r.stdout.contains("example.org SPF lookups"),
        "{}",
        r.said()
    );
    assert!(
        r.stdout.contains("✗ example.net SPF lookups")
            && r.stdout
                .contains("11 of 10 lookups, 3 of 2 void, in 4 records")
            && r.stdout.contains(
                "lookup 11 at example.net → include:_spf.provider.test → a:gone3.provider.test"
            )
            && r.stdout.contains(
                "void: a:gone1.provider.test, a:gone2.provider.test, a:gone3.provider.test"
            ),
        "{}",
        r.said()
    );
    assert!(r.stdout.contains("✓ example.net SPF\n"), "{}", r.said());
    let json = mailc(
        &dir.0,
        &["check", "--resolver", &bind.addr(), "--format", "json"],
    );
    let checks: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let net = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["domain"] == "example.net" && c["check"] == "SPF lookups")
        .expect("example.net's SPF lookups");
    assert_eq!(net["status"], "drift");
    assert_eq!(
        net["live"],
        serde_json::json!([
            "example.net: 1 lookup",
            "_spf.provider.test: 5 lookups",
            "_a.provider.test: 5 lookups",
            "_b.provider.test: 0 lookups"
        ])
    );
}
