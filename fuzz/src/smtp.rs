//! The SMTP server's readers: every line of the input as a command line
//! (smtp-proto's parser as the session calls it, then the path of `MAIL
//! FROM`/`RCPT TO`), and the input as a DATA body, whole and cut in
//! pieces. Findings: a panic; a parsed address that cannot be written back,
//! reads back as another address, or is written with a control character;
//! a body whose end or bytes depend on how it was cut, or that ends
//! anywhere but at `<CR><LF>.<CR><LF>`; a message the queue's `dot_stuff`
//! sends that the reader does not take back as the message sent.

use mailc::serve::address::{Path, external, parse_path};
use mailc::serve::queue::client::dot_stuff;
use mailc::serve::smtp::data::Unstuffer;
use mailc::serve::smtp::{parse_command, path_of};

/// Pieces of SMTP the replay's mutator splices in.
pub const TOKENS: &[&str] = &[
    "MAIL FROM:<",
    "RCPT TO:<",
    ">",
    "\r\n",
    "\r\n.\r\n",
    "\n.\n",
    "\r\n.\r\r\n",
    "\r.\r\n",
    "\"",
    "\\",
    "@",
    "<>",
    "<Postmaster>",
    " SIZE=1",
    " BODY=8BITMIME",
    " ORCPT=rfc822;x",
    "EHLO client.example\r\n",
    "DATA\r\n",
    "BDAT 5 LAST\r\n",
    "AUTH PLAIN\r\n",
    "@a.example,@b.example:",
    "[192.0.2.1]",
    "\0",
    "\x1b",
    "é",
];

pub fn run(data: &[u8]) {
    for line in data.split_inclusive(|&b| b == b'\n').take(256) {
        let _ = parse_command(line, true);
        let _ = parse_command(line, false);
        if let Ok(Path::Mailbox(m)) = path_of(line) {
            let written = external(&m).expect("a parsed address can be written back");
            assert!(!written.chars().any(char::is_control), "{written:?}");
            let again = parse_path(format!("<{written}>").as_bytes()).map(|(p, _)| p);
            assert_eq!(
                again,
                Ok(Path::Mailbox(m.clone())),
                "written as {written:?}"
            );
        }
    }
    // DATA: the same end and bytes however the input arrives.
    let whole = unstuff(data, &[data.len()]);
    let step = 1 + data.first().map_or(0, |&b| usize::from(b % 7));
    let cuts: Vec<usize> = (step..data.len())
        .step_by(step)
        .chain([data.len()])
        .collect();
    assert_eq!(unstuff(data, &cuts), whole, "cut every {step} bytes");
    if let Some((end, _, _)) = &whole {
        let took = &data[..*end];
        assert!(
            took.ends_with(b"\r\n.\r\n") || took == b".\r\n",
            "DATA ended at {took:?}"
        );
    }
    // What the queue sends is read back as the message, lines CRLF.
    let sent = dot_stuff(data);
    let back = unstuff(&sent, &[sent.len()]);
    assert_eq!(back, Some((sent.len(), crlf(data), false)), "sent {sent:?}");
}

/// Feeds `input` to a DATA reader in pieces ending at `cuts`: where the
/// body ended, its bytes, and whether it held a bare CR or LF.
fn unstuff(input: &[u8], cuts: &[usize]) -> Option<(usize, Vec<u8>, bool)> {
    let mut u = Unstuffer::new();
    let mut out = Vec::new();
    let mut at = 0;
    for &cut in cuts {
        if let Some(n) = u.feed(&input[at..cut], &mut out, true) {
            return Some((at + n, out, u.bare));
        }
        at = cut;
    }
    None
}

/// Every line end CRLF (a bare CR or LF becomes one), and a last one if
/// the message has text without it.
fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 2);
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\r' | b'\n' => {
                if data[i] == b'\r' && data.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                out.extend_from_slice(b"\r\n");
            }
            b => out.push(b),
        }
        i += 1;
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}
