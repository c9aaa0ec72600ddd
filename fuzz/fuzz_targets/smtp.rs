//! `cargo +nightly fuzz run smtp`: see `src/smtp.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mailc_fuzz::smtp::run(data));
