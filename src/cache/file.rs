//! The cache file's text: one line per recorded input, output, folder,
//! note, included file's domains and table index, behind a magic line, the
//! format number and the body's SHA-256 ([`seal`]); [`open`] reads it back
//! and refuses anything damaged, cut short or made for another key.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::{Body, FILE_NAME, FORMAT, Input, Key, MAGIC, MAX_BYTES, Notes, OutFile, Stat, keyed};
use crate::plan::Fingerprint;

impl Body {
    pub(super) fn render(&self) -> String {
        let mut s = String::new();
        let k = &self.key;
        let _ = writeln!(s, "build\t{}", k.build);
        let _ = writeln!(s, "cwd\t{}", k.cwd);
        let _ = writeln!(s, "spec\t{}", k.spec);
        let _ = writeln!(s, "out\t{}", k.out);
        let _ = writeln!(s, "at\t{}", self.at);
        for (path, input) in &self.inputs {
            let path = path.to_string_lossy();
            match input {
                Input::File { stat, sha256 } => {
                    s.push_str("file\t");
                    stat.write(&mut s);
                    let _ = writeln!(s, "\t{sha256}\t{path}");
                }
                Input::Dir { stat, sha256 } => {
                    s.push_str("dir\t");
                    stat.write(&mut s);
                    let _ = writeln!(s, "\t{sha256}\t{path}");
                }
                Input::Absent => {
                    let _ = writeln!(s, "absent\t{path}");
                }
            }
        }
        for (path, f) in &self.outputs {
            s.push_str("output\t");
            f.stat.write(&mut s);
            let _ = writeln!(s, "\t{}\t{path}", f.sha256);
        }
        for (path, (dev, ino)) in &self.dirs {
            let _ = writeln!(s, "folder\t{dev} {ino}\t{path}");
        }
        for (name, text) in [("notes", &self.notes.plain), ("color", &self.notes.color)] {
            let quoted = serde_json::to_string(text).unwrap_or_default();
            let _ = writeln!(s, "{name}\t{quoted}");
        }
        for (path, domains) in &self.touch {
            let _ = writeln!(
                s,
                "touch\t{}\t{}",
                domains.join(" "),
                path.to_string_lossy()
            );
        }
        for (path, index) in &self.keyed {
            let _ = write!(s, "keyed\t{}\t", index.header);
            for (i, m) in index.marks.iter().enumerate() {
                let sep = if i == 0 { "" } else { " " };
                let _ = write!(s, "{sep}{},{},{}", m.offset, m.line, m.domain);
            }
            let _ = writeln!(s, "\t{path}");
        }
        s
    }

    pub(super) fn parse(text: &str) -> Option<Body> {
        let mut lines = text.lines();
        let mut field = |name: &str| {
            let line = lines.next()?;
            line.strip_prefix(name)?
                .strip_prefix('\t')
                .map(str::to_string)
        };
        let key = Key {
            build: field("build")?,
            cwd: field("cwd")?,
            spec: field("spec")?,
            out: field("out")?,
        };
        let at = field("at")?.parse().ok()?;
        let mut body = Body {
            key,
            at,
            inputs: BTreeMap::new(),
            outputs: BTreeMap::new(),
            dirs: BTreeMap::new(),
            notes: Notes::default(),
            touch: BTreeMap::new(),
            keyed: BTreeMap::new(),
        };
        for line in lines {
            let (kind, rest) = line.split_once('\t')?;
            match kind {
                "file" | "dir" | "output" => {
                    let mut f = rest.splitn(3, '\t');
                    let stat = Stat::parse(f.next()?)?;
                    let sha256: Fingerprint = f.next()?.parse().ok()?;
                    let path = f.next()?;
                    match kind {
                        "file" => body
                            .inputs
                            .insert(path.into(), Input::File { stat, sha256 }),
                        "dir" => body.inputs.insert(path.into(), Input::Dir { stat, sha256 }),
                        _ => {
                            body.outputs
                                .insert(path.to_string(), OutFile { stat, sha256 });
                            None
                        }
                    };
                }
                "absent" => {
                    body.inputs.insert(rest.into(), Input::Absent);
                }
                "folder" => {
                    let (ids, path) = rest.split_once('\t')?;
                    let (dev, ino) = ids.split_once(' ')?;
                    body.dirs
                        .insert(path.to_string(), (dev.parse().ok()?, ino.parse().ok()?));
                }
                "notes" => body.notes.plain = serde_json::from_str(rest).ok()?,
                "color" => body.notes.color = serde_json::from_str(rest).ok()?,
                "touch" => {
                    let (domains, path) = rest.split_once('\t')?;
                    let domains = domains
                        .split(' ')
                        .filter(|d| !d.is_empty())
                        .map(str::to_string)
                        .collect();
                    body.touch.insert(path.into(), domains);
                }
                "keyed" => {
                    let mut f = rest.splitn(3, '\t');
                    let header = f.next()?.parse().ok()?;
                    let mut marks = Vec::new();
                    for m in f.next()?.split(' ').filter(|m| !m.is_empty()) {
                        let mut m = m.splitn(3, ',');
                        marks.push(keyed::Mark {
                            offset: m.next()?.parse().ok()?,
                            line: m.next()?.parse().ok()?,
                            domain: m.next()?.to_string(),
                        });
                    }
                    body.keyed
                        .insert(f.next()?.to_string(), keyed::Index { header, marks });
                }
                _ => return None,
            }
        }
        Some(body)
    }
}

/// The bytes of a cache file: magic, format, the body's SHA-256, the body.
pub(super) fn seal(body: &str) -> Vec<u8> {
    let mut s = format!(
        "{MAGIC}\nformat {FORMAT}\n{}\n",
        Fingerprint::of(body.as_bytes())
    );
    s.push_str(body);
    s.into_bytes()
}

/// Why a cache file is not used.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Unusable {
    /// None there, or another format, build, folder, spec or output folder:
    /// not worth a word.
    Quiet,
    /// Damaged: worth a note.
    Damaged(&'static str),
}

/// The body of the cache file in `out`, if it is whole and for `key`.
pub(super) fn open(out: &Path, key: &Key) -> Result<Body, Unusable> {
    let bytes = match crate::limits::read(&out.join(FILE_NAME), MAX_BYTES) {
        Ok(b) => b,
        Err(crate::limits::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Unusable::Quiet);
        }
        Err(_) => return Err(Unusable::Damaged("it cannot be read")),
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| Unusable::Damaged("it is not text"))?;
    let mut head = text.splitn(4, '\n');
    if head.next() != Some(MAGIC) {
        return Err(Unusable::Damaged("it is not a mailc cache"));
    }
    if head.next() != Some(&format!("format {FORMAT}")) {
        return Err(Unusable::Quiet);
    }
    let (sum, body) = (head.next(), head.next());
    let (Some(sum), Some(body)) = (sum, body) else {
        return Err(Unusable::Damaged("it is cut short"));
    };
    if sum.parse::<Fingerprint>().ok() != Some(Fingerprint::of(body.as_bytes())) {
        return Err(Unusable::Damaged("its checksum does not match"));
    }
    let body = Body::parse(body).ok_or(Unusable::Damaged("it cannot be parsed"))?;
    if body.key != *key {
        return Err(Unusable::Quiet);
    }
    Ok(body)
}
