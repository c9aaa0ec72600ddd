//! TLS for every listener: the manifest's certificate, or — when its files
//! are missing — a self-signed one for the hostname, made at start.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Where the certificate came from (said once at start).
pub enum Origin {
    Files,
    SelfSigned,
}

/// Builds the server's TLS configuration.
pub fn config(
    hostname: &str,
    cert: &Path,
    key: &Path,
) -> Result<(Arc<ServerConfig>, Origin), String> {
    let (chain, key, origin) = if cert.exists() || key.exists() {
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("cannot read the certificate {}: {e}", cert.display()))?;
        if chain.is_empty() {
            return Err(format!("no certificate in {}", cert.display()));
        }
        let key = PrivateKeyDer::from_pem_file(key)
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
