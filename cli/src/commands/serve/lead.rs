//! Leading: of the `serve` processes sharing one database, the one holding the database's lock
//! for the chain ([`store::leader`]) indexes and settles. The others only probe, and try for the lock every
//! few seconds, so one of them takes over once the leader stops or dies.

use std::sync::Arc;
use std::time::Duration;

use indexer::follow::{self, FollowOptions, ProgressMode};
use store::leader::Leadership;
use store::Store;
use tokio::sync::watch;
use tracing::{info, warn};

use super::tasks::{pause_unless_stopped, stopped, supervise, Task};
use super::Daemon;

/// How often a follower asks for the lead.
const ASK_EVERY: Duration = Duration::from_secs(5);
/// How often the leader checks that it still holds the lock (a PostgreSQL lock goes with its
/// connection).
const CHECK_EVERY: Duration = Duration::from_secs(10);

/// Takes the lead whenever it is free and leads until `stop` is raised or the lock is lost.
pub(super) async fn lead(daemon: Arc<Daemon>, mut stop: watch::Receiver<bool>) {
    let mut said_following = false;
    loop {
        if *stop.borrow() {
            return;
        }
        let url = daemon.url.clone();
        // One indexer per chain and database: the cursor is the chain's.
        let scope = daemon.config.chain.chain_id.clone();
        let taken = tokio::task::spawn_blocking(move || Leadership::try_take(&url, &scope)).await;
        match taken {
            Ok(Ok(Some(leadership))) => {
                said_following = false;
                lead_while_held(&daemon, leadership, stop.clone()).await;
            }
            Ok(Ok(None)) => {
                if !said_following {
                    info!("another process leads this database: this one probes only until it can lead");
                    said_following = true;
                }
            }
            Ok(Err(e)) => {
                daemon.process.count_failure(Task::Lead.name());
                warn!(
                    error = format!("{e:#}"),
                    "cannot ask the database for the lead; asking again"
                );
            }
            Err(e) => {
                daemon.process.count_failure(Task::Lead.name());
                warn!(error = %e, "asking for the lead failed; asking again");
            }
        }
        if !pause_unless_stopped(&mut stop, ASK_EVERY).await {
            return;
        }
    }
}

/// Runs the indexer and settlement while `leadership` holds, and stops them (waiting for what
/// they hold to be stored) before letting it go.
async fn lead_while_held(
    daemon: &Arc<Daemon>,
    leadership: Leadership,
    stop: watch::Receiver<bool>,
) {
    daemon.process.set_leader(true);
    info!(
        programme = daemon.config.name,
        "this process leads: it indexes and settles"
    );
    let (step_down, leading) = watch::channel(false);
    let index = tokio::spawn(index(daemon.clone(), leading.clone()));
    let settle = tokio::spawn(super::settle::settle(daemon.clone(), leading));
    let mut held = Some(leadership);
    loop {
        tokio::select! {
            () = stopped(stop.clone()) => break,
            () = tokio::time::sleep(CHECK_EVERY) => {
                let Some(mut lease) = held.take() else { break };
                let checked = tokio::task::spawn_blocking(move || (lease.still_held(), lease)).await;
                match checked {
                    Ok((true, lease)) => held = Some(lease),
                    Ok((false, lease)) => {
                        held = Some(lease);
                        warn!("the lead was lost with its database connection: indexing and settling stop");
                        break;
                    }
                    Err(e) => {
                        warn!(error = %e, "cannot check the lead: indexing and settling stop");
                        break;
                    }
                }
            }
        }
    }
    step_down.send_replace(true);
    let _ = (index.await, settle.await);
    daemon.process.set_leader(false);
    drop(held);
}

/// The indexer in follow mode, restarted after failures (an RPC outage, a database error).
async fn index(daemon: Arc<Daemon>, stop: watch::Receiver<bool>) {
    let options = FollowOptions {
        follow: true,
        progress: ProgressMode::Log,
        ..super::super::index::follow_options(&daemon.config.chain, daemon.poll)
    };
    supervise(Task::Index, &daemon.process, stop.clone(), || {
        let (daemon, options, stop) = (daemon.clone(), options.clone(), stop.clone());
        async move {
            let url = daemon.url.clone();
            let store = tokio::task::spawn_blocking(move || Store::open(&url)).await??;
            follow::run(
                store,
                daemon.rpc.clone(),
                options,
                daemon.indexer.clone(),
                stopped(stop),
            )
            .await?;
            anyhow::Ok(())
        }
    })
    .await;
}
