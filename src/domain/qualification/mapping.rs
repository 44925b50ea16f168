//! The records a lead's field mappings produce: the new account, contact and opportunities of a
//! qualification, not yet stored, their custom field values, and the mapped values a preview
//! shows.
//!
//! [`Mappings`] is what a run applies: the enabled standard rows (typed, see
//! `domain::field_mapping`), the enabled added mappings onto standard fields (applied after the
//! standard rows, whose row for the same field is then disabled) and onto custom fields, compiled
//! once per configuration version by `service::field_mappings`. Standard fields are copied by matching on
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
use crate::domain::values::{Money, format_cents};
use crate::error::{AppError, AppResult};

/// Where a mapping onto a custom field takes its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomSource {
    /// A standard field of the lead.
    Lead(LeadField),
    /// A custom field of the lead.
    Custom(Definition),
}

impl CustomSource {
    /// The lead's value (canonical JSON of [`Self::shape`]); `None` when empty.
    fn value(&self, lead: &lead::Model, lead_custom: &HashMap<Uuid, Value>) -> Option<Value> {
        match self {
            Self::Lead(field) => field.json(lead),
            Self::Custom(definition) => lead_custom.get(&definition.id).cloned(),
        }
    }

    pub fn shape(&self) -> Shape {
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

/// An enabled added mapping onto a standard field of a target record (a field no enabled
/// standard mapping fills).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardTargetMapping {
    pub source: CustomSource,
    pub target: TargetField,
}

impl StandardTargetMapping {
    /// The value the target field gets, in the canonical JSON of the field's shape.
    fn value(
        &self,
        lead: &lead::Model,
        lead_custom: &HashMap<Uuid, Value>,
    ) -> AppResult<Option<Value>> {
        let (Some(value), Some(target)) =
            (self.source.value(lead, lead_custom), self.target.shape())
        else {
            return Ok(None);
        };
        Ok(custom_field::convert(&value, &self.source.shape(), &target)?.map(|s| s.value))
    }

    fn text(
        &self,
        lead: &lead::Model,
        lead_custom: &HashMap<Uuid, Value>,
    ) -> AppResult<Option<String>> {
        Ok(self
            .value(lead, lead_custom)?
            .and_then(|v| v.as_str().map(str::to_owned)))
    }
}

/// The mappings a run applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mappings {
    /// The enabled standard mappings, in table order.
    pub standard: Vec<&'static FieldMapping>,
    /// The enabled added mappings onto standard fields.
    pub onto_standard: Vec<StandardTargetMapping>,
    /// The enabled mappings onto custom fields.
    pub custom: Vec<CustomMapping>,
    /// The required (not archived) custom fields of accounts, contacts and opportunities: a
    /// record a qualification creates must get a value for each through the mappings.
    pub required: Vec<(TargetRecord, Definition)>,
}

impl Default for Mappings {
    /// Every standard mapping, no added one (an organization that changed nothing).
    fn default() -> Self {
        Self {
            standard: FIELD_MAPPINGS.iter().collect(),
            onto_standard: Vec::new(),
            custom: Vec::new(),
            required: Vec::new(),
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

    fn onto_standard_for(
        &self,
        record: TargetRecord,
    ) -> impl Iterator<Item = &StandardTargetMapping> {
        self.onto_standard
            .iter()
            .filter(move |m| m.target.record() == record)
    }

    /// The lead's custom fields some mapping reads (a run loads these values).
    pub fn lead_custom_fields(&self) -> Vec<Uuid> {
        let sources = self
            .custom
            .iter()
            .map(|m| &m.source)
            .chain(self.onto_standard.iter().map(|m| &m.source));
        let mut ids: Vec<Uuid> = sources
            .filter_map(|source| match source {
                CustomSource::Custom(definition) => Some(definition.id),
                CustomSource::Lead(_) => None,
            })
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Whether any mapping reads a custom field of the lead (the run then loads them).
    pub fn reads_lead_custom_fields(&self) -> bool {
        !self.lead_custom_fields().is_empty()
    }

    /// Refuses a new `record` whose mapped custom `values` leave a required field empty
    /// (`BAD_USER_INPUT` naming `customFields.<name>`).
    pub fn check_required(
        &self,
        record: TargetRecord,
        values: &[(Definition, Stored)],
    ) -> AppResult<()> {
        let missing = self
            .required
            .iter()
            .filter(|(r, _)| *r == record)
            .find(|(_, d)| !values.iter().any(|(v, _)| v.id == d.id));
        match missing {
            None => Ok(()),
            Some((_, definition)) => Err(AppError::bad_input(
                format!("customFields.{}", definition.name),
                format!(
                    "the {} this qualification creates needs its required custom field {} \
                     ({}), and no enabled mapping gives it a value from this lead: map a lead \
                     field onto it, fill that field on the lead, or make the field optional",
                    record.as_str().to_lowercase(),
                    definition.label,
                    definition.name
                ),
            )),
        }
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
            let Some(source) = m.source.value(lead, lead_custom) else {
                continue;
            };
            if let Some(stored) =
                custom_field::convert(&source, &m.source.shape(), &m.target.shape)?
            {
                values.push((m.target.clone(), stored));
            }
        }
        Ok(values)
    }
}

/// The account a lead's mappings produce (not stored); `lead_custom` are the lead's custom
/// values by field id (those the mappings read).
pub fn mapped_account(
    lead: &lead::Model,
    lead_custom: &HashMap<Uuid, Value>,
    owner: Uuid,
    now: DateTime<Utc>,
    mappings: &Mappings,
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
    for mapping in mappings.standard_for(TargetRecord::Account) {
        let (Source::Lead(source), TargetField::Account(target)) = (mapping.source, mapping.target)
        else {
            continue;
        };
        set_account(&mut model, target, source.text(lead));
    }
    for m in mappings.onto_standard_for(TargetRecord::Account) {
        if let TargetField::Account(target) = m.target {
            set_account(&mut model, target, m.text(lead, lead_custom)?);
        }
    }
    if model.name.is_empty() {
        // The name is required; with its own mapping empty the lead's company still names it.
        model.name = lead.company_name.clone().unwrap_or_default();
    }
    Ok(model)
}

fn set_account(model: &mut account::Model, field: AccountField, text: Option<String>) {
    match field {
        AccountField::Name => model.name = text.unwrap_or_default(),
        AccountField::Website => model.website = text,
        AccountField::Phone => model.phone = text,
        AccountField::Email => model.email = text,
        AccountField::Street1 => model.street1 = text,
        AccountField::Street2 => model.street2 = text,
        AccountField::Street3 => model.street3 = text,
        AccountField::City => model.city = text,
        AccountField::StateOrProvince => model.state_or_province = text,
        AccountField::PostalCode => model.postal_code = text,
        AccountField::CountryOrRegion => model.country_or_region = text,
    }
}

/// The contact a lead's mappings produce (not stored); `lead_custom` as for [`mapped_account`].
pub fn mapped_contact(
    lead: &lead::Model,
    lead_custom: &HashMap<Uuid, Value>,
    owner: Uuid,
    now: DateTime<Utc>,
    mappings: &Mappings,
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
    for mapping in mappings.standard_for(TargetRecord::Contact) {
        let (Source::Lead(source), TargetField::Contact(target)) = (mapping.source, mapping.target)
        else {
            continue;
        };
        set_contact(&mut model, target, source.text(lead));
    }
    for m in mappings.onto_standard_for(TargetRecord::Contact) {
        if let TargetField::Contact(target) = m.target {
            set_contact(&mut model, target, m.text(lead, lead_custom)?);
        }
    }
    if model.last_name.is_empty() {
        // The last name is required; with its own mapping empty the lead's still names it.
        model.last_name = lead.last_name.clone();
    }
    Ok(model)
}

fn set_contact(model: &mut contact::Model, field: ContactField, text: Option<String>) {
    match field {
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

/// An opportunity from the lead's mappings, the resulting account and contact, and a draft
/// (whose values win); `lead_custom` as for [`mapped_account`].
#[allow(clippy::too_many_arguments)]
pub fn mapped_opportunity(
    lead: &lead::Model,
    lead_custom: &HashMap<Uuid, Value>,
    draft: &OpportunityDraft,
    account_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    currency_code: &str,
    owner: Uuid,
    now: DateTime<Utc>,
    mappings: &Mappings,
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
    for m in mappings.onto_standard_for(TargetRecord::Opportunity) {
        let TargetField::Opportunity(target) = m.target else {
            continue;
        };
        let value = m.value(lead, lead_custom)?;
        let text = || value.as_ref().and_then(Value::as_str).map(str::to_owned);
        match target {
            OpportunityField::Topic => model.topic = text().unwrap_or_default(),
            OpportunityField::Description => model.description = text(),
            OpportunityField::BudgetAmount => {
                model.budget_amount_cents =
                    Money::parse("budgetAmount", text().as_deref())?.map(|m| m.cents());
            }
            OpportunityField::PurchaseTimeframe => {
                model.purchase_timeframe =
                    text().and_then(|t| entity::PurchaseTimeframe::parse(&t));
            }
            OpportunityField::PurchaseProcess => {
                model.purchase_process = text().and_then(|t| entity::PurchaseProcess::parse(&t));
            }
            OpportunityField::DecisionMaker => {
                model.decision_maker = value.as_ref().and_then(Value::as_bool);
            }
            // Not mappable (`TargetField::shape` is `None`): only the resulting records fill them.
            OpportunityField::Account | OpportunityField::Contact => {}
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
    Ok(model)
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
    for m in mappings.onto_standard_for(target) {
        values.push(MappedValue {
            field: crate::domain::field_mapping::standard_for(m.target)
                .map_or(m.target.api_name(), |s| s.target_label)
                .to_owned(),
            source_field: m.source.label(),
            value: standard_value(&record, m.target),
        });
    }
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

/// A standard field's value as a client reads it (`None` for a field of another record type).
pub fn standard_value(record: &MappedRecord<'_>, field: TargetField) -> Option<String> {
    match (record, field) {
        (MappedRecord::Account(a), TargetField::Account(f)) => match f {
            AccountField::Name => Some(a.name.clone()).filter(|n| !n.is_empty()),
            AccountField::Website => a.website.clone(),
            AccountField::Phone => a.phone.clone(),
            AccountField::Email => a.email.clone(),
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
