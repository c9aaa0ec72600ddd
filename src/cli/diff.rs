//! `mailc diff [REV_A] [REV_B]`: the spec compiled as it is at two git
//! revisions (default: `HEAD` and the working tree), read from the
//! repository's objects ([`super::git`]), then compared by [`crate::diff`].
//! Key files come from the same revision as the spec, never from elsewhere
//! without a note; the committed output folder stands in for the keys git
//! does not hold (`docs/cli.md`, "mailc diff").

use std::collections::BTreeSet;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use clap::{Args, ValueEnum};

use super::git::{self, GitError, Repo};
use super::{ColorChoice, fail, load};
use crate::backend::{self, Context};
use crate::diag::{Severity, render};
use crate::diff::{self, About, Side, dkim};
use crate::limits::{self, ReadError};
use crate::model::{KeyFiles, MissingKey};
use crate::output::Output;
use crate::spec::include::SpecFiles;

/// Exit code when the two sides differ (as `plan --detailed-exitcode`).
const CHANGES: u8 = 2;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Args)]
pub struct DiffArgs {
    /// The revision to compare from: a commit, branch, tag or expression
    /// such as `HEAD~2` (default: HEAD).
    rev_a: Option<String>,
    /// The revision to compare to (default: the working tree).
    rev_b: Option<String>,
    /// The spec, from the current folder (default: mailc.yaml, else
    /// mailc.kdl, in the current folder or the nearest folder above it in
    /// the repository).
    #[arg(long, value_name = "SPEC")]
    spec: Option<PathBuf>,
    /// The output folder, from the current folder (default: `out` beside
    /// the spec): the revisions' zones there give the DKIM records of keys
    /// git does not hold.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// `text` for a terminal, `json` for tools, `markdown` for a pull
    /// request comment.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
}

/// Where one side's files come from.
enum Tree<'a> {
    Commit { repo: &'a Repo, commit: String },
    Work { top: PathBuf },
}

impl Tree<'_> {
    /// The entries of a folder by its path from the repository's top.
    fn list(&self, dir: &str) -> Option<Vec<(String, bool)>> {
        match self {
            Tree::Commit { repo, commit } => repo.list(commit, dir).ok().flatten(),
            Tree::Work { top } => load::DiskFiles {
                dir: top,
                seen: None,
            }
            .list(dir),
        }
    }

    /// A file by its path from the repository's top.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        match self {
            Tree::Commit { repo, commit } => repo.file(commit, path),
            Tree::Work { top } => {
                let p = top.join(path);
                match limits::read(&p, limits::SPEC_BYTES) {
                    Ok(b) => Ok(Some(b)),
                    Err(_) => Ok(None),
                }
            }
        }
    }
}

/// A side's key files, from the side's own tree only: a key it lacks (or
/// one named by an absolute path, outside any revision) is recorded and
/// compiled with [`dkim::stand_in`].
struct SideFiles<'a> {
    tree: &'a Tree<'a>,
    /// The spec's folder, from the top.
    dir: String,
    /// What the names of the side's files start with (`REV:`).
    shown_as: String,
    missing: Mutex<BTreeSet<String>>,
}

impl SideFiles<'_> {
    fn key(&self, path: &str) -> Option<Vec<u8>> {
        let found = git::join(&self.dir, path).and_then(|p| self.tree.read(&p).ok().flatten());
        if found.is_none()
            && let Ok(mut m) = self.missing.lock()
        {
            m.insert(path.to_string());
        }
        found
    }
}

impl KeyFiles for SideFiles<'_> {
    fn exists(&self, _path: &str) -> bool {
        // A key the side lacks is compiled with a stand-in, not refused.
        true
    }

    fn read(&self, path: &str) -> Option<Result<Vec<u8>, String>> {
        self.key(path).map(Ok)
    }
}

impl SpecFiles for SideFiles<'_> {
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        let outside = || {
            ReadError::Io(io::Error::new(
                io::ErrorKind::NotFound,
                "outside the repository",
            ))
        };
        let p = git::join(&self.dir, path).ok_or_else(outside)?;
        match self.tree.read(&p) {
            Ok(Some(b)) if b.len() as u64 > limit => Err(ReadError::TooLarge { limit }),
            Ok(Some(b)) => Ok(b),
            Ok(None) => Err(ReadError::Io(io::ErrorKind::NotFound.into())),
            Err(e) => Err(ReadError::Io(io::Error::other(e.message))),
        }
    }

    fn list(&self, dir: &str) -> Option<Vec<(String, bool)>> {
        self.tree.list(&git::join(&self.dir, dir)?)
    }

    fn shown(&self, path: &str) -> String {
        let p = git::join(&self.dir, path).unwrap_or_else(|| path.to_string());
        format!("{}{p}", self.shown_as)
    }
}

impl Context for SideFiles<'_> {
    fn previous(&self, _path: &str) -> Option<Vec<u8>> {
        // No earlier output: both sides' zones get the first serial, so a
        // diff shows content only (an apply decides the serial against the
        // output folder it writes).
        None
    }

    fn private_key(&self, path: &str) -> Option<Vec<u8>> {
        Some(self.key(path).unwrap_or_else(dkim::stand_in))
    }
}

pub fn run(args: DiffArgs, choice: ColorChoice) -> ExitCode {
    match diff(&args, choice) {
        Ok(changed) if changed => ExitCode::from(CHANGES),
        Ok(_) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

fn git_fail(e: GitError) -> ExitCode {
    fail(&e.message, Some(&e.help))
}

/// Compares; `Ok(true)` when the sides differ.
fn diff(args: &DiffArgs, choice: ColorChoice) -> Result<bool, ExitCode> {
    let cwd = std::env::current_dir()
        .map_err(|e| fail(&format!("cannot read the current folder: {e}"), None))?;
    let repo = Repo::discover(&cwd).map_err(git_fail)?;
    let spec = spec_in_repo(&repo, &cwd, args.spec.as_deref())?;
    let out = match &args.out {
        Some(dir) => git::repo_path(&repo.top, &cwd, dir),
        None => git::join(spec.rsplit_once('/').map_or("", |(d, _)| d), "out"),
    };
    let rev_a = args.rev_a.clone().unwrap_or_else(|| "HEAD".to_string());
    let tree_a = commit_tree(&repo, &rev_a)?;
    let tree_b = match &args.rev_b {
        Some(rev) => commit_tree(&repo, rev)?,
        None => Tree::Work {
            top: repo.top.clone(),
        },
    };
    let err_color = choice.color(io::stderr().is_terminal());
    let a = compile_side(&repo, &rev_a, &tree_a, &spec, out.as_deref(), err_color)?;
    let rev_b = args.rev_b.as_deref().unwrap_or("working tree");
    let b = compile_side(&repo, rev_b, &tree_b, &spec, out.as_deref(), err_color)?;
    let d = diff::compare(
        Side {
            about: a.about,
            model: &a.model,
            tests: &a.tests,
            output: &a.output,
        },
        Side {
            about: b.about,
            model: &b.model,
            tests: &b.tests,
            output: &b.output,
        },
    );
    let shown = match args.format {
        DiffFormat::Text => {
            for n in diff::render::notes(&d, &diff::render::PLAIN) {
                eprintln!("note: {n}");
            }
            diff::render::text(&d, choice.color(io::stdout().is_terminal()))
        }
        DiffFormat::Json => diff::render::json(&d),
        DiffFormat::Markdown => diff::render::markdown(&d),
    };
    let mut stdout = io::stdout().lock();
    // A closed pipe (`mailc diff | head`) is not an error of the diff.
    let _ = stdout.write_all(shown.as_bytes());
    let _ = stdout.flush();
    Ok(d.changed())
}

/// The spec's path from the repository's top (as it is named now).
fn spec_in_repo(repo: &Repo, cwd: &Path, arg: Option<&Path>) -> Result<String, ExitCode> {
    let top = repo.top.canonicalize().unwrap_or_else(|_| repo.top.clone());
    let path = match arg {
        Some(p) => p.to_path_buf(),
        None => cwd
            .ancestors()
            .take_while(|d| d.starts_with(&top))
            .flat_map(|d| [d.join("mailc.yaml"), d.join("mailc.kdl")])
            .find(|p| p.is_file())
            .ok_or_else(|| {
                fail(
                    &format!(
                        "no mailc.yaml or mailc.kdl in `{}` or a folder above it in the repository",
                        cwd.display()
                    ),
                    Some("give the spec's path with `--spec`"),
                )
            })?,
    };
    git::repo_path(&repo.top, cwd, &path).ok_or_else(|| {
        fail(
            &format!(
                "the spec `{}` is not inside the repository at `{}`",
                path.display(),
                repo.top.display()
            ),
            Some("run `mailc diff` inside the repository that holds the spec, or give it with `--spec`"),
        )
    })
}

fn commit_tree<'a>(repo: &'a Repo, rev: &str) -> Result<Tree<'a>, ExitCode> {
    let commit = repo.commit(rev).map_err(git_fail)?;
    Ok(Tree::Commit { repo, commit })
}

/// One side, compiled.
struct Compiled {
    about: About,
    model: crate::model::Model,
    tests: Vec<crate::expect::Expectation>,
    /// With the DKIM records of keys the side lacks settled.
    output: Output,
}

/// Finds the spec at `tree` (following a rename since), compiles it with
/// that tree's keys, and settles the records of the keys it lacks.
fn compile_side(
    repo: &Repo,
    rev: &str,
    tree: &Tree<'_>,
    spec: &str,
    out: Option<&str>,
    color: bool,
) -> Result<Compiled, ExitCode> {
    let (path, bytes) = find_spec(repo, rev, tree, spec)?;
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    let shown_as = match tree {
        Tree::Commit { .. } => format!("{rev}:"),
        Tree::Work { .. } => String::new(),
    };
    let files = SideFiles {
        tree,
        dir,
        shown_as,
        missing: Mutex::new(BTreeSet::new()),
    };
    let name = format!("{}{path}", files.shown_as);
    let file_name = path.rsplit('/').next().unwrap_or(&path);
    let loaded = load::load_with_keys(
        &name,
        bytes,
        MissingKey::Error,
        &files,
        (&files, file_name),
        PathBuf::from(&files.dir),
    );
    let errors = loaded.errors();
    let model = match loaded.model {
        Some(m) if errors.is_empty() => m,
        _ => {
            eprint!("{}", render::graphical(&errors, &loaded.source, color));
            return Err(fail(
                &format!(
                    "the spec at {} is invalid ({}); nothing was compared",
                    side_name(rev, tree),
                    render::summary(errors.len().max(1), 0)
                ),
                Some("`mailc validate` on that revision's spec shows every problem"),
            ));
        }
    };
    let mut output = backend::compile(&model, &files).map_err(|diags| {
        let mut err = io::stderr().lock();
        for d in diags.iter().filter(|d| d.severity == Severity::Error) {
            let _ = writeln!(err, "error[{}]: {}", d.code.as_str(), d.message);
        }
        fail(
            &format!(
                "the spec at {} could not be compiled; nothing was compared",
                side_name(rev, tree)
            ),
            None,
        )
    })?;
    let missing: Vec<String> = files
        .missing
        .lock()
        .map(|m| m.iter().cloned().collect())
        .unwrap_or_default();
    let committed = |zone: &str| -> Option<String> {
        let p = git::join(out?, zone)?;
        let bytes = tree.read(&p).ok().flatten()?;
        String::from_utf8(bytes).ok()
    };
    let missing_keys = dkim::settle(&mut output, &model, &missing, &committed);
    Ok(Compiled {
        about: About {
            rev: rev.to_string(),
            commit: match tree {
                Tree::Commit { commit, .. } => Some(commit.clone()),
                Tree::Work { .. } => None,
            },
            spec: path,
            missing_keys,
        },
        model,
        tests: loaded.tests,
        output,
    })
}

fn side_name(rev: &str, tree: &Tree<'_>) -> String {
    match tree {
        Tree::Commit { .. } => format!("`{rev}`"),
        Tree::Work { .. } => "the working tree".to_string(),
    }
}

/// The spec's path and bytes at `tree`: under its present name, else
/// under the name git's rename detection gives it there.
fn find_spec(
    repo: &Repo,
    rev: &str,
    tree: &Tree<'_>,
    spec: &str,
) -> Result<(String, Vec<u8>), ExitCode> {
    if let Some(b) = tree.read(spec).map_err(git_fail)? {
        return Ok((spec.to_string(), b));
    }
    let Tree::Commit { commit, .. } = tree else {
        return Err(fail(
            &format!("the working tree has no spec at `{spec}`"),
            Some("give the spec's path with `--spec`, or two revisions that have it"),
        ));
    };
    let (renamed, deleted) = repo.renamed_into(commit, None, spec).map_err(git_fail)?;
    if let Some(old) = renamed
        && let Some(b) = tree.read(&old).map_err(git_fail)?
    {
        return Ok((old, b));
    }
    let specs: Vec<String> = deleted
        .into_iter()
        .filter(|p| p.ends_with(".yaml") || p.ends_with(".yml") || p.ends_with(".kdl"))
        .map(|p| format!("`{p}`"))
        .collect();
    let help = if specs.is_empty() {
        "compare revisions that have the spec (`git log --follow -- SPEC` lists them)".to_string()
    } else {
        format!(
            "it had {} there, since gone; if that is the spec, commit the move with `git mv` so it can be followed",
            specs.join(", ")
        )
    };
    Err(fail(
        &format!("`{rev}` has no spec at `{spec}`, nor one renamed into it since"),
        Some(&help),
    ))
}
