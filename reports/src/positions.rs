//! The providers' positions as CSV (`settle positions`): what each provider earned, has vested,
//! still has unvested, lost to clawbacks, was paid, and can claim.
//!
//! The columns are a public interface, like the exports': the administrator's payout scripts
//! read them. `settlement::positions` computes the positions; this module only writes them,
//! so every published file's format lives in this crate.

use std::collections::BTreeMap;
use std::io::Write;

use rewards::vesting::Position;

/// The columns of `settle positions`, in order. Amounts are base units of the payout denom;
/// `claimable` is what may still be paid and is never negative: a provider paid more than has
/// vested has `claimable` 0 and the excess in `overpaid`.
pub const POSITION_COLUMNS: [&str; 8] = [
    "provider",
    "earned",
    "vested",
    "unvested",
    "clawed_back",
    "paid",
    "claimable",
    "overpaid",
];

/// Writes `positions` as CSV to `out`: the [`POSITION_COLUMNS`] header, then one row per
/// provider in address order (the map's order), so the same positions always give the same
/// bytes.
pub fn write_positions_csv(
    out: impl Write,
    positions: &BTreeMap<String, Position>,
) -> Result<(), csv::Error> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(POSITION_COLUMNS)?;
    for (provider, p) in positions {
        csv.write_record([
            provider.clone(),
            p.earned.to_string(),
            p.vested.to_string(),
            p.unvested.to_string(),
            p.clawed_back.to_string(),
            p.paid.to_string(),
            p.claimable.to_string(),
            p.overpaid.to_string(),
        ])?;
    }
    csv.flush()?;
    Ok(())
}
