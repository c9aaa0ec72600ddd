//! The fuzz targets' bodies, one module per target, and the table of them.
//!
//! Each body is plain Rust on stable: `fuzz_targets/<name>.rs` hands it
//! libFuzzer's bytes (`cargo +nightly fuzz run <name>`), and the
//! `fuzz_replay` integration test of the main crate runs it on
//! `corpus/<name>/` plus deterministic mutations on every `cargo test`.
//! A body panics on any finding; it must not read the clock, the network or
//! files outside what it is given.

pub mod imap;
pub mod mime;
pub mod smtp;
pub mod spec;

/// One fuzz target: its name (also its corpus folder and `fuzz_targets/`
/// file) and its body.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
    /// Tokens the replay's mutator splices in (libFuzzer finds its own).
    pub tokens: &'static [&'static str],
}

/// Every target. A new one: a module here, a line below, a
/// `fuzz_targets/<name>.rs`, a `[[bin]]` in `Cargo.toml` and seeds in
/// `corpus/<name>/`.
pub const TARGETS: &[Target] = &[
    Target {
        name: "spec",
        run: spec::run,
        tokens: spec::TOKENS,
    },
    Target {
        name: "smtp",
        run: smtp::run,
        tokens: smtp::TOKENS,
    },
    Target {
        name: "imap",
        run: imap::run,
        tokens: imap::TOKENS,
    },
    Target {
        name: "mime",
        run: mime::run,
        tokens: mime::TOKENS,
    },
];
