//! `mailc plan` and `mailc apply`: compile the spec (missing DKIM keys are
//! errors here), compare with `--out`, show the plan, save it, and write it.
//! The logic lives in [`crate::plan`]; this is the glue that prints, asks and
//! picks exit codes (`docs/cli.md`).

use std::io::{self, BufRead, BufWriter, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use super::context::DiskContext;
use super::{ColorChoice, Format, fail, load, push};
use crate::backend;
use crate::cache::{self, Seen};
use crate::diag::{Code, Diagnostic, Severity, render};
use crate::limits;
use crate::model::MissingKey;
use crate::output::Output;
use crate::plan::apply::{self, Step};
use crate::plan::planfile::{PlanFile, PlanFileError};
use crate::plan::seal::{PlanKey, SealError};
use crate::plan::{Current, Fingerprint, Plan, Prefetched, render as show};
use crate::source::Source;

/// For tests only: stop `mailc apply` (as a kill would, without cleaning up)
/// after this many durable steps. See [`Step`].
const FAULT_ENV: &str = "MAILC_FAULT_AFTER_STEPS";

/// Exit code of `plan --detailed-exitcode` when something would change.
const CHANGES: u8 = 2;

#[derive(Args)]
pub struct PlanArgs {
    /// The spec (default: mailc.yaml, else mailc.kdl).
    spec: Option<PathBuf>,
    /// The output folder to compare with.
    #[arg(long, value_name = "DIR", default_value = "out")]
    out: PathBuf,
    /// Also save the plan, for `mailc apply PLANFILE` (mode 0600; secret
    /// files by fingerprint only).
    #[arg(long, value_name = "PLANFILE")]
    save: Option<PathBuf>,
    /// Exit 0 when nothing would change, 2 when something would, 1 on error.
    #[arg(long)]
    detailed_exitcode: bool,
    /// `text` for people, `json` for bots.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    view: ViewArgs,
    #[command(flatten)]
    wait: WaitArgs,
    /// Neither use nor write the cache in `--out` (`.mailc-cache`): read
    /// and compile the whole spec.
    #[arg(long)]
    no_cache: bool,
}

/// How much of a text plan to show.
#[derive(Args)]
struct ViewArgs {
    /// One line per file: lines added and removed, a zone's records (the
    /// default past 1,000 changed lines).
    #[arg(long, conflicts_with = "full")]
    compact: bool,
    /// Every diff in full, however large the plan.
    #[arg(long)]
    full: bool,
}

impl ViewArgs {
    /// Prints the plan as text in the view asked for, else the one its size
    /// gives; says on stderr when it was made compact for its size.
    fn print(&self, plan: &Plan, live: Option<&push::LivePlan>, color: bool) {
        let (view, auto) = if self.compact {
            (show::View::Compact, None)
        } else if self.full {
            (show::View::Full, None)
        } else {
            let (view, lines) = show::auto_view(plan);
            (view, Some(lines))
        };
        {
            let mut stdout = BufWriter::new(io::stdout().lock());
            // A closed pipe (`mailc plan | head`) is not an error of the plan.
            let _ = show::text_as(plan, &mut stdout, color, view);
            if let Some(lp) = live {
                let _ = push::text(lp, &mut stdout, color);
            }
            let _ = stdout.flush();
        }
        if let (show::View::Compact, Some(lines)) = (view, auto) {
            eprintln!(
                "note: {lines} changed lines (more than {}), so one line per file; `--full` shows every diff",
                show::COMPACT_ABOVE
            );
        }
    }
}

/// How a DKIM key that starts signing is checked against DNS.
#[derive(Args)]
struct WaitArgs {
    /// Let a DKIM key start signing without checking that DNS serves its
    /// record.
    #[arg(long)]
    no_dns_wait: bool,
    /// For a zone mailc does not push: the DNS server (IP:PORT) asked
    /// whether it serves the record of a DKIM key that starts signing
    /// (default: the system's resolvers).
    #[arg(long, value_name = "IP:PORT")]
    resolver: Vec<std::net::SocketAddr>,
}

#[derive(Args)]
pub struct ApplyArgs {
    /// A spec (default: mailc.yaml, else mailc.kdl), or a plan file saved by
    /// `mailc plan --save`.
    #[arg(value_name = "SPEC | PLANFILE")]
    target: Option<PathBuf>,
    /// The output folder (default: `out`, or the one a plan file was made
    /// for).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Write without asking. (A saved plan is never asked about: it was
    /// reviewed when it was made.)
    #[arg(long)]
    auto_approve: bool,
    #[command(flatten)]
    view: ViewArgs,
    /// Push a zone even when the push removes or changes more than 30 % of
    /// the records mailc owns there (in a zone of more than 10).
    #[arg(long)]
    allow_large_change: bool,
    #[command(flatten)]
    wait: WaitArgs,
    /// Do not write the cache in `--out` (`.mailc-cache`) after applying.
    #[arg(long)]
    no_cache: bool,
}

pub fn plan(args: PlanArgs, choice: ColorChoice) -> ExitCode {
    let spec = load::spec_path(args.spec.as_deref());
    let err_color = choice.color(io::stderr().is_terminal());
    // A saved plan records what `--out` holds: it is always made in full.
    let key = (!args.no_cache && args.save.is_none())
        .then(|| cache::Key::new(&spec, &args.out))
        .flatten();
    let mut changed = Vec::new();
    if let Some(key) = &key {
        match cache::check(&args.out, key) {
            cache::Check::Clean(clean) => return clean_plan(&args, clean, choice, err_color),
            cache::Check::Partial(partial) => {
                // Shown as text only: a JSON plan carries whole files.
                if args.format == Format::Text
                    && let Some((plan, some, all)) =
                        super::incremental::plan(&spec, &args.out, &partial)
                {
                    show_plan(&args, &plan, None, choice);
                    if !plan.is_empty() {
                        from_files(&partial.shown);
                    }
                    let s = if all == 1 { "" } else { "s" };
                    eprintln!(
                        "note: compiled {some} of {all} included file{s} again (those the change can affect); the rest is as the cache recorded"
                    );
                    return if args.detailed_exitcode && !plan.is_empty() {
                        ExitCode::from(CHANGES)
                    } else {
                        ExitCode::SUCCESS
                    };
                }
                changed = partial.shown;
            }
            cache::Check::Stale {
                changed: files,
                damaged,
            } => {
                if let Some(why) = damaged {
                    eprintln!("note: {why}");
                }
                changed = files;
            }
        }
    }
    // The output folder is read while the spec compiles.
    let out_dir = args.out.clone();
    let ahead = std::thread::spawn(move || Prefetched::read(&out_dir, backend::reads_previous));
    let ahead = || ahead.join().unwrap_or_default();
    let seen = key.as_ref().map(|_| Arc::new(Seen::new()));
    let loaded = load::load_seen(&spec, MissingKey::Error, seen);
    let (output, ahead, loaded) = match compile(loaded, &args.out, args.format, err_color, ahead) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let plan = match make_plan(&output, &args.out, ahead, args.save.is_some()) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let live = match live_plan(&loaded, &output, &plan, &args.out, &args.wait) {
        Ok(l) => l,
        Err(code) => return code,
    };
    if let Some(key) = &key
        && live.is_none()
        && plan.is_empty()
        && !plan.managed_list_stale()
    {
        remember(&args.out, key, &loaded, &output);
    }
    if let Some(save) = &args.save {
        // Sealed with the key of `--out` (made on the first save).
        let key = match PlanKey::load_or_create(&args.out) {
            Ok(k) => k,
            Err(e) => return fail(&e.to_string(), seal_help(&e)),
        };
        // The main file's, as a saved plan checks it before reading it
        // again; the files it includes are checked by the plan compiled
        // from them. (Hashed only here: 170 MB at a million mailboxes.)
        let main = &loaded.source.parts[0];
        let spec_sha256 = Fingerprint::of(loaded.source.part_text(main).as_bytes());
        let mut file = PlanFile::new(
            &plan,
            &spec.to_string_lossy(),
            spec_sha256,
            &args.out.to_string_lossy(),
        );
        if let Some(lp) = &live {
            file.dns = push::saved(lp);
        }
        file.seal(&key);
        if let Err(e) = file.save(save) {
            return fail(&e.to_string(), None);
        }
    }
    show_plan(&args, &plan, live.as_ref(), choice);
    if !plan.is_empty() && !changed.is_empty() {
        from_files(&changed);
    }
    let pushes = live.as_ref().map_or(0, push::LivePlan::changes);
    loaded.release();
    if let Some(save) = &args.save {
        eprintln!(
            "Saved the plan to {0}; `mailc apply {0}` writes exactly it.",
            save.display()
        );
    }
    if args.detailed_exitcode && (!plan.is_empty() || pushes > 0) {
        ExitCode::from(CHANGES)
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints the plan on stdout as `--format` asks.
fn show_plan(args: &PlanArgs, plan: &Plan, live: Option<&push::LivePlan>, choice: ColorChoice) {
    match args.format {
        Format::Json => {
            let json = show::json(plan);
            let json = match live {
                Some(lp) => with_dns(json, lp),
                None => json,
            };
            let mut stdout = BufWriter::new(io::stdout().lock());
            // A closed pipe (`mailc plan | head`) is not an error of the plan.
            let _ = stdout.write_all(json.as_bytes());
            let _ = stdout.flush();
        }
        Format::Text => args
            .view
            .print(plan, live, choice.color(io::stdout().is_terminal())),
    }
}

/// The plan when the cache shows that nothing changed since the last clean
/// plan or apply: empty, with the warnings that compile printed.
fn clean_plan(
    args: &PlanArgs,
    clean: cache::Clean,
    choice: ColorChoice,
    err_color: bool,
) -> ExitCode {
    let notes = if err_color {
        clean.notes.color
    } else {
        clean.notes.plain
    };
    eprint!("{notes}");
    let plan = Plan {
        changes: Vec::new(),
        managed_before: clean.managed.clone(),
        managed_after: clean.managed,
        expected: Default::default(),
    };
    show_plan(args, &plan, None, choice);
    ExitCode::SUCCESS
}

/// Says on stderr which spec files changed since the cache was written:
/// where the changes of the plan come from.
fn from_files(changed: &[String]) {
    const SHOWN: usize = 10;
    let mut list = changed
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if changed.len() > SHOWN {
        list.push_str(&format!(" and {} more", changed.len() - SHOWN));
    }
    let s = if changed.len() == 1 { "" } else { "s" };
    eprintln!("note: spec file{s} changed since the last clean plan or apply: {list}");
}

/// Writes the cache after a clean plan or an apply; a cache that cannot be
/// written only costs the next plan its speed.
fn remember(out: &Path, key: &cache::Key, loaded: &load::Loaded, output: &Output) {
    let Some(seen) = &loaded.seen else {
        return;
    };
    let notes = if loaded.diagnostics.is_empty() {
        cache::Notes::default()
    } else {
        cache::Notes {
            plain: render::graphical(&loaded.diagnostics, &loaded.source, false),
            color: render::graphical(&loaded.diagnostics, &loaded.source, true),
        }
    };
    let spec = cache::Spec {
        source: &loaded.source,
        dir: &loaded.dir,
        domains: loaded
            .model
            .as_ref()
            .map(|m| m.domains.keys().map(String::as_str).collect())
            .unwrap_or_default(),
    };
    let _ = cache::record(out, key, seen, output, notes, &spec);
}

pub fn apply(args: ApplyArgs, choice: ColorChoice) -> ExitCode {
    let err_color = choice.color(io::stderr().is_terminal());
    let target = load::spec_path(args.target.as_deref());
    let saved = if PlanFile::sniff(&head(&target)) {
        match PlanFile::load(&target) {
            Ok(f) => Some(f),
            Err(e) => return fail(&format!("`{}`: {e}", target.display()), None),
        }
    } else {
        // Not a plan file; reading it as a spec reports any problem.
        None
    };
    // A saved plan was reviewed when it was made (as `terraform apply
    // PLANFILE`): it is shown again but not asked about.
    let ask = !args.auto_approve && saved.is_none();
    // What the cache records once the apply is through (not for a saved
    // plan, nor for zones pushed to servers, which a plan must ask again).
    let mut to_remember = None;
    let (plan, out, mut live) = match saved {
        Some(file) => {
            let out = args.out.clone().unwrap_or_else(|| PathBuf::from(&file.out));
            match saved_plan(file, &out, err_color, &args.wait) {
                Ok((p, live)) => (p, out, live),
                Err(code) => return code,
            }
        }
        None => {
            let out = args.out.clone().unwrap_or_else(|| PathBuf::from("out"));
            let key = (!args.no_cache)
                .then(|| cache::Key::new(&target, &out))
                .flatten();
            let seen = key.as_ref().map(|_| Arc::new(Seen::new()));
            let loaded = load::load_seen(&target, MissingKey::Error, seen);
            let (output, _, loaded) =
                match compile(loaded, &out, Format::Text, err_color, Prefetched::default) {
                    Ok(o) => o,
                    Err(code) => return code,
                };
            let plan = match make_plan(&output, &out, Prefetched::default(), true) {
                Ok(p) => p,
                Err(code) => return code,
            };
            let live = match live_plan(&loaded, &output, &plan, &out, &args.wait) {
                Ok(l) => l,
                Err(code) => return code,
            };
            if let Some(key) = key.filter(|_| live.is_none()) {
                to_remember = Some((key, loaded, output));
            } else {
                loaded.release();
            }
            (plan, out, live)
        }
    };
    let pushes = live.as_ref().map_or(0, push::LivePlan::changes);
    if plan.is_empty() && pushes == 0 {
        // Nothing to write; an out-of-date managed list is still put right.
        if plan.managed_list_stale()
            && let Err(e) = apply::apply(&plan, &out, &mut fault_hook())
        {
            return fail(&e.to_string(), e.help());
        }
        if let Some((key, loaded, output)) = to_remember {
            remember(&out, &key, &loaded, &output);
            loaded.release();
        }
        println!("No changes.");
        return ExitCode::SUCCESS;
    }
    args.view.print(
        &plan,
        live.as_ref(),
        choice.color(io::stdout().is_terminal()),
    );
    if ask {
        if !io::stdin().is_terminal() {
            return fail(
                "cannot ask before applying: stdin is not a terminal",
                Some(
                    "review the plan, then run again with `--auto-approve`, or save it with \
                     `mailc plan --save PLANFILE` and apply that file",
                ),
            );
        }
        eprint!(
            "\nApply these changes to {}?\n  Only `yes` will be accepted.\n  Enter a value: ",
            out.display()
        );
        let _ = io::stderr().flush();
        if !approved(io::stdin().lock()) {
            eprintln!("Apply cancelled; nothing was written.");
            return ExitCode::FAILURE;
        }
    }
    // Zones first: a push that fails leaves every file as it was.
    let pushed = match live.as_mut() {
        Some(lp) => match push::push_all(lp, args.allow_large_change) {
            Ok(n) => n,
            Err(code) => return code,
        },
        None => 0,
    };
    if plan.is_empty() && !plan.managed_list_stale() {
        println!("Apply complete: {pushed} zone{} pushed.", plural(pushed));
        return ExitCode::SUCCESS;
    }
    match apply::apply(&plan, &out, &mut fault_hook()) {
        Ok(s) => {
            if let Some((key, loaded, output)) = to_remember {
                remember(&out, &key, &loaded, &output);
                loaded.release();
            }
            let zones = if live.is_some() {
                format!(", {pushed} zone{} pushed", plural(pushed))
            } else {
                String::new()
            };
            println!(
                "Apply complete: {} added, {} changed, {} deleted{zones}.",
                s.add, s.change, s.delete
            );
            ExitCode::SUCCESS
        }
        Err(e @ apply::ApplyError::Drift { .. }) => fail(
            &e.to_string(),
            Some("someone changed the folder while the plan was shown; run `mailc apply` again"),
        ),
        Err(e) => fail(&e.to_string(), e.help()),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The pushes of the zones the spec sends to DNS servers (`None` when it
/// sends none), read against their servers.
/// Then refuses a DKIM key that would start signing before DNS serves its
/// record, unless `--no-dns-wait`.
fn live_plan(
    loaded: &load::Loaded,
    output: &Output,
    plan: &Plan,
    out: &Path,
    wait: &WaitArgs,
) -> Result<Option<push::LivePlan>, ExitCode> {
    let Some(model) = &loaded.model else {
        return Ok(None);
    };
    push::signers_kept(model, output, plan)?;
    let live = push::plan(model, &loaded.dir, output, plan)?;
    if !wait.no_dns_wait {
        push::dns_wait(
            model,
            &loaded.dir,
            out,
            output,
            plan,
            live.as_ref(),
            &wait.resolver,
        )?;
    }
    Ok(live)
}

/// `plan --format json` with the pushes under `dns`.
fn with_dns(json: String, lp: &push::LivePlan) -> String {
    match serde_json::from_str::<serde_json::Value>(&json) {
        Ok(serde_json::Value::Object(mut doc)) => {
            let changed = doc.get("changed").and_then(serde_json::Value::as_bool) == Some(true);
            doc.insert("changed".into(), (changed || lp.changes() > 0).into());
            doc.insert("dns".into(), push::json(lp));
            serde_json::to_string_pretty(&doc).unwrap_or(json) + "\n"
        }
        _ => json,
    }
}

/// Only `yes` proceeds (as Terraform): anything else, or nothing, declines.
fn approved(mut input: impl BufRead) -> bool {
    let mut line = String::new();
    input.read_line(&mut line).is_ok() && line.trim() == "yes"
}

/// Counts apply steps and, when [`FAULT_ENV`] says so, exits at once
/// without running destructors, as if killed.
fn fault_hook() -> impl FnMut(Step<'_>) -> ControlFlow<()> {
    let limit: Option<usize> = std::env::var(FAULT_ENV).ok().and_then(|v| v.parse().ok());
    let mut count = 0usize;
    move |_step| {
        count += 1;
        if limit.is_some_and(|n| count >= n) {
            std::process::exit(137);
        }
        ControlFlow::Continue(())
    }
}

/// The first bytes of a file (none when it cannot be read): enough to tell
/// a plan file from a spec.
fn head(path: &Path) -> Vec<u8> {
    use std::io::Read as _;
    let mut buf = Vec::new();
    if let Ok(f) = std::fs::File::open(path)
        && f.metadata().is_ok_and(|m| m.is_file())
    {
        let _ = f.take(256).read_to_end(&mut buf);
    }
    buf
}

/// Model (missing DKIM keys are errors) → every backend's output. Problems are printed as `validate`
/// prints them. `ahead` gives the files of `--out` read meanwhile (asked
/// for once the spec is valid), which the backends then need not read
/// again; they are handed back with the output.
fn compile(
    loaded: load::Loaded,
    out: &Path,
    format: Format,
    color: bool,
    ahead: impl FnOnce() -> Prefetched,
) -> Result<(Output, Prefetched, load::Loaded), ExitCode> {
    let errors = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let Some(model) = loaded.model.as_ref().filter(|_| errors == 0) else {
        match format {
            Format::Json => print!("{}", render::json(&loaded.diagnostics, &loaded.source)),
            Format::Text => eprint!(
                "{}",
                render::graphical(&loaded.diagnostics, &loaded.source, color)
            ),
        }
        let warnings = loaded.diagnostics.len() - errors;
        // Every problem is shown above. Keys not made yet are no fault of
        // the spec (`validate` calls it valid): the fix is to make them.
        let only_keys = errors > 0
            && loaded
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .all(|d| d.code == Code::DkimKeyMissing);
        let summary = render::summary(errors.max(1), warnings);
        return Err(if only_keys {
            fail(
                &format!(
                    "{} names DKIM key files that do not exist yet ({summary}); nothing was compiled",
                    loaded.source.name
                ),
                Some("run `mailc dkim keygen` to create them, then run this again"),
            )
        } else {
            fail(
                &format!(
                    "{} is invalid ({summary}); nothing was compiled",
                    loaded.source.name
                ),
                None,
            )
        });
    };
    if !loaded.diagnostics.is_empty() {
        eprint!(
            "{}",
            render::graphical(&loaded.diagnostics, &loaded.source, color)
        );
    }
    let ahead = ahead();
    let ctx = DiskContext::new(out, &loaded.dir)
        .with_ahead(&ahead)
        .with_seen(loaded.seen.as_deref());
    let output = backend::compile(model, &ctx)
        .map_err(|diags| backend_failure(diags, &loaded.source, format, color));
    drop(ctx);
    let output = match output {
        Ok(o) => o,
        Err(code) => {
            loaded.release();
            return Err(code);
        }
    };
    Ok((output, ahead, loaded))
}

/// Problems the backends found (a key file that cannot be read), shown at
/// the spec entries behind them.
fn backend_failure(
    mut diags: Vec<Diagnostic>,
    source: &Source,
    format: Format,
    color: bool,
) -> ExitCode {
    load::locate(source, &mut diags);
    match format {
        Format::Json => print!("{}", render::json(&diags, source)),
        Format::Text => eprint!("{}", render::graphical(&diags, source, color)),
    }
    fail("the spec could not be compiled; nothing was written", None)
}

/// The compiled output against `--out`.
/// The compiled output against `--out`; `to_keep` when the plan will be
/// saved or applied (it then records what it found, by fingerprint).
fn make_plan(
    output: &Output,
    out: &Path,
    ahead: Prefetched,
    to_keep: bool,
) -> Result<Plan, ExitCode> {
    let plan = if to_keep {
        let current = Current::scan_with(out, output.files.keys().map(String::as_str), ahead)
            .map_err(|e| fail(&e.to_string(), e.help()))?;
        Plan::new(output, current)
    } else {
        // Shown only: unchanged files are compared as they are read, not kept.
        let current = Current::scan_against(out, output, ahead)
            .map_err(|e| fail(&e.to_string(), e.help()))?;
        Plan::preview(output, current)
    };
    plan.map_err(|e| fail(&format!("internal error: {e}"), None))
}

/// The help line for a problem with `--out`'s plan key.
fn seal_help(e: &SealError) -> Option<&'static str> {
    match e {
        SealError::Tree(t) => t.help(),
        SealError::Random(_) => None,
    }
}

/// A saved plan checked and made current: its seal verified under the plan
/// key of `out`, its spec checked by fingerprint before it is read as a
/// spec, `out` checked for drift, and the spec compiled again — the plan
/// returned is the one just compiled, refused unless it is the saved one.
fn saved_plan(
    mut file: PlanFile,
    out: &Path,
    color: bool,
    wait: &WaitArgs,
) -> Result<(Plan, Option<push::LivePlan>), ExitCode> {
    const AGAIN: &str = "run `mailc plan --save PLANFILE` again and review the new plan";
    let refuse = |e: PlanFileError| fail(&e.to_string(), Some(AGAIN));
    let key = match PlanKey::load(out) {
        Ok(Some(k)) => k,
        Ok(None) => return Err(refuse(PlanFileError::NoKey(out.to_path_buf()))),
        Err(e) => return Err(fail(&e.to_string(), seal_help(&e))),
    };
    file.verify(&key, out).map_err(refuse)?;
    let spec = PathBuf::from(&file.spec);
    // Whatever fails here is reported alike: no word of the file's content
    // or of whether it exists.
    let bytes = match limits::read(&spec, limits::SPEC_BYTES) {
        Ok(b) if file.check_spec(&b).is_ok() => b,
        _ => return Err(refuse(PlanFileError::SpecChanged(file.spec.clone()))),
    };
    let loaded = load::load_bytes(&spec, bytes, MissingKey::Error);
    let (output, _, loaded) = compile(loaded, out, Format::Text, color, Prefetched::default)?;
    let current =
        Current::scan(out, file.expected_paths()).map_err(|e| fail(&e.to_string(), e.help()))?;
    let drift = file.drift(&current);
    if !drift.is_empty() {
        let list: Vec<String> = drift.iter().map(ToString::to_string).collect();
        return Err(fail(
            &format!(
                "the saved plan is stale: {} changed since it was made: {}",
                out.display(),
                list.join(", ")
            ),
            Some(AGAIN),
        ));
    }
    let now =
        Plan::new(&output, current).map_err(|e| fail(&format!("internal error: {e}"), None))?;
    let plan = file.confirm(now).map_err(refuse)?;
    // The zones are read from their servers again: each must be as it was
    // when the plan was made, and the push the saved one.
    let live = live_plan(&loaded, &output, &plan, out, wait)?;
    loaded.release();
    match &live {
        Some(lp) => push::confirm(lp, &file.dns).map_err(|why| fail(&why, Some(AGAIN)))?,
        None if !file.dns.is_empty() => {
            return Err(fail(
                "the spec pushes no zone now, but the saved plan does",
                Some(AGAIN),
            ));
        }
        None => {}
    }
    Ok((plan, live))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_approves() {
        assert!(approved(&b"yes\n"[..]));
        assert!(approved(&b"  yes  \r\n"[..]));
        for no in ["y\n", "YES\n", "no\n", "\n", "", "yes please\n"] {
            assert!(!approved(no.as_bytes()), "{no:?}");
        }
    }
}
