//! The IMAP server's reader: the input as one client's bytes, through the
//! gate that bounds what a client may send before login, then imap-next's
//! server (imap-codec's command parser), as a connection reads them
//! (`mailc::serve::imap::wire::replay`). A panic is a finding.

use mailc::manifest::Limits;
use mailc::serve::imap::wire::{options, replay};

/// Pieces of IMAP the replay's mutator splices in.
pub const TOKENS: &[&str] = &[
    "a LOGIN ",
    "alice@example.com",
    "{5}\r\n",
    "{5+}\r\n",
    "{99999999}\r\n",
    "{26214400+}\r\n",
    "~{3}\r\n",
    "\r\n",
    "\n",
    "\"",
    "\\",
    "(",
    ")",
    "b SELECT INBOX\r\n",
    "c FETCH 1:* (BODY.PEEK[1.2.HEADER.FIELDS (SUBJECT)]<0.10>)\r\n",
    "d SEARCH NOT (OR SUBJECT x BODY y)\r\n",
    "e APPEND INBOX (\\Seen) {3}\r\n",
    "f AUTHENTICATE PLAIN\r\n",
    "g IDLE\r\n",
    "DONE\r\n",
    "h LIST \"\" *\r\n",
    "i UID STORE 1:* +FLAGS (\\Deleted)\r\n",
    "*",
    "%",
    "\0",
];

pub fn run(data: &[u8]) {
    let _ = replay(data, options(Limits::default().message_size));
}
