//! The tables the benchmark writes, multi-row inserts under the bind limits, index handling
//! for bulk loads, and the row counts that show what a run wrote.

use anyhow::{Result, ensure};
use serde_json::{Value, json};

use super::{Arr, Conn, Fresh, Kind, P, Pool, Purpose, t};

/// Bind-variable limits.
pub const SQLITE_MAX_VARS: usize = 32_766;
pub const PG_MAX_VARS: usize = 65_535;
/// Rows per `INSERT ... SELECT * FROM UNNEST(...)` on PostgreSQL.
pub const PG_UNNEST_ROWS: usize = 20_000;

/// A table and the columns the benchmark writes.
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [&'static str],
}

pub const LEADS: Table = Table {
    name: "leads",
    columns: &[
        "id",
        "topic",
        "first_name",
        "last_name",
        "job_title",
        "business_phone",
        "mobile_phone",
        "email",
        "company_name",
        "website",
        "street1",
        "street2",
        "street3",
        "city",
        "state_or_province",
        "postal_code",
        "country_or_region",
        "description",
        "lead_source",
        "rating",
        "purchase_timeframe",
        "purchase_process",
        "budget_amount_cents",
        "decision_maker",
        "currency_code",
        "owner_id",
        "state",
        "status_reason",
        "process_stage",
        "created_at",
        "modified_at",
    ],
};

pub const ACCOUNTS: Table = Table {
    name: "accounts",
    columns: &[
        "id",
        "name",
        "website",
        "phone",
        "email",
        "street1",
        "street2",
        "street3",
        "city",
        "state_or_province",
        "postal_code",
        "country_or_region",
        "primary_contact_id",
        "originating_lead_id",
        "owner_id",
        "state",
        "created_at",
        "modified_at",
    ],
};

pub const CONTACTS: Table = Table {
    name: "contacts",
    columns: &[
        "id",
        "first_name",
        "last_name",
        "job_title",
        "business_phone",
        "mobile_phone",
        "email",
        "street1",
        "street2",
        "street3",
        "city",
        "state_or_province",
        "postal_code",
        "country_or_region",
        "parent_account_id",
        "originating_lead_id",
        "owner_id",
        "state",
        "created_at",
        "modified_at",
    ],
};

pub const OPPORTUNITIES: Table = Table {
    name: "opportunities",
    columns: &[
        "id",
        "topic",
        "description",
        "account_id",
        "contact_id",
        "originating_lead_id",
        "currency_code",
        "budget_amount_cents",
        "purchase_timeframe",
        "purchase_process",
        "decision_maker",
        "process_stage",
        "owner_id",
        "state",
        "created_at",
        "modified_at",
    ],
};

pub const MATCH_KEYS: Table = Table {
    name: "match_keys",
    columns: &[
        "record_type",
        "record_id",
        "field",
        "key",
        "key_folded",
        "key_reversed",
    ],
};

pub const AUDIT_EVENTS: Table = Table {
    name: "audit_events",
    columns: &[
        "id",
        "occurred_at",
        "actor_id",
        "record_type",
        "record_id",
        "action",
        "changes",
    ],
};

/// Inserts rows (each in `table.columns` order): multi-row `VALUES` under the bind limit, or on
/// PostgreSQL for many rows `INSERT ... SELECT * FROM UNNEST($1::type[], ...)`.
pub async fn insert_rows(conn: &mut Conn, table: &Table, rows: Vec<Vec<P>>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let ncols = table.columns.len();
    let columns = table.columns.join(", ");
    let kind = conn.kind();
    if kind == Kind::Postgres && rows.len() >= 64 {
        return insert_unnest(conn, table, rows).await;
    }
    let mut rows = rows.into_iter().peekable();
    let limit = match kind {
        Kind::Sqlite => SQLITE_MAX_VARS,
        Kind::Postgres => PG_MAX_VARS,
    };
    let per_statement = (limit / ncols).clamp(1, 1_000);
    let row_sql = format!("({})", vec!["?"; ncols].join(", "));
    while rows.peek().is_some() {
        let chunk: Vec<Vec<P>> = rows.by_ref().take(per_statement).collect();
        let sql = format!(
            "INSERT INTO {} ({columns}) VALUES {}",
            table.name,
            vec![row_sql.as_str(); chunk.len()].join(", ")
        );
        let mut params = Vec::with_capacity(chunk.len() * ncols);
        for row in chunk {
            ensure!(
                row.len() == ncols,
                "a {} row has {} values",
                table.name,
                row.len()
            );
            params.extend(row);
        }
        conn.exec(&sql, params).await?;
    }
    Ok(())
}

/// Inserts rows on PostgreSQL with `INSERT ... SELECT * FROM UNNEST($1::type[], ...)`, one
/// array per column and at most [`PG_UNNEST_ROWS`] rows per statement (the SQL text depends only
/// on the table, so sqlx prepares it once per connection).
pub async fn insert_unnest(conn: &mut Conn, table: &Table, rows: Vec<Vec<P>>) -> Result<()> {
    let ncols = table.columns.len();
    let columns = table.columns.join(", ");
    let mut rows = rows.into_iter().peekable();
    loop {
        let capacity = rows.len().min(PG_UNNEST_ROWS);
        let Some(first) = rows.peek() else { break };
        let mut arrays: Vec<Arr> = first
            .iter()
            .map(|p| Arr::like(p, capacity))
            .collect::<Result<_>>()?;
        for row in rows.by_ref().take(PG_UNNEST_ROWS) {
            ensure!(
                row.len() == ncols,
                "a {} row has {} values",
                table.name,
                row.len()
            );
            for (array, p) in arrays.iter_mut().zip(row) {
                array.push(p)?;
            }
        }
        let types: Vec<String> = arrays
            .iter()
            .map(|a| format!("?::{}[]", a.pg_type()))
            .collect();
        let sql = format!(
            "INSERT INTO {} ({columns}) SELECT * FROM UNNEST({})",
            table.name,
            types.join(", ")
        );
        conn.exec(&sql, arrays.into_iter().map(P::Array).collect())
            .await?;
    }
    Ok(())
}

/// Drops a table's secondary indexes (not those of constraints) for a bulk load; returns the
/// statements that recreate them exactly as the migrations made them.
pub async fn drop_indexes(conn: &mut Conn, table: &str) -> Result<Vec<String>> {
    let indexes = match conn.kind() {
        Kind::Sqlite => {
            conn.text_pairs(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                vec![t(table)],
            )
            .await?
        }
        Kind::Postgres => {
            conn.text_pairs(
                "SELECT indexname::text, indexdef::text FROM pg_indexes
                 WHERE schemaname = current_schema() AND tablename::text = ?
                   AND indexname::text NOT IN (SELECT conname::text FROM pg_constraint
                                               WHERE conrelid = to_regclass(?))",
                vec![t(table), t(table)],
            )
            .await?
        }
    };
    let mut recreate = Vec::with_capacity(indexes.len());
    for (name, sql) in indexes {
        conn.raw(&format!("DROP INDEX {name}")).await?;
        recreate.push(sql);
    }
    Ok(recreate)
}

pub async fn recreate_indexes(conn: &mut Conn, statements: &[String]) -> Result<()> {
    for sql in statements {
        conn.raw(sql).await?;
    }
    Ok(())
}

/// On PostgreSQL, `VACUUM ANALYZE` after a bulk load: the state autovacuum would soon reach
/// (statistics, and a visibility map so that covering indexes allow index-only scans). SQLite
/// is left as leadq leaves it (no `ANALYZE`).
pub async fn vacuum(conn: &mut Conn, tables: &[&str]) -> Result<()> {
    if conn.kind() == Kind::Postgres {
        for table in tables {
            conn.raw(&format!("VACUUM ANALYZE {table}")).await?;
        }
    }
    Ok(())
}

/// Row counts that show what a run wrote.
pub async fn table_counts(fresh: &Fresh) -> Result<Value> {
    let pool = Pool::connect(fresh, Purpose::LikeLeadq).await?;
    let mut conn = pool.acquire(Purpose::LikeLeadq).await?;
    let mut counts = serde_json::Map::new();
    for (name, sql) in [
        (
            "qualified_leads",
            "SELECT COUNT(*) FROM leads WHERE state = 'QUALIFIED'",
        ),
        (
            "open_leads",
            "SELECT COUNT(*) FROM leads WHERE state = 'OPEN'",
        ),
        ("accounts", "SELECT COUNT(*) FROM accounts"),
        ("contacts", "SELECT COUNT(*) FROM contacts"),
        ("opportunities", "SELECT COUNT(*) FROM opportunities"),
        ("match_keys", "SELECT COUNT(*) FROM match_keys"),
        ("audit_events", "SELECT COUNT(*) FROM audit_events"),
        ("notes", "SELECT COUNT(*) FROM notes"),
    ] {
        counts.insert(name.to_owned(), json!(conn.int(sql).await?));
    }
    drop(conn);
    pool.close().await;
    Ok(Value::Object(counts))
}
