//! Qualifying many leads at once (`qualifyLeads`): one set of choices for every listed lead,
//! results in input order. One lead's failure never stops or undoes another's.
//!
//! **Chunks.** Leads are qualified [`CHUNK`] at a time, each chunk in one write transaction:
//! 1. read (and, on PostgreSQL, lock `FOR UPDATE`) the chunk's leads; plan each one;
//! 2. check the records to be created for duplicates with one index query per rule condition
//!    for the whole chunk (`duplicates::*_matches_many`), and against the records created by the
//!    leads before it in the chunk (`duplicates::Pending`), as if each lead ran alone in turn;
//! 3. build every qualified lead's writes in memory (`qualification::build`) and store them
//!    with multi-row statements under the bind-variable limit (`qualification::store`), which
//!    also claims the leads (`... WHERE state = 'OPEN'`, rows counted).
//!
//! A lead that cannot be qualified (closed, forbidden, duplicates, ...) is simply left out of
//! its chunk's writes. If a chunk's transaction fails as a whole (a database error, a lead
//! closed meanwhile by another process), it is rolled back and its leads are qualified again
//! one by one, each in its own transaction, so one bad lead never costs the others.
//!
//! **Crash safety.** A lead's records, its state and its audit entries commit together, so after
//! a crash every lead is either fully qualified or untouched; running the same call again
//! qualifies the rest (the done ones answer `LEAD_CLOSED`, nothing is duplicated).
//!
//! **Idempotency.** With an `idempotencyKey`, the per-lead results of a finished call are kept;
//! the same call again replays them, another input under the same key is `CONFLICT`.

use std::collections::{HashMap, HashSet};

use entity::{
    DuplicateRecordType, account, contact, idempotency_key, lead, opportunity,
    qualification_settings,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::duplicates::{self, DuplicateReport, LoadedRule, Match, MatchedRule, Pending};
use super::qualification::{
    self, Context, Decision, Outcome, Qualified, QualifyRequest, RecordAction, RecordChoice,
    Resolved, Warning,
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

/// The published account and contact rules, read once per call.
struct Rules {
    accounts: Vec<LoadedRule>,
    contacts: Vec<LoadedRule>,
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
    let settings = super::settings::get(&db.read).await?;
    let rules = Rules {
        accounts: duplicates::published_rules(
            &db.read,
            DuplicateRecordType::Account,
            DuplicateRecordType::Account,
        )
        .await?,
        contacts: duplicates::published_rules(
            &db.read,
            DuplicateRecordType::Contact,
            DuplicateRecordType::Contact,
        )
        .await?,
    };
    let mut results = Vec::with_capacity(request.lead_ids.len());
    for chunk in request.lead_ids.chunks(CHUNK) {
        match qualify_chunk(db, actor, &settings, &rules, &request, chunk).await {
            Ok(items) => results.extend(items),
            Err(error) => {
                tracing::warn!(
                    error = ?error,
                    leads = chunk.len(),
                    "bulk chunk rolled back; qualifying its leads one by one"
                );
                for id in chunk {
                    let item = match qualify_alone(db, actor, &settings, &request, *id).await {
                        Ok(item) => item,
                        Err(error) => ItemResult::failed(*id, &error),
                    };
                    results.push(item);
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

/// The plan for one lead of the batch; with CREATE_ANYWAY, automatic records skip the
/// duplicate check too.
fn plan_for(
    actor: &Actor,
    settings: &qualification_settings::Model,
    request: &BulkRequest,
    lead: &lead::Model,
) -> AppResult<qualification::Plan> {
    qualification::check_lead(actor, lead)?;
    let mut plan = qualification::plan(settings, lead, &single_request(request, lead.id))?;
    if request.duplicate_policy == DuplicatePolicy::CreateAnyway {
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
    plan: qualification::Plan,
    new_account: Option<account::Model>,
    new_contact: Option<contact::Model>,
}

fn checked(decision: Decision) -> bool {
    matches!(
        decision,
        Decision::CreateNew {
            ignore_duplicates: false
        }
    )
}

/// One chunk, one transaction; see the module documentation.
async fn qualify_chunk(
    db: &Db,
    actor: &Actor,
    settings: &qualification_settings::Model,
    rules: &Rules,
    request: &BulkRequest,
    chunk: &[Uuid],
) -> AppResult<Vec<ItemResult>> {
    let now = super::now();
    let txn = db.begin_write().await?;
    let mut leads: HashMap<Uuid, lead::Model> = lead::Entity::find()
        .filter(lead::Column::Id.is_in(chunk.iter().copied()))
        .order_by_asc(lead::Column::Id)
        .lock_exclusive()
        .all(&txn)
        .await?
        .into_iter()
        .map(|lead| (lead.id, lead))
        .collect();

    // 1. Plan each lead.
    let mut results: Vec<Option<ItemResult>> = Vec::with_capacity(chunk.len());
    let mut planned = Vec::new();
    for (position, id) in chunk.iter().enumerate() {
        let Some(lead) = leads.remove(id) else {
            results.push(Some(ItemResult::failed(
                *id,
                &AppError::not_found("lead", id),
            )));
            continue;
        };
        match plan_for(actor, settings, request, &lead) {
            Err(error) => results.push(Some(ItemResult::failed(*id, &error))),
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
        .zip(duplicates::account_matches_many(&txn, &rules.accounts, &account_candidates).await?)
        .collect();
    let mut stored_contact_matches: HashMap<Uuid, Vec<Match<contact::Model>>> = contact_candidates
        .iter()
        .map(|c| c.id)
        .zip(duplicates::contact_matches_many(&txn, &rules.contacts, &contact_candidates).await?)
        .collect();

    // The existing records to link, the stakeholders to copy, the notes to count.
    let mut existing_accounts: HashMap<Uuid, account::Model> = HashMap::new();
    let mut existing_contacts: HashMap<Uuid, contact::Model> = HashMap::new();
    let account_ids: Vec<Uuid> = planned
        .iter()
        .filter_map(|p| match p.plan.account {
            Decision::UseExisting(id) => Some(id),
            _ => None,
        })
        .collect();
    let contact_ids: Vec<Uuid> = planned
        .iter()
        .filter_map(|p| match p.plan.contact {
            Decision::UseExisting(id) => Some(id),
            _ => None,
        })
        .collect();
    for ids in account_ids.chunks(super::MAX_BINDS) {
        for a in account::Entity::find()
            .filter(account::Column::Id.is_in(ids.iter().copied()))
            .all(&txn)
            .await?
        {
            existing_accounts.insert(a.id, a);
        }
    }
    for ids in contact_ids.chunks(super::MAX_BINDS) {
        for c in contact::Entity::find()
            .filter(contact::Column::Id.is_in(ids.iter().copied()))
            .all(&txn)
            .await?
        {
            existing_contacts.insert(c.id, c);
        }
    }
    let lead_ids: Vec<Uuid> = planned.iter().map(|p| p.lead.id).collect();
    let mut stakeholders = qualification::stakeholders_of(&txn, &lead_ids).await?;
    let note_counts = match settings.summarize_lead {
        true => qualification::note_counts(&txn, &lead_ids).await?,
        false => HashMap::new(),
    };

    // 3. Each lead in turn, as if alone: its duplicates include the records created by the
    //    leads before it in this chunk.
    let ctx = Context {
        actor,
        settings,
        summarizer: &TemplateSummarizer,
        now,
    };
    let mut pending_accounts: Pending<account::Model> = Pending::default();
    let mut pending_contacts: Pending<contact::Model> = Pending::default();
    let mut writes = Vec::with_capacity(planned.len());
    for p in planned {
        let mut report = DuplicateReport::default();
        if let (Some(candidate), true) = (&p.new_account, checked(p.plan.account)) {
            report.accounts = stored_account_matches
                .remove(&candidate.id)
                .unwrap_or_default();
            report.accounts.extend(
                pending_accounts.matches(&rules.accounts, duplicates::Record::Account(candidate)),
            );
        }
        if let (Some(candidate), true) = (&p.new_contact, checked(p.plan.contact)) {
            report.contacts = stored_contact_matches
                .remove(&candidate.id)
                .unwrap_or_default();
            report.contacts.extend(
                pending_contacts.matches(&rules.contacts, duplicates::Record::Contact(candidate)),
            );
        }
        let link = request.duplicate_policy == DuplicatePolicy::LinkSingleMatch
            && report.accounts.len() <= 1
            && report.contacts.len() <= 1;
        if !report.is_empty() && !link {
            results[p.position] = Some(ItemResult::DuplicatesFound {
                lead: p.lead,
                report,
            });
            continue;
        }
        // No matches, or exactly one per record type to link.
        let account = match (report.accounts.pop(), p.new_account, p.plan.account) {
            (Some(matched), _, _) => Resolved::Existing(matched.record),
            (None, Some(new), _) => Resolved::New(new),
            (None, None, Decision::UseExisting(id)) => match existing_accounts.get(&id) {
                Some(existing) => Resolved::Existing(existing.clone()),
                None => {
                    let error = AppError::not_found("account", id);
                    results[p.position] = Some(ItemResult::failed(p.lead.id, &error));
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
                    let error = AppError::not_found("contact", id);
                    results[p.position] = Some(ItemResult::failed(p.lead.id, &error));
                    continue;
                }
            },
            (None, None, _) => Resolved::None,
        };
        if let Resolved::New(new) = &account {
            pending_accounts.add(new.clone());
        }
        if let Resolved::New(new) = &contact {
            pending_contacts.add(new.clone());
        }
        let lead_stakeholders = match p.plan.opportunities.is_empty() {
            true => Vec::new(),
            false => stakeholders.remove(&p.lead.id).unwrap_or_default(),
        };
        let note_count = note_counts.get(&p.lead.id).copied().unwrap_or(0);
        let built = qualification::build(
            ctx,
            &p.lead,
            p.plan,
            account,
            contact,
            &lead_stakeholders,
            note_count,
        )?;
        results[p.position] = Some(ItemResult::Qualified(Box::new(built.qualified.clone())));
        writes.push(built);
    }

    // 4. Store (and claim) every qualified lead of the chunk.
    if let Err(error) = qualification::store(&txn, &writes, now, true).await {
        txn.rollback().await?;
        return Err(error);
    }
    txn.commit().await?;
    results
        .into_iter()
        .map(|r| r.ok_or_else(|| AppError::internal("a lead of the chunk has no result")))
        .collect()
}

/// One lead in its own transaction (the fallback when a chunk's transaction fails).
async fn qualify_alone(
    db: &Db,
    actor: &Actor,
    settings: &qualification_settings::Model,
    request: &BulkRequest,
    lead_id: Uuid,
) -> AppResult<ItemResult> {
    let lead = super::leads::get(&db.read, lead_id).await?;
    let plan = plan_for(actor, settings, request, &lead)?;
    let outcome = attempt(db, actor, settings, &lead, plan.clone()).await?;
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
    let mut plan = plan;
    if let Some(account) = report.accounts.first() {
        plan.account = Decision::UseExisting(account.record.id);
    }
    if let Some(contact) = report.contacts.first() {
        plan.contact = Decision::UseExisting(contact.record.id);
    }
    Ok(into_item(attempt(db, actor, settings, &lead, plan).await?))
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

fn into_item(outcome: Outcome) -> ItemResult {
    match outcome {
        Outcome::Qualified(q) => ItemResult::Qualified(Box::new(q)),
        Outcome::DuplicatesFound { lead, report } => ItemResult::DuplicatesFound { lead, report },
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
    let txn = db.begin_write().await?;
    let exists =
        idempotency_key::Entity::find_by_id((actor.user_id, OPERATION.to_owned(), key.to_owned()))
            .one(&txn)
            .await?
            .is_some();
    if !exists {
        idempotency_key::ActiveModel {
            actor_id: Set(actor.user_id),
            operation: Set(OPERATION.to_owned()),
            key: Set(key.to_owned()),
            request: Set(canonical.to_owned()),
            response: Set(serde_json::to_string(&stored).map_err(AppError::internal)?),
            created_at: Set(super::now()),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Records of one kind by id, read in chunks.
async fn by_ids<E>(
    conn: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> AppResult<HashMap<Uuid, E::Model>>
where
    E: EntityTrait,
    E::Model: HasId,
    E::Column: IdColumn,
{
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(super::MAX_BINDS) {
        for model in E::find()
            .filter(E::Column::id().is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            found.insert(model.id(), model);
        }
    }
    Ok(found)
}

/// A model's id.
trait HasId {
    fn id(&self) -> Uuid;
}

/// An entity's id column.
trait IdColumn: ColumnTrait {
    fn id() -> Self;
}

macro_rules! with_id {
    ($($module:ident),+) => {$(
        impl HasId for $module::Model {
            fn id(&self) -> Uuid {
                self.id
            }
        }
        impl IdColumn for $module::Column {
            fn id() -> Self {
                $module::Column::Id
            }
        }
    )+};
}
with_id!(lead, account, contact, opportunity);

/// The results kept for `key`: replayed when the request is the same, `CONFLICT` when not.
async fn replay(
    db: &Db,
    actor: &Actor,
    key: &str,
    canonical: &str,
) -> AppResult<Option<Vec<ItemResult>>> {
    let conn = &db.read;
    let Some(stored) =
        idempotency_key::Entity::find_by_id((actor.user_id, OPERATION.to_owned(), key.to_owned()))
            .one(conn)
            .await?
    else {
        return Ok(None);
    };
    if stored.request != canonical {
        return Err(AppError::Conflict(format!(
            "idempotency key {key:?} was already used with a different input"
        )));
    }
    let items: Vec<StoredItem> =
        serde_json::from_str(&stored.response).map_err(AppError::internal)?;
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
    let leads = by_ids::<lead::Entity>(conn, lead_ids).await?;
    let accounts = by_ids::<account::Entity>(conn, account_ids).await?;
    let contacts = by_ids::<contact::Entity>(conn, contact_ids).await?;
    let opportunities = by_ids::<opportunity::Entity>(conn, opportunity_ids).await?;
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
