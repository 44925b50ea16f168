//! `field_mappings`: how a lead field is carried over to a record qualification creates.
//! `source_field` / `target_field` are API names (a standard field's, or a custom field's
//! name); `standard` rows are seeded by the migrations and can be disabled, not removed.

use sea_orm::entity::prelude::*;

use crate::MappingTargetType;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "field_mappings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub target: MappingTargetType,
    pub source_field: String,
    pub target_field: String,
    pub standard: bool,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
