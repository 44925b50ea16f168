//! Duplicate matching, pure: which fields rules may compare ([`MATCH_FIELDS`]), how values are
//! normalized into match keys ([`normalize`], [`nicknames`]), how a rule's conditions compare
//! two keys ([`rules`]) and how FUZZY finds its candidates ([`fuzzy`]).
//!
//! Every matchable field of every account, contact and lead is stored as a match key
//! (`service::duplicates`), folded and reversed, so "exact", "same first N" and "same last N
//! characters" are all index lookups; fields FUZZY may compare also keep their blocking keys.

pub mod fuzzy;
pub mod nicknames;
pub mod normalize;
pub mod rules;

use entity::{DuplicateRecordType, account, contact};

pub use normalize::{Normalizer, PhoneRegion};
pub use rules::{Condition, compare, keys_match, lookup_keys, lookup_prefix};

/// The version of the normalization rules: stored match keys written under an older version
/// are recomputed at startup (`service::duplicates::refresh_match_keys`).
pub const NORMALIZATION_VERSION: i64 = 3;

/// A rule that matched, and on which fields.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MatchedRule {
    pub rule_name: String,
    pub fields: Vec<String>,
    /// The lowest similarity among the rule's FUZZY conditions (none without one).
    #[serde(default)]
    pub similarity: Option<f64>,
}
/// An existing record that matched, with the rules that matched it.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<T> {
    pub record: T,
    pub rules: Vec<MatchedRule>,
}

/// The existing accounts and contacts a qualification would duplicate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DuplicateReport {
    pub accounts: Vec<Match<account::Model>>,
    pub contacts: Vec<Match<contact::Model>>,
}

impl DuplicateReport {
    /// Whether nothing matched.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.contacts.is_empty()
    }
}

/// How a field's values are normalized (`normalize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Folded text (last names, cities, states).
    Text,
    /// A first name: folded; FUZZY also compares its name in the nickname table.
    FirstName,
    /// A company name: folded, without legal forms.
    Company,
    Email,
    Phone,
    Website,
    Street,
    PostalCode,
    Country,
}

impl KeyKind {
    /// Kinds a condition may compare with each other: first and last names (a rule may look
    /// for swapped names), otherwise only the same kind.
    pub fn compatible(self, other: KeyKind) -> bool {
        let family = |k: KeyKind| match k {
            KeyKind::Text | KeyKind::FirstName => KeyKind::Text,
            k => k,
        };
        family(self) == family(other)
    }

    /// Whether FUZZY may compare values of this kind (they keep blocking keys).
    pub fn fuzzy(self) -> bool {
        matches!(
            self,
            KeyKind::Text | KeyKind::FirstName | KeyKind::Company | KeyKind::Street
        )
    }
}

/// A field duplicate rules may compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchField {
    pub record: DuplicateRecordType,
    /// The API name, as rules name it.
    pub name: &'static str,
    pub kind: KeyKind,
}

const fn field(record: DuplicateRecordType, name: &'static str, kind: KeyKind) -> MatchField {
    MatchField { record, name, kind }
}

use DuplicateRecordType::{Account, Contact, Lead};

/// Every matchable field.
pub const MATCH_FIELDS: &[MatchField] = &[
    field(Account, "name", KeyKind::Company),
    field(Account, "email", KeyKind::Email),
    field(Account, "phone", KeyKind::Phone),
    field(Account, "website", KeyKind::Website),
    field(Account, "street1", KeyKind::Street),
    field(Account, "city", KeyKind::Text),
    field(Account, "stateOrProvince", KeyKind::Text),
    field(Account, "postalCode", KeyKind::PostalCode),
    field(Account, "countryOrRegion", KeyKind::Country),
    field(Contact, "firstName", KeyKind::FirstName),
    field(Contact, "lastName", KeyKind::Text),
    field(Contact, "email", KeyKind::Email),
    field(Contact, "businessPhone", KeyKind::Phone),
    field(Contact, "mobilePhone", KeyKind::Phone),
    field(Contact, "street1", KeyKind::Street),
    field(Contact, "city", KeyKind::Text),
    field(Contact, "stateOrProvince", KeyKind::Text),
    field(Contact, "postalCode", KeyKind::PostalCode),
    field(Contact, "countryOrRegion", KeyKind::Country),
    field(Lead, "firstName", KeyKind::FirstName),
    field(Lead, "lastName", KeyKind::Text),
    field(Lead, "email", KeyKind::Email),
    field(Lead, "companyName", KeyKind::Company),
    field(Lead, "businessPhone", KeyKind::Phone),
    field(Lead, "mobilePhone", KeyKind::Phone),
    field(Lead, "website", KeyKind::Website),
    field(Lead, "street1", KeyKind::Street),
    field(Lead, "city", KeyKind::Text),
    field(Lead, "stateOrProvince", KeyKind::Text),
    field(Lead, "postalCode", KeyKind::PostalCode),
    field(Lead, "countryOrRegion", KeyKind::Country),
];

/// The matchable field `name` of `record`.
pub fn match_field(record: DuplicateRecordType, name: &str) -> Option<MatchField> {
    MATCH_FIELDS
        .iter()
        .copied()
        .find(|f| f.record == record && f.name == name)
}

/// The matchable fields of a record type.
pub fn fields_of(record: DuplicateRecordType) -> impl Iterator<Item = MatchField> {
    MATCH_FIELDS
        .iter()
        .copied()
        .filter(move |f| f.record == record)
}

/// A normalized value: `exact` keeps case (for case-sensitive rules), `folded` does not,
/// `reversed` is `folded` backwards (for "same last N characters").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchKey {
    pub exact: String,
    pub folded: String,
    pub reversed: String,
    /// For a first name, the name the nickname table gives when it differs from `folded`
    /// ("bob" → "robert"): FUZZY compares it too, EXACT does not.
    pub alias: Option<String>,
}

impl MatchKey {
    /// The FUZZY blocking keys of the value (see [`fuzzy`]), and of its alias.
    pub fn blocks(&self) -> Vec<String> {
        let mut keys = fuzzy::blocking_keys(&self.folded);
        if let Some(alias) = &self.alias {
            for key in fuzzy::blocking_keys(alias) {
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        keys
    }
}

/// The match key of a value; `None` for a blank value.
pub fn match_key(kind: KeyKind, value: Option<&str>, normalizer: &Normalizer) -> Option<MatchKey> {
    let value = value?.trim();
    if value.is_empty() {
        return None;
    }
    let folded = match kind {
        KeyKind::Text | KeyKind::FirstName => normalize::fold(value),
        KeyKind::Company => normalize::company(value),
        KeyKind::Email => normalize::email(value),
        KeyKind::Phone => normalize::phone(value, normalizer.phone_region),
        KeyKind::Website => normalize::website(value),
        KeyKind::Street => normalize::street(value),
        KeyKind::PostalCode => normalize::postal_code(value),
        KeyKind::Country => normalize::country(value),
    };
    if folded.is_empty() {
        return None;
    }
    // Case-sensitive rules compare text as written (compatibility-normalized, whitespace
    // collapsed); values that have no case compare by their normalized form.
    let exact = match kind {
        KeyKind::Text | KeyKind::FirstName | KeyKind::Company | KeyKind::Street => {
            normalize::exact_text(value)
        }
        _ => folded.clone(),
    };
    let reversed = folded.chars().rev().collect();
    let alias = match kind {
        KeyKind::FirstName => Some(normalize::first_name(&folded)).filter(|a| *a != folded),
        _ => None,
    };
    Some(MatchKey {
        exact,
        folded,
        reversed,
        alias,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: KeyKind, v: &str) -> String {
        match_key(kind, Some(v), &Normalizer::default())
            .unwrap()
            .folded
    }

    #[test]
    fn emails_fold_case_and_blanks() {
        assert_eq!(
            key(KeyKind::Email, "JOHN@X.COM "),
            key(KeyKind::Email, "john@x.com")
        );
    }

    #[test]
    fn phones_compare_in_e164() {
        assert_eq!(key(KeyKind::Phone, "+1 425 555 0100"), "+14255550100");
        assert_eq!(key(KeyKind::Phone, "(425) 555-0100"), "+14255550100");
        assert!(match_key(KeyKind::Phone, Some("()"), &Normalizer::default()).is_none());
        let gb = Normalizer {
            phone_region: PhoneRegion::parse("GB").unwrap(),
        };
        assert_eq!(
            match_key(KeyKind::Phone, Some("020 7946 0018"), &gb)
                .unwrap()
                .folded,
            "+442079460018"
        );
    }

    #[test]
    fn websites_compare_by_registrable_domain() {
        assert_eq!(
            key(KeyKind::Website, "https://www.contoso.com/"),
            "contoso.com"
        );
        assert_eq!(key(KeyKind::Website, "shop.contoso.co.uk"), "contoso.co.uk");
    }

    #[test]
    fn company_names_fold_but_keep_case_for_sensitive_rules() {
        let n = Normalizer::default();
        let a = match_key(KeyKind::Company, Some("  Contoso   Ltd "), &n).unwrap();
        let b = match_key(KeyKind::Company, Some("contoso limited"), &n).unwrap();
        assert_eq!(a.folded, b.folded);
        assert_eq!(a.folded, "contoso");
        assert_eq!(a.exact, "Contoso Ltd");
        assert_eq!(a.reversed, "osotnoc");
        assert!(match_key(KeyKind::Company, Some("   "), &n).is_none());
    }

    #[test]
    fn names_fold_diacritics_and_first_names_keep_their_nickname_as_an_alias() {
        assert_eq!(key(KeyKind::Text, "Müller"), key(KeyKind::Text, "MULLER"));
        assert_eq!(
            key(KeyKind::FirstName, "ZOË"),
            key(KeyKind::FirstName, "zoe")
        );
        let n = Normalizer::default();
        let bob = match_key(KeyKind::FirstName, Some("Bob"), &n).unwrap();
        assert_eq!(bob.folded, "bob");
        assert_eq!(bob.alias.as_deref(), Some("robert"));
        let robert = match_key(KeyKind::FirstName, Some("Robert"), &n).unwrap();
        assert_eq!(robert.alias, None, "the name itself: no alias");
        assert_eq!(
            match_key(KeyKind::Text, Some("Bob"), &n).unwrap().alias,
            None
        );
    }

    #[test]
    fn address_fields_are_matchable_on_every_record_type() {
        for record in [Account, Contact, Lead] {
            for name in [
                "street1",
                "city",
                "stateOrProvince",
                "postalCode",
                "countryOrRegion",
            ] {
                assert!(match_field(record, name).is_some(), "{record:?} {name}");
            }
        }
        assert_eq!(key(KeyKind::Street, "1 Main St"), "1 main street");
    }

    #[test]
    fn first_and_last_names_may_be_compared_but_not_names_and_phones() {
        assert!(KeyKind::FirstName.compatible(KeyKind::Text));
        assert!(!KeyKind::Text.compatible(KeyKind::Phone));
        assert!(KeyKind::Company.compatible(KeyKind::Company));
        assert!(KeyKind::Street.fuzzy());
        assert!(!KeyKind::Phone.fuzzy());
    }
}
