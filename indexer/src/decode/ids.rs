//! Checks that turn chain values into what the store can hold, with a reason when they cannot.
//!
//! The chain's ids are unsigned (`dseq` u64, `gseq`/`oseq`/`bseq` u32) while the store's columns
//! are signed BIGINT/INTEGER, so values past `i64::MAX` / `i32::MAX` are rejected as absurd
//! rather than wrapped. No real chain gets near these bounds.

use std::fmt;

use domain::ChainDecimal;

use crate::decode::facts::{Price, RejectionReason};

/// Longest account address or denom accepted (bech32 addresses are about 45–65 characters,
/// `ibc/<64 hex>` denoms 68).
const MAX_NAME_CHARS: usize = 256;

/// A field that cannot be stored, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    /// [`RejectionReason::AbsurdValue`] or [`RejectionReason::InvalidMessage`].
    pub reason: RejectionReason,
    /// What was wrong.
    pub detail: String,
}

impl FieldError {
    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        Self {
            reason: RejectionReason::InvalidMessage,
            detail: detail.into(),
        }
    }

    pub(crate) fn absurd(detail: impl Into<String>) -> Self {
        Self {
            reason: RejectionReason::AbsurdValue,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl From<FieldError> for String {
    fn from(error: FieldError) -> Self {
        error.detail
    }
}

/// An account address (owner, provider): non-empty, bounded.
pub(crate) fn owner(text: &str) -> Result<String, FieldError> {
    if text.is_empty() {
        return Err(FieldError::invalid("an account address is empty"));
    }
    if text.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::absurd(format!(
            "an account address is longer than {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(text.to_string())
}

/// A `dseq` from a message.
pub(crate) fn dseq(value: u64) -> Result<i64, FieldError> {
    i64::try_from(value).map_err(|_| FieldError::absurd(format!("dseq {value} exceeds 2^63-1")))
}

/// A `gseq`, `oseq` or `bseq` from a message.
pub(crate) fn seq(value: u32, name: &str) -> Result<i32, FieldError> {
    i32::try_from(value).map_err(|_| FieldError::absurd(format!("{name} {value} exceeds 2^31-1")))
}

/// A `dseq` written as decimal text (events).
pub(crate) fn dseq_text(text: &str) -> Result<i64, FieldError> {
    dseq(unsigned(text, "dseq")?)
}

/// A `gseq`, `oseq` or `bseq` written as decimal text (events).
pub(crate) fn seq_text(text: &str, name: &str) -> Result<i32, FieldError> {
    let value = unsigned(text, name)?;
    let narrow = u32::try_from(value)
        .map_err(|_| FieldError::absurd(format!("{name} {value} exceeds 2^32-1")))?;
    seq(narrow, name)
}

fn unsigned(text: &str, name: &str) -> Result<u64, FieldError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::invalid(format!(
            "{name} {text:?} is not a number"
        )));
    }
    text.parse()
        .map_err(|_| FieldError::absurd(format!("{name} {text:?} exceeds 2^64-1")))
}

/// A price from a denom and the decimal text of its amount.
pub(crate) fn price(denom: &str, amount: &str) -> Result<Price, FieldError> {
    if denom.is_empty() || denom.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::invalid(format!(
            "price denom {denom:?} is empty or too long"
        )));
    }
    let amount: ChainDecimal = amount
        .parse()
        .map_err(|e| FieldError::invalid(format!("price amount: {e}")))?;
    if amount.as_str().starts_with('-') {
        return Err(FieldError::invalid(format!(
            "price amount {amount} is negative"
        )));
    }
    Ok(Price {
        denom: denom.to_string(),
        amount,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_beyond_the_store_columns_are_absurd() {
        assert_eq!(dseq(42), Ok(42));
        assert_eq!(
            dseq(u64::MAX).unwrap_err().reason,
            RejectionReason::AbsurdValue
        );
        assert_eq!(
            seq(u32::MAX, "gseq").unwrap_err().reason,
            RejectionReason::AbsurdValue
        );
        assert_eq!(
            dseq_text("18446744073709551616").unwrap_err().reason,
            RejectionReason::AbsurdValue
        );
        assert_eq!(
            seq_text("-1", "oseq").unwrap_err().reason,
            RejectionReason::InvalidMessage
        );
        assert_eq!(
            owner("").unwrap_err().reason,
            RejectionReason::InvalidMessage
        );
    }

    #[test]
    fn prices_keep_the_chain_text_and_refuse_negatives() {
        let price = price("uakt", "2037.578017543302848935").unwrap();
        assert_eq!(price.amount.as_str(), "2037.578017543302848935");
        assert!(super::price("uakt", "-1.0").is_err());
        assert!(super::price("", "1.0").is_err());
        assert!(super::price("uakt", "1.2.3").is_err());
    }
}
