//! The indexer's progress: the cursor per chain id, and the blocks that could not be fetched.
//!
//! The cursor means "every height up to here is in the store, or recorded as unavailable". It
//! lives with the store rather than with the indexer so that everything that reports progress
//! (`db status`, readiness, settlement's "is the epoch's data complete") reads one definition.

use diesel::prelude::*;
use domain::Height;

use crate::schema::{blocks, indexer_cursor, indexer_rejections};
use crate::{AnyConnection, StoreError};

/// The reason code of a block the RPC endpoints answered for but could not serve (missing,
/// unreadable, or always failing), recorded so the gap is visible and can be re-fetched.
pub const BLOCK_UNAVAILABLE: &str = "block_unavailable";

/// The `tx_index` of block-level rejections.
const BLOCK_LEVEL: i32 = -1;

/// The last height committed for `chain_id`, if any.
pub fn read_cursor(conn: &mut AnyConnection, chain_id: &str) -> Result<Option<Height>, StoreError> {
    let height: Option<i64> = indexer_cursor::table
        .filter(indexer_cursor::chain_id.eq(chain_id))
        .select(indexer_cursor::height)
        .first(conn)
        .optional()?;
    height.map(stored_height).transpose()
}

/// Every chain id's cursor, ordered by chain id.
pub fn cursors(conn: &mut AnyConnection) -> Result<Vec<(String, Height)>, StoreError> {
    let rows: Vec<(String, i64)> = indexer_cursor::table
        .select((indexer_cursor::chain_id, indexer_cursor::height))
        .order(indexer_cursor::chain_id)
        .load(conn)?;
    rows.into_iter()
        .map(|(chain_id, height)| Ok((chain_id, stored_height(height)?)))
        .collect()
}

/// Moves the cursor of `chain_id` to `last` after the blocks `first..=last` were committed.
///
/// It only moves when the batch continues from it (`first <= cursor + 1`), and never down: a run
/// started with `--from` above the cursor leaves it where it is until the gap is filled, and
/// re-fetching an old gap does not rewind it.
pub fn advance_cursor(
    conn: &mut AnyConnection,
    chain_id: &str,
    first: Height,
    last: Height,
    now_ms: i64,
) -> Result<(), StoreError> {
    let current: Option<i64> = indexer_cursor::table
        .filter(indexer_cursor::chain_id.eq(chain_id))
        .select(indexer_cursor::height)
        .first(conn)
        .optional()?;
    let last = last.stored();
    match current {
        None => {
            diesel::insert_into(indexer_cursor::table)
                .values((
                    indexer_cursor::chain_id.eq(chain_id),
                    indexer_cursor::height.eq(last),
                    indexer_cursor::updated_at_ms.eq(now_ms),
                ))
                .execute(conn)?;
        }
        Some(current) if current < last && first.stored() <= current.saturating_add(1) => {
            diesel::update(indexer_cursor::table)
                .filter(indexer_cursor::chain_id.eq(chain_id))
                .set((
                    indexer_cursor::height.eq(last),
                    indexer_cursor::updated_at_ms.eq(now_ms),
                ))
                .execute(conn)?;
        }
        Some(_) => {}
    }
    Ok(())
}

/// Whether the block at `height` is in the store already.
pub fn is_indexed(conn: &mut AnyConnection, height: Height) -> Result<bool, StoreError> {
    let found: Option<i64> = blocks::table
        .filter(blocks::height.eq(height.stored()))
        .select(blocks::height)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Records that `height` could not be fetched (replacing an earlier record of the same gap).
pub fn record_unavailable(
    conn: &mut AnyConnection,
    height: Height,
    detail: &str,
) -> Result<(), StoreError> {
    clear_unavailable(conn, &[height])?;
    diesel::insert_into(indexer_rejections::table)
        .values((
            indexer_rejections::height.eq(height.stored()),
            indexer_rejections::tx_index.eq(BLOCK_LEVEL),
            indexer_rejections::seq.eq(0),
            indexer_rejections::reason.eq(BLOCK_UNAVAILABLE),
            indexer_rejections::detail.eq(detail),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes the records of gaps at `heights`, once those blocks have been fetched after all
/// (one statement for a whole batch).
pub fn clear_unavailable(conn: &mut AnyConnection, heights: &[Height]) -> Result<(), StoreError> {
    let (Some(&low), Some(&high)) = (heights.iter().min(), heights.iter().max()) else {
        return Ok(());
    };
    let heights: Vec<i64> = heights.iter().map(|h| h.stored()).collect();
    diesel::delete(
        indexer_rejections::table
            .filter(indexer_rejections::reason.eq(BLOCK_UNAVAILABLE))
            .filter(indexer_rejections::height.between(low.stored(), high.stored()))
            .filter(indexer_rejections::height.eq_any(heights)),
    )
    .execute(conn)?;
    Ok(())
}

/// Heights of recorded gaps, lowest first: what `index --from H --to H` can re-fetch.
pub fn unavailable_heights(conn: &mut AnyConnection) -> Result<Vec<Height>, StoreError> {
    let heights: Vec<i64> = indexer_rejections::table
        .filter(indexer_rejections::reason.eq(BLOCK_UNAVAILABLE))
        .select(indexer_rejections::height)
        .order(indexer_rejections::height)
        .load(conn)?;
    heights.into_iter().map(stored_height).collect()
}

/// A height column's value; the store never writes a negative one, so one is corruption.
fn stored_height(height: i64) -> Result<Height, StoreError> {
    Height::from_stored(height).map_err(|_| StoreError::Corrupt {
        what: "a block height".into(),
        problem: format!("{height} is negative"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(height: u64) -> Height {
        Height::new(height).unwrap()
    }

    fn cursor_moves_only_forward_and_only_without_gaps(store: &mut crate::Store) {
        let conn = store.conn();
        assert_eq!(read_cursor(conn, "c").unwrap(), None);
        advance_cursor(conn, "c", h(100), h(149), 1).unwrap();
        assert_eq!(read_cursor(conn, "c").unwrap(), Some(h(149)));
        advance_cursor(conn, "c", h(150), h(199), 2).unwrap();
        assert_eq!(read_cursor(conn, "c").unwrap(), Some(h(199)));
        // An old gap re-fetched: the cursor does not move back.
        advance_cursor(conn, "c", h(120), h(120), 3).unwrap();
        assert_eq!(read_cursor(conn, "c").unwrap(), Some(h(199)));
        // A run that starts above the cursor: it stays until the gap is filled.
        advance_cursor(conn, "c", h(300), h(349), 4).unwrap();
        assert_eq!(read_cursor(conn, "c").unwrap(), Some(h(199)));
        // Another chain id has its own cursor.
        assert_eq!(read_cursor(conn, "other").unwrap(), None);
        assert_eq!(cursors(conn).unwrap(), vec![("c".to_string(), h(199))]);
    }

    fn gaps_are_recorded_once_and_cleared(store: &mut crate::Store) {
        let conn = store.conn();
        record_unavailable(conn, h(7), "node answered null").unwrap();
        record_unavailable(conn, h(7), "again").unwrap();
        record_unavailable(conn, h(3), "x").unwrap();
        assert_eq!(unavailable_heights(conn).unwrap(), vec![h(3), h(7)]);
        clear_unavailable(conn, &[h(7), h(9)]).unwrap();
        assert_eq!(unavailable_heights(conn).unwrap(), vec![h(3)]);
        assert!(!is_indexed(conn, h(3)).unwrap());
    }

    crate::on_both_backends!(
        cursor_moves_only_forward_and_only_without_gaps,
        gaps_are_recorded_once_and_cleared
    );
}
