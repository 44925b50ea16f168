//! `duplicate_rule_conditions`: the AND-ed conditions of a duplicate detection rule.

use sea_orm::entity::prelude::*;

use crate::MatchOperator;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "duplicate_rule_conditions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub rule_id: Uuid,
    pub position: i32,
    pub base_field: String,
    pub matching_field: String,
    pub operator: MatchOperator,
    pub character_count: Option<i32>,
    pub ignore_blank: bool,
    /// The threshold of a FUZZY condition (0 to 1).
    pub similarity: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
