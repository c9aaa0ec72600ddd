//! The host-wide lookup tables in `--out` whose lines are keyed by address
//! or domain — Postfix's maps, Dovecot's passwd file — and where each
//! domain's lines stand in them. Such a file is a header of comment lines,
//! then a line per key grouped by the key's domain
//! ([`crate::output::key_domain`]) in byte order of the domain. The cache
//! keeps, for each, where the header ends and a mark every
//! [`MARK_EVERY`] bytes (the offset, line number and domain of a domain's
//! first line), never a line of the file: the Dovecot file holds password
//! hashes. A domain's lines are then found by reading from the mark before
//! them, and one domain's lines can be replaced without the others'.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::output::key_domain;

/// Bytes between two marks of a file (at least).
pub const MARK_EVERY: u64 = 256 * 1024;

/// The character that ends the key of a line of the table at `path` (as
/// relative to `--out`), if it is such a table.
pub fn separator(path: &str) -> Option<u8> {
    const POSTFIX: &[&str] = &[
        "virtual_domains",
        "virtual_mailboxes",
        "virtual_aliases",
        "relay_domains",
        "relay_recipients",
        "transport",
        "recipient_access",
        "sender_logins",
    ];
    let mut parts = path.split('/');
    let (Some(stack), Some(_host), Some(file), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    match (stack, file) {
        ("postfix", f) if POSTFIX.contains(&f) => Some(b'\t'),
        ("dovecot", "users") => Some(b':'),
        _ => None,
    }
}

/// Where a domain's first line is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub offset: u64,
    /// 0-based.
    pub line: u64,
    pub domain: String,
}

/// Where the lines of a table file are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Index {
    /// The length of the header (the comment lines before the first key).
    pub header: u64,
    /// Sorted by domain (and offset); the first is the first key's line.
    pub marks: Vec<Mark>,
}

/// One domain's lines in a table file: the domain, where they start and
/// end.
pub type Group<'a> = (&'a str, usize, usize);

/// A table file's header and its key lines by domain (the range of each
/// domain's lines): `None` when a line has no key, a comment follows a key,
/// or the domains are not in order.
pub fn groups(bytes: &[u8], sep: u8) -> Option<(usize, Vec<Group<'_>>)> {
    let mut at = 0;
    let mut header = None;
    let mut out: Vec<Group<'_>> = Vec::new();
    while at < bytes.len() {
        let end = memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i + 1);
        let line = &bytes[at..end];
        if header.is_none() {
            if line.starts_with(b"#") || line == b"\n" {
                at = end;
                continue;
            }
            header = Some(at);
        }
        let key = &line[..memchr(sep, line)?];
        let domain = key_domain(std::str::from_utf8(key).ok()?);
        if domain.is_empty() || key.starts_with(b"#") {
            return None;
        }
        match out.last_mut() {
            Some((d, _, e)) if *d == domain => *e = end,
            Some((d, _, _)) if *d > domain => return None,
            _ => out.push((domain, at, end)),
        }
        at = end;
    }
    Some((header.unwrap_or(bytes.len()), out))
}

fn memchr(b: u8, s: &[u8]) -> Option<usize> {
    s.iter().position(|&c| c == b)
}

/// The index of a table file's bytes (`None`: see [`groups`]).
pub fn index(bytes: &[u8], sep: u8) -> Option<Index> {
    let (header, groups) = groups(bytes, sep)?;
    let mut marks = Vec::new();
    let mut line = bytecount(&bytes[..header]);
    let mut counted = header;
    let mut last: Option<u64> = None;
    for (domain, start, _) in groups {
        if last.is_some_and(|l| (start as u64) < l + MARK_EVERY) {
            continue;
        }
        line += bytecount(&bytes[counted..start]);
        counted = start;
        marks.push(Mark {
            offset: start as u64,
            line,
            domain: domain.to_string(),
        });
        last = Some(start as u64);
    }
    Some(Index {
        header: header as u64,
        marks,
    })
}

fn bytecount(s: &[u8]) -> u64 {
    s.iter().filter(|&&b| b == b'\n').count() as u64
}

/// A stretch of whole lines of a table file around some domains' lines.
#[derive(Debug, PartialEq, Eq)]
pub struct Window {
    /// The 0-based number of its first line in the file.
    pub first_line: u64,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Where the lines of the domains asked for (and any between them)
    /// start and end within `bytes`.
    pub inner: (usize, usize),
    /// Whether it reaches the end of the file.
    pub at_end: bool,
}

/// The lines of `domains` in the table file at `path` (indexed as `index`)
/// with `context` whole lines around them, read from the mark before them.
/// `None` when the file is not as the index says (a line without a key, or
/// out of order).
pub fn window(
    path: &Path,
    index: &Index,
    sep: u8,
    domains: &BTreeSet<String>,
    context: usize,
) -> std::io::Result<Option<Window>> {
    let (Some(first), Some(last)) = (domains.first(), domains.last()) else {
        return Ok(None);
    };
    // From the last mark strictly before the first domain, or one further
    // back while that leaves fewer than `context` lines before it.
    let i = index.marks.partition_point(|m| m.domain < *first);
    for back in 1..=i + 1 {
        let (offset, line) = match i.checked_sub(back) {
            Some(j) => (index.marks[j].offset, index.marks[j].line),
            None => (0, 0),
        };
        match read_window(path, index, sep, (first, last), context, (offset, line))? {
            Scan::Enough(w) => return Ok(Some(w)),
            Scan::Bad => return Ok(None),
            Scan::Short => {}
        }
    }
    Ok(None)
}

enum Scan {
    Enough(Window),
    /// Fewer than `context` lines before the domains' lines: start earlier.
    Short,
    Bad,
}

fn read_window(
    path: &Path,
    index: &Index,
    sep: u8,
    (first, last): (&String, &String),
    context: usize,
    (offset, line): (u64, u64),
) -> std::io::Result<Scan> {
    // Not through a link: `--out` holds regular files only.
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut bytes: Vec<u8> = Vec::new();
    // Line starts within `bytes`, and their numbers.
    let mut starts: Vec<usize> = Vec::new();
    let mut inner: Option<(usize, usize)> = None;
    let mut after = 0;
    let mut at = offset;
    loop {
        let start = bytes.len();
        let n = reader.read_until(b'\n', &mut bytes)?;
        if n == 0 {
            break;
        }
        let l = &bytes[start..];
        let domain = if at < index.header {
            None
        } else {
            let Some(k) = memchr(sep, l) else {
                return Ok(Scan::Bad);
            };
            match std::str::from_utf8(&l[..k]) {
                Ok(key) => Some(key_domain(key).to_string()),
                Err(_) => return Ok(Scan::Bad),
            }
        };
        at += n as u64;
        starts.push(start);
        match (&mut inner, domain) {
            (None, Some(d)) if d.as_str() >= first.as_str() => {
                if d.as_str() > last.as_str() {
                    // No line of the domains: an empty stretch here.
                    inner = Some((start, start));
                    after = 1;
                } else {
                    inner = Some((start, bytes.len()));
                }
            }
            (Some((_, e)), Some(d)) if after == 0 && d.as_str() <= last.as_str() => {
                *e = bytes.len();
            }
            (Some(_), _) => after += 1,
            (None, _) => {}
        }
        if after > context {
            break;
        }
    }
    let at_end = after <= context;
    let (s, e) = inner.unwrap_or((bytes.len(), bytes.len()));
    // Keep `context` lines before the domains' lines.
    let before = starts.partition_point(|&x| x < s);
    if before < context && offset > 0 {
        return Ok(Scan::Short);
    }
    let cut = starts
        .get(before.saturating_sub(context))
        .copied()
        .unwrap_or(s)
        .min(s);
    // Drop the line read past the context.
    let keep = if at_end {
        bytes.len()
    } else {
        starts.last().copied().unwrap_or(bytes.len())
    };
    let first_line = line + starts.iter().take_while(|&&x| x < cut).count() as u64;
    bytes.truncate(keep);
    let bytes = bytes.split_off(cut);
    Ok(Scan::Enough(Window {
        first_line,
        bytes,
        inner: (s - cut, e - cut),
        at_end,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str =
        "# head\n# more\nb.x\tOK\na@c.x\tOK\nz@c.x\tOK\nd.x\tOK\n@e.x\tOK\nf.x\tOK\n";

    #[test]
    fn tables_are_recognised_by_path() {
        assert_eq!(separator("postfix/mx1/virtual_aliases"), Some(b'\t'));
        assert_eq!(separator("dovecot/mx1/users"), Some(b':'));
        assert_eq!(separator("postfix/mx1/main.cf"), None);
        assert_eq!(separator("dns/users"), None);
    }

    #[test]
    fn groups_need_keys_in_domain_order() {
        let (header, g) = groups(FILE.as_bytes(), b'\t').unwrap();
        assert_eq!(header, 14);
        let names: Vec<&str> = g.iter().map(|(d, _, _)| *d).collect();
        assert_eq!(names, ["b.x", "c.x", "d.x", "e.x", "f.x"]);
        assert!(groups(b"a.x\tOK\nb.x\tOK\na.x\tOK\n", b'\t').is_none());
        assert!(groups(b"a.x\tOK\n# late\n", b'\t').is_none());
        assert!(groups(b"a.x OK\n", b'\t').is_none());
    }

    #[test]
    fn a_window_holds_the_domains_lines_and_their_context() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t");
        std::fs::write(&path, FILE).unwrap();
        let idx = index(FILE.as_bytes(), b'\t').unwrap();
        assert_eq!(idx.marks.len(), 1);
        let ask = |ds: &[&str], context| {
            let set = ds.iter().map(|d| d.to_string()).collect();
            window(&path, &idx, b'\t', &set, context).unwrap().unwrap()
        };
        let w = ask(&["c.x"], 1);
        assert_eq!(w.first_line, 2);
        assert_eq!(
            std::str::from_utf8(&w.bytes).unwrap(),
            "b.x\tOK\na@c.x\tOK\nz@c.x\tOK\nd.x\tOK\n"
        );
        assert_eq!(&w.bytes[w.inner.0..w.inner.1], b"a@c.x\tOK\nz@c.x\tOK\n");
        assert!(!w.at_end);
        // A domain without lines: an empty stretch where they would be.
        let w = ask(&["cc.x"], 1);
        assert_eq!(w.inner.0, w.inner.1);
        assert_eq!(
            std::str::from_utf8(&w.bytes).unwrap(),
            "z@c.x\tOK\nd.x\tOK\n"
        );
        let w = ask(&["f.x"], 3);
        assert!(w.at_end);
        assert_eq!(w.first_line, 4);
        let w = ask(&["zz.x"], 1);
        assert_eq!(w.inner, (w.bytes.len(), w.bytes.len()));
        assert!(w.at_end);
    }
}
