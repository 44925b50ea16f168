//! The subscription root, served over WebSocket (`graphql-transport-ws`, see `crate::ws`):
//! a job's progress, and lead events from every server process.

use std::time::Duration;

use async_graphql::{Context, Enum, ErrorExtensions, ID, InputObject, Object, Subscription};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use futures_util::stream;

use crate::auth::Actor;
use crate::domain::values;
use crate::error::AppError;
use crate::graphql::actor;
use crate::graphql::loaders::{LeadId, UserId};
use crate::graphql::types::jobs::QualificationJob;
use crate::graphql::types::records::{Lead, User};
use crate::service::events::{self, Ended, LeadEventKind as Kind};
use crate::service::qualification::Qualifier;

/// How often a job's progress is sent while it runs.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// What happened to a lead.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::service::events::LeadEventKind")]
pub enum LeadEventKind {
    /// The lead was created.
    Created,
    /// Its fields were changed.
    Updated,
    /// It was given to another owner.
    Assigned,
    /// It was qualified.
    Qualified,
    /// It was disqualified.
    Disqualified,
    /// It was reopened.
    Reactivated,
    /// It was deleted.
    Deleted,
}

/// Which lead events a subscriber wants.
#[derive(InputObject, Default)]
pub struct LeadEventFilter {
    /// Only these kinds (default: all).
    pub kinds: Option<Vec<LeadEventKind>>,
    /// Only events about leads this user owns (after the change).
    pub owner_id: Option<ID>,
}

/// Something that happened to a lead, published once the change was committed.
pub struct LeadEvent(pub events::LeadEvent);

/// Something that happened to a lead, published once the change was committed.
#[Object]
impl LeadEvent {
    /// What happened.
    async fn kind(&self) -> LeadEventKind {
        self.0.kind.into()
    }

    /// The lead's id.
    async fn lead_id(&self) -> ID {
        ID(self.0.lead_id.to_string())
    }

    /// The lead as it is now (null once deleted).
    async fn lead(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Lead>> {
        Ok(crate::graphql::loaders(ctx)?
            .load_one(LeadId(self.0.lead_id))
            .await?
            .map(Lead))
    }

    /// Who did it (null for the system).
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let Some(id) = self.0.actor_id else {
            return Ok(None);
        };
        Ok(crate::graphql::loaders(ctx)?
            .load_one(UserId(id))
            .await?
            .map(User))
    }

    /// When it happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
}

/// Everything a client can subscribe to (over WebSocket at `/graphql`, `graphql-transport-ws`).
#[derive(Default)]
pub struct SubscriptionRoot;

/// Everything a client can subscribe to (over WebSocket at `/graphql`, with the
/// `graphql-transport-ws` protocol and `{"Authorization": "Bearer <token>"}` as the
/// `connection_init` payload).
#[Subscription]
impl SubscriptionRoot {
    /// The job, twice a second while it runs and once when it ends (then the subscription
    /// completes). Its creator, Sales Managers and System Administrators may follow it.
    async fn qualification_job_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The job's id.")] id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<QualificationJob>>> {
        let actor: Actor = actor(ctx)?.clone();
        let qualifier = ctx.data::<Qualifier>()?.clone();
        let id = values::parse_id("id", &id)?;
        let admission = qualifier.events().admit(&actor)?;
        let first = qualifier.job(&actor, id).await?;
        // Sent on a fixed beat (not "a pause after each read"), so a slow read does not
        // stretch the gap between two events.
        let beat = tokio::time::Instant::now() + PROGRESS_EVERY;
        let state = (qualifier, actor, id, Some(first), false, admission, beat);
        Ok(stream::unfold(
            state,
            |(qualifier, actor, id, next, ended, admission, beat)| async move {
                if ended {
                    return None;
                }
                let mut beat = beat;
                let job = match next {
                    Some(job) => job,
                    None => {
                        tokio::time::sleep_until(beat).await;
                        let now = tokio::time::Instant::now();
                        beat = (beat + PROGRESS_EVERY).max(now + PROGRESS_EVERY / 2);
                        match qualifier.job(&actor, id).await {
                            Ok(job) => job,
                            Err(error) => {
                                let ended = error.retry_after_seconds().is_none();
                                let item = Err(error.into());
                                return Some((
                                    item,
                                    (qualifier, actor, id, None, ended, admission, beat),
                                ));
                            }
                        }
                    }
                };
                let ended = matches!(
                    job.state,
                    entity::JobState::Succeeded
                        | entity::JobState::Failed
                        | entity::JobState::Canceled
                );
                Some((
                    Ok(QualificationJob(job)),
                    (qualifier, actor, id, None, ended, admission, beat),
                ))
            },
        ))
    }

    /// Lead events, from every server process, as they are committed. A subscriber that falls
    /// behind is dropped (the connection closes with code 4008) rather than slowing anyone down.
    async fn lead_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which events (default: all).")] filter: Option<LeadEventFilter>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<LeadEvent>>> {
        let actor = actor(ctx)?;
        let qualifier = ctx.data::<Qualifier>()?;
        let filter = filter.unwrap_or_default();
        let kinds: Option<Vec<Kind>> = filter
            .kinds
            .map(|kinds| kinds.into_iter().map(Into::into).collect());
        let owner = values::parse_opt_id("filter.ownerId", filter.owner_id.as_deref())?;
        let subscription = qualifier.events().subscribe(actor)?;
        Ok(stream::unfold(Some(subscription), move |subscription| {
            let kinds = kinds.clone();
            async move {
                let mut subscription = subscription?;
                loop {
                    match subscription.next().await {
                        Ok(event) => {
                            let wanted = kinds.as_ref().is_none_or(|k| k.contains(&event.kind))
                                && owner.is_none_or(|o| o == event.owner_id);
                            if wanted {
                                return Some((Ok(LeadEvent(event)), Some(subscription)));
                            }
                        }
                        Err(Ended::TooSlow) => {
                            let error = AppError::busy(SUBSCRIBER_TOO_SLOW_MESSAGE, 1);
                            let mut error: async_graphql::Error = error.into();
                            error = error.extend_with(|_, e| e.set("code", SUBSCRIBER_TOO_SLOW));
                            return Some((Err(error), None));
                        }
                        Err(Ended::Closed) => return None,
                    }
                }
            }
        }))
    }
}

/// The error code a subscriber that fell too far behind gets before it is dropped.
pub const SUBSCRIBER_TOO_SLOW: &str = "SUBSCRIBER_TOO_SLOW";
const SUBSCRIBER_TOO_SLOW_MESSAGE: &str =
    "this subscriber fell too far behind and events were dropped; subscribe again";
