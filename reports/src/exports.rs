//! CSV exports of the indexed chain.
//!
//! The column names are a public interface (community scripts and our own acceptance checks read
//! them), so they are constants here and never change silently. An empty field means null. Rows
//! come in primary-key order, so the same database always gives the same bytes.

use std::collections::BTreeMap;
use std::io::Write;

use domain::gpu::provider_gpu_models;
use store::{chain, AnyConnection, StoreError};

use crate::material::{leases_frame, LEASES};
use crate::table::{self, TableError};
use thiserror::Error;

/// The columns of `export providers`, in order.
pub const PROVIDER_COLUMNS: [&str; 6] = [
    "owner",
    "host_uri",
    "gpu_models",
    "created_height",
    "updated_height",
    "deleted_height",
];

/// Why an export failed.
#[derive(Debug, Error)]
pub enum ExportError {
    /// Reading the store failed; the store's error (and its cause) follow in the chain.
    #[error("cannot read the store")]
    Store(#[from] StoreError),
    /// Writing the CSV failed.
    #[error("cannot write the CSV: {0}")]
    Csv(#[from] csv::Error),
    /// Encoding the leases table failed.
    #[error(transparent)]
    Table(#[from] TableError),
    /// Flushing the output failed.
    #[error("cannot write the CSV: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes every lease as CSV to `out` (the columns of the published
/// [`crate::material::LEASES`] table) and returns how many rows were written.
pub fn write_leases(conn: &mut AnyConnection, mut out: impl Write) -> Result<u64, ExportError> {
    let rows = chain::leases(conn)?;
    let mut frame = leases_frame(&rows);
    out.write_all(&table::write_csv(&LEASES, &mut frame)?)?;
    out.flush()?;
    Ok(rows.len() as u64)
}

/// Writes every provider as CSV to `out` and returns how many rows were written.
///
/// `gpu_models` lists, sorted and `;`-joined, the models named by the provider's
/// `capabilities/gpu/vendor/<vendor>/model/<model>[/…]` attributes with a true value, as its last
/// create or update left them: a deleted provider keeps what it advertised just before.
pub fn write_providers(conn: &mut AnyConnection, out: impl Write) -> Result<u64, ExportError> {
    let rows = chain::providers(conn)?;
    let mut current: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (owner, key, value) in chain::current_provider_attributes(conn)? {
        current.entry(owner).or_default().push((key, value));
    }
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(PROVIDER_COLUMNS)?;
    for row in &rows {
        let advertised = match row.deleted_height {
            Some(deleted) => chain::provider_attributes_at(conn, &row.owner, deleted - 1)?,
            None => current.remove(&row.owner).unwrap_or_default(),
        };
        writer.write_record([
            row.owner.clone(),
            row.host_uri.clone(),
            provider_gpu_models(advertised.iter().map(|(k, v)| (k.as_str(), v.as_str()))).join(";"),
            optional(&row.created_height),
            optional(&row.updated_height),
            optional(&row.deleted_height),
        ])?;
    }
    writer.flush()?;
    Ok(rows.len() as u64)
}

fn optional<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map(ToString::to_string).unwrap_or_default()
}
