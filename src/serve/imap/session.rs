//! One IMAP connection: the not-authenticated, authenticated and selected
//! states (RFC 3501 §3), every command but FETCH and STORE, IDLE (RFC
//! 2177), STARTTLS, the autologout timer and shutdown.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroU64};
use std::sync::Arc;
use std::time::Duration;

use imap_next::imap_types::IntoStatic;
use imap_next::imap_types::auth::{AuthMechanism, AuthenticateData};
use imap_next::imap_types::command::{Command, CommandBody, SelectParameter, StoreModifier};
use imap_next::imap_types::core::{
    AString, Atom, Charset, IString, NString, QuotedChar, Tag, Text, Vec1,
};
use imap_next::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_next::imap_types::extensions::namespace::Namespace;
use imap_next::imap_types::extensions::quota::{QuotaGet, Resource};
use imap_next::imap_types::extensions::sort::{SortAlgorithm, SortCriterion};
use imap_next::imap_types::extensions::thread::ThreadingAlgorithm;
use imap_next::imap_types::extensions::uidplus::{UidElement, UidSet};
use imap_next::imap_types::extensions::utf8::QuotedUtf8;
use imap_next::imap_types::fetch::MessageDataItem;
use imap_next::imap_types::flag::{Flag, FlagNameAttribute, FlagPerm};
use imap_next::imap_types::mailbox::{ListMailbox, Mailbox};
use imap_next::imap_types::response::{
    Bye, Capability, Code, CodeOther, CommandContinuationRequest, Data, Greeting, GreetingKind,
    Status, StatusBody, StatusKind, Tagged,
};
use imap_next::imap_types::search::SearchKey;
use imap_next::imap_types::sequence::SequenceSet;
use imap_next::imap_types::status::{StatusDataItem, StatusDataItemName};
use imap_next::server::{Event, Options, ResponseHandle, Server};
use imap_next::{Interrupt, Io, State};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

use super::expunged::Watch;
use super::maildir::{self, Account, DELIMITER, Entry, Flags, Folder, Name, Refusal};
use super::search;
use super::sort;
use super::utf7;
use super::wire::{Wire, WireError};
use crate::serve::auth::Verdict;
use crate::serve::log;
use crate::serve::stream::Stream;
use crate::serve::{Shared, plaintext_auth_allowed};

/// How often an IDLE session looks at its mailbox (mail delivered by the
/// SMTP side also wakes it at once).
const IDLE_POLL: Duration = Duration::from_secs(2);
/// Bad commands in a row before the server hangs up.
const MAX_ERRORS: u32 = 20;
/// Failed logins before the server hangs up.
const MAX_FAILED_LOGINS: u32 = 5;

pub(super) struct Session {
    pub(super) shared: Arc<Shared>,
    /// The service (`imap`, `imaps`) and session id of the log.
    service: &'static str,
    id: String,
    peer: SocketAddr,
    tls: bool,
    pub(super) account: Option<Account>,
    user: Option<String>,
    pub(super) selected: Option<Selected>,
    failed_logins: u32,
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
    stamp: Option<(u64, std::time::SystemTime, u64)>,
    /// The keywords the client was told of in FLAGS.
    pub(super) keywords: BTreeSet<String>,
    /// Keeps the files of messages other sessions expunge readable here
    /// until this session is told.
    pub(super) watch: Watch,
    /// The UIDs of the last `SEARCH RETURN (SAVE)` (RFC 5182), for `$`.
    pub(super) saved: Vec<u32>,
}

impl Selected {
    pub(super) fn max_uid(&self) -> u32 {
        self.msgs.last().map_or(0, |e| e.uid)
    }
}

/// What the connection does after a command.
enum Flow {
    Continue,
    Logout,
    StartTls,
    /// A FETCH to answer in chunks (the status is its own).
    Fetch(super::fetch::FetchJob),
}

pub(super) fn text(s: &str) -> Text<'static> {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    Text::try_from(clean).unwrap_or_else(|_| Text::unvalidated("done"))
}

pub(super) fn status(
    tag: &Tag<'static>,
    kind: StatusKind,
    code: Option<Code<'static>>,
    msg: &str,
) -> Status<'static> {
    Status::Tagged(Tagged {
        tag: tag.clone(),
        body: StatusBody {
            kind,
            code,
            text: text(msg),
        },
    })
}

pub(super) fn ok(tag: &Tag<'static>, msg: &str) -> Status<'static> {
    status(tag, StatusKind::Ok, None, msg)
}
pub(super) fn no(tag: &Tag<'static>, msg: &str) -> Status<'static> {
    status(tag, StatusKind::No, None, msg)
}
pub(super) fn bad(tag: &Tag<'static>, msg: &str) -> Status<'static> {
    status(tag, StatusKind::Bad, None, msg)
}

fn untagged(kind: StatusKind, code: Option<Code<'static>>, msg: &str) -> Status<'static> {
    Status::Untagged(StatusBody {
        kind,
        code,
        text: text(msg),
    })
}

fn bye(msg: &str) -> Status<'static> {
    Status::Bye(Bye {
        code: None,
        text: text(msg),
    })
}

fn code_other(s: &'static str) -> Code<'static> {
    Code::Other(CodeOther::unvalidated(s.as_bytes()))
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// File work runs in the blocking pool's place, not on the runtime.
pub(super) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

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
                }
                session.refresh(&mut server, true);
                server.enqueue_status(ok(&tag, "IDLE done"));
            }
            Event::IdleDoneReceived => {}
        }
    }
}

impl Session {
    /// Logs a refusal or an error answered to the client (NO, BAD).
    fn note(&self, st: &Status) {
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
    fn condstore_turned_on(&self, server: &mut Server, was: bool) {
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

    fn plaintext_ok(&self) -> bool {
        self.tls || plaintext_auth_allowed(&self.peer)
    }

    fn capabilities(&self) -> Vec1<Capability<'static>> {
        let mut c = vec![Capability::Imap4Rev1];
        if self.user.is_none() {
            if !self.tls {
                c.push(Capability::StartTls);
            }
            if self.plaintext_ok() {
                c.push(Capability::Auth(AuthMechanism::Plain));
                c.push(Capability::SaslIr);
            } else {
                c.push(Capability::LoginDisabled);
            }
        }
        c.extend([
            Capability::LiteralPlus,
            Capability::Idle,
            Capability::UidPlus,
            Capability::Move,
            Capability::Namespace,
            Capability::Id,
            Capability::Unselect,
        ]);
        c.extend([
            Capability::Enable,
            Capability::CondStore,
            Capability::QResync,
            Capability::Quota,
            Capability::QuotaRes(Resource::Storage),
            Capability::Sort(None),
            Capability::Sort(Some(SortAlgorithm::Display)),
            Capability::Thread(ThreadingAlgorithm::OrderedSubject),
            Capability::Thread(ThreadingAlgorithm::References),
        ]);
        for other in [
            "CHILDREN",
            "SPECIAL-USE",
            "ESEARCH",
            "ESORT",
            "LIST-EXTENDED",
            "LIST-STATUS",
            "MULTIAPPEND",
            "UTF8=ACCEPT",
            "BINARY",
            "STATUS=SIZE",
            "SEARCHRES",
        ] {
            if let Ok(cap) = Capability::try_from(other) {
                c.push(cap);
            }
        }
        // RFC 9051 §7.2.2: IMAP4rev2 beside IMAP4rev1; its client picks it
        // with ENABLE. It needs every piece RFC 9051 folds in.
        if rev2_complete(&c) {
            c.insert(1, Capability::try_from("IMAP4rev2").expect("an atom"));
        }
        Vec1::try_from(c).expect("not empty")
    }

    /// Whether IMAP4rev2 is offered (and may be ENABLEd).
    fn offers_rev2(&self) -> bool {
        rev2_complete(self.capabilities().as_ref())
    }

    async fn login(&mut self, tag: &Tag<'static>, user: &[u8], pass: &[u8]) -> Status<'static> {
        let login = String::from_utf8_lossy(user).to_string();
        let pass = String::from_utf8_lossy(pass).to_string();
        let sh = self.shared.clone();
        let verdict = sh
            .logins
            .check(
                &sh.manifest,
                self.peer.ip(),
                &login,
                pass,
                crate::manifest::Service::Imap,
            )
            .await;
        let (good, address) = match verdict {
            Verdict::Ok(a) => (true, a),
            Verdict::Locked => {
                log::event(
                    self.service,
                    &self.id,
                    "login-locked",
                    &[("peer", &self.peer)],
                );
                self.failed_logins += 1;
                return status(
                    tag,
                    StatusKind::No,
                    Some(code_other("UNAVAILABLE")),
                    "too many failed logins from your address, try again later",
                );
            }
            Verdict::Wrong => (false, String::new()),
        };
        let dir = self.shared.store.user_dir(&address);
        match good {
            true => log::event(self.service, &self.id, "login", &[("user", &address)]),
            false => log::event(
                self.service,
                &self.id,
                "login-failed",
                &[("peer", &self.peer), ("login", &login.trim())],
            ),
        }
        match (good, dir) {
            (true, Some(dir)) => {
                let acct = Account::new(dir);
                let made = blocking(|| {
                    let _l = acct.lock()?;
                    acct.sweep_expunged()?;
                    acct.ensure_special_use()
                });
                if let Err(e) = made {
                    log::event(
                        self.service,
                        &self.id,
                        "special-use-failed",
                        &[("user", &address), ("error", &e)],
                    );
                }
                self.account = Some(acct);
                self.user = Some(address);
                status(
                    tag,
                    StatusKind::Ok,
                    Some(Code::Capability(self.capabilities())),
                    "logged in",
                )
            }
            _ => {
                // The delay is the login checker's (serve/auth.rs).
                self.failed_logins += 1;
                status(
                    tag,
                    StatusKind::No,
                    Some(code_other("AUTHENTICATIONFAILED")),
                    "authentication failed",
                )
            }
        }
    }

    /// SASL PLAIN (RFC 4616): `authzid NUL authcid NUL password`.
    async fn sasl_plain(&mut self, tag: &Tag<'static>, data: &[u8]) -> Status<'static> {
        let parts: Vec<&[u8]> = data.split(|&b| b == 0).collect();
        if parts.len() != 3 {
            return bad(tag, "malformed PLAIN response");
        }
        if !parts[0].is_empty() && !parts[0].eq_ignore_ascii_case(parts[1]) {
            return no(tag, "authorization identity must be empty or yours");
        }
        self.login(tag, parts[1], parts[2]).await
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

    /// Whether the selected mailbox may have changed since this session
    /// last looked: mail waits in `new/`, or the uidlist was written. (A
    /// file removed from `cur/` behind the server's back is noticed at the
    /// next change or SELECT.) Every command asks, so it must stay cheap.
    pub(super) fn may_have_changed(&self) -> bool {
        let (Some(acct), Some(sel)) = (&self.account, &self.selected) else {
            return false;
        };
        let dir = acct.dir(&sel.name);
        blocking(|| Folder::has_new(&dir) || Folder::stamp(&dir) != sel.stamp)
    }

    /// [`Session::sync`] when [`Session::may_have_changed`].
    pub(super) fn refresh(&mut self, server: &mut Server, expunges: bool) {
        if self.may_have_changed() {
            self.sync(server, expunges);
        }
    }

    /// Brings the selected mailbox up to date and tells the client: new
    /// messages (EXISTS, RECENT), changed flags (FETCH) and, when
    /// `expunges` (never during FETCH, STORE, SEARCH: RFC 3501 §7.4.1),
    /// messages removed by other sessions (EXPUNGE).
    fn sync(&mut self, server: &mut Server, expunges: bool) {
        let (Some(acct), Some(sel)) = (&self.account, &mut self.selected) else {
            return;
        };
        let res = blocking(|| {
            let _l = acct.lock()?;
            let synced = Folder::sync(acct, &sel.name, !sel.read_only);
            if expunges && synced.is_ok() {
                // Under the same lock as the read: what this session drops
                // below is all that was expunged so far.
                sel.watch.told();
            }
            synced
        });
        let (folder, given) = match res {
            Ok(x) => x,
            Err(Refusal::NoMailbox) => (
                Folder {
                    dir: Default::default(),
                    uidvalidity: sel.uidvalidity,
                    uidnext: sel.uidnext,
                    recent_from: sel.uidnext,
                    entries: Vec::new(),
                    highestmodseq: sel.highestmodseq,
                },
                Vec::new(),
            ),
            Err(_) => return,
        };
        if self.rev2 {
            // RFC 9051 §2.3.2: nothing is \Recent.
        } else if sel.read_only {
            sel.recent.extend(unclaimed(&folder));
        } else {
            sel.recent.extend(given);
        }
        sel.stamp = Folder::stamp(&folder.dir);
        if expunges {
            let gone: BTreeSet<u32> = sel
                .msgs
                .iter()
                .map(|m| m.uid)
                .filter(|&u| folder.find(u).is_none())
                .collect();
            report_expunged(server, sel, &gone, true, self.qresync);
        }
        announce_keywords(
            server,
            sel,
            folder.entries.iter().flat_map(|e| e.flags.iter()),
        );
        for (i, m) in sel.msgs.iter_mut().enumerate() {
            let Some(e) = folder.find(m.uid) else {
                continue;
            };
            let flags_changed = e.flags != m.flags;
            m.modseq = e.modseq;
            if flags_changed {
                m.flags = e.flags.clone();
                let items = super::fetch::flags_items(
                    m,
                    sel.recent.contains(&m.uid),
                    self.qresync,
                    self.condstore,
                );
                if let Ok(d) = Data::fetch(i as u32 + 1, items) {
                    server.enqueue_data(d);
                }
            }
        }
        sel.highestmodseq = folder.highestmodseq;
        let max = sel.max_uid();
        let before = sel.msgs.len();
        sel.msgs
            .extend(folder.entries.iter().filter(|e| e.uid > max).cloned());
        if sel.msgs.len() != before {
            server.enqueue_data(Data::Exists(sel.msgs.len() as u32));
            if !self.rev2 {
                let recent = sel
                    .msgs
                    .iter()
                    .filter(|m| sel.recent.contains(&m.uid))
                    .count();
                server.enqueue_data(Data::Recent(recent as u32));
            }
        }
        sel.uidnext = folder.uidnext;
    }

    async fn command(
        &mut self,
        server: &mut Server,
        cmd: Command<'static>,
    ) -> (Status<'static>, Flow) {
        let tag = cmd.tag;
        let authed = self.account.is_some();
        let selected = self.selected.is_some();
        use CommandBody as C;
        let st = match cmd.body {
            C::Capability => {
                server.enqueue_data(Data::Capability(self.capabilities()));
                ok(&tag, "capabilities listed")
            }
            C::Noop | C::Check => ok(&tag, "done"),
            C::Logout => return (ok(&tag, "logged out"), Flow::Logout),
            C::StartTLS => {
                if self.tls {
                    bad(&tag, "TLS is already on")
                } else if authed {
                    bad(&tag, "STARTTLS only before login")
                } else {
                    return (ok(&tag, "begin TLS now"), Flow::StartTls);
                }
            }
            C::Id { .. } => {
                let params = vec![(
                    IString::try_from("name").expect("valid"),
                    NString::try_from("mailc").expect("valid"),
                )];
                server.enqueue_data(Data::Id {
                    parameters: Some(params),
                });
                ok(&tag, "ID done")
            }
            C::Login { username, password } => {
                if authed {
                    bad(&tag, "already logged in")
                } else if !self.plaintext_ok() {
                    status(
                        &tag,
                        StatusKind::No,
                        Some(code_other("PRIVACYREQUIRED")),
                        "LOGIN needs TLS: use STARTTLS first",
                    )
                } else {
                    let u = username.as_ref().to_vec();
                    let p = password.declassify().as_ref().to_vec();
                    self.login(&tag, &u, &p).await
                }
            }
            C::Authenticate { .. } => bad(&tag, "unexpected AUTHENTICATE"),
            _ if !authed => bad(&tag, "log in first"),
            C::Namespace => {
                let ns = Namespace::new(
                    IString::try_from("").expect("valid"),
                    QuotedChar::try_from(DELIMITER).ok(),
                );
                server.enqueue_data(Data::Namespace {
                    personal: vec![ns],
                    other: Vec::new(),
                    shared: Vec::new(),
                });
                ok(&tag, "NAMESPACE done")
            }
            C::Enable { capabilities } => {
                // RFC 5161 §3.1: ENABLED lists what this command turned on.
                let mut on = Vec::new();
                for c in capabilities.into_iter() {
                    let name = c.to_string().to_ascii_uppercase();
                    if name == "CONDSTORE" && !self.condstore {
                        self.condstore = true;
                        on.push(c);
                    } else if name == "QRESYNC" && !self.qresync {
                        // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
                        self.condstore = true;
                        self.qresync = true;
                        on.push(c);
                    } else if name == "UTF8=ACCEPT" && !self.utf8_accept {
                        self.utf8_accept = true;
                        on.push(c);
                    } else if name == "IMAP4REV2" && !self.rev2 && self.offers_rev2() {
                        self.rev2 = true;
                        // Nothing is \Recent to an IMAP4rev2 session.
                        if let Some(sel) = self.selected.as_mut() {
                            sel.recent.clear();
                        }
                        on.push(c);
                    }
                }
                server.enqueue_data(Data::Enabled { capabilities: on });
                ok(&tag, "ENABLE done")
            }
            C::GetQuotaRoot { mailbox } => self.quota_root(server, &tag, &mailbox),
            C::GetQuota { root } => self.quota(server, &tag, root.as_ref()),
            // RFC 9208 §4.1.3: limits are the spec's; QUOTASET is not offered.
            C::SetQuota { .. } => status(
                &tag,
                StatusKind::No,
                Some(code_other("NOPERM")),
                "quotas are set in the spec",
            ),
            C::Select {
                mailbox,
                parameters,
            } => self.select(server, &tag, &mailbox, false, &parameters),
            C::Examine {
                mailbox,
                parameters,
            } => self.select(server, &tag, &mailbox, true, &parameters),
            C::Create { mailbox } => self.create(&tag, &mailbox),
            C::Delete { mailbox } => self.mailbox_op(&tag, &mailbox, None),
            C::Rename { from, to } => self.mailbox_op(&tag, &from, Some(&to)),
            C::Subscribe { mailbox } => self.subscribe(&tag, &mailbox, true),
            C::Unsubscribe { mailbox } => self.subscribe(&tag, &mailbox, false),
            C::List {
                reference,
                mailbox_wildcard,
            } => self.list(server, &tag, &reference, &mailbox_wildcard, false),
            C::Lsub {
                reference,
                mailbox_wildcard,
            } => self.list(server, &tag, &reference, &mailbox_wildcard, true),
            C::Status {
                mailbox,
                item_names,
            } => self.status(server, &tag, &mailbox, &item_names),
            C::Append {
                mailbox,
                flags,
                date,
                message,
            } => {
                let bytes = match &message {
                    LiteralOrLiteral8::Literal(l) => l.data(),
                    LiteralOrLiteral8::Literal8(l) => &l.data[..],
                };
                let date = date.map_or_else(maildir::now, |d| d.as_ref().timestamp());
                self.append(&tag, &mailbox, vec![(bytes, flag_names(&flags), date)])
            }
            _ if !selected => bad(&tag, "select a mailbox first"),
            C::Close => {
                self.expunge(server, &tag, None, false);
                self.selected = None;
                return (ok(&tag, "closed"), Flow::Continue);
            }
            C::Unselect => {
                self.selected = None;
                return (ok(&tag, "unselected"), Flow::Continue);
            }
            C::Expunge => self.expunge(server, &tag, None, true),
            C::ExpungeUid { sequence_set } => self.expunge(server, &tag, Some(&sequence_set), true),
            C::Search {
                charset,
                criteria,
                uid,
            } => {
                if let Some(st) = self.refuse_charset(&tag, charset.as_ref(), true) {
                    return (st, Flow::Continue);
                }
                if self.rev2 {
                    // RFC 9051 §6.4.4: the answer is ESEARCH, ALL when no
                    // RETURN is given.
                    let all = super::ext::Return {
                        all: true,
                        ..Default::default()
                    };
                    let search = Command {
                        tag: tag.clone(),
                        body: C::Search {
                            charset,
                            criteria,
                            uid,
                        },
                    };
                    return (self.esearch(server, &tag, &all, search), Flow::Continue);
                }
                let st = self.search(server, &tag, criteria.as_ref(), uid);
                return (st, Flow::Continue);
            }
            C::Sort {
                sort_criteria,
                charset,
                search_criteria,
                uid,
            } => {
                if let Some(st) = self.refuse_charset(&tag, Some(&charset), false) {
                    return (st, Flow::Continue);
                }
                let st = self.sort(
                    server,
                    &tag,
                    search_criteria.as_ref(),
                    uid,
                    Ordering::Sort(sort_criteria.as_ref()),
                );
                return (st, Flow::Continue);
            }
            C::Thread {
                algorithm,
                charset,
                search_criteria,
                uid,
            } => {
                if let Some(st) = self.refuse_charset(&tag, Some(&charset), false) {
                    return (st, Flow::Continue);
                }
                let how = match algorithm {
                    ThreadingAlgorithm::References => Ordering::References,
                    ThreadingAlgorithm::OrderedSubject => Ordering::OrderedSubject,
                    _ => {
                        return (bad(&tag, "unknown threading algorithm"), Flow::Continue);
                    }
                };
                let st = self.sort(server, &tag, search_criteria.as_ref(), uid, how);
                return (st, Flow::Continue);
            }
            C::Fetch {
                sequence_set,
                macro_or_item_names,
                uid,
                modifiers,
            } => {
                let job = self.fetch_job(
                    server,
                    &tag,
                    &sequence_set,
                    macro_or_item_names,
                    uid,
                    &modifiers,
                );
                return match job {
                    Ok(job) => (ok(&tag, "FETCH done"), Flow::Fetch(job)),
                    Err(st) => (st, Flow::Continue),
                };
            }
            C::Store {
                sequence_set,
                kind,
                response,
                flags,
                uid,
                modifiers,
            } => {
                let unchanged_since = modifiers
                    .iter()
                    .map(|StoreModifier::UnchangedSince(n)| *n)
                    .next();
                let st = self.store(
                    server,
                    &tag,
                    &sequence_set,
                    (kind, response),
                    &flags,
                    uid,
                    unchanged_since,
                );
                if uid {
                    self.refresh(server, true);
                }
                return (st, Flow::Continue);
            }
            C::Copy {
                sequence_set,
                mailbox,
                uid,
            } => self.copy(server, &tag, &sequence_set, &mailbox, uid, false),
            C::Move {
                sequence_set,
                mailbox,
                uid,
            } => self.copy(server, &tag, &sequence_set, &mailbox, uid, true),
            _ => bad(&tag, "command not supported"),
        };
        self.refresh(server, true);
        (st, Flow::Continue)
    }

    /// The user's quota in bytes, when the spec sets one.
    pub(super) fn quota_limit(&self) -> Option<u64> {
        self.user
            .as_ref()
            .and_then(|u| self.shared.manifest.users.get(u))
            .and_then(|u| u.quota)
    }

    /// `* QUOTA "" (STORAGE used limit)`, in units of 1024 octets (RFC 9208
    /// §5.1): one root, `""`, holds every mailbox of the user.
    fn send_quota(&self, server: &mut Server, limit: u64) -> Result<(), Refusal> {
        let acct = self.account();
        let used = blocking(|| {
            let _l = acct.lock()?;
            used(&acct)
        })?;
        let q = QuotaGet::new(Resource::Storage, used / 1024, limit / 1024);
        server.enqueue_data(Data::Quota {
            root: AString::try_from("").expect("valid"),
            quotas: Vec1::from(q),
        });
        Ok(())
    }

    fn quota_root(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        mailbox: &Mailbox,
    ) -> Status<'static> {
        let name = match self.name(mailbox) {
            Ok(n) => n,
            Err(e) => return no(tag, e),
        };
        if !self.account().exists(&name) {
            return status(
                tag,
                StatusKind::No,
                Some(code_other("NONEXISTENT")),
                "no such mailbox",
            );
        }
        let limit = self.quota_limit();
        server.enqueue_data(Data::QuotaRoot {
            mailbox: self.mailbox_of(name.as_str()),
            roots: limit
                .map(|_| AString::try_from("").expect("valid"))
                .into_iter()
                .collect(),
        });
        if let Some(l) = limit
            && let Err(e) = self.send_quota(server, l)
        {
            return no(tag, &e.to_string());
        }
        ok(tag, "GETQUOTAROOT done")
    }

    fn quota(&mut self, server: &mut Server, tag: &Tag<'static>, root: &[u8]) -> Status<'static> {
        match self.quota_limit() {
            Some(l) if root.is_empty() => match self.send_quota(server, l) {
                Ok(()) => ok(tag, "GETQUOTA done"),
                Err(e) => no(tag, &e.to_string()),
            },
            _ => status(
                tag,
                StatusKind::No,
                Some(code_other("NONEXISTENT")),
                "no such quota root",
            ),
        }
    }

    pub(super) fn account(&self) -> Account {
        self.account.clone().expect("authenticated")
    }

    fn select(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        mailbox: &Mailbox,
        read_only: bool,
        parameters: &[SelectParameter],
    ) -> Status<'static> {
        let mut qresync = None;
        for p in parameters {
            match p {
                SelectParameter::CondStore => self.condstore = true,
                SelectParameter::QResync {
                    uid_validity,
                    mod_sequence_value,
                    known_uids,
                    ..
                } => {
                    // RFC 7162 §3.2.5: only after ENABLE QRESYNC.
                    if !self.qresync {
                        return bad(tag, "QRESYNC needs ENABLE QRESYNC first");
                    }
                    qresync = Some((uid_validity.get(), mod_sequence_value.get(), known_uids));
                }
            }
        }
        if self.selected.take().is_some() {
            // RFC 7162 §3.2.11: where the old mailbox's responses end.
            server.enqueue_status(untagged(StatusKind::Ok, Some(Code::Closed), "closed"));
        }
        let name = match self.name(mailbox) {
            Ok(n) => n,
            Err(e) => return no(tag, e),
        };
        let acct = self.account();
        let res = blocking(|| {
            let _l = acct.lock()?;
            let (folder, given) = Folder::sync(&acct, &name, !read_only)?;
            // Watched from the read on: a message in this view stays
            // readable until this session is told of its expunge.
            let watch = Watch::new(&folder.dir);
            Ok::<_, Refusal>((folder, given, watch))
        });
        let (folder, given, watch) = match res {
            Ok(x) => x,
            Err(Refusal::NoMailbox) => return no(tag, "no such mailbox"),
            Err(e) => return no(tag, &format!("cannot open the mailbox: {e}")),
        };
        let keywords: BTreeSet<String> = folder
            .entries
            .iter()
            .flat_map(|e| e.flags.iter().filter(|f| !f.starts_with('\\')).cloned())
            .collect();
        let flags = defined_flags(&keywords);
        server.enqueue_data(Data::Flags(flags.clone()));
        server.enqueue_data(Data::Exists(folder.entries.len() as u32));
        let recent: HashSet<u32> = if self.rev2 {
            // RFC 9051 §2.3.2: \Recent is gone from IMAP4rev2.
            HashSet::new()
        } else if read_only {
            // RFC 3501 §6.3.2: EXAMINE changes nothing, so it shows the
            // messages no session has claimed as \Recent yet without
            // claiming them: the next SELECT still gets them.
            unclaimed(&folder)
        } else {
            given.into_iter().collect()
        };
        if self.rev2 {
            // RFC 9051 §6.3.2: the mailbox's LIST, in place of RECENT and
            // UNSEEN.
            let line = self.list_line(&name);
            self.raw.extend(line);
        } else {
            server.enqueue_data(Data::Recent(recent.len() as u32));
        }
        if let Some(i) = folder
            .entries
            .iter()
            .position(|e| !e.flags.contains("\\Seen"))
            .filter(|_| !self.rev2)
        {
            server.enqueue_status(untagged(
                StatusKind::Ok,
                Some(Code::Unseen(nz(i as u32 + 1))),
                "first unseen",
            ));
        }
        let perm: Vec<FlagPerm<'static>> = if read_only {
            Vec::new()
        } else {
            let mut p: Vec<FlagPerm<'static>> = flags.into_iter().map(FlagPerm::Flag).collect();
            p.push(FlagPerm::Asterisk);
            p
        };
        server.enqueue_status(untagged(
            StatusKind::Ok,
            Some(Code::PermanentFlags(perm)),
            "flags kept",
        ));
        server.enqueue_status(untagged(
            StatusKind::Ok,
            Some(Code::UidValidity(nz(folder.uidvalidity))),
            "UIDs valid",
        ));
        server.enqueue_status(untagged(
            StatusKind::Ok,
            Some(Code::UidNext(nz(folder.uidnext))),
            "next UID",
        ));
        // RFC 7162 §3.1.2.1: mod-sequences are kept for every mailbox.
        server.enqueue_status(untagged(
            StatusKind::Ok,
            Some(Code::HighestModSeq(nz64(folder.highestmodseq))),
            "highest mod-sequence",
        ));
        if let Some((validity, since, known)) = qresync
            && validity == folder.uidvalidity
        {
            // RFC 7162 §3.2.5.1: what vanished (every known UID that is no
            // longer there: expunges are not remembered one by one), then
            // what changed since the client's mod-sequence.
            if since < folder.highestmodseq {
                let wanted = known.clone().unwrap_or_else(|| {
                    SequenceSet::try_from(format!("1:{}", folder.uidnext.max(2) - 1).as_str())
                        .expect("valid")
                });
                let uids: Vec<u32> = folder.entries.iter().map(|e| e.uid).collect();
                if let Some(gone) = missing(&wanted, &uids, folder.uidnext) {
                    server.enqueue_data(Data::Vanished {
                        earlier: true,
                        known_uids: gone,
                    });
                }
            }
            for (i, e) in folder.entries.iter().enumerate() {
                if e.modseq > since {
                    let items = vec![
                        MessageDataItem::Uid(nz(e.uid)),
                        super::fetch::flags_item(&e.flags, recent.contains(&e.uid)),
                        MessageDataItem::ModSeq(nz64(e.modseq)),
                    ];
                    if let Ok(d) = Data::fetch(i as u32 + 1, items) {
                        server.enqueue_data(d);
                    }
                }
            }
        }
        self.selected = Some(Selected {
            name,
            read_only,
            uidvalidity: folder.uidvalidity,
            uidnext: folder.uidnext,
            highestmodseq: folder.highestmodseq,
            stamp: Folder::stamp(&folder.dir),
            keywords,
            msgs: folder.entries,
            recent,
            watch,
            saved: Vec::new(),
        });
        let (code, msg) = if read_only {
            (Code::ReadOnly, "EXAMINE done")
        } else {
            (Code::ReadWrite, "SELECT done")
        };
        status(tag, StatusKind::Ok, Some(code), msg)
    }

    fn create(&mut self, tag: &Tag<'static>, mailbox: &Mailbox) -> Status<'static> {
        // RFC 3501 §6.3.3: a trailing delimiter only says names go under it.
        let name = match mailbox {
            Mailbox::Other(o) => {
                let raw = o.inner().as_ref();
                let raw = raw.strip_suffix(&[DELIMITER as u8]).unwrap_or(raw);
                self.new_name(raw)
            }
            Mailbox::Inbox => Ok(Name::inbox()),
        };
        let name = match name {
            Ok(n) if n.is_inbox() => return no(tag, "INBOX always exists"),
            Ok(n) => n,
            Err(e) => return no(tag, e),
        };
        let acct = self.account();
        let cap = self.shared.manifest.limits.mailboxes as usize;
        match blocking(|| {
            let _l = acct.lock()?;
            acct.room_for(&name, cap)?;
            acct.create(&name)
        }) {
            Ok(()) => ok(tag, "created"),
            // RFC 5530 §3.
            Err(e @ Refusal::TooMany(_)) => status(
                tag,
                StatusKind::No,
                Some(code_other("LIMIT")),
                &e.to_string(),
            ),
            Err(Refusal::Exists) => status(
                tag,
                StatusKind::No,
                Some(code_other("ALREADYEXISTS")),
                "mailbox already exists",
            ),
            Err(e) => no(tag, &e.to_string()),
        }
    }

    /// DELETE (`to` is `None`) or RENAME.
    fn mailbox_op(
        &mut self,
        tag: &Tag<'static>,
        from: &Mailbox,
        to: Option<&Mailbox>,
    ) -> Status<'static> {
        let from = match self.name(from) {
            Ok(n) => n,
            Err(e) => return no(tag, e),
        };
        let to = match to {
            None => None,
            Some(Mailbox::Inbox) => Some(Name::inbox()),
            Some(Mailbox::Other(o)) => match self.new_name(o.inner().as_ref()) {
                Ok(n) => Some(n),
                Err(e) => return no(tag, e),
            },
        };
        let acct = self.account();
        let cap = self.shared.manifest.limits.mailboxes as usize;
        let res = blocking(|| {
            let _l = acct.lock()?;
            match &to {
                None => acct.delete(&from),
                Some(to) => {
                    // Renaming INBOX or into new parents makes mailboxes.
                    let grows = from.is_inbox() || to.parents().iter().any(|p| !acct.exists(p));
                    if grows {
                        acct.room_for(to, cap + usize::from(!from.is_inbox()))?;
                    }
                    acct.rename(&from, to)
                }
            }
        });
        match res {
            Ok(()) => {
                if to.is_none() && self.selected.as_ref().is_some_and(|s| s.name == from) {
                    self.selected = None;
                }
                ok(tag, if to.is_none() { "deleted" } else { "renamed" })
            }
            Err(Refusal::NoMailbox) => status(
                tag,
                StatusKind::No,
                Some(code_other("NONEXISTENT")),
                "no such mailbox",
            ),
            Err(Refusal::Exists) => status(
                tag,
                StatusKind::No,
                Some(code_other("ALREADYEXISTS")),
                "target mailbox already exists",
            ),
            Err(e @ Refusal::TooMany(_)) => status(
                tag,
                StatusKind::No,
                Some(code_other("LIMIT")),
                &e.to_string(),
            ),
            Err(e) => no(tag, &e.to_string()),
        }
    }

    fn subscribe(&mut self, tag: &Tag<'static>, mailbox: &Mailbox, on: bool) -> Status<'static> {
        let name = match self.name(mailbox) {
            Ok(n) => n,
            Err(e) => return no(tag, e),
        };
        let acct = self.account();
        match blocking(|| {
            let _l = acct.lock()?;
            acct.subscribe(&name, on)
        }) {
            Ok(()) => ok(tag, if on { "subscribed" } else { "unsubscribed" }),
            Err(e) => no(tag, &e.to_string()),
        }
    }

    /// The `* LIST` line of one mailbox, with the attributes LIST gives it
    /// (RFC 9051 §6.3.2 has SELECT send it).
    fn list_line(&self, name: &Name) -> Vec<u8> {
        let acct = self.account();
        let names = blocking(|| {
            let _l = acct.lock()?;
            acct.list()
        })
        .unwrap_or_default();
        let prefix = format!("{}{DELIMITER}", name.as_str());
        let children = names.iter().any(|m| m.as_str().starts_with(&prefix));
        let special = maildir::SPECIAL_USE
            .iter()
            .find(|(n, _)| *n == name.as_str())
            .map(|(_, use_)| *use_);
        let attr = if children {
            "HasChildren"
        } else {
            "HasNoChildren"
        };
        let items = std::iter::once(attr)
            .chain(special)
            .filter_map(|a| Atom::try_from(a).ok())
            .map(|a| FlagNameAttribute::from(a).into_static())
            .collect();
        super::ext::encode(Data::List {
            items,
            delimiter: QuotedChar::try_from(DELIMITER).ok(),
            mailbox: self.mailbox_of(name.as_str()),
        })
    }

    fn list(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        reference: &Mailbox,
        pattern: &ListMailbox,
        lsub: bool,
    ) -> Status<'static> {
        let reference: Vec<u8> = match reference {
            Mailbox::Inbox => b"INBOX".to_vec(),
            Mailbox::Other(o) => o.inner().as_ref().to_vec(),
        };
        let pattern: Vec<u8> = match pattern {
            ListMailbox::Token(t) => t.as_ref().to_vec(),
            ListMailbox::String(s) => s.as_ref().to_vec(),
        };
        let delim = QuotedChar::try_from(DELIMITER).ok();
        if pattern.is_empty() && !lsub {
            // RFC 3501 §6.3.8: the delimiter and the root.
            server.enqueue_data(Data::List {
                items: vec![FlagNameAttribute::Noselect],
                delimiter: delim,
                mailbox: self.mailbox_of(""),
            });
            return ok(tag, "LIST done");
        }
        let mut full = reference;
        full.extend_from_slice(&pattern);
        let acct = self.account();
        let res = blocking(|| {
            let _l = acct.lock()?;
            Ok::<_, std::io::Error>((acct.list()?, acct.subscriptions()?))
        });
        let Ok((names, subs)) = res else {
            return no(tag, "cannot list mailboxes");
        };
        let children = |n: &str| {
            let prefix = format!("{n}{DELIMITER}");
            names.iter().any(|m| m.as_str().starts_with(&prefix))
        };
        // Patterns match the names as the client sees them.
        let hit = |n: &str| {
            let shown = self.shown_name(n);
            wildcard(&full, shown.as_bytes())
                || (n == "INBOX" && wildcard(&full.to_ascii_uppercase(), n.as_bytes()))
        };
        // Each name once, with whether it is only there as the superior of
        // a subscribed name that `%` stopped at (RFC 3501 §6.3.9: LSUB
        // gives it as \Noselect).
        let mut found: BTreeMap<String, bool> = BTreeMap::new();
        if lsub {
            for n in &subs {
                if hit(n) {
                    found.insert(n.clone(), false);
                    continue;
                }
                for p in Name::parse(n.as_bytes())
                    .map(|n| n.parents())
                    .unwrap_or_default()
                {
                    if hit(p.as_str()) && !subs.contains(p.as_str()) {
                        found.entry(p.as_str().to_string()).or_insert(true);
                    }
                }
            }
        } else {
            found.extend(
                names
                    .iter()
                    .filter(|n| hit(n.as_str()))
                    .map(|n| (n.as_str().to_string(), false)),
            );
        }
        // INBOX first, as LIST has always shown it.
        let mut order: Vec<(String, bool)> = found.into_iter().collect();
        order.sort_by_key(|(n, _)| n != "INBOX");
        for (n, noselect) in order {
            let mut items = Vec::new();
            if noselect {
                items.push(FlagNameAttribute::Noselect);
            } else {
                let attr = if children(&n) {
                    "HasChildren"
                } else {
                    "HasNoChildren"
                };
                // RFC 6154 §2: LIST itself names the special-use mailboxes.
                let special = maildir::SPECIAL_USE
                    .iter()
                    .find(|(name, _)| *name == n)
                    .filter(|_| !lsub)
                    .map(|(_, use_)| *use_);
                for a in std::iter::once(attr).chain(special) {
                    if let Ok(a) = Atom::try_from(a) {
                        items.push(FlagNameAttribute::from(a).into_static());
                    }
                }
            }
            let mailbox = self.mailbox_of(&n);
            server.enqueue_data(if lsub {
                Data::Lsub {
                    items,
                    delimiter: delim,
                    mailbox,
                }
            } else {
                Data::List {
                    items,
                    delimiter: delim,
                    mailbox,
                }
            });
        }
        ok(tag, if lsub { "LSUB done" } else { "LIST done" })
    }

    fn status(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        mailbox: &Mailbox,
        names: &[StatusDataItemName],
    ) -> Status<'static> {
        let name = match self.name(mailbox) {
            Ok(n) => n,
            Err(e) => return no(tag, e),
        };
        match self.status_data(&name, names) {
            Ok(data) => {
                server.enqueue_data(data);
                ok(tag, "STATUS done")
            }
            Err(Refusal::NoMailbox) => no(tag, "no such mailbox"),
            Err(e) => no(tag, &e.to_string()),
        }
    }

    /// The `* STATUS` of one mailbox (RFC 3501 §7.2.4).
    pub(super) fn status_data(
        &mut self,
        name: &Name,
        names: &[StatusDataItemName],
    ) -> Result<Data<'static>, Refusal> {
        if names.contains(&StatusDataItemName::HighestModSeq) {
            // RFC 7162 §3.1: a CONDSTORE-enabling command.
            self.condstore = true;
        }
        let acct = self.account();
        let res = blocking(|| {
            let _l = acct.lock()?;
            Folder::sync(&acct, name, false)
        });
        let (folder, _) = res?;
        let count =
            |f: &dyn Fn(&Entry) -> bool| folder.entries.iter().filter(|e| f(e)).count() as u32;
        let items: Vec<StatusDataItem> = names
            .iter()
            .map(|n| match n {
                StatusDataItemName::Messages => {
                    StatusDataItem::Messages(folder.entries.len() as u32)
                }
                StatusDataItemName::Recent => {
                    StatusDataItem::Recent(count(&|e| e.uid >= folder.recent_from))
                }
                StatusDataItemName::UidNext => StatusDataItem::UidNext(nz(folder.uidnext)),
                StatusDataItemName::UidValidity => {
                    StatusDataItem::UidValidity(nz(folder.uidvalidity))
                }
                StatusDataItemName::Unseen => {
                    StatusDataItem::Unseen(count(&|e| !e.flags.contains("\\Seen")))
                }
                StatusDataItemName::Deleted => {
                    StatusDataItem::Deleted(count(&|e| e.flags.contains("\\Deleted")))
                }
                StatusDataItemName::HighestModSeq => {
                    StatusDataItem::HighestModSeq(folder.highestmodseq)
                }
                // RFC 8438, and RFC 9051 §6.3.11: the mailbox's octets.
                StatusDataItemName::Size => {
                    StatusDataItem::Size(folder.entries.iter().map(|e| e.size).sum())
                }
                _ => StatusDataItem::DeletedStorage(
                    folder
                        .entries
                        .iter()
                        .filter(|e| e.flags.contains("\\Deleted"))
                        .map(|e| e.size)
                        .sum(),
                ),
            })
            .collect();
        Ok(Data::Status {
            mailbox: self.mailbox_of(name.as_str()),
            items: items.into(),
        })
    }

    /// The indexes into the selected mailbox a sequence set names, or the
    /// BAD answer for sequence numbers past the end.
    pub(super) fn resolve(
        &self,
        tag: &Tag<'static>,
        set: &SequenceSet,
        uid: bool,
    ) -> Result<Vec<usize>, Status<'static>> {
        let Some(sel) = self.selected.as_ref() else {
            return Err(bad(tag, "select a mailbox first"));
        };
        if uid {
            let max = sel.max_uid();
            Ok((0..sel.msgs.len())
                .filter(|&i| search::contains(set, sel.msgs[i].uid, max))
                .collect())
        } else {
            let n = sel.msgs.len() as u32;
            if search::past_the_end(set, n) {
                return Err(bad(tag, "invalid message sequence number"));
            }
            Ok((0..sel.msgs.len())
                .filter(|&i| search::contains(set, i as u32 + 1, n))
                .collect())
        }
    }

    fn expunge(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        set: Option<&SequenceSet>,
        tell: bool,
    ) -> Status<'static> {
        let only: Option<HashSet<u32>> = match set {
            Some(set) => match self.resolve(tag, set, true) {
                Ok(idx) => {
                    let sel = self.selected.as_ref().expect("selected");
                    Some(idx.into_iter().map(|i| sel.msgs[i].uid).collect())
                }
                Err(st) => return st,
            },
            None => None,
        };
        let acct = self.account();
        let Some(sel) = self.selected.as_mut() else {
            return bad(tag, "select a mailbox first");
        };
        if sel.read_only {
            return no(tag, "mailbox is read-only");
        }
        let known: HashSet<u32> = sel.msgs.iter().map(|m| m.uid).collect();
        let me = sel.watch.id();
        let res = blocking(|| -> Result<BTreeSet<u32>, Refusal> {
            let _l = acct.lock()?;
            let mut folder = Folder::open(&acct, &sel.name)?;
            let gone: BTreeSet<u32> = folder
                .entries
                .iter()
                .filter(|e| e.flags.contains("\\Deleted") && known.contains(&e.uid))
                .filter(|e| only.as_ref().is_none_or(|o| o.contains(&e.uid)))
                .map(|e| e.uid)
                .collect();
            if !gone.is_empty() {
                folder.remove_by(&gone, Some(me))?;
            }
            Ok(gone)
        });
        let gone = match res {
            Ok(g) => g,
            Err(e) => return no(tag, &e.to_string()),
        };
        report_expunged(server, sel, &gone, tell, self.qresync);
        ok(tag, "EXPUNGE done")
    }

    /// The indexes of the selected mailbox's messages that match `keys`.
    fn matching(&self, keys: &[SearchKey]) -> BTreeSet<usize> {
        let acct = self.account();
        let Some(sel) = self.selected.as_ref() else {
            return BTreeSet::new();
        };
        let dir = acct.dir(&sel.name);
        let load =
            move |e: &Entry| -> Option<Vec<u8>> { maildir::read_message(&dir, &e.file).ok() };
        let candidates: Vec<search::Candidate> = sel
            .msgs
            .iter()
            .enumerate()
            .map(|(i, e)| search::Candidate {
                seq: i as u32 + 1,
                entry: e,
                recent: sel.recent.contains(&e.uid),
                load: &load,
            })
            .collect();
        blocking(|| search::run(&candidates, keys, sel.max_uid()))
    }

    fn search(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        keys: &[SearchKey],
        uid: bool,
    ) -> Status<'static> {
        let (found, highest) = self.search_ids(keys, uid);
        let found = found.into_iter().map(nz).collect();
        server.enqueue_data(Data::Search(found, highest.map(nz64)));
        if uid {
            self.refresh(server, true);
        }
        ok(tag, "SEARCH done")
    }

    /// The sequence numbers (or UIDs) of the messages matching `keys`, in
    /// mailbox order, and with a MODSEQ key the highest mod-sequence of
    /// them (RFC 7162 §3.1.5).
    pub(super) fn search_ids(&mut self, keys: &[SearchKey], uid: bool) -> (Vec<u32>, Option<u64>) {
        let hits = self.matching(keys);
        let Some(sel) = self.selected.as_ref() else {
            return (Vec::new(), None);
        };
        let by_modseq = keys.iter().any(search::uses_modseq);
        let highest = hits.iter().map(|&i| sel.msgs[i].modseq).max();
        let found = hits
            .into_iter()
            .map(|i| if uid { sel.msgs[i].uid } else { i as u32 + 1 })
            .collect();
        if by_modseq {
            self.condstore = true;
        }
        (found, highest.filter(|_| by_modseq))
    }

    /// SORT, or THREAD with its algorithm (RFC 5256): the messages that
    /// match `keys`, ordered or threaded by their headers.
    fn sort(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        keys: &[SearchKey],
        uid: bool,
        how: Ordering,
    ) -> Status<'static> {
        let (mut found, highest) = self.sort_keys(keys, uid);
        match how {
            Ordering::Sort(criteria) => {
                sort::sort(&mut found, criteria);
                server.enqueue_data(Data::Sort(
                    found.iter().map(|k| nz(k.id)).collect(),
                    highest.map(nz64),
                ));
            }
            Ordering::References => {
                server.enqueue_data(Data::Thread(sort::references(&found)));
            }
            Ordering::OrderedSubject => {
                server.enqueue_data(Data::Thread(sort::ordered_subject(&found)));
            }
        }
        if uid {
            self.refresh(server, true);
        }
        ok(
            tag,
            if matches!(how, Ordering::Sort(_)) {
                "SORT done"
            } else {
                "THREAD done"
            },
        )
    }

    /// The sort keys of the messages matching `keys` (their ids sequence
    /// numbers or UIDs), in mailbox order, and with a MODSEQ key the
    /// highest mod-sequence of them.
    pub(super) fn sort_keys(
        &mut self,
        keys: &[SearchKey],
        uid: bool,
    ) -> (Vec<sort::Keys>, Option<u64>) {
        let hits = self.matching(keys);
        let acct = self.account();
        let Some(sel) = self.selected.as_ref() else {
            return (Vec::new(), None);
        };
        let dir = acct.dir(&sel.name);
        let found: Vec<sort::Keys> = blocking(|| {
            hits.iter()
                .map(|&i| {
                    let e = &sel.msgs[i];
                    let id = if uid { e.uid } else { i as u32 + 1 };
                    let bytes = maildir::read_message(&dir, &e.file).unwrap_or_default();
                    let mut scratch = Vec::new();
                    let p = super::message::Parsed::new(&bytes, &mut scratch);
                    sort::Keys::of(&p, id, e.date, e.size)
                })
                .collect()
        });
        let by_modseq = keys.iter().any(search::uses_modseq);
        let highest = hits.iter().map(|&i| sel.msgs[i].modseq).max();
        if by_modseq {
            self.condstore = true;
        }
        (found, highest.filter(|_| by_modseq))
    }

    fn copy(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        set: &SequenceSet,
        mailbox: &Mailbox,
        uid: bool,
        moving: bool,
    ) -> Status<'static> {
        let idx = match self.resolve(tag, set, uid) {
            Ok(i) => i,
            Err(st) => return st,
        };
        let dest = match self.name(mailbox) {
            Ok(n) => n,
            Err(e) => return no(tag, e),
        };
        let acct = self.account();
        let quota = self.quota_limit().filter(|_| !moving);
        let Some(sel) = self.selected.as_mut() else {
            return bad(tag, "select a mailbox first");
        };
        if moving && sel.read_only {
            return no(tag, "mailbox is read-only");
        }
        let uids: Vec<u32> = idx.iter().map(|&i| sel.msgs[i].uid).collect();
        let adding: u64 = idx.iter().map(|&i| sel.msgs[i].size).sum();
        let me = sel.watch.id();
        type Copied = (u32, Vec<(u32, u32)>);
        let res = blocking(|| -> Result<Option<Copied>, Refusal> {
            let _l = acct.lock()?;
            if !acct.exists(&dest) {
                return Ok(None);
            }
            if let Some(q) = quota
                && used(&acct)? + adding > q
            {
                return Err(Refusal::OverQuota);
            }
            let mut src = Folder::open(&acct, &sel.name)?;
            let mut dst = if dest == sel.name {
                None
            } else {
                Some(Folder::open(&acct, &dest)?)
            };
            let mut pairs = Vec::new();
            for u in &uids {
                let Some(e) = src.find(*u).cloned() else {
                    continue;
                };
                let bytes = src.read(&e)?;
                let target = dst.as_mut().unwrap_or(&mut src);
                let new = target.add_unsaved(&bytes, e.flags.clone(), e.date)?;
                pairs.push((*u, new));
            }
            dst.as_ref().unwrap_or(&src).save()?;
            let validity = dst.as_ref().unwrap_or(&src).uidvalidity;
            if moving {
                let gone: BTreeSet<u32> = pairs.iter().map(|p| p.0).collect();
                src.remove_by(&gone, Some(me))?;
            }
            Ok(Some((validity, pairs)))
        });
        let (validity, pairs) = match res {
            Ok(Some(x)) => x,
            Ok(None) => {
                return status(
                    tag,
                    StatusKind::No,
                    Some(Code::TryCreate),
                    "no such mailbox",
                );
            }
            Err(Refusal::OverQuota) => {
                return status(tag, StatusKind::No, Some(Code::OverQuota), "quota exceeded");
            }
            Err(e) => return no(tag, &e.to_string()),
        };
        self.shared.store.notify();
        let code = match (
            uid_set(pairs.iter().map(|p| p.0)),
            uid_set(pairs.iter().map(|p| p.1)),
        ) {
            (Some(source), Some(destination)) => Some(Code::CopyUid {
                uid_validity: nz(validity),
                source,
                destination,
            }),
            _ => None,
        };
        if moving {
            // RFC 6851 §4.3: COPYUID comes untagged, before the EXPUNGEs.
            server.enqueue_status(untagged(StatusKind::Ok, code, "moved"));
            let gone: BTreeSet<u32> = pairs.iter().map(|p| p.0).collect();
            report_expunged(server, sel, &gone, true, self.qresync);
            ok(tag, "MOVE done")
        } else {
            status(tag, StatusKind::Ok, code, "COPY done")
        }
    }
}

/// What [`Session::sort`] answers.
enum Ordering<'c> {
    Sort(&'c [SortCriterion]),
    References,
    OrderedSubject,
}

impl Session {
    /// The refusal of a search's charset, if any: `NO [BADCHARSET]` for
    /// one other than US-ASCII and UTF-8; after UTF8=ACCEPT, `BAD` for any
    /// SEARCH CHARSET and for a SORT or THREAD charset other than UTF-8
    /// (RFC 6855 §3 with erratum 4029: the labels would conflict).
    /// `optional` is SEARCH's case.
    pub(super) fn refuse_charset(
        &self,
        tag: &Tag<'static>,
        charset: Option<&Charset>,
        optional: bool,
    ) -> Option<Status<'static>> {
        let cs = charset?.as_ref().to_ascii_uppercase();
        if self.utf8_accept {
            if optional {
                return Some(bad(tag, "no CHARSET after ENABLE UTF8=ACCEPT"));
            }
            if cs != "UTF-8" {
                return Some(bad(tag, "only UTF-8 after ENABLE UTF8=ACCEPT"));
            }
        }
        (cs != "US-ASCII" && cs != "UTF-8").then(|| {
            status(
                tag,
                StatusKind::No,
                Some(Code::BadCharset {
                    allowed: Vec::new(),
                }),
                "only US-ASCII and UTF-8",
            )
        })
    }
}

/// Whether the extensions RFC 9051 Appendix E folds into IMAP4rev2 are all
/// offered after login (SASL-IR, offered before it, aside).
fn rev2_complete(caps: &[Capability]) -> bool {
    let have: Vec<String> = caps
        .iter()
        .map(|c| c.to_string().to_ascii_uppercase())
        .collect();
    [
        "NAMESPACE",
        "UNSELECT",
        "UIDPLUS",
        "ESEARCH",
        "SEARCHRES",
        "ENABLE",
        "IDLE",
        "LIST-EXTENDED",
        "LIST-STATUS",
        "MOVE",
        "LITERAL+",
        "BINARY",
        "SPECIAL-USE",
        "STATUS=SIZE",
    ]
    .iter()
    .all(|want| have.iter().any(|h| h == want))
}

/// The UIDs no session has been told are `\Recent` yet.
fn unclaimed(folder: &Folder) -> HashSet<u32> {
    folder
        .entries
        .iter()
        .map(|e| e.uid)
        .filter(|&u| u >= folder.recent_from)
        .collect()
}

/// Bytes of mail in all of an account's mailboxes (for its quota).
pub(super) fn used(acct: &Account) -> Result<u64, Refusal> {
    let mut used = 0u64;
    for n in acct.list()? {
        let f = Folder::open(acct, &n)?;
        used += f.entries.iter().map(|e| e.size).sum::<u64>();
    }
    Ok(used)
}

/// FLAGS: the system flags and the mailbox's keywords.
fn defined_flags(keywords: &BTreeSet<String>) -> Vec<Flag<'static>> {
    let mut flags = vec![
        Flag::Answered,
        Flag::Flagged,
        Flag::Deleted,
        Flag::Seen,
        Flag::Draft,
    ];
    flags.extend(
        keywords
            .iter()
            .filter_map(|k| Flag::try_from(k.as_str()).ok().map(|f| f.into_static())),
    );
    flags
}

/// Tells the client of keywords new to the mailbox (RFC 3501 §7.2.6: FLAGS
/// lists the flags defined in it), before the responses that use them.
pub(super) fn announce_keywords<'f>(
    server: &mut Server,
    sel: &mut Selected,
    flags: impl IntoIterator<Item = &'f String>,
) {
    let mut new = false;
    for f in flags {
        if !f.starts_with('\\') && !sel.keywords.contains(f) {
            sel.keywords.insert(f.clone());
            new = true;
        }
    }
    if new {
        let flags = defined_flags(&sel.keywords);
        server.enqueue_data(Data::Flags(flags.clone()));
        if !sel.read_only {
            let mut perm: Vec<FlagPerm<'static>> = flags.into_iter().map(FlagPerm::Flag).collect();
            perm.push(FlagPerm::Asterisk);
            server.enqueue_status(untagged(
                StatusKind::Ok,
                Some(Code::PermanentFlags(perm)),
                "flags kept",
            ));
        }
    }
}

/// Drops expunged messages from the session's view, saying so when
/// `tell`: EXPUNGE for each, or one VANISHED of their UIDs when QRESYNC is
/// on (RFC 7162 §3.2.10).
fn report_expunged(
    server: &mut Server,
    sel: &mut Selected,
    gone: &BTreeSet<u32>,
    tell: bool,
    vanished: bool,
) {
    if gone.is_empty() {
        return;
    }
    let mut said = Vec::new();
    let mut i = 0;
    while i < sel.msgs.len() {
        if gone.contains(&sel.msgs[i].uid) {
            if tell && !vanished {
                server.enqueue_data(Data::Expunge(nz(i as u32 + 1)));
            }
            said.push(sel.msgs[i].uid);
            sel.msgs.remove(i);
        } else {
            i += 1;
        }
    }
    if tell
        && vanished
        && let Some(set) = uid_set(said.into_iter())
    {
        server.enqueue_data(Data::Vanished {
            earlier: false,
            known_uids: uid_sequence_set(&set),
        });
    }
}

/// The same UIDs as a sequence set.
pub(super) fn uid_sequence_set(set: &UidSet) -> SequenceSet {
    use imap_next::imap_types::sequence::{SeqOrUid, Sequence};
    let seqs: Vec<Sequence> = set
        .0
        .as_ref()
        .iter()
        .map(|e| match e {
            UidElement::Single(n) => Sequence::Single(SeqOrUid::Value(*n)),
            UidElement::Range(a, b) => Sequence::Range(SeqOrUid::Value(*a), SeqOrUid::Value(*b)),
        })
        .collect();
    SequenceSet(Vec1::try_from(seqs).expect("a UID set is not empty"))
}

/// The UIDs of `wanted` (below `uidnext`) that are not among `present`
/// (ascending), as a sequence set; found gap by gap, so a huge range costs
/// no more than the mailbox's size.
pub(super) fn missing(wanted: &SequenceSet, present: &[u32], uidnext: u32) -> Option<SequenceSet> {
    use imap_next::imap_types::sequence::{SeqOrUid, Sequence};
    let last = uidnext.saturating_sub(1);
    if last == 0 {
        return None;
    }
    let raw = |s: &SeqOrUid| match s {
        SeqOrUid::Value(v) => v.get(),
        SeqOrUid::Asterisk => last,
    };
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for seq in wanted.0.as_ref() {
        let (a, b) = match seq {
            Sequence::Single(v) => (raw(v), raw(v)),
            Sequence::Range(x, y) => (raw(x).min(raw(y)), raw(x).max(raw(y))),
        };
        if a > last {
            continue;
        }
        let b = b.min(last);
        // The gaps of `present` within a..=b.
        let mut at = a;
        let start = present.partition_point(|&u| u < a);
        for &u in present[start..].iter().take_while(|&&u| u <= b) {
            if u > at {
                ranges.push((at, u - 1));
            }
            at = u + 1;
        }
        if at <= b {
            ranges.push((at, b));
        }
    }
    ranges.sort_unstable();
    let mut text = String::new();
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(m) if a <= m.1.saturating_add(1) => m.1 = m.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    for (a, b) in merged {
        if !text.is_empty() {
            text.push(',');
        }
        if a == b {
            text.push_str(&a.to_string());
        } else {
            text.push_str(&format!("{a}:{b}"));
        }
    }
    SequenceSet::try_from(text.as_str()).ok()
}

fn nz64(n: u64) -> NonZeroU64 {
    NonZeroU64::new(n).unwrap_or(NonZeroU64::MIN)
}

pub(super) fn uid_set(uids: impl Iterator<Item = u32>) -> Option<UidSet> {
    let mut out: Vec<UidElement> = Vec::new();
    let push = |out: &mut Vec<UidElement>, (a, b): (u32, u32)| {
        out.push(if a == b {
            UidElement::Single(nz(a))
        } else {
            UidElement::Range(nz(a), nz(b))
        })
    };
    let mut run: Option<(u32, u32)> = None;
    for u in uids {
        run = match run {
            Some((a, b)) if u == b + 1 => Some((a, u)),
            Some(r) => {
                push(&mut out, r);
                Some((u, u))
            }
            None => Some((u, u)),
        };
    }
    if let Some(r) = run {
        push(&mut out, r);
    }
    Vec1::try_from(out).ok().map(UidSet)
}

/// The names of flags a client may set (`\Recent` and unknown system flags
/// are not kept).
pub(super) fn flag_names(flags: &[Flag]) -> Flags {
    flags
        .iter()
        .filter(|f| !matches!(f, Flag::Extension(_)))
        .map(|f| f.to_string())
        .collect()
}

/// LIST matching (RFC 3501 §6.3.8): `*` matches anything, `%` anything
/// but the delimiter. One pass per pattern byte, so a hostile pattern costs
/// no more than its length times the name's.
pub(super) fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    // reach[j]: the pattern so far matches the first j bytes of the name.
    let mut reach = vec![false; name.len() + 1];
    reach[0] = true;
    for &c in pattern {
        let mut next = vec![false; name.len() + 1];
        let mut on = false;
        for j in 0..=name.len() {
            match c {
                b'*' => {
                    on |= reach[j];
                    next[j] = on;
                }
                b'%' => {
                    if j > 0 && name[j - 1] == DELIMITER as u8 {
                        on = false;
                    }
                    on |= reach[j];
                    next[j] = on;
                }
                _ => next[j] = j > 0 && reach[j - 1] && name[j - 1] == c,
            }
        }
        reach = next;
    }
    reach[name.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_wildcards() {
        assert!(wildcard(b"*", b"a.b"));
        assert!(wildcard(b"%", b"a"));
        assert!(!wildcard(b"%", b"a.b"));
        assert!(wildcard(b"a.%", b"a.b"));
        assert!(wildcard(b"INBOX", b"INBOX"));
        assert!(!wildcard(b"a*c", b"ab"));
        assert!(wildcard(b"a*c", b"abc.c"));
        assert!(wildcard(b"%.%", b"a.b"));
        assert!(!wildcard(b"%.%", b"a.b.c"));
        assert!(wildcard(b"", b""));
        let long = vec![b'a'; 200];
        assert!(!wildcard(b"*a*a*a*a*a*a*a*a*a*a*a*b", &long));
    }
}
