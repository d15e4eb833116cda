//! Why a probe found a provider offline, and why the prober itself could not run.

use std::fmt;

/// The kind of failure that made a probe count as offline; stored as a short code so that
/// operators can tell "their server is down" from "their certificate is broken" from "they
/// answer garbage", and so metrics can be labelled by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The registered host URI is not a usable `https://host:port` URI.
    InvalidHostUri,
    /// The host name did not resolve.
    Dns,
    /// No TCP connection (refused, unreachable), or it broke mid-exchange.
    Connect,
    /// The TLS handshake failed.
    Tls,
    /// A step did not finish within its timeout.
    Timeout,
    /// The provider answered with an HTTP status other than 200.
    HttpStatus,
    /// The answer was not the expected JSON, protobuf or HTTP.
    MalformedBody,
    /// The gRPC call returned a non-OK gRPC status.
    GrpcStatus,
}

impl ErrorKind {
    /// Every kind, for metric initialisation and for reading codes back.
    pub const ALL: [ErrorKind; 8] = [
        Self::InvalidHostUri,
        Self::Dns,
        Self::Connect,
        Self::Tls,
        Self::Timeout,
        Self::HttpStatus,
        Self::MalformedBody,
        Self::GrpcStatus,
    ];

    /// The stable code stored in the database, exported and used as a metric label.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidHostUri => "invalid_host_uri",
            Self::Dns => "dns",
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Timeout => "timeout",
            Self::HttpStatus => "http_status",
            Self::MalformedBody => "malformed_body",
            Self::GrpcStatus => "grpc_status",
        }
    }

    /// The kind with this code, if any.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A failed probe step: its kind and a one-line message naming the step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// What happened, e.g. `version: no TLS handshake within 10s`.
    pub message: String,
}

impl ProbeError {
    /// A failure of `kind`; the message is cleaned of control characters and capped, since it
    /// may quote the provider.
    pub fn new(kind: ErrorKind, message: impl fmt::Display) -> Self {
        Self {
            kind,
            message: crate::text::clean(&message.to_string(), 512),
        }
    }
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

/// Why the prober could not do its work at all (as opposed to a provider being offline).
#[derive(Debug, thiserror::Error)]
pub enum ProberError {
    /// The TLS client could not be set up.
    #[error("cannot set up the TLS client: {0}")]
    Tls(#[from] rustls::Error),
    /// The settings make no sense (zero interval, zero concurrency, …).
    #[error("invalid prober settings: {0}")]
    Settings(String),
    /// Reading or writing the store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// Metrics could not be registered.
    #[error("cannot register the prober's metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// An observation could not be signed.
    #[error(transparent)]
    Signing(#[from] crate::signing::SigningError),
}
