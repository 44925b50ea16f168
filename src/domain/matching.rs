//! Duplicate matching, pure: which fields rules may compare, how values are normalized into match
//! keys, and how a rule's conditions are evaluated on two records.
//!
//! Normalization (the peers' top complaint is missed matches over case and formatting):
//! e-mails are trimmed and lower-cased; phones compare by their digits; names and company names
//! are whitespace-collapsed (and case-folded unless a rule is case-sensitive); websites compare by
//! domain, without scheme, `www.`, path or trailing slash.
//!
//! Every matchable field of every account, contact and lead is stored as a match key
//! (`service::duplicates`), folded and reversed, so "exact", "same first N" and "same last N
//! characters" are all index lookups.

use entity::{DuplicateRecordType, MatchOperator, account, contact};

/// A rule that matched, and on which fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MatchedRule {
    pub rule_name: String,
    pub fields: Vec<String>,
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

/// How a field's values are normalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Text,
    Email,
    Phone,
    Website,
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
    field(Account, "name", KeyKind::Text),
    field(Account, "email", KeyKind::Email),
    field(Account, "phone", KeyKind::Phone),
    field(Account, "website", KeyKind::Website),
    field(Contact, "firstName", KeyKind::Text),
    field(Contact, "lastName", KeyKind::Text),
    field(Contact, "email", KeyKind::Email),
    field(Contact, "businessPhone", KeyKind::Phone),
    field(Contact, "mobilePhone", KeyKind::Phone),
    field(Lead, "firstName", KeyKind::Text),
    field(Lead, "lastName", KeyKind::Text),
    field(Lead, "email", KeyKind::Email),
    field(Lead, "companyName", KeyKind::Text),
    field(Lead, "businessPhone", KeyKind::Phone),
    field(Lead, "mobilePhone", KeyKind::Phone),
    field(Lead, "website", KeyKind::Website),
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
}

/// The match key of a value; `None` for a blank value.
pub fn match_key(kind: KeyKind, value: Option<&str>) -> Option<MatchKey> {
    let value = value?.trim();
    let exact = match kind {
        KeyKind::Text => value.split_whitespace().collect::<Vec<_>>().join(" "),
        KeyKind::Email => value.to_lowercase(),
        KeyKind::Phone => value.chars().filter(char::is_ascii_digit).collect(),
        KeyKind::Website => website_domain(value),
    };
    if exact.is_empty() {
        return None;
    }
    let folded = exact.to_lowercase();
    let reversed = folded.chars().rev().collect();
    Some(MatchKey {
        exact,
        folded,
        reversed,
    })
}

/// `https://www.Contoso.com/about/` → `contoso.com`.
fn website_domain(value: &str) -> String {
    let lower = value.trim().to_lowercase();
    let without_scheme = lower
        .split_once("://")
        .map_or(lower.as_str(), |(_, rest)| rest);
    let host = without_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('.');
    let host = host.split(':').next().unwrap_or(host);
    host.strip_prefix("www.").unwrap_or(host).to_owned()
}

/// One condition of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub base_field: MatchField,
    pub matching_field: MatchField,
    pub operator: MatchOperator,
    pub character_count: Option<usize>,
    pub ignore_blank: bool,
}

/// Whether two keys satisfy `condition`'s operator.
pub fn keys_match(
    condition: &Condition,
    case_sensitive: bool,
    base: &MatchKey,
    other: &MatchKey,
) -> bool {
    let (a, b) = if case_sensitive {
        (&base.exact, &other.exact)
    } else {
        (&base.folded, &other.folded)
    };
    match condition.operator {
        MatchOperator::Exact => a == b,
        MatchOperator::SameFirstCharacters => {
            let n = condition.character_count.unwrap_or(1);
            a.chars().count() >= n
                && b.chars().count() >= n
                && a.chars().take(n).eq(b.chars().take(n))
        }
        MatchOperator::SameLastCharacters => {
            let n = condition.character_count.unwrap_or(1);
            a.chars().count() >= n
                && b.chars().count() >= n
                && a.chars().rev().take(n).eq(b.chars().rev().take(n))
        }
    }
}

/// The part of a key an index lookup uses: the whole folded key (exact), or its first or last N
/// characters (folded, or reversed for the last ones).
pub fn lookup_prefix(condition: &Condition, key: &MatchKey) -> Option<String> {
    match condition.operator {
        MatchOperator::Exact => Some(key.folded.clone()),
        MatchOperator::SameFirstCharacters => {
            let n = condition.character_count.unwrap_or(1);
            (key.folded.chars().count() >= n).then(|| key.folded.chars().take(n).collect())
        }
        MatchOperator::SameLastCharacters => {
            let n = condition.character_count.unwrap_or(1);
            (key.reversed.chars().count() >= n).then(|| key.reversed.chars().take(n).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: KeyKind, v: &str) -> String {
        match_key(kind, Some(v)).unwrap().folded
    }

    #[test]
    fn emails_fold_case_and_blanks() {
        assert_eq!(
            key(KeyKind::Email, "JOHN@X.COM "),
            key(KeyKind::Email, "john@x.com")
        );
    }

    #[test]
    fn phones_compare_by_digits() {
        assert_eq!(key(KeyKind::Phone, "+1 (555) 010-2000"), "15550102000");
        assert_eq!(key(KeyKind::Phone, "15550102000"), "15550102000");
        assert!(match_key(KeyKind::Phone, Some("()")).is_none());
    }

    #[test]
    fn websites_compare_by_domain() {
        assert_eq!(
            key(KeyKind::Website, "https://www.contoso.com/"),
            "contoso.com"
        );
        assert_eq!(key(KeyKind::Website, "contoso.com"), "contoso.com");
        assert_eq!(
            key(KeyKind::Website, "HTTP://Contoso.com:8080/about?x#y"),
            "contoso.com"
        );
    }

    #[test]
    fn company_names_fold_case_and_whitespace_but_keep_case_for_sensitive_rules() {
        let a = match_key(KeyKind::Text, Some("  Contoso   Ltd ")).unwrap();
        let b = match_key(KeyKind::Text, Some("contoso ltd")).unwrap();
        assert_eq!(a.folded, b.folded);
        assert_ne!(a.exact, b.exact);
        assert_eq!(a.reversed, "dtl osotnoc");
        assert!(match_key(KeyKind::Text, Some("   ")).is_none());
    }

    #[test]
    fn operators_compare_the_right_characters() {
        let f = match_field(Account, "name").unwrap();
        let cond = |operator, n| Condition {
            base_field: f,
            matching_field: f,
            operator,
            character_count: n,
            ignore_blank: true,
        };
        let a = match_key(KeyKind::Text, Some("Contoso East")).unwrap();
        let b = match_key(KeyKind::Text, Some("contoso west")).unwrap();
        assert!(!keys_match(
            &cond(MatchOperator::Exact, None),
            false,
            &a,
            &b
        ));
        assert!(keys_match(
            &cond(MatchOperator::SameFirstCharacters, Some(8)),
            false,
            &a,
            &b
        ));
        assert!(!keys_match(
            &cond(MatchOperator::SameFirstCharacters, Some(8)),
            true,
            &a,
            &b
        ));
        assert!(!keys_match(
            &cond(MatchOperator::SameFirstCharacters, Some(9)),
            false,
            &a,
            &b
        ));
        assert!(keys_match(
            &cond(MatchOperator::SameLastCharacters, Some(2)),
            false,
            &a,
            &b
        ));
        assert!(!keys_match(
            &cond(MatchOperator::SameLastCharacters, Some(3)),
            false,
            &a,
            &b
        ));
        assert_eq!(
            lookup_prefix(&cond(MatchOperator::SameLastCharacters, Some(3)), &a).unwrap(),
            "tsa"
        );
        assert_eq!(
            lookup_prefix(&cond(MatchOperator::SameFirstCharacters, Some(20)), &a),
            None
        );
    }
}
