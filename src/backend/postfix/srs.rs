//! SRS for hosts that forward: postsrsd's settings (`/etc/default/postsrsd`)
//! for a host local for a domain with `srs: true`. Postfix hands it every
//! envelope sender (`sender_canonical_maps`) and every recipient
//! (`recipient_canonical_maps`, to map bounces back); the senders of the
//! host's own domains stay as they are, all others are rewritten into the
//! SRS domain, as postsrsd works (so locally delivered mail from outside
//! carries an `SRS0=` Return-Path too).

use serde::Serialize;

use crate::backend::install::Install;
use crate::model::{Host, Model, Role};

/// postsrsd's settings (`/etc/default/postsrsd`).
#[derive(Serialize)]
pub struct Postsrsd {
    host: String,
    hostname: String,
    /// The domain rewritten senders get: the first SRS domain the host is
    /// local for (its SPF lists this host).
    domain: String,
    /// Every domain the host is local for: their senders stay.
    exclude: String,
    secret: String,
    pub forward: u16,
    pub reverse: u16,
    user: String,
    chroot: String,
}

pub fn postsrsd(model: &Model, host: &Host, install: &Install) -> Option<Postsrsd> {
    let local: Vec<&str> = model
        .domains
        .values()
        .filter(|d| d.roles.get(&host.key) == Some(&Role::Local))
        .map(|d| d.name.as_str())
        .collect();
    let domain = model
        .domains
        .values()
        .find(|d| d.srs && d.roles.get(&host.key) == Some(&Role::Local))?;
    Some(Postsrsd {
        host: host.key.clone(),
        hostname: host.hostname.clone(),
        domain: domain.name.clone(),
        exclude: local.join(","),
        secret: install.srs_secret.clone(),
        forward: install.srs_ports.0,
        reverse: install.srs_ports.1,
        user: install.srs_user.clone(),
        chroot: install.srs_chroot.clone(),
    })
}
