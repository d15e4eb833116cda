//! The leader's settlement task: seal each epoch once its data is complete (`settle.auto`),
//! keep the settlement metrics current, and publish every sealed epoch's bundle
//! (`reports.out`).
//!
//! An epoch's data is complete when its window ended `settle.delay` ago (time for the last
//! probe round and for other vantage points' imports) and the indexer has stored a block at or
//! after its end ([`settlement::SettlementError::NotIndexed`] until then). A recorded chain
//! that stops early therefore settles the epochs it covers and waits for the rest.

use std::sync::Arc;
use std::time::{Duration, Instant};

use settlement::{next_epoch, settle_epoch, EpochOutcome, Mode, SettlementConfig, SettlementError};
use store::Store;
use tokio::sync::watch;
use tracing::info;

use super::tasks::{pause_unless_stopped, supervise, Task};
use super::Daemon;
use crate::commands::report::Bundle;
use crate::commands::settle::{settlement_config, wall_clock_ms};

/// How often the task looks for an epoch to seal or publish: a query of the sealed epochs'
/// numbers, cheap at any scale.
const LOOK_EVERY: Duration = Duration::from_secs(2);

/// Runs until `stop` is raised; failures (a database error, a full disk, late data that stops a
/// report) are logged, counted and retried.
pub(super) async fn settle(daemon: Arc<Daemon>, stop: watch::Receiver<bool>) {
    supervise(Task::Settle, &daemon.process, stop.clone(), || {
        let (daemon, mut stop) = (daemon.clone(), stop.clone());
        async move {
            let url = daemon.url.clone();
            let mut store = Some(tokio::task::spawn_blocking(move || Store::open(&url)).await??);
            // What the metrics and the reports were last brought up to: none yet.
            let mut done: Option<u32> = None;
            loop {
                let (daemon, watch) = (daemon.clone(), stop.clone());
                let Some(mut held) = store.take() else {
                    unreachable!("the store is handed back after every step");
                };
                let (back, stepped) = tokio::task::spawn_blocking(move || {
                    let stepped = step(&daemon, &mut held, done, &watch);
                    (held, stepped)
                })
                .await?;
                store = Some(back);
                done = Some(stepped?);
                if !pause_unless_stopped(&mut stop, LOOK_EVERY).await {
                    return Ok(());
                }
            }
        }
    })
    .await;
}

/// One look: seals what is due, then, if the number of sealed epochs moved since `done`,
/// refreshes the metrics and publishes the new bundles. Returns the number of sealed epochs
/// now handled.
fn step(
    daemon: &Daemon,
    store: &mut Store,
    done: Option<u32>,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<u32> {
    let config = &daemon.config;
    let settle = settlement_config(config)?;
    if config.settle.auto {
        seal_due(daemon, &settle, store, stop)?;
    }
    let sealed = next_epoch(store, &settle)?;
    if done == Some(sealed) {
        return Ok(sealed);
    }
    daemon
        .settlement
        .refresh(store, &settle, &config.chain.watched_wallets)?;
    if let Some(out) = &config.reports.out {
        let folder = out.join(&config.name);
        let bundle = Bundle {
            settle: &settle,
            chain_id: &config.chain.chain_id,
            programme_toml: &daemon.programme_toml,
            folder: &folder,
        };
        for line in bundle.publish_new(store, sealed)? {
            info!(report = line, "published");
        }
    }
    Ok(sealed)
}

/// Seals, in order, every epoch whose data is complete.
fn seal_due(
    daemon: &Daemon,
    settle: &SettlementConfig,
    store: &mut Store,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let config = &daemon.config;
    let calendar = &config.programme.calendar;
    let delay_ms = i64::try_from(config.settle.delay.as_millis()).unwrap_or(i64::MAX);
    while !*stop.borrow() {
        let next = next_epoch(store, settle)?;
        if next >= calendar.epochs {
            return Ok(());
        }
        let now_ms = wall_clock_ms();
        if calendar.window(next)?.end_ms().0.saturating_add(delay_ms) > now_ms {
            return Ok(());
        }
        let started = Instant::now();
        match settle_epoch(store, settle, next, now_ms, Mode::Seal) {
            Ok(EpochOutcome::Sealed(sealed)) => {
                let seconds = started.elapsed().as_secs_f64();
                daemon.settlement.record_sealed(&sealed, settle, seconds);
                info!(
                    programme = config.name,
                    epoch = next,
                    line_items = sealed.settlement.line_items.len(),
                    inputs_sha256 = sealed.measured.inputs_hash,
                    seconds,
                    "epoch sealed"
                );
            }
            // Another settle run sealed it first; the next look moves on.
            Ok(EpochOutcome::AlreadySealed(_)) => {}
            // The indexer has not passed the epoch's end yet: look again later.
            Err(SettlementError::NotIndexed { .. } | SettlementError::NotEnded { .. }) => {
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
