//! Reading what is imported: which kind of source a path is, and each
//! source read into the mail and DNS facts the draft is built from.

use super::*;

/// Kinds of sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Zone,
    ZoneFolder,
    Postfix,
    Passwd,
    Dms,
    Cpanel,
}

/// A source as given: `KIND:PATH` or a path whose kind is detected.
pub(super) fn kind_of(arg: &str) -> Result<(Kind, PathBuf), Finding> {
    let prefixed = [
        ("zone:", Kind::Zone),
        ("postfix:", Kind::Postfix),
        ("dovecot:", Kind::Passwd),
        ("dms:", Kind::Dms),
        ("cpanel:", Kind::Cpanel),
    ];
    for (p, k) in prefixed {
        if let Some(rest) = arg.strip_prefix(p) {
            let path = PathBuf::from(rest);
            return Ok((
                if k == Kind::Zone && path.is_dir() {
                    Kind::ZoneFolder
                } else {
                    k
                },
                path,
            ));
        }
    }
    let path = PathBuf::from(arg);
    let meta = std::fs::metadata(&path)
        .map_err(|e| Finding::error(arg, None, format!("cannot open it: {e}")).help("give a zone file, a folder of zone files, Postfix's config folder (with main.cf), a Dovecot passwd-file, a docker-mailserver config folder, or a copy of a cPanel server's root"))?;
    if meta.is_dir() {
        let kind = if path.join("etc/localdomains").is_file() {
            Kind::Cpanel
        } else if path.join("postfix-accounts.cf").is_file() {
            Kind::Dms
        } else if path.join("main.cf").is_file() {
            Kind::Postfix
        } else {
            Kind::ZoneFolder
        };
        return Ok((kind, path));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(match name.as_str() {
        "main.cf" => (Kind::Postfix, path),
        "postfix-accounts.cf" => (Kind::Dms, path),
        _ => {
            let head = std::fs::read(&path)
                .map(|b| String::from_utf8_lossy(&b[..b.len().min(4096)]).into_owned())
                .unwrap_or_default();
            if accounts::looks_like_passwd(&head) {
                (Kind::Passwd, path)
            } else {
                (Kind::Zone, path)
            }
        }
    })
}

/// The folder of a source: itself, or the file's.
pub(super) fn folder_of(path: &Path) -> PathBuf {
    if path.is_dir() {
        return path.to_path_buf();
    }
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Reads `$INCLUDE`d files inside the zone's confinement.
pub(super) struct ZoneIncludes<'a> {
    confine: &'a Confine,
    dir: PathBuf,
}

impl zone::Includes for ZoneIncludes<'_> {
    fn read(&mut self, path: &str, from: &str, line: usize) -> Result<(String, String), Finding> {
        let p = self.confine.resolve(path, &self.dir, from, Some(line))?;
        let shown = files::shown(&p);
        let text = files::read_text(&p, &shown)?;
        Ok((shown, text))
    }
}

/// The zone's origin from its file name: `example.com.zone`, `db.example.com`,
/// `example.com.db`, `example.com`.
pub(super) fn origin_from_name(path: &Path) -> Option<Name> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let name = name.strip_prefix("db.").unwrap_or(&name);
    let name = [".zone", ".db", ".hosts"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name);
    let d = crate::model::names::domain(name).ok()?;
    if !d.contains('.') {
        return None;
    }
    Name::from_ascii(format!("{d}.")).ok()
}

pub(super) fn read_zone(
    path: &Path,
    shown: &str,
    confine: &Confine,
    parts: &mut Parts,
    findings: &mut Vec<Finding>,
) -> Result<(), Finding> {
    let text = files::read_text(path, shown)?;
    let mut inc = ZoneIncludes {
        confine,
        dir: folder_of(path),
    };
    let z = zone::parse(shown, &text, origin_from_name(path), &mut inc)?;
    findings.extend(z.skipped.iter().cloned());
    parts.zones.push((z, shown.to_string()));
    Ok(())
}

pub(super) fn read_source(
    arg: &str,
    opts: &Options,
    parts: &mut Parts,
    findings: &mut Vec<Finding>,
) -> Result<(), Finding> {
    let (kind, path) = kind_of(arg)?;
    let shown = path.display().to_string();
    let confine = Confine::new(&folder_of(&path), opts.root.as_deref())?;
    match kind {
        Kind::Zone => read_zone(&path, &shown, &confine, parts, findings),
        Kind::ZoneFolder => {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
                .map_err(|e| Finding::error(&shown, None, format!("cannot list it: {e}")))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let n = p
                        .file_name()
                        .map(|n| n.to_string_lossy().to_ascii_lowercase())
                        .unwrap_or_default();
                    p.is_file()
                        && (n.ends_with(".zone") || n.ends_with(".db") || n.starts_with("db."))
                })
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(Finding::error(&shown, None, "this folder holds no zone file (`*.zone`, `*.db`, `db.*`), no main.cf, no postfix-accounts.cf and no etc/localdomains")
                    .help("name the files or the configuration folder to import"));
            }
            for f in files {
                let s = f.display().to_string();
                read_zone(&f, &s, &confine, parts, findings)?;
            }
            Ok(())
        }
        Kind::Passwd => {
            let text = files::read_text(&path, &shown)?;
            parts
                .users
                .push(accounts::passwd_file(&text, &shown, findings)?);
            Ok(())
        }
        Kind::Postfix => {
            let dir = folder_of(&path);
            parts.mail.push(postfix::read(&dir, &confine, findings)?);
            Ok(())
        }
        Kind::Dms => {
            let dir = folder_of(&path);
            parts.mail.push(dms::read(&dir, findings)?);
            Ok(())
        }
        Kind::Cpanel => {
            parts.mail.push(cpanel::read(&path, findings)?);
            Ok(())
        }
    }
}
