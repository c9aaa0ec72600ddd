//! IMAP4rev1 (RFC 3501) over the mail store, with IDLE, UIDPLUS, MOVE,
//! NAMESPACE, ID, UNSELECT, LITERAL+, SASL-IR, ENABLE, CONDSTORE, QRESYNC,
//! QUOTA, SPECIAL-USE, SORT (with SORT=DISPLAY), THREAD, ESEARCH, ESORT,
//! CONTEXT=SEARCH, CONTEXT=SORT, LIST-EXTENDED, LIST-STATUS, MULTIAPPEND,
//! UTF8=ACCEPT, STATUS=SIZE and SEARCHRES, and IMAP4rev2 (RFC 9051)
//! beside IMAP4rev1 once all it folds in is offered. The protocol is
//! imap-next's server flow over imap-codec; messages are read with
//! mail-parser.
//!
//! - [`conn`]: one connection: the read loop, AUTHENTICATE, IDLE,
//!   STARTTLS, autologout and shutdown;
//! - [`session`]: one session's state: login, extensions turned on, the
//!   selected mailbox, mailbox names as the client writes them;
//! - [`command`]: which room answers a command, in which state;
//! - [`login`]: CAPABILITY, LOGIN, AUTHENTICATE PLAIN, ENABLE, ID;
//! - [`mailboxes`]: CREATE, DELETE, RENAME, (UN)SUBSCRIBE, STATUS,
//!   NAMESPACE;
//! - [`list`]: LIST, LSUB, LIST-EXTENDED, LIST-STATUS;
//! - [`quota`]: GETQUOTA, GETQUOTAROOT;
//! - [`selected`]: SELECT, EXAMINE, EXPUNGE and the updates every command
//!   brings;
//! - [`query`]: SEARCH, SORT and THREAD;
//! - [`esearch`]: ESEARCH and ESORT, `$`, update contexts opened;
//! - [`append`]: APPEND and MULTIAPPEND;
//! - [`copy`]: COPY and MOVE;
//! - [`flags`]: FLAGS, PERMANENTFLAGS and the FLAGS items of FETCH;
//! - [`answer`]: statuses, codes, UID and sequence sets;
//! - [`ext`]: reads the extended commands imap-codec does not read;
//! - [`wire`]: its bytes: backpressure, and the limits before login;
//! - [`maildir`]: mailboxes on disk, UIDs, flags, subscriptions, locking;
//! - [`expunged`]: expunged messages kept readable for the sessions not
//!   yet told;
//! - [`fetch`]: FETCH items and STORE;
//! - [`binary`]: BINARY's decoded parts, binary parts stored as base64;
//! - [`message`]: a stored message's parse, its body sections, its text
//!   for SEARCH;
//! - [`structure`]: ENVELOPE and BODYSTRUCTURE;
//! - [`search`]: SEARCH keys and sequence sets;
//! - [`context`]: SEARCH and SORT results kept up to date (UPDATE);
//! - [`sort`]: SORT's keys and orders, THREAD's algorithms;
//! - [`utf7`]: mailbox names in modified UTF-7 and UTF-8.
//!
//! The hierarchy delimiter is `.`, Maildir++'s (and Dovecot's default for
//! it): mailbox `Work.Old` is the folder `.Work.Old/`.

mod answer;
mod append;
mod binary;
mod command;
mod conn;
mod context;
mod copy;
mod esearch;
mod expunged;
mod ext;
mod fetch;
mod flags;
mod list;
mod login;
mod mailboxes;
pub mod maildir;
pub mod message;
mod query;
mod quota;
mod search;
mod selected;
mod session;
mod sort;
mod structure;
mod utf7;
pub mod wire;

use std::sync::Arc;

use tokio::net::TcpListener;

use super::Shared;
use super::pool::Full;

/// Accepts connections until shutdown; `implicit_tls` for port 993. The
/// service's pool ([`super::pool`]) decides who may stay; one more is told
/// `* BYE` and closed.
pub async fn serve(
    listener: TcpListener,
    implicit_tls: bool,
    shared: Arc<Shared>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let (name, pool) = if implicit_tls {
        ("imaps", shared.pools.imaps.clone())
    } else {
        ("imap", shared.pools.imap.clone())
    };
    let busy: fn(Full) -> &'static [u8] = |full| match full {
        Full::Service => b"* BYE too many connections, try again later\r\n",
        Full::Client => b"* BYE too many connections from your address, try again later\r\n",
    };
    let service = super::Access {
        name,
        implicit_tls,
        pool,
        busy,
    };
    super::accept_sessions(listener, service, shared, shutdown, conn::run).await;
}
