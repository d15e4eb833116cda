//! `verify`: check what the project publishes without trusting whoever published it.
//!
//! `verify --proof FILE` checks a provider's Merkle proof (`reports::merkle`): every leaf's
//! fields must hash to its stated hash and its path must lead to the stated root. Checking a
//! whole audit bundle (`verify DIR`) is not implemented yet; the argument is accepted so that it
//! says so instead of failing as an unknown argument.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use reports::merkle::Proof;

use super::not_implemented;
use crate::exit::UsageError;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A provider's proof file (JSON), checked against the root it names.
    #[arg(long, value_name = "FILE", conflicts_with = "bundle")]
    proof: Option<PathBuf>,

    /// A published audit bundle to re-derive (not implemented yet).
    #[arg(value_name = "DIR")]
    bundle: Option<PathBuf>,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    match (args.proof, args.bundle) {
        (Some(path), _) => verify_proof(&path),
        (None, Some(_)) => Err(not_implemented("verify DIR")),
        (None, None) => Err(not_implemented("verify")),
    }
}

/// Reads and checks one proof file; prints one line when it holds.
fn verify_proof(path: &Path) -> anyhow::Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        // The path was mistyped: the user's to fix on the command line.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(UsageError(format!("there is no proof file at {}", path.display())).into())
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read the proof {}", path.display()))
        }
    };
    let proof: Proof = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a proof file (expected {{\"root\": hex, \"leaves\": [...]}})",
            path.display()
        )
    })?;
    proof
        .verify()
        .with_context(|| format!("the proof in {} does not hold", path.display()))?;
    match proof.provider() {
        Some(provider) => println!(
            "proof ok: {} leaf(s) of {provider} under root {}",
            proof.leaves.len(),
            proof.root
        ),
        None => println!(
            "proof ok: 0 leaf(s) under root {} (it names no provider and proves nothing)",
            proof.root
        ),
    }
    Ok(())
}
