//! Lead events: what happened to which lead, by whom and when, pushed to subscribers
//! (`leadEvents`) on every server process.
//!
//! Events are published by the use cases **after their transaction committed**, so a
//! subscriber never hears of a change that was rolled back. On PostgreSQL they travel through
//! `NOTIFY` (several events per notification, on a channel named after the database schema) and
//! every process, the publisher included, `LISTEN`s and hands them to its own subscribers; on
//! SQLite (one process) they go straight to the in-process broadcast. Delivery is at most once:
//! an event published while a process's listening connection is being replaced is lost to that
//! process's subscribers.
//!
//! A subscriber reads from a bounded broadcast buffer; one that falls behind (its client does
//! not read) is dropped with a clear reason rather than slowing the writers down. Subscriptions
//! are bounded per user and per process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// What happened to a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LeadEventKind {
    Created,
    Updated,
    Assigned,
    Qualified,
    Disqualified,
    Reactivated,
    Deleted,
}

/// One lead event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadEvent {
    pub kind: LeadEventKind,
    pub lead_id: Uuid,
    /// The lead's owner after the change.
    pub owner_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
}

impl LeadEvent {
    /// An event about `lead` caused by `actor`, now.
    pub fn new(kind: LeadEventKind, lead: &entity::lead::Model, actor: Option<&Actor>) -> Self {
        Self {
            kind,
            lead_id: lead.id,
            owner_id: lead.owner_id,
            actor_id: actor.map(|a| a.user_id),
            occurred_at: crate::domain::now(),
        }
    }
}

/// How many subscriptions are allowed, and how far a subscriber may fall behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventOptions {
    pub max_per_user: usize,
    pub max_per_process: usize,
    /// Events buffered for each subscriber; one further behind is dropped.
    pub buffer: usize,
}

/// Largest `NOTIFY` payload PostgreSQL takes is 8,000 bytes; stay below it.
const MAX_PAYLOAD: usize = 7_500;

/// The event bus of this process; cheap to clone.
#[derive(Clone)]
pub struct Events {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    sender: broadcast::Sender<LeadEvent>,
    /// The `NOTIFY` channel (PostgreSQL).
    channel: Option<String>,
    options: EventOptions,
    subscribers: Mutex<HashMap<Uuid, usize>>,
}

impl Events {
    /// The bus for `db`; on PostgreSQL it starts listening (call inside the Tokio runtime).
    pub async fn start(db: &Db, options: EventOptions) -> AppResult<Self> {
        let (sender, _) = broadcast::channel(options.buffer.max(1));
        let channel = match db.backend() {
            DbBackend::Postgres => {
                let schema = db
                    .read
                    .query_one_raw(Statement::from_string(
                        DbBackend::Postgres,
                        "SELECT current_schema() AS schema",
                    ))
                    .await?
                    .map(|row| row.try_get::<String>("", "schema"))
                    .transpose()?
                    .unwrap_or_else(|| "public".to_owned());
                Some(format!("leadq_lead_events_{schema}"))
            }
            _ => None,
        };
        let events = Self {
            inner: Arc::new(Inner {
                db: db.clone(),
                sender,
                channel,
                options,
                subscribers: Mutex::new(HashMap::new()),
            }),
        };
        if let Some(channel) = &events.inner.channel {
            let pool = db.write.get_postgres_connection_pool();
            // A connection of its own, so listening never takes one from the request pool.
            let own = PgPoolOptions::new()
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_lazy_with((*pool.connect_options()).clone());
            tokio::spawn(listen(own, channel.clone(), events.inner.sender.clone()));
        }
        Ok(events)
    }

    /// Publishes events of a committed change. Never fails the change: a lost event is logged.
    pub async fn publish(&self, events: Vec<LeadEvent>) {
        if events.is_empty() {
            return;
        }
        let Some(channel) = &self.inner.channel else {
            for event in events {
                // No subscriber is not an error.
                let _ = self.inner.sender.send(event);
            }
            return;
        };
        for payload in payloads(&events) {
            let sent = self
                .inner
                .db
                .write
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [channel.clone().into(), payload.into()],
                ))
                .await;
            if let Err(error) = sent {
                tracing::warn!(%error, "lead events could not be published");
            }
        }
    }

    /// A new subscription to lead events for `actor`, within the limits.
    pub fn subscribe(&self, actor: &Actor) -> AppResult<Subscription> {
        let admission = self.admit(actor)?;
        Ok(Subscription {
            receiver: self.inner.sender.subscribe(),
            _admission: admission,
        })
    }

    /// Counts one more subscription (of any kind) of `actor` against the limits, until the
    /// returned [`Admission`] is dropped.
    pub fn admit(&self, actor: &Actor) -> AppResult<Admission> {
        let mut subscribers = self
            .inner
            .subscribers
            .lock()
            .map_err(|_| AppError::internal("the subscriber count is poisoned"))?;
        let total: usize = subscribers.values().sum();
        if total >= self.inner.options.max_per_process {
            return Err(AppError::busy(
                "this server has as many subscriptions as it takes; try again later",
                5,
            ));
        }
        let mine = subscribers.entry(actor.user_id).or_insert(0);
        if *mine >= self.inner.options.max_per_user {
            return Err(AppError::busy(
                format!(
                    "a user may hold at most {} subscriptions at once",
                    self.inner.options.max_per_user
                ),
                5,
            ));
        }
        *mine += 1;
        Ok(Admission {
            user: actor.user_id,
            events: self.clone(),
        })
    }

    fn unsubscribe(&self, user: Uuid) {
        if let Ok(mut subscribers) = self.inner.subscribers.lock()
            && let Some(count) = subscribers.get_mut(&user)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                subscribers.remove(&user);
            }
        }
    }
}

/// The events as `NOTIFY` payloads: JSON arrays, each below PostgreSQL's limit.
fn payloads(events: &[LeadEvent]) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut size = 2;
    for event in events {
        let Ok(text) = serde_json::to_string(event) else {
            continue;
        };
        if size + text.len() + 1 > MAX_PAYLOAD && !current.is_empty() {
            payloads.push(format!("[{}]", current.join(",")));
            current.clear();
            size = 2;
        }
        size += text.len() + 1;
        current.push(text);
    }
    if !current.is_empty() {
        payloads.push(format!("[{}]", current.join(",")));
    }
    payloads
}

/// Listens on `channel` for as long as the runtime runs, reconnecting when the connection is
/// lost, and hands every event to this process's subscribers.
async fn listen(
    pool: sea_orm::sqlx::PgPool,
    channel: String,
    sender: broadcast::Sender<LeadEvent>,
) {
    let mut failures = 0u32;
    loop {
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(&channel).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        }
        .await;
        let mut listener = match listener {
            Ok(listener) => listener,
            Err(error) => {
                failures = failures.saturating_add(1);
                if failures == 1 {
                    tracing::warn!(%error, "cannot listen for lead events; retrying");
                }
                tokio::time::sleep(std::time::Duration::from_millis(
                    500 * u64::from(failures.min(10)),
                ))
                .await;
                continue;
            }
        };
        failures = 0;
        loop {
            match listener.recv().await {
                Ok(notification) => {
                    match serde_json::from_str::<Vec<LeadEvent>>(notification.payload()) {
                        Ok(events) => {
                            for event in events {
                                let _ = sender.send(event);
                            }
                        }
                        Err(error) => {
                            tracing::warn!(%error, "a lead event notification was not understood")
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "listening for lead events stopped; reconnecting");
                    break;
                }
            }
        }
    }
}

/// One subscription counted against the limits, until dropped.
pub struct Admission {
    user: Uuid,
    events: Events,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.events.unsubscribe(self.user);
    }
}

/// One subscriber's view of the bus; counted against the limits until dropped.
pub struct Subscription {
    receiver: broadcast::Receiver<LeadEvent>,
    _admission: Admission,
}

/// Why a subscription ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The subscriber fell too far behind; events were dropped.
    TooSlow,
    /// The bus stopped (the server is shutting down).
    Closed,
}

impl Subscription {
    /// The next event.
    pub async fn next(&mut self) -> Result<LeadEvent, Ended> {
        match self.receiver.recv().await {
            Ok(event) => Ok(event),
            Err(broadcast::error::RecvError::Lagged(_)) => Err(Ended::TooSlow),
            Err(broadcast::error::RecvError::Closed) => Err(Ended::Closed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_events_are_split_into_payloads_postgresql_takes() {
        let event = LeadEvent {
            kind: LeadEventKind::Qualified,
            lead_id: Uuid::now_v7(),
            owner_id: Uuid::now_v7(),
            actor_id: Some(Uuid::now_v7()),
            occurred_at: Utc::now(),
        };
        let events = vec![event; 500];
        let payloads = payloads(&events);
        assert!(payloads.len() > 1);
        assert!(payloads.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let back: usize = payloads
            .iter()
            .map(|p| serde_json::from_str::<Vec<LeadEvent>>(p).unwrap().len())
            .sum();
        assert_eq!(back, 500);
    }
}
