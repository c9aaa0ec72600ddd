//! IMAP stress benchmark: `cargo bench --bench imap` (as root: the
//! Dovecot peer runs as `nobody`, as a rootless Dovecot does).
//!
//! Dovecot's load generator, imaptest, in its stress mode (10 clients for
//! 20 seconds, each logging in, selecting, fetching, storing flags,
//! appending, expunging and logging out at random), is run against
//!
//! - `mailc serve` (release build) with a generated spec of three users,
//!   and
//! - a real Dovecot on the same machine, in the same run, serving the
//!   same three users (the same password hash) from Maildir,
//!
//! once with plain IMAP4rev1 clients and once with clients that enable
//! QRESYNC (and so CONDSTORE), and prints the commands per second of each
//! and their ratio. Both servers get the same generated mbox to append
//! from. The target: mailc at least twice Dovecot's rate.
//!
//! imaptest is not packaged by Debian: build it as docs/testing.md says and
//! put it in `PATH` or name it in `MAILC_IMAPTEST`. A missing imaptest or
//! Dovecot fails the bench with that pointer.

#[path = "../tests/support/mod.rs"]
mod support;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{Temp, free_port, tool};

const CLIENTS: u32 = 10;
const SECONDS: u32 = 20;
const USERS: u32 = 3;
const DOMAIN: &str = "example.com";
/// The password of every user, and its SHA512-CRYPT hash (also used by
/// `tests/cases/embedded-imap`), so that both servers check the same hash.
const PASSWORD: &str = "alice-pw";
const HASH: &str = "{SHA512-CRYPT}$6$TTFsUGZkHt2Ixu6m$1Fu3Rz9EBw3fP32JtOLVqi8l/GaWGaNi0qUe0/tgX9se/HfVHo1B/s1RD.IKJeYSlbSWiU4.PIf3jTW/0puzY1";
/// The user Dovecot runs as, and owns the mail of.
const NOBODY: &str = "65534";

/// imaptest: `MAILC_IMAPTEST`, else the first in `PATH`.
fn imaptest() -> PathBuf {
    if let Some(p) = std::env::var_os("MAILC_IMAPTEST") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "MAILC_IMAPTEST names {}, which is not a file",
            p.display()
        );
        return p;
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("imaptest"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "imaptest not found: it is not packaged by Debian; build it from \
                 github.com/dovecot/imaptest as docs/testing.md (section imaptest) says, \
                 then put it in PATH or set MAILC_IMAPTEST=/path/to/imaptest"
            )
        })
}

/// Why the bench needs the tools `tool` looks for.
const WHY: &str = "the IMAP bench runs a Dovecot beside mailc serve";

fn wait_listening(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {port}:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A deterministic mbox for imaptest to append from: plain messages and
/// multipart ones with an attachment, a few hundred bytes to some KiB.
fn mbox_text() -> String {
    let mut out = String::new();
    for n in 0..60u32 {
        let size = 200 + (n * 7919) % 6000;
        let line = "The quick brown fox jumps over the lazy dog, again and again.\n";
        let body: String = line.repeat((size as usize / line.len()).max(1));
        out.push_str(&format!(
            "From sender{n}@example.org Mon Nov 23 10:{:02}:00 2026\n\
             From: Sender {n} <sender{n}@example.org>\n\
             To: u1@{DOMAIN}\n\
             Subject: bench message {n}\n\
             Date: Mon, 23 Nov 2026 10:{:02}:00 +0000\n\
             Message-ID: <bench-{n}@example.org>\n",
            n % 60,
            n % 60
        ));
        if n % 3 == 0 {
            out.push_str(&format!(
                "MIME-Version: 1.0\n\
                 Content-Type: multipart/mixed; boundary=\"b{n}\"\n\n\
                 --b{n}\n\
                 Content-Type: text/plain; charset=utf-8\n\n\
                 {body}\n\
                 --b{n}\n\
                 Content-Type: application/octet-stream; name=\"data{n}.bin\"\n\
                 Content-Transfer-Encoding: base64\n\n\
                 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\n\
                 --b{n}--\n\n"
            ));
        } else {
            out.push_str(&format!("\n{body}\n"));
        }
    }
    out
}

/// Runs imaptest's stress mode against `port`; returns commands per
/// second and the errors it reported.
fn stress(port: u16, mbox: &Path, qresync: bool) -> (f64, Vec<String>) {
    let mut cmd = Command::new(imaptest());
    // Debian's libdovecot, which imaptest links against, is not on the
    // default library path.
    let libs = match std::env::var("LD_LIBRARY_PATH") {
        Ok(v) if !v.is_empty() => format!("{v}:/usr/lib/dovecot"),
        _ => "/usr/lib/dovecot".to_string(),
    };
    cmd.env("LD_LIBRARY_PATH", libs)
        .arg("host=127.0.0.1")
        .arg(format!("port={port}"))
        .arg(format!("user=u%d@{DOMAIN}"))
        .arg(format!("users=1-{USERS}"))
        .arg(format!("pass={PASSWORD}"))
        .arg(format!("mbox={}", mbox.display()))
        .arg(format!("clients={CLIENTS}"))
        .arg(format!("secs={SECONDS}"))
        .arg("seed=1")
        .stdin(Stdio::null());
    if qresync {
        cmd.arg("qresync");
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("run imaptest: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let commands = totals(&text).unwrap_or_else(|| panic!("no Totals from imaptest:\n{text}"));
    let errors = text
        .lines()
        .filter(|l| l.contains("Error:") || l.contains("Panic:"))
        .map(str::to_string)
        .collect();
    (commands as f64 / f64::from(SECONDS), errors)
}

/// The sum of the line of numbers under imaptest's `Totals:` header.
fn totals(text: &str) -> Option<u64> {
    let after = text.rsplit_once("Totals:")?.1;
    after
        .lines()
        .map(str::split_whitespace)
        .map(|w| w.map(|x| x.parse::<u64>().ok()).collect::<Option<Vec<_>>>())
        .find_map(|nums| nums.filter(|n| !n.is_empty()))
        .map(|n| n.iter().sum())
}

fn mailc(dir: &Path, mbox: &Path, qresync: bool) -> (f64, Vec<String>) {
    let spec = dir.join("mailc.yaml");
    let users: String = (1..=USERS)
        .map(|n| format!("      u{n}:\n        password: '{HASH}'\n"))
        .collect();
    std::fs::write(
        &spec,
        format!(
            "version: 1
defaults:
  nameservers: [ns1.example.net, ns2.example.net]
  hostmaster: hostmaster@example.com
  dmarc: {{policy: none}}
hosts:
  mx1:
    hostname: mail.example.com
    ipv4: 192.0.2.10
    stack: embedded
domains:
  {DOMAIN}:
    mx: [mx1]
    mailboxes:
{users}"
        ),
    )
    .unwrap();
    let port = free_port(31000);
    let data = dir.join(format!("mailc-data-{qresync}"));
    let log_path = dir.join("mailc.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let _server = Kill(
        Command::new(env!("CARGO_BIN_EXE_mailc"))
            .arg("serve")
            .arg(&spec)
            .args(["--host", "mx1", "--imap", &format!("127.0.0.1:{port}")])
            .arg("--data")
            .arg(&data)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start mailc serve"),
    );
    wait_listening(port, "mailc serve", &log_path);
    stress(port, mbox, qresync)
}

/// A rootless Dovecot under `dir/dc` (imap only), its users' mail in
/// Maildirs; stopped when dropped.
struct Dovecot {
    conf: PathBuf,
    _child: Kill,
}

impl Dovecot {
    fn start(dir: &Path, port: u16) -> Dovecot {
        let base = dir.join("dc");
        for d in ["run", "state", "mail"] {
            std::fs::create_dir_all(base.join(d)).unwrap();
        }
        let b = base.display();
        let conf = base.join("dovecot.conf");
        std::fs::write(
            &conf,
            format!(
                "protocols = imap
listen = 127.0.0.1
base_dir = {b}/run
state_dir = {b}/state
instance_name = mailc-bench
log_path = {b}/dovecot.log
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=SHA512-CRYPT username_format=%u {b}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {b}/users
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"
            ),
        )
        .unwrap();
        let users: String = (1..=USERS)
            .map(|n| format!("u{n}@{DOMAIN}:{HASH}:{NOBODY}:{NOBODY}::{b}/mail/u{n}::\n"))
            .collect();
        std::fs::write(base.join("users"), users).unwrap();
        let chown = Command::new(tool("chown", WHY))
            .args(["-R", "nobody:nogroup"])
            .arg(&base)
            .status()
            .expect("run chown");
        assert!(chown.success(), "chown -R nobody:nogroup {b}: {chown}");
        let log = base.join("dovecot.log");
        let child = Command::new(tool("setpriv", WHY))
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(tool("dovecot", WHY))
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dovecot");
        let d = Dovecot {
            conf,
            _child: Kill(child),
        };
        wait_listening(port, "dovecot", &log);
        d
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new(tool("doveadm", WHY))
            .arg("-c")
            .arg(&self.conf)
            .arg("stop")
            .output();
    }
}

fn dovecot(dir: &Path, mbox: &Path, qresync: bool) -> (f64, Vec<String>) {
    let port = free_port(31000);
    let dir = dir.join(format!("dovecot-{qresync}"));
    std::fs::create_dir_all(&dir).unwrap();
    let _dc = Dovecot::start(&dir, port);
    stress(port, mbox, qresync)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that is not ours skips.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && a != "imap")
    {
        return;
    }
    imaptest();
    tool("dovecot", WHY);
    let tmp = Temp::new("bench-imap");
    let tmp = &tmp.0;
    // Dovecot runs as nobody and must be able to enter the folder.
    std::fs::set_permissions(tmp, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mbox = tmp.join("bench.mbox");
    std::fs::write(&mbox, mbox_text()).unwrap();
    println!(
        "imaptest stress: {CLIENTS} clients, {SECONDS} s, users u1..u{USERS}@{DOMAIN}, \
         the same mbox; commands per second"
    );
    println!(
        "{:<26} {:>10} {:>10} {:>7}",
        "clients", "mailc", "dovecot", "ratio"
    );
    let mut all_errors = Vec::new();
    for (label, qresync) in [("IMAP4rev1", false), ("ENABLE QRESYNC (CONDSTORE)", true)] {
        let (m, me) = mailc(tmp, &mbox, qresync);
        let (d, de) = dovecot(tmp, &mbox, qresync);
        println!(
            "{label:<26} {m:>10.0} {d:>10.0} {:>6.2}×  (target ≥ 2×)",
            m / d
        );
        for (who, errs) in [("mailc", me), ("dovecot", de)] {
            if !errs.is_empty() {
                println!("  {who}: {} errors reported by imaptest", errs.len());
                all_errors.extend(errs.into_iter().take(5).map(|e| format!("  {who}: {e}")));
            }
        }
    }
    for e in &all_errors {
        println!("{e}");
    }
}
