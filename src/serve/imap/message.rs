//! What FETCH says about one message: ENVELOPE, BODYSTRUCTURE and the
//! bytes of a body section (RFC 3501 §6.4.5, §7.4.2), from mail-parser's
//! parse of the stored bytes.
//!
//! A message is anyone's input, so its shape is bounded here: parts nested
//! deeper than [`MAX_DEPTH`] are shown as opaque leaves (as Postfix's
//! `mime_nesting_limit` and Dovecot's message parser do), at most
//! [`MAX_PARTS`] parts are listed, nothing recurses past those bounds, and
//! a parse is freed level by level (mail-parser nests an attached message
//! inside its parent, and dropping a deep nest would recurse).

use std::num::NonZeroU32;

use imap_types::body::{
    BasicFields, Body, BodyStructure, Disposition, Language, Location, MultiPartExtensionData,
    SinglePartExtensionData, SpecificFields,
};
use imap_types::core::{IString, NString, Vec1};
use imap_types::envelope::{Address, Envelope};
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
    pub fn new(raw: &'a [u8]) -> Parsed<'a> {
        Parsed {
            raw,
            msg: MessageParser::default().parse(raw),
        }
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

    pub fn envelope(&self) -> Envelope<'static> {
        match &self.msg {
            Some(m) => envelope(m),
            None => empty_envelope(),
        }
    }

    pub fn body_structure(&self, ext: bool) -> BodyStructure<'static> {
        match &self.msg {
            Some(m) => structure(m, m.root_part(), ext, 0, &mut 0),
            None => text_plain(self.text(), ext),
        }
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
        let slice = |a: u32, b: u32| cut(m, a, b).to_vec();
        match what {
            What::All => Some(slice(part.offset_body, part.offset_end)),
            What::Mime => Some(slice(part.offset_header, part.offset_body)),
            What::Header | What::Text | What::Fields(..) => {
                let PartType::Message(inner) = &part.body else {
                    return None;
                };
                let root = inner.root_part();
                let head = cut(inner, root.offset_header, root.offset_body);
                Some(match what {
                    What::Header => head.to_vec(),
                    What::Fields(names, not) => fields(head, names, not),
                    _ => cut(inner, root.offset_body, root.offset_end).to_vec(),
                })
            }
        }
    }

    /// The date of the Date header, as written (SENT* searches).
    pub fn sent_date(&self) -> Option<(i32, u32, u32)> {
        let d = self.msg.as_ref()?.date()?;
        Some((d.year as i32, d.month as u32, d.day as u32))
    }
}

/// The bytes between two offsets of `m`'s parts. mail-parser counts the
/// offsets of an attached message's parts from the start of the outermost
/// message, while the attached message's own bytes start at its header.
fn cut<'m>(m: &'m Message<'m>, a: u32, b: u32) -> &'m [u8] {
    let raw = m.raw_message();
    let base = m.root_part().offset_header;
    let b = (b.saturating_sub(base) as usize).min(raw.len());
    let a = (a.saturating_sub(base) as usize).min(b);
    &raw[a..b]
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

fn nstring(s: Option<&str>) -> NString<'static> {
    match s {
        None => NString(None),
        Some(s) => NString::try_from(s.to_string()).unwrap_or(NString(None)),
    }
}

fn istring(s: &str) -> IString<'static> {
    IString::try_from(s.to_string()).unwrap_or_else(|_| IString::try_from("").expect("empty"))
}

/// A header's value as written, unfolded and trimmed.
fn raw_header(m: &Message, name: &str) -> Option<String> {
    let v = m.header_raw(name)?;
    let v: String = v.replace("\r\n", "").replace('\n', "");
    Some(v.trim().to_string())
}

fn addresses(v: Option<&mail_parser::Address>) -> Vec<Address<'static>> {
    let mut out = Vec::new();
    let one = |a: &mail_parser::Addr| {
        let addr = a.address.as_deref().unwrap_or("");
        let (local, host) = addr.rsplit_once('@').unwrap_or((addr, ""));
        // A source route (`<@route:user@domain>`) is the address's adl.
        let (adl, local) = match local.split_once(':') {
            Some((route, local)) if route.starts_with('@') => (Some(route), local),
            _ => (None, local),
        };
        Address {
            name: nstring(a.name.as_deref()),
            adl: nstring(adl),
            mailbox: nstring(Some(local)),
            host: nstring(Some(host)),
        }
    };
    match v {
        Some(mail_parser::Address::List(list)) => out.extend(list.iter().map(one)),
        Some(mail_parser::Address::Group(groups)) => {
            for g in groups {
                if let Some(name) = &g.name {
                    // RFC 3501 §7.4.2: a group is a NIL host with the name
                    // as mailbox, then its members, then a NIL mailbox.
                    out.push(Address {
                        name: NString(None),
                        adl: NString(None),
                        mailbox: nstring(Some(name)),
                        host: NString(None),
                    });
                    out.extend(g.addresses.iter().map(one));
                    out.push(Address {
                        name: NString(None),
                        adl: NString(None),
                        mailbox: NString(None),
                        host: NString(None),
                    });
                } else {
                    out.extend(g.addresses.iter().map(one));
                }
            }
        }
        None => {}
    }
    out
}

fn empty_envelope() -> Envelope<'static> {
    Envelope {
        date: NString(None),
        subject: NString(None),
        from: Vec::new(),
        sender: Vec::new(),
        reply_to: Vec::new(),
        to: Vec::new(),
        cc: Vec::new(),
        bcc: Vec::new(),
        in_reply_to: NString(None),
        message_id: NString(None),
    }
}

fn envelope(m: &Message) -> Envelope<'static> {
    let from = addresses(m.from());
    // RFC 3501 §7.4.2: sender and reply-to default to from.
    let sender = match m.sender() {
        Some(_) => addresses(m.sender()),
        None => from.clone(),
    };
    let reply_to = match m.reply_to() {
        Some(_) => addresses(m.reply_to()),
        None => from.clone(),
    };
    Envelope {
        date: nstring(raw_header(m, "Date").as_deref()),
        subject: nstring(raw_header(m, "Subject").as_deref()),
        from,
        sender,
        reply_to,
        to: addresses(m.to()),
        cc: addresses(m.cc()),
        bcc: addresses(m.bcc()),
        in_reply_to: nstring(raw_header(m, "In-Reply-To").as_deref()),
        message_id: nstring(raw_header(m, "Message-ID").as_deref()),
    }
}

fn params(ct: Option<&mail_parser::ContentType>) -> Vec<(IString<'static>, IString<'static>)> {
    ct.and_then(|c| c.attributes.as_ref())
        .map(|attrs| {
            attrs
                .iter()
                .map(|a| (istring(&a.name.to_ascii_uppercase()), istring(&a.value)))
                .collect()
        })
        .unwrap_or_default()
}

fn lines(b: &[u8]) -> u32 {
    let n = b.iter().filter(|&&c| c == b'\n').count();
    let tail = usize::from(!b.is_empty() && !b.ends_with(b"\n"));
    (n + tail) as u32
}

fn text_plain(body: &[u8], ext: bool) -> BodyStructure<'static> {
    BodyStructure::Single {
        body: Body {
            basic: BasicFields {
                parameter_list: vec![(istring("CHARSET"), istring("us-ascii"))],
                id: NString(None),
                description: NString(None),
                content_transfer_encoding: istring("7BIT"),
                size: body.len() as u32,
            },
            specific: SpecificFields::Text {
                subtype: istring("PLAIN"),
                number_of_lines: lines(body),
            },
        },
        extension_data: ext.then_some(SinglePartExtensionData {
            md5: NString(None),
            tail: None,
        }),
    }
}

fn disposition(part: &MessagePart) -> Option<Disposition<'static>> {
    let d = part
        .content_disposition()
        .map(|d| (istring(&d.c_type.to_ascii_lowercase()), params(Some(d))));
    let language: Vec<IString<'static>> = match part.content_language() {
        HeaderValue::Text(t) => vec![istring(t)],
        HeaderValue::TextList(l) => l.iter().map(|t| istring(t)).collect(),
        _ => Vec::new(),
    };
    Some(Disposition {
        disposition: d,
        tail: Some(Language {
            language,
            tail: Some(Location {
                location: nstring(part.content_location()),
                extensions: Vec::new(),
            }),
        }),
    })
}

/// A part too deep to follow, or past [`MAX_PARTS`]: its bytes, opaque.
fn opaque(body: &[u8], ext: bool) -> BodyStructure<'static> {
    BodyStructure::Single {
        body: Body {
            basic: BasicFields {
                parameter_list: Vec::new(),
                id: NString(None),
                description: NString(None),
                content_transfer_encoding: istring("7BIT"),
                size: body.len() as u32,
            },
            specific: SpecificFields::Basic {
                r#type: istring("APPLICATION"),
                subtype: istring("OCTET-STREAM"),
            },
        },
        extension_data: ext.then_some(SinglePartExtensionData {
            md5: NString(None),
            tail: None,
        }),
    }
}

/// The BODYSTRUCTURE of `part` at `depth` (0: the message). `shown` counts
/// the parts listed so far. Recursion stops at [`MAX_DEPTH`].
fn structure(
    m: &Message,
    part: &MessagePart,
    ext: bool,
    depth: usize,
    shown: &mut usize,
) -> BodyStructure<'static> {
    let ct = part.content_type();
    let body = cut(m, part.offset_body, part.offset_end);
    *shown += 1;
    let nests = matches!(part.body, PartType::Multipart(_) | PartType::Message(_));
    if nests && depth >= MAX_DEPTH {
        return opaque(body, ext);
    }
    if let PartType::Multipart(ids) = &part.body {
        let mut bodies: Vec<BodyStructure<'static>> = Vec::new();
        for p in ids.iter().filter_map(|id| m.parts.get(*id as usize)) {
            if *shown >= MAX_PARTS {
                break;
            }
            bodies.push(structure(m, p, ext, depth + 1, shown));
        }
        if let Ok(bodies) = Vec1::try_from(bodies) {
            let subtype = ct
                .and_then(|c| c.c_subtype.as_deref())
                .unwrap_or("mixed")
                .to_ascii_uppercase();
            return BodyStructure::Multi {
                bodies,
                subtype: istring(&subtype),
                extension_data: ext.then(|| MultiPartExtensionData {
                    parameter_list: params(ct),
                    tail: disposition(part),
                }),
            };
        }
        return text_plain(body, ext);
    }
    let (ty, sub) = match ct {
        Some(c) => (
            c.c_type.to_ascii_uppercase(),
            c.c_subtype
                .as_deref()
                .map(str::to_ascii_uppercase)
                .unwrap_or_else(|| "PLAIN".into()),
        ),
        None => ("TEXT".to_string(), "PLAIN".to_string()),
    };
    let mut parameter_list = params(ct);
    // RFC 2045 §5.2: text without a charset is US-ASCII.
    if ty == "TEXT"
        && !ct
            .and_then(|c| c.attributes.as_ref())
            .is_some_and(|a| a.iter().any(|a| a.name.eq_ignore_ascii_case("charset")))
    {
        parameter_list.push((istring("CHARSET"), istring("us-ascii")));
    }
    let basic = BasicFields {
        parameter_list,
        id: nstring(part.content_id().map(|s| format!("<{s}>")).as_deref()),
        description: nstring(part.content_description()),
        content_transfer_encoding: istring(
            &part
                .content_transfer_encoding()
                .unwrap_or("7bit")
                .to_ascii_uppercase(),
        ),
        size: body.len() as u32,
    };
    let specific = match &part.body {
        PartType::Message(inner) => SpecificFields::Message {
            envelope: Box::new(envelope(inner)),
            body_structure: Box::new(structure(inner, inner.root_part(), ext, depth + 1, shown)),
            number_of_lines: lines(body),
        },
        _ if ty == "TEXT" => SpecificFields::Text {
            subtype: istring(&sub),
            number_of_lines: lines(body),
        },
        _ => SpecificFields::Basic {
            r#type: istring(&ty),
            subtype: istring(&sub),
        },
    };
    BodyStructure::Single {
        body: Body { basic, specific },
        extension_data: ext.then(|| SinglePartExtensionData {
            md5: NString(None),
            tail: disposition(part),
        }),
    }
}

/// Lowercase text a SEARCH key is matched against: a header's values,
/// decoded; `None` when the message has no such header.
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
            _ => {
                let b = cut(m, h.offset_start, h.offset_end);
                out.push_str(&String::from_utf8_lossy(b));
            }
        }
        out.push(' ');
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
                    let p = Parsed::new(&raw);
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
    fn sections() {
        let p = Parsed::new(MIXED);
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
        let single = Parsed::new(b"Subject: x\r\n\r\nline\r\n");
        assert_eq!(single.section(&n(&[1]), What::All).unwrap(), b"line\r\n");
        assert!(body_text(&single).contains("line"));
    }
}
