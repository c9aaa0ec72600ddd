//! A message as rules look at it: its header fields (unfolded, RFC 5322
//! §2.2.3; encoded words decoded, RFC 2047), the addresses of an address
//! header, and its size.

use base64::Engine as _;

/// The header of one message, read once.
#[derive(Debug, Default)]
pub struct Header {
    /// (name, raw value unfolded), in order.
    fields: Vec<(String, String)>,
}

impl Header {
    /// Reads the header section of `raw` (up to the first empty line).
    pub fn parse(raw: &[u8]) -> Header {
        let text = String::from_utf8_lossy(raw);
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() {
                break;
            }
            if line.starts_with([' ', '\t']) {
                if let Some((_, v)) = fields.last_mut() {
                    v.push_str(line);
                }
                continue;
            }
            match line.split_once(':') {
                Some((name, value)) if !name.is_empty() && !name.contains([' ', '\t']) => {
                    fields.push((name.to_string(), value.to_string()));
                }
                _ => {}
            }
        }
        Header { fields }
    }

    /// The raw (unfolded, undecoded) values of every field called `name`.
    pub fn raw<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The values of every field called `name`: whitespace trimmed at both
    /// ends, encoded words decoded.
    pub fn values(&self, name: &str) -> Vec<String> {
        self.raw(name).map(|v| decode_words(v.trim())).collect()
    }

    /// Whether a field called `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.raw(name).next().is_some()
    }

    /// The addresses (`local@domain`, as written) of every field called `name`.
    pub fn addresses(&self, name: &str) -> Vec<String> {
        self.raw(name).flat_map(addresses).collect()
    }
}

/// The addr-specs of an address list (RFC 5322 §3.4): `Name <a@b>`, bare
/// `a@b`, groups; comments and display names dropped.
pub fn addresses(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut angle: Option<String> = None;
    let mut in_quote = false;
    let mut comment = 0usize;
    let mut chars = value.chars();
    let flush = |current: &mut String, angle: &mut Option<String>, out: &mut Vec<String>| {
        let a = match angle.take() {
            Some(a) => a,
            None => current.split_whitespace().collect::<Vec<_>>().join(""),
        };
        let a = a.trim().to_string();
        if !a.is_empty() {
            out.push(a);
        }
        current.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_quote || comment > 0 => {
                chars.next();
            }
            '"' if comment == 0 => in_quote = !in_quote,
            _ if in_quote => {}
            '(' => comment += 1,
            ')' if comment > 0 => comment -= 1,
            _ if comment > 0 => {}
            '<' => {
                let mut a = String::new();
                for c in chars.by_ref() {
                    if c == '>' {
                        break;
                    }
                    a.push(c);
                }
                // A route (`<@a,@b:x@y>`) keeps its last part.
                let a = a.rsplit(':').next().unwrap_or("").to_string();
                angle = Some(a);
            }
            ':' => current.clear(),
            ',' | ';' => flush(&mut current, &mut angle, &mut out),
            c => current.push(c),
        }
    }
    flush(&mut current, &mut angle, &mut out);
    out
}

/// Decodes the encoded words (`=?charset?B|Q?text?=`, RFC 2047) of a field
/// value; whitespace between two encoded words goes (§6.2). Charsets
/// decoded: UTF-8, US-ASCII and ISO-8859-1; a word in another charset, or
/// one that does not decode, stays as written.
pub fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut last_was_word = false;
    while !rest.is_empty() {
        if let Some(start) = rest.find("=?") {
            let (before, from) = rest.split_at(start);
            if let Some((decoded, used)) = encoded_word(from) {
                // Whitespace between two encoded words is dropped.
                if !(last_was_word && before.chars().all(|c| c == ' ' || c == '\t')) {
                    out.push_str(before);
                }
                out.push_str(&decoded);
                rest = &from[used..];
                last_was_word = true;
                continue;
            }
            out.push_str(before);
            out.push_str("=?");
            rest = &from[2..];
            last_was_word = false;
            continue;
        }
        out.push_str(rest);
        break;
    }
    out
}

/// One encoded word at the start of `s`: its text and its length.
fn encoded_word(s: &str) -> Option<(String, usize)> {
    let body = s.strip_prefix("=?")?;
    let (charset, rest) = body.split_once('?')?;
    let (enc, rest) = rest.split_once('?')?;
    let end = rest.find("?=")?;
    let text = &rest[..end];
    if text.contains([' ', '\t']) {
        return None;
    }
    let used = 2 + charset.len() + 1 + enc.len() + 1 + end + 2;
    let bytes = match enc {
        "B" | "b" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .ok()?,
        "Q" | "q" => {
            let mut v = Vec::new();
            let b = text.as_bytes();
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b'_' => v.push(b' '),
                    b'=' => {
                        let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                        v.push(u8::from_str_radix(hex, 16).ok()?);
                        i += 2;
                    }
                    c => v.push(c),
                }
                i += 1;
            }
            v
        }
        _ => return None,
    };
    // RFC 2231 §5: a language after `*` is ignored.
    let charset = charset.split('*').next().unwrap_or("");
    let text = match charset.to_ascii_lowercase().as_str() {
        "utf-8" | "us-ascii" => String::from_utf8(bytes).ok()?,
        "iso-8859-1" | "latin1" => bytes.iter().map(|&b| b as char).collect(),
        _ => return None,
    };
    Some((text, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_unfold_and_decode() {
        let h = Header::parse(
            b"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n =?UTF-8?B?YXVz?= Berlin\r\nX-A: 1\r\nx-a:  2 \r\n\r\nSubject: body\r\n",
        );
        assert_eq!(h.values("subject"), vec!["Grüßeaus Berlin"]);
        assert_eq!(h.values("X-A"), vec!["1", "2"]);
        assert!(!h.has("body"));
    }

    #[test]
    fn address_lists() {
        assert_eq!(
            addresses("\"Doe, J\" <j@x.example>, b@y.example (Bob), Team: c@z.example;"),
            vec!["j@x.example", "b@y.example", "c@z.example"]
        );
        assert_eq!(addresses("<>"), Vec::<String>::new());
    }
}
