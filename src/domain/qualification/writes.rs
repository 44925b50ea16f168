//! Everything one qualification writes, built in memory ([`build`]): the new records with their
//! links, the opportunities through the field mappings, the stakeholders copied from the lead,
//! the summary notes and the audit entries; and how a qualification ends ([`Outcome`],
//! [`ItemResult`]). Storing is `service::qualification::store`'s job.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    LeadState, LeadStatusReason, ProcessStage, RecordType, account, audit_event, contact,
    custom_field_value, lead, note, opportunity, qualification_settings, stakeholder,
};
use sea_orm::Set;
use serde_json::{Value, json};
use uuid::Uuid;

use super::mapping::{Mappings, mapped_opportunity};
use super::plan::{Plan, Warning};
use crate::auth::Actor;
use crate::domain::audit::{self, action};
use crate::domain::custom_field::{Definition, Stored};
use crate::domain::field_mapping::TargetRecord;
use crate::domain::lead_state::Transition;
use crate::domain::matching::DuplicateReport;
use crate::domain::new_id;
use crate::domain::summary::{LeadSummarizer, SUMMARY_SUBJECT, SummaryInput};
use crate::error::AppError;

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

/// The result for one lead of a bulk run (or a job).
// A batch holds at most a few thousand of these, briefly; the size difference is harmless.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum ItemResult {
    Qualified(Box<Qualified>),
    DuplicatesFound {
        lead: lead::Model,
        report: DuplicateReport,
    },
    Failed {
        lead_id: Uuid,
        /// The error's `code` (as `extensions.code` would carry it).
        code: String,
        message: String,
        /// The input field a `BAD_USER_INPUT` names.
        field: Option<String>,
    },
}

impl ItemResult {
    /// The result for `lead_id` from a qualification's outcome or error.
    pub fn from_outcome(lead_id: Uuid, outcome: Result<Outcome, AppError>) -> Self {
        match outcome {
            Ok(Outcome::Qualified(q)) => Self::Qualified(Box::new(q)),
            Ok(Outcome::DuplicatesFound { lead, report }) => Self::DuplicatesFound { lead, report },
            Err(error) => Self::Failed {
                lead_id,
                code: error.code().to_owned(),
                message: error.message(),
                field: error.field().map(str::to_owned),
            },
        }
    }

    /// The lead's id.
    pub fn lead_id(&self) -> Uuid {
        match self {
            Self::Qualified(q) => q.lead.id,
            Self::DuplicatesFound { lead, .. } => lead.id,
            Self::Failed { lead_id, .. } => *lead_id,
        }
    }
}

/// What every qualification of one run shares.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub actor: &'a Actor,
    pub settings: &'a qualification_settings::Model,
    pub summarizer: &'a dyn LeadSummarizer,
    /// One instant per run: every lead it qualifies gets this time.
    pub now: DateTime<Utc>,
    /// The field mappings in force.
    pub mappings: &'a Mappings,
}

/// Everything one qualification writes.
#[derive(Debug, Clone)]
pub struct Writes {
    /// What the caller gets back; `lead` is the lead as it will be stored.
    pub qualified: Qualified,
    /// Whether the account is created by this qualification (not an existing one).
    pub new_account: bool,
    /// Whether the contact is created by this qualification (not an existing one).
    pub new_contact: bool,
    pub stakeholders: Vec<stakeholder::ActiveModel>,
    pub notes: Vec<note::ActiveModel>,
    pub audit: Vec<audit_event::ActiveModel>,
    /// The custom field values of the new records (through mappings onto custom fields).
    pub custom_values: Vec<custom_field_value::Model>,
}

/// A custom value row of a new record.
pub fn custom_value_row(
    record_type: RecordType,
    record_id: Uuid,
    definition: &Definition,
    stored: Stored,
) -> custom_field_value::Model {
    custom_field_value::Model {
        record_id,
        field_id: definition.id,
        record_type,
        value: stored.value.to_string(),
        text_value: stored.text,
        number_value: stored.number,
    }
}

/// Builds everything qualifying `lead` writes; `lead_custom` are the lead's custom values by
/// field id (only those some mapping reads).
#[allow(clippy::too_many_arguments)]
pub fn build(
    ctx: Context<'_>,
    lead: &lead::Model,
    lead_custom: &HashMap<Uuid, Value>,
    plan: Plan,
    mut account: Resolved<account::Model>,
    mut contact: Resolved<contact::Model>,
    lead_stakeholders: &[stakeholder::Model],
    note_count: u64,
) -> Result<Writes, AppError> {
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
            lead_custom,
            draft,
            account_id,
            contact_id,
            &plan.currency_code,
            lead.owner_id,
            now,
            ctx.mappings,
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
    let mut custom_values = Vec::new();
    if !ctx.mappings.custom.is_empty() || !ctx.mappings.required.is_empty() {
        let mut add = |record: TargetRecord, record_type, id| -> Result<(), AppError> {
            let values = ctx.mappings.custom_values(record, lead, lead_custom)?;
            ctx.mappings.check_required(record, &values)?;
            for (definition, stored) in values {
                custom_values.push(custom_value_row(record_type, id, &definition, stored));
            }
            Ok(())
        };
        if let Resolved::New(account) = &account {
            add(TargetRecord::Account, RecordType::Account, account.id)?;
        }
        if let Resolved::New(contact) = &contact {
            add(TargetRecord::Contact, RecordType::Contact, contact.id)?;
        }
        for opportunity in &opportunities {
            add(
                TargetRecord::Opportunity,
                RecordType::Opportunity,
                opportunity.id,
            )?;
        }
    }
    // The lead's stakeholders become stakeholders of each new opportunity.
    let stakeholders = opportunities
        .iter()
        .flat_map(|o| {
            lead_stakeholders
                .iter()
                .map(move |s| stakeholder::ActiveModel {
                    id: Set(new_id()),
                    lead_id: Set(None),
                    opportunity_id: Set(Some(o.id)),
                    contact_id: Set(s.contact_id),
                    role: Set(s.role),
                    created_at: Set(now),
                })
        })
        .collect();

    let primary = opportunities.first().map(|o| o.id);
    let (state, status_reason) = Transition::Qualify
        .target()
        .unwrap_or((LeadState::Qualified, LeadStatusReason::Qualified));
    let mut qualified_lead = lead.clone();
    qualified_lead.state = state;
    qualified_lead.status_reason = status_reason;
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
        let note = |regarding_type, regarding_id| note::ActiveModel {
            id: Set(new_id()),
            regarding_type: Set(regarding_type),
            regarding_id: Set(regarding_id),
            subject: Set(Some(SUMMARY_SUBJECT.to_owned())),
            text: Set(Some(text.clone())),
            created_by: Set(None),
            created_at: Set(now),
        };
        if let Some(primary) = primary {
            notes.push(note(RecordType::Opportunity, primary));
        }
        notes.push(note(RecordType::Lead, lead.id));
    }

    audit.push(audit::event(
        actor,
        RecordType::Lead,
        lead.id,
        action::QUALIFIED,
        json!({
            "state": { "from": lead.state, "to": state },
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
        custom_values,
    })
}
