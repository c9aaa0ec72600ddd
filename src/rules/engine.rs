//! Runs one mailbox's rules and autoresponder on a delivered message, with
//! the meaning Pigeonhole gives the script [`super::sieve`] writes (RFC 5228
//! with `fileinto`, `mailbox`, `copy`, `reject`, `envelope`, `vacation`).
//! It decides only; the server stores, forwards, returns and answers.

use super::message::Header;
use super::{Action, Compare, Rule, Source, Test, Vacation};

/// The envelope of the copy being delivered.
#[derive(Clone, Copy, Debug)]
pub struct Envelope<'a> {
    /// `MAIL FROM`; empty for the null sender.
    pub sender: &'a str,
    /// The mailbox's own address: what the copy is finally delivered to,
    /// after aliases (Dovecot's final recipient over LMTP).
    pub recipient: &'a str,
}

/// What becomes of one copy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Folders it is stored into, in order, each once (`INBOX` for keep).
    pub folders: Vec<String>,
    /// Addresses it is sent on to, in order, each once.
    pub forwards: Vec<String>,
    /// Returned to the sender with this text.
    pub reject: Option<String>,
}

/// The folder name of the inbox.
pub const INBOX: &str = "INBOX";

/// Runs `rules` on the message whose header is `header` and whose size is
/// `size` bytes.
pub fn run(rules: &[Rule], header: &Header, size: u64, env: Envelope<'_>) -> Outcome {
    let mut out = Outcome::default();
    let mut implicit_keep = true;
    'rules: for rule in rules {
        if !holds(rule, header, size, env) {
            continue;
        }
        for action in &rule.actions {
            match action {
                Action::FileInto { folder } => {
                    implicit_keep = false;
                    store(&mut out, folder);
                }
                Action::Keep => {
                    implicit_keep = false;
                    store(&mut out, INBOX);
                }
                Action::Forward { to, copy } => {
                    if !copy {
                        implicit_keep = false;
                    }
                    if !out.forwards.iter().any(|f| f.eq_ignore_ascii_case(to)) {
                        out.forwards.push(to.clone());
                    }
                }
                Action::Discard => implicit_keep = false,
                Action::Reject { text } => {
                    implicit_keep = false;
                    if out.reject.is_none() {
                        out.reject = Some(text.clone());
                    }
                }
                Action::Stop => break 'rules,
            }
        }
    }
    // RFC 5429 §2.1: reject cannot be combined with actions that deliver
    // the message; Pigeonhole then fails the script and keeps the message.
    if out.reject.is_some() && (!out.folders.is_empty() || !out.forwards.is_empty()) {
        return Outcome {
            folders: vec![INBOX.into()],
            ..Outcome::default()
        };
    }
    if implicit_keep {
        store(&mut out, INBOX);
    }
    out
}

fn store(out: &mut Outcome, folder: &str) {
    let folder = if folder.eq_ignore_ascii_case(INBOX) {
        INBOX
    } else {
        folder
    };
    if !out.folders.iter().any(|f| f == folder) {
        out.folders.push(folder.to_string());
    }
}

fn holds(rule: &Rule, header: &Header, size: u64, env: Envelope<'_>) -> bool {
    if rule.tests.is_empty() {
        return true;
    }
    let mut each = rule.tests.iter().map(|t| test(t, header, size, env));
    if rule.any {
        each.any(|b| b)
    } else {
        each.all(|b| b)
    }
}

fn test(t: &Test, header: &Header, size: u64, env: Envelope<'_>) -> bool {
    match t {
        Test::Size { over: true, bytes } => size > *bytes,
        Test::Size { over: false, bytes } => size < *bytes,
        Test::Text {
            source,
            compare,
            value,
        } => {
            let values: Vec<String> = match source {
                Source::From => header.addresses("from"),
                Source::To => {
                    let mut v = header.addresses("to");
                    v.extend(header.addresses("cc"));
                    v
                }
                Source::Sender => vec![env.sender.to_string()],
                Source::Header(name) => header.values(name),
            };
            values.iter().any(|v| compare_text(*compare, v, value))
        }
    }
}

/// One comparison with the `i;ascii-casemap` comparator (RFC 4790 §9.2):
/// ASCII letters in either case are equal.
pub fn compare_text(how: Compare, text: &str, key: &str) -> bool {
    let t = text.to_ascii_lowercase();
    let k = key.to_ascii_lowercase();
    match how {
        Compare::Is => t == k,
        Compare::Contains => t.contains(&k),
        Compare::Matches => {
            let t: Vec<char> = t.chars().collect();
            let p = pattern(&k);
            glob(&p, &t)
        }
    }
}

/// A `:matches` pattern's pieces: `*` is any text, every other character
/// itself (`?` too: see [`super::sieve`]).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Piece {
    Any,
    Char(char),
}

fn pattern(key: &str) -> Vec<Piece> {
    key.chars()
        .map(|c| if c == '*' { Piece::Any } else { Piece::Char(c) })
        .collect()
}

/// Wildcard matching without backtracking blow-up: the last `*` is
/// remembered and moved on one character at a time.
fn glob(p: &[Piece], t: &[char]) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(Piece::Any) => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(Piece::Char(c)) if *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|x| *x == Piece::Any)
}

/// Header fields whose presence marks list mail (RFC 2369, RFC 2919).
const LIST_FIELDS: &[&str] = &[
    "list-id",
    "list-owner",
    "list-subscribe",
    "list-post",
    "list-unsubscribe",
    "list-help",
    "list-archive",
];

/// Fields naming the recipients a message was addressed to (RFC 5230 §4.5).
const RECIPIENT_FIELDS: &[&str] = &["to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc"];

/// Why the autoresponder stays silent, or to whom and as whom it answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Reply to `to` (the envelope sender) from `from` (the address of ours
    /// the message was sent to).
    Reply {
        to: String,
        from: String,
    },
    Silent(&'static str),
}

/// Whether the autoresponder answers this message (RFC 5230 §4.5, RFC
/// 3834 §2), before asking whether it answered the sender lately.
/// `today` is the local date, `YYYY-MM-DD`.
pub fn answer(v: &Vacation, header: &Header, env: Envelope<'_>, today: &str) -> Answer {
    if v.start.as_deref().is_some_and(|s| today < s) || v.end.as_deref().is_some_and(|e| today > e)
    {
        return Answer::Silent("outside its dates");
    }
    let sender = env.sender.to_ascii_lowercase();
    if sender.is_empty() {
        return Answer::Silent("null sender");
    }
    let mine: Vec<String> = std::iter::once(env.recipient.to_ascii_lowercase())
        .chain(v.addresses.iter().map(|a| a.to_ascii_lowercase()))
        .collect();
    if mine.contains(&sender) {
        return Answer::Silent("sent by the mailbox itself");
    }
    let local = sender.rsplit_once('@').map_or(sender.as_str(), |(l, _)| l);
    // RFC 3834 §2 and Pigeonhole: system and list addresses.
    if local == "mailer-daemon"
        || local == "listserv"
        || local == "majordomo"
        || local.starts_with("owner-")
        || local.ends_with("-request")
    {
        return Answer::Silent("a system or list sender");
    }
    if LIST_FIELDS.iter().any(|f| header.has(f)) {
        return Answer::Silent("list mail");
    }
    // RFC 3834 §5: anything but `no` is automatic.
    if header.values("auto-submitted").iter().any(|v| {
        !v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("no")
    }) {
        return Answer::Silent("an automatic message");
    }
    if header.values("precedence").iter().any(|p| {
        ["bulk", "list", "junk"]
            .iter()
            .any(|x| p.trim().eq_ignore_ascii_case(x))
    }) {
        return Answer::Silent("bulk mail");
    }
    if header.values("x-auto-response-suppress").iter().any(|p| {
        p.split(',')
            .any(|x| ["all", "oof"].contains(&x.trim().to_ascii_lowercase().as_str()))
    }) {
        return Answer::Silent("replies suppressed");
    }
    let found = RECIPIENT_FIELDS.iter().find_map(|f| {
        header
            .addresses(f)
            .into_iter()
            .map(|a| a.to_ascii_lowercase())
            .find(|a| mine.contains(a))
    });
    match found {
        Some(from) => Answer::Reply {
            to: env.sender.to_string(),
            from,
        },
        None => Answer::Silent("none of its addresses in the header"),
    }
}

/// The reply message (RFC 3834 §3, RFC 5230 §5): sent with the null
/// envelope sender, marked `Auto-Submitted: auto-replied`, threaded by
/// `In-Reply-To` and `References`.
pub fn reply(
    v: &Vacation,
    header: &Header,
    from: &str,
    to: &str,
    date: &str,
    message_id: &str,
) -> Vec<u8> {
    let subject = match &v.subject {
        Some(s) => s.clone(),
        None => match header.values("subject").first() {
            Some(s) if !s.is_empty() => format!("Auto: {s}"),
            _ => "Automated reply".to_string(),
        },
    };
    let mut m = String::new();
    m.push_str(&format!("Message-ID: {message_id}\r\n"));
    m.push_str(&format!("Date: {date}\r\n"));
    m.push_str(&format!("From: <{from}>\r\n"));
    m.push_str(&format!("To: <{to}>\r\n"));
    m.push_str(&format!("Subject: {}\r\n", encode_subject(&subject)));
    let original = header
        .raw("message-id")
        .next()
        .map(|s| s.trim().to_string());
    if let Some(id) = &original {
        m.push_str(&format!("In-Reply-To: {id}\r\n"));
        let mut refs: Vec<String> = header
            .raw("references")
            .next()
            .map(|r| r.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        refs.push(id.clone());
        m.push_str(&format!("References: {}\r\n", refs.join(" ")));
    }
    m.push_str("Auto-Submitted: auto-replied (vacation)\r\n");
    m.push_str("Precedence: bulk\r\n");
    m.push_str("X-Auto-Response-Suppress: All\r\n");
    m.push_str("MIME-Version: 1.0\r\n");
    m.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    m.push_str("Content-Transfer-Encoding: 8bit\r\n\r\n");
    for line in v.text.split('\n') {
        m.push_str(line);
        m.push_str("\r\n");
    }
    m.into_bytes()
}

/// A subject as header text: ASCII as is, anything else as one encoded
/// word per chunk (RFC 2047).
fn encode_subject(s: &str) -> String {
    use base64::Engine as _;
    let s: String = s.chars().filter(|c| !c.is_control()).collect();
    if s.is_ascii() {
        return s;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in s.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    words
        .iter()
        .map(|w| {
            format!(
                "=?UTF-8?B?{}?=",
                base64::engine::general_purpose::STANDARD.encode(w)
            )
        })
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// The sender as the autoresponder's record keys it.
pub fn sender_key(sender: &str) -> String {
    sender.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(sender: &'a str) -> Envelope<'a> {
        Envelope {
            sender,
            recipient: "alice@example.com",
        }
    }

    #[test]
    fn matches_wildcards() {
        assert!(compare_text(
            Compare::Matches,
            "Re: Invoice 42",
            "*invoice*"
        ));
        assert!(!compare_text(Compare::Matches, "abc", "a?c"));
        assert!(compare_text(Compare::Matches, "a?cd", "a?c*"));
        assert!(compare_text(Compare::Matches, "a\\b", "a\\*"));
        assert!(compare_text(Compare::Matches, "xaxbx", "*a*b*"));
        assert!(compare_text(Compare::Matches, "", "*"));
        assert!(compare_text(Compare::Is, "ÄB", "Äb"));
        assert!(!compare_text(Compare::Is, "ä", "Ä"));
    }

    #[test]
    fn keeps_files_forwards_and_stops() {
        let h = Header::parse(b"From: Boss <boss@example.net>\r\nSubject: Invoice\r\n\r\n");
        let rules = vec![
            Rule {
                any: false,
                tests: vec![Test::Text {
                    source: Source::From,
                    compare: Compare::Is,
                    value: "BOSS@example.net".into(),
                }],
                actions: vec![
                    Action::FileInto {
                        folder: "Boss".into(),
                    },
                    Action::Forward {
                        to: "b@example.org".into(),
                        copy: true,
                    },
                    Action::Stop,
                ],
            },
            Rule {
                any: false,
                tests: vec![],
                actions: vec![Action::Discard],
            },
        ];
        let o = run(&rules, &h, 100, env("boss@example.net"));
        assert_eq!(o.folders, vec!["Boss"]);
        assert_eq!(o.forwards, vec!["b@example.org"]);
        let h2 = Header::parse(b"From: x@example.net\r\n\r\n");
        assert_eq!(
            run(&rules, &h2, 100, env("x@example.net")),
            Outcome::default()
        );
        assert_eq!(run(&[], &h2, 1, env("")).folders, vec![INBOX]);
    }

    #[test]
    fn vacation_stays_silent_where_rfc_3834_says() {
        let v = Vacation {
            subject: None,
            text: "Away".into(),
            start: Some("2026-01-01".into()),
            end: Some("2026-12-31".into()),
            days: 7,
            addresses: vec!["a.smith@example.com".into()],
        };
        let ok = Header::parse(b"To: A <a.smith@example.com>\r\nSubject: Hi\r\n\r\n");
        assert_eq!(
            answer(&v, &ok, env("bob@example.net"), "2026-06-01"),
            Answer::Reply {
                to: "bob@example.net".into(),
                from: "a.smith@example.com".into()
            }
        );
        assert!(matches!(
            answer(&v, &ok, env("bob@example.net"), "2027-01-01"),
            Answer::Silent(_)
        ));
        for sender in [
            "",
            "MAILER-DAEMON@x.example",
            "owner-l@x.example",
            "l-request@x.example",
        ] {
            assert!(matches!(
                answer(&v, &ok, env(sender), "2026-06-01"),
                Answer::Silent(_)
            ));
        }
        for extra in [
            "List-Id: <l.example>",
            "Auto-Submitted: auto-generated",
            "Precedence: bulk",
            "Precedence: junk",
        ] {
            let h = Header::parse(format!("To: alice@example.com\r\n{extra}\r\n\r\n").as_bytes());
            assert!(matches!(
                answer(&v, &h, env("bob@example.net"), "2026-06-01"),
                Answer::Silent(_)
            ));
        }
        let no = Header::parse(b"To: alice@example.com\r\nAuto-Submitted: no\r\n\r\n");
        assert!(matches!(
            answer(&v, &no, env("bob@example.net"), "2026-06-01"),
            Answer::Reply { .. }
        ));
        let other = Header::parse(b"To: someone@example.org\r\n\r\n");
        assert!(matches!(
            answer(&v, &other, env("bob@example.net"), "2026-06-01"),
            Answer::Silent(_)
        ));
        let r = String::from_utf8(reply(
            &v,
            &Header::parse(b"Subject: Hi\r\nMessage-ID: <1@x>\r\n\r\n"),
            "alice@example.com",
            "bob@example.net",
            "Mon, 07 Dec 2026 15:00:00 +0000",
            "<r@example.com>",
        ))
        .unwrap();
        assert!(r.contains("Subject: Auto: Hi\r\n"));
        assert!(r.contains("In-Reply-To: <1@x>\r\nReferences: <1@x>\r\n"));
        assert!(r.contains("Auto-Submitted: auto-replied"));
    }
}
