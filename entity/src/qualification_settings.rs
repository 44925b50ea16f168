//! `qualification_settings`: the organization's single row (id = 1) of lead qualification settings.
//! `opportunity_form_fields` is a JSON array of field names.

use sea_orm::entity::prelude::*;

use crate::{CreationMode, QualificationExperience};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "qualification_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub experience: QualificationExperience,
    pub auto_create_records: bool,
    pub account_creation: CreationMode,
    pub contact_creation: CreationMode,
    pub opportunity_creation: CreationMode,
    pub allow_multiple_opportunities: bool,
    pub max_opportunities_per_lead: i32,
    pub summarize_lead: bool,
    pub opportunity_form_fields: String,
    pub base_currency_code: String,
    pub modified_at: DateTimeUtc,
    pub modified_by: Option<Uuid>,
    /// The region of phone numbers written without a country code (ISO 3166 alpha-2).
    pub phone_region: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
