//! SMTP: inbound (MX) on port 25, and submission (587 STARTTLS, 465
//! implicit TLS) for authenticated users.

use std::sync::Arc;

use tokio::net::TcpListener;

use super::Shared;

/// Which service a listener runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// Inbound MX: no AUTH needed, only our domains accepted.
    Mx,
    /// Submission, STARTTLS offered, AUTH required.
    Submission,
    /// Submission on implicit TLS.
    Submissions,
}

/// Accepts connections until shutdown.
pub async fn serve(
    _listener: TcpListener,
    _service: Service,
    _shared: Arc<Shared>,
    _shutdown: tokio::sync::watch::Receiver<bool>,
) {
    todo!("smtp: serve")
}
