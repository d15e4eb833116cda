//! Why a plan or a reconciliation could not be made.

use thiserror::Error;

/// Everything that stops `payouts plan` or `reconcile`. None of them leaves a partial plan
/// behind: the plan is computed in full before anything is written.
#[derive(Debug, Error)]
pub enum PayoutError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The sealed vesting entries could not be read back.
    #[error(transparent)]
    Settlement(#[from] settlement::SettlementError),
    /// A sum left the 128-bit range; only possible with corrupted rows.
    #[error("the amounts of {provider} overflow")]
    Overflow {
        /// Whose sums overflowed.
        provider: String,
    },
    /// An address, denom or amount that a Cosmos transaction cannot carry.
    #[error("{what} cannot go into a transaction: {problem}")]
    Unpayable {
        /// What was refused (an address, a denom).
        what: String,
        /// The encoder's reason.
        problem: String,
    },
    /// The memo would be longer than Cosmos SDK's default limit of 256 characters, and the
    /// chain would refuse the transaction after it was signed.
    #[error("the memo {memo:?} is {len} characters, more than the chain's 256")]
    MemoTooLong {
        /// The memo.
        memo: String,
        /// Its length in characters.
        len: usize,
    },
    /// A transaction file that is not what `payouts plan` writes.
    #[error("not an unsigned payout transaction: {0}")]
    Transaction(String),
}
