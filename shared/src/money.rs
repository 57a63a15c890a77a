//! An amount of money: a value and its ISO 4217 currency, as every platform takes them
//! (Meta `value`/`currency`, Google `conversionValue`/`currencyCode`, GA4 `value`/`currency`).
//!
//! The value is validated on the way in (`wire::validate`: finite, 0 to 1e12, meta-capi.md
//! §1.5) and the currency upper-cased and checked against ISO 4217; after that a `Money` is
//! only carried. Stored as the pair `[value, "CUR"]`, the form records have always had in D1.

use serde::{Deserialize, Serialize};

/// A value in a currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "(f64, String)", into = "(f64, String)")]
pub struct Money {
    /// The amount, in the currency's major unit (59.90 for €59.90).
    pub value: f64,
    /// ISO 4217 code, upper case.
    pub currency: String,
}

impl Money {
    /// `value` in `currency` (already validated).
    pub fn new(value: f64, currency: impl Into<String>) -> Self {
        Self {
            value,
            currency: currency.into(),
        }
    }
}

impl From<(f64, String)> for Money {
    fn from((value, currency): (f64, String)) -> Self {
        Self { value, currency }
    }
}

impl From<Money> for (f64, String) {
    fn from(m: Money) -> Self {
        (m.value, m.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_stored_as_the_pair_records_always_had() {
        let m = Money::new(59.9, "EUR");
        let text = serde_json::to_string(&m).unwrap_or_default();
        assert_eq!(text, r#"[59.9,"EUR"]"#);
        let back: Money = serde_json::from_str(&text).unwrap_or(Money::new(0.0, ""));
        assert_eq!(back, m);
    }
}
