//! `reconcile`: what the programme wallet actually sent, per provider, against what had vested.
//!
//! Four findings, each naming the transfers (height and transaction hash) behind it:
//!
//! * **overpaid**: more was sent by `T` than had vested by `T`;
//! * **underpaid**: less was sent by `T` than had vested by `T` (vested and still owed);
//! * **unknown recipient**: a transfer to an address with no vesting entry in the programme at
//!   all, or one whose recipient the indexer could not name (a legacy multi-input
//!   `MsgMultiSend`); such an address gets no other finding;
//! * **paid before vesting**: a transfer after which the provider had been sent more than had
//!   vested at that transfer's block time, even if vesting later caught up.
//!
//! A clean reconciliation has no finding: every provider was sent exactly what had vested.

use domain::{BaseUnits, UnixMs};
use rewards::vesting::VestingEntry;
use store::settlement::Payout;

use crate::accounts::{accounts, add};
use crate::{Books, PayoutError};

/// What is wrong, and by how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flag {
    /// Sent beyond what had vested by `T`, by this much.
    Overpaid(BaseUnits),
    /// Vested by `T` and not sent, this much.
    Underpaid(BaseUnits),
    /// Sent to an address that earned nothing.
    UnknownRecipient,
    /// After this transfer `paid` had been sent while only `vested` had vested at its block
    /// time.
    PaidBeforeVesting {
        /// Sent to the provider up to and including the transfer.
        paid: BaseUnits,
        /// Vested at the transfer's block time.
        vested: BaseUnits,
    },
}

impl Flag {
    /// The flag's name as printed: `overpaid`, `underpaid`, `unknown recipient`,
    /// `paid before vesting`.
    pub fn name(&self) -> &'static str {
        match self {
            Flag::Overpaid(_) => "overpaid",
            Flag::Underpaid(_) => "underpaid",
            Flag::UnknownRecipient => "unknown recipient",
            Flag::PaidBeforeVesting { .. } => "paid before vesting",
        }
    }
}

/// One finding about one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The provider or recipient (empty: a recipient the indexer could not name).
    pub provider: String,
    /// What is wrong.
    pub flag: Flag,
    /// The transfers concerned, in chain order.
    pub payouts: Vec<Payout>,
}

/// One address's totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The provider or recipient.
    pub provider: String,
    /// Vested at `T`.
    pub vested: BaseUnits,
    /// Sent up to `T`.
    pub paid: BaseUnits,
    /// How many transfers that took.
    pub transfers: usize,
}

/// The whole reconciliation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation {
    /// The instant it is at.
    pub at: UnixMs,
    /// Every provider and recipient, in address order.
    pub lines: Vec<Line>,
    /// Every finding, by address, then in the order listed in the module docs.
    pub findings: Vec<Finding>,
}

impl Reconciliation {
    /// Whether nothing was flagged.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Reconciles `books` (see the module docs).
pub fn reconcile(books: &Books) -> Result<Reconciliation, PayoutError> {
    let mut lines = Vec::new();
    let mut findings = Vec::new();
    for (provider, account) in accounts(books)? {
        lines.push(Line {
            provider: provider.clone(),
            vested: account.vested,
            paid: account.paid,
            transfers: account.payouts.len(),
        });
        let finding = |flag, payouts: &[Payout]| Finding {
            provider: provider.clone(),
            flag,
            payouts: payouts.to_vec(),
        };
        if !account.earned || provider.is_empty() {
            findings.push(finding(Flag::UnknownRecipient, &account.payouts));
            continue;
        }
        let overpaid = account.overpaid();
        if overpaid != BaseUnits::ZERO {
            findings.push(finding(Flag::Overpaid(overpaid), &account.payouts));
        }
        let owed = account.claimable();
        if owed != BaseUnits::ZERO {
            findings.push(finding(Flag::Underpaid(owed), &account.payouts));
        }
        let mut paid = BaseUnits::ZERO;
        for payout in &account.payouts {
            paid = add(paid, payout.amount, &provider)?;
            let vested = vested_at(&books.entries, &provider, UnixMs(payout.time_ms))?;
            if paid > vested {
                findings.push(finding(
                    Flag::PaidBeforeVesting { paid, vested },
                    std::slice::from_ref(payout),
                ));
            }
        }
    }
    Ok(Reconciliation {
        at: books.at,
        lines,
        findings,
    })
}

/// What `provider` had vested at `t`, over all its entries.
fn vested_at(
    entries: &[VestingEntry],
    provider: &str,
    t: UnixMs,
) -> Result<BaseUnits, PayoutError> {
    entries
        .iter()
        .filter(|e| e.provider == provider)
        .try_fold(BaseUnits::ZERO, |sum, e| add(sum, e.vested_at(t), provider))
}
