//! Plan/apply benchmark: `cargo bench --bench plan`.
//!
//! Two workloads, each at 1× and 10× so the scaling shows:
//!
//! - **spec**: the generated hosting spec (`benches/gen`), 200 and 2,000
//!   domains × 50 mailboxes, through the same pipeline `mailc plan` runs
//!   (parse → check → every backend → scan `--out` → plan → render), and
//!   `mailc apply` (the same, then write). Also the binary itself, end to
//!   end, by wall clock.
//! - **synthetic**: a hand-built output that does not depend on which
//!   backends exist: N zone-sized files (a secret one every 50) and one
//!   map of 50·N lines (1×: 200 files + 10k lines; 10×: 2,000 files +
//!   100k lines).
//!
//! Printed per row: the no-change plan (after an apply), a full apply into
//! an empty folder, a change plan rendered with its diffs (spec: the default
//! DMARC policy tightened, so every zone changes; synthetic: every tenth file
//! and line edited) and the peak RSS (`VmHWM`, reset per row).
//!
//! Targets at 2,000 domains: no-change plan < 1 s, apply < 3 s, peak RSS
//! < 1 GiB, and 10× the input costs ≤ 11× the time.

// Only the YAML half of the generator is used here.
#[allow(dead_code)]
#[path = "gen/mod.rs"]
mod generator;

use std::hint::black_box;
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use mailc::backend::{self, Context};
use mailc::diag::Diagnostics;
use mailc::model::{self, Inputs};
use mailc::model::{KeyFiles, MissingKey};
use mailc::output::{Output, OutputFile};
use mailc::plan::{Current, Plan, apply, render};
use mailc::source::{Dialect, Source};
use mailc::spec;

const RUNS: usize = 3;

/// The generated specs name no key files.
struct NoFiles;

impl KeyFiles for NoFiles {
    fn exists(&self, _: &str) -> bool {
        true
    }
}

/// What the CLI's `DiskContext` does: the previous output from `--out`.
struct Disk<'a>(&'a Path);

impl Context for Disk<'_> {
    fn previous(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.0.join(path)).ok()
    }

    fn private_key(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `VmHWM` of this process, in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets `VmHWM` to the current RSS (Linux ≥ 4.0).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Where a workload's output comes from.
trait Workload {
    fn name(&self) -> String;
    /// Compiles (the backends read `--out` for zone serials).
    fn compile(&self, out: &Path) -> Output;
}

struct SpecWorkload {
    domains: usize,
    source: Source,
}

impl SpecWorkload {
    fn new(domains: usize, mailboxes: usize) -> Self {
        let text = generator::yaml(domains, mailboxes);
        SpecWorkload {
            domains,
            source: Source::new("mailc.yaml", text, Dialect::Yaml),
        }
    }

    /// The same spec with the default DMARC policy tightened: every zone
    /// changes.
    fn edited(&self) -> Self {
        let text = self
            .source
            .text
            .replace("policy: quarantine", "policy: reject");
        SpecWorkload {
            domains: self.domains,
            source: Source::new("mailc.yaml", text, Dialect::Yaml),
        }
    }
}

impl SpecWorkload {
    /// Parse and check alone (best of [`RUNS`]): how much of `compile` is
    /// the front half rather than the backends.
    fn front_half(&self) -> Duration {
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                let mut diags = Diagnostics::new();
                let spec =
                    spec::parse(&self.source, &mut diags).expect("the generated spec parses");
                let inputs = Inputs {
                    key_files: &NoFiles,
                    missing_keys: MissingKey::Error,
                };
                black_box(model::build(&spec, &inputs, &mut diags));
                t.elapsed()
            })
            .min()
            .expect("RUNS > 0")
    }
}

impl Workload for SpecWorkload {
    fn name(&self) -> String {
        format!("spec {}×50", self.domains)
    }

    fn compile(&self, out: &Path) -> Output {
        let mut diags = Diagnostics::new();
        let spec = spec::parse(&self.source, &mut diags).expect("the generated spec parses");
        let inputs = Inputs {
            key_files: &NoFiles,
            missing_keys: MissingKey::Error,
        };
        let model = model::build(&spec, &inputs, &mut diags).expect("the generated spec checks");
        backend::compile(&model, &Disk(out)).expect("the generated spec compiles")
    }
}

struct Synthetic {
    files: usize,
    version: u32,
}

impl Workload for Synthetic {
    fn name(&self) -> String {
        format!(
            "synthetic {} files + {}k lines",
            self.files,
            self.files * 50 / 1000
        )
    }

    fn compile(&self, _: &Path) -> Output {
        synthetic(self.files, self.version)
    }
}

/// `files` zone-sized files (about 40 records, 2 KiB) and one map of
/// `50 × files` lines. `version` 2 edits every tenth file and every tenth
/// line.
fn synthetic(files: usize, version: u32) -> Output {
    let mut o = Output::default();
    for i in 0..files {
        let edited = version > 1 && i % 10 == 0;
        let serial = if edited { 2 } else { 1 };
        let mut zone = format!(
            "$ORIGIN customer{i:05}.example.\n$TTL 3600\n\
             @ IN SOA ns1.dns-host.example. hostmaster.hosting.example. ( {serial} 3600 900 1209600 300 )\n\
             @ IN NS ns1.dns-host.example.\n@ IN NS ns2.dns-host.example.\n\
             @ IN MX 10 mx1.hosting.example.\n@ IN MX {} mx2.hosting.example.\n",
            if edited { 30 } else { 20 }
        );
        for r in 0..34 {
            zone.push_str(&format!("host{r:02} IN A 192.0.2.{}\n", r + 1));
        }
        zone.push_str("@ IN TXT \"v=spf1 include:_spf.relay.example -all\"\n");
        zone.push_str(
            "_dmarc IN TXT \"v=DMARC1; p=quarantine; rua=mailto:dmarc@hosting.example\"\n",
        );
        o.insert(
            format!("dns/customer{i:05}.example.zone"),
            OutputFile::public(zone),
        );
        if i % 50 == 0 {
            o.insert(
                format!("dovecot/mx{}/users", i / 50),
                OutputFile::secret(format!(
                    "user@customer{i:05}.example:{{SHA512-CRYPT}}$6$x$v{serial}\n"
                )),
            );
        }
    }
    let mut map = String::with_capacity(files * 50 * 48);
    for l in 0..files * 50 {
        let target = if version > 1 && l % 10 == 0 {
            "changed"
        } else {
            "user001"
        };
        map.push_str(&format!(
            "alias{l:07}@customer{:05}.example {target}@customer.example\n",
            l / 50
        ));
    }
    o.insert("postfix/mx1/virtual_aliases", OutputFile::public(map));
    o
}

fn go(_: apply::Step<'_>) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// What `mailc plan` does after parsing: compile, scan, plan, render.
fn plan_once(w: &dyn Workload, out: &Path) -> (Plan, [Duration; 4]) {
    let t0 = Instant::now();
    let output = w.compile(out);
    let t1 = Instant::now();
    let current = Current::scan(out, output.files.keys().map(String::as_str)).expect("scan");
    let t2 = Instant::now();
    let plan = Plan::new(&output, current).expect("plan");
    let t3 = Instant::now();
    render::text(&plan, io::sink(), false).expect("render");
    let t4 = Instant::now();
    (plan, [t1 - t0, t2 - t1, t3 - t2, t4 - t3])
}

fn apply_once(w: &dyn Workload, out: &Path) -> Duration {
    let t = Instant::now();
    let (plan, _) = plan_once(w, out);
    apply::apply(&plan, out, &mut go).expect("apply");
    t.elapsed()
}

struct Row {
    name: String,
    files: usize,
    bytes: usize,
    no_change: Duration,
    stages: [Duration; 4],
    apply: Duration,
    change: Option<Duration>,
    peak: Option<f64>,
}

fn measure(w: &dyn Workload, edited: Option<&dyn Workload>, scratch: &Path) -> Row {
    let reset = reset_peak_rss();
    let mut apply_best = Duration::MAX;
    let mut applied: Option<PathBuf> = None;
    for run in 0..RUNS {
        let out = scratch.join(format!("apply-{run}"));
        apply_best = apply_best.min(apply_once(w, &out));
        if let Some(old) = applied.replace(out) {
            let _ = std::fs::remove_dir_all(old);
        }
    }
    let out = applied.expect("RUNS > 0");
    let mut no_change = Duration::MAX;
    let mut stages = [Duration::ZERO; 4];
    let mut files = 0;
    let mut bytes = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let (plan, s) = plan_once(w, &out);
        let d = t.elapsed();
        assert!(
            plan.is_empty(),
            "{}: a plan after an apply is not empty",
            w.name()
        );
        if d < no_change {
            no_change = d;
            stages = s;
        }
        black_box(plan);
    }
    let output = w.compile(&out);
    files += output.files.len();
    bytes += output.files.values().map(|f| f.bytes.len()).sum::<usize>();
    let change = edited.map(|e| {
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                let (plan, _) = plan_once(e, &out);
                assert!(!plan.is_empty());
                t.elapsed()
            })
            .min()
            .expect("RUNS > 0")
    });
    let _ = std::fs::remove_dir_all(&out);
    Row {
        name: w.name(),
        files,
        bytes,
        no_change,
        stages,
        apply: apply_best,
        change,
        peak: if reset { peak_rss_mib() } else { None },
    }
}

fn print_row(r: &Row) {
    println!(
        "{:<34} {:>6} {:>8.1} {:>10.1} {:>9.1} {:>10} {:>9}",
        r.name,
        r.files,
        r.bytes as f64 / (1024.0 * 1024.0),
        ms(r.no_change),
        ms(r.apply),
        r.change.map_or("-".into(), |c| format!("{:.1}", ms(c))),
        r.peak.map_or("?".into(), |p| format!("{p:.0}")),
    );
    println!(
        "{:<34} no-change plan = compile {:.1} + scan {:.1} + plan {:.1} + render {:.1} ms",
        "",
        ms(r.stages[0]),
        ms(r.stages[1]),
        ms(r.stages[2]),
        ms(r.stages[3]),
    );
}

fn ratio(small: &Row, big: &Row) {
    let p = big.no_change.as_secs_f64() / small.no_change.as_secs_f64();
    let a = big.apply.as_secs_f64() / small.apply.as_secs_f64();
    println!(
        "  10× scaling ({} → {}): no-change plan {p:.2}×, apply {a:.2}× (target ≤ 11×){}",
        small.name,
        big.name,
        if p <= 11.0 && a <= 11.0 {
            ""
        } else {
            "  ← over target"
        }
    );
}

/// The binary end to end, by wall clock (best of [`RUNS`]).
fn binary(domains: usize, scratch: &Path) {
    let dir = scratch.join(format!("bin-{domains}"));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    std::fs::write(dir.join("mailc.yaml"), generator::yaml(domains, 50)).expect("write spec");
    let run = |args: &[&str]| {
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_mailc"))
            .current_dir(&dir)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("run mailc");
        let d = t.elapsed();
        (
            out.status.code(),
            d,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let mut apply_best = Duration::MAX;
    for _ in 0..RUNS {
        let _ = std::fs::remove_dir_all(dir.join("out"));
        let (code, d, err) = run(&["apply", "--auto-approve"]);
        assert_eq!(code, Some(0), "mailc apply: {err}");
        apply_best = apply_best.min(d);
    }
    let mut plan_best = Duration::MAX;
    for _ in 0..RUNS {
        let (code, d, err) = run(&["plan", "--detailed-exitcode"]);
        assert_eq!(code, Some(0), "mailc plan after apply: {err}");
        plan_best = plan_best.min(d);
    }
    println!(
        "  the binary, {domains} domains × 50: `mailc plan` (no change) {:.1} ms, `mailc apply --auto-approve` (empty folder) {:.1} ms",
        ms(plan_best),
        ms(apply_best)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let scratch = tempfile::Builder::new()
        .prefix("mailc-bench-plan.")
        .tempdir()
        .expect("scratch folder");
    println!("mailc plan/apply benchmark (best of {RUNS}; peak RSS per row)");
    println!(
        "targets at 2,000 domains: no-change plan < 1 s, apply < 3 s, peak < 1 GiB, 10× ≤ 11× time"
    );
    println!();
    println!(
        "{:<34} {:>6} {:>8} {:>10} {:>9} {:>10} {:>9}",
        "workload", "files", "MiB", "plan0 ms", "apply ms", "change ms", "peak MiB"
    );
    let rows = [
        measure(
            &Synthetic {
                files: 200,
                version: 1,
            },
            Some(&Synthetic {
                files: 200,
                version: 2,
            }),
            scratch.path(),
        ),
        measure(
            &Synthetic {
                files: 2_000,
                version: 1,
            },
            Some(&Synthetic {
                files: 2_000,
                version: 2,
            }),
            scratch.path(),
        ),
    ];
    for r in &rows {
        print_row(r);
    }
    ratio(&rows[0], &rows[1]);
    let small = SpecWorkload::new(200, 50);
    let big = SpecWorkload::new(2_000, 50);
    let rows = [
        measure(&small, Some(&small.edited()), scratch.path()),
        measure(&big, Some(&big.edited()), scratch.path()),
    ];
    for (r, w) in rows.iter().zip([&small, &big]) {
        print_row(r);
        let front = w.front_half();
        println!(
            "{:<34} of which parse + check {:.1} ms, backends {:.1} ms",
            "",
            ms(front),
            ms(r.stages[0].saturating_sub(front))
        );
    }
    ratio(&rows[0], &rows[1]);

    println!();
    binary(200, scratch.path());
    binary(2_000, scratch.path());
}
