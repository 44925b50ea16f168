//! Qualification jobs: a bulk qualification of up to a million leads (by id, or every lead a
//! filter matches when the job starts) run in the background through the one pipeline, in
//! chunks, by any server process.
//!
//! - **Start** ([`start`]): the job, its leads (one row each, in order) and its chunks are
//!   stored in one transaction; the call returns at once with the job QUEUED. An idempotency
//!   key returns the same job for the same input (`CONFLICT` for another).
//! - **Run** ([`worker`]): every server process runs workers that lease one chunk at a time
//!   (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two processes share one job's chunks; SQLite's
//!   one writer serializes the claims) and qualify its leads that have no result yet. Each
//!   lead's result is written **in the transaction that qualifies it** ([`keep`]), guarded by
//!   "no result yet", so a lead is qualified exactly once whatever crashes: a chunk whose
//!   process died is taken by another worker once its lease runs out, and only its leads
//!   without a result run again.
//! - **Progress**: the job's counters move with every chunk; [`get`] reads them, and the
//!   `qualificationJobProgress` subscription polls them.
//! - **Cancel** ([`cancel`]): no further chunk starts; the chunk in flight finishes; the leads
//!   done stay done. Access: the creator, Sales Managers and System Administrators.

pub mod worker;

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{
    ItemOutcome, JobState, lead, qualification_job as job, qualification_job_chunk as chunk,
    qualification_job_item as item,
};
use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set, Statement,
};
use uuid::Uuid;

use super::pipeline::{Item, Keep};
use super::results::StoredItem;
use crate::auth::Actor;
use crate::db::Db;
use crate::domain::qualification::{BulkRequest, ItemResult, Outcome};
use crate::error::{AppError, AppResult};
use crate::service::leads::{self, LeadFilter};
use crate::service::paging::{Cursor, Page, PageRequest, page_from_rows};
use crate::service::{MAX_BINDS, insert_all};

/// Leads per chunk by default (`LEADQ_JOB_CHUNK_LEADS`): one pipeline run, one transaction.
/// Each chunk keeps its own bounds, so a job keeps the size it started with.
pub const CHUNK: usize = 250;

/// Where one lead's result of a job is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobItem {
    pub job_id: Uuid,
    pub position: i32,
}

/// Which leads a job qualifies.
#[derive(Debug, Clone)]
pub enum JobLeads {
    /// These, in this order, each once.
    Ids(Vec<Uuid>),
    /// Every lead the filter matches when the job starts, oldest first.
    Filter(LeadFilter),
}

/// A job to start, parsed.
#[derive(Debug, Clone)]
pub struct JobRequest {
    pub leads: JobLeads,
    /// The choices for every lead (`lead_ids` unused).
    pub choices: BulkRequest,
    pub idempotency_key: Option<String>,
}

/// Starts a job (see the module documentation); at most `max_leads` leads, `chunk_leads` per
/// chunk.
pub async fn start(
    db: &Db,
    actor: &Actor,
    request: JobRequest,
    max_leads: usize,
    chunk_leads: usize,
) -> AppResult<job::Model> {
    let chunk_leads = chunk_leads.max(1);
    let mut choices = request.choices.clone();
    choices.lead_ids = Vec::new();
    choices.idempotency_key = None;
    let stored_request = serde_json::to_string(&choices).map_err(AppError::internal)?;
    let identity = match &request.leads {
        JobLeads::Ids(ids) => serde_json::json!({ "ids": ids, "choices": choices }),
        JobLeads::Filter(filter) => {
            serde_json::json!({ "filter": format!("{filter:?}"), "choices": choices })
        }
    }
    .to_string();
    if let JobLeads::Ids(ids) = &request.leads {
        if ids.is_empty() {
            return Err(AppError::bad_input("leadIds", "list at least one lead"));
        }
        if ids.len() > max_leads {
            return Err(AppError::BatchTooLarge {
                max: max_leads,
                given: ids.len(),
            });
        }
        let mut seen = HashSet::with_capacity(ids.len());
        if let Some(repeated) = ids.iter().find(|id| !seen.insert(**id)) {
            return Err(AppError::bad_input(
                "leadIds",
                format!("lead {repeated} is listed twice"),
            ));
        }
    }
    if let Some(key) = &request.idempotency_key
        && let Some(existing) = by_key(db, actor, key).await?
    {
        return same_or_conflict(existing, key, &identity);
    }

    let now = crate::domain::now();
    let id = crate::domain::new_id();
    let txn = db.begin_write().await?;
    let inserted = job::Entity::insert(job::ActiveModel {
        id: Set(id),
        created_by: Set(actor.user_id),
        state: Set(JobState::Queued),
        request: Set(format!(
            "{{\"identity\":{identity},\"choices\":{stored_request}}}"
        )),
        idempotency_key: Set(request.idempotency_key.clone()),
        total: Set(0),
        processed: Set(0),
        qualified_count: Set(0),
        duplicates_found_count: Set(0),
        failed_count: Set(0),
        cancel_requested: Set(false),
        error: Set(None),
        created_at: Set(now),
        started_at: Set(None),
        finished_at: Set(None),
        modified_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await;
    if let Err(error) = inserted {
        let error = AppError::from(error);
        txn.rollback().await?;
        // A concurrent start with the same key won: answer with its job.
        if let (AppError::Conflict(_), Some(key)) = (&error, &request.idempotency_key)
            && let Some(existing) = by_key(db, actor, key).await?
        {
            return same_or_conflict(existing, key, &identity);
        }
        return Err(error);
    }
    let total = match &request.leads {
        JobLeads::Ids(ids) => {
            insert_all(
                &txn,
                ids.iter()
                    .enumerate()
                    .map(|(position, lead_id)| item::ActiveModel {
                        job_id: Set(id),
                        position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
                        lead_id: Set(*lead_id),
                        outcome: Set(None),
                        result: Set(None),
                    })
                    .collect(),
            )
            .await?;
            ids.len()
        }
        JobLeads::Filter(filter) => {
            let condition = leads::filter_condition(txn.get_database_backend(), filter);
            let matching = lead::Entity::find()
                .filter(condition.clone())
                .count(&txn)
                .await?;
            if matching as usize > max_leads {
                txn.rollback().await?;
                return Err(AppError::BatchTooLarge {
                    max: max_leads,
                    given: matching as usize,
                });
            }
            let backend = txn.get_database_backend();
            let select = lead::Entity::find()
                .select_only()
                .column(lead::Column::Id)
                .filter(condition)
                .build(backend);
            // Positions follow the leads' ids (their creation order).
            let mut values = select.values.map(|v| v.0).unwrap_or_default();
            let job_value = match backend {
                sea_orm::DbBackend::Postgres => {
                    values.push(id.into());
                    format!("${}", values.len())
                }
                _ => {
                    values.insert(0, id.into());
                    "?".to_owned()
                }
            };
            let sql = format!(
                "INSERT INTO qualification_job_items (job_id, position, lead_id) \
                 SELECT {job_value}, ROW_NUMBER() OVER (ORDER BY s.id) - 1, s.id FROM ({}) AS s",
                select.sql
            );
            txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
                .await?
                .rows_affected() as usize
        }
    };
    let chunks: Vec<chunk::ActiveModel> = (0..total.div_ceil(chunk_leads))
        .map(|c| chunk::ActiveModel {
            job_id: Set(id),
            chunk: Set(c as i32),
            first_position: Set((c * chunk_leads) as i32),
            end_position: Set(((c + 1) * chunk_leads).min(total) as i32),
            done: Set(false),
            lease_owner: Set(None),
            lease_until: Set(None),
        })
        .collect();
    insert_all(&txn, chunks).await?;
    let state = if total == 0 {
        JobState::Succeeded
    } else {
        JobState::Queued
    };
    job::Entity::update_many()
        .col_expr(job::Column::Total, Expr::value(total as i32))
        .col_expr(job::Column::State, Expr::value(state))
        .col_expr(
            job::Column::FinishedAt,
            Expr::value((total == 0).then_some(now)),
        )
        .filter(job::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let started = job::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::internal("a job vanished while it was started"))?;
    txn.commit().await?;
    Ok(started)
}

async fn by_key(db: &Db, actor: &Actor, key: &str) -> AppResult<Option<job::Model>> {
    Ok(job::Entity::find()
        .filter(job::Column::CreatedBy.eq(actor.user_id))
        .filter(job::Column::IdempotencyKey.eq(key))
        .one(&db.write)
        .await?)
}

fn same_or_conflict(existing: job::Model, key: &str, identity: &str) -> AppResult<job::Model> {
    let same = serde_json::from_str::<serde_json::Value>(&existing.request)
        .ok()
        .and_then(|r| r.get("identity").cloned())
        .zip(serde_json::from_str::<serde_json::Value>(identity).ok())
        .is_some_and(|(a, b)| a == b);
    if same {
        Ok(existing)
    } else {
        Err(AppError::Conflict(format!(
            "idempotency key {key:?} was already used to start another job"
        )))
    }
}

/// The choices a job qualifies its leads with.
pub fn choices_of(job: &job::Model) -> AppResult<BulkRequest> {
    let stored: serde_json::Value =
        serde_json::from_str(&job.request).map_err(AppError::internal)?;
    serde_json::from_value(stored.get("choices").cloned().unwrap_or_default())
        .map_err(AppError::internal)
}

/// Whether the caller may see and cancel the job: its creator, managers and administrators.
fn ensure_can_see(actor: &Actor, job: &job::Model) -> AppResult<()> {
    if actor.user_id == job.created_by || actor.is_manager() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only the job's creator, a Sales Manager or a System Administrator may see it"
                .to_owned(),
        ))
    }
}

/// A job the caller may see, or `NOT_FOUND` / `FORBIDDEN`.
pub async fn get(conn: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> AppResult<job::Model> {
    let job = job::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("qualification job", id))?;
    ensure_can_see(actor, &job)?;
    Ok(job)
}

/// The jobs the caller may see (their own; every job for managers and administrators),
/// newest first.
pub async fn list(db: &Db, actor: &Actor, page: PageRequest) -> AppResult<Page<job::Model>> {
    let mut query = job::Entity::find();
    if !actor.is_manager() {
        query = query.filter(job::Column::CreatedBy.eq(actor.user_id));
    }
    let total_count = query.clone().count(&db.read).await?;
    if let Some(after) = &page.after {
        query = query.filter(job::Column::Id.lt(after.id));
    }
    let rows = query
        .order_by_desc(job::Column::Id)
        .limit(page.first + 1)
        .all(&db.read)
        .await?;
    Ok(page_from_rows(rows, page.first, total_count, |j| Cursor {
        key: String::new(),
        id: j.id,
    }))
}

/// One page of a job's results, in input order, optionally of one outcome only.
pub async fn results(
    db: &Db,
    job: &job::Model,
    outcome: Option<ItemOutcome>,
    page: PageRequest,
) -> AppResult<Page<ItemResult>> {
    let mut query = item::Entity::find()
        .filter(item::Column::JobId.eq(job.id))
        .filter(item::Column::Outcome.is_not_null());
    if let Some(outcome) = outcome {
        query = query.filter(item::Column::Outcome.eq(outcome));
    }
    let total_count = query.clone().count(&db.read).await?;
    if let Some(after) = &page.after {
        let position: i32 = after
            .key
            .parse()
            .map_err(|_| AppError::bad_input("after", "after is not a cursor this API returned"))?;
        query = query.filter(item::Column::Position.gt(position));
    }
    let rows = query
        .order_by_asc(item::Column::Position)
        .limit(page.first + 1)
        .all(&db.read)
        .await?;
    let page = page_from_rows(rows, page.first, total_count, |i| Cursor {
        key: i.position.to_string(),
        id: job.id,
    });
    let stored: Vec<StoredItem> = page
        .items
        .iter()
        .map(|(_, row)| {
            serde_json::from_str(row.result.as_deref().unwrap_or("null"))
                .map_err(AppError::internal)
        })
        .collect::<AppResult<_>>()?;
    let shown = super::results::replay(db, stored).await?;
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|(cursor, _)| cursor)
            .zip(shown)
            .collect(),
        has_next_page: page.has_next_page,
        total_count: page.total_count,
    })
}

/// Cancels a job: no chunk starts after this; the chunk in flight finishes. A job already
/// finished is returned as it is.
pub async fn cancel(db: &Db, actor: &Actor, id: Uuid) -> AppResult<job::Model> {
    let job = get(&db.read, actor, id).await?;
    if matches!(job.state, JobState::Queued | JobState::Running) {
        let txn = db.begin_write().await?;
        job::Entity::update_many()
            .col_expr(job::Column::CancelRequested, Expr::value(true))
            .col_expr(job::Column::ModifiedAt, Expr::value(crate::domain::now()))
            .filter(job::Column::Id.eq(id))
            .filter(job::Column::State.is_in([JobState::Queued, JobState::Running]))
            .exec(&txn)
            .await?;
        settle(&txn, id, crate::domain::now()).await?;
        txn.commit().await?;
    }
    get(&db.read, actor, id).await
}

/// Ends a job whose chunks are all done (SUCCEEDED), or which was canceled and has no chunk in
/// flight (CANCELED).
pub async fn settle(conn: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    let backend = conn.get_database_backend();
    let (p1, p2) = match backend {
        sea_orm::DbBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    // One statement, so that two processes finishing the last two chunks agree.
    let sql = format!(
        "UPDATE qualification_jobs SET
             state = CASE
                 WHEN NOT EXISTS (SELECT 1 FROM qualification_job_chunks c
                                  WHERE c.job_id = qualification_jobs.id AND NOT c.done)
                     THEN 'SUCCEEDED'
                 ELSE 'CANCELED' END,
             finished_at = {p1}, modified_at = {p1}
         WHERE id = {p2} AND state IN ('QUEUED', 'RUNNING')
           AND (NOT EXISTS (SELECT 1 FROM qualification_job_chunks c
                            WHERE c.job_id = qualification_jobs.id AND NOT c.done)
                OR (cancel_requested AND NOT EXISTS (
                       SELECT 1 FROM qualification_job_chunks c
                       WHERE c.job_id = qualification_jobs.id AND NOT c.done
                         AND c.lease_owner IS NOT NULL AND c.lease_until > {p1})))"
    );
    let values: Vec<sea_orm::Value> = match backend {
        sea_orm::DbBackend::Postgres => vec![now.into(), id.into()],
        _ => vec![now.into(), now.into(), id.into(), now.into()],
    };
    conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

/// Ends (CANCELED) every canceled job that has no chunk in flight any more: the ones whose last
/// chunk in flight was leased by a process that died, which no worker settles when it ends.
pub async fn settle_abandoned(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<()> {
    let backend = conn.get_database_backend();
    let p1 = match backend {
        sea_orm::DbBackend::Postgres => "$1",
        _ => "?",
    };
    let sql = format!(
        "UPDATE qualification_jobs SET state = 'CANCELED', finished_at = {p1}, modified_at = {p1}
         WHERE state IN ('QUEUED', 'RUNNING') AND cancel_requested
           AND NOT EXISTS (SELECT 1 FROM qualification_job_chunks c
                           WHERE c.job_id = qualification_jobs.id AND NOT c.done
                             AND c.lease_owner IS NOT NULL AND c.lease_until > {p1})"
    );
    let values: Vec<sea_orm::Value> = match backend {
        sea_orm::DbBackend::Postgres => vec![now.into()],
        _ => vec![now.into(), now.into(), now.into()],
    };
    conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

/// Keeps the results of a run's job items, and moves their jobs' counters, inside the run's
/// transaction. A lead whose result is already kept (another worker got to it after this
/// one's lease ran out) makes the run roll back: it was done once already.
pub async fn keep(
    conn: &impl ConnectionTrait,
    items: &[Item],
    results: &[AppResult<Outcome>],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut by_job: BTreeMap<Uuid, Vec<(i32, StoredItem)>> = BTreeMap::new();
    for (item, result) in items.iter().zip(results) {
        if let Some(Keep::Job(kept)) = &item.keep {
            by_job
                .entry(kept.job_id)
                .or_default()
                .push((kept.position, StoredItem::of(item.request.lead_id, result)));
        }
    }
    for (job_id, kept) in by_job {
        store_results(conn, job_id, &kept, now).await?;
    }
    Ok(())
}

/// Stores results of one job (guarded by "no result yet") and counts them.
pub async fn store_results(
    conn: &impl ConnectionTrait,
    job_id: Uuid,
    kept: &[(i32, StoredItem)],
    now: DateTime<Utc>,
) -> AppResult<()> {
    // Two bound values per lead and CASE branch; stay far below the bind limit.
    for group in kept.chunks(MAX_BINDS / 8) {
        let mut outcome = CaseStatement::new();
        let mut result = CaseStatement::new();
        for (position, stored) in group {
            let text = serde_json::to_string(stored).map_err(AppError::internal)?;
            outcome = outcome.case(
                item::Column::Position.eq(*position),
                Expr::val(stored.outcome().as_str()),
            );
            result = result.case(item::Column::Position.eq(*position), Expr::val(text));
        }
        let updated = item::Entity::update_many()
            .col_expr(item::Column::Outcome, outcome.into())
            .col_expr(item::Column::Result, result.into())
            .filter(item::Column::JobId.eq(job_id))
            .filter(item::Column::Position.is_in(group.iter().map(|(p, _)| *p)))
            .filter(item::Column::Outcome.is_null())
            .exec(conn)
            .await?;
        if updated.rows_affected != group.len() as u64 {
            return Err(AppError::busy(
                "another worker took this job chunk over; it is done there",
                1,
            ));
        }
    }
    let count = |o: ItemOutcome| kept.iter().filter(|(_, s)| s.outcome() == o).count() as i32;
    let add = |column: job::Column, n: i32| Expr::col(column).add(Expr::val(n));
    job::Entity::update_many()
        .col_expr(
            job::Column::Processed,
            add(job::Column::Processed, kept.len() as i32),
        )
        .col_expr(
            job::Column::QualifiedCount,
            add(job::Column::QualifiedCount, count(ItemOutcome::Qualified)),
        )
        .col_expr(
            job::Column::DuplicatesFoundCount,
            add(
                job::Column::DuplicatesFoundCount,
                count(ItemOutcome::DuplicatesFound),
            ),
        )
        .col_expr(
            job::Column::FailedCount,
            add(job::Column::FailedCount, count(ItemOutcome::Failed)),
        )
        .col_expr(job::Column::ModifiedAt, Expr::value(now))
        .filter(job::Column::Id.eq(job_id))
        .exec(conn)
        .await?;
    Ok(())
}
