//! Concurrent `qualifyLead` calls, gathered into chunks: a qualification waits in a queue, and
//! one worker qualifies everything waiting at once in one transaction (`service::chunk`), then
//! answers each caller with its own result. Alone, a call is a chunk of one and waits for
//! nothing; under load, callers share one transaction instead of queueing for the writer one
//! statement-heavy transaction at a time (SQLite has a single writer; on PostgreSQL it saves
//! round trips).
//!
//! Each call's result is exactly what it would be alone: the chunk decides its leads in arrival
//! order, a lead appears at most once per chunk (a second call for it waits for the next chunk
//! and finds it closed), and if a chunk's transaction fails as a whole its calls are qualified
//! again one by one (`qualification::qualify_lead`).

use std::collections::{HashSet, VecDeque};

use tokio::sync::{mpsc, oneshot};

use super::bulk::DuplicatePolicy;
use super::chunk::{self, ChunkItem};
use super::qualification::{self, Outcome, QualifyRequest};
use super::summary::TemplateSummarizer;
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// Most calls qualified in one transaction.
const MAX_CALLS: usize = 64;

/// A waiting call.
struct Call {
    actor: Actor,
    request: QualifyRequest,
    canonical: Option<String>,
    reply: oneshot::Sender<AppResult<Outcome>>,
}

/// The queue single qualifications go through; cheap to clone.
#[derive(Clone, Debug)]
pub struct QualifyQueue {
    db: Db,
    calls: mpsc::UnboundedSender<Call>,
}

impl QualifyQueue {
    /// Starts the worker (on the current Tokio runtime); it stops when every handle is dropped.
    pub fn start(db: Db) -> Self {
        let (calls, waiting) = mpsc::unbounded_channel();
        tokio::spawn(work(db.clone(), waiting));
        Self { db, calls }
    }

    /// Qualifies one lead (`qualifyLead`), with idempotency keys as `qualification::qualify_lead`.
    pub async fn qualify(&self, actor: &Actor, request: QualifyRequest) -> AppResult<Outcome> {
        let canonical = match &request.idempotency_key {
            None => None,
            Some(key) => {
                let canonical = qualification::canonical(&request)?;
                if let Some(replayed) =
                    qualification::replay(&self.db, actor, key, &canonical).await?
                {
                    return Ok(replayed);
                }
                Some(canonical)
            }
        };
        let (reply, answer) = oneshot::channel();
        self.calls
            .send(Call {
                actor: actor.clone(),
                request: request.clone(),
                canonical: canonical.clone(),
                reply,
            })
            .map_err(|_| AppError::internal("the qualification queue has stopped"))?;
        let result = answer
            .await
            .map_err(|_| AppError::internal("the qualification queue dropped a call"))?;
        // A concurrent call with the same key may have won the race: replay it.
        if let (Err(AppError::LeadClosed), Some(key), Some(canonical)) =
            (&result, &request.idempotency_key, &canonical)
            && let Some(replayed) = qualification::replay(&self.db, actor, key, canonical).await?
        {
            return Ok(replayed);
        }
        result
    }
}

/// The worker: takes everything waiting (up to [`MAX_CALLS`], one call per lead) and
/// qualifies it as one chunk, until the queue is closed.
async fn work(db: Db, mut incoming: mpsc::UnboundedReceiver<Call>) {
    let mut waiting: VecDeque<Call> = VecDeque::new();
    loop {
        if waiting.is_empty() {
            match incoming.recv().await {
                Some(call) => waiting.push_back(call),
                None => return,
            }
        }
        while let Ok(call) = incoming.try_recv() {
            waiting.push_back(call);
        }
        let mut calls = Vec::new();
        let mut leads = HashSet::new();
        let mut later = VecDeque::new();
        while let Some(call) = waiting.pop_front() {
            if calls.len() < MAX_CALLS && leads.insert(call.request.lead_id) {
                calls.push(call);
            } else {
                later.push_back(call);
            }
        }
        waiting = later;
        // Its own task: should it panic, its callers get an error and the worker goes on.
        if let Err(error) = tokio::spawn(qualify(db.clone(), calls)).await {
            tracing::error!(%error, "a qualification chunk panicked");
        }
    }
}

async fn qualify(db: Db, calls: Vec<Call>) {
    let items: Vec<ChunkItem<'_>> = calls
        .iter()
        .map(|call| ChunkItem {
            actor: &call.actor,
            request: call.request.clone(),
            policy: DuplicatePolicy::Report,
            canonical: call.canonical.clone(),
        })
        .collect();
    let results = chunk::qualify_chunk(&db, &items, &TemplateSummarizer).await;
    drop(items);
    match results {
        Ok(results) => {
            for (call, result) in calls.into_iter().zip(results) {
                let _ = call.reply.send(result);
            }
        }
        Err(failure) if !failure.retry_alone => {
            for call in calls {
                let _ = call.reply.send(Err(failure.error.clone()));
            }
        }
        Err(failure) => {
            tracing::warn!(
                error = ?failure.error,
                calls = calls.len(),
                "qualification chunk rolled back; qualifying its calls one by one"
            );
            for call in calls {
                let result = qualification::qualify_lead(&db, &call.actor, call.request).await;
                let _ = call.reply.send(result);
            }
        }
    }
}
