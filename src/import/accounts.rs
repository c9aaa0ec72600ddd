//! Passwords and quotas as mail systems store them, into the spec's
//! `{SCHEME}` hashes and sizes; and Dovecot's passwd-file
//! (`user:password:uid:gid:gecos:home:shell:extra_fields`).

use std::collections::BTreeMap;

use super::report::Finding;
use crate::passwd::{Classification, classify};

/// A password as the spec will hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Password {
    /// A hash the spec accepts.
    Hash(String),
    /// Plaintext in the source, hashed here (SHA512-CRYPT).
    Hashed(String),
    /// None, or a locked one (`!`, `*`): nobody can log in.
    Locked,
}

/// Reads a stored password: `{SCHEME}…`, or a bare crypt(3) string (Dovecot's
/// default scheme CRYPT, and `/etc/shadow`'s form). `plain_default`: a bare
/// value that is not crypt is plaintext (a passwd-file read with
/// `scheme=PLAIN`), else it is refused.
pub fn password(raw: &str, address: &str, file: &str, line: usize) -> Result<Password, Finding> {
    let raw = raw.trim();
    if raw.is_empty() || raw == "*" || raw == "x" || raw.starts_with('!') || raw == "*LK*" {
        return Ok(Password::Locked);
    }
    let unsupported = |what: &str| {
        Finding::error(
            file,
            Some(line),
            format!("the password of `{address}` is {what}, which mailc cannot keep: that user could no longer log in"),
        )
        .help("mailc accepts SHA512-CRYPT, SHA256-CRYPT, BLF-CRYPT, ARGON2I and ARGON2ID hashes; set a new password in one of them (`doveadm pw -s SHA512-CRYPT`), or empty the field to import the mailbox without logins")
    };
    // Dovecot writes `{CRYPT}` for glibc's crypt strings; name the scheme.
    let body = match raw.strip_prefix('{').and_then(|r| r.split_once('}')) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("CRYPT") => rest,
        Some((scheme, rest))
            if ["PLAIN", "CLEAR", "CLEARTEXT"]
                .iter()
                .any(|p| p.eq_ignore_ascii_case(scheme)) =>
        {
            return crate::import::draft::hash_plaintext(address, rest)
                .map(Password::Hashed)
                .ok_or_else(|| unsupported("an empty plaintext password"));
        }
        Some(_) => {
            return match classify(raw) {
                Classification::Hashed(_) => Ok(Password::Hash(raw.to_string())),
                Classification::UnknownScheme(s) => Err(unsupported(&format!("a `{{{s}}}` hash"))),
                Classification::Malformed(s, why) => Err(unsupported(&format!(
                    "a malformed {} hash ({why})",
                    s.name()
                ))),
                Classification::Plaintext => Err(unsupported("plaintext of an unknown kind")),
            };
        }
        None => raw,
    };
    let scheme = if body.starts_with("$6$") {
        "SHA512-CRYPT"
    } else if body.starts_with("$5$") {
        "SHA256-CRYPT"
    } else if body.starts_with("$2y$") || body.starts_with("$2b$") || body.starts_with("$2a$") {
        "BLF-CRYPT"
    } else if body.starts_with("$argon2id$") {
        "ARGON2ID"
    } else if body.starts_with("$argon2i$") {
        "ARGON2I"
    } else if body.starts_with("$1$") {
        return Err(unsupported("an MD5-CRYPT hash (`$1$`)"));
    } else if body.starts_with("$y$") {
        return Err(unsupported("a yescrypt hash (`$y$`)"));
    } else if body.len() == 13
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '/')
    {
        return Err(unsupported("a DES crypt hash"));
    } else {
        return Err(Finding::error(
            file,
            Some(line),
            format!("the password of `{address}` is not a hash mailc knows"),
        )
        .help("a hash looks like `$6$salt$digest` or `{SHA512-CRYPT}$6$...`; write a plaintext password as `{PLAIN}secret`, and mailc import hashes it"));
    };
    let hashed = format!("{{{scheme}}}{body}");
    match classify(&hashed) {
        Classification::Hashed(_) => Ok(Password::Hash(hashed)),
        Classification::Malformed(s, why) => Err(unsupported(&format!(
            "a malformed {} hash ({why})",
            s.name()
        ))),
        _ => Err(unsupported("a hash of an unknown kind")),
    }
}

/// A quota as the spec writes sizes: `1G`, `500M`, or bytes. `None` when
/// the value is not a size (reported by the caller).
pub fn size(value: &str) -> Option<String> {
    let v = value.trim();
    let (digits, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len()));
    let n: u64 = digits.parse().ok()?;
    let unit = unit.trim().to_ascii_uppercase();
    let unit = unit.trim_end_matches("IB").trim_end_matches('B');
    let s = match unit {
        "" => format!("{n}"),
        "K" | "M" | "G" | "T" => format!("{n}{unit}"),
        _ => return None,
    };
    (n > 0).then_some(s)
}

/// Bytes as the largest whole unit: 1073741824 → `1G`.
pub fn bytes_size(n: u64) -> Option<String> {
    if n == 0 {
        return None;
    }
    for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
        if n.is_multiple_of(1 << shift) {
            return Some(format!("{}{unit}", n >> shift));
        }
    }
    Some(n.to_string())
}

/// One user of a Dovecot passwd-file.
#[derive(Clone, Debug)]
pub struct User {
    pub password: Password,
    pub quota: Option<String>,
    pub file: String,
    pub line: usize,
}

/// Reads a Dovecot passwd-file; users by lowercase name (a full address,
/// or a bare name when the file has those). `findings` gets what is not
/// carried over (other quota rules).
pub fn passwd_file(
    text: &str,
    file: &str,
    findings: &mut Vec<Finding>,
) -> Result<BTreeMap<String, User>, Finding> {
    let mut users = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = l.splitn(8, ':').collect();
        let [user, pass, rest @ ..] = fields.as_slice() else {
            return Err(Finding::error(
                file,
                Some(n),
                "a passwd-file line needs at least `user:password`",
            )
            .help("each line is `user:password:uid:gid:gecos:home:shell:extra_fields`"));
        };
        let user = user.trim().to_ascii_lowercase();
        if user.is_empty() || user.contains(char::is_whitespace) {
            return Err(Finding::error(
                file,
                Some(n),
                format!("`{user}` is not a user name"),
            ));
        }
        let password = password(pass, &user, file, n)?;
        let mut quota = None;
        if let Some(extra) = rest.get(5) {
            for field in extra.split_whitespace() {
                let Some((k, v)) = field.split_once('=') else {
                    continue;
                };
                let k = k.strip_prefix("userdb_").unwrap_or(k);
                match k {
                    "quota_rule" => match v.strip_prefix("*:storage=").and_then(size) {
                        Some(q) => quota = Some(q),
                        None => findings.push(
                            Finding::warning(file, Some(n), format!("the quota rule `{v}` of `{user}` is not carried over: the spec holds one storage limit per mailbox (`*:storage=SIZE`)"))
                                .help("set the mailbox's `quota` by hand"),
                        ),
                    },
                    "quota_rule2" | "quota_rule3" => findings.push(Finding::warning(
                        file,
                        Some(n),
                        format!("the quota rule `{v}` of `{user}` is not carried over: the spec holds one storage limit per mailbox"),
                    )),
                    _ => findings.push(Finding::note(
                        file,
                        Some(n),
                        format!("the field `{k}` of `{user}` is not carried over: mailc writes each user's home, uid and settings itself"),
                    )),
                }
            }
        }
        if users.contains_key(&user) {
            return Err(
                Finding::error(file, Some(n), format!("`{user}` is listed twice"))
                    .help("Dovecot uses the first line; remove the other"),
            );
        }
        users.insert(
            user,
            User {
                password,
                quota,
                file: file.to_string(),
                line: n,
            },
        );
    }
    Ok(users)
}

/// Whether `text` looks like a passwd-file: its first line is
/// `name:password…` with no space in the name.
pub fn looks_like_passwd(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .and_then(|l| l.split_once(':'))
        .is_some_and(|(user, rest)| {
            !user.is_empty()
                && !user.contains(char::is_whitespace)
                && !user.starts_with('$')
                && !rest.trim_start().starts_with(':')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA512: &str = "$6$z6MQEt/GaGznLHgp$Byj6wliyFlYZHsGkA4BNdNtrTqS5pXmwqZNxvUaM4udekNI5s8a/QT1eru.9fx11jrZ56JBhTYoI/a1fP.cNA.";

    #[test]
    fn passwords() {
        assert_eq!(
            password(SHA512, "a@x", "f", 1).unwrap(),
            Password::Hash(format!("{{SHA512-CRYPT}}{SHA512}"))
        );
        assert_eq!(
            password(&format!("{{CRYPT}}{SHA512}"), "a@x", "f", 1).unwrap(),
            Password::Hash(format!("{{SHA512-CRYPT}}{SHA512}"))
        );
        assert!(matches!(
            password("{PLAIN}pw", "a@x", "f", 1).unwrap(),
            Password::Hashed(_)
        ));
        assert_eq!(password("!!", "a@x", "f", 1).unwrap(), Password::Locked);
        let e = password("$1$abc$def", "a@x", "f", 7).unwrap_err();
        assert_eq!(e.line, Some(7));
        assert!(password("{SSHA}abc", "a@x", "f", 1).is_err());
        assert!(password("hello", "a@x", "f", 1).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(size("1G").as_deref(), Some("1G"));
        assert_eq!(size("500mb").as_deref(), Some("500M"));
        assert_eq!(size("1024").as_deref(), Some("1024"));
        assert_eq!(size("10%"), None);
        assert_eq!(bytes_size(1 << 30).as_deref(), Some("1G"));
        assert_eq!(bytes_size(1000).as_deref(), Some("1000"));
    }

    #[test]
    fn passwd_files() {
        let mut f = Vec::new();
        let u = passwd_file(
            &format!("# users\nalice@example.com:{{SHA512-CRYPT}}{SHA512}::::::userdb_quota_rule=*:storage=1G\nbob@example.com:{{PLAIN}}pw\n"),
            "users",
            &mut f,
        )
        .unwrap();
        assert_eq!(u["alice@example.com"].quota.as_deref(), Some("1G"));
        assert_eq!(u["bob@example.com"].line, 3);
        assert!(looks_like_passwd("alice@example.com:{PLAIN}x\n"));
        assert!(!looks_like_passwd("$ORIGIN example.com.\n"));
        assert!(!looks_like_passwd("www IN AAAA 2001:db8::1\n"));
    }
}
