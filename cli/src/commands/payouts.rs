//! `payouts plan --at T --out DIR`: what is due to each provider at `T`, written as
//! `DIR/payouts.csv` and unsigned transactions `DIR/tx-<i>.json` for `akash tx sign`
//! (`payouts::plan`). Prints one line per transaction and the total.
//!
//! `DIR` must be new or empty: a transaction file left from an earlier plan beside a new one
//! could be signed and broadcast by mistake, paying twice.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use domain::UnixMs;
use payouts::plan::{plan, write_plan_csv, PlanScope};
use payouts::tx::Fee;
use payouts::Books;
use reports::atomic::write_atomically;
use settlement::sealed::last_sealed_state;

use crate::context::Context;
use crate::exit::UsageError;

#[derive(Debug, Subcommand)]
pub enum PayoutsCommand {
    /// Plan the payouts due at T: per provider, vested − paid where positive, as
    /// DIR/payouts.csv and unsigned MsgMultiSend transactions DIR/tx-<i>.json.
    Plan(PlanArgs),
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The instant the plan pays up to (RFC 3339, or a date meaning its UTC midnight).
    #[arg(long, value_name = "T", value_parser = super::settle::parse_instant)]
    at: i64,

    /// A new or empty folder for payouts.csv and the transaction files.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(command: PayoutsCommand, context: &Context) -> anyhow::Result<()> {
    let PayoutsCommand::Plan(args) = command;
    let config = context.config()?;
    let wallet = config.payouts.wallet.clone().ok_or_else(|| {
        UsageError(
            "no programme wallet to pay from: set payouts.wallet or chain.watched_wallets".into(),
        )
    })?;
    refuse_used_folder(&args.out)?;
    let settle = super::settle::settlement_config(&config)?;
    let denom = &config.programme.denom.name;
    // The sealed state and the payouts are read on one snapshot: an epoch sealed or a transfer
    // indexed meanwhile cannot pair a root with payments it did not see.
    let (sealed, books) = context.store()?.snapshot(|store| -> anyhow::Result<_> {
        let sealed =
            last_sealed_state(store, &settle, args.at).context("cannot read the sealed epochs")?;
        let books = Books::load(
            store.conn(),
            &config.name,
            &config.chain.watched_wallets,
            denom,
            UnixMs(args.at),
        )
        .context("cannot read vesting entries and payouts")?;
        Ok((sealed, books))
    })?;
    let (last_epoch, window, state) = sealed.ok_or_else(|| {
        UsageError(format!(
            "no sealed epoch of programme {} had ended at {}: nothing has vested to pay",
            config.name,
            UnixMs(args.at)
        ))
    })?;
    let merkle_root = reports::bundle::merkle_tree(
        &config.chain.chain_id,
        &config.name,
        last_epoch,
        window,
        &state,
    )
    .with_context(|| format!("cannot compute the Merkle root of epoch {last_epoch}"))?
    .root_hex();
    let scope = PlanScope {
        programme: &config.name,
        last_epoch,
        merkle_root: &merkle_root,
        denom,
        wallet: &wallet,
        max_msgs: config.payouts.max_msgs,
        fee: Fee {
            amount: config.payouts.fee_amount.get(),
            denom: config.payouts.fee_denom.clone(),
            gas_limit: config.payouts.gas_limit,
        },
    };
    let plan = plan(&books, &scope).context("cannot plan the payouts")?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let csv = args.out.join("payouts.csv");
    write_atomically(&csv, |out| write_plan_csv(out, &plan))
        .with_context(|| format!("cannot write {}", csv.display()))?;
    let width = plan.transactions.len().to_string().len().max(3);
    for (i, tx) in plan.transactions.iter().enumerate() {
        let path = args.out.join(format!("tx-{:0width$}.json", i + 1));
        write_atomically(&path, |out| out.write_all(&tx.to_json()))
            .with_context(|| format!("cannot write {}", path.display()))?;
        let outputs = tx
            .body
            .messages
            .iter()
            .map(|payouts::tx::MessageJson::MultiSend { outputs, .. }| outputs.len())
            .sum::<usize>();
        println!(
            "{}: {outputs} outputs, memo {:?}",
            path.display(),
            tx.body.memo
        );
    }
    println!(
        "payout plan at {} for programme {} (epochs 0-{last_epoch}, merkle root {merkle_root}): \
         {} providers, total {} from {wallet}",
        UnixMs(args.at),
        config.name,
        plan.lines.len(),
        config.programme.denom.human(plan.total.0),
    );
    Ok(())
}

/// Refuses a folder that already holds anything (see the module docs).
fn refuse_used_folder(folder: &Path) -> anyhow::Result<()> {
    match std::fs::read_dir(folder) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(UsageError(format!(
                    "{} is not empty: write each plan to a new folder, so no transaction of an \
                     earlier plan is signed with it",
                    folder.display()
                ))
                .into());
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", folder.display())),
    }
}
