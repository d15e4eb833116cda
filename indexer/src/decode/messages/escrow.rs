//! `akash.escrow.v1` messages (era B). The indexer records no facts from them; the type exists
//! so the synthetic chain can carry realistic deposits and the URL is known, not "unknown".

use crate::decode::messages::base::Deposit;

/// Type URL of [`MsgAccountDeposit`].
pub const MSG_ACCOUNT_DEPOSIT: &str = "/akash.escrow.v1.MsgAccountDeposit";

/// `akash.escrow.id.v1.Account`: an escrow account (scope 1 = deployment, 2 = bid).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct AccountId {
    /// `invalid = 0; deployment = 1; bid = 2`.
    #[prost(int32, tag = "1")]
    pub scope: i32,
    /// `owner/dseq` for a deployment.
    #[prost(string, tag = "2")]
    pub xid: String,
}

/// `akash.escrow.v1.MsgAccountDeposit`: adds funds to an escrow account.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct MsgAccountDeposit {
    /// Who pays.
    #[prost(string, tag = "1")]
    pub signer: String,
    /// The account.
    #[prost(message, optional, tag = "2")]
    pub id: Option<AccountId>,
    /// The deposit.
    #[prost(message, optional, tag = "3")]
    pub deposit: Option<Deposit>,
}
