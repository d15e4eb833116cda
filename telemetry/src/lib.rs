//! What every part's Prometheus metrics share, so a dashboard or an alert rule can rely on it:
//!
//! - **Names** are `akash_incentives_<part>_<name>` ([`metric_name`]), with `_total` on counters
//!   and the base unit in the name (`_seconds`, `_bytes`), as Prometheus conventions ask.
//! - **Sets:** each part (indexer, prober, …) keeps its metrics in one struct implementing
//!   [`MetricSet`]: it lists its collectors once, and registering them on a registry and
//!   listing their names both come from that list.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use prometheus::core::Collector;
use prometheus::Registry;

pub mod process;

/// The namespace every metric name starts with.
pub const NAMESPACE: &str = "akash_incentives";

/// The full name of metric `name` of `part`: `akash_incentives_<part>_<name>`.
pub fn metric_name(part: &str, name: &str) -> String {
    format!("{NAMESPACE}_{part}_{name}")
}

/// One part's metrics.
pub trait MetricSet {
    /// Every metric of the set, each once.
    fn collectors(&self) -> Vec<Box<dyn Collector>>;

    /// Registers every metric of the set on `registry`.
    ///
    /// # Errors
    /// When a metric of the same name is already registered there.
    fn register_on(&self, registry: &Registry) -> Result<(), prometheus::Error> {
        for collector in self.collectors() {
            registry.register(collector)?;
        }
        Ok(())
    }

    /// The name of every metric of the set, whether or not it has a series yet: what
    /// dashboards and alert rules may refer to.
    fn metric_names(&self) -> Vec<String> {
        self.collectors()
            .iter()
            .flat_map(|c| c.desc().into_iter().map(|d| d.fq_name.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Two(prometheus::IntCounter, prometheus::IntGaugeVec);

    impl MetricSet for Two {
        fn collectors(&self) -> Vec<Box<dyn Collector>> {
            vec![Box::new(self.0.clone()), Box::new(self.1.clone())]
        }
    }

    #[test]
    fn a_set_registers_and_names_every_metric_even_without_series() {
        let set = Two(
            prometheus::IntCounter::new(metric_name("demo", "runs_total"), "Runs.").unwrap(),
            prometheus::IntGaugeVec::new(
                prometheus::Opts::new(metric_name("demo", "gpus"), "GPUs."),
                &["model"],
            )
            .unwrap(),
        );
        let registry = Registry::new();
        set.register_on(&registry).unwrap();
        assert_eq!(
            set.metric_names(),
            [
                "akash_incentives_demo_runs_total",
                "akash_incentives_demo_gpus"
            ]
        );
        assert!(set.register_on(&registry).is_err(), "a name registers once");
    }
}
