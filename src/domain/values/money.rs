//! Money: [`CurrencyCode`] (ISO 4217) and [`Money`] (exact amounts as integer cents).

use std::str::FromStr;

use iso_currency::Currency;
use rust_decimal::Decimal;

use super::text::text;
use crate::error::{AppError, AppResult};

/// Largest accepted money amount (0..=1e12).
pub const MAX_MONEY: i64 = 1_000_000_000_000;

/// An active ISO 4217 currency code, stored upper-case. The list is the `iso_currency` crate's;
/// `XTS` (reserved for testing) and `XXX` (no currency) are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CurrencyCode(Currency);

impl CurrencyCode {
    /// Parses a currency code (any case); blank is `None`.
    pub fn parse(field: &str, input: Option<String>) -> AppResult<Option<Self>> {
        let Some(value) = text(field, input, 3)? else {
            return Ok(None);
        };
        let upper = value.to_ascii_uppercase();
        match Currency::from_code(&upper) {
            Some(currency) if upper != "XTS" && upper != "XXX" => Ok(Some(Self(currency))),
            _ => Err(AppError::bad_input(
                field,
                format!("{field} must be an ISO 4217 currency code such as USD, got {value:?}"),
            )),
        }
    }

    /// The three-letter code.
    pub fn as_str(&self) -> &'static str {
        self.0.code()
    }
}

/// A money amount: plain decimal text (`-?\d+(\.\d+)?`: no sign other than `-`, no exponent,
/// no separators, no spaces), 0..=1e12 with at most two decimal places, held as integer cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money(i64);

impl Money {
    /// Parses an amount; `None` or blank is `None`.
    pub fn parse(field: &str, input: Option<&str>) -> AppResult<Option<Self>> {
        let Some(raw) = input else { return Ok(None) };
        if raw.trim().is_empty() {
            return Ok(None);
        }
        let bad = |why: &str| AppError::bad_input(field, format!("{field} {why}, got {raw:?}"));
        if !is_plain_decimal(raw) {
            return Err(bad(
                "must be a plain decimal number such as \"125000.00\" (digits, one optional \
                 decimal point, no sign other than -, no spaces or separators)",
            ));
        }
        let amount = Decimal::from_str(raw)
            .map_err(|_| bad("must be a decimal number such as \"125000.00\""))?;
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(bad("must not be negative"));
        }
        if amount > Decimal::from(MAX_MONEY) {
            return Err(bad("must be at most 1000000000000"));
        }
        if amount.normalize().scale() > 2 {
            return Err(bad("may have at most two decimal places"));
        }
        let cents = (amount * Decimal::from(100)).trunc();
        i64::try_from(cents)
            .map(|c| Some(Self(c)))
            .map_err(|_| bad("is out of range"))
    }

    /// The amount in cents.
    pub fn cents(self) -> i64 {
        self.0
    }
}

/// `-?\d+(\.\d+)?`, ASCII digits only.
fn is_plain_decimal(raw: &str) -> bool {
    let unsigned = raw.strip_prefix('-').unwrap_or(raw);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && fraction.is_none_or(digits)
}

/// Formats integer cents as exact decimal text with two decimals.
pub fn format_cents(cents: i64) -> String {
    Decimal::new(cents, 2).to_string()
}

/// A currency code is kept (in stored requests) as its three letters.
impl serde::Serialize for CurrencyCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for CurrencyCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        CurrencyCode::parse("currencyCode", Some(code.clone()))
            .ok()
            .flatten()
            .ok_or_else(|| serde::de::Error::custom(format!("not a currency code: {code:?}")))
    }
}

/// An amount is kept (in stored requests) as its integer cents.
impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.cents())
    }
}

impl<'de> serde::Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let cents = i64::deserialize(deserializer)?;
        Money::parse("amount", Some(&format_cents(cents)))
            .ok()
            .flatten()
            .ok_or_else(|| serde::de::Error::custom(format!("not an amount: {cents} cents")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cents(s: &str) -> AppResult<Option<i64>> {
        Money::parse("m", Some(s)).map(|m| m.map(Money::cents))
    }

    #[test]
    fn money_is_exact_bounded_and_plain() {
        assert_eq!(cents("125000.5").unwrap(), Some(12_500_050));
        assert_eq!(cents("0").unwrap(), Some(0));
        assert_eq!(cents("-0").unwrap(), Some(0));
        assert_eq!(cents("1000000000000").unwrap(), Some(100_000_000_000_000));
        assert!(cents("1000000000000.01").is_err());
        assert!(cents("-1").is_err());
        assert!(cents("1.005").is_err());
        for bad in [
            "abc", "1_000", "+5", " 5", "5 ", "1e3", "1,000", ".5", "5.", "0x10", "١٢",
        ] {
            let err = cents(bad).unwrap_err();
            assert_eq!(err.code(), "BAD_USER_INPUT", "{bad:?}");
        }
        assert_eq!(format_cents(12_500_050), "125000.50");
        assert_eq!(format_cents(0), "0.00");
    }

    #[test]
    fn currencies_are_iso_4217() {
        let code = |s: &str| CurrencyCode::parse("c", Some(s.into()));
        assert_eq!(code("eur").unwrap().unwrap().as_str(), "EUR");
        assert_eq!(code("JPY").unwrap().unwrap().as_str(), "JPY");
        for bad in ["QQQ", "EURO", "XXX", "XTS", "E1R", "US"] {
            assert!(code(bad).is_err(), "{bad:?}");
        }
    }
}
