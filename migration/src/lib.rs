//! Database migrations of leadq, one step per file, applied in order by [`Migrator`].
//!
//! The DDL is plain SQL that both supported databases accept (`UUID`, `TIMESTAMPTZ`, `BOOLEAN`,
//! `BIGINT` and `TEXT` are valid declared types in SQLite too), so a reader sees the real schema.
//! Money is stored exactly, as integer cents (`*_cents BIGINT`).

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_records;
mod m20261123_000002_idempotency;
mod m20261123_000003_duplicate_detection;
mod m20261123_000004_covering_match_key_indexes;
mod m20261130_000005_qualification_pipeline;
mod m20261130_000006_qualification_jobs;
pub mod m20261130_000007_text_search_indexes;
mod m20261130_000008_persisted_operations;
pub mod m20261130_000009_matching_normalization;
pub mod m20261130_000010_custom_fields;
mod m20261130_000011_custom_field_storage;
mod sql;

/// Applies leadq's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_records::Migration),
            Box::new(m20261123_000002_idempotency::Migration),
            Box::new(m20261123_000003_duplicate_detection::Migration),
            Box::new(m20261123_000004_covering_match_key_indexes::Migration),
            Box::new(m20261130_000005_qualification_pipeline::Migration),
            Box::new(m20261130_000006_qualification_jobs::Migration),
            Box::new(m20261130_000007_text_search_indexes::Migration),
            Box::new(m20261130_000008_persisted_operations::Migration),
            Box::new(m20261130_000009_matching_normalization::Migration),
            Box::new(m20261130_000010_custom_fields::Migration),
            Box::new(m20261130_000011_custom_field_storage::Migration),
        ]
    }
}
