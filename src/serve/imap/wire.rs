//! One IMAP client's byte stream, plain or TLS, driving imap-next's server
//! state machine (its sans-I/O [`State`] side) with the server's limits:
//!
//! - **backpressure**: answers go out before anything more is read, and
//!   at most [`OUT_HIGH`] of them wait in memory; a client that pipelines
//!   commands behind a FETCH it does not read stays blocked in its own
//!   socket, not in the server's memory;
//! - **before login** the input is passed on one line at a time, each at
//!   most [`PREAUTH_LINE`] bytes, and a literal may announce at most
//!   [`PREAUTH_LITERAL`] bytes: a synchronising one over that is answered
//!   `BAD` (its bytes are never sent), a non-synchronising one (LITERAL+)
//!   ends the connection at once, since its bytes are on their way;
//! - every write must be done within [`WRITE_TIMEOUT`].
//!
//! Every await point here is cancel-safe: the session may drop a read to
//! answer a shutdown or an IDLE wake-up, and nothing is lost or sent twice.

use std::io;
use std::time::Duration;

use imap_next::server::{Error as ServerError, Event, Server};
use imap_next::{Interrupt, Io, State};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use crate::serve::stream::Stream;

/// Answers buffered beyond this are written before more are made.
pub const OUT_HIGH: usize = 256 * 1024;
/// Bytes read from the socket at once.
const READ_CHUNK: usize = 64 * 1024;
/// The longest command line before login.
pub const PREAUTH_LINE: usize = 8 * 1024;
/// The largest literal before login (a user name or a password).
pub const PREAUTH_LITERAL: u64 = 1024;
/// How long one write of answers may take.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(300);

/// Why the wire stopped giving events.
#[derive(Debug)]
pub enum WireError {
    /// The client hung up.
    Closed,
    Io(io::Error),
    /// imap-next could not read a command (answered by the caller).
    State(ServerError),
    /// Before login, a synchronising literal over the limit: the line was
    /// dropped; the caller answers `BAD` with this tag.
    LiteralRefused(Option<Vec<u8>>),
    /// Before login, input over the limits that cannot be refused
    /// politely: the caller says BYE and closes.
    Refused(&'static str),
}

/// The client connection with its buffers.
pub struct Wire {
    stream: Stream,
    inbuf: Vec<u8>,
    /// Bytes of `inbuf` passed on already.
    pos: usize,
    out: Vec<u8>,
    gate: Gate,
}

/// What of the buffered input goes on to the state machine: all of it
/// after login; before, one line at a time within the limits.
#[derive(Debug)]
pub struct Gate {
    /// Before login: the input is checked line by line.
    guarded: bool,
    /// Before login: bytes of an accepted literal still to pass on as they are.
    literal_left: u64,
    /// Before login: the last line passed on announced a literal, so the
    /// command goes on after it.
    in_command: bool,
}

/// What [`Gate::pass`] decided about the input at hand.
#[derive(Debug, PartialEq, Eq)]
pub enum Pass {
    /// Pass on this many bytes.
    Take(usize),
    /// Nothing whole yet: read more.
    Need,
    /// Drop this many bytes (a line announcing a synchronising literal over
    /// the limit) and answer `BAD` with the line's first word as the tag.
    Skip(usize, Option<Vec<u8>>),
    /// Over the limits: BYE.
    Refuse(&'static str),
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            guarded: true,
            literal_left: 0,
            in_command: false,
        }
    }
}

impl Gate {
    /// After login everything passes.
    pub fn trust(&mut self) {
        self.guarded = false;
    }

    /// Decides about `avail`, the input not passed on yet.
    pub fn pass(&mut self, avail: &[u8]) -> Pass {
        if avail.is_empty() {
            return Pass::Need;
        }
        if !self.guarded {
            return Pass::Take(avail.len());
        }
        if self.literal_left > 0 {
            let n = (avail.len() as u64).min(self.literal_left) as usize;
            self.literal_left -= n as u64;
            return Pass::Take(n);
        }
        let Some(end) = avail.iter().position(|&b| b == b'\n') else {
            if avail.len() > PREAUTH_LINE {
                return Pass::Refuse("command line too long before login");
            }
            return Pass::Need;
        };
        let line = &avail[..=end];
        if line.len() > PREAUTH_LINE {
            return Pass::Refuse("command line too long before login");
        }
        match literal_announced(line) {
            Some((n, sync)) if n > PREAUTH_LITERAL => {
                if !sync || self.in_command {
                    return Pass::Refuse("literal too large before login");
                }
                let tag = line.split(|&b| b == b' ').next().map(<[u8]>::to_vec);
                return Pass::Skip(line.len(), tag);
            }
            Some((n, _)) => {
                self.literal_left = n;
                self.in_command = true;
            }
            None => self.in_command = false,
        }
        Pass::Take(line.len())
    }

    /// Starts over (after STARTTLS: nothing sent before counts).
    fn reset(&mut self) {
        self.literal_left = 0;
        self.in_command = false;
    }
}

/// The length a line's literal announcement (`{N}`, `{N+}`, `~{N}`) asks
/// for, and whether it is synchronising.
pub fn literal_announced(line: &[u8]) -> Option<(u64, bool)> {
    let line = line.strip_suffix(b"\n")?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let inner = &inner[open + 1..];
    let (digits, sync) = match inner.strip_suffix(b"+") {
        Some(d) => (d, false),
        None => (inner, true),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = std::str::from_utf8(digits)
        .ok()?
        .parse::<u64>()
        .unwrap_or(u64::MAX);
    Some((n, sync))
}

impl Wire {
    pub fn new(stream: Stream) -> Wire {
        Wire {
            stream,
            inbuf: Vec::with_capacity(8 * 1024),
            pos: 0,
            out: Vec::with_capacity(8 * 1024),
            gate: Gate::default(),
        }
    }

    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// The client has logged in: its input is no longer checked line by
    /// line (what it pipelined behind the login is passed on as it is).
    pub fn trust(&mut self) {
        self.gate.trust();
    }

    /// The next event of `server`, reading and writing as it needs.
    pub async fn next(&mut self, server: &mut Server) -> Result<Event, WireError> {
        loop {
            match server.next() {
                Ok(event) => return Ok(event),
                Err(Interrupt::Io(Io::Output(bytes))) => {
                    self.out.extend_from_slice(&bytes);
                    if self.out.len() >= OUT_HIGH {
                        self.flush().await?;
                    }
                    continue;
                }
                Err(Interrupt::Error(e)) => return Err(WireError::State(e)),
                Err(Interrupt::Io(Io::NeedMoreInput)) => {}
            }
            // Nothing more is read while answers wait.
            self.flush().await?;
            if !self.feed(server)? {
                self.read().await?;
            }
        }
    }

    /// Queues `raw`, answers written by the session itself, behind
    /// everything `server` has queued so far; events the server reads
    /// meanwhile (pipelined commands) are kept in `pending`, in order.
    pub fn push_raw(
        &mut self,
        server: &mut Server,
        raw: &mut Vec<u8>,
        pending: &mut std::collections::VecDeque<Result<Event, WireError>>,
    ) {
        if raw.is_empty() {
            return;
        }
        // imap-next sends all it has queued before it reads on, so once it
        // asks for input its queue is empty.
        loop {
            match server.next() {
                Ok(Event::ResponseSent { .. } | Event::GreetingSent { .. }) => {}
                Ok(event) => pending.push_back(Ok(event)),
                Err(Interrupt::Io(Io::Output(bytes))) => self.out.extend_from_slice(&bytes),
                Err(Interrupt::Error(e)) => pending.push_back(Err(WireError::State(e))),
                Err(Interrupt::Io(Io::NeedMoreInput)) => break,
            }
        }
        self.out.append(raw);
    }

    /// Passes buffered input on to `server`; false when there is nothing
    /// (whole) to pass on.
    fn feed(&mut self, server: &mut Server) -> Result<bool, WireError> {
        let avail = &self.inbuf[self.pos..];
        match self.gate.pass(avail) {
            Pass::Take(n) => {
                server.enqueue_input(&avail[..n]);
                self.pos += n;
                Ok(true)
            }
            Pass::Need => Ok(false),
            Pass::Skip(n, tag) => {
                self.pos += n;
                Err(WireError::LiteralRefused(tag))
            }
            Pass::Refuse(why) => Err(WireError::Refused(why)),
        }
    }

    async fn read(&mut self) -> Result<(), WireError> {
        if self.pos > 0 {
            self.inbuf.drain(..self.pos);
            self.pos = 0;
        }
        self.inbuf.reserve(READ_CHUNK);
        let mut chunk = (&mut self.stream).take(READ_CHUNK as u64);
        match chunk.read_buf(&mut self.inbuf).await {
            Ok(0) => Err(WireError::Closed),
            Ok(_) => Ok(()),
            Err(e) => Err(WireError::Io(e)),
        }
    }

    /// Writes every buffered answer.
    pub async fn flush(&mut self) -> Result<(), WireError> {
        if self.out.is_empty() {
            return Ok(());
        }
        let write = async {
            while !self.out.is_empty() {
                let n = self.stream.write(&self.out).await?;
                if n == 0 {
                    return Err(io::ErrorKind::WriteZero.into());
                }
                self.out.drain(..n);
            }
            self.stream.flush().await
        };
        match tokio::time::timeout(WRITE_TIMEOUT, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(WireError::Io(e)),
            Err(_) => Err(WireError::Io(io::ErrorKind::TimedOut.into())),
        }
    }

    /// STARTTLS (RFC 3501 §6.2.1): answers already queued go out, input the
    /// client sent after the command in the clear is dropped, then the
    /// handshake.
    pub async fn start_tls(&mut self, acceptor: &TlsAcceptor) -> Result<(), WireError> {
        self.flush().await?;
        self.inbuf.clear();
        self.pos = 0;
        self.gate.reset();
        self.stream
            .upgrade(acceptor, Duration::from_secs(60))
            .await
            .map_err(WireError::Io)
    }

    /// Ends the connection politely: answers out, the write side closed
    /// (TLS close_notify), then what the client still sends is taken for a
    /// moment (at most 2 s and 1 MiB), since closing on unread input sends
    /// a reset that can destroy the last answer before the client reads it.
    pub async fn close(&mut self) {
        let _ = self.flush().await;
        self.stream.linger_close().await;
    }

    /// The handshake of a connection on the implicit-TLS port.
    pub async fn accept_tls(tcp: TcpStream, acceptor: &TlsAcceptor) -> io::Result<Wire> {
        let mut stream = Stream::Plain(tcp);
        stream.upgrade(acceptor, Duration::from_secs(60)).await?;
        Ok(Wire::new(stream))
    }
}

/// imap-next's options for a server taking literals (APPEND) of up to
/// `message_size` bytes; a command may be 64 KiB more.
pub fn options(message_size: u64) -> imap_next::server::Options {
    let mut o = imap_next::server::Options::default();
    let lit = u32::try_from(message_size).unwrap_or(u32::MAX >> 1);
    o.max_literal_size = lit;
    o.max_command_size = lit.saturating_add(64 * 1024);
    o.crlf_relaxed = true;
    o
}

/// Runs `input` through the [`Gate`] and imap-next's server as a
/// connection does, without a socket or a session: a `LOGIN` opens the
/// gate, AUTHENTICATE and IDLE are turned down, nothing is answered. What
/// the `imap` fuzz target runs; returns one line per event.
pub fn replay(input: &[u8], options: imap_next::server::Options) -> Vec<String> {
    use imap_next::imap_types::command::CommandBody;
    use imap_next::imap_types::response::{Greeting, Status};
    let greeting = Greeting::ok(None, "ready").expect("a valid greeting");
    let mut server = Server::new(options, greeting);
    let mut gate = Gate::default();
    let mut pos = 0;
    let mut events = Vec::new();
    let no = |tag| Status::bad(Some(tag), None, "no").expect("a valid status");
    // Every call makes progress (output, an event, or input taken), and
    // the input is finite; the bound is for safety only.
    for _ in 0..(4 * input.len() + 64) {
        match server.next() {
            Ok(Event::CommandReceived { command }) => {
                if matches!(command.body, CommandBody::Login { .. }) {
                    gate.trust();
                }
                events.push(format!("command {}", command.body.name()));
            }
            Ok(Event::CommandAuthenticateReceived {
                command_authenticate,
            }) => {
                let _ = server.authenticate_finish(no(command_authenticate.tag));
                events.push("authenticate".into());
            }
            Ok(Event::IdleCommandReceived { tag }) => {
                let _ = server.idle_reject(no(tag));
                events.push("idle".into());
            }
            Ok(e) => events.push(format!("{e:?}").chars().take(40).collect()),
            Err(Interrupt::Io(Io::Output(_))) => {}
            Err(Interrupt::Error(e)) => events.push(format!("error {e}")),
            Err(Interrupt::Io(Io::NeedMoreInput)) => match gate.pass(&input[pos..]) {
                Pass::Take(n) => {
                    server.enqueue_input(&input[pos..pos + n]);
                    pos += n;
                }
                Pass::Need => break,
                Pass::Skip(n, _) => {
                    pos += n;
                    events.push("literal refused".into());
                }
                Pass::Refuse(why) => {
                    events.push(why.into());
                    break;
                }
            },
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_announcements() {
        assert_eq!(literal_announced(b"a LOGIN {5}\r\n"), Some((5, true)));
        assert_eq!(
            literal_announced(b"a LOGIN {26214400+}\r\n"),
            Some((26214400, false))
        );
        assert_eq!(literal_announced(b"a APPEND x ~{7}\n"), Some((7, true)));
        assert_eq!(
            literal_announced(b"a X {99999999999999999999999}\r\n"),
            Some((u64::MAX, true))
        );
        assert_eq!(literal_announced(b"a LOGIN x y\r\n"), None);
        assert_eq!(literal_announced(b"a LOGIN {}\r\n"), None);
        assert_eq!(literal_announced(b"a LOGIN {+}\r\n"), None);
        assert_eq!(literal_announced(b"a LOGIN {x}\r\n"), None);
        assert_eq!(literal_announced(b"a LOGIN {5}"), None);
    }
}
