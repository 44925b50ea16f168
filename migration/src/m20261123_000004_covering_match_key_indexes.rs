//! Covering match-key indexes: the lookup indexes carry `record_id`, so a duplicate check reads
//! only the index, never the table, however many records share a key (a common first name among
//! a million contacts costs an index range, not a table lookup per row).

use sea_orm_migration::prelude::*;

use crate::sql::execute;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute(
            manager,
            "DROP INDEX ix_match_keys_folded;
             DROP INDEX ix_match_keys_reversed;
             CREATE INDEX ix_match_keys_folded
                 ON match_keys (record_type, field, key_folded, record_id);
             CREATE INDEX ix_match_keys_reversed
                 ON match_keys (record_type, field, key_reversed, record_id)",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute(
            manager,
            "DROP INDEX ix_match_keys_folded;
             DROP INDEX ix_match_keys_reversed;
             CREATE INDEX ix_match_keys_folded ON match_keys (record_type, field, key_folded);
             CREATE INDEX ix_match_keys_reversed ON match_keys (record_type, field, key_reversed)",
        )
        .await
    }
}
