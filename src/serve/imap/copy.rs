//! COPY and MOVE (RFC 3501 §6.4.7, RFC 6851), with COPYUID (RFC 4315).

use std::collections::BTreeSet;

use imap_next::imap_types::core::Tag;
use imap_next::imap_types::mailbox::Mailbox;
use imap_next::imap_types::response::{Code, Status, StatusKind};
use imap_next::imap_types::sequence::SequenceSet;
use imap_next::server::Server;

use super::answer::{bad, no, nz, ok, status, uid_set, untagged};
use super::context::Out;
use super::maildir::{Folder, Refusal};
use super::selected::report_expunged;
use super::session::{Session, blocking};
use crate::serve::quota;

impl Session {
    pub(super) fn copy(
        &mut self,
        server: &mut Server,
        tag: &Tag<'static>,
        set: &SequenceSet,
        mailbox: &Mailbox,
        uid: bool,
        moving: bool,
    ) -> Status<'static> {
        let idx = match self.resolve(tag, set, uid) {
            Ok(i) => i,
            Err(st) => return st,
        };
        let dest = match self.name(mailbox) {
            Ok(n) => n,
            Err(e) => return no(tag, e),
        };
        let acct = self.account();
        let quota = self.quota_limit().filter(|_| !moving);
        let Some(sel) = self.selected.as_mut() else {
            return bad(tag, "select a mailbox first");
        };
        if moving && sel.read_only {
            return no(tag, "mailbox is read-only");
        }
        let uids: Vec<u32> = idx.iter().map(|&i| sel.msgs[i].uid).collect();
        let adding: u64 = idx.iter().map(|&i| sel.msgs[i].size).sum();
        let me = sel.watch.id();
        type Copied = (u32, Vec<(u32, u32)>);
        let res = blocking(|| -> Result<Option<Copied>, Refusal> {
            let _l = acct.lock()?;
            if !acct.exists(&dest) {
                return Ok(None);
            }
            if let Some(q) = quota
                && quota::usage(acct.root()) + adding > q
            {
                return Err(Refusal::OverQuota);
            }
            let mut src = Folder::open(&acct, &sel.name)?;
            let mut dst = if dest == sel.name {
                None
            } else {
                Some(Folder::open(&acct, &dest)?)
            };
            let mut pairs = Vec::new();
            for u in &uids {
                let Some(e) = src.find(*u).cloned() else {
                    continue;
                };
                let bytes = src.read(&e)?;
                let target = dst.as_mut().unwrap_or(&mut src);
                let new = target.add_unsaved(&bytes, e.flags.clone(), e.date)?;
                pairs.push((*u, new));
            }
            dst.as_ref().unwrap_or(&src).save()?;
            let validity = dst.as_ref().unwrap_or(&src).uidvalidity;
            if moving {
                let gone: BTreeSet<u32> = pairs.iter().map(|p| p.0).collect();
                src.remove_by(&gone, Some(me))?;
            }
            Ok(Some((validity, pairs)))
        });
        let (validity, pairs) = match res {
            Ok(Some(x)) => x,
            Ok(None) => {
                return status(
                    tag,
                    StatusKind::No,
                    Some(Code::TryCreate),
                    "no such mailbox",
                );
            }
            Err(Refusal::OverQuota) => {
                return status(tag, StatusKind::No, Some(Code::OverQuota), "quota exceeded");
            }
            Err(e) => return no(tag, &e.to_string()),
        };
        self.shared.store.notify();
        let code = match (
            uid_set(pairs.iter().map(|p| p.0)),
            uid_set(pairs.iter().map(|p| p.1)),
        ) {
            (Some(source), Some(destination)) => Some(Code::CopyUid {
                uid_validity: nz(validity),
                source,
                destination,
            }),
            _ => None,
        };
        if moving {
            // RFC 6851 §4.3: COPYUID comes untagged, before the EXPUNGEs.
            server.enqueue_status(untagged(StatusKind::Ok, code, "moved"));
            let gone: BTreeSet<u32> = pairs.iter().map(|p| p.0).collect();
            let mut out = Out::new(server, &sel.contexts, &mut self.raw);
            report_expunged(&mut out, sel, &gone, true, self.qresync);
            ok(tag, "MOVE done")
        } else {
            status(tag, StatusKind::Ok, code, "COPY done")
        }
    }
}
