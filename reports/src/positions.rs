//! The providers' positions as CSV (`settle positions`): what each provider earned, has vested,
//! still has unvested, lost to clawbacks, was paid, and can claim.
//!
//! The columns are a public interface, like the exports': the administrator's payout scripts
//! read them. `settlement::positions` computes the positions; this module only writes them,
//! so every published file's format lives in this crate.

use std::collections::BTreeMap;
use std::io::Write;

use rewards::vesting::Position;

/// Writes `positions` as CSV to `out`: a header of `provider` and the amounts' names
/// ([`Position::named`]), then one row per provider in address order (the map's order), so the
/// same positions always give the same bytes. Amounts are base units of the payout denom;
/// `claimable` is what may still be paid and is never negative: a provider paid more than has
/// vested has `claimable` 0 and the excess in `overpaid`.
pub fn write_positions_csv(
    out: impl Write,
    positions: &BTreeMap<String, Position>,
) -> Result<(), csv::Error> {
    let mut csv = csv::Writer::from_writer(out);
    let names = Position::default().named().map(|(name, _)| name);
    csv.write_record(std::iter::once("provider").chain(names))?;
    for (provider, p) in positions {
        let amounts = p.named().map(|(_, amount)| amount.to_string());
        csv.write_record(std::iter::once(provider.clone()).chain(amounts))?;
    }
    csv.flush()?;
    Ok(())
}
