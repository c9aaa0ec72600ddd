//! `mailc serve`: the embedded SMTP + IMAP server. It runs one host's
//! [`Manifest`] and depends on nothing else of mailc's pipeline (not the
//! spec, not the model): what it does is what the manifest says.
//!
//! - [`smtp`]: inbound MX (25) and submission (587, 465);
//! - [`imap`]: IMAP4rev1 (143, 993);
//! - [`pop3`]: POP3 (110, 995), for the domains that offer it;
//! - [`store`]: the Maildir++ store, durable before any `250`;
//! - [`queue`]: outbound mail with retries, SRS, DKIM signing, bounces;
//! - [`decision`]: the per-recipient decision, looked up in the manifest;
//! - [`tls`]: the certificate, or a self-signed one for trying things out.
//!
//! Plaintext `LOGIN` / `AUTH PLAIN` / `USER`+`PASS` are accepted on loopback connections
//! (as Dovecot does); elsewhere only under TLS.

pub mod address;
pub mod auth;
pub mod decision;
pub mod imap;
pub mod log;
pub mod pool;
pub mod pop3;
pub mod queue;
pub mod quota;
pub mod sending;
pub mod smtp;
pub mod store;
pub mod stream;
pub mod tls;
pub mod vacation;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::manifest::{Manifest, NextHop};
use queue::Queue;
use store::Store;

/// What the command line changes about a manifest.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Listen overrides. When any is given, only the services given run.
    pub smtp: Option<SocketAddr>,
    pub submission: Option<SocketAddr>,
    pub submissions: Option<SocketAddr>,
    pub imap: Option<SocketAddr>,
    pub imaps: Option<SocketAddr>,
    pub pop3: Option<SocketAddr>,
    pub pop3s: Option<SocketAddr>,
    /// Replaces the manifest's `data_dir`.
    pub data: Option<PathBuf>,
    /// The folder relative paths of the manifest (keys, certificate) are
    /// read from: the manifest's own folder.
    pub base_dir: PathBuf,
    /// Every outbound message goes to this server instead of the
    /// recipient domain's MX (tests, smart hosts).
    pub relay_all: Option<NextHop>,
    /// The DNS server MX lookups ask (default: the system's resolver).
    pub resolver: Option<SocketAddr>,
    /// Seconds between delivery attempts of a deferred message, before
    /// backoff (default 60; tests make it short).
    pub retry_base: Option<u64>,
    /// How the log on stderr is written.
    pub log_format: log::Format,
    /// The certificate chain and key to use instead of the manifest's
    /// (both or neither); they must be there, no self-signed stand-in.
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// What every connection shares.
pub struct Shared {
    pub manifest: Manifest,
    pub options: Options,
    pub tls: tokio_rustls::TlsAcceptor,
    pub store: Store,
    pub queue: Arc<Queue>,
    pub data_dir: PathBuf,
    /// Connection slots, one pool per service.
    pub pools: Pools,
    /// Password checks, their concurrency and the failures per address.
    pub logins: auth::Logins,
    /// Whom each user's autoresponder answered, and when.
    pub vacation: vacation::Records,
    /// What each login sent this hour, against its sending limits.
    pub sending: sending::Sending,
}

/// The connection pool of each service.
pub struct Pools {
    pub smtp: Arc<pool::Pool>,
    pub submission: Arc<pool::Pool>,
    pub submissions: Arc<pool::Pool>,
    pub imap: Arc<pool::Pool>,
    pub imaps: Arc<pool::Pool>,
    pub pop3: Arc<pool::Pool>,
    pub pop3s: Arc<pool::Pool>,
}

impl Shared {
    /// Everything the sessions share, with a pool per service and the
    /// login checker made from the manifest's limits.
    pub fn new(
        manifest: Manifest,
        options: Options,
        tls: tokio_rustls::TlsAcceptor,
        store: Store,
        queue: Arc<Queue>,
        data_dir: PathBuf,
    ) -> Shared {
        let l = &manifest.limits;
        let pool = || pool::Pool::new(l.connections, l.client_connections);
        let pools = Pools {
            smtp: pool(),
            submission: pool(),
            submissions: pool(),
            imap: pool(),
            imaps: pool(),
            pop3: pool(),
            pop3s: pool(),
        };
        Shared {
            vacation: vacation::Records::new(&data_dir),
            sending: sending::Sending::new(&data_dir),
            logins: auth::Logins::new(&manifest),
            pools,
            manifest,
            options,
            tls,
            store,
            queue,
            data_dir,
        }
    }

    /// A path of the manifest, relative ones against its folder.
    pub fn path(&self, p: &str) -> PathBuf {
        resolve(&self.options.base_dir, p)
    }
}

/// Whether plaintext authentication may be offered to this peer.
pub fn plaintext_auth_allowed(peer: &SocketAddr) -> bool {
    match peer.ip() {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// One listener of a mail-access service, as [`accept_sessions`] runs it.
pub(crate) struct Access {
    /// The service's name in the log (`imap`, `imaps`, `pop3`, `pop3s`).
    pub name: &'static str,
    /// TLS from the first byte (993, 995).
    pub implicit_tls: bool,
    /// Who may stay.
    pub pool: Arc<pool::Pool>,
    /// The line one more than the pool admits is told before it is closed.
    pub busy: fn(pool::Full) -> &'static [u8],
}

/// Accepts connections of a mail-access service (IMAP or POP3) until
/// shutdown: the service's pool (`pool`) decides who may stay; one more
/// than it admits is logged, told `busy` (not on implicit TLS: no handshake
/// for a client that gets nothing anyway) and closed; each admitted one
/// runs `session` under [`guarded`].
pub(crate) async fn accept_sessions<S, F>(
    listener: TcpListener,
    service: Access,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    session: S,
) where
    S: Fn(tokio::net::TcpStream, SocketAddr, bool, Arc<Shared>, watch::Receiver<bool>, String) -> F
        + Copy
        + Send
        + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    use tokio::io::AsyncWriteExt as _;
    let Access {
        name,
        implicit_tls,
        pool,
        busy,
    } = service;
    loop {
        if *shutdown.borrow() {
            return;
        }
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((mut tcp, peer)) = accepted else { continue };
                let admitted = pool.admit(peer.ip());
                let (sh, sd) = (shared.clone(), shutdown.clone());
                let id = log::session_id();
                tokio::spawn(async move {
                    match admitted {
                        Ok(slot) => {
                            let run = session(tcp, peer, implicit_tls, sh, sd, id.clone());
                            guarded(name, &id, peer, run).await;
                            drop(slot);
                        }
                        Err(full) => {
                            let why = match full {
                                pool::Full::Service => "service full",
                                pool::Full::Client => "client's share full",
                            };
                            log::event(name, &id, "refused", &[("peer", &peer), ("reason", &why)]);
                            if implicit_tls {
                                return;
                            }
                            let _ = tokio::time::timeout(
                                std::time::Duration::from_secs(5),
                                tcp.write_all(busy(full)),
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

/// Runs one connection's session as a task of its own, so that a panic in
/// it (a bug; no input should cause one) ends that connection only: its
/// socket is closed as the task unwinds, the panic is logged, and every
/// other session and the listener go on.
pub(crate) async fn guarded<F>(
    service: &'static str,
    session_id: &str,
    peer: SocketAddr,
    session: F,
) where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    if let Err(e) = tokio::spawn(session).await
        && e.is_panic()
    {
        let payload = e.into_panic();
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        log::event(
            service,
            session_id,
            "panic",
            &[("peer", &peer), ("error", &what)],
        );
    }
}

fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr} for {service}: {source}")]
    Listen {
        service: &'static str,
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot use the data folder {path}: {source}")]
    Data {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Tls(String),
    #[error("{0}")]
    Runtime(std::io::Error),
    /// The outbound queue cannot run (an unreadable DKIM key).
    #[error("{0}")]
    Queue(String),
}

/// The listeners, decided from the manifest and the overrides.
fn listeners(m: &Manifest, o: &Options) -> Vec<(&'static str, String)> {
    let overridden = o.smtp.is_some()
        || o.submission.is_some()
        || o.submissions.is_some()
        || o.imap.is_some()
        || o.imaps.is_some()
        || o.pop3.is_some()
        || o.pop3s.is_some();
    let pick = |flag: Option<SocketAddr>, from: &[String]| -> Vec<String> {
        match flag {
            Some(a) => vec![a.to_string()],
            None if overridden => Vec::new(),
            None => from.to_vec(),
        }
    };
    let mut out = Vec::new();
    for (service, addrs) in [
        ("smtp", pick(o.smtp, &m.listen.smtp)),
        ("submission", pick(o.submission, &m.listen.submission)),
        ("submissions", pick(o.submissions, &m.listen.submissions)),
        ("imap", pick(o.imap, &m.listen.imap)),
        ("imaps", pick(o.imaps, &m.listen.imaps)),
        ("pop3", pick(o.pop3, &m.listen.pop3)),
        ("pop3s", pick(o.pop3s, &m.listen.pop3s)),
    ] {
        out.extend(addrs.into_iter().map(|a| (service, a)));
    }
    out
}

/// Binds one listener; IPv6 sockets are IPv6-only, so `0.0.0.0:P` and
/// `[::]:P` can both be bound.
fn bind(addr: &str) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let sa: SocketAddr = addr
        .parse()
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not IP:PORT"))?;
    let sock = Socket::new(Domain::for_address(sa), Type::STREAM, None)?;
    if sa.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.set_reuse_address(true)?;
    sock.bind(&sa.into())?;
    sock.listen(1024)?;
    sock.set_nonblocking(true)?;
    Ok(sock.into())
}

/// Runs the server until SIGINT or SIGTERM. Every listener is bound before
/// anything is served, so a port in use is an error at start.
pub fn run(manifest: Manifest, options: Options) -> Result<(), ServeError> {
    let data_dir = match &options.data {
        Some(d) => d.clone(),
        None => resolve(&options.base_dir, &manifest.data_dir),
    };
    let data_err = |source| ServeError::Data {
        path: data_dir.display().to_string(),
        source,
    };
    log::set_format(options.log_format);
    // The certificate first: a start that cannot have it creates nothing.
    let (cert, key) = match &options.tls {
        Some((cert, key)) => (cert.clone(), key.clone()),
        None => (
            resolve(&options.base_dir, &manifest.tls.cert),
            resolve(&options.base_dir, &manifest.tls.key),
        ),
    };
    let (tls, origin) = tls::config(&manifest.hostname, &cert, &key, options.tls.is_none())
        .map_err(ServeError::Tls)?;
    if let tls::Origin::SelfSigned = origin {
        let note = format!(
            "no certificate at {}; using a self-signed one for {} (fine for trying, not for the Internet)",
            manifest.tls.cert, manifest.hostname
        );
        log::event("serve", "", "warning", &[("text", &note)]);
    }
    let reused = data_dir.is_dir();
    store::create_private_dir(&data_dir).map_err(data_err)?;
    let state = if reused { "reused" } else { "created" };
    log::event(
        "serve",
        "",
        "data",
        &[("path", &data_dir.display()), ("state", &state)],
    );
    let store = Store::open(&data_dir).map_err(data_err)?;
    let queue = Arc::new(Queue::open(&data_dir).map_err(data_err)?);
    queue
        .configure(&manifest, |p| resolve(&options.base_dir, p))
        .map_err(ServeError::Queue)?;
    let mut bound = Vec::new();
    for (service, addr) in listeners(&manifest, &options) {
        let l = bind(&addr).map_err(|source| ServeError::Listen {
            service,
            addr: addr.clone(),
            source,
        })?;
        bound.push((service, addr, l));
    }
    let shared = Arc::new(Shared::new(
        manifest,
        options,
        tokio_rustls::TlsAcceptor::from(tls),
        store,
        queue.clone(),
        data_dir,
    ));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    rt.block_on(async move {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        for (service, addr, l) in bound {
            let l = TcpListener::from_std(l).map_err(ServeError::Runtime)?;
            log::event(service, "", "listen", &[("addr", &addr)]);
            let (sh, rx) = (shared.clone(), stopped.clone());
            tasks.push(tokio::spawn(async move {
                match service {
                    "smtp" => smtp::serve(l, smtp::Service::Mx, sh, rx).await,
                    "submission" => smtp::serve(l, smtp::Service::Submission, sh, rx).await,
                    "submissions" => smtp::serve(l, smtp::Service::Submissions, sh, rx).await,
                    "imap" => imap::serve(l, false, sh, rx).await,
                    "pop3" => pop3::serve(l, false, sh, rx).await,
                    "pop3s" => pop3::serve(l, true, sh, rx).await,
                    _ => imap::serve(l, true, sh, rx).await,
                }
            }));
        }
        tasks.push(tokio::spawn(queue.run(shared.clone(), stopped.clone())));
        log::event(
            "serve",
            "",
            "ready",
            &[
                ("host", &shared.manifest.host),
                ("hostname", &shared.manifest.hostname),
            ],
        );
        wait_for_signal().await;
        log::event("serve", "", "stopping", &[]);
        let _ = stop.send(true);
        for t in tasks {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), t).await;
        }
        Ok(())
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    let term = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_session_ends_alone() {
        // The session's slot is released as its task unwinds, and the
        // caller (the listener's task) goes on to the next session.
        let pool = pool::Pool::new(1, 1);
        let peer: SocketAddr = "192.0.2.1:25".parse().unwrap();
        let Ok(slot) = pool.admit(peer.ip()) else {
            panic!("no slot");
        };
        guarded("smtp", "t1", peer, async move {
            let _slot = slot;
            panic!("a bug in one session");
        })
        .await;
        let Ok(slot) = pool.admit(peer.ip()) else {
            panic!("the slot did not come back");
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        guarded("smtp", "t2", peer, async move {
            let _slot = slot;
            let _ = tx.send(());
        })
        .await;
        assert!(rx.await.is_ok());
    }
}
