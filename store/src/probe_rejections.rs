//! Reads and writes for `probe_rejections`: the lines a `probe import` read but did not store,
//! each with its line number, reason code, detail and raw text, under the import that read it.
//!
//! Writing is idempotent on `(import_id, line)`, so a retried batch cannot duplicate a row.

use diesel::prelude::*;

use crate::schema::probe_rejections;
use crate::{AnyConnection, Store, StoreError};

/// One rejected line of one import.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = probe_rejections)]
pub struct ProbeRejectionRow {
    /// The import that read the line (unique per run of `probe import`).
    pub import_id: String,
    /// 1-based line number in the input.
    pub line: i64,
    /// Where the input came from: the file's path as given, or `-` for standard input.
    pub source: String,
    /// Why it was not stored, as a stable code (`unknown_provider`, `malformed`, …).
    pub reason: String,
    /// What exactly was wrong.
    pub detail: String,
    /// The line as read (see the migration for how unprintable bytes are kept).
    pub raw: String,
    /// When the import recorded it, unix milliseconds.
    pub recorded_at_ms: i64,
}

/// Stores `rows` in one transaction; rows already stored under their key are left as they are.
pub fn insert_probe_rejections(
    store: &mut Store,
    rows: &[ProbeRejectionRow],
) -> Result<(), StoreError> {
    store.transaction(|conn| {
        // One statement a row: diesel has no multi-row `ON CONFLICT DO NOTHING` for SQLite, and
        // inside one transaction the rows cost little each.
        for row in rows {
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(probe_rejections::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(c))?;
        }
        Ok(())
    })
}

/// The rejected lines, of one import when `import_id` is given, ordered by import and line.
pub fn probe_rejections(
    conn: &mut AnyConnection,
    import_id: Option<&str>,
) -> Result<Vec<ProbeRejectionRow>, StoreError> {
    let mut query = probe_rejections::table
        .select(ProbeRejectionRow::as_select())
        .order((probe_rejections::import_id, probe_rejections::line))
        .into_boxed();
    if let Some(id) = import_id {
        query = query.filter(probe_rejections::import_id.eq(id.to_owned()));
    }
    Ok(query.load(conn)?)
}
