//! Mailbox passwords: Dovecot `{SCHEME}` hashes only; plaintext is refused.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::passwd::{self, Classification, Scheme, classify};
use crate::spec::Sp;

const HELP_PASSWD: &str =
    "make a hash with `mailc passwd` (it reads the password on stdin) and paste its output here";

/// Checks one mailbox's password; returns the hash to publish.
pub fn check(password: &Sp<String>, mailbox: &str, diags: &mut Diagnostics) -> Option<String> {
    let d = match classify(&password.value) {
        Classification::Hashed(_) => return Some(password.value.clone()),
        Classification::Plaintext => match passwd::bare_scheme(&password.value) {
            Some(scheme) => bare(password, scheme, mailbox),
            None => Diagnostic::error(
                Code::PlaintextPassword,
                password.span,
                format!("the password of `{mailbox}` is plaintext"),
            )
            .label("not a hash")
            .help(HELP_PASSWD),
        },
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

/// A crypt(3) or PHC hash written without Dovecot's `{SCHEME}` prefix (as
/// `openssl passwd -6` and `/etc/shadow` give it): the prefix to add. The
/// hash itself is never repeated in the message.
fn bare(password: &Sp<String>, scheme: Scheme, mailbox: &str) -> Diagnostic {
    let prefix = format!("{{{}}}", scheme.name());
    let marker: String = password.value.split_inclusive('$').take(2).collect();
    let article = if scheme.name().starts_with('A') {
        "an"
    } else {
        "a"
    };
    let mut message = format!(
        "the password of `{mailbox}` is {article} {} hash without the `{prefix}` prefix Dovecot and mailc need",
        scheme.name()
    );
    if let Classification::Malformed(_, why) = classify(&format!("{prefix}{}", password.value)) {
        message.push_str(&format!("; it is not a well-formed hash either: {why}"));
    }
    Diagnostic::error(Code::PasswordPrefix, password.span, message)
        .label(format!("add `{prefix}` in front"))
        .help(format!(
            "write `{prefix}` before the hash, in quotes: \"{prefix}{marker}…\"; `mailc passwd --scheme {}` makes one",
            scheme.name()
        ))
}
