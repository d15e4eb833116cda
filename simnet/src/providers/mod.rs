//! Fake Akash providers on 127.0.0.1, for the prober's tests, demos and benchmarks.
//!
//! Each fake serves what a provider serves, over TLS with its own self-signed certificate:
//! `GET /version` and REST `GET /status` on one port, and gRPC
//! `akash.provider.v1.ProviderRPC/GetStatus` on **the next port up** (a real provider uses 8443
//! and 8444; many fakes on one host cannot, so the prober's test-only "REST port + 1" rule
//! finds them). Providers older than 0.5.0 have no gRPC port, as real ones did not.
//!
//! A fake can be scripted ([`FakeProviderSpec::script`]) or steered ([`FakeProvider::set_behaviour`],
//! [`FakeProvider::set_nodes`]) to be up, down (connection refused), hang (accept and never
//! answer), break TLS, answer garbage or HTTP 500, and to report any inventory, including the
//! absurd `18446744073709551615` GPUs real providers have reported.

mod port;
mod server;
mod spec;
mod tls;
mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::warn;

pub use spec::{Behaviour, FakeGpu, FakeNode, FakeProviderSpec, RestShape, ScriptStep};

use port::HeldPort;
use server::{Port, Shared};

/// Why a fake provider could not start.
#[derive(Debug, thiserror::Error)]
pub enum FakeProviderError {
    /// The certificate could not be generated.
    #[error("cannot generate the fake provider's certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// The TLS settings were refused.
    #[error("cannot configure the fake provider's TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// No port could be bound.
    #[error("cannot bind the fake provider's ports on 127.0.0.1: {0}")]
    Bind(#[from] std::io::Error),
}

/// A running fake provider. Dropping it shuts it down.
pub struct FakeProvider {
    shared: Arc<Shared>,
    rest_addr: SocketAddr,
    grpc_addr: Option<SocketAddr>,
    cert_sha256: String,
    shutdown: watch::Sender<bool>,
    /// The behaviour each port's task has put in place (its listener opened or closed).
    applied: Vec<watch::Receiver<Behaviour>>,
}

/// How long [`FakeProvider::set_behaviour`] waits for the ports to follow (they do within
/// microseconds; the bound only keeps a wedged fake from hanging a test).
const APPLY_TIMEOUT: Duration = Duration::from_secs(5);

impl FakeProvider {
    /// Starts a fake on fresh ports of 127.0.0.1 (must be called inside a tokio runtime).
    pub async fn start(spec: FakeProviderSpec) -> Result<Self, FakeProviderError> {
        let certificate = tls::Certificate::generate()?;
        let (rest_port, grpc_port) = server::hold_ports(spec.serves_grpc())?;
        let rest_addr = rest_port.address();
        let grpc_addr = grpc_port.as_ref().map(HeldPort::address);
        let starts_up = spec.behaviour_at(Duration::ZERO) != Behaviour::Down;
        let open = |held: HeldPort| -> std::io::Result<(HeldPort, Option<TcpListener>)> {
            let first = starts_up.then(|| held.listen()).transpose()?;
            Ok((held, first))
        };
        let rest_port = open(rest_port)?;
        let grpc_port = grpc_port.map(open).transpose()?;
        let (behaviour, _) = watch::channel(spec.behaviour_at(Duration::ZERO));
        let shared = Arc::new(Shared {
            nodes: Mutex::new(spec.nodes.clone()),
            rest_tls: certificate.acceptor(b"http/1.1")?,
            grpc_tls: certificate.acceptor(b"h2")?,
            behaviour,
            spec,
        });
        let (shutdown, _) = watch::channel(false);
        let mut applied = Vec::new();
        let mut follower = || {
            let (report, watched) = watch::channel(shared.behaviour.borrow().to_owned());
            applied.push(watched);
            report
        };
        tokio::spawn(server::listen(
            shared.clone(),
            Port::Rest,
            rest_port,
            follower(),
            shutdown.subscribe(),
        ));
        if let Some(held) = grpc_port {
            tokio::spawn(server::listen(
                shared.clone(),
                Port::Grpc,
                held,
                follower(),
                shutdown.subscribe(),
            ));
        }
        if !shared.spec.script.is_empty() {
            tokio::spawn(run_script(shared.clone(), shutdown.subscribe()));
        }
        Ok(Self {
            shared,
            rest_addr,
            grpc_addr,
            cert_sha256: certificate.sha256,
            shutdown,
            applied,
        })
    }

    /// The provider's owner address, from its spec.
    pub fn owner(&self) -> &str {
        &self.shared.spec.owner
    }

    /// The host URI to register for it: `https://127.0.0.1:<rest port>`.
    pub fn host_uri(&self) -> String {
        format!("https://{}", self.rest_addr)
    }

    /// The REST gateway's address.
    pub fn rest_addr(&self) -> SocketAddr {
        self.rest_addr
    }

    /// The gRPC server's address (REST port + 1), when the version serves gRPC.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc_addr
    }

    /// Hex SHA-256 of its certificate: what a prober should record.
    pub fn cert_sha256(&self) -> &str {
        &self.cert_sha256
    }

    /// Behave as `behaviour` from now on (a running script may change it again later).
    ///
    /// Returns once both ports follow it: a fake set down refuses the very next connection, and
    /// one set up accepts it, so a test never probes a fake halfway through a change.
    pub async fn set_behaviour(&self, behaviour: Behaviour) {
        self.shared.behaviour.send_replace(behaviour);
        for applied in &self.applied {
            let mut applied = applied.clone();
            let followed = applied.wait_for(|now| *now == behaviour);
            if tokio::time::timeout(APPLY_TIMEOUT, followed).await.is_err() {
                warn!(
                    ?behaviour,
                    "a fake provider's port did not follow its new behaviour"
                );
            }
        }
    }

    /// The behaviour in force now.
    pub fn behaviour(&self) -> Behaviour {
        *self.shared.behaviour.borrow()
    }

    /// Report `nodes` from now on.
    pub fn set_nodes(&self, nodes: Vec<FakeNode>) {
        *self
            .shared
            .nodes
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = nodes;
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

/// Applies the script's steps at their offsets from now.
async fn run_script(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let start = tokio::time::Instant::now();
    let mut steps = shared.spec.script.clone();
    steps.sort_by_key(|s| s.after_ms);
    for step in steps {
        let at = start + Duration::from_millis(step.after_ms);
        tokio::select! {
            () = server::until_true(&mut shutdown) => return,
            () = tokio::time::sleep_until(at) => {
                shared.behaviour.send_replace(step.behaviour);
            }
        }
    }
}
