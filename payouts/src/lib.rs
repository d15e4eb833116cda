//! # `payouts`: paying providers what has vested, and checking what was paid
//!
//! Settlement ([`settlement`]) seals what each provider earned and when it vests; the chain
//! records what the programme wallet actually sent (the indexer's `transfers`). This crate puts
//! the two side by side for the Pilot Program Administrator:
//!
//! | step | function |
//! |---|---|
//! | vesting entries and programme-wallet payouts up to `T`, from the store | [`Books::load`] |
//! | per provider and pool: vested at `T`, paid, claimable, overpaid | [`accounts::accounts`] |
//! | what is due at `T`, as unsigned `MsgMultiSend` transactions (`payouts plan`) | [`plan::plan`] |
//! | the transaction JSON `akash tx sign` reads, and its decoding with cosmrs | [`tx::UnsignedTx`] |
//! | overpaid / underpaid / unknown recipient / paid before vesting (`reconcile`) | [`reconcile::reconcile`] |
//!
//! ## How a provider's payments are split over its pools
//!
//! A transfer pays a provider, not a pool. Payments are applied to the provider's vesting
//! entries **oldest first**: in the order the entries were created, which is the order of the
//! epochs they were earned in (and, within an epoch, the engine's line order), each entry
//! absorbing at most what of it has vested at `T`. A pool's `paid` is what reached its entries;
//! whatever is left after every vested entry is absorbed is `overpaid`. So a plan pays the newest
//! vested amounts, and the per-pool figures never exceed what vested in that pool.
//!
//! ## Counted once
//!
//! The indexer stores each coin movement once, keyed by its height, transaction, message index
//! (messages inside an authz `MsgExec` numbered among the transaction's own) and leg (one per
//! coin and output of a `MsgMultiSend`): a payout is one [`store::settlement::Payout`], however
//! it was wrapped. Transfers between two of the programme's own wallets pay nobody and are left
//! out; only the programme denom counts.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod accounts;
mod books;
mod error;
pub mod plan;
pub mod reconcile;
pub mod tx;

pub use books::Books;
pub use error::PayoutError;
