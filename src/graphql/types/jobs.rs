//! Types of qualification jobs.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::qualification_job;

use super::bulk::{BulkOutcome, DuplicatePolicy, QualifyLeadsResult};
use super::connection::PageInfo;
use super::inputs::LeadFilter;
use super::qualification::RecordAction;
use super::records::User;
use crate::domain::qualification::BulkRequest;
use crate::domain::values;
use crate::error::{AppError, AppResult};
use crate::graphql::actor;
use crate::graphql::types::records::user_of;
use crate::service::paging::{Page, PageRequest};
use crate::service::qualification::Qualifier;
use crate::service::qualification::jobs::{JobLeads, JobRequest};

/// Where a qualification job is in its life.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::JobState")]
pub enum JobState {
    /// Stored; no chunk has started yet.
    Queued,
    /// Chunks are being qualified.
    Running,
    /// Every lead has its result.
    Succeeded,
    /// The job could not go on (see `error`); the leads done stay done.
    Failed,
    /// Canceled; the leads done before stay done.
    Canceled,
}

/// A bulk qualification run in the background (a qualification job).
pub struct QualificationJob(pub qualification_job::Model);

/// A bulk qualification run in the background, in chunks, by any server process: its progress,
/// its counts by outcome and its per-lead results.
#[Object]
impl QualificationJob {
    /// The job's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Where the job is in its life.
    async fn state(&self) -> JobState {
        self.0.state.into()
    }

    /// How many leads the job qualifies.
    async fn total(&self) -> i32 {
        self.0.total
    }

    /// How many leads have their result.
    async fn processed(&self) -> i32 {
        self.0.processed
    }

    /// How many leads were qualified.
    async fn qualified_count(&self) -> i32 {
        self.0.qualified_count
    }

    /// How many leads found duplicates (nothing written for them).
    async fn duplicates_found_count(&self) -> i32 {
        self.0.duplicates_found_count
    }

    /// How many leads failed (see their results).
    async fn failed_count(&self) -> i32 {
        self.0.failed_count
    }

    /// Whether a cancellation was asked for (the chunk in flight still finishes).
    async fn cancel_requested(&self) -> bool {
        self.0.cancel_requested
    }

    /// Why the job failed, when it did.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    /// Who started the job.
    async fn created_by(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        user_of(ctx, Some(self.0.created_by))
            .await?
            .ok_or_else(|| AppError::internal("the job's creator is missing").into())
    }

    /// When the job was started.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When its first chunk started.
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }

    /// When it ended (succeeded, failed or was canceled).
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }

    /// The per-lead results so far, in input order.
    async fn results(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the results of this outcome.")] outcome: Option<BulkOutcome>,
        #[graphql(desc = "Page size (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last result of the previous page.")] after: Option<
            String,
        >,
    ) -> async_graphql::Result<QualifyLeadsResultConnection> {
        actor(ctx)?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let qualifier = ctx.data::<Qualifier>()?;
        let page = qualifier
            .job_results(&self.0, outcome.map(Into::into), page)
            .await?;
        Ok(QualifyLeadsResultConnection::from_page(
            page,
            after.is_some(),
        ))
    }
}

/// A page of per-lead results.
#[derive(SimpleObject)]
pub struct QualifyLeadsResultConnection {
    /// The results of this page, each with its cursor.
    pub edges: Vec<QualifyLeadsResultEdge>,
    /// Where this page ends and whether more follow.
    pub page_info: PageInfo,
    /// How many results match in all pages together.
    pub total_count: i64,
}

/// One per-lead result in a page.
#[derive(SimpleObject)]
pub struct QualifyLeadsResultEdge {
    /// Pass as `after` to continue after this result.
    pub cursor: String,
    /// The result.
    pub node: QualifyLeadsResult,
}

impl QualifyLeadsResultConnection {
    fn from_page(page: Page<crate::domain::qualification::ItemResult>, had_cursor: bool) -> Self {
        let edges: Vec<QualifyLeadsResultEdge> = page
            .items
            .into_iter()
            .map(|(cursor, item)| QualifyLeadsResultEdge {
                cursor: cursor.encode(),
                node: item.into(),
            })
            .collect();
        Self {
            page_info: PageInfo {
                has_next_page: page.has_next_page,
                has_previous_page: had_cursor,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
            total_count: i64::try_from(page.total_count).unwrap_or(i64::MAX),
        }
    }
}

/// A page of qualification jobs.
#[derive(SimpleObject)]
pub struct QualificationJobConnection {
    /// The jobs of this page, each with its cursor.
    pub edges: Vec<QualificationJobEdge>,
    /// Where this page ends and whether more follow.
    pub page_info: PageInfo,
    /// How many jobs the caller may see in all pages together.
    pub total_count: i64,
}

/// One job in a page.
#[derive(SimpleObject)]
pub struct QualificationJobEdge {
    /// Pass as `after` to continue after this job.
    pub cursor: String,
    /// The job.
    pub node: QualificationJob,
}

impl QualificationJobConnection {
    /// Maps a service page, noting whether the client paged with `after`.
    pub fn from_page(page: Page<qualification_job::Model>, had_cursor: bool) -> Self {
        let edges: Vec<QualificationJobEdge> = page
            .items
            .into_iter()
            .map(|(cursor, job)| QualificationJobEdge {
                cursor: cursor.encode(),
                node: QualificationJob(job),
            })
            .collect();
        Self {
            page_info: PageInfo {
                has_next_page: page.has_next_page,
                has_previous_page: had_cursor,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
            total_count: i64::try_from(page.total_count).unwrap_or(i64::MAX),
        }
    }
}

/// A qualification job to start: the leads (by id, or every lead a filter matches when the job
/// starts) and one set of choices, as `qualifyLeads` takes them.
#[derive(InputObject)]
pub struct StartQualificationJobInput {
    /// The leads, each at most once, in the order to qualify them; exactly one of `leadIds`
    /// and `filter`.
    pub lead_ids: Option<Vec<ID>>,
    /// Every lead this filter matches when the job starts, oldest first; exactly one of
    /// `leadIds` and `filter`.
    pub filter: Option<LeadFilter>,
    /// For every lead: CREATE_NEW, USE_EXISTING (the lead's own existing account) or SKIP;
    /// omitted: what the settings and each lead imply.
    pub account: Option<RecordAction>,
    /// For every lead: CREATE_NEW, USE_EXISTING (the lead's own existing contact) or SKIP.
    pub contact: Option<RecordAction>,
    /// For every lead: CREATE_NEW or SKIP.
    pub opportunity: Option<RecordAction>,
    /// What to do with duplicates (default REPORT).
    #[graphql(default_with = "DuplicatePolicy::Report")]
    pub duplicate_policy: DuplicatePolicy,
    /// ISO 4217 currency of the opportunities (default: each lead's, else the base currency).
    pub currency_code: Option<String>,
    /// A key of the caller's choosing (at most 200 characters): starting again with the same
    /// key and input returns the same job instead of a new one; another input is a CONFLICT.
    pub idempotency_key: Option<String>,
}

impl StartQualificationJobInput {
    /// Parses the input.
    pub fn parse(self) -> AppResult<JobRequest> {
        let leads = match (self.lead_ids, self.filter) {
            (Some(ids), None) => JobLeads::Ids(
                ids.iter()
                    .enumerate()
                    .map(|(i, id)| values::parse_id(&format!("leadIds.{i}"), id))
                    .collect::<AppResult<_>>()?,
            ),
            (None, Some(filter)) => JobLeads::Filter(filter.parse()?),
            _ => {
                return Err(AppError::bad_input(
                    "leadIds",
                    "give exactly one of leadIds and filter",
                ));
            }
        };
        Ok(JobRequest {
            leads,
            choices: BulkRequest {
                lead_ids: Vec::new(),
                account: self.account.map(Into::into),
                contact: self.contact.map(Into::into),
                opportunity: self.opportunity.map(Into::into),
                duplicate_policy: self.duplicate_policy.into(),
                currency_code: values::CurrencyCode::parse("currencyCode", self.currency_code)?,
                idempotency_key: None,
            },
            idempotency_key: values::text("idempotencyKey", self.idempotency_key, 200)?,
        })
    }
}

/// The job started (or, for a repeated idempotency key, the job it started before).
#[derive(SimpleObject)]
pub struct StartQualificationJobPayload {
    /// The job, QUEUED when new.
    pub job: QualificationJob,
}

/// The job to cancel.
#[derive(InputObject)]
pub struct CancelQualificationJobInput {
    /// The job's id.
    pub job_id: ID,
}

/// The job after the cancellation.
#[derive(SimpleObject)]
pub struct CancelQualificationJobPayload {
    /// The job: CANCELED, or still RUNNING until its chunk in flight finishes
    /// (`cancelRequested` is true); a job that had already ended is unchanged.
    pub job: QualificationJob,
}
