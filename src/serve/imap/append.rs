//! APPEND (RFC 3501 §6.3.11) of one message or several (MULTIAPPEND,
//! RFC 3502), a message sent as a literal8 (BINARY, RFC 3516 §4.3)
//! included, with APPENDUID (RFC 4315) and the quota checked first.

use imap_next::imap_types::command::{Command, CommandBody};
use imap_next::imap_types::core::Tag;
use imap_next::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_next::imap_types::mailbox::Mailbox;
use imap_next::imap_types::response::{Code, CodeOther, Status, StatusKind};

use super::answer::{bad, no, set, status};
use super::ext::append_mailbox;
use super::flags::flag_names;
use super::maildir::{self, Flags, Folder, Refusal};
use super::session::{Session, blocking};
use crate::serve::quota;

impl Session {
    /// MULTIAPPEND (RFC 3502): the messages of one APPEND command.
    pub(super) fn multiappend(
        &mut self,
        tag: &Tag<'static>,
        appends: &[Command<'static>],
    ) -> Status<'static> {
        let Some(mailbox) = append_mailbox(appends) else {
            return bad(tag, "APPEND needs a message");
        };
        let mut messages: Vec<(&[u8], Flags, i64)> = Vec::new();
        for a in appends {
            let CommandBody::Append {
                flags,
                date,
                message,
                ..
            } = &a.body
            else {
                return bad(tag, "APPEND expected");
            };
            let bytes: &[u8] = match message {
                LiteralOrLiteral8::Literal(l) => l.data(),
                LiteralOrLiteral8::Literal8(l) => &l.data[..],
            };
            let date = date
                .as_ref()
                .map_or_else(maildir::now, |d| d.as_ref().timestamp());
            messages.push((bytes, flag_names(flags), date));
        }
        self.append(tag, mailbox, messages)
    }

    /// APPEND of one message or several (MULTIAPPEND, RFC 3502 §6.3.11):
    /// every message is stored, in one commit, or none is. A message may
    /// come as a literal8 (BINARY, RFC 3516 §4.3).
    pub(super) fn append(
        &mut self,
        tag: &Tag<'static>,
        mailbox: &Mailbox,
        messages: Vec<(&[u8], Flags, i64)>,
    ) -> Status<'static> {
        let name = match self.name(mailbox) {
            Ok(n) => n,
            Err(e) => return no(tag, e),
        };
        let limit = self.shared.manifest.limits.message_size;
        if messages.iter().any(|(b, _, _)| b.len() as u64 > limit) {
            return status(tag, StatusKind::No, Some(Code::TooBig), "message too big");
        }
        // RFC 3516 §4.3: parts sent as binary are kept as base64.
        let stored: Vec<Option<Vec<u8>>> = messages
            .iter()
            .map(|(b, _, _)| super::binary::store_form(b))
            .collect();
        let messages: Vec<(&[u8], Flags, i64)> = messages
            .into_iter()
            .zip(&stored)
            .map(|((b, f, d), s)| (s.as_deref().unwrap_or(b), f, d))
            .collect();
        let total: u64 = messages.iter().map(|(b, _, _)| b.len() as u64).sum();
        let quota = self.quota_limit();
        let acct = self.account();
        let res = blocking(
            || -> Result<Result<(u32, Vec<u32>), Status<'static>>, Refusal> {
                let _l = acct.lock()?;
                if !acct.exists(&name) {
                    return Ok(Err(status(
                        tag,
                        StatusKind::No,
                        Some(Code::TryCreate),
                        "no such mailbox",
                    )));
                }
                if let Some(q) = quota
                    && quota::usage(acct.root()) + total > q
                {
                    return Ok(Err(status(
                        tag,
                        StatusKind::No,
                        Some(Code::OverQuota),
                        "quota exceeded",
                    )));
                }
                let mut folder = Folder::open(&acct, &name)?;
                let uids = folder.add_all(&messages)?;
                Ok(Ok((folder.uidvalidity, uids)))
            },
        );
        match res {
            Ok(Ok((v, uids))) => {
                self.shared.store.notify();
                // RFC 4315 §3: APPENDUID, with a set for several messages.
                let code = format!("APPENDUID {v} {}", set(&uids));
                status(
                    tag,
                    StatusKind::Ok,
                    Some(Code::Other(CodeOther::unvalidated(code.into_bytes()))),
                    "APPEND done",
                )
            }
            Ok(Err(st)) => st,
            Err(e) => no(tag, &e.to_string()),
        }
    }
}
