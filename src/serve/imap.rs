//! IMAP4rev1 (RFC 3501) over the mail store.

use std::sync::Arc;

use tokio::net::TcpListener;

use super::Shared;

/// Accepts connections until shutdown; `implicit_tls` for port 993.
pub async fn serve(
    _listener: TcpListener,
    _implicit_tls: bool,
    _shared: Arc<Shared>,
    _shutdown: tokio::sync::watch::Receiver<bool>,
) {
    todo!("imap: serve")
}
