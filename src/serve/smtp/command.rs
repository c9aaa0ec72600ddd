//! Reading SMTP command lines: smtp-proto's grammar, its errors turned into
//! replies, and the path of MAIL and RCPT read by [`address::parse_path`].

use std::borrow::Cow;

use smtp_proto::{Error as ParseError, Request};

use crate::reply;
use crate::serve::address::{self, Path, PathError};

/// The reply for a line smtp-proto could not parse.
fn parse_error(e: &ParseError) -> String {
    match e {
        ParseError::UnknownCommand => reply::UNRECOGNIZED.to_string(),
        ParseError::InvalidSenderAddress => reply::BAD_SENDER.to_string(),
        ParseError::InvalidRecipientAddress => reply::bad_syntax(None),
        ParseError::SyntaxError { syntax } => reply::syntax(syntax),
        ParseError::InvalidParameter { param } => reply::invalid_parameter(&printable(param)),
        ParseError::UnsupportedParameter { param } => {
            reply::unsupported_parameter(&printable(param))
        }
        _ => reply::SYNTAX_ERROR.to_string(),
    }
}

/// One command line (with its CRLF) as smtp-proto reads it, or the reply
/// for one it cannot read. `in_transaction`: a bad RCPT address is then
/// named in the reply, as `mailc route` names it.
pub fn parse_command(line: &[u8], in_transaction: bool) -> Result<Request<String>, String> {
    match Request::parse(&mut line.iter()) {
        Ok(r) => Ok(r.into_owned()),
        Err(ParseError::InvalidRecipientAddress) if in_transaction => {
            Err(reply::bad_syntax(bracketed(line).as_deref()))
        }
        Err(e) => Err(parse_error(&e)),
    }
}

/// The path of a `MAIL FROM:` / `RCPT TO:` line: what follows its first
/// `:` (the verb and its keyword hold none).
pub fn path_of(line: &[u8]) -> Result<Path, PathError> {
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(PathError::Syntax)?;
    address::parse_path(&line[colon + 1..]).map(|(p, _)| p)
}

/// The text between `<` and `>` of a command line, when it is printable.
pub(super) fn bracketed(line: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(line).ok()?;
    let inner = text.split_once('<')?.1.rsplit_once('>')?.0;
    (!inner.is_empty() && inner.len() <= 256 && !inner.chars().any(char::is_control))
        .then(|| inner.to_string())
}

/// A client's text in a reply: printable ASCII only, short.
fn printable(s: &str) -> Cow<'_, str> {
    if s.len() <= 64 && s.chars().all(|c| c.is_ascii_graphic()) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(char::is_ascii_graphic).take(64).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_are_replies() {
        for line in [
            &b"FOO\r\n"[..],
            b"MAIL FROM:<\xff\r\n",
            b"RCPT TO:\r\n",
            b"MAIL FROM:<a@b> SIZE=x\r\n",
            b"\r\n",
            b"\xff\xfe\r\n",
        ] {
            if let Err(e) = Request::parse(&mut line.iter()) {
                let r = parse_error(&e);
                assert!(r.starts_with('5'), "{r}");
            }
        }
    }
}
