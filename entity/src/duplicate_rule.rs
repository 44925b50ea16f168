//! `duplicate_rules`: a duplicate detection rule; its conditions are in
//! [`crate::duplicate_rule_condition`].

use sea_orm::entity::prelude::*;

use crate::DuplicateRecordType;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "duplicate_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub base_record_type: DuplicateRecordType,
    pub matching_record_type: DuplicateRecordType,
    pub case_sensitive: bool,
    pub exclude_inactive: bool,
    pub published: bool,
    pub created_at: DateTimeUtc,
    pub modified_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
