//! Qualification jobs: a bulk qualification of up to a million leads run in the background, in
//! chunks, by any server process (chunks are leased; a chunk whose lease ran out, because its
//! process died, is taken by another), with one result row per lead written in the same
//! transaction as the lead's qualification, so a restart neither loses nor repeats work.

use sea_orm_migration::prelude::*;

use crate::sql::execute;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute(
            manager,
            "CREATE TABLE qualification_jobs (
                 id UUID PRIMARY KEY,
                 created_by UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                 state TEXT NOT NULL,
                 request TEXT NOT NULL,
                 idempotency_key TEXT,
                 total INTEGER NOT NULL,
                 processed INTEGER NOT NULL,
                 qualified_count INTEGER NOT NULL,
                 duplicates_found_count INTEGER NOT NULL,
                 failed_count INTEGER NOT NULL,
                 cancel_requested BOOLEAN NOT NULL,
                 error TEXT,
                 created_at TIMESTAMPTZ NOT NULL,
                 started_at TIMESTAMPTZ,
                 finished_at TIMESTAMPTZ,
                 modified_at TIMESTAMPTZ NOT NULL
             );
             CREATE UNIQUE INDEX ux_qualification_jobs_idempotency_key
                 ON qualification_jobs (created_by, idempotency_key);
             CREATE INDEX ix_qualification_jobs_state ON qualification_jobs (state, created_at);
             CREATE INDEX ix_qualification_jobs_created_by ON qualification_jobs (created_by, id);
             CREATE TABLE qualification_job_chunks (
                 job_id UUID NOT NULL REFERENCES qualification_jobs (id) ON DELETE CASCADE,
                 chunk INTEGER NOT NULL,
                 first_position INTEGER NOT NULL,
                 end_position INTEGER NOT NULL,
                 done BOOLEAN NOT NULL,
                 lease_owner UUID,
                 lease_until TIMESTAMPTZ,
                 PRIMARY KEY (job_id, chunk)
             );
             CREATE INDEX ix_qualification_job_chunks_pending
                 ON qualification_job_chunks (done, job_id, chunk);
             CREATE TABLE qualification_job_items (
                 job_id UUID NOT NULL REFERENCES qualification_jobs (id) ON DELETE CASCADE,
                 position INTEGER NOT NULL,
                 lead_id UUID NOT NULL,
                 outcome TEXT,
                 result TEXT,
                 PRIMARY KEY (job_id, position)
             );
             CREATE INDEX ix_qualification_job_items_outcome
                 ON qualification_job_items (job_id, outcome, position)",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute(
            manager,
            "DROP TABLE qualification_job_items;
             DROP TABLE qualification_job_chunks;
             DROP TABLE qualification_jobs",
        )
        .await
    }
}
