//! Local stand-ins for the outside world, for tests, demos and benchmarks. Everything here binds to
//! 127.0.0.1 only.
//!
//! * [`chain`] serves a recorded chain folder (or a generated synthetic one) as a CometBFT RPC node,
//!   with optional fault injection, and generates deterministic synthetic chains for scale tests.
//! * [`providers`] runs fake Akash providers that answer `/version`, `/status` and gRPC
//!   `GetStatus` over TLS, scriptable to go down, hang, return garbage or report absurd inventory.

pub mod chain;
pub mod providers;
