//! What several backends need, in the one module they all depend on: the
//! diagnostic for a file the compiler needs but cannot use, the DKIM keys
//! each host signs with (OpenDKIM, Exim and the embedded server sign with
//! the same ones), and the sockets Dovecot offers the host's MTA (Postfix
//! and Exim connect where Dovecot listens).

use serde::Serialize;

use super::install::Install;
use crate::diag::{About, Code, Diagnostic};
use crate::model::{DkimKey, DkimSource, Domain, Host, Model, Role};
use crate::vocab::Stack;

/// A diagnostic found while building zones: no span (the spec is not at
/// hand), but what it is about, so that `model::locate` can point at the
/// spec entry behind it.
pub(super) fn problem(code: Code, message: String, help: &str, about: About) -> Diagnostic {
    let mut d = Diagnostic::error(code, Default::default(), message)
        .help(help)
        .about(about);
    d.labels.clear();
    d
}

/// A DKIM key file the compiler needs but cannot use.
pub(super) fn key_file_problem(path: &str, why: String) -> Diagnostic {
    problem(
        Code::DkimKeyFile,
        format!("the DKIM key file `{path}` cannot be used: {why}"),
        "run `mailc dkim keygen` to create missing keys; a key file must be readable PEM (PKCS#8 or PKCS#1)",
        About::File(path.to_string()),
    )
}

/// One key a host signs with.
pub struct Signing<'a> {
    pub domain: &'a Domain,
    pub key: &'a DkimKey,
    /// The key file, as written in the spec.
    pub path: &'a str,
}

impl Signing<'_> {
    /// `SELECTOR._domainkey.DOMAIN`: the KeyTable's key name.
    pub fn record(&self) -> String {
        format!("{}._domainkey.{}", self.key.selector, self.domain.name)
    }

    /// The copy's path inside `dkim/HOST/` (and in the installed folder).
    pub fn copy(&self) -> String {
        format!("keys/{}/{}.key", self.domain.name, self.key.selector)
    }
}

/// The keys `host` signs with, by domain then in spec order.
pub fn signing_keys<'a>(model: &'a Model, host: &str) -> Vec<Signing<'a>> {
    let mut out = Vec::new();
    for d in model.domains.values() {
        if d.roles.get(host) != Some(&Role::Local) {
            continue;
        }
        for k in &d.dkim {
            if let (true, DkimSource::PrivateKey(path)) = (k.sign, &k.source) {
                out.push(Signing {
                    domain: d,
                    key: k,
                    path,
                });
            }
        }
    }
    out
}

/// Postfix's name for Dovecot's LMTP socket, relative to the queue directory.
pub const LMTP_SOCKET: &str = "private/dovecot-lmtp";
/// Postfix's name for Dovecot's auth socket, relative to the queue directory.
pub const AUTH_SOCKET: &str = "private/auth";

/// Where Dovecot listens for the host's MTA, and who may connect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sockets {
    /// Absolute path of the LMTP socket, where the MTA connects.
    pub lmtp: String,
    /// Absolute path of the SASL auth socket.
    pub auth: String,
    /// Both as `dovecot.conf` names them: relative to `base_dir` when inside
    /// it (Dovecot warns about a `base_dir` prefix), else absolute.
    pub lmtp_listener: String,
    pub auth_listener: String,
    /// Owner and group of both sockets: the MTA's user.
    pub user: String,
    pub group: String,
}

/// The sockets of a host's stack. `None` for stacks without Dovecot.
pub fn sockets(host: &Host, install: &Install) -> Option<Sockets> {
    match host.stack {
        Stack::PostfixDovecot => Some(Sockets {
            lmtp: format!("{}/{LMTP_SOCKET}", install.postfix_queue_dir),
            auth: format!("{}/{AUTH_SOCKET}", install.postfix_queue_dir),
            lmtp_listener: format!("{}/{LMTP_SOCKET}", install.postfix_queue_dir),
            auth_listener: format!("{}/{AUTH_SOCKET}", install.postfix_queue_dir),
            user: "postfix".into(),
            group: "postfix".into(),
        }),
        Stack::EximDovecot => Some(Sockets {
            lmtp: format!("{}/lmtp-exim", install.dovecot_base_dir),
            auth: format!("{}/auth-exim", install.dovecot_base_dir),
            lmtp_listener: "lmtp-exim".into(),
            auth_listener: "auth-exim".into(),
            user: "Debian-exim".into(),
            group: "Debian-exim".into(),
        }),
        Stack::Embedded => None,
    }
}
