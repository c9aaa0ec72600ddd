//! The state of one IMAP session (RFC 3501 §3): who is logged in, the
//! extensions turned on, the selected mailbox as this session knows it,
//! mailbox names as this client writes and reads them, and the log of
//! refusals. The commands are answered in the rooms beside this one.

use std::collections::{BTreeSet, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;

use imap_next::imap_types::IntoStatic;
use imap_next::imap_types::core::{AString, IString};
use imap_next::imap_types::extensions::utf8::QuotedUtf8;
use imap_next::imap_types::mailbox::Mailbox;
use imap_next::imap_types::response::{Code, Status, StatusKind};
use imap_next::server::Server;

use super::answer::{nz64, untagged};
use super::context::Contexts;
use super::expunged::Watch;
use super::maildir::{Account, Entry, Name};
use super::utf7;
use crate::serve::Shared;
use crate::serve::log;

pub(super) struct Session {
    pub(super) shared: Arc<Shared>,
    /// The service (`imap`, `imaps`) and session id of the log.
    pub(super) service: &'static str,
    pub(super) id: String,
    pub(super) peer: SocketAddr,
    pub(super) tls: bool,
    pub(super) account: Option<Account>,
    pub(super) user: Option<String>,
    pub(super) selected: Option<Selected>,
    pub(super) failed_logins: u32,
    /// CONDSTORE is on (RFC 7162 §3.1: ENABLEd or used): FETCH responses
    /// carry MODSEQ.
    pub(super) condstore: bool,
    /// QRESYNC is ENABLEd (RFC 7162 §3.2.3): VANISHED replaces EXPUNGE.
    pub(super) qresync: bool,
    /// UTF8=ACCEPT is ENABLEd (RFC 6855 §3): mailbox names are UTF-8 both
    /// ways, and SEARCH takes no CHARSET.
    pub(super) utf8_accept: bool,
    /// IMAP4rev2 is ENABLEd (RFC 9051): no `\Recent` or RECENT, SEARCH
    /// answered with ESEARCH, SELECT with the mailbox's LIST, UTF-8 names.
    pub(super) rev2: bool,
    /// Untagged responses imap-types has no type for (ESEARCH, LIST with
    /// extended data), written by the command and sent before its status.
    pub(super) raw: Vec<u8>,
}

/// The selected mailbox as this session knows it: sequence number `n` is
/// `msgs[n - 1]`.
pub(super) struct Selected {
    pub(super) name: Name,
    pub(super) read_only: bool,
    pub(super) uidvalidity: u32,
    pub(super) uidnext: u32,
    pub(super) msgs: Vec<Entry>,
    pub(super) recent: HashSet<u32>,
    pub(super) highestmodseq: u64,
    /// The uidlist as of the last look ([`Folder::stamp`]).
    pub(super) stamp: Option<(u64, std::time::SystemTime, u64)>,
    /// The keywords the client was told of in FLAGS.
    pub(super) keywords: BTreeSet<String>,
    /// Keeps the files of messages other sessions expunge readable here
    /// until this session is told.
    pub(super) watch: Watch,
    /// The UIDs of the last `SEARCH RETURN (SAVE)` (RFC 5182), for `$`.
    pub(super) saved: Vec<u32>,
    /// The results kept up to date for the client (RFC 5267 §4.3).
    pub(super) contexts: Contexts,
}

impl Selected {
    pub(super) fn max_uid(&self) -> u32 {
        self.msgs.last().map_or(0, |e| e.uid)
    }
}

/// File work runs in the blocking pool's place, not on the runtime.
pub(super) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

impl Session {
    /// Logs a refusal or an error answered to the client (NO, BAD).
    pub(super) fn note(&self, st: &Status) {
        let (tag, body) = match st {
            Status::Tagged(t) => (t.tag.as_ref(), &t.body),
            Status::Untagged(b) => ("*", b),
            Status::Bye(_) => return,
        };
        let kind = match body.kind {
            StatusKind::No => "NO",
            StatusKind::Bad => "BAD",
            StatusKind::Ok => return,
        };
        let text = body.text.as_ref();
        log::event(
            self.service,
            &self.id,
            "reply",
            &[("tag", &tag), ("status", &kind), ("text", &text)],
        );
    }

    /// RFC 7162 §3.1: the first CONDSTORE-enabling command other than
    /// SELECT and EXAMINE, issued with a mailbox selected, tells its
    /// HIGHESTMODSEQ.
    pub(super) fn condstore_turned_on(&self, server: &mut Server, was: bool) {
        if was || !self.condstore {
            return;
        }
        if let Some(sel) = &self.selected {
            server.enqueue_status(untagged(
                StatusKind::Ok,
                Some(Code::HighestModSeq(nz64(sel.highestmodseq))),
                "highest mod-sequence",
            ));
        }
    }

    /// Mailbox names travel in UTF-8 rather than modified UTF-7.
    pub(super) fn utf8(&self) -> bool {
        // RFC 9051 §5.1: IMAP4rev2 names are UTF-8.
        self.utf8_accept || self.rev2
    }

    /// A mailbox name from the wire, or why it is refused.
    pub(super) fn name(&self, mailbox: &Mailbox) -> Result<Name, &'static str> {
        match mailbox {
            Mailbox::Inbox => Ok(Name::inbox()),
            Mailbox::Other(o) => self.stored_name(o.inner().as_ref()),
        }
    }

    /// The stored (modified UTF-7) name of a name from the wire: taken as
    /// it is from an IMAP4rev1 client, encoded from UTF-8 after UTF8=ACCEPT.
    pub(super) fn stored_name(&self, raw: &[u8]) -> Result<Name, &'static str> {
        const INVALID: &str =
            "invalid mailbox name: printable characters, no `/`, no empty part between dots";
        if !self.utf8() {
            return Name::parse(raw).ok_or(INVALID);
        }
        let s = std::str::from_utf8(raw).map_err(|_| "mailbox name is not UTF-8")?;
        // RFC 6855 §3: no control characters, line or paragraph separators.
        if s.chars()
            .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
        {
            return Err(INVALID);
        }
        Name::parse(utf7::encode(s).as_bytes()).ok_or(INVALID)
    }

    /// The name for a new mailbox (CREATE, RENAME's target): an IMAP4rev1
    /// client's must be valid modified UTF-7 (RFC 3501 §5.1.3), as Dovecot
    /// requires, so that it reads back the same in UTF-8.
    pub(super) fn new_name(&self, raw: &[u8]) -> Result<Name, &'static str> {
        let name = self.stored_name(raw)?;
        if utf7::decode(name.as_str()).is_none() {
            return Err("mailbox name is not valid modified UTF-7");
        }
        Ok(name)
    }

    /// A stored name as this client sees it: decoded to UTF-8 after
    /// UTF8=ACCEPT (a name that is not valid modified UTF-7 is shown as it
    /// is).
    pub(super) fn shown_name<'n>(&self, stored: &'n str) -> std::borrow::Cow<'n, str> {
        match self.utf8().then(|| utf7::decode(stored)).flatten() {
            Some(s) if s != stored => std::borrow::Cow::Owned(s),
            _ => std::borrow::Cow::Borrowed(stored),
        }
    }

    /// A stored name on the wire: a quoted UTF-8 string when it is not
    /// ASCII (RFC 6855 §3).
    pub(super) fn mailbox_of(&self, stored: &str) -> Mailbox<'static> {
        let shown = self.shown_name(stored);
        if !shown.is_ascii()
            && let Ok(q) = QuotedUtf8::try_from(shown.to_string())
        {
            return Mailbox::from(AString::String(IString::QuotedUtf8(q)));
        }
        Mailbox::try_from(shown.to_string())
            .map(|m| m.into_static())
            .unwrap_or(Mailbox::Inbox)
    }

    pub(super) fn account(&self) -> Account {
        self.account.clone().expect("authenticated")
    }
}
