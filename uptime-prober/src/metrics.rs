//! Prometheus metrics of the prober, registered on a registry the caller owns (so the CLI can
//! serve them next to others, and tests can read them).
//!
//! All names start with `akash_incentives_prober_`.

use std::collections::BTreeMap;

use prometheus::core::Collector;
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};
use telemetry::{metric_name, MetricSet};

use crate::error::ErrorKind;
use crate::probe::Probe;

/// The part every prober metric name carries (`akash_incentives_prober_*`).
const PART: &str = "prober";

/// The prober's metrics.
#[derive(Clone)]
pub struct ProberMetrics {
    probes: IntCounterVec,
    latency: HistogramVec,
    providers_online: IntGauge,
    providers_probed: IntGauge,
    gpus_online: IntGaugeVec,
    clamps: IntCounterVec,
    round_duration: Histogram,
}

impl ProberMetrics {
    /// Creates the metrics and registers them on `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let name = |n: &str| metric_name(PART, n);
        let metrics = Self {
            probes: IntCounterVec::new(
                Opts::new(name("probes_total"), "Probes done, by result (online/offline) and error kind (none when online)."),
                &["result", "error_kind"],
            )?,
            latency: HistogramVec::new(
                HistogramOpts::new(name("probe_latency_seconds"), "Duration of each probe, by result.")
                    .buckets(vec![0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0]),
                &["result"],
            )?,
            providers_online: IntGauge::new(name("providers_online"), "Providers found online in the last round.")?,
            providers_probed: IntGauge::new(name("providers_probed"), "Providers probed in the last round.")?,
            gpus_online: IntGaugeVec::new(
                Opts::new(name("gpus_online"), "Allocatable GPUs (sanitised) on providers online in the last round, by model (unknown when the class could not be determined)."),
                &["model"],
            )?,
            clamps: IntCounterVec::new(
                Opts::new(name("clamps_total"), "GPU counts changed by the sanitiser, by field and reason."),
                &["field", "reason"],
            )?,
            round_duration: Histogram::with_opts(
                HistogramOpts::new(name("round_duration_seconds"), "Wall time of each probe round.")
                    .buckets(vec![1.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0]),
            )?,
        };
        metrics.register_on(registry)?;
        // Make every series visible from the start, so dashboards show zeros rather than gaps.
        metrics.probes.with_label_values(&["online", "none"]);
        for kind in ErrorKind::ALL {
            metrics.probes.with_label_values(&["offline", kind.code()]);
        }
        Ok(metrics)
    }

    /// Counts one finished probe.
    pub(crate) fn observe_probe(&self, probe: &Probe) {
        let result = if probe.online() { "online" } else { "offline" };
        let kind = probe.error_kind().map_or("none", ErrorKind::code);
        self.probes.with_label_values(&[result, kind]).inc();
        self.latency
            .with_label_values(&[result])
            .observe(probe.latency.as_secs_f64());
        if let Ok(inventory) = &probe.outcome {
            for clamp in inventory.nodes.iter().flat_map(|n| &n.clamps) {
                self.clamps
                    .with_label_values(&[clamp.field.code(), clamp.reason.code()])
                    .inc();
            }
        }
    }

    /// Sets the per-round gauges from a finished round.
    pub(crate) fn observe_round(&self, probes: &[Probe], duration_seconds: f64) {
        let online: Vec<&Probe> = probes.iter().filter(|p| p.online()).collect();
        self.providers_online.set(gauge(online.len()));
        self.providers_probed.set(gauge(probes.len()));
        let mut by_model: BTreeMap<&str, u64> = BTreeMap::new();
        for node in online
            .iter()
            .filter_map(|p| p.outcome.as_ref().ok())
            .flat_map(|i| &i.nodes)
        {
            let model = node.class.as_ref().map_or("unknown", |c| c.model.as_str());
            *by_model.entry(model).or_default() += u64::from(node.allocatable);
        }
        self.gpus_online.reset();
        for (model, count) in by_model {
            self.gpus_online
                .with_label_values(&[model])
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        self.round_duration.observe(duration_seconds);
    }
}

impl MetricSet for ProberMetrics {
    fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![
            Box::new(self.probes.clone()),
            Box::new(self.latency.clone()),
            Box::new(self.providers_online.clone()),
            Box::new(self.providers_probed.clone()),
            Box::new(self.gpus_online.clone()),
            Box::new(self.clamps.clone()),
            Box::new(self.round_duration.clone()),
        ]
    }
}

fn gauge(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
