//! `simnet`: local stand-ins for the chain and for providers.

use clap::Subcommand;

use crate::context::Context;

use super::{simnet_chain, simnet_providers};

#[derive(Debug, Subcommand)]
pub enum SimnetCommand {
    /// Serve a recorded chain folder as a CometBFT RPC node on 127.0.0.1.
    Serve(simnet_chain::ServeArgs),
    /// Write a deterministic synthetic chain in the same JSON shapes.
    Generate(simnet_chain::GenerateArgs),
    /// Run fake providers that answer /version, /status and gRPC GetStatus over TLS.
    Providers(simnet_providers::ProvidersArgs),
}

pub fn run(command: SimnetCommand, context: &Context) -> anyhow::Result<()> {
    match command {
        SimnetCommand::Serve(args) => simnet_chain::serve(args, context),
        SimnetCommand::Generate(args) => simnet_chain::generate(args, context),
        SimnetCommand::Providers(args) => simnet_providers::run(args, context),
    }
}
