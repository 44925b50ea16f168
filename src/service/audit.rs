//! The audit trail: one append-only row per create, update, state change, assignment and
//! settings change, with who did it, when, and what changed. Nothing updates or deletes a row.

use entity::{RecordType, audit_event};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::auth::Actor;
use crate::error::AppResult;

pub use crate::domain::audit::{action, event};

/// Records one event inside the caller's transaction.
pub async fn record(
    conn: &impl ConnectionTrait,
    actor: Option<&Actor>,
    record_type: RecordType,
    record_id: Uuid,
    action: &str,
    changes: Value,
) -> AppResult<()> {
    event(actor, record_type, record_id, action, changes)
        .insert(conn)
        .await?;
    Ok(())
}

/// The events about one record, oldest first.
pub async fn events_for(
    conn: &impl ConnectionTrait,
    record_id: Uuid,
) -> AppResult<Vec<audit_event::Model>> {
    Ok(audit_event::Entity::find()
        .filter(audit_event::Column::RecordId.eq(record_id))
        .order_by_asc(audit_event::Column::OccurredAt)
        .order_by_asc(audit_event::Column::Id)
        .all(conn)
        .await?)
}

/// What changed between two JSON snapshots of a record: `{field: {from, to}}` for each field
/// whose value differs.
pub fn diff(before: &Value, after: &Value) -> Value {
    let empty = Map::new();
    let before = before.as_object().unwrap_or(&empty);
    let after = after.as_object().unwrap_or(&empty);
    let mut changes = Map::new();
    for (field, new) in after {
        let old = before.get(field).unwrap_or(&Value::Null);
        if old != new {
            changes.insert(field.clone(), serde_json::json!({ "from": old, "to": new }));
        }
    }
    Value::Object(changes)
}
