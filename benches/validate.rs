//! Hosting-scale validation benchmark: `cargo bench --bench validate`.
//!
//! Generates specs of 10,000 and 100,000 mailboxes in memory (YAML and the
//! same spec in KDL), then times the front end (`spec::parse`), the checker
//! (`model::build`) and both together, best of three runs each, and prints
//! the spec size, the peak RSS and how the time scales from 10k to 100k.
//!
//! Targets: 100k mailboxes: parse+check well under 1 s; the KDL spec at most
//! 1.5 times the YAML one's time (both printed side by side).
//!
//! `MAILC_BENCH_DIALECT=yaml` (or `kdl`) measures one dialect only, e.g. to
//! profile it with `perf record`.

#[path = "gen/mod.rs"]
mod generator;

use std::hint::black_box;
use std::time::{Duration, Instant};

use mailc::diag::{Diagnostics, Severity};
use mailc::model::{self, Inputs};
use mailc::model::{KeyFiles, MissingKey};
use mailc::source::{Dialect, Source};
use mailc::spec;

const RUNS: usize = 3;
/// KDL's parse+check at 100k mailboxes, at most this many times YAML's.
const KDL_TARGET: f64 = 1.5;
const SIZES: [(usize, usize); 2] = [(200, 50), (2_000, 50)];

/// The generated specs name no key files.
struct NoFiles;

impl KeyFiles for NoFiles {
    fn exists(&self, _: &str) -> bool {
        true
    }
}

#[derive(Clone, Copy)]
struct Figures {
    parse: Duration,
    build: Duration,
    total: Duration,
    peak_rss_kib: Option<u64>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `VmHWM` of this process, in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets `VmHWM` to the current RSS (Linux ≥ 4.0); false if that failed.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Parses and builds once, reporting what the spec compiled to.
fn check_once(source: &Source) -> Result<(usize, usize), String> {
    let mut diags = Diagnostics::new();
    let spec = spec::parse(source, &mut diags);
    let inputs = Inputs {
        key_files: &NoFiles,
        missing_keys: MissingKey::Warn,
    };
    let model = spec.and_then(|s| model::build(&s, &inputs, &mut diags));
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .take(5)
        .map(|d| format!("{:?} at {:?}: {}", d.code, d.span(), d.message))
        .collect();
    match model {
        Some(m) if errors.is_empty() => {
            let mailboxes = m.domains.values().map(|d| d.mailboxes.len()).sum();
            Ok((m.domains.len(), mailboxes))
        }
        _ => Err(format!(
            "{} error(s), first: {}",
            diags.error_count(),
            errors.join("; ")
        )),
    }
}

fn measure(source: &Source) -> Figures {
    let reset = reset_peak_rss();
    let inputs = Inputs {
        key_files: &NoFiles,
        missing_keys: MissingKey::Warn,
    };
    let mut best: Option<Figures> = None;
    for _ in 0..RUNS {
        let mut diags = Diagnostics::new();
        let t0 = Instant::now();
        let spec = spec::parse(black_box(source), &mut diags).expect("the generated spec parses");
        let t1 = Instant::now();
        let model = model::build(&spec, &inputs, &mut diags).expect("the generated spec checks");
        let t2 = Instant::now();
        black_box(&model);
        drop(model);
        drop(spec);
        let run = Figures {
            parse: t1 - t0,
            build: t2 - t1,
            total: t2 - t0,
            peak_rss_kib: None,
        };
        best = Some(match best {
            None => run,
            Some(b) => Figures {
                parse: b.parse.min(run.parse),
                build: b.build.min(run.build),
                total: b.total.min(run.total),
                peak_rss_kib: None,
            },
        });
    }
    let mut f = best.expect("RUNS > 0");
    f.peak_rss_kib = if reset { peak_rss_kib() } else { None };
    f
}

/// Best of [`RUNS`] timings of `f`.
fn best_of<T>(mut f: impl FnMut() -> T) -> Duration {
    (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed()
        })
        .min()
        .expect("RUNS > 0")
}

/// Where the front end's time goes, for the largest size: the YAML parser
/// alone, the spanned tree, the typing (`read`); mailc's KDL reader alone
/// (the document), the walk into the tree, the typing; and, for
/// comparison, the `kdl` crate reading the same text (one run: it is slow).
fn stages(yaml: &Source, kdl: &Source) {
    println!();
    println!(
        "stages at {} mailboxes (best of {RUNS}, ms):",
        SIZES[1].0 * SIZES[1].1
    );
    let raw_yaml = best_of(|| serde_saphyr::from_str::<serde::de::IgnoredAny>(&yaml.text).is_ok());
    let yaml_tree = best_of(|| spec::yaml::parse(&yaml.text).is_ok());
    let yaml_spec = best_of(|| spec::parse(yaml, &mut Diagnostics::new()).is_some());
    println!(
        "  yaml: serde-saphyr alone (IgnoredAny)           {:>8.1}",
        ms(raw_yaml)
    );
    println!(
        "  yaml: spanned tree (spec::yaml::parse)          {:>8.1}",
        ms(yaml_tree)
    );
    println!(
        "  yaml: typing (spec::parse - tree)               {:>8.1}",
        ms(yaml_spec.saturating_sub(yaml_tree))
    );
    let raw_kdl = best_of(|| spec::kdl::parser::parse(&kdl.text).is_ok());
    let kdl_tree = best_of(|| spec::kdl::parse(&kdl.text).is_ok());
    let kdl_spec = best_of(|| spec::parse(kdl, &mut Diagnostics::new()).is_some());
    println!(
        "  kdl:  document (spec::kdl::parser::parse)       {:>8.1}",
        ms(raw_kdl)
    );
    println!(
        "  kdl:  walk into the tree (kdl::parse - document){:>8.1}",
        ms(kdl_tree.saturating_sub(raw_kdl))
    );
    println!(
        "  kdl:  typing (spec::parse - tree)               {:>8.1}",
        ms(kdl_spec.saturating_sub(kdl_tree))
    );
    let t = Instant::now();
    black_box(kdl::KdlDocument::parse_v2(&kdl.text).is_ok());
    println!(
        "  kdl:  the kdl crate instead (parse_v2, one run) {:>8.1}",
        ms(t.elapsed())
    );
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is ignored.
    println!(
        "mailc validate benchmark (best of {RUNS}; peak RSS per row, text of both dialects held)"
    );
    println!(
        "targets: 100k mailboxes: parse+check well under 1 s; KDL at most x{KDL_TARGET} YAML's time"
    );
    println!();
    println!(
        "{:<6} {:>9} {:>7} {:>11} {:>10} {:>10} {:>10} {:>12}",
        "dialect",
        "mailboxes",
        "domains",
        "spec bytes",
        "parse ms",
        "build ms",
        "total ms",
        "peak RSS MiB"
    );
    let mut totals: Vec<(Dialect, usize, Duration, Duration)> = Vec::new();
    let mut kdl_note: Option<String> = None;
    let mut last = None;
    let only = std::env::var("MAILC_BENCH_DIALECT").ok();
    for (domains, per) in SIZES {
        let yaml = Source::new("bench.yaml", generator::yaml(domains, per), Dialect::Yaml);
        let kdl = Source::new("bench.kdl", generator::kdl(domains, per), Dialect::Kdl);
        for source in [&yaml, &kdl] {
            let dialect = source.dialect;
            let name = if dialect == Dialect::Yaml {
                "yaml"
            } else {
                "kdl"
            };
            if only.as_deref().is_some_and(|o| o != name) {
                continue;
            }
            match check_once(source) {
                Ok((d, m)) => assert_eq!(
                    (d, m),
                    (domains, domains * per),
                    "{name}: the model lost something"
                ),
                Err(e) if dialect == Dialect::Kdl => {
                    kdl_note.get_or_insert(format!(
                        "KDL skipped: the generated KDL spec does not compile: {e}"
                    ));
                    continue;
                }
                Err(e) => panic!("the generated {name} spec does not compile: {e}"),
            }
            let f = measure(source);
            let rss = f
                .peak_rss_kib
                .map_or("n/a".to_string(), |k| format!("{:.1}", k as f64 / 1024.0));
            println!(
                "{:<6} {:>9} {:>7} {:>11} {:>10.1} {:>10.1} {:>10.1} {:>12}",
                name,
                domains * per,
                domains,
                source.text.len(),
                ms(f.parse),
                ms(f.build),
                ms(f.total),
                rss
            );
            totals.push((dialect, domains * per, f.total, f.parse));
        }
        last = Some((yaml, kdl));
    }
    println!();
    let large = SIZES[1].0 * SIZES[1].1;
    for dialect in [Dialect::Yaml, Dialect::Kdl] {
        let of = |n: usize| {
            totals
                .iter()
                .find(|(d, m, ..)| *d == dialect && *m == n)
                .map(|t| t.2)
        };
        let small = SIZES[0].0 * SIZES[0].1;
        if let (Some(a), Some(b)) = (of(small), of(large)) {
            let name = if dialect == Dialect::Yaml {
                "yaml"
            } else {
                "kdl"
            };
            let verdict = if b < Duration::from_secs(1) {
                "under 1 s: ok"
            } else {
                "OVER 1 s"
            };
            println!(
                "{name:<4}: {}k -> {}k mailboxes: total x{:.2} for 10x the input; 100k parse+check {:.0} ms ({verdict})",
                small / 1000,
                large / 1000,
                b.as_secs_f64() / a.as_secs_f64(),
                ms(b)
            );
        }
    }
    let at_large = |dialect: Dialect| {
        totals
            .iter()
            .find(|(d, m, ..)| *d == dialect && *m == large)
            .map(|t| (t.2, t.3))
    };
    if let (Some((yaml_total, yaml_parse)), Some((kdl_total, kdl_parse))) =
        (at_large(Dialect::Yaml), at_large(Dialect::Kdl))
    {
        let ratio = kdl_total.as_secs_f64() / yaml_total.as_secs_f64();
        println!(
            "kdl vs yaml at {}k mailboxes: parse+check {:.0} ms vs {:.0} ms, x{ratio:.2} \
             (target <= x{KDL_TARGET}: {}); parse alone {:.0} ms vs {:.0} ms",
            large / 1000,
            ms(kdl_total),
            ms(yaml_total),
            if ratio <= KDL_TARGET { "ok" } else { "MISSED" },
            ms(kdl_parse),
            ms(yaml_parse)
        );
    }
    if let Some(note) = &kdl_note {
        println!("{note}");
    }
    if let Some((yaml, kdl)) = last
        && kdl_note.is_none()
        && only.is_none()
    {
        stages(&yaml, &kdl);
    }
}
