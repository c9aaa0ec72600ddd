//! The mail-client services each stack offers, as published in DNS for
//! client autoconfiguration (RFC 6186 SRV records, RFC 8314 implicit TLS).
//! The one table the DNS backend and the server-config backends agree on.

use crate::model::Stack;

/// One client service: its SRV owner label under the domain, its port, and
/// its priority. RFC 8314 §5.1: implicit TLS is preferred, so it gets the
/// lower (more preferred) priority; RFC 6186 §3.4 lets clients compare
/// priorities across `_imap`/`_imaps` and `_submission`/`_submissions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Service {
    pub srv: &'static str,
    pub port: u16,
    pub priority: u16,
}

/// Submission with implicit TLS (RFC 8314 §3.3).
pub const SUBMISSIONS: Service = Service {
    srv: "_submissions._tcp",
    port: 465,
    priority: 0,
};
/// Submission with STARTTLS (RFC 6409).
pub const SUBMISSION: Service = Service {
    srv: "_submission._tcp",
    port: 587,
    priority: 10,
};
/// IMAP with implicit TLS.
pub const IMAPS: Service = Service {
    srv: "_imaps._tcp",
    port: 993,
    priority: 0,
};
/// IMAP with STARTTLS.
pub const IMAP: Service = Service {
    srv: "_imap._tcp",
    port: 143,
    priority: 10,
};
/// POP3: no stack of mailc serves it.
pub const POP3: Service = Service {
    srv: "_pop3._tcp",
    port: 110,
    priority: 0,
};
pub const POP3S: Service = Service {
    srv: "_pop3s._tcp",
    port: 995,
    priority: 0,
};

/// Every client service mailc publishes an SRV record for, in zone order.
pub const ALL: [Service; 6] = [SUBMISSIONS, SUBMISSION, IMAPS, IMAP, POP3, POP3S];

/// Whether `stack` serves `service`. Every stack serves submission and IMAP,
/// each with STARTTLS and with implicit TLS; none serves POP3, which is
/// published as "not offered" (RFC 6186 §4: target `.`).
pub fn offers(stack: Stack, service: Service) -> bool {
    match stack {
        Stack::PostfixDovecot | Stack::EximDovecot | Stack::Embedded => {
            !matches!(service.srv, "_pop3._tcp" | "_pop3s._tcp")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_reserved_names() {
        let names: Vec<&str> = ALL.iter().map(|s| s.srv).collect();
        let mut reserved = crate::validate::records::CLIENT_SRV.to_vec();
        let mut ours = names.clone();
        reserved.sort_unstable();
        ours.sort_unstable();
        assert_eq!(ours, reserved);
        assert!(!offers(Stack::Embedded, POP3));
        assert!(offers(Stack::PostfixDovecot, SUBMISSIONS));
    }
}
