//! One `mailc serve` running a spec's IMAP side on 127.0.0.1 for a test:
//! started, restarted, stopped by its PID, with its log kept beside the data.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

/// A running `mailc serve` (IMAP on a STARTTLS port and an implicit-TLS
/// port), killed (SIGKILL) when dropped.
pub struct Server {
    child: Option<Child>,
    input: PathBuf,
    /// The spec's host it runs.
    host: String,
    /// The address it listens on.
    pub bind: String,
    pub data: PathBuf,
    pub log: PathBuf,
    pub port: u16,
    /// Implicit TLS.
    pub imaps: u16,
}

impl Server {
    /// Serves `host` of `input` (a spec or a manifest) on 127.0.0.1 with
    /// its store in `data`, on ports of the block `first..first+1000`.
    pub fn serve(input: &Path, host: &str, data: &Path, first: u16) -> Server {
        Server::serve_on(input, host, "127.0.0.1", data, first)
    }

    /// The same on the address `bind`.
    pub fn serve_on(input: &Path, host: &str, bind: &str, data: &Path, first: u16) -> Server {
        let mut s = Server {
            child: None,
            input: input.to_path_buf(),
            host: host.into(),
            bind: bind.into(),
            data: data.to_path_buf(),
            log: data.with_extension("log"),
            port: free_port(first),
            imaps: free_port(first),
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_mailc"))
            .arg("serve")
            .arg(&self.input)
            .args(["--host", &self.host, "--imap"])
            .arg(format!("{}:{}", self.bind, self.port))
            .arg("--imaps")
            .arg(format!("{}:{}", self.bind, self.imaps))
            .arg("--data")
            .arg(&self.data)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start mailc serve");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("mailc serve exited with {status}:\n{}", self.log_text());
            }
            if [self.port, self.imaps]
                .iter()
                .all(|p| TcpStream::connect((self.bind.as_str(), *p)).is_ok())
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "mailc serve did not listen:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops it (SIGKILL) and starts it again on the same port and store.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Delivers `message` (LF line ends) into a user's INBOX as the SMTP
    /// side does: a file in `tmp/`, renamed into `new/`.
    pub fn deliver(&self, user: &str, name: &str, message: &str) {
        let (local, domain) = user.split_once('@').unwrap();
        let dir = self.data.join("mail").join(domain).join(local);
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let tmp = dir.join("tmp").join(name);
        std::fs::write(&tmp, message.replace('\n', "\r\n")).unwrap();
        std::fs::rename(&tmp, dir.join("new").join(name)).unwrap();
    }

    /// Fails when the server's log shows a panic.
    pub fn assert_no_panic(&self) {
        let log = self.log_text();
        assert!(!log.contains("panicked"), "the server panicked:\n{log}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
