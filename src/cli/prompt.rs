//! Asking for a password on stdin: on a terminal without echo and twice
//! (so a typo is caught), from a pipe exactly one line, taken as it is.
//! Every command that needs a password from a person reads it here.

use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::AsFd;

use rustix::termios::{self, LocalModes, OptionalActions, SpecialCodeIndex};

/// Longest password read, in bytes: far beyond any real one, and a bound on
/// what a pipe can make mailc hold.
pub const MAX_PASSWORD: usize = 4096;

/// Why no password was read.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("cannot read the password from stdin: {0}")]
    Read(#[from] io::Error),
    #[error("the password is not UTF-8")]
    NotUtf8,
    #[error("the password is empty")]
    Empty,
    #[error("the two passwords differ")]
    Mismatch,
    #[error("stdin holds {0} lines; a password is exactly one line")]
    SeveralLines(usize),
    #[error("the password is longer than {MAX_PASSWORD} bytes")]
    TooLong,
    #[error("cancelled")]
    Cancelled,
}

impl PromptError {
    /// The fix to show under the error.
    pub fn help(&self) -> &'static str {
        match self {
            PromptError::Mismatch => "type the same password twice",
            PromptError::Cancelled => "nothing was changed",
            PromptError::NotUtf8
            | PromptError::Empty
            | PromptError::SeveralLines(_)
            | PromptError::TooLong
            | PromptError::Read(_) => {
                "type it when asked, or pipe one line in: `printf '%s\\n' \"$PW\" | mailc ...`"
            }
        }
    }
}

/// Reads a password. On a terminal, `label` is the prompt (on stderr), the
/// typing is not shown, and the password is asked for a second time; from a
/// pipe or file, the input is the password: exactly one line (its line end,
/// `\n` or `\r\n`, is not part of it), else an error.
pub fn password(label: &str) -> Result<String, PromptError> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        let first = hidden_line(&format!("{label}: "))?;
        if first.is_empty() {
            return Err(PromptError::Empty);
        }
        let again = hidden_line(&format!("{label} (again): "))?;
        if again != first {
            return Err(PromptError::Mismatch);
        }
        Ok(first)
    } else {
        let mut bytes = Vec::new();
        stdin
            .lock()
            .take(MAX_PASSWORD as u64 + 3)
            .read_to_end(&mut bytes)?;
        one_line(&bytes)
    }
}

/// The one line of piped input: a final `\n` (or `\r\n`) is not part of it;
/// any other line break is an error, as is nothing at all.
fn one_line(bytes: &[u8]) -> Result<String, PromptError> {
    let line = bytes
        .strip_suffix(b"\r\n")
        .or_else(|| bytes.strip_suffix(b"\n"))
        .unwrap_or(bytes);
    if line.contains(&b'\n') {
        let lines = line.split(|&b| b == b'\n').count();
        return Err(PromptError::SeveralLines(lines));
    }
    if line.len() > MAX_PASSWORD {
        return Err(PromptError::TooLong);
    }
    if line.is_empty() {
        return Err(PromptError::Empty);
    }
    String::from_utf8(line.to_vec()).map_err(|_| PromptError::NotUtf8)
}

/// Prints `prompt` on stderr and reads one entry from the terminal on stdin
/// with echo off; the terminal's settings come back when this returns,
/// whatever happened.
///
/// The terminal hands over key by key (not line by line), with Ctrl-C as a
/// key rather than a signal, so that no interrupt can leave echo off: Enter
/// ends the entry, Backspace and Ctrl-U edit it, Ctrl-C cancels, Ctrl-D on
/// an empty entry ends the input.
fn hidden_line(prompt: &str) -> Result<String, PromptError> {
    let stdin = io::stdin();
    let mut err = io::stderr().lock();
    let line = {
        // Echo goes off before the prompt shows, so nothing typed after it is shown.
        let _quiet = KeyByKey::new(stdin.as_fd())?;
        write!(err, "{prompt}")?;
        err.flush()?;
        read_entry(&mut stdin.lock())
    };
    // The Enter the person typed was not echoed either.
    writeln!(err)?;
    line
}

/// The terminal's settings, restored on drop; while it lives: no echo, no
/// line editing by the terminal, no signals from keys.
struct KeyByKey<'a> {
    fd: std::os::fd::BorrowedFd<'a>,
    saved: termios::Termios,
}

impl<'a> KeyByKey<'a> {
    fn new(fd: std::os::fd::BorrowedFd<'a>) -> io::Result<Self> {
        let saved = termios::tcgetattr(fd)?;
        let mut quiet = saved.clone();
        quiet
            .local_modes
            .remove(LocalModes::ECHO | LocalModes::ECHONL | LocalModes::ICANON | LocalModes::ISIG);
        quiet.special_codes[SpecialCodeIndex::VMIN] = 1;
        quiet.special_codes[SpecialCodeIndex::VTIME] = 0;
        termios::tcsetattr(fd, OptionalActions::Now, &quiet)?;
        Ok(KeyByKey { fd, saved })
    }
}

impl Drop for KeyByKey<'_> {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(self.fd, OptionalActions::Now, &self.saved);
    }
}

/// One entry typed key by key, as [`hidden_line`] describes.
fn read_entry(input: &mut impl Read) -> Result<String, PromptError> {
    let mut line: Vec<u8> = Vec::new();
    let mut escape = Escape::None;
    // One byte at a time: what follows Enter stays for the next entry.
    let mut buf = [0u8; 1];
    loop {
        if input.read(&mut buf)? == 0 {
            return if line.is_empty() {
                Err(PromptError::Empty)
            } else {
                finish(line)
            };
        }
        let b = buf[0];
        // Arrow and function keys send `ESC [ ... final` or `ESC O x`: they
        // are not part of a password.
        match escape {
            Escape::Start => {
                escape = if b == b'[' || b == b'O' {
                    Escape::Sequence
                } else {
                    Escape::None
                };
                continue;
            }
            Escape::Sequence => {
                if (0x40..=0x7e).contains(&b) {
                    escape = Escape::None;
                }
                continue;
            }
            Escape::None => {}
        }
        match b {
            b'\r' | b'\n' => return finish(line),
            0x03 => return Err(PromptError::Cancelled),
            0x04 if line.is_empty() => return Err(PromptError::Empty),
            0x7f | 0x08 => {
                // Remove one character, not one byte.
                while let Some(last) = line.pop() {
                    if last & 0xc0 != 0x80 {
                        break;
                    }
                }
            }
            0x15 => line.clear(),
            0x1b => escape = Escape::Start,
            b if b < 0x20 => {}
            b => {
                line.push(b);
                if line.len() > MAX_PASSWORD {
                    return Err(PromptError::TooLong);
                }
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Escape {
    None,
    Start,
    Sequence,
}

fn finish(line: Vec<u8>) -> Result<String, PromptError> {
    String::from_utf8(line).map_err(|_| PromptError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_gives_exactly_one_line() {
        assert_eq!(one_line(b"s3cret pass\n").unwrap(), "s3cret pass");
        assert_eq!(one_line(b"s3cret pass").unwrap(), "s3cret pass");
        assert_eq!(one_line(b"s3cret\r\n").unwrap(), "s3cret");
        assert_eq!(one_line(b" spaced ").unwrap(), " spaced ");
        assert!(matches!(one_line(b""), Err(PromptError::Empty)));
        assert!(matches!(one_line(b"\n"), Err(PromptError::Empty)));
        assert!(matches!(
            one_line(b"one\ntwo\n"),
            Err(PromptError::SeveralLines(2))
        ));
        assert!(matches!(
            one_line(b"one\n\n"),
            Err(PromptError::SeveralLines(2))
        ));
        assert!(matches!(one_line(b"\xff\n"), Err(PromptError::NotUtf8)));
        assert!(matches!(
            one_line(&[b'a'; MAX_PASSWORD + 1]),
            Err(PromptError::TooLong)
        ));
    }

    #[test]
    fn keys_edit_the_entry() {
        let read = |keys: &[u8]| read_entry(&mut &keys[..]);
        assert_eq!(read(b"abc\r").unwrap(), "abc");
        assert_eq!(read(b"abd\x7fc\n").unwrap(), "abc");
        assert_eq!(read("é\x7fe\r".as_bytes()).unwrap(), "e");
        assert_eq!(read(b"junk\x15ok\r").unwrap(), "ok");
        assert_eq!(read(b"a\x1b[Db\x1bOAc\r").unwrap(), "abc");
        assert_eq!(read(b"a\tb\r").unwrap(), "ab");
        assert!(matches!(read(b"ab\x03cd\r"), Err(PromptError::Cancelled)));
        assert!(matches!(read(b"\x04"), Err(PromptError::Empty)));
        assert!(matches!(read(b""), Err(PromptError::Empty)));
        // Enter ends the entry; what follows is left for the next one.
        let mut keys = &b"first\rsecond\r"[..];
        assert_eq!(read_entry(&mut keys).unwrap(), "first");
        assert_eq!(keys, b"second\r");
    }
}
