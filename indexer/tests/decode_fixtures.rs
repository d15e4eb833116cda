//! Decoding and applying the independent fixture chains reproduces their `truth.json` exactly,
//! on SQLite and PostgreSQL, and replaying blocks changes nothing.
//!
//! The fixtures were encoded and signed by Akash's and CosmJS's own libraries, so agreement here
//! checks the decoder against the chain's real wire format, not against our own encoder.

use indexer::decode::{apply_block, decode_block, DecodedBlock};
use indexer::testing::{compare_store_to_truth, dump_indexer_tables, Fixture};
use store::{Store, StoreError};

/// Blocks per transaction, as the pipeline batches them.
const BATCH: u64 = 64;

fn load(name: &str) -> Fixture {
    Fixture::load(name).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Decodes every block of the fixture, in height order.
fn decode_all(fixture: &Fixture) -> Vec<DecodedBlock> {
    let options = fixture.decode_options();
    (fixture.truth.first_height..=fixture.truth.last_height)
        .map(|height| {
            let (block, results) = fixture.block(height).unwrap();
            decode_block(&block, &results, fixture.comet_version(), &options)
        })
        .collect()
}

/// Applies the blocks in transactions of `batch` blocks.
fn apply_all(store: &mut Store, blocks: &[DecodedBlock], batch: usize) {
    for chunk in blocks.chunks(batch) {
        store
            .transaction(|conn| {
                for block in chunk {
                    apply_block(conn, block).map_err(|e| {
                        StoreError::Migration(format!("apply {}: {e}", block.height))
                    })?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }
}

fn reproduces_truth(store: &mut Store, name: &str) {
    let fixture = load(name);
    let blocks = decode_all(&fixture);
    assert!(
        blocks.iter().all(|b| b.rejections.is_empty()),
        "a clean fixture chain must decode without rejections: {:?}",
        blocks
            .iter()
            .flat_map(|b| &b.rejections)
            .collect::<Vec<_>>()
    );
    apply_all(store, &blocks, BATCH as usize);
    let differences = compare_store_to_truth(store.conn(), &fixture.truth).unwrap();
    assert!(
        differences.is_empty(),
        "{name}: {} differences from truth.json:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// Era A: deployment/provider v1beta3, market v1beta3 then v1beta4, CometBFT 0.34 base64 events.
fn era_a_small_reproduces_its_truth(store: &mut Store) {
    reproduces_truth(store, "era-a-small");
}

/// Era B: deployment/provider v1beta4, market v1beta5 with bseq, typed proto-JSON events.
fn era_b_small_reproduces_its_truth(store: &mut Store) {
    reproduces_truth(store, "era-b-small");
}

/// Applying blocks that are already stored — one at a time, in other batch sizes, out of order —
/// leaves the database exactly as one clean pass left it (the crash test replays batches).
fn replaying_blocks_changes_nothing(store: &mut Store) {
    let fixture = load("era-b-small");
    let blocks = decode_all(&fixture);
    apply_all(store, &blocks, BATCH as usize);
    let clean = dump_indexer_tables(store.conn()).unwrap();
    apply_all(store, &blocks, 1);
    let mut reversed = blocks.clone();
    reversed.reverse();
    apply_all(store, &reversed, 7);
    let replayed = dump_indexer_tables(store.conn()).unwrap();
    assert!(
        clean.contains("leases: 58 rows"),
        "the chain was indexed:\n{clean}"
    );
    assert_eq!(
        clean, replayed,
        "replaying stored blocks changed the database"
    );
}

store::on_both_backends!(
    era_a_small_reproduces_its_truth,
    era_b_small_reproduces_its_truth,
    replaying_blocks_changes_nothing,
);
