//! `qualification_jobs`: a bulk qualification run in the background, in chunks, by any server
//! process; its leads and per-lead results are in [`crate::qualification_job_item`], its
//! chunks in [`crate::qualification_job_chunk`].

use sea_orm::entity::prelude::*;

use crate::JobState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "qualification_jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_by: Uuid,
    pub state: JobState,
    /// The choices every lead is qualified with (JSON).
    pub request: String,
    pub idempotency_key: Option<String>,
    pub total: i32,
    pub processed: i32,
    pub qualified_count: i32,
    pub duplicates_found_count: i32,
    pub failed_count: i32,
    /// Set by a cancellation; the chunk in flight finishes, no other starts.
    pub cancel_requested: bool,
    /// Why the job failed, when it did.
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub modified_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
