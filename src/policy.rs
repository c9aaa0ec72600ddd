//! `mailc policy`: the sending limits of a Postfix host, as a Postfix
//! policy delegation service (Postfix's SMTPD_POLICY_README: a request is
//! `name=value` lines ended by an empty line, the answer one
//! `action=...` line and an empty line).
//!
//! Postfix asks at each `RCPT TO` of the submission services
//! (`check_policy_service` in their `smtpd_relay_restrictions`). The first
//! request of a message (a new `instance`) counts a message, every request
//! a recipient, against the login (`sasl_username`) and its domain, with
//! the limits of the table mailc compiles for the host (`send_limits`,
//! re-read when it changes). The counts are [`Counters`], durable before
//! the answer. Requests without a login are let through (`DUNNO`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::manifest::{SendKind, SendLimits};
use crate::ratelimit::{Counters, Sender, domain_of};

/// The longest request line read (Postfix's attributes are short; a
/// longer line is not a policy client).
const LINE_BYTES: usize = 8 << 10;
/// Lines one request may have.
const REQUEST_LINES: usize = 100;
/// How many recent messages are remembered as already counted.
const INSTANCES: usize = 100_000;

/// The compiled limits of one host: `LOGIN<TAB>messages=N recipients=N`
/// and `DOMAIN<TAB>...` rows, `#` comments (a postmap source file).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    rows: HashMap<String, SendLimits>,
}

/// Why a limits table could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: not a row of mailc's send_limits table")]
pub struct TableError {
    pub path: String,
    pub line: usize,
}

impl Table {
    /// Reads a table's text (`path` names it in errors).
    pub fn parse(text: &str, path: &str) -> Result<Table, TableError> {
        let mut rows = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || TableError {
                path: path.to_string(),
                line: i + 1,
            };
            let (key, value) = line.split_once(char::is_whitespace).ok_or_else(bad)?;
            let limits = SendLimits::parse_row(value.trim()).ok_or_else(bad)?;
            rows.insert(key.to_ascii_lowercase(), limits);
        }
        Ok(Table { rows })
    }

    /// The limits of a login and of its domain.
    pub fn sender<'a>(&self, login: &'a str) -> Sender<'a> {
        let domain = domain_of(login);
        Sender {
            login,
            limits: self.rows.get(login).copied().unwrap_or_default(),
            domain,
            domain_limits: self.rows.get(domain).copied().unwrap_or_default(),
        }
    }
}

/// What the service shares between its connections.
pub struct Policy {
    table_path: PathBuf,
    table: Mutex<(Option<SystemTime>, Arc<Table>)>,
    counters: Mutex<Counters>,
    /// Messages already counted, by Postfix's `instance`, oldest first.
    seen: Mutex<(VecDeque<String>, HashSet<String>)>,
}

impl Policy {
    /// Reads the table and opens the counters.
    pub fn open(table: &Path, state: &Path) -> Result<Policy, PolicyError> {
        let now = unix_now();
        let policy = Policy {
            table_path: table.to_path_buf(),
            table: Mutex::new((None, Arc::new(Table::default()))),
            counters: Mutex::new(Counters::open(state, now).map_err(|e| PolicyError::State {
                path: state.display().to_string(),
                error: e,
            })?),
            seen: Mutex::new((VecDeque::new(), HashSet::new())),
        };
        policy.reload()?;
        Ok(policy)
    }

    /// Reads the table again when its file changed.
    fn reload(&self) -> Result<Arc<Table>, PolicyError> {
        let path = self.table_path.display().to_string();
        let io = |e| PolicyError::Table {
            path: path.clone(),
            error: e,
        };
        let modified = std::fs::metadata(&self.table_path)
            .and_then(|m| m.modified())
            .map_err(io)?;
        let mut slot = self.table.lock().unwrap_or_else(|p| p.into_inner());
        if slot.0 != Some(modified) {
            let bytes = crate::limits::read(&self.table_path, crate::limits::SPEC_BYTES)
                .map_err(|e| io(io::Error::other(e.to_string())))?;
            let text = String::from_utf8_lossy(&bytes);
            let table = Table::parse(&text, &path)?;
            *slot = (Some(modified), Arc::new(table));
        }
        Ok(slot.1.clone())
    }

    /// The answer to one request: `action=...`.
    pub fn answer(&self, request: &HashMap<String, String>, now: u64) -> String {
        let get = |k: &str| request.get(k).map(String::as_str).unwrap_or("");
        let login = get("sasl_username").to_ascii_lowercase();
        if get("request") != "smtpd_access_policy" || login.is_empty() {
            return "action=DUNNO".into();
        }
        if !get("protocol_state").eq_ignore_ascii_case("RCPT") {
            return "action=DUNNO".into();
        }
        let table = match self.reload() {
            Ok(t) => t,
            Err(e) => {
                eprintln!("mailc policy: {e}");
                return format!("action={}", crate::reply::LIMITS_UNAVAILABLE);
            }
        };
        let sender = table.sender(&login);
        let instance = get("instance").to_string();
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let first = !self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .contains(&instance);
        let verdict = match first {
            true => counters.take(now, &sender, SendKind::Messages),
            false => Ok(Ok(())),
        };
        if first && matches!(verdict, Ok(Ok(()))) {
            self.remember(instance);
        }
        let verdict = match verdict {
            Ok(Ok(())) => counters.take(now, &sender, SendKind::Recipients),
            other => other,
        };
        match verdict {
            Ok(Ok(())) => "action=DUNNO".into(),
            Ok(Err(reply)) => format!("action={reply}"),
            Err(e) => {
                eprintln!(
                    "mailc policy: {}: cannot record a count: {e}",
                    counters.path().display()
                );
                format!("action={}", crate::reply::UNCOUNTED)
            }
        }
    }

    fn remember(&self, instance: String) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.1.insert(instance.clone()) {
            seen.0.push_back(instance);
        }
        while seen.0.len() > INSTANCES {
            if let Some(old) = seen.0.pop_front() {
                seen.1.remove(&old);
            }
        }
    }
}

/// Why the service cannot start.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read the limits table {path}: {error}")]
    Table { path: String, error: io::Error },
    #[error(transparent)]
    Row(#[from] TableError),
    #[error("cannot open the counts {path}: {error}")]
    State { path: String, error: io::Error },
}

/// Answers Postfix's connections on `listener`, each on its own thread,
/// until the process is stopped (every count is on disk before its
/// answer, so stopping loses nothing).
pub fn serve(listener: TcpListener, policy: Arc<Policy>) -> io::Result<()> {
    for conn in listener.incoming() {
        let conn = match conn {
            Ok(c) => c,
            Err(e) => {
                eprintln!("mailc policy: accept: {e}");
                continue;
            }
        };
        let policy = policy.clone();
        std::thread::spawn(move || {
            if let Err(e) = session(conn, &policy) {
                eprintln!("mailc policy: connection: {e}");
            }
        });
    }
    Ok(())
}

/// One client connection: requests until it closes.
fn session(conn: TcpStream, policy: &Policy) -> io::Result<()> {
    let mut out = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    loop {
        let mut request = HashMap::new();
        let mut lines = 0;
        loop {
            let mut line = Vec::new();
            let n = (&mut reader)
                .take(LINE_BYTES as u64 + 1)
                .read_until(b'\n', &mut line)?;
            if n == 0 {
                return Ok(());
            }
            if line.len() > LINE_BYTES || !line.ends_with(b"\n") {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
            }
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                break;
            }
            lines += 1;
            if lines > REQUEST_LINES {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "request too long",
                ));
            }
            if let Some((k, v)) = line.split_once('=') {
                request.insert(k.to_string(), v.to_string());
            }
        }
        let answer = policy.answer(&request, unix_now());
        out.write_all(format!("{answer}\n\n").as_bytes())?;
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(login: &str, instance: &str) -> HashMap<String, String> {
        [
            ("request", "smtpd_access_policy"),
            ("protocol_state", "RCPT"),
            ("sasl_username", login),
            ("instance", instance),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn messages_count_once_per_instance_and_recipients_each() {
        let dir = tempfile::tempdir().unwrap();
        let table = dir.path().join("send_limits");
        std::fs::write(
            &table,
            "# header\nalice@example.com\tmessages=2 recipients=3\nexample.com\tmessages=10\n",
        )
        .unwrap();
        let p = Policy::open(&table, &dir.path().join("counts")).unwrap();
        let now = 3600 * 500_000;
        assert_eq!(
            p.answer(&request("Alice@example.com", "a.1"), now),
            "action=DUNNO"
        );
        assert_eq!(
            p.answer(&request("alice@example.com", "a.1"), now),
            "action=DUNNO"
        );
        assert_eq!(
            p.answer(&request("alice@example.com", "a.2"), now),
            "action=DUNNO"
        );
        let over = p.answer(&request("alice@example.com", "a.2"), now);
        assert!(
            over.starts_with(
                "action=450 4.7.1 <alice@example.com>: sending limit reached: 3 recipients per hour"
            ),
            "{over}"
        );
        let over = p.answer(&request("alice@example.com", "a.3"), now);
        assert!(
            over.contains("2 messages per hour for this mailbox"),
            "{over}"
        );
        // No login, or another stage: not counted.
        assert_eq!(p.answer(&request("", "b.1"), now), "action=DUNNO");
        let mut data = request("alice@example.com", "a.3");
        data.insert("protocol_state".into(), "DATA".into());
        assert_eq!(p.answer(&data, now), "action=DUNNO");
        assert!(Table::parse("alice@example.com messages=x\n", "t").is_err());
    }
}
