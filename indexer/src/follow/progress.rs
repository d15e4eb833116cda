//! How a run shows its progress: a bar with blocks per second and time left when a person is
//! watching (stderr is a terminal), otherwise one log line per committed batch.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing::info;

/// Where progress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar on a terminal stderr, log lines otherwise.
    Auto,
    /// Log lines only.
    Log,
}

/// What one committed batch did, as progress sees it.
pub(crate) struct BatchReport {
    pub(crate) first_height: u64,
    pub(crate) last_height: u64,
    pub(crate) blocks: u64,
    pub(crate) txs: u64,
    pub(crate) unavailable: u64,
    pub(crate) apply: Duration,
}

pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    start: u64,
    started: Instant,
    blocks_done: u64,
}

impl Progress {
    /// Starts reporting a run of `start..=end` (the end grows in follow mode).
    pub(crate) fn new(mode: ProgressMode, start: u64, end: u64) -> Self {
        let bar = (mode == ProgressMode::Auto && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(end.saturating_sub(start) + 1),
                ProgressDrawTarget::stderr(),
            );
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} blocks \
                 {per_sec} ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Self {
            bar,
            start,
            started: Instant::now(),
            blocks_done: 0,
        }
    }

    /// The chain head moved: the run now ends at `end`.
    pub(crate) fn extend_to(&self, end: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(end.saturating_sub(self.start) + 1);
        }
    }

    /// A batch was committed.
    pub(crate) fn batch(&mut self, report: &BatchReport, head: u64) {
        self.blocks_done += report.blocks + report.unavailable;
        match &self.bar {
            Some(bar) => {
                bar.inc(report.blocks + report.unavailable);
                bar.set_message(format!("height {}", report.last_height));
            }
            None => {
                let secs = self.started.elapsed().as_secs_f64().max(1e-9);
                let rate = self.blocks_done as f64 / secs;
                info!(
                    first = report.first_height,
                    last = report.last_height,
                    blocks = report.blocks,
                    txs = report.txs,
                    unavailable = report.unavailable,
                    apply_ms = report.apply.as_millis() as u64,
                    blocks_per_s = format!("{rate:.0}"),
                    behind = head.saturating_sub(report.last_height),
                    "committed batch"
                );
            }
        }
    }

    /// The run is over.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
