//! Mailbox passwords: Dovecot `{SCHEME}` hashes only; plaintext is refused.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::passwd::{Classification, Scheme, classify};
use crate::spec::Sp;

const HELP_PASSWD: &str =
    "make a hash with `mailc passwd` (it reads the password on stdin) and paste its output here";

/// Checks one mailbox's password; returns the hash to publish.
pub fn check(password: &Sp<String>, mailbox: &str, diags: &mut Diagnostics) -> Option<String> {
    let d = match classify(&password.value) {
        Classification::Hashed(_) => return Some(password.value.clone()),
        Classification::Plaintext => Diagnostic::error(
            Code::PlaintextPassword,
            password.span,
            format!("the password of `{mailbox}` is plaintext"),
        )
        .label("not a hash")
        .help(HELP_PASSWD),
        Classification::UnknownScheme(s) => {
            let known: Vec<String> = Scheme::ALL
                .iter()
                .map(|s| format!("`{{{}}}`", s.name()))
                .collect();
            Diagnostic::error(
                Code::PasswordScheme,
                password.span,
                format!("the password of `{mailbox}` uses the scheme `{{{s}}}`, which mailc does not accept"),
            )
            .label("unsupported scheme")
            .help(format!("use one of {}; `mailc passwd --scheme S` makes one", known.join(", ")))
        }
        Classification::Malformed(scheme, why) => Diagnostic::error(
            Code::PasswordScheme,
            password.span,
            format!(
                "the password of `{mailbox}` is not a well-formed {} hash: {why}",
                scheme.name()
            ),
        )
        .label("malformed hash")
        .help(HELP_PASSWD),
    };
    diags.push(d);
    None
}
