//! What the compiler produces: relative path → bytes, with whether the file
//! holds secrets (private keys, password hashes). Secret files are written
//! with mode 0600 and never shown in a plan; the rest are 0644.

use std::collections::BTreeMap;

/// One file of the output folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputFile {
    pub bytes: Vec<u8>,
    /// Holds key material or password hashes: mode 0600, hidden in plans.
    pub secret: bool,
}

impl OutputFile {
    pub fn public(bytes: impl Into<Vec<u8>>) -> Self {
        OutputFile {
            bytes: bytes.into(),
            secret: false,
        }
    }

    pub fn secret(bytes: impl Into<Vec<u8>>) -> Self {
        OutputFile {
            bytes: bytes.into(),
            secret: true,
        }
    }

    /// The Unix mode the file is written with.
    pub fn mode(&self) -> u32 {
        if self.secret { 0o600 } else { 0o644 }
    }
}

/// Every file of one compilation, by `/`-separated path relative to `--out`
/// (`dns/example.com.zone`). Sorted, so iteration order is deterministic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub files: BTreeMap<String, OutputFile>,
}

impl Output {
    pub fn insert(&mut self, path: impl Into<String>, file: OutputFile) {
        self.files.insert(path.into(), file);
    }
}

/// The domain a lookup table's key belongs to: what follows its last `@`
/// (`a@example.com`, `@example.com`), else the key itself (`example.com`).
pub fn key_domain(key: &str) -> &str {
    key.rsplit_once('@').map_or(key, |(_, domain)| domain)
}

/// The order of a lookup table's rows: by the domain of the key, then by
/// key. Each domain's rows are then together, which lets the cache replace
/// one domain's rows without reading the others'.
pub fn by_domain(a: &str, b: &str) -> std::cmp::Ordering {
    key_domain(a).cmp(key_domain(b)).then_with(|| a.cmp(b))
}
