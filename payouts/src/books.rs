//! What a plan or a reconciliation reads from the store, read in one place.

use domain::UnixMs;
use rewards::vesting::VestingEntry;
use store::settlement::{payouts, Payout};
use store::AnyConnection;

use crate::PayoutError;

/// The programme's sealed vesting entries and the payouts its wallets sent up to `at`.
#[derive(Debug, Clone)]
pub struct Books {
    /// The instant the books are read at.
    pub at: UnixMs,
    /// Every sealed vesting entry, in creation order.
    pub entries: Vec<VestingEntry>,
    /// Every transfer of the programme denom from one of the programme's wallets to another
    /// address, in blocks up to `at`, in chain order.
    pub payouts: Vec<Payout>,
}

impl Books {
    /// Reads programme `name`'s books at `at`: its entries, and what `wallets` sent in `denom`.
    pub fn load(
        conn: &mut AnyConnection,
        name: &str,
        wallets: &[String],
        denom: &str,
        at: UnixMs,
    ) -> Result<Self, PayoutError> {
        Ok(Books {
            at,
            entries: settlement::vesting_entries(conn, name)?,
            payouts: payouts(conn, wallets, denom, at.0)?,
        })
    }
}
