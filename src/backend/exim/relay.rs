//! Outbound relays on an Exim host: a `manualroute` router per relay, keyed
//! on the sender (its address, then its domain, in `relay_senders`, else
//! the host's own relay), each with its own `smtp` transport
//! (`hosts_require_tls`, `protocol = smtps` for implicit TLS,
//! `hosts_require_auth` with a login) and, for a relay with a login, a
//! `plaintext` client authenticator that sends it only through that
//! relay's transport. The password is read from a 0600 file at delivery
//! time (`readfile`), never written into `exim.conf`.
//!
//! Relays get Exim names of their own (`relay_1`, ...; in name order): a
//! spec's relay names never reach the configuration's syntax.

use serde::Serialize;

use crate::backend::Context;
use crate::backend::relay::{password, rules, used_by};
use crate::diag::Diagnostic;
use crate::model::{Host, Model};
use crate::vocab::RelayTls;

/// One relay, as `exim.conf` prints it.
#[derive(Clone, Serialize)]
pub struct EximRelay {
    /// The spec's name, for a comment.
    pub name: String,
    /// Exim's name of its router and transport.
    pub id: String,
    /// `route_list` host and port, as Exim's host lists write them.
    pub route: String,
    pub require_tls: bool,
    pub implicit: bool,
    /// The login, when it has one.
    pub login: Option<Login>,
}

#[derive(Clone, Serialize)]
pub struct Login {
    pub username: String,
    pub secret_file: String,
}

/// The relays of one host: what `exim.conf` prints, the `relay_senders`
/// rows, and the secret files to write (path below `exim/HOST/` → bytes).
#[derive(Default)]
pub struct Relays {
    pub relays: Vec<EximRelay>,
    /// The id of the host's own relay; empty without one.
    pub default: String,
    pub senders: Vec<(String, String)>,
    pub secrets: Vec<(String, String)>,
}

pub fn relays(
    model: &Model,
    ctx: &dyn Context,
    host: &Host,
    exim_dir: &str,
    diags: &mut Vec<Diagnostic>,
) -> Relays {
    let used = used_by(model, host);
    let mut out = Relays::default();
    let id_of = |name: &str| {
        used.iter()
            .position(|r| r.name == name)
            .map(|i| format!("relay_{}", i + 1))
    };
    for (i, r) in used.iter().enumerate() {
        let id = format!("relay_{}", i + 1);
        let login = match password(ctx, r) {
            Some(Ok(p)) => {
                let file = format!("relay/{id}.secret");
                out.secrets.push((file.clone(), format!("{p}\n")));
                r.auth.as_ref().map(|a| Login {
                    username: a.username.clone(),
                    secret_file: format!("{exim_dir}/{file}"),
                })
            }
            Some(Err(d)) => {
                diags.push(d);
                None
            }
            None => None,
        };
        out.relays.push(EximRelay {
            name: r.name.clone(),
            id,
            route: super::tables::route_data(&r.host, Some(r.port)),
            require_tls: r.tls != RelayTls::Opportunistic,
            implicit: r.tls == RelayTls::Implicit,
            login,
        });
    }
    if let Some(own) = host.relay.as_deref() {
        out.default = id_of(own).unwrap_or_default();
    }
    for (sender, r) in rules(model) {
        if let Some(id) = id_of(&r.name) {
            out.senders.push((sender.to_string(), id));
        }
    }
    out
}
