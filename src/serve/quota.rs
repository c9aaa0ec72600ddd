//! Quota: the bytes of mail a user has, and the limit the manifest gives.
//! One measure for every protocol that adds mail (SMTP delivery, the
//! queue's local delivery, IMAP's APPEND, COPY and MOVE) and for what IMAP
//! reports (GETQUOTA, GETQUOTAROOT: RFC 9208).
//!
//! The measure is the length of every message file in `new/` and `cur/` of
//! the INBOX and of each `.FOLDER/`, read from the `,S=SIZE` that
//! Maildir++ file names carry (mailc writes it into every file it stores,
//! as Dovecot does) and from the file's metadata only for a name without
//! one. That is one directory read per folder, with no file opened, no
//! `stat` per message and nothing written: cheaper than a `stat` of every
//! file, and than summing IMAP's per-folder index, which has to read each
//! folder's uidlist and take its new mail in first. Expunged files kept for
//! the sessions not yet told ([`super::imap`]) are not counted.

use std::fs;
use std::path::Path;

use crate::manifest::Manifest;

use super::store::Store;

/// The quota the manifest gives `user` (an address of its users), in
/// bytes; `None`: no limit.
pub fn limit(manifest: &Manifest, user: &str) -> Option<u64> {
    manifest.users.get(user).and_then(|u| u.quota)
}

/// Whether `extra` more bytes fit in the quota the manifest gives `user`
/// (no quota: always). Blocking.
pub fn fits(store: &Store, manifest: &Manifest, user: &str, extra: u64) -> bool {
    let Some(quota) = limit(manifest, user) else {
        return true;
    };
    let Some(dir) = store.user_dir(user) else {
        return true;
    };
    usage(&dir).saturating_add(extra) <= quota
}

/// Bytes of mail of the user whose Maildir++ root is `dir` (what cannot
/// be read counts nothing). Blocking.
pub fn usage(dir: &Path) -> u64 {
    let mut folders = vec![dir.to_path_buf()];
    if let Ok(entries) = fs::read_dir(dir) {
        folders.extend(
            entries
                .flatten()
                .filter(|e| e.file_name().as_encoded_bytes().starts_with(b"."))
                .map(|e| e.path()),
        );
    }
    let mut total = 0u64;
    for folder in folders {
        // `new/` before `cur/`: a message an IMAP session moves between
        // the two reads is counted twice, never missed.
        for sub in ["new", "cur"] {
            let Ok(entries) = fs::read_dir(folder.join(sub)) else {
                continue;
            };
            for e in entries.flatten() {
                let size = match size_in_name(e.file_name().as_encoded_bytes()) {
                    Some(n) => n,
                    None => e
                        .metadata()
                        .ok()
                        .filter(|m| m.is_file())
                        .map_or(0, |m| m.len()),
                };
                total = total.saturating_add(size);
            }
        }
    }
    total
}

/// The file size a Maildir++ name states: `…,S=SIZE` before the info
/// (`:2,FLAGS`), among other `,KEY=VALUE` fields.
fn size_in_name(name: &[u8]) -> Option<u64> {
    let base = match name.iter().position(|&b| b == b':') {
        Some(i) => &name[..i],
        None => name,
    };
    base.split(|&b| b == b',')
        .skip(1)
        .find_map(|field| field.strip_prefix(b"S="))
        .and_then(|n| std::str::from_utf8(n).ok()?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_from_names() {
        assert_eq!(size_in_name(b"1.M2P3Q4.mailc,S=1234"), Some(1234));
        assert_eq!(size_in_name(b"1.M2P3Q4.mailc,S=1234:2,S"), Some(1234));
        assert_eq!(size_in_name(b"1.host,S=10,W=12:2,RS"), Some(10));
        assert_eq!(size_in_name(b"1.host:2,S"), None);
        assert_eq!(size_in_name(b"1.host,S=:2,"), None);
        assert_eq!(size_in_name(b"S=5"), None);
    }

    #[test]
    fn usage_counts_new_and_cur_of_every_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for sub in [
            "new",
            "cur",
            "tmp",
            ".Work/cur",
            ".Work/new",
            "mailc-expunged",
        ] {
            fs::create_dir_all(root.join(sub)).unwrap();
        }
        fs::write(root.join("new/1.a.mailc,S=5"), b"hello").unwrap();
        fs::write(root.join("cur/2.b.mailc,S=3:2,S"), b"abc").unwrap();
        // No size in the name: the file's length.
        fs::write(root.join(".Work/cur/3.c:2,"), b"seven!!").unwrap();
        // Neither tmp/ nor kept expunged files count.
        fs::write(root.join("tmp/4.d,S=100"), [0; 100]).unwrap();
        fs::write(root.join("mailc-expunged/5.e,S=100"), [0; 100]).unwrap();
        assert_eq!(usage(root), 5 + 3 + 7);
    }
}
