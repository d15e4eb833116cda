//! What a long-running process says about itself (`akash_incentives_build_info`,
//! `akash_incentives_serve_*`): which build runs, whether it leads, and which of its tasks
//! failed and were restarted.

use prometheus::core::Collector;
use prometheus::{IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

use crate::{metric_name, MetricSet, NAMESPACE};

/// The part the daemon's own metrics carry.
const PART: &str = "serve";

/// The process's metrics.
#[derive(Clone)]
pub struct ProcessMetrics {
    build_info: IntGaugeVec,
    leader: IntGauge,
    task_failures: IntCounterVec,
}

impl ProcessMetrics {
    /// Creates the metrics for a build of `version` and registers them on `registry`.
    ///
    /// # Errors
    /// When a metric of the same name is already registered there.
    pub fn register(registry: &Registry, version: &str) -> Result<Self, prometheus::Error> {
        let metrics = Self {
            build_info: IntGaugeVec::new(
                Opts::new(
                    format!("{NAMESPACE}_build_info"),
                    "Always 1; the labels name the running build.",
                ),
                &["version"],
            )?,
            leader: IntGauge::new(
                metric_name(PART, "leader"),
                "1 while this process leads (indexes and settles), 0 while it only probes.",
            )?,
            task_failures: IntCounterVec::new(
                Opts::new(
                    metric_name(PART, "task_failures_total"),
                    "Failures of each task of the daemon; each is logged and the task retried.",
                ),
                &["task"],
            )?,
        };
        metrics.build_info.with_label_values(&[version]).set(1);
        metrics.register_on(registry)?;
        Ok(metrics)
    }

    /// Sets whether this process leads.
    pub fn set_leader(&self, leads: bool) {
        self.leader.set(i64::from(leads));
    }

    /// Whether this process leads now.
    pub fn leads(&self) -> bool {
        self.leader.get() == 1
    }

    /// Counts one failure of `task` (a name from the daemon's fixed list).
    pub fn count_failure(&self, task: &str) {
        self.task_failures.with_label_values(&[task]).inc();
    }
}

impl MetricSet for ProcessMetrics {
    fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![
            Box::new(self.build_info.clone()),
            Box::new(self.leader.clone()),
            Box::new(self.task_failures.clone()),
        ]
    }
}
