//! Clients for the running instances: a small SMTP client (plain SMTP on
//! the MX port), a small IMAP client (plaintext login, which Dovecot allows
//! from the host itself), swaks for submission with STARTTLS and SASL, and
//! the maillog reader for `sendmail -bv` verdicts.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::{run, show, tool};

/// One SMTP reply: code and every line's text.
#[derive(Clone, Debug)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

impl Reply {
    /// `550 5.1.1 <a@b>: ...` on one line.
    pub fn line(&self) -> String {
        format!("{} {}", self.code, self.text)
    }
}

pub struct Smtp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Smtp {
    /// Connects to 127.0.0.1:`port` and greets with EHLO.
    pub fn connect(port: u16) -> Smtp {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connect to SMTP 127.0.0.1:{port}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        let mut s = Smtp {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        let greeting = s.reply();
        assert_eq!(greeting.code, 220, "greeting: {greeting:?}");
        let ehlo = s.command("EHLO client.test");
        assert_eq!(ehlo.code, 250, "EHLO: {ehlo:?}");
        s
    }

    fn reply(&mut self) -> Reply {
        let mut text = Vec::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).expect("read SMTP reply");
            assert!(n > 0, "SMTP server closed the connection");
            let line = line.trim_end();
            let code: u16 = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
            text.push(line.get(4..).unwrap_or("").to_string());
            if line.as_bytes().get(3) != Some(&b'-') {
                return Reply {
                    code,
                    text: text.join(" / "),
                };
            }
        }
    }

    pub fn command(&mut self, line: &str) -> Reply {
        // One write per command: split writes meet Nagle and delayed ACKs.
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("write SMTP command");
        self.reply()
    }

    /// The RCPT TO reply for each address, in one transaction, then RSET.
    pub fn probe(&mut self, from: &str, rcpts: &[&str]) -> Vec<Reply> {
        let mail = self.command(&format!("MAIL FROM:<{from}>"));
        assert_eq!(mail.code, 250, "MAIL FROM: {mail:?}");
        let replies = rcpts
            .iter()
            .map(|r| self.command(&format!("RCPT TO:<{r}>")))
            .collect();
        self.command("RSET");
        replies
    }

    /// Sends one message with `subject` to every recipient the server takes;
    /// returns the RCPT replies. Fails if no recipient is taken or DATA is
    /// refused.
    pub fn send(&mut self, from: &str, rcpts: &[&str], subject: &str) -> Vec<Reply> {
        let mail = self.command(&format!("MAIL FROM:<{from}>"));
        assert_eq!(mail.code, 250, "MAIL FROM: {mail:?}");
        let replies: Vec<Reply> = rcpts
            .iter()
            .map(|r| self.command(&format!("RCPT TO:<{r}>")))
            .collect();
        assert!(
            replies.iter().any(|r| r.code == 250),
            "no recipient taken: {replies:?}"
        );
        let data = self.command("DATA");
        assert_eq!(data.code, 354, "DATA: {data:?}");
        let body = format!(
            "From: <{from}>\r\nTo: <{}>\r\nSubject: {subject}\r\nMessage-ID: <{subject}@client.test>\r\n\r\nmailc end-to-end test: {subject}\r\n.",
            rcpts.join(">, <")
        );
        let done = self.command(&body);
        assert_eq!(done.code, 250, "end of DATA: {done:?}");
        replies
    }

    pub fn quit(mut self) {
        let _ = self.command("QUIT");
    }
}

/// The subjects of every message in `user`'s INBOX, over IMAP on
/// 127.0.0.1:`port`. `Err` when the login is refused.
pub fn imap_subjects(port: u16, user: &str, password: &str) -> Result<Vec<String>, String> {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("connect to IMAP 127.0.0.1:{port}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut lines = |tag: &str, command: Option<&str>| -> Vec<String> {
        if let Some(c) = command {
            writer
                .write_all(format!("{tag} {c}\r\n").as_bytes())
                .expect("write IMAP command");
        }
        let mut out = Vec::new();
        loop {
            let mut line = String::new();
            let n = reader.read_line(&mut line).expect("read IMAP response");
            assert!(n > 0, "IMAP server closed the connection: {out:?}");
            let line = line.trim_end().to_string();
            let done =
                line.starts_with(&format!("{tag} ")) || (tag == "*" && line.starts_with("* "));
            out.push(line);
            if done {
                return out;
            }
        }
    };
    lines("*", None); // greeting
    let login = lines("a1", Some(&format!("LOGIN \"{user}\" \"{password}\"")));
    if !login.last().is_some_and(|l| l.starts_with("a1 OK")) {
        return Err(login.join("\n"));
    }
    let select = lines("a2", Some("SELECT INBOX"));
    assert!(select.last().unwrap().starts_with("a2 OK"), "{select:?}");
    let exists: usize = select
        .iter()
        .find_map(|l| l.strip_prefix("* ")?.strip_suffix(" EXISTS")?.parse().ok())
        .unwrap_or(0);
    let mut subjects = Vec::new();
    if exists > 0 {
        let fetch = lines(
            "a3",
            Some(&format!(
                "FETCH 1:{exists} (BODY.PEEK[HEADER.FIELDS (SUBJECT)])"
            )),
        );
        assert!(fetch.last().unwrap().starts_with("a3 OK"), "{fetch:?}");
        subjects = fetch
            .iter()
            .filter_map(|l| l.strip_prefix("Subject: ").map(str::to_string))
            .collect();
    }
    lines("a4", Some("LOGOUT"));
    Ok(subjects)
}

/// How a submission client starts TLS.
#[derive(Clone, Copy, Debug)]
pub enum Tls {
    /// Port 587: STARTTLS.
    StartTls,
    /// Port 465: TLS from the first byte.
    Implicit,
}

/// Submits one message with swaks over TLS and SASL PLAIN; returns
/// (success, transcript).
pub fn submit(
    (port, tls): (u16, Tls),
    login: &str,
    password: &str,
    from: &str,
    to: &str,
    subject: &str,
) -> (bool, String) {
    let server = format!("127.0.0.1:{port}");
    let header = format!("Subject: {subject}");
    let mut args = vec![
        "--server",
        &server,
        match tls {
            Tls::StartTls => "--tls",
            Tls::Implicit => "--tls-on-connect",
        },
    ];
    // An empty login: no AUTH at all.
    if !login.is_empty() {
        args.extend([
            "--auth",
            "PLAIN",
            "--auth-user",
            login,
            "--auth-password",
            password,
        ]);
    }
    args.extend([
        "--from",
        from,
        "--to",
        to,
        "--header",
        &header,
        "--helo",
        "client.test",
        "--timeout",
        "30",
    ]);
    let out = run(&tool("swaks"), &args);
    let transcript = show(&out);
    assert!(
        !transcript.contains("requires Net::SSLeay"),
        "swaks cannot speak TLS here: run `.ci/install-oracles` (it installs libnet-ssleay-perl)"
    );
    (out.status.success(), transcript)
}

/// One delivery status line of the maillog (`to=<..>, orig_to=<..>,
/// relay=.., dsn=.., status=.. (reason)`), with the service that wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// `smtp`, `lmtp`, `error`, ... (from `postfix/SERVICE[pid]`).
    pub service: String,
    pub queue_id: String,
    pub to: String,
    pub orig_to: Option<String>,
    pub relay: String,
    pub dsn: String,
    pub status: String,
    pub reason: String,
}

impl Status {
    /// The address the message was sent to (before alias expansion),
    /// lowercased.
    pub fn original(&self) -> String {
        self.orig_to.as_ref().unwrap_or(&self.to).to_lowercase()
    }
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let start = line.find(&format!(" {name}="))? + name.len() + 2;
    let rest = &line[start..];
    let end = rest.find(", ").unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Every delivery status line in `log`.
pub fn statuses(log: &str) -> Vec<Status> {
    let mut out = Vec::new();
    for line in log.lines() {
        let Some(to) = field(line, "to") else {
            continue;
        };
        // The last field: its reason may hold ", ".
        let Some(status) = line.find(" status=").map(|i| &line[i + 8..]) else {
            continue;
        };
        let Some(at) = line.find("postfix/") else {
            continue;
        };
        let service = line[at + 8..]
            .split(['[', ':'])
            .next()
            .unwrap_or("")
            .to_string();
        let queue_id = line[at..].split(": ").nth(1).unwrap_or("").to_string();
        let (status, reason) = match status.split_once(' ') {
            Some((s, r)) => (
                s,
                r.strip_prefix('(')
                    .and_then(|r| r.strip_suffix(')'))
                    .unwrap_or(r),
            ),
            None => (status, ""),
        };
        out.push(Status {
            service,
            queue_id,
            to: to.trim_matches(['<', '>']).to_lowercase(),
            orig_to: field(line, "orig_to").map(|o| o.trim_matches(['<', '>']).to_string()),
            relay: field(line, "relay").unwrap_or("").to_string(),
            dsn: field(line, "dsn").unwrap_or("").to_string(),
            status: status.to_string(),
            reason: reason.to_string(),
        });
    }
    out
}

/// The submission rules both stacks must keep, on 587 (`starttls`) and 465
/// (`submissions`): alice sends as herself and her own alias (each message
/// is added to `expected` for dave@example.org), and never as someone else;
/// a wrong password gets 535; no login, no relaying.
pub fn submission_rules(
    starttls: (u16, Tls),
    submissions: (u16, Tls),
    log: &dyn Fn() -> String,
    expected: &mut std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) {
    for (port, from, subject) in [
        (starttls, "alice@example.com", "submitted"),
        (submissions, "a.smith@example.com", "submitted-as-alias"),
    ] {
        let (ok, transcript) = submit(
            port,
            "alice@example.com",
            "alice-pw",
            from,
            "dave@example.org",
            subject,
        );
        assert!(ok, "submission as {from} failed:\n{transcript}\n{}", log());
        expected
            .entry("dave@example.org".into())
            .or_default()
            .insert(subject.into());
    }
    for from in [
        "bob@example.com",
        "sales@example.com",
        "someone@elsewhere.test",
    ] {
        let (ok, transcript) = submit(
            starttls,
            "alice@example.com",
            "alice-pw",
            from,
            "dave@example.org",
            "forged",
        );
        assert!(!ok, "alice could send as {from}:\n{transcript}");
        assert!(
            transcript.contains("not owned by user alice@example.com"),
            "{transcript}"
        );
    }
    let (ok, transcript) = submit(
        starttls,
        "alice@example.com",
        "wrong",
        "alice@example.com",
        "dave@example.org",
        "bad-password",
    );
    assert!(
        !ok && transcript.contains("535"),
        "a wrong password was accepted:\n{transcript}"
    );
    let (ok, transcript) = submit(
        starttls,
        "",
        "",
        "alice@example.com",
        "someone@elsewhere.test",
        "no-login",
    );
    assert!(
        !ok,
        "submission without a login was accepted:\n{transcript}"
    );
}

/// The subjects of every message in `user`'s INBOX, read by `doveadm
/// fetch` through Dovecot's config `conf` (no login: for a mailbox that may
/// not log in).
pub fn doveadm_subjects(conf: &std::path::Path, user: &str) -> Vec<String> {
    doveadm_folder(conf, user, "INBOX")
}

/// The subjects of every message in `user`'s `folder`, read by `doveadm
/// fetch` through Dovecot's config `conf` (none for a folder not made yet).
pub fn doveadm_folder(conf: &std::path::Path, user: &str, folder: &str) -> Vec<String> {
    let out = run(
        &tool("doveadm"),
        &[
            "-c",
            conf.to_str().unwrap(),
            "fetch",
            "-u",
            user,
            "hdr.subject",
            "mailbox",
            folder,
        ],
    );
    if !out.status.success() && folder != "INBOX" {
        return Vec::new();
    }
    assert!(out.status.success(), "doveadm fetch {user}: {}", show(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("hdr.subject: "))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Polls `user`'s INBOX by [`doveadm_subjects`] until it holds at least
/// `want`, then returns everything it holds.
pub fn doveadm_inbox(
    conf: &std::path::Path,
    user: &str,
    want: &std::collections::BTreeSet<String>,
    secs: u64,
) -> std::collections::BTreeSet<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let got: std::collections::BTreeSet<String> =
            doveadm_subjects(conf, user).into_iter().collect();
        if got.is_superset(want) || std::time::Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `gone@example.com` of the stack cases is `disabled`: its right password
/// opens neither IMAP (on `imap`) nor submission (on `starttls`);
/// `henry@example.com` has `services: [imap]`: IMAP, no submission.
pub fn refused_logins(imap: u16, starttls: (u16, Tls), log: &dyn Fn() -> String) {
    let (ok, transcript) = submit(
        starttls,
        "henry@example.com",
        "henry-pw",
        "henry@example.com",
        "dave@example.org",
        "from-imap-only",
    );
    assert!(
        !ok && transcript.contains("535"),
        "a mailbox without submission submitted mail:\n{transcript}\n{}",
        log()
    );
    if let Err(e) = imap_subjects(imap, "henry@example.com", "henry-pw") {
        panic!("henry may use IMAP, but: {e}\n{}", log());
    }
    let (ok, transcript) = submit(
        starttls,
        "gone@example.com",
        "gone-pw",
        "gone@example.com",
        "dave@example.org",
        "from-disabled",
    );
    assert!(
        !ok && transcript.contains("535"),
        "a disabled mailbox submitted mail:\n{transcript}\n{}",
        log()
    );
    let refused = imap_subjects(imap, "gone@example.com", "gone-pw");
    assert!(
        refused.is_err(),
        "a disabled mailbox logged in over IMAP\n{}",
        log()
    );
}

/// The rules case (tests/cases/rules) delivered for real on a Dovecot
/// stack whose MTA listens on `smtp`: a list message lands in alice's
/// Lists.Rust and stops there, the boss's mail in Boss with a copy
/// forwarded back through the MTA to carol, neither in alice's INBOX; bob's
/// autoresponder answers carol's first message and not her second
/// (Pigeonhole notes the duplicate in `dovecot_log`). `log` is shown when
/// something is missing.
pub fn rules_scenario(
    smtp: u16,
    dovecot_conf: &std::path::Path,
    dovecot_log: &dyn Fn() -> String,
    log: &dyn Fn() -> String,
) {
    let send = |from: &str, to: &str, subject: &str| {
        let mut client = Smtp::connect(smtp);
        let replies = client.send(from, &[to], subject);
        client.quit();
        assert!(
            replies.iter().all(|r| r.code == 250),
            "{replies:?}\n{}",
            log()
        );
    };
    let holds = |user: &str, folder: &str, subject: &str| {
        crate::mail_stack::instance::wait_for(
            60,
            &format!("`{subject}` in {folder} of {user}"),
            || {
                doveadm_folder(dovecot_conf, user, folder)
                    .iter()
                    .any(|s| s == subject)
            },
            log,
        );
    };

    send(
        "news@lists.example",
        "alice@example.com",
        "[rust] 1.95 is out",
    );
    holds("alice@example.com", "Lists.Rust", "[rust] 1.95 is out");
    send("boss@example.net", "alice@example.com", "quarterly numbers");
    holds("alice@example.com", "Boss", "quarterly numbers");
    holds("carol@example.com", "INBOX", "quarterly numbers");
    let inbox = doveadm_folder(dovecot_conf, "alice@example.com", "INBOX");
    assert!(
        !inbox
            .iter()
            .any(|s| s == "[rust] 1.95 is out" || s == "quarterly numbers"),
        "{inbox:?}"
    );

    send("carol@example.com", "bob@example.com", "lunch?");
    holds("bob@example.com", "INBOX", "lunch?");
    holds("carol@example.com", "INBOX", "Away until Monday");
    send(
        "carol@example.com",
        "bob@example.com",
        "lunch tomorrow then?",
    );
    holds("bob@example.com", "INBOX", "lunch tomorrow then?");
    crate::mail_stack::instance::wait_for(
        60,
        "Pigeonhole's note that it did not answer again",
        || dovecot_log().contains("discarded duplicate vacation response"),
        log,
    );
    let replies = doveadm_folder(dovecot_conf, "carol@example.com", "INBOX")
        .into_iter()
        .filter(|s| s == "Away until Monday")
        .count();
    assert_eq!(replies, 1, "{}", log());
}
