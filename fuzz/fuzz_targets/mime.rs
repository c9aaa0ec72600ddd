//! `cargo +nightly fuzz run mime`: see `src/mime.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mailc_fuzz::mime::run(data));
