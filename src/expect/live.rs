//! Route tests against a running server (`mailc test --live`): each
//! address is offered in an SMTP transaction of its own (`MAIL FROM:<>`,
//! `RCPT TO`, `RSET`, RFC 5321 §3.3) and the RCPT reply is compared with
//! the test. No message is ever sent: the session ends with `QUIT` and
//! never reaches `DATA`. Over SMTP only the reply can be seen: `deliver`,
//! `forward`, `relay` and `bounce` all mean "accepted at RCPT".

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::check::{Checked, reply_has_code};
use super::{Fate, RouteTest};

/// One `--live HOST=ADDRESS[:PORT]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The host key or hostname as given.
    pub host: String,
    /// `ADDRESS:PORT` to connect to (port 25 unless given).
    pub server: String,
}

/// Reads `HOST=ADDRESS[:PORT]`; an IPv6 address with a port is written
/// `[2001:db8::1]:25`.
pub fn parse_target(s: &str) -> Result<Target, String> {
    let (host, server) = s
        .split_once('=')
        .filter(|(h, a)| !h.is_empty() && !a.is_empty())
        .ok_or_else(|| format!("`{s}` is not HOST=ADDRESS[:PORT]"))?;
    let server = if server.parse::<std::net::Ipv6Addr>().is_ok() {
        format!("[{server}]:25")
    } else if server.starts_with('[') && server.ends_with(']') || !server.contains(':') {
        format!("{server}:25")
    } else {
        server.to_string()
    };
    Ok(Target {
        host: host.to_string(),
        server,
    })
}

/// A server's reply: its code and its lines' text joined by spaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub line: String,
}

impl Reply {
    fn is(&self, class: u16) -> bool {
        self.code / 100 == class
    }
}

/// Why a server could not be asked.
#[derive(Debug)]
pub struct ProbeError(pub String);

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest reply line read (RFC 5321 §4.5.3.1.5 allows 512 octets).
const MAX_LINE: u64 = 4096;
/// Refused recipients per connection: servers slow down or hang up on
/// clients that collect errors (Postfix's `smtpd_soft_error_limit` is 10).
const REFUSALS_PER_SESSION: usize = 5;

struct Session {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Session {
    fn open(server: &str, timeout: Duration) -> Result<Session, ProbeError> {
        let addrs: Vec<SocketAddr> = server
            .to_socket_addrs()
            .map_err(|e| ProbeError(format!("cannot resolve `{server}`: {e}")))?
            .collect();
        let mut last = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, timeout) {
                Ok(stream) => {
                    let io = |e: std::io::Error| ProbeError(format!("{server}: {e}"));
                    stream.set_read_timeout(Some(timeout)).map_err(io)?;
                    stream.set_write_timeout(Some(timeout)).map_err(io)?;
                    let ehlo = match stream.local_addr().map_err(io)? {
                        SocketAddr::V4(l) => format!("[{}]", l.ip()),
                        SocketAddr::V6(l) => format!("[IPv6:{}]", l.ip()),
                    };
                    let mut s = Session {
                        reader: BufReader::new(stream.try_clone().map_err(io)?),
                        writer: stream,
                    };
                    let greeting = s.reply(server)?;
                    if greeting.code != 220 {
                        return Err(ProbeError(format!(
                            "{server} does not take mail: `{}`",
                            greeting.line
                        )));
                    }
                    // RFC 5321 §4.1.4: HELO when EHLO is not understood.
                    let hello = s.command(server, &format!("EHLO {ehlo}"))?;
                    if !hello.is(2) {
                        let helo = s.command(server, &format!("HELO {ehlo}"))?;
                        if !helo.is(2) {
                            return Err(ProbeError(format!(
                                "{server} refused EHLO and HELO: `{}`",
                                helo.line
                            )));
                        }
                    }
                    return Ok(s);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(ProbeError(match last {
            Some(e) => format!("cannot connect to {server}: {e}"),
            None => format!("`{server}` has no address"),
        }))
    }

    fn reply(&mut self, server: &str) -> Result<Reply, ProbeError> {
        let mut text = Vec::new();
        loop {
            let mut line = String::new();
            let n = (&mut self.reader)
                .take(MAX_LINE)
                .read_line(&mut line)
                .map_err(|e| ProbeError(format!("{server}: {e}")))?;
            if n == 0 {
                return Err(ProbeError(format!("{server} closed the connection")));
            }
            let line = line.trim_end_matches(['\r', '\n']);
            let code = line
                .get(..3)
                .and_then(|c| c.parse::<u16>().ok())
                .filter(|c| (200..600).contains(c))
                .ok_or_else(|| ProbeError(format!("{server} sent `{line}`, not an SMTP reply")))?;
            let more = line.as_bytes().get(3) == Some(&b'-');
            text.push(line.get(4..).unwrap_or("").to_string());
            if !more {
                let mut joined = format!("{code}");
                for t in &text {
                    if !t.is_empty() {
                        joined.push(' ');
                        joined.push_str(t);
                    }
                }
                return Ok(Reply { code, line: joined });
            }
            if text.len() > 100 {
                return Err(ProbeError(format!("{server} sent an endless reply")));
            }
        }
    }

    fn command(&mut self, server: &str, cmd: &str) -> Result<Reply, ProbeError> {
        self.writer
            .write_all(format!("{cmd}\r\n").as_bytes())
            .and_then(|()| self.writer.flush())
            .map_err(|e| ProbeError(format!("{server}: {e}")))?;
        self.reply(server)
    }

    fn quit(mut self, server: &str) {
        let _ = self.command(server, "QUIT");
    }
}

/// The RCPT reply of each address, in order, from `server`.
pub fn probe(
    server: &str,
    addresses: &[String],
    timeout: Duration,
) -> Result<Vec<Reply>, ProbeError> {
    let mut replies = Vec::with_capacity(addresses.len());
    let mut session: Option<Session> = None;
    let mut refused = 0;
    for address in addresses {
        let mut tries = 0;
        let reply = loop {
            tries += 1;
            let s = match session.as_mut() {
                Some(s) => s,
                None => session.insert(Session::open(server, timeout)?),
            };
            let attempt = (|| {
                let mail = s.command(server, "MAIL FROM:<>")?;
                if mail.code == 421 {
                    return Ok(None);
                }
                if !mail.is(2) {
                    return Err(ProbeError(format!(
                        "{server} refused `MAIL FROM:<>`: `{}`",
                        mail.line
                    )));
                }
                let rcpt = s.command(server, &format!("RCPT TO:<{address}>"))?;
                if rcpt.code == 421 {
                    return Ok(None);
                }
                s.command(server, "RSET")?;
                Ok(Some(rcpt))
            })();
            match attempt {
                Ok(Some(r)) => break r,
                // The server hung up (421 or closed): once more on a new connection.
                Ok(None) | Err(_) if tries < 2 => session = None,
                Ok(None) => {
                    return Err(ProbeError(format!(
                        "{server} closes the session at `RCPT TO:<{address}>`"
                    )));
                }
                Err(e) => return Err(e),
            }
        };
        if !reply.is(2) {
            refused += 1;
        }
        replies.push(reply);
        if refused >= REFUSALS_PER_SESSION
            && let Some(s) = session.take()
        {
            s.quit(server);
            refused = 0;
        }
    }
    if let Some(s) = session {
        s.quit(server);
    }
    Ok(replies)
}

/// Compares one RCPT reply with what the test expects of it.
pub fn judge(t: &RouteTest, host: &str, server: &str, reply: &Reply) -> Checked {
    let (expected, passed) = match &t.fate {
        Fate::Reject { reply: None } => ("refused (5XX)".to_string(), reply.is(5)),
        Fate::Reject { reply: Some(code) } => (
            format!("refused with {code}"),
            reply_has_code(&reply.line, code),
        ),
        // Not this host's domain: an unauthenticated client may not relay
        // through it (RFC 5321 §3.6.1; 5.7.1, RFC 3463).
        Fate::Remote => (
            "refused as relaying (5XX 5.7.X)".to_string(),
            reply.is(5)
                && reply
                    .line
                    .split(' ')
                    .nth(1)
                    .is_some_and(|e| e.starts_with("5.7.")),
        ),
        other => (
            format!("accepted at RCPT ({})", other.describe()),
            reply.is(2),
        ),
    };
    Checked {
        subject: format!("`{}` on {host} at {server}", t.address),
        expected,
        actual: format!("`{}`", reply.line),
        passed,
        why: None,
        help: format!(
            "the server answers otherwise than the spec says: is it running what `mailc apply` wrote for `{host}`? `mailc route {} --host {host}` shows the spec's answer",
            t.address
        ),
        at: t.fate_at.0,
        subject_at: t.address_at.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = parse_target("mx1=127.0.0.1:2525").unwrap();
        assert_eq!(
            (t.host.as_str(), t.server.as_str()),
            ("mx1", "127.0.0.1:2525")
        );
        assert_eq!(
            parse_target("mx1=192.0.2.1").unwrap().server,
            "192.0.2.1:25"
        );
        assert_eq!(parse_target("mx1=::1").unwrap().server, "[::1]:25");
        assert_eq!(parse_target("mx1=[::1]:2525").unwrap().server, "[::1]:2525");
        assert_eq!(parse_target("mx1=[::1]").unwrap().server, "[::1]:25");
        assert_eq!(
            parse_target("mx1=mail.example.com").unwrap().server,
            "mail.example.com:25"
        );
        assert!(parse_target("mx1").is_err());
        assert!(parse_target("=1.2.3.4").is_err());
    }
}
