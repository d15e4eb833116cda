//! Per provider: what has vested at `T` in each pool, what was paid, and how the payments are
//! split over the pools (oldest entries first; see the crate docs).

use std::collections::BTreeMap;

use domain::BaseUnits;
use rewards::programme::PoolKind;
use store::settlement::Payout;

use crate::{Books, PayoutError};

/// One pool's part of a provider's account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolAccount {
    /// Vested at `T` in this pool.
    pub vested: BaseUnits,
    /// The part of the provider's payments that reached this pool's entries; never above
    /// `vested`.
    pub paid: BaseUnits,
}

impl PoolAccount {
    /// `vested − paid`: what this pool still owes the provider.
    pub fn claimable(&self) -> BaseUnits {
        BaseUnits(self.vested.get().saturating_sub(self.paid.get()))
    }
}

/// A provider's (or any recipient's) account at `T`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// Whether the address has any sealed vesting entry at all; a recipient without one earned
    /// nothing from the programme.
    pub earned: bool,
    /// Per pool in which something vested or was paid.
    pub pools: BTreeMap<PoolKind, PoolAccount>,
    /// Vested at `T`, all pools.
    pub vested: BaseUnits,
    /// Paid up to `T`, all transfers.
    pub paid: BaseUnits,
    /// The transfers to this address, in chain order.
    pub payouts: Vec<Payout>,
}

impl Account {
    /// `vested − paid` when positive: what may be paid now.
    pub fn claimable(&self) -> BaseUnits {
        BaseUnits(self.vested.get().saturating_sub(self.paid.get()))
    }

    /// `paid − vested` when positive: what was sent beyond what has vested.
    pub fn overpaid(&self) -> BaseUnits {
        BaseUnits(self.paid.get().saturating_sub(self.vested.get()))
    }
}

/// Every address's [`Account`] at `books.at`: each provider with a vesting entry, and each
/// recipient of a payout (a recipient the indexer could not name is the empty address).
pub fn accounts(books: &Books) -> Result<BTreeMap<String, Account>, PayoutError> {
    let mut out: BTreeMap<String, Account> = BTreeMap::new();
    for payout in &books.payouts {
        let account = out.entry(payout.recipient.clone()).or_default();
        account.paid = add(account.paid, payout.amount, &payout.recipient)?;
        account.payouts.push(payout.clone());
    }
    // What is left of each provider's payments to apply to its entries, oldest first.
    let mut unapplied: BTreeMap<String, BaseUnits> =
        out.iter().map(|(p, a)| (p.clone(), a.paid)).collect();
    for entry in &books.entries {
        let account = out.entry(entry.provider.clone()).or_default();
        account.earned = true;
        let vested = entry.vested_at(books.at);
        if vested == BaseUnits::ZERO {
            continue;
        }
        let left = unapplied.entry(entry.provider.clone()).or_default();
        let applied = BaseUnits(left.get().min(vested.get()));
        *left = BaseUnits(left.get() - applied.get());
        account.vested = add(account.vested, vested, &entry.provider)?;
        let pool = account.pools.entry(entry.pool).or_default();
        pool.vested = add(pool.vested, vested, &entry.provider)?;
        pool.paid = add(pool.paid, applied, &entry.provider)?;
    }
    Ok(out)
}

/// `a + b`, or the overflow error naming `provider`.
pub(crate) fn add(a: BaseUnits, b: BaseUnits, provider: &str) -> Result<BaseUnits, PayoutError> {
    a.checked_add(b).ok_or_else(|| PayoutError::Overflow {
        provider: provider.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::UnixMs;
    use rewards::ledger::Bucket;
    use rewards::vesting::{Vesting, VestingEntry};

    fn entry(epoch: u32, pool: PoolKind, amount: u128) -> VestingEntry {
        VestingEntry {
            number: epoch as usize,
            epoch,
            pool,
            bucket: Bucket::Contract("c1".into()),
            provider: "p".into(),
            schedule_id: "immediate".into(),
            schedule: Vesting::Immediate,
            anchor_ms: UnixMs(i64::from(epoch + 1) * 10),
            amount: BaseUnits(amount),
            clawback: None,
        }
    }

    /// Payments reach the oldest entries first: 150 covers epoch 0's committed 100 and 50 of
    /// epoch 1's R&D 80; epoch 2's liquidity mining, not vested at 25, takes nothing.
    #[test]
    fn payments_are_applied_to_the_oldest_vested_entries_first() {
        let books = Books {
            at: UnixMs(25),
            entries: vec![
                entry(0, PoolKind::Committed, 100),
                entry(1, PoolKind::Rnd, 80),
                entry(2, PoolKind::LiquidityMining, 40),
            ],
            payouts: vec![Payout {
                height: 1,
                time_ms: 25,
                tx_hash: "TX".into(),
                msg_index: 0,
                leg: 0,
                recipient: "p".into(),
                amount: BaseUnits(150),
            }],
        };
        let account = &accounts(&books).unwrap()["p"];
        let pool = |vested, paid| PoolAccount {
            vested: BaseUnits(vested),
            paid: BaseUnits(paid),
        };
        assert_eq!(
            account.pools,
            BTreeMap::from([
                (PoolKind::Committed, pool(100, 100)),
                (PoolKind::Rnd, pool(80, 50)),
            ])
        );
        assert_eq!(
            (account.claimable(), account.overpaid()),
            (BaseUnits(30), BaseUnits(0))
        );
    }
}
