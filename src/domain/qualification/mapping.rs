//! The records a lead's field mappings produce (`domain::field_mapping` is the table): the new
//! account, contact and opportunities of a qualification, not yet stored, and the mapped values
//! a preview shows.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use entity::{OpportunityState, ProcessStage, RecordState, account, contact, lead, opportunity};
use sea_orm::{EntityTrait, ModelTrait, Value};
use uuid::Uuid;

use super::request::OpportunityDraft;
use crate::domain::field_mapping::{FieldMapping, Source, TargetRecord, mappings_for};
use crate::domain::new_id;
use crate::domain::values::format_cents;
use crate::error::{AppError, AppResult};

/// The account a lead's mappings produce (not stored).
pub fn mapped_account(
    lead: &lead::Model,
    owner: Uuid,
    now: DateTime<Utc>,
) -> AppResult<account::Model> {
    let mut model = account::Model {
        id: new_id(),
        name: String::new(),
        website: None,
        phone: None,
        email: None,
        street1: None,
        street2: None,
        street3: None,
        city: None,
        state_or_province: None,
        postal_code: None,
        country_or_region: None,
        primary_contact_id: None,
        originating_lead_id: Some(lead.id),
        owner_id: owner,
        state: RecordState::Active,
        created_at: now,
        modified_at: now,
    };
    for mapping in mappings_for(TargetRecord::Account) {
        if let Source::LeadColumn(column) = mapping.source {
            let target =
                account::Column::from_str(mapping.target_column).map_err(AppError::internal)?;
            set_mapped(&mut model, target, lead_value(lead, column)?)?;
        }
    }
    Ok(model)
}

/// The contact a lead's mappings produce (not stored).
pub fn mapped_contact(
    lead: &lead::Model,
    owner: Uuid,
    now: DateTime<Utc>,
) -> AppResult<contact::Model> {
    let mut model = contact::Model {
        id: new_id(),
        first_name: None,
        last_name: String::new(),
        job_title: None,
        business_phone: None,
        mobile_phone: None,
        email: None,
        street1: None,
        street2: None,
        street3: None,
        city: None,
        state_or_province: None,
        postal_code: None,
        country_or_region: None,
        parent_account_id: None,
        originating_lead_id: Some(lead.id),
        owner_id: owner,
        state: RecordState::Active,
        created_at: now,
        modified_at: now,
    };
    for mapping in mappings_for(TargetRecord::Contact) {
        if let Source::LeadColumn(column) = mapping.source {
            let target =
                contact::Column::from_str(mapping.target_column).map_err(AppError::internal)?;
            set_mapped(&mut model, target, lead_value(lead, column)?)?;
        }
    }
    Ok(model)
}

/// An opportunity from the lead's mappings, the resulting account and contact, and a draft.
pub fn mapped_opportunity(
    lead: &lead::Model,
    draft: &OpportunityDraft,
    account_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    currency_code: &str,
    owner: Uuid,
    now: DateTime<Utc>,
) -> AppResult<opportunity::Model> {
    let mut model = opportunity::Model {
        id: new_id(),
        topic: String::new(),
        description: None,
        account_id: None,
        contact_id: None,
        originating_lead_id: Some(lead.id),
        currency_code: currency_code.to_owned(),
        budget_amount_cents: None,
        purchase_timeframe: None,
        purchase_process: None,
        decision_maker: None,
        process_stage: ProcessStage::Develop,
        owner_id: owner,
        state: OpportunityState::Open,
        created_at: now,
        modified_at: now,
    };
    for mapping in mappings_for(TargetRecord::Opportunity) {
        let target =
            opportunity::Column::from_str(mapping.target_column).map_err(AppError::internal)?;
        let value = match mapping.source {
            Source::LeadColumn(column) => lead_value(lead, column)?,
            Source::ResultingAccount => account_id.into(),
            Source::ResultingContact => contact_id.into(),
        };
        set_mapped(&mut model, target, value)?;
    }
    if let Some(topic) = &draft.topic {
        model.topic = topic.as_str().to_owned();
    }
    if let Some(budget) = draft.budget_amount {
        model.budget_amount_cents = Some(budget.cents());
    }
    if draft.purchase_timeframe.is_some() {
        model.purchase_timeframe = draft.purchase_timeframe;
    }
    if draft.purchase_process.is_some() {
        model.purchase_process = draft.purchase_process;
    }
    if draft.decision_maker.is_some() {
        model.decision_maker = draft.decision_maker;
    }
    if draft.description.is_some() {
        model.description = draft.description.clone();
    }
    Ok(model)
}

fn lead_value(lead: &lead::Model, column: &str) -> AppResult<Value> {
    let column = lead::Column::from_str(column).map_err(AppError::internal)?;
    Ok(lead.get(column))
}

fn set_mapped<M: ModelTrait>(
    model: &mut M,
    column: <M::Entity as EntityTrait>::Column,
    value: Value,
) -> AppResult<()> {
    model.try_set(column, value).map_err(AppError::internal)
}

/// One mapped value, for previews and the `fieldMappings` listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedValue {
    pub mapping: &'static FieldMapping,
    pub value: Option<String>,
}

/// The values a record would receive through the mappings.
pub fn mapped_values<M: ModelTrait>(model: &M, target: TargetRecord) -> AppResult<Vec<MappedValue>>
where
    <M::Entity as EntityTrait>::Column: FromStr,
{
    mappings_for(target)
        .map(|mapping| {
            let column = <M::Entity as EntityTrait>::Column::from_str(mapping.target_column)
                .map_err(|_| AppError::internal(format!("no column {}", mapping.target_column)))?;
            Ok(MappedValue {
                mapping,
                value: display(&model.get(column), mapping.target_column),
            })
        })
        .collect()
}

/// A stored value as a client reads it.
fn display(value: &Value, column: &str) -> Option<String> {
    match value {
        Value::String(Some(s)) => Some(s.to_string()),
        Value::BigInt(Some(n)) if column.ends_with("_cents") => Some(format_cents(*n)),
        Value::BigInt(Some(n)) => Some(n.to_string()),
        Value::Int(Some(n)) => Some(n.to_string()),
        Value::Bool(Some(b)) => Some(b.to_string()),
        Value::Uuid(Some(u)) => Some(u.to_string()),
        _ => None,
    }
}
