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

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use super::Shared;
use super::pool::Full;

/// Accepts connections until shutdown; `implicit_tls` for port 995. One
/// more than the service's pool admits is told `-ERR` and closed.
pub async fn serve(
    listener: TcpListener,
    implicit_tls: bool,
    shared: Arc<Shared>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((mut tcp, peer)) = accepted else { continue };
                let pool = if implicit_tls { &shared.pools.pop3s } else { &shared.pools.pop3 };
                let admitted = pool.admit(peer.ip());
                let (sh, sd) = (shared.clone(), shutdown.clone());
                let name = if implicit_tls { "pop3s" } else { "pop3" };
                let id = super::log::session_id();
                tokio::spawn(async move {
                    match admitted {
                        Ok(slot) => {
                            let run = session::run(tcp, peer, implicit_tls, sh, sd, id.clone());
                            super::guarded(name, &id, peer, run).await;
                            drop(slot);
                        }
                        Err(full) => {
                            let why = match full {
                                Full::Service => "service full",
                                Full::Client => "client's share full",
                            };
                            super::log::event(name, &id, "refused", &[("peer", &peer), ("reason", &why)]);
                            if implicit_tls {
                                return;
                            }
                            let _ = tokio::time::timeout(
                                std::time::Duration::from_secs(5),
                                tcp.write_all(b"-ERR [SYS/TEMP] too many connections, try again later\r\n"),
                            )
                            .await;
                        }
                    }
                });
            }
            _ = shutdown.changed() => return,
        }
    }
}
