//! POP3 (RFC 1939) over the mail store IMAP reads, with CAPA (RFC 2449),
//! STLS (RFC 2595), SASL PLAIN (RFC 5034), TOP and UIDL, on 110 and on
//! 995 with implicit TLS (RFC 8314). Only mailboxes of domains that offer
//! POP3 (the manifest's `pop3`) may log in.
//!
//! - [`session`]: one connection: its states and commands;
//! - [`maildrop`]: the INBOX as the session sees it, its lock, and the
//!   deletions made at QUIT.
//!
//! Plaintext passwords (USER/PASS, AUTH PLAIN) are taken under TLS or from
//! a loopback address, as on IMAP.

pub mod maildrop;
mod session;

use std::sync::Arc;

use tokio::net::TcpListener;

use super::Shared;
use super::pool::Full;

/// Accepts connections until shutdown; `implicit_tls` for port 995. One
/// more than the service's pool admits is told `-ERR` and closed.
pub async fn serve(
    listener: TcpListener,
    implicit_tls: bool,
    shared: Arc<Shared>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let (name, pool) = if implicit_tls {
        ("pop3s", shared.pools.pop3s.clone())
    } else {
        ("pop3", shared.pools.pop3.clone())
    };
    let busy: fn(Full) -> &'static [u8] =
        |_| b"-ERR [SYS/TEMP] too many connections, try again later\r\n";
    let service = super::Access {
        name,
        implicit_tls,
        pool,
        busy,
    };
    super::accept_sessions(listener, service, shared, shutdown, session::run).await;
}
