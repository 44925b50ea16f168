//! `opportunities`: potential sales, usually created by qualifying a lead.

use sea_orm::entity::prelude::*;

use crate::{OpportunityState, ProcessStage, PurchaseProcess, PurchaseTimeframe};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "opportunities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub topic: String,
    pub description: Option<String>,
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub originating_lead_id: Option<Uuid>,
    pub currency_code: String,
    pub budget_amount_cents: Option<i64>,
    pub purchase_timeframe: Option<PurchaseTimeframe>,
    pub purchase_process: Option<PurchaseProcess>,
    pub decision_maker: Option<bool>,
    pub process_stage: ProcessStage,
    pub owner_id: Uuid,
    pub state: OpportunityState,
    pub created_at: DateTimeUtc,
    pub modified_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
