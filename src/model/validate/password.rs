//! Mailbox passwords: Dovecot `{SCHEME}` hashes only; plaintext is refused,
//! and so is a hash whose cost parameters would make each login a weapon
//! (minutes of CPU or gigabytes of memory for one attempt). A hash cheaper
//! than sane minimums is a warning.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::passwd::{self, Classification, Scheme, classify};
use crate::spec::Sp;

const HELP_PASSWD: &str =
    "make a hash with `mailc passwd` (it reads the password on stdin) and paste its output here";

/// The most SHA-crypt rounds accepted: 1,000,000 (about a second of CPU per
/// login; passlib's strongest default is 656,000).
pub const SHA_CRYPT_ROUNDS_MAX: u64 = 1_000_000;
/// Fewer rounds than this is a warning: Dovecot's (and glibc's) default.
pub const SHA_CRYPT_ROUNDS_MIN: u64 = 5_000;
/// The highest bcrypt cost accepted: 16 (2^16 rounds, seconds per login).
pub const BCRYPT_COST_MAX: u64 = 16;
/// A lower bcrypt cost is a warning (OWASP's minimum).
pub const BCRYPT_COST_MIN: u64 = 10;
/// The most Argon2 memory accepted, in KiB: 262,144 (256 MiB per login).
pub const ARGON2_M_MAX: u64 = 262_144;
/// The most Argon2 passes accepted.
pub const ARGON2_T_MAX: u64 = 10;
/// The most Argon2 lanes accepted.
pub const ARGON2_P_MAX: u64 = 16;
/// Less Argon2 memory than this (KiB) is a warning (OWASP: 19 MiB with two
/// passes, or 46 MiB with one).
pub const ARGON2_M_MIN: u64 = 19_456;

/// What one check of a hash costs, as its parameters say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    ShaCrypt { rounds: u64 },
    Bcrypt { cost: u64 },
    Argon2 { m: u64, t: u64, p: u64 },
}

/// The cost parameters of a well-formed hash (`{SCHEME}` included).
pub fn cost(hash: &str) -> Option<Cost> {
    let body = &hash[hash.find('}')? + 1..];
    // `$ID$…`: the fields after the empty one before the first `$`.
    let mut fields = body.split('$').skip(1);
    match fields.next()? {
        "5" | "6" => {
            let rounds = match fields.next()?.strip_prefix("rounds=") {
                Some(r) => r.parse().ok()?,
                None => 5_000,
            };
            Some(Cost::ShaCrypt { rounds })
        }
        "2y" | "2b" | "2a" => Some(Cost::Bcrypt {
            cost: fields.next()?.parse().ok()?,
        }),
        "argon2i" | "argon2id" => {
            let mut m = None;
            let mut t = None;
            let mut p = None;
            // `$argon2id$v=19$m=…,t=…,p=…$SALT$HASH`: past the version.
            fields.next()?;
            for kv in fields.next()?.split(',') {
                let (k, v) = kv.split_once('=')?;
                let v: u64 = v.parse().ok()?;
                match k {
                    "m" => m = Some(v),
                    "t" => t = Some(v),
                    "p" => p = Some(v),
                    _ => return None,
                }
            }
            Some(Cost::Argon2 {
                m: m?,
                t: t?,
                p: p?,
            })
        }
        _ => None,
    }
}

/// An error when a login would cost too much, a warning when a hash is
/// cheaper than it should be; `None` when it is fine.
fn judge(c: Cost, scheme: &str, mailbox: &str, span: crate::source::Span) -> Option<Diagnostic> {
    let too_costly = |what: String| {
        Diagnostic::error(
            Code::PasswordCost,
            span,
            format!("the {scheme} hash of `{mailbox}` {what}"),
        )
        .label("too costly")
        .help("every login attempt computes the hash at that cost; make a new one with `mailc passwd` (Dovecot's default parameters)")
    };
    let too_cheap = |what: String| {
        Diagnostic::warning(
            Code::PasswordCost,
            span,
            format!("the {scheme} hash of `{mailbox}` {what}"),
        )
        .label("cheap to guess")
        .help("make a new hash with `mailc passwd`")
    };
    match c {
        Cost::ShaCrypt { rounds } if rounds > SHA_CRYPT_ROUNDS_MAX => Some(too_costly(format!(
            "uses {rounds} rounds; mailc accepts at most {SHA_CRYPT_ROUNDS_MAX}"
        ))),
        Cost::ShaCrypt { rounds } if rounds < SHA_CRYPT_ROUNDS_MIN => Some(too_cheap(format!(
            "uses {rounds} rounds, fewer than the {SHA_CRYPT_ROUNDS_MIN} Dovecot uses by default"
        ))),
        Cost::Bcrypt { cost } if cost > BCRYPT_COST_MAX => Some(too_costly(format!(
            "has cost {cost}; mailc accepts at most {BCRYPT_COST_MAX}"
        ))),
        Cost::Bcrypt { cost } if cost < BCRYPT_COST_MIN => Some(too_cheap(format!(
            "has cost {cost}, below the minimum of {BCRYPT_COST_MIN} OWASP recommends"
        ))),
        Cost::Argon2 { m, t, p } if m > ARGON2_M_MAX || t > ARGON2_T_MAX || p > ARGON2_P_MAX => {
            Some(too_costly(format!(
                "has m={m},t={t},p={p}; mailc accepts at most m={ARGON2_M_MAX} (KiB), t={ARGON2_T_MAX}, p={ARGON2_P_MAX}"
            )))
        }
        Cost::Argon2 { m, t, .. }
            if m < ARGON2_M_MIN || (t < 2 && m < 2 * ARGON2_M_MIN + 8_192) =>
        {
            Some(too_cheap(format!(
                "has m={m},t={t}, less than the minimum OWASP recommends (m=19456 with t=2, or m=47104 with t=1)"
            )))
        }
        _ => None,
    }
}

/// Checks one mailbox's password; returns the hash to publish.
pub fn check(password: &Sp<String>, mailbox: &str, diags: &mut Diagnostics) -> Option<String> {
    let d = match classify(&password.value) {
        Classification::Hashed(scheme) => {
            let judged =
                cost(&password.value).and_then(|c| judge(c, scheme.name(), mailbox, password.span));
            return match judged {
                Some(d) if d.severity == crate::diag::Severity::Error => {
                    diags.push(d);
                    None
                }
                Some(d) => {
                    diags.push(d);
                    Some(password.value.clone())
                }
                None => Some(password.value.clone()),
            };
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: &str = "$z6MQEt/GaGznLHgp$Byj6wliyFlYZHsGkA4BNdNtrTqS5pXmwqZNxvUaM4udekNI5s8a/QT1eru.9fx11jrZ56JBhTYoI/a1fP.cNA.";

    #[test]
    fn reads_the_cost_of_every_scheme() {
        assert_eq!(
            cost(&format!("{{SHA512-CRYPT}}$6{SALT}")),
            Some(Cost::ShaCrypt { rounds: 5000 })
        );
        assert_eq!(
            cost(&format!("{{SHA512-CRYPT}}$6$rounds=999999999{SALT}")),
            Some(Cost::ShaCrypt {
                rounds: 999_999_999
            })
        );
        assert_eq!(
            cost("{BLF-CRYPT}$2y$31$abc"),
            Some(Cost::Bcrypt { cost: 31 })
        );
        assert_eq!(
            cost("{ARGON2ID}$argon2id$v=19$m=2097152,t=4294967295,p=1$s$h"),
            Some(Cost::Argon2 {
                m: 2_097_152,
                t: 4_294_967_295,
                p: 1
            })
        );
    }

    #[test]
    fn caps_and_floors() {
        let span = crate::source::Span::default();
        let sev = |c| judge(c, "X", "a@b", span).map(|d| d.severity);
        use crate::diag::Severity::{Error, Warning};
        assert_eq!(
            sev(Cost::ShaCrypt {
                rounds: 999_999_999
            }),
            Some(Error)
        );
        assert_eq!(sev(Cost::ShaCrypt { rounds: 1_000_000 }), None);
        assert_eq!(sev(Cost::ShaCrypt { rounds: 1_000 }), Some(Warning));
        assert_eq!(sev(Cost::Bcrypt { cost: 31 }), Some(Error));
        assert_eq!(sev(Cost::Bcrypt { cost: 5 }), Some(Warning));
        assert_eq!(sev(Cost::Bcrypt { cost: 12 }), None);
        let a = |m, t, p| sev(Cost::Argon2 { m, t, p });
        assert_eq!(a(2_097_152, 4, 1), Some(Error));
        assert_eq!(a(65_536, 4_294_967_295, 1), Some(Error));
        assert_eq!(a(65_536, 3, 255), Some(Error));
        assert_eq!(a(65_536, 3, 1), None);
        assert_eq!(a(32_768, 4, 1), None);
        assert_eq!(a(4_096, 3, 1), Some(Warning));
        assert_eq!(a(19_456, 1, 1), Some(Warning));
    }
}
