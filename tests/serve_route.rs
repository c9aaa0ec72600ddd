//! The embedded server decides every recipient as `mailc route` explains
//! it: for every row of every route table, the manifest compiled for that
//! host (whatever its stack) and looked up by the server's per-recipient decision gives the
//! same outcome, mailboxes, forwards, next hop and reply as the model.

use std::path::PathBuf;

use mailc::backend::Context;
use mailc::model::route::{Outcome, route};
use mailc::serve::decision::{Decision, decide};

mod support;
use support::{golden, model_of, root, spec_dir};

struct NoFiles;
impl Context for NoFiles {
    fn previous(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
    fn private_key(&self, _: &str) -> Option<Vec<u8>> {
        Some(Vec::new())
    }
}

#[test]
fn the_router_agrees_with_mailc_route() {
    let mut failures = Vec::new();
    let mut rows = 0;
    let mut tables: Vec<PathBuf> = std::fs::read_dir(root().join("tests/routes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tsv"))
        .collect();
    tables.sort();
    for table in tables {
        let name = table.file_stem().unwrap().to_str().unwrap().to_string();
        let model = model_of(&spec_dir(&name));
        for line in std::fs::read_to_string(&table).unwrap().lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            // The row's host, and every other host too: the model is the
            // reference, the table only picks the addresses.
            for host in model.hosts.keys() {
                let address = cols[1];
                let m = mailc::backend::server::manifest(
                    &model,
                    &NoFiles,
                    &model.hosts[host],
                    &mut |_, _, p| p.to_string(),
                );
                let want = route(&model, host, address);
                let bare = address.trim_start_matches('<').trim_end_matches('>');
                let (outcome, mailboxes, forward, hop, reply) = match decide(&m, bare) {
                    Decision::Deliver(t) => (
                        if t.mailboxes.is_empty() {
                            Outcome::Forward
                        } else {
                            Outcome::Deliver
                        },
                        t.mailboxes,
                        t.forward,
                        None,
                        None,
                    ),
                    Decision::Relay(h) => (
                        Outcome::Relay,
                        vec![],
                        vec![],
                        Some(if h.port == 25 {
                            h.host.clone()
                        } else {
                            format!("{}:{}", h.host, h.port)
                        }),
                        None,
                    ),
                    Decision::Bounce => (Outcome::Bounce, vec![], vec![], None, None),
                    Decision::Drop => (Outcome::Drop, vec![], vec![], None, None),
                    Decision::Reject(r) => (Outcome::Reject, vec![], vec![], None, Some(r)),
                    Decision::NotOurs => (Outcome::Remote, vec![], vec![], None, None),
                };
                // `relay` to a port given as :25 in the spec prints without it here.
                let want_hop = want
                    .next_hop
                    .clone()
                    .map(|h| h.strip_suffix(":25").map(str::to_string).unwrap_or(h));
                let got = (outcome, mailboxes, forward, hop, reply);
                let expected = (
                    want.outcome,
                    want.mailboxes.clone(),
                    want.forward.clone(),
                    want_hop,
                    want.reply.clone(),
                );
                if got != expected {
                    failures.push(format!(
                        "{name} {host} {address}:\n  server {got:?}\n  route  {expected:?}"
                    ));
                }
                rows += 1;
            }
        }
    }
    assert!(rows > 100, "only {rows} rows");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The manifest's JSON Schema in `schemas/` is current (`MAILC_BLESS=1`
/// rewrites it).
#[test]
fn manifest_schema_is_current() {
    let now = mailc::manifest::Manifest::schema();
    golden::file(&root().join("schemas/manifest.schema.json"), &now).unwrap_or_else(|e| {
        panic!("schemas/manifest.schema.json is stale: {e}\n(run `MAILC_BLESS=1 cargo test --test serve_route`)")
    });
}

/// A manifest reads back as itself, and another version is refused.
#[test]
fn manifest_round_trips_and_versions() {
    let model = model_of(&spec_dir("primary-backup"));
    for host in model.hosts.values() {
        let m =
            mailc::backend::server::manifest(&model, &NoFiles, host, &mut |_, _, p| p.to_string());
        let json = m.to_json();
        assert_eq!(
            mailc::manifest::Manifest::from_json(json.as_bytes()).unwrap(),
            m
        );
        let other = json.replacen("\"version\": 1", "\"version\": 99", 1);
        let err = mailc::manifest::Manifest::from_json(other.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("version 99"), "{err}");
    }
}

/// The manifest of every embedded host of every example and case matches
/// `tests/expected/<case>/server/<host>/manifest.json` (`MAILC_BLESS=1`
/// rewrites them); compiling twice gives the same bytes.
#[test]
fn manifests_match_pinned_files() {
    let mut failures = Vec::new();
    let mut n = 0;
    for parent in ["examples", "tests/cases"] {
        for entry in std::fs::read_dir(root().join(parent)).unwrap() {
            let dir = entry.unwrap().path();
            let name = dir.file_name().unwrap().to_str().unwrap().to_string();
            let model = model_of(&dir);
            for host in model.hosts.values() {
                if host.stack != mailc::vocab::Stack::Embedded {
                    continue;
                }
                let json = |_: ()| {
                    mailc::backend::server::manifest(&model, &NoFiles, host, &mut |d, s, _| {
                        format!("keys/{d}/{s}.key")
                    })
                    .to_json()
                };
                let now = json(());
                assert_eq!(
                    now,
                    json(()),
                    "{name}/{}: two compilations differ",
                    host.key
                );
                let path = root()
                    .join("tests/expected")
                    .join(&name)
                    .join("server")
                    .join(&host.key)
                    .join("manifest.json");
                if let Err(e) = golden::file(&path, &now) {
                    failures.push(e);
                }
                n += 1;
            }
        }
    }
    assert!(n >= 2, "only {n} embedded hosts");
    assert!(
        failures.is_empty(),
        "{}\n(run `MAILC_BLESS=1 cargo test --test serve_route` to accept)",
        failures.join("\n\n")
    );
}

/// The server refuses in our domains exactly the local parts a spec could
/// not name (`mailc route` answers 501 for those), so the two never
/// disagree on an address such as `x%evil.com@example.org`.
#[test]
fn local_part_rule_is_routes() {
    let mut cases: Vec<String> = [
        "a",
        "A.b",
        "a+b",
        "a_b-c",
        ".a",
        "a.",
        "a..b",
        "x%evil.com",
        "a!b",
        "a@b",
        "a b",
        "a\"b",
        "a/b",
        "a=b",
        "srs0=hhhh=tt=x.test=a",
        "ü",
        "a'b",
        "",
        "a\0b",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    cases.push("a".repeat(64));
    cases.push("a".repeat(65));
    for c in 0u8..=127 {
        cases.push(format!("a{}b", c as char));
    }
    for local in &cases {
        assert_eq!(
            mailc::serve::decision::valid_local(local),
            mailc::model::names::local_part(local).is_ok(),
            "{local:?}"
        );
    }
}
