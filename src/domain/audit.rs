//! Audit entries as values: one append-only row per create, update, state change, assignment
//! and settings change, built here and stored by `service::audit` (or in bulk by the writers).

use entity::{RecordType, audit_event};
use sea_orm::Set;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Actor;

/// Audit actions.
pub mod action {
    pub const CREATED: &str = "CREATED";
    pub const UPDATED: &str = "UPDATED";
    pub const DELETED: &str = "DELETED";
    pub const ASSIGNED: &str = "ASSIGNED";
    pub const QUALIFIED: &str = "QUALIFIED";
    pub const DISQUALIFIED: &str = "DISQUALIFIED";
    pub const REACTIVATED: &str = "REACTIVATED";
    pub const SETTINGS_CHANGED: &str = "SETTINGS_CHANGED";
}

/// One event, not yet stored.
pub fn event(
    actor: Option<&Actor>,
    record_type: RecordType,
    record_id: Uuid,
    action: &str,
    changes: Value,
) -> audit_event::ActiveModel {
    audit_event::ActiveModel {
        id: Set(super::new_id()),
        occurred_at: Set(super::now()),
        actor_id: Set(actor.map(|a| a.user_id)),
        record_type: Set(record_type),
        record_id: Set(record_id),
        action: Set(action.to_owned()),
        changes: Set(changes.to_string()),
    }
}
