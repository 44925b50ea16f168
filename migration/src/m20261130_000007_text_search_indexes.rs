//! Text search through an index: the `leads` / `accounts` / `contacts` text filters no longer scan
//! their tables.
//!
//! - PostgreSQL: trigram GIN indexes (`pg_trgm`) on `lower(column)` of every searched column, the
//!   very expression the search compares with `LIKE '%text%'`, so the planner answers each
//!   column's condition from its index and ORs them (a bitmap OR). The extension is created once
//!   per database in `public` (under an advisory lock: tests migrate many schemas at once) and
//!   the operator class is named with its schema, so it works whatever the `search_path`.
//! - SQLite: an FTS5 table with the trigram tokenizer per searched table (external content, kept
//!   in step by triggers on the searched columns only: a state change does not touch it). The
//!   search asks it for the rows holding the text, then applies the same `LIKE` to those rows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The searched columns of each table (as `service::paging::text_search` is called).
pub const SEARCHED: &[(&str, &[&str])] = &[
    (
        "leads",
        &["topic", "first_name", "last_name", "company_name", "email"],
    ),
    ("accounts", &["name", "email", "website"]),
    ("contacts", &["first_name", "last_name", "email"]),
];

async fn run(manager: &SchemaManager<'_>, statements: &[String]) -> Result<(), DbErr> {
    for statement in statements {
        manager
            .get_connection()
            .execute_unprepared(statement)
            .await?;
    }
    Ok(())
}

fn postgres_up() -> Vec<String> {
    let mut sql = vec![
        // Serializes concurrent migrations of several schemas of one database.
        "SELECT pg_advisory_xact_lock(7301205)".to_owned(),
        "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public".to_owned(),
    ];
    for (table, columns) in SEARCHED {
        for column in *columns {
            sql.push(format!(
                "CREATE INDEX ix_{table}_{column}_trgm ON {table} \
                 USING gin (lower({column}) public.gin_trgm_ops)"
            ));
        }
    }
    sql
}

fn sqlite_up() -> Vec<String> {
    let mut sql = Vec::new();
    for (table, columns) in SEARCHED {
        let list = columns.join(", ");
        let new = columns
            .iter()
            .map(|c| format!("new.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let old = columns
            .iter()
            .map(|c| format!("old.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let search = format!("{table}_search");
        sql.push(format!(
            "CREATE VIRTUAL TABLE {search} USING fts5({list}, content='{table}', \
             content_rowid='rowid', tokenize='trigram')"
        ));
        sql.push(format!(
            "INSERT INTO {search} ({search}) VALUES ('rebuild')"
        ));
        sql.push(format!(
            "CREATE TRIGGER {search}_insert AFTER INSERT ON {table} BEGIN \
             INSERT INTO {search} (rowid, {list}) VALUES (new.rowid, {new}); END"
        ));
        sql.push(format!(
            "CREATE TRIGGER {search}_delete AFTER DELETE ON {table} BEGIN \
             INSERT INTO {search} ({search}, rowid, {list}) VALUES ('delete', old.rowid, {old}); \
             END"
        ));
        sql.push(format!(
            "CREATE TRIGGER {search}_update AFTER UPDATE OF {list} ON {table} BEGIN \
             INSERT INTO {search} ({search}, rowid, {list}) VALUES ('delete', old.rowid, {old}); \
             INSERT INTO {search} (rowid, {list}) VALUES (new.rowid, {new}); END"
        ));
    }
    sql
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => run(manager, &postgres_up()).await,
            _ => run(manager, &sqlite_up()).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sql = Vec::new();
        for (table, columns) in SEARCHED {
            match manager.get_database_backend() {
                DbBackend::Postgres => {
                    for column in *columns {
                        sql.push(format!("DROP INDEX ix_{table}_{column}_trgm"));
                    }
                }
                _ => {
                    for trigger in ["insert", "delete", "update"] {
                        sql.push(format!("DROP TRIGGER {table}_search_{trigger}"));
                    }
                    sql.push(format!("DROP TABLE {table}_search"));
                }
            }
        }
        run(manager, &sql).await
    }
}
