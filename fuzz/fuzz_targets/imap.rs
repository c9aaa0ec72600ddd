//! `cargo +nightly fuzz run imap`: see `src/imap.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mailc_fuzz::imap::run(data));
