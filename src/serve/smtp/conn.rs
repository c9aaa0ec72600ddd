//! One SMTP client's byte stream, plain or TLS: read as command lines and
//! DATA bodies with the manifest's limits applied, replies buffered until the
//! server has to wait for the client (RFC 2920 §3.2: the answers to a
//! pipelined group go out together, before the server blocks on a read).

use std::io;
use std::time::Duration;

use smtp_proto::request::receiver::BdatReceiver;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::data::Unstuffer;
use crate::serve::stream::Stream;

/// Why a session ends before QUIT.
#[derive(Debug)]
pub enum End {
    /// The client hung up.
    Closed,
    /// The client was silent for longer than `limits.smtp_timeout`.
    Timeout,
    /// The server is stopping and the client was idle.
    Shutdown,
    /// The client kept sending one endless line.
    Flood,
    Io(io::Error),
}

/// One command line.
pub enum Line {
    /// With its CRLF.
    Command(Vec<u8>),
    /// Longer than `limits.line_length`: answered, the rest of it dropped.
    TooLong,
    /// Ended by a bare LF, or holding a bare CR (RFC 5321 §2.3.8: lines
    /// end in CRLF, and a CR or LF alone is never sent).
    BareNewline,
}

/// The body after `354`.
pub enum Data {
    Message(Vec<u8>),
    /// Larger than the limit: read to its end and dropped.
    TooBig,
    /// Holding a bare CR or LF: read to its real end and dropped.
    BareNewline,
}

/// How much of one overlong line is read and dropped before the client is
/// disconnected, in multiples of the line limit.
const FLOOD_FACTOR: usize = 64;

/// Bytes per second a message must arrive at, on average, to keep its
/// deadline moving (as Postfix's `smtpd_min_data_rate`).
const MIN_DATA_RATE: u64 = 500;

/// Replies buffered beyond this are written out even mid-group.
const OUT_HIGH_WATER: usize = 64 * 1024;

/// A client connection with its buffers.
pub struct Conn {
    stream: Stream,
    inbuf: Vec<u8>,
    /// Bytes of `inbuf` already consumed.
    pos: usize,
    out: Vec<u8>,
    /// How long a command line may take, and a message may go without
    /// sending (the deadline's start).
    timeout: Duration,
    /// When the read under way must be done: set per command line and per
    /// message, never moved by a byte that trickles in (a message moves it
    /// by [`MIN_DATA_RATE`]).
    deadline: Instant,
    line_limit: usize,
    /// Inside an overlong line: its rest is dropped, up to its LF.
    discarding: usize,
    /// The service and session id replies are logged under.
    log: Option<(&'static str, String)>,
    shutdown: watch::Receiver<bool>,
}

impl Conn {
    pub fn new(
        tcp: TcpStream,
        timeout: Duration,
        line_limit: usize,
        shutdown: watch::Receiver<bool>,
    ) -> Conn {
        Conn {
            stream: Stream::Plain(tcp),
            inbuf: Vec::with_capacity(16 * 1024),
            pos: 0,
            out: Vec::with_capacity(1024),
            timeout,
            deadline: Instant::now() + timeout,
            line_limit,
            discarding: 0,
            log: None,
            shutdown,
        }
    }

    /// The time the next command line may take.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// Logs every reply of 400 or more under this service and session id.
    pub fn log_replies(&mut self, service: &'static str, session: String) {
        self.log = Some((service, session));
    }

    /// Queues a reply line; `line` has no CRLF. Refusals and errors (4xx,
    /// 5xx) are logged with their reason.
    pub fn reply(&mut self, line: &str) {
        if let Some((service, session)) = &self.log
            && matches!(line.as_bytes().first(), Some(b'4' | b'5'))
        {
            let (code, text) = line.split_once(' ').unwrap_or((line, ""));
            crate::serve::log::event(
                service,
                session,
                "reply",
                &[("code", &code), ("text", &text)],
            );
        }
        self.out.extend_from_slice(line.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    /// Queues raw reply bytes (a multi-line EHLO answer).
    pub fn reply_raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Writes every queued reply.
    pub async fn flush(&mut self) -> Result<(), End> {
        if self.out.is_empty() {
            return Ok(());
        }
        let write = async {
            self.stream.write_all(&self.out).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(self.timeout, write).await {
            Err(_) => return Err(End::Timeout),
            Ok(Err(e)) => return Err(End::Io(e)),
            Ok(Ok(())) => {}
        }
        self.out.clear();
        Ok(())
    }

    /// Reads more from the client, after writing the queued replies. While
    /// `idle` (between commands), a shutdown ends the wait.
    async fn fill(&mut self, idle: bool) -> Result<(), End> {
        self.flush().await?;
        if self.pos > 0 {
            self.inbuf.drain(..self.pos);
            self.pos = 0;
        }
        self.inbuf.reserve(16 * 1024);
        let mut stop = self.shutdown.clone();
        let read = tokio::time::timeout_at(self.deadline, self.stream.read_buf(&mut self.inbuf));
        let n = if idle {
            tokio::select! {
                r = read => r,
                () = super::stopped(&mut stop) => return Err(End::Shutdown),
            }
        } else {
            read.await
        };
        match n {
            Err(_) => Err(End::Timeout),
            Ok(Err(e)) => Err(End::Io(e)),
            Ok(Ok(0)) => Err(End::Closed),
            Ok(Ok(_)) => Ok(()),
        }
    }

    /// Whether the server is stopping.
    pub fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// The next command line. A line over the limit is answered once, as
    /// soon as it is known to be too long, and its rest is dropped.
    pub async fn read_line(&mut self) -> Result<Line, End> {
        if self.out.len() > OUT_HIGH_WATER {
            self.flush().await?;
        }
        self.deadline = Instant::now() + self.timeout;
        loop {
            let avail = &self.inbuf[self.pos..];
            if let Some(i) = avail.iter().position(|&b| b == b'\n') {
                let line = avail[..=i].to_vec();
                self.pos += i + 1;
                if self.discarding > 0 {
                    self.discarding = 0;
                    continue;
                }
                let text = line.strip_suffix(b"\n").unwrap_or(&line);
                let crlf = text.ends_with(b"\r");
                let text = text.strip_suffix(b"\r").unwrap_or(text);
                if text.len() > self.line_limit {
                    return Ok(Line::TooLong);
                }
                if !crlf || text.contains(&b'\r') {
                    return Ok(Line::BareNewline);
                }
                return Ok(Line::Command(line));
            }
            if self.discarding > 0 {
                self.discarding += avail.len();
                self.pos = self.inbuf.len();
                if self.discarding > FLOOD_FACTOR * self.line_limit.max(1024) {
                    return Err(End::Flood);
                }
            } else if avail.len() > self.line_limit + 1 {
                // Longer than the limit and no end in sight: say so now.
                self.discarding = avail.len();
                self.pos = self.inbuf.len();
                return Ok(Line::TooLong);
            }
            self.fill(true).await?;
        }
    }

    /// The message after `354`, dot-unstuffed, without the final `.` line
    /// ([`Unstuffer`]). One that is too big or holds a bare CR or LF is
    /// read to its end all the same, so the session stays in step.
    pub async fn read_data(&mut self, max: u64) -> Result<Data, End> {
        let mut rx = Unstuffer::new();
        let mut msg = Vec::with_capacity(4096);
        let mut too_big = false;
        self.deadline = Instant::now() + self.timeout;
        loop {
            let avail = &self.inbuf[self.pos..];
            let done = rx.feed(avail, &mut msg, !too_big);
            let took = done.unwrap_or(avail.len());
            self.pos += took;
            self.earn(took);
            if !too_big && msg.len() as u64 > max {
                too_big = true;
                msg = Vec::new();
            }
            if done.is_some() {
                return Ok(if too_big {
                    Data::TooBig
                } else if rx.bare {
                    Data::BareNewline
                } else {
                    Data::Message(msg)
                });
            }
            self.fill(false).await?;
        }
    }

    /// Reads the next `size` bytes as they are (a BDAT chunk), into `keep`
    /// or nowhere.
    pub async fn read_chunk(
        &mut self,
        size: usize,
        mut keep: Option<&mut Vec<u8>>,
    ) -> Result<(), End> {
        let mut rx = BdatReceiver::new(size, false);
        let mut dropped = Vec::new();
        self.deadline = Instant::now() + self.timeout;
        loop {
            let mut it = self.inbuf[self.pos..].iter();
            let done = match keep.as_deref_mut() {
                Some(buf) => rx.ingest(&mut it, buf),
                None => {
                    dropped.clear();
                    rx.ingest(&mut it, &mut dropped)
                }
            };
            let was = self.pos;
            self.pos = self.inbuf.len() - it.as_slice().len();
            self.earn(self.pos - was);
            if done {
                return Ok(());
            }
            self.fill(false).await?;
        }
    }

    /// `n` bytes of a message arrived: they move the deadline on by what
    /// they are worth at [`MIN_DATA_RATE`], never past `timeout` from now.
    fn earn(&mut self, n: usize) {
        let worth = Duration::from_secs_f64(n as f64 / MIN_DATA_RATE as f64);
        self.deadline = (self.deadline + worth).min(Instant::now() + self.timeout);
    }

    /// RFC 3207: answers already queued go out, then the handshake; input
    /// the client sent after `STARTTLS` in the clear is dropped (§4.2, no
    /// command injection across the upgrade).
    pub async fn start_tls(&mut self, acceptor: &TlsAcceptor) -> Result<(), End> {
        self.flush().await?;
        self.inbuf.clear();
        self.pos = 0;
        self.discarding = 0;
        match self.stream.upgrade(acceptor, self.timeout).await {
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Err(End::Timeout),
            Err(e) => Err(End::Io(e)),
            Ok(()) => Ok(()),
        }
    }

    /// Writes what is queued, then closes politely
    /// ([`Stream::linger_close`]).
    pub async fn close(&mut self) {
        let _ = self.flush().await;
        self.stream.linger_close().await;
    }
}
