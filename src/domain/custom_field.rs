//! Custom fields (issue 16): what a definition may say, how a value is checked against it, and
//! which field types may be mapped onto which ([`compatible`], the one compatibility table).
//!
//! Values travel as JSON in one canonical form per type (see [`parse_value`]) and are stored in
//! a side table (`custom_field_values`) with two indexed projections: `text` (text, choices,
//! booleans, dates and date-times in a fixed, sortable form) and `number` (integers, decimals).
//! The side table, rather than a JSON column per record, is what lets `leads` filter on a value
//! through an ordinary index on both SQLite and PostgreSQL; the indexes are partial, on lead
//! values only (migration 000011), since no query filters other records by value.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{RecordType, custom_field_definition};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::Value;
use uuid::Uuid;

pub use entity::CustomFieldType as FieldType;

use crate::error::{AppError, AppResult};

/// The longest text a TEXT field may allow.
pub const MAX_TEXT_LENGTH: usize = 10_000;
/// A TEXT field's maxLength when its definition gives none.
pub const DEFAULT_TEXT_LENGTH: usize = 255;
/// Most options a CHOICE or MULTI_CHOICE field may have.
pub const MAX_OPTIONS: usize = 500;
/// The longest option.
pub const MAX_OPTION_LENGTH: usize = 100;
/// The longest API name.
pub const MAX_NAME_LENGTH: usize = 50;
/// The longest label.
pub const MAX_LABEL_LENGTH: usize = 100;
/// The longest description.
pub const MAX_DESCRIPTION_LENGTH: usize = 1000;
/// The largest INTEGER or DECIMAL magnitude (beyond it a double no longer orders them exactly
/// enough for filters).
const MAX_MAGNITUDE: i64 = 1_000_000_000_000_000;

/// What compatibility depends on: a field's type, its max length (TEXT) and options (CHOICE,
/// MULTI_CHOICE). Standard fields have one too (see `field_mapping::LeadField::shape`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    pub field_type: FieldType,
    pub max_length: Option<usize>,
    pub options: Vec<String>,
}

impl Shape {
    /// A shape without length or options.
    pub fn of(field_type: FieldType) -> Self {
        Self {
            field_type,
            max_length: None,
            options: Vec::new(),
        }
    }

    /// A TEXT shape of at most `max` characters.
    pub fn text(max: usize) -> Self {
        Self {
            field_type: FieldType::Text,
            max_length: Some(max),
            options: Vec::new(),
        }
    }

    /// A CHOICE shape.
    pub fn choice(options: &[&str]) -> Self {
        Self {
            field_type: FieldType::Choice,
            max_length: None,
            options: options.iter().map(|o| (*o).to_owned()).collect(),
        }
    }
}

/// A stored definition, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub id: Uuid,
    pub record_type: RecordType,
    pub name: String,
    pub label: String,
    pub shape: Shape,
    pub required: bool,
    pub archived: bool,
}

impl Definition {
    /// The definition a stored row holds.
    pub fn from_model(model: &custom_field_definition::Model) -> AppResult<Self> {
        let options: Vec<String> =
            serde_json::from_str(&model.options).map_err(AppError::internal)?;
        Ok(Self {
            id: model.id,
            record_type: model.record_type,
            name: model.name.clone(),
            label: model.label.clone(),
            shape: Shape {
                field_type: model.field_type,
                max_length: model.max_length.and_then(|m| usize::try_from(m).ok()),
                options,
            },
            required: model.required,
            archived: model.archived,
        })
    }
}

/// The record types that may have custom fields.
pub const CUSTOMIZABLE: [RecordType; 4] = [
    RecordType::Lead,
    RecordType::Account,
    RecordType::Contact,
    RecordType::Opportunity,
];

/// The API names of a record type's standard fields (output and input fields alike): no custom
/// field may take one. An API test checks these lists against the schema.
pub fn standard_field_names(record_type: RecordType) -> &'static [&'static str] {
    const ADDRESS: &[&str] = &[
        "address",
        "street1",
        "street2",
        "street3",
        "city",
        "stateOrProvince",
        "postalCode",
        "countryOrRegion",
    ];
    const _: () = assert!(ADDRESS.len() == 8);
    match record_type {
        RecordType::Lead => &[
            "id",
            "topic",
            "firstName",
            "lastName",
            "fullName",
            "jobTitle",
            "businessPhone",
            "mobilePhone",
            "email",
            "companyName",
            "website",
            "address",
            "street1",
            "street2",
            "street3",
            "city",
            "stateOrProvince",
            "postalCode",
            "countryOrRegion",
            "description",
            "industry",
            "leadSource",
            "rating",
            "preferredContactMethod",
            "purchaseTimeframe",
            "purchaseProcess",
            "budgetAmount",
            "currencyCode",
            "decisionMaker",
            "existingAccount",
            "existingAccountId",
            "existingContact",
            "existingContactId",
            "owner",
            "ownerId",
            "state",
            "statusReason",
            "processStage",
            "qualifiedAccount",
            "qualifiedContact",
            "qualifyingOpportunity",
            "opportunities",
            "notes",
            "stakeholders",
            "createdAt",
            "modifiedAt",
            "qualifiedAt",
            "customFields",
            "auditEvents",
            "possibleDuplicates",
            "matchingAccounts",
            "matchingContacts",
            "matchingLeads",
        ],
        RecordType::Account => &[
            "id",
            "name",
            "website",
            "phone",
            "email",
            "address",
            "street1",
            "street2",
            "street3",
            "city",
            "stateOrProvince",
            "postalCode",
            "countryOrRegion",
            "primaryContact",
            "primaryContactId",
            "originatingLead",
            "contacts",
            "opportunities",
            "owner",
            "state",
            "createdAt",
            "modifiedAt",
            "customFields",
            "notes",
        ],
        RecordType::Contact => &[
            "id",
            "firstName",
            "lastName",
            "fullName",
            "jobTitle",
            "businessPhone",
            "mobilePhone",
            "email",
            "address",
            "street1",
            "street2",
            "street3",
            "city",
            "stateOrProvince",
            "postalCode",
            "countryOrRegion",
            "parentAccount",
            "parentAccountId",
            "originatingLead",
            "owner",
            "state",
            "createdAt",
            "modifiedAt",
            "customFields",
            "notes",
        ],
        RecordType::Opportunity => &[
            "id",
            "topic",
            "description",
            "account",
            "contact",
            "customer",
            "originatingLead",
            "currencyCode",
            "budgetAmount",
            "purchaseTimeframe",
            "purchaseProcess",
            "decisionMaker",
            "processStage",
            "owner",
            "state",
            "notes",
            "stakeholders",
            "createdAt",
            "modifiedAt",
            "customFields",
        ],
        _ => &[],
    }
}

/// Checks a new field's API name: a letter, then letters and digits (camelCase like the
/// standard fields), at most [`MAX_NAME_LENGTH`], and not a standard field's name (ignoring
/// case, so `Email` cannot sit beside `email`).
pub fn parse_name(record_type: RecordType, name: &str) -> AppResult<String> {
    let name = name.trim();
    let mut chars = name.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric())
        && name.len() <= MAX_NAME_LENGTH;
    if !well_formed {
        return Err(AppError::bad_input(
            "name",
            format!(
                "name must start with a lower-case letter and hold only letters and digits \
                 (at most {MAX_NAME_LENGTH}), got {name:?}"
            ),
        ));
    }
    if standard_field_names(record_type)
        .iter()
        .any(|s| s.eq_ignore_ascii_case(name))
    {
        return Err(AppError::bad_input(
            "name",
            format!(
                "{name} is a standard field of {}; choose another name",
                record_type.as_str()
            ),
        ));
    }
    Ok(name.to_owned())
}

/// Checks a shape's length and options for its type (definitions, create and update).
pub fn check_shape(shape: &Shape) -> AppResult<()> {
    match shape.field_type {
        FieldType::Text => match shape.max_length {
            Some(max) if (1..=MAX_TEXT_LENGTH).contains(&max) => {}
            _ => {
                return Err(AppError::bad_input(
                    "maxLength",
                    format!("maxLength must be between 1 and {MAX_TEXT_LENGTH}"),
                ));
            }
        },
        _ if shape.max_length.is_some() => {
            return Err(AppError::bad_input(
                "maxLength",
                "maxLength applies to TEXT fields only",
            ));
        }
        _ => {}
    }
    let with_options = matches!(shape.field_type, FieldType::Choice | FieldType::MultiChoice);
    if with_options && shape.options.is_empty() {
        return Err(AppError::bad_input(
            "options",
            "a CHOICE or MULTI_CHOICE field needs at least one option",
        ));
    }
    if !with_options && !shape.options.is_empty() {
        return Err(AppError::bad_input(
            "options",
            "options apply to CHOICE and MULTI_CHOICE fields only",
        ));
    }
    if shape.options.len() > MAX_OPTIONS {
        return Err(AppError::bad_input(
            "options",
            format!("at most {MAX_OPTIONS} options are allowed"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, option) in shape.options.iter().enumerate() {
        let field = format!("options.{i}");
        if option.trim().is_empty() || option.trim() != option {
            return Err(AppError::bad_input(
                field,
                "an option may not be empty or start or end with spaces",
            ));
        }
        if option.chars().count() > MAX_OPTION_LENGTH {
            return Err(AppError::bad_input(
                field,
                format!("an option is at most {MAX_OPTION_LENGTH} characters long"),
            ));
        }
        if !seen.insert(option.as_str()) {
            return Err(AppError::bad_input(
                field,
                format!("{option} is listed twice"),
            ));
        }
    }
    Ok(())
}

/// One custom value given on a create or update input: a field's name and its JSON value
/// (`null` clears it); checked against the definitions where the record is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueInput {
    pub name: String,
    pub value: Value,
}

/// A value ready to store: the canonical JSON and its indexed projections.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub value: Value,
    pub text: Option<String>,
    pub number: Option<f64>,
}

/// The fixed, sortable spelling of an instant (microseconds, UTC).
pub fn format_datetime(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Checks `value` against the field and returns it in canonical form; `Ok(None)` clears the
/// value (JSON null, or empty text). `path` names the input in errors
/// (`customFields.industrySegment`).
///
/// Canonical forms: TEXT a trimmed string; INTEGER a JSON integer; DECIMAL a decimal string
/// (numbers are accepted); BOOLEAN true/false; DATE "YYYY-MM-DD"; DATETIME RFC 3339 in UTC with
/// microseconds; CHOICE one option; MULTI_CHOICE an array of distinct options.
pub fn parse_value(shape: &Shape, path: &str, value: &Value) -> AppResult<Option<Stored>> {
    if value.is_null() {
        return Ok(None);
    }
    let bad = |what: &str| AppError::bad_input(path, format!("{path} must be {what}, got {value}"));
    let stored = match shape.field_type {
        FieldType::Text => {
            let text = value.as_str().ok_or_else(|| bad("a string"))?.trim();
            if text.is_empty() {
                return Ok(None);
            }
            let max = shape.max_length.unwrap_or(DEFAULT_TEXT_LENGTH);
            let length = text.chars().count();
            if length > max {
                return Err(AppError::bad_input(
                    path,
                    format!("{path} is {length} characters long; at most {max} are allowed"),
                ));
            }
            text_stored(text.to_owned())
        }
        FieldType::Integer => {
            let n = value.as_i64().ok_or_else(|| bad("an integer"))?;
            if n.abs() > MAX_MAGNITUDE {
                return Err(bad("at most 10^15 in magnitude"));
            }
            Stored {
                value: Value::from(n),
                text: None,
                number: Some(n as f64),
            }
        }
        FieldType::Decimal => {
            let text = match value {
                Value::String(s) => s.trim().to_owned(),
                Value::Number(n) => n.to_string(),
                _ => return Err(bad("a decimal number")),
            };
            let decimal: Decimal = text.parse().map_err(|_| bad("a decimal number"))?;
            if decimal.abs() > Decimal::from(MAX_MAGNITUDE) {
                return Err(bad("at most 10^15 in magnitude"));
            }
            decimal_stored(decimal)
        }
        FieldType::Boolean => {
            let b = value.as_bool().ok_or_else(|| bad("true or false"))?;
            Stored {
                value: Value::Bool(b),
                text: Some(b.to_string()),
                number: None,
            }
        }
        FieldType::Date => {
            let text = value.as_str().ok_or_else(|| bad("a date (YYYY-MM-DD)"))?;
            let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|_| bad("a date (YYYY-MM-DD)"))?;
            text_stored(date.format("%Y-%m-%d").to_string())
        }
        FieldType::DateTime => {
            let text = value.as_str().ok_or_else(|| bad("an RFC 3339 date-time"))?;
            let at = DateTime::parse_from_rfc3339(text.trim())
                .map_err(|_| bad("an RFC 3339 date-time"))?
                .with_timezone(&Utc);
            text_stored(format_datetime(at))
        }
        FieldType::Choice => {
            let choice = value.as_str().ok_or_else(|| bad("one of the options"))?;
            if !shape.options.iter().any(|o| o == choice) {
                return Err(bad(&format!("one of {}", shape.options.join(", "))));
            }
            text_stored(choice.to_owned())
        }
        FieldType::MultiChoice => {
            let items = value.as_array().ok_or_else(|| bad("a list of options"))?;
            let mut chosen: Vec<String> = Vec::with_capacity(items.len());
            for item in items {
                let choice = item.as_str().ok_or_else(|| bad("a list of options"))?;
                if !shape.options.iter().any(|o| o == choice) {
                    return Err(bad(&format!(
                        "a list of options among {}",
                        shape.options.join(", ")
                    )));
                }
                if !chosen.iter().any(|c| c == choice) {
                    chosen.push(choice.to_owned());
                }
            }
            if chosen.is_empty() {
                return Ok(None);
            }
            // In the definition's order, so that equal sets are equal values.
            chosen.sort_by_key(|c| shape.options.iter().position(|o| o == c));
            Stored {
                value: Value::from(chosen),
                text: None,
                number: None,
            }
        }
    };
    Ok(Some(stored))
}

fn text_stored(text: String) -> Stored {
    Stored {
        value: Value::String(text.clone()),
        text: Some(text),
        number: None,
    }
}

fn decimal_stored(decimal: Decimal) -> Stored {
    Stored {
        value: Value::String(decimal.normalize().to_string()),
        text: None,
        number: decimal.to_f64(),
    }
}

/// Whether values of `source` may be mapped onto `target` (checked when a mapping is saved, so
/// that [`convert`] never fails at qualification time). The one table of allowed pairs:
///
/// | source | may be mapped onto |
/// |---|---|
/// | TEXT(n) | TEXT(m) with m ≥ n |
/// | INTEGER | INTEGER, DECIMAL, TEXT(≥ 20) |
/// | DECIMAL | DECIMAL, TEXT(≥ 40) |
/// | BOOLEAN | BOOLEAN, TEXT(≥ 5) |
/// | DATE | DATE, DATETIME (midnight UTC), TEXT(≥ 10) |
/// | DATETIME | DATETIME, TEXT(≥ 27) |
/// | CHOICE(a) | CHOICE(b) and MULTI_CHOICE(b) with a ⊆ b, TEXT(≥ longest option) |
/// | MULTI_CHOICE(a) | MULTI_CHOICE(b) with a ⊆ b |
pub fn compatible(source: &Shape, target: &Shape) -> bool {
    use FieldType::*;
    let text_fits = |needed: usize| {
        target.field_type == Text && target.max_length.unwrap_or(DEFAULT_TEXT_LENGTH) >= needed
    };
    let options_fit = || source.options.iter().all(|o| target.options.contains(o));
    match source.field_type {
        Text => text_fits(source.max_length.unwrap_or(DEFAULT_TEXT_LENGTH)),
        Integer => matches!(target.field_type, Integer | Decimal) || text_fits(20),
        Decimal => target.field_type == Decimal || text_fits(40),
        Boolean => target.field_type == Boolean || text_fits(5),
        Date => matches!(target.field_type, Date | DateTime) || text_fits(10),
        DateTime => target.field_type == DateTime || text_fits(27),
        Choice => {
            (matches!(target.field_type, Choice | MultiChoice) && options_fit())
                || text_fits(
                    source
                        .options
                        .iter()
                        .map(|o| o.chars().count())
                        .max()
                        .unwrap_or(0),
                )
        }
        MultiChoice => target.field_type == MultiChoice && options_fit(),
    }
}

/// A canonical `value` of `source` as a value of `target` (a [`compatible`] pair).
pub fn convert(value: &Value, source: &Shape, target: &Shape) -> AppResult<Option<Stored>> {
    use FieldType::*;
    let converted = match (source.field_type, target.field_type, value) {
        (_, Text, Value::String(s)) => Value::String(s.clone()),
        (_, Text, other) => Value::String(other.to_string()),
        (Integer, Decimal, Value::Number(n)) => Value::String(n.to_string()),
        (Date, DateTime, Value::String(s)) => Value::String(format!("{s}T00:00:00Z")),
        (Choice, MultiChoice, Value::String(s)) => Value::from(vec![s.clone()]),
        _ => value.clone(),
    };
    // The target's own check: a compatible pair always passes it.
    parse_value(target, "mapping", &converted)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn shape(t: FieldType) -> Shape {
        match t {
            FieldType::Text => Shape::text(100),
            FieldType::Choice => Shape::choice(&["A", "B"]),
            FieldType::MultiChoice => Shape {
                field_type: t,
                max_length: None,
                options: vec!["A".into(), "B".into()],
            },
            _ => Shape::of(t),
        }
    }

    const ALL: [FieldType; 8] = [
        FieldType::Text,
        FieldType::Integer,
        FieldType::Decimal,
        FieldType::Boolean,
        FieldType::Date,
        FieldType::DateTime,
        FieldType::Choice,
        FieldType::MultiChoice,
    ];

    fn sample(t: FieldType) -> Value {
        match t {
            FieldType::Text => json!("hello"),
            FieldType::Integer => json!(42),
            FieldType::Decimal => json!("12.50"),
            FieldType::Boolean => json!(true),
            FieldType::Date => json!("2026-11-30"),
            FieldType::DateTime => json!("2026-11-30T14:00:00+01:00"),
            FieldType::Choice => json!("B"),
            FieldType::MultiChoice => json!(["B", "A", "B"]),
        }
    }

    #[test]
    fn every_type_pair_is_allowed_exactly_as_the_table_says() {
        use FieldType::*;
        let allowed = [
            (Text, Text),
            (Integer, Integer),
            (Integer, Decimal),
            (Integer, Text),
            (Decimal, Decimal),
            (Decimal, Text),
            (Boolean, Boolean),
            (Boolean, Text),
            (Date, Date),
            (Date, DateTime),
            (Date, Text),
            (DateTime, DateTime),
            (DateTime, Text),
            (Choice, Choice),
            (Choice, MultiChoice),
            (Choice, Text),
            (MultiChoice, MultiChoice),
        ];
        for source in ALL {
            for target in ALL {
                let expected = allowed.contains(&(source, target));
                assert_eq!(
                    compatible(&shape(source), &shape(target)),
                    expected,
                    "{source:?} → {target:?}"
                );
            }
        }
    }

    #[test]
    fn every_allowed_pair_converts_its_values() {
        for source in ALL {
            for target in ALL {
                let (s, t) = (shape(source), shape(target));
                if !compatible(&s, &t) {
                    continue;
                }
                let value = parse_value(&s, "source", &sample(source))
                    .unwrap()
                    .unwrap()
                    .value;
                let converted = convert(&value, &s, &t).unwrap().unwrap();
                assert!(
                    parse_value(&t, "target", &converted.value)
                        .unwrap()
                        .is_some(),
                    "{source:?} → {target:?}: {converted:?}"
                );
            }
        }
        let date = parse_value(&shape(FieldType::Date), "d", &json!("2026-11-30"))
            .unwrap()
            .unwrap();
        let at = convert(
            &date.value,
            &shape(FieldType::Date),
            &shape(FieldType::DateTime),
        )
        .unwrap()
        .unwrap();
        assert_eq!(at.value, json!("2026-11-30T00:00:00.000000Z"));
    }

    #[test]
    fn lengths_and_options_decide_compatibility_within_a_type() {
        assert!(compatible(&Shape::text(50), &Shape::text(50)));
        assert!(!compatible(&Shape::text(51), &Shape::text(50)));
        assert!(!compatible(
            &Shape::of(FieldType::Integer),
            &Shape::text(19)
        ));
        assert!(!compatible(
            &Shape::choice(&["A", "C"]),
            &Shape::choice(&["A", "B"])
        ));
        assert!(compatible(
            &Shape::choice(&["A"]),
            &Shape::choice(&["A", "B"])
        ));
        assert!(compatible(&Shape::choice(&["LONGER"]), &Shape::text(6)));
        assert!(!compatible(&Shape::choice(&["LONGER"]), &Shape::text(5)));
    }

    #[test]
    fn values_are_checked_and_made_canonical() {
        let text = Shape::text(5);
        assert_eq!(
            parse_value(&text, "f", &json!("  abc "))
                .unwrap()
                .unwrap()
                .value,
            json!("abc")
        );
        assert!(parse_value(&text, "f", &json!("")).unwrap().is_none());
        let err = parse_value(&text, "customFields.f", &json!("abcdef")).unwrap_err();
        assert!(
            matches!(err, AppError::BadUserInput { ref field, .. } if field == "customFields.f")
        );
        assert!(parse_value(&text, "f", &json!(5)).is_err());
        let int = Shape::of(FieldType::Integer);
        assert!(parse_value(&int, "f", &json!(1.5)).is_err());
        assert_eq!(
            parse_value(&int, "f", &json!(7)).unwrap().unwrap().number,
            Some(7.0)
        );
        let dec = Shape::of(FieldType::Decimal);
        let d = parse_value(&dec, "f", &json!(12.5)).unwrap().unwrap();
        assert_eq!((d.value, d.number), (json!("12.5"), Some(12.5)));
        assert!(parse_value(&dec, "f", &json!("twelve")).is_err());
        let date = Shape::of(FieldType::Date);
        assert!(parse_value(&date, "f", &json!("2026-02-30")).is_err());
        let at = Shape::of(FieldType::DateTime);
        assert_eq!(
            parse_value(&at, "f", &json!("2026-11-30T14:00:00+01:00"))
                .unwrap()
                .unwrap()
                .text
                .as_deref(),
            Some("2026-11-30T13:00:00.000000Z")
        );
        let choice = Shape::choice(&["A", "B"]);
        assert!(parse_value(&choice, "f", &json!("C")).is_err());
        let multi = shape(FieldType::MultiChoice);
        assert_eq!(
            parse_value(&multi, "f", &json!(["B", "A", "B"]))
                .unwrap()
                .unwrap()
                .value,
            json!(["A", "B"])
        );
        assert!(parse_value(&multi, "f", &json!(["Z"])).is_err());
        assert!(parse_value(&multi, "f", &json!([])).unwrap().is_none());
    }

    #[test]
    fn names_are_camel_case_and_never_a_standard_field() {
        assert_eq!(
            parse_name(RecordType::Lead, "industrySegment").unwrap(),
            "industrySegment"
        );
        for bad in [
            "",
            "Industry",
            "industry_segment",
            "1st",
            "email",
            "Email",
            "customFields",
        ] {
            assert!(parse_name(RecordType::Lead, bad).is_err(), "{bad}");
        }
        assert!(parse_name(RecordType::Account, "industry").is_ok());
    }

    #[test]
    fn shapes_need_a_length_for_text_and_options_for_choices() {
        assert!(check_shape(&Shape::text(10)).is_ok());
        assert!(check_shape(&Shape::of(FieldType::Text)).is_err());
        assert!(check_shape(&Shape::text(MAX_TEXT_LENGTH + 1)).is_err());
        assert!(check_shape(&Shape::choice(&[])).is_err());
        assert!(check_shape(&Shape::choice(&["A", "A"])).is_err());
        assert!(check_shape(&Shape::choice(&[" A"])).is_err());
        let mut int = Shape::of(FieldType::Integer);
        int.options = vec!["A".into()];
        assert!(check_shape(&int).is_err());
    }
}
