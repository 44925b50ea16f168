//! `stakeholders`: a contact connected to a lead or an opportunity, with a role.

use sea_orm::entity::prelude::*;

use crate::StakeholderRole;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "stakeholders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub lead_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    pub contact_id: Uuid,
    pub role: StakeholderRole,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
