//! `qualification_job_chunks`: a job's leads in chunks (positions `first_position` up to but not
//! including `end_position`); a server process leases a chunk (`lease_owner` until
//! `lease_until`) while it qualifies it; a done chunk keeps the process that did it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "qualification_job_chunks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub chunk: i32,
    pub first_position: i32,
    pub end_position: i32,
    pub done: bool,
    pub lease_owner: Option<Uuid>,
    pub lease_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
