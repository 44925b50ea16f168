//! The `FUZZY` operator: typo-tolerant similarity of normalized values, found through blocking
//! keys so that it stays an index lookup.
//!
//! **Similarity: Jaro-Winkler** (`strsim`). The fields FUZZY compares are short: person names,
//! company names, streets and cities, where typos are transpositions, a dropped or doubled
//! letter, or a wrong key, and where the start of the value is the most reliable part.
//! Jaro-Winkler was designed for exactly that (record linkage of names at the US Census): it
//! tolerates transpositions and rewards a common prefix, it is well understood as a score in
//! 0–1 (so one threshold, default 0.85, fits short and long values alike), and it costs
//! O(n·m) on a few dozen characters. A normalized Damerau-Levenshtein punishes one typo in a
//! four-letter name ("Jonh") far more than in a long one; Jaro-Winkler scores "John" / "Jonh"
//! 0.93.
//!
//! **Blocking keys.** A rule is looked up through one driving condition (see
//! `service::duplicates`): an exact-style one where it has one, and the similarity of its FUZZY
//! conditions is then computed on every record that key found. A rule of FUZZY conditions only
//! is looked up through its first one's blocking keys, stored with the values of that field
//! (`match_blocks`): the first [`BLOCK_LENGTH`] characters of the value without spaces,
//! and that prefix with each one character deleted (a "deletion neighbourhood"). Two values
//! one edit apart (substitution, insertion, deletion or adjacent transposition) in their
//! prefix, or with the same prefix, always share a key, so a check reads a handful of exact
//! index entries — its cost does not grow with the number of records — and Jaro-Winkler then
//! decides on the candidates. Values two edits apart within their first characters are the
//! price of the index lookup (the evaluation in `benches/matching.rs` measures it).

/// Characters of a value's start its blocking keys are made of.
pub const BLOCK_LENGTH: usize = 8;

/// The default similarity threshold of a FUZZY condition.
pub const DEFAULT_SIMILARITY: f64 = 0.85;

/// The Jaro-Winkler similarity of two normalized values (1.0: equal).
pub fn similarity(a: &str, b: &str) -> f64 {
    strsim::jaro_winkler(a, b)
}

/// The blocking keys of a normalized value: its prefix (without spaces) and the prefix with each
/// character deleted in turn; none for a blank value.
pub fn blocking_keys(value: &str) -> Vec<String> {
    let prefix: Vec<char> = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(BLOCK_LENGTH)
        .collect();
    if prefix.is_empty() {
        return Vec::new();
    }
    let mut keys: Vec<String> = Vec::with_capacity(prefix.len() + 1);
    keys.push(prefix.iter().collect());
    // Deleting from a one-letter value leaves nothing worth a lookup.
    if prefix.len() > 1 {
        for skip in 0..prefix.len() {
            let key: String = prefix
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, c)| *c)
                .collect();
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share_a_block(a: &str, b: &str) -> bool {
        let (a, b) = (blocking_keys(a), blocking_keys(b));
        a.iter().any(|k| b.contains(k))
    }

    #[test]
    fn one_typo_keeps_a_shared_block() {
        assert!(share_a_block("john", "jonh")); // transposition
        assert!(share_a_block("john", "jon")); // deletion
        assert!(share_a_block("john", "johnn")); // insertion
        assert!(share_a_block("john", "jahn")); // substitution
        assert!(share_a_block("smith", "smiht"));
        assert!(share_a_block("christopherson", "christophersen")); // beyond the prefix
        assert!(share_a_block(
            "contoso pharmaceuticals",
            "contoso pharmaceutical"
        ));
        assert!(share_a_block("kontoso", "contoso")); // first letter
    }

    #[test]
    fn different_values_do_not_share_blocks() {
        assert!(!share_a_block("john", "mary"));
        assert!(!share_a_block("smith", "jones"));
        assert!(!share_a_block("contoso", "fabrikam"));
    }

    #[test]
    fn keys_are_bounded_and_blanks_have_none() {
        assert!(blocking_keys("a very long company name indeed").len() <= BLOCK_LENGTH + 1);
        assert!(blocking_keys("").is_empty());
        assert_eq!(blocking_keys("a"), vec!["a".to_owned()]);
    }

    #[test]
    fn similarity_is_jaro_winkler() {
        assert!(similarity("john", "jonh") > 0.9);
        assert!(similarity("martha", "marhta") > 0.96);
        assert!(similarity("john", "mary") < 0.6);
        assert!((similarity("same", "same") - 1.0).abs() < f64::EPSILON);
    }
}
