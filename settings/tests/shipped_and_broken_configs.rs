//! The shipped configurations load; broken ones are refused with the file, the line and the
//! problem named.

mod common;

use std::path::Path;

use common::{config_dir, example_text, example_with_price_csv, line_of, no_env};
use settings::{ConfigError, Environment};

/// Parses `text` as if it were `config/broken.toml` and returns the error message.
fn refusal(text: &str) -> String {
    let path = config_dir().join("broken.toml");
    match settings::parse(&path, text, &no_env()) {
        Ok(_) => panic!("a broken configuration was accepted"),
        Err(e) => e.to_string(),
    }
}

/// `example.toml` with the first `from` replaced by `to`.
fn example_with(from: &str, to: &str) -> String {
    let text = example_text();
    assert!(text.contains(from), "{from:?} is not in example.toml");
    text.replacen(from, to, 1)
}

#[test]
fn the_shipped_configurations_are_valid() {
    for name in ["example.toml", "devnet.toml"] {
        let path = config_dir().join(name);
        let config = settings::load(&path, &no_env()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!config.chain.rpc_urls.is_empty());
    }
}

#[test]
fn the_example_is_the_pilot_shape() {
    let config = settings::load(&config_dir().join("example.toml"), &no_env()).unwrap();
    let programme = &config.programme;
    assert_eq!(programme.calendar.epochs, 120);
    assert_eq!(programme.calendar.epoch_length_ms, 86_400_000);
    let usd = |m: &rewards::money::Money| match m {
        rewards::money::Money::Usd(d) => d.to_string(),
        other => panic!("expected a USD budget, found {other:?}"),
    };
    assert_eq!(
        usd(&programme.committed.as_ref().unwrap().budget),
        "2000000"
    );
    assert_eq!(
        usd(&programme.liquidity_mining.as_ref().unwrap().budget),
        "2000000"
    );
    assert_eq!(usd(&programme.rnd.as_ref().unwrap().budget), "1000000");
    assert_eq!(config.prober.interval.as_secs(), 15 * 60);
}

#[test]
fn shares_that_do_not_sum_to_one() {
    let text = example_with(
        r#"{ class = "h100", share = "0.3" }"#,
        r#"{ class = "h100", share = "0.2" }"#,
    );
    let message = refusal(&text);
    assert!(
        message.contains("pools.liquidity_mining.classes"),
        "{message}"
    );
    assert!(message.contains("sum to 0.9, not 1"), "{message}");
    let line = line_of(&text, "classes = [\n  { class = \"a100-80gi\"");
    assert!(
        message.contains(&format!("broken.toml:{line}:")),
        "{message}"
    );
}

#[test]
fn an_epoch_length_of_zero() {
    let text = example_with(r#"epoch_length = "1d""#, r#"epoch_length = "0s""#);
    let message = refusal(&text);
    assert!(message.contains("program.epoch_length"), "{message}");
    let line = line_of(&text, "epoch_length = \"0s\"");
    assert!(
        message.contains(&format!("broken.toml:{line}:")),
        "{message}"
    );
}

#[test]
fn a_vesting_schedule_referenced_but_not_defined() {
    let text = example_with(
        r#"vesting = "after-30-days""#,
        r#"vesting = "after-60-days""#,
    );
    let message = refusal(&text);
    assert!(message.contains("pools.rnd.vesting"), "{message}");
    assert!(
        message.contains("unknown vesting schedule \"after-60-days\""),
        "{message}"
    );
    let line = line_of(&text, "vesting = \"after-60-days\"");
    assert!(
        message.contains(&format!("broken.toml:{line}:")),
        "{message}"
    );
}

#[test]
fn a_committed_contract_exceeding_the_pool_budget() {
    let text = example_with("gpus = 128", "gpus = 12800");
    let message = refusal(&text);
    assert!(
        message.contains("pools.committed.contracts[0]"),
        "{message}"
    );
    assert!(message.contains("exceeds the budget"), "{message}");
    let line = line_of(&text, "[[pools.committed.contracts]]");
    assert!(
        message.contains(&format!("broken.toml:{line}:")),
        "{message}"
    );
}

#[test]
fn an_unknown_key_is_an_error_not_ignored() {
    let text = example_with(
        "min_uptime = \"0.90\"",
        "min_uptime = \"0.90\"\nmin_uptme = \"0.5\"",
    );
    let message = refusal(&text);
    assert!(message.contains("unknown field `min_uptme`"), "{message}");
    let line = line_of(&text, "min_uptme");
    assert!(
        message.contains(&format!("broken.toml:{line}:")),
        "{message}"
    );
}

#[test]
fn a_float_where_an_exact_decimal_is_needed() {
    let text = example_with("sla_uptime = \"0.95\"", "sla_uptime = 0.95");
    let message = refusal(&text);
    assert!(
        message.contains("write decimal values as strings"),
        "{message}"
    );
    let line = line_of(&text, "sla_uptime = 0.95");
    assert!(
        message.contains(&format!("broken.toml:{line}:")),
        "{message}"
    );
}

#[test]
fn an_undefined_gpu_class() {
    let text = example_with(r#"class = "a100-80gi""#, r#"class = "a100-80gb""#);
    let message = refusal(&text);
    assert!(
        message.contains("pools.committed.contracts[0].class"),
        "{message}"
    );
    assert!(
        message.contains("unknown GPU class \"a100-80gb\""),
        "{message}"
    );
}

#[test]
fn an_rpc_url_that_is_not_http() {
    let text = example_with(
        "https://rpc.akashnet.net:443",
        "tcp://rpc.akashnet.net:26657",
    );
    let message = refusal(&text);
    assert!(message.contains("chain.rpc_urls[0]"), "{message}");
    assert!(
        message.contains("scheme must be http or https"),
        "{message}"
    );
}

#[test]
fn a_budget_with_both_units() {
    let text = example_with(
        r#"budget = { usd = "1000000" }"#,
        r#"budget = { usd = "1000000", base_units = "5" }"#,
    );
    let message = refusal(&text);
    assert!(message.contains("pools.rnd.budget"), "{message}");
    assert!(message.contains("exactly one of"), "{message}");
}

#[test]
fn a_usd_budget_without_a_price_in_force() {
    let text = example_with(
        r#"{ from = "2024-03-01", usd = "4.35" }"#,
        r#"{ from = "2024-03-02", usd = "4.35" }"#,
    );
    let message = refusal(&text);
    assert!(message.contains("no price in force"), "{message}");
}

#[test]
fn a_grant_outside_the_programme() {
    let text = example_with("epoch = 14", "epoch = 120");
    let message = refusal(&text);
    assert!(message.contains("pools.rnd.grants[0].epoch"), "{message}");
    assert!(
        message.contains("outside the programme's 120 epochs"),
        "{message}"
    );
}

#[test]
fn an_r_and_d_class_of_an_old_model() {
    let text = example_with(
        r#"{ class = "l40s", share = "0.1" }"#,
        r#"{ class = "a100-40gi", share = "0.1" }"#,
    );
    let message = refusal(&text);
    assert!(message.contains("not in eligible_models"), "{message}");
}

#[test]
fn invalid_toml_names_the_line() {
    let text = example_with("epochs = 120", "epochs = = 120");
    let message = refusal(&text);
    let line = line_of(&text, "epochs = = 120");
    assert!(
        message.contains(&format!("broken.toml:{line}:")),
        "{message}"
    );
}

#[test]
fn several_problems_are_all_reported() {
    let text =
        example_with("gpus = 128", "gpus = 0").replacen("timeout = \"10s\"", "timeout = \"1h\"", 1);
    let message = refusal(&text);
    assert!(
        message.contains("2 problems") || message.contains("problems:"),
        "{message}"
    );
    assert!(message.contains("prober.timeout"), "{message}");
    assert!(
        message.contains("pools.committed.contracts[0].gpus"),
        "{message}"
    );
}

#[test]
fn a_missing_file_names_the_file() {
    let err = settings::load(Path::new("/nonexistent/programme.toml"), &no_env()).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(err.to_string().contains("/nonexistent/programme.toml"));
}

#[test]
fn environment_overrides_database_and_rpc_urls() {
    let env = Environment::from_lookup(|name| match name {
        "AKASH_INCENTIVES_DATABASE_URL" => Some("postgres://postgres@127.0.0.1:5432/test".into()),
        "DATABASE_URL" => Some("ignored.sqlite".into()),
        "AKASH_INCENTIVES_RPC_URLS" => Some("http://127.0.0.1:1,http://127.0.0.1:2".into()),
        _ => None,
    });
    let config = settings::load(&config_dir().join("example.toml"), &env).unwrap();
    assert_eq!(
        config.database_url,
        "postgres://postgres@127.0.0.1:5432/test"
    );
    assert_eq!(
        config.chain.rpc_urls,
        ["http://127.0.0.1:1", "http://127.0.0.1:2"]
    );
}

#[test]
fn price_csv_rows_are_read_relative_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("prices.csv"),
        "date,usd_per_token\n2024-03-01,4.35\n2024-04-01,5.10\n",
    )
    .unwrap();
    let text = example_with_price_csv();
    let path = dir.path().join("programme.toml");
    let config = settings::parse(&path, &text, &no_env()).unwrap();
    assert_eq!(config.programme.prices.unwrap().points.len(), 2);

    std::fs::write(
        dir.path().join("prices.csv"),
        "2024-03-01,4.35\n2024-02-01,5.10\n",
    )
    .unwrap();
    let message = settings::parse(&path, &text, &no_env())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("prices.csv:2: dates must increase"),
        "{message}"
    );
}

#[test]
fn vantage_points_are_named_once_with_ed25519_keys() {
    let key = "ed25519:O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=";
    let vantage = |id: &str, public_key: &str| {
        format!("[[prober.vantage]]\nid = \"{id}\"\npublic_key = \"{public_key}\"\n\n")
    };
    let good = example_with(
        "[metrics]",
        &format!("{}{}[metrics]", vantage("eu-1", key), vantage("us-1", key)),
    );
    let path = config_dir().join("vantage.toml");
    let config = settings::parse(&path, &good, &no_env()).unwrap();
    let ids: Vec<_> = config
        .prober
        .vantages
        .iter()
        .map(|v| v.id.as_str())
        .collect();
    assert_eq!(ids, ["eu-1", "us-1"]);
    assert_eq!(config.prober.vantages[0].public_key, key);
    // The example's key file, relative to the configuration's folder.
    assert_eq!(
        config.prober.key_file,
        Some(config_dir().join("keys/eu-1.key"))
    );
    let bad = example_with(
        "[metrics]",
        &format!(
            "{}{}[metrics]",
            vantage("eu-1", key),
            vantage("eu-1", "rsa:AAAA")
        ),
    );
    let message = refusal(&bad);
    assert!(message.contains("prober.vantage[1].id"), "{message}");
    assert!(message.contains("named twice"), "{message}");
    assert!(
        message.contains("prober.vantage[1].public_key"),
        "{message}"
    );
}
