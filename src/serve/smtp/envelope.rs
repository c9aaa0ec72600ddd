//! MAIL and RCPT on an SMTP session: who may send from which address, and
//! each recipient decided at RCPT ([`decision::decide`]) with
//! the SRS return path, the sending limits and the quota looked at there.

use smtp_proto::MailFrom;

use super::command::{bracketed, path_of};
use super::deliver::{Recipient, Route};
use super::{Session, Transaction};
use crate::manifest::SendKind;
use crate::reply;
use crate::serve::address::{self, Path, PathError};
use crate::serve::decision::{self, Decision};

impl Session {
    pub(super) async fn mail(&mut self, from: MailFrom<String>, line: &[u8]) {
        let limits = &self.shared.manifest.limits;
        if self.helo.is_none() {
            return self.error(reply::HELLO_FIRST);
        }
        if self.tx.is_some() {
            return self.error(reply::NESTED_MAIL);
        }
        if self.service.is_submission() && self.user.is_none() {
            if !self.auth_offered() {
                // RFC 3207 §4: no AUTH in the clear off loopback.
                return self.error(reply::TLS_FIRST);
            }
            return self.error(reply::AUTH_REQUIRED);
        }
        if from.size as u64 > limits.message_size {
            return self.error(reply::TOO_BIG);
        }
        // smtp-proto has read the parameters; the path is read again here,
        // keeping what its quotes held, and anything that could not be
        // written back safely is refused now.
        let address = match path_of(line) {
            Ok(Path::Null) => String::new(),
            Ok(Path::Mailbox(a)) => a,
            Ok(Path::Postmaster) => {
                return self.error(reply::POSTMASTER_SENDER);
            }
            Err(e) => return self.error(&reply::bad_sender(e.reason())),
        };
        if let Some(user) = &self.user
            && self.service.is_submission()
        {
            let owned = decision::normalize(&address)
                .map(|(l, d)| format!("{l}@{d}"))
                .is_some_and(|a| {
                    self.shared
                        .manifest
                        .users
                        .get(user)
                        .is_some_and(|u| u.send_as.contains(&a))
                });
            if !owned {
                return self.error(&reply::sender_not_owned(&address::display(&address), user));
            }
            if let Err(reply) = self.count(SendKind::Messages).await {
                return self.error(&reply);
            }
        }
        self.tx = Some(Transaction {
            from: address,
            rcpts: Vec::new(),
            size: from.size as u64,
            chunks: None,
            too_big: false,
        });
        self.conn.reply(reply::SENDER_OK);
    }

    pub(super) async fn rcpt(&mut self, line: &[u8]) {
        let max = self.shared.manifest.limits.recipients as usize;
        let Some(tx) = &self.tx else {
            return self.error(reply::NEED_MAIL_BEFORE_RCPT);
        };
        if tx.rcpts.len() >= max {
            return self.error(reply::TOO_MANY_RECIPIENTS);
        }
        let size = tx.size.max(1);
        let bounce = tx.from.is_empty();
        let address = match path_of(line) {
            Ok(Path::Mailbox(a)) if address::is_literal(&a) => {
                return self.error(&reply::bad_recipient(
                    Some(&address::display(&a)),
                    PathError::Literal.reason(),
                ));
            }
            Ok(Path::Mailbox(a)) => a,
            Ok(Path::Postmaster) => match decision::postmaster(&self.shared.manifest) {
                Some(a) => a,
                None => return self.error(&reply::unknown("postmaster")),
            },
            Ok(Path::Null) => return self.error(&reply::bad_syntax(Some(""))),
            Err(PathError::Syntax) => {
                return self.error(&reply::bad_syntax(bracketed(line).as_deref()));
            }
            Err(e) => return self.error(&reply::bad_recipient(None, e.reason())),
        };
        let address = address.as_str();
        let mut normalized = decision::normalize(address)
            .map_or_else(|| address.to_string(), |(l, d)| format!("{l}@{d}"));
        // An SRS address we made is honoured only for a bounce (null
        // sender): anyone else could use it to reach the original sender.
        let srs = match bounce {
            true => self.srs_return(address, &normalized).await,
            false => None,
        };
        if let Some(original) = srs {
            if let Some(tx) = &mut self.tx {
                tx.rcpts.push(Recipient {
                    address: normalized,
                    route: Route::Return(original),
                });
            }
            return self.conn.reply(reply::RECIPIENT_OK);
        }
        let route = match decision::decide(&self.shared.manifest, address) {
            Decision::Deliver(t) => Route::Deliver(t),
            Decision::Relay(hop) => Route::Relay(hop),
            Decision::Bounce => Route::Bounce,
            Decision::Drop => Route::Drop,
            Decision::Reject(reply) => return self.error(&reply),
            Decision::NotOurs if self.user.is_some() => {
                // RFC 5321 §2.4: only the remote host may read its local
                // parts: their case is kept.
                if let (Some((local, _)), Some((_, domain))) =
                    (address.rsplit_once('@'), normalized.rsplit_once('@'))
                {
                    normalized = format!("{local}@{domain}");
                }
                Route::Remote
            }
            Decision::NotOurs => {
                return self.error(&decision::relay_denied_reply(&normalized));
            }
        };
        if let Route::Deliver(t) = &route
            && t.forward.is_empty()
            && self.all_full(&t.mailboxes, size).await
        {
            // RFC 5321 §4.2.2 (552: storage allocation exceeded), as
            // Dovecot's quota-status says it. Only when nobody could take
            // the message: an alias with room somewhere is accepted, and
            // its full members get a bounce after DATA (as Postfix does).
            return self.error(&reply::mailbox_full(&address::display(&normalized)));
        }
        if let Err(reply) = self.count(SendKind::Recipients).await {
            return self.error(&reply);
        }
        if let Some(tx) = &mut self.tx {
            tx.rcpts.push(Recipient {
                address: normalized,
                route,
            });
        }
        self.conn.reply(reply::RECIPIENT_OK);
    }

    /// Counts one message or recipient of a login against its sending
    /// limits (none off submission), durably; the `450` at a limit.
    async fn count(&self, kind: SendKind) -> Result<(), String> {
        let Some(user) = self.user.clone().filter(|_| self.service.is_submission()) else {
            return Ok(());
        };
        let sh = self.shared.clone();
        tokio::task::spawn_blocking(move || sh.sending.take(&sh.manifest, &user, kind))
            .await
            .unwrap_or_else(|e| Err(reply::try_later(&e.to_string())))
    }

    /// The original sender behind an SRS address of one of our domains
    /// that rewrites forwards (RFC 5321 §4.5.5: the bounce of a forward
    /// comes back to it). Forged or expired ones are left to [`decision::decide`].
    async fn srs_return(&self, address: &str, normalized: &str) -> Option<String> {
        let domain = normalized.rsplit_once('@')?.1;
        if !self.shared.manifest.domains.get(domain)?.srs
            || !crate::serve::queue::srs::is_srs(address)
        {
            return None;
        }
        let (sh, a) = (self.shared.clone(), address.to_string());
        // The first use reads (or makes) the secret: blocking.
        tokio::task::spawn_blocking(move || sh.queue.srs_reverse(&a))
            .await
            .ok()
            .flatten()
    }

    /// Whether every one of `mailboxes` has a quota with no room for
    /// `size` more bytes (the client's SIZE estimate, else one byte: full
    /// already).
    async fn all_full(&self, mailboxes: &[String], size: u64) -> bool {
        let users = &self.shared.manifest.users;
        let all_limited = !mailboxes.is_empty()
            && mailboxes
                .iter()
                .all(|m| users.get(m).is_some_and(|u| u.quota.is_some()));
        if !all_limited {
            return false;
        }
        let (sh, mailboxes) = (self.shared.clone(), mailboxes.to_vec());
        tokio::task::spawn_blocking(move || {
            mailboxes
                .iter()
                .all(|m| !crate::serve::quota::fits(&sh.store, &sh.manifest, m, size))
        })
        .await
        .unwrap_or(false)
    }
}
