//! The fake's self-signed certificate and its TLS server settings, as a provider's own
//! certificate is self-signed too.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use sha2::{Digest, Sha256};
use tokio_rustls::TlsAcceptor;

/// A fresh self-signed certificate (ECDSA P-256) and its fingerprint.
pub(crate) struct Certificate {
    der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
    /// Lower-case hex SHA-256 of the DER certificate: what a prober should record.
    pub sha256: String,
}

impl Certificate {
    /// Generates a certificate for `localhost` and `127.0.0.1`.
    pub fn generate() -> Result<Self, rcgen::Error> {
        let certified = rcgen::generate_simple_self_signed(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
        ])?;
        let der = certified.cert.der().clone();
        let sha256 = hex::encode(Sha256::digest(der.as_ref()));
        Ok(Self {
            der,
            key: PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()),
            sha256,
        })
    }

    /// A TLS acceptor with this certificate offering `alpn` (one protocol per port, as the
    /// provider's gateway and gRPC server do).
    pub fn acceptor(&self, alpn: &[u8]) -> Result<TlsAcceptor, rustls::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![self.der.clone()],
                PrivateKeyDer::Pkcs8(self.key.clone_key()),
            )?;
        config.alpn_protocols = vec![alpn.to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}
