//! What one block says about the Akash market: typed chain facts and reason-coded rejections.
//!
//! The decoder produces these without any I/O; [`crate::decode::apply_block`] writes them. Every
//! identifier in a fact has already been checked to fit the store's columns (heights and `dseq`
//! in `i64`, `gseq`/`oseq`/`bseq` in `i32`), so applying never has to reject anything.

use std::collections::BTreeMap;
use std::fmt;

use domain::{BaseUnits, ChainDecimal};

/// One block, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedBlock {
    /// Block height.
    pub height: u64,
    /// Block time exactly as the header spells it (RFC 3339).
    pub time: String,
    /// Block time in unix milliseconds, truncated.
    pub time_ms: i64,
    /// Block hash (upper-case hex).
    pub hash: String,
    /// Transactions in the block.
    pub tx_count: u32,
    /// Transactions whose result code was not 0: they changed nothing on chain.
    pub failed_tx_count: u32,
    /// Messages found inside `MsgExec` (at any depth) in successful transactions.
    pub authz_wrapped_messages: u32,
    /// Facts in chain order (transaction by transaction, message by message).
    pub facts: Vec<TxFact>,
    /// Everything that could not be used, in the order it was met.
    pub rejections: Vec<Rejection>,
    /// Messages of successful transactions that the indexer does not decode because they cannot
    /// change what it records (staking, governance, IBC, certificates, …), counted per type URL.
    pub ignored_messages: BTreeMap<String, u32>,
    /// Messages with a type URL the indexer does not know, counted per type URL (each one is also
    /// a [`RejectionReason::UnknownTypeUrl`] rejection).
    pub unknown_messages: BTreeMap<String, u32>,
}

/// Where a fact came from inside its block.
#[derive(Debug, Clone, PartialEq)]
pub struct TxFact {
    /// Index of the transaction in the block; [`BLOCK_EVENTS_TX_INDEX`] for block-level events.
    pub tx_index: i32,
    /// The fact.
    pub fact: Fact,
}

/// The `tx_index` recorded for facts and rejections that come from block-level events
/// (`begin_block_events`, `end_block_events`, `finalize_block_events`) rather than from a
/// transaction.
pub const BLOCK_EVENTS_TX_INDEX: i32 = -1;

pub use domain::{DeploymentId, GroupId, LeaseId};

/// A price per block, as an exact decimal of a denom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    /// e.g. `uakt` or an `ibc/…` denom.
    pub denom: String,
    /// Decimal text with 18 fractional digits, as the chain renders a `sdk.Dec`.
    pub amount: ChainDecimal,
}

/// A key/value attribute (provider capability, GPU model, …).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Attribute {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// One resource unit of a group, or one unit of a bid's resources offer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResourceUnit {
    /// The unit's id inside its group.
    pub resource_id: u32,
    /// Replicas.
    pub count: u32,
    /// Millicpu per replica (decimal digits).
    pub cpu_millis: String,
    /// Memory bytes per replica (decimal digits).
    pub memory_bytes: String,
    /// Storage bytes per replica, summed over its volumes (decimal digits).
    pub storage_bytes: String,
    /// Whole GPUs per replica, at most [`crate::decode::MAX_GPU_UNITS_PER_REPLICA`].
    pub gpu_units: u64,
    /// The GPU attributes (`vendor/<v>/model/<m>[/ram/<N>][/interface/<i>]`).
    pub gpu_attributes: Vec<Attribute>,
}

impl ResourceUnit {
    /// GPUs of all replicas of this unit.
    pub fn total_gpus(&self) -> u64 {
        self.gpu_units * u64::from(self.count)
    }
}

/// A group as created by `MsgCreateDeployment`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    /// Group sequence (position + 1).
    pub gseq: i32,
    /// Placement name.
    pub name: String,
    /// Resource units, in message order.
    pub resources: Vec<GroupResource>,
}

/// A resource unit of a group together with the maximum price the tenant accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupResource {
    /// The unit.
    pub unit: ResourceUnit,
    /// Maximum price per block, when given.
    pub price: Option<Price>,
}

/// A provider as a create or update message describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderRecord {
    /// The provider's account.
    pub owner: String,
    /// Gateway URI.
    pub host_uri: String,
    /// Every attribute, in message order, duplicates of a key removed (first one kept).
    pub attributes: Vec<Attribute>,
    /// Contact e-mail (empty when not given).
    pub email: String,
    /// Web site (empty when not given).
    pub website: String,
}

/// Why a lease ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseCause {
    /// The tenant closed it (`MsgCloseLease`).
    Owner,
    /// The provider closed it (`MsgCloseBid`).
    Provider,
    /// Its deployment or group was closed or paused by the tenant.
    DeploymentClosed,
    /// The chain closed it when escrow ran dry.
    InsufficientFunds,
}

impl CloseCause {
    /// The text stored and exported.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Provider => "provider",
            Self::DeploymentClosed => "deployment_closed",
            Self::InsufficientFunds => "insufficient_funds",
        }
    }
}

/// A group state change that closes its leases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupEnd {
    /// `MsgCloseGroup`.
    Closed,
    /// `MsgPauseGroup`.
    Paused,
}

impl GroupEnd {
    /// The group state stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Paused => "paused",
        }
    }
}

/// A bank transfer touching a watched wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Position of the message in the transaction, counting messages unwrapped from `MsgExec`.
    pub msg_index: i32,
    /// Position of this coin movement inside the message.
    pub leg: i32,
    /// Transaction hash.
    pub tx_hash: String,
    /// Sender; empty for a legacy multi-input `MsgMultiSend` output (several senders).
    pub sender: String,
    /// Recipient; empty for a legacy multi-input `MsgMultiSend` input (several recipients).
    pub recipient: String,
    /// Denom.
    pub denom: String,
    /// Amount in base units.
    pub amount: BaseUnits,
}

/// One thing that happened on chain, as far as the indexer cares.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// `MsgCreateProvider`.
    ProviderCreated(ProviderRecord),
    /// `MsgUpdateProvider`: replaces host, info and every attribute.
    ProviderUpdated(ProviderRecord),
    /// `MsgDeleteProvider`.
    ProviderDeleted {
        /// The provider's account.
        owner: String,
    },
    /// `MsgCreateDeployment`.
    DeploymentCreated {
        /// The deployment.
        id: DeploymentId,
        /// Its groups.
        groups: Vec<GroupSpec>,
    },
    /// The deployment closed (message or event), with its groups.
    DeploymentClosed {
        /// The deployment.
        id: DeploymentId,
    },
    /// A group was closed or paused (message or event).
    GroupEnded {
        /// The group.
        id: GroupId,
        /// How.
        end: GroupEnd,
    },
    /// `MsgStartGroup` reopened a paused group.
    GroupStarted {
        /// The group.
        id: GroupId,
    },
    /// `MsgCreateBid`.
    BidCreated {
        /// The bid.
        id: LeaseId,
        /// Price per block.
        price: Price,
        /// The resources offer (market v1beta4 and later; empty before).
        offer: Vec<ResourceUnit>,
    },
    /// `MsgCreateLease`.
    LeaseCreated {
        /// The lease.
        id: LeaseId,
        /// The price from the transaction's lease-created event, when it has one; otherwise the
        /// winning bid's price is used.
        price: Option<Price>,
        /// Whether the message came wrapped in `MsgExec`.
        via_authz: bool,
    },
    /// One lease closed, by a message or by an event.
    LeaseClosed {
        /// The lease.
        id: LeaseId,
        /// Why; `None` when an event names a close reason the indexer does not know.
        cause: Option<CloseCause>,
        /// The chain's `LeaseClosedReason` name (market v1 and later).
        reason: Option<String>,
    },
    /// Every lease of the deployment still open closes (`MsgCloseDeployment`).
    DeploymentLeasesClosed {
        /// The deployment.
        id: DeploymentId,
        /// Why.
        cause: CloseCause,
    },
    /// Every lease of the group still open closes (`MsgCloseGroup`, `MsgPauseGroup`).
    GroupLeasesClosed {
        /// The group.
        id: GroupId,
        /// Why.
        cause: CloseCause,
    },
    /// A bank transfer from or to a watched wallet.
    Transfer(Transfer),
}

/// Something the decoder could not use, with the reason, so nothing is lost silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Index of the transaction; [`BLOCK_EVENTS_TX_INDEX`] for the block itself or its events.
    pub tx_index: i32,
    /// Hash of the transaction, when it is one.
    pub tx_hash: Option<String>,
    /// The reason code.
    pub reason: RejectionReason,
    /// The message type URL concerned, when there is one.
    pub type_url: Option<String>,
    /// Human-readable detail (the error, the raw value), at most [`MAX_DETAIL_CHARS`] characters.
    pub detail: String,
}

/// Longest rejection detail kept: hostile input must not bloat the store.
pub const MAX_DETAIL_CHARS: usize = 500;

/// Why something was rejected. The codes are stable: they are stored and exported as metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectionReason {
    /// The transaction bytes are not base64, or not a `TxRaw`/`TxBody`.
    UndecodableTx,
    /// The transaction's bytes are empty. Protobuf reads them as a `TxRaw` without messages,
    /// but no chain includes such a transaction, and its result may still report events: it is
    /// recorded rather than passed over as if it had done nothing.
    EmptyTx,
    /// A message type URL the indexer does not know.
    UnknownTypeUrl,
    /// A known type URL whose bytes do not decode as that message.
    UndecodableMessage,
    /// A message whose fields are present but unusable (missing id, bad decimal, …).
    InvalidMessage,
    /// A value beyond any sane bound (for example 18446744073709551615 GPUs).
    AbsurdValue,
    /// `MsgExec` nested deeper than [`crate::decode::MAX_EXEC_DEPTH`].
    ExecTooDeep,
    /// A transaction result that is not an object, or whose code is not a number.
    MalformedTxResult,
    /// The block has a different number of transaction results than transactions; no
    /// transaction of it is applied, because results cannot be paired with transactions.
    TxResultCountMismatch,
    /// An event attribute that is not valid base64 (CometBFT 0.34) or JSON (typed events), or an
    /// event whose needed attributes are missing or malformed.
    MalformedEvent,
    /// A lease-closed event with a reason the indexer does not know; the lease is closed with no
    /// cause.
    UnknownCloseReason,
    /// The block results are for another height than the block; no transaction is applied.
    ResultsHeightMismatch,
    /// A lease whose price cannot be known (no lease-created event price and its bid was never
    /// seen, e.g. created before indexing began); the lease is not recorded.
    LeasePriceUnknown,
}

impl RejectionReason {
    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UndecodableTx => "undecodable_tx",
            Self::EmptyTx => "empty_tx",
            Self::UnknownTypeUrl => "unknown_type_url",
            Self::UndecodableMessage => "undecodable_message",
            Self::InvalidMessage => "invalid_message",
            Self::AbsurdValue => "absurd_value",
            Self::ExecTooDeep => "exec_too_deep",
            Self::MalformedTxResult => "malformed_tx_result",
            Self::TxResultCountMismatch => "tx_result_count_mismatch",
            Self::MalformedEvent => "malformed_event",
            Self::UnknownCloseReason => "unknown_close_reason",
            Self::ResultsHeightMismatch => "results_height_mismatch",
            Self::LeasePriceUnknown => "lease_price_unknown",
        }
    }

    /// Every reason, for registering metrics up front.
    pub const ALL: [Self; 13] = [
        Self::UndecodableTx,
        Self::EmptyTx,
        Self::UnknownTypeUrl,
        Self::UndecodableMessage,
        Self::InvalidMessage,
        Self::AbsurdValue,
        Self::ExecTooDeep,
        Self::MalformedTxResult,
        Self::TxResultCountMismatch,
        Self::MalformedEvent,
        Self::UnknownCloseReason,
        Self::ResultsHeightMismatch,
        Self::LeasePriceUnknown,
    ];
}

impl fmt::Display for RejectionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Truncates `detail` to [`MAX_DETAIL_CHARS`] characters.
pub(crate) fn bounded_detail(detail: impl fmt::Display) -> String {
    let text = detail.to_string();
    match text.char_indices().nth(MAX_DETAIL_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
