//! The indexer's Prometheus metrics.
//!
//! They are registered on a [`prometheus::Registry`] the caller owns, so the binary can serve one
//! registry for every part of the system and tests can use a private one. All names start with
//! `akash_incentives_indexer_`.
//!
//! Label values that come from the chain or the network (type URLs, rejection reasons) are
//! capped in number and length: a hostile chain must not be able to grow the scrape without
//! bound by inventing type URLs. Past the cap, values are counted under [`OVERFLOW_LABEL`].

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use prometheus::core::Collector;
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};
use telemetry::{metric_name, MetricSet};

/// The part every indexer metric name carries (`akash_incentives_indexer_*`).
const PART: &str = "indexer";

/// The label value used once a chain-supplied label has too many distinct values.
pub const OVERFLOW_LABEL: &str = "other";

/// How many distinct chain-supplied values one label may take before [`OVERFLOW_LABEL`] is used.
const MAX_DISTINCT_LABELS: usize = 256;

/// The longest chain-supplied label value kept; longer ones are cut.
const MAX_LABEL_LEN: usize = 160;

/// Every metric of the indexer, cheap to clone and share between tasks.
#[derive(Clone)]
pub struct IndexerMetrics {
    /// The height of the last block committed to the store.
    pub indexed_height: IntGauge,
    /// The block time of the newest block committed by this process, in unix seconds: the lag
    /// in seconds is `time()` minus it.
    pub indexed_block_timestamp: IntGauge,
    /// The highest head reported by any RPC endpoint.
    pub chain_head_height: IntGauge,
    /// Blocks applied to the store.
    pub blocks_processed: IntCounter,
    /// Transactions seen in applied blocks (failed ones included).
    pub transactions_processed: IntCounter,
    /// Blocks, transactions, messages or events that could not be decoded, per reason code.
    decode_failures: IntCounterVec,
    /// Messages of type URLs the indexer does not handle, per type URL.
    unknown_messages: IntCounterVec,
    /// RPC attempts, per endpoint.
    rpc_requests: IntCounterVec,
    /// RPC attempts that repeat a failed one, per endpoint they were made on.
    rpc_retries: IntCounterVec,
    /// Failed RPC attempts, per endpoint and kind (`timeout`, `http_5xx`, `http_429`, …).
    rpc_errors: IntCounterVec,
    /// Seconds spent applying and committing one batch of blocks.
    pub batch_apply_seconds: Histogram,
    seen_reasons: Arc<Mutex<HashSet<String>>>,
    seen_type_urls: Arc<Mutex<HashSet<String>>>,
}

impl IndexerMetrics {
    /// Creates the metrics and registers them on `registry`.
    ///
    /// # Errors
    /// When a metric of the same name is already registered there.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let name = |n: &str| metric_name(PART, n);
        let metrics = Self {
            indexed_height: IntGauge::new(
                name("indexed_height"),
                "Height of the last block committed to the store.",
            )?,
            indexed_block_timestamp: IntGauge::new(
                name("indexed_block_timestamp_seconds"),
                "Block time of the newest block committed by this process, in unix seconds.",
            )?,
            chain_head_height: IntGauge::new(
                name("chain_head_height"),
                "Highest head height reported by the RPC endpoints.",
            )?,
            blocks_processed: IntCounter::new(
                name("blocks_processed_total"),
                "Blocks applied to the store.",
            )?,
            transactions_processed: IntCounter::new(
                name("transactions_processed_total"),
                "Transactions in applied blocks, failed ones included.",
            )?,
            decode_failures: IntCounterVec::new(
                Opts::new(
                    name("decode_failures_total"),
                    "Items that could not be decoded, per reason code.",
                ),
                &["reason"],
            )?,
            unknown_messages: IntCounterVec::new(
                Opts::new(
                    name("unknown_messages_total"),
                    "Messages of unhandled type URLs, per type URL.",
                ),
                &["type_url"],
            )?,
            rpc_requests: IntCounterVec::new(
                Opts::new(name("rpc_requests_total"), "RPC attempts, per endpoint."),
                &["endpoint"],
            )?,
            rpc_retries: IntCounterVec::new(
                Opts::new(
                    name("rpc_retries_total"),
                    "RPC attempts that repeat a failed one, per endpoint they were made on.",
                ),
                &["endpoint"],
            )?,
            rpc_errors: IntCounterVec::new(
                Opts::new(
                    name("rpc_errors_total"),
                    "Failed RPC attempts, per endpoint and kind.",
                ),
                &["endpoint", "kind"],
            )?,
            batch_apply_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    name("batch_apply_duration_seconds"),
                    "Time to apply and commit one batch of blocks.",
                )
                .buckets(vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ]),
            )?,
            seen_reasons: Arc::default(),
            seen_type_urls: Arc::default(),
        };
        metrics.register_on(registry)?;
        Ok(metrics)
    }

    /// Counts `count` decode failures of `reason`.
    pub fn record_decode_failures(&self, reason: &str, count: u64) {
        let label = capped_label(&self.seen_reasons, reason);
        self.decode_failures
            .with_label_values(&[label.as_str()])
            .inc_by(count);
    }

    /// Counts `count` messages of the unhandled `type_url`.
    pub fn record_unknown_messages(&self, type_url: &str, count: u64) {
        let label = capped_label(&self.seen_type_urls, type_url);
        self.unknown_messages
            .with_label_values(&[label.as_str()])
            .inc_by(count);
    }

    /// Counts one RPC attempt on `endpoint`, and whether it repeats a failed one.
    pub fn record_rpc_attempt(&self, endpoint: &str, retry: bool) {
        self.rpc_requests.with_label_values(&[endpoint]).inc();
        if retry {
            self.rpc_retries.with_label_values(&[endpoint]).inc();
        }
    }

    /// Counts one failed RPC attempt. Endpoints come from the configuration and kinds from a
    /// fixed list, so these labels are bounded already.
    pub fn record_rpc_error(&self, endpoint: &str, kind: &str) {
        self.rpc_errors.with_label_values(&[endpoint, kind]).inc();
    }

    /// The decode failures counted so far for `reason` (for tests and reports).
    pub fn decode_failures(&self, reason: &str) -> u64 {
        self.decode_failures.with_label_values(&[reason]).get()
    }

    /// The unknown messages counted so far for `type_url` (for tests and reports).
    pub fn unknown_messages(&self, type_url: &str) -> u64 {
        self.unknown_messages.with_label_values(&[type_url]).get()
    }

    /// The RPC attempts counted so far on `endpoint`: all of them, and those that repeated a
    /// failed one.
    pub fn rpc_attempts(&self, endpoint: &str) -> (u64, u64) {
        (
            self.rpc_requests.with_label_values(&[endpoint]).get(),
            self.rpc_retries.with_label_values(&[endpoint]).get(),
        )
    }

    /// The failed RPC attempts counted so far for `endpoint` and `kind`.
    pub fn rpc_errors(&self, endpoint: &str, kind: &str) -> u64 {
        self.rpc_errors.with_label_values(&[endpoint, kind]).get()
    }
}

impl MetricSet for IndexerMetrics {
    fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![
            Box::new(self.indexed_height.clone()),
            Box::new(self.indexed_block_timestamp.clone()),
            Box::new(self.chain_head_height.clone()),
            Box::new(self.blocks_processed.clone()),
            Box::new(self.transactions_processed.clone()),
            Box::new(self.decode_failures.clone()),
            Box::new(self.unknown_messages.clone()),
            Box::new(self.rpc_requests.clone()),
            Box::new(self.rpc_retries.clone()),
            Box::new(self.rpc_errors.clone()),
            Box::new(self.batch_apply_seconds.clone()),
        ]
    }
}

/// `value` cut to [`MAX_LABEL_LEN`] characters, or [`OVERFLOW_LABEL`] once
/// [`MAX_DISTINCT_LABELS`] other values have been seen.
fn capped_label(seen: &Mutex<HashSet<String>>, value: &str) -> String {
    let cut: String = value.chars().take(MAX_LABEL_LEN).collect();
    let mut seen = match seen.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    };
    if seen.contains(&cut) {
        return cut;
    }
    if seen.len() >= MAX_DISTINCT_LABELS {
        return OVERFLOW_LABEL.to_string();
    }
    seen.insert(cut.clone());
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_registered_under_the_indexer_prefix() {
        let registry = Registry::new();
        let metrics = IndexerMetrics::register(&registry).unwrap();
        metrics.indexed_height.set(42);
        metrics.record_rpc_error("http://127.0.0.1:1", "timeout");
        metrics.record_rpc_attempt("http://127.0.0.1:1", true);
        metrics.record_unknown_messages("/x.y.MsgZ", 2);
        metrics.record_decode_failures("tx_undecodable", 1);
        metrics.batch_apply_seconds.observe(0.01);
        let names: Vec<String> = registry
            .gather()
            .iter()
            .map(|family| family.name().to_string())
            .collect();
        for expected in [
            "indexed_height",
            "chain_head_height",
            "blocks_processed_total",
            "transactions_processed_total",
            "decode_failures_total",
            "unknown_messages_total",
            "rpc_requests_total",
            "rpc_retries_total",
            "rpc_errors_total",
            "batch_apply_duration_seconds",
        ] {
            assert!(
                names.contains(&metric_name(PART, expected)),
                "{expected} missing from {names:?}"
            );
        }
        assert_eq!(metrics.unknown_messages("/x.y.MsgZ"), 2);
        assert!(
            IndexerMetrics::register(&registry).is_err(),
            "registering twice on one registry must fail, not double count"
        );
    }

    #[test]
    fn a_hostile_chain_cannot_grow_the_label_set_without_bound() {
        let metrics = IndexerMetrics::register(&Registry::new()).unwrap();
        for i in 0..(MAX_DISTINCT_LABELS + 50) {
            metrics.record_unknown_messages(&format!("/spam.Msg{i}"), 1);
        }
        assert_eq!(metrics.unknown_messages(OVERFLOW_LABEL), 50);
        let long = "x".repeat(10_000);
        metrics.record_decode_failures(&long, 1);
        assert_eq!(metrics.decode_failures(&"x".repeat(MAX_LABEL_LEN)), 1);
    }
}
