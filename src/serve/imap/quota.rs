//! QUOTA (RFC 9208): GETQUOTA and GETQUOTAROOT of the one root `""`,
//! which holds every mailbox of the user. The limit and the bytes it
//! counts are [`crate::serve::quota`]'s, the same SMTP delivery keeps.

use imap_next::imap_types::core::{AString, Tag, Vec1};
use imap_next::imap_types::extensions::quota::{QuotaGet, Resource};
use imap_next::imap_types::mailbox::Mailbox;
use imap_next::imap_types::response::{Data, Status, StatusKind};
use imap_next::server::Server;

use super::answer::{code_other, no, ok, status};
use super::maildir::Refusal;
use super::session::{Session, blocking};
use crate::serve::quota;

impl Session {
    /// The user's quota in bytes, when the spec sets one.
    pub(super) fn quota_limit(&self) -> Option<u64> {
        self.user
            .as_ref()
            .and_then(|u| quota::limit(&self.shared.manifest, u))
    }

    /// `* QUOTA "" (STORAGE used limit)`, in units of 1024 octets (RFC 9208
    /// §5.1): one root, `""`, holds every mailbox of the user.
    fn send_quota(&self, server: &mut Server, limit: u64) -> Result<(), Refusal> {
        let acct = self.account();
        let used = blocking(|| {
            let _l = acct.lock()?;
            Ok::<_, Refusal>(quota::usage(acct.root()))
        })?;
        let q = QuotaGet::new(Resource::Storage, used / 1024, limit / 1024);
        server.enqueue_data(Data::Quota {
            root: AString::try_from("").expect("valid"),
            quotas: Vec1::from(q),
        });
        Ok(())
    }

    pub(super) fn quota_root(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        mailbox: &Mailbox,
    ) -> Status<'static> {
        let name = match self.name(mailbox) {
            Ok(n) => n,
            Err(e) => return no(tag, e),
        };
        if !self.account().exists(&name) {
            return status(
                tag,
                StatusKind::No,
                Some(code_other("NONEXISTENT")),
                "no such mailbox",
            );
        }
        let limit = self.quota_limit();
        server.enqueue_data(Data::QuotaRoot {
            mailbox: self.mailbox_of(name.as_str()),
            roots: limit
                .map(|_| AString::try_from("").expect("valid"))
                .into_iter()
                .collect(),
        });
        if let Some(l) = limit
            && let Err(e) = self.send_quota(server, l)
        {
            return no(tag, &e.to_string());
        }
        ok(tag, "GETQUOTAROOT done")
    }

    pub(super) fn quota(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        root: &[u8],
    ) -> Status<'static> {
        match self.quota_limit() {
            Some(l) if root.is_empty() => match self.send_quota(server, l) {
                Ok(()) => ok(tag, "GETQUOTA done"),
                Err(e) => no(tag, &e.to_string()),
            },
            _ => status(
                tag,
                StatusKind::No,
                Some(code_other("NONEXISTENT")),
                "no such quota root",
            ),
        }
    }
}
