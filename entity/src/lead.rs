//! `leads`: potential customers, qualified into accounts, contacts and opportunities or
//! disqualified. Money is integer cents.

use sea_orm::entity::prelude::*;

use crate::{
    LeadRating, LeadSource, LeadState, LeadStatusReason, PreferredContactMethod, ProcessStage,
    PurchaseProcess, PurchaseTimeframe,
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "leads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub topic: String,
    pub first_name: Option<String>,
    pub last_name: String,
    pub job_title: Option<String>,
    pub business_phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub email: Option<String>,
    pub company_name: Option<String>,
    pub website: Option<String>,
    pub street1: Option<String>,
    pub street2: Option<String>,
    pub street3: Option<String>,
    pub city: Option<String>,
    pub state_or_province: Option<String>,
    pub postal_code: Option<String>,
    pub country_or_region: Option<String>,
    pub description: Option<String>,
    pub industry: Option<String>,
    pub lead_source: Option<LeadSource>,
    pub rating: Option<LeadRating>,
    pub preferred_contact_method: Option<PreferredContactMethod>,
    pub purchase_timeframe: Option<PurchaseTimeframe>,
    pub purchase_process: Option<PurchaseProcess>,
    pub budget_amount_cents: Option<i64>,
    pub decision_maker: Option<bool>,
    pub currency_code: Option<String>,
    pub existing_account_id: Option<Uuid>,
    pub existing_contact_id: Option<Uuid>,
    pub owner_id: Uuid,
    pub state: LeadState,
    pub status_reason: LeadStatusReason,
    pub process_stage: ProcessStage,
    pub qualified_account_id: Option<Uuid>,
    pub qualified_contact_id: Option<Uuid>,
    pub qualifying_opportunity_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub modified_at: DateTimeUtc,
    pub qualified_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
