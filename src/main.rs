//! The `mailc` binary: everything lives in the library's `cli` module.

#![forbid(unsafe_code)]

// mimalloc: compiling a hosting-scale spec allocates millions of small
// strings and nodes; glibc's malloc spent about a third of the time of
// `mailc validate` on 100k mailboxes (see README, Performance).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    mailc::cli::main()
}
