//! One RPC endpoint: its `tendermint-rpc` clients, its in-flight limit and its health.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tendermint_rpc::client::CompatMode;
use tendermint_rpc::{Client, HttpClient, HttpClientUrl, SimpleRequest};
use tokio::sync::Semaphore;

use super::error::{classify, Failure, FailureKind, RpcError};
use crate::decode::chain_json::CometVersion;

/// How many failures in a row bench an endpoint (a 429 benches it at once).
const FAILURES_BEFORE_BENCH: u32 = 3;

/// An endpoint and what we know about it.
pub(crate) struct Endpoint {
    /// The URL without credentials, for logs and metric labels.
    pub(crate) label: String,
    /// Clients for CometBFT 0.34 heights and for 0.38 heights; they share one connection pool.
    legacy: HttpClient,
    modern: HttpClient,
    /// Bounds the requests in flight to this endpoint.
    permits: Semaphore,
    health: Mutex<Health>,
}

#[derive(Default)]
struct Health {
    failures_in_a_row: u32,
    benched_until: Option<Instant>,
    /// The lowest height the node still has, once it told us (pruning only moves it up).
    earliest: Option<u64>,
}

impl Endpoint {
    pub(crate) fn new(
        raw_url: &str,
        request_timeout: Duration,
        in_flight: usize,
    ) -> Result<Self, RpcError> {
        let invalid = |reason: String| RpcError::InvalidUrl {
            url: raw_url.to_string(),
            reason,
        };
        let url: HttpClientUrl = raw_url.parse().map_err(|e| invalid(format!("{e}")))?;
        let label = display_url(raw_url);
        // The request timeout is enforced per attempt by the caller; this one only guards
        // against a connection that never finishes even after the caller gave up on it.
        let pool = reqwest::Client::builder()
            .user_agent(concat!("akash-incentives/", env!("CARGO_PKG_VERSION")))
            .timeout(request_timeout.saturating_mul(2))
            .connect_timeout(request_timeout)
            .pool_max_idle_per_host(in_flight.max(1))
            .tcp_nodelay(true)
            .build()
            .map_err(|e| invalid(e.to_string()))?;
        let client = |mode: CompatMode| {
            HttpClient::builder(url.clone())
                .compat_mode(mode)
                .client(pool.clone())
                .build()
                .map_err(|e| invalid(format!("{e}")))
        };
        Ok(Self {
            label,
            legacy: client(CompatMode::V0_34)?,
            modern: client(CompatMode::V0_38)?,
            permits: Semaphore::new(in_flight.max(1)),
            health: Mutex::new(Health::default()),
        })
    }

    /// One attempt, bounded by `timeout`, through the client whose compat mode matches the
    /// height's CometBFT version.
    pub(crate) async fn perform<R: SimpleRequest>(
        &self,
        request: R,
        version: CometVersion,
        timeout: Duration,
    ) -> Result<R::Output, Failure> {
        let _permit = self.permits.acquire().await.map_err(|_| Failure {
            endpoint: self.label.clone(),
            kind: FailureKind::Transport,
            detail: "the endpoint was shut down".into(),
        })?;
        let client = match version {
            CometVersion::V034 => &self.legacy,
            CometVersion::V038 => &self.modern,
        };
        match tokio::time::timeout(timeout, client.perform(request)).await {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(error)) => {
                let (kind, detail) = classify(&error);
                Err(self.failure(kind, detail))
            }
            Err(_) => Err(self.failure(
                FailureKind::Timeout,
                format!("no answer within {timeout:?}"),
            )),
        }
    }

    pub(crate) fn failure(&self, kind: FailureKind, detail: String) -> Failure {
        Failure {
            endpoint: self.label.clone(),
            kind,
            detail,
        }
    }

    /// Requests that could start now without waiting for a permit.
    pub(crate) fn free_slots(&self) -> usize {
        self.permits.available_permits()
    }

    /// `Some(until)` while the endpoint is rotated out.
    pub(crate) fn benched_until(&self, now: Instant) -> Option<Instant> {
        self.with_health(|h| h.benched_until.filter(|until| *until > now))
    }

    /// Whether the node told us it has pruned `height`.
    pub(crate) fn has_pruned(&self, height: u64) -> bool {
        self.with_health(|h| h.earliest.is_some_and(|earliest| height < earliest))
    }

    /// The lowest height the node has, if it told us.
    pub(crate) fn known_earliest(&self) -> Option<u64> {
        self.with_health(|h| h.earliest)
    }

    pub(crate) fn learn_earliest(&self, earliest: u64) {
        self.with_health(|h| h.earliest = Some(h.earliest.map_or(earliest, |e| e.max(earliest))));
    }

    pub(crate) fn succeeded(&self) {
        self.with_health(|h| {
            h.failures_in_a_row = 0;
            h.benched_until = None;
        });
    }

    /// Counts a failure of the connection or the node, and benches the endpoint for
    /// `bench_for` after [`FAILURES_BEFORE_BENCH`] in a row, or at once when rate-limited.
    pub(crate) fn failed(&self, kind: FailureKind, bench_for: Duration) {
        self.with_health(|h| {
            h.failures_in_a_row = h.failures_in_a_row.saturating_add(1);
            if kind == FailureKind::RateLimited || h.failures_in_a_row >= FAILURES_BEFORE_BENCH {
                h.benched_until = Some(Instant::now() + bench_for);
            }
        });
    }

    fn with_health<T>(&self, f: impl FnOnce(&mut Health) -> T) -> T {
        match self.health.lock() {
            Ok(mut health) => f(&mut health),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

/// The URL without user and password, so logs and metrics never carry credentials.
pub(crate) fn display_url(raw: &str) -> String {
    match reqwest::Url::parse(raw) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string().trim_end_matches('/').to_string()
        }
        Err(_) => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_labels() {
        assert_eq!(
            display_url("https://user:secret@rpc.example.org:443/"),
            "https://rpc.example.org"
        );
        assert_eq!(
            display_url("http://127.0.0.1:26657"),
            "http://127.0.0.1:26657"
        );
    }

    #[test]
    fn repeated_failures_and_rate_limits_bench_an_endpoint() {
        let endpoint = Endpoint::new("http://127.0.0.1:9", Duration::from_secs(1), 2).unwrap();
        let bench = Duration::from_secs(60);
        endpoint.failed(FailureKind::Timeout, bench);
        endpoint.failed(FailureKind::Timeout, bench);
        assert!(endpoint.benched_until(Instant::now()).is_none());
        endpoint.failed(FailureKind::Timeout, bench);
        assert!(endpoint.benched_until(Instant::now()).is_some());
        endpoint.succeeded();
        assert!(endpoint.benched_until(Instant::now()).is_none());
        endpoint.failed(FailureKind::RateLimited, bench);
        assert!(endpoint.benched_until(Instant::now()).is_some());
    }

    #[test]
    fn pruning_knowledge_only_moves_up() {
        let endpoint = Endpoint::new("http://127.0.0.1:9", Duration::from_secs(1), 2).unwrap();
        endpoint.learn_earliest(100);
        endpoint.learn_earliest(50);
        assert!(endpoint.has_pruned(99));
        assert!(!endpoint.has_pruned(100));
    }
}
