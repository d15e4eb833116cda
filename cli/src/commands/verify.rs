//! `verify`: check what the project publishes without trusting whoever published it.
//!
//! `verify --proof FILE` checks a provider's Merkle proof (`reports::merkle`): every leaf's
//! fields must hash to its stated hash and its path must lead to the stated root.
//!
//! `verify DIR/<programme>` re-derives every published epoch in order, and
//! `verify DIR/<programme>/epoch-<K>` one epoch from the previous epoch's state
//! (`reports::verify`), with no database and no network. Success prints one line; any
//! difference exits 1 naming the file, row and field.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use reports::bundle::MANIFEST_FILE;
use reports::merkle::Proof;

use crate::exit::UsageError;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A provider's proof file (JSON), checked against the root it names.
    #[arg(long, value_name = "FILE", conflicts_with = "bundle")]
    proof: Option<PathBuf>,

    /// A published programme folder (DIR/<programme>) or one epoch of it
    /// (DIR/<programme>/epoch-<K>) to re-derive.
    #[arg(value_name = "DIR")]
    bundle: Option<PathBuf>,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    match (args.proof, args.bundle) {
        (Some(path), _) => verify_proof(&path),
        (None, Some(folder)) => verify_bundle(&folder),
        (None, None) => Err(UsageError(
            "nothing to verify: give a report folder (DIR/<programme> or \
             DIR/<programme>/epoch-<K>) or --proof FILE"
                .into(),
        )
        .into()),
    }
}

/// Re-derives a programme folder, or one epoch folder when it holds a manifest.
fn verify_bundle(folder: &Path) -> anyhow::Result<()> {
    if !folder.is_dir() {
        return Err(
            UsageError(format!("there is no report folder at {}", folder.display())).into(),
        );
    }
    let verdict = if folder.join(MANIFEST_FILE).exists() {
        reports::verify::verify_one(folder)
    } else {
        let bar = epochs_bar();
        let verdict = reports::verify::verify_programme_showing(folder, |done, total| {
            if let Some(bar) = &bar {
                bar.set_length(u64::try_from(total).unwrap_or(u64::MAX));
                bar.set_position(u64::try_from(done).unwrap_or(u64::MAX));
            }
        });
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        verdict
    }
    .context("verification failed")?;
    let (first, last) = (
        verdict.epochs.first().copied().unwrap_or_default(),
        verdict.epochs.last().copied().unwrap_or_default(),
    );
    println!(
        "verified: programme {}, {} epoch(s) ({first}–{last}), {} line items, root {}",
        verdict.programme,
        verdict.epochs.len(),
        verdict.line_items,
        verdict.root
    );
    Ok(())
}

/// A bar of epochs verified, on a terminal standard error only: a file or a pipe gets the
/// result line alone.
fn epochs_bar() -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal as _;
    std::io::stderr().is_terminal().then(|| {
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} epochs verified, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(std::time::Duration::from_millis(250));
        bar
    })
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
