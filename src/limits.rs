//! Every size limit on what mailc reads, in one place: the spec, each value
//! in it, the files it names, saved plans and the files of `--out`. Each is
//! generous for real use — a spec of a million mailboxes is about 200 MB —
//! and stops a hostile input from costing gigabytes. `docs/security.md`
//! lists them.

use std::io::{self, Read};
use std::path::Path;

/// A spec file: 512 MiB (2.5 times a spec of a million mailboxes). A spec
/// and the files it includes may hold this much together.
pub const SPEC_BYTES: u64 = 512 << 20;

/// The files a spec may include: 100,000 (five times a file per domain of
/// a hosting spec of 20,000 domains).
pub const INCLUDED_FILES: usize = 100_000;

/// One value of a spec (a name, an address, a hash, a record's value):
/// 64 KiB, the most one DNS record can hold (RFC 1035 §3.2.1: RDLENGTH is
/// 16 bits).
pub const VALUE_BYTES: usize = 64 << 10;

/// A DKIM private key file: 64 KiB (an RSA-16384 key in PEM is 13 KB).
pub const KEY_FILE_BYTES: u64 = 64 << 10;

/// The addresses all alias expansions of a spec may list together: five
/// million. Every alias lists each address it reaches, so a spec that nests
/// aliases deeply can ask for tables quadratic in its size; a hosting spec
/// of 100,000 mailboxes with 25 aliases per domain lists under 50,000.
pub const ALIAS_ADDRESSES: usize = 5_000_000;

/// A saved plan: 4 GiB (it holds every public file the plan writes).
pub const PLAN_FILE_BYTES: u64 = 4 << 30;

/// One file of `--out` read for a diff: 1 GiB, more than any file mailc
/// writes.
pub const OUT_FILE_BYTES: u64 = 1 << 30;

/// Why a file could not be read within its limit.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// Not a regular file (a folder, a FIFO, a device).
    NotAFile,
    TooLarge {
        limit: u64,
    },
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => e.fmt(f),
            ReadError::NotAFile => f.write_str("not a regular file"),
            ReadError::TooLarge { limit } => write!(f, "larger than {}", bytes(*limit)),
        }
    }
}

/// `1 GiB`, `64 KiB`, `512 MiB`: a limit as people read it.
pub fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n.is_multiple_of(1 << 30) => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 && n.is_multiple_of(1 << 20) => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n.is_multiple_of(1 << 10) => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

/// Reads a regular file of at most `limit` bytes, without ever holding
/// more than `limit + 1` of them (a FIFO is refused, not waited on).
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    read_with_meta(path, limit).map(|(bytes, _)| bytes)
}

/// [`read`], with the file's metadata as it was just before its bytes were
/// read (what the cache records of an input).
pub fn read_with_meta(path: &Path, limit: u64) -> Result<(Vec<u8>, std::fs::Metadata), ReadError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile);
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    (&mut file)
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok((bytes, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_as_people_write_them() {
        assert_eq!(bytes(SPEC_BYTES), "512 MiB");
        assert_eq!(bytes(VALUE_BYTES as u64), "64 KiB");
        assert_eq!(bytes(OUT_FILE_BYTES), "1 GiB");
        assert_eq!(bytes(1000), "1000 bytes");
    }

    #[test]
    fn reads_within_the_limit_only() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, "12345").unwrap();
        assert_eq!(read(&f, 5).unwrap(), b"12345");
        assert!(matches!(read(&f, 4), Err(ReadError::TooLarge { limit: 4 })));
        assert!(matches!(read(dir.path(), 4), Err(ReadError::NotAFile)));
    }
}
