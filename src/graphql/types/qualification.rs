//! Types of lead qualification: settings, the qualify input and payload, duplicate reports,
//! previews and field mappings.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{field_mapping as stored_mapping, qualification_settings};

use super::enums::*;
use super::records::{Account, Contact, Lead, Opportunity, User};
use super::scalars::Decimal;
use crate::domain::field_mapping::{self, FieldMapping as MappingRow, TargetField};
use crate::domain::qualification::{self as q, Decision};
use crate::domain::records::limits;
use crate::domain::values;
use crate::error::{AppError, AppResult};
use crate::graphql::loaders::UserId;
use crate::service::duplicates::{self, DuplicateReport as Report};
use crate::service::qualification::Preview;
use crate::service::settings::SettingsChanges;

/// The organization's lead qualification settings.
pub struct QualificationSettings(pub qualification_settings::Model);

/// The organization's lead qualification settings (one set for everybody; System Administrators
/// change them). A change applies to every lead qualified after it.
#[Object]
impl QualificationSettings {
    /// LEGACY (one switch, `autoCreateRecords`) or NEW (a creation mode per record type).
    async fn experience(&self) -> QualificationExperience {
        self.0.experience.into()
    }
    /// Legacy experience: create account, contact and opportunity automatically (true), or let
    /// the seller choose which to create (false).
    async fn auto_create_records(&self) -> bool {
        self.0.auto_create_records
    }
    /// New experience: who decides about the account.
    async fn account_creation(&self) -> CreationMode {
        self.0.account_creation.into()
    }
    /// New experience: who decides about the contact.
    async fn contact_creation(&self) -> CreationMode {
        self.0.contact_creation.into()
    }
    /// New experience: who decides about the opportunity.
    async fn opportunity_creation(&self) -> CreationMode {
        self.0.opportunity_creation.into()
    }
    /// New experience with opportunityCreation SELLER: the seller may draft several
    /// opportunities per lead.
    async fn allow_multiple_opportunities(&self) -> bool {
        self.0.allow_multiple_opportunities
    }
    /// Most opportunities one qualification may create (at most 5).
    async fn max_opportunities_per_lead(&self) -> i32 {
        self.0.max_opportunities_per_lead
    }
    /// New experience: add a summary of the lead to the timeline of the primary opportunity and
    /// of the lead after qualification.
    async fn summarize_lead(&self) -> bool {
        self.0.summarize_lead
    }
    /// The fields of the opportunity quick-create form: the fields a draft may set.
    async fn opportunity_form_fields(&self) -> Vec<String> {
        crate::service::settings::form_fields(&self.0)
    }
    /// The organization's base currency: opportunities use it when neither the request nor the
    /// lead names one.
    async fn base_currency_code(&self) -> &str {
        &self.0.base_currency_code
    }
    /// The region of phone numbers written without a country code (ISO 3166 alpha-2, default
    /// US): duplicate matching compares phones in E.164, reading such numbers in this region.
    async fn phone_region(&self) -> &str {
        &self.0.phone_region
    }
    /// When the settings last changed.
    async fn modified_at(&self) -> DateTime<Utc> {
        self.0.modified_at
    }
    /// Who last changed the settings.
    async fn modified_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let Some(id) = self.0.modified_by else {
            return Ok(None);
        };
        Ok(crate::graphql::loaders(ctx)?
            .load_one(UserId(id))
            .await?
            .map(User))
    }
}

/// Settings to change; omitted fields stay as they are.
#[derive(InputObject, Default)]
pub struct UpdateQualificationSettingsInput {
    /// LEGACY or NEW.
    pub experience: Option<QualificationExperience>,
    /// Legacy: create all three records automatically.
    pub auto_create_records: Option<bool>,
    /// New: who decides about the account.
    pub account_creation: Option<CreationMode>,
    /// New: who decides about the contact.
    pub contact_creation: Option<CreationMode>,
    /// New: who decides about the opportunity.
    pub opportunity_creation: Option<CreationMode>,
    /// New, opportunityCreation SELLER only: allow several opportunities per lead.
    pub allow_multiple_opportunities: Option<bool>,
    /// 1 to 5.
    pub max_opportunities_per_lead: Option<i32>,
    /// New only: summarize the lead after qualification.
    pub summarize_lead: Option<bool>,
    /// Fields of the opportunity quick-create form (must include topic).
    pub opportunity_form_fields: Option<Vec<String>>,
    /// ISO 4217 base currency.
    pub base_currency_code: Option<String>,
    /// ISO 3166 alpha-2 region of phone numbers written without a country code; changing it
    /// recomputes the stored phone match keys.
    pub phone_region: Option<String>,
}

impl UpdateQualificationSettingsInput {
    /// Parses the input.
    pub fn parse(self) -> AppResult<SettingsChanges> {
        Ok(SettingsChanges {
            experience: self.experience.map(Into::into),
            auto_create_records: self.auto_create_records,
            account_creation: self.account_creation.map(Into::into),
            contact_creation: self.contact_creation.map(Into::into),
            opportunity_creation: self.opportunity_creation.map(Into::into),
            allow_multiple_opportunities: self.allow_multiple_opportunities,
            max_opportunities_per_lead: self.max_opportunities_per_lead,
            summarize_lead: self.summarize_lead,
            opportunity_form_fields: self.opportunity_form_fields,
            base_currency_code: match self.base_currency_code {
                Some(code) => Some(
                    values::currency_code("baseCurrencyCode", Some(code))?.ok_or_else(|| {
                        AppError::bad_input("baseCurrencyCode", "baseCurrencyCode cannot be blank")
                    })?,
                ),
                None => None,
            },
            phone_region: match self.phone_region {
                Some(code) => Some(
                    crate::domain::matching::PhoneRegion::parse(&code)
                        .ok_or_else(|| {
                            AppError::bad_input(
                                "phoneRegion",
                                format!("{code:?} is not an ISO 3166 alpha-2 region code"),
                            )
                        })?
                        .code(),
                ),
                None => None,
            },
        })
    }
}

/// What to do with a record type when qualifying.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::qualification::RecordAction")]
pub enum RecordAction {
    /// Create a new record from the lead's fields.
    CreateNew,
    /// Link an existing record (`existingId`, default: the lead's existing account/contact).
    UseExisting,
    /// Create nothing of this type.
    Skip,
}

/// How a qualification ended.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum QualifyOutcome {
    /// The lead is qualified; its records are in the payload.
    Qualified,
    /// Records to be created match existing ones; nothing was written. Choose USE_EXISTING
    /// with a matched id, or CREATE_NEW with ignoreDuplicates.
    DuplicatesFound,
}

/// The caller's choice for an account, contact or opportunity.
#[derive(InputObject, Clone)]
pub struct RecordChoiceInput {
    /// Create new, use existing or skip.
    pub action: RecordAction,
    /// With USE_EXISTING: the record to link (a duplicate match, or any record); default: the
    /// lead's existing account/contact.
    pub existing_id: Option<ID>,
    /// With CREATE_NEW: create even if duplicates match.
    #[graphql(default = false)]
    pub ignore_duplicates: bool,
}

impl RecordChoiceInput {
    fn parse(self, record: &str) -> AppResult<q::RecordChoice> {
        Ok(q::RecordChoice {
            action: self.action.into(),
            existing_id: values::parse_opt_id(
                &format!("{record}.existingId"),
                self.existing_id.as_deref(),
            )?,
            ignore_duplicates: self.ignore_duplicates,
        })
    }
}

/// An opportunity to create; omitted fields come from the lead.
#[derive(InputObject, Clone)]
pub struct OpportunityDraftInput {
    /// Topic (default: the lead's).
    pub topic: Option<String>,
    /// Budget (default: the lead's).
    pub budget_amount: Option<Decimal>,
    /// When the customer means to buy (default: the lead's).
    pub purchase_timeframe: Option<PurchaseTimeframe>,
    /// How the customer decides (default: the lead's).
    pub purchase_process: Option<PurchaseProcess>,
    /// Whether the decision maker is identified (default: the lead's).
    pub decision_maker: Option<bool>,
    /// Description (default: the lead's).
    pub description: Option<String>,
}

/// What to qualify and how.
#[derive(InputObject, Clone)]
pub struct QualifyLeadInput {
    /// The lead.
    pub lead_id: ID,
    /// The account choice; omitted: what the settings and the lead imply.
    pub account: Option<RecordChoiceInput>,
    /// The contact choice; omitted: what the settings and the lead imply.
    pub contact: Option<RecordChoiceInput>,
    /// The opportunity choice: CREATE_NEW or SKIP; omitted: what the settings imply.
    pub opportunity: Option<RecordChoiceInput>,
    /// Opportunities to create, first = primary (several need allowMultipleOpportunities).
    pub opportunities: Option<Vec<OpportunityDraftInput>>,
    /// ISO 4217 currency of the opportunities (default: the lead's, else the base currency).
    pub currency_code: Option<String>,
    /// A key of the caller's choosing (at most 200 characters, kept 24 hours): repeating the
    /// request with the same key replays its successful result instead of qualifying again (a
    /// concurrent repeat waits for the first); the same key with another input is a CONFLICT.
    /// A call that did not qualify (duplicates found, an error) releases its key.
    pub idempotency_key: Option<String>,
}

impl QualifyLeadInput {
    /// Parses the input.
    pub fn parse(self) -> AppResult<q::QualifyRequest> {
        let drafts = match self.opportunities {
            None => None,
            Some(drafts) => Some(
                drafts
                    .into_iter()
                    .enumerate()
                    .map(|(i, d)| {
                        let f = |name: &str| format!("opportunities.{i}.{name}");
                        Ok(q::OpportunityDraft {
                            topic: values::Topic::parse(&f("topic"), d.topic)?,
                            budget_amount: values::Money::parse(
                                &f("budgetAmount"),
                                d.budget_amount.as_ref().map(|m| m.0.as_str()),
                            )?,
                            purchase_timeframe: d.purchase_timeframe.map(Into::into),
                            purchase_process: d.purchase_process.map(Into::into),
                            decision_maker: d.decision_maker,
                            description: values::text(
                                &f("description"),
                                d.description,
                                limits::DESCRIPTION,
                            )?,
                        })
                    })
                    .collect::<AppResult<Vec<_>>>()?,
            ),
        };
        Ok(q::QualifyRequest {
            lead_id: values::parse_id("leadId", &self.lead_id)?,
            account: self.account.map(|c| c.parse("account")).transpose()?,
            contact: self.contact.map(|c| c.parse("contact")).transpose()?,
            opportunity: self
                .opportunity
                .map(|c| c.parse("opportunity"))
                .transpose()?,
            drafts,
            currency_code: values::CurrencyCode::parse("currencyCode", self.currency_code)?,
            idempotency_key: values::text("idempotencyKey", self.idempotency_key, 200)?,
        })
    }
}

/// Something the caller should know that did not stop the qualification.
#[derive(SimpleObject, Clone)]
pub struct Warning {
    /// A stable code, e.g. NO_COMPANY_NAME.
    pub code: String,
    /// What happened.
    pub message: String,
}

impl From<q::Warning> for Warning {
    fn from(w: q::Warning) -> Self {
        Self {
            code: w.code,
            message: w.message,
        }
    }
}

/// A duplicate detection rule that matched, and on which fields.
#[derive(SimpleObject)]
pub struct MatchedRule {
    /// The rule's name.
    pub rule_name: String,
    /// The fields whose values matched.
    pub fields: Vec<String>,
    /// The lowest similarity (0 to 1, Jaro-Winkler of the normalized values) among the rule's
    /// FUZZY conditions; null for a rule without one.
    pub similarity: Option<f64>,
}

/// An existing account that matches the account about to be created.
#[derive(SimpleObject)]
pub struct AccountMatch {
    /// The existing account.
    pub account: Account,
    /// The rules that matched it.
    pub rules: Vec<MatchedRule>,
}

/// An existing contact that matches the contact about to be created.
#[derive(SimpleObject)]
pub struct ContactMatch {
    /// The existing contact.
    pub contact: Contact,
    /// The rules that matched it.
    pub rules: Vec<MatchedRule>,
}

/// "Account or Contact may already exist": the existing records that match.
#[derive(SimpleObject)]
pub struct DuplicateReport {
    /// Matching accounts.
    pub accounts: Vec<AccountMatch>,
    /// Matching contacts.
    pub contacts: Vec<ContactMatch>,
}

/// An existing lead that matches a lead.
#[derive(SimpleObject)]
pub struct LeadMatch {
    /// The other lead.
    pub lead: Lead,
    /// The rules that matched it.
    pub rules: Vec<MatchedRule>,
}

/// The API form of matched rules.
pub fn matched_rules(rules: Vec<duplicates::MatchedRule>) -> Vec<MatchedRule> {
    rules
        .into_iter()
        .map(|r| MatchedRule {
            rule_name: r.rule_name,
            fields: r.fields,
            similarity: r.similarity,
        })
        .collect()
}

impl From<Report> for DuplicateReport {
    fn from(report: Report) -> Self {
        Self {
            accounts: report
                .accounts
                .into_iter()
                .map(|m| AccountMatch {
                    account: Account(m.record),
                    rules: matched_rules(m.rules),
                })
                .collect(),
            contacts: report
                .contacts
                .into_iter()
                .map(|m| ContactMatch {
                    contact: Contact(m.record),
                    rules: matched_rules(m.rules),
                })
                .collect(),
        }
    }
}

/// The result of `qualifyLead`.
#[derive(SimpleObject)]
pub struct QualifyLeadPayload {
    /// QUALIFIED, or DUPLICATES_FOUND (then nothing was written).
    pub outcome: QualifyOutcome,
    /// The lead (qualified, or unchanged).
    pub lead: Lead,
    /// The account the lead was qualified to (created or existing).
    pub account: Option<Account>,
    /// The contact the lead was qualified to (created or existing).
    pub contact: Option<Contact>,
    /// The opportunities created, primary first.
    pub opportunities: Vec<Opportunity>,
    /// Set when outcome is DUPLICATES_FOUND.
    pub duplicates: Option<DuplicateReport>,
    /// E.g. NO_COMPANY_NAME: automatic account creation skipped.
    pub warnings: Vec<Warning>,
}

impl From<q::Outcome> for QualifyLeadPayload {
    fn from(outcome: q::Outcome) -> Self {
        match outcome {
            q::Outcome::Qualified(done) => Self {
                outcome: QualifyOutcome::Qualified,
                lead: Lead(done.lead),
                account: done.account.map(Account),
                contact: done.contact.map(Contact),
                opportunities: done.opportunities.into_iter().map(Opportunity).collect(),
                duplicates: None,
                warnings: done.warnings.into_iter().map(Into::into).collect(),
            },
            q::Outcome::DuplicatesFound { lead, report } => Self {
                outcome: QualifyOutcome::DuplicatesFound,
                lead: Lead(lead),
                account: None,
                contact: None,
                opportunities: Vec::new(),
                duplicates: Some(report.into()),
                warnings: Vec::new(),
            },
        }
    }
}

/// An error of one item of a bulk operation, or the error an operation would give.
#[derive(SimpleObject, Clone)]
pub struct ItemError {
    /// The error code (the same as `extensions.code` would be).
    pub code: String,
    /// What went wrong.
    pub message: String,
    /// With `BAD_USER_INPUT`: the input field at fault (as `extensions.field` would name it).
    pub field: Option<String>,
}

/// What a preview says will happen to a record type.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum PlannedAction {
    /// A new record will be created.
    CreateNew,
    /// An existing record will be linked.
    UseExisting,
    /// No record of this type.
    None,
}

/// A value a new record will receive from the lead.
#[derive(SimpleObject)]
pub struct MappedFieldValue {
    /// The field on the new record's form.
    pub field: String,
    /// The lead's field it comes from.
    pub source_field: String,
    /// The value (null: empty).
    pub value: Option<String>,
}

fn mapped(values: Vec<q::MappedValue>) -> Vec<MappedFieldValue> {
    values
        .into_iter()
        .map(|v| MappedFieldValue {
            field: v.field,
            source_field: v.source_field,
            value: v.value,
        })
        .collect()
}

/// What will happen to the account.
#[derive(SimpleObject)]
pub struct AccountPreview {
    /// Create new, use existing, or none.
    pub action: PlannedAction,
    /// Who decides under the settings.
    pub mode: CreationMode,
    /// With USE_EXISTING: the account that will be linked.
    pub existing: Option<Account>,
    /// With CREATE_NEW: the values the new account will get.
    pub fields: Vec<MappedFieldValue>,
}

/// What will happen to the contact.
#[derive(SimpleObject)]
pub struct ContactPreview {
    /// Create new, use existing, or none.
    pub action: PlannedAction,
    /// Who decides under the settings.
    pub mode: CreationMode,
    /// With USE_EXISTING: the contact that will be linked.
    pub existing: Option<Contact>,
    /// With CREATE_NEW: the values the new contact will get.
    pub fields: Vec<MappedFieldValue>,
}

/// An opportunity that will be created.
#[derive(SimpleObject)]
pub struct OpportunityPreview {
    /// Its topic.
    pub topic: String,
    /// Its currency.
    pub currency_code: String,
    /// Its budget.
    pub budget_amount: Option<Decimal>,
    /// Every value it will get from the lead and the draft.
    pub fields: Vec<MappedFieldValue>,
}

/// A choice the seller must make before the lead can be qualified.
#[derive(SimpleObject)]
pub struct RequiredChoice {
    /// account, contact or opportunity.
    pub record: String,
    /// What to choose.
    pub message: String,
    /// The actions to choose from.
    pub options: Vec<RecordAction>,
}

/// What `qualifyLead` would do with the same input. Nothing was written.
#[derive(SimpleObject)]
pub struct QualificationPreview {
    /// The lead as it is.
    pub lead: Lead,
    /// What qualifyLead would answer; null when it would fail (see `error`).
    pub outcome: Option<QualifyOutcome>,
    /// The error qualifyLead would give (LEAD_CLOSED, CHOICE_REQUIRED, COMPANY_NAME_REQUIRED...).
    pub error: Option<ItemError>,
    /// Choices still to make.
    pub required_choices: Vec<RequiredChoice>,
    /// The account.
    pub account: Option<AccountPreview>,
    /// The contact.
    pub contact: Option<ContactPreview>,
    /// The opportunities, primary first.
    pub opportunities: Vec<OpportunityPreview>,
    /// Matches of the records to be created.
    pub duplicates: DuplicateReport,
    /// Warnings qualifyLead would give.
    pub warnings: Vec<Warning>,
}

impl From<Preview> for QualificationPreview {
    fn from(p: Preview) -> Self {
        let plan = p.plan.as_ref();
        let action = |d: Decision| match d {
            Decision::CreateNew { .. } => PlannedAction::CreateNew,
            Decision::UseExisting(_) => PlannedAction::UseExisting,
            Decision::Nothing => PlannedAction::None,
        };
        let account = plan.map(|plan| AccountPreview {
            action: action(plan.account),
            mode: plan.modes[0].into(),
            existing: matches!(plan.account, Decision::UseExisting(_))
                .then(|| p.account.clone().map(Account))
                .flatten(),
            fields: Vec::new(),
        });
        let contact = plan.map(|plan| ContactPreview {
            action: action(plan.contact),
            mode: plan.modes[1].into(),
            existing: matches!(plan.contact, Decision::UseExisting(_))
                .then(|| p.contact.clone().map(Contact))
                .flatten(),
            fields: Vec::new(),
        });
        let duplicates_found = !p.duplicates.is_empty();
        let outcome = match (&p.error, plan, duplicates_found) {
            (None, Some(_), true) => Some(QualifyOutcome::DuplicatesFound),
            (None, Some(_), false) => Some(QualifyOutcome::Qualified),
            _ => None,
        };
        Self {
            lead: Lead(p.lead),
            outcome,
            error: p.error.map(|(code, message, field)| ItemError {
                code: code.to_owned(),
                message,
                field,
            }),
            required_choices: p
                .required_choices
                .into_iter()
                .map(|c| RequiredChoice {
                    record: c.record.to_owned(),
                    message: c.message,
                    options: c.options.into_iter().map(Into::into).collect(),
                })
                .collect(),
            account: account.map(|a| AccountPreview {
                fields: mapped(p.account_fields),
                ..a
            }),
            contact: contact.map(|c| ContactPreview {
                fields: mapped(p.contact_fields),
                ..c
            }),
            opportunities: p
                .opportunities
                .into_iter()
                .map(|(o, fields)| OpportunityPreview {
                    topic: o.topic,
                    currency_code: o.currency_code,
                    budget_amount: o
                        .budget_amount_cents
                        .map(|c| Decimal(values::format_cents(c))),
                    fields: mapped(fields),
                })
                .collect(),
            duplicates: p.duplicates.into(),
            warnings: plan
                .map(|plan| plan.warnings.iter().cloned().map(Into::into).collect())
                .unwrap_or_default(),
        }
    }
}

/// The record types lead fields are mapped to.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::MappingTargetType")]
pub enum MappingTarget {
    /// The account.
    Account,
    /// The contact.
    Contact,
    /// The opportunity.
    Opportunity,
}

/// How a lead field is carried over to a record created by qualification.
pub struct FieldMapping(pub stored_mapping::Model);

/// How a lead field is carried over to a record created by qualification: a standard mapping
/// (seeded; may be disabled, not removed) or one an administrator added onto a custom field.
#[Object]
impl FieldMapping {
    /// The mapping's id (for removeFieldMapping and setFieldMappingEnabled).
    async fn id(&self) -> Option<ID> {
        Some(ID(self.0.id.to_string()))
    }
    /// The record type that receives the value.
    async fn target(&self) -> MappingTarget {
        self.0.target.into()
    }
    /// The lead field the value comes from: a standard field's API name (as in the `Lead`
    /// type; `qualifiedAccount` / `qualifiedContact` for the resulting records) or a custom
    /// field's name.
    async fn source_field(&self) -> &str {
        &self.0.source_field
    }
    /// The target record's field: a standard field's API name or a custom field's name.
    async fn target_field(&self) -> &str {
        &self.0.target_field
    }
    /// One of the standard mappings (seeded with the product; cannot be removed).
    async fn standard(&self) -> bool {
        self.0.standard
    }
    /// Whether qualification applies it.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// Part of the product's documented mapping table (the other standard mappings are
    /// leadq's additions).
    async fn documented(&self) -> bool {
        self.standard_row().is_some_and(|m| m.documented)
    }
    /// The source field's label on the lead form (standard mappings), else its name.
    async fn source_label(&self) -> String {
        self.standard_row().map_or_else(
            || self.0.source_field.clone(),
            |m| m.source_label.to_owned(),
        )
    }
    /// The target field's label on its form (standard mappings), else its name.
    async fn target_label(&self) -> String {
        self.standard_row().map_or_else(
            || self.0.target_field.clone(),
            |m| m.target_label.to_owned(),
        )
    }
}

impl FieldMapping {
    fn standard_row(&self) -> Option<&'static MappingRow> {
        if !self.0.standard {
            return None;
        }
        TargetField::from_api_name(self.0.target, &self.0.target_field)
            .and_then(field_mapping::standard_for)
    }
}
