//! POP3 sessions and the IMAP view of an INBOX through Python's `poplib`
//! and `imaplib` (`tests/pop3/*.py`), and fetchmail, for the POP3 tests of
//! Dovecot and of `mailc serve`.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::{root, tool};

/// Runs `tests/pop3/session.py PORT ACTIONS...`: one entry per action
/// (the greeting first), each `{"ok": ...}` or `{"err": "-ERR ..."}`.
pub fn session(port: u16, actions: &[&str]) -> Vec<Value> {
    let out = Command::new(tool("python3", "the POP3 tests"))
        .arg(root().join("tests/pop3/session.py"))
        .arg(port.to_string())
        .args(actions)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "POP3 session {actions:?} on {port}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_str::<Value>(&stdout) {
        Ok(Value::Array(v)) => v,
        _ => panic!("POP3 session {actions:?}: not JSON: {stdout}"),
    }
}

/// What the server said to action `i` (0 is the greeting); panics on -ERR.
pub fn ok(said: &[Value], i: usize) -> &Value {
    match said.get(i).and_then(|v| v.get("ok")) {
        Some(v) => v,
        None => panic!("action {i} failed: {said:?}"),
    }
}

/// The -ERR line of action `i`; panics when it succeeded.
pub fn err(said: &[Value], i: usize) -> String {
    match said
        .get(i)
        .and_then(|v| v.get("err"))
        .and_then(Value::as_str)
    {
        Some(e) => e.to_string(),
        None => panic!("action {i} did not fail: {said:?}"),
    }
}

/// The UIDL lines `N UID` as (number, unique id).
pub fn uidls(v: &Value) -> Vec<(u32, String)> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            let (n, u) = l.as_str()?.split_once(' ')?;
            Some((n.parse().ok()?, u.to_string()))
        })
        .collect()
}

/// The INBOX over IMAP: (UIDVALIDITY, UIDs, UIDs with `\Seen`).
pub fn imap_uids(port: u16, user: &str, password: &str) -> (u32, Vec<u32>, Vec<u32>) {
    let out = Command::new(tool("python3", "the POP3 tests"))
        .arg(root().join("tests/pop3/imap_uids.py"))
        .args([&port.to_string(), user, password])
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "IMAP UIDs of {user} on {port}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&stdout).expect("imap_uids.py JSON");
    let nums = |k: &str| -> Vec<u32> {
        v[k].as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_u64().map(|n| n as u32))
            .collect()
    };
    (
        v["uidvalidity"].as_u64().unwrap_or(0) as u32,
        nums("uids"),
        nums("seen"),
    )
}

/// The UIDL the IMAP view gives a message: its UID and the folder's
/// UIDVALIDITY, eight lowercase hex digits each.
pub fn uidl_of(uidvalidity: u32, uid: u32) -> String {
    format!("{uid:08x}{uidvalidity:08x}")
}

/// Runs fetchmail once (as `nobody`, keeping the mail on the server, UIDL
/// bookkeeping in `dir`) against 127.0.0.1:`port`; returns its exit code
/// (0 mail fetched, 1 none new, 3 login refused) and what it said. The
/// fetched messages are appended to `dir/fetched`.
pub fn fetchmail(dir: &Path, port: u16, user: &str, password: &str, ssl: bool) -> (i32, String) {
    std::fs::create_dir_all(dir).unwrap();
    let rc = dir.join("fetchmailrc");
    let tls = if ssl {
        "  ssl sslcertck off\n".to_string()
    } else {
        "  sslproto ''\n".to_string()
    };
    std::fs::write(
        &rc,
        format!(
            "set no syslog\nset idfile \"{d}/fetchids\"\n\
             poll 127.0.0.1 service {port} protocol pop3 uidl auth password timeout 30\n  \
             user \"{user}\" there with password \"{password}\" is \"nobody\" here\n  keep\n{tls}  \
             mda \"/bin/sh -c 'cat >> {d}/fetched'\"\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let chown = Command::new(tool("chown", "the POP3 tests"))
        .args(["-R", "nobody:nogroup", dir.to_str().unwrap()])
        .status()
        .expect("chown");
    assert!(chown.success());
    std::fs::set_permissions(&rc, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let out = Command::new(tool("setpriv", "the POP3 tests"))
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(tool("fetchmail", "the POP3 tests"))
        .args(["-f", rc.to_str().unwrap(), "-v", "--nodetach"])
        .env("HOME", dir)
        .output()
        .expect("run fetchmail");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}
