//! Talking to one provider: DNS, TCP, TLS that accepts self-signed certificates but records
//! them, an HTTP/1.1 GET, and the gRPC `GetStatus` call.
//!
//! The steps are done by hand rather than through a general HTTP client so that each failure is
//! named precisely (DNS, connect, TLS, timeout, HTTP status, malformed body) and every await is
//! bounded by the step's deadline.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::error::{ErrorKind, ProbeError};
use crate::proto::Status;

/// The gRPC method every provider from 0.5.0 on serves.
const GET_STATUS_PATH: &str = "/akash.provider.v1.ProviderRPC/GetStatus";

/// Where a provider's host URI points: `https://host:port[/base]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostUri {
    /// Host for DNS and TLS server name (IPv6 without brackets).
    pub host: String,
    /// TCP port of the REST gateway (443 when the URI names none).
    pub port: u16,
    /// Path prefix without a trailing slash (usually empty).
    pub base_path: String,
}

impl HostUri {
    /// Parses a host URI as registered on chain. Only `https` is accepted: providers serve TLS.
    pub fn parse(raw: &str) -> Result<Self, ProbeError> {
        let invalid = |why: &str| {
            ProbeError::new(
                ErrorKind::InvalidHostUri,
                format!("host URI {:?} {why}", crate::text::clean(raw, 200)),
            )
        };
        if raw.len() > 2048 {
            return Err(invalid("is longer than 2048 bytes"));
        }
        let uri: Uri = raw.trim().parse().map_err(|_| invalid("is not a URI"))?;
        if !uri
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("https"))
        {
            return Err(invalid("is not https"));
        }
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| invalid("has no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Ok(Self {
            host,
            port: uri.port_u16().unwrap_or(443),
            base_path: uri.path().trim_end_matches('/').to_string(),
        })
    }

    /// `host:port` as it goes into `Host` / `:authority` (IPv6 bracketed again).
    pub fn authority(&self, port: u16) -> String {
        if self.host.contains(':') {
            format!("[{}]:{port}", self.host)
        } else {
            format!("{}:{port}", self.host)
        }
    }
}

/// Which application protocol a connection will speak (offered through ALPN).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Protocol {
    /// REST: `/version` and `/status`.
    Http1,
    /// gRPC.
    H2,
}

/// TLS client settings shared by every probe: one per protocol, since ALPN differs.
#[derive(Clone)]
pub(crate) struct TlsClients {
    http1: TlsConnector,
    h2: TlsConnector,
}

impl TlsClients {
    /// Builds both configurations on the `ring` provider (the only one compiled in).
    pub fn new() -> Result<Self, rustls::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = |alpn: &[u8]| -> Result<TlsConnector, rustls::Error> {
            let mut config = ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(RecordAnyCertificate {
                    provider: provider.clone(),
                }))
                .with_no_client_auth();
            config.alpn_protocols = vec![alpn.to_vec()];
            // Every probe must see the certificate the provider serves now, not one remembered
            // from an earlier session.
            config.resumption = rustls::client::Resumption::disabled();
            Ok(TlsConnector::from(Arc::new(config)))
        };
        Ok(Self {
            http1: config(b"http/1.1")?,
            h2: config(b"h2")?,
        })
    }

    fn connector(&self, protocol: Protocol) -> &TlsConnector {
        match protocol {
            Protocol::Http1 => &self.http1,
            Protocol::H2 => &self.h2,
        }
    }
}

/// Accepts any server certificate: providers serve self-signed ones, and the prober measures
/// availability rather than identity. The certificate is still fingerprinted after the handshake
/// (so a changed certificate is visible), and the handshake signature is still verified, so the
/// fingerprint belongs to a key the server really holds.
#[derive(Debug)]
struct RecordAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for RecordAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// An established TLS connection and the fingerprint of the certificate it was made with.
pub(crate) struct Connection {
    stream: TlsStream<TcpStream>,
    /// Lower-case hex SHA-256 of the end-entity certificate (DER).
    pub cert_sha256: Option<String>,
}

/// One step's context: its name for messages, its deadline and its timeout for messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    pub name: &'static str,
    pub deadline: Instant,
    pub timeout: Duration,
}

impl Step {
    /// Runs `work` unless the step's deadline passes first.
    async fn bounded<T>(
        &self,
        what: &str,
        work: impl std::future::Future<Output = Result<T, ProbeError>>,
    ) -> Result<T, ProbeError> {
        match timeout_at(self.deadline, work).await {
            Ok(result) => result,
            Err(_) => Err(self.error(
                ErrorKind::Timeout,
                format!("no {what} within {}", humanize(self.timeout)),
            )),
        }
    }

    fn error(&self, kind: ErrorKind, message: impl std::fmt::Display) -> ProbeError {
        ProbeError::new(kind, format!("{}: {message}", self.name))
    }
}

fn humanize(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// Resolves, connects and completes a TLS handshake, all before `step.deadline`.
pub(crate) async fn connect(
    tls: &TlsClients,
    protocol: Protocol,
    host: &str,
    port: u16,
    step: Step,
) -> Result<Connection, ProbeError> {
    let addresses: Vec<SocketAddr> = step
        .bounded("DNS answer", async {
            let found = tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| step.error(ErrorKind::Dns, format!("cannot resolve {host}: {e}")))?;
            Ok(found.collect())
        })
        .await?;
    let tcp = step
        .bounded("TCP connection", async {
            let mut last = None;
            for address in &addresses {
                match TcpStream::connect(address).await {
                    Ok(tcp) => return Ok(tcp),
                    Err(e) => last = Some(format!("{address}: {e}")),
                }
            }
            Err(step.error(
                ErrorKind::Connect,
                format!(
                    "cannot connect to {host}:{port}: {}",
                    last.unwrap_or_else(|| "no address found".into())
                ),
            ))
        })
        .await?;
    let _ = tcp.set_nodelay(true);
    let server_name = ServerName::try_from(host.to_string())
        .map_err(|e| step.error(ErrorKind::InvalidHostUri, format!("{host:?}: {e}")))?;
    let stream = step
        .bounded("TLS handshake", async {
            tls.connector(protocol)
                .connect(server_name, tcp)
                .await
                .map_err(|e| step.error(ErrorKind::Tls, format!("TLS handshake failed: {e}")))
        })
        .await?;
    let cert_sha256 = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(<[CertificateDer]>::first)
        .map(|cert| hex::encode(Sha256::digest(cert.as_ref())));
    Ok(Connection {
        stream,
        cert_sha256,
    })
}

/// `GET path` over HTTP/1.1 on `connection`; the body must be a 200 of at most `max_body` bytes.
pub(crate) async fn http_get(
    connection: Connection,
    authority: &str,
    path: &str,
    max_body: usize,
    step: Step,
) -> Result<Bytes, ProbeError> {
    step.bounded("HTTP response", async {
        let (mut sender, driver) =
            hyper::client::conn::http1::handshake(TokioIo::new(connection.stream))
                .await
                .map_err(|e| hyper_error(step, &e))?;
        let exchange = async {
            let request = http::Request::get(path)
                .header(http::header::HOST, authority)
                .header(http::header::USER_AGENT, crate::USER_AGENT)
                .header(http::header::ACCEPT, "application/json")
                .body(Empty::<Bytes>::new())
                .map_err(|e| step.error(ErrorKind::InvalidHostUri, e))?;
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| hyper_error(step, &e))?;
            if response.status() != http::StatusCode::OK {
                return Err(step.error(
                    ErrorKind::HttpStatus,
                    format!("GET {path} answered HTTP {}", response.status().as_u16()),
                ));
            }
            let body = Limited::new(response.into_body(), max_body)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        step.error(
                            ErrorKind::MalformedBody,
                            format!("GET {path} body exceeds {max_body} bytes"),
                        )
                    } else {
                        step.error(
                            ErrorKind::Connect,
                            format!("connection lost reading GET {path}: {e}"),
                        )
                    }
                })?;
            Ok(body.to_bytes())
        };
        // The connection task feeds the response body; it ends with the exchange (or the step).
        let _driver = AbortOnDrop(tokio::spawn(driver));
        exchange.await
    })
    .await
}

/// Stops a spawned task when the future owning it is dropped (finished or timed out).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn hyper_error(step: Step, e: &hyper::Error) -> ProbeError {
    if e.is_parse() || e.is_parse_status() {
        step.error(
            ErrorKind::MalformedBody,
            format!("the answer is not HTTP: {e}"),
        )
    } else {
        step.error(ErrorKind::Connect, format!("HTTP exchange failed: {e}"))
    }
}

/// Calls gRPC `GetStatus` over `connection` (which must have negotiated h2).
pub(crate) async fn grpc_get_status(
    connection: Connection,
    authority: &str,
    max_message: usize,
    step: Step,
) -> Result<Status, ProbeError> {
    step.bounded("gRPC answer", async {
        // tonic dials through a connector; hand it the connection already made, exactly once.
        let slot = Arc::new(Mutex::new(Some(TokioIo::new(connection.stream))));
        let connector = tower::service_fn(move |_: Uri| {
            let io = slot.lock().ok().and_then(|mut s| s.take());
            async move { io.ok_or_else(|| std::io::Error::other("one connection per probe")) }
        });
        let channel = tonic::transport::Endpoint::from_shared(format!("https://{authority}"))
            .map_err(|e| step.error(ErrorKind::InvalidHostUri, e))?
            .user_agent(crate::USER_AGENT)
            .map_err(|e| step.error(ErrorKind::InvalidHostUri, e))?
            .connect_with_connector(connector)
            .await
            .map_err(|e| {
                step.error(
                    ErrorKind::Connect,
                    format!("gRPC connection failed: {}", error_chain(&e)),
                )
            })?;
        let mut grpc = tonic::client::Grpc::new(channel).max_decoding_message_size(max_message);
        grpc.ready().await.map_err(|e| {
            step.error(
                ErrorKind::Connect,
                format!("gRPC channel not ready: {}", error_chain(&e)),
            )
        })?;
        let path = http::uri::PathAndQuery::from_static(GET_STATUS_PATH);
        let codec = tonic_prost::ProstCodec::<(), Status>::default();
        grpc.unary(tonic::Request::new(()), path, codec)
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| grpc_error(step, &status))
    })
    .await
}

/// Names a failed gRPC call: undecodable or oversized messages are malformed bodies, a non-gRPC
/// HTTP answer is an HTTP status, a broken transport is a connection failure, and anything else
/// is the provider's own gRPC status.
fn grpc_error(step: Step, status: &tonic::Status) -> ProbeError {
    let message = crate::text::clean(status.message(), 300);
    let kind = if matches!(
        status.code(),
        tonic::Code::Internal | tonic::Code::OutOfRange
    ) && (message.contains("decode") || message.contains("too large"))
    {
        ErrorKind::MalformedBody
    } else if message.contains("HTTP status code") {
        ErrorKind::HttpStatus
    } else if std::error::Error::source(status).is_some() {
        ErrorKind::Connect
    } else {
        ErrorKind::GrpcStatus
    };
    step.error(
        kind,
        format!("GetStatus failed: {:?}: {message}", status.code()),
    )
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_uris_parse_or_are_rejected() {
        let uri = HostUri::parse("https://provider.example.com:8443").unwrap();
        assert_eq!(
            (uri.host.as_str(), uri.port, uri.base_path.as_str()),
            ("provider.example.com", 8443, "")
        );
        assert_eq!(uri.authority(8444), "provider.example.com:8444");
        let uri = HostUri::parse("HTTPS://[::1]:9000/").unwrap();
        assert_eq!((uri.host.as_str(), uri.port), ("::1", 9000));
        assert_eq!(uri.authority(9001), "[::1]:9001");
        assert_eq!(HostUri::parse("https://p.example").unwrap().port, 443);
        for bad in [
            "http://p.example:8443",
            "p.example:8443",
            "",
            "https://",
            "https://exa mple:1",
            "\u{0}",
        ] {
            let err = HostUri::parse(bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidHostUri, "{bad:?}");
        }
        assert!(HostUri::parse(&format!("https://{}.com", "a".repeat(5000))).is_err());
    }
}
