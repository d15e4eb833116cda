//! `report.html`: one page a person would rather look at than a folder of CSV files — the
//! pools' balances across epochs, the top providers per pool, the uptime distribution, the
//! GPU-hours per class, the totals, the Merkle root and the manifest's hash.
//!
//! **Where it lives.** `DIR/<programme>/report.html`, beside the `epoch-<K>/` folders and in
//! none of them. An epoch folder is immutable and every byte of it is hashed into its
//! manifest; the page shows the latest manifest's SHA-256, so it cannot be inside that hash's
//! input, and it changes with every new epoch. It is a view of the evidence, not evidence:
//! `verify` ignores it, and nothing on it is needed to check anything.
//!
//! **What it is made from.** Only the published folders, read back with this crate's own
//! readers ([`data`]): each epoch's `manifest.json`, the latest epoch's `allocations` and
//! `inputs`. So anyone holding the folders can make the page again
//! (`akash-incentives report page DIR/<programme>`), and `report` rewrites it after every
//! publication. It covers epochs `0..=K`, every one of them published; epochs after a
//! missing one are named but not shown (see [`data::gather`]).
//!
//! **Deterministic.** No clock, no random ids, rows in a fixed order, charts drawn from the
//! data alone ([`charts`]): the same folders give the same bytes, so a second `report` leaves
//! the page as it was.
//!
//! **Self-contained.** One file: CSS in a `<style>` element, charts as inline SVG, text in
//! the browser's own sans-serif font; no script, no external resource of any kind
//! ([`html`]).

pub mod charts;
pub mod data;
pub mod html;

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::atomic::{write_atomically, AtomicWriteError};
use crate::bundle::Published;
use crate::table::TableError;

/// The page's file name, in the programme folder.
pub const PAGE_FILE: &str = "report.html";

/// Why the page could not be made or written.
#[derive(Debug, Error)]
pub enum PageError {
    /// A published file could not be read.
    #[error(transparent)]
    Read(#[from] TableError),
    /// A chart could not be drawn.
    #[error("cannot draw the {chart} chart: {problem}")]
    Chart {
        /// Which chart.
        chart: &'static str,
        /// Why.
        problem: String,
    },
    /// The page could not be written; the old page, if any, is still whole.
    #[error("cannot write {}", path.display())]
    Write {
        /// The page.
        path: PathBuf,
        /// Why.
        source: AtomicWriteError<std::io::Error>,
    },
}

/// The page of the programme folder `folder` (`DIR/<programme>`), as HTML.
///
/// # Errors
/// When the published files cannot be read ([`data::gather`]) or a chart cannot be drawn.
pub fn render(folder: &Path) -> Result<String, PageError> {
    html::render(&data::gather(folder)?)
}

/// What [`write_page`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageWritten {
    /// The page's path.
    pub path: PathBuf,
    /// Written, or already holding exactly these bytes (and left alone).
    pub outcome: Published,
    /// The latest epoch it shows (it shows every epoch from 0 to this one).
    pub latest: u32,
}

/// Makes the page of `folder` and publishes it as `folder/report.html` atomically
/// ([`write_atomically`]); a page that already holds the same bytes is left untouched.
///
/// # Errors
/// As [`render`], and when the file cannot be written.
pub fn write_page(folder: &Path) -> Result<PageWritten, PageError> {
    let data = data::gather(folder)?;
    let page = html::render(&data)?;
    let path = folder.join(PAGE_FILE);
    let latest = data.latest.manifest.epoch;
    if std::fs::read(&path).is_ok_and(|existing| existing == page.as_bytes()) {
        return Ok(PageWritten {
            path,
            outcome: Published::Unchanged,
            latest,
        });
    }
    write_atomically(&path, |out| out.write_all(page.as_bytes())).map_err(|source| {
        PageError::Write {
            path: path.clone(),
            source,
        }
    })?;
    Ok(PageWritten {
        path,
        outcome: Published::Written,
        latest,
    })
}

#[cfg(test)]
mod tests;
