//! The message after `354` (RFC 5321 §4.1.1.4): dot-unstuffed (§4.5.2), and
//! ended by `<CR><LF>.<CR><LF>` and nothing else — not `<LF>.<LF>`, not
//! `<CR><LF>.<CR><CR><LF>`. A server that took another ending than the
//! sender's next hop would let one message carry a second transaction
//! (SMTP smuggling); here the other endings are just content.
//!
//! Bare CR and bare LF (not in a CRLF pair) are noted, not fixed: the
//! session refuses such a message once it has read it to its real end
//! (as Postfix does with `smtpd_forbid_bare_newline = reject`).

/// Where the reader is within the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// At the start of a line.
    Start,
    /// Inside a line.
    Mid,
    /// After a CR.
    Cr,
    /// A `.` at the start of a line.
    Dot,
    /// `.` and CR at the start of a line.
    DotCr,
}

/// Reads one DATA body, possibly across many reads.
#[derive(Debug)]
pub struct Unstuffer {
    state: State,
    /// A CR or LF outside a CRLF pair was seen.
    pub bare: bool,
}

impl Default for Unstuffer {
    fn default() -> Self {
        Unstuffer::new()
    }
}

impl Unstuffer {
    /// The body starts at the start of a line: a first line `.` ends it.
    pub fn new() -> Unstuffer {
        Unstuffer {
            state: State::Start,
            bare: false,
        }
    }

    /// Takes `input`, appending the message's bytes to `out` when `keep`.
    /// Returns how many bytes of `input` the body took, with the final
    /// `.<CR><LF>`, once its end is found; `None` when all of `input` was
    /// body. The last line's CRLF stays in the message.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, keep: bool) -> Option<usize> {
        let push = |out: &mut Vec<u8>, bytes: &[u8]| {
            if keep {
                out.extend_from_slice(bytes);
            }
        };
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            match self.state {
                State::Mid => {
                    let run = input[i..]
                        .iter()
                        .position(|&c| c == b'\r' || c == b'\n')
                        .unwrap_or(input.len() - i);
                    push(out, &input[i..i + run]);
                    i += run;
                    if let Some(&c) = input.get(i) {
                        i += 1;
                        if c == b'\r' {
                            self.state = State::Cr;
                        } else {
                            self.bare = true;
                            push(out, b"\n");
                        }
                    }
                }
                State::Start => {
                    i += 1;
                    self.state = match b {
                        b'.' => State::Dot,
                        b'\r' => State::Cr,
                        _ => {
                            self.bare |= b == b'\n';
                            push(out, &[b]);
                            State::Mid
                        }
                    };
                }
                State::Cr => {
                    if b == b'\n' {
                        i += 1;
                        push(out, b"\r\n");
                        self.state = State::Start;
                    } else {
                        // A bare CR: kept as content; `b` is read inside
                        // the line (a CR does not start one).
                        self.bare = true;
                        push(out, b"\r");
                        if b == b'\r' {
                            i += 1;
                        } else {
                            self.state = State::Mid;
                        }
                    }
                }
                State::Dot => {
                    if b == b'\r' {
                        i += 1;
                        self.state = State::DotCr;
                    } else {
                        // RFC 5321 §4.5.2: a leading dot with more on the
                        // line is dropped; the rest is read as the line.
                        self.state = State::Mid;
                    }
                }
                State::DotCr => {
                    if b == b'\n' {
                        self.state = State::Start;
                        return Some(i + 1);
                    }
                    // `.` CR and more: the dot goes, the CR is bare.
                    self.bare = true;
                    push(out, b"\r");
                    self.state = if b == b'\r' { State::Cr } else { State::Mid };
                    if b == b'\r' {
                        i += 1;
                    }
                }
            }
        }
        None
    }
}

/// Whether `bytes` hold a CR or LF outside a CRLF pair (a BDAT message).
pub fn has_bare_newline(bytes: &[u8]) -> bool {
    let mut i = 0;
    while let Some(p) = bytes[i..].iter().position(|&c| c == b'\r' || c == b'\n') {
        let at = i + p;
        if bytes[at] == b'\n' || bytes.get(at + 1) != Some(&b'\n') {
            return true;
        }
        i = at + 2;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body, the bytes after its end, and whether it had bare newlines.
    fn read(input: &[u8]) -> Option<(Vec<u8>, Vec<u8>, bool)> {
        let mut u = Unstuffer::new();
        let mut out = Vec::new();
        let n = u.feed(input, &mut out, true)?;
        Some((out, input[n..].to_vec(), u.bare))
    }

    #[test]
    fn only_crlf_dot_crlf_ends_it() {
        assert_eq!(
            read(b"a\r\n..b\r\n.c\r\n.\r\nMAIL"),
            Some((b"a\r\n.b\r\nc\r\n".to_vec(), b"MAIL".to_vec(), false))
        );
        assert_eq!(read(b".\r\n"), Some((Vec::new(), Vec::new(), false)));
        // The smuggling endings are content (and bare newlines).
        for not_an_end in [
            &b"a\n.\nMAIL FROM:<x@y>\r\n"[..],
            b"a\r\n.\r\r\nMAIL FROM:<x@y>\r\n",
            b"a\r.\r\nMAIL FROM:<x@y>\r\n",
            b"a\r\n.\n",
            b"a\n.\r\n",
        ] {
            let mut u = Unstuffer::new();
            let mut out = Vec::new();
            assert_eq!(u.feed(not_an_end, &mut out, true), None, "{not_an_end:?}");
            assert!(u.bare, "{not_an_end:?}");
        }
        let (body, rest, bare) = read(b"a\n.\nMAIL\r\n.\r\nQUIT\r\n").unwrap();
        assert_eq!(
            (body.as_slice(), rest.as_slice(), bare),
            (&b"a\n.\nMAIL\r\n"[..], &b"QUIT\r\n"[..], true)
        );
        let (body, _, bare) = read(b"a\r\n.\r\r\nb\r\n.\r\n").unwrap();
        assert_eq!((body.as_slice(), bare), (&b"a\r\n\r\r\nb\r\n"[..], true));
    }

    #[test]
    fn any_split_gives_the_same() {
        let input = b"x\r\n..y\r\n.\rz\n\r\n.\r\nrest";
        let whole = read(input).unwrap();
        for cut in 0..input.len() {
            let mut u = Unstuffer::new();
            let mut out = Vec::new();
            let end = match u.feed(&input[..cut], &mut out, true) {
                Some(n) => n,
                None => cut + u.feed(&input[cut..], &mut out, true).unwrap(),
            };
            assert_eq!((out, input[end..].to_vec(), u.bare), whole, "cut at {cut}");
        }
    }

    #[test]
    fn bare_newlines_in_chunks() {
        assert!(!has_bare_newline(b"a\r\nb\r\n"));
        assert!(!has_bare_newline(b""));
        assert!(has_bare_newline(b"a\nb"));
        assert!(has_bare_newline(b"a\rb"));
        assert!(has_bare_newline(b"a\r"));
        assert!(has_bare_newline(b"a\r\r\n"));
    }
}
