//! Before and around login: CAPABILITY, LOGIN and AUTHENTICATE PLAIN
//! (RFC 3501 §6.2, RFC 4616), ENABLE (RFC 5161) and ID (RFC 2971).

use imap_next::imap_types::auth::AuthMechanism;
use imap_next::imap_types::core::{IString, NString, Tag, Vec1};
use imap_next::imap_types::extensions::enable::CapabilityEnable;
use imap_next::imap_types::extensions::quota::Resource;
use imap_next::imap_types::extensions::sort::SortAlgorithm;
use imap_next::imap_types::extensions::thread::ThreadingAlgorithm;
use imap_next::imap_types::response::{Capability, Code, Data, Status, StatusKind};
use imap_next::server::Server;

use super::answer::{bad, code_other, no, ok, status};
use super::maildir::Account;
use super::session::{Session, blocking};
use crate::serve::auth::Verdict;
use crate::serve::log;
use crate::serve::plaintext_auth_allowed;

impl Session {
    pub(super) fn plaintext_ok(&self) -> bool {
        self.tls || plaintext_auth_allowed(&self.peer)
    }

    pub(super) fn capabilities(&self) -> Vec1<Capability<'static>> {
        let mut c = vec![Capability::Imap4Rev1];
        if self.user.is_none() {
            if !self.tls {
                c.push(Capability::StartTls);
            }
            if self.plaintext_ok() {
                c.push(Capability::Auth(AuthMechanism::Plain));
                c.push(Capability::SaslIr);
            } else {
                c.push(Capability::LoginDisabled);
            }
        }
        c.extend([
            Capability::LiteralPlus,
            Capability::Idle,
            Capability::UidPlus,
            Capability::Move,
            Capability::Namespace,
            Capability::Id,
            Capability::Unselect,
        ]);
        c.extend([
            Capability::Enable,
            Capability::CondStore,
            Capability::QResync,
            Capability::Quota,
            Capability::QuotaRes(Resource::Storage),
            Capability::Sort(None),
            Capability::Sort(Some(SortAlgorithm::Display)),
            Capability::Thread(ThreadingAlgorithm::OrderedSubject),
            Capability::Thread(ThreadingAlgorithm::References),
        ]);
        for other in [
            "CHILDREN",
            "SPECIAL-USE",
            "ESEARCH",
            "ESORT",
            "CONTEXT=SEARCH",
            "CONTEXT=SORT",
            "LIST-EXTENDED",
            "LIST-STATUS",
            "MULTIAPPEND",
            "UTF8=ACCEPT",
            "BINARY",
            "STATUS=SIZE",
            "SEARCHRES",
        ] {
            if let Ok(cap) = Capability::try_from(other) {
                c.push(cap);
            }
        }
        // RFC 9051 §7.2.2: IMAP4rev2 beside IMAP4rev1; its client picks it
        // with ENABLE. It needs every piece RFC 9051 folds in.
        if rev2_complete(&c) {
            c.insert(1, Capability::try_from("IMAP4rev2").expect("an atom"));
        }
        Vec1::try_from(c).expect("not empty")
    }

    /// Whether IMAP4rev2 is offered (and may be ENABLEd).
    fn offers_rev2(&self) -> bool {
        rev2_complete(self.capabilities().as_ref())
    }

    pub(super) async fn login(
        &mut self,
        tag: &Tag<'static>,
        user: &[u8],
        pass: &[u8],
    ) -> Status<'static> {
        let login = String::from_utf8_lossy(user).to_string();
        let pass = String::from_utf8_lossy(pass).to_string();
        let sh = self.shared.clone();
        let verdict = sh
            .logins
            .check(
                &sh.manifest,
                self.peer.ip(),
                &login,
                pass,
                crate::manifest::Service::Imap,
            )
            .await;
        let (good, address) = match verdict {
            Verdict::Ok(a) => (true, a),
            Verdict::Locked => {
                log::event(
                    self.service,
                    &self.id,
                    "login-locked",
                    &[("peer", &self.peer)],
                );
                self.failed_logins += 1;
                return status(
                    tag,
                    StatusKind::No,
                    Some(code_other("UNAVAILABLE")),
                    "too many failed logins from your address, try again later",
                );
            }
            Verdict::Wrong => (false, String::new()),
        };
        let dir = self.shared.store.user_dir(&address);
        match good {
            true => log::event(self.service, &self.id, "login", &[("user", &address)]),
            false => log::event(
                self.service,
                &self.id,
                "login-failed",
                &[("peer", &self.peer), ("login", &login.trim())],
            ),
        }
        match (good, dir) {
            (true, Some(dir)) => {
                let acct = Account::new(dir);
                let made = blocking(|| {
                    let _l = acct.lock()?;
                    acct.sweep_expunged()?;
                    acct.ensure_special_use()
                });
                if let Err(e) = made {
                    log::event(
                        self.service,
                        &self.id,
                        "special-use-failed",
                        &[("user", &address), ("error", &e)],
                    );
                }
                self.account = Some(acct);
                self.user = Some(address);
                status(
                    tag,
                    StatusKind::Ok,
                    Some(Code::Capability(self.capabilities())),
                    "logged in",
                )
            }
            _ => {
                // The delay is the login checker's (serve/auth.rs).
                self.failed_logins += 1;
                status(
                    tag,
                    StatusKind::No,
                    Some(code_other("AUTHENTICATIONFAILED")),
                    "authentication failed",
                )
            }
        }
    }

    /// SASL PLAIN (RFC 4616): `authzid NUL authcid NUL password`.
    pub(super) async fn sasl_plain(&mut self, tag: &Tag<'static>, data: &[u8]) -> Status<'static> {
        let parts: Vec<&[u8]> = data.split(|&b| b == 0).collect();
        if parts.len() != 3 {
            return bad(tag, "malformed PLAIN response");
        }
        if !parts[0].is_empty() && !parts[0].eq_ignore_ascii_case(parts[1]) {
            return no(tag, "authorization identity must be empty or yours");
        }
        self.login(tag, parts[1], parts[2]).await
    }

    /// ID (RFC 2971): the server's name.
    pub(super) fn answer_id(&mut self, server: &mut Server, tag: &Tag<'static>) -> Status<'static> {
        let params = vec![(
            IString::try_from("name").expect("valid"),
            NString::try_from("mailc").expect("valid"),
        )];
        server.enqueue_data(Data::Id {
            parameters: Some(params),
        });
        ok(tag, "ID done")
    }

    /// ENABLE (RFC 5161).
    pub(super) fn enable(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        capabilities: Vec1<CapabilityEnable<'static>>,
    ) -> Status<'static> {
        // RFC 5161 §3.1: ENABLED lists what this command turned on.
        let mut on = Vec::new();
        for c in capabilities.into_iter() {
            let name = c.to_string().to_ascii_uppercase();
            if name == "CONDSTORE" && !self.condstore {
                self.condstore = true;
                on.push(c);
            } else if name == "QRESYNC" && !self.qresync {
                // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
                self.condstore = true;
                self.qresync = true;
                on.push(c);
            } else if name == "UTF8=ACCEPT" && !self.utf8_accept {
                self.utf8_accept = true;
                on.push(c);
            } else if name == "IMAP4REV2" && !self.rev2 && self.offers_rev2() {
                self.rev2 = true;
                // Nothing is \Recent to an IMAP4rev2 session.
                if let Some(sel) = self.selected.as_mut() {
                    sel.recent.clear();
                }
                on.push(c);
            }
        }
        server.enqueue_data(Data::Enabled { capabilities: on });
        ok(tag, "ENABLE done")
    }
}

/// Whether the extensions RFC 9051 Appendix E folds into IMAP4rev2 are all
/// offered after login (SASL-IR, offered before it, aside).
pub(super) fn rev2_complete(caps: &[Capability]) -> bool {
    let have: Vec<String> = caps
        .iter()
        .map(|c| c.to_string().to_ascii_uppercase())
        .collect();
    [
        "NAMESPACE",
        "UNSELECT",
        "UIDPLUS",
        "ESEARCH",
        "SEARCHRES",
        "ENABLE",
        "IDLE",
        "LIST-EXTENDED",
        "LIST-STATUS",
        "MOVE",
        "LITERAL+",
        "BINARY",
        "SPECIAL-USE",
        "STATUS=SIZE",
    ]
    .iter()
    .all(|want| have.iter().any(|h| h == want))
}
