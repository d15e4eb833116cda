//! Provider (and other account) addresses: `akash1…` bech32 text, checked.
//!
//! A [`ProviderAddr`] is only made from text whose bech32 checksum holds, whose human-readable
//! part is `akash`, and whose payload is an account's 20 bytes (or a module/contract account's
//! 32). It is kept in the chain's canonical lower-case form, so two spellings of one account can
//! never be two providers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The human-readable part of Akash account addresses.
pub const ACCOUNT_PREFIX: &str = "akash";

/// Why a text is not an Akash account address.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{text:?} is not an akash1… account address: {why}")]
pub struct AddressError {
    /// The text, shortened.
    pub text: String,
    /// What is wrong with it.
    pub why: String,
}

/// A bech32-checked Akash account address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProviderAddr(String);

impl ProviderAddr {
    /// Checks `text` (see the module docs).
    pub fn parse(text: &str) -> Result<Self, AddressError> {
        let error = |why: &str| AddressError {
            text: text.chars().take(100).collect(),
            why: why.to_string(),
        };
        // bech32 strings are at most 90 characters; refuse before decoding anything longer.
        if text.len() > 90 {
            return Err(error("longer than 90 characters"));
        }
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(error("not in lower case"));
        }
        let (hrp, payload) = bech32::decode(text).map_err(|e| error(&e.to_string()))?;
        if hrp.as_str() != ACCOUNT_PREFIX {
            return Err(error("the prefix is not `akash`"));
        }
        if !matches!(payload.len(), 20 | 32) {
            return Err(error("the payload is not 20 or 32 bytes"));
        }
        Ok(Self(text.to_string()))
    }

    /// The address text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address of a 20-byte account payload: what simulators and tests use to make valid
    /// addresses of their own.
    pub fn from_account_bytes(payload: [u8; 20]) -> Self {
        let hrp = bech32::Hrp::parse_unchecked(ACCOUNT_PREFIX);
        let text = bech32::encode::<bech32::Bech32>(hrp, &payload)
            .expect("20 bytes under the akash prefix are well within bech32's length limit");
        Self(text)
    }
}

impl FromStr for ProviderAddr {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl TryFrom<String> for ProviderAddr {
    type Error = AddressError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<ProviderAddr> for String {
    fn from(address: ProviderAddr) -> Self {
        address.0
    }
}

impl AsRef<str> for ProviderAddr {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for ProviderAddr {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProviderAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = "akash1v5xnfg3fmv3cclperp8vjptgzc8lhwk93k8amg";

    #[test]
    fn real_addresses_are_accepted() {
        assert_eq!(ProviderAddr::parse(REAL).unwrap().as_str(), REAL);
        let made = ProviderAddr::from_account_bytes([7; 20]);
        assert_eq!(ProviderAddr::parse(made.as_str()).unwrap(), made);
    }

    #[test]
    fn broken_addresses_are_refused() {
        let mut flipped = REAL.to_string();
        flipped.replace_range(10..11, if &REAL[10..11] == "q" { "p" } else { "q" });
        for bad in [
            "",
            "akash1",
            "akash1BOGUS",
            "cosmos1v5xnfg3fmv3cclperp8vjptgzc8lhwk93k8amg",
            &flipped,
            &REAL.to_uppercase(),
            &"akash1".repeat(20),
        ] {
            assert!(ProviderAddr::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn serde_checks_too() {
        let json = format!("\"{REAL}\"");
        assert_eq!(
            serde_json::from_str::<ProviderAddr>(&json)
                .unwrap()
                .as_str(),
            REAL
        );
        assert!(serde_json::from_str::<ProviderAddr>("\"akash1x\"").is_err());
    }
}
