//! `mailc build [SPEC] --out DIR` (hidden, for development and tests):
//! compiles the spec and writes every output file into DIR as it is, with
//! its mode (0600 for secrets). No plan, no deletions; `mailc apply` is the
//! real way to update an output folder.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::context::DiskContext;
use super::load;
use crate::diag::render;
use crate::model::MissingKey;
use crate::output::OutputFile;

pub(crate) fn run(spec: Option<PathBuf>, out: &Path, color: bool) -> ExitCode {
    let path = load::spec_path(spec.as_deref());
    let loaded = load::load(&path, MissingKey::Error);
    let errors = loaded.errors();
    let Some(model) = loaded.model.as_ref().filter(|_| errors.is_empty()) else {
        eprint!("{}", render::graphical(&errors, &loaded.source, color));
        return super::fail(
            &format!("{} is invalid; nothing was written", loaded.source.name),
            Some("run `mailc validate` for every problem"),
        );
    };
    let ctx = DiskContext::new(out, &loaded.dir);
    let output = match crate::backend::compile(model, &ctx) {
        Ok(o) => o,
        Err(mut diags) => {
            load::locate(&loaded.source, &mut diags);
            eprint!("{}", render::graphical(&diags, &loaded.source, color));
            return super::fail("the spec could not be compiled; nothing was written", None);
        }
    };
    let mut changed = 0;
    for (rel, file) in &output.files {
        let target = out.join(rel);
        if std::fs::read(&target).is_ok_and(|old| old == file.bytes) {
            continue;
        }
        if let Err(e) = write(&target, file) {
            return super::fail(&format!("cannot write `{}`: {e}", target.display()), None);
        }
        changed += 1;
    }
    println!(
        "{} files compiled into {}, {changed} written",
        output.files.len(),
        out.display()
    );
    ExitCode::SUCCESS
}

/// Writes one file with its mode; a secret is never readable by others,
/// not even for a moment.
fn write(path: &Path, file: &OutputFile) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(file.mode())
        .open(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(file.mode()))?;
    f.write_all(&file.bytes)
}
