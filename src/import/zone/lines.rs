//! A master file cut into logical lines of tokens (RFC 1035 §5.1:
//! parentheses, quoted strings, escapes, comments).

use super::*;

/// A token of a logical line.
#[derive(Clone, Debug)]
pub(super) struct Token {
    /// The text with escapes kept (names are read from it).
    pub(super) raw: String,
    /// The bytes it stands for (escapes resolved, quotes removed).
    pub(super) bytes: Vec<u8>,
    pub(super) quoted: bool,
    pub(super) line: usize,
}

/// One logical line: its tokens, and whether it began with white space
/// (then the owner is the previous record's).
pub(super) struct Line {
    pub(super) tokens: Vec<Token>,
    pub(super) indented: bool,
    pub(super) line: usize,
}

/// Splits `text` into logical lines of tokens.
pub(super) fn lines(file: &str, text: &str) -> Result<Vec<Line>, Finding> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut cur: Option<Line> = None;
    let mut depth = 0usize;
    let mut paren_line = 0;
    let mut at_line_start = true;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                i += 1;
                if depth == 0 {
                    if let Some(l) = cur.take() {
                        out.push(l);
                    }
                    at_line_start = true;
                }
            }
            b';' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b' ' | b'\t' | b'\r' => {
                if at_line_start && depth == 0 && cur.is_none() {
                    cur = Some(Line {
                        tokens: Vec::new(),
                        indented: true,
                        line,
                    });
                }
                at_line_start = false;
                i += 1;
            }
            b'(' => {
                if depth == 0 {
                    paren_line = line;
                }
                depth += 1;
                at_line_start = false;
                i += 1;
            }
            b')' => {
                if depth == 0 {
                    return Err(Finding::error(
                        file,
                        Some(line),
                        "`)` without a `(` before it",
                    ));
                }
                depth -= 1;
                i += 1;
            }
            _ => {
                at_line_start = false;
                let start_line = line;
                let mut raw = Vec::new();
                let mut bytes = Vec::new();
                let quoted = c == b'"';
                if quoted {
                    i += 1;
                    loop {
                        let Some(&c) = b.get(i) else {
                            return Err(Finding::error(
                                file,
                                Some(start_line),
                                "a quoted string is not closed",
                            )
                            .help("end it with `\"`"));
                        };
                        match c {
                            b'"' => {
                                i += 1;
                                break;
                            }
                            b'\\' => {
                                let (n, v) = escape(&b[i..]).ok_or_else(|| {
                                    Finding::error(file, Some(line), "a `\\` escape is cut short")
                                })?;
                                raw.extend_from_slice(&b[i..i + n]);
                                bytes.push(v);
                                i += n;
                            }
                            b'\n' => {
                                return Err(Finding::error(
                                    file,
                                    Some(start_line),
                                    "a quoted string runs past the end of its line",
                                )
                                .help("close the string on the line it starts, and continue with another string"));
                            }
                            _ => {
                                raw.push(c);
                                bytes.push(c);
                                i += 1;
                            }
                        }
                    }
                } else {
                    while let Some(&c) = b.get(i) {
                        if matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"') {
                            break;
                        }
                        if c == b'\\' {
                            let (n, v) = escape(&b[i..]).ok_or_else(|| {
                                Finding::error(file, Some(line), "a `\\` escape is cut short")
                            })?;
                            raw.extend_from_slice(&b[i..i + n]);
                            bytes.push(v);
                            i += n;
                        } else {
                            raw.push(c);
                            bytes.push(c);
                            i += 1;
                        }
                    }
                }
                let raw = String::from_utf8(raw).map_err(|_| {
                    Finding::error(file, Some(start_line), "the text is not UTF-8")
                        .help("write non-ASCII bytes as `\\DDD` escapes")
                })?;
                let l = cur.get_or_insert_with(|| Line {
                    tokens: Vec::new(),
                    indented: false,
                    line: start_line,
                });
                l.tokens.push(Token {
                    raw,
                    bytes,
                    quoted,
                    line: start_line,
                });
            }
        }
    }
    if depth > 0 {
        return Err(Finding::error(
            file,
            Some(paren_line),
            "a `(` is never closed: the file ends inside it",
        )
        .help("close the record's data with `)`; a file cut short loses its last records"));
    }
    if let Some(l) = cur.take() {
        out.push(l);
    }
    Ok(out.into_iter().filter(|l| !l.tokens.is_empty()).collect())
}

/// A `\X` or `\DDD` escape at the start of `b`: its length and byte.
pub(super) fn escape(b: &[u8]) -> Option<(usize, u8)> {
    let next = *b.get(1)?;
    if next.is_ascii_digit() {
        let d = b.get(1..4)?;
        if !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let v = u32::from(d[0] - b'0') * 100 + u32::from(d[1] - b'0') * 10 + u32::from(d[2] - b'0');
        Some((4, u8::try_from(v).ok()?))
    } else if next == b'\n' {
        None
    } else {
        Some((2, next))
    }
}
