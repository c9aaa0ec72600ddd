//! Non-delivery reports (RFC 3464 delivery status notifications, in the
//! RFC 6522 `multipart/report` container): a note for people, the
//! machine-readable `message/delivery-status`, and the returned message's
//! header (`text/rfc822-headers`, RFC 6522 §4), built with mail-builder.

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;

/// Printable ASCII only: reasons come from other servers, and end up in
/// header-like fields.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect::<String>()
        .trim()
        .to_string()
}

/// The enhanced status code (RFC 3463) in a reply such as `550 5.1.1 …`,
/// else one made from the basic code's class.
pub fn status_of(reason: &str) -> String {
    let mut words = reason.split_whitespace();
    let first = words.next().unwrap_or("");
    let second = words.next().unwrap_or("");
    for w in [second, first] {
        let parts: Vec<&str> = w.split('.').collect();
        if parts.len() == 3
            && matches!(parts[0], "2" | "4" | "5")
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
        {
            return w.to_string();
        }
    }
    match first.as_bytes().first() {
        Some(b'4') => "4.0.0".into(),
        _ => "5.0.0".into(),
    }
}

/// The header of a message: everything before the first empty line.
fn header_of(message: &[u8]) -> &[u8] {
    for (i, w) in message.windows(4).enumerate() {
        if w == b"\r\n\r\n" {
            return &message[..i + 2];
        }
    }
    for (i, w) in message.windows(2).enumerate() {
        if w == b"\n\n" {
            return &message[..i + 1];
        }
    }
    message
}

/// CRLF line ends throughout.
fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 64);
    let mut prev = 0u8;
    for &b in bytes {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The report to `sender` about `failed` (address, reason) of `original`.
pub fn build(
    hostname: &str,
    sender: &str,
    failed: &[(String, String)],
    original: &[u8],
    now: i64,
) -> std::io::Result<Vec<u8>> {
    let host = clean(hostname);
    let mut human = format!(
        "This is the mail system at host {host}.\r\n\r\n\
         Your message could not be delivered to one or more recipients.\r\n\
         The reasons are given below; the header of your message is attached.\r\n\r\n"
    );
    let mut status = format!("Reporting-MTA: dns; {host}\r\n");
    for (addr, reason) in failed {
        let (addr, reason) = (clean(&crate::serve::address::display(addr)), clean(reason));
        human.push_str(&format!("<{addr}>: {reason}\r\n"));
        let code = status_of(&reason);
        // A reply from the remote server is an SMTP diagnostic; our own
        // reasons (DNS, expiry) are not.
        let diag = if reason.len() > 3
            && reason.as_bytes()[..3].iter().all(u8::is_ascii_digit)
            && matches!(reason.as_bytes()[3], b' ' | b'-')
        {
            format!("smtp; {reason}")
        } else {
            format!("X-mailc; {reason}")
        };
        status.push_str(&format!(
            "\r\nFinal-Recipient: rfc822; {addr}\r\nAction: failed\r\nStatus: {code}\r\nDiagnostic-Code: {diag}\r\n"
        ));
    }
    let headers = crlf(header_of(original));
    let eight_bit = headers.iter().any(|b| *b >= 0x80);
    let id = format!("{:x}.{:x}@{host}", now, random_u64().unwrap_or(now as u64));
    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "delivery-status"),
        vec![
            MimePart::new(
                ContentType::new("text/plain").attribute("charset", "us-ascii"),
                human,
            )
            .header("Content-Description", Raw::new("Notification"))
            .transfer_encoding("7bit"),
            MimePart::new("message/delivery-status", status.into_bytes())
                .header("Content-Description", Raw::new("Delivery report"))
                .transfer_encoding("7bit"),
            MimePart::new("text/rfc822-headers", headers)
                .header(
                    "Content-Description",
                    Raw::new("Undelivered message headers"),
                )
                .transfer_encoding(if eight_bit { "8bit" } else { "7bit" }),
        ],
    );
    MessageBuilder::new()
        .from(Address::new_address(
            Some("Mail Delivery System"),
            format!("MAILER-DAEMON@{host}"),
        ))
        .to(Address::new_address(
            None::<&str>,
            crate::serve::address::display(sender).into_owned(),
        ))
        .subject("Undelivered Mail Returned to Sender")
        .message_id(MessageId::new(id))
        .date(now)
        // RFC 3834 §5: an automatic reply; nobody should answer it.
        .header("Auto-Submitted", Raw::new("auto-replied"))
        .body(report)
        .write_to_vec()
}

fn random_u64() -> Option<u64> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).ok()?;
    Some(u64::from_le_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes() {
        assert_eq!(status_of("550 5.1.1 <x>: user unknown"), "5.1.1");
        assert_eq!(status_of("552 message too big"), "5.0.0");
        assert_eq!(status_of("4.4.7 delivery time expired"), "4.4.7");
        assert_eq!(status_of("no such domain"), "5.0.0");
    }

    #[test]
    fn report_has_the_three_parts() {
        let original = b"From: a@example.com\r\nSubject: hello\r\n\r\nbody text\r\n";
        let out = build(
            "mx.example.com",
            "a@example.com",
            &[(
                "b@example.net".into(),
                "550 5.1.1 <b@example.net>: no such user\r\nInjected: x".into(),
            )],
            original,
            1_700_000_000,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("multipart/report"), "{text}");
        assert!(
            text.contains("report-type=\"delivery-status\"")
                || text.contains("report-type=delivery-status"),
            "{text}"
        );
        assert!(
            text.contains("Content-Type: message/delivery-status"),
            "{text}"
        );
        assert!(
            text.contains("Final-Recipient: rfc822; b@example.net\r\n"),
            "{text}"
        );
        assert!(text.contains("Status: 5.1.1\r\n"), "{text}");
        assert!(text.contains("Diagnostic-Code: smtp; 550 5.1.1"), "{text}");
        assert!(text.contains("Content-Type: text/rfc822-headers"), "{text}");
        assert!(text.contains("Subject: hello\r\n"), "{text}");
        assert!(!text.contains("body text"), "{text}");
        assert!(!text.contains("\r\nInjected: x"), "{text}");
        assert!(text.contains("Auto-Submitted: auto-replied"), "{text}");
        let parsed = mail_parser::MessageParser::default()
            .parse(text.as_bytes())
            .unwrap();
        assert_eq!(
            parsed.subject(),
            Some("Undelivered Mail Returned to Sender")
        );
        assert_eq!(parsed.parts.len(), 4);
    }
}
