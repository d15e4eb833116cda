//! `akash.market.*` messages.
//!
//! Several messages of one version share a wire shape (a single id at tag 1); they get one struct
//! and a type alias per message, so encoding and decoding stay in one place.

/// `akash.market.v1beta3` (era A until the v0.28 upgrade).
pub mod v1beta3 {
    use crate::decode::messages::base::{Coin, DecCoin};

    /// Type URL of [`MsgCreateBid`].
    pub const MSG_CREATE_BID: &str = "/akash.market.v1beta3.MsgCreateBid";
    /// Type URL of [`MsgCloseBid`].
    pub const MSG_CLOSE_BID: &str = "/akash.market.v1beta3.MsgCloseBid";
    /// Type URL of [`MsgCreateLease`].
    pub const MSG_CREATE_LEASE: &str = "/akash.market.v1beta3.MsgCreateLease";
    /// Type URL of [`MsgWithdrawLease`].
    pub const MSG_WITHDRAW_LEASE: &str = "/akash.market.v1beta3.MsgWithdrawLease";
    /// Type URL of [`MsgCloseLease`].
    pub const MSG_CLOSE_LEASE: &str = "/akash.market.v1beta3.MsgCloseLease";

    /// `OrderID` (same wire shape as `akash.market.v1.OrderID`).
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct OrderId {
        /// The tenant.
        #[prost(string, tag = "1")]
        pub owner: String,
        /// Deployment sequence.
        #[prost(uint64, tag = "2")]
        pub dseq: u64,
        /// Group sequence.
        #[prost(uint32, tag = "3")]
        pub gseq: u32,
        /// Order sequence within the group.
        #[prost(uint32, tag = "4")]
        pub oseq: u32,
    }

    /// `BidID` and `LeaseID` (v1beta3 and v1beta4: no `bseq`).
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct BidId {
        /// The tenant.
        #[prost(string, tag = "1")]
        pub owner: String,
        /// Deployment sequence.
        #[prost(uint64, tag = "2")]
        pub dseq: u64,
        /// Group sequence.
        #[prost(uint32, tag = "3")]
        pub gseq: u32,
        /// Order sequence.
        #[prost(uint32, tag = "4")]
        pub oseq: u32,
        /// The bidding provider.
        #[prost(string, tag = "5")]
        pub provider: String,
    }

    /// `LeaseID`: the id of the bid it was created from.
    pub type LeaseId = BidId;

    /// `MsgCreateBid` (v1beta3): no resources offer.
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct MsgCreateBid {
        /// The order bid on.
        #[prost(message, optional, tag = "1")]
        pub order: Option<OrderId>,
        /// The bidding provider.
        #[prost(string, tag = "2")]
        pub provider: String,
        /// Price per block.
        #[prost(message, optional, tag = "3")]
        pub price: Option<DecCoin>,
        /// Bid deposit.
        #[prost(message, optional, tag = "4")]
        pub deposit: Option<Coin>,
    }

    /// A message carrying only a bid or lease id at tag 1.
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct MsgBidRef {
        /// The bid (or lease) id.
        #[prost(message, optional, tag = "1")]
        pub id: Option<BidId>,
    }

    /// `MsgCloseBid`: the provider closes its bid, and the lease made from it.
    pub type MsgCloseBid = MsgBidRef;
    /// `MsgCreateLease`: the tenant accepts a bid.
    pub type MsgCreateLease = MsgBidRef;
    /// `MsgWithdrawLease`: the provider withdraws earnings (settles escrow).
    pub type MsgWithdrawLease = MsgBidRef;
    /// `MsgCloseLease`: the tenant closes a lease.
    pub type MsgCloseLease = MsgBidRef;
}

/// `akash.market.v1beta4` (era A from the v0.28 upgrade): bids gain `resources_offer`.
pub mod v1beta4 {
    pub use super::v1beta3::{
        BidId, LeaseId, MsgBidRef, MsgCloseBid, MsgCloseLease, MsgCreateLease, MsgWithdrawLease,
        OrderId,
    };
    use crate::decode::messages::base::{Coin, DecCoin, Resources};

    /// Type URL of [`MsgCreateBid`].
    pub const MSG_CREATE_BID: &str = "/akash.market.v1beta4.MsgCreateBid";
    /// Type URL of [`MsgCloseBid`].
    pub const MSG_CLOSE_BID: &str = "/akash.market.v1beta4.MsgCloseBid";
    /// Type URL of [`MsgCreateLease`].
    pub const MSG_CREATE_LEASE: &str = "/akash.market.v1beta4.MsgCreateLease";
    /// Type URL of [`MsgWithdrawLease`].
    pub const MSG_WITHDRAW_LEASE: &str = "/akash.market.v1beta4.MsgWithdrawLease";
    /// Type URL of [`MsgCloseLease`].
    pub const MSG_CLOSE_LEASE: &str = "/akash.market.v1beta4.MsgCloseLease";

    /// `ResourceOffer`: what the provider offers for one resource unit.
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct ResourceOffer {
        /// The offered resources, with the GPU attributes the provider will supply.
        #[prost(message, optional, tag = "1")]
        pub resources: Option<Resources>,
        /// Replicas.
        #[prost(uint32, tag = "2")]
        pub count: u32,
    }

    /// `MsgCreateBid` (v1beta4).
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct MsgCreateBid {
        /// The order bid on.
        #[prost(message, optional, tag = "1")]
        pub order: Option<OrderId>,
        /// The bidding provider.
        #[prost(string, tag = "2")]
        pub provider: String,
        /// Price per block.
        #[prost(message, optional, tag = "3")]
        pub price: Option<DecCoin>,
        /// Bid deposit.
        #[prost(message, optional, tag = "4")]
        pub deposit: Option<Coin>,
        /// What the provider offers per resource unit.
        #[prost(message, repeated, tag = "5")]
        pub resources_offer: Vec<ResourceOffer>,
    }
}

/// `akash.market.v1`: ids with `bseq` and the lease close reason (era B).
pub mod v1 {
    pub use super::v1beta3::OrderId;

    /// `BidID` and `LeaseID` from v1 on: `bseq` tells apart several bids of one provider.
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct BidId {
        /// The tenant.
        #[prost(string, tag = "1")]
        pub owner: String,
        /// Deployment sequence.
        #[prost(uint64, tag = "2")]
        pub dseq: u64,
        /// Group sequence.
        #[prost(uint32, tag = "3")]
        pub gseq: u32,
        /// Order sequence.
        #[prost(uint32, tag = "4")]
        pub oseq: u32,
        /// The bidding provider.
        #[prost(string, tag = "5")]
        pub provider: String,
        /// Bid sequence.
        #[prost(uint32, tag = "6")]
        pub bseq: u32,
    }

    /// `LeaseID`: the id of the bid it was created from.
    pub type LeaseId = BidId;

    /// `LeaseClosedReason`: why a lease closed (1..9999 owner, 10000..19999 provider,
    /// 20000..29999 network).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum LeaseClosedReason {
        /// Not set.
        LeaseClosedInvalid = 0,
        /// The tenant closed it.
        LeaseClosedOwner = 1,
        /// Provider: the workload was unstable.
        LeaseClosedReasonUnstable = 10000,
        /// Provider: decommissioning.
        LeaseClosedReasonDecommission = 10001,
        /// Provider: no reason given.
        LeaseClosedReasonUnspecified = 10002,
        /// Provider: the manifest never arrived.
        LeaseClosedReasonManifestTimeout = 10003,
        /// Network: the escrow account ran dry.
        LeaseClosedReasonInsufficientFunds = 20000,
    }

    impl LeaseClosedReason {
        /// Every reason, in numeric order.
        pub const ALL: [Self; 7] = [
            Self::LeaseClosedInvalid,
            Self::LeaseClosedOwner,
            Self::LeaseClosedReasonUnstable,
            Self::LeaseClosedReasonDecommission,
            Self::LeaseClosedReasonUnspecified,
            Self::LeaseClosedReasonManifestTimeout,
            Self::LeaseClosedReasonInsufficientFunds,
        ];

        /// The reason with this proto enum name, as events write it.
        pub fn from_name(name: &str) -> Option<Self> {
            Self::ALL.into_iter().find(|reason| reason.name() == name)
        }

        /// The proto enum name, as the chain writes it in events and as we store it.
        pub fn name(self) -> &'static str {
            match self {
                Self::LeaseClosedInvalid => "lease_closed_invalid",
                Self::LeaseClosedOwner => "lease_closed_owner",
                Self::LeaseClosedReasonUnstable => "lease_closed_reason_unstable",
                Self::LeaseClosedReasonDecommission => "lease_closed_reason_decommission",
                Self::LeaseClosedReasonUnspecified => "lease_closed_reason_unspecified",
                Self::LeaseClosedReasonManifestTimeout => "lease_closed_reason_manifest_timeout",
                Self::LeaseClosedReasonInsufficientFunds => {
                    "lease_closed_reason_insufficient_funds"
                }
            }
        }
    }
}

/// `akash.market.v1beta5` (era B): messages over `akash.market.v1` ids.
pub mod v1beta5 {
    use super::v1::{BidId, LeaseClosedReason};
    use crate::decode::messages::base::{DecCoin, Deposit, Resources};

    /// Type URL of [`MsgCreateBid`].
    pub const MSG_CREATE_BID: &str = "/akash.market.v1beta5.MsgCreateBid";
    /// Type URL of [`MsgCloseBid`].
    pub const MSG_CLOSE_BID: &str = "/akash.market.v1beta5.MsgCloseBid";
    /// Type URL of [`MsgCreateLease`].
    pub const MSG_CREATE_LEASE: &str = "/akash.market.v1beta5.MsgCreateLease";
    /// Type URL of [`MsgWithdrawLease`].
    pub const MSG_WITHDRAW_LEASE: &str = "/akash.market.v1beta5.MsgWithdrawLease";
    /// Type URL of [`MsgCloseLease`].
    pub const MSG_CLOSE_LEASE: &str = "/akash.market.v1beta5.MsgCloseLease";

    /// `ResourceOffer` (v1beta5). Its `prices` (tag 3, from node v2.0.0) are not needed and are
    /// skipped as an unknown field.
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct ResourceOffer {
        /// The offered resources, with the GPU attributes the provider will supply.
        #[prost(message, optional, tag = "1")]
        pub resources: Option<Resources>,
        /// Replicas.
        #[prost(uint32, tag = "2")]
        pub count: u32,
    }

    /// `MsgCreateBid` (v1beta5): the id carries provider and `bseq`; field numbers moved.
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct MsgCreateBid {
        /// The new bid's id.
        #[prost(message, optional, tag = "1")]
        pub id: Option<BidId>,
        /// Price per block.
        #[prost(message, optional, tag = "2")]
        pub price: Option<DecCoin>,
        /// Bid deposit.
        #[prost(message, optional, tag = "3")]
        pub deposit: Option<Deposit>,
        /// What the provider offers per resource unit.
        #[prost(message, repeated, tag = "4")]
        pub resources_offer: Vec<ResourceOffer>,
    }

    /// A message carrying a v1 bid or lease id at tag 1 and, for closes, a reason at tag 2.
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct MsgBidRef {
        /// The bid (or lease) id.
        #[prost(message, optional, tag = "1")]
        pub id: Option<BidId>,
        /// Why it is closed (closes only; 0 otherwise).
        #[prost(enumeration = "LeaseClosedReason", tag = "2")]
        pub reason: i32,
    }

    /// `MsgCloseBid`: the provider closes its bid and lease, with a reason.
    pub type MsgCloseBid = MsgBidRef;
    /// `MsgCreateLease`: the tenant accepts a bid (`bid_id`, no reason).
    pub type MsgCreateLease = MsgBidRef;
    /// `MsgWithdrawLease`: the provider settles escrow (no reason).
    pub type MsgWithdrawLease = MsgBidRef;
    /// `MsgCloseLease`: the tenant closes a lease, with a reason.
    pub type MsgCloseLease = MsgBidRef;
}
