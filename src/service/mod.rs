//! The use cases. Each public function is one use case: it checks the rules, owns its
//! transaction and knows nothing of GraphQL. Helpers that run inside a caller's transaction take
//! `&impl ConnectionTrait`.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod bulk;
pub mod contacts;
pub mod duplicate_rules;
pub mod duplicates;
pub mod leads;
pub mod notes;
pub mod opportunities;
pub mod paging;
pub mod qualification;
pub mod settings;
pub mod stakeholders;
pub mod summary;
pub mod users;

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
