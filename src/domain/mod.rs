//! Pure domain code, no I/O: parsing of client input into trusted values ([`values`]), the
//! writable fields of each record ([`records`]), the lead → record field mappings
//! ([`field_mapping`]) and duplicate matching ([`matching`]).

pub mod field_mapping;
pub mod matching;
pub mod records;
pub mod values;
