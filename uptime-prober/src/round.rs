//! Probe rounds: every target once, with bounded concurrency, either all at once (`--once`) or
//! spread over an interval with a deterministic per-provider jitter (`--follow`).
//!
//! Each probe is bounded by its step timeouts, so a black-holed provider holds one concurrency
//! slot for at most its timeout and cannot delay anybody else's probe beyond that.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use store::probe_signatures::Proof;
use store::probes::{self, InsertOutcome, InsertSummary, ObservationRecord};
use store::Store;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{info, info_span, warn, Instrument};

use crate::error::ProberError;
use crate::jsonl::ObservationLine;
use crate::metrics::ProberMetrics;
use crate::probe::{self, Probe, ProbeOptions, Target};
use crate::signing::ProberKey;
use crate::transport::TlsClients;

/// Who this prober is and how hard it probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProberConfig {
    /// This vantage point's id, recorded with each observation.
    pub prober_id: String,
    /// How many providers are probed at once.
    pub concurrency: usize,
    /// How each probe is done.
    pub probe: ProbeOptions,
}

/// A configured prober; cheap to clone (shared state behind an `Arc`).
#[derive(Clone)]
pub struct Prober {
    inner: Arc<Inner>,
}

struct Inner {
    config: ProberConfig,
    tls: TlsClients,
    metrics: Option<ProberMetrics>,
    /// Signs every observation it records, when it has a key.
    key: Option<ProberKey>,
}

/// The probes of one round.
#[derive(Debug, Clone)]
pub struct Round {
    /// One probe per target that was due, in target order.
    pub probes: Vec<Probe>,
    /// Wall time from the round's start to its last probe's end.
    pub duration: Duration,
    /// False when the round was stopped before every due target was probed.
    pub complete: bool,
}

impl Round {
    /// How many providers were online.
    pub fn online(&self) -> usize {
        self.probes.iter().filter(|p| p.online()).count()
    }

    /// The observations to store, under `prober`'s id.
    pub fn records(&self, prober: &str) -> Vec<ObservationRecord> {
        self.probes.iter().map(|p| p.to_record(prober)).collect()
    }
}

impl Prober {
    /// Checks the configuration and sets up the TLS client; the observations it records are
    /// unsigned.
    pub fn new(config: ProberConfig, metrics: Option<ProberMetrics>) -> Result<Self, ProberError> {
        Self::with_key(config, None, metrics)
    }

    /// [`Prober::new`], signing every observation it records with `key` when given.
    pub fn with_key(
        config: ProberConfig,
        key: Option<ProberKey>,
        metrics: Option<ProberMetrics>,
    ) -> Result<Self, ProberError> {
        if config.prober_id.trim().is_empty() {
            return Err(ProberError::Settings("the prober id is empty".into()));
        }
        if config.concurrency == 0 {
            return Err(ProberError::Settings(
                "concurrency must be at least 1".into(),
            ));
        }
        if config.probe.timeout.is_zero() {
            return Err(ProberError::Settings("the timeout must be positive".into()));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                tls: TlsClients::new()?,
                metrics,
                key,
            }),
        })
    }

    /// This prober's id.
    pub fn id(&self) -> &str {
        &self.inner.config.prober_id
    }

    /// Probes one provider now.
    pub async fn probe(&self, target: &Target) -> Probe {
        let probe = probe::probe(&self.inner.tls, &self.inner.config.probe, target).await;
        if let Some(metrics) = &self.inner.metrics {
            metrics.observe_probe(&probe);
        }
        probe
    }

    /// Probes every target once, starting now, at most `concurrency` at a time.
    pub async fn run_round(&self, targets: Vec<Target>) -> Round {
        let (_never, not_stopping) = watch::channel(false);
        let now = Instant::now();
        let schedule = targets.into_iter().map(|t| (now, t)).collect();
        self.run_schedule(schedule, not_stopping).await
    }

    /// Probes each target at `window_start + jitter(target)` within the interval, skipping those
    /// whose slot is before `not_before` (they are due in the next interval). Stops starting new
    /// probes once `stop` turns true; probes already running finish.
    pub async fn run_scheduled_round(
        &self,
        targets: Vec<Target>,
        window_start: DateTime<Utc>,
        interval: Duration,
        not_before: DateTime<Utc>,
        stop: watch::Receiver<bool>,
    ) -> Round {
        let now_wall = Utc::now();
        let now = Instant::now();
        let schedule = targets
            .into_iter()
            .filter_map(|target| {
                let offset = jitter(self.id(), &target.provider, interval);
                let slot = window_start + chrono::Duration::from_std(offset).ok()?;
                (slot >= not_before).then(|| {
                    let wait = (slot - now_wall).to_std().unwrap_or(Duration::ZERO);
                    (now + wait, target)
                })
            })
            .collect();
        self.run_schedule(schedule, stop).await
    }

    async fn run_schedule(
        &self,
        schedule: Vec<(Instant, Target)>,
        stop: watch::Receiver<bool>,
    ) -> Round {
        let span = info_span!("probe_round", prober = %self.id(), providers = schedule.len());
        let started = Instant::now();
        let slots = Arc::new(Semaphore::new(self.inner.config.concurrency));
        let mut tasks = JoinSet::new();
        for (index, (at, target)) in schedule.into_iter().enumerate() {
            let prober = self.clone();
            let slots = slots.clone();
            let mut stop = stop.clone();
            tasks.spawn(
                async move {
                    let permit = tokio::select! {
                        biased;
                        () = stopped(&mut stop) => return (index, None),
                        permit = async {
                            tokio::time::sleep_until(at).await;
                            slots.acquire_owned().await
                        } => permit,
                    };
                    let Ok(_permit) = permit else {
                        return (index, None);
                    };
                    (index, Some(prober.probe(&target).await))
                }
                .instrument(span.clone()),
            );
        }
        let scheduled = tasks.len();
        let mut results: Vec<(usize, Option<Probe>)> = Vec::with_capacity(scheduled);
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(result) => results.push(result),
                // A probe task cannot panic by design; if one ever does, count the round as
                // incomplete rather than losing the others.
                Err(e) => span.in_scope(|| warn!(error = %e, "a probe task failed")),
            }
        }
        results.sort_by_key(|(index, _)| *index);
        let complete = results.len() == scheduled && results.iter().all(|(_, p)| p.is_some());
        let probes: Vec<Probe> = results.into_iter().filter_map(|(_, p)| p).collect();
        let round = Round {
            duration: started.elapsed(),
            complete,
            probes,
        };
        if let Some(metrics) = &self.inner.metrics {
            metrics.observe_round(&round.probes, round.duration.as_secs_f64());
        }
        span.in_scope(|| {
            info!(
                probed = round.probes.len(),
                online = round.online(),
                complete = round.complete,
                duration_ms = round.duration.as_millis(),
                "probe round finished"
            );
        });
        round
    }
}

/// Resolves when `stop` turns true; never when its sender is gone without stopping.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Where in each interval `provider` is probed by `prober_id`: a deterministic offset in
/// `[0, interval)` taken from SHA-256 of both ids, so probes are spread evenly, each provider is
/// probed exactly `interval` apart, and different probers probe at different moments.
pub fn jitter(prober_id: &str, provider: &str, interval: Duration) -> Duration {
    let digest = Sha256::new()
        .chain_update(prober_id.as_bytes())
        .chain_update([0])
        .chain_update(provider.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let interval_ms = u64::try_from(interval.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    Duration::from_millis(u64::from_be_bytes(first) % interval_ms)
}

/// The targets in the store: every registered provider not deleted.
pub fn store_targets(store: &mut Store) -> Result<Vec<Target>, ProberError> {
    Ok(probes::active_providers(store.conn())?
        .into_iter()
        .map(|p| Target {
            provider: p.owner,
            host_uri: p.host_uri,
        })
        .collect())
}

/// Stores a round's observations in one transaction, each with its signature when the prober
/// has a key ([`crate::signing`]).
pub fn write_round(
    store: &mut Store,
    prober: &Prober,
    round: &Round,
) -> Result<InsertSummary, ProberError> {
    let records = round.records(prober.id());
    let proofs = match &prober.inner.key {
        Some(key) => records
            .iter()
            .map(|r| {
                Ok(Some(Proof::Signed(
                    key.sign(&ObservationLine::from_record(r))?,
                )))
            })
            .collect::<Result<Vec<_>, ProberError>>()?,
        None => Vec::new(),
    };
    Ok(probes::insert_proven_observations(
        store, &records, &proofs,
    )?)
}

/// `probe --once`: one round over every provider in the store, written in one transaction.
pub async fn once(
    prober: &Prober,
    store: &mut Store,
) -> Result<(Round, InsertSummary), ProberError> {
    let targets = store_targets(store)?;
    let round = prober.run_round(targets).await;
    let summary = write_round(store, prober, &round)?;
    Ok((round, summary))
}

/// `probe --follow`: one round per `interval`, aligned to the unix epoch, each provider at its
/// jitter offset; the provider list is re-read at each interval's start and each round is
/// written in one transaction when it ends. Returns once `stop` turns true, after writing what
/// the interrupted round had probed.
pub async fn follow(
    prober: &Prober,
    store: &mut Store,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) -> Result<(), ProberError> {
    let interval_ms = i64::try_from(interval.as_millis())
        .ok()
        .filter(|ms| *ms > 0)
        .ok_or_else(|| {
            ProberError::Settings("the interval must be between 1 ms and 292 million years".into())
        })?;
    let first_now = Utc::now();
    let first_ms =
        first_now.timestamp_millis() - first_now.timestamp_millis().rem_euclid(interval_ms);
    let mut window_ms = first_ms;
    loop {
        let window_start = DateTime::from_timestamp_millis(window_ms).unwrap_or(first_now);
        let not_before = if window_ms == first_ms {
            first_now
        } else {
            window_start
        };
        let targets = store_targets(store)?;
        let round = prober
            .run_scheduled_round(targets, window_start, interval, not_before, stop.clone())
            .await;
        let summary = write_round(store, prober, &round)?;
        info!(
            window_start = %window_start,
            inserted = summary.count(InsertOutcome::Inserted),
            conflicting = summary.count(InsertOutcome::Conflicting),
            "probe round stored"
        );
        if *stop.borrow() {
            return Ok(());
        }
        window_ms += interval_ms;
        let next = DateTime::from_timestamp_millis(window_ms).unwrap_or(first_now);
        let wait = (next - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            () = stopped(&mut stop) => return Ok(()),
            () = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_deterministic_within_the_interval_and_spread() {
        let interval = Duration::from_secs(900);
        let a = jitter("eu-1", "akash1abc", interval);
        assert_eq!(a, jitter("eu-1", "akash1abc", interval));
        assert!(a < interval);
        assert_ne!(a, jitter("us-1", "akash1abc", interval));
        // 1,000 providers land in all of ten equal slices of the interval.
        let mut slices = [0u32; 10];
        for i in 0..1000 {
            let offset = jitter("eu-1", &format!("akash1provider{i}"), interval);
            slices[(offset.as_secs() / 90) as usize] += 1;
        }
        assert!(
            slices.iter().all(|&n| (50..=150).contains(&n)),
            "{slices:?}"
        );
    }
}
