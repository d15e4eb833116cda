//! The programme published in an audit bundle loads back to the programme that was settled, holds
//! nothing operational or secret, and is refused when it carries what a published file must not.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{config_dir, example_text, example_with_price_csv, line_of, no_env};
use settings::{parse_published, published_programme, Config, ConfigError, Environment};

/// Where the tests pretend a published file lives, to check that refusals name it.
const BUNDLE_FILE: &str = "bundle/epoch-7/programme.toml";

fn shipped(name: &str) -> Config {
    settings::load(&config_dir().join(name), &no_env()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn parse_config(text: &str) -> Config {
    settings::parse(&config_dir().join("edited.toml"), text, &no_env())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn publish(config: &Config) -> String {
    published_programme(config).unwrap_or_else(|e| panic!("{e}"))
}

/// Loads `published` as an auditor would, and checks it gives what `config` holds.
fn assert_reproduces(config: &Config, published: &str) {
    let loaded = parse_published(Path::new(BUNDLE_FILE), published)
        .unwrap_or_else(|e| panic!("{e}\n--- published ---\n{published}"));
    assert_eq!(loaded.name, config.name);
    assert_eq!(loaded.chain_id, config.chain.chain_id);
    assert_eq!(loaded.max_staleness, config.prober.max_staleness);
    assert_eq!(loaded.programme, config.programme);
    assert_eq!(loaded.vantages, config.prober.vantages);
}

/// The message of the refusal of `text` as a published file.
fn published_refusal(text: &str) -> String {
    match parse_published(Path::new(BUNDLE_FILE), text) {
        Ok(_) => panic!("a published file that must be refused was accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_shipped_configurations_load_back_from_their_published_programme() {
    for name in ["example.toml", "devnet.toml"] {
        let config = shipped(name);
        let published = publish(&config);
        assert_reproduces(&config, &published);
        for operational in [
            "rpc_urls",
            "start_height",
            "[database]",
            "[metrics]",
            "listen",
            "watched_wallets",
            "request_timeout",
            "interval",
        ] {
            assert!(
                !published.contains(operational),
                "{name}: the published programme contains {operational:?}:\n{published}"
            );
        }
    }
}

#[test]
fn the_chain_id_and_staleness_limit_come_first_and_alone() {
    let published = publish(&shipped("example.toml"));
    assert!(
        published.starts_with(
            "[chain]\nchain_id = \"akashnet-2\"\n\n[prober]\nmax_staleness = \"30m\"\n\n[program]\n"
        ),
        "{published}"
    );
}

#[test]
fn a_default_staleness_limit_is_written_out() {
    let devnet = std::fs::read_to_string(config_dir().join("devnet.toml")).unwrap();
    assert!(!devnet.contains("max_staleness"), "devnet.toml now sets it");
    let config = shipped("devnet.toml");
    // Twice the five-minute interval.
    assert_eq!(config.prober.max_staleness, Duration::from_secs(10 * 60));
    let published = publish(&config);
    assert!(
        published.contains("[prober]\nmax_staleness = \"10m\"\n"),
        "{published}"
    );
    let loaded = parse_published(Path::new(BUNDLE_FILE), &published).unwrap();
    assert_eq!(loaded.max_staleness, Duration::from_secs(10 * 60));
}

#[test]
fn a_written_staleness_limit_is_published_in_canonical_text() {
    let text = example_text().replacen("max_staleness = \"30m\"", "max_staleness = \"1800s\"", 1);
    assert_ne!(text, example_text());
    let published = publish(&parse_config(&text));
    assert!(
        published.contains("max_staleness = \"30m\"\n"),
        "{published}"
    );
    assert!(!published.contains("1800s"), "{published}");
}

#[test]
fn prices_from_a_csv_file_are_published_inline() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("prices.csv");
    std::fs::write(
        &csv,
        "date,usd_per_token\n\
         2024-03-01,4.35\n\
         2024-04-01T12:30:00.250+02:00,5.10\n\
         2024-05-01,4.700\n",
    )
    .unwrap();
    let path = dir.path().join("programme.toml");
    let config = settings::parse(&path, &example_with_price_csv(), &no_env()).unwrap();
    let published = publish(&config);
    assert!(
        published.contains(
            "points = [\n  \
             { from = \"2024-03-01T00:00:00Z\", usd = \"4.35\" },\n  \
             { from = \"2024-04-01T10:30:00.250Z\", usd = \"5.10\" },\n  \
             { from = \"2024-05-01T00:00:00Z\", usd = \"4.700\" },\n]\n"
        ),
        "{published}"
    );

    // The bundle stands alone: the CSV is gone, and the file is read somewhere else.
    std::fs::remove_file(&csv).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let bundle = elsewhere.path().join("programme.toml");
    std::fs::write(&bundle, &published).unwrap();
    let text = std::fs::read_to_string(&bundle).unwrap();
    let loaded = parse_published(&bundle, &text).unwrap();
    let prices = loaded.programme.prices.as_ref().unwrap();
    assert_eq!(prices.points.len(), 3);
    assert_eq!(Some(prices), config.programme.prices.as_ref());
    assert_reproduces(&config, &published);
}

#[test]
fn publishing_is_deterministic_and_ignores_the_environment() {
    let config = shipped("example.toml");
    let first = publish(&config);
    assert_eq!(first, publish(&config));
    assert_eq!(first, publish(&shipped("example.toml")));

    let env = Environment::from_lookup(|name| match name {
        "AKASH_INCENTIVES_DATABASE_URL" => Some("postgres://ops:ENV-PASSWORD@db:5432/prod".into()),
        "AKASH_INCENTIVES_RPC_URLS" => Some("https://rpc.example:443/?apikey=ENV-KEY".into()),
        _ => None,
    });
    let overridden = settings::load(&config_dir().join("example.toml"), &env).unwrap();
    assert_eq!(
        overridden.chain.rpc_urls,
        ["https://rpc.example:443/?apikey=ENV-KEY"]
    );
    assert_eq!(publish(&overridden), first);
}

#[test]
fn comments_in_the_programme_sections_survive() {
    let published = publish(&shipped("example.toml"));
    for comment in [
        "# USD amounts are converted to uakt at the AKT price in force",
        "# Homogeneous GPU configurations.",
        "# The one-year commitment with quarterly vesting",
        "# --- Pool 1: committed capacity (40%)",
        "verify_capacity = true     # pay only for capacity the prober saw online",
        "rate = { usd = \"1.10\" }    # per GPU-hour",
        "                           # (an excess over max_share_per_provider is always returned)",
    ] {
        assert!(
            published.contains(comment),
            "lost {comment:?}:\n{published}"
        );
    }
}

#[test]
fn comments_of_operational_sections_are_not_published() {
    // TOML gives a comment at the end of a section to the header after it, so these land on
    // [database], [prober], [program] and the end of the file.
    let example = example_text()
        .replacen(
            "chain_id = \"akashnet-2\"",
            "# fallback: https://rpc.example/?apikey=CHAIN-KEY\nchain_id = \"akashnet-2\"",
            1,
        )
        .replacen(
            "request_timeout = \"30s\"\n",
            "request_timeout = \"30s\"\n# rpc_urls = [\"https://rpc.example/?apikey=TAIL-KEY\"]\n",
            1,
        )
        .replacen(
            "url = \"data/akash-incentives.sqlite\"\n",
            "url = \"data/akash-incentives.sqlite\"\n# url = \"postgres://admin:hunter2@db/prod\"\n",
            1,
        )
        .replacen(
            "listen = \"127.0.0.1:9464\"\n",
            "listen = \"127.0.0.1:9464\"\n# listen = \"10.0.0.5:9464\"   (the old host)\n",
            1,
        );
    // The chain as an inline table at the root, and the metrics last, with a closing comment.
    let devnet = std::fs::read_to_string(config_dir().join("devnet.toml")).unwrap();
    let chain_start = devnet.find("[chain]").unwrap();
    let chain_end = devnet.find("[database]").unwrap();
    let metrics = "[metrics]\nlisten = \"127.0.0.1:9464\"\n\n";
    assert!(devnet.contains(metrics));
    let devnet = format!(
        "chain = {{ chain_id = \"akashnet-2\", rpc_urls = [\"https://rpc.example/?apikey=ROOT-KEY\"], \
         start_height = 1 }}\n# start_height = 13_759_500\n\n{}{}\
         \n[metrics]\nlisten = \"127.0.0.1:9464\"\n# listen = \"10.9.9.9:9464\"\n",
        &devnet[..chain_start],
        &devnet[chain_end..].replacen(metrics, "", 1),
    );
    for text in [example, devnet] {
        let config = parse_config(&text);
        let published = publish(&config);
        for secret in [
            "CHAIN-KEY",
            "TAIL-KEY",
            "ROOT-KEY",
            "hunter2",
            "10.0.0.5",
            "10.9.9.9",
            "13_759_500",
        ] {
            assert!(
                !published.contains(secret),
                "the published programme contains {secret:?}:\n{published}"
            );
        }
        assert_reproduces(&config, &published);
    }
}

#[test]
fn a_configuration_changed_after_loading_is_not_published() {
    let mut config = shipped("example.toml");
    config.programme.calendar.epochs = 119;
    let err = published_programme(&config).unwrap_err();
    assert!(matches!(err, ConfigError::Unpublishable { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("example.toml"), "{message}");
    assert!(message.contains("its programme differs"), "{message}");

    let mut config = shipped("example.toml");
    config.name = "another-programme".into();
    let message = published_programme(&config).unwrap_err().to_string();
    assert!(message.contains("its name differs"), "{message}");
}

#[test]
fn a_published_file_with_what_it_must_not_hold_is_refused_at_its_line() {
    let published = publish(&shipped("example.toml"));
    let cases = [
        (
            format!("{published}\n[database]\nurl = \"postgres://x\"\n"),
            "[database]",
            "unknown field `database`",
        ),
        (
            published.replacen("[prices]\n", "[prices]\ncsv = \"prices.csv\"\n", 1),
            "csv = \"prices.csv\"\n",
            "unknown field `csv`",
        ),
        (
            published.replacen(
                "chain_id = \"akashnet-2\"\n",
                "chain_id = \"akashnet-2\"\nrpc_urls = [\"https://rpc.example\"]\n",
                1,
            ),
            "rpc_urls",
            "unknown field `rpc_urls`",
        ),
        (
            published.replacen(
                "max_staleness = \"30m\"\n",
                "max_staleness = \"30m\"\ninterval = \"15m\"\n",
                1,
            ),
            "interval = ",
            "unknown field `interval`",
        ),
    ];
    for (text, needle, expected) in cases {
        assert_ne!(text, published, "the edit for {expected:?} did not apply");
        let message = published_refusal(&text);
        let line = line_of(&text, needle);
        assert!(
            message.contains(&format!("{BUNDLE_FILE}:{line}:")),
            "{message}"
        );
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn a_published_file_needs_the_chain_id_and_staleness_limit() {
    let published = publish(&shipped("devnet.toml"));
    let without = published.replacen("max_staleness = \"10m\"\n", "", 1);
    assert_ne!(without, published);
    let message = published_refusal(&without);
    assert!(message.contains(BUNDLE_FILE), "{message}");
    assert!(
        message.contains("missing field `max_staleness`"),
        "{message}"
    );

    for (from, to, key, expected) in [
        (
            "chain_id = \"akashnet-2\"",
            "chain_id = \" \"",
            "chain.chain_id",
            "the chain id must not be empty",
        ),
        (
            "max_staleness = \"10m\"",
            "max_staleness = \"0s\"",
            "prober.max_staleness",
            "must be longer than zero",
        ),
    ] {
        let text = published.replacen(from, to, 1);
        let message = published_refusal(&text);
        let line = line_of(&text, to);
        assert!(
            message.contains(&format!("{BUNDLE_FILE}:{line}: {key}: {expected}")),
            "{message}"
        );
    }
}

#[test]
fn a_published_programme_is_validated_like_a_configuration() {
    let published = publish(&shipped("devnet.toml"));
    let text = published.replacen(
        "{ class = \"h100\", share = \"0.4\" }",
        "{ class = \"h100\", share = \"0.3\" }",
        1,
    );
    assert_ne!(text, published);
    let message = published_refusal(&text);
    assert!(
        message.contains("pools.liquidity_mining.classes"),
        "{message}"
    );
    assert!(message.contains("sum to 0.9, not 1"), "{message}");
    let line = line_of(&text, "classes = [\n  { class = \"a100-80gi\"");
    assert!(
        message.contains(&format!("{BUNDLE_FILE}:{line}:")),
        "{message}"
    );
}

/// The vantage points and their public keys are published, so an auditor can check every
/// observation's signature; the prober's key file, a secret's location, is not.
#[test]
fn vantage_points_are_published_and_the_key_file_is_not() {
    let config = shipped("devnet.toml");
    assert_eq!(config.prober.vantages.len(), 1);
    let published = publish(&config);
    assert_reproduces(&config, &published);
    assert!(published.contains("[[prober.vantage]]"), "{published}");
    assert!(
        published.contains(&config.prober.vantages[0].public_key),
        "{published}"
    );
    assert!(!published.contains("key_file"), "{published}");
    assert!(!published.contains("devnet-prober.key"), "{published}");
}
