//! `mailc policy`: the sending limits of a Postfix host, served to
//! Postfix's submission over its policy delegation protocol
//! ([`crate::policy`]).

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use super::fail;
use crate::policy::{self, Policy};

#[derive(Args, Debug)]
pub struct PolicyArgs {
    /// The compiled limits: `send_limits` of the host's Postfix files.
    #[arg(long, value_name = "FILE", default_value = "/etc/postfix/send_limits")]
    limits: PathBuf,
    /// The file the counts are kept in (made if missing).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/var/lib/mailc-policy/send-counts"
    )]
    state: PathBuf,
    /// Where Postfix's `check_policy_service inet:` connects.
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:10045")]
    listen: SocketAddr,
}

pub fn run(args: PolicyArgs) -> ExitCode {
    let policy = match Policy::open(&args.limits, &args.state) {
        Ok(p) => Arc::new(p),
        Err(e) => return fail(&e.to_string(), None),
    };
    let listener = match TcpListener::bind(args.listen) {
        Ok(l) => l,
        Err(e) => return fail(&format!("cannot listen on {}: {e}", args.listen), None),
    };
    eprintln!(
        "mailc policy: listening on {} (limits {}, counts {})",
        args.listen,
        args.limits.display(),
        args.state.display()
    );
    match policy::serve(listener, policy) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e.to_string(), None),
    }
}
