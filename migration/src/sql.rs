//! Small helpers to run DDL that differs only in where foreign keys may be declared.
//!
//! SQLite cannot add a foreign key to an existing table but accepts references to tables that do
//! not exist yet; PostgreSQL is the other way round. Circular references (a lead points at the
//! opportunity it was qualified to, the opportunity at its originating lead) are therefore listed
//! as [`ForwardKey`]s: inline in `CREATE TABLE` on SQLite, `ALTER TABLE` afterwards on PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// A foreign key whose target table may be created after the table that holds it.
pub struct ForwardKey {
    pub table: &'static str,
    pub column: &'static str,
    pub references: &'static str,
    pub on_delete: &'static str,
}

/// Creates `table` with the given column and constraint lines, adding its forward keys inline on
/// SQLite.
pub async fn create_table(
    manager: &SchemaManager<'_>,
    table: &str,
    body: &str,
    forward_keys: &[ForwardKey],
) -> Result<(), DbErr> {
    let mut sql = format!("CREATE TABLE {table} (\n{body}");
    if manager.get_database_backend() == DbBackend::Sqlite {
        for key in forward_keys.iter().filter(|k| k.table == table) {
            sql.push_str(&format!(
                ",\n    FOREIGN KEY ({}) REFERENCES {} (id) ON DELETE {}",
                key.column, key.references, key.on_delete
            ));
        }
    }
    sql.push_str("\n)");
    execute(manager, &sql).await
}

/// Adds the forward keys on PostgreSQL (on SQLite they were declared inline).
pub async fn add_forward_keys(
    manager: &SchemaManager<'_>,
    forward_keys: &[ForwardKey],
) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Sqlite {
        return Ok(());
    }
    for key in forward_keys {
        let sql = format!(
            "ALTER TABLE {t} ADD CONSTRAINT fk_{t}_{c} FOREIGN KEY ({c}) REFERENCES {r} (id) ON DELETE {d}",
            t = key.table,
            c = key.column,
            r = key.references,
            d = key.on_delete
        );
        execute(manager, &sql).await?;
    }
    Ok(())
}

/// Runs each `;`-separated statement of `sql`.
pub async fn execute(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        manager
            .get_connection()
            .execute_unprepared(statement)
            .await?;
    }
    Ok(())
}
