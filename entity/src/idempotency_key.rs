//! `idempotency_keys`: a keyed mutation's reservation of its key, per caller, operation and
//! key. The call that holds it (`owner`) renews `heartbeat_at` while it runs; `done` once it
//! finished; the row (and its results) is forgotten after `expires_at`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub actor_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub operation: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// The request, as canonical JSON, to tell a replay from a reuse of the key.
    pub request: String,
    /// The run holding the key.
    pub owner: Uuid,
    /// Whether the run finished (its results are complete).
    pub done: bool,
    pub heartbeat_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
