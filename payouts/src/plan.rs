//! `payouts plan`: what is due at `T`, as a CSV and as unsigned transactions.
//!
//! Every provider whose vested amount at `T` exceeds what it was paid is paid the difference,
//! in one output of one `MsgMultiSend` from the programme wallet; nobody else is. A provider
//! is therefore never in a plan twice and never paid beyond what has vested, and the plan's
//! total is the sum of the positive claimable amounts. Outputs are in address order and split
//! into transactions of at most `max_msgs` outputs each, so the same store gives the same files.

use std::io::Write;
use std::str::FromStr;

use cosmrs::bank::{MsgMultiSend, MultiSendIo};
use cosmrs::{AccountId, Coin, Denom};
use domain::BaseUnits;
use rewards::programme::PoolKind;

use crate::accounts::{accounts, add, PoolAccount};
use crate::tx::{Fee, UnsignedTx};
use crate::{Books, PayoutError};

/// One provider's payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanLine {
    /// The provider.
    pub provider: String,
    /// What each pool still owes it (only pools owing something), in pool order.
    pub pools: Vec<(PoolKind, BaseUnits)>,
    /// Vested at `T`, all pools.
    pub vested: BaseUnits,
    /// Paid up to `T`.
    pub paid: BaseUnits,
    /// What this plan pays: `vested − paid`, positive.
    pub amount: BaseUnits,
}

/// What the plan is for; it goes into every memo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanScope<'a> {
    /// The programme's name.
    pub programme: &'a str,
    /// The last sealed epoch that ended at or before `T` (epochs `0..=last` are covered).
    pub last_epoch: u32,
    /// The Merkle root of that epoch's cumulative vested amounts, as its report publishes it.
    pub merkle_root: &'a str,
    /// The programme denom, in which every output is paid.
    pub denom: &'a str,
    /// The wallet that pays.
    pub wallet: &'a str,
    /// Outputs per transaction, at least 1.
    pub max_msgs: usize,
    /// Fee and gas of each transaction.
    pub fee: Fee,
}

/// A payout plan: its lines, its total and the transactions that pay it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// One per provider paid, in address order.
    pub lines: Vec<PlanLine>,
    /// The sum of the lines' amounts.
    pub total: BaseUnits,
    /// The lines in chunks of at most `max_msgs`, one transaction each.
    pub transactions: Vec<UnsignedTx>,
}

/// The columns of `payouts.csv`, in order. `pools` lists what each pool owes as
/// `pool:amount`, separated by `;`; amounts are base units of the programme denom.
pub const PLAN_COLUMNS: [&str; 5] = ["provider", "pools", "vested", "paid", "amount"];

/// The plan at `books.at` (see the module docs).
pub fn plan(books: &Books, scope: &PlanScope<'_>) -> Result<Plan, PayoutError> {
    let mut lines = Vec::new();
    let mut total = BaseUnits::ZERO;
    for (provider, account) in accounts(books)? {
        let amount = account.claimable();
        if amount == BaseUnits::ZERO {
            continue;
        }
        total = add(total, amount, &provider)?;
        let pools = account
            .pools
            .iter()
            .map(|(pool, a)| (*pool, PoolAccount::claimable(a)))
            .filter(|(_, owed)| *owed != BaseUnits::ZERO)
            .collect();
        lines.push(PlanLine {
            provider,
            pools,
            vested: account.vested,
            paid: account.paid,
            amount,
        });
    }
    let chunks: Vec<&[PlanLine]> = lines.chunks(scope.max_msgs.max(1)).collect();
    let parts = chunks.len();
    let transactions = chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let memo = memo(scope, i + 1, parts);
            UnsignedTx::new(&multi_send(scope, chunk)?, &memo, &scope.fee)
        })
        .collect::<Result<_, _>>()?;
    Ok(Plan {
        lines,
        total,
        transactions,
    })
}

/// `<programme> payout, epochs 0-<K>, merkle <root>, part <i>/<n>`: enough for anyone reading
/// the chain to find the report the payment is for, and to check it against the root.
fn memo(scope: &PlanScope<'_>, part: usize, parts: usize) -> String {
    format!(
        "{} payout, epochs 0-{}, merkle {}, part {part}/{parts}",
        scope.programme, scope.last_epoch, scope.merkle_root
    )
}

/// One `MsgMultiSend`: the wallet's input of the chunk's sum, one output per line.
fn multi_send(scope: &PlanScope<'_>, chunk: &[PlanLine]) -> Result<MsgMultiSend, PayoutError> {
    let denom = Denom::from_str(scope.denom).map_err(|e| unpayable(scope.denom, e))?;
    let coin = |amount: BaseUnits| Coin {
        denom: denom.clone(),
        amount: amount.get(),
    };
    let account = |address: &str| AccountId::from_str(address).map_err(|e| unpayable(address, e));
    let mut sum = BaseUnits::ZERO;
    let mut outputs = Vec::with_capacity(chunk.len());
    for line in chunk {
        sum = add(sum, line.amount, &line.provider)?;
        outputs.push(MultiSendIo {
            address: account(&line.provider)?,
            coins: vec![coin(line.amount)],
        });
    }
    Ok(MsgMultiSend {
        inputs: vec![MultiSendIo {
            address: account(scope.wallet)?,
            coins: vec![coin(sum)],
        }],
        outputs,
    })
}

fn unpayable(what: &str, problem: impl std::fmt::Display) -> PayoutError {
    PayoutError::Unpayable {
        what: format!("{what:?}"),
        problem: problem.to_string(),
    }
}

/// Writes the plan's lines as CSV: the [`PLAN_COLUMNS`] header, then one row per line.
pub fn write_plan_csv(out: impl Write, plan: &Plan) -> Result<(), csv::Error> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(PLAN_COLUMNS)?;
    for line in &plan.lines {
        let pools = line
            .pools
            .iter()
            .map(|(pool, owed)| format!("{}:{owed}", settlement::pool_name(*pool)))
            .collect::<Vec<_>>()
            .join(";");
        csv.write_record([
            line.provider.clone(),
            pools,
            line.vested.to_string(),
            line.paid.to_string(),
            line.amount.to_string(),
        ])?;
    }
    csv.flush()?;
    Ok(())
}
