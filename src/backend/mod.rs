//! Backends: each turns the [`Model`] (never the spec) into files of the
//! [`Output`]. Everything a backend needs from outside — the files already in
//! `--out` (for the SOA serial), DKIM key material — comes in through
//! [`Context`]; no backend touches the file system or the clock.

pub mod dns;
pub mod dovecot;
pub mod exim;
pub mod install;
pub mod limits;
pub mod mta_sts;
pub mod opendkim;
pub mod postfix;
pub mod relay;
pub mod server;
pub mod shared;
pub mod template;
pub mod zone;

use crate::diag::Diagnostic;
use crate::model::{Host, Model};
use crate::output::Output;
use install::Install;

/// What backends may read from outside, supplied by the command layer.
pub trait Context: Sync {
    /// The current content of a file in the output folder, by relative path.
    fn previous(&self, path: &str) -> Option<Vec<u8>>;
    /// The bytes of a DKIM private key file named in the spec (path as written
    /// in the spec, relative to the spec's folder).
    fn private_key(&self, path: &str) -> Option<Vec<u8>>;
    /// The bytes of another secret file the spec names (a relay's
    /// password), read like a key file.
    fn secret(&self, path: &str) -> Option<Vec<u8>> {
        self.private_key(path)
    }
    /// Where `host`'s mail services are installed and listen: production
    /// unless a test compiles for an [`install::TestRoot`].
    fn install(&self, host: &Host) -> Install {
        Install::production(host)
    }
}

/// Whether a backend asks [`Context::previous`] for `path`: only the zone
/// files are read (for their SOA serials).
pub fn reads_previous(path: &str) -> bool {
    path.strip_prefix("dns/")
        .is_some_and(|name| !name.contains('/') && name.ends_with(".zone"))
}

/// One backend: writes its files into the output, its problems into the
/// list. Every backend has this signature, and none imports another: what
/// several need is in [`shared`], [`relay`], [`install`] and [`template`].
type Backend = fn(&Model, &dyn Context, &mut Output, &mut Vec<Diagnostic>);

/// Runs every backend. Problems found only now (e.g. an unreadable key file)
/// come back as diagnostics without a span.
pub fn compile(model: &Model, ctx: &dyn Context) -> Result<Output, Vec<Diagnostic>> {
    let backends: [Backend; 7] = [
        dns::compile,
        mta_sts::compile,
        opendkim::compile,
        postfix::compile,
        dovecot::compile,
        exim::compile,
        server::compile,
    ];
    // Backends share nothing but the model and the context: each runs on its
    // own thread into its own output, merged in this order.
    let parts: Vec<(Output, Vec<Diagnostic>)> = crate::par::map_each(backends, |backend| {
        let mut part = (Output::default(), Vec::new());
        backend(model, ctx, &mut part.0, &mut part.1);
        part
    });
    let mut out = Output::default();
    let mut diags = Vec::new();
    for (files, problems) in parts {
        out.files.extend(files.files);
        diags.extend(problems);
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        // One unreadable key file is reported once, not by every backend.
        diags.sort_by(|a, b| (a.code, &a.message).cmp(&(b.code, &b.message)));
        diags.dedup();
        Err(diags)
    }
}
