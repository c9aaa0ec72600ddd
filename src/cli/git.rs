//! Reading a git repository's objects for `mailc diff`, through the `git`
//! program: revisions to commits, files at a commit, and renames. Nothing is
//! checked out and nothing in the repository is written (optional locks
//! off, so not even the index is refreshed). Files and folders are read
//! through one `git cat-file --batch` process per repository, however many
//! files a spec includes.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::sync::{Arc, Mutex};

/// Why git could not answer.
#[derive(Debug)]
pub struct GitError {
    pub message: String,
    pub help: String,
}

impl GitError {
    fn new(message: impl Into<String>, help: impl Into<String>) -> Self {
        GitError {
            message: message.into(),
            help: help.into(),
        }
    }
}

/// The repository around a folder.
pub struct Repo {
    /// Its top folder.
    pub top: PathBuf,
    /// The object reader, started at the first file or folder asked for.
    batch: Mutex<Option<Batch>>,
}

/// One entry of a tree object: mode (`100644`, `40000`, …), object id.
type Entries = Arc<HashMap<String, (String, String)>>;

/// A running `git cat-file --batch`: object names in, objects out.
struct Batch {
    child: Child,
    input: Option<ChildStdin>,
    output: BufReader<ChildStdout>,
    /// Trees already read, by `COMMIT:DIR` (`None`: not a folder there).
    trees: HashMap<String, Option<Entries>>,
}

/// An object as `cat-file --batch` gives it.
struct Object {
    kind: String,
    /// Hex digits of its id (40 for SHA-1, 64 for SHA-256 repositories).
    id_len: usize,
    bytes: Vec<u8>,
}

impl Batch {
    fn start(top: &Path) -> Result<Batch, GitError> {
        let mut child = Command::new("git")
            .arg("-C")
            .arg(top)
            .args(["cat-file", "--batch"])
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("LC_ALL", "C")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                GitError::new(
                    format!("cannot run `git`: {e}"),
                    "install git: `mailc diff` reads the spec's revisions with it",
                )
            })?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(broken());
        };
        Ok(Batch {
            child,
            input: Some(input),
            output: BufReader::new(output),
            trees: HashMap::new(),
        })
    }

    /// The object `name` names (`COMMIT:PATH`, an id), `None` when there
    /// is none. At most `limit` bytes are kept; a larger object is an
    /// error once it is read past.
    fn object(&mut self, name: &str, limit: u64) -> Result<Option<Object>, GitError> {
        if name.contains('\n') {
            return Ok(None);
        }
        let input = self.input.as_mut().ok_or_else(broken)?;
        input
            .write_all(format!("{name}\n").as_bytes())
            .and_then(|()| input.flush())
            .map_err(|_| broken())?;
        let mut head = String::new();
        self.output.read_line(&mut head).map_err(|_| broken())?;
        let fields: Vec<&str> = head.trim_end().split(' ').collect();
        let [id, kind, size] = fields[..] else {
            // `NAME missing`, `NAME ambiguous`: no such object.
            return if head.is_empty() {
                Err(broken())
            } else {
                Ok(None)
            };
        };
        let size: u64 = size.parse().map_err(|_| broken())?;
        let mut bytes = Vec::new();
        (&mut self.output)
            .take(size)
            .read_to_end(&mut bytes)
            .map_err(|_| broken())?;
        let mut newline = [0u8; 1];
        self.output.read_exact(&mut newline).map_err(|_| broken())?;
        if bytes.len() as u64 != size {
            return Err(broken());
        }
        if size > limit {
            return Err(GitError::new(
                format!("`{name}` is larger than 256 MiB"),
                "this does not look like a file mailc reads",
            ));
        }
        Ok(Some(Object {
            kind: kind.to_string(),
            id_len: id.len(),
            bytes,
        }))
    }

    /// The entries of the folder `dir` at `commit`.
    fn tree(&mut self, commit: &str, dir: &str) -> Result<Option<Entries>, GitError> {
        let name = format!("{commit}:{dir}");
        if let Some(t) = self.trees.get(&name) {
            return Ok(t.clone());
        }
        let entries = match self.object(&name, MAX_BLOB)? {
            Some(o) if o.kind == "tree" => Some(Arc::new(parse_tree(&o.bytes, o.id_len / 2))),
            _ => None,
        };
        self.trees.insert(name, entries.clone());
        Ok(entries)
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        // End of input ends git.
        drop(self.input.take());
        let _ = self.child.wait();
    }
}

fn broken() -> GitError {
    GitError::new(
        "`git cat-file --batch` stopped answering",
        "check that git works in this repository (`git status`)",
    )
}

/// A tree object's entries: `MODE NAME\0` and the raw id, one after the
/// other.
fn parse_tree(mut raw: &[u8], id_bytes: usize) -> HashMap<String, (String, String)> {
    let mut entries = HashMap::new();
    while let Some(nul) = raw.iter().position(|&b| b == 0) {
        let head = String::from_utf8_lossy(&raw[..nul]).into_owned();
        let Some(id) = raw.get(nul + 1..nul + 1 + id_bytes) else {
            break;
        };
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        if let Some((mode, name)) = head.split_once(' ') {
            entries.insert(name.to_string(), (mode.to_string(), hex));
        }
        raw = &raw[nul + 1 + id_bytes..];
    }
    entries
}

/// The largest file read from a revision (a spec, a key, a zone).
const MAX_BLOB: u64 = 256 << 20;

fn run(dir: &Path, args: &[&str]) -> Result<Output, GitError> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "core.quotepath=off"])
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            GitError::new(
                format!("cannot run `git`: {e}"),
                "install git: `mailc diff` reads the spec's revisions with it",
            )
        })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim().to_string()
}

impl Repo {
    /// The repository `dir` is inside.
    pub fn discover(dir: &Path) -> Result<Repo, GitError> {
        let out = run(dir, &["rev-parse", "--show-toplevel"])?;
        if !out.status.success() {
            return Err(GitError::new(
                format!("`{}` is not inside a git repository", dir.display()),
                "run `mailc diff` inside the repository that holds the spec",
            ));
        }
        let top = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Ok(Repo {
            top: PathBuf::from(top),
            batch: Mutex::new(None),
        })
    }

    /// The commit a revision names (full hex).
    pub fn commit(&self, rev: &str) -> Result<String, GitError> {
        // A revision is never an option: `--end-of-options` keeps `-x` a name.
        let spec = format!("{rev}^{{commit}}");
        let out = run(
            &self.top,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &spec,
            ],
        )?;
        let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() || id.is_empty() {
            return Err(GitError::new(
                format!("`{rev}` is not a commit of this repository"),
                "give a branch, tag, commit or an expression like `HEAD~2` (`git log --oneline` lists them)",
            ));
        }
        Ok(id)
    }

    /// Runs `f` with the repository's object reader, started if need be.
    fn batch<T>(&self, f: impl FnOnce(&mut Batch) -> Result<T, GitError>) -> Result<T, GitError> {
        let mut guard = self.batch.lock().map_err(|_| broken())?;
        if guard.is_none() {
            *guard = Some(Batch::start(&self.top)?);
        }
        let batch = guard.as_mut().ok_or_else(broken)?;
        let result = f(batch);
        if result.is_err() {
            // A reader out of step is not asked again.
            *guard = None;
        }
        result
    }

    /// The bytes of the regular file at `path` (from the top, `/`-separated)
    /// in `commit`; `None` when there is none there.
    pub fn file(&self, commit: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        self.batch(|b| {
            let Some(entries) = b.tree(commit, dir)? else {
                return Ok(None);
            };
            // Regular files only: a link's blob is its target's name.
            let Some((_, id)) = entries.get(name).filter(|(mode, _)| mode.starts_with("100"))
            else {
                return Ok(None);
            };
            match b.object(id, MAX_BLOB) {
                Ok(Some(o)) if o.kind == "blob" => Ok(Some(o.bytes)),
                Ok(_) => Err(GitError::new(
                    format!("git cannot read `{path}` at {commit}"),
                    "check that the repository is complete (a shallow or partial clone may lack it)",
                )),
                Err(e) if e.message.contains("larger than") => Err(GitError::new(
                    format!("`{path}` at {commit} is larger than 256 MiB"),
                    "this does not look like a file mailc reads",
                )),
                Err(e) => Err(e),
            }
        })
    }

    /// The entries of the folder `dir` (from the top, `""` for the top)
    /// in `commit`: each name, and whether it is a folder. `None` when
    /// there is no such folder there.
    pub fn list(&self, commit: &str, dir: &str) -> Result<Option<Vec<(String, bool)>>, GitError> {
        self.batch(|b| {
            Ok(b.tree(commit, dir.trim_end_matches('/'))?.map(|entries| {
                entries
                    .iter()
                    .map(|(name, (mode, _))| (name.clone(), mode == "40000"))
                    .collect()
            }))
        })
    }

    /// The paths `a` → `b` (a commit, or the working tree) renamed into
    /// `path`, or deleted, as git's rename detection sees them: the old
    /// name of `path` if git found one, and the files deleted otherwise.
    pub fn renamed_into(
        &self,
        a: &str,
        b: Option<&str>,
        path: &str,
    ) -> Result<(Option<String>, Vec<String>), GitError> {
        let mut args = vec!["diff", "--name-status", "-z", "-M", "--no-ext-diff", a];
        if let Some(b) = b {
            args.push(b);
        }
        args.push("--");
        let out = run(&self.top, &args)?;
        if !out.status.success() {
            return Err(GitError::new(
                format!("git cannot compare the revisions: {}", stderr(&out)),
                "check that both revisions are in this repository",
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut fields = text.split('\0').filter(|f| !f.is_empty());
        let mut renamed = None;
        let mut deleted = Vec::new();
        while let Some(status) = fields.next() {
            match status.chars().next() {
                Some('R') | Some('C') => {
                    let (from, to) = (fields.next(), fields.next());
                    if status.starts_with('R')
                        && to == Some(path)
                        && let Some(f) = from
                    {
                        renamed = Some(f.to_string());
                    }
                }
                Some('D') => {
                    if let Some(p) = fields.next() {
                        deleted.push(p.to_string());
                    }
                }
                _ => {
                    fields.next();
                }
            }
        }
        Ok((renamed, deleted))
    }
}

/// `path` (relative to `cwd`, or absolute) as a path from the repository's
/// top, `/`-separated, without `.` or `..`; `None` when it lies outside.
pub fn repo_path(top: &Path, cwd: &Path, path: &Path) -> Option<String> {
    let top = top.canonicalize().ok()?;
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.canonicalize().ok()?.join(path)
    };
    let mut parts: Vec<String> = Vec::new();
    for c in joined.components() {
        match c {
            std::path::Component::RootDir | std::path::Component::Prefix(_) => parts.clear(),
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    let top_parts: Vec<String> = top
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    if parts.len() <= top_parts.len() || parts[..top_parts.len()] != top_parts[..] {
        return None;
    }
    Some(parts[top_parts.len()..].join("/"))
}

/// `dir/rel` in repository terms: `rel`'s `.` and `..` resolved; `None`
/// when it leaves the repository or is absolute.
pub fn join(dir: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_stay_inside() {
        assert_eq!(
            join("site", "keys/a.key").as_deref(),
            Some("site/keys/a.key")
        );
        assert_eq!(join("", "keys/a.key").as_deref(), Some("keys/a.key"));
        assert_eq!(join("a/b", "../c").as_deref(), Some("a/c"));
        assert_eq!(join("", "../c"), None);
        assert_eq!(join("a", "/etc/key"), None);
    }
}
