//! Whole mail clients against `mailc serve` on 127.0.0.1 (`docs/testing.md`,
//! "Mail clients"), each installed by `.ci/install-oracles`:
//!
//! - mbsync (isync) keeps a local Maildir and the server's mailboxes in
//!   step both ways over several runs, with `mailc serve` restarted between
//!   them: the first pull of every folder, a flag changed, a message added
//!   and a message deleted on each side, then a run that changes nothing.
//!   Both sides are read back and must hold the same messages with the same
//!   flags, under UIDs and a UIDVALIDITY that never change.
//! - Roundcube (Debian's roundcube-core, run by PHP's built-in web server)
//!   in a headless Chromium driven over WebDriver: log in, the INBOX's
//!   message list, sorted by date both ways and in the threads view, and a
//!   message opened; Roundcube's own IMAP log shows it asked the server to
//!   SORT and THREAD.
//!
//! A missing program fails the test, never a skip. Ports 24000–24999.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod support;

use support::imap::Server;
use support::{Temp, free_port, root, tool};

/// The first port of this suite's block.
const PORTS: u16 = 24000;

fn embedded_imap() -> PathBuf {
    root().join("tests/cases/embedded-imap/mailc.yaml")
}

/// A message with a Message-ID, dated, as mail arrives (LF line ends).
fn message(id: &str, subject: &str, date: &str, body: &str) -> String {
    format!(
        "From: Bob Example <bob@example.com>\nTo: Alice <alice@example.com>\n\
         Subject: {subject}\nDate: {date}\nMessage-ID: <{id}@example.com>\n\n{body}\n"
    )
}

/// Runs a Python script with the server's port in `PORT`; its standard
/// output, or a failure showing the script's error and the server's log.
fn python(server: &Server, script: &str) -> String {
    let prelude = "import imaplib, os, re\nPORT = int(os.environ['PORT'])\n\
                   def login():\n    m = imaplib.IMAP4('127.0.0.1', PORT, timeout=60)\n    \
                   assert m.login('alice@example.com', 'alice-pw')[0] == 'OK'\n    return m\n\
                   def ok(res):\n    assert res[0] == 'OK', res\n    return res[1]\n";
    let out = Command::new(tool("python3", "the IMAP client tests drive imaplib"))
        .args(["-c", &format!("{prelude}{script}")])
        .env("PORT", server.port.to_string())
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python failed:\n{}{}\n--- server log\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        server.log_text()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Both sides of the channel (`tests/imap_clients/state.py`).
fn both_sides(server: &Server, maildir: &Path) -> Value {
    let out = Command::new(tool("python3", "the IMAP client tests drive imaplib"))
        .arg(root().join("tests/imap_clients/state.py"))
        .arg(server.port.to_string())
        .args(["alice@example.com", "alice-pw"])
        .arg(maildir)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "state.py failed:\n{}\n--- server log\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log_text()
    );
    serde_json::from_slice(&out.stdout).expect("state.py prints JSON")
}

/// One mailbox's messages as (Message-ID, flags, SHA-256), sorted.
fn contents(messages: &Value) -> Vec<(String, Vec<String>, String)> {
    let mut v: Vec<_> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let flags = m["flags"].as_array().unwrap();
            (
                m["id"].as_str().unwrap_or("").to_string(),
                flags
                    .iter()
                    .map(|f| f.as_str().unwrap().to_string())
                    .collect(),
                m["sha"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Fails unless the Maildir and the server hold the same folders, each
/// with the same messages, flags and bytes, and mbsync's record of each
/// folder names the server's UIDVALIDITY and UIDs the server has. Returns
/// each mailbox's Message-IDs with their flags, for the test's own checks.
fn assert_in_step(sides: &Value) -> BTreeMap<String, Vec<(String, Vec<String>)>> {
    let imap = sides["imap"].as_object().unwrap();
    let local = sides["maildir"].as_object().unwrap();
    assert_eq!(
        imap.keys().collect::<Vec<_>>(),
        local.keys().collect::<Vec<_>>(),
        "the folders differ:\n{sides:#}"
    );
    let mut view = BTreeMap::new();
    for (name, box_) in imap {
        let here = contents(&box_["messages"]);
        assert_eq!(
            here,
            contents(&local[name]["messages"]),
            "{name}: the server and the Maildir differ:\n{sides:#}"
        );
        let state = &local[name]["state"];
        assert_eq!(
            state["far_uidvalidity"], box_["uidvalidity"],
            "{name}: mbsync's UIDVALIDITY is not the server's:\n{sides:#}"
        );
        let mut paired: Vec<u64> = state["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[0].as_u64().unwrap())
            .collect();
        paired.sort();
        let uids: Vec<u64> = box_["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["uid"].as_u64().unwrap())
            .collect();
        assert_eq!(
            paired, uids,
            "{name}: mbsync pairs other UIDs than the server has:\n{sides:#}"
        );
        view.insert(
            name.clone(),
            here.into_iter().map(|(id, flags, _)| (id, flags)).collect(),
        );
    }
    view
}

/// Each message's (mailbox, Message-ID) → UID, and each mailbox's UIDVALIDITY.
fn uids(sides: &Value) -> (BTreeMap<(String, String), u64>, BTreeMap<String, u64>) {
    let mut uids = BTreeMap::new();
    let mut validity = BTreeMap::new();
    for (name, box_) in sides["imap"].as_object().unwrap() {
        validity.insert(name.clone(), box_["uidvalidity"].as_u64().unwrap());
        for m in box_["messages"].as_array().unwrap() {
            uids.insert(
                (name.clone(), m["id"].as_str().unwrap().to_string()),
                m["uid"].as_u64().unwrap(),
            );
        }
    }
    (uids, validity)
}

fn flags(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

fn ids(view: &BTreeMap<String, Vec<(String, Vec<String>)>>, name: &str) -> Vec<String> {
    view[name].iter().map(|(id, _)| id.clone()).collect()
}

fn flags_of(
    view: &BTreeMap<String, Vec<(String, Vec<String>)>>,
    name: &str,
    id: &str,
) -> Vec<String> {
    let id = format!("<{id}@example.com>");
    view[name]
        .iter()
        .find(|(i, _)| *i == id)
        .unwrap_or_else(|| panic!("{id} is not in {name}: {view:?}"))
        .1
        .clone()
}

/// Renames a Maildir message file to carry the flag letters `info` (as a
/// mail reader that keeps Maildir does).
fn set_local_flags(folder: &Path, id: &str, info: &str) {
    for sub in ["cur", "new"] {
        for e in std::fs::read_dir(folder.join(sub)).unwrap() {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            if text.contains(&format!("Message-ID: <{id}@example.com>")) {
                let name = path.file_name().unwrap().to_str().unwrap();
                let base = name.split(":2,").next().unwrap();
                std::fs::rename(&path, folder.join("cur").join(format!("{base}:2,{info}")))
                    .unwrap();
                return;
            }
        }
    }
    panic!("no {id} in {}", folder.display());
}

fn remove_local(folder: &Path, id: &str) {
    for sub in ["cur", "new"] {
        for e in std::fs::read_dir(folder.join(sub)).unwrap() {
            let path = e.unwrap().path();
            if std::fs::read_to_string(&path)
                .unwrap()
                .contains(&format!("Message-ID: <{id}@example.com>"))
            {
                std::fs::remove_file(&path).unwrap();
                return;
            }
        }
    }
    panic!("no {id} in {}", folder.display());
}

/// isync 1.4 acts on these server capabilities only: LOGINDISABLED,
/// SASL-IR, UIDPLUS, LITERAL+, MOVE and COMPRESS=DEFLATE (the list in its
/// IMAP driver). It has no CONDSTORE: each run fetches the UIDs and flags
/// of every message and compares them with its own record. So the server's
/// CONDSTORE side is checked around it: a run with nothing to do must
/// leave every MODSEQ and HIGHESTMODSEQ where it was.
#[test]
fn mbsync_two_way_sync_across_restarts() {
    let mbsync = tool(
        "mbsync",
        "the IMAP client tests sync a Maildir with isync's mbsync",
    );
    let tmp = Temp::new("mbsync-sync");
    let mut server = Server::serve(&embedded_imap(), "mx1", &tmp.0.join("data"), PORTS);
    let alice = "alice@example.com";
    for (n, (id, subject)) in [
        ("lunch", "lunch on friday"),
        ("report", "the report"),
        ("minutes", "minutes of the meeting"),
        ("invoice", "invoice 42"),
    ]
    .into_iter()
    .enumerate()
    {
        let date = format!("Mon, {} Nov 2026 09:00:00 +0000", 16 + n);
        server.deliver(
            alice,
            &format!("17000000{n:02}.{id}.test"),
            &message(id, subject, &date, &format!("the text of {subject}")),
        );
    }
    python(
        &server,
        &format!(
            r#"
m = login()
ok(m.create("Archive.2026"))
for box, flags, text in [("Sent", "(\\Seen)", {sent:?}), ("Archive.2026", "(\\Seen \\Flagged)", {old:?}), ("Archive.2026", None, {older:?})]:
    ok(m.append(box, flags, None, text.replace("\n", "\r\n").encode()))
"#,
            sent = message(
                "sent",
                "re: lunch",
                "Tue, 17 Nov 2026 10:00:00 +0000",
                "noon is fine"
            ),
            old = message(
                "old",
                "last year",
                "Wed, 18 Nov 2026 10:00:00 +0000",
                "kept"
            ),
            older = message(
                "older",
                "the year before",
                "Thu, 19 Nov 2026 10:00:00 +0000",
                "kept too"
            ),
        ),
    );

    let local = tmp.0.join("local");
    std::fs::create_dir_all(&local).unwrap();
    let rc = tmp.0.join("mbsyncrc");
    std::fs::write(
        &rc,
        format!(
            "IMAPAccount test\nHost 127.0.0.1\nPort {port}\nUser {alice}\nPass alice-pw\n\
             SSLType None\nAuthMechs PLAIN\n\nIMAPStore remote\nAccount test\n\n\
             MaildirStore local\nPath {local}/\nInbox {local}/INBOX\nSubFolders Verbatim\n\n\
             Channel sync\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\nExpunge Both\n\
             SyncState *\n",
            port = server.port,
            local = local.display()
        ),
    )
    .unwrap();
    let sync = |server: &Server| {
        let out = Command::new(&mbsync)
            .arg("-c")
            .arg(&rc)
            .arg("-a")
            .output()
            .expect("run mbsync");
        assert!(
            out.status.success(),
            "mbsync failed:\n{}{}\n--- server log\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            server.log_text()
        );
    };

    // The first pull: every folder, every message, its flags.
    sync(&server);
    let first = both_sides(&server, &local);
    let view = assert_in_step(&first);
    assert_eq!(
        view.keys().collect::<Vec<_>>(),
        [
            "Archive",
            "Archive.2026",
            "Drafts",
            "INBOX",
            "Junk",
            "Sent",
            "Trash"
        ],
        "{first:#}"
    );
    assert_eq!(view["INBOX"].len(), 4, "{first:#}");
    assert_eq!(flags_of(&view, "Sent", "sent"), flags(&["\\Seen"]));
    assert_eq!(
        flags_of(&view, "Archive.2026", "old"),
        flags(&["\\Flagged", "\\Seen"])
    );
    assert!(
        local.join("Archive/2026/cur").is_dir(),
        "a subfolder is a Maildir of its own"
    );

    // A change of each kind on each side, with the server restarted between.
    server.restart();
    let inbox = local.join("INBOX");
    set_local_flags(&inbox, "lunch", "F");
    remove_local(&inbox, "minutes");
    set_local_flags(&local.join("Sent"), "sent", "");
    let draft = message(
        "draft",
        "a draft",
        "Fri, 20 Nov 2026 08:00:00 +0000",
        "written offline",
    );
    std::fs::write(local.join("Drafts/new/1700000100.draft.local"), &draft).unwrap();
    python(
        &server,
        &format!(
            r#"
m = login()
ok(m.select("INBOX"))
uid = ok(m.uid("SEARCH", None, "HEADER", "Message-ID", "<report@example.com>"))[0]
ok(m.uid("STORE", uid, "+FLAGS", "(\\Seen \\Answered)"))
ok(m.select("Archive.2026"))
uid = ok(m.uid("SEARCH", None, "HEADER", "Message-ID", "<older@example.com>"))[0]
ok(m.uid("STORE", uid, "+FLAGS", "(\\Deleted)"))
ok(m.expunge())
ok(m.append("Archive.2026", None, None, {new:?}.replace("\n", "\r\n").encode()))
"#,
            new = message(
                "filed",
                "filed away",
                "Sat, 21 Nov 2026 10:00:00 +0000",
                "new on the server"
            ),
        ),
    );
    sync(&server);
    server.restart();
    let second = both_sides(&server, &local);
    let view = assert_in_step(&second);
    assert_eq!(
        ids(&view, "INBOX"),
        [
            "<invoice@example.com>",
            "<lunch@example.com>",
            "<report@example.com>"
        ],
        "a message deleted in the Maildir is expunged on the server:\n{second:#}"
    );
    assert_eq!(flags_of(&view, "INBOX", "lunch"), flags(&["\\Flagged"]));
    assert_eq!(
        flags_of(&view, "INBOX", "report"),
        flags(&["\\Answered", "\\Seen"])
    );
    assert_eq!(flags_of(&view, "Sent", "sent"), Vec::<String>::new());
    assert_eq!(ids(&view, "Drafts"), ["<draft@example.com>"]);
    assert_eq!(
        ids(&view, "Archive.2026"),
        ["<filed@example.com>", "<old@example.com>"],
        "a message expunged on the server is gone from the Maildir:\n{second:#}"
    );
    // What was there before keeps its UID and every UIDVALIDITY stands.
    let (uids_before, validity_before) = uids(&first);
    let (uids_after, validity_after) = uids(&second);
    assert_eq!(validity_before, validity_after);
    for (key, uid) in &uids_after {
        if let Some(before) = uids_before.get(key) {
            assert_eq!(before, uid, "{key:?} changed its UID");
        }
    }

    // Nothing left to do: neither side changes, down to MODSEQs and file names.
    sync(&server);
    let third = both_sides(&server, &local);
    assert_eq!(second, third, "a sync with nothing to do changed something");
    server.assert_no_panic();
}

/// Why Roundcube's test needs what it runs.
const WEBMAIL: &str = "the webmail test runs Debian's Roundcube (roundcube-core, roundcube-sqlite3) \
     with php-cli's built-in server, in Chromium driven by chromium-driver";

/// A helper program in a process group of its own, stopped with its
/// children (the browsers chromedriver starts) when dropped.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// Starts `cmd` and waits until `port` on 127.0.0.1 takes connections.
    fn start(mut cmd: Command, port: u16, log: PathBuf) -> Daemon {
        let out = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{WEBMAIL}: {e}"));
        let mut d = Daemon { child, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = d.child.try_wait().unwrap() {
                panic!("{cmd:?} exited with {status}:\n{}", d.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "{cmd:?} did not listen:\n{}",
                d.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // The whole group this test started (its PID is the group's id).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Roundcube's configuration for one test: its SQLite database, logs and
/// temporary files in `dir`, the IMAP server `mailc serve`, no SMTP (the
/// test sends nothing), and its IMAP conversation logged.
fn roundcube_config(dir: &Path, imap_port: u16) -> PathBuf {
    let roundcube = Path::new("/usr/share/roundcube");
    assert!(
        roundcube.join("index.php").is_file()
            && Path::new("/var/lib/roundcube/public_html").is_dir(),
        "Roundcube is not installed; {WEBMAIL}. Run `.ci/install-oracles`"
    );
    let config = dir.join("config");
    for sub in ["config", "logs", "temp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    // Roundcube reads its defaults from the folder of its configuration.
    for file in ["defaults.inc.php", "mimetypes.php"] {
        std::os::unix::fs::symlink(Path::new("/etc/roundcube").join(file), config.join(file))
            .unwrap();
    }
    let db = dir.join("roundcube.db");
    let schema = std::fs::File::open(roundcube.join("SQL/sqlite.initial.sql")).unwrap();
    let out = Command::new(tool("sqlite3", WEBMAIL))
        .arg(&db)
        .stdin(schema)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        config.join("config.inc.php"),
        format!(
            "<?php\n$config = [];\n\
             $config['db_dsnw'] = 'sqlite:///{db}?mode=0600';\n\
             $config['imap_host'] = '127.0.0.1:{imap_port}';\n\
             $config['smtp_host'] = '';\n\
             $config['des_key'] = 'mailc-roundcube-test-key';\n\
             $config['log_dir'] = '{logs}/';\n\
             $config['temp_dir'] = '{temp}/';\n\
             $config['imap_debug'] = true;\n\
             $config['plugins'] = [];\n\
             $config['skin'] = 'elastic';\n\
             $config['enable_spellcheck'] = false;\n\
             $config['enable_installer'] = false;\n",
            db = db.display(),
            logs = dir.join("logs").display(),
            temp = dir.join("temp").display(),
        ),
    )
    .unwrap();
    // PHP's server hands every request that is not a file to Roundcube,
    // told where this configuration is.
    let router = dir.join("router.php");
    std::fs::write(
        &router,
        format!(
            "<?php\n$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);\n\
             if ($path !== '/' && is_file($_SERVER['DOCUMENT_ROOT'] . $path)) {{\n    return false;\n}}\n\
             define('RCMAIL_CONFIG_DIR', '{}');\n\
             require $_SERVER['DOCUMENT_ROOT'] . '/index.php';\n",
            config.display()
        ),
    )
    .unwrap();
    router
}

/// The INBOX of the Roundcube tests (`tests/imap_clients/inbox/`):
/// arrival (UID) order is not date order, three messages are one thread,
/// one has an attachment.
fn deliver_inbox(server: &Server) {
    let dir = root().join("tests/imap_clients/inbox");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        server.deliver("alice@example.com", &name, &text);
    }
}

/// The list as Roundcube showed it: each row's subject, thread depth and
/// thread parent's subject.
fn shown(list: &Value) -> Vec<(String, u64, Option<String>)> {
    let rows = list["rows"].as_array().unwrap();
    let subject_of = |uid: &Value| {
        rows.iter()
            .find(|r| r["uid"] == *uid)
            .map(|r| r["subject"].as_str().unwrap().to_string())
    };
    rows.iter()
        .map(|r| {
            (
                r["subject"].as_str().unwrap().to_string(),
                r["depth"].as_u64().unwrap(),
                subject_of(&r["parent"]),
            )
        })
        .collect()
}

#[test]
fn roundcube_lists_sorts_threads_and_opens_mail() {
    let php = tool("php", WEBMAIL);
    let chromedriver = tool("chromedriver", WEBMAIL);
    let chromium = tool("chromium", WEBMAIL);
    // The browser itself rather than Debian's launcher script.
    let browser = Some(PathBuf::from("/usr/lib/chromium/chromium"))
        .filter(|p| p.is_file())
        .unwrap_or(chromium);
    let tmp = Temp::new("roundcube-web");
    let server = Server::serve(&embedded_imap(), "mx1", &tmp.0.join("data"), PORTS);
    // Arrival (UID) order is not date order; three messages are one thread.
    deliver_inbox(&server);

    let web = tmp.0.join("web");
    let router = roundcube_config(&web, server.port);
    let web_port = free_port(PORTS);
    let mut cmd = Command::new(&php);
    cmd.arg("-S")
        .arg(format!("127.0.0.1:{web_port}"))
        .args(["-t", "/var/lib/roundcube/public_html"])
        .arg(&router)
        .current_dir(&web);
    let php_server = Daemon::start(cmd, web_port, web.join("php.log"));
    let driver_port = free_port(PORTS);
    let mut cmd = Command::new(&chromedriver);
    cmd.arg(format!("--port={driver_port}"));
    let driver = Daemon::start(cmd, driver_port, web.join("chromedriver.log"));

    let out = Command::new(tool("python3", WEBMAIL))
        .arg(root().join("tests/imap_clients/roundcube.py"))
        .arg(driver_port.to_string())
        .arg(format!("http://127.0.0.1:{web_port}/"))
        .args(["alice@example.com", "alice-pw"])
        .arg(&browser)
        .arg(web.join("profile"))
        .arg("the report")
        .output()
        .expect("run python3");
    let imap_log = std::fs::read_to_string(web.join("logs/imap.log")).unwrap_or_default();
    assert!(
        out.status.success(),
        "the browser session failed:\n{}{}\n--- Roundcube's IMAP log\n{imap_log}\n--- PHP\n{}\n--- chromedriver\n{}\n--- server log\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        php_server.log_text(),
        driver.log_text(),
        server.log_text()
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("roundcube.py prints JSON");
    let plain = |subjects: &[&str]| -> Vec<(String, u64, Option<String>)> {
        subjects.iter().map(|s| (s.to_string(), 0, None)).collect()
    };
    let ascending = [
        "project kickoff",
        "the report",
        "Re: project kickoff",
        "lunch on friday",
        "Re: project kickoff, the agenda",
    ];
    let mut first: Vec<String> = shown(&seen["first"]).into_iter().map(|r| r.0).collect();
    first.sort();
    let mut all: Vec<String> = ascending.iter().map(|s| s.to_string()).collect();
    all.sort();
    assert_eq!(first, all, "the INBOX as first listed:\n{seen:#}");
    assert_eq!(shown(&seen["date_asc"]), plain(&ascending), "{seen:#}");
    let descending: Vec<&str> = ascending.iter().rev().copied().collect();
    assert_eq!(shown(&seen["date_desc"]), plain(&descending), "{seen:#}");
    assert_eq!(shown(&seen["list_again"]), plain(&descending), "{seen:#}");
    let parent = |s: &str| Some(s.to_string());
    assert_eq!(
        shown(&seen["threads"]),
        [
            ("project kickoff".to_string(), 0, None),
            (
                "Re: project kickoff".to_string(),
                1,
                parent("project kickoff")
            ),
            (
                "Re: project kickoff, the agenda".to_string(),
                2,
                parent("Re: project kickoff")
            ),
            ("the report".to_string(), 0, None),
            ("lunch on friday".to_string(), 0, None),
        ],
        "the threads view, oldest thread first:\n{seen:#}"
    );
    let opened = &seen["opened"];
    assert_eq!(opened["subject"], "the report", "{seen:#}");
    assert!(
        opened["body"]
            .as_str()
            .unwrap()
            .contains("Here is the report you asked for."),
        "{seen:#}"
    );
    assert_eq!(
        opened["attachments"],
        serde_json::json!(["report.pdf"]),
        "{seen:#}"
    );
    // Roundcube sorted and threaded on the server, and was never refused.
    for asked in [
        "UID SORT (DATE) US-ASCII ALL",
        "UID THREAD REFERENCES US-ASCII ALL",
    ] {
        assert!(
            imap_log.contains(asked),
            "Roundcube did not send `{asked}`:\n{imap_log}"
        );
    }
    let refused: Vec<&str> = imap_log
        .lines()
        .filter(|l| l.contains("] S: A") && (l.contains(" NO ") || l.contains(" BAD ")))
        .collect();
    assert!(
        refused.is_empty(),
        "the server refused Roundcube:\n{}",
        refused.join("\n")
    );
    let errors = std::fs::read_to_string(web.join("logs/errors.log")).unwrap_or_default();
    assert!(!errors.contains("IMAP Error"), "{errors}");
    server.assert_no_panic();
}
