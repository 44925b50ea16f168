//! Qualification job queries.

use async_graphql::{Context, ID, Object};

use crate::domain::values;
use crate::graphql::actor;
use crate::graphql::types::jobs::{QualificationJob, QualificationJobConnection};
use crate::service::paging::PageRequest;
use crate::service::qualification::Qualifier;

#[derive(Default)]
pub struct JobQuery;

#[Object]
impl JobQuery {
    /// A qualification job (its creator, Sales Managers and System Administrators may see it).
    async fn qualification_job(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The job's id.")] id: ID,
    ) -> async_graphql::Result<QualificationJob> {
        let actor = actor(ctx)?;
        let id = values::parse_id("id", &id)?;
        let qualifier = ctx.data::<Qualifier>()?;
        Ok(QualificationJob(qualifier.job(actor, id).await?))
    }

    /// The qualification jobs the caller may see (their own; all for Sales Managers and System
    /// Administrators), newest first.
    async fn qualification_jobs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last job of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<QualificationJobConnection> {
        let actor = actor(ctx)?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let qualifier = ctx.data::<Qualifier>()?;
        let page = qualifier.jobs(actor, page).await?;
        Ok(QualificationJobConnection::from_page(page, after.is_some()))
    }
}
