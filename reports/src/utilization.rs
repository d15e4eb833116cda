//! The quarterly utilization and revenue report (`report utilization`): per GPU class and
//! model, how many GPUs providers offered, how many were online and leased, how many the
//! programme's contracts commit, and what tenants paid for leases — the figures the programme
//! publishes to governance each quarter.
//!
//! Everything is computed from integers, and every rule is stated here so anyone can recompute
//! it from the chain:
//!
//! * **Rows.** One per configured class (its model), then one per model of leases that match
//!   no class (a lease of unknown model has an empty model). Probes are read through the
//!   classes, so unclassed rows carry lease figures only.
//! * **Advertised** GPUs: per provider, the largest count of the class's GPUs any of its probe
//!   observations inside the window reported; summed over providers.
//! * **Online** GPU time: `∫ online GPUs dt` over the window from the probe timeline, with the
//!   settlement's staleness rule (`rewards::uptime::Timeline`); `gpus_online` is its average
//!   over the window.
//! * **Committed** GPUs: the GPUs of the class's contracts whose term meets the window.
//! * **Leased** GPU time: `gpu_units × |[created, closed) ∩ window|` per lease (an open lease
//!   runs to the window's end), by block time, as settlement measures it. Leases of unknown
//!   size are counted in `unsized_leases`, never guessed.
//! * **Utilization** = leased / online GPU time, as a percentage with two decimals rounded half
//!   up; empty when nothing was online.
//! * **Revenue** of a lease in the window = price per block × the blocks it was billed for in
//!   the window. Akash's escrow charges a lease for every block after the one that created it,
//!   up to and including the block that closed it (`rate × (height − settled_at)`), so the
//!   billed heights are `(created_height, closed_height]` (open leases: unbounded), intersected
//!   with the heights of the window — the lowest to the highest indexed height whose block time
//!   lies in `[from, to)`. The price is the chain's `sdk.Dec` with up to 18 decimals; it is kept
//!   exact as an integer of 10⁻¹⁸ base units, so revenue is exact, published with all 18
//!   decimals, per denom (never converted).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use domain::ClassName;
use polars::prelude::DataFrame;
use rewards::calendar::{DurationMs, Window};
use rewards::programme::Programme;
use rewards::uptime::{Timeline, UptimeError};
use settlement::observations::rewards_observations;
use store::chain::{leases_overlapping, LeaseRow};
use store::probes::records_for_window;
use store::settlement::heights_between;
use store::{AnyConnection, StoreError};
use thiserror::Error;

use crate::atomic::write_atomically;
use crate::fixed::{atto_text, atto_units, gpu_hours, ratio};
use crate::table::{write, Cell, ColumnSpec, Kind, TableBuilder, TableError, TableSpec};

/// Why the report could not be made.
#[derive(Debug, Error)]
pub enum UtilizationError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A provider's observations could not be turned into a timeline.
    #[error("uptime of {provider}: {source}")]
    Uptime {
        /// The provider.
        provider: String,
        /// Why.
        source: UptimeError,
    },
    /// A stored lease cannot be priced or measured (a negative price or GPU count, …).
    #[error("stored lease {lease} is unreadable: {problem}")]
    Lease {
        /// The lease id.
        lease: String,
        /// What is wrong.
        problem: String,
    },
}

/// A row's key: the class (none for leases that match no class) and the GPU model (none when
/// unknown).
pub type RowKey = (Option<ClassName>, Option<String>);

/// GPU figures of one class or model over the window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UtilizationRow {
    /// Σ over providers of the largest GPU count an observation in the window reported.
    pub gpus_advertised: u64,
    /// Online GPU time in GPU-ms.
    pub online_gpu_ms: u128,
    /// GPUs of contracts of the class whose term meets the window.
    pub committed_gpus: u64,
    /// Leased GPU time in GPU-ms.
    pub leased_gpu_ms: u128,
    /// Providers with online or leased GPU time in the row.
    pub providers: BTreeSet<String>,
    /// Leases overlapping the window.
    pub leases: u64,
    /// Of them, leases whose GPU count is unknown.
    pub unsized_leases: u64,
}

/// Lease revenue of one class or model in one denom.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevenueRow {
    /// Leases with at least one billed block in the window.
    pub leases: u64,
    /// Σ billed blocks in the window.
    pub blocks: u128,
    /// Σ price × blocks, in 10⁻¹⁸ base units.
    pub revenue_atto: u128,
}

/// The report over one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utilization {
    /// The window.
    pub window: Window,
    /// The lowest and highest indexed heights inside it.
    pub heights: Option<(i64, i64)>,
    /// GPU figures per class and model.
    pub rows: BTreeMap<RowKey, UtilizationRow>,
    /// Revenue per class, model and denom.
    pub revenue: BTreeMap<(RowKey, String), RevenueRow>,
}

/// Computes the report over `window` from the store (see the module docs). Reads only.
pub fn utilization(
    conn: &mut AnyConnection,
    programme: &Programme,
    max_staleness_ms: DurationMs,
    window: Window,
) -> Result<Utilization, UtilizationError> {
    let (from, to) = (window.start_ms().0, window.end_ms().0);
    let classes = &programme.gpu_classes;
    let mut rows: BTreeMap<RowKey, UtilizationRow> = classes
        .iter()
        .map(|c| {
            let key = (Some(c.name.clone()), Some(c.gpu_model.to_string()));
            (key, UtilizationRow::default())
        })
        .collect();
    let class_key = |name: &ClassName| -> RowKey {
        let model = classes
            .iter()
            .find(|c| &c.name == name)
            .map(|c| c.gpu_model.to_string());
        (Some(name.clone()), model)
    };
    // Probes.
    let records = records_for_window(conn, from, to, max_staleness_ms)?;
    let observations = rewards_observations(&records, classes);
    let mut by_provider: BTreeMap<&str, Vec<&rewards::uptime::Observation>> = BTreeMap::new();
    for o in &observations {
        by_provider.entry(&*o.provider).or_default().push(o);
    }
    for (provider, seen) in &by_provider {
        let timeline = Timeline::build(provider, seen.iter().copied(), max_staleness_ms).map_err(
            |source| UtilizationError::Uptime {
                provider: (*provider).to_owned(),
                source,
            },
        )?;
        for class in classes {
            let row = rows.entry(class_key(&class.name)).or_default();
            let online = timeline.online_gpu_ms(&class.name, window);
            let advertised = seen
                .iter()
                .filter(|o| window.contains(o.time_ms))
                .filter_map(|o| o.gpus.as_ref()?.get(&class.name).copied())
                .max()
                .unwrap_or(0);
            row.online_gpu_ms = row.online_gpu_ms.saturating_add(online);
            row.gpus_advertised = row.gpus_advertised.saturating_add(advertised);
            if online > 0 {
                row.providers.insert((*provider).to_owned());
            }
        }
    }
    // Contracts.
    for contract in programme.committed.iter().flat_map(|pool| &pool.contracts) {
        let meets = contract.start_ms.0 < to && contract.end_ms().is_none_or(|end| end.0 > from);
        if meets {
            let row = rows.entry(class_key(&contract.class)).or_default();
            row.committed_gpus = row.committed_gpus.saturating_add(contract.gpus);
        }
    }
    // Leases.
    let heights = heights_between(conn, from, to)?;
    let mut revenue: BTreeMap<(RowKey, String), RevenueRow> = BTreeMap::new();
    for lease in leases_overlapping(conn, from, to)? {
        let key = match classes.iter().find(|c| {
            lease
                .gpu_model
                .as_deref()
                .is_some_and(|m| c.matches(m, lease.gpu_ram.as_deref()))
        }) {
            Some(class) => class_key(&class.name),
            None => (None, lease.gpu_model.clone()),
        };
        let row = rows.entry(key.clone()).or_default();
        row.leases += 1;
        row.providers.insert(lease.id.provider.clone());
        match lease.gpu_units {
            None => row.unsized_leases += 1,
            Some(units) => {
                let units = u128::try_from(units)
                    .map_err(|_| lease_error(&lease, format!("negative GPU count {units}")))?;
                let end = lease.closed_time_ms.unwrap_or(to);
                let ms =
                    window.overlap_ms(domain::UnixMs(lease.created_time_ms), domain::UnixMs(end));
                row.leased_gpu_ms = row
                    .leased_gpu_ms
                    .saturating_add(units.saturating_mul(u128::from(ms)));
            }
        }
        let blocks = billed_blocks(&lease, heights);
        if blocks > 0 {
            let price = atto_units(&lease.price_amount).ok_or_else(|| {
                lease_error(
                    &lease,
                    format!("price {} cannot be billed", lease.price_amount),
                )
            })?;
            let amount = price
                .checked_mul(blocks)
                .ok_or_else(|| lease_error(&lease, "its revenue overflows 128 bits".to_owned()))?;
            let sum = revenue.entry((key, lease.price_denom.clone())).or_default();
            sum.leases += 1;
            sum.blocks += blocks;
            sum.revenue_atto = sum.revenue_atto.checked_add(amount).ok_or_else(|| {
                lease_error(&lease, "the revenue sum overflows 128 bits".to_owned())
            })?;
        }
    }
    Ok(Utilization {
        window,
        heights,
        rows,
        revenue,
    })
}

fn lease_error(lease: &LeaseRow, problem: String) -> UtilizationError {
    UtilizationError::Lease {
        lease: lease.id.to_string(),
        problem,
    }
}

/// The heights of `(created, closed]` (open: unbounded) inside `[low, high]`: the blocks a
/// lease was billed for in the window (see the module docs).
pub fn billed_blocks(lease: &LeaseRow, heights: Option<(i64, i64)>) -> u128 {
    let Some((low, high)) = heights else {
        return 0;
    };
    let first = low.max(lease.created_height.saturating_add(1));
    let last = lease.closed_height.map_or(high, |closed| closed.min(high));
    u128::try_from(last.saturating_sub(first).saturating_add(1)).unwrap_or(0)
}

/// The `utilization` table: one row per class and model (see the module docs).
pub static UTILIZATION: TableSpec = TableSpec {
    name: "utilization",
    columns: &[
        ColumnSpec::required("from", Kind::Text),
        ColumnSpec::required("to", Kind::Text),
        ColumnSpec::optional("class", Kind::Text),
        ColumnSpec::optional("model", Kind::Text),
        ColumnSpec::required("gpus_advertised", Kind::Int),
        ColumnSpec::required("gpus_online", Kind::Text),
        ColumnSpec::required("online_gpu_hours", Kind::Text),
        ColumnSpec::required("committed_gpus", Kind::Int),
        ColumnSpec::required("leased_gpu_hours", Kind::Text),
        ColumnSpec::optional("utilization_pct", Kind::Text),
        ColumnSpec::required("providers", Kind::Int),
        ColumnSpec::required("leases", Kind::Int),
        ColumnSpec::required("unsized_leases", Kind::Int),
    ],
};

/// The `revenue` table: gross lease revenue per class, model and denom, exact in base units.
pub static REVENUE: TableSpec = TableSpec {
    name: "revenue",
    columns: &[
        ColumnSpec::required("from", Kind::Text),
        ColumnSpec::required("to", Kind::Text),
        ColumnSpec::optional("first_height", Kind::Int),
        ColumnSpec::optional("last_height", Kind::Int),
        ColumnSpec::optional("class", Kind::Text),
        ColumnSpec::optional("model", Kind::Text),
        ColumnSpec::required("denom", Kind::Text),
        ColumnSpec::required("leases", Kind::Int),
        ColumnSpec::required("blocks", Kind::Text),
        ColumnSpec::required("revenue", Kind::Text),
    ],
};

/// The Markdown summary's file name.
pub const SUMMARY_FILE: &str = "summary.md";

fn publish_file(path: &Path, bytes: &[u8]) -> Result<(), TableError> {
    write_atomically(path, |out| out.write_all(bytes)).map_err(|e| {
        TableError::io(
            &path.display().to_string(),
            std::io::Error::other(e.to_string()),
        )
    })
}

fn int(value: u64) -> Cell {
    Cell::Int(Some(i64::try_from(value).unwrap_or(i64::MAX)))
}

impl UtilizationRow {
    /// The average number of GPUs online over a window of `window_ms`, two decimals.
    pub fn gpus_online(&self, window_ms: u64) -> String {
        ratio(self.online_gpu_ms, u128::from(window_ms), 2).unwrap_or_default()
    }

    /// Leased / online GPU time as a percentage with two decimals; `None` when nothing was
    /// online.
    pub fn utilization_pct(&self) -> Option<String> {
        ratio(
            self.leased_gpu_ms.saturating_mul(100),
            self.online_gpu_ms,
            2,
        )
    }
}

impl Utilization {
    fn bounds(&self) -> [Cell; 2] {
        [
            Cell::text(self.window.start_ms().to_string()),
            Cell::text(self.window.end_ms().to_string()),
        ]
    }

    /// The [`UTILIZATION`] table.
    pub fn utilization_frame(&self) -> DataFrame {
        let mut table = TableBuilder::new(&UTILIZATION);
        let window_ms = self.window.length_ms();
        for ((class, model), row) in &self.rows {
            let [from, to] = self.bounds();
            table.push([
                from,
                to,
                Cell::opt_text(class.as_ref().map(|c| c.as_str().to_owned())),
                Cell::opt_text(model.clone()),
                int(row.gpus_advertised),
                Cell::text(row.gpus_online(window_ms)),
                Cell::text(gpu_hours(row.online_gpu_ms)),
                int(row.committed_gpus),
                Cell::text(gpu_hours(row.leased_gpu_ms)),
                Cell::opt_text(row.utilization_pct()),
                int(u64::try_from(row.providers.len()).unwrap_or(u64::MAX)),
                int(row.leases),
                int(row.unsized_leases),
            ]);
        }
        table.finish()
    }

    /// The [`REVENUE`] table.
    pub fn revenue_frame(&self) -> DataFrame {
        let mut table = TableBuilder::new(&REVENUE);
        for (((class, model), denom), row) in &self.revenue {
            let [from, to] = self.bounds();
            table.push([
                from,
                to,
                Cell::Int(self.heights.map(|h| h.0)),
                Cell::Int(self.heights.map(|h| h.1)),
                Cell::opt_text(class.as_ref().map(|c| c.as_str().to_owned())),
                Cell::opt_text(model.clone()),
                Cell::text(denom),
                int(row.leases),
                Cell::digits(row.blocks),
                Cell::text(atto_text(row.revenue_atto)),
            ]);
        }
        table.finish()
    }

    /// Writes `utilization` and `revenue` (CSV and Parquet) and `summary.md` into `folder`
    /// (created when missing), each file atomically.
    pub fn publish(&self, folder: &Path, programme: &str) -> Result<(), TableError> {
        std::fs::create_dir_all(folder)
            .map_err(|e| TableError::io(&folder.display().to_string(), e))?;
        for (spec, mut frame) in [
            (&UTILIZATION, self.utilization_frame()),
            (&REVENUE, self.revenue_frame()),
        ] {
            let written = write(spec, &mut frame)?;
            publish_file(&folder.join(spec.csv_file()), &written.csv)?;
            publish_file(&folder.join(spec.parquet_file()), &written.parquet)?;
        }
        publish_file(
            &folder.join(SUMMARY_FILE),
            self.summary_markdown(programme).as_bytes(),
        )
    }

    /// A Markdown summary for a governance post: the window, one line per class and model, and
    /// the revenue per denom.
    pub fn summary_markdown(&self, programme: &str) -> String {
        let mut md = format!(
            "## {programme}: GPU utilization and lease revenue\n\n\
             Window: {} to {} (exclusive)",
            self.window.start_ms(),
            self.window.end_ms()
        );
        if let Some((low, high)) = self.heights {
            md.push_str(&format!(", heights {low} to {high}"));
        }
        md.push_str(
            ".\n\n| class | model | GPUs advertised | GPUs online (avg) | committed GPUs | \
             leased GPU-hours | utilization | providers | leases |\n\
             |---|---|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        let window_ms = self.window.length_ms();
        let dash = || "—".to_owned();
        for ((class, model), row) in &self.rows {
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                class.as_ref().map_or_else(dash, |c| c.as_str().to_owned()),
                model.clone().unwrap_or_else(|| "unknown".to_owned()),
                row.gpus_advertised,
                row.gpus_online(window_ms),
                row.committed_gpus,
                gpu_hours(row.leased_gpu_ms),
                row.utilization_pct()
                    .map_or_else(dash, |p| format!("{p} %")),
                row.providers.len(),
                row.leases,
            ));
        }
        let mut totals: BTreeMap<&str, u128> = BTreeMap::new();
        for ((_, denom), row) in &self.revenue {
            let sum = totals.entry(denom).or_default();
            *sum = sum.saturating_add(row.revenue_atto);
        }
        md.push_str("\n| denom | gross lease revenue (base units) |\n|---|---:|\n");
        for (denom, atto) in totals {
            md.push_str(&format!("| {denom} | {} |\n", atto_text(atto)));
        }
        md.push_str(
            "\nUtilization is leased ÷ online GPU time. Revenue is price per block × blocks \
             billed in the window, exact to 18 decimals.\n",
        );
        md
    }
}
