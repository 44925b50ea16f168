//! The one qualification pipeline's tables.
//!
//! - `idempotency_keys` becomes a **reservation**: a keyed call claims its key before it runs
//!   (`owner`, renewed through `heartbeat_at` while it runs), so a concurrent call with the same
//!   key waits for it instead of running twice; `expires_at` bounds how long a key is kept.
//!   The results move to `idempotency_results`, one row per lead, written in the same
//!   transaction as the lead's qualification: a bulk call cut off midway keeps what it finished.
//!   Keys kept before this step are not carried over (they were only retry aids, kept 24 hours).
//! - `config_versions` counts changes of the qualification settings and of the duplicate rules,
//!   so every server process can cache both and still see a change made by another at once.

use sea_orm_migration::prelude::*;

use crate::sql::execute;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute(
            manager,
            "DROP TABLE idempotency_keys;
             CREATE TABLE idempotency_keys (
                 actor_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                 operation TEXT NOT NULL,
                 key TEXT NOT NULL,
                 request TEXT NOT NULL,
                 owner UUID NOT NULL,
                 done BOOLEAN NOT NULL,
                 heartbeat_at TIMESTAMPTZ NOT NULL,
                 created_at TIMESTAMPTZ NOT NULL,
                 expires_at TIMESTAMPTZ NOT NULL,
                 PRIMARY KEY (actor_id, operation, key)
             );
             CREATE INDEX ix_idempotency_keys_expires_at ON idempotency_keys (expires_at);
             CREATE TABLE idempotency_results (
                 actor_id UUID NOT NULL,
                 operation TEXT NOT NULL,
                 key TEXT NOT NULL,
                 position INTEGER NOT NULL,
                 response TEXT NOT NULL,
                 PRIMARY KEY (actor_id, operation, key, position),
                 FOREIGN KEY (actor_id, operation, key)
                     REFERENCES idempotency_keys (actor_id, operation, key) ON DELETE CASCADE
             );
             CREATE TABLE config_versions (
                 name TEXT PRIMARY KEY,
                 version BIGINT NOT NULL
             );
             INSERT INTO config_versions (name, version)
                 VALUES ('qualification_settings', 0), ('duplicate_rules', 0)",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute(
            manager,
            "DROP TABLE config_versions;
             DROP TABLE idempotency_results;
             DROP TABLE idempotency_keys;
             CREATE TABLE idempotency_keys (
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
}
