//! One `mailc serve` running a spec's IMAP side on 127.0.0.1 for a test
//! ([`super::serve::Server`] with an IMAP and an IMAPS listener).

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};

use super::serve;

/// A running `mailc serve` (IMAP on a STARTTLS port and an implicit-TLS
/// port), killed (SIGKILL) when dropped.
pub struct Server {
    inner: serve::Server,
    /// The address it listens on.
    pub bind: String,
    pub data: PathBuf,
    pub port: u16,
    /// Implicit TLS.
    pub imaps: u16,
}

impl Server {
    /// Serves `host` of `input` (a spec or a manifest) on 127.0.0.1 with
    /// its store in `data`, on ports of the block `first..first+1000`.
    pub fn serve(input: &Path, host: &str, data: &Path, first: u16) -> Server {
        Server::serve_on(input, host, "127.0.0.1", data, first)
    }

    /// The same on the address `bind`.
    pub fn serve_on(input: &Path, host: &str, bind: &str, data: &Path, first: u16) -> Server {
        let inner = serve::Server::build(input, data)
            .host(host)
            .ports_from(first)
            .listen("--imap", bind)
            .listen("--imaps", bind)
            .start();
        Server {
            bind: bind.into(),
            data: data.to_path_buf(),
            port: inner.port("--imap"),
            imaps: inner.port("--imaps"),
            inner,
        }
    }

    /// Stops it (SIGKILL).
    pub fn stop(&mut self) {
        self.inner.kill9();
    }
}

impl Deref for Server {
    type Target = serve::Server;
    fn deref(&self) -> &serve::Server {
        &self.inner
    }
}

impl DerefMut for Server {
    fn deref_mut(&mut self) -> &mut serve::Server {
        &mut self.inner
    }
}
