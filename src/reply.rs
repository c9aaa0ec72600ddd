//! Every SMTP reply mailc gives or writes, one text each (RFC 5321 §4.2
//! codes, RFC 3463 enhanced status codes): `mailc route` explains with
//! them, the embedded server answers with them, and the Postfix and Exim
//! configs are written with them, so every stack refuses an address in the
//! same words.

/// A reply code and its enhanced status code: what a refusal means,
/// whatever words follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    pub code: u16,
    pub enhanced: &'static str,
}

impl Status {
    /// `CODE ENHANCED TEXT`: an SMTP reply, or a Postfix access-map action.
    pub fn reply(self, text: &str) -> String {
        format!("{} {} {text}", self.code, self.enhanced)
    }
}

/// An unknown recipient: bad destination mailbox address (RFC 3463 5.1.1).
pub const UNKNOWN: Status = Status {
    code: 550,
    enhanced: "5.1.1",
};

/// A domain with a null MX: RFC 7505 §4.2 asks for 556 and 5.1.10.
pub const NULL_MX: Status = Status {
    code: 556,
    enhanced: "5.1.10",
};

/// A domain whose mail service is off: delivery not authorized (RFC 3463
/// 5.7.1).
pub const MAIL_OFF: Status = Status {
    code: 550,
    enhanced: "5.7.1",
};

/// The words of an unknown recipient, as Postfix's own tables say them
/// (Postfix puts `<address>: Recipient address rejected:` before them).
pub const USER_UNKNOWN: &str = "User unknown in virtual mailbox table";

// ---- Routing verdicts: `mailc route`, the server, Postfix and Exim ----

/// RCPT of an address that is no mailbox or alias of ours and that no
/// catch-all or unknown-recipient policy takes.
pub fn unknown(address: &str) -> String {
    let (first, rest) = USER_UNKNOWN.split_at(1);
    UNKNOWN.reply(&format!(
        "<{address}>: recipient address rejected: {}{rest}",
        first.to_lowercase()
    ))
}

/// In a non-delivery report: a recipient accepted at RCPT that the
/// domain's `unknown_recipients: bounce` sends back.
pub fn unknown_bounced(address: &str) -> String {
    UNKNOWN.reply(&format!(
        "<{address}>: recipient address rejected: user unknown"
    ))
}

/// Why a domain publishing a null MX takes no mail (RFC 7505).
pub fn null_mx_reason(domain: &str) -> String {
    format!("domain {domain} does not accept mail (null MX)")
}

/// RCPT of an address in a domain with a null MX: RFC 7505 §4.2 asks for
/// 556 and the enhanced code 5.1.10.
pub fn null_mx(address: &str, domain: &str) -> String {
    NULL_MX.reply(&format!(
        "<{address}>: recipient address rejected: {}",
        null_mx_reason(domain)
    ))
}

/// Why a domain whose mail service is off (`mail: false`) takes no mail.
pub fn mail_off_reason(domain: &str) -> String {
    format!("mail service for {domain} is disabled")
}

/// RCPT of an address in a domain whose mail service is off.
pub fn mail_off(address: &str, domain: &str) -> String {
    MAIL_OFF.reply(&format!(
        "<{address}>: recipient address rejected: {}",
        mail_off_reason(domain)
    ))
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

/// RCPT to a domain not ours from a client that has not logged in (Exim's
/// config says 554, as Postfix's `relay_domains_reject_code`; the embedded
/// server 550).
pub fn relay_denied(code: u16, address: &str) -> String {
    format!("{code} 5.7.1 <{address}>: relay access denied")
}

/// MAIL before a login where one is required (RFC 4954 §6).
pub const AUTH_REQUIRED: &str = "530 5.7.0 authentication required";

/// The Exim config's refusal of an envelope sender the login may not use
/// (Exim expansions for the address and the login).
pub const EXIM_NOT_OWNED: &str =
    "553 5.7.1 <$sender_address>: sender address rejected: not owned by user $authenticated_id";

/// A sending count that cannot be written: the mail waits rather than pass
/// uncounted (the embedded server and the Postfix policy service).
pub const UNCOUNTED: &str = "451 4.3.0 sending limits cannot be counted, try again later";

/// The policy service without its table of limits.
pub const LIMITS_UNAVAILABLE: &str = "451 4.3.5 sending limits unavailable, try again later";

// ---- The embedded server's session (RFC 5321 §4.2, RFC 3463) ----

/// A plain success.
pub const OK: &str = "250 2.0.0 OK";
/// MAIL accepted.
pub const SENDER_OK: &str = "250 2.1.0 OK";
/// RCPT accepted.
pub const RECIPIENT_OK: &str = "250 2.1.5 OK";
/// QUIT.
pub const BYE: &str = "221 2.0.0 bye";
/// HELP.
pub const HELP: &str = "214 2.0.0 mailc: see RFC 5321 (https://www.rfc-editor.org/rfc/rfc5321)";
/// VRFY: never says whether a user exists (RFC 5321 §3.5.3).
pub const VRFY: &str = "252 2.5.2 cannot VRFY user, but will accept message and attempt delivery";
/// EXPN: lists are not shown.
pub const EXPN: &str = "502 5.5.1 EXPN not available";
/// A command smtp-proto knows that mailc does not offer.
pub const NOT_IMPLEMENTED: &str = "502 5.5.1 command not implemented";
/// A command line nobody knows.
pub const UNRECOGNIZED: &str = "500 5.5.1 command unrecognized";
/// A command line that does not parse.
pub const SYNTAX_ERROR: &str = "500 5.5.2 syntax error";
/// LHLO on an SMTP port.
pub const NOT_LMTP: &str = "500 5.5.1 this is SMTP, not LMTP";
/// A command line longer than RFC 5321 §4.5.3.1.4 allows.
pub const LINE_TOO_LONG: &str = "500 5.5.2 line too long";
/// A command line with a bare CR or LF.
pub const BARE_COMMAND: &str =
    "500 5.5.2 bare <CR> or <LF> received: every line ends in <CR><LF> (RFC 5321 §2.3.8)";
/// A message with a bare CR or LF (refused whole, never normalized: what
/// a sender means by one is not knowable, and passing one on is how SMTP
/// smuggling works).
pub const BARE_MESSAGE: &str = "554 5.6.0 message refused: a bare <CR> or <LF> in it; every line ends in <CR><LF> (RFC 5321 §2.3.8)";
/// MAIL or AUTH before a greeting.
pub const HELLO_FIRST: &str = "503 5.5.1 send HELO or EHLO first";
/// MAIL inside a transaction.
pub const NESTED_MAIL: &str = "503 5.5.1 nested MAIL command";
/// DATA or BDAT without MAIL.
pub const NEED_MAIL: &str = "503 5.5.1 need MAIL command";
/// RCPT without MAIL.
pub const NEED_MAIL_BEFORE_RCPT: &str = "503 5.5.1 need MAIL before RCPT";
/// DATA or BDAT LAST with no recipient accepted.
pub const NO_RECIPIENTS: &str = "554 5.5.1 no valid recipients";
/// DATA after BDAT in one transaction (RFC 3030 §3).
pub const DATA_AFTER_BDAT: &str = "503 5.5.1 DATA after BDAT";
/// A message over the size limit (RFC 1870 §6.2).
pub const TOO_BIG: &str = "552 5.3.4 message size exceeds fixed maximum message size";
/// RCPT past the recipients limit (RFC 5321 §4.5.3.1.8).
pub const TOO_MANY_RECIPIENTS: &str = "452 4.5.3 too many recipients";
/// A message that could not be made durable: nothing was acknowledged.
pub const DELIVERY_FAILED: &str = "451 4.3.0 error: local delivery failed, try again later";
/// STARTTLS accepted (RFC 3207).
pub const TLS_READY: &str = "220 2.0.0 ready to start TLS";
/// STARTTLS inside TLS.
pub const TLS_ACTIVE: &str = "554 5.5.1 TLS already active";
/// MAIL on submission before STARTTLS.
pub const TLS_FIRST: &str = "530 5.7.0 must issue a STARTTLS command first";
/// A null sender where the path needs a domain.
pub const POSTMASTER_SENDER: &str = "501 5.1.7 <postmaster>: a sender address needs a domain";
/// A sender address smtp-proto cannot parse.
pub const BAD_SENDER: &str = "501 5.1.7 bad sender address syntax";
/// AUTH where it is not offered.
pub const AUTH_NOT_HERE: &str = "502 5.5.1 AUTH is not available on this port; use submission";
/// AUTH before TLS (RFC 4954 §4).
pub const AUTH_NEEDS_TLS: &str =
    "538 5.7.11 encryption required for requested authentication mechanism";
/// AUTH twice (RFC 4954 §4).
pub const AUTH_TWICE: &str = "503 5.5.1 already authenticated";
/// AUTH inside a transaction (RFC 4954 §4).
pub const AUTH_IN_MAIL: &str = "503 5.5.1 AUTH not permitted during a mail transaction";
/// An AUTH PLAIN answer that is not base64 of three fields.
pub const AUTH_PLAIN_UNDECODABLE: &str = "501 5.5.2 cannot decode the AUTH PLAIN response";
/// An AUTH LOGIN answer that is not base64.
pub const AUTH_LOGIN_UNDECODABLE: &str = "501 5.5.2 cannot decode the AUTH LOGIN response";
/// A mechanism not offered.
pub const AUTH_MECHANISM: &str = "504 5.5.4 unrecognized authentication type";
/// A login that succeeded.
pub const AUTH_OK: &str = "235 2.7.0 authentication successful";
/// A login that failed (RFC 4954 §6).
pub const AUTH_FAILED: &str = "535 5.7.8 authentication credentials invalid";
/// `*` as a SASL answer (RFC 4954 §4).
pub const AUTH_CANCELLED: &str = "501 5.7.0 authentication cancelled";
/// AUTH from an address with too many recent failures (RFC 4954 §6: a
/// temporary failure).
pub const LOCKED: &str =
    "454 4.7.0 too many failed authentications from your address, try again later";
/// A message with more than one header From.
pub const MANY_FROMS: &str = "550 5.7.1 more than one header From (RFC 5322 §3.6 allows one)";

/// A command whose syntax smtp-proto explains.
pub fn syntax(what: &str) -> String {
    format!("501 5.5.4 syntax: {what}")
}

/// A MAIL or RCPT parameter with a bad value.
pub fn invalid_parameter(param: &str) -> String {
    format!("501 5.5.4 invalid parameter {param}")
}

/// A MAIL or RCPT parameter mailc does not offer (RFC 5321 §4.5.3.1.1 555).
pub fn unsupported_parameter(param: &str) -> String {
    format!("555 5.5.4 unsupported parameter {param}")
}

/// A sender path that is not an address, and why.
pub fn bad_sender(reason: &str) -> String {
    format!("501 5.1.7 {reason}")
}

/// A recipient path that is not an address, and why (with the address
/// when there is one).
pub fn bad_recipient(address: Option<&str>, reason: &str) -> String {
    match address {
        Some(a) => format!("501 5.1.3 <{a}>: {reason}"),
        None => format!("501 5.1.3 {reason}"),
    }
}

/// An envelope sender the login may not use.
pub fn sender_not_owned(address: &str, user: &str) -> String {
    format!("553 5.7.1 <{address}>: sender address not owned by user {user}")
}

/// A header From the login may not use.
pub fn from_not_owned(what: &str, user: &str) -> String {
    format!("550 5.7.1 {what}: header From not owned by user {user}")
}

/// A recipient whose mail rules reject the message, with their words.
pub fn rule_reject(address: &str, text: &str) -> String {
    format!("550 5.7.1 <{address}>: {text}")
}

/// A temporary failure at RCPT, and why.
pub fn try_later(why: &str) -> String {
    format!("451 4.3.0 {why}")
}

/// BDAT or DATA taken in.
pub fn octets_received(size: usize) -> String {
    format!("250 2.0.0 {size} octets received")
}

/// A message accepted, under its queue id.
pub fn queued(id: &str) -> String {
    format!("250 2.0.0 OK: queued as {id}")
}

/// A connection refused at the door; `whose` names the pool that is full.
pub fn too_many_connections(host: &str, whose: &str) -> String {
    format!("421 4.7.0 {host} too many connections{whose}, try again later")
}

/// The server closes the session (RFC 5321 §3.8), and why: `service
/// shutting down` (4.3.2), `timeout exceeded` (4.4.2), `too many errors`…
pub fn closing(host: &str, status: &str, why: &str) -> String {
    format!("421 {status} {host} {why}, closing transmission channel")
}

// ---- The queue's own outcomes, as its non-delivery reports give them ----

/// A sender address the queue cannot write in SMTP (RFC 5321 §4.1.2).
pub const UNWRITABLE_SENDER: &str = "553 5.1.7 the sender address cannot be written in SMTP";
/// A recipient address the queue cannot write in SMTP (RFC 5321 §4.1.2).
pub const UNWRITABLE_RECIPIENT: &str = "553 5.1.3 the recipient address cannot be written in SMTP";

/// A recipient the domain's rules or policy drop: accepted and discarded.
pub const DISCARDED: &str = "250 2.0.0 discarded";

/// A destination domain that does not exist: bad destination system
/// (RFC 3463 5.1.2).
pub fn no_such_domain(domain: &str) -> String {
    format!("550 5.1.2 domain {domain} does not exist")
}
/// A destination domain with no MX and no address (RFC 5321 §5.1).
pub fn no_mail_server(domain: &str) -> String {
    format!("550 5.1.2 domain {domain} has no mail server")
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
