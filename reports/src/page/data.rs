//! What the page shows, read back from the published folders with this crate's own readers:
//! each covered epoch's `manifest.json` ([`read_manifest`]), and the latest epoch's
//! `allocations` and `inputs` tables ([`table::read`], both forms, which must agree). Nothing
//! comes from a database, so the page is a function of the published files alone.
//!
//! Amounts stay integers (`u128`) here; only the charts turn them into pixels.

use std::collections::BTreeMap;
use std::path::Path;

use rewards::ledger::Reason;

use crate::allocations::ALLOCATIONS;
use crate::bundle::{epoch_folder, published_epochs, read_manifest, sha256_hex, Manifest};
use crate::inputs::INPUTS;
use crate::table::{self, Columns, TableError};

/// How many providers a pool's ranking shows.
pub const TOP_PROVIDERS: usize = 10;

/// The uptime histogram's buckets: tenths of the window, the last one closed (`[90 %, 100 %]`).
pub const UPTIME_BUCKETS: usize = 10;

/// Everything the page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageData {
    /// The programme, as its manifests name it.
    pub programme: String,
    /// The chain it pays on.
    pub chain_id: String,
    /// Each covered epoch's closing balance per pool, epoch 0 first, contiguous.
    pub balances: Vec<EpochBalances>,
    /// Published epochs the page leaves out because an earlier epoch is missing.
    pub beyond_gap: Vec<u32>,
    /// The last covered epoch, in detail.
    pub latest: LatestEpoch,
}

/// One epoch's closing balances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochBalances {
    /// The epoch.
    pub epoch: u32,
    /// Per pool (by name), the ledger's `closing` in base units.
    pub closing: BTreeMap<String, u128>,
}

/// The latest covered epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestEpoch {
    /// Its manifest.
    pub manifest: Manifest,
    /// SHA-256 of its `manifest.json` bytes: what the next epoch will chain to.
    pub manifest_sha256: String,
    /// The payout denom of its line items, when it has any.
    pub denom: Option<String>,
    /// Per pool of the manifest's totals, the providers allocated the most.
    pub top_providers: BTreeMap<String, Ranking>,
    /// How many measured providers fall in each tenth of uptime.
    pub uptime_buckets: [usize; UPTIME_BUCKETS],
    /// GPU time per class, in class order.
    pub classes: Vec<ClassHours>,
}

/// A pool's providers by what they were allocated in the epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ranking {
    /// At most [`TOP_PROVIDERS`] (provider, amount in base units), largest first, ties by
    /// address.
    pub shown: Vec<(String, u128)>,
    /// How many providers were allocated more than nothing.
    pub of: usize,
}

/// One class's measured GPU time in the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassHours {
    /// The class.
    pub class: String,
    /// GPU-ms leased, over its providers.
    pub leased_gpu_ms: u128,
    /// GPU-ms online, over its providers.
    pub online_gpu_ms: u128,
    /// How many providers were measured in it.
    pub providers: usize,
}

/// Reads what the page shows from the programme folder `folder` (`DIR/<programme>`).
///
/// The page covers epochs `0..=K` for the largest `K` such that every one of them is
/// published: manifests chain to their predecessors, so an epoch after a missing one cannot
/// be told apart from a forgery without it (`report` never publishes one; someone may have
/// removed a folder). The epochs beyond the gap are listed, not shown.
///
/// # Errors
/// When no `epoch-0` folder is there, or a covered manifest or the latest epoch's tables
/// cannot be read.
pub fn gather(folder: &Path) -> Result<PageData, TableError> {
    let published = published_epochs(folder)?;
    let covered = published
        .iter()
        .zip(0u32..)
        .take_while(|(k, expected)| *k == expected)
        .count();
    if covered == 0 {
        return Err(TableError::file(
            &epoch_folder(folder, 0),
            "is missing: the page shows epochs from epoch 0 on",
        ));
    }
    let beyond_gap = published[covered..].to_vec();
    let mut balances = Vec::with_capacity(covered);
    let mut last = None;
    for &epoch in &published[..covered] {
        let epoch_dir = epoch_folder(folder, epoch);
        let (bytes, manifest) = read_manifest(&epoch_dir)?;
        if manifest.epoch != epoch {
            return Err(TableError::file(
                &epoch_dir.join(crate::bundle::MANIFEST_FILE),
                format!(
                    "names epoch {}, but the folder is epoch-{epoch}",
                    manifest.epoch
                ),
            ));
        }
        balances.push(EpochBalances {
            epoch,
            closing: closing_balances(&epoch_dir, &manifest)?,
        });
        last = Some((epoch_dir, bytes, manifest));
    }
    // `covered > 0`, so the loop ran at least once.
    let (latest_dir, bytes, manifest) = last.expect("at least epoch 0");
    let latest = latest_epoch(&latest_dir, &bytes, manifest)?;
    Ok(PageData {
        programme: latest.manifest.programme.clone(),
        chain_id: latest.manifest.chain_id.clone(),
        balances,
        beyond_gap,
        latest,
    })
}

/// Per pool, the manifest's `closing` total.
fn closing_balances(
    epoch_dir: &Path,
    manifest: &Manifest,
) -> Result<BTreeMap<String, u128>, TableError> {
    let path = epoch_dir.join(crate::bundle::MANIFEST_FILE);
    manifest
        .totals
        .iter()
        .map(|(pool, columns)| {
            let text = columns.get("closing").map(String::as_str).unwrap_or("");
            let closing = text.parse::<u128>().map_err(|_| TableError {
                file: path.clone(),
                row: None,
                column: Some(format!("totals.{pool}.closing")),
                problem: format!("{text:?} is not an amount in base units"),
            })?;
            Ok((pool.clone(), closing))
        })
        .collect()
}

fn latest_epoch(
    folder: &Path,
    manifest_bytes: &[u8],
    manifest: Manifest,
) -> Result<LatestEpoch, TableError> {
    let (denom, top_providers) = rank_providers(folder, &manifest)?;
    let (uptime_buckets, classes) = measured(folder)?;
    Ok(LatestEpoch {
        manifest_sha256: sha256_hex(manifest_bytes),
        manifest,
        denom,
        top_providers,
        uptime_buckets,
        classes,
    })
}

/// A non-negative decimal amount from a text cell.
fn amount(columns: &Columns, row: usize, column: &str, text: &str) -> Result<u128, TableError> {
    text.parse()
        .map_err(|_| columns.error(row, column, format!("{text:?} is not an amount")))
}

/// The denom and, per pool of the manifest, the providers ranked by what their `PAID` and
/// `CAPPED` lines (the ledger's `allocated`) gave them.
fn rank_providers(
    folder: &Path,
    manifest: &Manifest,
) -> Result<(Option<String>, BTreeMap<String, Ranking>), TableError> {
    let frame = table::read(&ALLOCATIONS, folder)?;
    let path = folder.join(ALLOCATIONS.csv_file());
    let columns = Columns::new(&frame, &path);
    let allocating = [Reason::Paid.code(), Reason::Capped.code()];
    let mut per_pool: BTreeMap<&str, BTreeMap<&str, u128>> = BTreeMap::new();
    let rows = columns
        .text("pool")?
        .iter()
        .zip(columns.text("provider")?.iter())
        .zip(columns.text("reason")?.iter())
        .zip(columns.text("amount")?.iter())
        .enumerate();
    for (row, (((pool, provider), reason), text)) in rows {
        let (Some(pool), Some(provider), Some(reason), Some(text)) = (pool, provider, reason, text)
        else {
            continue;
        };
        if !allocating.contains(&reason) {
            continue;
        }
        let amount = amount(&columns, row, "amount", text)?;
        let total = per_pool
            .entry(pool)
            .or_default()
            .entry(provider)
            .or_default();
        *total = total
            .checked_add(amount)
            .ok_or_else(|| columns.error(row, "amount", "the provider's sum overflows"))?;
    }
    let denom = columns
        .text("denom")?
        .iter()
        .flatten()
        .next()
        .map(str::to_owned);
    let rankings = manifest
        .totals
        .keys()
        .map(|pool| {
            let amounts = per_pool.remove(pool.as_str()).unwrap_or_default();
            (pool.clone(), ranking(amounts))
        })
        .collect();
    Ok((denom, rankings))
}

/// The providers allocated more than nothing, largest first, ties by address.
fn ranking(amounts: BTreeMap<&str, u128>) -> Ranking {
    let mut paid: Vec<(String, u128)> = amounts
        .into_iter()
        .filter(|(_, amount)| *amount > 0)
        .map(|(provider, amount)| (provider.to_owned(), amount))
        .collect();
    // Stable, and the map gave address order: equal amounts stay in address order.
    paid.sort_by_key(|(_, amount)| std::cmp::Reverse(*amount));
    let of = paid.len();
    paid.truncate(TOP_PROVIDERS);
    Ranking { shown: paid, of }
}

/// The uptime histogram over measured providers (each once) and the GPU time per class, from
/// the `inputs` table.
fn measured(folder: &Path) -> Result<([usize; UPTIME_BUCKETS], Vec<ClassHours>), TableError> {
    let frame = table::read(&INPUTS, folder)?;
    let path = folder.join(INPUTS.csv_file());
    let columns = Columns::new(&frame, &path);
    let mut uptime: BTreeMap<&str, i64> = BTreeMap::new();
    let mut classes: BTreeMap<&str, ClassHours> = BTreeMap::new();
    let rows = columns
        .text("class")?
        .iter()
        .zip(columns.text("provider")?.iter())
        .zip(columns.text("leased_gpu_ms")?.iter())
        .zip(columns.text("online_gpu_ms")?.iter())
        .zip(columns.int("uptime_ppm")?.iter())
        .enumerate();
    for (row, ((((class, provider), leased), online), ppm)) in rows {
        // The required columns have no nulls: `table::read` checked them.
        let (Some(provider), Some(leased), Some(online), Some(ppm)) =
            (provider, leased, online, ppm)
        else {
            continue;
        };
        if !(0..=1_000_000).contains(&ppm) {
            return Err(columns.error(row, "uptime_ppm", format!("{ppm} is not 0 to 1000000")));
        }
        // A provider's uptime is one number, repeated on each of its rows.
        uptime.insert(provider, ppm);
        let Some(class) = class else { continue };
        let leased = amount(&columns, row, "leased_gpu_ms", leased)?;
        let online = amount(&columns, row, "online_gpu_ms", online)?;
        let hours = classes.entry(class).or_insert_with(|| ClassHours {
            class: class.to_owned(),
            leased_gpu_ms: 0,
            online_gpu_ms: 0,
            providers: 0,
        });
        hours.leased_gpu_ms = hours.leased_gpu_ms.saturating_add(leased);
        hours.online_gpu_ms = hours.online_gpu_ms.saturating_add(online);
        hours.providers += 1;
    }
    let mut buckets = [0; UPTIME_BUCKETS];
    for ppm in uptime.into_values() {
        buckets[uptime_bucket(ppm)] += 1;
    }
    Ok((buckets, classes.into_values().collect()))
}

/// The bucket of an uptime in millionths (`0..=1_000_000`): `[0, 10 %)` is 0, …, `[90 %,
/// 100 %]` is 9.
pub fn uptime_bucket(ppm: i64) -> usize {
    usize::try_from(ppm / 100_000)
        .unwrap_or(0)
        .min(UPTIME_BUCKETS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_buckets_are_tenths_with_full_uptime_in_the_last() {
        assert_eq!(uptime_bucket(0), 0);
        assert_eq!(uptime_bucket(99_999), 0);
        assert_eq!(uptime_bucket(100_000), 1);
        assert_eq!(uptime_bucket(899_999), 8);
        assert_eq!(uptime_bucket(900_000), 9);
        assert_eq!(uptime_bucket(1_000_000), 9);
    }

    #[test]
    fn a_ranking_keeps_the_largest_ten_ties_by_address_and_counts_all_paid() {
        let names: Vec<String> = (0..13).map(|i| format!("akash1p{i:02}")).collect();
        let mut amounts: BTreeMap<&str, u128> = BTreeMap::new();
        for (i, name) in names.iter().enumerate() {
            amounts.insert(name, if i < 3 { 0 } else { 100 + (i as u128 % 4) });
        }
        let r = ranking(amounts);
        assert_eq!(r.of, 10, "the three zeros are not ranked");
        assert_eq!(r.shown.len(), 10);
        assert_eq!(r.shown[0], ("akash1p03".to_owned(), 103));
        assert_eq!(r.shown[1], ("akash1p07".to_owned(), 103));
        assert!(r.shown.windows(2).all(|w| w[0].1 >= w[1].1));
        assert_eq!(ranking(BTreeMap::new()), Ranking::default());
    }
}
