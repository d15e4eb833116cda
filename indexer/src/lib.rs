//! The indexer: follows Akash blocks over CometBFT RPC and records providers, deployments, bids,
//! leases and watched transfers in the store.
//!
//! It decides what the chain *means* (which message is which fact, which GPU model a lease got:
//! [`decode::gpu`]); the rows those facts become are the store's (`store::chain`, `store::cursor`),
//! and the words it uses (ids, amounts, heights, GPU models) are `domain`'s.
//!
//! * [`decode`] turns one block and its results into typed chain facts (pure, no I/O), and applies
//!   them to the store inside the caller's transaction.
//! * [`rpc`] fetches blocks from one or more CometBFT RPC endpoints with retries and rotation.
//! * [`follow`] runs the pipeline: bounded-concurrency fetch, in-order apply, batch commits with
//!   the cursor, and `--follow` mode.
//! * [`metrics`] registers the indexer's Prometheus metrics.

pub mod decode;
pub mod follow;
pub mod metrics;
pub mod rpc;
#[cfg(feature = "testing")]
pub mod testing;
