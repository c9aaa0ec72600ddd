//! Hosting-scale benchmark (issue 8): `cargo bench --bench hosting`.
//!
//! Runs the `mailc` binary as a child process, as a user or CI does, on
//! generated hosting specs (`benches/gen`: two hosts, N domains × 50
//! mailboxes, 15 aliases per domain — nested ones, an outside forward and a
//! mailbox's own —, a catch-all on every fourth domain, an SPF include) of
//! 10,000 and 100,000 mailboxes, and prints for each, best of three runs:
//!
//! - `mailc validate`;
//! - `mailc apply --auto-approve` into an empty folder (the full compile and
//!   every file written);
//! - `mailc plan` after it (no change, exit 0 with `--detailed-exitcode`);
//! - `mailc plan` of the same spec with one alias's target changed (exit 2);
//! - the peak RSS of the child (`VmHWM`, sampled from `/proc` while it runs,
//!   the largest of all runs of the row);
//!
//! and how each time scales from 10k to 100k mailboxes (target ≤ 11×).
//!
//! Then the DNS side against octoDNS (`octodns` + `octodns-bind`, see
//! `shared/ORACLES.md` §8): a spec whose zones hold about 10,000 records is
//! applied by mailc; the very records of those zone files are written as
//! octoDNS YAML (one file per zone) and synced once with `--doit` into a
//! zone folder; then, in one run, `octodns-sync` (plan only, against that
//! up-to-date folder) and `mailc plan` (against its up-to-date `--out`) are
//! timed, best of three, and the ratio printed (target ≥ 20×).
//! `MAILC_OCTODNS_SYNC` names the `octodns-sync` to run (default
//! `/opt/oracle-venv/bin/octodns-sync`); without it the comparison is
//! skipped with a note. `MAILC_BENCH_ONLY=mail` or `=dns` runs one half.

#[allow(dead_code)]
#[path = "gen/mod.rs"]
mod generator;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 3;
/// Extra plain aliases per domain, beyond the generator's five.
const EXTRA_ALIASES: usize = 10;
const MAILBOXES: usize = 50;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One finished child process.
struct Run {
    time: Duration,
    /// `VmHWM` in KiB, as last seen while it ran.
    peak_kib: Option<u64>,
    code: Option<i32>,
    stderr: String,
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `program args` in `dir`, sampling the child's peak RSS every
/// millisecond until it exits.
fn run(program: &Path, dir: &Path, args: &[&str]) -> Run {
    let start = Instant::now();
    let mut child = Command::new(program)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let mut peak = None;
    let status = loop {
        if let Some(kib) = vm_hwm_kib(child.id()) {
            peak = Some(kib);
        }
        match child.try_wait().expect("wait for the child") {
            Some(status) => break status,
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    };
    let time = start.elapsed();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    Run {
        time,
        peak_kib: peak,
        code: status.code(),
        stderr,
    }
}

/// Best time and largest peak of [`RUNS`] runs, each checked for `code`.
/// `before` runs ahead of each (untimed), e.g. to empty the output folder.
fn best(
    what: &str,
    code: i32,
    mut before: impl FnMut(),
    mut once: impl FnMut() -> Run,
) -> (Duration, Option<u64>) {
    let mut time = Duration::MAX;
    let mut peak: Option<u64> = None;
    for _ in 0..RUNS {
        before();
        let r = once();
        assert_eq!(r.code, Some(code), "{what}: {}", r.stderr);
        time = time.min(r.time);
        peak = peak.max(r.peak_kib);
    }
    (time, peak)
}

struct Row {
    mailboxes: usize,
    aliases: usize,
    spec_mib: f64,
    validate: Duration,
    apply: Duration,
    plan: Duration,
    change: Duration,
    peak_kib: Option<u64>,
}

fn mail_row(mailc: &Path, scratch: &Path, domains: usize) -> Row {
    let dir = scratch.join(format!("hosting-{domains}"));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let spec = generator::hosting_yaml(domains, MAILBOXES, EXTRA_ALIASES);
    // One alias of the first domain now leads elsewhere.
    let edited = spec.replacen("      info: user001\n", "      info: user002\n", 1);
    assert_ne!(spec, edited, "the generator's `info` alias moved");
    std::fs::write(dir.join("mailc.yaml"), &spec).expect("write the spec");
    std::fs::write(dir.join("edited.yaml"), &edited).expect("write the spec");
    let out = dir.join("out");
    let nothing = || {};

    let (validate, p1) = best("mailc validate", 0, nothing, || {
        run(mailc, &dir, &["validate"])
    });
    let (apply, p2) = best(
        "mailc apply",
        0,
        || {
            let _ = std::fs::remove_dir_all(&out);
        },
        || run(mailc, &dir, &["apply", "--auto-approve"]),
    );
    let (plan, p3) = best("mailc plan (no change)", 0, nothing, || {
        run(mailc, &dir, &["plan", "--detailed-exitcode"])
    });
    let (change, p4) = best("mailc plan (one alias changed)", 2, nothing, || {
        run(mailc, &dir, &["plan", "edited.yaml", "--detailed-exitcode"])
    });
    let _ = std::fs::remove_dir_all(&dir);
    Row {
        mailboxes: domains * MAILBOXES,
        aliases: domains * (5 + EXTRA_ALIASES),
        spec_mib: spec.len() as f64 / (1024.0 * 1024.0),
        validate,
        apply,
        plan,
        change,
        peak_kib: [p1, p2, p3, p4].into_iter().flatten().max(),
    }
}

fn mail(mailc: &Path, scratch: &Path) {
    println!("mailc at hosting scale: the binary as a child process, best of {RUNS} runs");
    println!(
        "targets at 100k mailboxes: no-change plan < 1 s, full apply < 3 s, peak < 1 GiB; 10× input ≤ 11× time"
    );
    println!();
    println!(
        "{:>9} {:>7} {:>8} {:>11} {:>10} {:>10} {:>12} {:>9}",
        "mailboxes",
        "aliases",
        "spec MiB",
        "validate ms",
        "apply ms",
        "plan0 ms",
        "1-alias ms",
        "peak MiB"
    );
    let rows: Vec<Row> = [200, 2_000]
        .into_iter()
        .map(|domains| mail_row(mailc, scratch, domains))
        .collect();
    for r in &rows {
        println!(
            "{:>9} {:>7} {:>8.1} {:>11.1} {:>10.1} {:>10.1} {:>12.1} {:>9}",
            r.mailboxes,
            r.aliases,
            r.spec_mib,
            ms(r.validate),
            ms(r.apply),
            ms(r.plan),
            ms(r.change),
            r.peak_kib
                .map_or("?".into(), |k| format!("{:.0}", k as f64 / 1024.0)),
        );
    }
    let (small, big) = (&rows[0], &rows[1]);
    let f = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64();
    let factors = [
        ("validate", f(small.validate, big.validate)),
        ("apply", f(small.apply, big.apply)),
        ("plan0", f(small.plan, big.plan)),
        ("1-alias", f(small.change, big.change)),
    ];
    let shown: Vec<String> = factors
        .iter()
        .map(|(n, x)| format!("{n} {x:.2}×"))
        .collect();
    let over = factors.iter().any(|(_, x)| *x > 11.0);
    println!(
        "scaling 10k → 100k mailboxes: {} (target ≤ 11×){}",
        shown.join(", "),
        if over { "  ← over target" } else { "" }
    );
    let misses: Vec<&str> = [
        (big.plan > Duration::from_secs(1), "no-change plan ≥ 1 s"),
        (big.apply > Duration::from_secs(3), "apply ≥ 3 s"),
        (big.peak_kib.is_some_and(|k| k >= 1 << 20), "peak ≥ 1 GiB"),
    ]
    .into_iter()
    .filter_map(|(miss, what)| miss.then_some(what))
    .collect();
    if misses.is_empty() {
        println!("100k mailboxes: every target met");
    } else {
        println!("100k mailboxes: over target: {}", misses.join(", "));
    }
}

// ---------------------------------------------------------------------------
// octoDNS

/// One resource record of a mailc zone file, as octoDNS needs it.
struct Record {
    /// Relative to the zone, `""` for the apex.
    name: String,
    rtype: String,
    ttl: Option<u32>,
    rdata: String,
}

/// The `<character-string>`s of TXT rdata, unquoted and joined.
fn txt_value(rdata: &str) -> String {
    let mut out = Vec::new();
    let mut bytes = rdata.bytes();
    let mut inside = false;
    while let Some(b) = bytes.next() {
        match (inside, b) {
            (_, b'"') => inside = !inside,
            (true, b'\\') => {
                let Some(next) = bytes.next() else { break };
                if next.is_ascii_digit() {
                    let d: String = [
                        next,
                        bytes.next().unwrap_or(b'0'),
                        bytes.next().unwrap_or(b'0'),
                    ]
                    .iter()
                    .map(|&c| char::from(c))
                    .collect();
                    out.push(d.parse::<u8>().unwrap_or(b'?'));
                } else {
                    out.push(next);
                }
            }
            (true, _) => out.push(b),
            (false, _) => {}
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The records of one mailc zone file (the SOA left out: octoDNS writes
/// its own).
fn zone_records(text: &str) -> (u32, Vec<Record>) {
    let mut ttl = 3600;
    let mut records = Vec::new();
    let mut in_soa = false;
    for line in text.lines() {
        if line.starts_with(';') || line.trim().is_empty() {
            continue;
        }
        if let Some(t) = line.strip_prefix("$TTL ") {
            ttl = t.trim().parse().expect("a $TTL");
            continue;
        }
        if line.starts_with('$') {
            continue;
        }
        if in_soa {
            in_soa = !line.trim_start().starts_with(')');
            continue;
        }
        let mut words = line.split_whitespace();
        let owner = words.next().expect("an owner");
        let mut word = words.next().expect("a class or TTL");
        let mut record_ttl = None;
        if let Ok(t) = word.parse::<u32>() {
            record_ttl = Some(t);
            word = words.next().expect("a class");
        }
        assert_eq!(word, "IN", "{line}");
        let rtype = words.next().expect("a type").to_string();
        if rtype == "SOA" {
            in_soa = line.contains('(');
            continue;
        }
        let rdata = words.collect::<Vec<_>>().join(" ");
        records.push(Record {
            name: if owner == "@" {
                String::new()
            } else {
                owner.to_string()
            },
            rtype,
            ttl: record_ttl,
            rdata,
        });
    }
    (ttl, records)
}

/// One octoDNS value of a record.
fn octodns_value(r: &Record) -> serde_json::Value {
    use serde_json::json;
    let f: Vec<&str> = r.rdata.split(' ').collect();
    match r.rtype.as_str() {
        "MX" => json!({"preference": f[0].parse::<u16>().unwrap(), "exchange": f[1]}),
        "SRV" => json!({
            "priority": f[0].parse::<u16>().unwrap(),
            "weight": f[1].parse::<u16>().unwrap(),
            "port": f[2].parse::<u16>().unwrap(),
            "target": f[3],
        }),
        // octoDNS escapes `;` in TXT values (ORACLES.md §8).
        "TXT" => json!(txt_value(&r.rdata).replace(';', "\\;")),
        _ => json!(r.rdata),
    }
}

/// A zone's records as octoDNS YAML (JSON is YAML): name → its record sets.
fn octodns_zone(zone_ttl: u32, records: &[Record]) -> String {
    use serde_json::{Map, Value, json};
    // (name, type) → (ttl, values), in file order.
    let mut sets: BTreeMap<(String, String), (u32, Vec<Value>)> = BTreeMap::new();
    for r in records {
        let set = sets
            .entry((r.name.clone(), r.rtype.clone()))
            .or_insert((r.ttl.unwrap_or(zone_ttl), Vec::new()));
        set.1.push(octodns_value(r));
    }
    let mut by_name: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for ((name, rtype), (ttl, values)) in sets {
        by_name
            .entry(name)
            .or_default()
            .push(json!({"type": rtype, "ttl": ttl, "values": values}));
    }
    let map: Map<String, Value> = by_name
        .into_iter()
        .map(|(name, sets)| (name, Value::Array(sets)))
        .collect();
    serde_json::to_string_pretty(&Value::Object(map)).expect("JSON")
}

fn octodns_config(zones: &[String]) -> String {
    let mut s = String::from(
        "providers:\n\
         \x20 config:\n\
         \x20   class: octodns.provider.yaml.YamlProvider\n\
         \x20   directory: ./config\n\
         \x20   enforce_order: false\n\
         \x20 zonefile:\n\
         \x20   class: octodns_bind.ZoneFileProvider\n\
         \x20   directory: ./zones\n\
         \x20   file_extension: .zone\n\
         \x20   hostmaster_email: hostmaster\n\
         zones:\n",
    );
    for z in zones {
        s.push_str(&format!(
            "  {z}.:\n    sources: [config]\n    targets: [zonefile]\n"
        ));
    }
    s
}

/// Domains whose zones hold about 10,000 records, with few mailboxes
/// (mailboxes publish no records).
const DNS_DOMAINS: usize = 625;

fn dns(mailc: &Path, scratch: &Path) {
    println!();
    let sync = std::env::var_os("MAILC_OCTODNS_SYNC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/oracle-venv/bin/octodns-sync"));
    if !sync.exists() {
        println!(
            "octoDNS comparison skipped: {} not found (install as shared/ORACLES.md §8 says: \
             python3 -m venv /opt/oracle-venv && /opt/oracle-venv/bin/pip install octodns octodns-bind; \
             or set MAILC_OCTODNS_SYNC)",
            sync.display()
        );
        return;
    }
    let dir = scratch.join("dns");
    std::fs::create_dir_all(dir.join("config")).expect("scratch folder");
    std::fs::create_dir_all(dir.join("zones")).expect("scratch folder");
    std::fs::write(
        dir.join("mailc.yaml"),
        generator::hosting_yaml(DNS_DOMAINS, 6, 0),
    )
    .expect("write the spec");
    let r = run(mailc, &dir, &["apply", "--auto-approve"]);
    assert_eq!(r.code, Some(0), "mailc apply: {}", r.stderr);

    // The very records mailc wrote, as octoDNS YAML.
    let mut zones = Vec::new();
    let (mut rrs, mut rrsets) = (0, 0);
    let mut entries: Vec<_> = std::fs::read_dir(dir.join("out/dns"))
        .expect("mailc wrote zones")
        .map(|e| e.expect("a zone file").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".zone"))
            .expect("DOMAIN.zone")
            .to_string();
        let text = std::fs::read_to_string(&path).expect("read a zone");
        let (ttl, records) = zone_records(&text);
        rrs += records.len() + 1; // and the SOA
        let sets: std::collections::BTreeSet<(&str, &str)> = records
            .iter()
            .map(|r| (r.name.as_str(), r.rtype.as_str()))
            .collect();
        rrsets += sets.len() + 1;
        std::fs::write(
            dir.join("config").join(format!("{name}.yaml")),
            octodns_zone(ttl, &records),
        )
        .expect("write octoDNS YAML");
        zones.push(name);
    }
    std::fs::write(dir.join("octodns.yaml"), octodns_config(&zones)).expect("write octodns.yaml");
    let config = "--config-file=octodns.yaml";
    let r = run(&sync, &dir, &[config, "--doit"]);
    assert_eq!(r.code, Some(0), "octodns-sync --doit: {}", r.stderr);

    let (octo, octo_peak) = best(
        "octodns-sync (plan)",
        0,
        || {},
        || run(&sync, &dir, &[config]),
    );
    let (ours, ours_peak) = best(
        "mailc plan",
        0,
        || {},
        || run(mailc, &dir, &["plan", "--detailed-exitcode"]),
    );
    let mib = |k: Option<u64>| k.map_or("?".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0));
    println!(
        "DNS: {} zones, {rrs} records ({rrsets} RRsets), the same records on both sides; best of {RUNS}",
        zones.len()
    );
    println!(
        "  octodns-sync (plan only, zone folder up to date): {:>8.1} ms, peak {}",
        ms(octo),
        mib(octo_peak)
    );
    println!(
        "  mailc plan (--out up to date, mail configs too):  {:>8.1} ms, peak {}",
        ms(ours),
        mib(ours_peak)
    );
    let ratio = octo.as_secs_f64() / ours.as_secs_f64();
    println!(
        "  mailc is {ratio:.1}× faster (target ≥ 20×){}",
        if ratio >= 20.0 {
            ""
        } else {
            "  ← under target"
        }
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let mailc = PathBuf::from(env!("CARGO_BIN_EXE_mailc"));
    let scratch = tempfile::Builder::new()
        .prefix("mailc-bench-hosting.")
        .tempdir()
        .expect("scratch folder");
    let only = std::env::var("MAILC_BENCH_ONLY").unwrap_or_default();
    if only != "dns" {
        mail(&mailc, scratch.path());
    }
    if only != "mail" {
        dns(&mailc, scratch.path());
    }
}
