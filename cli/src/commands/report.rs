//! `report --epoch K | --all --out DIR`: publish sealed epochs as audit bundles
//! (`reports::bundle`), one folder `DIR/<programme>/epoch-<K>/` each, written atomically.
//!
//! Each manifest holds the hash of the previous epoch's, so epoch `K` is written only once
//! epoch `K − 1`'s folder is in `DIR` (`--all` goes through them in order). A published folder
//! is never rewritten: asking again for an epoch already in `DIR`, with `--epoch` or `--all`,
//! checks that it would come out identical, says `unchanged` and leaves it alone.
//!
//! After publishing, both forms rewrite the programme's page `DIR/<programme>/report.html`
//! (`reports::page`) from the folders on disk, atomically; `report page DIR/<programme>` does
//! only that, with no configuration and no database, for anyone holding the folders.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use reports::bundle::{epoch_files, epoch_folder, publish, EpochContext, Published, MANIFEST_FILE};
use reports::page::write_page;
use settlement::sealed::read_sealed;
use settlement::SettlementConfig;
use store::Store;

use crate::context::Context;
use crate::exit::UsageError;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    command: Option<ReportCommand>,

    /// The sealed epoch to publish.
    #[arg(
        long,
        value_name = "K",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    epoch: Option<u32>,

    /// Publish every sealed epoch in order; those already in DIR are checked, not rewritten.
    #[arg(long)]
    all: bool,

    /// Where bundles go: DIR/<programme>/epoch-<K>/.
    #[arg(long, value_name = "DIR", required = true)]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// GPU utilization and gross lease revenue per class and model over a quarter
    /// (`--quarter 2024Q1`) or a window (`--from T --to T`): `utilization` and `revenue` as CSV
    /// and Parquet, and `summary.md` for a governance post, in DIR.
    Utilization(super::utilization::UtilizationArgs),
    /// Make DIR/<programme>/report.html again from the published epoch folders beside it (no
    /// configuration, no database): the page `report` writes after publishing.
    Page {
        /// The programme folder, DIR/<programme>.
        #[arg(value_name = "DIR/<programme>")]
        folder: PathBuf,
    },
}

pub fn run(args: ReportArgs, context: &Context) -> anyhow::Result<()> {
    let (out, command) = (args.out, args.command);
    match command {
        Some(ReportCommand::Utilization(args)) => return super::utilization::run(args, context),
        Some(ReportCommand::Page { folder }) => {
            if !folder.is_dir() {
                return Err(UsageError(format!(
                    "there is no programme folder at {}",
                    folder.display()
                ))
                .into());
            }
            return page(&folder);
        }
        None => {}
    }
    let Some(out) = out else {
        return Err(UsageError("report needs --out DIR".into()).into());
    };
    let config = context.config()?;
    let programme_toml = settings::published_programme(&config)
        .context("cannot publish the programme's configuration")?;
    let settle = super::settle::settlement_config(&config)?;
    let folder = out.join(&config.name);
    let mut store = context.store()?;
    let bundle = Bundle {
        settle: &settle,
        chain_id: &config.chain.chain_id,
        programme_toml: &programme_toml,
        folder: &folder,
    };
    match args.epoch {
        Some(epoch) => {
            bundle.write_range(&mut store, epoch..epoch + 1, |line| println!("{line}"))?
        }
        None => {
            let sealed = settlement::next_epoch(&mut store, &settle)?;
            if sealed == 0 {
                return Err(UsageError(format!(
                    "no epoch of programme {} is sealed yet: run `akash-incentives settle` first",
                    config.name
                ))
                .into());
            }
            // An epoch already published is made again and compared, never skipped unseen: a
            // folder that no longer matches the sealed epoch is an error.
            bundle.write_range(&mut store, 0..sealed, |line| println!("{line}"))?;
        }
    }
    page(&folder)
}

/// Rewrites the programme folder's page from what is published there; prints one line.
fn page(folder: &Path) -> anyhow::Result<()> {
    println!("{}", write_programme_page(folder)?);
    Ok(())
}

/// Rewrites the programme folder's page from what is published there; says what it did.
fn write_programme_page(folder: &Path) -> anyhow::Result<String> {
    let page = write_page(folder).context("cannot make the report page")?;
    Ok(format!(
        "page: {} {} (epochs 0–{})",
        outcome_word(page.outcome),
        page.path.display(),
        page.latest
    ))
}

fn outcome_word(outcome: Published) -> &'static str {
    match outcome {
        Published::Written => "written",
        Published::Unchanged => "unchanged",
    }
}

/// The previous epoch's manifest, which epoch `before + 1`'s manifest chains to.
fn previous_manifest(folder: &Path, before: u32) -> anyhow::Result<Vec<u8>> {
    let path = epoch_folder(folder, before).join(MANIFEST_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(UsageError(format!(
            "epoch {before} is not reported in {} yet, and the next manifest chains to its \
             manifest: report it first, or use --all",
            folder.display()
        ))
        .into()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// What publishing one programme's sealed epochs takes.
pub(super) struct Bundle<'a> {
    /// The programme.
    pub settle: &'a SettlementConfig<'a>,
    /// The chain its data comes from.
    pub chain_id: &'a str,
    /// Its published configuration ([`settings::published_programme`]).
    pub programme_toml: &'a str,
    /// `<out>/<programme>`.
    pub folder: &'a Path,
}

impl Bundle<'_> {
    /// Publishes, in order, the sealed epochs below `sealed` that have no folder in
    /// [`Bundle::folder`] yet, then remakes the page if any was written; returns a line per
    /// epoch written and one for the page. Folders already there are left to `verify`: checking
    /// each against the store again after every seal would grow with the programme.
    pub(super) fn publish_new(
        &self,
        store: &mut Store,
        sealed: u32,
    ) -> anyhow::Result<Vec<String>> {
        let published = |epoch: u32| {
            epoch_folder(self.folder, epoch)
                .join(MANIFEST_FILE)
                .is_file()
        };
        let first = (0..sealed)
            .find(|&epoch| !published(epoch))
            .unwrap_or(sealed);
        let mut lines = Vec::new();
        self.write_range(store, first..sealed, |line| lines.push(line))?;
        if !lines.is_empty() {
            lines.push(write_programme_page(self.folder)?);
        }
        Ok(lines)
    }

    /// Makes and publishes the folders of `epochs` in order, each chained to the manifest
    /// before it (which must be in the folder already for the first), handing `each` a line
    /// per epoch as it is done.
    fn write_range(
        &self,
        store: &mut Store,
        epochs: std::ops::Range<u32>,
        mut each: impl FnMut(String),
    ) -> anyhow::Result<()> {
        let mut previous = match epochs.start.checked_sub(1) {
            Some(before) => Some(previous_manifest(self.folder, before)?),
            None => None,
        };
        for epoch in epochs {
            each(self.write(store, epoch, previous.as_deref())?);
            let manifest = epoch_folder(self.folder, epoch).join(MANIFEST_FILE);
            previous = Some(
                std::fs::read(&manifest)
                    .with_context(|| format!("cannot read {}", manifest.display()))?,
            );
        }
        Ok(())
    }

    /// Makes and publishes epoch `epoch`'s folder; returns a line saying what happened.
    fn write(
        &self,
        store: &mut Store,
        epoch: u32,
        previous_manifest: Option<&[u8]>,
    ) -> anyhow::Result<String> {
        let span = tracing::info_span!("epoch", programme = self.settle.name, epoch);
        let _entered = span.enter();
        let record = read_sealed(store, self.settle, epoch)
            .with_context(|| format!("cannot report epoch {epoch}"))?;
        let context = EpochContext {
            programme: self.settle.name,
            chain_id: self.chain_id,
            denom: &self.settle.programme.denom.name,
            programme_toml: self.programme_toml,
            previous_manifest,
        };
        let files = epoch_files(&context, &record)
            .with_context(|| format!("cannot make the report of epoch {epoch}"))?;
        let target = epoch_folder(self.folder, epoch);
        let outcome = publish(&target, &files)
            .with_context(|| format!("cannot publish the report of epoch {epoch}"))?;
        Ok(format!(
            "epoch {epoch}: {} {} ({} line items, {} observations, {} leases)",
            outcome_word(outcome),
            target.display(),
            record.settlement.line_items.len(),
            record.material.observations.len(),
            record.material.leases.len()
        ))
    }
}
