//! `akash.deployment.*` messages.

/// `akash.deployment.v1beta3` (era A: v0.24 to v0.38).
pub mod v1beta3 {
    use crate::decode::messages::base::{Coin, DecCoin, PlacementRequirements, Resources};

    /// Type URL of [`MsgCreateDeployment`].
    pub const MSG_CREATE_DEPLOYMENT: &str = "/akash.deployment.v1beta3.MsgCreateDeployment";
    /// Type URL of [`MsgDepositDeployment`].
    pub const MSG_DEPOSIT_DEPLOYMENT: &str = "/akash.deployment.v1beta3.MsgDepositDeployment";
    /// Type URL of [`MsgUpdateDeployment`].
    pub const MSG_UPDATE_DEPLOYMENT: &str = "/akash.deployment.v1beta3.MsgUpdateDeployment";
    /// Type URL of [`MsgCloseDeployment`].
    pub const MSG_CLOSE_DEPLOYMENT: &str = "/akash.deployment.v1beta3.MsgCloseDeployment";
    /// Type URL of [`MsgCloseGroup`].
    pub const MSG_CLOSE_GROUP: &str = "/akash.deployment.v1beta3.MsgCloseGroup";
    /// Type URL of [`MsgPauseGroup`].
    pub const MSG_PAUSE_GROUP: &str = "/akash.deployment.v1beta3.MsgPauseGroup";
    /// Type URL of [`MsgStartGroup`].
    pub const MSG_START_GROUP: &str = "/akash.deployment.v1beta3.MsgStartGroup";

    /// `DeploymentID` (same wire shape as `akash.deployment.v1.DeploymentID`).
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct DeploymentId {
        /// The tenant.
        #[prost(string, tag = "1")]
        pub owner: String,
        /// Deployment sequence, by convention the creation height.
        #[prost(uint64, tag = "2")]
        pub dseq: u64,
    }

    /// `GroupID` (same wire shape as `akash.deployment.v1.GroupID`).
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct GroupId {
        /// The tenant.
        #[prost(string, tag = "1")]
        pub owner: String,
        /// Deployment sequence.
        #[prost(uint64, tag = "2")]
        pub dseq: u64,
        /// Group sequence, 1-based position in the deployment's groups.
        #[prost(uint32, tag = "3")]
        pub gseq: u32,
    }

    /// `GroupSpec` (same wire shape as `akash.deployment.v1beta4.GroupSpec`).
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct GroupSpec {
        /// The placement name from the SDL.
        #[prost(string, tag = "1")]
        pub name: String,
        /// Which providers may bid.
        #[prost(message, optional, tag = "2")]
        pub requirements: Option<PlacementRequirements>,
        /// What the group needs.
        #[prost(message, repeated, tag = "3")]
        pub resources: Vec<ResourceUnit>,
    }

    /// `ResourceUnit`: `count` replicas of `resource`, at most `price` per block.
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct ResourceUnit {
        /// One replica's resources.
        #[prost(message, optional, tag = "1")]
        pub resource: Option<Resources>,
        /// Replicas.
        #[prost(uint32, tag = "2")]
        pub count: u32,
        /// Maximum price per block.
        #[prost(message, optional, tag = "3")]
        pub price: Option<DecCoin>,
    }

    /// `MsgCreateDeployment` (v1beta3): the deposit is a plain coin.
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct MsgCreateDeployment {
        /// The new deployment's id.
        #[prost(message, optional, tag = "1")]
        pub id: Option<DeploymentId>,
        /// Its groups; group `i` gets `gseq = i + 1`.
        #[prost(message, repeated, tag = "2")]
        pub groups: Vec<GroupSpec>,
        /// Hash of the manifest.
        #[prost(bytes = "vec", tag = "3")]
        pub version: Vec<u8>,
        /// Escrow deposit.
        #[prost(message, optional, tag = "4")]
        pub deposit: Option<Coin>,
        /// Who pays the deposit.
        #[prost(string, tag = "5")]
        pub depositor: String,
    }

    /// `MsgDepositDeployment`: adds funds to the escrow account.
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct MsgDepositDeployment {
        /// The deployment.
        #[prost(message, optional, tag = "1")]
        pub id: Option<DeploymentId>,
        /// The amount.
        #[prost(message, optional, tag = "2")]
        pub amount: Option<Coin>,
        /// Who pays.
        #[prost(string, tag = "3")]
        pub depositor: String,
    }

    /// `MsgUpdateDeployment` (v1beta3 names the manifest hash `version`; v1beta4 `hash`; same tag).
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct MsgUpdateDeployment {
        /// The deployment.
        #[prost(message, optional, tag = "1")]
        pub id: Option<DeploymentId>,
        /// New manifest hash.
        #[prost(bytes = "vec", tag = "3")]
        pub version: Vec<u8>,
    }

    /// `MsgCloseDeployment`: closes the deployment, its groups and every open lease.
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct MsgCloseDeployment {
        /// The deployment.
        #[prost(message, optional, tag = "1")]
        pub id: Option<DeploymentId>,
    }

    /// `MsgCloseGroup`, `MsgPauseGroup`, `MsgStartGroup`: one message shape, three type URLs.
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct MsgGroup {
        /// The group.
        #[prost(message, optional, tag = "1")]
        pub id: Option<GroupId>,
    }

    /// `MsgCloseGroup`: closes the group and every open lease of it.
    pub type MsgCloseGroup = MsgGroup;
    /// `MsgPauseGroup`: pauses the group; the chain closes its orders, bids and leases.
    pub type MsgPauseGroup = MsgGroup;
    /// `MsgStartGroup`: reopens a paused group with a new order.
    pub type MsgStartGroup = MsgGroup;
}

/// `akash.deployment.v1beta4` with ids from `akash.deployment.v1` (era B: v1.0.0 on).
///
/// Ids, group specs, resource units and the close/group messages keep v1beta3's wire shape, so
/// they are re-exported; only messages whose fields changed get their own type.
pub mod v1beta4 {
    pub use super::v1beta3::{
        DeploymentId, GroupId, GroupSpec, MsgCloseDeployment, MsgCloseGroup, MsgGroup,
        MsgPauseGroup, MsgStartGroup, ResourceUnit,
    };
    use crate::decode::messages::base::Deposit;

    /// Type URL of [`MsgCreateDeployment`].
    pub const MSG_CREATE_DEPLOYMENT: &str = "/akash.deployment.v1beta4.MsgCreateDeployment";
    /// Type URL of [`MsgUpdateDeployment`].
    pub const MSG_UPDATE_DEPLOYMENT: &str = "/akash.deployment.v1beta4.MsgUpdateDeployment";
    /// Type URL of [`MsgCloseDeployment`].
    pub const MSG_CLOSE_DEPLOYMENT: &str = "/akash.deployment.v1beta4.MsgCloseDeployment";
    /// Type URL of [`MsgCloseGroup`].
    pub const MSG_CLOSE_GROUP: &str = "/akash.deployment.v1beta4.MsgCloseGroup";
    /// Type URL of [`MsgPauseGroup`].
    pub const MSG_PAUSE_GROUP: &str = "/akash.deployment.v1beta4.MsgPauseGroup";
    /// Type URL of [`MsgStartGroup`].
    pub const MSG_START_GROUP: &str = "/akash.deployment.v1beta4.MsgStartGroup";

    /// `MsgCreateDeployment` (v1beta4): the deposit names its funding sources.
    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct MsgCreateDeployment {
        /// The new deployment's id.
        #[prost(message, optional, tag = "1")]
        pub id: Option<DeploymentId>,
        /// Its groups; group `i` gets `gseq = i + 1`.
        #[prost(message, repeated, tag = "2")]
        pub groups: Vec<GroupSpec>,
        /// Hash of the manifest.
        #[prost(bytes = "vec", tag = "3")]
        pub hash: Vec<u8>,
        /// Escrow deposit.
        #[prost(message, optional, tag = "4")]
        pub deposit: Option<Deposit>,
    }

    /// `MsgUpdateDeployment` (v1beta4): same wire shape as v1beta3.
    pub type MsgUpdateDeployment = super::v1beta3::MsgUpdateDeployment;
}
