//! `qualification_job_items`: one lead of a job, by its position, with its result once
//! qualified (written in the same transaction as the qualification itself).

use sea_orm::entity::prelude::*;

use crate::ItemOutcome;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "qualification_job_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub lead_id: Uuid,
    pub outcome: Option<ItemOutcome>,
    /// The result, as JSON, once the lead was processed.
    pub result: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
