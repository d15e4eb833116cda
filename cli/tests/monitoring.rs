//! The shipped monitoring configuration, checked by Prometheus's own tool: `promtool check
//! config` accepts `config/prometheus.yml` (and the rule file it loads), `promtool check rules`
//! accepts `config/prometheus-alerts.yml`, and `promtool test rules` passes its unit tests in
//! `config/prometheus-alerts.test.yml`. Every metric an alert rule names is one the indexer, the
//! prober, settlement or the daemon registers, so no rule waits forever on a series that never
//! comes.
//!
//! `config/grafana/akash-incentives.json` imports as is (the data source is a variable) and every
//! panel's query names only metrics the exporters register.
//!
//! `promtool` is in Debian's `prometheus` package (`.ci/run` installs it). Without it the
//! promtool checks are skipped with a message, except under `CI=true`, where the test fails.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use support::{run, shipped_config, tool_on_path};
use telemetry::MetricSet;

/// Every metric name the exporters register (settlement's per-provider series included).
fn exported_names() -> BTreeSet<String> {
    let registry = prometheus::Registry::new();
    let indexer = indexer::metrics::IndexerMetrics::register(&registry).unwrap();
    let prober = uptime_prober::ProberMetrics::register(&registry).unwrap();
    let settlement =
        settlement::metrics::SettlementMetrics::register(&registry, true, 3600).unwrap();
    let process = telemetry::process::ProcessMetrics::register(&registry, "test").unwrap();
    [
        indexer.metric_names(),
        prober.metric_names(),
        settlement.metric_names(),
        process.metric_names(),
    ]
    .into_iter()
    .flatten()
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

#[test]
fn the_dashboard_imports_with_its_data_source_as_a_variable_and_queries_exported_metrics() {
    let exported = exported_names();
    let text = std::fs::read_to_string(shipped_config("grafana/akash-incentives.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    assert!(
        variables.iter().any(|v| v["name"] == "datasource"
            && v["type"] == "datasource"
            && v["query"] == "prometheus"),
        "a data source variable: {variables:?}"
    );
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(panels.len() >= 8, "{} panels", panels.len());
    let ids: BTreeSet<u64> = panels.iter().map(|p| p["id"].as_u64().unwrap()).collect();
    assert_eq!(ids.len(), panels.len(), "panel ids are unique");
    for panel in panels {
        let title = panel["title"].as_str().unwrap();
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "{title}");
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title} has a query");
        for target in targets {
            let expr = target["expr"].as_str().unwrap();
            let names = referenced_names(expr);
            assert!(!names.is_empty(), "{title}: {expr}");
            for name in names {
                assert!(
                    is_exported(&name, &exported),
                    "panel {title:?} queries {name}, which nobody exports"
                );
            }
        }
    }
    let titles: Vec<&str> = panels
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    for wanted in [
        "Indexer lag",
        "Blocks per second",
        "Decode rejections",
        "Probe success rate",
        "Providers online",
        "GPUs online by model",
        "Uptime distribution",
        "Pool balances",
        "Last sealed epoch",
    ] {
        assert!(titles.contains(&wanted), "no {wanted:?} panel: {titles:?}");
    }
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
    assert!(out.contains("8 rules found"), "{out}");
    let (code, out) = promtool(&tool, &["test", "rules"], "prometheus-alerts.test.yml");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("SUCCESS"), "{out}");
}
