//! Cosmos SDK messages the indexer reads: bank transfers and authz wrapping.

use crate::decode::messages::base::Coin;

/// Type URL of [`MsgSend`].
pub const MSG_SEND: &str = "/cosmos.bank.v1beta1.MsgSend";
/// Type URL of [`MsgMultiSend`].
pub const MSG_MULTI_SEND: &str = "/cosmos.bank.v1beta1.MsgMultiSend";
/// Type URL of [`MsgExec`].
pub const MSG_EXEC: &str = "/cosmos.authz.v1beta1.MsgExec";

/// `google.protobuf.Any`: a type URL and the encoded message.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Any {
    /// e.g. `/akash.market.v1beta4.MsgCreateLease`.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// The encoded message.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

impl Any {
    /// Wraps `message` under `type_url`.
    pub fn pack<M: prost::Message>(type_url: &str, message: &M) -> Self {
        Self {
            type_url: type_url.to_string(),
            value: message.encode_to_vec(),
        }
    }
}

/// `cosmos.bank.v1beta1.MsgSend`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct MsgSend {
    /// Sender.
    #[prost(string, tag = "1")]
    pub from_address: String,
    /// Recipient.
    #[prost(string, tag = "2")]
    pub to_address: String,
    /// Coins sent.
    #[prost(message, repeated, tag = "3")]
    pub amount: Vec<Coin>,
}

/// `cosmos.bank.v1beta1.Input` / `Output`: one side of a multi-send.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct MultiSendLeg {
    /// The account.
    #[prost(string, tag = "1")]
    pub address: String,
    /// Its coins.
    #[prost(message, repeated, tag = "2")]
    pub coins: Vec<Coin>,
}

/// `cosmos.bank.v1beta1.MsgMultiSend`: inputs and outputs whose totals match.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct MsgMultiSend {
    /// Senders (exactly one since SDK 0.46).
    #[prost(message, repeated, tag = "1")]
    pub inputs: Vec<MultiSendLeg>,
    /// Recipients.
    #[prost(message, repeated, tag = "2")]
    pub outputs: Vec<MultiSendLeg>,
}

/// `cosmos.authz.v1beta1.MsgExec`: the grantee executes `msgs` on the granters' behalf.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct MsgExec {
    /// Who executes.
    #[prost(string, tag = "1")]
    pub grantee: String,
    /// The wrapped messages, each executed as if its signer had sent it.
    #[prost(message, repeated, tag = "2")]
    pub msgs: Vec<Any>,
}
