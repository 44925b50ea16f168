//! Pure domain code, no I/O: parsing of client input into trusted values ([`values`]), the
//! writable fields of each record ([`records`]), the lead state machine ([`lead_state`]), the
//! lead → record field mappings ([`field_mapping`]), custom fields ([`custom_field`]), duplicate matching ([`matching`]), the
//! decisions and writes of a qualification ([`qualification`]), lead summaries ([`summary`])
//! and audit entries ([`audit`]).

pub mod audit;
pub mod custom_field;
pub mod field_mapping;
pub mod lead_state;
pub mod matching;
pub mod qualification;
pub mod records;
pub mod summary;
pub mod values;

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

/// A new time-ordered record id.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// The current time, to the microsecond (what both databases store).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
