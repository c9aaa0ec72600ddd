//! ENVELOPE and BODYSTRUCTURE (RFC 3501 §7.4.2) of a parsed message
//! ([`Parsed`]), within the bounds [`super::message`] sets on a message's
//! shape: at most [`MAX_PARTS`] parts, nested no deeper than
//! [`MAX_DEPTH`].

use imap_types::body::{
    BasicFields, Body, BodyStructure, Disposition, Language, Location, MultiPartExtensionData,
    SinglePartExtensionData, SpecificFields,
};
use imap_types::core::{IString, NString, Vec1};
use imap_types::envelope::{Address, Envelope};
use mail_parser::{HeaderValue, Message, MessagePart, MimeHeaders, PartType};

use super::message::{MAX_DEPTH, MAX_PARTS, Parsed, span};

impl Parsed<'_> {
    pub fn envelope(&self) -> Envelope<'static> {
        match &self.msg {
            Some(m) => envelope(m),
            None => empty_envelope(),
        }
    }

    pub fn body_structure(&self, ext: bool) -> BodyStructure<'static> {
        match &self.msg {
            Some(m) => structure(&LineEnds::new(self.raw), m, m.root_part(), ext, 0, &mut 0),
            None => text_plain(self.text(), ext),
        }
    }
}

/// Where the lines of a message end, found once: BODYSTRUCTURE counts the
/// lines of every nested part, and counting each part's bytes again would
/// cost its size times its depth.
struct LineEnds<'r> {
    raw: &'r [u8],
    at: Vec<u32>,
}

impl<'r> LineEnds<'r> {
    fn new(raw: &'r [u8]) -> LineEnds<'r> {
        let at = raw
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .map(|(i, _)| i as u32)
            .collect();
        LineEnds { raw, at }
    }

    /// What [`lines`] says of `raw[r]`.
    fn count(&self, r: std::ops::Range<usize>) -> u32 {
        let before = |x: usize| self.at.partition_point(|&p| (p as usize) < x);
        let n = before(r.end) - before(r.start);
        let tail = usize::from(r.end > r.start && self.raw[r.end - 1] != b'\n');
        (n + tail) as u32
    }
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
                    // A member without an address (only a comment, as in
                    // `group: (foo) ;`) is no mailbox: left out.
                    out.extend(g.addresses.iter().filter(|a| a.address.is_some()).map(one));
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
    lines_of: &LineEnds,
    m: &Message,
    part: &MessagePart,
    ext: bool,
    depth: usize,
    shown: &mut usize,
) -> BodyStructure<'static> {
    let ct = part.content_type();
    let raw = lines_of.raw;
    let range = span(raw.len(), m, part.offset_body, part.offset_end);
    let body = &raw[range.clone()];
    let body_lines = lines_of.count(range);
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
            bodies.push(structure(lines_of, m, p, ext, depth + 1, shown));
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
            body_structure: Box::new(structure(
                lines_of,
                inner,
                inner.root_part(),
                ext,
                depth + 1,
                shown,
            )),
            number_of_lines: body_lines,
        },
        _ if ty == "TEXT" => SpecificFields::Text {
            subtype: istring(&sub),
            number_of_lines: body_lines,
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
