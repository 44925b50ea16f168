//! Persisted operations: GraphQL documents stored under their SHA-256, shared by every server
//! process on the database. `registered` rows were put there ahead of time by `leadq persist`
//! (the only ones that run under `LEADQ_PERSISTED_ONLY`); the others were sent once in full by a
//! client using automatic persisted queries.

use sea_orm_migration::prelude::*;

use crate::sql::execute;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000008_persisted_operations"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute(
            manager,
            "CREATE TABLE persisted_operations (
                sha256 TEXT NOT NULL PRIMARY KEY,
                document TEXT NOT NULL,
                registered BOOLEAN NOT NULL,
                created_at TIMESTAMPTZ NOT NULL
            )",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute(manager, "DROP TABLE persisted_operations").await
    }
}
