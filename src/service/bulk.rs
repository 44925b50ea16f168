//! Qualifying many leads at once (`qualifyLeads`): one set of choices for every listed lead, each
//! lead in its own transaction, results in input order. One lead's failure never stops or undoes
//! another's. Leads are read in chunks (one query per chunk, under every database's bind-variable
//! limit), and the settings once per call.
//!
//! Crash safety follows from the per-lead transactions: a lead is either fully qualified (state
//! and all its records, committed together) or untouched, and running the same call again
//! qualifies the rest (the done ones answer `LEAD_CLOSED`, nothing is duplicated).

use std::collections::{HashMap, HashSet};

use entity::{lead, qualification_settings};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::duplicates::DuplicateReport;
use super::qualification::{
    self, Decision, Outcome, Qualified, QualifyRequest, RecordAction, RecordChoice,
};
use super::summary::TemplateSummarizer;
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// Leads read per query.
const READ_CHUNK: usize = 500;

/// What to do when records to be created match existing ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DuplicatePolicy {
    /// Report the matches for that lead; write nothing for it.
    #[default]
    Report,
    /// Exactly one match per record: link it; several: report.
    LinkSingleMatch,
    /// Create new records regardless (the product's grid behaviour).
    CreateAnyway,
}

/// A bulk qualification request, parsed.
#[derive(Debug, Clone, Default)]
pub struct BulkRequest {
    pub lead_ids: Vec<Uuid>,
    pub account: Option<RecordAction>,
    pub contact: Option<RecordAction>,
    pub opportunity: Option<RecordAction>,
    pub duplicate_policy: DuplicatePolicy,
    pub currency_code: Option<String>,
}

/// The result for one lead.
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
        error: AppError,
    },
}

/// Checks the batch before anything runs: size and repeated ids.
pub fn validate(request: &BulkRequest, max: usize) -> AppResult<()> {
    if request.lead_ids.is_empty() {
        return Err(AppError::bad_input("leadIds", "list at least one lead"));
    }
    if request.lead_ids.len() > max {
        return Err(AppError::BatchTooLarge {
            max,
            given: request.lead_ids.len(),
        });
    }
    let mut seen = HashSet::with_capacity(request.lead_ids.len());
    if let Some(repeated) = request.lead_ids.iter().find(|id| !seen.insert(**id)) {
        return Err(AppError::bad_input(
            "leadIds",
            format!("lead {repeated} is listed twice"),
        ));
    }
    Ok(())
}

fn choice(action: Option<RecordAction>, ignore_duplicates: bool) -> Option<RecordChoice> {
    action.map(|action| RecordChoice {
        action,
        existing_id: None,
        ignore_duplicates,
    })
}

/// Qualifies every listed lead; see the module documentation.
pub async fn qualify_leads(
    db: &Db,
    actor: &Actor,
    request: BulkRequest,
    max: usize,
) -> AppResult<Vec<ItemResult>> {
    validate(&request, max)?;
    let settings = super::settings::get(&db.read).await?;
    let mut leads: HashMap<Uuid, lead::Model> = HashMap::with_capacity(request.lead_ids.len());
    for chunk in request.lead_ids.chunks(READ_CHUNK) {
        for lead in lead::Entity::find()
            .filter(lead::Column::Id.is_in(chunk.iter().copied()))
            .all(&db.read)
            .await?
        {
            leads.insert(lead.id, lead);
        }
    }
    let mut results = Vec::with_capacity(request.lead_ids.len());
    for id in &request.lead_ids {
        let result = match leads.remove(id) {
            None => ItemResult::Failed {
                lead_id: *id,
                error: AppError::not_found("lead", id),
            },
            Some(lead) => match qualify_one(db, actor, &settings, &request, lead).await {
                Ok(result) => result,
                Err(error) => {
                    if let AppError::Internal(cause) = &error {
                        tracing::error!(%cause, lead = %id, "bulk qualification failed");
                    }
                    ItemResult::Failed {
                        lead_id: *id,
                        error,
                    }
                }
            },
        };
        results.push(result);
    }
    Ok(results)
}

async fn qualify_one(
    db: &Db,
    actor: &Actor,
    settings: &qualification_settings::Model,
    request: &BulkRequest,
    lead: lead::Model,
) -> AppResult<ItemResult> {
    let create_anyway = request.duplicate_policy == DuplicatePolicy::CreateAnyway;
    let mut single = QualifyRequest {
        lead_id: lead.id,
        account: choice(request.account, create_anyway),
        contact: choice(request.contact, create_anyway),
        opportunity: choice(request.opportunity, false),
        drafts: None,
        currency_code: request.currency_code.clone(),
        idempotency_key: None,
    };
    let outcome = attempt(db, actor, settings, &lead, &single, create_anyway).await?;
    let Outcome::DuplicatesFound { lead, report } = outcome else {
        return Ok(into_item(outcome));
    };
    if request.duplicate_policy != DuplicatePolicy::LinkSingleMatch
        || report.accounts.len() > 1
        || report.contacts.len() > 1
    {
        return Ok(ItemResult::DuplicatesFound { lead, report });
    }
    // Exactly one match per matched record type: link it, and try again.
    if let Some(account) = report.accounts.first() {
        single.account = Some(RecordChoice {
            action: RecordAction::UseExisting,
            existing_id: Some(account.record.id),
            ignore_duplicates: false,
        });
    }
    if let Some(contact) = report.contacts.first() {
        single.contact = Some(RecordChoice {
            action: RecordAction::UseExisting,
            existing_id: Some(contact.record.id),
            ignore_duplicates: false,
        });
    }
    Ok(into_item(
        attempt(db, actor, settings, &lead, &single, false).await?,
    ))
}

/// One lead, one transaction.
async fn attempt(
    db: &Db,
    actor: &Actor,
    settings: &qualification_settings::Model,
    lead: &lead::Model,
    request: &QualifyRequest,
    create_anyway: bool,
) -> AppResult<Outcome> {
    qualification::check_lead(actor, lead)?;
    let mut plan = qualification::plan(settings, lead, request)?;
    if create_anyway {
        for decision in [&mut plan.account, &mut plan.contact] {
            if let Decision::CreateNew { ignore_duplicates } = decision {
                *ignore_duplicates = true;
            }
        }
    }
    let txn = db.begin_write().await?;
    match qualification::qualify_in(&txn, actor, settings, lead, plan, &TemplateSummarizer).await {
        Ok(outcome @ Outcome::Qualified(_)) => {
            txn.commit().await?;
            Ok(outcome)
        }
        Ok(outcome) => {
            txn.rollback().await?;
            Ok(outcome)
        }
        Err(err) => {
            txn.rollback().await?;
            Err(err)
        }
    }
}

fn into_item(outcome: Outcome) -> ItemResult {
    match outcome {
        Outcome::Qualified(q) => ItemResult::Qualified(Box::new(q)),
        Outcome::DuplicatesFound { lead, report } => ItemResult::DuplicatesFound { lead, report },
    }
}
