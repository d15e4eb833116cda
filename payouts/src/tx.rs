//! The unsigned transaction JSON that `akash tx sign` reads: the Cosmos SDK's protobuf-JSON
//! form of a `Tx` with no signatures, as `akash tx bank send --generate-only` prints it.
//!
//! The messages are built as cosmrs's typed [`MsgMultiSend`] (which checks every address and
//! denom), and written from it; [`UnsignedTx::body`] reads a file back into a cosmrs
//! [`Body`](cosmrs::tx::Body) through the same checks, so a plan's files can be shown to carry
//! exactly the messages planned. Only fields that every Cosmos SDK release from 0.45 (Akash
//! v0.24) to 0.53 (Akash v1 and later) knows are written: the SDK's JSON decoder refuses
//! unknown fields.

use cosmrs::bank::{MsgMultiSend, MultiSendIo};
use cosmrs::proto::cosmos::bank::v1beta1 as bank;
use cosmrs::proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmrs::tx::{Body, Msg};
use serde::{Deserialize, Serialize};

use crate::PayoutError;

/// The type URL of the one message a payout transaction carries.
pub const MSG_MULTI_SEND: &str = "/cosmos.bank.v1beta1.MsgMultiSend";

/// The Cosmos SDK's limit on a memo's length (`MaxMemoCharacters`, default 256).
pub const MAX_MEMO_CHARS: usize = 256;

/// An unsigned transaction, field for field as the SDK's JSON names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnsignedTx {
    /// Messages and memo.
    pub body: TxBodyJson,
    /// Fee and (once signed) signer infos.
    pub auth_info: AuthInfoJson,
    /// Empty until signed.
    pub signatures: Vec<String>,
}

/// `cosmos.tx.v1beta1.TxBody`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxBodyJson {
    /// The messages, each tagged with its type URL.
    pub messages: Vec<MessageJson>,
    /// Names the programme, the epochs and the Merkle root the payout is for.
    pub memo: String,
    /// `"0"`: no timeout.
    pub timeout_height: String,
    /// Always empty.
    pub extension_options: Vec<serde_json::Value>,
    /// Always empty.
    pub non_critical_extension_options: Vec<serde_json::Value>,
}

/// A message in protobuf JSON: its fields beside `"@type"`. Payouts only ever write
/// `MsgMultiSend`; anything else in a file is refused when it is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "@type")]
pub enum MessageJson {
    /// `cosmos.bank.v1beta1.MsgMultiSend`: one input (the programme wallet), one output per
    /// provider.
    #[serde(rename = "/cosmos.bank.v1beta1.MsgMultiSend")]
    MultiSend {
        /// The programme wallet and the sum of the outputs.
        inputs: Vec<IoJson>,
        /// One per provider.
        outputs: Vec<IoJson>,
    },
}

/// `cosmos.bank.v1beta1.Input` / `Output`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IoJson {
    /// Bech32 account address.
    pub address: String,
    /// Coins moved.
    pub coins: Vec<CoinJson>,
}

/// `cosmos.base.v1beta1.Coin`: the amount is decimal text (it exceeds 64 bits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoinJson {
    /// Denom.
    pub denom: String,
    /// Amount in base units, as decimal text.
    pub amount: String,
}

/// `cosmos.tx.v1beta1.AuthInfo` before signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthInfoJson {
    /// Filled in by `akash tx sign`.
    pub signer_infos: Vec<serde_json::Value>,
    /// The fee the transaction offers.
    pub fee: FeeJson,
}

/// `cosmos.tx.v1beta1.Fee`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeJson {
    /// Fee coins.
    pub amount: Vec<CoinJson>,
    /// Gas limit, decimal text.
    pub gas_limit: String,
    /// Empty: the signer pays.
    pub payer: String,
    /// Empty: no fee grant.
    pub granter: String,
}

/// The fee and gas every transaction of a plan offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fee {
    /// Fee amount in base units of `denom`.
    pub amount: u128,
    /// Fee denom.
    pub denom: String,
    /// Gas limit.
    pub gas_limit: u64,
}

impl UnsignedTx {
    /// The unsigned transaction carrying `message` with `memo` and `fee`; refuses a memo the
    /// chain would refuse.
    pub fn new(message: &MsgMultiSend, memo: &str, fee: &Fee) -> Result<Self, PayoutError> {
        let len = memo.chars().count();
        if len > MAX_MEMO_CHARS {
            return Err(PayoutError::MemoTooLong {
                memo: memo.to_owned(),
                len,
            });
        }
        let io = |io: &MultiSendIo| IoJson {
            address: io.address.to_string(),
            coins: io
                .coins
                .iter()
                .map(|c| CoinJson {
                    denom: c.denom.to_string(),
                    amount: c.amount.to_string(),
                })
                .collect(),
        };
        Ok(UnsignedTx {
            body: TxBodyJson {
                messages: vec![MessageJson::MultiSend {
                    inputs: message.inputs.iter().map(io).collect(),
                    outputs: message.outputs.iter().map(io).collect(),
                }],
                memo: memo.to_owned(),
                timeout_height: "0".into(),
                extension_options: Vec::new(),
                non_critical_extension_options: Vec::new(),
            },
            auth_info: AuthInfoJson {
                signer_infos: Vec::new(),
                fee: FeeJson {
                    amount: vec![CoinJson {
                        denom: fee.denom.clone(),
                        amount: fee.amount.to_string(),
                    }],
                    gas_limit: fee.gas_limit.to_string(),
                    payer: String::new(),
                    granter: String::new(),
                },
            },
            signatures: Vec::new(),
        })
    }

    /// The file's bytes: pretty JSON with a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        // Plain strings and vectors only: serialising cannot fail.
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Reads a transaction file back.
    pub fn from_json(bytes: &[u8]) -> Result<Self, PayoutError> {
        serde_json::from_slice(bytes).map_err(|e| PayoutError::Transaction(e.to_string()))
    }

    /// The messages as cosmrs's typed `MsgMultiSend`s, through cosmrs's own checks of every
    /// address, denom and amount.
    pub fn messages(&self) -> Result<Vec<MsgMultiSend>, PayoutError> {
        self.body
            .messages
            .iter()
            .map(|MessageJson::MultiSend { inputs, outputs }| {
                let coins = |coins: &[CoinJson]| {
                    coins
                        .iter()
                        .map(|c| ProtoCoin {
                            denom: c.denom.clone(),
                            amount: c.amount.clone(),
                        })
                        .collect::<Vec<_>>()
                };
                let proto = bank::MsgMultiSend {
                    inputs: inputs
                        .iter()
                        .map(|i| bank::Input {
                            address: i.address.clone(),
                            coins: coins(&i.coins),
                        })
                        .collect(),
                    outputs: outputs
                        .iter()
                        .map(|o| bank::Output {
                            address: o.address.clone(),
                            coins: coins(&o.coins),
                        })
                        .collect(),
                };
                MsgMultiSend::try_from(proto)
                    .map_err(|e| PayoutError::Transaction(format!("{MSG_MULTI_SEND}: {e}")))
            })
            .collect()
    }

    /// The transaction body as cosmrs builds it for signing: the messages packed as `Any`s and
    /// the memo.
    pub fn body(&self) -> Result<Body, PayoutError> {
        let messages = self
            .messages()?
            .iter()
            .map(Msg::to_any)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PayoutError::Transaction(e.to_string()))?;
        let timeout: u32 = self
            .body
            .timeout_height
            .parse()
            .map_err(|e| PayoutError::Transaction(format!("timeout_height: {e}")))?;
        Ok(Body::new(messages, self.body.memo.clone(), timeout))
    }
}
