//! One IMAP connection from the greeting to the BYE: the read loop, the
//! AUTHENTICATE exchange, IDLE (RFC 2177), STARTTLS, the autologout timer,
//! malformed commands and shutdown.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use imap_next::imap_types::auth::{AuthMechanism, AuthenticateData};
use imap_next::imap_types::command::CommandBody;
use imap_next::imap_types::core::Tag;
use imap_next::imap_types::response::{
    Code, CommandContinuationRequest, Greeting, GreetingKind, Status, StatusKind,
};
use imap_next::server::{Event, Options, ResponseHandle, Server};
use imap_next::{Interrupt, Io, State};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

use super::answer::{bad, bye, no, ok, status, text, untagged};
use super::command::Flow;
use super::session::Session;
use super::wire::{Wire, WireError};
use crate::serve::Shared;
use crate::serve::log;
use crate::serve::stream::Stream;

/// How often an IDLE session looks at its mailbox (mail delivered by the
/// SMTP side also wakes it at once).
const IDLE_POLL: Duration = Duration::from_secs(2);
/// Bad commands in a row before the server hangs up.
const MAX_ERRORS: u32 = 20;
/// Failed logins before the server hangs up.
const MAX_FAILED_LOGINS: u32 = 5;

fn options(shared: &Shared) -> Options {
    super::wire::options(shared.manifest.limits.message_size)
}

/// A server whose greeting was already given (after STARTTLS): its
/// greeting is produced and dropped here.
fn server_without_greeting(shared: &Shared) -> Server {
    let mut s = Server::new(options(shared), Greeting::ok(None, "ready").expect("valid"));
    for _ in 0..4 {
        match s.next() {
            Ok(Event::GreetingSent { .. }) => break,
            Err(Interrupt::Io(Io::Output(_))) => continue,
            _ => break,
        }
    }
    s
}

/// Sends what is queued until `handle` has gone out.
async fn send(stream: &mut Wire, server: &mut Server, handle: ResponseHandle) -> bool {
    loop {
        match timeout(Duration::from_secs(30), stream.next(&mut *server)).await {
            Ok(Ok(Event::ResponseSent { handle: h, .. })) if h == handle => {
                return stream.flush().await.is_ok();
            }
            Ok(Ok(_)) => continue,
            _ => return false,
        }
    }
}

/// Sends what is queued until `handle` has gone out, keeping the events
/// that arrive meanwhile (pipelined commands) for later.
async fn send_keeping(
    stream: &mut Wire,
    server: &mut Server,
    handle: ResponseHandle,
    pending: &mut VecDeque<Result<Event, WireError>>,
) -> bool {
    loop {
        match timeout(Duration::from_secs(300), stream.next(&mut *server)).await {
            Ok(Ok(Event::ResponseSent { handle: h, .. })) if h == handle => return true,
            Ok(Ok(Event::ResponseSent { .. } | Event::GreetingSent { .. })) => continue,
            Ok(Ok(e)) => pending.push_back(Ok(e)),
            _ => return false,
        }
    }
}

/// The tag of a command imap-codec could not parse, when it has one.
fn tag_of(bytes: &[u8]) -> Option<Tag<'static>> {
    let first = bytes.split(|&b| b == b' ').next()?;
    Tag::try_from(first.to_vec()).ok()
}

pub(super) async fn run(
    tcp: TcpStream,
    peer: SocketAddr,
    implicit_tls: bool,
    shared: Arc<Shared>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    id: String,
) {
    let _ = tcp.set_nodelay(true);
    // RFC 3501 §5.4 asks for 30 minutes of patience after login; before
    // it, the whole exchange has limits.login_timeout (the TLS handshake
    // of port 993 included).
    let login_by = Instant::now()
        + Duration::from_secs(u64::from(shared.manifest.limits.login_timeout.max(1)));
    let mut stream = if implicit_tls {
        match timeout_at(login_by, Wire::accept_tls(tcp, &shared.tls)).await {
            Ok(Ok(w)) => w,
            _ => {
                log::event("imaps", &id, "tls-failed", &[("peer", &peer)]);
                return;
            }
        }
    } else {
        Wire::new(Stream::Plain(tcp))
    };
    let service = if implicit_tls { "imaps" } else { "imap" };
    log::event(service, &id, "connect", &[("peer", &peer)]);
    let why = converse(
        &mut stream,
        peer,
        implicit_tls,
        login_by,
        shared,
        shutdown,
        &id,
    )
    .await;
    stream.close().await;
    log::event(
        service,
        &id,
        "disconnect",
        &[("peer", &peer), ("reason", &why)],
    );
}

/// Sends a BYE (RFC 3501 §7.1.5) and says why, for the log.
async fn goodbye(stream: &mut Wire, server: &mut Server, why: &str) -> String {
    let h = server.enqueue_status(bye(why));
    let _ = send(stream, server, h).await;
    why.to_string()
}

/// Why the wire ended a session, for the log.
fn ended(e: WireError) -> String {
    match e {
        WireError::Closed => "closed by the client".into(),
        WireError::Io(e) => e.to_string(),
        WireError::State(e) => e.to_string(),
        WireError::LiteralRefused(_) => "literal refused".into(),
        WireError::Refused(why) => why.into(),
    }
}

/// The session, from the greeting to the BYE; returns why it ended.
async fn converse(
    stream: &mut Wire,
    peer: SocketAddr,
    implicit_tls: bool,
    login_by: Instant,
    shared: Arc<Shared>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    id: &str,
) -> String {
    let idle_limit = Duration::from_secs(u64::from(shared.manifest.limits.imap_timeout.max(60)));
    let mut session = Session {
        service: if implicit_tls { "imaps" } else { "imap" },
        id: id.to_string(),
        shared: shared.clone(),
        peer,
        tls: implicit_tls,
        account: None,
        user: None,
        selected: None,
        failed_logins: 0,
        condstore: false,
        qresync: false,
        utf8_accept: false,
        rev2: false,
        raw: Vec::new(),
    };
    let greeting = Greeting {
        kind: GreetingKind::Ok,
        code: Some(Code::Capability(session.capabilities())),
        text: text("mailc IMAP ready"),
    };
    let mut server = Server::new(options(&shared), greeting);
    let mut errors = 0u32;
    // The AUTHENTICATE waiting for the client's response.
    let mut authenticating: Option<Tag<'static>> = None;
    // Events that came in while a long answer went out.
    let mut pending: VecDeque<Result<Event, WireError>> = VecDeque::new();
    loop {
        if session.failed_logins >= MAX_FAILED_LOGINS {
            return goodbye(stream, &mut server, "too many failed logins").await;
        }
        if session.account.is_some() {
            stream.trust();
        }
        let deadline = match session.account {
            Some(_) => Instant::now() + idle_limit,
            None => login_by,
        };
        let event = tokio::select! {
            ev = async {
                match pending.pop_front() {
                    Some(e) => Ok(e),
                    None => timeout_at(deadline, stream.next(&mut server)).await,
                }
            } => ev,
            _ = shutdown.changed() => {
                return goodbye(stream, &mut server, "server shutting down").await;
            }
        };
        let event = match event {
            Err(_) => {
                let why = match session.account {
                    Some(_) => "autologout: idle for too long",
                    None => "autologout: no login in time",
                };
                return goodbye(stream, &mut server, why).await;
            }
            Ok(Err(WireError::LiteralRefused(tag))) => {
                errors += 1;
                let tag = tag.and_then(|t| Tag::try_from(t).ok());
                let msg = "literal too large before login";
                let st = match tag {
                    Some(t) => status(&t, StatusKind::Bad, Some(Code::TooBig), msg),
                    None => untagged(StatusKind::Bad, Some(Code::TooBig), msg),
                };
                session.note(&st);
                server.enqueue_status(st);
                continue;
            }
            Ok(Err(WireError::Refused(why))) => {
                return goodbye(stream, &mut server, why).await;
            }
            Ok(Err(WireError::State(e))) => {
                use imap_next::server::Error as E;
                errors += 1;
                let (msg, bytes) = match &e {
                    E::ExpectedCrlfGotLf { discarded_bytes } => {
                        ("expected CRLF", Some(discarded_bytes))
                    }
                    E::MalformedMessage { discarded_bytes } => {
                        ("syntax error in command", Some(discarded_bytes))
                    }
                    E::CommandTooLong { discarded_bytes } => {
                        ("command too long", Some(discarded_bytes))
                    }
                    // imap-next has answered already.
                    E::LiteralTooLong { .. } => ("literal too long", None),
                };
                // After login, the extended forms imap-codec does not read,
                // with `$` (RFC 5182) read as the saved result first.
                let extended = match (&e, &session.account) {
                    (E::MalformedMessage { discarded_bytes }, Some(_))
                        if authenticating.is_none() =>
                    {
                        let bytes = discarded_bytes.declassify();
                        match session
                            .selected
                            .as_ref()
                            .and_then(|s| super::ext::with_saved(bytes, s))
                        {
                            Some(with) => match super::ext::decode(&with) {
                                Some(command) => {
                                    pending.push_front(Ok(Event::CommandReceived { command }));
                                    continue;
                                }
                                None => super::ext::parse(&with),
                            },
                            None => super::ext::parse(bytes),
                        }
                    }
                    _ => None,
                };
                if let Some(parsed) = extended {
                    let was = session.condstore;
                    let st = match parsed {
                        Ok(ext) => session.extended(&mut server, ext),
                        Err((tag, why)) => bad(&tag, why),
                    };
                    session.condstore_turned_on(&mut server, was);
                    session.note(&st);
                    let failed = matches!(&st, Status::Tagged(t) if t.body.kind == StatusKind::Bad);
                    errors = if failed { errors + 1 } else { 0 };
                    session.context_updates();
                    stream.push_raw(&mut server, &mut session.raw, &mut pending);
                    server.enqueue_status(st);
                    if errors >= MAX_ERRORS {
                        return goodbye(stream, &mut server, "too many errors").await;
                    }
                    continue;
                }
                if let Some(b) = bytes {
                    let st = match authenticating.take() {
                        Some(t) => {
                            let _ = server.authenticate_finish(bad(&t, "malformed response"));
                            None
                        }
                        None => Some(match tag_of(b.declassify()) {
                            Some(t) => bad(&t, msg),
                            None => untagged(StatusKind::Bad, None, msg),
                        }),
                    };
                    if let Some(st) = st {
                        session.note(&st);
                        server.enqueue_status(st);
                    }
                }
                if errors >= MAX_ERRORS {
                    return goodbye(stream, &mut server, "too many errors").await;
                }
                continue;
            }
            Ok(Err(e)) => return ended(e),
            Ok(Ok(ev)) => ev,
        };
        match event {
            Event::GreetingSent { .. } | Event::ResponseSent { .. } => {}
            Event::CommandReceived { command } => {
                let selecting = matches!(
                    command.body,
                    CommandBody::Select { .. } | CommandBody::Examine { .. }
                );
                let was = session.condstore;
                let (st, flow) = session.command(&mut server, command).await;
                if !selecting {
                    session.condstore_turned_on(&mut server, was);
                }
                session.note(&st);
                let failed = matches!(&st, Status::Tagged(t) if t.body.kind == StatusKind::Bad);
                errors = if failed { errors + 1 } else { 0 };
                if errors >= MAX_ERRORS {
                    return goodbye(stream, &mut server, "too many errors").await;
                }
                session.context_updates();
                stream.push_raw(&mut server, &mut session.raw, &mut pending);
                match flow {
                    Flow::Continue => {
                        server.enqueue_status(st);
                    }
                    Flow::Fetch(job) => {
                        let mut st = st;
                        for chunk in &job.chunks {
                            match session.fetch_chunk(&mut server, &job, chunk) {
                                Ok(Some(h)) if job.chunks.len() > 1 => {
                                    if !send_keeping(stream, &mut server, h, &mut pending).await {
                                        return "a FETCH could not be sent".into();
                                    }
                                }
                                Ok(_) => {}
                                Err(e) => {
                                    st = e;
                                    break;
                                }
                            }
                            // Answers written as bytes ([`super::fetch`]).
                            if !session.raw.is_empty() {
                                stream.push_raw(&mut server, &mut session.raw, &mut pending);
                                if job.chunks.len() > 1 && stream.flush().await.is_err() {
                                    return "a FETCH could not be sent".into();
                                }
                            }
                        }
                        if job.uid {
                            session.refresh(&mut server, true);
                        }
                        // A FETCH that set \Seen may change a kept result.
                        session.context_updates();
                        stream.push_raw(&mut server, &mut session.raw, &mut pending);
                        server.enqueue_status(st);
                    }
                    Flow::Logout => {
                        server.enqueue_status(bye("logging out"));
                        let h = server.enqueue_status(st);
                        let _ = send(stream, &mut server, h).await;
                        return "logout".into();
                    }
                    Flow::StartTls => {
                        let h = server.enqueue_status(st);
                        if !send(stream, &mut server, h).await {
                            return "STARTTLS answer not sent".into();
                        }
                        if let Err(e) = stream.start_tls(&shared.tls).await {
                            return ended(e);
                        }
                        // Whatever came before the handshake is dropped with
                        // the old state (RFC 3501 §6.2.1).
                        server = server_without_greeting(&shared);
                        session.tls = true;
                    }
                }
            }
            Event::CommandAuthenticateReceived {
                command_authenticate,
            } => {
                let tag = command_authenticate.tag;
                if session.user.is_some() {
                    let _ = server.authenticate_finish(bad(&tag, "already authenticated"));
                } else if !session.plaintext_ok() {
                    let _ = server.authenticate_finish(no(
                        &tag,
                        "plaintext authentication needs TLS: use STARTTLS first",
                    ));
                } else if command_authenticate.mechanism != AuthMechanism::Plain {
                    let _ = server.authenticate_finish(no(&tag, "only AUTHENTICATE PLAIN"));
                } else if let Some(ir) = command_authenticate.initial_response {
                    let st = session.sasl_plain(&tag, ir.declassify()).await;
                    let _ = server.authenticate_finish(st);
                } else {
                    let _ = server.authenticate_continue(CommandContinuationRequest::base64(
                        Vec::<u8>::new(),
                    ));
                    authenticating = Some(tag);
                }
            }
            Event::AuthenticateDataReceived { authenticate_data } => {
                let Some(tag) = authenticating.take() else {
                    continue;
                };
                let st = match authenticate_data {
                    AuthenticateData::Continue(data) => {
                        session.sasl_plain(&tag, data.declassify()).await
                    }
                    _ => bad(&tag, "authentication cancelled"),
                };
                let _ = server.authenticate_finish(st);
            }
            Event::IdleCommandReceived { tag } => {
                if session.account.is_none() {
                    let _ = server.idle_reject(bad(&tag, "log in first"));
                    continue;
                }
                let _ = server
                    .idle_accept(CommandContinuationRequest::basic(None, "idling").expect("valid"));
                let mut changes = shared.store.changes();
                let deadline = Instant::now() + idle_limit;
                loop {
                    tokio::select! {
                        ev = timeout_at(deadline, stream.next(&mut server)) => match ev {
                            Ok(Ok(Event::IdleDoneReceived)) => break,
                            Ok(Ok(_)) => continue,
                            Err(_) => {
                                return goodbye(stream, &mut server, "autologout: idle for too long").await;
                            }
                            Ok(Err(WireError::State(_))) => break,
                            Ok(Err(e)) => return ended(e),
                        },
                        _ = tokio::time::sleep(IDLE_POLL) => session.refresh(&mut server, true),
                        _ = changes.changed() => session.refresh(&mut server, true),
                        _ = shutdown.changed() => {
                            return goodbye(stream, &mut server, "server shutting down").await;
                        }
                    }
                    // Updates of kept results go out with the EXISTS and
                    // EXPUNGE they follow (RFC 5267 §4.3.2: during IDLE too).
                    session.context_updates();
                    if !session.raw.is_empty() {
                        stream.push_raw(&mut server, &mut session.raw, &mut pending);
                        let done =
                            |e: &Result<Event, WireError>| matches!(e, Ok(Event::IdleDoneReceived));
                        if pending.iter().any(done) {
                            pending.retain(|e| !done(e));
                            break;
                        }
                    }
                }
                session.refresh(&mut server, true);
                session.context_updates();
                stream.push_raw(&mut server, &mut session.raw, &mut pending);
                server.enqueue_status(ok(&tag, "IDLE done"));
            }
            Event::IdleDoneReceived => {}
        }
    }
}
