//! The only way mailc touches what lies below `--out`: folder handles opened
//! one name at a time with `O_NOFOLLOW` (`openat`, `renameat`, `unlinkat` on
//! them), so that a symbolic link anywhere below `--out` is refused with its
//! path — never followed — when reading, writing and deleting alike, and a
//! folder swapped for a link half-way cannot redirect a write.
//!
//! `--out` itself is opened as given: the operator names it, and a link
//! there is their choice. Below it, a file is read only when it is a
//! regular file with no other hard link (a link to a file elsewhere would
//! show that file's bytes in a diff), and at most [`MAX_FILE`] long.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;
use thiserror::Error;

use super::current::Found;
use super::path;

/// The largest file mailc reads in `--out`.
pub const MAX_FILE: u64 = crate::limits::OUT_FILE_BYTES;

#[derive(Debug, Error)]
pub enum TreeError {
    #[error(
        "`{}` is a symbolic link: mailc never follows links inside the output folder",
        .0.display()
    )]
    Symlink(PathBuf),
    #[error("`{}` is not a regular file", .0.display())]
    NotAFile(PathBuf),
    #[error("`{}` is not a folder", .0.display())]
    NotAFolder(PathBuf),
    #[error(
        "`{}` has other hard links: mailc never reads a file that is also linked from elsewhere",
        .0.display()
    )]
    HardLinked(PathBuf),
    #[error(
        "`{}` must be a file of mailc's own: owned by the user mailc runs as, mode 0600",
        .0.display()
    )]
    NotPrivate(PathBuf),
    #[error(
        "`{}` is larger than {}, more than any file mailc writes",
        .0.display(),
        crate::limits::bytes(MAX_FILE)
    )]
    TooLarge(PathBuf),
    #[error("cannot {what} `{}`: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl TreeError {
    /// The fix, for the command layer's `help:` line.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            TreeError::Symlink(_) => Some(
                "remove the link: mailc writes only real files and folders below `--out`; keep `--out` writable by mailc's user alone",
            ),
            TreeError::HardLinked(_) | TreeError::NotAFile(_) => {
                Some("remove it: mailc writes a regular file of its own there")
            }
            TreeError::NotAFolder(_) => Some("remove it: mailc writes a folder there"),
            _ => None,
        }
    }
}

fn io(what: &'static str, path: &Path, e: impl Into<io::Error>) -> TreeError {
    TreeError::Io {
        what,
        path: path.to_path_buf(),
        source: e.into(),
    }
}

/// An open folder: `--out` or one below it.
#[derive(Debug)]
pub struct Folder {
    fd: OwnedFd,
    /// For messages only; never opened by name.
    path: PathBuf,
}

/// Opening a folder by one name: absent, a link, something else, or open.
enum Opened {
    Absent,
    NotAFolder,
    Folder(Folder),
}

impl Folder {
    /// `--out` itself (links followed: the operator named it); `None` when
    /// it does not exist.
    pub fn open_out(out: &Path) -> Result<Option<Folder>, TreeError> {
        match rustix::fs::open(
            out,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => Ok(Some(Folder {
                fd,
                path: out.to_path_buf(),
            })),
            Err(Errno::NOENT) => Ok(None),
            Err(Errno::NOTDIR) => Err(TreeError::NotAFolder(out.to_path_buf())),
            Err(e) => Err(io("open the folder", out, e)),
        }
    }

    /// `--out`, made (with its parents, as `mkdir -p`) when absent; and
    /// whether it was made.
    pub fn create_out(out: &Path) -> Result<(Folder, bool), TreeError> {
        if let Some(f) = Self::open_out(out)? {
            return Ok((f, false));
        }
        std::fs::create_dir_all(out).map_err(|e| io("create the folder", out, e))?;
        match Self::open_out(out)? {
            Some(f) => Ok((f, true)),
            None => Err(io(
                "open the folder",
                out,
                io::Error::from(io::ErrorKind::NotFound),
            )),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn child(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    fn open_sub(&self, name: &str) -> Result<Opened, TreeError> {
        let at = self.child(name);
        match rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => Ok(Opened::Folder(Folder { fd, path: at })),
            Err(Errno::NOENT) => Ok(Opened::Absent),
            Err(Errno::LOOP) => Err(TreeError::Symlink(at)),
            Err(Errno::NOTDIR) => {
                // `O_DIRECTORY` on a link may say "not a folder" too.
                match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(st) if rustix::fs::FileType::from_raw_mode(st.st_mode).is_symlink() => {
                        Err(TreeError::Symlink(at))
                    }
                    _ => Ok(Opened::NotAFolder),
                }
            }
            Err(e) => Err(io("open the folder", &at, e)),
        }
    }

    /// The folder `name` inside this one; `None` when absent or not a
    /// folder (a plan then sees nothing there).
    pub fn sub(&self, name: &str) -> Result<Option<Folder>, TreeError> {
        Ok(match self.open_sub(name)? {
            Opened::Folder(f) => Some(f),
            Opened::Absent | Opened::NotAFolder => None,
        })
    }

    /// The folder `name` inside this one, made (mode 0777 less the umask)
    /// when absent; and whether it was made.
    pub fn sub_or_create(&self, name: &str) -> Result<(Folder, bool), TreeError> {
        let mut made = false;
        loop {
            match self.open_sub(name)? {
                Opened::Folder(f) => return Ok((f, made)),
                Opened::NotAFolder => return Err(TreeError::NotAFolder(self.child(name))),
                Opened::Absent if !made => {
                    match rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o777)) {
                        Ok(()) => made = true,
                        Err(Errno::EXIST) => {}
                        Err(e) => return Err(io("create the folder", &self.child(name), e)),
                    }
                }
                Opened::Absent => {
                    return Err(io(
                        "create the folder",
                        &self.child(name),
                        io::Error::from(io::ErrorKind::NotFound),
                    ));
                }
            }
        }
    }

    /// The file `name` in this folder: `None` when absent; refused when it
    /// is a link, not a regular file, hard-linked elsewhere or too large.
    pub fn read(&self, name: &str) -> Result<Option<Found>, TreeError> {
        let Some((mut file, meta, at)) = self.open_file(name)? else {
            return Ok(None);
        };
        let bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        finish_read(&mut file, &meta, &at, bytes).map(Some)
    }

    /// [`Folder::read`], compared with `same` as it is read: when the file
    /// holds exactly these bytes, only its mode and time are kept (a plan
    /// of a large unchanged output never holds two copies of it).
    pub fn read_unless(&self, name: &str, same: &[u8]) -> Result<Compared, TreeError> {
        let Some((mut file, meta, at)) = self.open_file(name)? else {
            return Ok(Compared::Absent);
        };
        let differs = |bytes: Vec<u8>, file: &mut File| {
            finish_read(file, &meta, &at, bytes).map(Compared::Differs)
        };
        if meta.len() != same.len() as u64 {
            let bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
            return differs(bytes, &mut file);
        }
        let mut buf = vec![0u8; COMPARE_CHUNK];
        let mut at_byte = 0;
        loop {
            let n = match file.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io("read", &at, e)),
            };
            let rest = &same[at_byte..];
            if n == 0 && rest.is_empty() {
                let nanos = u32::try_from(meta.mtime_nsec()).unwrap_or(0);
                return Ok(Compared::Same {
                    mode: meta.mode() & 0o7777,
                    modified: (meta.mtime(), nanos),
                });
            }
            if n == 0 || rest.get(..n) != Some(&buf[..n]) {
                // Not the same: the bytes so far, then the rest.
                let mut bytes = Vec::with_capacity(same.len().max(at_byte + n));
                bytes.extend_from_slice(&same[..at_byte]);
                bytes.extend_from_slice(&buf[..n]);
                return differs(bytes, &mut file);
            }
            at_byte += n;
        }
    }

    /// Opens the regular file `name` for reading, checked as
    /// [`Folder::read`] says; `None` when absent.
    fn open_file(
        &self,
        name: &str,
    ) -> Result<Option<(File, std::fs::Metadata, PathBuf)>, TreeError> {
        let at = self.child(name);
        // Non-blocking: a FIFO left there must not hang the plan.
        let fd = match rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(None),
            Err(Errno::LOOP) => return Err(TreeError::Symlink(at)),
            Err(Errno::NXIO) => return Err(TreeError::NotAFile(at)),
            Err(e) => return Err(io("read", &at, e)),
        };
        let file = File::from(fd);
        let meta = file.metadata().map_err(|e| io("read", &at, e))?;
        if !meta.is_file() {
            return Err(TreeError::NotAFile(at));
        }
        if meta.nlink() != 1 {
            return Err(TreeError::HardLinked(at));
        }
        if meta.len() > MAX_FILE {
            return Err(TreeError::TooLarge(at));
        }
        Ok(Some((file, meta, at)))
    }

    /// The bytes of a private file of exactly `len` bytes: a regular file
    /// with one link, owned by the user mailc runs as and readable by it
    /// alone. `None` when absent; anything else is refused.
    pub fn read_private(&self, name: &str, len: usize) -> Result<Option<Vec<u8>>, TreeError> {
        let at = self.child(name);
        let fd = match rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(None),
            Err(Errno::LOOP) => return Err(TreeError::Symlink(at)),
            Err(e) => return Err(io("read", &at, e)),
        };
        let mut file = File::from(fd);
        let meta = file.metadata().map_err(|e| io("read", &at, e))?;
        if !meta.is_file() || meta.nlink() != 1 {
            return Err(TreeError::NotAFile(at));
        }
        if meta.uid() != rustix::process::geteuid().as_raw() || meta.mode() & 0o077 != 0 {
            return Err(TreeError::NotPrivate(at));
        }
        let mut bytes = Vec::with_capacity(len);
        (&mut file)
            .take(len as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io("read", &at, e))?;
        if bytes.len() != len {
            return Err(TreeError::NotPrivate(at));
        }
        Ok(Some(bytes))
    }

    /// A new, empty file `name` (mode 0600 until `set_mode`), never over
    /// anything that exists.
    pub fn create_new(&self, name: &str) -> Result<File, TreeError> {
        rustix::fs::openat(
            &self.fd,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map(File::from)
        .map_err(|e| io("create", &self.child(name), e))
    }

    /// Opens (creating) a file for locking; a link there is refused.
    pub fn open_lock(&self, name: &str) -> Result<File, TreeError> {
        match rustix::fs::openat(
            &self.fd,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        ) {
            Ok(fd) => Ok(File::from(fd)),
            Err(Errno::LOOP) => Err(TreeError::Symlink(self.child(name))),
            Err(e) => Err(io("open the lock file", &self.child(name), e)),
        }
    }

    /// Renames `from` to `to`, both in this folder. A link at `to` is
    /// replaced, not followed.
    pub fn rename(&self, from: &str, to: &str) -> Result<(), TreeError> {
        rustix::fs::renameat(&self.fd, from, &self.fd, to)
            .map_err(|e| io("write", &self.child(to), e))
    }

    /// Removes the file `name` (a link there is removed, not followed);
    /// absent is fine.
    pub fn remove_file(&self, name: &str) -> Result<(), TreeError> {
        match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(io("delete", &self.child(name), e)),
        }
    }

    /// Removes the folder `name` if it is empty; whether it was removed.
    pub fn remove_empty(&self, name: &str) -> bool {
        rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR).is_ok()
    }

    /// Makes this folder's entries durable.
    pub fn sync(&self) -> Result<(), TreeError> {
        rustix::fs::fsync(&self.fd).map_err(|e| io("sync the folder", &self.path, e))
    }

    /// The names of the regular files in this folder.
    pub fn files(&self) -> Result<Vec<String>, TreeError> {
        let fd = self.fd.as_fd();
        let dir = rustix::fs::Dir::read_from(fd).map_err(|e| io("list", &self.path, e))?;
        let mut names = Vec::new();
        for entry in dir {
            let entry = entry.map_err(|e| io("list", &self.path, e))?;
            if entry.file_type() == rustix::fs::FileType::RegularFile
                && let Ok(name) = entry.file_name().to_str()
            {
                names.push(name.to_string());
            }
        }
        Ok(names)
    }
}

/// How much of a file [`Folder::read_unless`] compares at a time.
const COMPARE_CHUNK: usize = 1 << 16;

/// A file of `--out` read against the bytes it should hold.
#[derive(Debug)]
pub enum Compared {
    Absent,
    /// It holds exactly those bytes (not kept); its permission bits and
    /// modification time.
    Same {
        mode: u32,
        modified: (i64, u32),
    },
    Differs(Found),
}

/// Reads the rest of `file` after `bytes` (at most [`MAX_FILE`] in all).
fn finish_read(
    file: &mut File,
    meta: &std::fs::Metadata,
    at: &Path,
    mut bytes: Vec<u8>,
) -> Result<Found, TreeError> {
    let limit = (MAX_FILE + 1).saturating_sub(bytes.len() as u64);
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| io("read", at, e))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(TreeError::TooLarge(at.to_path_buf()));
    }
    let nanos = u32::try_from(meta.mtime_nsec()).unwrap_or(0);
    Ok(Found::new(bytes, meta.mode(), (meta.mtime(), nanos)))
}

/// The folders below `--out`, each opened once, by relative path (`""` is
/// `--out`).
#[derive(Debug)]
pub struct Tree {
    out: PathBuf,
    open: HashMap<String, Option<Arc<Folder>>>,
    /// Folders made by [`Tree::folder_or_create`] whose parents must be
    /// synced.
    made: Vec<Arc<Folder>>,
}

impl Tree {
    /// `--out`; nothing is opened yet.
    pub fn new(out: &Path) -> Tree {
        Tree {
            out: out.to_path_buf(),
            open: HashMap::new(),
            made: Vec::new(),
        }
    }

    pub fn out(&self) -> &Path {
        &self.out
    }

    /// The folder at relative path `rel` (`/`-separated, checked); `None`
    /// when it or a folder above it is absent.
    pub fn folder(&mut self, rel: &str) -> Result<Option<Arc<Folder>>, TreeError> {
        if let Some(f) = self.open.get(rel) {
            return Ok(f.clone());
        }
        let f = match rel.rsplit_once('/') {
            _ if rel.is_empty() => Folder::open_out(&self.out)?.map(Arc::new),
            Some((parent, name)) => match self.folder(parent)? {
                Some(p) => p.sub(name)?.map(Arc::new),
                None => None,
            },
            None => match self.folder("")? {
                Some(p) => p.sub(rel)?.map(Arc::new),
                None => None,
            },
        };
        self.open.insert(rel.to_string(), f.clone());
        Ok(f)
    }

    /// [`Tree::folder`], making what is absent.
    pub fn folder_or_create(&mut self, rel: &str) -> Result<Arc<Folder>, TreeError> {
        if let Some(Some(f)) = self.open.get(rel) {
            return Ok(f.clone());
        }
        let f = if rel.is_empty() {
            let (f, made) = Folder::create_out(&self.out)?;
            let f = Arc::new(f);
            if made {
                // Its parent is the operator's; made durable by name.
                if let Some(parent) = self.out.parent().filter(|p| !p.as_os_str().is_empty()) {
                    File::open(parent)
                        .and_then(|d| d.sync_all())
                        .map_err(|e| io("sync the folder", parent, e))?;
                }
            }
            f
        } else {
            let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
            let p = self.folder_or_create(parent)?;
            let (f, made) = p.sub_or_create(name)?;
            if made {
                self.made.push(p);
            }
            Arc::new(f)
        };
        self.open.insert(rel.to_string(), Some(f.clone()));
        Ok(f)
    }

    /// Syncs the parents of every folder made so far.
    pub fn sync_made(&mut self) -> Result<(), TreeError> {
        for f in std::mem::take(&mut self.made) {
            f.sync()?;
        }
        Ok(())
    }

    /// The file at relative path `rel` (checked by [`path::check`]).
    pub fn read(&mut self, rel: &str) -> Result<Option<Found>, TreeError> {
        let (dir, name) = split(rel);
        match self.folder(dir)? {
            Some(f) => f.read(name),
            None => Ok(None),
        }
    }

    /// [`Folder::read_unless`] of the file at relative path `rel`.
    pub fn read_unless(&mut self, rel: &str, same: &[u8]) -> Result<Compared, TreeError> {
        let (dir, name) = split(rel);
        match self.folder(dir)? {
            Some(f) => f.read_unless(name, same),
            None => Ok(Compared::Absent),
        }
    }

    /// Forgets the folder `rel` and those below it (it was removed).
    pub fn forget_below(&mut self, rel: &str) {
        let prefix = format!("{rel}/");
        self.open.retain(|k, _| k != rel && !k.starts_with(&prefix));
    }

    /// The file system path of `rel`, for messages.
    pub fn display(&self, rel: &str) -> PathBuf {
        path::join(&self.out, rel)
    }
}

/// `dns/a.zone` → (`dns`, `a.zone`); `a` → (``, `a`).
pub fn split(rel: &str) -> (&str, &str) {
    rel.rsplit_once('/').unwrap_or(("", rel))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_below_out_are_refused_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir_all(out.join("a")).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("secret"), "s3cret").unwrap();
        symlink(elsewhere.join("secret"), out.join("a/file")).unwrap();
        symlink(&elsewhere, out.join("b")).unwrap();
        let mut t = Tree::new(&out);
        assert!(matches!(t.read("a/file"), Err(TreeError::Symlink(_))));
        assert!(matches!(t.read("b/secret"), Err(TreeError::Symlink(_))));
        assert!(matches!(
            t.folder_or_create("b/c"),
            Err(TreeError::Symlink(_))
        ));
        assert!(!elsewhere.join("c").exists());
        assert_eq!(t.read("a/absent").unwrap(), None);
        assert_eq!(t.read("x/y/z").unwrap(), None);
    }

    /// A file read against its expected bytes: only a difference is kept,
    /// and then whole, wherever it starts.
    #[test]
    fn read_unless_keeps_only_what_differs() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let same: Vec<u8> = (0..3 * COMPARE_CHUNK + 7)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut t = Tree::new(out);
        assert!(matches!(
            t.read_unless("f", &same).unwrap(),
            Compared::Absent
        ));
        std::fs::write(out.join("f"), &same).unwrap();
        assert!(matches!(
            t.read_unless("f", &same).unwrap(),
            Compared::Same { .. }
        ));
        let mut late = same.clone();
        *late.last_mut().unwrap() ^= 1;
        let mut early = same.clone();
        early[COMPARE_CHUNK + 3] ^= 1;
        let longer = [same.as_slice(), b"more"].concat();
        let shorter = same[..COMPARE_CHUNK * 2].to_vec();
        for other in [late, early, longer, shorter, Vec::new()] {
            std::fs::write(out.join("f"), &other).unwrap();
            match t.read_unless("f", &same).unwrap() {
                Compared::Differs(f) => assert!(f.bytes == other, "{} bytes", other.len()),
                c => panic!("{c:?} for {} bytes", other.len()),
            }
        }
    }

    #[test]
    fn hard_links_fifos_and_folders_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        std::fs::write(out.join("f"), "x").unwrap();
        std::fs::hard_link(out.join("f"), out.join("g")).unwrap();
        std::fs::create_dir(out.join("d")).unwrap();
        let fifo = std::ffi::CString::new(out.join("p").to_str().unwrap()).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            fifo.as_c_str(),
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let mut t = Tree::new(out);
        assert!(matches!(t.read("g"), Err(TreeError::HardLinked(_))));
        assert!(matches!(t.read("d"), Err(TreeError::NotAFile(_))));
        assert!(matches!(t.read("p"), Err(TreeError::NotAFile(_))));
    }
}
