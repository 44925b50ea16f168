//! Qualifying a chunk of leads in one write transaction, each as if it ran alone in turn.
//! `qualifyLeads` cuts its batch into chunks (`service::bulk`); concurrent `qualifyLead` calls
//! are gathered into chunks by `service::queue`. Per chunk:
//!
//! 1. read (and, on PostgreSQL, lock `FOR UPDATE`, in id order) the chunk's leads, and the
//!    settings and published duplicate rules; plan each lead (`qualification::plan`);
//! 2. check the records to be created for duplicates with one index query per rule condition
//!    for the whole chunk (`duplicates::*_matches_many`), and against the records created by the
//!    leads before it in the chunk (`duplicates::Pending`);
//! 3. build every qualified lead's writes in memory (`qualification::build`) and store them with
//!    multi-row statements under the bind-variable limit (`qualification::store`), which also
//!    claims the leads (`... WHERE state = 'OPEN'`, rows counted).
//!
//! A lead that cannot be qualified (closed, forbidden, duplicates, ...) is left out of the
//! chunk's writes with its own result. If the transaction fails as a whole, the caller gets the
//! error and qualifies the chunk's leads one by one instead, so one bad lead never costs others.

use std::collections::{HashMap, HashSet};

use entity::{DuplicateRecordType, account, contact, lead, qualification_settings};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::bulk::DuplicatePolicy;
use super::duplicates::{self, DuplicateReport, Match, Pending};
use super::qualification::{self, Context, Decision, Outcome, Plan, QualifyRequest, Resolved};
use super::summary::LeadSummarizer;
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// One qualification of a chunk.
#[derive(Debug, Clone)]
pub struct ChunkItem<'a> {
    pub actor: &'a Actor,
    pub request: QualifyRequest,
    pub policy: DuplicatePolicy,
    /// With an idempotency key: the canonical request kept with the result when qualified.
    pub canonical: Option<String>,
}

/// The plan for one lead; with CREATE_ANYWAY, automatic records skip the duplicate check too.
pub fn plan_for(
    actor: &Actor,
    settings: &qualification_settings::Model,
    request: &QualifyRequest,
    policy: DuplicatePolicy,
    lead: &lead::Model,
) -> AppResult<Plan> {
    qualification::check_lead(actor, lead)?;
    let mut plan = qualification::plan(settings, lead, request)?;
    if policy == DuplicatePolicy::CreateAnyway {
        for decision in [&mut plan.account, &mut plan.contact] {
            if let Decision::CreateNew { ignore_duplicates } = decision {
                *ignore_duplicates = true;
            }
        }
    }
    Ok(plan)
}

/// A lead of the chunk that will be qualified unless duplicates stop it.
struct Planned {
    position: usize,
    lead: lead::Model,
    plan: Plan,
    new_account: Option<account::Model>,
    new_contact: Option<contact::Model>,
}

/// Whether a decision creates a record that is checked for duplicates.
fn checked(decision: Decision) -> bool {
    matches!(
        decision,
        Decision::CreateNew {
            ignore_duplicates: false
        }
    )
}

/// Why a chunk wrote nothing.
#[derive(Debug)]
pub struct ChunkFailure {
    pub error: AppError,
    /// Whether the chunk's leads may be qualified again one by one: not when the transaction
    /// could not even start (the database is unavailable), nor when its commit failed (then
    /// whether it took effect is unknown, and every caller gets the error).
    pub retry_alone: bool,
}

/// Qualifies the chunk's leads in one transaction; one result per item, in order. Each lead
/// may appear once.
pub async fn qualify_chunk(
    db: &Db,
    items: &[ChunkItem<'_>],
    summarizer: &dyn LeadSummarizer,
) -> Result<Vec<AppResult<Outcome>>, ChunkFailure> {
    let failure = |error: sea_orm::DbErr, retry_alone| ChunkFailure {
        error: error.into(),
        retry_alone,
    };
    let now = super::now();
    let txn = db.begin_write().await.map_err(|e| failure(e, false))?;
    match qualify_in(&txn, items, summarizer, now).await {
        Ok(results) => {
            txn.commit().await.map_err(|e| failure(e, false))?;
            Ok(results)
        }
        Err(error) => {
            txn.rollback().await.map_err(|e| failure(e, false))?;
            Err(ChunkFailure {
                error,
                retry_alone: true,
            })
        }
    }
}

async fn qualify_in(
    txn: &sea_orm::DatabaseTransaction,
    items: &[ChunkItem<'_>],
    summarizer: &dyn LeadSummarizer,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<AppResult<Outcome>>> {
    let started = std::time::Instant::now();
    let settings = super::settings::get(txn).await?;
    let account_rules = duplicates::published_rules(
        txn,
        DuplicateRecordType::Account,
        DuplicateRecordType::Account,
    )
    .await?;
    let contact_rules = duplicates::published_rules(
        txn,
        DuplicateRecordType::Contact,
        DuplicateRecordType::Contact,
    )
    .await?;
    let mut leads: HashMap<Uuid, lead::Model> = lead::Entity::find()
        .filter(lead::Column::Id.is_in(items.iter().map(|i| i.request.lead_id)))
        .order_by_asc(lead::Column::Id)
        .lock_exclusive()
        .all(txn)
        .await?
        .into_iter()
        .map(|lead| (lead.id, lead))
        .collect();

    // 1. Plan each lead.
    let mut results: Vec<Option<AppResult<Outcome>>> = Vec::with_capacity(items.len());
    let mut planned = Vec::new();
    let mut seen = HashSet::with_capacity(items.len());
    for (position, item) in items.iter().enumerate() {
        let id = item.request.lead_id;
        if !seen.insert(id) {
            return Err(AppError::internal(format!("lead {id} twice in one chunk")));
        }
        let Some(lead) = leads.remove(&id) else {
            results.push(Some(Err(AppError::not_found("lead", id))));
            continue;
        };
        match plan_for(item.actor, &settings, &item.request, item.policy, &lead) {
            Err(error) => results.push(Some(Err(error))),
            Ok(plan) => {
                let new_account = match plan.account {
                    Decision::CreateNew { .. } => {
                        Some(qualification::mapped_account(&lead, lead.owner_id, now)?)
                    }
                    _ => None,
                };
                let new_contact = match plan.contact {
                    Decision::CreateNew { .. } => {
                        Some(qualification::mapped_contact(&lead, lead.owner_id, now)?)
                    }
                    _ => None,
                };
                results.push(None);
                planned.push(Planned {
                    position,
                    lead,
                    plan,
                    new_account,
                    new_contact,
                });
            }
        }
    }

    let planned_at = started.elapsed();

    // 2. Duplicates among stored records, for the whole chunk at once.
    let account_candidates: Vec<&account::Model> = planned
        .iter()
        .filter(|p| checked(p.plan.account))
        .filter_map(|p| p.new_account.as_ref())
        .collect();
    let contact_candidates: Vec<&contact::Model> = planned
        .iter()
        .filter(|p| checked(p.plan.contact))
        .filter_map(|p| p.new_contact.as_ref())
        .collect();
    let mut stored_account_matches: HashMap<Uuid, Vec<Match<account::Model>>> = account_candidates
        .iter()
        .map(|a| a.id)
        .zip(duplicates::account_matches_many(txn, &account_rules, &account_candidates).await?)
        .collect();
    let mut stored_contact_matches: HashMap<Uuid, Vec<Match<contact::Model>>> = contact_candidates
        .iter()
        .map(|c| c.id)
        .zip(duplicates::contact_matches_many(txn, &contact_rules, &contact_candidates).await?)
        .collect();

    let looked_up_at = started.elapsed();

    // The existing records to link, the stakeholders to copy, the notes to count.
    let existing_accounts = super::by_ids::<account::Entity>(
        txn,
        planned
            .iter()
            .filter_map(|p| match p.plan.account {
                Decision::UseExisting(id) => Some(id),
                _ => None,
            })
            .collect(),
    )
    .await?;
    let existing_contacts = super::by_ids::<contact::Entity>(
        txn,
        planned
            .iter()
            .filter_map(|p| match p.plan.contact {
                Decision::UseExisting(id) => Some(id),
                _ => None,
            })
            .collect(),
    )
    .await?;
    let lead_ids: Vec<Uuid> = planned.iter().map(|p| p.lead.id).collect();
    let mut stakeholders = qualification::stakeholders_of(txn, &lead_ids).await?;
    let note_counts = match settings.summarize_lead {
        true => qualification::note_counts(txn, &lead_ids).await?,
        false => HashMap::new(),
    };

    let loaded_at = started.elapsed();

    // 3. Each lead in turn, as if alone: its duplicates include the records created by the
    //    leads before it in this chunk.
    let mut pending_accounts: Pending<account::Model> = Pending::default();
    let mut pending_contacts: Pending<contact::Model> = Pending::default();
    let mut writes = Vec::with_capacity(planned.len());
    let mut remembered = Vec::new();
    for p in planned {
        let item = &items[p.position];
        let mut report = DuplicateReport::default();
        if let (Some(candidate), true) = (&p.new_account, checked(p.plan.account)) {
            report.accounts = stored_account_matches
                .remove(&candidate.id)
                .unwrap_or_default();
            report.accounts.extend(
                pending_accounts.matches(&account_rules, duplicates::Record::Account(candidate)),
            );
        }
        if let (Some(candidate), true) = (&p.new_contact, checked(p.plan.contact)) {
            report.contacts = stored_contact_matches
                .remove(&candidate.id)
                .unwrap_or_default();
            report.contacts.extend(
                pending_contacts.matches(&contact_rules, duplicates::Record::Contact(candidate)),
            );
        }
        let link = item.policy == DuplicatePolicy::LinkSingleMatch
            && report.accounts.len() <= 1
            && report.contacts.len() <= 1;
        if !report.is_empty() && !link {
            results[p.position] = Some(Ok(Outcome::DuplicatesFound {
                lead: p.lead,
                report,
            }));
            continue;
        }
        // No matches, or exactly one per record type to link.
        let account = match (report.accounts.pop(), p.new_account, p.plan.account) {
            (Some(matched), _, _) => Resolved::Existing(matched.record),
            (None, Some(new), _) => Resolved::New(new),
            (None, None, Decision::UseExisting(id)) => match existing_accounts.get(&id) {
                Some(existing) => Resolved::Existing(existing.clone()),
                None => {
                    results[p.position] = Some(Err(AppError::not_found("account", id)));
                    continue;
                }
            },
            (None, None, _) => Resolved::None,
        };
        let contact = match (report.contacts.pop(), p.new_contact, p.plan.contact) {
            (Some(matched), _, _) => Resolved::Existing(matched.record),
            (None, Some(new), _) => Resolved::New(new),
            (None, None, Decision::UseExisting(id)) => match existing_contacts.get(&id) {
                Some(existing) => Resolved::Existing(existing.clone()),
                None => {
                    results[p.position] = Some(Err(AppError::not_found("contact", id)));
                    continue;
                }
            },
            (None, None, _) => Resolved::None,
        };
        let lead_stakeholders = match p.plan.opportunities.is_empty() {
            true => Vec::new(),
            false => stakeholders.remove(&p.lead.id).unwrap_or_default(),
        };
        let note_count = note_counts.get(&p.lead.id).copied().unwrap_or(0);
        let ctx = Context {
            actor: item.actor,
            settings: &settings,
            summarizer,
            now,
        };
        let built = qualification::build(
            ctx,
            &p.lead,
            p.plan,
            account,
            contact,
            &lead_stakeholders,
            note_count,
        )?;
        // Later leads of the chunk match (and may link) these records, links included.
        if built.creates_account()
            && let Some(new) = &built.qualified.account
        {
            pending_accounts.add(new.clone());
        }
        if built.creates_contact()
            && let Some(new) = &built.qualified.contact
        {
            pending_contacts.add(new.clone());
        }
        if let (Some(key), Some(canonical)) = (&item.request.idempotency_key, &item.canonical) {
            remembered.push(qualification::idempotency_row(
                item.actor,
                key,
                canonical,
                &built.qualified,
            )?);
        }
        results[p.position] = Some(Ok(Outcome::Qualified(built.qualified.clone())));
        writes.push(built);
    }

    // 4. Store (and claim) every qualified lead of the chunk.
    let built_at = started.elapsed();
    qualification::store(txn, &writes, now, true).await?;
    super::insert_all(txn, remembered).await?;
    tracing::debug!(
        leads = items.len(),
        qualified = writes.len(),
        plan_us = planned_at.as_micros(),
        duplicates_us = (looked_up_at - planned_at).as_micros(),
        load_us = (loaded_at - looked_up_at).as_micros(),
        build_us = (built_at - loaded_at).as_micros(),
        store_us = (started.elapsed() - built_at).as_micros(),
        "qualified a chunk"
    );
    results
        .into_iter()
        .map(|r| r.ok_or_else(|| AppError::internal("a lead of the chunk has no result")))
        .collect()
}
