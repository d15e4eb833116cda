//! Why an epoch could not be measured, settled or sealed, in terms the administrator can act on.

use rewards::calendar::CalendarError;
use rewards::leases::LeaseError;
use rewards::programme::ProgrammeError;
use rewards::uptime::UptimeError;
use rewards::vesting::PositionError;
use rewards::SettleError;
use store::StoreError;
use thiserror::Error;

/// Why settlement failed. Every variant leaves the store exactly as it was.
#[derive(Debug, Error)]
pub enum SettlementError {
    /// The programme failed the rewards engine's validation.
    #[error("invalid programme: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidProgramme(Vec<ProgrammeError>),
    /// The epoch is outside the programme, or its window is not representable.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    /// The epoch's window has not ended yet: settling it now would pay on partial data.
    #[error(
        "epoch {epoch} has not ended: it ends at {}, and it is now {}",
        domain::UnixMs(*end_ms),
        domain::UnixMs(*now_ms)
    )]
    NotEnded {
        /// The epoch.
        epoch: u32,
        /// Its end.
        end_ms: i64,
        /// The settle run's notion of now.
        now_ms: i64,
    },
    /// The indexer has not reached the epoch's end, so leases opened or closed late in the epoch
    /// may be missing.
    #[error(
        "epoch {epoch} ends at {}, but the indexer has {}; run `akash-incentives index` until \
         it has indexed a block at or after the epoch's end",
        domain::UnixMs(*end_ms),
        match newest_block_ms {
            Some(t) => format!("only indexed blocks up to {}", domain::UnixMs(*t)),
            None => "not indexed any block yet".to_string(),
        }
    )]
    NotIndexed {
        /// The epoch.
        epoch: u32,
        /// Its end.
        end_ms: i64,
        /// Time of the newest indexed block, if any.
        newest_block_ms: Option<i64>,
    },
    /// Epochs are settled strictly in order, because each one starts from the state the previous
    /// one left.
    #[error(
        "epoch {requested} cannot be settled yet: epochs are settled in order and the next one \
         is epoch {next}"
    )]
    OutOfOrder {
        /// The epoch asked for.
        requested: u32,
        /// The next epoch to settle.
        next: u32,
    },
    /// Every epoch of the programme is sealed.
    #[error("all {epochs} epochs of programme {programme:?} are sealed")]
    Complete {
        /// The programme's name.
        programme: String,
        /// Its number of epochs.
        epochs: u32,
    },
    /// Another settle run sealed the epoch between this run's measuring and writing.
    #[error("epoch {epoch} was sealed by another settle run meanwhile; nothing was written")]
    SealedMeanwhile {
        /// The epoch.
        epoch: u32,
    },
    /// With a zero `prober.max_staleness` no observation would ever stand, and every provider
    /// would be offline.
    #[error("max_staleness must be positive")]
    ZeroStaleness,
    /// The stored observations cannot be turned into a timeline.
    #[error("uptime of provider {provider}: {source}")]
    Uptime {
        /// The provider.
        provider: String,
        /// What is wrong with its observations.
        #[source]
        source: UptimeError,
    },
    /// A stored lease of the provider makes no sense.
    #[error("leases of provider {provider}: {source}")]
    Lease {
        /// The provider.
        provider: String,
        /// What is wrong with the lease.
        #[source]
        source: LeaseError,
    },
    /// The rewards engine refused the epoch (a bug or corrupted state, never shipped).
    #[error("the rewards engine refused epoch {epoch}")]
    Engine {
        /// The epoch.
        epoch: u32,
        /// The engine's reason.
        #[source]
        source: SettleError,
    },
    /// Positions could not be summed.
    #[error(transparent)]
    Position(#[from] PositionError),
    /// A report was asked for an epoch that is not sealed.
    #[error(
        "epoch {epoch} of programme {programme:?} is not sealed ({sealed} epoch(s) are): \
         settle it first (`akash-incentives settle --epoch {epoch}`)"
    )]
    NotSealed {
        /// The programme.
        programme: String,
        /// The epoch asked for.
        epoch: u32,
        /// How many epochs are sealed.
        sealed: u32,
    },
    /// The configured programme is not the one the epoch was sealed under, so a report of it
    /// could not be re-derived from its own `programme.toml`.
    #[error(
        "epoch {epoch} was sealed under another programme definition (hash {sealed}) than the \
         configured one (hash {configured}): report it with the configuration it was sealed with"
    )]
    ProgrammeChanged {
        /// The epoch.
        epoch: u32,
        /// Hash sealed with the epoch.
        sealed: String,
        /// Hash of the configured programme.
        configured: String,
    },
    /// The store now holds leases or observations for the epoch's window that it was not
    /// sealed with; a report of the stored material would not reproduce the sealed numbers.
    #[error(
        "the store's leases and observations for epoch {epoch} now measure to inputs hash \
         {now}, not the sealed {sealed}: data arrived after sealing, so the epoch cannot be \
         reported from this store"
    )]
    LateData {
        /// The epoch.
        epoch: u32,
        /// Inputs hash sealed with the epoch.
        sealed: String,
        /// Inputs hash measured now.
        now: String,
    },
    /// A what-if policy puts a sealed epoch in another window than it was sealed for; its
    /// sealed measurements belong to their window and answer for no other.
    #[error(
        "the policy's calendar puts epoch {epoch} in another window than it was sealed for (or \
         has no epoch {epoch}): a what-if must keep the sealed programme's start, epoch length \
         and at least its sealed epochs"
    )]
    PolicyCalendar {
        /// The first epoch whose window differs.
        epoch: u32,
    },
    /// A sum left the 128-bit range (only with absurd or corrupted amounts).
    #[error("arithmetic overflow in {what}")]
    Overflow {
        /// What was being summed.
        what: &'static str,
    },
    /// Something stored cannot be read back as settlement wrote it.
    #[error("stored {what} is unreadable: {problem}")]
    Corrupt {
        /// Which row or column.
        what: String,
        /// Why.
        problem: String,
    },
    /// The engine's output does not match itself (a line or entry cannot be paired up): a bug.
    #[error("inconsistent settlement of epoch {epoch}: {problem}")]
    Inconsistent {
        /// The epoch.
        epoch: u32,
        /// What did not match.
        problem: String,
    },
    /// JSON encoding failed.
    #[error("cannot encode settlement data as JSON")]
    Json(#[from] serde_json::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A query failed.
    #[error("database query failed")]
    Query(#[from] diesel::result::Error),
}

impl SettlementError {
    /// A [`SettlementError::Corrupt`] about `what`.
    pub(crate) fn corrupt(what: impl Into<String>, problem: impl ToString) -> Self {
        SettlementError::Corrupt {
            what: what.into(),
            problem: problem.to_string(),
        }
    }
}
