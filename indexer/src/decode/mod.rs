//! Decoding of Akash blocks into chain facts, and applying those facts to the store.
//!
//! * [`chain_json`]: lenient serde types for CometBFT's `/block` and `/block_results` results.
//! * [`messages`]: prost structs and type URLs for every message the indexer reads.
//! * [`decode_block`]: one block and its results to a [`DecodedBlock`] of ordered [`Fact`]s and
//!   reason-coded [`Rejection`]s. Pure: no I/O, never fails.
//! * [`apply_block`]: writes a decoded block inside the caller's transaction, idempotently.
//! * [`gpu`]: GPU attribute keys and the rules that resolve a lease's GPU model.

mod apply;
mod block;
pub mod chain_json;
mod events;
mod facts;
pub mod gpu;
mod ids;
pub mod messages;
mod tx;

pub use apply::{apply_block, ApplyError, ApplySummary};
pub use block::{decode_block, DecodeOptions};
pub use facts::{
    Attribute, CloseCause, DecodedBlock, DeploymentId, Fact, GroupEnd, GroupId, GroupResource,
    GroupSpec, LeaseId, Price, ProviderRecord, Rejection, RejectionReason, ResourceUnit, Transfer,
    TxFact, BLOCK_EVENTS_TX_INDEX, MAX_DETAIL_CHARS,
};
pub use tx::tx_hash;

/// Most GPUs one replica of a resource unit may ask for before the value counts as absurd.
///
/// The chain itself refuses more than 24 (`maxUnitGPU` in the deployment validation config);
/// the bound leaves room for that limit to grow while still catching corrupt values such as
/// 18446744073709551615 (a u64 underflow), which would otherwise inflate GPU-hours.
pub const MAX_GPU_UNITS_PER_REPLICA: u64 = 1_000;

/// Most replicas (`count`) one resource unit may have before the value counts as absurd. The
/// chain refuses more than 50 (`maxUnitCount`).
pub const MAX_REPLICAS: u32 = 10_000;

/// Deepest nesting of `MsgExec` unwrapped; deeper messages are rejected, so a hostile
/// transaction cannot make the decoder recurse without bound.
pub const MAX_EXEC_DEPTH: u32 = 5;
