//! How qualifications run side by side, decided per database engine in this one place.
//!
//! Single qualifications (`qualifyLead`) go through a **bounded queue** owned by the
//! application state. Workers take everything waiting (up to a group size) and qualify it as
//! one run of the pipeline, one transaction: under load, callers share a transaction (group
//! commit) instead of each paying for its own statements and commit; alone, a call is a group
//! of one and waits for nothing. Each caller gets exactly the result it would have had alone
//! (the pipeline decides a group's leads in arrival order; a lead appears at most once per
//! group, a repeat waits for the next). A full queue, or a call still waiting when its
//! deadline passes, is answered `SERVER_BUSY` with a retry hint: backpressure instead of an
//! unbounded backlog.
//!
//! - **SQLite** has one writer: one worker, so groups never wait on each other for the writer
//!   connection, and large groups (the commit, a disk sync, is most of a small transaction's
//!   cost).
//! - **PostgreSQL** has real concurrent writers: several workers (half the connection pool), so
//!   several groups are in flight at once and no process-wide single worker limits throughput;
//!   smaller groups, so they overlap. Groups that share a lead serialize on its row lock (taken
//!   in id order, so they cannot deadlock), and `lock_timeout` turns a lock held too long by
//!   another process into a retryable `SERVER_BUSY`.
//!
//! Bulk runs (`qualifyLeads`) do not queue: each call runs its chunks itself, one transaction
//! each, beside the queue's groups (on SQLite they take turns at the writer).
//!
//! A call whose client goes away is not abandoned half-way: once queued (or started, for bulk)
//! it runs to its end in a task of its own, and its effects are either all committed (and
//! replayable by its idempotency key) or all rolled back, lead by lead.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sea_orm::DbBackend;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::pipeline::{Item, Pipeline};
use crate::domain::qualification::Outcome;
use crate::error::{AppError, AppResult};

/// How the queue runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueOptions {
    /// Groups in flight at once.
    pub workers: usize,
    /// Most calls qualified in one transaction.
    pub max_group: usize,
    /// Most calls waiting; more are refused with `SERVER_BUSY`.
    pub capacity: usize,
    /// Longest a call may wait in the queue before it is refused with `SERVER_BUSY`.
    pub deadline: Duration,
}

impl QueueOptions {
    /// The options for `backend` with a connection pool of `pool_size` (see the module
    /// documentation for why).
    pub fn for_backend(
        backend: DbBackend,
        pool_size: u32,
        capacity: usize,
        deadline: Duration,
    ) -> Self {
        let (workers, max_group) = match backend {
            DbBackend::Postgres => ((pool_size as usize / 2).max(2), 32),
            _ => (1, 64),
        };
        Self {
            workers,
            max_group,
            capacity: capacity.max(1),
            deadline,
        }
    }
}

/// A waiting call.
struct Call {
    item: Item,
    queued: Instant,
    deadline: Instant,
    reply: oneshot::Sender<AppResult<Outcome>>,
}

/// The queue single qualifications go through; cheap to clone. Its workers stop when every
/// handle is dropped.
#[derive(Clone)]
pub struct Queue {
    calls: mpsc::Sender<Call>,
    deadline: Duration,
    /// Calls waiting (the `leadq_qualify_queue_depth` metric).
    depth: Arc<AtomicUsize>,
}

impl Queue {
    /// Starts the workers on the current Tokio runtime.
    pub fn start(pipeline: Pipeline, options: QueueOptions) -> Self {
        let (calls, waiting) = mpsc::channel(options.capacity);
        let waiting = Arc::new(Mutex::new(waiting));
        let depth = Arc::new(AtomicUsize::new(0));
        for _ in 0..options.workers.max(1) {
            tokio::spawn(work(
                pipeline.clone(),
                waiting.clone(),
                options.max_group,
                depth.clone(),
            ));
        }
        Self {
            calls,
            deadline: options.deadline,
            depth,
        }
    }

    /// Queues one qualification and waits for its result.
    pub async fn qualify(&self, item: Item) -> AppResult<Outcome> {
        let (reply, answer) = oneshot::channel();
        let queued = Instant::now();
        let call = Call {
            item,
            queued,
            deadline: queued + self.deadline,
            reply,
        };
        // Counted before it can be taken, so that the count never goes below zero.
        let depth = self.depth.fetch_add(1, Ordering::Relaxed) + 1;
        self.calls
            .try_send(call)
            .inspect_err(|_| {
                self.depth.fetch_sub(1, Ordering::Relaxed);
            })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => {
                    AppError::busy("too many qualifications are waiting; try again shortly", 1)
                }
                mpsc::error::TrySendError::Closed(_) => {
                    AppError::internal("the qualification queue has stopped")
                }
            })?;
        crate::metrics::queue_depth(depth);
        answer
            .await
            .map_err(|_| AppError::internal("the qualification queue dropped a call"))?
    }
}

/// A worker: takes everything waiting (up to `max_group` calls) and qualifies it as one run,
/// until the queue is closed.
async fn work(
    pipeline: Pipeline,
    waiting: Arc<Mutex<mpsc::Receiver<Call>>>,
    max_group: usize,
    depth: Arc<AtomicUsize>,
) {
    loop {
        let calls = {
            let mut waiting = waiting.lock().await;
            let Some(first) = waiting.recv().await else {
                return;
            };
            let mut calls = vec![first];
            while calls.len() < max_group {
                match waiting.try_recv() {
                    Ok(call) => calls.push(call),
                    Err(_) => break,
                }
            }
            calls
        };
        let now = Instant::now();
        let left = depth
            .fetch_sub(calls.len(), Ordering::Relaxed)
            .saturating_sub(calls.len());
        crate::metrics::queue_depth(left);
        for call in &calls {
            crate::metrics::queue_wait(now.duration_since(call.queued));
        }
        let (late, mut rest): (Vec<Call>, Vec<Call>) =
            calls.into_iter().partition(|c| c.deadline < now);
        for call in late {
            let _ = call.reply.send(Err(AppError::busy(
                "the qualification waited too long in the queue; try again shortly",
                1,
            )));
        }
        // One lead at most once per transaction: a repeat goes into the next round.
        while !rest.is_empty() {
            let mut leads = HashSet::new();
            let (round, later): (Vec<Call>, Vec<Call>) = rest
                .into_iter()
                .partition(|c| leads.insert(c.item.request.lead_id));
            rest = later;
            let (items, replies): (Vec<Item>, Vec<_>) =
                round.into_iter().map(|c| (c.item, c.reply)).unzip();
            let count = items.len();
            let runner = pipeline.clone();
            // Its own task: should it panic, its callers get an error and the worker goes on.
            let results = match tokio::spawn(async move { runner.run(&items).await }).await {
                Ok(results) => results,
                Err(error) => {
                    tracing::error!(%error, "a qualification group panicked");
                    (0..count)
                        .map(|_| Err(AppError::internal("a qualification group panicked")))
                        .collect()
                }
            };
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
    }
}
