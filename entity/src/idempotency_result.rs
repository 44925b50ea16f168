//! `idempotency_results`: one result of a keyed call (one per lead of a bulk call), kept for
//! replay; written in the same transaction as the work it reports.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "idempotency_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub actor_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub operation: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// The lead's position in the call's input (0 for a single call).
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    /// The result, as JSON.
    pub response: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
