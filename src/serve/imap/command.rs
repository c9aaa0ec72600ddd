//! Which room answers a command: the state each command needs (RFC 3501
//! §3), and what the connection does after it ([`Flow`]).

use imap_next::imap_types::command::{Command, CommandBody, StoreModifier};
use imap_next::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_next::imap_types::extensions::thread::ThreadingAlgorithm;
use imap_next::imap_types::response::{Data, Status, StatusKind};
use imap_next::server::Server;

use super::answer::{bad, code_other, ok, status};
use super::ext::Ext;
use super::flags::flag_names;
use super::maildir;
use super::query::Ordering;
use super::session::Session;

/// What the connection does after a command.
pub(super) enum Flow {
    Continue,
    Logout,
    StartTls,
    /// A FETCH to answer in chunks (the status is its own).
    Fetch(super::fetch::FetchJob),
}

impl Session {
    pub(super) async fn command(
        &mut self,
        server: &mut Server,
        cmd: Command<'static>,
    ) -> (Status<'static>, Flow) {
        let tag = cmd.tag;
        let authed = self.account.is_some();
        let selected = self.selected.is_some();
        use CommandBody as C;
        let st = match cmd.body {
            C::Capability => {
                server.enqueue_data(Data::Capability(self.capabilities()));
                ok(&tag, "capabilities listed")
            }
            C::Noop | C::Check => ok(&tag, "done"),
            C::Logout => return (ok(&tag, "logged out"), Flow::Logout),
            C::StartTLS => {
                if self.tls {
                    bad(&tag, "TLS is already on")
                } else if authed {
                    bad(&tag, "STARTTLS only before login")
                } else {
                    return (ok(&tag, "begin TLS now"), Flow::StartTls);
                }
            }
            C::Id { .. } => self.answer_id(server, &tag),
            C::Login { username, password } => {
                if authed {
                    bad(&tag, "already logged in")
                } else if !self.plaintext_ok() {
                    status(
                        &tag,
                        StatusKind::No,
                        Some(code_other("PRIVACYREQUIRED")),
                        "LOGIN needs TLS: use STARTTLS first",
                    )
                } else {
                    let u = username.as_ref().to_vec();
                    let p = password.declassify().as_ref().to_vec();
                    self.login(&tag, &u, &p).await
                }
            }
            C::Authenticate { .. } => bad(&tag, "unexpected AUTHENTICATE"),
            _ if !authed => bad(&tag, "log in first"),
            C::Namespace => self.namespace(server, &tag),
            C::Enable { capabilities } => self.enable(server, &tag, capabilities),
            C::GetQuotaRoot { mailbox } => self.quota_root(server, &tag, &mailbox),
            C::GetQuota { root } => self.quota(server, &tag, root.as_ref()),
            // RFC 9208 §4.1.3: limits are the spec's; QUOTASET is not offered.
            C::SetQuota { .. } => status(
                &tag,
                StatusKind::No,
                Some(code_other("NOPERM")),
                "quotas are set in the spec",
            ),
            C::Select {
                mailbox,
                parameters,
            } => self.select(server, &tag, &mailbox, false, &parameters),
            C::Examine {
                mailbox,
                parameters,
            } => self.select(server, &tag, &mailbox, true, &parameters),
            C::Create { mailbox } => self.create(&tag, &mailbox),
            C::Delete { mailbox } => self.mailbox_op(&tag, &mailbox, None),
            C::Rename { from, to } => self.mailbox_op(&tag, &from, Some(&to)),
            C::Subscribe { mailbox } => self.subscribe(&tag, &mailbox, true),
            C::Unsubscribe { mailbox } => self.subscribe(&tag, &mailbox, false),
            C::List {
                reference,
                mailbox_wildcard,
            } => self.list(server, &tag, &reference, &mailbox_wildcard, false),
            C::Lsub {
                reference,
                mailbox_wildcard,
            } => self.list(server, &tag, &reference, &mailbox_wildcard, true),
            C::Status {
                mailbox,
                item_names,
            } => self.status(server, &tag, &mailbox, &item_names),
            C::Append {
                mailbox,
                flags,
                date,
                message,
            } => {
                let bytes = match &message {
                    LiteralOrLiteral8::Literal(l) => l.data(),
                    LiteralOrLiteral8::Literal8(l) => &l.data[..],
                };
                let date = date.map_or_else(maildir::now, |d| d.as_ref().timestamp());
                self.append(&tag, &mailbox, vec![(bytes, flag_names(&flags), date)])
            }
            _ if !selected => bad(&tag, "select a mailbox first"),
            C::Close => {
                self.expunge(server, &tag, None, false);
                self.selected = None;
                return (ok(&tag, "closed"), Flow::Continue);
            }
            C::Unselect => {
                self.selected = None;
                return (ok(&tag, "unselected"), Flow::Continue);
            }
            C::Expunge => self.expunge(server, &tag, None, true),
            C::ExpungeUid { sequence_set } => self.expunge(server, &tag, Some(&sequence_set), true),
            C::Search {
                charset,
                criteria,
                uid,
            } => {
                if let Some(st) = self.refuse_charset(&tag, charset.as_ref(), true) {
                    return (st, Flow::Continue);
                }
                if self.rev2 {
                    // RFC 9051 §6.4.4: the answer is ESEARCH, ALL when no
                    // RETURN is given.
                    let all = super::ext::Return {
                        all: true,
                        ..Default::default()
                    };
                    let search = Command {
                        tag: tag.clone(),
                        body: C::Search {
                            charset,
                            criteria,
                            uid,
                        },
                    };
                    return (self.esearch(server, &tag, &all, search), Flow::Continue);
                }
                let st = self.search(server, &tag, criteria.as_ref(), uid);
                return (st, Flow::Continue);
            }
            C::Sort {
                sort_criteria,
                charset,
                search_criteria,
                uid,
            } => {
                if let Some(st) = self.refuse_charset(&tag, Some(&charset), false) {
                    return (st, Flow::Continue);
                }
                let st = self.sort(
                    server,
                    &tag,
                    search_criteria.as_ref(),
                    uid,
                    Ordering::Sort(sort_criteria.as_ref()),
                );
                return (st, Flow::Continue);
            }
            C::Thread {
                algorithm,
                charset,
                search_criteria,
                uid,
            } => {
                if let Some(st) = self.refuse_charset(&tag, Some(&charset), false) {
                    return (st, Flow::Continue);
                }
                let how = match algorithm {
                    ThreadingAlgorithm::References => Ordering::References,
                    ThreadingAlgorithm::OrderedSubject => Ordering::OrderedSubject,
                    _ => {
                        return (bad(&tag, "unknown threading algorithm"), Flow::Continue);
                    }
                };
                let st = self.sort(server, &tag, search_criteria.as_ref(), uid, how);
                return (st, Flow::Continue);
            }
            C::Fetch {
                sequence_set,
                macro_or_item_names,
                uid,
                modifiers,
            } => {
                let job = self.fetch_job(
                    server,
                    &tag,
                    &sequence_set,
                    macro_or_item_names,
                    uid,
                    &modifiers,
                );
                return match job {
                    Ok(job) => (ok(&tag, "FETCH done"), Flow::Fetch(job)),
                    Err(st) => (st, Flow::Continue),
                };
            }
            C::Store {
                sequence_set,
                kind,
                response,
                flags,
                uid,
                modifiers,
            } => {
                let unchanged_since = modifiers
                    .iter()
                    .map(|StoreModifier::UnchangedSince(n)| *n)
                    .next();
                let st = self.store(
                    server,
                    &tag,
                    &sequence_set,
                    (kind, response),
                    &flags,
                    uid,
                    unchanged_since,
                );
                if uid {
                    self.refresh(server, true);
                }
                return (st, Flow::Continue);
            }
            C::Copy {
                sequence_set,
                mailbox,
                uid,
            } => self.copy(server, &tag, &sequence_set, &mailbox, uid, false),
            C::Move {
                sequence_set,
                mailbox,
                uid,
            } => self.copy(server, &tag, &sequence_set, &mailbox, uid, true),
            _ => bad(&tag, "command not supported"),
        };
        self.refresh(server, true);
        (st, Flow::Continue)
    }
}

impl Session {
    /// Answers a command read by [`super::ext::parse`]; the ESEARCH, LIST and STATUS
    /// lines go to [`Session::raw`].
    pub(super) fn extended(&mut self, server: &mut Server, ext: Ext) -> Status<'static> {
        match ext {
            Ext::Search { tag, ret, command } => {
                let st = self.esearch(server, &tag, &ret, command);
                // RFC 5182 §2.1: a SEARCH that asked to SAVE and failed
                // leaves `$` empty.
                let failed = matches!(&st, Status::Tagged(t) if t.body.kind != StatusKind::Ok);
                if ret.save && failed {
                    self.forget_saved();
                }
                st
            }
            Ext::BadSave { tag, why } => {
                self.forget_saved();
                bad(&tag, why)
            }
            Ext::CancelUpdate { tag, tags } => self.cancel_update(&tag, &tags),
            Ext::Append { tag, appends, utf8 } => {
                // RFC 6855 §4: the UTF8 form belongs to clients that enabled it.
                if utf8 && !self.utf8() {
                    return bad(&tag, "APPEND UTF8 needs ENABLE UTF8=ACCEPT first");
                }
                let st = self.multiappend(&tag, &appends);
                self.refresh(server, true);
                st
            }
            Ext::List { tag, list } => {
                let st = self.list_extended(&tag, &list);
                self.refresh(server, true);
                st
            }
        }
    }
}
