//! Asking for a password on stdin: on a terminal without echo and twice
//! (so a typo is caught), from a pipe exactly one line, taken as it is.
//! Every command that needs a password from a person reads it here.

use std::io::{self, BufRead, IsTerminal, Write};
use std::os::fd::AsFd;

use rustix::termios::{self, LocalModes, OptionalActions};

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
}

impl PromptError {
    /// The fix to show under the error.
    pub fn help(&self) -> &'static str {
        match self {
            PromptError::Mismatch => "type the same password twice",
            PromptError::NotUtf8 | PromptError::Empty | PromptError::Read(_) => {
                "type it when asked, or pipe one line in: `printf '%s\\n' \"$PW\" | mailc ...`"
            }
        }
    }
}

/// Reads a password. On a terminal, `label` is the prompt (on stderr), the
/// typing is not shown, and the password is asked for a second time; from a
/// pipe or file, the first line is the password (without its line end) and
/// nothing after it is read.
pub fn password(label: &str) -> Result<String, PromptError> {
    let stdin = io::stdin();
    let pw = if stdin.is_terminal() {
        let first = hidden_line(&format!("{label}: "))?;
        if first.is_empty() {
            return Err(PromptError::Empty);
        }
        let again = hidden_line(&format!("{label} (again): "))?;
        if again != first {
            return Err(PromptError::Mismatch);
        }
        first
    } else {
        one_line(&mut stdin.lock())?
    };
    if pw.is_empty() {
        return Err(PromptError::Empty);
    }
    Ok(pw)
}

/// One line of `input`, without `\n` or `\r\n`; nothing after it is consumed.
fn one_line(input: &mut impl BufRead) -> Result<String, PromptError> {
    let mut buf = Vec::new();
    input.read_until(b'\n', &mut buf)?;
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    String::from_utf8(buf).map_err(|_| PromptError::NotUtf8)
}

/// Prints `prompt` on stderr and reads one line from the terminal on stdin
/// with echo off; echo comes back when this returns, whatever happened.
fn hidden_line(prompt: &str) -> Result<String, PromptError> {
    let stdin = io::stdin();
    let mut err = io::stderr().lock();
    let line = {
        // Echo goes off before the prompt shows, so nothing typed after it is shown.
        let _echo_off = EchoOff::new(stdin.as_fd())?;
        write!(err, "{prompt}")?;
        err.flush()?;
        one_line(&mut stdin.lock())
    };
    // The Enter the person typed was not echoed either.
    writeln!(err)?;
    line
}

/// The terminal's settings, restored on drop; echo off while it lives.
struct EchoOff<'a> {
    fd: std::os::fd::BorrowedFd<'a>,
    saved: termios::Termios,
}

impl<'a> EchoOff<'a> {
    fn new(fd: std::os::fd::BorrowedFd<'a>) -> io::Result<Self> {
        let saved = termios::tcgetattr(fd)?;
        let mut quiet = saved.clone();
        quiet
            .local_modes
            .remove(LocalModes::ECHO | LocalModes::ECHONL);
        termios::tcsetattr(fd, OptionalActions::Now, &quiet)?;
        Ok(EchoOff { fd, saved })
    }
}

impl Drop for EchoOff<'_> {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(self.fd, OptionalActions::Now, &self.saved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_strips_the_line_end_and_reads_no_further() {
        let mut input = io::Cursor::new(b"s3cret pass\r\nsecond\n".to_vec());
        assert_eq!(one_line(&mut input).unwrap(), "s3cret pass");
        assert_eq!(one_line(&mut input).unwrap(), "second");
        assert_eq!(one_line(&mut input).unwrap(), "");
        let mut no_end = io::Cursor::new(b"last".to_vec());
        assert_eq!(one_line(&mut no_end).unwrap(), "last");
        let mut bad = io::Cursor::new(vec![0xff, b'\n']);
        assert!(matches!(one_line(&mut bad), Err(PromptError::NotUtf8)));
    }
}
