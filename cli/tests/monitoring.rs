//! The shipped monitoring configuration, checked by Prometheus's own tool: `promtool check
//! config` accepts `config/prometheus.yml` (and the rule file it loads), `promtool check rules`
//! accepts `config/prometheus-alerts.yml`, and `promtool test rules` passes its unit tests in
//! `config/prometheus-alerts.test.yml`. Every metric an alert rule names is one the indexer or
//! the prober registers, so no rule waits forever on a series that never comes.
//!
//! `promtool` is in Debian's `prometheus` package (`.ci/run` installs it). Without it the
//! promtool checks are skipped with a message, except under `CI=true`, where the test fails.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use support::{run, shipped_config, tool_on_path};
use telemetry::MetricSet;

/// Every metric name the exporters register.
fn exported_names() -> BTreeSet<String> {
    let registry = prometheus::Registry::new();
    let indexer = indexer::metrics::IndexerMetrics::register(&registry).unwrap();
    let prober = uptime_prober::ProberMetrics::register(&registry).unwrap();
    indexer
        .metric_names()
        .into_iter()
        .chain(prober.metric_names())
        .collect()
}

/// The `akash_incentives_*` names a rule file's text refers to.
fn referenced_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("akash_incentives_") {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

/// A histogram is exported as `<name>_bucket`, `<name>_sum` and `<name>_count`.
fn is_exported(name: &str, exported: &BTreeSet<String>) -> bool {
    exported.contains(name)
        || ["_bucket", "_sum", "_count"].iter().any(|suffix| {
            name.strip_suffix(suffix)
                .is_some_and(|base| exported.contains(base))
        })
}

#[test]
fn every_metric_an_alert_names_is_exported() {
    let exported = exported_names();
    let text = std::fs::read_to_string(shipped_config("prometheus-alerts.yml")).unwrap();
    let referenced = referenced_names(&text);
    assert!(
        referenced.len() >= 6,
        "the rules name the metrics they watch: {referenced:?}"
    );
    let unknown: Vec<&String> = referenced
        .iter()
        .filter(|name| !is_exported(name, &exported))
        .collect();
    assert!(
        unknown.is_empty(),
        "alert rules name metrics nobody exports: {unknown:?}; exported: {exported:?}"
    );
    // The check itself can fail: a misspelt name is caught.
    assert!(!is_exported(
        "akash_incentives_indexer_indexed_heigth",
        &exported
    ));
    assert!(is_exported(
        "akash_incentives_prober_round_duration_seconds_count",
        &exported
    ));
}

fn promtool(promtool: &Path, args: &[&str], file: &str) -> (i32, String) {
    let (code, stdout, stderr) = run(Command::new(promtool).args(args).arg(shipped_config(file)));
    (code, format!("{stdout}{stderr}"))
}

#[test]
fn promtool_accepts_the_configuration_and_the_alert_rules_pass_their_tests() {
    let Some(tool) = tool_on_path(
        "promtool",
        "prometheus",
        "the promtool checks of the alert rules",
    ) else {
        return;
    };
    let (code, out) = promtool(&tool, &["check", "config"], "prometheus.yml");
    assert_eq!(code, 0, "{out}");
    let (code, out) = promtool(&tool, &["check", "rules"], "prometheus-alerts.yml");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("5 rules found"), "{out}");
    let (code, out) = promtool(&tool, &["test", "rules"], "prometheus-alerts.test.yml");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("SUCCESS"), "{out}");
}
