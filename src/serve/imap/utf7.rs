//! Mailbox names in modified UTF-7 (RFC 3501 §5.1.3), the form they have
//! on disk (Maildir++ folder names, as Dovecot writes them) and on the wire
//! for IMAP4rev1 clients; UTF-8 is what a client sees after `ENABLE
//! UTF8=ACCEPT` (RFC 6855 §3) or `ENABLE IMAP4rev2` (RFC 9051 §5.1).

/// The modified BASE64 alphabet: `,` in place of `/` (RFC 3501 §5.1.3).
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// Whether `c` stands for itself: printable US-ASCII but `&`.
fn direct(c: char) -> bool {
    (' '..='~').contains(&c) && c != '&'
}

/// A UTF-8 name in modified UTF-7: printable ASCII stands for itself, `&`
/// is `&-`, every other run is its UTF-16 in modified BASE64 between `&`
/// and `-`.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut run: Vec<u16> = Vec::new();
    let flush = |run: &mut Vec<u16>, out: &mut String| {
        if run.is_empty() {
            return;
        }
        let bytes: Vec<u8> = run.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
            // 8 bits make 2 characters, 16 make 3, 24 make 4; no padding.
            for i in 0..=chunk.len() {
                out.push(char::from(B64[(n >> (18 - 6 * i) & 63) as usize]));
            }
        }
        out.push('-');
        run.clear();
    };
    for c in name.chars() {
        if direct(c) {
            flush(&mut run, &mut out);
            out.push(c);
        } else if c == '&' {
            flush(&mut run, &mut out);
            out.push_str("&-");
        } else {
            let mut units = [0u16; 2];
            run.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A modified UTF-7 name in UTF-8, or `None` when it is not valid modified
/// UTF-7: a byte outside printable ASCII, an unterminated or empty shift
/// (`&-` aside), bits left over, a shift that encodes printable ASCII or
/// follows another at once (RFC 3501 §5.1.3 forbids both), or UTF-16
/// that does not decode.
pub fn decode(name: &str) -> Option<String> {
    let b = name.as_bytes();
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    let mut shift_ended_at = None;
    while i < b.len() {
        let c = b[i];
        if !(0x20..0x7f).contains(&c) {
            return None;
        }
        if c != b'&' {
            out.push(char::from(c));
            i += 1;
            continue;
        }
        let end = i + 1 + b[i + 1..].iter().position(|&x| x == b'-')?;
        if end == i + 1 {
            out.push('&');
            i = end + 1;
            continue;
        }
        if shift_ended_at == Some(i) {
            return None;
        }
        let mut bits = 0u32;
        let mut nbits = 0;
        let mut units = Vec::new();
        for &x in &b[i + 1..end] {
            let v = B64.iter().position(|&y| y == x)? as u32;
            bits = bits << 6 | v;
            nbits += 6;
            if nbits >= 16 {
                nbits -= 16;
                units.push((bits >> nbits) as u16);
                bits &= (1 << nbits) - 1;
            }
        }
        // Only zero bits may be left, fewer than six.
        if nbits >= 6 || bits != 0 {
            return None;
        }
        let text: String = char::decode_utf16(units.iter().copied())
            .collect::<Result<_, _>>()
            .ok()?;
        if text.is_empty() || text.chars().any(|c| direct(c) || c == '&') {
            return None;
        }
        out.push_str(&text);
        i = end + 1;
        shift_ended_at = Some(i);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for (utf8, utf7) in [
            ("INBOX", "INBOX"),
            ("pää", "p&AOQA5A-"),
            ("Entwürfe", "Entw&APw-rfe"),
            ("A & B", "A &- B"),
            ("日本語", "&ZeVnLIqe-"),
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            ("😀 x", "&2D3eAA- x"),
        ] {
            assert_eq!(encode(utf8), utf7, "{utf8}");
            assert_eq!(decode(utf7).as_deref(), Some(utf8), "{utf7}");
        }
    }

    #[test]
    fn refuses_what_is_not_modified_utf7() {
        for bad in [
            "a&b",        // unterminated
            "&AGE-",      // "a", which stands for itself
            "&AOQ-&AOQ-", // two shifts in a row
            "&AOQ",       // no end
            "&AO-",       // bits left over
            "&AOR-",      // non-zero bits left over
            "&2D0-",      // a lone surrogate
            "&Jjo!-",     // not BASE64
            "ä",
        ] {
            assert_eq!(decode(bad), None, "{bad}");
        }
        assert_eq!(decode("a&-b").as_deref(), Some("a&b"));
    }
}
