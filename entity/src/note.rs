//! `notes`: timeline notes regarding a lead, account, contact or opportunity.

use sea_orm::entity::prelude::*;

use crate::RecordType;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "notes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub regarding_type: RecordType,
    pub regarding_id: Uuid,
    pub subject: Option<String>,
    pub text: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
