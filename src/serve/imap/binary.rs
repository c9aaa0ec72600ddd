//! BINARY (RFC 3516): a body part with its Content-Transfer-Encoding
//! undone (FETCH BINARY[...], BINARY.SIZE[...]), and the parts of an
//! APPENDed message sent with the `binary` encoding stored as base64, so
//! that every stored message is a valid RFC 5322 message that BODY[]
//! can send in a literal, and BINARY[] gives the original bytes back.

use std::num::NonZeroU32;

use super::message::Parsed;

/// A part's encoding this server cannot undo (answered `NO
/// [UNKNOWN-CTE]`, RFC 3516 §4.3).
#[derive(Debug, PartialEq, Eq)]
pub struct UnknownCte;

/// The decoded bytes of part `path` (RFC 3516 §4.2): base64 and
/// quoted-printable are decoded, 7bit, 8bit and binary (and no encoding)
/// are taken as they are; so are multiparts, whose own encoding can only
/// be one of those. The empty path is the whole message as stored. A part
/// that does not exist gives no bytes, as BODY[...] does.
pub fn decoded(p: &Parsed, path: &[NonZeroU32]) -> Result<Vec<u8>, UnknownCte> {
    let Some((body, cte, multipart)) = p.part_body(path) else {
        return Ok(Vec::new());
    };
    if multipart {
        return Ok(body.to_vec());
    }
    match cte.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("" | "7bit" | "8bit" | "binary") => Ok(body.to_vec()),
        Some("base64") => Ok(base64(body)),
        Some("quoted-printable") => Ok(quoted_printable(body)),
        Some(_) => Err(UnknownCte),
    }
}

/// Base64 (RFC 2045 §6.8) read leniently, as mail readers do: characters
/// outside the alphabet (line breaks, spaces) are skipped, and the text
/// ends at the first `=`.
pub fn base64(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// Quoted-printable (RFC 2045 §6.7): `=XX` is a byte, `=` at the end of a
/// line (spaces after it allowed) joins it to the next, whitespace at the
/// end of a line is padding and dropped; line breaks stay as they are. A
/// `=` not followed by two hex digits is kept as it is.
pub fn quoted_printable(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let (line, brk, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) if i > 0 && rest[i - 1] == b'\r' => {
                (&rest[..i - 1], &rest[i - 1..=i], &rest[i + 1..])
            }
            Some(i) => (&rest[..i], &rest[i..=i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..], &rest[rest.len()..]),
        };
        let line = trim_end(line);
        let (line, soft) = match line.strip_suffix(b"=") {
            Some(l) => (l, true),
            None => (line, false),
        };
        let mut i = 0;
        while i < line.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if line[i] == b'='
                && let (Some(hi), Some(lo)) = (
                    line.get(i + 1).and_then(|&b| hex(b)),
                    line.get(i + 2).and_then(|&b| hex(b)),
                )
            {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
            out.push(line[i]);
            i += 1;
        }
        if !soft {
            out.extend_from_slice(brk);
        }
        rest = next;
    }
    out
}

fn trim_end(mut line: &[u8]) -> &[u8] {
    while let [head @ .., b' ' | b'\t'] = line {
        line = head;
    }
    line
}

/// `message` with every leaf part declared `Content-Transfer-Encoding:
/// binary` re-encoded as base64 (its header field says so): what APPEND
/// stores (RFC 3516 §4.3 lets a server keep binary content in another
/// form, as long as BINARY[...] gives it back). `None` when there is none.
pub fn store_form(message: &[u8]) -> Option<Vec<u8>> {
    // Cheap first: most messages name no encoding as binary.
    let said = |w: &[u8]| message.windows(w.len()).any(|x| x.eq_ignore_ascii_case(w));
    if !said(b"binary") {
        return None;
    }
    let mut scratch = Vec::new();
    let p = Parsed::new(message, &mut scratch);
    let mut binary: Vec<_> = p
        .leaves()
        .into_iter()
        .filter(|(_, _, cte)| {
            cte.as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case("binary"))
        })
        .collect();
    if binary.is_empty() {
        return None;
    }
    // From the end, so the ranges before stay where they are.
    binary.sort_by_key(|(head, _, _)| std::cmp::Reverse(head.start));
    let mut out = message.to_vec();
    for (head, body, _) in binary {
        if head.end > body.start || body.end > out.len() {
            continue;
        }
        let encoded = base64_lines(&message[body.clone()]);
        out.splice(body, encoded);
        let header = retag(&message[head.clone()]);
        out.splice(head, header);
    }
    Some(out)
}

/// Base64 in lines of 76 characters, each ended by CRLF (RFC 2045 §6.8).
fn base64_lines(bytes: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = Vec::with_capacity(text.len() + text.len() / 38 + 2);
    for line in text.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A part's header with its Content-Transfer-Encoding field (folded
/// lines included) made `base64`.
fn retag(header: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(header.len());
    let mut skipping = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        let folded = matches!(line.first(), Some(b' ' | b'\t'));
        if skipping && folded {
            continue;
        }
        skipping = false;
        let name = b"content-transfer-encoding:";
        if line.len() >= name.len() && line[..name.len()].eq_ignore_ascii_case(name) {
            out.extend_from_slice(b"Content-Transfer-Encoding: base64\r\n");
            skipping = true;
            continue;
        }
        out.extend_from_slice(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: &[u32]) -> Vec<NonZeroU32> {
        v.iter().map(|&x| NonZeroU32::new(x).unwrap()).collect()
    }

    #[test]
    fn base64_is_read_leniently() {
        assert_eq!(base64(b"\r\naGVs\r\nbG8gd29y\r\nbGQ=\r\n"), b"hello world");
        assert_eq!(
            base64(b"  aGVs    \r\n bG8g  \r\n   d29y  \t \r\n    bGQ= \r\n"),
            b"hello world"
        );
        assert_eq!(
            base64(b"YWJjZGVmZw1oaWprbA0KbW5vCnBxcnN0dXZxeHl6"),
            b"abcdefg\rhijkl\r\nmno\npqrstuvqxyz"
        );
    }

    #[test]
    fn quoted_printable_soft_breaks_and_padding() {
        let text = b"hello  \r\nbar=\r\n\r\nfoo\t=\r\nbar\r\nfoo\t \t= \r\n=62\r\nfoo = \t\r\nbar\r\nfoo =\r\n=62\r\nfoo  \r\nbar=\r\n\r\nfoo_bar\r\n";
        assert_eq!(
            quoted_printable(text),
            b"hello\r\nbar\r\nfoo\tbar\r\nfoo\t \tb\r\nfoo bar\r\nfoo b\r\nfoo\r\nbar\r\nfoo_bar\r\n"
        );
        assert_eq!(quoted_printable(b"a=3Db=ZZ=4"), b"a=b=ZZ=4");
    }

    #[test]
    fn parts_are_decoded_by_their_encoding() {
        let msg = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
            Content-Transfer-Encoding: base64\r\n\r\naGk=\r\n--b\r\n\
            Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin\r\n--b\r\n\r\nplain\r\n--b--\r\n";
        let mut scratch = Vec::new();
        let p = Parsed::new(msg, &mut scratch);
        assert_eq!(decoded(&p, &n(&[1])).unwrap(), b"hi");
        assert_eq!(decoded(&p, &n(&[2])), Err(UnknownCte));
        assert_eq!(decoded(&p, &n(&[3])).unwrap(), b"plain");
        assert_eq!(decoded(&p, &n(&[9])).unwrap(), b"");
        assert_eq!(decoded(&p, &[]).unwrap(), msg);
    }

    #[test]
    fn binary_parts_are_stored_as_base64() {
        let msg = b"From: a@b\r\nContent-Transfer-Encoding:\r\n binary\r\nSubject: s\r\n\r\n\0-\xe4\n\r\n\n";
        let stored = store_form(msg).unwrap();
        assert_eq!(
            stored,
            b"From: a@b\r\nContent-Transfer-Encoding: base64\r\nSubject: s\r\n\r\nAC3kCg0KCg==\r\n"
        );
        let mut scratch = Vec::new();
        let p = Parsed::new(&stored, &mut scratch);
        assert_eq!(decoded(&p, &n(&[1])).unwrap(), b"\0-\xe4\n\r\n\n");
        assert_eq!(store_form(b"Subject: s\r\n\r\ntext\r\n"), None);
    }
}
