//! Inbound SMTP benchmark: `cargo bench --bench serve` (as root: Postfix's
//! `postfix start` is reserved for the superuser).
//!
//! Postfix's own load generator, `smtp-source -s 10 -m 2000 -l 1024` (10
//! parallel sessions, 2,000 messages of 1 KiB, a new connection per
//! message), sends to
//!
//! - `mailc serve` (release build) running `tests/cases/embedded-stack`,
//!   which answers `250` only once the message is in the Maildir and both
//!   the file and `new/` are fsynced, and
//! - a real Postfix on the same machine, in the same run, delivering with
//!   virtual(8) to a Maildir (as `tests/postfix_dovecot.rs` configures it),
//!
//! and prints both rates and their ratio. Postfix's `250` means "queued"
//! (its queue file is fsynced), not yet delivered, so for Postfix two rates
//! are shown: accepted (smtp-source's wall time) and delivered (until the
//! last message is in the Maildir). The ratio compares mailc with Postfix's
//! delivered rate, the like-for-like one; target ≥ 1.0.
//!
//! The tools are required: a missing one fails with a pointer to
//! `.ci/install-oracles`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SESSIONS: &str = "10";
const MESSAGES: usize = 2000;
const BODY: &str = "1024";
const RCPT: &str = "dave@example.org";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tool(name: &str) -> PathBuf {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("`{name}` is not installed; run `.ci/install-oracles` (postfix, swaks, ...)")
        })
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

/// Waits until `dir` holds `n` files; returns when that happened.
fn wait_count(dir: &Path, n: usize) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if count(dir) >= n {
            return Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "{} holds {} of {n}",
            dir.display(),
            count(dir)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// smtp-source's wall time against `port`.
fn smtp_source(port: u16) -> Duration {
    let start = Instant::now();
    run(Command::new(tool("smtp-source")).args([
        "-s",
        SESSIONS,
        "-m",
        &MESSAGES.to_string(),
        "-l",
        BODY,
        "-f",
        "load@remote.test",
        "-t",
        RCPT,
        &format!("127.0.0.1:{port}"),
    ]));
    start.elapsed()
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mailc(dir: &Path) -> f64 {
    let port = free_port();
    let data = dir.join("mailc-data");
    let log = std::fs::File::create(dir.join("mailc.log")).unwrap();
    let _server = Kill(
        Command::new(env!("CARGO_BIN_EXE_mailc"))
            .arg("serve")
            .arg(root().join("tests/cases/embedded-stack/mailc.yaml"))
            .args(["--host", "mx1", "--smtp", &format!("127.0.0.1:{port}")])
            .arg("--data")
            .arg(&data)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start mailc serve"),
    );
    wait_listening(port, "mailc serve");
    let took = smtp_source(port);
    let new = data.join("mail/example.org/dave/new");
    assert_eq!(
        count(&new),
        MESSAGES,
        "every acknowledged message is stored"
    );
    MESSAGES as f64 / took.as_secs_f64()
}

/// A Postfix instance under `dir`: smtpd on `port`, virtual(8) into
/// `dir/maildir/example.org/dave/`.
struct Postfix {
    etc: PathBuf,
}

impl Postfix {
    fn start(dir: &Path, port: u16) -> Postfix {
        let etc = dir.join("pf/etc");
        let base = dir.join("pf");
        for d in ["etc", "queue", "data", "maildir"] {
            std::fs::create_dir_all(base.join(d)).unwrap();
        }
        let b = base.display();
        std::fs::write(
            etc.join("main.cf"),
            format!(
                "compatibility_level = 3.6
myhostname = bench.example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
queue_directory = {b}/queue
data_directory = {b}/data
maillog_file = {b}/maillog
maillog_file_prefixes = {b}
virtual_mailbox_domains = example.org
virtual_mailbox_base = {b}/maildir
virtual_mailbox_maps = texthash:{b}/etc/vmailbox
virtual_uid_maps = static:5000
virtual_gid_maps = static:5000
virtual_minimum_uid = 100
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = reject_unlisted_recipient
"
            ),
        )
        .unwrap();
        std::fs::write(etc.join("vmailbox"), format!("{RCPT} example.org/dave/\n")).unwrap();
        // The stock master.cf: smtpd on our port, nothing chrooted.
        let stock = std::fs::read_to_string("/etc/postfix/master.cf")
            .expect("/etc/postfix/master.cf (install postfix)");
        let master: String = stock
            .lines()
            .map(|l| {
                let mut f: Vec<&str> = l.split_whitespace().collect();
                if l.starts_with(|c: char| c.is_whitespace() || c == '#') || f.len() < 8 {
                    return format!("{l}\n");
                }
                if f[0] == "smtp" && f[1] == "inet" {
                    f[0] = "PORT";
                }
                f[4] = "n";
                let line = f.join(" ");
                format!(
                    "{}\n",
                    line.replacen("PORT", &format!("127.0.0.1:{port}"), 1)
                )
            })
            .collect();
        std::fs::write(etc.join("master.cf"), master).unwrap();
        run(Command::new(tool("chown"))
            .args(["-R", "postfix"])
            .arg(base.join("data")));
        run(Command::new(tool("chown"))
            .args(["-R", "5000:5000"])
            .arg(base.join("maildir")));
        run(Command::new(tool("postfix"))
            .arg("-c")
            .arg(&etc)
            .arg("start"));
        wait_listening(port, "postfix");
        Postfix { etc }
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new(tool("postfix"))
            .arg("-c")
            .arg(&self.etc)
            .arg("stop")
            .output();
    }
}

/// (accepted, delivered) messages per second.
fn postfix(dir: &Path) -> (f64, f64) {
    let port = free_port();
    let pf = Postfix::start(dir, port);
    let start = Instant::now();
    let accepted = smtp_source(port);
    let new = dir.join("pf/maildir/example.org/dave/new");
    let delivered = wait_count(&new, MESSAGES) - start;
    drop(pf);
    (
        MESSAGES as f64 / accepted.as_secs_f64(),
        MESSAGES as f64 / delivered.as_secs_f64(),
    )
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that is not ours skips.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && a != "serve")
    {
        return;
    }
    let tmp = std::env::temp_dir().join(format!("mailc-bench-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    println!(
        "smtp-source -s {SESSIONS} -m {MESSAGES} -l {BODY} → {RCPT} (new connection per message)"
    );
    let m = mailc(&tmp);
    println!("mailc serve    {m:8.0} msg/s  (250 = fsynced in the Maildir)");
    let (accepted, delivered) = postfix(&tmp);
    println!("postfix        {accepted:8.0} msg/s accepted (250 = fsynced in its queue)");
    println!("postfix        {delivered:8.0} msg/s delivered to the Maildir");
    println!(
        "ratio mailc / postfix delivered: {:.2} (target ≥ 1.0); / accepted: {:.2}",
        m / delivered,
        m / accepted
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
