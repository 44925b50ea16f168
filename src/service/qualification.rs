//! Qualifying a lead: the heart of leadq.
//!
//! 1. The lead must be open and the caller allowed to work it.
//! 2. [`plan`] decides, from the settings, the caller's choices and the lead's existing account
//!    and contact, what happens to each of account, contact and opportunity: create new, use an
//!    existing record, or nothing. It is pure, so `previewQualification` shows exactly what
//!    `qualifyLead` would do.
//! 3. [`qualify_in`] carries the plan out inside the caller's transaction: it first **claims**
//!    the lead with a conditional update (`... WHERE id = ? AND state = 'OPEN'`, rows affected
//!    checked), so two concurrent qualifications, even from two server processes, create exactly
//!    one set of records and the other gets `LEAD_CLOSED`; then it checks duplicates (a match
//!    stops everything, nothing is written), creates the records through the field mappings
//!    (`domain::field_mapping`), links them, copies stakeholders, writes the summary and audits.
//!
//! One transaction per qualification: any failure rolls everything back and the lead stays open.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use entity::{
    CreationMode, LeadState, LeadStatusReason, OpportunityState, ProcessStage, PurchaseProcess,
    PurchaseTimeframe, QualificationExperience, RecordState, RecordType, account, audit_event,
    contact, idempotency_key, lead, note, opportunity, qualification_settings, stakeholder,
};
use sea_orm::sea_query::{CaseStatement, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, ModelTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Value,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::access::ensure_can_work;
use super::audit::{self, action};
use super::duplicates::{self, DuplicateReport};
use super::summary::{LeadSummarizer, SUMMARY_SUBJECT, SummaryInput, TemplateSummarizer};
use crate::auth::Actor;
use crate::db::Db;
use crate::domain::field_mapping::{FieldMapping, Source, TargetRecord, mappings_for};
use crate::domain::values::format_cents;
use crate::error::{AppError, AppResult};

/// What the caller asks for one record type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordAction {
    CreateNew,
    UseExisting,
    Skip,
}

/// The caller's choice for an account, contact or opportunity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordChoice {
    pub action: RecordAction,
    /// With `UseExisting`: the record to link (default: the lead's existing one).
    pub existing_id: Option<Uuid>,
    /// With `CreateNew`: create even if duplicates match.
    pub ignore_duplicates: bool,
}

/// An opportunity the seller drafts (multiple opportunities, or to adjust the single one).
/// Fields left `None` come from the lead.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpportunityDraft {
    pub topic: Option<String>,
    pub budget_amount_cents: Option<i64>,
    pub purchase_timeframe: Option<PurchaseTimeframe>,
    pub purchase_process: Option<PurchaseProcess>,
    pub decision_maker: Option<bool>,
    pub description: Option<String>,
}

impl OpportunityDraft {
    /// The API names of the fields the draft sets (checked against the form's fields).
    fn given_fields(&self) -> Vec<&'static str> {
        [
            ("topic", self.topic.is_some()),
            ("budgetAmount", self.budget_amount_cents.is_some()),
            ("purchaseTimeframe", self.purchase_timeframe.is_some()),
            ("purchaseProcess", self.purchase_process.is_some()),
            ("decisionMaker", self.decision_maker.is_some()),
            ("description", self.description.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }
}

/// A qualification request, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualifyRequest {
    pub lead_id: Uuid,
    pub account: Option<RecordChoice>,
    pub contact: Option<RecordChoice>,
    pub opportunity: Option<RecordChoice>,
    pub drafts: Option<Vec<OpportunityDraft>>,
    pub currency_code: Option<String>,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

/// Something the caller should know that did not stop the qualification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub code: String,
    pub message: String,
}

/// What happens to an account or a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    CreateNew { ignore_duplicates: bool },
    UseExisting(Uuid),
    Nothing,
}

/// A choice the seller has to make before the lead can be qualified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredChoice {
    /// `account`, `contact` or `opportunity`.
    pub record: &'static str,
    pub message: String,
    /// The actions the seller may choose from.
    pub options: Vec<RecordAction>,
}

/// What a qualification will do.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub account: Decision,
    pub contact: Decision,
    /// The opportunities to create, first = primary; empty: none.
    pub opportunities: Vec<OpportunityDraft>,
    pub currency_code: String,
    pub warnings: Vec<Warning>,
    /// How each record type is decided under the settings.
    pub modes: [CreationMode; 3],
}

/// Why there is no plan.
#[derive(Debug)]
pub enum PlanError {
    /// The seller must choose; every missing choice is listed.
    ChoicesRequired(Vec<RequiredChoice>),
    Other(AppError),
}

impl From<AppError> for PlanError {
    fn from(err: AppError) -> Self {
        Self::Other(err)
    }
}

impl From<PlanError> for AppError {
    fn from(err: PlanError) -> Self {
        match err {
            PlanError::Other(err) => err,
            PlanError::ChoicesRequired(choices) => {
                let record = choices.first().map_or("account", |c| c.record);
                let message = choices
                    .iter()
                    .map(|c| c.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                AppError::ChoiceRequired { record, message }
            }
        }
    }
}

/// The creation mode of account, contact and opportunity under the settings.
pub fn creation_modes(settings: &qualification_settings::Model) -> [CreationMode; 3] {
    match settings.experience {
        QualificationExperience::Legacy if settings.auto_create_records => {
            [CreationMode::Automatic; 3]
        }
        QualificationExperience::Legacy => [CreationMode::Seller; 3],
        QualificationExperience::New => [
            settings.account_creation,
            settings.contact_creation,
            settings.opportunity_creation,
        ],
    }
}

/// Decides what qualifying `lead` with `request` does under `settings`. Pure: no I/O.
pub fn plan(
    settings: &qualification_settings::Model,
    lead: &lead::Model,
    request: &QualifyRequest,
) -> Result<Plan, PlanError> {
    let modes = creation_modes(settings);
    let mut required = Vec::new();
    let mut warnings = Vec::new();

    let has_company = lead
        .company_name
        .as_deref()
        .is_some_and(|c| !c.trim().is_empty());
    let account = decide(
        "account",
        modes[0],
        request.account.as_ref(),
        lead.existing_account_id,
        &mut required,
    )?;
    let account = match account {
        Decision::CreateNew { .. } if !has_company => match (modes[0], &request.account) {
            (CreationMode::Automatic, None) => {
                warnings.push(Warning {
                    code: "NO_COMPANY_NAME".to_owned(),
                    message: "The lead has no company name, so no account was created".to_owned(),
                });
                Decision::Nothing
            }
            _ => return Err(AppError::CompanyNameRequired.into()),
        },
        other => other,
    };
    let contact = decide(
        "contact",
        modes[1],
        request.contact.as_ref(),
        lead.existing_contact_id,
        &mut required,
    )?;

    let opportunities = plan_opportunities(settings, modes[2], request, &mut required)?;
    if !required.is_empty() {
        return Err(PlanError::ChoicesRequired(required));
    }
    let currency_code = request
        .currency_code
        .clone()
        .or_else(|| lead.currency_code.clone())
        .unwrap_or_else(|| settings.base_currency_code.clone());
    Ok(Plan {
        account,
        contact,
        opportunities,
        currency_code,
        warnings,
        modes,
    })
}

/// Account or contact: create new, use existing, or nothing.
fn decide(
    record: &'static str,
    mode: CreationMode,
    choice: Option<&RecordChoice>,
    lead_existing: Option<Uuid>,
    required: &mut Vec<RequiredChoice>,
) -> Result<Decision, PlanError> {
    let Some(choice) = choice else {
        // No choice: the lead's existing record is the default "use existing"; otherwise an
        // automatic record is created and a seller's choice is required.
        return Ok(match (lead_existing, mode) {
            (Some(id), _) => Decision::UseExisting(id),
            (None, CreationMode::Automatic) => Decision::CreateNew {
                ignore_duplicates: false,
            },
            (None, CreationMode::Seller) => {
                required.push(RequiredChoice {
                    record,
                    message: format!(
                        "choose what to do with the {record}: CREATE_NEW, USE_EXISTING or SKIP"
                    ),
                    options: vec![
                        RecordAction::CreateNew,
                        RecordAction::UseExisting,
                        RecordAction::Skip,
                    ],
                });
                Decision::Nothing
            }
        });
    };
    match choice.action {
        RecordAction::CreateNew => Ok(Decision::CreateNew {
            ignore_duplicates: choice.ignore_duplicates,
        }),
        RecordAction::UseExisting => match choice.existing_id.or(lead_existing) {
            Some(id) => Ok(Decision::UseExisting(id)),
            None => Err(AppError::bad_input(
                format!("{record}.existingId"),
                format!("USE_EXISTING needs an existingId: the lead has no existing {record}"),
            )
            .into()),
        },
        RecordAction::Skip if mode == CreationMode::Automatic => Err(AppError::bad_input(
            format!("{record}.action"),
            format!("{record} creation is automatic in the settings; it cannot be skipped"),
        )
        .into()),
        RecordAction::Skip => Ok(Decision::Nothing),
    }
}

fn plan_opportunities(
    settings: &qualification_settings::Model,
    mode: CreationMode,
    request: &QualifyRequest,
    required: &mut Vec<RequiredChoice>,
) -> Result<Vec<OpportunityDraft>, PlanError> {
    let action = request.opportunity.as_ref().map(|c| c.action);
    if action == Some(RecordAction::UseExisting) {
        return Err(AppError::bad_input(
            "opportunity.action",
            "an opportunity is created new or skipped: use CREATE_NEW or SKIP",
        )
        .into());
    }
    let drafts = request.drafts.clone().unwrap_or_default();
    let create = match (action, mode) {
        (Some(RecordAction::Skip), CreationMode::Automatic) => {
            return Err(AppError::bad_input(
                "opportunity.action",
                "opportunity creation is automatic in the settings; it cannot be skipped",
            )
            .into());
        }
        (Some(RecordAction::Skip), CreationMode::Seller) => {
            if !drafts.is_empty() {
                return Err(AppError::bad_input(
                    "opportunities",
                    "opportunity drafts were sent with opportunity action SKIP",
                )
                .into());
            }
            false
        }
        (Some(_), _) | (None, CreationMode::Automatic) => true,
        (None, CreationMode::Seller) if !drafts.is_empty() => true,
        (None, CreationMode::Seller) => {
            required.push(RequiredChoice {
                record: "opportunity",
                message: "choose what to do with the opportunity: CREATE_NEW (or send drafts) \
                          or SKIP"
                    .to_owned(),
                options: vec![RecordAction::CreateNew, RecordAction::Skip],
            });
            false
        }
    };
    if !create {
        return Ok(Vec::new());
    }
    if drafts.len() > 1 && !settings.allow_multiple_opportunities {
        return Err(AppError::TooManyOpportunities(
            "multiple opportunities per lead are not enabled in the qualification settings"
                .to_owned(),
        )
        .into());
    }
    let max = usize::try_from(settings.max_opportunities_per_lead).unwrap_or(1);
    if drafts.len() > max {
        return Err(AppError::TooManyOpportunities(format!(
            "a lead can be qualified into at most {max} opportunities; {} were sent",
            drafts.len()
        ))
        .into());
    }
    let form = super::settings::form_fields(settings);
    for (i, draft) in drafts.iter().enumerate() {
        if let Some(field) = draft
            .given_fields()
            .into_iter()
            .find(|f| !form.iter().any(|x| x == f))
        {
            return Err(AppError::bad_input(
                format!("opportunities.{i}.{field}"),
                format!("{field} is not on the opportunity form (opportunityFormFields)"),
            )
            .into());
        }
    }
    Ok(if drafts.is_empty() {
        vec![OpportunityDraft::default()]
    } else {
        drafts
    })
}

/// The records a qualification created or linked.
#[derive(Debug, Clone)]
pub struct Qualified {
    pub lead: lead::Model,
    pub account: Option<account::Model>,
    pub contact: Option<contact::Model>,
    pub opportunities: Vec<opportunity::Model>,
    pub warnings: Vec<Warning>,
}

/// How a qualification ended.
// Outcomes live for one request; boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Outcome {
    Qualified(Qualified),
    /// Records to be created new match existing ones; nothing was written.
    DuplicatesFound {
        lead: lead::Model,
        report: DuplicateReport,
    },
}

/// The account a lead's mappings produce (not stored).
pub fn mapped_account(
    lead: &lead::Model,
    owner: Uuid,
    now: DateTime<Utc>,
) -> AppResult<account::Model> {
    let mut model = account::Model {
        id: super::new_id(),
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
        id: super::new_id(),
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
        id: super::new_id(),
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
        model.topic = topic.clone();
    }
    if draft.budget_amount_cents.is_some() {
        model.budget_amount_cents = draft.budget_amount_cents;
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

/// Loads the lead for qualification: it must exist, be open and be the caller's to work.
pub fn check_lead(actor: &Actor, lead: &lead::Model) -> AppResult<()> {
    ensure_can_work(actor, lead.owner_id, "lead")?;
    if lead.state != LeadState::Open {
        return Err(AppError::LeadClosed);
    }
    Ok(())
}

/// An account or contact a qualification ends with: created new, an existing one, or none.
#[derive(Debug, Clone)]
pub enum Resolved<T> {
    New(T),
    Existing(T),
    None,
}

impl<T> Resolved<T> {
    /// The record, new or existing.
    pub fn record(&self) -> Option<&T> {
        match self {
            Self::New(record) | Self::Existing(record) => Some(record),
            Self::None => None,
        }
    }

    /// The record, new or existing, by value.
    pub fn into_record(self) -> Option<T> {
        match self {
            Self::New(record) | Self::Existing(record) => Some(record),
            Self::None => None,
        }
    }
}

/// What every qualification of one call shares.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub actor: &'a Actor,
    pub settings: &'a qualification_settings::Model,
    pub summarizer: &'a dyn LeadSummarizer,
    /// One instant per call: every lead it qualifies gets this time.
    pub now: DateTime<Utc>,
}

/// Everything one qualification writes, built in memory by [`build`] and stored, for one lead
/// or many at once, by [`store`].
#[derive(Debug, Clone)]
pub struct Writes {
    /// What the caller gets back; `lead` is the lead as it will be stored.
    pub qualified: Qualified,
    new_account: bool,
    new_contact: bool,
    stakeholders: Vec<stakeholder::ActiveModel>,
    notes: Vec<note::ActiveModel>,
    audit: Vec<audit_event::ActiveModel>,
}

impl Writes {
    /// Whether the account is created by this qualification (not an existing one).
    pub fn creates_account(&self) -> bool {
        self.new_account
    }

    /// Whether the contact is created by this qualification (not an existing one).
    pub fn creates_contact(&self) -> bool {
        self.new_contact
    }
}

/// Builds everything qualifying `lead` writes (pure: no I/O): the links between the records,
/// the opportunities through the field mappings, the stakeholders copied from the lead, the
/// summary notes and the audit entries.
pub fn build(
    ctx: Context<'_>,
    lead: &lead::Model,
    plan: Plan,
    mut account: Resolved<account::Model>,
    mut contact: Resolved<contact::Model>,
    lead_stakeholders: &[stakeholder::Model],
    note_count: u64,
) -> AppResult<Writes> {
    let now = ctx.now;
    let actor = Some(ctx.actor);
    let account_id = account.record().map(|a| a.id);
    let contact_id = contact.record().map(|c| c.id);
    // Links between new records; existing records are never changed.
    if let Resolved::New(contact) = &mut contact {
        contact.parent_account_id = account_id;
    }
    if let Resolved::New(account) = &mut account {
        account.primary_contact_id = contact_id;
    }

    let mut audit = Vec::new();
    if let Resolved::New(account) = &account {
        audit.push(audit::event(
            actor,
            RecordType::Account,
            account.id,
            action::CREATED,
            json!({ "name": account.name, "originatingLeadId": lead.id }),
        ));
    }
    if let Resolved::New(contact) = &contact {
        audit.push(audit::event(
            actor,
            RecordType::Contact,
            contact.id,
            action::CREATED,
            json!({ "lastName": contact.last_name, "originatingLeadId": lead.id }),
        ));
    }
    let mut opportunities = Vec::with_capacity(plan.opportunities.len());
    for draft in &plan.opportunities {
        let opportunity = mapped_opportunity(
            lead,
            draft,
            account_id,
            contact_id,
            &plan.currency_code,
            lead.owner_id,
            now,
        )?;
        audit.push(audit::event(
            actor,
            RecordType::Opportunity,
            opportunity.id,
            action::CREATED,
            json!({ "topic": opportunity.topic, "originatingLeadId": lead.id }),
        ));
        opportunities.push(opportunity);
    }
    // The lead's stakeholders become stakeholders of each new opportunity.
    let stakeholders = opportunities
        .iter()
        .flat_map(|o| {
            lead_stakeholders
                .iter()
                .map(move |s| stakeholder::ActiveModel {
                    id: Set(super::new_id()),
                    lead_id: Set(None),
                    opportunity_id: Set(Some(o.id)),
                    contact_id: Set(s.contact_id),
                    role: Set(s.role),
                    created_at: Set(now),
                })
        })
        .collect();

    let primary = opportunities.first().map(|o| o.id);
    let mut qualified_lead = lead.clone();
    qualified_lead.state = LeadState::Qualified;
    qualified_lead.status_reason = LeadStatusReason::Qualified;
    qualified_lead.qualified_at = Some(now);
    qualified_lead.modified_at = now;
    qualified_lead.qualified_account_id = account_id;
    qualified_lead.qualified_contact_id = contact_id;
    qualified_lead.qualifying_opportunity_id = primary;
    if primary.is_some() {
        qualified_lead.process_stage = ProcessStage::Develop;
    }

    let mut notes = Vec::new();
    if ctx.settings.summarize_lead {
        let text = ctx.summarizer.summarize(&SummaryInput {
            lead,
            account: account.record(),
            contact: contact.record(),
            opportunities: &opportunities,
            note_count,
        });
        if let Some(primary) = primary {
            notes.push(super::notes::new_note(
                None,
                RecordType::Opportunity,
                primary,
                Some(SUMMARY_SUBJECT.to_owned()),
                Some(text.clone()),
            ));
        }
        notes.push(super::notes::new_note(
            None,
            RecordType::Lead,
            lead.id,
            Some(SUMMARY_SUBJECT.to_owned()),
            Some(text),
        ));
    }

    audit.push(audit::event(
        actor,
        RecordType::Lead,
        lead.id,
        action::QUALIFIED,
        json!({
            "state": { "from": LeadState::Open, "to": LeadState::Qualified },
            "accountId": account_id,
            "contactId": contact_id,
            "opportunityIds": opportunities.iter().map(|o| o.id).collect::<Vec<_>>(),
            "warnings": plan.warnings,
        }),
    ));

    let new_account = matches!(account, Resolved::New(_));
    let new_contact = matches!(contact, Resolved::New(_));
    Ok(Writes {
        qualified: Qualified {
            lead: qualified_lead,
            account: account.into_record(),
            contact: contact.into_record(),
            opportunities,
            warnings: plan.warnings,
        },
        new_account,
        new_contact,
        stakeholders,
        notes,
        audit,
    })
}

/// Leads (or accounts) updated by one `CASE` statement: small enough that matching each row
/// against the `WHEN` list stays cheap.
const CASE_GROUP: usize = 100;

/// Stores what [`build`] made, for any number of leads, with a few multi-row statements
/// (inside the caller's transaction). With `require_open`, every lead must still be open (the
/// bulk path claims its leads here); otherwise the caller has claimed them already.
pub async fn store(
    conn: &impl ConnectionTrait,
    writes: &[Writes],
    now: DateTime<Utc>,
    require_open: bool,
) -> AppResult<()> {
    if writes.is_empty() {
        return Ok(());
    }
    let new_accounts: Vec<&account::Model> = writes
        .iter()
        .filter(|w| w.new_account)
        .filter_map(|w| w.qualified.account.as_ref())
        .collect();
    let new_contacts: Vec<&contact::Model> = writes
        .iter()
        .filter(|w| w.new_contact)
        .filter_map(|w| w.qualified.contact.as_ref())
        .collect();

    // Accounts first without their primary contact (the contacts point back at them).
    super::insert_all(
        conn,
        new_accounts
            .iter()
            .map(|a| {
                let mut active = (*a).clone().into_active_model().reset_all();
                active.primary_contact_id = Set(None);
                active
            })
            .collect(),
    )
    .await?;
    super::insert_all(
        conn,
        new_contacts
            .iter()
            .map(|c| (*c).clone().into_active_model().reset_all())
            .collect(),
    )
    .await?;
    let with_primary: Vec<&&account::Model> = new_accounts
        .iter()
        .filter(|a| a.primary_contact_id.is_some())
        .collect();
    for group in with_primary.chunks(CASE_GROUP) {
        let mut case = CaseStatement::new();
        for account in group {
            case = case.case(
                account::Column::Id.eq(account.id),
                Expr::val(account.primary_contact_id),
            );
        }
        account::Entity::update_many()
            .col_expr(account::Column::PrimaryContactId, case.into())
            .filter(account::Column::Id.is_in(group.iter().map(|a| a.id)))
            .exec(conn)
            .await?;
    }
    super::insert_all(
        conn,
        writes
            .iter()
            .flat_map(|w| &w.qualified.opportunities)
            .map(|o| o.clone().into_active_model().reset_all())
            .collect(),
    )
    .await?;
    let keyed: Vec<duplicates::Record<'_>> = new_accounts
        .iter()
        .map(|a| duplicates::Record::Account(a))
        .chain(new_contacts.iter().map(|c| duplicates::Record::Contact(c)))
        .collect();
    duplicates::insert_keys(conn, &keyed).await?;
    super::insert_all(
        conn,
        writes.iter().flat_map(|w| w.stakeholders.clone()).collect(),
    )
    .await?;
    super::insert_all(conn, writes.iter().flat_map(|w| w.notes.clone()).collect()).await?;
    super::insert_all(conn, writes.iter().flat_map(|w| w.audit.clone()).collect()).await?;

    // The leads: state, links and stage, one statement per group.
    for group in writes.chunks(CASE_GROUP) {
        let case = |value: fn(&lead::Model) -> Value| {
            let mut case = CaseStatement::new();
            for w in group {
                let lead = &w.qualified.lead;
                case = case.case(lead::Column::Id.eq(lead.id), Expr::val(value(lead)));
            }
            case
        };
        let mut update = lead::Entity::update_many()
            .col_expr(lead::Column::State, Expr::value(LeadState::Qualified))
            .col_expr(
                lead::Column::StatusReason,
                Expr::value(LeadStatusReason::Qualified),
            )
            .col_expr(lead::Column::QualifiedAt, Expr::value(now))
            .col_expr(lead::Column::ModifiedAt, Expr::value(now))
            .col_expr(
                lead::Column::QualifiedAccountId,
                case(|l| l.qualified_account_id.into()).into(),
            )
            .col_expr(
                lead::Column::QualifiedContactId,
                case(|l| l.qualified_contact_id.into()).into(),
            )
            .col_expr(
                lead::Column::QualifyingOpportunityId,
                case(|l| l.qualifying_opportunity_id.into()).into(),
            )
            .col_expr(
                lead::Column::ProcessStage,
                case(|l| l.process_stage.into()).into(),
            )
            .filter(lead::Column::Id.is_in(group.iter().map(|w| w.qualified.lead.id)));
        if require_open {
            update = update.filter(lead::Column::State.eq(LeadState::Open));
        }
        let updated = update.exec(conn).await?;
        if updated.rows_affected != group.len() as u64 {
            // Another qualification closed one of them: the caller rolls back.
            return Err(AppError::LeadClosed);
        }
    }
    Ok(())
}

/// The stakeholders of each lead (copied to the opportunities a qualification creates).
pub async fn stakeholders_of(
    conn: &impl ConnectionTrait,
    lead_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<stakeholder::Model>>> {
    let mut by_lead: HashMap<Uuid, Vec<stakeholder::Model>> = HashMap::new();
    for chunk in lead_ids.chunks(super::MAX_BINDS) {
        for s in stakeholder::Entity::find()
            .filter(stakeholder::Column::LeadId.is_in(chunk.iter().copied()))
            .order_by_asc(stakeholder::Column::CreatedAt)
            .order_by_asc(stakeholder::Column::Id)
            .all(conn)
            .await?
        {
            if let Some(lead_id) = s.lead_id {
                by_lead.entry(lead_id).or_default().push(s);
            }
        }
    }
    Ok(by_lead)
}

/// How many notes each lead has (the summary mentions them).
pub async fn note_counts(
    conn: &impl ConnectionTrait,
    lead_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, u64>> {
    let mut counts = HashMap::new();
    for chunk in lead_ids.chunks(super::MAX_BINDS) {
        let rows: Vec<(Uuid, i64)> = note::Entity::find()
            .select_only()
            .column(note::Column::RegardingId)
            .column_as(note::Column::Id.count(), "count")
            .filter(note::Column::RegardingId.is_in(chunk.iter().copied()))
            .group_by(note::Column::RegardingId)
            .into_tuple()
            .all(conn)
            .await?;
        for (id, count) in rows {
            counts.insert(id, u64::try_from(count).unwrap_or(0));
        }
    }
    Ok(counts)
}

/// Carries out `plan` for `lead` inside the caller's transaction. On `DuplicatesFound` or an
/// error the caller must roll back (the lead was claimed first).
pub async fn qualify_in(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    settings: &qualification_settings::Model,
    lead: &lead::Model,
    plan: Plan,
    summarizer: &dyn LeadSummarizer,
) -> AppResult<Outcome> {
    let now = super::now();
    // Claim the lead: only one qualification of it can ever pass this point.
    let claimed = lead::Entity::update_many()
        .col_expr(lead::Column::State, Expr::value(LeadState::Qualified))
        .col_expr(
            lead::Column::StatusReason,
            Expr::value(LeadStatusReason::Qualified),
        )
        .col_expr(lead::Column::QualifiedAt, Expr::value(now))
        .col_expr(lead::Column::ModifiedAt, Expr::value(now))
        .filter(lead::Column::Id.eq(lead.id))
        .filter(lead::Column::State.eq(LeadState::Open))
        .exec(conn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::LeadClosed);
    }
    let owner = lead.owner_id;

    // Records to create, and the duplicates they would make.
    let mut report = DuplicateReport::default();
    let new_account = match plan.account {
        Decision::CreateNew { ignore_duplicates } => {
            let candidate = mapped_account(lead, owner, now)?;
            if !ignore_duplicates {
                report.accounts = duplicates::account_matches(conn, &candidate).await?;
            }
            Some(candidate)
        }
        _ => None,
    };
    let new_contact = match plan.contact {
        Decision::CreateNew { ignore_duplicates } => {
            let candidate = mapped_contact(lead, owner, now)?;
            if !ignore_duplicates {
                report.contacts = duplicates::contact_matches(conn, &candidate).await?;
            }
            Some(candidate)
        }
        _ => None,
    };
    if !report.is_empty() {
        return Ok(Outcome::DuplicatesFound {
            lead: lead.clone(),
            report,
        });
    }
    let account = match (new_account, plan.account) {
        (Some(new), _) => Resolved::New(new),
        (None, Decision::UseExisting(id)) => {
            Resolved::Existing(super::accounts::get(conn, id).await?)
        }
        (None, _) => Resolved::None,
    };
    let contact = match (new_contact, plan.contact) {
        (Some(new), _) => Resolved::New(new),
        (None, Decision::UseExisting(id)) => {
            Resolved::Existing(super::contacts::get(conn, id).await?)
        }
        (None, _) => Resolved::None,
    };
    let stakeholders = match plan.opportunities.is_empty() {
        true => Vec::new(),
        false => stakeholders_of(conn, &[lead.id])
            .await?
            .remove(&lead.id)
            .unwrap_or_default(),
    };
    let note_count = match settings.summarize_lead {
        true => note_counts(conn, &[lead.id])
            .await?
            .get(&lead.id)
            .copied()
            .unwrap_or(0),
        false => 0,
    };
    let ctx = Context {
        actor,
        settings,
        summarizer,
        now,
    };
    let writes = build(ctx, lead, plan, account, contact, &stakeholders, note_count)?;
    store(conn, std::slice::from_ref(&writes), now, false).await?;
    Ok(Outcome::Qualified(writes.qualified))
}

/// The operation name idempotency keys are stored under.
const OPERATION: &str = "qualifyLead";

/// What a keyed qualification stores to replay.
#[derive(Debug, Serialize, Deserialize)]
struct StoredResult {
    lead_id: Uuid,
    account_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    opportunity_ids: Vec<Uuid>,
    warnings: Vec<Warning>,
}

/// The row that keeps a keyed qualification's result for replay.
pub fn idempotency_row(
    actor: &Actor,
    key: &str,
    canonical: &str,
    qualified: &Qualified,
) -> AppResult<idempotency_key::ActiveModel> {
    let stored = StoredResult {
        lead_id: qualified.lead.id,
        account_id: qualified.account.as_ref().map(|a| a.id),
        contact_id: qualified.contact.as_ref().map(|c| c.id),
        opportunity_ids: qualified.opportunities.iter().map(|o| o.id).collect(),
        warnings: qualified.warnings.clone(),
    };
    super::idempotency::row(actor, OPERATION, key, canonical, &stored)
}

/// The request as its idempotency key keeps it (a replay must send the same).
pub fn canonical(request: &QualifyRequest) -> AppResult<String> {
    serde_json::to_string(request).map_err(AppError::internal)
}

/// Qualifies one lead (`qualifyLead`) with the default summarizer.
pub async fn qualify_lead(db: &Db, actor: &Actor, request: QualifyRequest) -> AppResult<Outcome> {
    qualify_lead_with(db, actor, request, &TemplateSummarizer).await
}

/// Qualifies one lead in its own transaction.
pub async fn qualify_lead_with(
    db: &Db,
    actor: &Actor,
    request: QualifyRequest,
    summarizer: &dyn LeadSummarizer,
) -> AppResult<Outcome> {
    let canonical = canonical(&request)?;
    if let Some(key) = &request.idempotency_key
        && let Some(replayed) = replay(db, actor, key, &canonical).await?
    {
        return Ok(replayed);
    }

    let txn = db.begin_write().await?;
    let lead = super::leads::get(&txn, request.lead_id).await?;
    let result = async {
        check_lead(actor, &lead)?;
        let settings = super::settings::get(&txn).await?;
        let plan = plan(&settings, &lead, &request)?;
        qualify_in(&txn, actor, &settings, &lead, plan, summarizer).await
    }
    .await;
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(err) => {
            txn.rollback().await?;
            // A concurrent call with the same key may have won the race: replay it.
            if let (AppError::LeadClosed, Some(key)) = (&err, &request.idempotency_key)
                && let Some(replayed) = replay(db, actor, key, &canonical).await?
            {
                return Ok(replayed);
            }
            return Err(err);
        }
    };
    match &outcome {
        Outcome::DuplicatesFound { .. } => {
            txn.rollback().await?;
        }
        Outcome::Qualified(q) => {
            if let Some(key) = &request.idempotency_key {
                idempotency_row(actor, key, &canonical, q)?
                    .insert(&txn)
                    .await?;
            }
            txn.commit().await?;
        }
    }
    Ok(outcome)
}

/// The stored result for `key`: replayed when the request is the same, `CONFLICT` when not.
pub async fn replay(
    db: &Db,
    actor: &Actor,
    key: &str,
    canonical: &str,
) -> AppResult<Option<Outcome>> {
    let Some(response) =
        super::idempotency::kept_response(db, actor, OPERATION, key, canonical).await?
    else {
        return Ok(None);
    };
    let result: StoredResult = serde_json::from_str(&response).map_err(AppError::internal)?;
    let lead = super::leads::get(&db.read, result.lead_id).await?;
    let account = match result.account_id {
        Some(id) => Some(super::accounts::get(&db.read, id).await?),
        None => None,
    };
    let contact = match result.contact_id {
        Some(id) => Some(super::contacts::get(&db.read, id).await?),
        None => None,
    };
    let mut opportunities = Vec::new();
    for id in result.opportunity_ids {
        opportunities.push(super::opportunities::get(&db.read, id).await?);
    }
    Ok(Some(Outcome::Qualified(Qualified {
        lead,
        account,
        contact,
        opportunities,
        warnings: result.warnings,
    })))
}

/// What `previewQualification` answers.
#[derive(Debug, Clone)]
pub struct Preview {
    pub lead: lead::Model,
    pub plan: Option<Plan>,
    pub required_choices: Vec<RequiredChoice>,
    /// The error `qualifyLead` would give, if any.
    pub error: Option<(&'static str, String)>,
    pub account: Option<account::Model>,
    pub account_fields: Vec<MappedValue>,
    pub contact: Option<contact::Model>,
    pub contact_fields: Vec<MappedValue>,
    pub opportunities: Vec<(opportunity::Model, Vec<MappedValue>)>,
    pub duplicates: DuplicateReport,
}

/// What qualifying would do with `request`, writing nothing.
pub async fn preview(db: &Db, actor: &Actor, request: QualifyRequest) -> AppResult<Preview> {
    let conn = &db.read;
    let lead = super::leads::get(conn, request.lead_id).await?;
    let settings = super::settings::get(conn).await?;
    let mut preview = Preview {
        lead: lead.clone(),
        plan: None,
        required_choices: Vec::new(),
        error: None,
        account: None,
        account_fields: Vec::new(),
        contact: None,
        contact_fields: Vec::new(),
        opportunities: Vec::new(),
        duplicates: DuplicateReport::default(),
    };
    if let Err(err) = check_lead(actor, &lead) {
        preview.error = Some((err.code(), err.message()));
        return Ok(preview);
    }
    let plan = match plan(&settings, &lead, &request) {
        Ok(plan) => plan,
        Err(PlanError::ChoicesRequired(choices)) => {
            let err = AppError::from(PlanError::ChoicesRequired(choices.clone()));
            preview.error = Some((err.code(), err.message()));
            preview.required_choices = choices;
            return Ok(preview);
        }
        Err(PlanError::Other(err)) => {
            preview.error = Some((err.code(), err.message()));
            return Ok(preview);
        }
    };
    let now = super::now();
    match plan.account {
        Decision::CreateNew { ignore_duplicates } => {
            let candidate = mapped_account(&lead, lead.owner_id, now)?;
            if !ignore_duplicates {
                preview.duplicates.accounts = duplicates::account_matches(conn, &candidate).await?;
            }
            preview.account_fields = mapped_values(&candidate, TargetRecord::Account)?;
            preview.account = Some(candidate);
        }
        Decision::UseExisting(id) => match super::accounts::get(conn, id).await {
            Ok(existing) => preview.account = Some(existing),
            Err(err @ AppError::NotFound { .. }) => {
                preview.error = Some((err.code(), err.message()))
            }
            Err(err) => return Err(err),
        },
        Decision::Nothing => {}
    }
    match plan.contact {
        Decision::CreateNew { ignore_duplicates } => {
            let candidate = mapped_contact(&lead, lead.owner_id, now)?;
            if !ignore_duplicates {
                preview.duplicates.contacts = duplicates::contact_matches(conn, &candidate).await?;
            }
            preview.contact_fields = mapped_values(&candidate, TargetRecord::Contact)?;
            preview.contact = Some(candidate);
        }
        Decision::UseExisting(id) => match super::contacts::get(conn, id).await {
            Ok(existing) => preview.contact = Some(existing),
            Err(err @ AppError::NotFound { .. }) => {
                preview.error = Some((err.code(), err.message()))
            }
            Err(err) => return Err(err),
        },
        Decision::Nothing => {}
    }
    let account_id = preview.account.as_ref().map(|a| a.id);
    let contact_id = preview.contact.as_ref().map(|c| c.id);
    for draft in &plan.opportunities {
        let model = mapped_opportunity(
            &lead,
            draft,
            account_id,
            contact_id,
            &plan.currency_code,
            lead.owner_id,
            now,
        )?;
        let fields = mapped_values(&model, TargetRecord::Opportunity)?;
        preview.opportunities.push((model, fields));
    }
    preview.plan = Some(plan);
    Ok(preview)
}
