//! Free text, and the stricter rules of names and topics.
//!
//! Every text is trimmed, blank means "no value", control characters (other than line breaks and
//! tabs) are refused and lengths are counted in characters. Names and topics must also show
//! something: a value made only of invisible characters (zero-width spaces, joiners, the Hangul
//! filler, ...) is refused, and so are the bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE
//! and the like) that make a name read differently from what it stores.

use crate::error::{AppError, AppResult};

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

/// Whether `c` is a bidirectional formatting control (embeddings, overrides, isolates, marks).
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Whether `c` renders as nothing: format characters (zero-width space and joiners, word joiner,
/// soft hyphen, byte-order mark, tags), variation selectors and blank fillers.
pub fn is_invisible(c: char) -> bool {
    is_bidi_control(c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2065}'
                | '\u{206A}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Whether `c` shows something: not whitespace, not a control, not invisible.
pub fn is_visible(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !is_invisible(c)
}

/// Checks the rules names and topics share (on already trimmed, length-checked text).
fn displayable(field: &str, value: String) -> AppResult<String> {
    if value.chars().any(is_bidi_control) {
        return Err(AppError::bad_input(
            field,
            format!("{field} contains bidirectional control characters (such as U+202E)"),
        ));
    }
    if !value.chars().any(is_visible) {
        return Err(AppError::bad_input(
            field,
            format!("{field} must contain a visible character"),
        ));
    }
    Ok(value)
}

/// A person's or an organization's name: trimmed, at most a given length, with at least one
/// visible character and no bidirectional controls.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name(String);

impl Name {
    /// Parses a name of at most `max` characters; blank is `None`.
    pub fn parse(field: &str, input: Option<String>, max: usize) -> AppResult<Option<Self>> {
        text(field, input, max)?
            .map(|v| displayable(field, v).map(Self))
            .transpose()
    }

    /// Parses a name that must be given.
    pub fn parse_required(field: &str, input: Option<String>, max: usize) -> AppResult<Self> {
        Self::parse(field, input, max)?
            .ok_or_else(|| AppError::bad_input(field, format!("{field} is required")))
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stored text.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// What a lead or an opportunity is about: the rules of [`Name`], up to
/// [`crate::domain::records::limits::TOPIC`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Topic(String);

impl Topic {
    /// Parses a topic; blank is `None`.
    pub fn parse(field: &str, input: Option<String>) -> AppResult<Option<Self>> {
        text(field, input, crate::domain::records::limits::TOPIC)?
            .map(|v| displayable(field, v).map(Self))
            .transpose()
    }

    /// The topic as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stored text.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A topic is kept (in stored requests) as its text.
impl serde::Serialize for Topic {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Topic {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Topic::parse("topic", Some(text.clone()))
            .ok()
            .flatten()
            .ok_or_else(|| serde::de::Error::custom(format!("not a topic: {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("f", Some("  a ".into()), 5).unwrap(), Some("a".into()));
        assert_eq!(text("f", Some("   ".into()), 5).unwrap(), None);
        assert!(text("f", Some("abcdef".into()), 5).is_err());
        assert!(required_text("f", None, 5).is_err());
    }

    #[test]
    fn names_need_a_visible_character_and_no_bidi_controls() {
        let name = |s: &str| Name::parse("n", Some(s.into()), 50).unwrap().unwrap();
        assert_eq!(name(" Zoë ").as_str(), "Zoë");
        assert_eq!(name("李").as_str(), "李");
        for bad in [
            "\u{200B}\u{200B}",
            "\u{200D}",
            "\u{3164}",
            "\u{FEFF}\u{2060}",
        ] {
            let err = Name::parse("lastName", Some(bad.into()), 50).unwrap_err();
            assert_eq!(err.code(), "BAD_USER_INPUT", "{bad:?}");
            assert!(err.message().contains("visible"), "{bad:?}");
        }
        for bad in ["Smith\u{202E}gnp.exe", "\u{2066}Ann", "A\u{200F}"] {
            assert!(Name::parse("n", Some(bad.into()), 50).is_err(), "{bad:?}");
            assert!(Topic::parse("t", Some(bad.into())).is_err(), "{bad:?}");
        }
        assert!(Name::parse_required("n", Some("  ".into()), 50).is_err());
        assert!(
            Topic::parse("t", Some("Ünïcödé topic ✓".into()))
                .unwrap()
                .is_some()
        );
    }
}
