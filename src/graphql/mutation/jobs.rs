//! Qualification job mutations.

use async_graphql::{Context, Object};

use crate::domain::values;
use crate::graphql::actor;
use crate::graphql::types::jobs::{
    CancelQualificationJobInput, CancelQualificationJobPayload, QualificationJob,
    StartQualificationJobInput, StartQualificationJobPayload,
};
use crate::service::qualification::Qualifier;

#[derive(Default)]
pub struct JobMutation;

#[Object]
impl JobMutation {
    /// Starts qualifying up to a million leads in the background (by id, or every lead a
    /// filter matches now), with one set of choices as qualifyLeads takes them. Returns at once
    /// with the job (QUEUED); follow it with qualificationJob or the qualificationJobProgress
    /// subscription.
    async fn start_qualification_job(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The leads and the choices.")] input: StartQualificationJobInput,
    ) -> async_graphql::Result<StartQualificationJobPayload> {
        let actor = actor(ctx)?;
        let request = input.parse()?;
        let qualifier = ctx.data::<Qualifier>()?;
        let job = qualifier.start_job(actor, request).await?;
        Ok(StartQualificationJobPayload {
            job: QualificationJob(job),
        })
    }

    /// Cancels a job: the chunk in flight finishes, no other starts; leads done stay done.
    async fn cancel_qualification_job(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The job.")] input: CancelQualificationJobInput,
    ) -> async_graphql::Result<CancelQualificationJobPayload> {
        let actor = actor(ctx)?;
        let id = values::parse_id("jobId", &input.job_id)?;
        let qualifier = ctx.data::<Qualifier>()?;
        let job = qualifier.cancel_job(actor, id).await?;
        Ok(CancelQualificationJobPayload {
            job: QualificationJob(job),
        })
    }
}
