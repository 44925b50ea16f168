//! The bundled nickname table (`nicknames.txt`: its source and licence are in its header): a
//! folded first name or nickname → the canonical name it stands for ("bob" → "robert").

use std::collections::HashMap;
use std::sync::LazyLock;

/// The table, parsed once: every nickname and every canonical name to its canonical name.
static TABLE: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    let mut table = HashMap::new();
    for line in include_str!("nicknames.txt").lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((canonical, nicknames)) = line.split_once(':') else {
            continue;
        };
        let canonical = canonical.trim();
        table.entry(canonical).or_insert(canonical);
        for nickname in nicknames
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            table.entry(nickname).or_insert(canonical);
        }
    }
    table
});

/// The canonical name of a folded first name (itself when the table does not know it).
pub fn canonical(name: &str) -> &str {
    TABLE.get(name).copied().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nicknames_map_to_their_canonical_name() {
        assert_eq!(canonical("bob"), "robert");
        assert_eq!(canonical("robert"), "robert");
        assert_eq!(canonical("bill"), "william");
        assert_eq!(canonical("liz"), "elizabeth");
        assert_eq!(canonical("peggy"), "margaret");
        assert_eq!(canonical("xavier"), "xavier");
    }

    #[test]
    fn every_line_of_the_table_is_well_formed() {
        for line in include_str!("nicknames.txt").lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (canonical, nicknames) = line.split_once(':').unwrap();
            assert_eq!(canonical, canonical.to_lowercase(), "{line}");
            assert!(!nicknames.trim().is_empty(), "{line}");
        }
    }
}
