//! The live-DNS half of `mailc plan` and `mailc apply` (docs/cli.md,
//! "Pushing zones"): read every pushed zone from its server, show what the
//! push changes beside the file plan, save it, refuse what must not be
//! pushed, push, and read back. The work is done by [`crate::live::push`];
//! this is the glue that reads secret files, prints and picks exit codes.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anstyle::{AnsiColor, Style};

use crate::live::push::{self, Connection, ZoneError, ZonePush};
use crate::live::secret;
use crate::model::Model;
use crate::output::Output;
use crate::plan::Plan;
use crate::plan::planfile::SavedZone;
use crate::plan::render::Paint;

/// How long to wait for a DNS server or API.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

const ADD: Style = AnsiColor::Green.on_default();
const DEL: Style = AnsiColor::Red.on_default();
const CHANGE: Style = AnsiColor::Yellow.on_default();
const BOLD: Style = Style::new().bold();

/// The pushes of one run: each pushed zone as read and what changes there.
pub(crate) struct LivePlan {
    conns: BTreeMap<String, Connection>,
    pub zones: Vec<ZonePush>,
}

impl LivePlan {
    pub(crate) fn changes(&self) -> usize {
        self.zones.iter().filter(|z| !z.diff.is_empty()).count()
    }

    fn shown(&self, z: &ZonePush) -> &str {
        self.conns.get(&z.target).map_or("", |c| c.shown.as_str())
    }
}

/// A secret file named by the spec, relative to its folder: a regular file
/// (a symbolic link is refused), readable by its owner only, small. The
/// error says what is wrong with the file, never what is in it.
pub(crate) fn read_secret(dir: &Path, path: &str) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let full = dir.join(path);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32)
        .open(&full)
        .map_err(|e| match e.raw_os_error() {
            Some(e) if e == rustix::io::Errno::LOOP.raw_os_error() => {
                "it is a symbolic link".to_string()
            }
            _ => e.to_string(),
        })?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "others may read it (mode {:04o}); make it readable by its owner only: `chmod 600 {}`",
            meta.mode() & 0o7777,
            full.display()
        ));
    }
    let mut bytes = Vec::new();
    file.take(secret::MAX_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() > secret::MAX_LEN {
        return Err(format!("it is larger than {} bytes", secret::MAX_LEN));
    }
    Ok(bytes)
}

fn zone_errors(errors: &[ZoneError]) -> ExitCode {
    let mut err = io::stderr().lock();
    for e in errors {
        let _ = writeln!(err, "error: {e}");
        if let Some(h) = &e.help {
            let _ = writeln!(err, "  help: {h}");
        }
    }
    ExitCode::FAILURE
}

/// The previous text of a domain's zone file in `--out`: the old bytes of
/// a changed file, the compiled bytes of an unchanged one, none for a new
/// one.
fn previous<'a>(domain: &str, output: &'a Output, plan: &'a Plan) -> Option<&'a str> {
    let path = crate::backend::dns::path(domain);
    match plan.changes.iter().find(|c| c.path == path) {
        Some(c) => c
            .old
            .as_ref()
            .and_then(|o| std::str::from_utf8(&o.bytes).ok()),
        None => output
            .files
            .get(&path)
            .and_then(|f| std::str::from_utf8(&f.bytes).ok()),
    }
}

/// Reads every pushed zone from its server and computes its push. `None`
/// when the spec pushes no zone. Every zone that cannot be read is
/// reported, then the run fails.
pub(crate) fn plan(
    model: &Model,
    spec_dir: &Path,
    output: &Output,
    files: &Plan,
) -> Result<Option<LivePlan>, ExitCode> {
    let pushed: Vec<&crate::model::Domain> = model
        .domains
        .values()
        .filter(|d| d.push.is_some())
        .collect();
    if pushed.is_empty() {
        return Ok(None);
    }
    let conns = push::connect(model, &|p| read_secret(spec_dir, p), TIMEOUT).map_err(|errors| {
        let mut err = io::stderr().lock();
        for e in &errors {
            let _ = writeln!(err, "error: {e}");
        }
        let _ = writeln!(
            err,
            "  help: a secret file holds the key alone, readable by its owner only (docs/spec.md, \"DNS targets\")"
        );
        ExitCode::FAILURE
    })?;
    let read = push::each(&pushed, |d| {
        let target = d.push.as_ref().map(|p| p.target.as_str()).unwrap_or("");
        let conn = conns.get(target)?;
        Some(push::read(conn, &d.name))
    });
    let mut errors = Vec::new();
    let mut zones = Vec::new();
    for (d, r) in pushed.iter().zip(read) {
        match r {
            Some(Ok(live)) => {
                let path = crate::backend::dns::path(&d.name);
                let built = output
                    .files
                    .get(&path)
                    .and_then(|f| std::str::from_utf8(&f.bytes).ok())
                    .unwrap_or("");
                match push::plan_zone(model, d, built, previous(&d.name, output, files), live) {
                    Some(z) => zones.push(z),
                    None => {
                        return Err(super::fail(
                            &format!(
                                "internal error: the zone file of `{}` does not read back",
                                d.name
                            ),
                            None,
                        ));
                    }
                }
            }
            Some(Err(e)) => errors.push(e),
            None => {}
        }
    }
    if !errors.is_empty() {
        return Err(zone_errors(&errors));
    }
    Ok(Some(LivePlan { conns, zones }))
}

/// The push blocks and their summary line, after the file plan.
pub(crate) fn text(lp: &LivePlan, mut w: impl Write, color: bool) -> io::Result<()> {
    let paint = |style: Style, s: &str| Paint(color, style, s).to_string();
    let mut added = 0;
    let mut removed = 0;
    for z in lp.zones.iter().filter(|z| !z.diff.is_empty()) {
        writeln!(w)?;
        writeln!(
            w,
            "{}{}",
            paint(CHANGE.bold(), "push  "),
            paint(
                BOLD,
                &format!(
                    " {} → {} ({}, serial {})",
                    z.domain,
                    z.target,
                    lp.shown(z),
                    z.stamp.serial
                )
            )
        )?;
        for (sign, line) in z.diff.lines() {
            let style = match sign {
                '-' => DEL,
                '+' => ADD,
                _ => CHANGE,
            };
            writeln!(w, "{}", paint(style, &format!("    {sign} {line}")))?;
        }
        if z.diff.too_large() {
            writeln!(
                w,
                "  {} this removes or changes {} of the {} records mailc owns in the zone (over {} %); `mailc apply` refuses it without `--allow-large-change`",
                paint(CHANGE.bold(), "warning:"),
                z.diff.changed(),
                z.diff.owned_before,
                crate::live::diff::LARGE_CHANGE_PERCENT
            )?;
        }
        added += z.diff.added();
        removed += z.diff.removed();
    }
    let changed = lp.changes();
    let same = lp.zones.len() - changed;
    writeln!(w)?;
    let line = if changed == 0 {
        format!(
            "Push: no changes in {} zone{}.",
            same,
            if same == 1 { "" } else { "s" }
        )
    } else {
        format!(
            "Push: {changed} zone{} to change ({added} record{} to add, {removed} to remove), {same} unchanged.",
            if changed == 1 { "" } else { "s" },
            if added == 1 { "" } else { "s" },
        )
    };
    writeln!(w, "{}", paint(BOLD, &line))?;
    w.flush()
}

/// The pushes as JSON, for `plan --format json`'s `dns` key.
pub(crate) fn json(lp: &LivePlan) -> serde_json::Value {
    let zones: Vec<serde_json::Value> = lp
        .zones
        .iter()
        .map(|z| {
            let lines = z.diff.lines();
            let pick = |s: char| -> Vec<&str> {
                lines
                    .iter()
                    .filter(|(c, _)| *c == s)
                    .map(|(_, l)| l.as_str())
                    .collect()
            };
            serde_json::json!({
                "zone": z.domain,
                "target": z.target,
                "server": lp.shown(z),
                "owns": match z.owns { crate::vocab::Owns::Zone => "zone", crate::vocab::Owns::Mail => "mail" },
                "serial": z.stamp.serial,
                "changed": !z.diff.is_empty(),
                "removed": pick('-'),
                "added": pick('+'),
                "ttl_changed": pick('~'),
                "large_change": z.diff.too_large(),
            })
        })
        .collect();
    serde_json::Value::Array(zones)
}

/// What a saved plan records of the pushes.
pub(crate) fn saved(lp: &LivePlan) -> Vec<SavedZone> {
    lp.zones
        .iter()
        .map(|z| SavedZone {
            zone: z.domain.clone(),
            target: z.target.clone(),
            serial: z.stamp.serial,
            fingerprint: z.stamp.fingerprint,
            changes: z
                .diff
                .lines()
                .into_iter()
                .map(|(s, l)| format!("{s} {l}"))
                .collect(),
        })
        .collect()
}

/// Checks that the pushes computed now are the saved ones: each zone in
/// the state it was read in then, with the same changes.
pub(crate) fn confirm(lp: &LivePlan, saved: &[SavedZone]) -> Result<(), String> {
    let now = self::saved(lp);
    for s in saved {
        let Some(n) = now.iter().find(|n| n.zone == s.zone) else {
            return Err(format!(
                "the zone `{}` is no longer pushed by the spec",
                s.zone
            ));
        };
        if n.target != s.target {
            return Err(format!(
                "the zone `{}` is pushed to `{}` now, to `{}` when the plan was made",
                s.zone, n.target, s.target
            ));
        }
        if n.serial != s.serial {
            return Err(format!(
                "the zone `{}` changed on its server since the plan was made: its SOA serial is {} now, {} then",
                s.zone, n.serial, s.serial
            ));
        }
        if n.fingerprint != s.fingerprint {
            return Err(format!(
                "the zone `{}` changed on its server since the plan was made: its records differ",
                s.zone
            ));
        }
        if n.changes != s.changes {
            return Err(format!(
                "the push of the zone `{}` differs from the saved plan",
                s.zone
            ));
        }
    }
    if let Some(n) = now.iter().find(|n| !saved.iter().any(|s| s.zone == n.zone)) {
        return Err(format!(
            "the zone `{}` is pushed now, but not in the saved plan",
            n.zone
        ));
    }
    Ok(())
}

/// Pushes every changed zone, then reads each back. Refuses first, before
/// anything is sent, a push that removes or changes too large a share of a
/// zone unless `allow_large`. Stops at the first zone that fails, saying
/// which zones were pushed. The number of zones pushed.
pub(crate) fn push_all(lp: &mut LivePlan, allow_large: bool) -> Result<usize, ExitCode> {
    if !allow_large {
        let large: Vec<&ZonePush> = lp.zones.iter().filter(|z| z.diff.too_large()).collect();
        if !large.is_empty() {
            let mut err = io::stderr().lock();
            for z in &large {
                let _ = writeln!(
                    err,
                    "error: the push of the zone `{}` removes or changes {} of the {} records mailc owns there (over {} %); nothing was pushed or written",
                    z.domain,
                    z.diff.changed(),
                    z.diff.owned_before,
                    crate::live::diff::LARGE_CHANGE_PERCENT
                );
            }
            let _ = writeln!(
                err,
                "  help: review the plan; if the change is meant, run again with `--allow-large-change`"
            );
            return Err(ExitCode::FAILURE);
        }
    }
    let mut done: Vec<&str> = Vec::new();
    for z in lp.zones.iter().filter(|z| !z.diff.is_empty()) {
        let Some(conn) = lp.conns.get(&z.target) else {
            continue;
        };
        let result = push::push(conn, z).and_then(|()| push::verify(conn, z));
        if let Err(e) = result {
            let mut err = io::stderr().lock();
            let _ = writeln!(err, "error: {e}");
            if let Some(h) = &e.help {
                let _ = writeln!(err, "  help: {h}");
            }
            let _ = writeln!(
                err,
                "  note: {}; no file was written",
                if done.is_empty() {
                    "no zone was pushed".to_string()
                } else {
                    format!("pushed before this one: {}", done.join(", "))
                }
            );
            return Err(ExitCode::FAILURE);
        }
        done.push(&z.domain);
    }
    Ok(done.len())
}

/// What the output in `--out` held before this apply: the keys its hosts
/// signed with, and its paths.
struct Before<'a> {
    signed: std::collections::BTreeSet<crate::live::signing::KeyName>,
    paths: std::collections::BTreeSet<&'a str>,
}

impl<'a> Before<'a> {
    fn of(output: &'a Output, files: &'a Plan) -> Self {
        use crate::live::signing;
        let changed: BTreeMap<&str, &crate::plan::Change> =
            files.changes.iter().map(|c| (c.path.as_str(), c)).collect();
        let unchanged = output
            .files
            .iter()
            .filter(|(p, _)| !changed.contains_key(p.as_str()))
            .map(|(p, f)| (p.as_str(), f.bytes.as_slice()));
        let old = files.changes.iter().filter_map(|c| {
            c.old
                .as_ref()
                .map(|o| (c.path.as_str(), o.bytes.as_slice()))
        });
        let paths = unchanged
            .clone()
            .chain(old.clone())
            .map(|(p, _)| p)
            .collect();
        let mut signed = signing::signed_before(unchanged.chain(old));
        // A new key under the same selector starts signing as well.
        for c in &files.changes {
            if c.old.is_some()
                && c.new.is_some()
                && let Some(key) = signing::key_copy(&c.path)
            {
                signed.remove(&key);
            }
        }
        Before { signed, paths }
    }
}

/// Refuses an apply after which a domain our hosts signed mail of has no
/// signing key left while its spec still lists DKIM keys (its last signer
/// removed, or made `published`): its mail would go out unsigned.
pub(crate) fn signers_kept(model: &Model, output: &Output, files: &Plan) -> Result<(), ExitCode> {
    let before = Before::of(output, files);
    let now = crate::live::signing::signing_now(model);
    let mut lost = Vec::new();
    for (name, d) in &model.domains {
        let signed = before.signed.iter().any(|(dom, _)| dom == name);
        let signs = now.iter().any(|(dom, _)| dom == name);
        let local = d.roles.values().any(|r| *r == crate::model::Role::Local);
        if signed && !signs && local && !d.dkim.is_empty() {
            lost.push(name.as_str());
        }
    }
    if lost.is_empty() {
        return Ok(());
    }
    let mut err = io::stderr().lock();
    for domain in lost {
        let _ = writeln!(
            err,
            "error: no DKIM key of `{domain}` would sign any more (its last signing key is gone or no longer `signing`); nothing was pushed or written"
        );
    }
    let _ = writeln!(
        err,
        "  help: keep a key `signing` until its successor signs (`mailc dkim rotate`); a domain that should stop signing has its `dkim` list removed"
    );
    Err(ExitCode::FAILURE)
}

/// Refuses a DKIM key that starts signing with this apply while DNS does
/// not serve its record yet (docs/cli.md, "DKIM keys and DNS"): a pushed
/// zone as its server served it before the push, any other as `resolvers`
/// (or the system's) answer.
pub(crate) fn dns_wait(
    model: &Model,
    spec_dir: &Path,
    out: &Path,
    output: &Output,
    files: &Plan,
    live: Option<&LivePlan>,
    resolvers: &[std::net::SocketAddr],
) -> Result<(), ExitCode> {
    use crate::live::signing;
    let Before {
        signed: before,
        paths: before_paths,
    } = Before::of(output, files);
    // A zone not pushed is checked once something of its domain was
    // deployed: on a first deploy the zone file and the signers go out
    // together, and mailc cannot order them.
    let deployed = |domain: &str| {
        before.iter().any(|(d, _)| d == domain)
            || before_paths.contains(crate::backend::dns::path(domain).as_str())
    };
    let starting = signing::starting(model, &before);
    if starting.is_empty() {
        return Ok(());
    }
    // The record each key should be served with.
    let ctx = super::context::DiskContext::new(out, spec_dir);
    let wanted =
        |key: &signing::KeyName| -> Option<(hickory_proto::rr::Name, hickory_proto::rr::RData)> {
            let d = model.domains.get(&key.0)?;
            let name = signing::record_name(key)?;
            crate::backend::dns::domain_records(model, d, Some(&ctx))
                .into_iter()
                .find(|r| r.owner == name && matches!(r.data, hickory_proto::rr::RData::TXT(_)))
                .map(|r| (name, r.data))
        };
    let mut missing: Vec<(signing::KeyName, String)> = Vec::new();
    let mut ask: Vec<(
        signing::KeyName,
        hickory_proto::rr::Name,
        hickory_proto::rr::RData,
    )> = Vec::new();
    for key in starting {
        let Some((name, want)) = wanted(&key) else {
            continue;
        };
        let pushed = live.and_then(|lp| lp.zones.iter().find(|z| z.domain == key.0));
        match pushed {
            Some(z) => {
                let served = served_at(&z.served, &name);
                if !served.iter().any(|d| signing::same_key(d, &want)) {
                    let why = if z.diff.added() > 0 {
                        format!(
                            "`{}` does not serve its record yet (this push publishes it)",
                            z.target
                        )
                    } else {
                        format!("`{}` does not serve its record", z.target)
                    };
                    missing.push((key, why));
                }
            }
            None if deployed(&key.0) => ask.push((key, name, want)),
            None => {}
        }
    }
    if !ask.is_empty() {
        let resolvers = if resolvers.is_empty() {
            match crate::live::resolve::Resolvers::system(None) {
                Ok(r) => r,
                Err(e) => {
                    return Err(super::fail(
                        &format!(
                            "cannot check that DNS serves the DKIM keys that start signing: {e}"
                        ),
                        Some(
                            "name a DNS server with `--resolver IP:PORT`, or skip the check with `--no-dns-wait`",
                        ),
                    ));
                }
            }
        } else {
            crate::live::resolve::Resolvers {
                servers: resolvers.to_vec(),
                timeout: Duration::from_secs(5),
            }
        };
        let questions = ask
            .iter()
            .map(|(_, n, _)| (n.clone(), hickory_proto::rr::RecordType::TXT))
            .collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| super::fail(&format!("cannot start the DNS client: {e}"), None))?;
        let (answers, _) = runtime.block_on(crate::live::resolve::ask(&resolvers, questions));
        let shown: Vec<String> = resolvers.servers.iter().map(|s| s.to_string()).collect();
        for (key, name, want) in ask {
            let served = match answers.get(&name, hickory_proto::rr::RecordType::TXT) {
                Some(crate::live::resolve::Answer::Records(r)) => r.clone(),
                _ => Vec::new(),
            };
            if !served.iter().any(|d| signing::same_key(d, &want)) {
                missing.push((
                    key,
                    format!("DNS ({}) does not serve its record yet", shown.join(", ")),
                ));
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let mut err = io::stderr().lock();
    for ((domain, selector), why) in &missing {
        let _ = writeln!(
            err,
            "error: the DKIM key `{selector}` of `{domain}` would start signing, but {why}; nothing was pushed or written"
        );
    }
    let _ = writeln!(
        err,
        "  help: give the key `state: published` and apply, wait until DNS serves its record (`mailc check`), then make it `signing`; `--no-dns-wait` skips this check"
    );
    Err(ExitCode::FAILURE)
}

/// The records a read zone holds at `name`, of every type.
fn served_at(
    records: &crate::live::records::Records,
    name: &hickory_proto::rr::Name,
) -> Vec<hickory_proto::rr::RData> {
    let key = crate::live::records::Key::new(name, hickory_proto::rr::RecordType::TXT);
    records
        .sets
        .get(&key)
        .map(|s| s.data.clone())
        .unwrap_or_default()
}
