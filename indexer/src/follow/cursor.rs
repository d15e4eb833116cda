//! The follow pipeline's own rows: the cursor, which blocks are already in the store, and blocks
//! that could not be fetched.

use diesel::prelude::*;
use store::schema::{blocks, indexer_cursor, indexer_rejections};
use store::AnyConnection;

/// The reason code of a block the RPC endpoints answered for but could not serve (missing,
/// unreadable, or always failing), recorded so the gap is visible and can be re-fetched.
pub const BLOCK_UNAVAILABLE: &str = "block_unavailable";

/// The `tx_index` of block-level rejections.
const BLOCK_LEVEL: i32 = -1;

/// The last height committed for `chain_id`, if any.
pub fn read_cursor(conn: &mut AnyConnection, chain_id: &str) -> QueryResult<Option<u64>> {
    let height: Option<i64> = indexer_cursor::table
        .filter(indexer_cursor::chain_id.eq(chain_id))
        .select(indexer_cursor::height)
        .first(conn)
        .optional()?;
    Ok(height.and_then(|h| u64::try_from(h).ok()))
}

/// Moves the cursor of `chain_id` to `last` after the blocks `first..=last` were committed.
///
/// The cursor means "every height up to here is in the store (or recorded as unavailable)", so
/// it only moves when the batch continues from it (`first <= cursor + 1`), and never down: a
/// run started with `--from` above the cursor leaves it where it is until the gap is filled,
/// and re-fetching an old gap does not rewind it.
pub(crate) fn advance_cursor(
    conn: &mut AnyConnection,
    chain_id: &str,
    first: u64,
    last: u64,
    now_ms: i64,
) -> QueryResult<()> {
    let current: Option<i64> = indexer_cursor::table
        .filter(indexer_cursor::chain_id.eq(chain_id))
        .select(indexer_cursor::height)
        .first(conn)
        .optional()?;
    let last = to_i64(last);
    match current {
        None => diesel::insert_into(indexer_cursor::table)
            .values((
                indexer_cursor::chain_id.eq(chain_id),
                indexer_cursor::height.eq(last),
                indexer_cursor::updated_at_ms.eq(now_ms),
            ))
            .execute(conn)
            .map(drop),
        Some(current) if current < last && to_i64(first) <= current.saturating_add(1) => {
            diesel::update(indexer_cursor::table)
                .filter(indexer_cursor::chain_id.eq(chain_id))
                .set((
                    indexer_cursor::height.eq(last),
                    indexer_cursor::updated_at_ms.eq(now_ms),
                ))
                .execute(conn)
                .map(drop)
        }
        Some(_) => Ok(()),
    }
}

/// Whether the block at `height` is in the store already.
pub(crate) fn is_indexed(conn: &mut AnyConnection, height: u64) -> QueryResult<bool> {
    let found: Option<i64> = blocks::table
        .filter(blocks::height.eq(to_i64(height)))
        .select(blocks::height)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Records that `height` could not be fetched (replacing an earlier record of the same gap).
pub(crate) fn record_unavailable(
    conn: &mut AnyConnection,
    height: u64,
    detail: &str,
) -> QueryResult<()> {
    clear_unavailable(conn, &[height])?;
    diesel::insert_into(indexer_rejections::table)
        .values((
            indexer_rejections::height.eq(to_i64(height)),
            indexer_rejections::tx_index.eq(BLOCK_LEVEL),
            indexer_rejections::seq.eq(0),
            indexer_rejections::reason.eq(BLOCK_UNAVAILABLE),
            indexer_rejections::detail.eq(detail),
        ))
        .execute(conn)
        .map(drop)
}

/// Removes the records of gaps at `heights`, once those blocks have been fetched after all
/// (one statement for a whole batch).
pub(crate) fn clear_unavailable(conn: &mut AnyConnection, heights: &[u64]) -> QueryResult<()> {
    let (Some(&low), Some(&high)) = (heights.iter().min(), heights.iter().max()) else {
        return Ok(());
    };
    let heights: Vec<i64> = heights.iter().map(|h| to_i64(*h)).collect();
    diesel::delete(
        indexer_rejections::table
            .filter(indexer_rejections::reason.eq(BLOCK_UNAVAILABLE))
            .filter(indexer_rejections::height.between(to_i64(low), to_i64(high)))
            .filter(indexer_rejections::height.eq_any(heights)),
    )
    .execute(conn)
    .map(drop)
}

/// Heights of recorded gaps, lowest first: what `index --from H --to H` can re-fetch.
pub fn unavailable_heights(conn: &mut AnyConnection) -> QueryResult<Vec<u64>> {
    let heights: Vec<i64> = indexer_rejections::table
        .filter(indexer_rejections::reason.eq(BLOCK_UNAVAILABLE))
        .select(indexer_rejections::height)
        .order(indexer_rejections::height)
        .load(conn)?;
    Ok(heights
        .into_iter()
        .filter_map(|h| u64::try_from(h).ok())
        .collect())
}

/// Heights come from the chain as `u64` and are stored as `BIGINT`; real heights are far below
/// `i64::MAX`, and the pipeline never asks for more than the node's head.
fn to_i64(height: u64) -> i64 {
    i64::try_from(height).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor_moves_only_forward_and_only_without_gaps(store: &mut store::Store) {
        let conn = store.conn();
        assert_eq!(read_cursor(conn, "c").unwrap(), None);
        advance_cursor(conn, "c", 100, 149, 1).unwrap();
        assert_eq!(read_cursor(conn, "c").unwrap(), Some(149));
        advance_cursor(conn, "c", 150, 199, 2).unwrap();
        assert_eq!(read_cursor(conn, "c").unwrap(), Some(199));
        // An old gap re-fetched: the cursor does not move back.
        advance_cursor(conn, "c", 120, 120, 3).unwrap();
        assert_eq!(read_cursor(conn, "c").unwrap(), Some(199));
        // A run that starts above the cursor: it stays until the gap is filled.
        advance_cursor(conn, "c", 300, 349, 4).unwrap();
        assert_eq!(read_cursor(conn, "c").unwrap(), Some(199));
        // Another chain id has its own cursor.
        assert_eq!(read_cursor(conn, "other").unwrap(), None);
    }

    fn gaps_are_recorded_once_and_cleared(store: &mut store::Store) {
        let conn = store.conn();
        record_unavailable(conn, 7, "node answered null").unwrap();
        record_unavailable(conn, 7, "again").unwrap();
        record_unavailable(conn, 3, "x").unwrap();
        assert_eq!(unavailable_heights(conn).unwrap(), vec![3, 7]);
        clear_unavailable(conn, &[7, 9]).unwrap();
        assert_eq!(unavailable_heights(conn).unwrap(), vec![3]);
        assert!(!is_indexed(conn, 3).unwrap());
    }

    store::on_both_backends!(
        cursor_moves_only_forward_and_only_without_gaps,
        gaps_are_recorded_once_and_cleared
    );
}
