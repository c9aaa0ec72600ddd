//! The mail-client services each stack offers, as published in DNS for
//! client autoconfiguration (RFC 6186 SRV records, RFC 8314 implicit TLS).
//! The one table the checks (names a spec may not claim), the DNS backend,
//! the server-config backends and `mailc import` agree on.

use super::{Domain, Service as Protocol, Stack};

/// One client service: its SRV owner label under the domain, its port, its
/// priority, and the access protocol a domain's `services` names it by.
/// RFC 8314 §5.1: implicit TLS is preferred, so it gets the lower (more
/// preferred) priority; RFC 6186 §3.4 lets clients compare priorities
/// across `_imap`/`_imaps`, `_pop3`/`_pop3s` and
/// `_submission`/`_submissions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Service {
    pub srv: &'static str,
    pub port: u16,
    pub priority: u16,
    pub protocol: Protocol,
}

/// Submission with implicit TLS (RFC 8314 §3.3).
pub const SUBMISSIONS: Service = Service {
    srv: "_submissions._tcp",
    port: 465,
    priority: 0,
    protocol: Protocol::Submission,
};
/// Submission with STARTTLS (RFC 6409).
pub const SUBMISSION: Service = Service {
    srv: "_submission._tcp",
    port: 587,
    priority: 10,
    protocol: Protocol::Submission,
};
/// IMAP with implicit TLS.
pub const IMAPS: Service = Service {
    srv: "_imaps._tcp",
    port: 993,
    priority: 0,
    protocol: Protocol::Imap,
};
/// IMAP with STARTTLS.
pub const IMAP: Service = Service {
    srv: "_imap._tcp",
    port: 143,
    priority: 10,
    protocol: Protocol::Imap,
};
/// POP3 with STLS (RFC 2595 §4).
pub const POP3: Service = Service {
    srv: "_pop3._tcp",
    port: 110,
    priority: 10,
    protocol: Protocol::Pop3,
};
/// POP3 with implicit TLS (RFC 8314 §3.3).
pub const POP3S: Service = Service {
    srv: "_pop3s._tcp",
    port: 995,
    priority: 0,
    protocol: Protocol::Pop3,
};

/// Every client service mailc publishes an SRV record for, in zone order.
pub const ALL: [Service; 6] = [SUBMISSIONS, SUBMISSION, IMAPS, IMAP, POP3, POP3S];

/// Whether `owner` (relative to the domain, e.g. `_imaps._tcp`) is the
/// owner of one of the client SRV records mailc publishes.
pub fn is_client_srv(owner: &str) -> bool {
    ALL.iter().any(|s| s.srv == owner)
}

/// Whether `stack` can serve `service`. Every stack serves submission,
/// IMAP and POP3, each with STARTTLS and with implicit TLS.
pub fn serves(stack: Stack, _service: Service) -> bool {
    match stack {
        Stack::PostfixDovecot | Stack::EximDovecot | Stack::Embedded => true,
    }
}

/// Whether a host of `stack` offers `service` to the mail clients of
/// `domain`: the stack serves it and the domain's `services` name it.
/// Anything else is published as "not offered" (RFC 6186 §4: target `.`).
pub fn offers(stack: Stack, domain: &Domain, service: Service) -> bool {
    serves(stack, service) && domain.offers(service.protocol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_reserved_names() {
        let mut names: Vec<&str> = ALL.iter().map(|s| s.srv).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "one SRV owner per service");
        assert!(is_client_srv("_imaps._tcp") && !is_client_srv("_smtp._tcp"));
        assert!(serves(Stack::PostfixDovecot, SUBMISSIONS));
    }
}
