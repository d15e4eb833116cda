//! Settlement's Prometheus metrics (`akash_incentives_settlement_*`): where the programme stands
//! after its last sealed epoch, read back from the store, and how each seal went.
//!
//! Amounts are in base units of the payout denom, as gauges of floating-point numbers: a
//! dashboard plots them, and an `f64` holds every amount below 2⁵³ base units (9 billion AKT)
//! exactly. What is paid is never read from a metric: the store and the reports are the
//! record.
//!
//! Labels are pools (three at most) and contracts (the programme's own list). Per-provider
//! series (uptime, GPUs reported online and amount earned, one each per provider) are made only
//! when `metrics.per_provider` asks for them, because a programme's providers are many.

use std::collections::BTreeMap;

use prometheus::core::Collector;
use prometheus::{GaugeVec, Histogram, HistogramOpts, IntCounter, IntGauge, Opts, Registry};
use rewards::uptime::Uptime;
use rewards::vesting::Position;
use rust_decimal::prelude::ToPrimitive as _;
use store::Store;
use telemetry::{metric_name, MetricSet};

use crate::{next_epoch, pool_name, PoolSummary, SealedEpoch, SettlementConfig, SettlementError};

/// The part every settlement metric name carries.
const PART: &str = "settlement";

/// Every settlement metric, cheap to clone.
#[derive(Clone)]
pub struct SettlementMetrics {
    last_sealed_epoch: IntGauge,
    next_epoch_end: IntGauge,
    grace: IntGauge,
    epochs_sealed: IntCounter,
    settle_seconds: Histogram,
    pool_balance: GaugeVec,
    pool_allocated: GaugeVec,
    pool_returned: GaugeVec,
    pool_clawed_back: GaugeVec,
    vesting: GaugeVec,
    provider_uptime: Histogram,
    contract_uptime: GaugeVec,
    contract_sla: GaugeVec,
    per_provider: Option<PerProvider>,
}

/// The opt-in series with one value per provider.
#[derive(Clone)]
struct PerProvider {
    uptime: GaugeVec,
    gpus: GaugeVec,
    earned: GaugeVec,
}

impl SettlementMetrics {
    /// Creates the metrics, with the per-provider series when `per_provider`, and registers them
    /// on `registry`. `grace_seconds` is published as is, so that the overdue alert can compare
    /// with the configured grace instead of a copy of it.
    ///
    /// # Errors
    /// When a metric of the same name is already registered there.
    pub fn register(
        registry: &Registry,
        per_provider: bool,
        grace_seconds: u64,
    ) -> Result<Self, prometheus::Error> {
        let name = |n: &str| metric_name(PART, n);
        let gauges =
            |n: &str, help: &str, label: &str| GaugeVec::new(Opts::new(name(n), help), &[label]);
        let ratio_buckets = vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0];
        let metrics = Self {
            last_sealed_epoch: IntGauge::new(
                name("last_sealed_epoch"),
                "Index of the last sealed epoch; -1 before the first.",
            )?,
            next_epoch_end: IntGauge::new(
                name("next_epoch_end_timestamp_seconds"),
                "Unix time at which the first unsealed epoch ends; 0 once every epoch is sealed.",
            )?,
            grace: IntGauge::new(
                name("grace_seconds"),
                "How long an ended epoch may stay unsealed (settle.grace).",
            )?,
            epochs_sealed: IntCounter::new(
                name("epochs_sealed_total"),
                "Epochs this process sealed.",
            )?,
            settle_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    name("settle_duration_seconds"),
                    "Time to measure, settle and seal one epoch.",
                )
                .buckets(vec![0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0]),
            )?,
            pool_balance: gauges(
                "pool_balance_base_units",
                "Pool balance after the last sealed epoch, in base units.",
                "pool",
            )?,
            pool_allocated: gauges(
                "pool_allocated_base_units",
                "Allocated to providers over every sealed epoch, in base units.",
                "pool",
            )?,
            pool_returned: gauges(
                "pool_returned_base_units",
                "Returned to the community pool over every sealed epoch, in base units.",
                "pool",
            )?,
            pool_clawed_back: gauges(
                "pool_clawed_back_base_units",
                "Unvested amounts clawed back over every sealed epoch, in base units.",
                "pool",
            )?,
            vesting: gauges(
                "vesting_base_units",
                "Totals over every provider at the end of the last sealed epoch, by state \
                 (earned, vested, unvested, clawed_back, paid, claimable, overpaid), in base \
                 units.",
                "state",
            )?,
            provider_uptime: Histogram::with_opts(
                HistogramOpts::new(
                    name("provider_uptime_ratio"),
                    "Each measured provider's uptime in each epoch sealed by this process.",
                )
                .buckets(ratio_buckets),
            )?,
            contract_uptime: gauges(
                "contract_uptime_ratio",
                "Uptime of each committed contract's provider in the last sealed epoch.",
                "contract",
            )?,
            contract_sla: gauges(
                "contract_sla_uptime_ratio",
                "The uptime each committed contract promises (its SLA).",
                "contract",
            )?,
            per_provider: if per_provider {
                Some(PerProvider {
                    uptime: gauges(
                        "provider_uptime_last_epoch_ratio",
                        "Each provider's uptime in the last epoch sealed by this process.",
                        "provider",
                    )?,
                    gpus: gauges(
                        "provider_reported_gpus",
                        "GPUs each provider reported online for most of the last epoch sealed by \
                         this process, over its classes.",
                        "provider",
                    )?,
                    earned: gauges(
                        "provider_earned_base_units",
                        "Each provider's earnings over every sealed epoch, in base units.",
                        "provider",
                    )?,
                })
            } else {
                None
            },
        };
        metrics
            .grace
            .set(i64::try_from(grace_seconds).unwrap_or(i64::MAX));
        metrics.last_sealed_epoch.set(-1);
        metrics.register_on(registry)?;
        Ok(metrics)
    }

    /// Sets the standing of the programme from the store: the last sealed epoch, when the next
    /// one ends, pool totals over the sealed epochs, and vesting totals at the end of the last
    /// sealed epoch (paid counts transfers from `watched_wallets`). Run at start and after each
    /// seal, so a restart shows the same figures as before it.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub fn refresh(
        &self,
        store: &mut Store,
        config: &SettlementConfig,
        watched_wallets: &[String],
    ) -> Result<(), SettlementError> {
        let calendar = &config.programme.calendar;
        let sealed = next_epoch(store, config)?;
        let next_end = if sealed < calendar.epochs {
            calendar.window(sealed)?.end_ms().0.div_euclid(1000)
        } else {
            0
        };
        self.next_epoch_end.set(next_end);
        let mut totals: Vec<PoolSummary> = Vec::new();
        let mut last: Vec<PoolSummary> = Vec::new();
        for epoch in 0..sealed {
            let rows = store::settlement::pool_ledgers(store.conn(), config.name, int(epoch)?)?;
            last = rows
                .iter()
                .map(PoolSummary::try_from)
                .collect::<Result<_, _>>()?;
            for pool in &last {
                match totals.iter_mut().find(|t| t.pool == pool.pool) {
                    Some(t) => {
                        t.allocated += pool.allocated;
                        t.returned += pool.returned;
                        t.clawed_back += pool.clawed_back;
                    }
                    None => totals.push(*pool),
                }
            }
        }
        for pool in &last {
            self.pool_balance
                .with_label_values(&[pool_name(pool.pool).as_str()])
                .set(amount(pool.closing));
        }
        for total in &totals {
            let pool = pool_name(total.pool);
            let pool = [pool.as_str()];
            self.pool_allocated
                .with_label_values(&pool)
                .set(amount(total.allocated));
            self.pool_returned
                .with_label_values(&pool)
                .set(amount(total.returned));
            self.pool_clawed_back
                .with_label_values(&pool)
                .set(amount(total.clawed_back));
        }
        if let Some(contracts) = &config.programme.committed {
            for contract in &contracts.contracts {
                self.contract_sla
                    .with_label_values(&[contract.id.as_str()])
                    .set(contract.sla_uptime.to_f64().unwrap_or(0.0));
            }
        }
        if let Some(last_sealed) = sealed.checked_sub(1) {
            let at_ms = calendar.window(last_sealed)?.end_ms().0;
            let positions = crate::positions(
                store.conn(),
                config.name,
                config.programme,
                watched_wallets,
                at_ms,
            )?;
            self.set_vesting(positions.values());
            if let Some(per_provider) = &self.per_provider {
                for (provider, position) in &positions {
                    per_provider
                        .earned
                        .with_label_values(&[provider.as_str()])
                        .set(amount(position.earned.0));
                }
            }
        }
        // Last, so that a scrape showing the new epoch shows every figure that goes with it.
        self.last_sealed_epoch.set(i64::from(sealed) - 1);
        Ok(())
    }

    /// Records an epoch this process has just sealed, and how long it took.
    pub fn record_sealed(&self, sealed: &SealedEpoch, config: &SettlementConfig, seconds: f64) {
        self.epochs_sealed.inc();
        self.settle_seconds.observe(seconds);
        let providers = &sealed.measured.measurements.providers;
        for (provider, measured) in providers {
            let uptime = ratio(measured.uptime);
            self.provider_uptime.observe(uptime);
            if let Some(per_provider) = &self.per_provider {
                let label = [provider.as_str()];
                per_provider.uptime.with_label_values(&label).set(uptime);
                let gpus: u64 = measured.classes.values().map(|c| c.reported_gpus).sum();
                per_provider.gpus.with_label_values(&label).set(gpus as f64);
            }
        }
        if let Some(contracts) = &config.programme.committed {
            for contract in &contracts.contracts {
                let uptime = providers
                    .get(&contract.provider)
                    .map_or(0.0, |m| ratio(m.uptime));
                self.contract_uptime
                    .with_label_values(&[contract.id.as_str()])
                    .set(uptime);
            }
        }
    }

    fn set_vesting<'a>(&self, positions: impl Iterator<Item = &'a Position>) {
        let mut sums: BTreeMap<&'static str, u128> = BTreeMap::new();
        for position in positions {
            for (state, part) in position.named() {
                let sum = sums.entry(state).or_default();
                *sum = sum.saturating_add(part.0);
            }
        }
        for (state, sum) in sums {
            self.vesting.with_label_values(&[state]).set(amount(sum));
        }
    }
}

impl MetricSet for SettlementMetrics {
    fn collectors(&self) -> Vec<Box<dyn Collector>> {
        let mut all: Vec<Box<dyn Collector>> = vec![
            Box::new(self.last_sealed_epoch.clone()),
            Box::new(self.next_epoch_end.clone()),
            Box::new(self.grace.clone()),
            Box::new(self.epochs_sealed.clone()),
            Box::new(self.settle_seconds.clone()),
            Box::new(self.pool_balance.clone()),
            Box::new(self.pool_allocated.clone()),
            Box::new(self.pool_returned.clone()),
            Box::new(self.pool_clawed_back.clone()),
            Box::new(self.vesting.clone()),
            Box::new(self.provider_uptime.clone()),
            Box::new(self.contract_uptime.clone()),
            Box::new(self.contract_sla.clone()),
        ];
        if let Some(per_provider) = &self.per_provider {
            all.push(Box::new(per_provider.uptime.clone()));
            all.push(Box::new(per_provider.gpus.clone()));
            all.push(Box::new(per_provider.earned.clone()));
        }
        all
    }
}

/// An amount in base units as a gauge value (exact below 2⁵³).
fn amount(base_units: u128) -> f64 {
    base_units as f64
}

/// An uptime as a fraction between 0 and 1.
fn ratio(uptime: Uptime) -> f64 {
    match uptime.window_ms() {
        0 => 0.0,
        window => uptime.online_ms() as f64 / window as f64,
    }
}

fn int(epoch: u32) -> Result<i32, SettlementError> {
    crate::rows::int(epoch, "epoch")
}
