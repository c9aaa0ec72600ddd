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
    /// Before login: the input is checked line by line.
    guarded: bool,
    /// Before login: bytes of an accepted literal still to pass on as they are.
    literal_left: u64,
    /// Before login: the last line passed on announced a literal, so the
    /// command goes on after it.
    in_command: bool,
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
            guarded: true,
            literal_left: 0,
            in_command: false,
        }
    }

    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// The client has logged in: its input is no longer checked line by
    /// line (what it pipelined behind the login is passed on as it is).
    pub fn trust(&mut self) {
        self.guarded = false;
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

    /// Passes buffered input on to `server`; false when there is nothing
    /// (whole) to pass on.
    fn feed(&mut self, server: &mut Server) -> Result<bool, WireError> {
        let avail = &self.inbuf[self.pos..];
        if avail.is_empty() {
            return Ok(false);
        }
        if !self.guarded {
            server.enqueue_input(avail);
            self.pos = self.inbuf.len();
            return Ok(true);
        }
        if self.literal_left > 0 {
            let n = (avail.len() as u64).min(self.literal_left) as usize;
            server.enqueue_input(&avail[..n]);
            self.pos += n;
            self.literal_left -= n as u64;
            return Ok(true);
        }
        let Some(end) = avail.iter().position(|&b| b == b'\n') else {
            if avail.len() > PREAUTH_LINE {
                return Err(WireError::Refused("command line too long before login"));
            }
            return Ok(false);
        };
        let line = &avail[..=end];
        if line.len() > PREAUTH_LINE {
            return Err(WireError::Refused("command line too long before login"));
        }
        match literal_announced(line) {
            Some((n, sync)) if n > PREAUTH_LITERAL => {
                if !sync || self.in_command {
                    return Err(WireError::Refused("literal too large before login"));
                }
                let tag = line.split(|&b| b == b' ').next().map(<[u8]>::to_vec);
                self.pos += line.len();
                return Err(WireError::LiteralRefused(tag));
            }
            Some((n, _)) => {
                self.literal_left = n;
                self.in_command = true;
            }
            None => self.in_command = false,
        }
        server.enqueue_input(line);
        self.pos += line.len();
        Ok(true)
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
        self.literal_left = 0;
        self.in_command = false;
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
