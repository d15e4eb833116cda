//! Value types of the configuration file that need more than serde's defaults: durations written
//! as `"15m"` and exact decimals. Instants and base units are `domain`'s ([`domain::UnixMs`] read
//! with [`domain::time::rfc3339_text`], [`domain::BaseUnits`]).

use std::fmt;
use std::time::Duration;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// A duration written as text, e.g. `"1d"`, `"6h"`, `"15m"`, `"500ms"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationText(pub Duration);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(text.trim())
            .map(Self)
            .map_err(|e| {
                de::Error::custom(format!(
                    "{text:?} is not a duration ({e}); write it like \"1d\", \"6h\" or \"15m\""
                ))
            })
    }
}

/// An exact decimal, written as a string (`"0.95"`) or an integer (`5000000`).
///
/// TOML floats are refused: they are binary fractions, and `0.1 + 0.2` shares would not sum to 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExactDecimal(pub Decimal);

impl<'de> Deserialize<'de> for ExactDecimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DecimalVisitor;

        impl Visitor<'_> for DecimalVisitor {
            type Value = ExactDecimal;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal number written as a string, e.g. \"0.95\"")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<ExactDecimal, E> {
                let trimmed = text.trim().replace('_', "");
                Decimal::from_str_exact(&trimmed)
                    .map(ExactDecimal)
                    .map_err(|_| E::custom(format!("{text:?} is not an exact decimal number")))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<ExactDecimal, E> {
                Ok(ExactDecimal(Decimal::from(value)))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<ExactDecimal, E> {
                Ok(ExactDecimal(Decimal::from(value)))
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<ExactDecimal, E> {
                Err(E::custom(format!(
                    "write decimal values as strings so they stay exact, e.g. \"{value}\""
                )))
            }
        }

        deserializer.deserialize_any(DecimalVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{BaseUnits, UnixMs};

    #[derive(Debug, Deserialize)]
    struct Doc {
        d: Option<DurationText>,
        x: Option<ExactDecimal>,
        #[serde(default, deserialize_with = "instant")]
        t: Option<UnixMs>,
        u: Option<BaseUnits>,
    }

    fn instant<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<UnixMs>, D::Error> {
        domain::time::rfc3339_text(deserializer).map(Some)
    }

    fn parse(text: &str) -> Result<Doc, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn durations_read_human_units() {
        assert_eq!(
            parse("d = \"1d\"").unwrap().d,
            Some(DurationText(Duration::from_secs(86_400)))
        );
        assert_eq!(
            parse("d = \"15m\"").unwrap().d,
            Some(DurationText(Duration::from_secs(900)))
        );
        assert!(parse("d = \"soon\"").is_err());
        assert!(parse("d = 15").is_err());
    }

    #[test]
    fn decimals_are_exact_and_floats_refused() {
        assert_eq!(
            parse("x = \"0.1\"").unwrap().x.unwrap().0.to_string(),
            "0.1"
        );
        assert_eq!(parse("x = 5").unwrap().x.unwrap().0, Decimal::from(5));
        let err = parse("x = 0.1").unwrap_err().to_string();
        assert!(err.contains("write decimal values as strings"), "{err}");
    }

    #[test]
    fn instants_are_rfc3339_in_utc_milliseconds() {
        let t = parse("t = \"2024-03-01T01:00:00+01:00\"")
            .unwrap()
            .t
            .unwrap();
        assert_eq!(t, UnixMs(1_709_251_200_000));
        assert!(parse("t = \"2024-03-01\"").is_err());
    }

    #[test]
    fn base_units_go_beyond_toml_integers() {
        let u = parse("u = \"340282366920938463463374607431768211455\"")
            .unwrap()
            .u
            .unwrap();
        assert_eq!(u, BaseUnits(u128::MAX));
        assert!(parse("u = -1").is_err());
        assert!(parse("u = \"1.5\"").is_err());
    }
}
