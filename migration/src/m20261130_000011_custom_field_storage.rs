//! Cheaper custom values, and mappings onto standard fields.
//!
//! - `custom_field_values` indexes only what a filter reads: `leads(filter: { customFields })` is
//!   the one query on `text_value` / `number_value`, so both indexes become partial (`record_type
//!   = 'LEAD'`). The values a qualification writes on accounts, contacts and opportunities then
//!   touch the primary key only. On SQLite the table is also rebuilt `WITHOUT ROWID`, so its
//!   primary key `(record_id, field_id)` is the table itself rather than a second B-tree beside
//!   the rowid one.
//! - `field_mappings` drops `UNIQUE (target, target_field)` for a partial unique index on the
//!   *enabled* rows: an administrator may disable a standard mapping and add their own onto the
//!   same standard field, and at most one enabled mapping ever fills a field, whichever server
//!   process saves it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::sql::execute;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000011_custom_field_storage"
    }
}

const VALUE_COLUMNS: &str = "record_id UUID NOT NULL,
    field_id UUID NOT NULL REFERENCES custom_field_definitions (id),
    record_type TEXT NOT NULL,
    value TEXT NOT NULL,
    text_value TEXT,
    number_value DOUBLE PRECISION,
    PRIMARY KEY (record_id, field_id)";

const MAPPING_COLUMNS: &str = "id UUID PRIMARY KEY,
    target TEXT NOT NULL,
    source_field TEXT NOT NULL,
    target_field TEXT NOT NULL,
    standard BOOLEAN NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL";

const COPY_VALUES: &str = "record_id, field_id, record_type, value, text_value, number_value";
const COPY_MAPPINGS: &str = "id, target, source_field, target_field, standard, enabled, created_at";

/// Rebuilds a SQLite table with new column lines (and table options), keeping its rows.
fn rebuild_sqlite(table: &str, columns: &str, options: &str, copy: &str) -> String {
    format!(
        "CREATE TABLE {table}_rebuilt ({columns}){options};
         INSERT INTO {table}_rebuilt ({copy}) SELECT {copy} FROM {table};
         DROP TABLE {table};
         ALTER TABLE {table}_rebuilt RENAME TO {table}"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                execute(
                    manager,
                    &rebuild_sqlite(
                        "custom_field_values",
                        VALUE_COLUMNS,
                        " WITHOUT ROWID",
                        COPY_VALUES,
                    ),
                )
                .await?;
                execute(
                    manager,
                    &rebuild_sqlite("field_mappings", MAPPING_COLUMNS, "", COPY_MAPPINGS),
                )
                .await?;
            }
            _ => {
                execute(
                    manager,
                    "DROP INDEX ix_custom_field_values_text;
                     DROP INDEX ix_custom_field_values_number;
                     ALTER TABLE field_mappings
                        DROP CONSTRAINT field_mappings_target_target_field_key",
                )
                .await?;
            }
        }
        execute(
            manager,
            "CREATE INDEX ix_custom_field_values_text
                ON custom_field_values (field_id, text_value, record_id)
                WHERE record_type = 'LEAD';
             CREATE INDEX ix_custom_field_values_number
                ON custom_field_values (field_id, number_value, record_id)
                WHERE record_type = 'LEAD';
             CREATE UNIQUE INDEX ux_field_mappings_enabled_target
                ON field_mappings (target, target_field)
                WHERE enabled;
             CREATE INDEX ix_field_mappings_target ON field_mappings (target, target_field)",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute(
            manager,
            "DROP INDEX ix_field_mappings_target;
             DROP INDEX ux_field_mappings_enabled_target;
             DROP INDEX ix_custom_field_values_text;
             DROP INDEX ix_custom_field_values_number",
        )
        .await?;
        // Added mappings onto standard fields have no place in the old table.
        execute(
            manager,
            "DELETE FROM field_mappings WHERE standard = FALSE AND EXISTS (
                SELECT 1 FROM field_mappings s
                WHERE s.standard = TRUE AND s.target = field_mappings.target
                    AND s.target_field = field_mappings.target_field)",
        )
        .await?;
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                execute(
                    manager,
                    &rebuild_sqlite("custom_field_values", VALUE_COLUMNS, "", COPY_VALUES),
                )
                .await?;
                execute(
                    manager,
                    &rebuild_sqlite(
                        "field_mappings",
                        &format!("{MAPPING_COLUMNS}, UNIQUE (target, target_field)"),
                        "",
                        COPY_MAPPINGS,
                    ),
                )
                .await?;
            }
            _ => {
                execute(
                    manager,
                    "ALTER TABLE field_mappings ADD CONSTRAINT field_mappings_target_target_field_key
                        UNIQUE (target, target_field)",
                )
                .await?;
            }
        }
        execute(
            manager,
            "CREATE INDEX ix_custom_field_values_text
                ON custom_field_values (field_id, text_value, record_id);
             CREATE INDEX ix_custom_field_values_number
                ON custom_field_values (field_id, number_value, record_id)",
        )
        .await
    }
}
