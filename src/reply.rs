//! The SMTP replies of mailc's routing verdicts, one text each: `mailc
//! route` explains with them, the embedded server answers with them, and the
//! Postfix and Exim configs are written with them, so every stack refuses an
//! address in the same words.

/// RCPT of an address that is no mailbox or alias of ours and that no
/// catch-all or unknown-recipient policy takes.
pub fn unknown(address: &str) -> String {
    format!(
        "550 5.1.1 <{address}>: recipient address rejected: user unknown in virtual mailbox table"
    )
}

/// Why a domain publishing a null MX takes no mail (RFC 7505).
pub fn null_mx_reason(domain: &str) -> String {
    format!("domain {domain} does not accept mail (null MX)")
}

/// RCPT of an address in a domain with a null MX: RFC 7505 §4.2 asks for
/// 556 and the enhanced code 5.1.10.
pub fn null_mx(address: &str, domain: &str) -> String {
    format!(
        "556 5.1.10 <{address}>: recipient address rejected: {}",
        null_mx_reason(domain)
    )
}

/// Why a domain whose mail service is off (`mail: false`) takes no mail.
pub fn mail_off_reason(domain: &str) -> String {
    format!("mail service for {domain} is disabled")
}

/// The status of [`mail_off`]: delivery not authorized (RFC 3463 5.7.1).
pub const MAIL_OFF_STATUS: &str = "550 5.7.1";

/// RCPT of an address in a domain whose mail service is off.
pub fn mail_off(address: &str, domain: &str) -> String {
    format!(
        "{MAIL_OFF_STATUS} <{address}>: recipient address rejected: {}",
        mail_off_reason(domain)
    )
}

/// RCPT of something that is not an address (RFC 3463 5.1.3), with the text
/// as it came when there is one.
pub fn bad_syntax(address: Option<&str>) -> String {
    match address {
        Some(a) => format!("501 5.1.3 <{a}>: bad recipient address syntax"),
        None => "501 5.1.3 bad recipient address syntax".to_string(),
    }
}

/// MAIL or RCPT of a login at a sending limit (RFC 3463 §3.8: X.7.1,
/// delivery not authorized; 450: try again later): `limit` `kind`
/// (`messages`, `recipients`) per hour, its mailbox's or, with `domain`,
/// its domain's. The Exim config passes expansions for the values.
pub fn send_limit(login: &str, kind: &str, limit: &str, domain: Option<&str>) -> String {
    let whose = match domain {
        None => "this mailbox".to_string(),
        Some(d) => format!("the domain {d}"),
    };
    format!(
        "450 4.7.1 <{login}>: sending limit reached: {limit} {kind} per hour for {whose}; try again later"
    )
}

/// A recipient whose mailbox is over its quota (RFC 5321 §4.2.2: 552,
/// storage allocation exceeded; RFC 3463 5.2.2, mailbox full): at RCPT
/// when nobody could take the message, in a bounce otherwise.
pub fn mailbox_full(address: &str) -> String {
    format!("552 5.2.2 <{address}>: mailbox full")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_texts_route_and_every_stack_share() {
        assert_eq!(
            unknown("x@example.com"),
            "550 5.1.1 <x@example.com>: recipient address rejected: user unknown in virtual mailbox table"
        );
        assert_eq!(
            null_mx("x@example.com", "example.com"),
            "556 5.1.10 <x@example.com>: recipient address rejected: domain example.com does not accept mail (null MX)"
        );
        assert_eq!(
            mail_off("x@example.com", "example.com"),
            "550 5.7.1 <x@example.com>: recipient address rejected: mail service for example.com is disabled"
        );
        assert_eq!(
            bad_syntax(Some("a b")),
            "501 5.1.3 <a b>: bad recipient address syntax"
        );
        assert_eq!(bad_syntax(None), "501 5.1.3 bad recipient address syntax");
    }
}
