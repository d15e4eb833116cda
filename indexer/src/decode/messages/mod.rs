//! Hand-written prost (0.14) structs for every message the indexer reads, one per type URL and
//! version, with the type URL constants.
//!
//! Decoding must follow the type URL because field numbers differ between versions (for example
//! `MsgCreateBid` moved from `order=1, provider=2, price=3` in market v1beta4 to `id=1, price=2`
//! in v1beta5). Where two versions share a wire shape, the type is shared and each version module
//! re-exports it next to its own type URL constants. The same structs encode the synthetic chain.
//!
//! Cosmos `sdk.Dec` fields (`DecCoin.amount`) travel on the wire as the integer value × 10^18
//! (`"2037578017543302848935"` for `2037.578017543302848935`); [`dec_from_wire`] and
//! [`dec_to_wire`] convert.

pub mod base;
pub mod cosmos;
pub mod deployment;
pub mod escrow;
pub mod market;
pub mod provider;

use domain::CHAIN_DECIMAL_PLACES as DEC_PLACES;

/// The decimal text of a `sdk.Dec` from its wire form (integer atomics, 10^-18 each).
///
/// Returns `None` for anything but ASCII digits (an optional `-` is rejected too: prices and
/// amounts are never negative), or for more than 100 digits. Empty text is zero, as the chain's
/// `LegacyDec` unmarshals it. A value that already carries a `.` is not valid wire text and is
/// rejected.
pub fn dec_from_wire(atomics: &str) -> Option<String> {
    if atomics.len() > 100 || !atomics.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = atomics.trim_start_matches('0');
    let mut text = String::with_capacity(digits.len().max(DEC_PLACES + 1) + 2);
    if digits.len() <= DEC_PLACES {
        text.push('0');
        text.push('.');
        text.extend(std::iter::repeat_n('0', DEC_PLACES - digits.len()));
        text.push_str(digits);
    } else {
        let (whole, fraction) = digits.split_at(digits.len() - DEC_PLACES);
        text.push_str(whole);
        text.push('.');
        text.push_str(fraction);
    }
    Some(text)
}

/// The wire form (integer atomics) of a decimal with at most 18 fractional digits, the inverse of
/// [`dec_from_wire`]. Returns `None` for text that is not a non-negative decimal.
pub fn dec_to_wire(decimal: &str) -> Option<String> {
    let (whole, fraction) = decimal.split_once('.').unwrap_or((decimal, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !all_digits(whole)
        || !all_digits(fraction)
        || fraction.len() > DEC_PLACES
    {
        return None;
    }
    let mut atomics = String::with_capacity(whole.len() + DEC_PLACES);
    atomics.push_str(whole);
    atomics.push_str(fraction);
    atomics.extend(std::iter::repeat_n('0', DEC_PLACES - fraction.len()));
    let trimmed = atomics.trim_start_matches('0');
    Some(if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn dec_wire_text_converts_both_ways_exactly() {
        assert_eq!(
            dec_from_wire("2037578017543302848935").as_deref(),
            Some("2037.578017543302848935")
        );
        assert_eq!(dec_from_wire("5").as_deref(), Some("0.000000000000000005"));
        assert_eq!(dec_from_wire("").as_deref(), Some("0.000000000000000000"));
        assert_eq!(dec_from_wire("-5"), None);
        assert_eq!(dec_from_wire("1.5"), None);
        assert_eq!(
            dec_to_wire("2037.578017543302848935").as_deref(),
            Some("2037578017543302848935")
        );
        assert_eq!(
            dec_to_wire("1000000").as_deref(),
            Some("1000000000000000000000000")
        );
        assert_eq!(dec_to_wire("0.5").as_deref(), Some("500000000000000000"));
        assert_eq!(dec_to_wire("1.0000000000000000001"), None);
        assert_eq!(dec_to_wire("x"), None);
    }

    #[test]
    fn market_v1beta5_bid_ids_carry_bseq_at_tag_6() {
        let id = market::v1::BidId {
            owner: "akash1owner".into(),
            dseq: 7,
            gseq: 1,
            oseq: 2,
            provider: "akash1provider".into(),
            bseq: 3,
        };
        let bytes = id.encode_to_vec();
        // The v1beta3 id ignores the unknown tag 6; the v1 id keeps it.
        let old = market::v1beta3::BidId::decode(bytes.as_slice()).unwrap();
        assert_eq!(old.provider, "akash1provider");
        assert_eq!(market::v1::BidId::decode(bytes.as_slice()).unwrap().bseq, 3);
    }
}
