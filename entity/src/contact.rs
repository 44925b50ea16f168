//! `contacts`: people at accounts (or on their own).

use sea_orm::entity::prelude::*;

use crate::RecordState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub first_name: Option<String>,
    pub last_name: String,
    pub job_title: Option<String>,
    pub business_phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub email: Option<String>,
    pub street1: Option<String>,
    pub street2: Option<String>,
    pub street3: Option<String>,
    pub city: Option<String>,
    pub state_or_province: Option<String>,
    pub postal_code: Option<String>,
    pub country_or_region: Option<String>,
    pub parent_account_id: Option<Uuid>,
    pub originating_lead_id: Option<Uuid>,
    pub owner_id: Uuid,
    pub state: RecordState,
    pub created_at: DateTimeUtc,
    pub modified_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
