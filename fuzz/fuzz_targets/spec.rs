//! `cargo +nightly fuzz run spec`: see `src/spec.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mailc_fuzz::spec::run(data));
