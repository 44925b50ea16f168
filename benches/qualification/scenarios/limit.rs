//! Scenario **limit**: the ceiling for bulk. Exactly the rows the baseline writes (per lead: the
//! account, the contact, the opportunity, their match keys, the four audit rows, the account's
//! primary contact and the guarded lead update; the same row builders), written with the
//! fastest raw technique of the engine, [`LIMIT_CHUNK`] leads per transaction on one
//! connection, with no duplicate lookups and no leadq code. Leads are read as the baseline reads
//! them (500 per `SELECT`, timed).
//!
//! - **SQLite**: one multi-row `INSERT ... VALUES` per table and chunk, as large as the bind
//!   limit allows; the SQL text of each shape (table, rows) is kept, so sqlx prepares it once on
//!   the connection and reuses it for every chunk. The two updates are one `UPDATE ... FROM
//!   (VALUES ...)` each, by primary key.
//! - **PostgreSQL**: `--limit-technique copy` (the default) streams each table with `COPY ...
//!   FROM STDIN (FORMAT binary)` (`PgConnection::copy_in_raw`, rows encoded by
//!   [`crate::rawdb::copy`]); `--limit-technique unnest` runs one prepared
//!   `INSERT ... SELECT * FROM unnest($1::uuid[], ...)` per table. The updates are
//!   `UPDATE ... FROM unnest(...)` either way (COPY cannot update). Measured against each other
//!   (10,000 leads, three alternating runs each, on a loaded 2-core machine, so by CPU time
//!   rather than wall time): PostgreSQL backend CPU 2.36 s with COPY and 2.40 s with unnest,
//!   benchmark process 0.32 s and 0.34 s. That is equal within noise; COPY is the default as
//!   the slightly cheaper of the two on both sides (no array building or unnesting, no bind
//!   parameters) and the engine's own bulk-load path.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::writes::{Built, audit_rows, build, read_batch};
use crate::common::{MAX_BATCH, Salt, now, round};
use crate::options::{LimitTechnique, Options};
use crate::rawdb::copy::copy_binary;
use crate::rawdb::rows::{account_keys, account_row, contact_keys, contact_row};
use crate::rawdb::seed::seed_leads;
use crate::rawdb::tables::{
    ACCOUNTS, AUDIT_EVENTS, CONTACTS, MATCH_KEYS, OPPORTUNITIES, SQLITE_MAX_VARS, Table,
    insert_unnest, table_counts,
};
use crate::rawdb::{Arr, Conn, Databases, Kind, P, Pool, Purpose, tm, u};
use crate::server::prepare;

/// Leads per transaction, as the issue asks (and as leadq's bulk chunks,
/// `service::qualification::CHUNK`).
pub const LIMIT_CHUNK: usize = 250;

/// How rows reach the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Technique {
    /// SQLite: prepared multi-row `INSERT ... VALUES`.
    Values,
    /// PostgreSQL: `COPY ... FROM STDIN (FORMAT binary)`.
    Copy,
    /// PostgreSQL: `INSERT ... SELECT * FROM unnest(...)`.
    Unnest,
}

impl Technique {
    fn name(self) -> &'static str {
        match self {
            Technique::Values => "prepared VALUES",
            Technique::Copy => "binary COPY",
            Technique::Unnest => "unnest",
        }
    }
}

/// Writes rows with one technique, keeping the SQL text of each statement shape.
struct Writer {
    technique: Technique,
    sql: HashMap<(&'static str, usize), String>,
}

impl Writer {
    fn sql(&mut self, key: (&'static str, usize), make: impl FnOnce() -> String) -> &str {
        self.sql.entry(key).or_insert_with(make)
    }

    async fn insert(
        &mut self,
        conn: &mut Conn,
        table: &'static Table,
        rows: Vec<Vec<P>>,
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        match self.technique {
            Technique::Unnest => insert_unnest(conn, table, rows).await,
            Technique::Copy => {
                let data = copy_binary(table, &rows)?;
                let sql = self
                    .sql((table.name, 0), || {
                        format!(
                            "COPY {} ({}) FROM STDIN (FORMAT binary)",
                            table.name,
                            table.columns.join(", ")
                        )
                    })
                    .to_owned();
                let copied = conn.copy_in(&sql, data).await?;
                if copied != rows.len() as u64 {
                    bail!("COPY {}: {copied} rows of {}", table.name, rows.len());
                }
                Ok(())
            }
            Technique::Values => {
                let ncols = table.columns.len();
                let per_statement = (SQLITE_MAX_VARS / ncols).max(1);
                let mut rows = rows.into_iter().peekable();
                while rows.peek().is_some() {
                    let chunk: Vec<Vec<P>> = rows.by_ref().take(per_statement).collect();
                    let n = chunk.len();
                    let sql = self
                        .sql((table.name, n), || {
                            let row = format!("({})", vec!["?"; ncols].join(", "));
                            format!(
                                "INSERT INTO {} ({}) VALUES {}",
                                table.name,
                                table.columns.join(", "),
                                vec![row.as_str(); n].join(", ")
                            )
                        })
                        .to_owned();
                    conn.exec(&sql, chunk.into_iter().flatten().collect())
                        .await?;
                }
                Ok(())
            }
        }
    }

    /// Sets each account's primary contact: `(account, contact)` pairs.
    async fn primary_contacts(&mut self, conn: &mut Conn, pairs: &[(Uuid, Uuid)]) -> Result<()> {
        let n = pairs.len();
        let (sql, params) = match conn.kind() {
            Kind::Sqlite => (
                self.sql(("primary_contact", n), || {
                    format!(
                        "UPDATE accounts SET primary_contact_id = v.column2 FROM (VALUES {}) AS v \
                         WHERE accounts.id = v.column1",
                        vec!["(?, ?)"; n].join(", ")
                    )
                })
                .to_owned(),
                pairs.iter().flat_map(|(a, c)| [u(*a), u(*c)]).collect(),
            ),
            Kind::Postgres => (
                "UPDATE accounts AS a SET primary_contact_id = v.contact \
                 FROM unnest(?::uuid[], ?::uuid[]) AS v(account, contact) WHERE a.id = v.account"
                    .to_owned(),
                vec![
                    uuids(pairs.iter().map(|p| p.0)),
                    uuids(pairs.iter().map(|p| p.1)),
                ],
            ),
        };
        let updated = conn.exec(&sql, params).await?;
        if updated != n as u64 {
            bail!("primary contacts: {updated} accounts updated of {n}");
        }
        Ok(())
    }

    /// The guarded update of the leads (`WHERE state = 'OPEN'`): rows affected.
    async fn qualify_leads(
        &mut self,
        conn: &mut Conn,
        built: &[Built],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        const SET: &str = "state = 'QUALIFIED', status_reason = 'QUALIFIED', process_stage = 'DEVELOP', \
                           qualified_at = ?, modified_at = ?";
        let n = built.len();
        let mut params = vec![tm(now), tm(now)];
        let sql = match conn.kind() {
            Kind::Sqlite => {
                params.extend(built.iter().flat_map(|b| {
                    [
                        u(b.lead),
                        u(b.account.id),
                        u(b.contact.id),
                        u(b.opportunity_id),
                    ]
                }));
                self.sql(("leads", n), || {
                    format!(
                        "UPDATE leads SET {SET}, qualified_account_id = v.column2, \
                         qualified_contact_id = v.column3, qualifying_opportunity_id = v.column4 \
                         FROM (VALUES {}) AS v WHERE leads.id = v.column1 AND leads.state = 'OPEN'",
                        vec!["(?, ?, ?, ?)"; n].join(", ")
                    )
                })
                .to_owned()
            }
            Kind::Postgres => {
                params.extend([
                    uuids(built.iter().map(|b| b.lead)),
                    uuids(built.iter().map(|b| b.account.id)),
                    uuids(built.iter().map(|b| b.contact.id)),
                    uuids(built.iter().map(|b| b.opportunity_id)),
                ]);
                format!(
                    "UPDATE leads AS l SET {SET}, qualified_account_id = v.account, \
                     qualified_contact_id = v.contact, qualifying_opportunity_id = v.opportunity \
                     FROM unnest(?::uuid[], ?::uuid[], ?::uuid[], ?::uuid[]) \
                          AS v(id, account, contact, opportunity) \
                     WHERE l.id = v.id AND l.state = 'OPEN'"
                )
            }
        };
        conn.exec(&sql, params).await
    }
}

fn uuids(ids: impl Iterator<Item = Uuid>) -> P {
    P::Array(Arr::Uuid(ids.map(Some).collect()))
}

/// Writes one chunk of leads in one transaction.
async fn write_chunk(
    conn: &mut Conn,
    writer: &mut Writer,
    built: &mut [Built],
    actor: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.begin().await?;
    writer
        .insert(
            conn,
            &ACCOUNTS,
            built.iter().map(|b| account_row(&b.account)).collect(),
        )
        .await?;
    writer
        .insert(
            conn,
            &CONTACTS,
            built.iter().map(|b| contact_row(&b.contact)).collect(),
        )
        .await?;
    writer
        .insert(
            conn,
            &MATCH_KEYS,
            built
                .iter()
                .flat_map(|b| {
                    let mut keys = account_keys(&b.account);
                    keys.extend(contact_keys(&b.contact));
                    keys
                })
                .collect(),
        )
        .await?;
    let pairs: Vec<(Uuid, Uuid)> = built.iter().map(|b| (b.account.id, b.contact.id)).collect();
    writer.primary_contacts(conn, &pairs).await?;
    writer
        .insert(
            conn,
            &OPPORTUNITIES,
            built
                .iter_mut()
                .map(|b| std::mem::take(&mut b.opportunity))
                .collect(),
        )
        .await?;
    writer
        .insert(
            conn,
            &AUDIT_EVENTS,
            built
                .iter()
                .flat_map(|b| audit_rows(b, actor, now))
                .collect(),
        )
        .await?;
    let updated = writer.qualify_leads(conn, built, now).await?;
    if updated != built.len() as u64 {
        conn.rollback().await?;
        bail!(
            "{} of {} leads were no longer open",
            built.len() as u64 - updated,
            built.len()
        );
    }
    conn.commit().await
}

pub async fn run(dbs: &Databases, options: &Options) -> Result<Value> {
    let technique = match (dbs.kind(), options.limit_technique) {
        (Kind::Sqlite, _) => Technique::Values,
        (Kind::Postgres, LimitTechnique::Copy) => Technique::Copy,
        (Kind::Postgres, LimitTechnique::Unnest) => Technique::Unnest,
    };
    progress!(
        "limit: {} leads with raw SQL, {LIMIT_CHUNK} per transaction, {}",
        options.leads,
        technique.name()
    );
    let fresh = dbs.fresh("limit").await?;
    let (user, _) = prepare(&fresh).await?;
    let ids = seed_leads(&fresh, user, options.leads, &Salt::new()).await?;
    let pool = Pool::connect(&fresh, Purpose::LikeLeadq).await?;
    let mut conn = pool.acquire(Purpose::LikeLeadq).await?;
    let mut writer = Writer {
        technique,
        sql: HashMap::new(),
    };
    let (mut qualified, mut missing) = (0u64, 0u64);
    let mut total = Duration::ZERO;
    let batches = ids.len().div_ceil(MAX_BATCH);
    for (i, batch) in ids.chunks(MAX_BATCH).enumerate() {
        let started = Instant::now();
        let (currency, leads) = read_batch(&mut conn, batch).await?;
        missing += (batch.len() - leads.len()) as u64;
        for chunk in leads.chunks(LIMIT_CHUNK) {
            let now = now();
            let mut built: Vec<Built> = chunk.iter().map(|l| build(l, &currency, now)).collect();
            write_chunk(&mut conn, &mut writer, &mut built, user, now).await?;
            qualified += built.len() as u64;
        }
        let elapsed = started.elapsed();
        total += elapsed;
        progress!(
            "  batch {}/{batches}: {} leads in {:.2}s ({:.0} leads/s)",
            i + 1,
            batch.len(),
            elapsed.as_secs_f64(),
            batch.len() as f64 / elapsed.as_secs_f64()
        );
    }
    drop(conn);
    pool.close().await;
    let rows = table_counts(&fresh).await?;
    progress!("  rows written: {rows}");
    if missing > 0 {
        progress!("  ERROR missing {missing} leads");
    }
    Ok(json!({
        "leads": ids.len(),
        "leads_per_transaction": LIMIT_CHUNK,
        "technique": technique.name(),
        "batches": batches,
        "seconds": round(total.as_secs_f64(), 3),
        "leads_per_s": round(ids.len() as f64 / total.as_secs_f64(), 1),
        "qualified": qualified,
        "errors": missing,
        "rows": rows,
    }))
}
