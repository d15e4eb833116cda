//! `akash.provider.*` messages.
//!
//! v1beta3 (era A) and v1beta4 (era B) share field names and numbers (v1beta4 only renames the
//! info type), so the types are shared and each version has its own type URLs.

use crate::decode::messages::base::Attribute;

/// `ProviderInfo` (v1beta3) / `Info` (v1beta4): public contact details.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ProviderInfo {
    /// Contact e-mail.
    #[prost(string, tag = "1")]
    pub email: String,
    /// Web site.
    #[prost(string, tag = "2")]
    pub website: String,
}

/// `MsgCreateProvider` and `MsgUpdateProvider` (one shape; an update replaces every attribute).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct MsgProvider {
    /// The provider's account.
    #[prost(string, tag = "1")]
    pub owner: String,
    /// Gateway URI, e.g. `https://provider.example.com:8443`.
    #[prost(string, tag = "2")]
    pub host_uri: String,
    /// Every attribute the provider advertises.
    #[prost(message, repeated, tag = "3")]
    pub attributes: Vec<Attribute>,
    /// Contact details.
    #[prost(message, optional, tag = "4")]
    pub info: Option<ProviderInfo>,
}

/// `MsgCreateProvider`.
pub type MsgCreateProvider = MsgProvider;
/// `MsgUpdateProvider`.
pub type MsgUpdateProvider = MsgProvider;

/// `MsgDeleteProvider`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct MsgDeleteProvider {
    /// The provider's account.
    #[prost(string, tag = "1")]
    pub owner: String,
}

/// Type URLs of `akash.provider.v1beta3` (era A).
pub mod v1beta3 {
    /// Type URL of [`super::MsgCreateProvider`].
    pub const MSG_CREATE_PROVIDER: &str = "/akash.provider.v1beta3.MsgCreateProvider";
    /// Type URL of [`super::MsgUpdateProvider`].
    pub const MSG_UPDATE_PROVIDER: &str = "/akash.provider.v1beta3.MsgUpdateProvider";
    /// Type URL of [`super::MsgDeleteProvider`].
    pub const MSG_DELETE_PROVIDER: &str = "/akash.provider.v1beta3.MsgDeleteProvider";
}

/// Type URLs of `akash.provider.v1beta4` (era B).
pub mod v1beta4 {
    /// Type URL of [`super::MsgCreateProvider`].
    pub const MSG_CREATE_PROVIDER: &str = "/akash.provider.v1beta4.MsgCreateProvider";
    /// Type URL of [`super::MsgUpdateProvider`].
    pub const MSG_UPDATE_PROVIDER: &str = "/akash.provider.v1beta4.MsgUpdateProvider";
    /// Type URL of [`super::MsgDeleteProvider`].
    pub const MSG_DELETE_PROVIDER: &str = "/akash.provider.v1beta4.MsgDeleteProvider";
}
