//! What FETCH and SEARCH read of a stored message: mail-parser's parse,
//! then ENVELOPE, BODYSTRUCTURE and BODY encoded as the server sends them
//! (imap-codec's encoder), body sections along paths the input picks (one
//! far deeper than any message), and the texts SEARCH matches. A panic is
//! a finding — a stack overflow too: the replay runs on the server's 2 MiB
//! stack, so recursion on a message's own nesting shows up.

use std::num::NonZeroU32;

use mailc::serve::imap::message::{Parsed, What, body_text, fetch_response, header_text};

/// Pieces of MIME the replay's mutator splices in.
pub const TOKENS: &[&str] = &[
    "Content-Type: multipart/mixed; boundary=\"b\"\r\n",
    "Content-Type: message/rfc822\r\n",
    "Content-Type: text/plain; charset=utf-8\r\n",
    "Content-Transfer-Encoding: base64\r\n",
    "Content-Transfer-Encoding: quoted-printable\r\n",
    "Content-Disposition: attachment; filename*=utf-8''a%20b\r\n",
    "\r\n--b\r\n",
    "\r\n--b--\r\n",
    "\r\n\r\n",
    "From: A <a@x.example>, Group: b@y.example;\r\n",
    "Subject: =?utf-8?q?caf=C3=A9?=\r\n",
    "Date: Fri, 20 Nov 2026 09:30:00 +0100\r\n",
    "=?",
    "?=",
    "\"",
    "<",
    ">",
];

pub fn run(data: &[u8]) {
    let mut scratch = Vec::new();
    let p = Parsed::new(data, &mut scratch);
    let _ = fetch_response(&p);
    let _ = (p.header(), p.text(), p.sent_date());
    for name in ["subject", "from", "to", "cc", "message-id", "x-none"] {
        let _ = header_text(&p, name);
    }
    let _ = body_text(&p);
    let path: Vec<NonZeroU32> = data
        .iter()
        .rev()
        .take(8)
        .map(|b| NonZeroU32::new(u32::from(b % 4) + 1).expect("not zero"))
        .collect();
    let names = ["Subject".to_string(), "From".to_string()];
    for n in 0..=path.len() {
        for what in [
            What::All,
            What::Header,
            What::Text,
            What::Mime,
            What::Fields(&names, false),
            What::Fields(&names, true),
        ] {
            let _ = p.section(&path[..n], what);
        }
    }
    let _ = p.section(&vec![NonZeroU32::MIN; 300], What::All);
}
