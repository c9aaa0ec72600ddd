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
