//! `match_blocks`: a FUZZY blocking key of one matchable field of an account, contact or lead.

use sea_orm::entity::prelude::*;

use crate::DuplicateRecordType;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "match_blocks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub record_type: DuplicateRecordType,
    #[sea_orm(primary_key, auto_increment = false)]
    pub field: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub block: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub record_id: Uuid,
    /// Whether the record is active (accounts, contacts) or open (leads).
    pub active: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
