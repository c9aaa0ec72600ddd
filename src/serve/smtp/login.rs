//! AUTH on the submission ports (RFC 4954: PLAIN and LOGIN, only under TLS
//! or from loopback, with the lockout after failed attempts) and what a
//! logged-in user may put in the header `From:`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::conn::{End, Line};
use super::{AUTH_LOGIN, AUTH_PLAIN, Session};
use crate::reply;
use crate::serve::auth::Verdict;
use crate::serve::{Shared, address, decision, log};

impl Session {
    pub(super) async fn auth(&mut self, mechanism: u64, initial: String) -> Result<(), End> {
        if !self.service.is_submission() {
            self.error(reply::AUTH_NOT_HERE);
            return Ok(());
        }
        if !self.auth_offered() {
            // RFC 4954 §6.
            self.error(reply::AUTH_NEEDS_TLS);
            return Ok(());
        }
        if self.helo.is_none() {
            self.error(reply::HELLO_FIRST);
            return Ok(());
        }
        if self.user.is_some() {
            self.error(reply::AUTH_TWICE);
            return Ok(());
        }
        if self.tx.is_some() {
            self.error(reply::AUTH_IN_MAIL);
            return Ok(());
        }
        if self.shared.logins.locked(self.peer.ip()) {
            self.error(reply::LOCKED);
            return Ok(());
        }
        let initial = initial.trim().to_string();
        let credentials = if mechanism == AUTH_PLAIN {
            let response = if initial.is_empty() {
                let Some(r) = self.ask("334 ").await? else {
                    return Ok(());
                };
                r
            } else {
                initial
            };
            match decode(&response).and_then(|b| plain(&b)) {
                Some(c) => c,
                None => {
                    self.error(reply::AUTH_PLAIN_UNDECODABLE);
                    return Ok(());
                }
            }
        } else if mechanism == AUTH_LOGIN {
            let username = if initial.is_empty() {
                let Some(r) = self.ask("334 VXNlcm5hbWU6").await? else {
                    return Ok(());
                };
                r
            } else {
                initial
            };
            let Some(password) = self.ask("334 UGFzc3dvcmQ6").await? else {
                return Ok(());
            };
            let text = |s: &str| decode(s).and_then(|b| String::from_utf8(b).ok());
            match (text(&username), text(&password)) {
                (Some(u), Some(p)) => (u, p),
                _ => {
                    self.error(reply::AUTH_LOGIN_UNDECODABLE);
                    return Ok(());
                }
            }
        } else {
            self.error(reply::AUTH_MECHANISM);
            return Ok(());
        };
        let (login, password) = credentials;
        let sh = self.shared.clone();
        match sh
            .logins
            .check(
                &sh.manifest,
                self.peer.ip(),
                &login,
                password,
                crate::manifest::Service::Submission,
            )
            .await
        {
            Verdict::Ok(user) => {
                log::event(self.service.name(), &self.id, "login", &[("user", &user)]);
                self.user = Some(user);
                self.conn.reply(reply::AUTH_OK);
            }
            Verdict::Wrong => {
                let login = login.trim();
                log::event(
                    self.service.name(),
                    &self.id,
                    "login-failed",
                    &[("peer", &self.peer), ("login", &login)],
                );
                self.error(reply::AUTH_FAILED)
            }
            Verdict::Locked => {
                log::event(
                    self.service.name(),
                    &self.id,
                    "login-locked",
                    &[("peer", &self.peer)],
                );
                self.error(reply::LOCKED)
            }
        }
        Ok(())
    }

    /// Sends a SASL `challenge` and reads the client's line, without its
    /// CRLF; `None` once a cancelled or overlong answer has been refused.
    async fn ask(&mut self, challenge: &str) -> Result<Option<String>, End> {
        self.conn.reply(challenge);
        let refusal = match self.conn.read_line().await? {
            Line::TooLong => reply::LINE_TOO_LONG,
            Line::BareNewline => reply::BARE_COMMAND,
            Line::Command(l) => {
                let s = String::from_utf8_lossy(&l).trim().to_string();
                if s != "*" {
                    return Ok(Some(s));
                }
                // RFC 4954 §4.
                reply::AUTH_CANCELLED
            }
        };
        self.error(refusal);
        Ok(None)
    }
}

/// DMARC alignment for submissions (RFC 7489 §3.1): the header `From:` of
/// a user's message names only addresses the user may send as, as the
/// envelope sender must. One that does not is refused, never rewritten (a
/// rewritten From would surprise the user more than a refusal), and so is
/// a message with more than one `From:` field (RFC 5322 §3.6: at most one;
/// receivers differ on which they check). A message without one is taken.
pub(super) fn header_from_owned(shared: &Shared, user: &str, message: &[u8]) -> Result<(), String> {
    let refuse = |what: &str| reply::from_not_owned(what, user);
    let Some(parsed) = mail_parser::MessageParser::default().parse_headers(message) else {
        return Ok(());
    };
    let froms = parsed
        .root_part()
        .headers
        .iter()
        .filter(|h| h.name == mail_parser::HeaderName::From)
        .count();
    if froms == 0 {
        return Ok(());
    }
    if froms > 1 {
        return Err(reply::MANY_FROMS.into());
    }
    let owned = |a: &str| {
        decision::normalize(a)
            .map(|(l, d)| format!("{l}@{d}"))
            .is_some_and(|a| {
                shared
                    .manifest
                    .users
                    .get(user)
                    .is_some_and(|u| u.send_as.contains(&a))
            })
    };
    let addresses: Vec<&str> = match parsed.from() {
        Some(mail_parser::Address::List(l)) => l
            .iter()
            .map(|a| a.address.as_deref().unwrap_or(""))
            .collect(),
        Some(mail_parser::Address::Group(g)) => g
            .iter()
            .flat_map(|g| g.addresses.iter())
            .map(|a| a.address.as_deref().unwrap_or(""))
            .collect(),
        None => vec![""],
    };
    if addresses.is_empty() {
        return Err(refuse("<>"));
    }
    match addresses.iter().find(|a| !owned(a)) {
        Some(bad) => Err(refuse(&format!("<{}>", address::display(bad)))),
        None => Ok(()),
    }
}
/// Base64 as SASL uses it; `=` is the empty response (RFC 4954 §4).
fn decode(s: &str) -> Option<Vec<u8>> {
    if s == "=" {
        return Some(Vec::new());
    }
    BASE64.decode(s.as_bytes()).ok()
}

/// RFC 4616: `authzid NUL authcid NUL passwd`; an authzid other than the
/// login itself is refused (no one may act as another user).
fn plain(bytes: &[u8]) -> Option<(String, String)> {
    let mut parts = bytes.split(|&b| b == 0);
    let (authz, authc, pass) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let authc = String::from_utf8(authc.to_vec()).ok()?;
    let pass = String::from_utf8(pass.to_vec()).ok()?;
    if !authz.is_empty() && !authz.eq_ignore_ascii_case(authc.as_bytes()) {
        return None;
    }
    Some((authc, pass))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sasl_plain_is_split_and_checked() {
        assert_eq!(
            plain(b"\0alice@example.com\0pw"),
            Some(("alice@example.com".into(), "pw".into()))
        );
        assert_eq!(
            plain(b"alice@example.com\0alice@example.com\0pw"),
            Some(("alice@example.com".into(), "pw".into()))
        );
        assert_eq!(plain(b"bob@example.com\0alice@example.com\0pw"), None);
        assert_eq!(plain(b"\0alice"), None);
        assert_eq!(plain(b"\0a\0b\0c"), None);
        assert_eq!(decode("="), Some(Vec::new()));
        assert_eq!(decode("!!"), None);
    }
}
