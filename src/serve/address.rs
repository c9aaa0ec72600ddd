//! Envelope addresses as SMTP writes them (RFC 5321 §4.1.2, with RFC 6531's
//! UTF-8): the one parser of the paths of `MAIL FROM` and `RCPT TO`, and the
//! one writer of every address that leaves the server again (an outbound
//! `MAIL`/`RCPT`, `Return-Path:`, `Received: … for`, a report's recipient).
//!
//! Inside the server an address is kept in its *internal form*: the local
//! part with its quotes and quoted pairs resolved, `@`, the domain — the
//! form Postfix keeps too. The domain never holds `@`, so the last `@`
//! splits the two. Everything that can be in an internal local part can be
//! written back ([`external`]): a parsed address never holds a control
//! character, NUL, CR or LF, so nothing a client sends can come out as a
//! second command, a header line or a parameter.

use std::borrow::Cow;

/// RFC 5321 §4.5.3.1.1: at most 64 octets in a local part.
pub const MAX_LOCAL: usize = 64;
/// RFC 5321 §4.5.3.1.2: at most 255 octets in a domain.
pub const MAX_DOMAIN: usize = 255;
/// RFC 5321 §4.5.3.1.3: at most 256 octets in a path, brackets included.
pub const MAX_PATH: usize = 256;

/// What a `MAIL FROM` / `RCPT TO` path says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Path {
    /// `<>`: the null reverse path (bounces).
    Null,
    /// `<Postmaster>` with no domain (RFC 5321 §4.5.1), any case.
    Postmaster,
    /// An address, in internal form (`local@domain`, local unquoted).
    Mailbox(String),
}

/// Why a path was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// Not `<…>`, or no path at all.
    Syntax,
    /// A control character, NUL, CR or LF, or bytes that are not UTF-8.
    Control,
    /// Longer than RFC 5321 §4.5.3.1 allows.
    TooLong,
    /// An address literal (`user@[192.0.2.1]`) where a domain is needed.
    Literal,
}

impl PathError {
    /// The reply text after the codes.
    pub fn reason(self) -> &'static str {
        match self {
            PathError::Syntax => "bad address syntax",
            PathError::Control => "control characters are not allowed in an address",
            PathError::TooLong => "address too long",
            PathError::Literal => "address literals are not accepted here",
        }
    }
}

/// RFC 5322 atext, and RFC 6531's UTF-8 beyond ASCII.
fn atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

/// Whether a local part can be written without quotes (RFC 5321
/// Dot-string: atoms of atext joined by single dots).
pub fn is_dot_string(local: &str) -> bool {
    !local.is_empty()
        && local
            .split('.')
            .all(|a| !a.is_empty() && a.chars().all(atext))
}

/// RFC 5321 qtextSMTP / quoted-pairSMTP: what may stand inside quotes.
fn quotable(c: char) -> bool {
    (' '..='~').contains(&c) || !c.is_ascii()
}

/// A local part as SMTP writes it: as is when it is a Dot-string, else
/// quoted with `"` and `\` escaped. `None` when it holds something no
/// quoted string can carry (a control character): such an address must
/// not leave.
pub fn quote_local(local: &str) -> Option<Cow<'_, str>> {
    if is_dot_string(local) {
        return Some(Cow::Borrowed(local));
    }
    if local.is_empty() || !local.chars().all(quotable) {
        return None;
    }
    let mut out = String::with_capacity(local.len() + 4);
    out.push('"');
    for c in local.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Some(Cow::Owned(out))
}

/// An internal-form address as SMTP writes it (without the brackets); the
/// null path stays empty. `None` when it cannot be written safely.
pub fn external(address: &str) -> Option<Cow<'_, str>> {
    if address.is_empty() {
        return Some(Cow::Borrowed(""));
    }
    let (local, domain) = address.rsplit_once('@')?;
    if domain.is_empty() || !domain_ok(domain, true) {
        return None;
    }
    match quote_local(local)? {
        Cow::Borrowed(_) => Some(Cow::Borrowed(address)),
        Cow::Owned(q) => Some(Cow::Owned(format!("{q}@{domain}"))),
    }
}

/// [`external`] for texts that only report an address (replies, reports,
/// logs): never fails, anything unwritable is replaced by `?`.
pub fn display(address: &str) -> Cow<'_, str> {
    match external(address) {
        Some(a) => a,
        None => Cow::Owned(
            address
                .chars()
                .map(|c| if quotable(c) { c } else { '?' })
                .collect(),
        ),
    }
}

/// A domain (LDH labels, or UTF-8 ones under RFC 6531), or with
/// `literal`, an address literal `[…]` (RFC 5321 §4.1.3).
fn domain_ok(d: &str, literal: bool) -> bool {
    if d.len() > MAX_DOMAIN {
        return false;
    }
    if let Some(inner) = d.strip_prefix('[') {
        // dcontent: printable ASCII but `[`, `\`, `]`.
        return literal
            && inner.strip_suffix(']').is_some_and(|x| {
                !x.is_empty() && x.bytes().all(|b| matches!(b, 33..=90 | 94..=126))
            });
    }
    let d = d.strip_suffix('.').unwrap_or(d);
    !d.is_empty()
        && d.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
        })
}

/// Parses the path at the start of `arg` (what follows `MAIL FROM:` or
/// `RCPT TO:`, leading blanks allowed): `<…>`, or a bare address up to the
/// first blank as lenient servers take it. Returns the path and the rest of
/// the line (the parameters). A source route (`<@a,@b:user@c>`) is dropped
/// (RFC 5321 §4.1.2, §C).
pub fn parse_path(arg: &[u8]) -> Result<(Path, &[u8]), PathError> {
    let arg = trim_start(arg);
    let (inner, rest) = match arg.first() {
        Some(b'<') => {
            let end = closing(&arg[1..]).ok_or(PathError::Syntax)?;
            (&arg[1..1 + end], &arg[2 + end..])
        }
        Some(_) => {
            let end = arg
                .iter()
                .position(|&b| b == b' ' || b == b'\t' || b == b'\r' || b == b'\n')
                .unwrap_or(arg.len());
            (&arg[..end], &arg[end..])
        }
        None => return Err(PathError::Syntax),
    };
    if inner.len() + 2 > MAX_PATH {
        return Err(PathError::TooLong);
    }
    let text = std::str::from_utf8(inner).map_err(|_| PathError::Control)?;
    if text.chars().any(|c| c.is_control()) {
        return Err(PathError::Control);
    }
    let text = text.trim_matches(' ');
    if text.is_empty() {
        return Ok((Path::Null, rest));
    }
    if text.eq_ignore_ascii_case("postmaster") {
        return Ok((Path::Postmaster, rest));
    }
    // RFC 5321 §4.1.2: A-d-l ":" before the mailbox (a source route).
    let text = match text.strip_prefix('@') {
        Some(_) => {
            let colon = route_end(text).ok_or(PathError::Syntax)?;
            &text[colon + 1..]
        }
        None => text,
    };
    mailbox(text).map(|m| (Path::Mailbox(m), rest))
}

/// The index of the `>` that closes a path, skipping quoted strings.
fn closing(s: &[u8]) -> Option<usize> {
    let mut quoted = false;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b'>' if !quoted => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The `:` that ends a source route `@a,@b:`, checking its domains.
fn route_end(text: &str) -> Option<usize> {
    let colon = text.find(':')?;
    let ok = text[..colon]
        .split(',')
        .all(|d| d.strip_prefix('@').is_some_and(|d| domain_ok(d, true)));
    ok.then_some(colon)
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| **c == b' ' || **c == b'\t').count();
    &b[n..]
}

/// `Local-part "@" ( Domain / address-literal )` → internal form.
fn mailbox(text: &str) -> Result<String, PathError> {
    let (local, domain) = if let Some(quoted) = text.strip_prefix('"') {
        // Quoted-string: qtextSMTP and quoted pairs up to the closing quote.
        let mut local = String::new();
        let mut chars = quoted.char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    end = Some(i);
                    break;
                }
                '\\' => match chars.next() {
                    Some((_, q)) if quotable(q) => local.push(q),
                    _ => return Err(PathError::Syntax),
                },
                c if quotable(c) => local.push(c),
                _ => return Err(PathError::Syntax),
            }
        }
        let end = end.ok_or(PathError::Syntax)?;
        let after = &quoted[end + 1..];
        let domain = after.strip_prefix('@').ok_or(PathError::Syntax)?;
        (local, domain)
    } else {
        let (local, domain) = text.split_once('@').ok_or(PathError::Syntax)?;
        if !is_dot_string(local) {
            return Err(PathError::Syntax);
        }
        (local.to_string(), domain)
    };
    if local.is_empty() {
        return Err(PathError::Syntax);
    }
    if local.len() > MAX_LOCAL {
        return Err(PathError::TooLong);
    }
    if domain.len() > MAX_DOMAIN {
        return Err(PathError::TooLong);
    }
    if !domain_ok(domain, true) {
        return Err(PathError::Syntax);
    }
    Ok(format!("{local}@{domain}"))
}

/// Whether an internal-form address has an address literal for a domain.
pub fn is_literal(address: &str) -> bool {
    address
        .rsplit_once('@')
        .is_some_and(|(_, d)| d.starts_with('['))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> Result<Path, PathError> {
        parse_path(s.as_bytes()).map(|(p, _)| p)
    }

    fn mb(s: &str) -> Path {
        Path::Mailbox(s.to_string())
    }

    #[test]
    fn paths() {
        assert_eq!(path("<a@b.example>"), Ok(mb("a@b.example")));
        assert_eq!(
            path("  <a.b+c@b.example> SIZE=5"),
            Ok(mb("a.b+c@b.example"))
        );
        assert_eq!(path("<>"), Ok(Path::Null));
        assert_eq!(path("<PostMaster>"), Ok(Path::Postmaster));
        assert_eq!(
            path("<@r1.example,@r2.example:a@b.example>"),
            Ok(mb("a@b.example"))
        );
        assert_eq!(path("a@b.example"), Ok(mb("a@b.example")));
        assert_eq!(path("<\"a b\"@b.example>"), Ok(mb("a b@b.example")));
        assert_eq!(path("<\"a\\\"b\"@b.example>"), Ok(mb("a\"b@b.example")));
        assert_eq!(path("<a@[192.0.2.1]>"), Ok(mb("a@[192.0.2.1]")));
        assert_eq!(path("<ü@bücher.example>"), Ok(mb("ü@bücher.example")));
        let (p, rest) = parse_path(b"<\"x> y\"@b.example> SIZE=1").unwrap();
        assert_eq!(p, mb("x> y@b.example"));
        assert_eq!(rest, b" SIZE=1");
    }

    #[test]
    fn refusals() {
        for (bad, why) in [
            ("<a\0@b.example>", PathError::Control),
            ("<\"a\0\"@b.example>", PathError::Control),
            ("<\"a\rb\"@b.example>", PathError::Control),
            ("<a\x1b@b.example>", PathError::Control),
            ("<a@b.example", PathError::Syntax),
            ("<a b@b.example>", PathError::Syntax),
            ("<a..b@b.example>", PathError::Syntax),
            ("<.a@b.example>", PathError::Syntax),
            ("<\"\"@b.example>", PathError::Syntax),
            ("<a@>", PathError::Syntax),
            ("<a@b_c.example>", PathError::Syntax),
            ("<a@-b.example>", PathError::Syntax),
            ("<a>", PathError::Syntax),
            ("<\"a\"x@b.example>", PathError::Syntax),
            ("<a@b.example@c.example>", PathError::Syntax),
            ("", PathError::Syntax),
        ] {
            assert_eq!(path(bad), Err(why), "{bad:?}");
        }
        let long = format!("<{}@b.example>", "a".repeat(65));
        assert_eq!(path(&long), Err(PathError::TooLong));
        assert_eq!(parse_path(b"<\xff@b.example>"), Err(PathError::Control));
    }

    #[test]
    fn written_back_quoted() {
        assert_eq!(external("a.b@x.example").unwrap(), "a.b@x.example");
        assert_eq!(external("").unwrap(), "");
        assert_eq!(
            external("victim@gmail.com> ORCPT=rfc822;x@relay.test").unwrap(),
            "\"victim@gmail.com> ORCPT=rfc822;x\"@relay.test"
        );
        assert_eq!(
            external("a\"b\\c@x.example").unwrap(),
            "\"a\\\"b\\\\c\"@x.example"
        );
        assert_eq!(external("a b@x.example").unwrap(), "\"a b\"@x.example");
        assert_eq!(external("a\0b@x.example"), None);
        assert_eq!(external("a\r\nRCPT TO:<v@x>@x.example"), None);
        assert_eq!(external("a@x.example\r\n"), None);
        assert_eq!(display("a\0b@x.example"), "a?b@x.example");
        // What is parsed is written back to the same path.
        for s in [
            "<\"victim@gmail.com> ORCPT=rfc822;x\"@relay.test>",
            "<\"a\\\\b\"@x.example>",
            "<plain.one@x.example>",
        ] {
            let Ok((Path::Mailbox(m), _)) = parse_path(s.as_bytes()) else {
                panic!("{s}")
            };
            assert_eq!(format!("<{}>", external(&m).unwrap()), s);
        }
    }
}
