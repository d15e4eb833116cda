//! The indexing pipeline: fetch, decode, apply, commit.
//!
//! ```text
//!  heights ──► fetch + decode tasks (bounded, across endpoints)
//!                      │ in height order, a batch at a time
//!                      ▼
//!  apply thread: batch of blocks + cursor ──► one store transaction
//! ```
//!
//! * Up to `fetch_concurrency` blocks are fetched at once, spread over the endpoints by
//!   [`RpcClient`]; each is decoded as soon as it arrives (blocks with many transactions on the
//!   blocking pool, off the async threads).
//! * Results are handed to the apply thread strictly in height order, `batch_size` blocks at
//!   a time (fewer after `flush_after` when the head is near). It applies a batch and moves the
//!   cursor in **one** transaction, so a crash at any point
//!   (even `kill -9`) leaves the store at a batch boundary: a restart resumes after the cursor
//!   and ends with exactly the database an uninterrupted run gives, without gap or duplicate.
//!   Blocks already in the store (a re-run with `--from`) are not applied twice.
//! * A block the nodes answer for but cannot serve, after every retry, is recorded as a
//!   [`BLOCK_UNAVAILABLE`] rejection at its height and the run goes on; `index --from H --to H`
//!   re-fetches it later (the cursor never moves down). An unreachable node is different: the
//!   run stops with the error and resumes from the cursor next time.
//! * With `follow`, the pipeline polls the head every `poll_interval` once it has caught up.

mod progress;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use store::{Store, StoreError};
use thiserror::Error;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug_span, info, info_span, warn, Instrument};

pub use progress::ProgressMode;
pub use store::cursor::BLOCK_UNAVAILABLE;

use domain::{Height, HeightError};
use store::cursor;

use self::progress::{BatchReport, Progress};
use crate::decode::{self, ApplySummary, DecodeOptions, DecodedBlock};
use crate::metrics::IndexerMetrics;
use crate::rpc::{RpcClient, RpcError};

/// Blocks with at most this many transactions are decoded on the fetching task itself.
const INLINE_DECODE_MAX_TXS: usize = 8;

/// Decoded batches that may wait for the apply thread.
const BATCHES_QUEUED: usize = 4;

/// What to index and how.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// The chain id the cursor is kept under.
    pub chain_id: String,
    /// Where to start when the store has no cursor and no `from` is given.
    pub start_height: u64,
    /// Start here instead of after the cursor.
    pub from: Option<u64>,
    /// Stop after this height.
    pub to: Option<u64>,
    /// Keep polling the head after catching up.
    pub follow: bool,
    /// Blocks fetched at once.
    pub fetch_concurrency: usize,
    /// Blocks per transaction.
    pub batch_size: usize,
    /// How long a partly filled batch waits for more blocks before it is committed anyway, so
    /// a run that keeps up with the head commits promptly.
    pub flush_after: Duration,
    /// How often the head is polled once caught up (`follow` only).
    pub poll_interval: Duration,
    /// Progress display.
    pub progress: ProgressMode,
    /// What the decoder needs besides the block (the watched wallets).
    pub decode: DecodeOptions,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowReport {
    /// The first height the run looked at (`None` when there was nothing to do).
    pub first_height: Option<u64>,
    /// The last height committed.
    pub last_height: Option<u64>,
    /// Blocks applied.
    pub blocks_applied: u64,
    /// Blocks skipped because the store had them already.
    pub blocks_already_indexed: u64,
    /// Heights recorded as [`BLOCK_UNAVAILABLE`].
    pub unavailable_heights: Vec<u64>,
    /// Transactions in the applied blocks.
    pub transactions: u64,
    /// Rejections recorded by the decoder.
    pub rejections: u64,
    /// Whether the run ended because it was asked to stop.
    pub interrupted: bool,
}

/// Why a run stopped early. Everything committed before it stays committed.
#[derive(Debug, Error)]
pub enum FollowError {
    /// The range asked for is empty.
    #[error("--from {from} is above --to {to}")]
    EmptyRange {
        /// The start.
        from: u64,
        /// The end.
        to: u64,
    },
    /// The nodes could not be used.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// The store failed.
    #[error("store error: {0}")]
    Store(#[from] StoreError),
    /// A height beyond what the store holds (no real chain gets there).
    #[error(transparent)]
    Height(#[from] HeightError),
    /// Applying a block failed.
    #[error("cannot apply block {height}: {source}")]
    Apply {
        /// The block.
        height: u64,
        /// Why.
        source: decode::ApplyError,
    },
    /// A worker task failed (a bug: decoding and applying do not panic).
    #[error("internal error: {0}")]
    Worker(String),
}

/// Store writes inside a transaction fail with diesel's error; the pipeline reports them as the
/// store's.
impl From<diesel::result::Error> for FollowError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Store(StoreError::Query(error))
    }
}

/// A block as the apply thread receives it.
enum Item {
    Decoded(Box<DecodedBlock>),
    Unavailable { height: u64, detail: String },
}

impl Item {
    fn height(&self) -> u64 {
        match self {
            Self::Decoded(block) => block.height,
            Self::Unavailable { height, .. } => *height,
        }
    }
}

/// Runs the pipeline until the range is done, `shutdown` resolves, or an error stops it.
///
/// The store is moved to the apply thread for the run.
pub async fn run(
    store: Store,
    rpc: Arc<RpcClient>,
    options: FollowOptions,
    metrics: IndexerMetrics,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<FollowReport, FollowError> {
    let options = Arc::new(options);
    let (store, cursor) = {
        let chain_id = options.chain_id.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = store;
            let cursor = cursor::read_cursor(store.conn(), &chain_id);
            (store, cursor)
        })
        .await
        .map_err(|e| FollowError::Worker(e.to_string()))?
    };
    let cursor = cursor?.map(Height::get);
    if let Some(cursor) = cursor {
        metrics
            .indexed_height
            .set(i64::try_from(cursor).unwrap_or(i64::MAX));
    }
    let Some((start, head)) = plan(&rpc, &options, cursor).await? else {
        return Ok(FollowReport::default());
    };
    let progress = Progress::new(options.progress, start, options.last_wanted(head));
    // A few batches of slack, so a slow commit (a WAL checkpoint) does not stall fetching.
    let (sender, receiver) = mpsc::channel::<Vec<Item>>(BATCHES_QUEUED);
    let applier = {
        let options = options.clone();
        let metrics = metrics.clone();
        tokio::task::spawn_blocking(move || {
            apply_loop(store, receiver, &options, &metrics, progress)
        })
    };
    let produced = produce(&rpc, &options, start, head, sender, shutdown).await;
    let applied = applier
        .await
        .map_err(|e| FollowError::Worker(e.to_string()))?;
    let mut report = applied?;
    report.interrupted = produced?;
    report.first_height = Some(start);
    Ok(report)
}

impl FollowOptions {
    /// How long a partly filled batch waits for more blocks: short enough that a follower at
    /// the head commits each new block within a second, long enough to group a burst.
    pub const FLUSH_AFTER: Duration = Duration::from_millis(500);

    /// The options for indexing `chain_id` from the cursor (or `start_height`) to the head,
    /// once, with a progress display. Zero concurrency, batch size or poll interval would
    /// stall the pipeline, so each is raised to its least working value (1, 1, 1 ms). Set
    /// `from`, `to`, `follow` and `progress` afterwards to change the range or mode.
    pub fn new(
        chain_id: String,
        start_height: u64,
        fetch_concurrency: usize,
        batch_size: usize,
        poll_interval: Duration,
        decode: DecodeOptions,
    ) -> Self {
        Self {
            chain_id,
            start_height,
            from: None,
            to: None,
            follow: false,
            fetch_concurrency: fetch_concurrency.max(1),
            batch_size: batch_size.max(1),
            flush_after: Self::FLUSH_AFTER,
            poll_interval: poll_interval.max(Duration::from_millis(1)),
            progress: ProgressMode::Auto,
            decode,
        }
    }

    /// The last height to fetch while the head is at `head`.
    fn last_wanted(&self, head: u64) -> u64 {
        self.to.map_or(head, |to| to.min(head))
    }
}

/// Where the run starts and the head it sees, or `None` when there is nothing to do.
async fn plan(
    rpc: &RpcClient,
    options: &FollowOptions,
    cursor: Option<u64>,
) -> Result<Option<(u64, u64)>, FollowError> {
    let start = options
        .from
        .or(cursor.map(|c| c + 1))
        .unwrap_or(options.start_height)
        .max(1);
    if let Some(to) = options.to.filter(|to| start > *to) {
        if options.from.is_some() {
            return Err(FollowError::EmptyRange { from: start, to });
        }
        info!(cursor = ?cursor, to, "already indexed up to --to; nothing to do");
        return Ok(None);
    }
    let status = rpc.status().await?;
    if start < status.earliest_height {
        return Err(RpcError::Pruned {
            height: start,
            lowest: status.earliest_height,
        }
        .into());
    }
    let head = status.latest_height;
    if let Some(to) = options.to.filter(|to| *to > head && !options.follow) {
        warn!(
            to,
            head, "the chain head is below --to; indexing up to the head (use --follow to wait)"
        );
    }
    if let Some(cursor) = cursor.filter(|c| start > c.saturating_add(1)) {
        warn!(
            cursor,
            start,
            "starting above the cursor leaves heights {}..={} unindexed; the cursor stays at \
             {cursor} until a run without --from fills them",
            cursor + 1,
            start - 1
        );
    }
    info!(start, head, to = ?options.to, follow = options.follow, "indexing");
    Ok(Some((start, head)))
}

/// Fetches and decodes `start..` with bounded concurrency and hands the blocks to the apply
/// thread in height order, a whole batch at a time (one wake-up per batch, not per block); in
/// follow mode, polls the head once caught up. Returns whether it stopped because `shutdown`
/// resolved. Whatever was fetched in order before it stops is still handed over.
async fn produce(
    rpc: &Arc<RpcClient>,
    options: &Arc<FollowOptions>,
    start: u64,
    mut head: u64,
    sender: mpsc::Sender<Vec<Item>>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<bool, FollowError> {
    let batch_size = options.batch_size.max(1);
    let mut window: VecDeque<JoinHandle<Result<Item, FollowError>>> = VecDeque::new();
    let mut batch: Vec<Item> = Vec::with_capacity(batch_size);
    // When the oldest block of the open batch arrived: a partly filled batch is committed
    // `flush_after` later, so a run that keeps up with the head commits promptly.
    let mut batch_opened: Option<tokio::time::Instant> = None;
    let mut next = start;
    let mut shutdown = std::pin::pin!(shutdown);
    let mut polls_failed = 0u32;
    let outcome = loop {
        while window.len() < options.fetch_concurrency.max(1) && next <= options.last_wanted(head) {
            window.push_back(tokio::spawn(fetch_and_decode(
                rpc.clone(),
                next,
                options.clone(),
            )));
            next += 1;
        }
        let Some(oldest) = window.front_mut() else {
            if !hand_over(&sender, &mut batch, &mut batch_opened).await {
                break Ok(false);
            }
            if !options.follow || options.to.is_some_and(|to| next > to) {
                break Ok(false);
            }
            // Caught up: wait, then look for new blocks; back off while the nodes fail.
            let pause = (options.poll_interval * 2u32.pow(polls_failed.min(5)))
                .min(Duration::from_secs(60).max(options.poll_interval));
            tokio::select! {
                () = &mut shutdown => break Ok(true),
                () = tokio::time::sleep(pause) => {}
            }
            match rpc.status().await {
                Ok(status) => {
                    polls_failed = 0;
                    head = head.max(status.latest_height);
                }
                Err(error) => {
                    polls_failed += 1;
                    warn!(%error, "cannot read the chain head; will retry");
                }
            }
            continue;
        };
        let flush_at = batch_opened.map(|opened| opened + options.flush_after);
        let joined = tokio::select! {
            () = &mut shutdown => break Ok(true),
            () = sleep_until_some(flush_at) => {
                if !hand_over(&sender, &mut batch, &mut batch_opened).await {
                    break Ok(false);
                }
                continue;
            }
            joined = oldest => joined,
        };
        window.pop_front();
        match joined {
            Ok(Ok(item)) => batch.push(item),
            Ok(Err(error)) => break Err(error),
            Err(join) => break Err(FollowError::Worker(join.to_string())),
        }
        batch_opened.get_or_insert_with(tokio::time::Instant::now);
        if batch.len() >= batch_size && !hand_over(&sender, &mut batch, &mut batch_opened).await {
            break Ok(false);
        }
    };
    for pending in window {
        pending.abort();
    }
    // Blocks already fetched in order are committed even when stopping.
    hand_over(&sender, &mut batch, &mut batch_opened).await;
    outcome
}

/// Sends the open batch to the apply thread; `false` when that thread has stopped (the caller
/// reports its error).
async fn hand_over(
    sender: &mpsc::Sender<Vec<Item>>,
    batch: &mut Vec<Item>,
    opened: &mut Option<tokio::time::Instant>,
) -> bool {
    *opened = None;
    if batch.is_empty() {
        return true;
    }
    let full = std::mem::replace(batch, Vec::with_capacity(batch.capacity()));
    sender.send(full).await.is_ok()
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until_some(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Fetches one block, then decodes it on the blocking pool.
async fn fetch_and_decode(
    rpc: Arc<RpcClient>,
    height: u64,
    options: Arc<FollowOptions>,
) -> Result<Item, FollowError> {
    async move {
        let fetched = match rpc.fetch_block(height).await {
            Ok(fetched) => fetched,
            Err(error) if error.is_unservable_height() => {
                warn!(height, %error, "block unavailable; recording it and going on");
                return Ok(Item::Unavailable {
                    height,
                    detail: error.to_string(),
                });
            }
            Err(error) => return Err(error.into()),
        };
        let inline = fetched.block.txs().len() <= INLINE_DECODE_MAX_TXS;
        let decode = move || {
            decode::decode_block(
                &fetched.block,
                &fetched.results,
                fetched.version,
                &options.decode,
            )
        };
        // Most blocks hold a few transactions and decode in microseconds: handing them to
        // another thread would cost more than decoding them here. Larger ones go to the
        // blocking pool, so a heavy block never stalls the async threads.
        let decoded = if inline {
            decode()
        } else {
            tokio::task::spawn_blocking(decode)
                .await
                .map_err(|e| FollowError::Worker(e.to_string()))?
        };
        Ok(Item::Decoded(Box::new(decoded)))
    }
    .instrument(debug_span!("block", height))
    .await
}

/// The apply thread: commits each batch, in height order, in one transaction.
fn apply_loop(
    mut store: Store,
    mut receiver: mpsc::Receiver<Vec<Item>>,
    options: &FollowOptions,
    metrics: &IndexerMetrics,
    mut progress: Progress,
) -> Result<FollowReport, FollowError> {
    let mut report = FollowReport::default();
    while let Some(batch) = receiver.blocking_recv() {
        let batch_report = commit_batch(&mut store, &batch, options, metrics)?;
        report.last_height = Some(batch_report.last_height);
        report.blocks_applied += batch_report.blocks;
        report.transactions += batch_report.txs;
        report.blocks_already_indexed += batch_report.already_indexed;
        report.rejections += batch_report.rejections;
        report
            .unavailable_heights
            .extend(batch.iter().filter_map(|item| match item {
                Item::Unavailable { height, .. } => Some(*height),
                Item::Decoded(_) => None,
            }));
        let head = u64::try_from(metrics.chain_head_height.get()).unwrap_or(0);
        progress.extend_to(options.last_wanted(head));
        progress.batch(&batch_report.report, head);
    }
    progress.finish();
    Ok(report)
}

struct Committed {
    report: BatchReport,
    last_height: u64,
    blocks: u64,
    txs: u64,
    already_indexed: u64,
    rejections: u64,
}

/// Applies one batch and moves the cursor, all in one transaction, then updates the metrics.
fn commit_batch(
    store: &mut Store,
    batch: &[Item],
    options: &FollowOptions,
    metrics: &IndexerMetrics,
) -> Result<Committed, FollowError> {
    let first = batch.first().map_or(0, Item::height);
    let last = batch.last().map_or(0, Item::height);
    let span = info_span!("batch", first, last, blocks = batch.len());
    let _entered = span.enter();
    let started = Instant::now();
    let now_ms = unix_now_ms();
    let applied = store.transaction(|conn| {
        let mut applied: Vec<(&DecodedBlock, ApplySummary)> = Vec::with_capacity(batch.len());
        let mut unavailable = 0u64;
        let mut already_indexed = 0u64;
        let fetched = batch
            .iter()
            .filter_map(|item| match item {
                Item::Decoded(block) => Some(Height::new(block.height)),
                Item::Unavailable { .. } => None,
            })
            .collect::<Result<Vec<Height>, HeightError>>()?;
        cursor::clear_unavailable(conn, &fetched)?;
        for item in batch {
            match item {
                Item::Decoded(block) => {
                    let summary =
                        decode::apply_block(conn, block).map_err(|source| FollowError::Apply {
                            height: block.height,
                            source,
                        })?;
                    if summary.already_applied {
                        already_indexed += 1;
                    } else {
                        applied.push((block, summary));
                    }
                }
                Item::Unavailable { height, detail } => {
                    // A block stored by an earlier run is not a gap, even if it cannot be
                    // fetched now.
                    let height = Height::new(*height)?;
                    if cursor::is_indexed(conn, height)? {
                        already_indexed += 1;
                    } else {
                        cursor::record_unavailable(conn, height, detail)?;
                        unavailable += 1;
                    }
                }
            }
        }
        let (first, last) = (Height::new(first)?, Height::new(last)?);
        cursor::advance_cursor(conn, &options.chain_id, first, last, now_ms)?;
        Ok::<_, FollowError>((applied, unavailable, already_indexed))
    });
    let (applied, unavailable, already_indexed) = applied?;
    let apply = started.elapsed();
    metrics.batch_apply_seconds.observe(apply.as_secs_f64());
    metrics
        .indexed_height
        .set(i64::try_from(last).unwrap_or(i64::MAX));
    let mut txs = 0u64;
    let mut rejections = 0u64;
    for (block, summary) in &applied {
        txs += u64::from(block.tx_count);
        rejections += summary.rejections as u64;
        record_block_metrics(metrics, block, summary);
    }
    if let Some(newest) = batch.iter().rev().find_map(|item| match item {
        Item::Decoded(block) => Some(block.time_ms),
        Item::Unavailable { .. } => None,
    }) {
        metrics.indexed_block_timestamp.set(newest.div_euclid(1000));
    }
    metrics.blocks_processed.inc_by(applied.len() as u64);
    metrics.transactions_processed.inc_by(txs);
    if unavailable > 0 {
        metrics.record_decode_failures(BLOCK_UNAVAILABLE, unavailable);
    }
    Ok(Committed {
        report: BatchReport {
            first_height: first,
            last_height: last,
            blocks: applied.len() as u64,
            txs,
            unavailable,
            apply,
        },
        last_height: last,
        blocks: applied.len() as u64,
        txs,
        already_indexed,
        rejections,
    })
}

/// Counts a block's rejections per reason and its unknown messages per type URL.
fn record_block_metrics(metrics: &IndexerMetrics, block: &DecodedBlock, summary: &ApplySummary) {
    let mut per_reason: std::collections::BTreeMap<&str, u64> = Default::default();
    let reasons = block
        .rejections
        .iter()
        .map(|r| r.reason)
        .chain(summary.apply_rejections.iter().copied());
    for reason in reasons {
        *per_reason.entry(reason.as_str()).or_default() += 1;
    }
    for (reason, count) in per_reason {
        metrics.record_decode_failures(reason, count);
    }
    for (type_url, count) in &block.unknown_messages {
        metrics.record_unknown_messages(type_url, u64::from(*count));
    }
}

fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_take_the_configuration_and_raise_zeros_to_working_values() {
        let options = FollowOptions::new(
            "akashnet-2".into(),
            15_400_000,
            16,
            100,
            Duration::from_secs(3),
            DecodeOptions::watching(["akash1wallet".to_string()]),
        );
        assert_eq!(options.chain_id, "akashnet-2");
        assert_eq!(options.start_height, 15_400_000);
        assert_eq!(
            (options.from, options.to, options.follow),
            (None, None, false)
        );
        assert_eq!(options.fetch_concurrency, 16);
        assert_eq!(options.batch_size, 100);
        assert_eq!(options.flush_after, Duration::from_millis(500));
        assert_eq!(options.poll_interval, Duration::from_secs(3));
        assert_eq!(options.progress, ProgressMode::Auto);
        assert!(options.decode.watched_wallets.contains("akash1wallet"));

        let zeros = FollowOptions::new(
            "akashnet-2".into(),
            1,
            0,
            0,
            Duration::ZERO,
            DecodeOptions::default(),
        );
        assert_eq!(zeros.fetch_concurrency, 1);
        assert_eq!(zeros.batch_size, 1);
        assert_eq!(zeros.poll_interval, Duration::from_millis(1));
    }
}
