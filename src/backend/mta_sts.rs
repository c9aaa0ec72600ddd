//! MTA-STS (RFC 8461): the policy file each domain serves at
//! `https://mta-sts.DOMAIN/.well-known/mta-sts.txt`, written to
//! `mta-sts/DOMAIN/.well-known/mta-sts.txt`, and the `id` its `_mta-sts`
//! TXT record carries.
//!
//! - The policy lists every MX name of the domain (ours and external ones),
//!   in MX order, lines ended with CRLF as in RFC 8461 §3.2.
//! - The `id` is the first 20 hex digits of the SHA-256 of the policy file,
//!   so it changes exactly when the policy does (RFC 8461 §3.1 asks for a new
//!   id whenever the policy changes; 1–32 alphanumerics).
//! - `mta-sts.DOMAIN` points at the hosts that serve the policy
//!   ([`policy_hosts`]): the domain's local host; for a domain without one,
//!   our hosts in its MX list; for mail hosted elsewhere, the spec's first
//!   host by key. With no host at all, no address is written.

use std::fmt::Write as _;

use super::Context;
use crate::diag::Diagnostic;
use crate::model::{Domain, Host, Model, Role};
use crate::output::{Output, OutputFile};
use crate::vocab::MtaStsMode;

/// The policy file's path under `--out`.
pub fn path(domain: &str) -> String {
    format!("mta-sts/{domain}/.well-known/mta-sts.txt")
}

/// The policy text, or `None` when the domain publishes no MTA-STS.
pub fn policy(domain: &Domain) -> Option<String> {
    let sts = domain.mta_sts.as_ref()?;
    let mode = match sts.mode {
        MtaStsMode::Enforce => "enforce",
        MtaStsMode::Testing => "testing",
        MtaStsMode::None => "none",
    };
    let mut text = format!("version: STSv1\r\nmode: {mode}\r\n");
    let mut mx: Vec<_> = domain.mx.iter().collect();
    mx.sort_by_key(|m| m.preference);
    for m in mx {
        let _ = write!(text, "mx: {}\r\n", m.hostname);
    }
    let _ = write!(text, "max_age: {}\r\n", sts.max_age);
    Some(text)
}

/// The `id=` of the `_mta-sts` record for a policy text.
pub fn id(policy: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, policy.as_bytes());
    let mut hex = String::new();
    for b in digest.as_ref().iter().take(10) {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// The hosts whose addresses `mta-sts.DOMAIN` gets (see the module docs).
pub fn policy_hosts<'a>(model: &'a Model, domain: &Domain) -> Vec<&'a Host> {
    let local: Vec<&Host> = domain
        .roles
        .iter()
        .filter(|(_, r)| **r == Role::Local)
        .filter_map(|(k, _)| model.hosts.get(k))
        .collect();
    if !local.is_empty() {
        return local;
    }
    let mut mx: Vec<_> = domain.mx.iter().filter(|m| m.host.is_some()).collect();
    mx.sort_by_key(|m| m.preference);
    let ours: Vec<&Host> = mx
        .iter()
        .filter_map(|m| m.host.as_ref().and_then(|k| model.hosts.get(k)))
        .collect();
    if !ours.is_empty() {
        return ours;
    }
    model.hosts.values().take(1).collect()
}

/// Writes every domain's policy file.
pub fn compile(model: &Model, _: &dyn Context, out: &mut Output, _: &mut Vec<Diagnostic>) {
    for d in model.domains.values() {
        if let Some(text) = policy(d) {
            out.insert(path(&d.name), OutputFile::public(text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_short_hex() {
        let a = id("version: STSv1\r\nmode: enforce\r\n");
        assert_eq!(a.len(), 20);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, id("version: STSv1\r\nmode: testing\r\n"));
    }
}
