//! TLS for every listener: the manifest's certificate (or the files named
//! by `--tls-cert`/`--tls-key`), or — only when neither of the manifest's
//! files is there at all — a self-signed one for the hostname, made at
//! start. A file that is there but cannot be read (permissions, a dangling
//! link, a folder on the way the server may not enter) stops the start
//! with its path: a server on the Internet must not quietly present a
//! self-signed certificate because certbot's key is root's.

use std::io::ErrorKind;
use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Where the certificate came from (said once at start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Files,
    SelfSigned,
}

/// Whether nothing at all is at `p`: not a file, not a link (even a
/// dangling one), and every folder on the way could be looked into.
fn absent(p: &Path) -> bool {
    matches!(std::fs::symlink_metadata(p), Err(e) if e.kind() == ErrorKind::NotFound)
}

/// Reads `p` whole, or says why not with its path (`what` names it).
fn read(p: &Path, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(p).map_err(|e| format!("cannot read the {what} {}: {e}", p.display()))
}

/// Builds the server's TLS configuration. `self_sign` allows the
/// self-signed stand-in when both files are absent (the manifest's paths);
/// files named on the command line must be there.
pub fn config(
    hostname: &str,
    cert: &Path,
    key: &Path,
    self_sign: bool,
) -> Result<(Arc<ServerConfig>, Origin), String> {
    let (chain, key, origin) = if !(self_sign && absent(cert) && absent(key)) {
        let pem = read(cert, "certificate")?;
        let chain = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("cannot read the certificate {}: {e}", cert.display()))?;
        if chain.is_empty() {
            return Err(format!("no certificate in {}", cert.display()));
        }
        let pem = read(key, "TLS key")?;
        let key = PrivateKeyDer::from_pem_slice(&pem)
            .map_err(|e| format!("cannot read the TLS key {}: {e}", key.display()))?;
        (chain, key, Origin::Files)
    } else {
        let c = rcgen::generate_simple_self_signed(vec![hostname.to_string()])
            .map_err(|e| format!("cannot make a self-signed certificate: {e}"))?;
        let key = PrivateKeyDer::try_from(c.signing_key.serialize_der())
            .map_err(|e| format!("cannot use the self-signed key: {e}"))?;
        (vec![c.cert.der().clone()], key, Origin::SelfSigned)
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("the certificate and key do not fit together: {e}"))?;
    Ok((Arc::new(cfg), origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("mailc-tls-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn self_signed_only_when_nothing_is_there() {
        let d = dir("absent");
        let (cert, key) = (d.join("none/cert.pem"), d.join("none/key.pem"));
        let (_, origin) = config("mx.example", &cert, &key, true).unwrap();
        assert_eq!(origin, Origin::SelfSigned);
        // Named on the command line: must be there.
        let e = config("mx.example", &cert, &key, false).unwrap_err();
        assert!(e.contains("cert.pem"), "{e}");
        // A dangling link is not "nothing there".
        std::fs::create_dir_all(d.join("none")).unwrap();
        std::os::unix::fs::symlink(d.join("archive/cert1.pem"), &cert).unwrap();
        let e = config("mx.example", &cert, &key, true).unwrap_err();
        assert!(
            e.contains("cannot read the certificate") && e.contains("cert.pem"),
            "{e}"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_key_without_its_certificate_is_an_error() {
        let d = dir("half");
        let (cert, key) = (d.join("cert.pem"), d.join("key.pem"));
        std::fs::write(&key, "not a key\n").unwrap();
        let e = config("mx.example", &cert, &key, true).unwrap_err();
        assert!(
            e.contains("cannot read the certificate") && e.contains("cert.pem"),
            "{e}"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
