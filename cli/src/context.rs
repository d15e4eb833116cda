//! What every command may need: the configuration and the store, loaded on demand so that
//! commands which need neither (for example `simnet serve`) run without them.

use std::path::PathBuf;

use anyhow::Context as _;
use store::{DatabaseUrl, Store};

use crate::exit::UsageError;

/// The global options, resolved lazily.
pub struct Context {
    config_path: Option<PathBuf>,
    database_url_flag: Option<String>,
    metrics: prometheus::Registry,
}

impl Context {
    pub fn new(config_path: Option<PathBuf>, database_url_flag: Option<String>) -> Self {
        Self {
            config_path,
            database_url_flag,
            metrics: prometheus::Registry::new(),
        }
    }

    /// The process's one metrics registry: every part the command runs (indexer, prober)
    /// registers on it, and the `/metrics` server ([`crate::runtime::MetricsServer`]) serves it,
    /// so one scrape sees them all and no part's metrics are left unserved.
    pub fn metrics_registry(&self) -> &prometheus::Registry {
        &self.metrics
    }

    /// Whether a configuration was named (`--config` or `AKASH_INCENTIVES_CONFIG`): read-only
    /// commands can do without one.
    pub fn has_config(&self) -> bool {
        self.config_path.is_some()
    }

    /// Loads and validates the configuration named by `--config`, with environment overrides.
    pub fn config(&self) -> anyhow::Result<settings::Config> {
        let path = self.config_path.as_ref().ok_or_else(|| {
            UsageError(
                "no configuration given: pass --config FILE or set AKASH_INCENTIVES_CONFIG".into(),
            )
        })?;
        Ok(settings::load(
            path,
            &settings::Environment::from_process(),
        )?)
    }

    /// The database URL: `--database-url`, else the configuration (which already applied
    /// `AKASH_INCENTIVES_DATABASE_URL` / `DATABASE_URL`), else those variables alone.
    pub fn database_url(&self) -> anyhow::Result<DatabaseUrl> {
        let raw = match (&self.database_url_flag, &self.config_path) {
            (Some(flag), _) => flag.clone(),
            (None, Some(_)) => self.config()?.database_url,
            (None, None) => settings::Environment::from_process()
                .database_url()
                .ok_or_else(|| {
                    UsageError(
                        "no database given: pass --database-url or --config, or set \
                         AKASH_INCENTIVES_DATABASE_URL"
                            .into(),
                    )
                })?,
        };
        DatabaseUrl::parse(&raw).map_err(|e| UsageError(e.to_string()).into())
    }

    /// Opens the store and applies pending migrations.
    pub fn store(&self) -> anyhow::Result<Store> {
        let url = self.database_url()?;
        Store::open(&url).with_context(|| format!("cannot open the store at {url}"))
    }

    /// Opens the store without migrating it.
    pub fn store_unmigrated(&self) -> anyhow::Result<Store> {
        let url = self.database_url()?;
        Store::connect(&url).with_context(|| format!("cannot open the store at {url}"))
    }

    /// A multi-threaded tokio runtime for the commands that talk to the network.
    pub fn runtime(&self) -> anyhow::Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")
    }
}
