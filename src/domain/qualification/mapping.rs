//! The records a lead's field mappings produce: the new account, contact and opportunities of a
//! qualification, not yet stored, their custom field values, and the mapped values a preview
//! shows.
//!
//! [`Mappings`] is what a run applies: the enabled standard rows (typed, see
//! `domain::field_mapping`) and the enabled mappings onto custom fields, compiled once per
//! configuration version by `service::field_mappings`. Standard fields are copied by matching on
//! the field enums, so no column is looked up by name at run time; custom values are converted
//! by `domain::custom_field::convert`, which cannot fail for a pair the mapping's save accepted.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{OpportunityState, ProcessStage, RecordState, account, contact, lead, opportunity};
use serde_json::Value;
use uuid::Uuid;

use super::request::OpportunityDraft;
use crate::domain::custom_field::{self, Definition, Shape, Stored};
use crate::domain::field_mapping::{
    AccountField, ContactField, FIELD_MAPPINGS, FieldMapping, LeadField, OpportunityField, Source,
    TargetField, TargetRecord,
};
use crate::domain::new_id;
use crate::domain::values::format_cents;
use crate::error::AppResult;

/// Where a mapping onto a custom field takes its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomSource {
    /// A standard field of the lead.
    Lead(LeadField),
    /// A custom field of the lead.
    Custom(Definition),
}

impl CustomSource {
    fn shape(&self) -> Shape {
        match self {
            Self::Lead(field) => field.shape(),
            Self::Custom(definition) => definition.shape.clone(),
        }
    }

    fn label(&self) -> String {
        match self {
            Self::Lead(field) => field.api_name().to_owned(),
            Self::Custom(definition) => definition.label.clone(),
        }
    }
}

/// An enabled mapping onto a (not archived) custom field of a target record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomMapping {
    pub source: CustomSource,
    pub target: Definition,
    pub record: TargetRecord,
}

/// The mappings a run applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mappings {
    /// The enabled standard mappings, in table order.
    pub standard: Vec<&'static FieldMapping>,
    /// The enabled mappings onto custom fields.
    pub custom: Vec<CustomMapping>,
}

impl Default for Mappings {
    /// Every standard mapping, no custom one (an organization that changed nothing).
    fn default() -> Self {
        Self {
            standard: FIELD_MAPPINGS.iter().collect(),
            custom: Vec::new(),
        }
    }
}

impl Mappings {
    fn standard_for(&self, record: TargetRecord) -> impl Iterator<Item = &'static FieldMapping> {
        self.standard
            .iter()
            .copied()
            .filter(move |m| m.target.record() == record)
    }

    /// Whether any mapping reads a custom field of the lead (the run then loads them).
    pub fn reads_lead_custom_fields(&self) -> bool {
        self.custom
            .iter()
            .any(|m| matches!(m.source, CustomSource::Custom(_)))
    }

    /// The custom values a new `record` gets from `lead` (and its custom values, by field id).
    pub fn custom_values(
        &self,
        record: TargetRecord,
        lead: &lead::Model,
        lead_custom: &HashMap<Uuid, Value>,
    ) -> AppResult<Vec<(Definition, Stored)>> {
        let mut values = Vec::new();
        for m in self.custom.iter().filter(|m| m.record == record) {
            let source = match &m.source {
                CustomSource::Lead(field) => field.json(lead),
                CustomSource::Custom(definition) => lead_custom.get(&definition.id).cloned(),
            };
            let Some(source) = source else { continue };
            if let Some(stored) =
                custom_field::convert(&source, &m.source.shape(), &m.target.shape)?
            {
                values.push((m.target.clone(), stored));
            }
        }
        Ok(values)
    }
}

/// The account a lead's mappings produce (not stored).
pub fn mapped_account(
    lead: &lead::Model,
    owner: Uuid,
    now: DateTime<Utc>,
    mappings: &Mappings,
) -> account::Model {
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
    for mapping in mappings.standard_for(TargetRecord::Account) {
        let (Source::Lead(source), TargetField::Account(target)) = (mapping.source, mapping.target)
        else {
            continue;
        };
        let text = source.text(lead);
        match target {
            AccountField::Name => model.name = text.unwrap_or_default(),
            AccountField::Website => model.website = text,
            AccountField::Phone => model.phone = text,
            AccountField::Street1 => model.street1 = text,
            AccountField::Street2 => model.street2 = text,
            AccountField::Street3 => model.street3 = text,
            AccountField::City => model.city = text,
            AccountField::StateOrProvince => model.state_or_province = text,
            AccountField::PostalCode => model.postal_code = text,
            AccountField::CountryOrRegion => model.country_or_region = text,
        }
    }
    model
}

/// The contact a lead's mappings produce (not stored).
pub fn mapped_contact(
    lead: &lead::Model,
    owner: Uuid,
    now: DateTime<Utc>,
    mappings: &Mappings,
) -> contact::Model {
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
    for mapping in mappings.standard_for(TargetRecord::Contact) {
        let (Source::Lead(source), TargetField::Contact(target)) = (mapping.source, mapping.target)
        else {
            continue;
        };
        let text = source.text(lead);
        match target {
            ContactField::FirstName => model.first_name = text,
            ContactField::LastName => model.last_name = text.unwrap_or_default(),
            ContactField::JobTitle => model.job_title = text,
            ContactField::BusinessPhone => model.business_phone = text,
            ContactField::MobilePhone => model.mobile_phone = text,
            ContactField::Email => model.email = text,
            ContactField::Street1 => model.street1 = text,
            ContactField::Street2 => model.street2 = text,
            ContactField::Street3 => model.street3 = text,
            ContactField::City => model.city = text,
            ContactField::StateOrProvince => model.state_or_province = text,
            ContactField::PostalCode => model.postal_code = text,
            ContactField::CountryOrRegion => model.country_or_region = text,
        }
    }
    model
}

/// An opportunity from the lead's mappings, the resulting account and contact, and a draft.
#[allow(clippy::too_many_arguments)]
pub fn mapped_opportunity(
    lead: &lead::Model,
    draft: &OpportunityDraft,
    account_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    currency_code: &str,
    owner: Uuid,
    now: DateTime<Utc>,
    mappings: &Mappings,
) -> opportunity::Model {
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
    for mapping in mappings.standard_for(TargetRecord::Opportunity) {
        let TargetField::Opportunity(target) = mapping.target else {
            continue;
        };
        // Each standard opportunity field has one fixed source (the seeded table), so the
        // typed column of the lead is read directly.
        match target {
            OpportunityField::Topic => model.topic = lead.topic.clone(),
            OpportunityField::Description => model.description = lead.description.clone(),
            OpportunityField::Account => model.account_id = account_id,
            OpportunityField::Contact => model.contact_id = contact_id,
            OpportunityField::BudgetAmount => model.budget_amount_cents = lead.budget_amount_cents,
            OpportunityField::PurchaseTimeframe => {
                model.purchase_timeframe = lead.purchase_timeframe;
            }
            OpportunityField::PurchaseProcess => model.purchase_process = lead.purchase_process,
            OpportunityField::DecisionMaker => model.decision_maker = lead.decision_maker,
        }
    }
    if let Some(topic) = &draft.topic {
        model.topic = topic.as_str().to_owned();
    }
    if model.topic.is_empty() {
        // The topic is required; with its mapping disabled the lead's topic still names it.
        model.topic = lead.topic.clone();
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
    model
}

/// One mapped value, for previews.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedValue {
    /// The field on the new record's form.
    pub field: String,
    /// The lead's field it comes from.
    pub source_field: String,
    pub value: Option<String>,
}

/// A record a preview shows the mapped values of.
pub enum MappedRecord<'a> {
    Account(&'a account::Model),
    Contact(&'a contact::Model),
    Opportunity(&'a opportunity::Model),
}

/// The values a record would receive through the mappings (standard, then custom).
pub fn mapped_values(
    record: MappedRecord<'_>,
    mappings: &Mappings,
    custom: &[(Definition, Stored)],
) -> Vec<MappedValue> {
    let target = match record {
        MappedRecord::Account(_) => TargetRecord::Account,
        MappedRecord::Contact(_) => TargetRecord::Contact,
        MappedRecord::Opportunity(_) => TargetRecord::Opportunity,
    };
    let mut values: Vec<MappedValue> = mappings
        .standard_for(target)
        .map(|mapping| MappedValue {
            field: mapping.target_label.to_owned(),
            source_field: mapping.source_label.to_owned(),
            value: standard_value(&record, mapping.target),
        })
        .collect();
    for m in mappings.custom.iter().filter(|m| m.record == target) {
        let value =
            custom
                .iter()
                .find(|(d, _)| d.id == m.target.id)
                .map(|(_, stored)| match &stored.value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
        values.push(MappedValue {
            field: m.target.label.clone(),
            source_field: m.source.label(),
            value,
        });
    }
    values
}

/// A standard field's value as a client reads it.
fn standard_value(record: &MappedRecord<'_>, field: TargetField) -> Option<String> {
    match (record, field) {
        (MappedRecord::Account(a), TargetField::Account(f)) => match f {
            AccountField::Name => Some(a.name.clone()).filter(|n| !n.is_empty()),
            AccountField::Website => a.website.clone(),
            AccountField::Phone => a.phone.clone(),
            AccountField::Street1 => a.street1.clone(),
            AccountField::Street2 => a.street2.clone(),
            AccountField::Street3 => a.street3.clone(),
            AccountField::City => a.city.clone(),
            AccountField::StateOrProvince => a.state_or_province.clone(),
            AccountField::PostalCode => a.postal_code.clone(),
            AccountField::CountryOrRegion => a.country_or_region.clone(),
        },
        (MappedRecord::Contact(c), TargetField::Contact(f)) => match f {
            ContactField::FirstName => c.first_name.clone(),
            ContactField::LastName => Some(c.last_name.clone()).filter(|n| !n.is_empty()),
            ContactField::JobTitle => c.job_title.clone(),
            ContactField::BusinessPhone => c.business_phone.clone(),
            ContactField::MobilePhone => c.mobile_phone.clone(),
            ContactField::Email => c.email.clone(),
            ContactField::Street1 => c.street1.clone(),
            ContactField::Street2 => c.street2.clone(),
            ContactField::Street3 => c.street3.clone(),
            ContactField::City => c.city.clone(),
            ContactField::StateOrProvince => c.state_or_province.clone(),
            ContactField::PostalCode => c.postal_code.clone(),
            ContactField::CountryOrRegion => c.country_or_region.clone(),
        },
        (MappedRecord::Opportunity(o), TargetField::Opportunity(f)) => match f {
            OpportunityField::Topic => Some(o.topic.clone()),
            OpportunityField::Description => o.description.clone(),
            OpportunityField::Account => o.account_id.map(|id| id.to_string()),
            OpportunityField::Contact => o.contact_id.map(|id| id.to_string()),
            OpportunityField::BudgetAmount => o.budget_amount_cents.map(format_cents),
            OpportunityField::PurchaseTimeframe => {
                o.purchase_timeframe.map(|v| v.as_str().to_owned())
            }
            OpportunityField::PurchaseProcess => o.purchase_process.map(|v| v.as_str().to_owned()),
            OpportunityField::DecisionMaker => o.decision_maker.map(|b| b.to_string()),
        },
        _ => None,
    }
}
