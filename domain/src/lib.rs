//! # `domain`: the vocabulary of akash-incentives
//!
//! Every fact the other crates exchange is spelled here, once: an instant and its text, an
//! amount in base units and a chain decimal, a block height, the ids of deployments and leases,
//! a provider's address, a GPU class's name and a GPU model's normalised name. The indexer, the
//! prober, the rewards engine, settlement, the store and the reports all use these types, so a
//! lease and a probe of the same GPU agree on its model, an instant has one canonical text in
//! every file, and a provider address cannot be passed where a class name is expected.
//!
//! The crate does no I/O. Diesel support for the types stored as text is behind the `diesel`
//! feature, which only the `store` crate enables.
//!
//! | fact | type | where its text form is decided |
//! |---|---|---|
//! | an instant | [`UnixMs`] | [`time`]: one parser, one canonical format |
//! | an amount | [`BaseUnits`] | [`amounts`]: plain decimal digits |
//! | a chain decimal (`sdk.Dec`) | [`ChainDecimal`] | [`amounts`]: kept exactly as the chain spelled it |
//! | a block height | [`Height`] | [`height`] |
//! | a deployment, group or lease | [`DeploymentId`], [`GroupId`], [`LeaseId`] | [`ids`]: `owner/dseq/gseq/oseq/provider/bseq` |
//! | a provider | [`ProviderAddr`] | [`address`]: bech32-checked `akash1…` |
//! | a GPU class of a programme | [`ClassName`] | [`class`] |
//! | a GPU model and interface | [`GpuModel`], [`normalise_interface`] | [`gpu`]: the one normalisation |

pub mod address;
pub mod amounts;
pub mod class;
pub mod gpu;
pub mod height;
pub mod ids;
pub mod time;

pub use address::{AddressError, ProviderAddr};
pub use amounts::{AmountParseError, BaseUnits, ChainDecimal, CHAIN_DECIMAL_PLACES};
pub use class::{ClassName, ClassNameError};
pub use gpu::{normalise_interface, normalise_vendor, GpuModel};
pub use height::{Height, HeightError};
pub use ids::{DeploymentId, GroupId, LeaseId};
pub use time::{TimeError, UnixMs};
