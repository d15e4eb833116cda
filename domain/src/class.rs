//! The name of a programme's GPU class (`a100-80gi`, `h100`): the key under which inputs,
//! shares and line items are grouped.
//!
//! A class name is a configuration key, not a GPU model: the model a class covers is part of the
//! class's definition. Giving it its own type keeps a class and a provider address from being
//! swapped in calls that take both.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Longest class name accepted.
const MAX_CLASS_CHARS: usize = 128;

/// A text that cannot name a class.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0:?} is not a class name: use 1 to 128 characters, none of them a control character")]
pub struct ClassNameError(pub String);

/// A GPU class's name: 1 to 128 characters, none of them a control character (names appear in
/// CSV cells, log lines and metric labels, where a newline or a NUL would forge a row).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClassName(String);

impl ClassName {
    /// Checks `name` (see the type docs).
    pub fn new(name: impl Into<String>) -> Result<Self, ClassNameError> {
        let name = name.into();
        let ok = !name.is_empty()
            && name.chars().count() <= MAX_CLASS_CHARS
            && !name.chars().any(char::is_control);
        if ok {
            Ok(Self(name))
        } else {
            Err(ClassNameError(name.chars().take(80).collect()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ClassName {
    type Err = ClassNameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::new(text)
    }
}

impl TryFrom<String> for ClassName {
    type Error = ClassNameError;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        Self::new(name)
    }
}

impl From<ClassName> for String {
    fn from(name: ClassName) -> Self {
        name.0
    }
}

impl AsRef<str> for ClassName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for ClassName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClassName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_are_short_plain_keys() {
        for good in ["a100", "h100-80gi", "rtx_4090", "l40s.48", "A100 80GB"] {
            assert_eq!(ClassName::new(good).unwrap().as_str(), good);
        }
        for bad in ["", "a\n100", "h100\u{0}", &"x".repeat(129)] {
            assert!(ClassName::new(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<ClassName>("\"a\\tb\"").is_err());
    }
}
