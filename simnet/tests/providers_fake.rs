//! The fake provider's ports and behaviours, checked at the TCP level (the prober's own tests
//! check what it serves over TLS, HTTP and gRPC).

use std::time::Duration;

use simnet::providers::{Behaviour, FakeNode, FakeProvider, FakeProviderSpec, ScriptStep};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

fn spec(owner: &str) -> FakeProviderSpec {
    FakeProviderSpec::up(
        owner,
        vec![FakeNode::with_gpus(
            "n",
            &simnet::providers::FakeGpu::nvidia("a100", "80Gi", "SXM4"),
            8,
            0,
        )],
    )
}

/// Reads what the fake says within 300 ms after a (bogus) client hello: `None` when it stays
/// silent.
async fn first_words(address: std::net::SocketAddr) -> Option<Vec<u8>> {
    let mut tcp = TcpStream::connect(address).await.expect("the port accepts");
    tcp.write_all(b"\x16\x03\x01\x00\x05hello").await.unwrap();
    let mut buf = vec![0u8; 64];
    match timeout(Duration::from_millis(300), tcp.read(&mut buf)).await {
        Ok(Ok(n)) => Some(buf[..n].to_vec()),
        Ok(Err(_)) => Some(Vec::new()),
        Err(_) => None,
    }
}

#[tokio::test]
async fn providers_grpc_listens_on_the_next_port_only_from_0_5_0() {
    let current = FakeProvider::start(spec("akash1new")).await.unwrap();
    let old = FakeProvider::start(spec("akash1old").with_version("0.4.7"))
        .await
        .unwrap();
    let rest = current.rest_addr();
    assert_eq!(current.grpc_addr().map(|a| a.port()), Some(rest.port() + 1));
    assert_eq!(
        current.host_uri(),
        format!("https://127.0.0.1:{}", rest.port())
    );
    assert!(TcpStream::connect(current.grpc_addr().unwrap())
        .await
        .is_ok());
    assert_eq!(old.grpc_addr(), None, "old providers had no gRPC endpoint");
    assert_ne!(
        current.cert_sha256(),
        old.cert_sha256(),
        "each fake has its own certificate"
    );
    assert_eq!(current.cert_sha256().len(), 64);
}

#[tokio::test]
async fn providers_down_refuses_and_up_reopens_the_same_ports() {
    let fake = FakeProvider::start(spec("akash1steered")).await.unwrap();
    let (rest, grpc) = (fake.rest_addr(), fake.grpc_addr().unwrap());
    fake.set_behaviour(Behaviour::Down).await;
    let refused = async {
        for _ in 0..50 {
            if TcpStream::connect(rest).await.is_err() && TcpStream::connect(grpc).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    };
    assert!(refused.await, "both ports close");
    fake.set_behaviour(Behaviour::Up).await;
    let reopened = async {
        for _ in 0..100 {
            if TcpStream::connect(rest).await.is_ok() && TcpStream::connect(grpc).await.is_ok() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    };
    assert!(reopened.await, "both ports reopen on the same numbers");
}

#[tokio::test]
async fn providers_hang_is_silent_bad_tls_is_plain_text_and_up_serves_its_certificate() {
    let hang = FakeProvider::start(spec("akash1hang").behaving(Behaviour::Hang))
        .await
        .unwrap();
    let bad = FakeProvider::start(spec("akash1bad").behaving(Behaviour::BadTls))
        .await
        .unwrap();
    let up = FakeProvider::start(spec("akash1up")).await.unwrap();
    assert_eq!(
        first_words(hang.rest_addr()).await,
        None,
        "accepts and never answers"
    );
    assert_eq!(first_words(hang.grpc_addr().unwrap()).await, None);
    let words = first_words(bad.rest_addr()).await.expect("answers at once");
    assert!(
        words.starts_with(b"HTTP/1.1 400"),
        "{:?}",
        String::from_utf8_lossy(&words)
    );
    let (fingerprint, alpn) = handshake(up.rest_addr()).await;
    assert_eq!(fingerprint, up.cert_sha256());
    assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
    let (fingerprint, alpn) = handshake(up.grpc_addr().unwrap()).await;
    assert_eq!(
        fingerprint,
        up.cert_sha256(),
        "both ports serve the same certificate"
    );
    assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
}

/// A TLS handshake offering both protocols: the SHA-256 of the certificate served and the
/// protocol the port chose.
async fn handshake(address: std::net::SocketAddr) -> (String, Option<Vec<u8>>) {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};
    use sha2::{Digest, Sha256};

    #[derive(Debug)]
    struct AnyCertificate(std::sync::Arc<rustls::crypto::CryptoProvider>);
    impl ServerCertVerifier for AnyCertificate {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                m,
                c,
                d,
                &self.0.signature_verification_algorithms,
            )
        }
        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                m,
                c,
                d,
                &self.0.signature_verification_algorithms,
            )
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(std::sync::Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tcp = TcpStream::connect(address).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("the fake completes a TLS handshake");
    let session = tls.get_ref().1;
    let certificate = &session.peer_certificates().unwrap()[0];
    (
        hex::encode(Sha256::digest(certificate.as_ref())),
        session.alpn_protocol().map(<[u8]>::to_vec),
    )
}

#[tokio::test]
async fn providers_scripts_change_behaviour_on_time() {
    let fake = FakeProvider::start(FakeProviderSpec {
        script: vec![
            ScriptStep::new(Duration::ZERO, Behaviour::Down),
            ScriptStep::new(Duration::from_millis(150), Behaviour::Http500),
        ],
        ..spec("akash1scripted")
    })
    .await
    .unwrap();
    assert_eq!(fake.behaviour(), Behaviour::Down);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(fake.behaviour(), Behaviour::Http500);
}

#[test]
fn providers_spec_files_use_defaults_and_snake_case_names() {
    let specs: Vec<FakeProviderSpec> = serde_json::from_str(
        r#"[{"owner": "akash1a"},
            {"owner": "akash1b", "version": "0.4.7", "rest_shape": "units_val",
             "script": [{"after_ms": 0, "behaviour": "bad_tls"}, {"after_ms": 5000, "behaviour": "up"}],
             "nodes": [{"name": "n", "allocatable": "18446744073709551615", "allocated": "-1"}]}]"#,
    )
    .unwrap();
    assert_eq!(specs[0].version, "0.6.4");
    assert!(specs[0].serves_grpc() && !specs[1].serves_grpc());
    assert_eq!(
        specs[0].behaviour_at(Duration::from_secs(60)),
        Behaviour::Up
    );
    assert_eq!(
        specs[1].behaviour_at(Duration::from_millis(4999)),
        Behaviour::BadTls
    );
    assert_eq!(
        specs[1].behaviour_at(Duration::from_millis(5000)),
        Behaviour::Up
    );
    assert_eq!(specs[1].nodes[0].gpus, vec![]);
    for behaviour in Behaviour::ALL {
        assert_eq!(Behaviour::from_name(behaviour.name()), Some(behaviour));
        assert_eq!(
            serde_json::to_string(&behaviour).unwrap(),
            format!("\"{}\"", behaviour.name())
        );
    }
}
