//! How the daemon's tasks run: until asked to stop, restarted after each failure.

use std::future::Future;
use std::time::Duration;

use telemetry::process::ProcessMetrics;
use tokio::sync::watch;
use tracing::{info, warn};

/// The daemon's tasks, named as in logs and in the failure metric's `task` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Task {
    /// Taking and keeping the lead.
    Lead,
    /// Following the chain.
    Index,
    /// Sealing epochs and publishing their reports.
    Settle,
    /// Probing providers.
    Probe,
}

impl Task {
    pub(super) fn name(self) -> &'static str {
        match self {
            Task::Lead => "lead",
            Task::Index => "index",
            Task::Settle => "settle",
            Task::Probe => "probe",
        }
    }
}

/// The first pause after a failure; it doubles with each failure in a row.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
/// The longest pause between attempts: an outage of hours is retried every minute.
const LONGEST_PAUSE: Duration = Duration::from_secs(60);
/// An attempt that ran this long before failing counts as having worked: the pause starts
/// again from [`FIRST_PAUSE`].
const HEALTHY_RUN: Duration = Duration::from_secs(120);

/// Runs `attempt` until `stop` is raised: an attempt that fails (or ends by itself) is logged,
/// counted and started again after a pause. Returns once `stop` is raised and the attempt in
/// hand has returned.
pub(super) async fn supervise<F, Fut>(
    task: Task,
    process: &ProcessMetrics,
    mut stop: watch::Receiver<bool>,
    mut attempt: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut pause = FIRST_PAUSE;
    loop {
        let started = tokio::time::Instant::now();
        let outcome = attempt().await;
        if *stop.borrow() {
            if let Err(e) = outcome {
                warn!(
                    task = task.name(),
                    error = format!("{e:#}"),
                    "the task failed while stopping"
                );
            }
            return;
        }
        if started.elapsed() >= HEALTHY_RUN {
            pause = FIRST_PAUSE;
        }
        match outcome {
            Ok(()) => info!(
                task = task.name(),
                "the task ended by itself; starting it again"
            ),
            Err(e) => {
                process.count_failure(task.name());
                warn!(
                    task = task.name(),
                    error = format!("{e:#}"),
                    retry_in = %humantime::format_duration(pause),
                    "the task failed; it is retried"
                );
            }
        }
        if !pause_unless_stopped(&mut stop, pause).await {
            return;
        }
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// Waits `pause`; false when `stop` was raised meanwhile (or its sender is gone).
pub(super) async fn pause_unless_stopped(
    stop: &mut watch::Receiver<bool>,
    pause: Duration,
) -> bool {
    tokio::select! {
        raised = stop.wait_for(|stop| *stop) => {
            let _ = raised;
            false
        }
        () = tokio::time::sleep(pause) => true,
    }
}

/// Resolves once `stop` is raised (never, if its sender is gone without raising it).
pub(super) async fn stopped(mut stop: watch::Receiver<bool>) {
    if stop.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}
