//! The emulator's TLS: the browser component only connects with `wss:`, so the emulator is
//! HTTPS. Without a certificate it makes a self-signed one for `127.0.0.1` and `localhost`
//! at start (the browser must be told to accept it, e.g. Chromium's
//! `--ignore-certificate-errors`, or trust the PEM the emulator writes).

use std::sync::Arc;

use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

use super::EmulatorError;

/// A certificate chain and its key, PEM encoded.
#[derive(Debug, Clone)]
pub struct PemPair {
    pub cert: String,
    pub key: String,
}

/// A fresh self-signed certificate for `127.0.0.1`, `::1` and `localhost`.
pub fn self_signed() -> Result<PemPair, EmulatorError> {
    let names = ["127.0.0.1", "::1", "localhost"].map(String::from).to_vec();
    let certified =
        rcgen::generate_simple_self_signed(names).map_err(|e| EmulatorError::Tls(e.to_string()))?;
    Ok(PemPair {
        cert: certified.cert.pem(),
        key: certified.signing_key.serialize_pem(),
    })
}

/// A rustls server configuration for `pair` (HTTP/1.1 only: browsers open websockets on it).
pub fn server_config(pair: &PemPair) -> Result<Arc<ServerConfig>, EmulatorError> {
    let tls = |what: &str, e: &dyn std::fmt::Display| EmulatorError::Tls(format!("{what}: {e}"));
    let certs = CertificateDer::pem_slice_iter(pair.cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls("certificate", &e))?;
    if certs.is_empty() {
        return Err(EmulatorError::Tls("no certificate in the PEM".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(pair.key.as_bytes()).map_err(|e| tls("key", &e))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls("protocol versions", &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| tls("certificate and key", &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_pair_makes_a_server_config() {
        let pair = self_signed().unwrap();
        assert!(pair.cert.starts_with("-----BEGIN CERTIFICATE-----"));
        server_config(&pair).unwrap();
    }

    #[test]
    fn garbage_is_reported_not_panicked_on() {
        let pair = PemPair {
            cert: "nope".into(),
            key: "nope".into(),
        };
        assert!(matches!(server_config(&pair), Err(EmulatorError::Tls(_))));
    }
}
