//! `settle [--epoch K | --through K | --all] [--dry-run] [--now T]` and `settle positions`: seal
//! epochs of the configured programme, and show what each provider is owed.
//!
//! Without a selector, `settle` settles the next epoch. Already sealed epochs in the selection
//! are re-measured and compared with what was sealed; a difference is reported as late data and
//! changes nothing. Late data does not make the command fail: a sealed epoch cannot change, so
//! the alarm could never be cleared, and every later run would fail with it.
//!
//! Output, one line each, amounts in base units of the payout denom and in whole tokens:
//!
//! ```text
//! epoch 0 sealed [2024-02-15T00:00:00Z, 2024-02-15T01:00:00Z) uakt: 4 line items, inputs sha256:…
//! epoch 0 committed: opening 100,000,000 uakt (100 AKT), allocated 2,000,000 uakt (2 AKT), …
//! ```

use std::io::Write;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use reports::atomic::write_to;
use settlement::{
    last_ended_epoch, next_epoch, pool_name, settle_epoch, settle_through, EpochOutcome, Mode,
    PoolSummary, SettlementConfig,
};

use crate::context::Context;
use crate::exit::UsageError;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SettleArgs {
    #[command(subcommand)]
    command: Option<SettleCommand>,

    /// Settle epoch K if it is the next one; re-check it if it is already sealed.
    #[arg(long, value_name = "K", conflicts_with_all = ["through", "all"])]
    epoch: Option<u32>,

    /// Settle every epoch up to and including K, in order.
    #[arg(long, value_name = "K", conflicts_with = "all")]
    through: Option<u32>,

    /// Settle every epoch whose window has ended.
    #[arg(long)]
    all: bool,

    /// Compute and print the settlement, but write nothing.
    #[arg(long)]
    dry_run: bool,

    /// Take this RFC 3339 instant as the current time instead of the clock, so a recorded chain
    /// settles the same way every time.
    #[arg(long, value_name = "T", value_parser = parse_instant)]
    now: Option<i64>,
}

#[derive(Debug, Subcommand)]
enum SettleCommand {
    /// Print every provider's position as CSV: provider, earned, vested, unvested, clawed_back,
    /// paid (transfers from the watched wallets in the payout denom), claimable (vested − paid,
    /// never negative) and overpaid (paid − vested, when more was sent than has vested), in
    /// base units. Every overpaid provider is also warned about on standard error.
    Positions {
        /// The instant to report at (RFC 3339; default: now).
        #[arg(long, value_name = "T", value_parser = parse_instant)]
        at: Option<i64>,
    },
}

/// An instant typed on the command line (RFC 3339, or a date meaning its UTC midnight) as unix
/// milliseconds.
pub(super) fn parse_instant(text: &str) -> Result<i64, String> {
    domain::UnixMs::parse(text)
        .map(domain::UnixMs::as_millis)
        .map_err(|e| e.to_string())
}

/// The wall clock, read here at the edge only.
pub(super) fn wall_clock_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub fn run(args: SettleArgs, context: &Context) -> anyhow::Result<()> {
    let config = context.config()?;
    if let Some(SettleCommand::Positions { at }) = args.command {
        let mut store = context.store()?;
        let at = at.unwrap_or_else(wall_clock_ms);
        let positions = settlement::positions(
            store.conn(),
            &config.name,
            &config.programme,
            &config.chain.watched_wallets,
            at,
        )
        .context("cannot compute positions")?;
        write_to(None, |out| {
            reports::positions::write_positions_csv(out, &positions)
        })
        .context("cannot write positions")?;
        for (provider, p) in positions
            .iter()
            .filter(|(_, p)| p.overpaid != domain::BaseUnits::ZERO)
        {
            tracing::warn!(
                provider = provider.as_str(),
                vested = %p.vested,
                paid = %p.paid,
                overpaid = %p.overpaid,
                "OVERPAID: sent more than has vested; run `akash-incentives reconcile` for the transfers"
            );
        }
        return Ok(());
    }
    let epochs = config.programme.calendar.epochs;
    if let Some(k) = args.epoch.or(args.through).filter(|k| *k >= epochs) {
        return Err(UsageError(format!(
            "epoch {k} is outside programme {}, whose epochs are 0 to {}",
            config.name,
            epochs.saturating_sub(1)
        ))
        .into());
    }
    let mut store = context.store()?;
    let settle = settlement_config(&config)?;
    let now_ms = args.now.unwrap_or_else(wall_clock_ms);
    let mode = if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Seal
    };
    let denom = &config.programme.denom;
    let warn_gpus = u64::from(config.prober.unverified_gpus_warn);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failed_to_print = None;
    let print = |outcome: EpochOutcome| {
        if let Err(e) = print_outcome(&mut out, denom, warn_gpus, &outcome) {
            failed_to_print.get_or_insert(e);
        }
    };
    let result = match (args.epoch, args.through, args.all) {
        (Some(epoch), _, _) => settle_epoch(&mut store, &settle, epoch, now_ms, mode).map(print),
        (None, Some(through), _) => {
            settle_through(&mut store, &settle, through, now_ms, mode, print)
        }
        (None, None, true) => match last_ended_epoch(&config.programme, now_ms) {
            Some(through) => settle_through(&mut store, &settle, through, now_ms, mode, print),
            None => {
                writeln!(
                    out,
                    "no epoch of programme {} has ended at {}; nothing to settle",
                    config.name,
                    domain::UnixMs(now_ms)
                )?;
                Ok(())
            }
        },
        (None, None, false) => {
            let next = next_epoch(&mut store, &settle)?;
            if next >= epochs {
                writeln!(
                    out,
                    "all {epochs} epochs of programme {} are sealed",
                    config.name
                )?;
                Ok(())
            } else {
                settle_epoch(&mut store, &settle, next, now_ms, mode).map(print)
            }
        }
    };
    result.with_context(|| format!("cannot settle programme {}", config.name))?;
    match failed_to_print {
        Some(e) => Err(e).context("cannot print the settlement"),
        None => Ok(()),
    }
}

/// One header line for the epoch, one line per pool, and warnings about late or unattributed
/// data.
/// One epoch's outcome on stdout: what was sealed, leases that could not be measured, and the
/// providers whose self-reported capacity exceeded their leased peak by more than `warn_gpus`
/// for most of the epoch (inventory comes from the provider itself, so these are worth an audit).
fn print_outcome(
    out: &mut impl Write,
    denom: &rewards::money::Denomination,
    warn_gpus: u64,
    outcome: &EpochOutcome,
) -> std::io::Result<()> {
    let span = |w: rewards::calendar::Window| format!("[{}, {})", w.start_ms(), w.end_ms());
    let pools = match outcome {
        EpochOutcome::Sealed(s) => {
            let what = if s.written {
                "sealed"
            } else {
                "settled (dry run, nothing written)"
            };
            writeln!(
                out,
                "epoch {} {what} {} {}: {} line items, inputs sha256:{}",
                s.epoch,
                span(s.window),
                denom.name,
                s.settlement.line_items.len(),
                s.measured.inputs_hash
            )?;
            let measurements = &s.measured.measurements;
            let unattributed = measurements.unattributed_leased_gpu_ms();
            let unsized_leases = measurements.unsized_leases();
            if unattributed > 0 || unsized_leases > 0 {
                writeln!(
                    out,
                    "epoch {} unmeasured leases: {unattributed} GPU-ms under leases of no class, \
                     {unsized_leases} lease(s) of unknown GPU count",
                    s.epoch
                )?;
            }
            for u in measurements.unverified_capacity(warn_gpus) {
                writeln!(
                    out,
                    "epoch {} unverified capacity: {} reported {} {} GPU(s) online for most of \
                     the epoch, but its leases peaked at {} (warning above {warn_gpus} more)",
                    s.epoch, u.provider, u.reported_gpus, u.class, u.leased_peak_gpus
                )?;
            }
            s.pools()
        }
        EpochOutcome::AlreadySealed(a) => {
            writeln!(
                out,
                "epoch {} already sealed {} {} at {}, inputs sha256:{}{}",
                a.epoch,
                span(a.window),
                denom.name,
                domain::UnixMs(a.sealed_at_ms),
                a.sealed_inputs_hash,
                if a.late_data() {
                    ""
                } else {
                    "; re-measured inputs unchanged"
                }
            )?;
            if a.late_data() {
                writeln!(
                    out,
                    "epoch {} LATE DATA: the inputs measured now hash to sha256:{}, not the \
                     sealed sha256:{}; data arrived after sealing. The sealed allocations stand \
                     unchanged: examine the difference.",
                    a.epoch, a.remeasured.inputs_hash, a.sealed_inputs_hash
                )?;
            }
            a.pools.clone()
        }
    };
    for PoolSummary {
        pool,
        opening,
        allocated,
        returned,
        clawed_back,
        closing,
        ..
    } in pools
    {
        let pool = pool_name(pool);
        let [opening, allocated, returned, clawed_back, closing] =
            [opening, allocated, returned, clawed_back, closing].map(|a| denom.human(a));
        writeln!(
            out,
            "epoch {} {pool}: opening {opening}, allocated {allocated}, returned {returned}, \
             clawed back {clawed_back}, closing {closing}",
            outcome.epoch()
        )?;
    }
    Ok(())
}

/// What settlement needs from the configuration (the programme, its name, the staleness).
pub(super) fn settlement_config(config: &settings::Config) -> anyhow::Result<SettlementConfig<'_>> {
    let max_staleness_ms = u64::try_from(config.prober.max_staleness.as_millis())
        .map_err(|_| UsageError("prober.max_staleness is too long".into()))?;
    Ok(SettlementConfig {
        name: &config.name,
        programme: &config.programme,
        max_staleness_ms,
        watched_wallets: &config.chain.watched_wallets,
    })
}
