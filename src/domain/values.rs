//! Newtypes and parsers that turn client input into values the rest of the code can trust.
//!
//! Every parser takes the input field's path (`"email"`, `"address.city"`) so that a failure is a
//! `BAD_USER_INPUT` error naming the field. Text is trimmed; blank text means "no value".

use std::str::FromStr;

use rust_decimal::Decimal;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Largest accepted money amount (exclusive of nothing: 0..=1e12).
pub const MAX_MONEY: i64 = 1_000_000_000_000;

/// Parses a record id (a UUID).
pub fn parse_id(field: &str, value: &str) -> AppResult<Uuid> {
    Uuid::from_str(value.trim())
        .map_err(|_| AppError::bad_input(field, format!("{field} must be a UUID, got {value:?}")))
}

/// Parses an optional id.
pub fn parse_opt_id(field: &str, value: Option<impl AsRef<str>>) -> AppResult<Option<Uuid>> {
    value.map(|v| parse_id(field, v.as_ref())).transpose()
}

/// Trims `value`; blank becomes `None`; longer than `max` characters is an error.
pub fn text(field: &str, value: Option<String>, max: usize) -> AppResult<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let length = trimmed.chars().count();
    if length > max {
        return Err(AppError::bad_input(
            field,
            format!("{field} is {length} characters long; at most {max} are allowed"),
        ));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(AppError::bad_input(
            field,
            format!("{field} contains control characters"),
        ));
    }
    Ok(Some(trimmed.to_owned()))
}

/// Like [`text`] but the value must be present and not blank.
pub fn required_text(field: &str, value: Option<String>, max: usize) -> AppResult<String> {
    text(field, value, max)?
        .ok_or_else(|| AppError::bad_input(field, format!("{field} is required")))
}

/// An e-mail address: one `@`, something before it, a dotted domain after it, no spaces.
pub fn email(field: &str, value: Option<String>) -> AppResult<Option<String>> {
    let Some(value) = text(field, value, 100)? else {
        return Ok(None);
    };
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(Some(value))
    } else {
        Err(AppError::bad_input(
            field,
            format!("{field} is not a valid e-mail address: {value:?}"),
        ))
    }
}

/// A phone number as people write it: digits with `+ - ( ) . /` spaces and an `x`/`ext`
/// extension, at least three digits.
pub fn phone(field: &str, value: Option<String>, max: usize) -> AppResult<Option<String>> {
    let Some(value) = text(field, value, max)? else {
        return Ok(None);
    };
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().,/#*xXeEtT".contains(c));
    if digits >= 3 && allowed {
        Ok(Some(value))
    } else {
        Err(AppError::bad_input(
            field,
            format!("{field} is not a valid phone number: {value:?}"),
        ))
    }
}

/// A website: a host name with an optional scheme and path, no spaces.
pub fn website(field: &str, value: Option<String>) -> AppResult<Option<String>> {
    let Some(value) = text(field, value, 200)? else {
        return Ok(None);
    };
    let host = value
        .split_once("://")
        .map_or(value.as_str(), |(_, rest)| rest);
    let valid =
        !value.chars().any(char::is_whitespace) && host.contains('.') && !host.starts_with('.');
    if valid {
        Ok(Some(value))
    } else {
        Err(AppError::bad_input(
            field,
            format!("{field} is not a valid website: {value:?}"),
        ))
    }
}

/// An ISO 4217 currency code: three letters, stored upper-case.
pub fn currency_code(field: &str, value: Option<String>) -> AppResult<Option<String>> {
    let Some(value) = text(field, value, 3)? else {
        return Ok(None);
    };
    if value.len() == 3 && value.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(Some(value.to_ascii_uppercase()))
    } else {
        Err(AppError::bad_input(
            field,
            format!("{field} must be a three-letter ISO 4217 code such as USD, got {value:?}"),
        ))
    }
}

/// A money amount as exact decimal text ("125000.00"), 0..=1e12 with at most two decimals,
/// returned as integer cents.
pub fn money_cents(field: &str, value: Option<&str>) -> AppResult<Option<i64>> {
    let Some(raw) = value.map(str::trim) else {
        return Ok(None);
    };
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = |why: &str| AppError::bad_input(field, format!("{field} {why}, got {raw:?}"));
    let amount = Decimal::from_str_exact(raw)
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
        .map(Some)
        .map_err(|_| bad("is out of range"))
}

/// Formats integer cents as exact decimal text with two decimals.
pub fn format_cents(cents: i64) -> String {
    Decimal::new(cents, 2).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_exact_and_bounded() {
        assert_eq!(
            money_cents("m", Some("125000.5")).unwrap(),
            Some(12_500_050)
        );
        assert_eq!(money_cents("m", Some("0")).unwrap(), Some(0));
        assert_eq!(
            money_cents("m", Some("1000000000000")).unwrap(),
            Some(100_000_000_000_000)
        );
        assert!(money_cents("m", Some("1000000000000.01")).is_err());
        assert!(money_cents("m", Some("-1")).is_err());
        assert!(money_cents("m", Some("1.005")).is_err());
        assert!(money_cents("m", Some("abc")).is_err());
        assert_eq!(format_cents(12_500_050), "125000.50");
        assert_eq!(format_cents(0), "0.00");
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("f", Some("  a ".into()), 5).unwrap(), Some("a".into()));
        assert_eq!(text("f", Some("   ".into()), 5).unwrap(), None);
        assert!(text("f", Some("abcdef".into()), 5).is_err());
        assert!(required_text("f", None, 5).is_err());
    }

    #[test]
    fn emails_phones_websites_and_currencies_are_checked() {
        assert!(email("e", Some("john@x.com".into())).unwrap().is_some());
        assert!(email("e", Some("john.x.com".into())).is_err());
        assert!(email("e", Some("jo hn@x.com".into())).is_err());
        assert!(
            phone("p", Some("+1 (555) 010-2000".into()), 50)
                .unwrap()
                .is_some()
        );
        assert!(phone("p", Some("call me".into()), 50).is_err());
        assert!(
            website("w", Some("https://www.contoso.com/".into()))
                .unwrap()
                .is_some()
        );
        assert!(website("w", Some("not a site".into())).is_err());
        assert_eq!(
            currency_code("c", Some("eur".into())).unwrap(),
            Some("EUR".into())
        );
        assert!(currency_code("c", Some("EURO".into())).is_err());
        assert!(parse_id("id", "nope").is_err());
    }
}
