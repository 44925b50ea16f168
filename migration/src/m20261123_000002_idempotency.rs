//! Idempotency keys: the first result of a keyed mutation, replayed when the same caller sends the
//! same key with the same input again.

use sea_orm_migration::prelude::*;

use crate::sql::execute;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000002_idempotency"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute(
            manager,
            "CREATE TABLE idempotency_keys (
                actor_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                operation TEXT NOT NULL,
                key TEXT NOT NULL,
                request TEXT NOT NULL,
                response TEXT NOT NULL,
                created_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (actor_id, operation, key)
            )",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute(manager, "DROP TABLE idempotency_keys").await
    }
}
