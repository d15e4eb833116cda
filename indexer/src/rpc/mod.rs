//! Fetching blocks from one or more CometBFT RPC endpoints.
//!
//! The transport is `tendermint-rpc`'s [`HttpClient`](tendermint_rpc::HttpClient) (JSON-RPC 2.0
//! over HTTP `POST`). Results are read into the decoder's lenient
//! [`chain_json`](crate::decode::chain_json) types through our own request types, because a strict
//! reading would lose a whole block to one odd field. Each endpoint has one client per CometBFT
//! compat mode, chosen per height: 0.34 below `cometbft_038_height`, 0.38 from it; the same choice
//! is handed to the decoder as [`CometVersion`], which decides how event attributes are read.
//!
//! Faults are handled so that a flaky node slows the indexer down but never fools it:
//! * timeouts, connection failures, HTTP 5xx and 429 are retried with exponential backoff and
//!   jitter, and an endpoint that keeps failing (or rate-limits us) is rotated out for a while;
//! * "height X is not available, lowest height is Y" (pruned) and "height X must be less than or
//!   equal to the current blockchain height Y" (lagging) are typed: the call moves to another
//!   endpoint at once and, when none has the height, fails with [`RpcError::Pruned`] or
//!   [`RpcError::AboveHead`] instead of retrying in vain;
//! * every retry loop is bounded in attempts and in time ([`RetryPolicy`]).

mod endpoint;
mod error;
mod requests;

use std::time::{Duration, Instant};

use tendermint_rpc::SimpleRequest;
use tracing::{debug, warn};

pub use error::{Failure, FailureKind, RpcError};

use self::endpoint::Endpoint;
use self::requests::{
    BlockMethod, BlockResultsMethod, HeightMethod, HeightRequest, Lenient, StatusRequest,
};
use crate::decode::chain_json::{BlockResponse, BlockResultsResponse, CometVersion};
use crate::metrics::IndexerMetrics;

/// Attempts per endpoint when asking for the status: a dead endpoint must not hold up the
/// start of a run, and the other endpoints may answer.
const STATUS_ATTEMPTS: u32 = 2;

/// How hard one call tries before giving up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, across all endpoints (at least 1).
    pub max_attempts: u32,
    /// The first backoff; it doubles after each failure.
    pub initial_backoff: Duration,
    /// The longest backoff.
    pub max_backoff: Duration,
    /// No new attempt starts after this much time since the first one.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    /// Suits public nodes: about two minutes of patience per call.
    fn default() -> Self {
        Self {
            max_attempts: RetryTuning::DEFAULT.max_attempts,
            initial_backoff: RetryTuning::DEFAULT.initial_backoff,
            max_backoff: RetryTuning::DEFAULT.max_backoff,
            max_elapsed: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The pause before attempt `failures + 1`: exponential, capped, with jitter drawn from the
    /// upper half so concurrent callers spread out without ever retrying at once.
    fn backoff(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(20);
        let full = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        full.mul_f64(0.5 + fastrand::f64() * 0.5)
    }
}

/// What an operator may tune about retrying (the `index` command's flags); the rest of the
/// [`RetryPolicy`] follows from it and from the request timeout, so every caller derives it
/// the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryTuning {
    /// Attempts per call (raised to 1 when 0).
    pub max_attempts: u32,
    /// The first backoff; it doubles after each failure.
    pub initial_backoff: Duration,
    /// The longest backoff.
    pub max_backoff: Duration,
    /// How long a failing endpoint is rotated out.
    pub bench_for: Duration,
}

impl RetryTuning {
    /// The tuning for public nodes (also [`RetryPolicy::default`]'s attempts and backoffs): ten
    /// attempts, backoffs from a quarter second to 15 s, and half a minute out of rotation for
    /// an endpoint that keeps failing.
    pub const DEFAULT: Self = Self {
        max_attempts: 10,
        initial_backoff: Duration::from_millis(250),
        max_backoff: Duration::from_secs(15),
        bench_for: Duration::from_secs(30),
    };
}

impl Default for RetryTuning {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl RetryPolicy {
    /// The policy for `tuning` when one attempt may take `request_timeout`: the time budget
    /// lets every attempt run to its timeout and then wait the longest backoff, so the budget
    /// never cuts a call shorter than its attempts allow.
    pub fn tuned(tuning: &RetryTuning, request_timeout: Duration) -> Self {
        let max_attempts = tuning.max_attempts.max(1);
        Self {
            max_attempts,
            initial_backoff: tuning.initial_backoff,
            max_backoff: tuning.max_backoff,
            max_elapsed: request_timeout
                .saturating_add(tuning.max_backoff)
                .saturating_mul(max_attempts),
        }
    }
}

/// Everything the client needs to know.
#[derive(Debug, Clone)]
pub struct RpcOptions {
    /// Endpoint URLs (`http://host:26657`); several are used together.
    pub urls: Vec<String>,
    /// The chain id the endpoints must report.
    pub chain_id: String,
    /// Timeout of one attempt.
    pub request_timeout: Duration,
    /// Requests in flight per endpoint.
    pub in_flight_per_endpoint: usize,
    /// Retries of one call.
    pub retry: RetryPolicy,
    /// How long a failing endpoint is rotated out.
    pub bench_for: Duration,
    /// The first height served in CometBFT 0.38 shapes (`None`: the chain never switched).
    pub cometbft_038_height: Option<u64>,
}

impl RpcOptions {
    /// The options for indexing `chain_id` from `urls` with `fetch_concurrency` blocks in
    /// flight. Each block is two requests (`/block` and `/block_results`), so each endpoint
    /// admits twice `fetch_concurrency` requests at once: enough for the whole window even when
    /// only one endpoint is up.
    pub fn new(
        urls: Vec<String>,
        chain_id: String,
        cometbft_038_height: Option<u64>,
        request_timeout: Duration,
        fetch_concurrency: usize,
        tuning: &RetryTuning,
    ) -> Self {
        Self {
            urls,
            chain_id,
            request_timeout,
            in_flight_per_endpoint: fetch_concurrency.max(1).saturating_mul(2),
            retry: RetryPolicy::tuned(tuning, request_timeout),
            bench_for: tuning.bench_for,
            cometbft_038_height,
        }
    }
}

/// The height range the endpoints can serve together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainStatus {
    /// The lowest height any reachable endpoint still has.
    pub earliest_height: u64,
    /// The highest head of any reachable endpoint.
    pub latest_height: u64,
}

/// One block and its results, fetched and ready to decode.
#[derive(Debug, Clone)]
pub struct FetchedBlock {
    /// The height.
    pub height: u64,
    /// The CometBFT version whose shapes the height uses.
    pub version: CometVersion,
    /// `/block`.
    pub block: BlockResponse,
    /// `/block_results`.
    pub results: BlockResultsResponse,
}

/// A client over several endpoints with bounded concurrency, retries and rotation.
pub struct RpcClient {
    endpoints: Vec<Endpoint>,
    options: RpcOptions,
    metrics: IndexerMetrics,
}

impl RpcClient {
    /// Builds the clients; no request is sent yet.
    ///
    /// # Errors
    /// When no URL is given or one cannot be used.
    pub fn new(options: RpcOptions, metrics: IndexerMetrics) -> Result<Self, RpcError> {
        if options.urls.is_empty() {
            return Err(RpcError::NoEndpoints);
        }
        let endpoints = options
            .urls
            .iter()
            .map(|url| Endpoint::new(url, options.request_timeout, options.in_flight_per_endpoint))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            endpoints,
            options,
            metrics,
        })
    }

    /// The CometBFT version of `height`, from the configured switch height.
    pub fn version_at(&self, height: u64) -> CometVersion {
        CometVersion::at_height(height, self.options.cometbft_038_height)
    }

    /// Asks every endpoint for its status and checks that each serves the configured chain.
    ///
    /// Endpoints that cannot be reached are skipped (and logged); the call fails only when none
    /// answers, or when one answers for another chain.
    pub async fn status(&self) -> Result<ChainStatus, RpcError> {
        let mut first_error = None;
        let mut status: Option<ChainStatus> = None;
        let now = Instant::now();
        let all_benched = self
            .endpoints
            .iter()
            .all(|e| e.benched_until(now).is_some());
        for index in 0..self.endpoints.len() {
            let endpoint = &self.endpoints[index];
            if !all_benched && endpoint.benched_until(now).is_some() {
                continue;
            }
            let answer = self
                .call_on(
                    Some(index),
                    STATUS_ATTEMPTS,
                    "status".to_string(),
                    None,
                    StatusRequest::default,
                    |_| Ok(()),
                )
                .await;
            let reply = match answer {
                Ok(reply) => reply,
                Err(error) => {
                    warn!(endpoint = %endpoint.label, %error, "RPC endpoint did not report its status");
                    first_error.get_or_insert(error);
                    continue;
                }
            };
            if reply.node_info.network != self.options.chain_id {
                return Err(RpcError::WrongChain {
                    endpoint: endpoint.label.clone(),
                    found: reply.node_info.network,
                    expected: self.options.chain_id.clone(),
                });
            }
            let earliest = reply.sync_info.earliest_block_height.0;
            let latest = reply.sync_info.latest_block_height.0;
            endpoint.learn_earliest(earliest);
            debug!(endpoint = %endpoint.label, earliest, latest, catching_up = reply.sync_info.catching_up, "endpoint status");
            status = Some(match status {
                None => ChainStatus {
                    earliest_height: earliest,
                    latest_height: latest,
                },
                Some(s) => ChainStatus {
                    earliest_height: s.earliest_height.min(earliest),
                    latest_height: s.latest_height.max(latest),
                },
            });
        }
        match (status, first_error) {
            (Some(status), _) => {
                self.metrics
                    .chain_head_height
                    .set(i64::try_from(status.latest_height).unwrap_or(i64::MAX));
                Ok(status)
            }
            (None, Some(error)) => Err(error),
            (None, None) => Err(RpcError::NoEndpoints),
        }
    }

    /// Fetches `/block` and `/block_results` of `height` (concurrently, each with retries).
    pub async fn fetch_block(&self, height: u64) -> Result<FetchedBlock, RpcError> {
        let (block, results) = tokio::join!(
            self.at_height::<BlockMethod>(height),
            self.at_height::<BlockResultsMethod>(height),
        );
        Ok(FetchedBlock {
            height,
            version: self.version_at(height),
            block: block?,
            results: results?,
        })
    }

    /// `/block` of `height`.
    pub async fn block(&self, height: u64) -> Result<BlockResponse, RpcError> {
        self.at_height::<BlockMethod>(height).await
    }

    /// `/block_results` of `height`.
    pub async fn block_results(&self, height: u64) -> Result<BlockResultsResponse, RpcError> {
        self.at_height::<BlockResultsMethod>(height).await
    }

    async fn at_height<M: HeightMethod>(&self, height: u64) -> Result<M::Result, RpcError> {
        self.call_on(
            None,
            self.options.retry.max_attempts,
            format!("{} {height}", M::NAME),
            Some(height),
            || HeightRequest::<M>::new(height),
            |result| match M::height(result) {
                found if found == height => Ok(()),
                found => Err(format!(
                    "asked for height {height}, the node answered {found}"
                )),
            },
        )
        .await
    }

    /// The retry loop shared by every call: picks an endpoint (or uses `pinned`), performs
    /// the request, sorts the failure and either moves on, backs off, or gives up after
    /// `max_attempts` attempts or the policy's time budget.
    async fn call_on<R, T>(
        &self,
        pinned: Option<usize>,
        max_attempts: u32,
        call: String,
        height: Option<u64>,
        request: impl Fn() -> R,
        check: impl Fn(&T) -> Result<(), String>,
    ) -> Result<T, RpcError>
    where
        R: SimpleRequest<Output = Lenient<T>>,
    {
        let policy = &self.options.retry;
        let started = Instant::now();
        let version = self.version_at(height.unwrap_or(0));
        let mut ruled_out = vec![false; self.endpoints.len()];
        let mut answered = false;
        let mut failures = 0u32;
        let mut lowest: Option<u64> = None;
        let mut head: Option<u64> = None;
        let mut last: Option<Failure> = None;
        let max_attempts = max_attempts.max(1);
        for attempt in 1..=max_attempts {
            let Some(index) = pinned.or_else(|| self.choose(height, &ruled_out)) else {
                break;
            };
            let endpoint = &self.endpoints[index];
            self.metrics
                .record_rpc_attempt(&endpoint.label, attempt > 1);
            let failure = match endpoint
                .perform(request(), version, self.options.request_timeout)
                .await
            {
                Ok(Lenient(result)) => match check(&result) {
                    Ok(()) => {
                        endpoint.succeeded();
                        return Ok(result);
                    }
                    Err(problem) => endpoint.failure(FailureKind::Malformed, problem),
                },
                Err(failure) => failure,
            };
            self.metrics
                .record_rpc_error(&endpoint.label, failure.kind.label());
            debug!(%call, attempt, %failure, "RPC attempt failed");
            match failure.kind {
                FailureKind::Pruned { lowest: l } => {
                    endpoint.learn_earliest(l);
                    lowest = Some(lowest.map_or(l, |x| x.min(l)));
                    ruled_out[index] = true;
                }
                FailureKind::Lagging { head: h } => {
                    head = Some(head.map_or(h, |x| x.max(h)));
                    ruled_out[index] = true;
                }
                kind => {
                    answered |= kind.is_answer();
                    failures += 1;
                    endpoint.failed(kind, self.options.bench_for);
                }
            }
            last = Some(failure);
            if pinned.is_some() && ruled_out[index] {
                break;
            }
            if attempt < max_attempts && !ruled_out[index] {
                let pause = policy.backoff(failures);
                if started.elapsed() + pause > policy.max_elapsed {
                    break;
                }
                tokio::time::sleep(pause).await;
            }
        }
        // Typed answers first: no endpoint has the height, and retrying will not change that.
        if let Some(height) = height {
            let everyone_ruled_out = self
                .endpoints
                .iter()
                .enumerate()
                .all(|(i, e)| ruled_out[i] || e.has_pruned(height));
            if everyone_ruled_out {
                if let Some(head) = head {
                    return Err(RpcError::AboveHead { height, head });
                }
                let known = self
                    .endpoints
                    .iter()
                    .filter_map(Endpoint::known_earliest)
                    .min();
                if let Some(lowest) = lowest.or(known) {
                    return Err(RpcError::Pruned { height, lowest });
                }
            }
        }
        let last = last.unwrap_or_else(|| Failure {
            endpoint: String::new(),
            kind: FailureKind::Transport,
            detail: "no endpoint could be tried".into(),
        });
        Err(RpcError::GaveUp {
            call,
            attempts: failures,
            elapsed: started.elapsed(),
            answered,
            last,
        })
    }

    /// The endpoint for the next attempt: not ruled out for this call, not known to have pruned
    /// the height; among those, one that is not rotated out, with the most free slots. When all
    /// are rotated out, the one that comes back first.
    fn choose(&self, height: Option<u64>, ruled_out: &[bool]) -> Option<usize> {
        let now = Instant::now();
        let usable = self
            .endpoints
            .iter()
            .enumerate()
            .filter(|(i, e)| !ruled_out[*i] && !height.is_some_and(|h| e.has_pruned(h)));
        let mut best: Option<(usize, Option<Instant>, usize)> = None;
        for (index, endpoint) in usable {
            let benched = endpoint.benched_until(now);
            let free = endpoint.free_slots();
            let better = match best {
                None => true,
                Some((_, best_benched, best_free)) => match (benched, best_benched) {
                    (None, Some(_)) => true,
                    (Some(_), None) => false,
                    (Some(a), Some(b)) => a < b,
                    (None, None) => free > best_free,
                },
            };
            if better {
                best = Some((index, benched, free));
            }
        }
        best.map(|(index, _, _)| index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_derive_in_flight_requests_and_the_retry_budget_from_the_configuration() {
        let tuning = RetryTuning {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            bench_for: Duration::from_secs(7),
        };
        let options = RpcOptions::new(
            vec!["http://127.0.0.1:26657".into()],
            "akashnet-2".into(),
            Some(23_939_793),
            Duration::from_secs(30),
            16,
            &tuning,
        );
        assert_eq!(options.urls, ["http://127.0.0.1:26657"]);
        assert_eq!(options.chain_id, "akashnet-2");
        assert_eq!(options.cometbft_038_height, Some(23_939_793));
        assert_eq!(options.request_timeout, Duration::from_secs(30));
        assert_eq!(options.in_flight_per_endpoint, 32, "two requests per block");
        assert_eq!(options.bench_for, Duration::from_secs(7));
        assert_eq!(
            options.retry,
            RetryPolicy {
                max_attempts: 4,
                initial_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(2),
                // Four attempts of 30 s, each followed by at most 2 s of backoff.
                max_elapsed: Duration::from_secs(128),
            }
        );
    }

    #[test]
    fn zero_concurrency_and_attempts_are_raised_to_one() {
        let tuning = RetryTuning {
            max_attempts: 0,
            ..RetryTuning::DEFAULT
        };
        let options = RpcOptions::new(
            vec![],
            "akashnet-2".into(),
            None,
            Duration::from_secs(1),
            0,
            &tuning,
        );
        assert_eq!(options.in_flight_per_endpoint, 2);
        assert_eq!(options.retry.max_attempts, 1);
        assert_eq!(options.retry.max_elapsed, Duration::from_secs(16));
    }

    #[test]
    fn the_default_tuning_is_the_default_policy_plus_a_bench_time() {
        let tuning = RetryTuning::default();
        let policy = RetryPolicy::default();
        assert_eq!(tuning.max_attempts, policy.max_attempts);
        assert_eq!(tuning.initial_backoff, policy.initial_backoff);
        assert_eq!(tuning.max_backoff, policy.max_backoff);
        assert_eq!(tuning.max_attempts, 10);
        assert_eq!(tuning.initial_backoff, Duration::from_millis(250));
        assert_eq!(tuning.max_backoff, Duration::from_secs(15));
        assert_eq!(tuning.bench_for, Duration::from_secs(30));
    }

    #[test]
    fn a_huge_budget_saturates_instead_of_overflowing() {
        let tuning = RetryTuning {
            max_attempts: u32::MAX,
            max_backoff: Duration::MAX,
            ..RetryTuning::DEFAULT
        };
        assert_eq!(
            RetryPolicy::tuned(&tuning, Duration::from_secs(1)).max_elapsed,
            Duration::MAX
        );
    }
}
