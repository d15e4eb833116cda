//! The positions CSV (moved here from settlement's tests with its writer): the documented
//! header, one row per provider in address order, and an overpayment in `overpaid`, never as a
//! negative `claimable`.
//! The positions are those settlement's test computes at T0 + 3 h; the whole path from the
//! store to the CSV is checked by the CLI's `settle positions` test.

use std::collections::BTreeMap;

use domain::BaseUnits;
use reports::positions::write_positions_csv;
use rewards::vesting::Position;

const P1: &str = "akash1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const P2: &str = "akash1cccccccccccccccccccccccccccccccccccccc";
const P3: &str = "akash1dddddddddddddddddddddddddddddddddddddd";
const STRANGER: &str = "akash1zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";

fn position(earned: u128, vested: u128, unvested: u128, clawed_back: u128, paid: u128) -> Position {
    Position {
        earned: BaseUnits(earned),
        vested: BaseUnits(vested),
        unvested: BaseUnits(unvested),
        clawed_back: BaseUnits(clawed_back),
        paid: BaseUnits(paid),
        claimable: BaseUnits(vested.saturating_sub(paid)),
        overpaid: BaseUnits(paid.saturating_sub(vested)),
    }
}

#[test]
fn positions_are_written_with_the_documented_header_in_address_order() {
    let positions: BTreeMap<String, Position> = [
        (STRANGER, position(0, 0, 0, 0, 5)),
        (P1, position(2_555_556, 1_555_556, 0, 1_000_000, 1)),
        (P3, position(1_250_000, 1_250_000, 0, 0, 0)),
        (P2, position(2_444_444, 2_444_444, 0, 0, 1_000_000)),
    ]
    .into_iter()
    .map(|(provider, p)| (provider.to_string(), p))
    .collect();
    let mut csv = Vec::new();
    write_positions_csv(&mut csv, &positions).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(
        csv.lines().next(),
        Some("provider,earned,vested,unvested,clawed_back,paid,claimable,overpaid")
    );
    assert!(
        csv.contains(&format!("{STRANGER},0,0,0,0,5,0,5\n")),
        "{csv}"
    );
    assert_eq!(
        csv,
        format!(
            "provider,earned,vested,unvested,clawed_back,paid,claimable,overpaid\n\
             {P1},2555556,1555556,0,1000000,1,1555555,0\n\
             {P2},2444444,2444444,0,0,1000000,1444444,0\n\
             {P3},1250000,1250000,0,0,0,1250000,0\n\
             {STRANGER},0,0,0,0,5,0,5\n"
        )
    );
}
