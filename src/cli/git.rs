//! Reading a git repository's objects for `mailc diff`, through the `git`
//! program: revisions to commits, files at a commit, and renames. Nothing is
//! checked out and nothing in the repository is written (optional locks
//! off, so not even the index is refreshed).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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

    /// The bytes of the regular file at `path` (from the top, `/`-separated)
    /// in `commit`; `None` when there is none there.
    pub fn file(&self, commit: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let out = run(&self.top, &["ls-tree", "-z", "-l", commit, "--", path])?;
        if !out.status.success() {
            return Err(GitError::new(
                format!("git cannot list `{path}` at {commit}: {}", stderr(&out)),
                "check that the repository is readable",
            ));
        }
        // `MODE TYPE OID SIZE\tPATH\0`, only for this very path.
        let listing = String::from_utf8_lossy(&out.stdout).into_owned();
        let Some(entry) = listing
            .split('\0')
            .find(|e| e.split_once('\t').is_some_and(|(_, p)| p == path))
        else {
            return Ok(None);
        };
        let mut fields = entry.split_whitespace();
        let (mode, kind, oid, size) = (
            fields.next().unwrap_or(""),
            fields.next().unwrap_or(""),
            fields.next().unwrap_or(""),
            fields
                .next()
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0),
        );
        // Regular files only: a link's blob is its target's name.
        if kind != "blob" || !mode.starts_with("100") {
            return Ok(None);
        }
        if size > MAX_BLOB {
            return Err(GitError::new(
                format!("`{path}` at {commit} is larger than 256 MiB"),
                "this does not look like a file mailc reads",
            ));
        }
        let out = run(&self.top, &["cat-file", "blob", oid])?;
        if !out.status.success() {
            return Err(GitError::new(
                format!("git cannot read `{path}` at {commit}: {}", stderr(&out)),
                "check that the repository is complete (a shallow or partial clone may lack it)",
            ));
        }
        Ok(Some(out.stdout))
    }

    /// The entries of the folder `dir` (from the top, `""` for the top)
    /// in `commit`: each name, and whether it is a folder. `None` when
    /// there is no such folder there.
    pub fn list(&self, commit: &str, dir: &str) -> Result<Option<Vec<(String, bool)>>, GitError> {
        let tree = format!("{commit}:{dir}");
        let out = run(&self.top, &["ls-tree", "-z", "--end-of-options", &tree])?;
        if !out.status.success() {
            return Ok(None);
        }
        // `MODE TYPE OID\tNAME\0`, names relative to `dir`.
        let listing = String::from_utf8_lossy(&out.stdout).into_owned();
        Ok(Some(
            listing
                .split('\0')
                .filter_map(|e| {
                    let (meta, name) = e.split_once('\t')?;
                    let kind = meta.split_whitespace().nth(1)?;
                    Some((name.to_string(), kind == "tree"))
                })
                .collect(),
        ))
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
