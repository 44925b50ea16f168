//! Qualifying many leads at once (`qualifyLeads`): one set of choices for every listed lead,
//! results in input order. One lead's failure never stops or undoes another's.
//!
//! **Chunks.** Leads are qualified [`CHUNK`] at a time, each chunk in one write transaction
//! (`service::chunk`): reads, duplicate lookups and writes are batched for the whole chunk, and
//! each lead is still decided as if it ran alone in turn. A lead that cannot be qualified
//! (closed, forbidden, duplicates, ...) is left out of its chunk's writes with its own result. If
//! a chunk's transaction fails as a whole (a database error, a lead closed meanwhile by another
//! process), it is rolled back and its leads are qualified again one by one, each in its own
//! transaction, so one bad lead never costs the others.
//!
//! **Crash safety.** A lead's records, its state and its audit entries commit together, so after
//! a crash every lead is either fully qualified or untouched; running the same call again
//! qualifies the rest (the done ones answer `LEAD_CLOSED`, nothing is duplicated).
//!
//! **Idempotency.** With an `idempotencyKey`, the per-lead results of a finished call are kept;
//! the same call again replays them, another input under the same key is `CONFLICT`.

use std::collections::HashSet;

use entity::{account, contact, idempotency_key, lead, opportunity, qualification_settings};
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::chunk::{self, ChunkItem};
use super::duplicates::{DuplicateReport, Match, MatchedRule};
use super::qualification::{
    self, Decision, Outcome, Qualified, QualifyRequest, RecordAction, RecordChoice, Warning,
};
use super::summary::TemplateSummarizer;
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// Leads qualified per transaction: large enough that statements are few, small enough that a
/// concurrent single qualification never waits long for the writer.
pub const CHUNK: usize = 250;

/// What to do when records to be created match existing ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BulkRequest {
    pub lead_ids: Vec<Uuid>,
    pub account: Option<RecordAction>,
    pub contact: Option<RecordAction>,
    pub opportunity: Option<RecordAction>,
    pub duplicate_policy: DuplicatePolicy,
    pub currency_code: Option<String>,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
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
        /// The error's `code` (as `extensions.code` would carry it).
        code: String,
        message: String,
    },
}

impl ItemResult {
    fn failed(lead_id: Uuid, error: &AppError) -> Self {
        if let AppError::Internal(cause) = error {
            tracing::error!(%cause, lead = %lead_id, "bulk qualification failed");
        }
        Self::Failed {
            lead_id,
            code: error.code().to_owned(),
            message: error.message(),
        }
    }
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

/// Qualifies every listed lead; see the module documentation.
pub async fn qualify_leads(
    db: &Db,
    actor: &Actor,
    request: BulkRequest,
    max: usize,
) -> AppResult<Vec<ItemResult>> {
    validate(&request, max)?;
    let canonical = serde_json::to_string(&request).map_err(AppError::internal)?;
    if let Some(key) = &request.idempotency_key
        && let Some(replayed) = replay(db, actor, key, &canonical).await?
    {
        return Ok(replayed);
    }
    let mut results = Vec::with_capacity(request.lead_ids.len());
    for ids in request.lead_ids.chunks(CHUNK) {
        let items: Vec<ChunkItem<'_>> = ids
            .iter()
            .map(|id| ChunkItem {
                actor,
                request: single_request(&request, *id),
                policy: request.duplicate_policy,
                canonical: None,
            })
            .collect();
        match chunk::qualify_chunk(db, &items, &TemplateSummarizer).await {
            Ok(outcomes) => results.extend(
                ids.iter()
                    .zip(outcomes)
                    .map(|(id, outcome)| into_item(*id, outcome)),
            ),
            Err(failure) if !failure.retry_alone => {
                results.extend(ids.iter().map(|id| ItemResult::failed(*id, &failure.error)));
            }
            Err(failure) => {
                tracing::warn!(
                    error = ?failure.error,
                    leads = ids.len(),
                    "bulk chunk rolled back; qualifying its leads one by one"
                );
                for item in &items {
                    let id = item.request.lead_id;
                    results.push(into_item(id, qualify_alone(db, item).await));
                }
            }
        }
    }
    if let Some(key) = &request.idempotency_key {
        remember(db, actor, key, &canonical, &results).await?;
    }
    Ok(results)
}

/// The request for one lead of the batch.
fn single_request(request: &BulkRequest, lead_id: Uuid) -> QualifyRequest {
    let create_anyway = request.duplicate_policy == DuplicatePolicy::CreateAnyway;
    let choice = |action: Option<RecordAction>, ignore_duplicates: bool| {
        action.map(|action| RecordChoice {
            action,
            existing_id: None,
            ignore_duplicates,
        })
    };
    QualifyRequest {
        lead_id,
        account: choice(request.account, create_anyway),
        contact: choice(request.contact, create_anyway),
        opportunity: choice(request.opportunity, false),
        drafts: None,
        currency_code: request.currency_code.clone(),
        idempotency_key: None,
    }
}

/// One lead in its own transaction (the fallback when a chunk's transaction fails).
async fn qualify_alone(db: &Db, item: &ChunkItem<'_>) -> AppResult<Outcome> {
    let settings = super::settings::get(&db.read).await?;
    let lead = super::leads::get(&db.read, item.request.lead_id).await?;
    let plan = chunk::plan_for(item.actor, &settings, &item.request, item.policy, &lead)?;
    let outcome = attempt(db, item.actor, &settings, &lead, plan.clone()).await?;
    let Outcome::DuplicatesFound { lead, report } = outcome else {
        return Ok(outcome);
    };
    if item.policy != DuplicatePolicy::LinkSingleMatch
        || report.accounts.len() > 1
        || report.contacts.len() > 1
    {
        return Ok(Outcome::DuplicatesFound { lead, report });
    }
    // Exactly one match per matched record type: link it, and try again.
    let mut plan = plan;
    if let Some(account) = report.accounts.first() {
        plan.account = Decision::UseExisting(account.record.id);
    }
    if let Some(contact) = report.contacts.first() {
        plan.contact = Decision::UseExisting(contact.record.id);
    }
    attempt(db, item.actor, &settings, &lead, plan).await
}

/// One lead, one transaction.
async fn attempt(
    db: &Db,
    actor: &Actor,
    settings: &qualification_settings::Model,
    lead: &lead::Model,
    plan: qualification::Plan,
) -> AppResult<Outcome> {
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

fn into_item(lead_id: Uuid, outcome: AppResult<Outcome>) -> ItemResult {
    match outcome {
        Ok(Outcome::Qualified(q)) => ItemResult::Qualified(Box::new(q)),
        Ok(Outcome::DuplicatesFound { lead, report }) => {
            ItemResult::DuplicatesFound { lead, report }
        }
        Err(error) => ItemResult::failed(lead_id, &error),
    }
}

/// The operation name bulk idempotency keys are stored under.
const OPERATION: &str = "qualifyLeads";

/// One lead's result as kept for replay: ids, not records (they are read again on replay).
#[derive(Debug, Serialize, Deserialize)]
enum StoredItem {
    Qualified {
        lead_id: Uuid,
        account_id: Option<Uuid>,
        contact_id: Option<Uuid>,
        opportunity_ids: Vec<Uuid>,
        warnings: Vec<Warning>,
    },
    DuplicatesFound {
        lead_id: Uuid,
        accounts: Vec<(Uuid, Vec<MatchedRule>)>,
        contacts: Vec<(Uuid, Vec<MatchedRule>)>,
    },
    Failed {
        lead_id: Uuid,
        code: String,
        message: String,
    },
}

impl From<&ItemResult> for StoredItem {
    fn from(item: &ItemResult) -> Self {
        match item {
            ItemResult::Qualified(q) => Self::Qualified {
                lead_id: q.lead.id,
                account_id: q.account.as_ref().map(|a| a.id),
                contact_id: q.contact.as_ref().map(|c| c.id),
                opportunity_ids: q.opportunities.iter().map(|o| o.id).collect(),
                warnings: q.warnings.clone(),
            },
            ItemResult::DuplicatesFound { lead, report } => Self::DuplicatesFound {
                lead_id: lead.id,
                accounts: report
                    .accounts
                    .iter()
                    .map(|m| (m.record.id, m.rules.clone()))
                    .collect(),
                contacts: report
                    .contacts
                    .iter()
                    .map(|m| (m.record.id, m.rules.clone()))
                    .collect(),
            },
            ItemResult::Failed {
                lead_id,
                code,
                message,
            } => Self::Failed {
                lead_id: *lead_id,
                code: code.clone(),
                message: message.clone(),
            },
        }
    }
}

/// Keeps a finished call's results under its key. A concurrent call that finished first with
/// the same key keeps its own.
async fn remember(
    db: &Db,
    actor: &Actor,
    key: &str,
    canonical: &str,
    results: &[ItemResult],
) -> AppResult<()> {
    let stored: Vec<StoredItem> = results.iter().map(StoredItem::from).collect();
    let row = super::idempotency::row(actor, OPERATION, key, canonical, &stored)?;
    let txn = db.begin_write().await?;
    // A concurrent call with the same key that finished first keeps its results.
    idempotency_key::Entity::insert(row)
        .on_conflict_do_nothing_on([
            idempotency_key::Column::ActorId,
            idempotency_key::Column::Operation,
            idempotency_key::Column::Key,
        ])
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// The results kept for `key`: replayed when the request is the same, `CONFLICT` when not.
async fn replay(
    db: &Db,
    actor: &Actor,
    key: &str,
    canonical: &str,
) -> AppResult<Option<Vec<ItemResult>>> {
    let conn = &db.read;
    let Some(response) =
        super::idempotency::kept_response(db, actor, OPERATION, key, canonical).await?
    else {
        return Ok(None);
    };
    let items: Vec<StoredItem> = serde_json::from_str(&response).map_err(AppError::internal)?;
    let (mut lead_ids, mut account_ids, mut contact_ids, mut opportunity_ids) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for item in &items {
        match item {
            StoredItem::Qualified {
                lead_id,
                account_id,
                contact_id,
                opportunity_ids: opportunities,
                ..
            } => {
                lead_ids.push(*lead_id);
                account_ids.extend(*account_id);
                contact_ids.extend(*contact_id);
                opportunity_ids.extend(opportunities.iter().copied());
            }
            StoredItem::DuplicatesFound {
                lead_id,
                accounts,
                contacts,
            } => {
                lead_ids.push(*lead_id);
                account_ids.extend(accounts.iter().map(|(id, _)| *id));
                contact_ids.extend(contacts.iter().map(|(id, _)| *id));
            }
            StoredItem::Failed { .. } => {}
        }
    }
    let leads = super::by_ids::<lead::Entity>(conn, lead_ids).await?;
    let accounts = super::by_ids::<account::Entity>(conn, account_ids).await?;
    let contacts = super::by_ids::<contact::Entity>(conn, contact_ids).await?;
    let opportunities = super::by_ids::<opportunity::Entity>(conn, opportunity_ids).await?;
    let gone = |lead_id: Uuid| ItemResult::failed(lead_id, &AppError::not_found("lead", lead_id));
    let results = items
        .into_iter()
        .map(|item| match item {
            StoredItem::Qualified {
                lead_id,
                account_id,
                contact_id,
                opportunity_ids,
                warnings,
            } => match leads.get(&lead_id) {
                None => gone(lead_id),
                Some(lead) => ItemResult::Qualified(Box::new(Qualified {
                    lead: lead.clone(),
                    account: account_id.and_then(|id| accounts.get(&id).cloned()),
                    contact: contact_id.and_then(|id| contacts.get(&id).cloned()),
                    opportunities: opportunity_ids
                        .iter()
                        .filter_map(|id| opportunities.get(id).cloned())
                        .collect(),
                    warnings,
                })),
            },
            StoredItem::DuplicatesFound {
                lead_id,
                accounts: matched_accounts,
                contacts: matched_contacts,
            } => match leads.get(&lead_id) {
                None => gone(lead_id),
                Some(lead) => ItemResult::DuplicatesFound {
                    lead: lead.clone(),
                    report: DuplicateReport {
                        accounts: matched_accounts
                            .into_iter()
                            .filter_map(|(id, rules)| {
                                Some(Match {
                                    record: accounts.get(&id)?.clone(),
                                    rules,
                                })
                            })
                            .collect(),
                        contacts: matched_contacts
                            .into_iter()
                            .filter_map(|(id, rules)| {
                                Some(Match {
                                    record: contacts.get(&id)?.clone(),
                                    rules,
                                })
                            })
                            .collect(),
                    },
                },
            },
            StoredItem::Failed {
                lead_id,
                code,
                message,
            } => ItemResult::Failed {
                lead_id,
                code,
                message,
            },
        })
        .collect();
    Ok(Some(results))
}
