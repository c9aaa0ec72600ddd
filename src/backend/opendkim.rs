//! The DKIM signer of Postfix hosts: an OpenDKIM configuration per
//! `postfix-dovecot` host, in `dkim/HOST/`, installed on that host in the
//! folder its [`Install`] names (`/etc/opendkim`):
//!
//! - `opendkim.conf`: the milter on the socket Postfix is told to use
//!   ([`Install::dkim_milter`], `inet:127.0.0.1:8891`), reading the tables
//!   below by their installed paths, with the `PidFile` Debian's service
//!   waits for (`Type=forking`, `/run/opendkim/opendkim.pid`);
//! - `KeyTable`: `SELECTOR._domainkey.DOMAIN DOMAIN:SELECTOR:PATH`;
//! - `SigningTable` (a `refile:`): `*@DOMAIN SELECTOR._domainkey.DOMAIN`;
//! - `TrustedHosts`: loopback and the host's own names and addresses, whose
//!   mail is signed (authenticated submission is signed anyway);
//! - `keys/DOMAIN/SELECTOR.key`: a copy of each private key file (a secret
//!   output, mode 0600). The tables name keys only by path: no key material
//!   appears anywhere else.
//!
//! A host signs for the domains it is local for, with every key of theirs
//! that has a `private_key` and `sign` left true (several keys of one domain
//! give several signatures, e.g. Ed25519 beside RSA, RFC 8463 §6). A host
//! that signs nothing gets no files. The Exim stack signs with its own
//! options and the embedded server by itself.

use std::fmt::Write as _;

use super::Context;
use super::install::Install;
use super::shared::{key_file_problem, signing_keys};
use crate::diag::Diagnostic;
use crate::model::{Host, Model};
use crate::output::{Output, OutputFile};
use crate::vocab::Stack;

/// Writes the signer files of every Postfix host that signs.
pub fn compile(model: &Model, ctx: &dyn Context, out: &mut Output, diags: &mut Vec<Diagnostic>) {
    for host in model.hosts.values() {
        if host.stack != Stack::PostfixDovecot {
            continue;
        }
        let keys = signing_keys(model, &host.key);
        if keys.is_empty() {
            continue;
        }
        let install = ctx.install(host);
        let installed = &install.dkim_dir;
        let dir = format!("dkim/{}", host.key);
        let mut key_table = header(host, "KeyTable: which key signs as which selector");
        let mut signing_table =
            header(host, "SigningTable: which key signs mail from which sender");
        for s in &keys {
            let _ = writeln!(
                key_table,
                "{} {}:{}:{installed}/{}",
                s.record(),
                s.domain.name,
                s.key.selector,
                s.copy()
            );
            let _ = writeln!(signing_table, "*@{} {}", s.domain.name, s.record());
            match ctx.private_key(s.path) {
                Some(bytes) => out.insert(format!("{dir}/{}", s.copy()), OutputFile::secret(bytes)),
                None => diags.push(key_file_problem(s.path, "it cannot be read".into())),
            }
        }
        out.insert(format!("{dir}/KeyTable"), OutputFile::public(key_table));
        out.insert(
            format!("{dir}/SigningTable"),
            OutputFile::public(signing_table),
        );
        out.insert(
            format!("{dir}/TrustedHosts"),
            OutputFile::public(trusted_hosts(host)),
        );
        out.insert(
            format!("{dir}/opendkim.conf"),
            OutputFile::public(conf(host, &install)),
        );
    }
}

fn header(host: &Host, what: &str) -> String {
    format!(
        "# {what}, for host {} ({}).\n# Written by mailc from the spec; do not edit.\n",
        host.key, host.hostname
    )
}

/// Hosts whose mail OpenDKIM signs rather than verifies.
fn trusted_hosts(host: &Host) -> String {
    let mut s = header(
        host,
        "TrustedHosts: mail from these is signed, not verified",
    );
    s.push_str("127.0.0.1\n::1\nlocalhost\n");
    let _ = writeln!(s, "{}", host.hostname);
    let _ = writeln!(s, "{}", host.ipv4);
    if let Some(v6) = host.ipv6 {
        let _ = writeln!(s, "{v6}");
    }
    s
}

/// OpenDKIM's notation for Postfix's milter address: `inet:ADDR:PORT` is
/// `inet:PORT@ADDR`; a `unix:`/`local:` socket is the same path.
fn opendkim_socket(milter: &str) -> String {
    match milter
        .strip_prefix("inet:")
        .and_then(|a| a.rsplit_once(':'))
    {
        Some((addr, port)) => format!("inet:{port}@{addr}"),
        None => milter.replacen("unix:", "local:", 1),
    }
}

fn conf(host: &Host, install: &Install) -> String {
    let dir = &install.dkim_dir;
    let mut s = header(host, "OpenDKIM configuration");
    let _ = write!(
        s,
        "# Install this folder as {dir}; Postfix reaches the milter at {}.\n\
         Syslog                  yes\n\
         UMask                   007\n\
         UserID                  opendkim\n\
         PidFile                 {}\n\
         Socket                  {}\n\
         Mode                    sv\n\
         Canonicalization        relaxed/simple\n\
         OversignHeaders         From\n\
         SubDomains              no\n\
         MultipleSignatures      yes\n\
         KeyTable                {dir}/KeyTable\n\
         SigningTable            refile:{dir}/SigningTable\n\
         InternalHosts           {dir}/TrustedHosts\n\
         ExternalIgnoreList      {dir}/TrustedHosts\n",
        install.dkim_milter,
        install.dkim_pid_file,
        opendkim_socket(&install.dkim_milter),
    );
    s
}

#[cfg(test)]
mod tests {
    use super::opendkim_socket;

    #[test]
    fn socket_notation() {
        assert_eq!(
            opendkim_socket("inet:127.0.0.1:8891"),
            "inet:8891@127.0.0.1"
        );
        assert_eq!(opendkim_socket("unix:/run/od.sock"), "local:/run/od.sock");
    }
}
