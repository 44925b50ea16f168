//! Qualifying leads: the heart of leadq. The use cases are the methods of [`Qualifier`]:
//! `qualifyLead` ([`Qualifier::qualify_lead`]), `qualifyLeads` ([`Qualifier::qualify_leads`])
//! and `previewQualification` ([`Qualifier::preview`]). All of them run the one
//! [`pipeline`]; the pure decisions are in `domain::qualification`.
//!
//! - [`pipeline`]: load and lock → plan → lock match keys → one batched duplicate check →
//!   build → store, one transaction per run, retried on halves when a run fails as a whole;
//! - [`load`]: the reads, with the configuration cached per process and versioned in the
//!   database; [`store`]: the multi-row writes;
//! - [`idempotency`]: keys reserved when a call starts, results kept with the work;
//! - [`results`]: kept results and their replay; [`jobs`]: qualification jobs run in the
//!   background by any server process;
//! - [`concurrency`]: how runs share the database, per engine (the queue of single calls);
//! - [`preview`]: the pipeline without the writes.

pub mod concurrency;
pub mod idempotency;
pub mod jobs;
pub mod load;
pub mod pipeline;
pub mod preview;
pub mod results;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use entity::{ItemOutcome, qualification_job as job};
use tokio::sync::Notify;
use uuid::Uuid;

use self::concurrency::{Queue, QueueOptions};
use self::idempotency::{Keyed, Reservation};
use self::jobs::JobRequest;
use self::jobs::worker::WorkerOptions;
use self::load::ConfigCache;
use self::pipeline::{Item, Keep, Pipeline};
pub use self::preview::Preview;
use self::results::StoredItem;
use crate::auth::Actor;
use crate::db::Db;
use crate::domain::qualification::{
    BulkRequest, DuplicatePolicy, ItemResult, Outcome, QualifyRequest,
};
use crate::domain::summary::{LeadSummarizer, TemplateSummarizer};
use crate::error::{AppError, AppResult};
use crate::service::events::Events;
use crate::service::paging::{Page, PageRequest};

/// Leads qualified per transaction by a bulk call: large enough that statements are few, small
/// enough that a concurrent single qualification never waits long for SQLite's writer.
pub const CHUNK: usize = 250;

/// The operation names idempotency keys are kept under.
const SINGLE: &str = "qualifyLead";
const BULK: &str = "qualifyLeads";

/// How qualification runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Most leads one `qualifyLeads` call may list.
    pub max_bulk_leads: usize,
    /// How long idempotency keys are kept.
    pub idempotency_ttl: Duration,
    /// How long a keyed call may go without progress before another takes its key over.
    pub idempotency_lease: Duration,
    /// The queue of single qualifications.
    pub queue: QueueOptions,
    /// Most leads one qualification job may qualify.
    pub max_job_leads: usize,
    /// How this process works on jobs.
    pub jobs: WorkerOptions,
}

/// The qualification use cases, with what they share (the pipeline, the configuration cache,
/// the queue). Owned by the application state; cheap to clone.
#[derive(Clone)]
pub struct Qualifier {
    pipeline: Pipeline,
    queue: Queue,
    options: Options,
    /// Wakes this process's job workers when it starts a job.
    job_started: Arc<Notify>,
}

impl Qualifier {
    /// Starts the queue's workers, this process's job workers and the periodic deletion of
    /// expired idempotency keys, on the current Tokio runtime.
    pub fn start(db: Db, options: Options, events: Events) -> Self {
        Self::start_with(db, options, events, Arc::new(TemplateSummarizer))
    }

    /// [`Qualifier::start`] with another lead summarizer.
    pub fn start_with(
        db: Db,
        options: Options,
        events: Events,
        summarizer: Arc<dyn LeadSummarizer>,
    ) -> Self {
        let pipeline = Pipeline {
            db,
            config: ConfigCache::default(),
            summarizer,
            events,
        };
        let queue = Queue::start(pipeline.clone(), options.queue);
        tokio::spawn(delete_expired_keys(
            pipeline.db.clone(),
            options.idempotency_ttl,
        ));
        let job_started = Arc::new(Notify::new());
        jobs::worker::start(pipeline.clone(), options.jobs, job_started.clone());
        Self {
            pipeline,
            queue,
            options,
            job_started,
        }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.pipeline.db
    }

    /// The lead event bus.
    pub fn events(&self) -> &Events {
        &self.pipeline.events
    }

    /// Qualifies one lead (`qualifyLead`). With an idempotency key, a finished qualification
    /// under the key is replayed; a concurrent one with the key is waited for.
    pub async fn qualify_lead(&self, actor: &Actor, request: QualifyRequest) -> AppResult<Outcome> {
        let this = self.clone();
        let actor = actor.clone();
        // Its own task: the call runs to its end even if the client goes away.
        tokio::spawn(async move { this.qualify_lead_to_end(actor, request).await })
            .await
            .map_err(|e| AppError::internal(format!("a qualification task failed: {e}")))?
    }

    async fn qualify_lead_to_end(
        &self,
        actor: Actor,
        request: QualifyRequest,
    ) -> AppResult<Outcome> {
        let db = &self.pipeline.db;
        let key = request.idempotency_key.clone();
        let owner = match &key {
            None => None,
            Some(key) => {
                let canonical = serde_json::to_string(&request).map_err(AppError::internal)?;
                match idempotency::reserve(
                    db,
                    &actor,
                    SINGLE,
                    key,
                    &canonical,
                    self.options.idempotency_ttl,
                    self.options.idempotency_lease,
                )
                .await?
                {
                    Reservation::Done(kept) => return replay_single(db, kept).await,
                    Reservation::Held { owner, .. } => Some(owner),
                }
            }
        };
        let keep = match (&key, owner) {
            (Some(key), Some(owner)) => Some(Keep::Key(Keyed {
                actor_id: actor.user_id,
                operation: SINGLE,
                key: key.clone(),
                owner,
                position: 0,
                every_outcome: false,
            })),
            _ => None,
        };
        let result = self
            .queue
            .qualify(Item {
                actor: actor.clone(),
                request,
                policy: DuplicatePolicy::Report,
                keep,
            })
            .await;
        if let (Some(key), Some(owner)) = (&key, owner)
            && !matches!(result, Ok(Outcome::Qualified(_)))
        {
            // Only a success is kept: the caller may retry with the same key.
            idempotency::release(db, &actor, SINGLE, key, owner).await?;
        }
        result
    }

    /// Qualifies many leads with one set of choices (`qualifyLeads`), [`CHUNK`] per
    /// transaction, results in input order. With an idempotency key, the results of a finished
    /// call are replayed, and a call cut off midway replays what it finished and runs the rest.
    ///
    /// The call runs as part of its request: when the request stops (its client went away, or
    /// its time ran out), so does the call, with the chunk in flight rolled back; every lead is
    /// either qualified whole or untouched, and a keyed call's key is handed over at once.
    pub async fn qualify_leads(
        &self,
        actor: &Actor,
        request: BulkRequest,
    ) -> AppResult<Vec<ItemResult>> {
        request.validate(self.options.max_bulk_leads)?;
        crate::metrics::bulk_size(request.lead_ids.len());
        let db = &self.pipeline.db;
        let ids = &request.lead_ids;
        let mut results: Vec<Option<ItemResult>> = vec![None; ids.len()];
        let key = request.idempotency_key.clone();
        let mut owner = None;
        if let Some(key) = &key {
            let canonical = serde_json::to_string(&request).map_err(AppError::internal)?;
            let kept = match idempotency::reserve(
                db,
                actor,
                BULK,
                key,
                &canonical,
                self.options.idempotency_ttl,
                self.options.idempotency_lease,
            )
            .await?
            {
                Reservation::Done(kept) => kept,
                Reservation::Held { owner: held, kept } => {
                    owner = Some(held);
                    kept
                }
            };
            let (positions, stored): (Vec<i32>, Vec<StoredItem>) = kept.into_iter().unzip();
            for (position, item) in positions
                .into_iter()
                .zip(results::replay(db, stored).await?)
            {
                if let Some(slot) = usize::try_from(position)
                    .ok()
                    .and_then(|p| results.get_mut(p))
                {
                    *slot = Some(item);
                }
            }
        }
        // Should the request stop midway, the key is handed over at once (not after its lease).
        let handover = Handover(owner.zip(key.clone()).map(|(owner, key)| HeldKey {
            db: db.clone(),
            actor: actor.clone(),
            key,
            owner,
            positions: ids.len(),
        }));
        let outcome = self.run_bulk(actor, &request, owner, &mut results).await;
        handover.now().await?;
        outcome?;
        results
            .into_iter()
            .map(|r| r.ok_or_else(|| AppError::internal("a lead of the batch has no result")))
            .collect()
    }

    /// Runs the leads of a bulk call that have no result yet, chunk by chunk.
    async fn run_bulk(
        &self,
        actor: &Actor,
        request: &BulkRequest,
        owner: Option<Uuid>,
        results: &mut [Option<ItemResult>],
    ) -> AppResult<()> {
        let key = request.idempotency_key.clone();
        let ids = &request.lead_ids;
        let todo: Vec<usize> = (0..ids.len()).filter(|p| results[*p].is_none()).collect();
        let mut unavailable: Option<AppError> = None;
        for chunk in todo.chunks(CHUNK) {
            if let Some(error) = &unavailable {
                // The database went away: do not hammer it with the rest.
                for &p in chunk {
                    results[p] = Some(ItemResult::from_outcome(ids[p], Err(error.clone())));
                }
                continue;
            }
            let items: Vec<Item> = chunk
                .iter()
                .map(|&p| Item {
                    actor: actor.clone(),
                    request: request.for_lead(ids[p]),
                    policy: request.duplicate_policy,
                    keep: match (&key, owner) {
                        (Some(key), Some(owner)) => Some(Keep::Key(Keyed {
                            actor_id: actor.user_id,
                            operation: BULK,
                            key: key.clone(),
                            owner,
                            position: i32::try_from(p).unwrap_or(i32::MAX),
                            every_outcome: true,
                        })),
                        _ => None,
                    },
                })
                .collect();
            let outcomes = self.pipeline.run(&items).await;
            if outcomes
                .iter()
                .all(|o| matches!(o, Err(e) if matches!(e, AppError::DatabaseUnavailable { .. })))
            {
                unavailable = outcomes.first().and_then(|o| o.as_ref().err().cloned());
            }
            for (&p, outcome) in chunk.iter().zip(outcomes) {
                results[p] = Some(ItemResult::from_outcome(ids[p], outcome));
            }
        }
        if let Some(error) = &unavailable
            && results
                .iter()
                .all(|r| matches!(r, Some(ItemResult::Failed { code, .. }) if code == error.code()))
        {
            // Nothing at all could be done: the call failed as a whole.
            return Err(error.clone());
        }
        Ok(())
    }

    /// Starts a qualification job (`startQualificationJob`): stored at once, run in the
    /// background by this or any other server process.
    pub async fn start_job(&self, actor: &Actor, request: JobRequest) -> AppResult<job::Model> {
        let job = jobs::start(
            &self.pipeline.db,
            actor,
            request,
            self.options.max_job_leads,
            self.options.jobs.chunk_leads,
        )
        .await?;
        self.job_started.notify_waiters();
        Ok(job)
    }

    /// A job the caller may see (`qualificationJob`).
    pub async fn job(&self, actor: &Actor, id: Uuid) -> AppResult<job::Model> {
        jobs::get(&self.pipeline.db.read, actor, id).await
    }

    /// The jobs the caller may see, newest first (`qualificationJobs`).
    pub async fn jobs(&self, actor: &Actor, page: PageRequest) -> AppResult<Page<job::Model>> {
        jobs::list(&self.pipeline.db, actor, page).await
    }

    /// One page of a job's per-lead results, in input order (`QualificationJob.results`).
    pub async fn job_results(
        &self,
        job: &job::Model,
        outcome: Option<ItemOutcome>,
        page: PageRequest,
    ) -> AppResult<Page<ItemResult>> {
        jobs::results(&self.pipeline.db, job, outcome, page).await
    }

    /// Cancels a job (`cancelQualificationJob`): the chunk in flight finishes, no other starts.
    pub async fn cancel_job(&self, actor: &Actor, id: Uuid) -> AppResult<job::Model> {
        jobs::cancel(&self.pipeline.db, actor, id).await
    }

    /// What qualifying would do (`previewQualification`); writes nothing.
    pub async fn preview(&self, actor: &Actor, request: QualifyRequest) -> AppResult<Preview> {
        preview::preview(&self.pipeline, actor, request).await
    }
}

/// A held bulk key to hand over when its call ends, finished or not: done when every lead's
/// result was kept, otherwise left for the next call with the key to take over at once. A call
/// dropped midway (its request stopped) hands its key over from a task of its own.
struct Handover(Option<HeldKey>);

struct HeldKey {
    db: Db,
    actor: Actor,
    key: String,
    owner: Uuid,
    positions: usize,
}

impl HeldKey {
    async fn hand_over(self) -> AppResult<()> {
        idempotency::finish(
            &self.db,
            &self.actor,
            BULK,
            &self.key,
            self.owner,
            self.positions,
        )
        .await
    }
}

impl Handover {
    /// Hands the key over now (the call reached its end).
    async fn now(mut self) -> AppResult<()> {
        match self.0.take() {
            Some(held) => held.hand_over().await,
            None => Ok(()),
        }
    }
}

impl Drop for Handover {
    fn drop(&mut self) {
        if let Some(held) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                if let Err(error) = held.hand_over().await {
                    tracing::warn!(code = error.code(), "a stopped bulk call kept its key");
                }
            });
        }
    }
}

/// A kept single qualification, as a client sees it again.
async fn replay_single(db: &Db, kept: Vec<(i32, StoredItem)>) -> AppResult<Outcome> {
    let stored: Vec<StoredItem> = kept.into_iter().map(|(_, item)| item).collect();
    match results::replay(db, stored).await?.pop() {
        Some(ItemResult::Qualified(q)) => Ok(Outcome::Qualified(*q)),
        Some(ItemResult::DuplicatesFound { lead, report }) => {
            Ok(Outcome::DuplicatesFound { lead, report })
        }
        Some(ItemResult::Failed { lead_id, .. }) => Err(AppError::not_found("lead", lead_id)),
        None => Err(AppError::internal(
            "a finished idempotency key kept no result",
        )),
    }
}

/// Deletes expired idempotency keys now and then, for as long as the runtime runs.
async fn delete_expired_keys(db: Db, ttl: Duration) {
    let every = (ttl / 4).clamp(Duration::from_secs(1), Duration::from_secs(600));
    loop {
        tokio::time::sleep(every).await;
        match idempotency::delete_expired(&db).await {
            Ok(0) => {}
            Ok(deleted) => tracing::debug!(deleted, "deleted expired idempotency keys"),
            Err(error) => tracing::warn!(
                code = error.code(),
                "deleting expired idempotency keys failed"
            ),
        }
    }
}
