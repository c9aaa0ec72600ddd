//! main.cf as Postfix reads it: parameters with their defaults, `$name`
//! expansion, and lists of items.

use super::*;

/// `main.cf`: parameter → (value, line).
pub(in crate::import) type Params = BTreeMap<String, (String, usize)>;

/// Reads `main.cf` (postconf(5): `name = value`, continued on lines that
/// start with white space, `#` comment lines).
pub(in crate::import) fn main_cf(text: &str, file: &str) -> Result<Params, Finding> {
    let mut params = Params::new();
    let mut current: Option<(String, String, usize)> = None;
    let finish = |cur: Option<(String, String, usize)>, params: &mut Params| {
        if let Some((k, v, l)) = cur {
            params.insert(k, (v.trim().to_string(), l));
        }
    };
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match &mut current {
                Some((_, v, _)) => {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                None => {
                    return Err(Finding::error(
                        file,
                        Some(n),
                        "a continuation line before any parameter",
                    )
                    .help("a line that starts with white space continues the parameter above it"));
                }
            }
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(Finding::error(
                file,
                Some(n),
                format!("`{}` is not `name = value`", line.trim()),
            )
            .help("main.cf lines are `parameter = value`; comments start with `#`"));
        };
        let k = k.trim();
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Finding::error(
                file,
                Some(n),
                format!("`{k}` is not a parameter name"),
            ));
        }
        finish(current.take(), &mut params);
        current = Some((k.to_string(), v.trim().to_string(), n));
    }
    finish(current.take(), &mut params);
    Ok(params)
}

/// Parameter values with `$name`, `${name}` and `$(name)` expanded.
pub(in crate::import) struct Config {
    pub(in crate::import) params: Params,
    pub(in crate::import) file: String,
}

impl Config {
    pub(in crate::import) fn default_of(&self, name: &str) -> Option<String> {
        Some(
            match name {
                "mydomain" => {
                    let host = self.get("myhostname")?;
                    host.split_once('.').map(|(_, d)| d.to_string())?
                }
                "myorigin" => "$myhostname".into(),
                "mydestination" => "$myhostname, localhost.$mydomain, localhost".into(),
                "virtual_alias_domains" => "$virtual_alias_maps".into(),
                "virtual_alias_maps" => "$virtual_maps".into(),
                "virtual_mailbox_domains" => "$virtual_mailbox_maps".into(),
                _ => return None,
            }
            .to_string(),
        )
    }

    pub(in crate::import) fn raw(&self, name: &str) -> Option<String> {
        match self.params.get(name) {
            Some((v, _)) => Some(v.clone()),
            None => self.default_of(name),
        }
    }

    /// A parameter's value, expanded; `None` when unset and without default.
    pub(in crate::import) fn get(&self, name: &str) -> Option<String> {
        let raw = self.raw(name)?;
        Some(self.expand(&raw, 0))
    }

    pub(in crate::import) fn line(&self, name: &str) -> Option<usize> {
        self.params.get(name).map(|(_, l)| *l)
    }

    pub(in crate::import) fn expand(&self, v: &str, depth: usize) -> String {
        if depth > 20 || !v.contains('$') {
            return v.to_string();
        }
        let mut out = String::new();
        let mut rest = v;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let (name, len) =
                if let Some(r) = after.strip_prefix('{').or_else(|| after.strip_prefix('(')) {
                    let close = r.find(['}', ')']).unwrap_or(r.len());
                    (&r[..close], close + 2)
                } else {
                    let end = after
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(after.len());
                    (&after[..end], end)
                };
            if name.is_empty() {
                out.push('$');
                rest = after;
                continue;
            }
            if let Some(val) = self.raw(name) {
                out.push_str(&self.expand(&val, depth + 1));
            }
            rest = &after[len.min(after.len())..];
        }
        out.push_str(rest);
        out
    }
}

/// The items of a list value (commas and white space separate them).
pub(in crate::import) fn items(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut braces = 0;
    for c in v.chars() {
        match c {
            '{' => {
                braces += 1;
                cur.push(c);
            }
            '}' => {
                braces -= 1;
                cur.push(c);
            }
            ',' | ' ' | '\t' if braces == 0 => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}
