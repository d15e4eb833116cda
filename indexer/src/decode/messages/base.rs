//! Base types shared by every Akash module: attributes, resources and coins.
//!
//! `akash.base.v1beta3` (era A) and `akash.base.attributes.v1` + `akash.base.resources.v1beta4`
//! (era B) carry the same fields under the same numbers, so one Rust type serves both on the wire.

/// `akash.base.v1beta3.Attribute` / `akash.base.attributes.v1.Attribute`: a key/value label.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Attribute {
    /// e.g. `capabilities/gpu/vendor/nvidia/model/h100` or `vendor/nvidia/model/a100/ram/80Gi`.
    #[prost(string, tag = "1")]
    pub key: String,
    /// Usually `"true"` for capability and GPU attributes.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `SignedBy`: auditors whose signatures a placement requires.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct SignedBy {
    /// Every one of these must have signed.
    #[prost(string, repeated, tag = "1")]
    pub all_of: Vec<String>,
    /// At least one of these must have signed.
    #[prost(string, repeated, tag = "2")]
    pub any_of: Vec<String>,
}

/// `PlacementRequirements`: which providers may bid on a group.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct PlacementRequirements {
    /// Required auditor signatures.
    #[prost(message, optional, tag = "1")]
    pub signed_by: Option<SignedBy>,
    /// Required provider attributes.
    #[prost(message, repeated, tag = "2")]
    pub attributes: Vec<Attribute>,
}

/// `ResourceValue`: an `sdk.Int` whose wire bytes are the ASCII decimal text of the integer.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ResourceValue {
    /// Decimal digits, e.g. `b"1000"`.
    #[prost(bytes = "vec", tag = "1")]
    pub val: Vec<u8>,
}

impl ResourceValue {
    /// The value for a whole number, as the chain writes it.
    pub fn from_u64(value: u64) -> Self {
        Self {
            val: value.to_string().into_bytes(),
        }
    }
}

/// `CPU`: millicpu (1000 = one CPU).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Cpu {
    /// Millicpu.
    #[prost(message, optional, tag = "1")]
    pub units: Option<ResourceValue>,
    /// CPU attributes (architecture, …).
    #[prost(message, repeated, tag = "2")]
    pub attributes: Vec<Attribute>,
}

/// `Memory`: bytes of RAM.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Memory {
    /// Bytes.
    #[prost(message, optional, tag = "1")]
    pub quantity: Option<ResourceValue>,
    /// Memory attributes.
    #[prost(message, repeated, tag = "2")]
    pub attributes: Vec<Attribute>,
}

/// `Storage`: one named volume, in bytes.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Storage {
    /// Volume name (`default`, `data`, …).
    #[prost(string, tag = "1")]
    pub name: String,
    /// Bytes.
    #[prost(message, optional, tag = "2")]
    pub quantity: Option<ResourceValue>,
    /// Storage attributes (`persistent`, `class`).
    #[prost(message, repeated, tag = "3")]
    pub attributes: Vec<Attribute>,
}

/// `GPU`: whole GPUs and the models they may be.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Gpu {
    /// Whole GPUs per replica.
    #[prost(message, optional, tag = "1")]
    pub units: Option<ResourceValue>,
    /// One `vendor/<v>/model/<m>[/ram/<N>Gi][/interface/<i>]` attribute per accepted model.
    #[prost(message, repeated, tag = "2")]
    pub attributes: Vec<Attribute>,
}

/// `Endpoint`: an exposed port kind.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Endpoint {
    /// SHARED_HTTP = 0, RANDOM_PORT = 1, LEASED_IP = 2.
    #[prost(int32, tag = "1")]
    pub kind: i32,
    /// Sequence number for leased IPs.
    #[prost(uint32, tag = "2")]
    pub sequence_number: u32,
}

/// `Resources`: what one replica of a resource unit needs.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Resources {
    /// The unit's id within its group.
    #[prost(uint32, tag = "1")]
    pub id: u32,
    /// CPU.
    #[prost(message, optional, tag = "2")]
    pub cpu: Option<Cpu>,
    /// Memory.
    #[prost(message, optional, tag = "3")]
    pub memory: Option<Memory>,
    /// Volumes.
    #[prost(message, repeated, tag = "4")]
    pub storage: Vec<Storage>,
    /// GPUs.
    #[prost(message, optional, tag = "5")]
    pub gpu: Option<Gpu>,
    /// Exposed endpoints.
    #[prost(message, repeated, tag = "6")]
    pub endpoints: Vec<Endpoint>,
}

/// `cosmos.base.v1beta1.Coin`: an integer amount of a denom.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Coin {
    /// e.g. `uakt`.
    #[prost(string, tag = "1")]
    pub denom: String,
    /// Integer text.
    #[prost(string, tag = "2")]
    pub amount: String,
}

/// `cosmos.base.v1beta1.DecCoin`: a decimal amount (18 places) of a denom; prices per block.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct DecCoin {
    /// e.g. `uakt`.
    #[prost(string, tag = "1")]
    pub denom: String,
    /// Decimal text as the chain writes it.
    ///
    /// On the wire (`gogoproto` customtype `LegacyDec`) this is the value × 10^18 as integer text;
    /// see [`crate::decode::messages::dec_from_wire`].
    #[prost(string, tag = "2")]
    pub amount: String,
}

/// `akash.base.deposit.v1.Deposit` (era B): a deposit and where its funds come from.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Deposit {
    /// The amount.
    #[prost(message, optional, tag = "1")]
    pub amount: Option<Coin>,
    /// `invalid = 0; balance = 1; grant = 2`.
    #[prost(int32, repeated, tag = "5")]
    pub sources: Vec<i32>,
}
