//! A local CometBFT RPC node for a recorded or synthetic Akash chain.
//!
//! * [`ChainSource`] is the chain: a fixture folder (`status.json`, `block/<h>.json`,
//!   `block_results/<h>.json`, read on demand) or a chain held in memory.
//! * [`ChainServer`] serves it on 127.0.0.1 the way a CometBFT node does: URI `GET`
//!   (`/status`, `/block?height=N`, `/block_results?height=N`) and JSON-RPC 2.0 `POST` (the form
//!   `tendermint-rpc` sends), with the node's own errors above the head and below the earliest
//!   height, and optional seeded [`Faults`].
//! * [`generate`] writes a deterministic synthetic chain in the same shapes, in memory or as a
//!   fixture folder, for scale tests and benchmarks.

mod encode;
mod faults;
pub mod generate;
mod server;
mod source;

pub use faults::{Faults, FaultsError, InjectedFaults};
pub use server::{ChainServer, ServeError, ServeOptions};
pub use source::{ChainSource, FixtureFolder, MemoryChain, SourceError};
