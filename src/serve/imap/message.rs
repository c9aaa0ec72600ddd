//! One stored message as FETCH and SEARCH read it: mail-parser's parse of
//! the stored bytes, the bytes of a body section (RFC 3501 §6.4.5), the
//! text SEARCH matches; its ENVELOPE and BODYSTRUCTURE are
//! [`super::structure`]'s.
//!
//! A message is anyone's input, so its shape is bounded here: parts nested
//! deeper than [`MAX_DEPTH`] are shown as opaque leaves (as Postfix's
//! `mime_nesting_limit` and Dovecot's message parser do), at most
//! [`MAX_PARTS`] parts are listed, nothing recurses past those bounds, a
//! parse is freed level by level (mail-parser nests an attached message
//! inside its parent, and dropping a deep nest would recurse), and an
//! encoded attached message is parsed in place ([`defuse`]).

use std::num::NonZeroU32;

use mail_parser::{HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType};

/// How deep multiparts and attached messages are followed; a part deeper
/// than this is an opaque `APPLICATION/OCTET-STREAM` leaf.
pub const MAX_DEPTH: usize = 100;
/// How many parts BODYSTRUCTURE lists; a multipart stops listing its
/// children once this many are shown.
pub const MAX_PARTS: usize = 10_000;

/// A stored message and its parse.
pub struct Parsed<'a> {
    pub raw: &'a [u8],
    pub msg: Option<Message<'a>>,
}

impl Drop for Parsed<'_> {
    fn drop(&mut self) {
        if let Some(m) = self.msg.take() {
            drop_flat(m);
        }
    }
}

/// Frees a parse without recursing: every attached message is taken out of
/// its parent first, so each is dropped on its own.
fn drop_flat(root: Message<'_>) {
    let mut stack = vec![root];
    while let Some(mut m) = stack.pop() {
        for part in &mut m.parts {
            if matches!(part.body, PartType::Message(_))
                && let PartType::Message(inner) = std::mem::take(&mut part.body)
            {
                stack.push(inner);
            }
        }
    }
}

impl<'a> Parsed<'a> {
    /// Parses `raw`; `scratch` holds the copy mail-parser reads instead
    /// when the message must be defused first ([`defuse`]).
    pub fn new(raw: &'a [u8], scratch: &'a mut Vec<u8>) -> Parsed<'a> {
        let marks = defuse(raw);
        let input: &'a [u8] = if marks.is_empty() {
            raw
        } else {
            scratch.clear();
            scratch.extend_from_slice(raw);
            for &at in &marks {
                scratch[at] = b'X';
            }
            scratch
        };
        // A parser panic (a bug of its own, on input it did not expect)
        // leaves the message unparsed, shown as one opaque text part.
        let msg = std::panic::catch_unwind(|| MessageParser::default().parse(input))
            .ok()
            .flatten();
        Parsed { raw, msg }
    }

    /// The top-level header, blank line included.
    pub fn header(&self) -> &[u8] {
        match &self.msg {
            Some(m) => &self.raw[..(m.root_part().offset_body as usize).min(self.raw.len())],
            None => self.raw,
        }
    }

    /// Everything after the top-level header.
    pub fn text(&self) -> &[u8] {
        &self.raw[self.header().len()..]
    }

    /// The bytes a section names; `None` for a part that does not exist
    /// (answered as an empty string, as Dovecot does).
    pub fn section(&self, path: &[NonZeroU32], what: What) -> Option<Vec<u8>> {
        if path.is_empty() {
            return match what {
                What::All => Some(self.raw.to_vec()),
                What::Header => Some(self.header().to_vec()),
                What::Text => Some(self.text().to_vec()),
                What::Fields(names, not) => Some(fields(self.header(), names, not)),
                What::Mime => None,
            };
        }
        let msg = self.msg.as_ref()?;
        let (m, part) = locate(msg, path)?;
        let slice = |a: u32, b: u32| cut(self.raw, m, a, b).to_vec();
        match what {
            What::All => Some(slice(part.offset_body, part.offset_end)),
            What::Mime => Some(slice(part.offset_header, part.offset_body)),
            What::Header | What::Text | What::Fields(..) => {
                let PartType::Message(inner) = &part.body else {
                    return None;
                };
                let root = inner.root_part();
                let head = cut(self.raw, inner, root.offset_header, root.offset_body);
                Some(match what {
                    What::Header => head.to_vec(),
                    What::Fields(names, not) => fields(head, names, not),
                    // The attached message's body runs to the end of the
                    // part that holds it: a multipart's epilogue included,
                    // which mail-parser leaves out of the inner root part.
                    _ => cut(self.raw, m, root.offset_body, part.offset_end).to_vec(),
                })
            }
        }
    }

    /// Part `path`'s body as stored, its Content-Transfer-Encoding as
    /// written (`None` when it has none) and whether it is a multipart;
    /// `None` for a part that does not exist. The empty path is the whole
    /// message, taken as it is.
    pub fn part_body(&self, path: &[NonZeroU32]) -> Option<(&[u8], Option<String>, bool)> {
        if path.is_empty() {
            return Some((self.raw, None, false));
        }
        let (m, part) = locate(self.msg.as_ref()?, path)?;
        let cte = part
            .content_transfer_encoding()
            .map(|s| s.trim().to_string());
        let multipart = matches!(part.body, PartType::Multipart(_));
        Some((
            cut(self.raw, m, part.offset_body, part.offset_end),
            cte,
            multipart,
        ))
    }

    /// The leaf parts (neither multipart nor attached message) of the
    /// message and of the messages attached to it, as `(header, body)`
    /// byte ranges of the stored message, with their
    /// Content-Transfer-Encoding as written. At most [`MAX_PARTS`].
    pub fn leaves(
        &self,
    ) -> Vec<(
        std::ops::Range<usize>,
        std::ops::Range<usize>,
        Option<String>,
    )> {
        let mut out = Vec::new();
        let Some(msg) = self.msg.as_ref() else {
            return out;
        };
        let mut stack: Vec<(&Message, usize)> = vec![(msg, 0)];
        while let Some((m, depth)) = stack.pop() {
            for part in &m.parts {
                if out.len() >= MAX_PARTS {
                    return out;
                }
                match &part.body {
                    PartType::Multipart(_) => {}
                    PartType::Message(inner) if depth < MAX_DEPTH => stack.push((inner, depth + 1)),
                    _ => out.push((
                        span(self.raw.len(), m, part.offset_header, part.offset_body),
                        span(self.raw.len(), m, part.offset_body, part.offset_end),
                        part.content_transfer_encoding()
                            .map(|s| s.trim().to_string()),
                    )),
                }
            }
        }
        out
    }

    /// The date of the Date header, as written (SENT* searches).
    pub fn sent_date(&self) -> Option<(i32, u32, u32)> {
        let d = self.msg.as_ref()?.date()?;
        Some((d.year as i32, d.month as u32, d.day as u32))
    }
}

/// `* 1 FETCH (ENVELOPE … BODYSTRUCTURE … BODY …)` for the message, as the
/// server writes it (imap-codec's encoder): what the `mime` fuzz target
/// runs, the encoder's recursion included.
pub fn fetch_response(p: &Parsed) -> Vec<u8> {
    use imap_codec::encode::Encoder;
    use imap_types::fetch::MessageDataItem;
    use imap_types::response::{Data, Response};
    let items = vec![
        MessageDataItem::Envelope(p.envelope()),
        MessageDataItem::BodyStructure(p.body_structure(true)),
        MessageDataItem::Body(p.body_structure(false)),
    ];
    match Data::fetch(1, items) {
        Ok(d) => imap_codec::ResponseCodec::default()
            .encode(&Response::Data(d))
            .dump(),
        Err(_) => Vec::new(),
    }
}

/// Where an attached message's `Content-Transfer-Encoding` field must be
/// renamed (its first letter made `X`, so offsets stay) before mail-parser
/// reads the message. mail-parser decodes a base64 or quoted-printable
/// `message/*` part (which RFC 2046 §5.2.1 forbids) and copies what it
/// parsed from it by recursion, as deep as that message nests: a stack
/// overflow for a hostile one. Renamed, the field is not seen, and the
/// part is parsed in place like any attached message, without recursion.
///
/// Found without parsing, so that it can only err on the safe side: a
/// field is renamed when the blank-line-delimited block it is in (every
/// header block is inside one) names `message` in a `Content-Type`, or has
/// no `Content-Type` at all while the message mentions `digest` anywhere
/// (a digest's parts are messages by default, RFC 2046 §5.1.5). Only the
/// parse sees the renamed field; FETCH sends the stored bytes.
pub fn defuse(raw: &[u8]) -> Vec<usize> {
    let digest = contains_ci(raw, b"digest");
    let mut marks = Vec::new();
    // The block being read: field starts to rename, and what it said.
    let mut ctes: Vec<usize> = Vec::new();
    let (mut has_ct, mut ct_message, mut in_ct) = (false, false, false);
    let mut start = 0;
    while start <= raw.len() {
        let end = raw[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |i| start + i);
        let line = &raw[start..end];
        if line.is_empty() || line == b"\r" || end == raw.len() {
            if end == raw.len() {
                scan_line(
                    line,
                    start,
                    &mut ctes,
                    &mut has_ct,
                    &mut ct_message,
                    &mut in_ct,
                );
            }
            if !ctes.is_empty() && (ct_message || (!has_ct && digest)) {
                marks.append(&mut ctes);
            }
            ctes.clear();
            (has_ct, ct_message, in_ct) = (false, false, false);
        } else {
            scan_line(
                line,
                start,
                &mut ctes,
                &mut has_ct,
                &mut ct_message,
                &mut in_ct,
            );
        }
        start = end + 1;
    }
    marks
}

/// Reads one line of a block for [`defuse`]: a field may also start after
/// a bare CR.
fn scan_line(
    line: &[u8],
    at: usize,
    ctes: &mut Vec<usize>,
    has_ct: &mut bool,
    ct_message: &mut bool,
    in_ct: &mut bool,
) {
    let starts = std::iter::once(0).chain(
        line.iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\r' && i + 1 < line.len())
            .map(|(i, _)| i + 1),
    );
    for s in starts {
        let piece = &line[s..];
        let piece_end = piece
            .iter()
            .position(|&b| b == b'\r')
            .unwrap_or(piece.len());
        let piece = &piece[..piece_end];
        if matches!(piece.first(), Some(b' ' | b'\t')) {
            // A folded line: more of the field before it.
            if *in_ct && contains_ci(piece, b"message") {
                *ct_message = true;
            }
        }
        if let Some(value) = field(piece, b"content-type") {
            *has_ct = true;
            *in_ct = true;
            *ct_message |= contains_ci(value, b"message");
        } else if !matches!(piece.first(), Some(b' ' | b'\t')) {
            *in_ct = false;
        }
        if field(piece, b"content-transfer-encoding").is_some() {
            let lead = piece
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count();
            ctes.push(at + s + lead);
        }
    }
}

/// The value of `line` when it is the field `name` (any case, blanks
/// allowed around the name).
fn field<'l>(line: &'l [u8], name: &[u8]) -> Option<&'l [u8]> {
    let lead = line
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let rest = line.get(lead..)?;
    if rest.len() < name.len() || !rest[..name.len()].eq_ignore_ascii_case(name) {
        return None;
    }
    let rest = &rest[name.len()..];
    let blanks = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    rest.get(blanks..)?.strip_prefix(b":")
}

/// Whether `hay` holds `needle` (lowercase ASCII), in any case.
fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let mut i = 0;
    while let Some(p) = hay[i..]
        .iter()
        .position(|&b| b.to_ascii_lowercase() == first)
    {
        let at = i + p + 1;
        if hay.len() >= at + rest.len() && hay[at..at + rest.len()].eq_ignore_ascii_case(rest) {
            return true;
        }
        i = at;
    }
    false
}

/// The stored bytes between two offsets of `m`'s parts, within `m`.
/// mail-parser counts every offset from the start of the outermost message
/// (attached messages are parsed in place, see [`defuse`]), so they index
/// `raw`, the stored message, as they are.
fn cut<'r>(raw: &'r [u8], m: &Message, a: u32, b: u32) -> &'r [u8] {
    &raw[span(raw.len(), m, a, b)]
}

/// The range [`cut`] takes.
pub(super) fn span(len: usize, m: &Message, a: u32, b: u32) -> std::ops::Range<usize> {
    let root = m.root_part();
    let hi = (b.min(root.offset_end) as usize).min(len);
    let lo = (a.max(root.offset_header) as usize).min(hi);
    lo..hi
}

/// What of a part a section asks for.
#[derive(Clone, Copy)]
pub enum What<'n> {
    All,
    Header,
    Text,
    Mime,
    /// HEADER.FIELDS (false) or HEADER.FIELDS.NOT (true).
    Fields(&'n [String], bool),
}

/// Part `path` (1-based numbers) and the message it belongs to.
fn locate<'m>(
    msg: &'m Message<'m>,
    path: &[NonZeroU32],
) -> Option<(&'m Message<'m>, &'m MessagePart<'m>)> {
    if path.len() > MAX_DEPTH {
        return None;
    }
    let mut m = msg;
    let mut part = msg.root_part();
    for (i, n) in path.iter().enumerate() {
        let n = n.get() as usize;
        match &part.body {
            PartType::Multipart(ids) => part = m.parts.get(*ids.get(n - 1)? as usize)?,
            PartType::Message(inner) if i > 0 => {
                let root = inner.root_part();
                m = inner;
                part = match &root.body {
                    PartType::Multipart(ids) => inner.parts.get(*ids.get(n - 1)? as usize)?,
                    _ if n == 1 => root,
                    _ => return None,
                };
            }
            // A single-part message: its body is part 1.
            _ if i == 0 && n == 1 => {}
            _ => return None,
        }
    }
    Some((m, part))
}

/// The header fields named (or all but those), then the blank line.
fn fields(header: &[u8], names: &[String], not: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut keep = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if !matches!(line.first(), Some(b' ' | b'\t')) {
            let name = line.split(|&b| b == b':').next().unwrap_or_default();
            let name = String::from_utf8_lossy(name);
            let listed = names.iter().any(|n| n.eq_ignore_ascii_case(name.trim()));
            keep = listed != not && line.contains(&b':');
        }
        if keep {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Lowercase text a SEARCH key is matched against: a header's values,
/// decoded, then each as written (RFC 3501 §6.4.4: "the text of the header",
/// so `HEADER Message-ID <id@host>` finds the angle brackets the decoded
/// form drops); `None` when the message has no such header.
pub fn header_text(p: &Parsed, name: &str) -> Option<String> {
    let m = p.msg.as_ref()?;
    let mut out = String::new();
    let mut found = false;
    for h in m.root_part().headers.iter() {
        if !h.name.as_str().eq_ignore_ascii_case(name) {
            continue;
        }
        found = true;
        match &h.value {
            HeaderValue::Address(a) => {
                for x in addresses_text(a) {
                    out.push_str(&x);
                    out.push(' ');
                }
            }
            HeaderValue::Text(t) => out.push_str(t),
            HeaderValue::TextList(l) => out.push_str(&l.join(" ")),
            _ => {}
        }
        out.push('\n');
        // Unfolded (RFC 5322 §2.2.3), so a needle may span a folded line.
        let raw = cut(p.raw, m, h.offset_start, h.offset_end);
        let raw = String::from_utf8_lossy(raw)
            .replace("\r\n", "")
            .replace('\n', "");
        out.push_str(raw.trim());
        out.push('\n');
    }
    found.then(|| out.to_lowercase())
}

fn addresses_text(a: &mail_parser::Address) -> Vec<String> {
    let one = |x: &mail_parser::Addr| {
        format!(
            "{} <{}>",
            x.name.as_deref().unwrap_or(""),
            x.address.as_deref().unwrap_or("")
        )
    };
    match a {
        mail_parser::Address::List(l) => l.iter().map(one).collect(),
        // A group's name is searched too.
        mail_parser::Address::Group(g) => g
            .iter()
            .flat_map(|g| {
                g.name
                    .iter()
                    .map(|n| format!("{n}:"))
                    .chain(g.addresses.iter().map(one))
            })
            .collect(),
    }
}

/// The body as stored and the decoded text of every part, lowercased
/// (BODY and TEXT searches).
pub fn body_text(p: &Parsed) -> String {
    let mut out = String::from_utf8_lossy(p.text()).to_string();
    let Some(m) = &p.msg else {
        return out.to_lowercase();
    };
    for part in m.parts.iter().skip(1).chain(
        // A single-part message's body is its root part.
        (m.parts.len() == 1).then(|| m.root_part()),
    ) {
        match &part.body {
            PartType::Text(t) | PartType::Html(t) => out.push_str(t),
            PartType::Binary(b) | PartType::InlineBinary(b) => {
                out.push_str(&String::from_utf8_lossy(b))
            }
            _ => {}
        }
        out.push('\n');
    }
    out.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_types::body::{Body, BodyStructure, SpecificFields};

    const MIXED: &[u8] = b"From: A <a@x.org>\r\nSubject: hi\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npre\r\n--XX\r\nContent-Type: text/plain\r\n\r\nbody one\r\n--XX\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--XX--\r\n";

    fn n(v: &[u32]) -> Vec<NonZeroU32> {
        v.iter().map(|&x| NonZeroU32::new(x).unwrap()).collect()
    }

    /// `n` multiparts, each the only part of the one around it.
    pub fn nested_multipart(n: usize) -> Vec<u8> {
        let mut m = b"Subject: deep\r\n".to_vec();
        for i in 0..n {
            m.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n")
                    .as_bytes(),
            );
        }
        m.extend_from_slice(b"Content-Type: text/plain\r\n\r\nbottom\r\n");
        for i in (0..n).rev() {
            m.extend_from_slice(format!("--b{i}--\r\n").as_bytes());
        }
        m
    }

    /// `n` messages, each attached (message/rfc822) to the one around it.
    pub fn nested_rfc822(n: usize) -> Vec<u8> {
        let mut m = Vec::new();
        for _ in 0..n {
            m.extend_from_slice(b"Subject: wrap\r\nContent-Type: message/rfc822\r\n\r\n");
        }
        m.extend_from_slice(b"Subject: bottom\r\n\r\nbottom\r\n");
        m
    }

    fn depth(b: &BodyStructure) -> usize {
        let mut d = 0;
        let mut at = vec![(b, 1)];
        while let Some((b, n)) = at.pop() {
            d = d.max(n);
            match b {
                BodyStructure::Multi { bodies, .. } => {
                    at.extend(bodies.as_ref().iter().map(|c| (c, n + 1)))
                }
                BodyStructure::Single {
                    body:
                        Body {
                            specific: SpecificFields::Message { body_structure, .. },
                            ..
                        },
                    ..
                } => at.push((body_structure, n + 1)),
                _ => {}
            }
        }
        d
    }

    #[test]
    fn deep_nesting_is_cut_off_without_recursing() {
        // On a small stack (the runtime's workers have 2 MiB): parse, show,
        // search and free a hostile nest.
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(|| {
                for raw in [nested_multipart(1300), nested_rfc822(2000)] {
                    let mut scratch = Vec::new();
                    let p = Parsed::new(&raw, &mut scratch);
                    let b = p.body_structure(true);
                    assert!(depth(&b) <= MAX_DEPTH + 1, "{}", depth(&b));
                    let _ = p.envelope();
                    let _ = body_text(&p);
                    let deep = vec![NonZeroU32::MIN; 150];
                    assert_eq!(p.section(&deep, What::All), None);
                    assert!(p.section(&deep[..3], What::All).is_some());
                }
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn an_encoded_attached_message_is_parsed_in_place() {
        // base64 message/rfc822 (forbidden, RFC 2046 §5.2.1): mail-parser
        // would decode and copy it by recursion. Its encoding field is
        // renamed for the parse; everything else is left alone.
        let raw = b"Subject: outer\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n--b\r\nContent-Type: Message/RFC822\r\ncontent-transfer-encoding : base64\r\n\r\nU3ViamVjdDogaW4NCg0KeA==\r\n--b--\r\n";
        let marks = defuse(raw);
        assert_eq!(marks.len(), 1);
        assert_eq!(&raw[marks[0]..marks[0] + 7], b"content");
        let folded =
            b"Content-Type:\r\n message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nx";
        assert_eq!(defuse(folded).len(), 1);
        let digest = b"Content-Type: multipart/digest; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\nx\r\n--b--\r\n";
        assert_eq!(defuse(digest).len(), 1);
        let plain = b"Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nmessage digest=3D\r\n";
        assert!(defuse(plain).is_empty());
        // The parse sees no encoding; the bytes FETCH sends are the stored ones.
        let mut scratch = Vec::new();
        let p = Parsed::new(raw, &mut scratch);
        assert_eq!(
            p.section(&n(&[2]), What::Mime).unwrap(),
            b"Content-Type: Message/RFC822\r\ncontent-transfer-encoding : base64\r\n\r\n"
        );
        assert!(body_text(&p).contains("hi"));
        // A deep nest inside such a part cannot recurse.
        use base64::Engine as _;
        let inner = base64::engine::general_purpose::STANDARD.encode(nested_rfc822(3000));
        let mut deep =
            b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
        deep.extend_from_slice(inner.as_bytes());
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                let mut scratch = Vec::new();
                let p = Parsed::new(&deep, &mut scratch);
                let _ = fetch_response(&p);
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn sections() {
        let mut scratch = Vec::new();
        let p = Parsed::new(MIXED, &mut scratch);
        assert_eq!(p.section(&n(&[1]), What::All).unwrap(), b"body one");
        assert_eq!(
            p.section(&n(&[1]), What::Mime).unwrap(),
            b"Content-Type: text/plain\r\n\r\n"
        );
        assert_eq!(
            p.section(&n(&[2]), What::Header).unwrap(),
            b"Subject: inner\r\n\r\n"
        );
        assert_eq!(p.section(&n(&[2]), What::Text).unwrap(), b"inner body");
        assert_eq!(p.section(&n(&[2, 1]), What::All).unwrap(), b"inner body");
        assert_eq!(p.section(&n(&[3]), What::All), None);
        let subj = ["subject".to_string()];
        assert_eq!(
            p.section(&[], What::Fields(&subj, false)).unwrap(),
            b"Subject: hi\r\n\r\n"
        );
        let mut scratch2 = Vec::new();
        let single = Parsed::new(b"Subject: x\r\n\r\nline\r\n", &mut scratch2);
        assert_eq!(single.section(&n(&[1]), What::All).unwrap(), b"line\r\n");
        assert!(body_text(&single).contains("line"));
    }

    #[test]
    fn envelope_groups_end_where_their_syntax_ends() {
        // RFC 3501 §7.4.2: a group is (NIL NIL "name" NIL), its members,
        // then (NIL NIL NIL NIL); an empty group is the two alone.
        let raw = b"From: user@domain (Real Name)\r\nTo: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;\r\nCc: group:;, group2: (foo) ;\r\n\r\nbody\r\n";
        let mut scratch = Vec::new();
        let p = Parsed::new(raw, &mut scratch);
        let out = String::from_utf8(fetch_response(&p)).unwrap();
        let want = "ENVELOPE (NIL NIL ((\"Real Name\" NIL \"user\" \"domain\")) ((\"Real Name\" NIL \"user\" \"domain\")) ((\"Real Name\" NIL \"user\" \"domain\")) \
            ((NIL NIL \"group\" NIL)(NIL NIL \"g1\" \"d1.org\")(NIL NIL \"g2\" \"d2.org\")(NIL NIL NIL NIL)(NIL NIL \"group2\" NIL)(NIL NIL \"g3\" \"d3.org\")(NIL NIL NIL NIL)) \
            ((NIL NIL \"group\" NIL)(NIL NIL NIL NIL)(NIL NIL \"group2\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL)";
        assert!(out.starts_with(&format!("* 1 FETCH ({want} ")), "{out}");
    }

    #[test]
    fn text_of_an_attached_multipart_message_keeps_its_epilogue() {
        let raw = b"Content-Type: message/rfc822\r\n\r\nSubject: in\r\nContent-Type: multipart/digest; boundary=\"foo\"\r\n\r\nprologue\r\n\r\n--foo \r\n\r\nFrom: m1@example.com\r\n\r\nm1 body\r\n\r\n--foo--\r\n\r\nepilogue\r\n";
        let mut scratch = Vec::new();
        let p = Parsed::new(raw, &mut scratch);
        assert_eq!(
            p.section(&n(&[1]), What::Text).unwrap(),
            b"prologue\r\n\r\n--foo \r\n\r\nFrom: m1@example.com\r\n\r\nm1 body\r\n\r\n--foo--\r\n\r\nepilogue\r\n"
        );
        assert_eq!(p.section(&n(&[1, 1]), What::Text).unwrap(), b"m1 body\r\n");
    }

    #[test]
    fn header_search_text_holds_each_field_as_written() {
        // RFC 3501 §6.4.4: a client looks a message up by its Message-ID
        // with the angle brackets, as the field holds it.
        let raw = b"Message-ID: <a.1@example.com>\r\nSubject: =?utf-8?q?caf=C3=A9?= and\r\n more\r\n\r\nbody\r\n";
        let mut scratch = Vec::new();
        let p = Parsed::new(raw, &mut scratch);
        let id = header_text(&p, "message-id").unwrap();
        assert!(id.contains("<a.1@example.com>"), "{id}");
        let subject = header_text(&p, "Subject").unwrap();
        assert!(subject.contains("café and more"), "{subject}");
        assert!(subject.contains("?= and more"), "{subject}");
        assert_eq!(header_text(&p, "References"), None);
    }
}
