//! The `mailc` binary: everything lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    mailc::cli::main()
}
