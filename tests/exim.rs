//! The `exim-dovecot` stack against real Exim 4.96 (Debian's builds,
//! unpacked by `.ci/install-oracles` into `/opt/exim4/{light,heavy}`,
//! `docs/testing.md`) and Dovecot 2.3:
//!
//! - static: for every example and test case with an `exim-dovecot` host,
//!   the production and the test-root `exim.conf` pass `exim -bV` in both
//!   builds, and `doveconf -n` accepts the Dovecot side;
//! - pinned: the `exim/` trees match `tests/expected/<case>/` and compile
//!   to the same bytes twice;
//! - differential: for every row of `tests/routes/*.tsv` on an Exim host,
//!   Exim's own verdict agrees with `mailc route`: `-bt` names the same
//!   mailboxes (the LMTP transport), forwards, next hop or failure, and an
//!   `-bh` session from an outside client (192.0.2.1) gets the same RCPT
//!   reply and no relaying;
//! - end to end (`tests/cases/exim-stack`): Exim daemons (the heavy build:
//!   it has the `dovecot` authenticator) and Dovecot run on 127.0.0.1; mail
//!   to mailboxes, aliases, a catch-all, through the backup, a bounce and
//!   submission with TLS and AUTH lands where `mailc route` says, read back
//!   over IMAP; what a login sends out carries a DKIM signature that
//!   verifies (dkimpy), what passes through from outside does not; a
//!   disabled mailbox receives (read by doveadm) but logs in neither over
//!   IMAP nor for submission; a domain whose mail is off gets `550 5.7.1`;
//! - SRS: forwarded mail leaves with an `SRS0=` envelope sender (Exim's
//!   `dnslookup` pointed at a local sink: nothing outside resolves here),
//!   and bounces to such addresses are decoded, forgeries refused.
//!
//! - sending limits (`tests/cases/limits`): Exim's ratelimit ACLs answer
//!   `450 4.7.1` at a mailbox's limit while its domain still sends, then
//!   at the domain's, and the counts hold across a restart of the daemon.
//!
//! The programs are required: a missing one fails with a pointer to
//! `.ci/install-oracles`, never a skip. Ports 27000–27999 on 127.0.0.1;
//! every process is stopped by its PID.

mod mail_stack;
#[path = "support/limits.rs"]
mod send_limits;
#[path = "support/sink.rs"]
mod sink;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mail_stack::client::{Smtp, Tls, refused_logins, submission_rules, submit};
use mail_stack::instance::{chown, listening, make_certificate, mkdir, read, wait_for};
use mail_stack::scenario::{self, password};
use mail_stack::{golden, mailc_test_live, model_of, pop3, require_root, root, run, show, tool};
use mailc::backend::install::{TestRoot, TestRootContext};
use mailc::backend::{self, Context};
use mailc::model::Model;
use mailc::model::route::{Outcome, Route, route};
use mailc::vocab::Stack;

const LIGHT: &str = "/opt/exim4/light/usr/sbin/exim4";
const HEAVY: &str = "/opt/exim4/heavy/usr/sbin/exim4";

/// An Exim build, or a failure saying how to install it.
fn exim(path: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.is_file(),
        "Exim is not installed at {path}; these tests run mailc's Exim configs in the real \
         program. Run `.ci/install-oracles` (it unpacks exim4-daemon-light and -heavy into \
         /opt/exim4 and adds the Debian-exim user)"
    );
    p
}

/// Every folder with a `mailc.yaml` that has an `exim-dovecot` host.
fn exim_specs() -> Vec<(String, PathBuf, Model)> {
    mail_stack::specs_where(|m| m.hosts.values().any(|h| h.stack == Stack::EximDovecot))
}

/// The pinned test keys of `tests/keys/<case>/` (none elsewhere).
struct Keys(PathBuf);

impl Context for Keys {
    fn previous(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
    fn private_key(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.0.join(path)).ok()
    }
}

fn keys(name: &str) -> Keys {
    Keys(root().join("tests/keys").join(name))
}

/// Compiles the Exim and Dovecot files of `model` with `ctx` and writes
/// them under `out` (secret files 0600).
fn write_exim(model: &Model, ctx: &dyn Context, out: &Path) {
    let mut output = mailc::output::Output::default();
    let mut diags = Vec::new();
    backend::exim::compile(model, ctx, &mut output, &mut diags);
    backend::dovecot::compile(model, ctx, &mut output, &mut diags);
    for (rel, file) in &output.files {
        let path = out.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &file.bytes).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(file.mode())).unwrap();
    }
}

/// Compiles `model` for a test root at `dir` whose daemons re-execute the
/// heavy build, and writes the files there.
fn write_root(name: &str, model: &Model, dir: &Path, first_port: u16) -> TestRoot {
    let root = TestRoot::new(dir.to_str().unwrap(), model, first_port).with_exim_path(HEAVY);
    let inner = keys(name);
    write_exim(
        model,
        &TestRootContext {
            inner: &inner,
            root: &root,
        },
        dir,
    );
    root
}

/// `exim -C CONF -bV`: success, the config named, and no complaint.
fn exim_bv(binary: &Path, conf: &Path) -> Option<String> {
    let out = run(binary, &["-C", conf.to_str().unwrap(), "-bV"]);
    let all = show(&out);
    let ok = out.status.success()
        && String::from_utf8_lossy(&out.stdout)
            .contains(&format!("Configuration file is {}", conf.display()))
        && !all.to_lowercase().contains("warning")
        && !all.to_lowercase().contains("error");
    (!ok).then(|| format!("{} -C {} -bV: {all}", binary.display(), conf.display()))
}

#[test]
fn configs_pass_exim_and_dovecot_checks() {
    let (light, heavy) = (exim(LIGHT), exim(HEAVY));
    let specs = exim_specs();
    assert!(
        specs.len() >= 2,
        "only {} specs have an exim-dovecot host",
        specs.len()
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, _, model) in &specs {
        let prod = tempfile::tempdir().unwrap();
        write_exim(model, &keys(name), prod.path());
        let test = tempfile::tempdir().unwrap();
        write_root(name, model, test.path(), 27000);
        for host in model.hosts.values() {
            if host.stack != Stack::EximDovecot {
                continue;
            }
            for dir in [prod.path(), test.path()] {
                let conf = dir.join("exim").join(&host.key).join("exim.conf");
                // Exact keys only: no wildcard, partial or regex lookups.
                let text = std::fs::read_to_string(&conf).unwrap();
                for loose in ["lsearch*", "wildlsearch", "partial", "regex", "match{"] {
                    if text.contains(loose) {
                        failures.push(format!("{name}: {} uses `{loose}`", conf.display()));
                    }
                }
                for binary in [&light, &heavy] {
                    failures.extend(exim_bv(binary, &conf).map(|f| format!("{name}: {f}")));
                    checked += 1;
                }
                let dovecot = dir.join("dovecot").join(&host.key).join("dovecot.conf");
                let out = run(&tool("doveconf"), &["-c", dovecot.to_str().unwrap(), "-n"]);
                if !out.status.success() || !out.stderr.is_empty() {
                    failures.push(format!("{name}: doveconf -n: {}", show(&out)));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(checked >= 8, "only {checked} Exim configs were checked");
}

/// Every file under `dir`, by relative path.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    golden::tree(dir)
}

/// The production `exim/` tree of every spec (and `dovecot/` where no
/// Postfix host pins it already) matches `tests/expected/<case>/`
/// (`MAILC_BLESS=1` rewrites them), and a second compilation gives the same
/// bytes.
#[test]
fn output_trees_match_pinned_files() {
    let mut failures = Vec::new();
    for (name, _, model) in exim_specs() {
        let tops: &[&str] = if model
            .hosts
            .values()
            .any(|h| h.stack == Stack::PostfixDovecot)
        {
            &["exim"]
        } else {
            &["exim", "dovecot"]
        };
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write_exim(&model, &keys(&name), a.path());
        write_exim(&model, &keys(&name), b.path());
        let keep = |p: &String| tops.iter().any(|t| p.starts_with(&format!("{t}/")));
        let actual: BTreeMap<String, Vec<u8>> = files(a.path())
            .into_iter()
            .filter(|(p, _)| keep(p))
            .collect();
        let again: BTreeMap<String, Vec<u8>> = files(b.path())
            .into_iter()
            .filter(|(p, _)| keep(p))
            .collect();
        assert_eq!(actual, again, "{name}: two compilations differ");
        let shown = golden::produced(a.path(), tops);
        let pinned_dir = root().join("tests/expected").join(&name);
        golden::tree_under(&pinned_dir, tops, &shown, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{}\n(run `MAILC_BLESS=1 cargo test --test exim output_trees` to accept)",
        failures.join("\n\n")
    );
}

/// One address as `exim -bt` resolves it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Leaf {
    address: String,
    parents: Vec<String>,
    router: String,
    transport: String,
    /// `host NAME [IP] port=P` lines.
    hosts: Vec<String>,
    /// `is undeliverable: TEXT` or `cannot be resolved at this time: TEXT`.
    failure: Option<String>,
    deferred: bool,
    /// `mail to ADDRESS is discarded`: a `:blackhole:` redirect.
    discarded: bool,
}

/// Parses `exim -bt` output into its leaves.
fn leaves(stdout: &str) -> Vec<Leaf> {
    let mut out: Vec<Leaf> = Vec::new();
    for line in stdout.lines() {
        if let Some(parent) = line.strip_prefix("    <-- ") {
            if let Some(l) = out.last_mut() {
                l.parents.push(parent.to_lowercase());
            }
        } else if let Some(rest) = line.strip_prefix("  router = ") {
            if let Some(l) = out.last_mut() {
                let (r, t) = rest.split_once(", transport = ").unwrap_or((rest, ""));
                l.router = r.to_string();
                l.transport = t.to_string();
            }
        } else if let Some(h) = line.strip_prefix("  host ") {
            if let Some(l) = out.last_mut() {
                l.hosts.push(h.to_string());
            }
        } else if !line.starts_with(' ') && !line.is_empty() {
            let mut leaf = Leaf::default();
            if let Some((a, why)) = line.split_once(" is undeliverable: ") {
                leaf.address = a.to_lowercase();
                leaf.failure = Some(why.to_string());
            } else if let Some(a) = line.strip_suffix(" is discarded") {
                leaf.address = a.trim_start_matches("mail to ").to_lowercase();
                leaf.discarded = true;
            } else if let Some((a, why)) = line.split_once(" cannot be resolved at this time: ") {
                leaf.address = a.to_lowercase();
                leaf.failure = Some(why.to_string());
                leaf.deferred = true;
            } else {
                // `ADDR   [duplicate, would not be delivered]` in a batch.
                let a = line.split("   [").next().unwrap_or(line);
                leaf.address = a.trim().to_lowercase();
            }
            out.push(leaf);
        }
    }
    out
}

/// The replies of an SMTP session as `exim -bh` prints them, each on one
/// line: `550 5.1.1 <a@b>: ...` (continuation lines joined, their repeated
/// enhanced code dropped).
fn bh_replies(stdout: &str) -> Vec<String> {
    let mut replies = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for line in stdout.lines() {
        let code = line
            .get(..3)
            .filter(|c| c.bytes().all(|b| b.is_ascii_digit()));
        let Some(code) = code else { continue };
        let more = line.as_bytes().get(3) == Some(&b'-');
        let text = line.get(4..).unwrap_or("").to_string();
        if current.is_empty() {
            current.push(format!("{code} {text}"));
        } else {
            let enhanced = current[0].split(' ').nth(1).unwrap_or("").to_string();
            let text = text
                .strip_prefix(&format!("{enhanced} "))
                .map(str::to_string)
                .unwrap_or(text);
            current.push(text);
        }
        if !more {
            replies.push(current.join(" "));
            current.clear();
        }
    }
    replies
}

/// One row of a route table.
struct Row {
    host: String,
    address: String,
}

fn route_rows(table: &Path) -> Vec<Row> {
    std::fs::read_to_string(table)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Row {
                host: cols[0].to_string(),
                address: cols[1].to_string(),
            }
        })
        .collect()
}

/// The routers that send a valid recipient on to another server.
const RELAY_ROUTERS: [&str; 3] = ["backup", "backup_any", "relay"];

/// Compares Exim's verdict on one address with `mailc route`'s; `None`
/// when they agree.
fn disagreement(
    model: &Model,
    root: &TestRoot,
    r: &Route,
    rcpt: &str,
    bt: &[Leaf],
) -> Option<String> {
    let accepted = rcpt.starts_with("250 ");
    // An address that leaves by MX lookup: here DNS knows no test domain,
    // so `dnslookup` finds nothing and Exim says "Unrouteable address".
    let leaves_by_mx = |l: &Leaf| {
        (l.router == "dnslookup" && l.transport.starts_with("remote"))
            || l.failure.as_deref() == Some("Unrouteable address")
    };
    let problem = match r.outcome {
        Outcome::Reject => {
            let want = r.reply.clone().unwrap_or_default().to_lowercase();
            if rcpt.to_lowercase() != want {
                Some(format!("the RCPT reply should be `{want}`"))
            } else if bt.len() != 1
                || bt[0].failure.as_deref().map(str::to_lowercase) != Some(want.clone())
            {
                Some(format!("-bt should fail it with `{want}`"))
            } else {
                None
            }
        }
        Outcome::Bounce => {
            if !accepted {
                Some("RCPT should be accepted".into())
            } else if bt.len() != 1 || bt[0].failure.is_none() || bt[0].deferred {
                Some("routing should fail for good (a bounce)".into())
            } else {
                None
            }
        }
        Outcome::Drop => {
            if !accepted {
                Some("RCPT should be accepted".into())
            } else if bt.len() != 1 || !bt[0].discarded || bt[0].address != r.address {
                Some("routing should discard it (`is discarded`)".into())
            } else {
                None
            }
        }
        Outcome::Remote => {
            if !(rcpt.starts_with("554 5.7.1") && rcpt.contains("relay access denied")) {
                Some("an outside client should be refused relaying (554 5.7.1)".into())
            } else if bt.len() != 1 || bt[0].address != r.address || !leaves_by_mx(&bt[0]) {
                Some("it should leave unchanged by MX lookup".into())
            } else {
                None
            }
        }
        Outcome::Deliver | Outcome::Forward => {
            let mailboxes: BTreeSet<String> = r.mailboxes.iter().cloned().collect();
            let forward: BTreeSet<String> = r.forward.iter().cloned().collect();
            let lmtp: BTreeSet<String> = bt
                .iter()
                .filter(|l| l.transport == "dovecot_lmtp" && l.failure.is_none())
                .map(|l| l.address.clone())
                .collect();
            let out: BTreeSet<String> = bt
                .iter()
                .filter(|l| l.transport != "dovecot_lmtp")
                .map(|l| l.address.clone())
                .collect();
            if !accepted {
                Some("RCPT should be accepted".into())
            } else if lmtp != mailboxes {
                Some(format!("LMTP (Dovecot) should get exactly {mailboxes:?}"))
            } else if out != forward {
                Some(format!("exactly {forward:?} should leave"))
            } else if bt
                .iter()
                .filter(|l| l.transport != "dovecot_lmtp")
                .any(|l| !leaves_by_mx(l) && !RELAY_ROUTERS.contains(&l.router.as_str()))
            {
                Some("forwarded addresses should leave by SMTP".into())
            } else {
                None
            }
        }
        Outcome::Relay => {
            let hop = r.next_hop.clone().unwrap_or_default();
            let (name, port) = match hop.split_once(':') {
                Some((n, p)) => (n.to_string(), p.parse::<u16>().ok()),
                None => (hop.clone(), None),
            };
            let ours = model.hosts.values().find(|h| h.hostname == name);
            let leaf = bt.first().cloned().unwrap_or_default();
            let failed = leaf.failure.clone().unwrap_or_default();
            if !accepted {
                Some("RCPT should be accepted".into())
            } else if bt.len() != 1 || leaf.address != r.address {
                Some("it should leave unchanged".into())
            } else if let Some(h) = ours {
                // Our own host: in the test root, its SMTP port on 127.0.0.1.
                let want = format!("127.0.0.1 [127.0.0.1] port={}", root.install(h).ports.smtp);
                (!RELAY_ROUTERS.contains(&leaf.router.as_str())
                    || leaf.transport != "remote_smtp"
                    || leaf.hosts != [want.clone()])
                .then(|| format!("it should go to {want} ({hop})"))
            } else if leaf.hosts.is_empty() {
                // A name DNS does not know here: Exim names it in the
                // deferral, with the router (the port is in the lookup
                // file, checked by the unit tests).
                (!leaf.deferred
                    || !RELAY_ROUTERS.iter().any(|r| {
                        failed.ends_with(&format!("lookup of host \"{name}\" failed in {r} router"))
                    }))
                .then(|| format!("it should go to {hop}"))
            } else {
                let want = format!("port={}", port.unwrap_or(25));
                (!leaf.hosts[0].starts_with(&format!("{name} ")) || !leaf.hosts[0].ends_with(&want))
                    .then(|| format!("it should go to {hop}"))
            }
        }
    };
    problem.map(|p| {
        format!(
            "{} on {}: mailc route says {:?}; {p}\n  Exim: RCPT `{rcpt}`, -bt {bt:#?}",
            r.address, r.host, r.outcome
        )
    })
}

/// Checks every row of one spec's table with one Exim build; returns the
/// number of rows compared and the disagreements.
fn differential(binary: &Path, name: &str, model: &Model, rows: &[Row]) -> (usize, Vec<String>) {
    let tmp = tempfile::tempdir().unwrap();
    let root = write_root(name, model, tmp.path(), 27000);
    let routes: Vec<Route> = rows
        .iter()
        .map(|row| route(model, &row.host, &row.address))
        .collect();
    let conf = |host: &str| {
        let install = root.install(&model.hosts[host]);
        format!("{}/exim.conf", install.exim_dir)
    };
    // One -bh session per host, as an outside client: every RCPT reply.
    let mut rcpt: BTreeMap<(String, String), String> = BTreeMap::new();
    for host in routes
        .iter()
        .map(|r| r.host.clone())
        .collect::<BTreeSet<_>>()
    {
        let mine: Vec<&Route> = routes.iter().filter(|r| r.host == host).collect();
        let mut session = String::from("EHLO client.test\r\nMAIL FROM:<probe@client.test>\r\n");
        for r in &mine {
            session.push_str(&format!("RCPT TO:<{}>\r\n", r.address));
        }
        session.push_str("QUIT\r\n");
        let mut child = Command::new(binary)
            .args(["-C", &conf(&host), "-bh", "192.0.2.1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run exim -bh");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(session.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let replies = bh_replies(&String::from_utf8_lossy(&out.stdout));
        // Greeting, EHLO, MAIL, the RCPTs, QUIT.
        assert_eq!(
            replies.len(),
            mine.len() + 4,
            "{name}: exim -bh on {host}: {replies:#?}\n{}",
            show(&out)
        );
        for (r, reply) in mine.iter().zip(&replies[3..]) {
            rcpt.insert((host.clone(), r.address.clone()), reply.clone());
        }
    }
    let mut failures = Vec::new();
    for r in &routes {
        let out = run(binary, &["-C", &conf(&r.host), "-bt", &r.address]);
        let bt = leaves(&String::from_utf8_lossy(&out.stdout));
        let reply = &rcpt[&(r.host.clone(), r.address.clone())];
        if let Some(d) = disagreement(model, &root, r, reply, &bt) {
            failures.push(format!("{name} ({}): {d}", binary.display()));
        }
    }
    (routes.len(), failures)
}

#[test]
fn exim_agrees_with_mailc_route() {
    let binaries = [exim(LIGHT), exim(HEAVY)];
    let mut tables: Vec<_> = std::fs::read_dir(root().join("tests/routes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tsv"))
        .collect();
    tables.sort();
    let specs = exim_specs();
    let (mut compared, mut failures) = (0, Vec::new());
    for table in tables {
        let name = table.file_stem().unwrap().to_string_lossy().into_owned();
        let Some((_, _, model)) = specs.iter().find(|(n, ..)| *n == name) else {
            continue; // no exim-dovecot host
        };
        let rows: Vec<Row> = route_rows(&table)
            .into_iter()
            .filter(|r| {
                model
                    .hosts
                    .get(&r.host)
                    .is_some_and(|h| h.stack == Stack::EximDovecot)
            })
            .collect();
        for binary in &binaries {
            let (n, f) = differential(binary, &name, model, &rows);
            compared += n;
            failures.extend(f);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(compared >= 60, "only {compared} address checks made");
}

/// One Exim host of a test root running for real: Dovecot and the Exim
/// daemon, started from the compiled files and stopped by PID on drop.
struct EximHost {
    host: String,
    install: mailc::backend::install::Install,
    conf: PathBuf,
    var: PathBuf,
    dovecot: Option<Child>,
    exim: Option<Child>,
}

/// Sends SIGTERM to `child`, then waits for it (SIGKILL after 10 s).
fn stop(child: Option<Child>) {
    let Some(mut child) = child else { return };
    let _ = Command::new(tool("kill"))
        .args(["-TERM", &child.id().to_string()])
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl EximHost {
    /// Makes host `host`'s folders, certificate and SRS secret, then starts
    /// Dovecot (when `dovecot`) and the Exim daemon (the heavy build) and
    /// waits until they listen.
    fn start(root: &TestRoot, model: &Model, host: &str, dovecot: bool) -> EximHost {
        let h = &model.hosts[host];
        let install = root.install(h);
        let top = PathBuf::from(root.root());
        let var = PathBuf::from(root.var(host));
        // Exim's and Dovecot's unprivileged processes read below here.
        mkdir(&top, 0o755);
        mkdir(&top.join("var"), 0o755);
        mkdir(&var, 0o755);
        mkdir(Path::new(&install.dovecot_state_dir), 0o750);
        mkdir(Path::new(&install.mail_root), 0o770);
        chown(
            &format!("{}:{}", install.vmail_user, install.vmail_group),
            Path::new(&install.mail_root),
        );
        let exim_user = format!("{}:{}", install.exim_user, install.exim_group);
        let spool = PathBuf::from(&install.exim_spool_dir);
        let log_dir = Path::new(&install.exim_log).parent().unwrap().to_path_buf();
        for dir in [&spool, &log_dir] {
            mkdir(dir, 0o750);
            chown(&exim_user, dir);
        }
        make_certificate(&var.join("tls"), &h.hostname);
        chown(&exim_user, &var.join("tls"));
        // Installed as the files' headers say.
        chown(
            "dovecot",
            &PathBuf::from(&install.dovecot_dir).join("users"),
        );
        // Read by the delivery process, as deploy.md says.
        for secret in ["dkim", "relay"] {
            let keys = PathBuf::from(&install.exim_dir).join(secret);
            if keys.exists() {
                chown(&exim_user, &keys);
            }
        }
        write_srs_secret(&install);

        let conf = PathBuf::from(&install.exim_dir).join("exim.conf");
        let mut inst = EximHost {
            host: host.to_string(),
            install,
            conf,
            var,
            dovecot: None,
            exim: None,
        };
        if dovecot {
            inst.start_dovecot();
        }
        inst.start_exim();
        inst
    }

    fn start_dovecot(&mut self) {
        let conf = PathBuf::from(&self.install.dovecot_dir).join("dovecot.conf");
        let out = std::fs::File::create(self.var.join("dovecot.out")).unwrap();
        let child = Command::new(tool("dovecot"))
            .args(["-F", "-c", conf.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start dovecot");
        self.dovecot = Some(child);
        let imap = self.install.ports.imap;
        let lmtp = PathBuf::from(format!("{}/lmtp-exim", self.install.dovecot_base_dir));
        wait_for(
            15,
            &format!("Dovecot of {} (IMAP {imap}, LMTP socket)", self.host),
            || listening(imap) && lmtp.exists(),
            || self.dovecot_log(),
        );
    }

    fn start_exim(&mut self) {
        let out = std::fs::File::create(self.var.join("exim.out")).unwrap();
        let pid_file = self.var.join("exim.pid");
        let child = Command::new(exim(HEAVY))
            .args([
                "-C",
                self.conf.to_str().unwrap(),
                "-bdf",
                "-q5s",
                "-oP",
                pid_file.to_str().unwrap(),
            ])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start exim");
        self.exim = Some(child);
        let p = self.install.ports;
        wait_for(
            15,
            &format!("Exim of {} on {}", self.host, p.smtp),
            || {
                [p.smtp, p.submission, p.submissions]
                    .iter()
                    .all(|p| listening(*p))
            },
            || self.log(),
        );
    }

    fn log(&self) -> String {
        let dir = Path::new(&self.install.exim_log).parent().unwrap();
        format!(
            "{}{}{}",
            read(&dir.join("mainlog")),
            read(&dir.join("paniclog")),
            read(&self.var.join("exim.out"))
        )
    }

    fn dovecot_log(&self) -> String {
        read(Path::new(&self.install.dovecot_log)) + &read(&self.var.join("dovecot.out"))
    }
}

impl Drop for EximHost {
    fn drop(&mut self) {
        stop(self.exim.take());
        // The daemon's children may hold the ports a moment longer.
        let p = self.install.ports;
        let deadline = Instant::now() + Duration::from_secs(10);
        while [p.smtp, p.submission, p.submissions]
            .iter()
            .any(|p| listening(*p))
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        stop(self.dovecot.take());
    }
}

/// A reply as the SMTP client joins Exim's continuation lines (` / `, each
/// repeating the enhanced code), on one line as `mailc route` words it.
fn one_line(reply: &mail_stack::client::Reply) -> String {
    let mut parts = reply.text.split(" / ");
    let first = parts.next().unwrap_or("").to_string();
    let enhanced = first.split(' ').next().unwrap_or("").to_string();
    let mut text = vec![first];
    for p in parts {
        text.push(
            p.strip_prefix(&format!("{enhanced} "))
                .unwrap_or(p)
                .to_string(),
        );
    }
    format!("{} {}", reply.code, text.join(" "))
}

#[test]
fn end_to_end_delivery_backup_and_submission() {
    require_root();
    exim(HEAVY);
    let name = "exim-stack";
    let model = model_of(&root().join("tests/cases").join(name));
    let tmp = tempfile::tempdir().unwrap();
    let root = write_root(name, &model, tmp.path(), 27500);
    // The "old server" legacy.example relays unknown recipients to.
    let old_server = plain_sink(27999);
    let mx1 = EximHost::start(&root, &model, "mx1", true);
    let mx2 = EximHost::start(&root, &model, "mx2", false);
    let (p1, p2) = (mx1.install.ports, mx2.install.ports);
    let log = || {
        format!(
            "mx1 exim:\n{}\nmx2 exim:\n{}\nmx1 dovecot:\n{}",
            mx1.log(),
            mx2.log(),
            mx1.dovecot_log()
        )
    };

    // Refused at RCPT exactly as `mailc route` says; mail through port 25
    // where it says; a bounce back to a local sender with Exim's report.
    scenario::refusals(
        &model,
        &[(p1.smtp, "mx1"), (p2.smtp, "mx2")],
        |got| one_line(got).to_lowercase(),
        |want| want.to_lowercase(),
    );
    let mut expected = scenario::deliveries(&model, p1.smtp, p2.smtp);
    scenario::bounce(
        &model,
        p1.smtp,
        "Mail delivery failed: returning message to sender",
        &mut expected,
    );

    // Submission: TLS + AUTH (Dovecot) on 587 (STARTTLS) and 465 (implicit
    // TLS); a login sends as itself and its own aliases, and nobody else.
    let starttls = (p1.submission, Tls::StartTls);
    // Before any failure from this address: Dovecot delays the logins
    // of an address with failures, and the MTA's SASL wait is short.
    refused_logins(p1.imap, starttls, &log);
    submission_rules(
        starttls,
        (p1.submissions, Tls::Implicit),
        &log,
        &mut expected,
    );
    // No AUTH before TLS, and none on port 25.
    for port in [p1.submission, p1.smtp] {
        let mut smtp = Smtp::connect(port);
        let ehlo = smtp.command("EHLO client.test");
        smtp.quit();
        assert!(
            !ehlo.text.contains("AUTH"),
            "AUTH offered without TLS on {port}: {ehlo:?}"
        );
    }

    // DKIM: what a login sends out is signed for its From domain with the
    // spec's key (verified with the published record); what merely passes
    // through from outside is not signed, even with our domain in From.
    let r = route(&model, "mx1", "typo@legacy.example");
    assert_eq!(r.next_hop.as_deref(), Some("127.0.0.1:27999"));
    let (ok, transcript) = submit(
        starttls,
        "alice@example.com",
        "alice-pw",
        "alice@example.com",
        "typo@legacy.example",
        "signed-by-mx1",
    );
    assert!(
        ok,
        "submission to the relay failed:\n{transcript}\n{}",
        log()
    );
    let mut smtp = Smtp::connect(p1.smtp);
    smtp.send(
        "alice@example.com",
        &["typo@legacy.example"],
        "from-outside",
    );
    smtp.quit();
    let caught = |subject: &str| {
        old_server
            .with_text(&format!("Subject: {subject}\r\n"))
            .map(|m| m.data)
    };
    wait_for(
        30,
        "both messages at the relay's next hop",
        || caught("signed-by-mx1").is_some() && caught("from-outside").is_some(),
        log,
    );
    let signed = caught("signed-by-mx1").unwrap();
    let text = String::from_utf8_lossy(&signed).to_string();
    assert!(
        text.contains("DKIM-Signature:") && text.contains("d=example.com") && text.contains("s=s1"),
        "not signed as example.com/s1:\n{text}"
    );
    let (ok, said) = dkim_verify(&signed, &dkim_record("example.com", "s1"));
    assert!(ok, "the signature does not verify:\n{said}\n{text}");
    let outside = String::from_utf8_lossy(&caught("from-outside").unwrap()).to_string();
    assert!(
        !outside.contains("DKIM-Signature:"),
        "mail from outside was signed:\n{outside}"
    );

    let dovecot_conf = PathBuf::from(&mx1.install.dovecot_dir).join("dovecot.conf");
    scenario::mailboxes_hold(&model, p1.imap, &dovecot_conf, &expected, &log);

    // POP3 where the domain offers it (example.com), over STLS: the same
    // messages as over IMAP, each UIDL the IMAP UID and UIDVALIDITY; a
    // mailbox of example.org (no POP3) is refused.
    let alice = "alice@example.com";
    let said = pop3::session(
        p1.pop3,
        &[
            "stls",
            &format!("login:{alice}:{}", password(alice)),
            "uidl",
            "quit",
        ],
    );
    let (validity, uids, _) = pop3::imap_uids(p1.imap, alice, &password(alice));
    assert!(!uids.is_empty(), "{}", log());
    let want: Vec<(u32, String)> = uids
        .iter()
        .enumerate()
        .map(|(i, u)| (i as u32 + 1, pop3::uidl_of(validity, *u)))
        .collect();
    assert_eq!(pop3::uidls(pop3::ok(&said, 3)), want, "{}", log());
    let dave = "dave@example.org";
    let said = pop3::session(
        p1.pop3,
        &["stls", &format!("login:{dave}:{}", password(dave))],
    );
    assert!(pop3::err(&said, 2).starts_with("-ERR"), "{said:?}");
}

/// A plain SMTP server on 127.0.0.1:`port` that takes every message (no
/// STARTTLS): the "old server" a `relay` domain passes unknown recipients
/// to, or the next hop of outbound mail.
fn plain_sink(port: u16) -> sink::Sink {
    sink::Sink::start(
        port,
        sink::SinkConfig {
            plain_only: true,
            ..sink::SinkConfig::default()
        },
    )
}

/// The DKIM TXT record the zone publishes for `selector` of `domain`, as
/// one string (pinned in `tests/expected/exim-stack/dns/`).
fn dkim_record(domain: &str, selector: &str) -> String {
    let zone = std::fs::read_to_string(
        root()
            .join("tests/expected/exim-stack/dns")
            .join(format!("{domain}.zone")),
    )
    .unwrap();
    let line = zone
        .lines()
        .find(|l| l.starts_with(&format!("{selector}._domainkey ")))
        .unwrap_or_else(|| panic!("no DKIM record {selector} in {domain}.zone"));
    line.split('"').skip(1).step_by(2).collect()
}

/// Verifies a message's DKIM signature with dkimpy (`docs/testing.md`,
/// in `/opt/oracle-venv`), answering the key lookup with `record`.
fn dkim_verify(message: &[u8], record: &str) -> (bool, String) {
    let python = Path::new("/opt/oracle-venv/bin/python");
    assert!(
        python.is_file(),
        "dkimpy is not installed in /opt/oracle-venv; run `.ci/install-oracles`"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("message.eml");
    std::fs::write(&file, message).unwrap();
    let script = "import dkim, sys\n\
                  msg = open(sys.argv[1], 'rb').read()\n\
                  txt = sys.argv[2].encode()\n\
                  ok = dkim.verify(msg, dnsfunc=lambda name, timeout=5: txt)\n\
                  print('verified' if ok else 'failed')\n\
                  sys.exit(0 if ok else 1)\n";
    let out = run(python, &["-c", script, file.to_str().unwrap(), record]);
    (out.status.success(), show(&out))
}

/// Writes the test root's SRS secret as the e2e test does (readable by Exim).
fn write_srs_secret(install: &mailc::backend::install::Install) {
    std::fs::write(&install.exim_srs_secret, "mailc-test-root-secret\n").unwrap();
    std::fs::set_permissions(
        &install.exim_srs_secret,
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    chown(
        &format!("root:{}", install.exim_group),
        Path::new(&install.exim_srs_secret),
    );
}

/// Bounces to the SRS address of mail forwarded for `forward.example` are
/// decoded back to the original sender; anything else at that address, and
/// a forged SRS address, is refused.
#[test]
fn srs_bounces_are_decoded() {
    require_root();
    let binary = exim(HEAVY);
    let name = "exim-stack";
    let model = model_of(&root().join("tests/cases").join(name));
    let tmp = tempfile::tempdir().unwrap();
    mkdir(tmp.path(), 0o755);
    let root = write_root(name, &model, tmp.path(), 27000);
    let install = root.install(&model.hosts["mx1"]);
    mkdir(Path::new(&root.var("mx1")), 0o755);
    write_srs_secret(&install);
    let conf = format!("{}/exim.conf", install.exim_dir);
    let encode = run(
        &binary,
        &[
            "-C",
            &conf,
            "-be",
            "${srs_encode{mailc-test-root-secret}{sender@client.test}{forward.example}}",
        ],
    );
    let srs = String::from_utf8_lossy(&encode.stdout).trim().to_string();
    assert!(
        srs.starts_with("SRS0=") && srs.ends_with("@forward.example"),
        "srs_encode: {}",
        show(&encode)
    );
    // Routed (-bt) as a bounce: back to the original sender.
    let out = run(&binary, &["-C", &conf, "-f", "<>", "-bt", &srs]);
    let bt = leaves(&String::from_utf8_lossy(&out.stdout));
    assert!(
        bt.len() == 1
            && bt[0].address == "sender@client.test"
            && bt[0].parents == [srs.to_lowercase()],
        "-bt {srs}: {bt:#?}\n{}",
        show(&out)
    );
    // At RCPT: a bounce is taken, other mail to it and forgeries refused.
    let forged = srs.replacen("SRS0=", "SRS0=AAAA", 1);
    let session = format!(
        "EHLO client.test\r\nMAIL FROM:<>\r\nRCPT TO:<{srs}>\r\nRCPT TO:<{forged}>\r\nRSET\r\n\
         MAIL FROM:<x@client.test>\r\nRCPT TO:<{srs}>\r\nQUIT\r\n"
    );
    let mut child = Command::new(&binary)
        .args(["-C", &conf, "-bh", "192.0.2.1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run exim -bh");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(session.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let replies = bh_replies(&String::from_utf8_lossy(&out.stdout));
    let codes: Vec<&str> = replies.iter().map(|r| &r[..3]).collect();
    assert_eq!(
        codes,
        [
            "220", "250", "250", "250", "550", "250", "250", "550", "221"
        ],
        "{replies:#?}"
    );
}

/// Forwarded mail leaves with an SRS envelope sender in the forwarding
/// domain, and signed when a login sent it. Nothing resolves outside
/// domains here, so this test alone swaps mx1's `dnslookup` router for a
/// `manualroute` to a sink on 127.0.0.1 — "DNS" pointing every domain at
/// the sink; the rest of the compiled config runs as it is.
#[test]
fn forwarded_mail_gets_an_srs_sender() {
    require_root();
    exim(HEAVY);
    let name = "exim-stack";
    let model = model_of(&root().join("tests/cases").join(name));
    let tmp = tempfile::tempdir().unwrap();
    let root = write_root(name, &model, tmp.path(), 27700);
    let conf = PathBuf::from(root.install(&model.hosts["mx1"]).exim_dir).join("exim.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    let router = "dnslookup:\n  driver = dnslookup\n";
    assert_eq!(text.matches(router).count(), 1, "{text}");
    let stubbed = text
        .replace(
            router,
            "dnslookup:\n  driver = manualroute\n  route_data = 127.0.0.1::27998\n  self = send\n",
        )
        .replace("  ignore_target_hosts = 0.0.0.0 : 127.0.0.0/8\n", "");
    std::fs::write(&conf, stubbed).unwrap();
    let out = plain_sink(27998);
    let mx1 = EximHost::start(&root, &model, "mx1", true);
    let p = mx1.install.ports;

    let r = route(&model, "mx1", "hello@forward.example");
    assert_eq!(r.forward, ["someone@mailbox.test"]);
    for (from, subject) in [
        ("sender@client.test", "forwarded-from-outside"),
        ("bob@example.com", "forwarded-from-local-sender"),
    ] {
        let mut smtp = Smtp::connect(p.smtp);
        smtp.send(from, &["hello@forward.example"], subject);
        smtp.quit();
    }
    let (ok, transcript) = submit(
        (p.submission, Tls::StartTls),
        "alice@example.com",
        "alice-pw",
        "alice@example.com",
        "someone@remote.example",
        "sent-out-by-login",
    );
    assert!(ok, "{transcript}\n{}", mx1.log());
    let caught = |subject: &str| {
        out.with_text(&format!("Subject: {subject}\r\n"))
            .map(|m| (m.from, m.data))
    };
    wait_for(
        30,
        "three messages at the stub's sink",
        || {
            [
                "forwarded-from-outside",
                "forwarded-from-local-sender",
                "sent-out-by-login",
            ]
            .iter()
            .all(|s| caught(s).is_some())
        },
        || mx1.log(),
    );
    let (sender, _) = caught("forwarded-from-outside").unwrap();
    assert!(
        sender.starts_with("SRS0=") && sender.ends_with("@forward.example"),
        "forwarded with envelope sender <{sender}>\n{}",
        mx1.log()
    );
    let (sender, _) = caught("forwarded-from-local-sender").unwrap();
    assert_eq!(sender, "bob@example.com", "a local sender was rewritten");
    // Not forwarded: the login's own mail keeps its sender, and is signed.
    let (sender, message) = caught("sent-out-by-login").unwrap();
    assert_eq!(sender, "alice@example.com");
    let (ok, said) = dkim_verify(&message, &dkim_record("example.com", "s1"));
    assert!(ok, "{said}\n{}", String::from_utf8_lossy(&message));
}

/// `mailc test --live` against Exim: for every spec with tests and an
/// `exim-dovecot` host (the primary-backup example's backup, both hosts of
/// `tests/cases/exim-stack`), the host runs for real and answers each route
/// test of that host over SMTP as the spec's `tests` say.
#[test]
fn mailc_test_live_passes_against_exim() {
    require_root();
    exim(HEAVY);
    let mut checked = 0;
    for (name, dir, model) in exim_specs() {
        if mail_stack::compiled_of(&dir).tests.is_empty() {
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        let root = write_root(&name, &model, tmp.path(), 27300);
        let hosts: Vec<EximHost> = model
            .hosts
            .values()
            .filter(|h| h.stack == Stack::EximDovecot)
            .map(|h| {
                let local = model
                    .domains
                    .values()
                    .any(|d| d.roles.get(&h.key) == Some(&mailc::model::Role::Local));
                EximHost::start(&root, &model, &h.key, local)
            })
            .collect();
        for h in &hosts {
            let target = format!("{}=127.0.0.1:{}", h.host, h.install.ports.smtp);
            if let Err(said) = mailc_test_live(&dir, &target) {
                panic!("{name} on {}: {said}\nexim log:\n{}", h.host, h.log());
            }
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} Exim hosts tested");
}

/// The sender table of `tests/cases/relays` (host, sender, relay, rule):
/// for every row of an Exim host, `exim -bt -f SENDER` routes an outside
/// address through the router of the relay `mailc route --from` names
/// (`relay_N`, in the order of the relay names the host uses), or through
/// `dnslookup` when there is none.
#[test]
fn exim_picks_the_relay_mailc_route_from_names() {
    let binary = exim(HEAVY);
    let dir = root().join("tests/cases/relays");
    let model = model_of(&dir);
    let tmp = tempfile::tempdir().unwrap();
    let test_root = write_root("relays", &model, tmp.path(), 27400);
    let table = std::fs::read_to_string(dir.join("senders.tsv")).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in table.lines().filter(|l| !l.starts_with('#')) {
        let c: Vec<&str> = line.split('\t').collect();
        let host = &model.hosts[c[0]];
        if host.stack != Stack::EximDovecot {
            continue;
        }
        let mut used: Vec<&String> = model.senders.values().collect();
        used.extend(host.relay.as_ref());
        used.sort();
        used.dedup();
        let want = match c[2] {
            "-" => "dnslookup".to_string(),
            name => format!(
                "relay_{}",
                used.iter().position(|n| *n == name).unwrap() + 1
            ),
        };
        let conf = format!("{}/exim.conf", test_root.install(host).exim_dir);
        let sender = if c[1] == "<>" { "" } else { c[1] };
        let out = run(
            &binary,
            &["-C", &conf, "-bt", "-f", sender, "someone@far.test"],
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        // The router that took it; a relay named by a host name that does
        // not resolve here is deferred by that same router.
        let router = text.lines().find_map(|l| {
            let l = l.trim();
            match l.strip_prefix("router = ") {
                Some(r) => Some(r.split(',').next().unwrap_or("").trim().to_string()),
                None => l
                    .split_once(" failed in ")
                    .and_then(|(_, r)| r.strip_suffix(" router"))
                    .map(String::from),
            }
        });
        if router.as_deref() != Some(want.as_str()) {
            failures.push(format!(
                "{line}: exim routed by {router:?}, want {want}:\n{}",
                show(&out)
            ));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 7, "only {checked} rows checked");
}

/// An Exim daemon whose spec has two relays (`sink::spec`), each a sink.
fn exim_with_relays(
    label: &str,
    first_port: u16,
    plain: u16,
    login: u16,
) -> (tempfile::TempDir, EximHost) {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let spec_dir = tmp.path().join("spec");
    sink::spec(&spec_dir, "exim-dovecot", plain, login);
    let model = model_of(&spec_dir);
    let dir = tmp.path().join(label);
    let test_root = TestRoot::new(dir.to_str().unwrap(), &model, first_port).with_exim_path(HEAVY);
    write_exim(
        &model,
        &TestRootContext {
            inner: &mail_stack::SpecFiles(spec_dir),
            root: &test_root,
        },
        &dir,
    );
    let host = EximHost::start(&test_root, &model, "mx1", false);
    (tmp, host)
}

/// Mail from each sender class leaves a real Exim through the relay the
/// spec names: the host's own relay without a login, the sender rules'
/// relay with STARTTLS and AUTH; the password is in no log.
#[test]
fn exim_sends_each_sender_through_its_relay() {
    let (plain, login) = sink::sinks();
    let (_tmp, exim) = exim_with_relays("relays", 27800, plain.port, login.port);
    sink::send_each_sender(exim.install.ports.smtp, &plain, &login, || exim.log());
}

/// A relay that answers 451 keeps the mail in Exim's queue, retried
/// there, never sent through another relay.
#[test]
fn exim_waits_for_a_relay_that_refuses_for_now() {
    let (plain, login) = sink::refusing_sinks();
    let (_tmp, exim) = exim_with_relays("relays-4xx", 27900, plain.port, login.port);
    let r = sink::smtp_send(
        exim.install.ports.smtp,
        "offers@example.com",
        "fwd@example.com",
        "waits",
    );
    assert!(r.starts_with("250"), "{r}\n{}", exim.log());
    let deadline = Instant::now() + Duration::from_secs(120);
    while login.mail_attempts() < 1 {
        assert!(
            Instant::now() < deadline,
            "no attempt at the relay:\n{}",
            exim.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The daemon's queue runs (-q5s) try it again, at the same relay.
    let first = login.mail_attempts();
    let deadline = Instant::now() + Duration::from_secs(120);
    let log = loop {
        let log = exim.log();
        if log.contains("451 4.3.0") && log.contains("==") {
            break log;
        }
        assert!(Instant::now() < deadline, "no deferral logged:\n{log}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(first >= 1);
    sink::kept_back(&plain, &login, &log);
}

/// Sending limits on a real Exim: 450 at a mailbox's limit while another
/// mailbox of its domain still sends, 450 at the domain's, and the counts
/// (Exim's ratelimit hints database) hold across a restart of the daemon.
#[test]
fn sending_limits_hold_across_a_restart() {
    require_root();
    exim(HEAVY);
    let mut model = model_of(&root().join("tests/cases/limits"));
    model.hosts.retain(|k, _| k == "ex");
    let tmp = tempfile::tempdir().unwrap();
    let test_root = write_root("limits", &model, tmp.path(), 27200);
    let mut ex = EximHost::start(&test_root, &model, "ex", true);
    let port = ex.install.ports.submission;
    let send = |login: &str, to: &str| {
        submit(
            (port, Tls::StartTls),
            login,
            &password(login),
            login,
            to,
            "limits",
        )
        .1
    };
    send_limits::fill("ex.example", send);
    stop(ex.exim.take());
    let p = ex.install.ports;
    wait_for(
        15,
        "the stopped Exim's ports to close",
        || {
            ![p.smtp, p.submission, p.submissions]
                .iter()
                .any(|p| listening(*p))
        },
        || ex.log(),
    );
    ex.start_exim();
    send_limits::still_full("ex.example", send);
}

/// Mail rules and the autoresponder as Dovecot runs them behind Exim: the
/// rules case (tests/cases/rules) with its host on the Exim stack. Exim
/// hands each message to Dovecot's LMTP, Pigeonhole runs the mailbox's
/// compiled script: what it files is in the rule's folder, what it
/// forwards comes back through Exim, and the vacation reply reaches a
/// sender once, the second message from the same sender getting none.
#[test]
fn rules_and_the_autoresponder_run_in_dovecot_behind_exim() {
    require_root();
    exim(HEAVY);
    let tmp = tempfile::tempdir().unwrap();
    let spec_dir = tmp.path().join("spec");
    mail_stack::copy_dir(&root().join("tests/cases/rules"), &spec_dir);
    let yaml = spec_dir.join("mailc.yaml");
    let text = std::fs::read_to_string(&yaml).unwrap();
    assert!(text.contains("stack: postfix-dovecot"));
    std::fs::write(
        &yaml,
        text.replace("stack: postfix-dovecot", "stack: exim-dovecot"),
    )
    .unwrap();
    let model = model_of(&spec_dir);
    let root = write_root("rules", &model, &tmp.path().join("root"), 26500);
    let mx1 = EximHost::start(&root, &model, "mx1", true);
    let p = mx1.install.ports;
    let conf = PathBuf::from(&mx1.install.dovecot_dir).join("dovecot.conf");
    let log = || format!("{}\n{}", mx1.log(), mx1.dovecot_log());
    mail_stack::client::rules_scenario(p.smtp, &conf, &|| mx1.dovecot_log(), &log);
}
