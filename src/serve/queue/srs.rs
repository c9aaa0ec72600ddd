//! The Sender Rewriting Scheme for forwarded mail: a forward of
//! `alice@origin.example` by `fwd.example` leaves with the envelope sender
//! `SRS0=HHHH=TT=origin.example=alice@fwd.example`, so SPF at the next hop
//! checks `fwd.example`, and a bounce to that address can be traced back to
//! alice — only by us, because `HHHH` is an HMAC under our secret. The
//! address format is the one libsrs2 and postsrsd use (SRS0 for a first
//! rewrite, SRS1 for a forward of an already rewritten address); the HMAC
//! is over the parts with their lengths (see [`hash`]), so only this
//! server reverses its addresses. It reverses them only for bounces (the
//! null sender): to anyone else an SRS address is no way through.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use base64::Engine as _;

/// How long a rewritten address is honoured, in days (libsrs2's default).
const MAX_AGE_DAYS: u64 = 21;
/// The timestamp wraps every 1024 days (two base32 characters).
const TIME_SLOTS: u64 = 1024;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// Characters of the base64 HMAC kept in the address.
const HASH_LEN: usize = 4;

/// Reads the secret of `DATA/srs.secret`, making it (random, mode 0600) when
/// missing. The key is the file's first line.
pub fn load_or_create_secret(path: &Path) -> io::Result<Vec<u8>> {
    match fs::read(path) {
        Ok(bytes) => return first_line(bytes, path),
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| io::Error::other(e.to_string()))?;
    let text = format!(
        "{}\n",
        base64::engine::general_purpose::STANDARD.encode(raw)
    );
    let tmp = path.with_extension("tmp");
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    // Another process (or thread) may have made one meanwhile: keep the
    // first, so addresses already handed out stay reversible.
    match fs::hard_link(&tmp, path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
    }
    let _ = fs::remove_file(&tmp);
    if let Some(dir) = path.parent() {
        fs::File::open(dir)?.sync_all()?;
    }
    first_line(fs::read(path)?, path)
}

fn first_line(bytes: Vec<u8>, path: &Path) -> io::Result<Vec<u8>> {
    let line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line).to_vec();
    if line.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} holds no secret", path.display()),
        ));
    }
    Ok(line)
}

fn days_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0)
}

fn timestamp(days: u64) -> String {
    let t = days % TIME_SLOTS;
    let hi = BASE32[(t >> 5) as usize & 31] as char;
    let lo = BASE32[t as usize & 31] as char;
    format!("{hi}{lo}")
}

fn timestamp_value(tt: &str) -> Option<u64> {
    let mut v = 0u64;
    if tt.len() != 2 {
        return None;
    }
    for c in tt.bytes() {
        let c = c.to_ascii_uppercase();
        let i = BASE32.iter().position(|b| *b == c)? as u64;
        v = (v << 5) | i;
    }
    Some(v)
}

/// The HMAC of the parts (lowercased: addresses are compared without case),
/// base64, first [`HASH_LEN`] characters. Each part goes in with its
/// length in front, so parts cannot be re-cut: `remote.test` + `a` and
/// `remote.tes` + `ta` hash differently (joined bare, they would not).
fn hash(secret: &[u8], parts: &[&str]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mut ctx = ring::hmac::Context::with_key(&key);
    for p in parts {
        let p = p.to_lowercase();
        ctx.update(&(p.len() as u64).to_be_bytes());
        ctx.update(p.as_bytes());
    }
    let tag = ctx.sign();
    let mut s = base64::engine::general_purpose::STANDARD.encode(tag.as_ref());
    s.truncate(HASH_LEN);
    s
}

fn hash_ok(secret: &[u8], given: &str, parts: &[&str]) -> bool {
    // Some hops change case: compare without it, as libsrs2 does.
    given.len() == HASH_LEN && hash(secret, parts).eq_ignore_ascii_case(given)
}

/// Splits a local part at its first `=` or `-` after the `SRS0`/`SRS1` tag
/// (libsrs2 accepts both separators there).
fn strip_tag<'a>(local: &'a str, tag: &str) -> Option<&'a str> {
    if local.len() > tag.len() + 1 && local[..tag.len()].eq_ignore_ascii_case(tag) {
        let rest = &local[tag.len()..];
        return rest.strip_prefix('=').or_else(|| rest.strip_prefix('-'));
    }
    None
}

/// The SRS form of `sender` as forwarded by `domain`. `None` when there is
/// nothing to rewrite: the null sender, an address without a domain, or a
/// sender of `domain` itself.
pub fn forward(secret: &[u8], sender: &str, domain: &str) -> Option<String> {
    let (local, sdomain) = sender.rsplit_once('@')?;
    if local.is_empty() || sdomain.is_empty() || sdomain.eq_ignore_ascii_case(domain) {
        return None;
    }
    if let Some(rest) = strip_tag(local, "SRS0") {
        // Forward of a forward: SRS1=HHHH=first-forwarder==HHHH=TT=…
        let h = hash(secret, &[sdomain, rest]);
        return Some(format!("SRS1={h}={sdomain}=={rest}@{domain}"));
    }
    if let Some(rest) = strip_tag(local, "SRS1") {
        // Already SRS1: keep its first forwarder, re-sign for us.
        let (_old_hash, tail) = rest.split_once('=')?;
        let (first, srs0_rest) = tail.split_once("==")?;
        let h = hash(secret, &[first, srs0_rest]);
        return Some(format!("SRS1={h}={first}=={srs0_rest}@{domain}"));
    }
    let tt = timestamp(days_now());
    let h = hash(secret, &[&tt, sdomain, local]);
    Some(format!("SRS0={h}={tt}={sdomain}={local}@{domain}"))
}

/// The address an SRS address of ours stands for: the original sender for
/// SRS0 (when its hash is ours and it is at most 21 days old), the first
/// forwarder's SRS0 address for SRS1. `None` for anything else — not SRS, a
/// forged or damaged hash, an expired timestamp.
pub fn reverse(secret: &[u8], address: &str) -> Option<String> {
    reverse_at(secret, address, days_now())
}

fn reverse_at(secret: &[u8], address: &str, today: u64) -> Option<String> {
    let (local, _ours) = address.rsplit_once('@')?;
    if let Some(rest) = strip_tag(local, "SRS0") {
        let mut it = rest.splitn(4, '=');
        let (h, tt, domain, orig) = (it.next()?, it.next()?, it.next()?, it.next()?);
        if domain.is_empty() || orig.is_empty() || !hash_ok(secret, h, &[tt, domain, orig]) {
            return None;
        }
        let then = timestamp_value(tt)?;
        let age = (today % TIME_SLOTS + TIME_SLOTS - then) % TIME_SLOTS;
        if age > MAX_AGE_DAYS {
            return None;
        }
        return Some(format!("{orig}@{domain}"));
    }
    if let Some(rest) = strip_tag(local, "SRS1") {
        let (h, tail) = rest.split_once('=')?;
        let (first, srs0_rest) = tail.split_once("==")?;
        if first.is_empty() || srs0_rest.is_empty() || !hash_ok(secret, h, &[first, srs0_rest]) {
            return None;
        }
        return Some(format!("SRS0={srs0_rest}@{first}"));
    }
    None
}

/// Whether `address` has the SRS form (says nothing about its hash).
pub fn is_srs(address: &str) -> bool {
    address
        .rsplit_once('@')
        .is_some_and(|(l, _)| strip_tag(l, "SRS0").is_some() || strip_tag(l, "SRS1").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &[u8] = b"test-secret";

    #[test]
    fn forward_then_reverse() {
        let a = forward(K, "alice@origin.example", "fwd.example").unwrap();
        assert!(a.starts_with("SRS0="), "{a}");
        assert!(a.ends_with("=origin.example=alice@fwd.example"), "{a}");
        assert_eq!(
            a.len(),
            "SRS0=HHHH=TT=origin.example=alice@fwd.example".len()
        );
        assert!(is_srs(&a));
        assert_eq!(reverse(K, &a).as_deref(), Some("alice@origin.example"));
        // Case changes on the way back do not matter.
        assert_eq!(
            reverse(K, &a.to_lowercase()).as_deref(),
            Some("alice@origin.example")
        );
    }

    #[test]
    fn refuses_forged_and_old() {
        let a = forward(K, "alice@origin.example", "fwd.example").unwrap();
        assert_eq!(reverse(b"other", &a), None);
        let forged = a.replace("alice", "mallory");
        assert_eq!(reverse(K, &forged), None);
        assert_eq!(reverse(K, "bob@fwd.example"), None);
        assert_eq!(reverse(K, "SRS0=x@fwd.example"), None);
        let today = days_now();
        let tt = timestamp(today);
        let h = hash(K, &[&tt, "o.example", "a"]);
        let addr = format!("SRS0={h}={tt}=o.example=a@f.example");
        assert!(reverse_at(K, &addr, today + 21).is_some());
        assert!(reverse_at(K, &addr, today + 22).is_none());
    }

    #[test]
    fn parts_cannot_be_recut() {
        let a = forward(K, "a@remote.test", "fwd.example").unwrap();
        assert_eq!(reverse(K, &a).as_deref(), Some("a@remote.test"));
        let recut = a.replace("=remote.test=a@", "=remote.tes=ta@");
        assert_ne!(recut, a);
        assert_eq!(reverse(K, &recut), None);
        let first = forward(K, "alice@origin.example", "one.example").unwrap();
        let second = forward(K, &first, "two.example").unwrap();
        let recut = second.replacen("=one.example==", "=one.exampl==e", 1);
        assert_eq!(reverse(K, &recut), None);
    }

    #[test]
    fn nothing_to_rewrite() {
        assert_eq!(forward(K, "", "fwd.example"), None);
        assert_eq!(forward(K, "bob@fwd.example", "fwd.example"), None);
        assert_eq!(forward(K, "nodomain", "fwd.example"), None);
    }

    #[test]
    fn forward_of_a_forward_is_srs1() {
        let first = forward(K, "alice@origin.example", "one.example").unwrap();
        let second = forward(K, &first, "two.example").unwrap();
        assert!(second.starts_with("SRS1="), "{second}");
        assert!(second.contains("=one.example=="), "{second}");
        let back = reverse(K, &second).unwrap();
        assert_eq!(back, first);
        let third = forward(K, &second, "three.example").unwrap();
        assert_eq!(reverse(K, &third).unwrap(), first);
    }

    #[test]
    fn timestamps_round_trip() {
        for d in [0, 1, 31, 32, 1023, 1024, 20_000] {
            assert_eq!(timestamp_value(&timestamp(d)), Some(d % 1024));
        }
    }

    #[test]
    fn secret_file_is_private_and_stable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("srs.secret");
        let a = load_or_create_secret(&p).unwrap();
        let b = load_or_create_secret(&p).unwrap();
        assert_eq!(a, b);
        assert!(a.len() >= 32);
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
