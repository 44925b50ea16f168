//! The job workers of one server process: each leases one chunk at a time, of any job of any
//! process, and qualifies its leads that have no result yet through the pipeline (see the
//! parent module). Idle workers wake when this process starts a job, and otherwise look for
//! work every poll interval (jobs started by other processes).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{
    JobState, qualification_job as job, qualification_job_chunk as chunk,
    qualification_job_item as item,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Statement,
};
use tokio::sync::Notify;
use uuid::Uuid;

use super::{JobItem, choices_of, settle, store_results};
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::qualification::pipeline::{Item, Keep, Pipeline};
use crate::service::qualification::results::StoredItem;

/// How a process works on jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerOptions {
    /// Chunks in flight at once in this process.
    pub workers: usize,
    /// Leads per chunk of the jobs this process starts.
    pub chunk_leads: usize,
    /// How long a chunk stays leased to a worker; a chunk whose process died is taken by
    /// another worker after this.
    pub lease: Duration,
    /// How often an idle worker looks for work started by other processes.
    pub poll: Duration,
    /// How long a chunk rests after it failed for a retryable reason (the database away).
    pub retry_after: Duration,
}

impl WorkerOptions {
    /// The defaults for `backend`: one worker on SQLite (one writer), two on PostgreSQL.
    pub fn for_backend(backend: DbBackend, lease: Duration) -> Self {
        Self {
            workers: match backend {
                DbBackend::Postgres => 2,
                _ => 1,
            },
            chunk_leads: super::CHUNK,
            lease,
            poll: Duration::from_millis(500),
            retry_after: Duration::from_secs(2),
        }
    }
}

/// Starts this process's workers on the current Tokio runtime.
pub fn start(pipeline: Pipeline, options: WorkerOptions, wake: Arc<Notify>) {
    // Names this process's leases.
    let owner = crate::domain::new_id();
    // Zero workers: this process runs no jobs (others on the same database do).
    for _ in 0..options.workers {
        tokio::spawn(work(pipeline.clone(), options, wake.clone(), owner));
    }
}

async fn work(pipeline: Pipeline, options: WorkerOptions, wake: Arc<Notify>, owner: Uuid) {
    let mut failures = 0u32;
    loop {
        match claim(&pipeline, owner, options.lease).await {
            Ok(Some(leased)) => {
                failures = 0;
                if let Err(error) = run_chunk(&pipeline, &leased, owner, options).await {
                    tracing::warn!(code = error.code(), job = %leased.job_id, chunk = leased.chunk,
                                   "a job chunk could not be run; it will be tried again");
                }
            }
            Ok(None) => {
                tokio::select! {
                    () = wake.notified() => {}
                    () = tokio::time::sleep(options.poll) => {}
                }
            }
            Err(error) => {
                // The database is away: try again, less often the longer it stays away.
                failures = failures.saturating_add(1);
                if failures == 1 {
                    tracing::warn!(code = error.code(), "job workers cannot reach their work");
                }
                let pause = options.poll * failures.min(10);
                tokio::time::sleep(pause).await;
            }
        }
    }
}

/// Leases the next chunk to run, if any: of the oldest job that is not finished or canceled,
/// the first chunk neither done nor leased to a live worker.
async fn claim(
    pipeline: &Pipeline,
    owner: Uuid,
    lease: Duration,
) -> AppResult<Option<chunk::Model>> {
    let db = &pipeline.db;
    let now = crate::domain::now();
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    let (lock, p1) = match backend {
        DbBackend::Postgres => ("FOR UPDATE OF c SKIP LOCKED", "$1"),
        _ => ("", "?"),
    };
    let sql = format!(
        "SELECT c.job_id, c.chunk FROM qualification_job_chunks c
         JOIN qualification_jobs j ON j.id = c.job_id
         WHERE NOT c.done AND (c.lease_until IS NULL OR c.lease_until < {p1})
           AND j.state IN ('QUEUED', 'RUNNING') AND NOT j.cancel_requested
         ORDER BY j.created_at, c.job_id, c.chunk
         LIMIT 1 {lock}"
    );
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [now.into()]))
        .await?;
    let Some(row) = row else {
        // Nothing to run: end the canceled jobs whose last chunk in flight belonged to a
        // process that died (its lease ran out, so no worker will settle them).
        super::settle_abandoned(&txn, now).await?;
        txn.commit().await?;
        return Ok(None);
    };
    let job_id: Uuid = row.try_get("", "job_id")?;
    let number: i32 = row.try_get("", "chunk")?;
    chunk::Entity::update_many()
        .col_expr(chunk::Column::LeaseOwner, Expr::value(Some(owner)))
        .col_expr(chunk::Column::LeaseUntil, Expr::value(Some(until)))
        .filter(chunk::Column::JobId.eq(job_id))
        .filter(chunk::Column::Chunk.eq(number))
        .exec(&txn)
        .await?;
    job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(JobState::Running))
        .col_expr(job::Column::StartedAt, Expr::value(Some(now)))
        .col_expr(job::Column::ModifiedAt, Expr::value(now))
        .filter(job::Column::Id.eq(job_id))
        .filter(job::Column::State.eq(JobState::Queued))
        .exec(&txn)
        .await?;
    let leased = chunk::Entity::find_by_id((job_id, number))
        .one(&txn)
        .await?;
    txn.commit().await?;
    Ok(leased)
}

/// Qualifies a leased chunk's leads that have no result yet, then marks the chunk done (or,
/// after a retryable failure, leaves it to be tried again a little later).
async fn run_chunk(
    pipeline: &Pipeline,
    leased: &chunk::Model,
    owner: Uuid,
    options: WorkerOptions,
) -> AppResult<()> {
    let db = &pipeline.db;
    let Some(job) = job::Entity::find_by_id(leased.job_id).one(&db.read).await? else {
        return Ok(()); // deleted meanwhile (with its creator)
    };
    let prepared = async {
        let choices = choices_of(&job)?;
        let creator = crate::service::users::find(&db.read, job.created_by)
            .await?
            .ok_or_else(|| AppError::internal("the job's creator is gone"))?;
        Ok::<_, AppError>((choices, Actor::from_user(&creator)))
    }
    .await;
    let (choices, actor) = match prepared {
        Ok(prepared) => prepared,
        Err(error) if error.retry_after_seconds().is_none() => {
            fail_job(db, job.id, &error).await?;
            return Err(error);
        }
        Err(error) => return Err(error),
    };
    let todo = item::Entity::find()
        .filter(item::Column::JobId.eq(job.id))
        .filter(item::Column::Position.gte(leased.first_position))
        .filter(item::Column::Position.lt(leased.end_position))
        .filter(item::Column::Outcome.is_null())
        .order_by_asc(item::Column::Position)
        .all(&db.read)
        .await?;
    let items: Vec<Item> = todo
        .iter()
        .map(|row| Item {
            actor: actor.clone(),
            request: choices.for_lead(row.lead_id),
            policy: choices.duplicate_policy,
            keep: Some(Keep::Job(JobItem {
                job_id: job.id,
                position: row.position,
            })),
        })
        .collect();
    let results = pipeline.run(&items).await;

    // Leads whose run failed as a whole kept nothing: a lasting failure becomes their result;
    // a passing one (the database away, busy) leaves the chunk to be tried again.
    let now = crate::domain::now();
    let mut retry = false;
    let mut failed = Vec::new();
    for (row, result) in todo.iter().zip(&results) {
        if let Err(error) = result {
            match error.retry_after_seconds() {
                Some(_) => retry = true,
                None => failed.push((row.position, StoredItem::of(row.lead_id, result))),
            }
        }
    }
    if !failed.is_empty() {
        // Only those still without a result (a refused lead kept its result with the run).
        let still_open: std::collections::HashSet<i32> = item::Entity::find()
            .filter(item::Column::JobId.eq(job.id))
            .filter(item::Column::Position.is_in(failed.iter().map(|(p, _)| *p)))
            .filter(item::Column::Outcome.is_null())
            .all(&db.read)
            .await?
            .into_iter()
            .map(|row| row.position)
            .collect();
        failed.retain(|(p, _)| still_open.contains(p));
        if !failed.is_empty() {
            let txn = db.begin_write().await?;
            store_results(&txn, job.id, &failed, now).await?;
            txn.commit().await?;
        }
    }
    let txn = db.begin_write().await?;
    // The job's row first: two workers ending chunks of one canceled job at once then settle one
    // after the other, and the second sees the first's chunk done (without it, each could see
    // the other's chunk still in flight and neither end the job).
    lock_job(&txn, job.id, now).await?;
    if retry {
        release(&txn, leased, owner, now + retry_after(options)).await?;
    } else {
        // The lease owner stays: the process that did the chunk.
        chunk::Entity::update_many()
            .col_expr(chunk::Column::Done, Expr::value(true))
            .col_expr(
                chunk::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(chunk::Column::JobId.eq(leased.job_id))
            .filter(chunk::Column::Chunk.eq(leased.chunk))
            .exec(&txn)
            .await?;
    }
    settle(&txn, job.id, now).await?;
    txn.commit().await?;
    Ok(())
}

fn retry_after(options: WorkerOptions) -> chrono::Duration {
    chrono::Duration::from_std(options.retry_after).unwrap_or(chrono::Duration::seconds(2))
}

/// Takes the job's row lock for the rest of the transaction.
async fn lock_job(conn: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    job::Entity::update_many()
        .col_expr(job::Column::ModifiedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Gives a chunk back, to be leased again from `until` on.
async fn release(
    conn: &impl ConnectionTrait,
    leased: &chunk::Model,
    owner: Uuid,
    until: DateTime<Utc>,
) -> AppResult<()> {
    chunk::Entity::update_many()
        .col_expr(chunk::Column::LeaseOwner, Expr::value(Option::<Uuid>::None))
        .col_expr(chunk::Column::LeaseUntil, Expr::value(Some(until)))
        .filter(chunk::Column::JobId.eq(leased.job_id))
        .filter(chunk::Column::Chunk.eq(leased.chunk))
        .filter(chunk::Column::LeaseOwner.eq(owner))
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends a job that cannot go on.
async fn fail_job(db: &crate::db::Db, id: Uuid, error: &AppError) -> AppResult<()> {
    let now = crate::domain::now();
    let txn = db.begin_write().await?;
    job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(JobState::Failed))
        .col_expr(job::Column::Error, Expr::value(Some(error.message())))
        .col_expr(job::Column::FinishedAt, Expr::value(Some(now)))
        .col_expr(job::Column::ModifiedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::State.is_in([JobState::Queued, JobState::Running]))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
