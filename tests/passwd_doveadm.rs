//! mailc's password hashes against Dovecot's own `doveadm pw`: every hash
//! `mailc::passwd::hash` makes must verify in Dovecot (`doveadm pw -t`), and
//! every hash Dovecot makes (`doveadm pw -s`) must verify in `mailc::passwd::verify`.
//!
//! The oracle is required: without `doveadm` these tests fail, they never skip.

use std::path::PathBuf;
use std::process::{Command, Output};

use mailc::passwd::{self, Classification, Scheme};

/// Non-ASCII, spaces, `$`, `{`, `:` and quotes: all legal in a password.
const PASSWORD: &str = "correct hörse {battery} $taple: \"42\"";
const WRONG: &str = "correct hörse {battery} $taple: \"43\"";

fn doveadm_path() -> PathBuf {
    let fixed = PathBuf::from("/usr/bin/doveadm");
    if fixed.is_file() {
        return fixed;
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("doveadm"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`doveadm` (Dovecot) is not installed, and these tests check mailc's password \
                 hashes against it; run `.ci/install-oracles` (it installs dovecot-core)"
            )
        })
}

fn doveadm(args: &[&str]) -> Output {
    let path = doveadm_path();
    Command::new(&path).args(args).output().unwrap_or_else(|e| {
        panic!(
            "could not run {}: {e}; run `.ci/install-oracles` (it installs dovecot-core)",
            path.display()
        )
    })
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `doveadm pw -t HASH -p PASSWORD`: rc 0 and "(verified)" when it matches.
fn doveadm_verifies(hash: &str, password: &str) -> bool {
    let out = doveadm(&["pw", "-t", hash, "-p", password]);
    let verified = String::from_utf8_lossy(&out.stdout).contains("(verified)");
    assert_eq!(
        out.status.success(),
        verified,
        "doveadm's exit status and output disagree for {hash}\n{}",
        text(&out)
    );
    verified
}

/// `doveadm pw -s SCHEME [extra] -p PASSWORD`, returning the `{SCHEME}…` line.
fn doveadm_hash(scheme: Scheme, extra: &[&str], password: &str) -> String {
    let mut args = vec!["pw", "-s", scheme.name()];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-p", password]);
    let out = doveadm(&args);
    assert!(
        out.status.success(),
        "doveadm pw -s {} failed\n{}",
        scheme.name(),
        text(&out)
    );
    let line = String::from_utf8(out.stdout).expect("doveadm prints ASCII");
    let hash = line.trim_end().to_owned();
    assert!(
        hash.starts_with(&format!("{{{}}}", scheme.name())),
        "unexpected doveadm output: {hash:?}"
    );
    hash
}

/// Both directions for one scheme.
fn round_trip(scheme: Scheme) {
    // mailc → Dovecot.
    let ours = passwd::hash(PASSWORD, scheme).expect("hash");
    assert_eq!(
        passwd::classify(&ours),
        Classification::Hashed(scheme),
        "{ours}"
    );
    assert!(
        doveadm_verifies(&ours, PASSWORD),
        "Dovecot rejects mailc's {} hash {ours}",
        scheme.name()
    );
    assert!(
        !doveadm_verifies(&ours, WRONG),
        "Dovecot accepts the wrong password for {ours}"
    );

    // Dovecot → mailc.
    let theirs = doveadm_hash(scheme, &[], PASSWORD);
    assert_eq!(
        passwd::classify(&theirs),
        Classification::Hashed(scheme),
        "{theirs}"
    );
    assert!(
        passwd::verify(PASSWORD, &theirs).expect("verify"),
        "mailc rejects Dovecot's hash {theirs}"
    );
    assert!(
        !passwd::verify(WRONG, &theirs).expect("verify"),
        "mailc accepts the wrong password for {theirs}"
    );
}

#[test]
fn sha512_crypt() {
    round_trip(Scheme::Sha512Crypt);
}

#[test]
fn sha256_crypt() {
    round_trip(Scheme::Sha256Crypt);
}

#[test]
fn blf_crypt() {
    round_trip(Scheme::BlfCrypt);
}

#[test]
fn argon2i() {
    round_trip(Scheme::Argon2i);
}

#[test]
fn argon2id() {
    round_trip(Scheme::Argon2id);
}

/// `doveadm pw -r N` writes `rounds=N` (crypt) or a higher bcrypt cost.
#[test]
fn doveadm_explicit_rounds() {
    for (scheme, rounds, marker) in [
        (Scheme::Sha512Crypt, "10000", "$6$rounds=10000$"),
        (Scheme::Sha256Crypt, "10000", "$5$rounds=10000$"),
        (Scheme::BlfCrypt, "6", "$2y$06$"),
    ] {
        let theirs = doveadm_hash(scheme, &["-r", rounds], PASSWORD);
        assert!(theirs.contains(marker), "{theirs}");
        assert_eq!(
            passwd::classify(&theirs),
            Classification::Hashed(scheme),
            "{theirs}"
        );
        assert!(
            passwd::verify(PASSWORD, &theirs).expect("verify"),
            "{theirs}"
        );
        assert!(!passwd::verify(WRONG, &theirs).expect("verify"), "{theirs}");
    }
}

/// The shape check (salt length, digest length, the digest's last character)
/// holds for every hash Dovecot makes, not only the one in each round trip.
#[test]
fn many_doveadm_hashes_classify_as_hashed() {
    for scheme in [Scheme::Sha512Crypt, Scheme::Sha256Crypt, Scheme::BlfCrypt] {
        for i in 0..40 {
            let theirs = doveadm_hash(scheme, &[], &format!("pw{i}"));
            assert_eq!(
                passwd::classify(&theirs),
                Classification::Hashed(scheme),
                "{theirs}"
            );
        }
    }
}

/// A hash Dovecot would load but never verify must not pass validation: the
/// sha-crypt 0.6 default (22-character salt) and a doctored last digest
/// character both fail in doveadm, and `classify` calls them malformed.
#[test]
fn malformed_hashes_fail_in_doveadm_too() {
    let good = doveadm_hash(Scheme::Sha512Crypt, &[], PASSWORD);
    let (head, digest) = good.rsplit_once('$').unwrap();
    let long_salt = format!("{head}abcdef${digest}");
    let last = digest.chars().last().unwrap();
    let flipped = if last == '1' { '3' } else { 'z' };
    let stray_bits = format!("{head}${}{flipped}", &digest[..digest.len() - 1]);
    for bad in [long_salt, stray_bits] {
        assert!(
            matches!(
                passwd::classify(&bad),
                Classification::Malformed(Scheme::Sha512Crypt, _)
            ),
            "{bad}: {:?}",
            passwd::classify(&bad)
        );
        assert!(!doveadm_verifies(&bad, PASSWORD), "Dovecot verifies {bad}");
    }
}
