//! `mailc serve`: run a host's manifest, from a compiled
//! `server/HOST/manifest.json` or straight from a spec (compiled in memory,
//! nothing written).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::context::DiskContext;
use super::{fail, load};
use crate::manifest::{Manifest, NextHop};
use crate::model::MissingKey;
use crate::serve::{self, Options};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// A spec (default: mailc.yaml, else mailc.kdl) or a compiled manifest.json.
    input: Option<PathBuf>,
    /// The host to run (may be left out when there is one).
    #[arg(long)]
    host: Option<String>,
    /// Inbound SMTP address (IP:PORT). Giving any listen flag runs only the
    /// services given.
    #[arg(long, value_name = "ADDR")]
    smtp: Option<SocketAddr>,
    /// Submission (STARTTLS) address.
    #[arg(long, value_name = "ADDR")]
    submission: Option<SocketAddr>,
    /// Submission on implicit TLS.
    #[arg(long, value_name = "ADDR")]
    submissions: Option<SocketAddr>,
    /// IMAP (STARTTLS) address.
    #[arg(long, value_name = "ADDR")]
    imap: Option<SocketAddr>,
    /// IMAP on implicit TLS.
    #[arg(long, value_name = "ADDR")]
    imaps: Option<SocketAddr>,
    /// POP3 (STLS) address.
    #[arg(long, value_name = "ADDR")]
    pop3: Option<SocketAddr>,
    /// POP3 on implicit TLS.
    #[arg(long, value_name = "ADDR")]
    pop3s: Option<SocketAddr>,
    /// The certificate chain (PEM) to use instead of the manifest's; needs
    /// `--tls-key`. The files must be readable: no self-signed stand-in.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The mail store and queue folder (default: the manifest's).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Send every outbound message to this server (HOST:PORT) instead of
    /// by MX lookup: a smart host, or a test's sink.
    #[arg(long, value_name = "HOST:PORT")]
    relay_all: Option<String>,
    /// The DNS server MX lookups ask (IP:PORT).
    #[arg(long, value_name = "IP:PORT")]
    resolver: Option<SocketAddr>,
    /// Seconds before the first retry of deferred mail (then backoff).
    #[arg(long, hide = true)]
    retry_base: Option<u64>,
    /// How the log on stderr is written: one line per event, as text or as
    /// one JSON object.
    #[arg(long, value_enum, default_value = "text", value_name = "FORMAT")]
    log_format: LogFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum LogFormat {
    Text,
    Json,
}

fn parse_hop(s: &str) -> Option<NextHop> {
    let (host, port) = s.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some(NextHop {
        host: host.to_string(),
        port: port.parse().ok()?,
    })
}

pub fn run(args: ServeArgs, color: bool) -> ExitCode {
    let input = load::spec_path(args.input.as_deref());
    let is_manifest = input.extension().is_some_and(|e| e == "json");
    let (manifest, base_dir) = if is_manifest {
        match read_manifest(&input, args.host.as_deref()) {
            Ok(x) => x,
            Err(code) => return code,
        }
    } else {
        match from_spec(&input, args.host.as_deref(), color) {
            Ok(x) => x,
            Err(code) => return code,
        }
    };
    let relay_all = match args.relay_all.as_deref().map(|s| (s, parse_hop(s))) {
        None => None,
        Some((_, Some(h))) => Some(h),
        Some((s, None)) => {
            return fail(
                &format!("`--relay-all {s}` is not HOST:PORT"),
                Some("e.g. `--relay-all smarthost.example.net:25`"),
            );
        }
    };
    let options = Options {
        smtp: args.smtp,
        submission: args.submission,
        submissions: args.submissions,
        imap: args.imap,
        imaps: args.imaps,
        pop3: args.pop3,
        pop3s: args.pop3s,
        data: args.data,
        base_dir,
        relay_all,
        resolver: args.resolver,
        retry_base: args.retry_base,
        log_format: match args.log_format {
            LogFormat::Text => serve::log::Format::Text,
            LogFormat::Json => serve::log::Format::Json,
        },
        tls: args.tls_cert.zip(args.tls_key),
    };
    match serve::run(manifest, options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let help = match &e {
                serve::ServeError::Data { .. } => {
                    Some("choose a folder you may write with `--data DIR`")
                }
                serve::ServeError::Listen { .. } => Some(
                    "choose free addresses with `--smtp`, `--submission`, `--imap` (ports below 1024 need root)",
                ),
                serve::ServeError::Tls(_) => Some(
                    "let the server's user read the certificate and key (certbot keeps them root's: give them to the `ssl-cert` group, see docs/deploy.md), or name other files with `--tls-cert FILE --tls-key FILE`",
                ),
                _ => None,
            };
            fail(&e.to_string(), help)
        }
    }
}

fn read_manifest(path: &Path, host: Option<&str>) -> Result<(Manifest, PathBuf), ExitCode> {
    let bytes = std::fs::read(path)
        .map_err(|e| fail(&format!("cannot read {}: {e}", path.display()), None))?;
    let m =
        Manifest::from_json(&bytes).map_err(|e| fail(&format!("{}: {e}", path.display()), None))?;
    if let Some(h) = host
        && h != m.host
    {
        return Err(fail(
            &format!(
                "{} is the manifest of host `{}`, not `{h}`",
                path.display(),
                m.host
            ),
            Some("leave out `--host`, or pass that host's manifest"),
        ));
    }
    let base = path
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    Ok((m, base))
}

fn from_spec(
    path: &Path,
    host: Option<&str>,
    color: bool,
) -> Result<(Manifest, PathBuf), ExitCode> {
    let loaded = load::load(path, MissingKey::Error);
    let model = loaded.valid(color, "fix it before serving it", "run `mailc validate`")?;
    let keys: Vec<&str> = model.hosts.keys().map(String::as_str).collect();
    let embedded: Vec<&str> = model
        .hosts
        .values()
        .filter(|h| h.stack == crate::vocab::Stack::Embedded)
        .map(|h| h.key.as_str())
        .collect();
    let key = match host {
        Some(h) if model.hosts.contains_key(h) => h.to_string(),
        Some(h) => {
            let help = match crate::diag::suggest(h, keys.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the hosts are: {}", keys.join(", ")),
            };
            return Err(fail(
                &format!("`{h}` is not a host of {}", loaded.source.name),
                Some(&help),
            ));
        }
        None if keys.len() == 1 => keys[0].to_string(),
        None if embedded.len() == 1 => embedded[0].to_string(),
        None => {
            return Err(fail(
                "the spec has more than one host; say which with `--host`",
                Some(&format!("the hosts are: {}", keys.join(", "))),
            ));
        }
    };
    let host = &model.hosts[&key];
    if host.stack != crate::vocab::Stack::Embedded {
        eprintln!(
            "mailc serve: host `{key}` runs {} in production; serving its mail with the embedded server",
            match host.stack {
                crate::vocab::Stack::PostfixDovecot => "postfix-dovecot",
                _ => "exim-dovecot",
            }
        );
    }
    let ctx = DiskContext::new("out", &loaded.dir);
    let spec_dir = loaded.dir.clone();
    // Keys are read where the spec names them.
    let mut m = crate::backend::server::manifest(model, &ctx, host, &mut |_, _, p| {
        let p = Path::new(p);
        if p.is_absolute() {
            p.display().to_string()
        } else {
            spec_dir.join(p).display().to_string()
        }
    });
    // Relay passwords too.
    for r in m.relays.values_mut() {
        let file = model.relays.get(&r.name).and_then(|x| x.auth.as_ref());
        r.password_file = file.map(|a| spec_dir.join(&a.password_file).display().to_string());
    }
    Ok((
        m,
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    ))
}
