//! One host of a test root running for real: Dovecot, Postfix and (when the
//! host has SRS) postsrsd, started from the compiled files and stopped by
//! PID when the [`Instance`] is dropped.

use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mailc::backend::install::{Install, TestRoot};
use mailc::model::Model;

use super::{postmap_all, run, show, tool};

pub struct Instance {
    pub host: String,
    pub install: Install,
    pub postfix_dir: PathBuf,
    pub dovecot_conf: PathBuf,
    var: PathBuf,
    /// Set once `postfix start` ran: stop it even if it failed half-way.
    postfix_started: bool,
    dovecot: Option<Child>,
    srs: Option<Child>,
}

pub fn mkdir(p: &Path, mode: u32) {
    std::fs::create_dir_all(p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

pub fn chown(owner: &str, p: &Path) {
    let out = run(&tool("chown"), &["-R", owner, p.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "chown {owner} {}: {}",
        p.display(),
        show(&out)
    );
}

/// Waits until `ready` holds, or fails after `secs` with `what` and `log`.
pub fn wait_for(secs: u64, what: &str, mut ready: impl FnMut() -> bool, log: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if ready() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}\n{}", log());
}

pub fn listening(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// Sends SIGTERM to `pid` (the `kill` program: std only sends SIGKILL).
fn terminate(pid: u32) {
    let _ = Command::new(tool("kill"))
        .args(["-TERM", &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !read(Path::new(&format!("/proc/{pid}/stat"))).contains(") Z ")
}

impl Instance {
    /// Starts host `host` of the test root `root` (its files already
    /// written there): [`prepare`](Self::prepare)s it, then starts Dovecot,
    /// postsrsd if configured, and Postfix, and waits until each listens.
    pub fn start(root: &TestRoot, model: &Model, host: &str) -> Instance {
        let mut inst = Instance::prepare(root, model, host);
        inst.start_dovecot();
        inst.start_srs();
        inst.start_postfix();
        inst
    }

    /// Makes host `host`'s folders and TLS certificate, builds its tables
    /// with `postmap` and runs `postfix check`; starts nothing.
    pub fn prepare(root: &TestRoot, model: &Model, host: &str) -> Instance {
        let h = &model.hosts[host];
        let install = root.install(h);
        let top = PathBuf::from(root.root());
        let var = PathBuf::from(root.var(host));
        // Mail processes run as nobody and must reach their mail homes.
        mkdir(&top, 0o755);
        mkdir(&top.join("var"), 0o755);
        mkdir(&var, 0o755);
        mkdir(Path::new(&install.postfix_queue_dir), 0o755);
        mkdir(Path::new(&install.postfix_data_dir), 0o700);
        chown("postfix", Path::new(&install.postfix_data_dir));
        mkdir(Path::new(&install.dovecot_state_dir), 0o750);
        mkdir(Path::new(&install.mail_root), 0o770);
        chown(
            &format!("{}:{}", install.vmail_user, install.vmail_group),
            Path::new(&install.mail_root),
        );
        make_certificate(&var.join("tls"), &h.hostname);

        let postfix_dir = PathBuf::from(&install.postfix_dir);
        let dovecot_conf = PathBuf::from(&install.dovecot_dir).join("dovecot.conf");
        let inst = Instance {
            host: host.to_string(),
            install,
            postfix_dir,
            dovecot_conf,
            var,
            postfix_started: false,
            dovecot: None,
            srs: None,
        };
        // Installed as its header says: owned by Dovecot's auth user.
        chown(
            "dovecot",
            &PathBuf::from(&inst.install.dovecot_dir).join("users"),
        );
        let failures = postmap_all(&inst.postfix_dir);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        inst.postfix(&["check"]);
        inst
    }

    /// Runs `postfix -c DIR ARGS`, which must succeed without a warning.
    /// Postfix prints its complaints only to a terminal (else to its log),
    /// so it runs under `script`, which gives it one.
    pub fn postfix(&self, args: &[&str]) {
        let command = format!(
            "{} -c {} {}",
            tool("postfix").display(),
            self.postfix_dir.display(),
            args.join(" ")
        );
        let out = run(&tool("script"), &["-qec", &command, "/dev/null"]);
        let said = String::from_utf8_lossy(&out.stdout).to_lowercase();
        let log = self.maillog();
        assert!(
            out.status.success()
                && !said.contains("warning")
                && !said.contains("fatal")
                && !log.contains("fatal:"),
            "postfix {args:?} failed for {}: {}\nmaillog:\n{log}",
            self.host,
            show(&out)
        );
    }

    pub fn maillog(&self) -> String {
        read(Path::new(&self.install.postfix_log))
    }

    pub fn dovecot_log(&self) -> String {
        read(Path::new(&self.install.dovecot_log)) + &read(&self.var.join("dovecot.out"))
    }

    fn start_dovecot(&mut self) {
        let out = std::fs::File::create(self.var.join("dovecot.out")).unwrap();
        let child = Command::new(tool("dovecot"))
            .args(["-F", "-c", self.dovecot_conf.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start dovecot");
        self.dovecot = Some(child);
        let (imap, lmtp) = (
            self.install.ports.imap,
            PathBuf::from(format!(
                "{}/private/dovecot-lmtp",
                self.install.postfix_queue_dir
            )),
        );
        wait_for(
            15,
            &format!("Dovecot of {} (IMAP {imap}, LMTP socket)", self.host),
            || listening(imap) && lmtp.exists(),
            || self.dovecot_log(),
        );
    }

    fn start_srs(&mut self) {
        let file = self.postfix_dir.join("postsrsd");
        if !file.exists() {
            return;
        }
        tool("postsrsd");
        std::fs::write(&self.install.srs_secret, "mailc-test-root-secret\n").unwrap();
        std::fs::set_permissions(
            &self.install.srs_secret,
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        mkdir(Path::new(&self.install.srs_chroot), 0o755);
        // As Debian's init script starts it from /etc/default/postsrsd.
        let script = r#"set -e; . "$1"; exec postsrsd -f "$SRS_FORWARD_PORT" -r "$SRS_REVERSE_PORT" \
            -d "$SRS_DOMAIN" -s "$SRS_SECRET" -a "$SRS_SEPARATOR" -n "$SRS_HASHLENGTH" \
            -N "$SRS_HASHMIN" -u "$RUN_AS" -c "$CHROOT" -l "$SRS_LISTEN_ADDR" -X"$SRS_EXCLUDE_DOMAINS""#;
        let out = std::fs::File::create(self.var.join("postsrsd.out")).unwrap();
        let child = Command::new(tool("bash"))
            .args(["-c", script, "postsrsd", file.to_str().unwrap()])
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start postsrsd");
        self.srs = Some(child);
        let port = self.install.srs_ports.0;
        wait_for(
            10,
            &format!("postsrsd of {} on {port}", self.host),
            || listening(port),
            || read(&self.var.join("postsrsd.out")),
        );
    }

    fn pid_file(&self) -> PathBuf {
        PathBuf::from(&self.install.postfix_queue_dir).join("pid/master.pid")
    }

    fn start_postfix(&mut self) {
        self.postfix_started = true;
        self.postfix(&["start"]);
        let pid_file = self.pid_file();
        let port = self.install.ports.smtp;
        wait_for(
            15,
            &format!("Postfix of {} on {port}", self.host),
            || pid_file.exists() && listening(port),
            || self.maillog(),
        );
    }

    /// Stops everything this instance started, each by its PID.
    pub fn stop(&mut self) {
        if std::mem::take(&mut self.postfix_started) {
            let pid: Option<u32> = read(&self.pid_file()).trim().parse().ok();
            let dir = self.postfix_dir.to_str().unwrap().to_string();
            let _ = Command::new(tool("postfix"))
                .args(["-c", &dir, "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if let Some(pid) = pid {
                let deadline = Instant::now() + Duration::from_secs(10);
                while alive(pid) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(50));
                }
                if alive(pid) {
                    terminate(pid);
                }
            }
            // Postfix's children inherit the listening sockets and may outlive
            // the master for a moment: the next instance on these ports must
            // not reach an old smtpd (with the previous spec's tables).
            let deadline = Instant::now() + Duration::from_secs(10);
            let ports = [self.install.ports.smtp, self.install.ports.submission];
            while ports.iter().any(|p| listening(*p)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        for child in [self.srs.take(), self.dovecot.take()].into_iter().flatten() {
            let mut child = child;
            terminate(child.id());
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if let Ok(None) = child.try_wait() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A self-signed certificate for `name` (ECDSA P-256: fast to make).
pub fn make_certificate(dir: &Path, name: &str) {
    mkdir(dir, 0o755);
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = run(
        &tool("openssl"),
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "openssl: {}", show(&out));
}
