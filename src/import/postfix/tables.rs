//! Postfix lookup tables (hash, lmdb, texthash and their source files):
//! entries read with their place, and lists of domains.

use super::*;

/// One entry of a lookup table: key (lowercase), value, where.
#[derive(Clone, Debug)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub file: String,
    pub line: usize,
}

/// Reads a table's source text (postmap(1) input: `key value`, continued
/// on lines that start with white space, `#` comment lines).
pub fn table_text(text: &str, file: &str) -> Result<Vec<Entry>, Finding> {
    let mut out: Vec<Entry> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match out.last_mut() {
                Some(e) => {
                    e.value.push(' ');
                    e.value.push_str(t);
                    continue;
                }
                None => {
                    return Err(Finding::error(
                        file,
                        Some(n),
                        "a continuation line before any entry",
                    ));
                }
            }
        }
        let (key, value) = match t.split_once(char::is_whitespace) {
            Some((k, v)) if !v.trim().is_empty() => (k, v.trim()),
            _ => {
                return Err(Finding::error(
                    file,
                    Some(n),
                    format!("the entry `{t}` has a key but no value"),
                )
                .help("each line is `key value`, like `info@example.com alice@example.com`"));
            }
        };
        out.push(Entry {
            key: key.to_ascii_lowercase(),
            value: value.to_string(),
            file: file.to_string(),
            line: n,
        });
    }
    Ok(out)
}

/// Reads the tables of a list parameter. Table types Postfix builds from a
/// text file (`hash:`, `texthash:`, `lmdb:`, ...) are read from that file;
/// `inline:{…}` in place. Others cannot be imported.
pub(in crate::import) fn tables(
    cfg: &Config,
    param: &str,
    dir: &Path,
    confine: &Confine,
    findings: &mut Vec<Finding>,
) -> Result<Vec<Entry>, Finding> {
    let Some(v) = cfg.get(param) else {
        return Ok(Vec::new());
    };
    let line = cfg.line(param);
    let mut out = Vec::new();
    for item in items(&v) {
        let item = item.strip_prefix("proxy:").unwrap_or(&item).to_string();
        let Some((kind, name)) = item.split_once(':') else {
            continue; // a literal (a domain in a domain list)
        };
        match kind {
            "hash" | "texthash" | "btree" | "lmdb" | "cdb" | "dbm" | "sdbm" => {
                let path = confine.resolve(name, dir, &cfg.file, line)?;
                let shown = files::shown(&path);
                let text = files::read_text(&path, &shown)?;
                out.extend(table_text(&text, &shown)?);
            }
            "inline" => {
                let body = name.trim().trim_start_matches('{').trim_end_matches('}');
                for pair in body.split(',') {
                    let pair = pair.trim();
                    if pair.is_empty() {
                        continue;
                    }
                    let (k, val) = pair.split_once('=').unwrap_or((pair, ""));
                    out.push(Entry {
                        key: k.trim().to_ascii_lowercase(),
                        value: val.trim().to_string(),
                        file: cfg.file.clone(),
                        line: line.unwrap_or(0),
                    });
                }
            }
            "regexp" | "pcre" => findings.push(
                Finding::warning(&cfg.file, line, format!("the {kind} table `{name}` of `{param}` is not carried over: its patterns have no counterpart in the spec"))
                    .help("write what it matches as aliases or catch-alls by hand"),
            ),
            "static" => {}
            other => {
                return Err(Finding::error(&cfg.file, line, format!("`{param}` reads a `{other}:` table, which mailc import cannot read"))
                    .help("export the table's rows into a text file of `key value` lines and point the parameter at `hash:FILE` for the import"));
            }
        }
    }
    Ok(out)
}

/// A domain list (`mydestination`, `virtual_mailbox_domains`, ...): its
/// literal domains, files of domains, and the domain keys of its tables.
pub(in crate::import) fn domain_list(
    cfg: &Config,
    param: &str,
    dir: &Path,
    confine: &Confine,
    findings: &mut Vec<Finding>,
) -> Result<Vec<(String, String, Option<usize>)>, Finding> {
    let Some(v) = cfg.get(param) else {
        return Ok(Vec::new());
    };
    let line = cfg.line(param);
    let mut out = Vec::new();
    for item in items(&v) {
        if item.contains(':') {
            continue;
        }
        if item.starts_with('/') {
            let path = confine.resolve(&item, dir, &cfg.file, line)?;
            let shown = files::shown(&path);
            let text = files::read_text(&path, &shown)?;
            for (i, l) in text.lines().enumerate() {
                for d in items(l.split('#').next().unwrap_or("")) {
                    out.push((d.to_ascii_lowercase(), shown.clone(), Some(i + 1)));
                }
            }
        } else if let Some(neg) = item.strip_prefix('!') {
            findings.push(Finding::warning(
                &cfg.file,
                line,
                format!("the exclusion `!{neg}` in `{param}` is not carried over"),
            ));
        } else {
            out.push((item.to_ascii_lowercase(), cfg.file.clone(), line));
        }
    }
    for e in tables(cfg, param, dir, confine, findings)? {
        if !e.key.contains('@') {
            out.push((e.key.clone(), e.file.clone(), Some(e.line)));
        }
    }
    Ok(out)
}
