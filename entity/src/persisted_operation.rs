//! `persisted_operations`: a GraphQL document stored under its SHA-256 (lowercase hex).
//! `registered`: put there ahead of time by `leadq persist` (what `LEADQ_PERSISTED_ONLY` runs),
//! rather than sent once by a client through automatic persisted queries.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "persisted_operations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sha256: String,
    pub document: String,
    pub registered: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
