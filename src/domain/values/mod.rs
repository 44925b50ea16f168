//! Newtypes and parsers that turn client input into values the rest of the code can trust.
//!
//! Every parser takes the input field's path (`"email"`, `"address.city"`) so that a failure is a
//! `BAD_USER_INPUT` error naming the field. Text is trimmed; blank text means "no value".
//!
//! - [`text`]: free text, names and topics ([`Name`], [`Topic`]);
//! - [`contact`]: [`Email`], [`Phone`], [`Website`];
//! - [`money`]: [`CurrencyCode`] (ISO 4217) and [`Money`].
//!
//! The functions below returning plain strings ([`email`], [`currency_code`], [`money_cents`],
//! ...) are the same parsers for callers that store the text directly.

pub mod contact;
pub mod money;
pub mod text;

use std::str::FromStr;

use uuid::Uuid;

pub use contact::{Email, Phone, Website};
pub use money::{CurrencyCode, MAX_MONEY, Money, format_cents};
pub use text::{Name, Topic, required_text, text};

use crate::error::{AppError, AppResult};

/// Parses a record id (a UUID).
pub fn parse_id(field: &str, value: &str) -> AppResult<Uuid> {
    Uuid::from_str(value.trim())
        .map_err(|_| AppError::bad_input(field, format!("{field} must be a UUID, got {value:?}")))
}

/// Parses an optional id.
pub fn parse_opt_id(field: &str, value: Option<impl AsRef<str>>) -> AppResult<Option<Uuid>> {
    value.map(|v| parse_id(field, v.as_ref())).transpose()
}

/// An e-mail address ([`Email`]) as text.
pub fn email(field: &str, value: Option<String>) -> AppResult<Option<String>> {
    Ok(Email::parse(field, value)?.map(Email::into_inner))
}

/// A phone number ([`Phone`]) as text.
pub fn phone(field: &str, value: Option<String>, max: usize) -> AppResult<Option<String>> {
    Ok(Phone::parse(field, value, max)?.map(Phone::into_inner))
}

/// A website ([`Website`]) as text.
pub fn website(field: &str, value: Option<String>) -> AppResult<Option<String>> {
    Ok(Website::parse(field, value)?.map(Website::into_inner))
}

/// An ISO 4217 currency code ([`CurrencyCode`]) as upper-case text.
pub fn currency_code(field: &str, value: Option<String>) -> AppResult<Option<String>> {
    Ok(CurrencyCode::parse(field, value)?.map(|c| c.as_str().to_owned()))
}

/// A money amount ([`Money`]) as integer cents.
pub fn money_cents(field: &str, value: Option<&str>) -> AppResult<Option<i64>> {
    Ok(Money::parse(field, value)?.map(Money::cents))
}

/// A topic ([`Topic`]) as text.
pub fn topic(field: &str, value: Option<String>) -> AppResult<Option<String>> {
    Ok(Topic::parse(field, value)?.map(Topic::into_inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids() {
        assert!(parse_id("id", "nope").is_err());
        assert!(parse_id("id", &Uuid::now_v7().to_string()).is_ok());
    }
}
