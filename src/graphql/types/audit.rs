//! The audit trail as clients read it.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::audit_event;

use super::enums::RecordType;
use super::records::User;
use crate::graphql::loaders::UserId;

/// One entry of the audit trail: who did what to which record, when, and what changed.
pub struct AuditEvent(pub audit_event::Model);

/// One entry of the audit trail: who did what to which record, when, and what changed.
#[Object]
impl AuditEvent {
    /// The entry's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// When it happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// Who did it (null for the system).
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let Some(id) = self.0.actor_id else {
            return Ok(None);
        };
        Ok(crate::graphql::loaders(ctx)?
            .load_one(UserId(id))
            .await?
            .map(User))
    }
    /// The kind of record.
    async fn record_type(&self) -> RecordType {
        self.0.record_type.into()
    }
    /// The record's id.
    async fn record_id(&self) -> ID {
        ID(self.0.record_id.to_string())
    }
    /// CREATED, UPDATED, DELETED, ASSIGNED, QUALIFIED, DISQUALIFIED, REACTIVATED or
    /// SETTINGS_CHANGED.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// What changed, as JSON: `{"field": {"from": ..., "to": ...}}` or the action's details.
    async fn changes(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(serde_json::from_str(&self.0.changes).unwrap_or_default())
    }
}
