//! One `mailc serve` for a test, whatever protocols it speaks: started with
//! the listeners the test names, each on a free port (on 127.0.0.1 or the
//! address given), waited for until every port answers (a server that exits
//! first fails the test with its log), restarted on the same ports and
//! store, and stopped by SIGKILL when dropped. Its log is kept beside the
//! data folder.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

/// How long a server may take to listen on a loaded machine.
const READY: Duration = Duration::from_secs(120);

/// What to start: `Server::build(input, data)`, then listeners and flags.
pub struct Serve {
    input: PathBuf,
    data: PathBuf,
    host: Option<String>,
    dir: Option<PathBuf>,
    listen: Vec<(String, String)>,
    extra: Vec<String>,
    first_port: u16,
    log: Option<PathBuf>,
}

impl Serve {
    /// `--host NAME` (the spec's host to serve).
    pub fn host(mut self, name: &str) -> Serve {
        self.host = Some(name.into());
        self
    }

    /// A listener `FLAG ADDRESS:PORT` (`--smtp`, `--imaps`, `--pop3`…) on
    /// a free port at `address`.
    pub fn listen(mut self, flag: &str, address: &str) -> Serve {
        self.listen.push((flag.into(), address.into()));
        self
    }

    /// The same listener flags, all on 127.0.0.1.
    pub fn on_loopback(mut self, flags: &[&str]) -> Serve {
        for f in flags {
            self = self.listen(f, "127.0.0.1");
        }
        self
    }

    /// More flags (`--relay-all HOST:PORT`, `--retry-base 1`…).
    pub fn args<S: AsRef<str>>(mut self, args: impl IntoIterator<Item = S>) -> Serve {
        self.extra
            .extend(args.into_iter().map(|a| a.as_ref().to_string()));
        self
    }

    /// Runs in `dir` (an input given relative to it).
    pub fn in_dir(mut self, dir: &Path) -> Serve {
        self.dir = Some(dir.to_path_buf());
        self
    }

    /// Free ports are looked for from `first` on.
    pub fn ports_from(mut self, first: u16) -> Serve {
        self.first_port = first;
        self
    }

    /// The log goes to `path` (else `DATA.log`).
    pub fn log(mut self, path: &Path) -> Serve {
        self.log = Some(path.to_path_buf());
        self
    }

    pub fn start(self) -> Server {
        let first = self.first_port;
        let listen = self
            .listen
            .iter()
            .map(|(flag, at)| (flag.clone(), at.clone(), free_port(first)))
            .collect();
        let mut s = Server {
            child: None,
            log: self
                .log
                .clone()
                .unwrap_or_else(|| self.data.with_extension("log")),
            data: self.data.clone(),
            listen,
            how: self,
        };
        s.spawn();
        s
    }
}

/// A running `mailc serve`, killed (SIGKILL) when dropped.
pub struct Server {
    child: Option<Child>,
    how: Serve,
    /// Each listener: its flag, address and port.
    listen: Vec<(String, String, u16)>,
    pub data: PathBuf,
    pub log: PathBuf,
}

impl Server {
    /// `mailc serve INPUT` (a spec or a manifest) with its store in `data`.
    pub fn build(input: &Path, data: &Path) -> Serve {
        Serve {
            input: input.to_path_buf(),
            data: data.to_path_buf(),
            host: None,
            dir: None,
            listen: Vec::new(),
            extra: Vec::new(),
            first_port: 28000,
            log: None,
        }
    }

    /// The port of the listener `flag`.
    pub fn port(&self, flag: &str) -> u16 {
        self.listen
            .iter()
            .find(|(f, _, _)| f == flag)
            .unwrap_or_else(|| panic!("no listener {flag}"))
            .2
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let how = &self.how;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailc"));
        if let Some(dir) = &how.dir {
            cmd.current_dir(dir);
        }
        cmd.arg("serve").arg(&how.input);
        if let Some(h) = &how.host {
            cmd.args(["--host", h]);
        }
        for (flag, at, port) in &self.listen {
            cmd.arg(flag).arg(format!("{at}:{port}"));
        }
        cmd.args(&how.extra)
            .arg("--data")
            .arg(&self.data)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        self.child = Some(cmd.spawn().expect("start mailc serve"));
        let deadline = Instant::now() + READY;
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("mailc serve exited with {status}:\n{}", self.log_text());
            }
            if self
                .listen
                .iter()
                .all(|(_, at, p)| TcpStream::connect((at.as_str(), *p)).is_ok())
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

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Whether it has not exited.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    /// Its exit status once it has exited by itself.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut().unwrap().try_wait().unwrap()
    }

    /// Waits for it to exit by itself (after a SIGTERM), and its status.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        let status = self.child.as_mut().unwrap().wait().unwrap();
        self.child = None;
        status
    }

    /// Stops it at once (SIGKILL): nothing is flushed or finished.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kills it (SIGKILL) and starts it again on the same ports and store.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The message files in a user's INBOX `new/`, sorted.
    pub fn inbox(&self, user: &str) -> Vec<String> {
        let (local, domain) = user.split_once('@').unwrap();
        let dir = self.data.join("mail").join(domain).join(local).join("new");
        let mut out: Vec<String> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .map(|e| {
                    String::from_utf8_lossy(&std::fs::read(e.unwrap().path()).unwrap()).into_owned()
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        out.sort();
        out
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
        self.kill9();
    }
}
