//! How one condition of a rule compares two match keys, and what it looks up in the index.

use entity::MatchOperator;

use super::{MatchField, MatchKey, fuzzy};

/// One condition of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub base_field: MatchField,
    pub matching_field: MatchField,
    pub operator: MatchOperator,
    pub character_count: Option<usize>,
    pub ignore_blank: bool,
    /// The least similarity FUZZY accepts (0–1).
    pub similarity: f64,
}

/// Whether two keys satisfy `condition`'s operator: `Some(similarity)` when they do (1.0 for
/// the exact operators), `None` when they do not.
pub fn compare(
    condition: &Condition,
    case_sensitive: bool,
    base: &MatchKey,
    other: &MatchKey,
) -> Option<f64> {
    let (a, b) = if case_sensitive {
        (&base.exact, &other.exact)
    } else {
        (&base.folded, &other.folded)
    };
    let holds = match condition.operator {
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
        MatchOperator::Fuzzy => {
            let mut found = fuzzy::similarity(a, b);
            // First names also compare by the names the nickname table gives ("Bob" and
            // "Robert" are one name to FUZZY).
            if !case_sensitive && (base.alias.is_some() || other.alias.is_some()) {
                let alias_a = base.alias.as_deref().unwrap_or(&base.folded);
                let alias_b = other.alias.as_deref().unwrap_or(&other.folded);
                found = found.max(fuzzy::similarity(alias_a, alias_b));
            }
            return (found >= condition.similarity).then_some(found);
        }
    };
    holds.then_some(1.0)
}

/// Whether two keys satisfy `condition`'s operator.
pub fn keys_match(
    condition: &Condition,
    case_sensitive: bool,
    base: &MatchKey,
    other: &MatchKey,
) -> bool {
    compare(condition, case_sensitive, base, other).is_some()
}

/// The keys an index lookup uses for a condition: the whole folded key (exact), its first or
/// last N characters (folded, or reversed for the last ones), or the FUZZY blocking keys.
/// Empty when the condition cannot match the key (a value shorter than N characters).
pub fn lookup_keys(condition: &Condition, key: &MatchKey) -> Vec<String> {
    match condition.operator {
        MatchOperator::Fuzzy => key.blocks(),
        _ => lookup_prefix(condition, key).into_iter().collect(),
    }
}

/// The part of a key an index lookup uses for the exact operators: the whole folded key, or
/// its first or last N characters; FUZZY's lookups are its blocking keys ([`lookup_keys`]).
pub fn lookup_prefix(condition: &Condition, key: &MatchKey) -> Option<String> {
    match condition.operator {
        MatchOperator::Exact | MatchOperator::Fuzzy => Some(key.folded.clone()),
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
    use super::super::{KeyKind, Normalizer, match_field, match_key};
    use super::*;
    use entity::DuplicateRecordType::Account;

    fn cond(operator: MatchOperator, n: Option<usize>) -> Condition {
        let f = match_field(Account, "name").unwrap();
        Condition {
            base_field: f,
            matching_field: f,
            operator,
            character_count: n,
            ignore_blank: true,
            similarity: fuzzy::DEFAULT_SIMILARITY,
        }
    }

    fn key(v: &str) -> MatchKey {
        match_key(KeyKind::Text, Some(v), &Normalizer::default()).unwrap()
    }

    #[test]
    fn operators_compare_the_right_characters() {
        let (a, b) = (key("Contoso East"), key("contoso west"));
        assert!(!keys_match(
            &cond(MatchOperator::Exact, None),
            false,
            &a,
            &b
        ));
        let first8 = cond(MatchOperator::SameFirstCharacters, Some(8));
        assert!(keys_match(&first8, false, &a, &b));
        assert!(!keys_match(&first8, true, &a, &b));
        let first9 = cond(MatchOperator::SameFirstCharacters, Some(9));
        assert!(!keys_match(&first9, false, &a, &b));
        let last2 = cond(MatchOperator::SameLastCharacters, Some(2));
        assert!(keys_match(&last2, false, &a, &b));
        let last3 = cond(MatchOperator::SameLastCharacters, Some(3));
        assert!(!keys_match(&last3, false, &a, &b));
        assert_eq!(lookup_prefix(&last3, &a).unwrap(), "tsa");
        let first20 = cond(MatchOperator::SameFirstCharacters, Some(20));
        assert_eq!(lookup_prefix(&first20, &a), None);
        assert!(lookup_keys(&first20, &a).is_empty());
    }

    #[test]
    fn fuzzy_reports_the_similarity_above_its_threshold() {
        let fuzzy = cond(MatchOperator::Fuzzy, None);
        let found = compare(&fuzzy, false, &key("Jonh"), &key("John")).unwrap();
        assert!(found > 0.9 && found < 1.0);
        assert!(compare(&fuzzy, false, &key("John"), &key("Mary")).is_none());
        let strict = Condition {
            similarity: 0.99,
            ..fuzzy.clone()
        };
        assert!(compare(&strict, false, &key("Jonh"), &key("John")).is_none());
        assert_eq!(
            compare(&fuzzy, false, &key("John"), &key("JOHN")),
            Some(1.0)
        );
        assert_eq!(lookup_keys(&fuzzy, &key("ab")), key("ab").blocks());
    }

    #[test]
    fn first_names_are_exact_as_spelled_and_fuzzy_through_nicknames() {
        let f =
            crate::domain::matching::match_field(entity::DuplicateRecordType::Contact, "firstName")
                .unwrap();
        let first =
            |v: &str| match_key(KeyKind::FirstName, Some(v), &Normalizer::default()).unwrap();
        let exact = Condition {
            base_field: f,
            matching_field: f,
            ..cond(MatchOperator::Exact, None)
        };
        let fuzzy = Condition {
            operator: MatchOperator::Fuzzy,
            ..exact.clone()
        };
        // EXACT: case and accents, never nicknames (Liam and William are two people).
        assert!(keys_match(&exact, false, &first("ZOË"), &first("zoe")));
        assert!(!keys_match(&exact, false, &first("Bob"), &first("Robert")));
        assert!(!keys_match(
            &exact,
            false,
            &first("Liam"),
            &first("William")
        ));
        // FUZZY: the nickname table's name counts as the same name.
        assert_eq!(
            compare(&fuzzy, false, &first("Bob"), &first("Robert")),
            Some(1.0)
        );
        assert!(compare(&fuzzy, false, &first("Bob"), &first("Mary")).is_none());
        // ... and their blocking keys meet, so the index finds the candidate.
        let (bob, robert) = (first("Bob").blocks(), first("Robert").blocks());
        assert!(bob.iter().any(|k| robert.contains(k)));
        // Case-sensitive rules compare names as written.
        assert!(compare(&fuzzy, true, &first("Bob"), &first("Robert")).is_none());
    }
}
