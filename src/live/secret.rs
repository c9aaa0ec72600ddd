//! Reading the secrets of DNS targets from the bytes of their files: a
//! TSIG key's secret (RFC 8945) and a PowerDNS API key. The caller reads
//! the file (and checks who may read it); nothing here prints a secret,
//! and no error message quotes one.

use base64::Engine as _;

use crate::vocab::TsigAlgorithm;

/// The largest secret file read.
pub const MAX_LEN: usize = 64 * 1024;

/// A TSIG secret file: the base64 secret alone (as `pdnsutil
/// generate-tsig-key` prints it), or a BIND `key` clause (as `tsig-keygen`
/// writes it), whose name and algorithm must then be the target's.
pub fn tsig_secret(
    bytes: &[u8],
    key_name: &str,
    algorithm: TsigAlgorithm,
) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "it is not text".to_string())?;
    let b64 = match clause_value(text, "secret") {
        Some(secret) => {
            if let Some(name) = key_clause_name(text)
                && !name
                    .trim_end_matches('.')
                    .eq_ignore_ascii_case(key_name.trim_end_matches('.'))
            {
                return Err(format!("it holds the key `{name}`, not `{key_name}`"));
            }
            if let Some(alg) = clause_value(text, "algorithm") {
                let want = match algorithm {
                    TsigAlgorithm::HmacSha256 => "hmac-sha256",
                    TsigAlgorithm::HmacSha512 => "hmac-sha512",
                };
                if !alg.eq_ignore_ascii_case(want) {
                    return Err(format!("it holds a `{alg}` key; the target says `{want}`"));
                }
            }
            secret
        }
        None => text.trim().to_string(),
    };
    if b64.is_empty() {
        return Err("it is empty".into());
    }
    let secret = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|_| "it holds no base64 secret (nor a BIND `key` clause)".to_string())?;
    if secret.len() < 16 {
        return Err(format!(
            "the secret is {} bytes; a TSIG secret should be at least 16 (RFC 8945 §6)",
            secret.len()
        ));
    }
    Ok(secret)
}

/// `NAME` of `key "NAME" {`.
fn key_clause_name(text: &str) -> Option<String> {
    let rest = text.trim_start().strip_prefix("key")?;
    let rest = rest.trim_start();
    let name = match rest.strip_prefix('"') {
        Some(q) => q.split('"').next()?,
        None => rest.split(|c: char| c.is_whitespace() || c == '{').next()?,
    };
    Some(name.to_string())
}

/// The value of `WORD VALUE;` or `WORD "VALUE";` inside a clause.
fn clause_value(text: &str, word: &str) -> Option<String> {
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before_ok = at == 0
            || rest[..at]
                .chars()
                .last()
                .is_some_and(|c| c.is_whitespace() || c == '{' || c == ';');
        let after = &rest[at + word.len()..];
        if before_ok && after.starts_with(char::is_whitespace) {
            let value = after.trim_start();
            let value = match value.strip_prefix('"') {
                Some(q) => q.split('"').next()?,
                None => value.split(';').next()?.trim(),
            };
            return Some(value.to_string());
        }
        rest = after;
    }
    None
}

/// A PowerDNS API key file: the key on one line.
pub fn api_key(bytes: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "it is not text".to_string())?;
    let key = text.trim();
    if key.is_empty() {
        return Err("it is empty".into());
    }
    if key.contains(['\n', '\r']) || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err("it must hold the key alone, on one line".into());
    }
    Ok(key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=";

    #[test]
    fn bare_and_bind_key_files() {
        let want = base64::engine::general_purpose::STANDARD
            .decode(SECRET)
            .unwrap();
        let got = tsig_secret(
            format!("{SECRET}\n").as_bytes(),
            "k",
            TsigAlgorithm::HmacSha256,
        );
        assert_eq!(got.unwrap(), want);
        let bind = format!(
            "key \"mailc-key\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{SECRET}\";\n}};\n"
        );
        assert_eq!(
            tsig_secret(bind.as_bytes(), "mailc-key", TsigAlgorithm::HmacSha256).unwrap(),
            want
        );
        let e = tsig_secret(bind.as_bytes(), "other", TsigAlgorithm::HmacSha256).unwrap_err();
        assert_eq!(e, "it holds the key `mailc-key`, not `other`");
        let e = tsig_secret(bind.as_bytes(), "mailc-key", TsigAlgorithm::HmacSha512).unwrap_err();
        assert!(e.contains("hmac-sha512"), "{e}");
        let e = tsig_secret(b"not base64!\n", "k", TsigAlgorithm::HmacSha256).unwrap_err();
        assert!(
            !e.contains("not base64!"),
            "an error never quotes the file: {e}"
        );
        assert!(tsig_secret(b"", "k", TsigAlgorithm::HmacSha256).is_err());
    }

    #[test]
    fn api_keys() {
        assert_eq!(api_key(b"abc123\n").unwrap(), "abc123");
        assert!(api_key(b"\n").is_err());
        assert!(api_key(b"a\nb\n").is_err());
    }
}
