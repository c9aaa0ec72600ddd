//! Password hashes in Dovecot's `{SCHEME}` form: making them (`mailc passwd`),
//! checking their shape (spec validation) and verifying a password against them
//! (the embedded server).
//!
//! Every hash [`hash`] makes verifies with Dovecot's `doveadm pw -t`, and
//! [`verify`] accepts what `doveadm pw -s` makes; `tests/passwd_doveadm.rs`
//! checks both against the real program.

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::phc::PasswordHash as PhcHash;
use argon2::{Argon2, PasswordVerifier as _};
use sha_crypt::{PasswordHasher as _, ShaCrypt};

/// A password scheme mailc writes and verifies, named as Dovecot names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scheme {
    /// `{SHA512-CRYPT}$6$…`: glibc's SHA-512 crypt.
    Sha512Crypt,
    /// `{SHA256-CRYPT}$5$…`: glibc's SHA-256 crypt.
    Sha256Crypt,
    /// `{BLF-CRYPT}$2y$…`: bcrypt.
    BlfCrypt,
    /// `{ARGON2I}$argon2i$…`: Argon2i in libsodium's PHC form.
    Argon2i,
    /// `{ARGON2ID}$argon2id$…`: Argon2id in libsodium's PHC form.
    Argon2id,
}

impl Scheme {
    /// Every scheme, in declaration order.
    pub const ALL: [Scheme; 5] = [
        Scheme::Sha512Crypt,
        Scheme::Sha256Crypt,
        Scheme::BlfCrypt,
        Scheme::Argon2i,
        Scheme::Argon2id,
    ];

    /// Dovecot's name for the scheme, as written between `{` and `}`.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Sha512Crypt => "SHA512-CRYPT",
            Scheme::Sha256Crypt => "SHA256-CRYPT",
            Scheme::BlfCrypt => "BLF-CRYPT",
            Scheme::Argon2i => "ARGON2I",
            Scheme::Argon2id => "ARGON2ID",
        }
    }

    /// The scheme with Dovecot name `name`, in any case (Dovecot looks scheme
    /// names up case-insensitively).
    pub fn from_name(name: &str) -> Option<Scheme> {
        Scheme::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scheme {
    type Err = PasswdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scheme::from_name(s).ok_or_else(|| PasswdError::UnknownScheme(s.to_owned()))
    }
}

/// What a stored password string is, as far as its shape tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Classification {
    /// `{SCHEME}` followed by a well-formed hash of that scheme.
    Hashed(Scheme),
    /// No `{…}` prefix, or one of Dovecot's plaintext schemes (`{PLAIN}`,
    /// `{CLEAR}`, `{CLEARTEXT}`, `{PLAIN-TRUNC}`).
    Plaintext,
    /// A `{…}` prefix naming a scheme mailc does not accept (`{MD5-CRYPT}`,
    /// `{SSHA512}`, …); holds the name as written.
    UnknownScheme(String),
    /// One of our schemes, but what follows the prefix is not a hash Dovecot
    /// would ever verify (or could break the passwd-file line it goes into).
    Malformed(Scheme, &'static str),
}

/// Why a password could not be hashed or verified.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PasswdError {
    #[error("the password is empty")]
    Empty,
    #[error("the password contains a NUL byte, which Dovecot cannot pass to crypt")]
    NulByte,
    #[error("{scheme} uses only the first {max} bytes of a password and this one has {len}")]
    #[diagnostic(help(
        "use a shorter password, or `--scheme ARGON2ID` or `--scheme SHA512-CRYPT`"
    ))]
    TooLong {
        scheme: Scheme,
        len: usize,
        max: usize,
    },
    #[error("the operating system's random number generator failed: {0}")]
    Random(getrandom::Error),
    #[error("{scheme} hashing failed: {message}")]
    Hash { scheme: Scheme, message: String },
    #[error("the stored password is not a hash")]
    Plaintext,
    #[error("unknown password scheme `{0}`")]
    UnknownScheme(String),
    #[error("malformed {scheme} hash: {reason}")]
    Malformed {
        scheme: Scheme,
        reason: &'static str,
    },
}

/// Dovecot's default SHA-crypt rounds, written without `rounds=`.
const SHA_CRYPT_ROUNDS: u32 = 5_000;
/// glibc keeps at most 16 salt characters; 12 random bytes encode as exactly 16.
const SHA_CRYPT_SALT_BYTES: usize = 12;
const SHA_CRYPT_SALT_MAX: usize = 16;
/// bcrypt cost for new hashes. Dovecot's `doveadm pw` default is 5 (32 rounds
/// of the key schedule); 10 is the common modern choice and Dovecot verifies any
/// cost from 4 to 31.
pub const BLF_CRYPT_COST: u32 = 10;
/// bcrypt reads at most 72 bytes of a password.
const BLF_CRYPT_MAX_PASSWORD: usize = 72;
/// Argon2id parameters as `doveadm pw` writes them: 64 MiB, 3 passes, 1 lane.
const ARGON2ID_PARAMS: (u32, u32, u32) = (65_536, 3, 1);
/// Argon2i parameters as `doveadm pw` writes them: 32 MiB, 4 passes, 1 lane.
const ARGON2I_PARAMS: (u32, u32, u32) = (32_768, 4, 1);
/// libsodium's salt and output lengths.
const ARGON2_SALT_BYTES: usize = 16;
const ARGON2_OUTPUT_BYTES: usize = 32;

/// Hashes `password` with `scheme`, returning the Dovecot `{SCHEME}…` string.
///
/// - SHA512-CRYPT / SHA256-CRYPT: 16-character salt, 5000 rounds (the default,
///   so no `rounds=`), exactly as `doveadm pw` writes them.
/// - BLF-CRYPT: `$2y$` with cost [`BLF_CRYPT_COST`] (10; Dovecot's own default
///   is 5). Passwords over 72 bytes are refused rather than silently cut.
/// - ARGON2ID: `m=65536,t=3,p=1`; ARGON2I: `m=32768,t=4,p=1` (Dovecot's).
///
/// Salts come from the operating system's RNG. An empty password, or one with
/// a NUL byte (which Dovecot's C code would cut at), is refused.
pub fn hash(password: &str, scheme: Scheme) -> Result<String, PasswdError> {
    if password.is_empty() {
        return Err(PasswdError::Empty);
    }
    if password.contains('\0') {
        return Err(PasswdError::NulByte);
    }
    let pw = password.as_bytes();
    let body = match scheme {
        Scheme::Sha512Crypt | Scheme::Sha256Crypt => {
            let algorithm = if scheme == Scheme::Sha512Crypt {
                sha_crypt::Algorithm::Sha512Crypt
            } else {
                sha_crypt::Algorithm::Sha256Crypt
            };
            let params =
                sha_crypt::Params::new(SHA_CRYPT_ROUNDS).map_err(|e| hash_err(scheme, e))?;
            // sha-crypt 0.6's own `hash_password` takes a 16-byte salt, which
            // encodes as 22 characters; glibc (and so Dovecot) keeps only 16 and
            // then never verifies. 12 bytes encode as exactly 16.
            let salt: [u8; SHA_CRYPT_SALT_BYTES] = random()?;
            let full = ShaCrypt::new(algorithm, params)
                .hash_password_with_salt(pw, &salt)
                .map_err(|e| hash_err(scheme, e))?
                .to_string();
            // The crate always writes `rounds=5000$`; glibc and doveadm leave the
            // default out. Both forms verify, the short one matches doveadm.
            let explicit = format!("$rounds={SHA_CRYPT_ROUNDS}$");
            match full.find(&explicit) {
                Some(at) => format!("{}${}", &full[..at], &full[at + explicit.len()..]),
                None => full,
            }
        }
        Scheme::BlfCrypt => {
            if pw.len() > BLF_CRYPT_MAX_PASSWORD {
                return Err(PasswdError::TooLong {
                    scheme,
                    len: pw.len(),
                    max: BLF_CRYPT_MAX_PASSWORD,
                });
            }
            let salt: [u8; 16] = random()?;
            bcrypt::hash_with_salt(pw, BLF_CRYPT_COST, salt)
                .map_err(|e| hash_err(scheme, e))?
                .format_for_version(bcrypt::Version::TwoY)
        }
        Scheme::Argon2i | Scheme::Argon2id => {
            let (algorithm, (m, t, p)) = if scheme == Scheme::Argon2id {
                (argon2::Algorithm::Argon2id, ARGON2ID_PARAMS)
            } else {
                (argon2::Algorithm::Argon2i, ARGON2I_PARAMS)
            };
            let params = argon2::Params::new(m, t, p, Some(ARGON2_OUTPUT_BYTES))
                .map_err(|e| hash_err(scheme, e))?;
            let salt: [u8; ARGON2_SALT_BYTES] = random()?;
            Argon2::new(algorithm, argon2::Version::V0x13, params)
                .hash_password_with_salt(pw, &salt)
                .map_err(|e| hash_err(scheme, e))?
                .to_string()
        }
    };
    let hashed = format!("{{{}}}{body}", scheme.name());
    debug_assert_eq!(
        classify(&hashed),
        Classification::Hashed(scheme),
        "{hashed}"
    );
    Ok(hashed)
}

/// Checks `password` against a stored `{SCHEME}…` hash.
///
/// `Ok(false)` means a well-formed hash and the wrong password. A string that
/// [`classify`] does not call [`Classification::Hashed`] is an error: mailc
/// never compares plaintext. Accepts what `doveadm pw` writes: `$6$`/`$5$` with
/// or without `rounds=`, `$2y$`/`$2b$`/`$2a$`, and libsodium's Argon2 strings.
pub fn verify(password: &str, hashed: &str) -> Result<bool, PasswdError> {
    let scheme = match classify(hashed) {
        Classification::Hashed(scheme) => scheme,
        Classification::Plaintext => return Err(PasswdError::Plaintext),
        Classification::UnknownScheme(name) => return Err(PasswdError::UnknownScheme(name)),
        Classification::Malformed(scheme, reason) => {
            return Err(PasswdError::Malformed { scheme, reason });
        }
    };
    // Dovecot hands passwords to C code, which stops at a NUL: "a\0b" would
    // verify as "a" there. Refuse it here rather than be more lenient.
    if password.contains('\0') {
        return Ok(false);
    }
    let body = strip_prefix(hashed).map_or(hashed, |(_, body)| body);
    let pw = password.as_bytes();
    let malformed = |reason| PasswdError::Malformed { scheme, reason };
    match scheme {
        Scheme::Sha512Crypt | Scheme::Sha256Crypt => {
            match ShaCrypt::default().verify_password(pw, body) {
                Ok(()) => Ok(true),
                Err(sha_crypt::password_hash::Error::PasswordInvalid) => Ok(false),
                Err(_) => Err(malformed("the crypt string does not decode")),
            }
        }
        // The crate cuts at 72 bytes, as C bcrypt does.
        Scheme::BlfCrypt => {
            bcrypt::verify(pw, body).map_err(|_| malformed("the bcrypt string does not decode"))
        }
        Scheme::Argon2i | Scheme::Argon2id => {
            let parsed = PhcHash::new(body).map_err(|_| malformed("not a PHC string"))?;
            match Argon2::default().verify_password(pw, &parsed) {
                Ok(()) => Ok(true),
                Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
                Err(_) => Err(malformed("the Argon2 parameters are not usable")),
            }
        }
    }
}

/// Tells what a stored password string is: used by spec validation, which
/// accepts only [`Classification::Hashed`].
///
/// The shape check is strict on purpose: it refuses what Dovecot would load but
/// never verify (a placeholder such as `$6$...`, a SHA-crypt salt over 16
/// characters, a digest of the wrong length), and anything that could break out
/// of the passwd-file line or config it is written into (`:`, whitespace,
/// control characters).
pub fn classify(hashed: &str) -> Classification {
    let Some((name, body)) = strip_prefix(hashed) else {
        return Classification::Plaintext;
    };
    if PLAINTEXT_SCHEMES
        .iter()
        .any(|p| p.eq_ignore_ascii_case(name))
    {
        return Classification::Plaintext;
    }
    let Some(scheme) = Scheme::from_name(name) else {
        return Classification::UnknownScheme(name.to_owned());
    };
    match check_shape(scheme, body) {
        Ok(()) => Classification::Hashed(scheme),
        Err(reason) => Classification::Malformed(scheme, reason),
    }
}

/// The scheme a bare crypt(3) or PHC string (no `{SCHEME}` prefix, as
/// `openssl passwd -6` or `/etc/shadow` give it) belongs to, by its marker:
/// `$6$` SHA512-CRYPT, `$5$` SHA256-CRYPT, `$2y$`/`$2b$`/`$2a$` BLF-CRYPT,
/// `$argon2id$` ARGON2ID, `$argon2i$` ARGON2I. Whether the rest is well
/// formed is [`classify`]'s to say, once the prefix is added.
pub fn bare_scheme(s: &str) -> Option<Scheme> {
    let marker = s.strip_prefix('$')?.split('$').next()?;
    Some(match marker {
        "6" => Scheme::Sha512Crypt,
        "5" => Scheme::Sha256Crypt,
        "2y" | "2b" | "2a" => Scheme::BlfCrypt,
        "argon2id" => Scheme::Argon2id,
        "argon2i" => Scheme::Argon2i,
        _ => return None,
    })
}

/// Dovecot's plaintext schemes (`doveadm pw -l`).
const PLAINTEXT_SCHEMES: &[&str] = &["PLAIN", "CLEAR", "CLEARTEXT", "PLAIN-TRUNC"];

/// Splits `{NAME}rest` into `(NAME, rest)`, as Dovecot reads a scheme prefix:
/// `{` first, up to the first `}`.
fn strip_prefix(s: &str) -> Option<(&str, &str)> {
    let rest = s.strip_prefix('{')?;
    let end = rest.find('}')?;
    Some((&rest[..end], &rest[end + 1..]))
}

fn check_shape(scheme: Scheme, body: &str) -> Result<(), &'static str> {
    if body.is_empty() {
        return Err("nothing follows the scheme prefix");
    }
    // One pass over the bytes (a hosting spec has a million hashes): an
    // ASCII byte is whitespace or a control character when it is below `!`
    // or DEL; characters beyond ASCII are looked at only when there are any.
    let (mut colon, mut blank, mut wide) = (false, false, false);
    for &b in body.as_bytes() {
        colon |= b == b':';
        blank |= b < b'!' || b == 0x7f;
        wide |= !b.is_ascii();
    }
    if colon {
        return Err("it contains `:`, which would split the passwd-file line");
    }
    if blank || (wide && body.chars().any(|c| c.is_whitespace() || c.is_control())) {
        return Err("it contains whitespace or a control character");
    }
    if wide {
        return Err("it contains a non-ASCII character");
    }
    match scheme {
        Scheme::Sha512Crypt => check_sha_crypt(body, "6", 86, b"./01"),
        Scheme::Sha256Crypt => check_sha_crypt(body, "5", 43, b"./0123456789ABCD"),
        Scheme::BlfCrypt => check_bcrypt(body),
        Scheme::Argon2i => check_argon2(body, "argon2i"),
        Scheme::Argon2id => check_argon2(body, "argon2id"),
    }
}

/// crypt(3)'s base-64 alphabet.
fn is_crypt64(b: u8) -> bool {
    CRYPT64[usize::from(b)]
}

/// [`is_crypt64`] by byte: `./0-9A-Za-z`.
static CRYPT64: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b == b'.' || b == b'/' || b.is_ascii_alphanumeric();
        i += 1;
    }
    t
};

/// `$ID$[rounds=N$]SALT$DIGEST`, as glibc writes it. `last` is the set of
/// characters the digest's final character may be: it carries fewer than six
/// bits, and a digest with stray bits set never equals what crypt computes.
fn check_sha_crypt(
    body: &str,
    id: &'static str,
    digest_len: usize,
    last: &[u8],
) -> Result<(), &'static str> {
    let mut fields = body.split('$');
    if fields.next() != Some("") || fields.next() != Some(id) {
        return Err(if id == "6" {
            "a SHA512-CRYPT hash starts with `$6$`"
        } else {
            "a SHA256-CRYPT hash starts with `$5$`"
        });
    }
    let mut salt = fields.next().ok_or("the salt is missing")?;
    if let Some(rounds) = salt.strip_prefix("rounds=") {
        // glibc clamps out-of-range rounds and writes the clamped value back,
        // so such a hash never matches; a leading zero never matches either.
        let ok = !rounds.starts_with('0')
            && rounds.bytes().all(|b| b.is_ascii_digit())
            && rounds
                .parse::<u32>()
                .is_ok_and(|r| (1_000..=999_999_999).contains(&r));
        if !ok {
            return Err("`rounds=` must be a number from 1000 to 999999999");
        }
        salt = fields.next().ok_or("the salt is missing")?;
    }
    if salt.is_empty() {
        return Err("the salt is empty");
    }
    if !salt.bytes().all(is_crypt64) {
        return Err("the salt has a character outside `./0-9A-Za-z`");
    }
    if salt.len() > SHA_CRYPT_SALT_MAX {
        return Err(
            "the salt is longer than 16 characters, and glibc uses only 16, so it never verifies",
        );
    }
    let digest = fields
        .next()
        .ok_or("the digest after the salt is missing (a shortened placeholder?)")?;
    if fields.next().is_some() {
        return Err("there is more after the digest");
    }
    let d = digest.as_bytes();
    if d.len() != digest_len || !d.iter().copied().all(is_crypt64) {
        return Err(if id == "6" {
            "the digest must be 86 characters of `./0-9A-Za-z`"
        } else {
            "the digest must be 43 characters of `./0-9A-Za-z`"
        });
    }
    if !last.contains(&d[d.len() - 1]) {
        return Err("the digest's last character has bits crypt never sets");
    }
    Ok(())
}

/// `$2y$NN$` + 22 salt + 31 digest characters (53 in all).
fn check_bcrypt(body: &str) -> Result<(), &'static str> {
    let b = body.as_bytes();
    let version_ok = b.len() >= 4
        && b[0] == b'$'
        && b[1] == b'2'
        && matches!(b[2], b'y' | b'b' | b'a')
        && b[3] == b'$';
    if !version_ok {
        return Err("a BLF-CRYPT hash starts with `$2y$`, `$2b$` or `$2a$`");
    }
    let cost_ok = b.len() >= 7
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit()
        && b[6] == b'$'
        && (4..=31).contains(&((b[4] - b'0') * 10 + (b[5] - b'0')));
    if !cost_ok {
        return Err("the cost must be two digits from 04 to 31, followed by `$`");
    }
    let rest = &b[7..];
    if rest.len() != 53 || !rest.iter().copied().all(is_crypt64) {
        return Err("the salt and digest must be 53 characters of `./0-9A-Za-z`");
    }
    body.parse::<bcrypt::HashParts>()
        .map_err(|_| "the salt or digest does not decode")?;
    Ok(())
}

/// libsodium's `$argon2X$v=19$m=M,t=T,p=P$SALT$DIGEST`.
fn check_argon2(body: &str, id: &'static str) -> Result<(), &'static str> {
    let mut fields = body.split('$');
    if fields.next() != Some("") {
        return Err("an Argon2 hash starts with `$argon2`");
    }
    match fields.next() {
        Some(f) if f == id => {}
        Some("argon2i" | "argon2id" | "argon2d") => {
            return Err("the Argon2 variant after `$` does not match the scheme prefix");
        }
        _ => return Err("an Argon2 hash starts with `$argon2id$` or `$argon2i$`"),
    }
    if fields.next() != Some("v=19") {
        return Err("the version must be `v=19`");
    }
    let params = fields
        .next()
        .ok_or("the `m=,t=,p=` parameters are missing")?;
    let mut values = params.split(',');
    for key in ["m=", "t=", "p="] {
        let ok = values
            .next()
            .and_then(|kv| kv.strip_prefix(key))
            .is_some_and(|v| {
                !v.is_empty()
                    && v.bytes().all(|b| b.is_ascii_digit())
                    && (v == "0" || !v.starts_with('0'))
            });
        if !ok {
            return Err("the parameters must be `m=N,t=N,p=N`, in that order");
        }
    }
    if values.next().is_some() {
        return Err("the parameters must be `m=N,t=N,p=N`, in that order");
    }
    let salt = fields.next().ok_or("the salt is missing")?;
    let digest = fields
        .next()
        .ok_or("the digest after the salt is missing (a shortened placeholder?)")?;
    if fields.next().is_some() {
        return Err("there is more after the digest");
    }
    let b64 = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b == b'+' || b == b'/' || b.is_ascii_alphanumeric())
    };
    if !b64(salt) || !b64(digest) {
        return Err("the salt and digest must be unpadded base64");
    }
    let parsed = PhcHash::new(body).map_err(|_| "the salt or digest does not decode")?;
    argon2::Params::try_from(&parsed).map_err(|_| "the Argon2 parameters are out of range")?;
    Ok(())
}

fn random<const N: usize>() -> Result<[u8; N], PasswdError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(PasswdError::Random)?;
    Ok(bytes)
}

fn hash_err(scheme: Scheme, e: impl fmt::Display) -> PasswdError {
    PasswdError::Hash {
        scheme,
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Classification::*;

    // Made by `doveadm pw -s SCHEME -p secret` (Dovecot 2.3).
    const SHA512: &str = "{SHA512-CRYPT}$6$ldlsvW/E4WonHmS1$ule6NyhkeDlAHBHtcEJHJCGvP36kjDELdBs/DBLiTBjj4.h0kT/oWhdXDw/ZG2osE/tqU77EhUFXnIOHG6PZy1";
    const SHA256: &str =
        "{SHA256-CRYPT}$5$aM5Fltse4rLvSPty$RIruSIN8pZoVtHo59lAR6r3ByndzECnCL/ubgQjZ2//";
    const BLF: &str = "{BLF-CRYPT}$2y$05$jObN1Zxo.J4vQTbryx9pxOLjXZmH7.pMSM.SuGACyQd6nOo8y80xq";
    const ARGON2I: &str = "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$Su5a+rBilvhz24i2Rd117Q$kPqg0Df54UzBxCZ1oDGWysE9pAoW2BtinLRz1ciPVd4";
    const ARGON2ID: &str = "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$szefYfDWwupw42MWfCZGng$WEKui/ZYtrovBTDdT/13oDFUZjyhMsPek/dPDIQTKjk";

    fn malformed(s: &str) -> Scheme {
        match classify(s) {
            Malformed(scheme, _) => scheme,
            other => panic!("{s:?} classified as {other:?}"),
        }
    }

    #[test]
    fn names_round_trip() {
        for s in Scheme::ALL {
            assert_eq!(Scheme::from_name(s.name()), Some(s));
            assert_eq!(Scheme::from_name(&s.name().to_lowercase()), Some(s));
            assert_eq!(s.name().parse::<Scheme>().ok(), Some(s));
        }
        assert_eq!(Scheme::from_name("MD5-CRYPT"), None);
    }

    #[test]
    fn plaintext() {
        assert_eq!(classify("hunter2"), Plaintext);
        assert_eq!(classify(""), Plaintext);
        assert_eq!(classify("{PLAIN}hunter2"), Plaintext);
        assert_eq!(classify("{plain}hunter2"), Plaintext);
        assert_eq!(classify("{CLEARTEXT}hunter2"), Plaintext);
        assert_eq!(classify("{CLEAR}hunter2"), Plaintext);
        assert_eq!(classify("{PLAIN-TRUNC}hunter2"), Plaintext);
        assert_eq!(classify("{no closing brace"), Plaintext);
        // A bare crypt string still lacks the prefix mailc requires.
        assert_eq!(classify(&SHA512["{SHA512-CRYPT}".len()..]), Plaintext);
    }

    #[test]
    fn bare_hashes_are_recognised() {
        for (hash, scheme) in [
            (SHA512, Scheme::Sha512Crypt),
            (SHA256, Scheme::Sha256Crypt),
            (BLF, Scheme::BlfCrypt),
            (ARGON2I, Scheme::Argon2i),
            (ARGON2ID, Scheme::Argon2id),
        ] {
            let bare = &hash[hash.find('}').unwrap() + 1..];
            assert_eq!(bare_scheme(bare), Some(scheme), "{bare}");
        }
        assert_eq!(bare_scheme("$2b$10$x"), Some(Scheme::BlfCrypt));
        for not in [
            "hunter2",
            "$1$abc$def",
            "$$",
            "$",
            "",
            "6$x",
            "{SHA512-CRYPT}$6$x",
        ] {
            assert_eq!(bare_scheme(not), None, "{not}");
        }
    }

    #[test]
    fn unknown_scheme() {
        assert_eq!(
            classify("{MD5-CRYPT}$1$abc$def"),
            UnknownScheme("MD5-CRYPT".into())
        );
        assert_eq!(classify("{SSHA512}abcd"), UnknownScheme("SSHA512".into()));
        assert_eq!(classify("{}x"), UnknownScheme(String::new()));
    }

    #[test]
    fn each_valid_scheme() {
        assert_eq!(classify(SHA512), Hashed(Scheme::Sha512Crypt));
        assert_eq!(classify(SHA256), Hashed(Scheme::Sha256Crypt));
        assert_eq!(classify(BLF), Hashed(Scheme::BlfCrypt));
        assert_eq!(classify(ARGON2I), Hashed(Scheme::Argon2i));
        assert_eq!(classify(ARGON2ID), Hashed(Scheme::Argon2id));
        // Lowercase prefix, explicit rounds, other bcrypt versions.
        assert_eq!(
            classify(&SHA512.replace("SHA512-CRYPT", "sha512-crypt")),
            Hashed(Scheme::Sha512Crypt)
        );
        assert_eq!(
            classify(&SHA512.replace("$6$", "$6$rounds=10000$")),
            Hashed(Scheme::Sha512Crypt)
        );
        assert_eq!(
            classify(&BLF.replace("$2y$", "$2b$")),
            Hashed(Scheme::BlfCrypt)
        );
        assert_eq!(
            classify(&BLF.replace("$2y$", "$2a$")),
            Hashed(Scheme::BlfCrypt)
        );
    }

    #[test]
    fn placeholders_from_the_docs() {
        assert_eq!(malformed("{SHA512-CRYPT}$6$..."), Scheme::Sha512Crypt);
        assert_eq!(malformed("{ARGON2ID}$argon2id$v=19$..."), Scheme::Argon2id);
        assert_eq!(malformed("{BLF-CRYPT}$2y$05$..."), Scheme::BlfCrypt);
        assert_eq!(malformed("{SHA512-CRYPT}"), Scheme::Sha512Crypt);
    }

    #[test]
    fn injection() {
        for bad in ["\n", ":", " ", "\t", "\r", "\u{7f}", "\u{85}"] {
            let s = format!("{SHA512}{bad}");
            assert_eq!(malformed(&s), Scheme::Sha512Crypt, "{s:?}");
            let s = format!("{ARGON2ID}{bad}x:0:0::/home/x::");
            assert_eq!(malformed(&s), Scheme::Argon2id, "{s:?}");
        }
        let mid = SHA512.replacen("$6$", "$6$\n", 1);
        assert_eq!(malformed(&mid), Scheme::Sha512Crypt);
    }

    #[test]
    fn shape_errors() {
        // Wrong id for the prefix.
        malformed(&SHA512.replace("$6$", "$5$"));
        malformed(&ARGON2ID.replace("{ARGON2ID}", "{ARGON2I}"));
        malformed(&BLF.replace("$2y$", "$2x$"));
        malformed(&BLF.replace("$05$", "$5$"));
        malformed(&BLF.replace("$05$", "$32$"));
        // The sha-crypt 0.6 default: a 22-character salt glibc cuts to 16.
        malformed(&SHA512.replace("$ldlsvW/E4WonHmS1$", "$ldlsvW/E4WonHmS1abcdef$"));
        malformed(&SHA512.replace("$6$", "$6$rounds=999$"));
        malformed(&SHA512.replace("$6$", "$6$rounds=05000$"));
        malformed(&SHA512[..SHA512.len() - 1]);
        malformed(&format!("{SHA512}$"));
        malformed(&format!("{}z", &SHA512[..SHA512.len() - 1]));
        malformed(&ARGON2ID.replace("m=65536,t=3,p=1", "t=3,m=65536,p=1"));
        malformed(&ARGON2ID.replace("v=19", "v=16"));
        malformed(&format!("{ARGON2ID}="));
        malformed(&BLF[..BLF.len() - 1]);
    }

    #[test]
    fn verify_doveadm_hashes() {
        // Argon2 is slow in a debug build; tests/passwd_doveadm.rs covers it.
        for h in [SHA512, SHA256, BLF] {
            assert!(verify("secret", h).unwrap(), "{h}");
            assert!(!verify("Secret", h).unwrap(), "{h}");
        }
        assert!(matches!(
            verify("x", "{PLAIN}x"),
            Err(PasswdError::Plaintext)
        ));
        assert!(matches!(
            verify("x", "{SSHA}x"),
            Err(PasswdError::UnknownScheme(_))
        ));
        assert!(matches!(
            verify("x", "{SHA512-CRYPT}$6$..."),
            Err(PasswdError::Malformed { .. })
        ));
        assert!(!verify("secret\0", SHA512).unwrap());
    }

    #[test]
    fn hash_round_trips() {
        for scheme in [Scheme::Sha512Crypt, Scheme::Sha256Crypt] {
            let h = hash("pässword", scheme).unwrap();
            assert_eq!(classify(&h), Hashed(scheme));
            assert!(!h.contains("rounds="), "{h}");
            let salt = h.split('$').nth(2).unwrap();
            assert_eq!(salt.len(), 16, "{h}");
            assert!(verify("pässword", &h).unwrap());
            assert!(!verify("password", &h).unwrap());
        }
        let h = hash("pässword", Scheme::BlfCrypt).unwrap();
        assert!(h.starts_with("{BLF-CRYPT}$2y$10$"), "{h}");
        assert!(verify("pässword", &h).unwrap());
    }

    #[test]
    fn hash_refuses() {
        assert!(matches!(
            hash("", Scheme::Sha512Crypt),
            Err(PasswdError::Empty)
        ));
        assert!(matches!(
            hash("a\0b", Scheme::Argon2id),
            Err(PasswdError::NulByte)
        ));
        let long = "x".repeat(73);
        assert!(matches!(
            hash(&long, Scheme::BlfCrypt),
            Err(PasswdError::TooLong { .. })
        ));
        assert!(hash(&long[..72], Scheme::BlfCrypt).is_ok());
    }
}
