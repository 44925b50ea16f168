//! Raw database access with sqlx, no leadq code: fresh databases per scenario, connections,
//! bind parameters, and the leads as the raw scenarios read them.

pub mod copy;
pub mod rows;
pub mod seed;
pub mod tables;

use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, Postgres};
use sea_orm::sqlx::sqlite::{
    Sqlite, SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::sqlx::{self, AssertSqlSafe, Row};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
        }
    }
}

/// A fresh, empty database; the SQLite directory is removed when this is dropped.
pub struct Fresh {
    pub url: String,
    pub kind: Kind,
    pub _dir: Option<tempfile::TempDir>,
}

/// Creates fresh databases and drops the PostgreSQL schemas at the end (even after a panic).
pub struct Databases {
    pub base: Option<String>,
    pub schemas: Mutex<Vec<String>>,
}

impl Databases {
    pub fn kind(&self) -> Kind {
        if self.base.is_some() {
            Kind::Postgres
        } else {
            Kind::Sqlite
        }
    }

    pub async fn fresh(&self, label: &str) -> Result<Fresh> {
        match &self.base {
            Some(base) => {
                let schema = format!("bench_{}", Uuid::now_v7().simple());
                let pool = PgPool::connect(base)
                    .await
                    .with_context(|| format!("cannot connect to {base}"))?;
                sqlx::raw_sql(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&pool)
                    .await?;
                pool.close().await;
                self.schemas.lock().unwrap().push(schema.clone());
                let separator = if base.contains('?') { '&' } else { '?' };
                progress!("{label}: fresh PostgreSQL schema {schema}");
                Ok(Fresh {
                    url: format!("{base}{separator}options=-c%20search_path%3D{schema}"),
                    kind: Kind::Postgres,
                    _dir: None,
                })
            }
            None => {
                let dir = tempfile::Builder::new()
                    .prefix(&format!("leadq-bench-{label}-"))
                    .tempdir()?;
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("bench.db").display()
                );
                progress!("{label}: fresh SQLite database {}", dir.path().display());
                Ok(Fresh {
                    url,
                    kind: Kind::Sqlite,
                    _dir: Some(dir),
                })
            }
        }
    }

    pub async fn drop_all(&self) {
        let schemas = std::mem::take(&mut *self.schemas.lock().unwrap());
        let Some(base) = &self.base else { return };
        if schemas.is_empty() {
            return;
        }
        match PgPool::connect(base).await {
            Ok(pool) => {
                for schema in schemas {
                    match sqlx::raw_sql(AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS {schema} CASCADE"
                    )))
                    .execute(&pool)
                    .await
                    {
                        Ok(_) => progress!("dropped schema {schema}"),
                        Err(err) => progress!("cannot drop schema {schema}: {err}"),
                    }
                }
                pool.close().await;
            }
            Err(err) => progress!("cannot connect to drop the schemas {schemas:?}: {err}"),
        }
    }
}

/// How a raw connection is tuned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Bulk loading a throw-away database: no fsync, a large cache.
    Seed,
    /// The baseline: the same SQLite pragmas as leadq's own connections.
    LikeLeadq,
}

pub enum Pool {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

impl Pool {
    /// One connection (SQLite has one writer, and the baseline is sequential like
    /// `qualifyLeads`); two for seeding PostgreSQL (see [`Seeder`]).
    pub async fn connect(fresh: &Fresh, purpose: Purpose) -> Result<Self> {
        match fresh.kind {
            Kind::Sqlite => {
                let options = SqliteConnectOptions::from_str(&fresh.url)?
                    .journal_mode(SqliteJournalMode::Wal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(60))
                    .pragma("temp_store", "memory");
                let options = match purpose {
                    Purpose::Seed => options
                        .synchronous(SqliteSynchronous::Off)
                        .pragma("cache_size", "-262144"),
                    Purpose::LikeLeadq => options
                        .synchronous(SqliteSynchronous::Normal)
                        .pragma("cache_size", "-32000"),
                };
                Ok(Pool::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(1)
                        .connect_with(options)
                        .await?,
                ))
            }
            Kind::Postgres => Ok(Pool::Pg(
                PgPoolOptions::new()
                    .max_connections(if purpose == Purpose::Seed { 2 } else { 1 })
                    .connect_with(PgConnectOptions::from_str(&fresh.url)?)
                    .await?,
            )),
        }
    }

    pub async fn acquire(&self, purpose: Purpose) -> Result<Conn> {
        let mut conn = match self {
            Pool::Sqlite(pool) => Conn::Sqlite(pool.acquire().await?),
            Pool::Pg(pool) => Conn::Pg(pool.acquire().await?),
        };
        if purpose == Purpose::Seed && conn.kind() == Kind::Postgres {
            conn.raw("SET synchronous_commit = off").await?;
            // Skips the per-row foreign-key triggers (the seeded rows are consistent by
            // construction); needs a superuser, so without one seeding is only slower.
            if conn
                .raw("SET session_replication_role = replica")
                .await
                .is_err()
            {
                progress!("  (no superuser: seeding with foreign-key triggers)");
            }
        }
        Ok(conn)
    }

    pub async fn close(self) {
        match self {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Pg(pool) => pool.close().await,
        }
    }
}

/// A bind parameter. Everything is optional (binding `Some` to a NOT NULL column is fine);
/// arrays are for PostgreSQL's `UNNEST`.
#[derive(Debug, Clone)]
pub enum P {
    Uuid(Option<Uuid>),
    Text(Option<String>),
    Time(Option<DateTime<Utc>>),
    I64(Option<i64>),
    Bool(Option<bool>),
    Array(Arr),
}

#[derive(Debug, Clone)]
pub enum Arr {
    Uuid(Vec<Option<Uuid>>),
    Text(Vec<Option<String>>),
    Time(Vec<Option<DateTime<Utc>>>),
    I64(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
}

impl Arr {
    pub fn like(p: &P, capacity: usize) -> Result<Self> {
        Ok(match p {
            P::Uuid(_) => Arr::Uuid(Vec::with_capacity(capacity)),
            P::Text(_) => Arr::Text(Vec::with_capacity(capacity)),
            P::Time(_) => Arr::Time(Vec::with_capacity(capacity)),
            P::I64(_) => Arr::I64(Vec::with_capacity(capacity)),
            P::Bool(_) => Arr::Bool(Vec::with_capacity(capacity)),
            P::Array(_) => bail!("nested arrays"),
        })
    }

    pub fn push(&mut self, p: P) -> Result<()> {
        match (self, p) {
            (Arr::Uuid(v), P::Uuid(x)) => v.push(x),
            (Arr::Text(v), P::Text(x)) => v.push(x),
            (Arr::Time(v), P::Time(x)) => v.push(x),
            (Arr::I64(v), P::I64(x)) => v.push(x),
            (Arr::Bool(v), P::Bool(x)) => v.push(x),
            (arr, p) => bail!("a column mixes types: {p:?} into {}", arr.pg_type()),
        }
        Ok(())
    }

    pub fn pg_type(&self) -> &'static str {
        match self {
            Arr::Uuid(_) => "uuid",
            Arr::Text(_) => "text",
            Arr::Time(_) => "timestamptz",
            Arr::I64(_) => "int8",
            Arr::Bool(_) => "bool",
        }
    }
}

pub type SqliteQuery = sqlx::query::Query<'static, Sqlite, SqliteArguments>;
pub type PgQuery = sqlx::query::Query<'static, Postgres, PgArguments>;

impl P {
    pub fn bind_sqlite(self, q: SqliteQuery) -> Result<SqliteQuery> {
        Ok(match self {
            P::Uuid(v) => q.bind(v),
            P::Text(v) => q.bind(v),
            P::Time(v) => q.bind(v),
            P::I64(v) => q.bind(v),
            P::Bool(v) => q.bind(v),
            P::Array(_) => bail!("arrays are for PostgreSQL only"),
        })
    }

    pub fn bind_pg(self, q: PgQuery) -> PgQuery {
        match self {
            P::Uuid(v) => q.bind(v),
            P::Text(v) => q.bind(v),
            P::Time(v) => q.bind(v),
            P::I64(v) => q.bind(v),
            P::Bool(v) => q.bind(v),
            P::Array(Arr::Uuid(v)) => q.bind(v),
            P::Array(Arr::Text(v)) => q.bind(v),
            P::Array(Arr::Time(v)) => q.bind(v),
            P::Array(Arr::I64(v)) => q.bind(v),
            P::Array(Arr::Bool(v)) => q.bind(v),
        }
    }
}

pub fn u(v: Uuid) -> P {
    P::Uuid(Some(v))
}
pub fn ou(v: Option<Uuid>) -> P {
    P::Uuid(v)
}
pub fn t(v: impl Into<String>) -> P {
    P::Text(Some(v.into()))
}
pub fn ot(v: Option<&str>) -> P {
    P::Text(v.map(str::to_owned))
}
pub fn tm(v: DateTime<Utc>) -> P {
    P::Time(Some(v))
}

/// `?` placeholders to PostgreSQL's `$1, $2, ...` (no SQL here has a literal `?`).
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 32);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

/// A lead as the baseline reads it.
#[derive(Debug, Clone)]
pub struct BaseLead {
    pub id: Uuid,
    pub topic: String,
    pub first_name: Option<String>,
    pub last_name: String,
    pub job_title: Option<String>,
    pub business_phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub email: Option<String>,
    pub company_name: Option<String>,
    pub website: Option<String>,
    pub street1: Option<String>,
    pub street2: Option<String>,
    pub street3: Option<String>,
    pub city: Option<String>,
    pub state_or_province: Option<String>,
    pub postal_code: Option<String>,
    pub country_or_region: Option<String>,
    pub description: Option<String>,
    pub budget_amount_cents: Option<i64>,
    pub purchase_timeframe: Option<String>,
    pub purchase_process: Option<String>,
    pub decision_maker: Option<bool>,
    pub currency_code: Option<String>,
    pub owner_id: Uuid,
    pub state: String,
}

macro_rules! decode_lead {
    ($row:expr) => {
        BaseLead {
            id: $row.try_get("id")?,
            topic: $row.try_get("topic")?,
            first_name: $row.try_get("first_name")?,
            last_name: $row.try_get("last_name")?,
            job_title: $row.try_get("job_title")?,
            business_phone: $row.try_get("business_phone")?,
            mobile_phone: $row.try_get("mobile_phone")?,
            email: $row.try_get("email")?,
            company_name: $row.try_get("company_name")?,
            website: $row.try_get("website")?,
            street1: $row.try_get("street1")?,
            street2: $row.try_get("street2")?,
            street3: $row.try_get("street3")?,
            city: $row.try_get("city")?,
            state_or_province: $row.try_get("state_or_province")?,
            postal_code: $row.try_get("postal_code")?,
            country_or_region: $row.try_get("country_or_region")?,
            description: $row.try_get("description")?,
            budget_amount_cents: $row.try_get("budget_amount_cents")?,
            purchase_timeframe: $row.try_get("purchase_timeframe")?,
            purchase_process: $row.try_get("purchase_process")?,
            decision_maker: $row.try_get("decision_maker")?,
            currency_code: $row.try_get("currency_code")?,
            owner_id: $row.try_get("owner_id")?,
            state: $row.try_get("state")?,
        }
    };
}

/// One raw connection.
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Pg(PoolConnection<Postgres>),
}

impl Conn {
    pub fn kind(&self) -> Kind {
        match self {
            Conn::Sqlite(_) => Kind::Sqlite,
            Conn::Pg(_) => Kind::Postgres,
        }
    }

    pub fn sqlite_query(sql: &str, params: Vec<P>) -> Result<SqliteQuery> {
        let mut q = sqlx::query::<Sqlite>(AssertSqlSafe(sql.to_owned()));
        for p in params {
            q = p.bind_sqlite(q)?;
        }
        Ok(q)
    }

    pub fn pg_query(sql: &str, params: Vec<P>) -> PgQuery {
        let mut q = sqlx::query::<Postgres>(AssertSqlSafe(numbered(sql)));
        for p in params {
            q = p.bind_pg(q);
        }
        q
    }

    /// Runs a statement; rows affected.
    pub async fn exec(&mut self, sql: &str, params: Vec<P>) -> Result<u64> {
        Ok(match self {
            Conn::Sqlite(c) => Self::sqlite_query(sql, params)?
                .execute(&mut **c)
                .await
                .with_context(|| format!("{sql:.120}"))?
                .rows_affected(),
            Conn::Pg(c) => Self::pg_query(sql, params)
                .execute(&mut **c)
                .await
                .with_context(|| format!("{sql:.120}"))?
                .rows_affected(),
        })
    }

    /// Runs SQL without parameters, unprepared (transaction control, DDL).
    pub async fn raw(&mut self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => {
                sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                    .execute(&mut **c)
                    .await
                    .with_context(|| sql.to_owned())?;
            }
            Conn::Pg(c) => {
                sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                    .execute(&mut **c)
                    .await
                    .with_context(|| sql.to_owned())?;
            }
        }
        Ok(())
    }

    /// Streams `data` with `sql` (`COPY ... FROM STDIN`, PostgreSQL only); rows copied.
    pub async fn copy_in(&mut self, sql: &str, data: Vec<u8>) -> Result<u64> {
        match self {
            Conn::Sqlite(_) => bail!("COPY is PostgreSQL's"),
            Conn::Pg(c) => {
                let mut copy = c.copy_in_raw(sql).await.with_context(|| sql.to_owned())?;
                copy.send(data).await?;
                Ok(copy.finish().await.with_context(|| sql.to_owned())?)
            }
        }
    }

    /// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite, as leadq does.
    pub async fn begin(&mut self) -> Result<()> {
        match self.kind() {
            Kind::Sqlite => self.raw("BEGIN IMMEDIATE").await,
            Kind::Postgres => self.raw("BEGIN").await,
        }
    }

    pub async fn commit(&mut self) -> Result<()> {
        self.raw("COMMIT").await
    }

    pub async fn rollback(&mut self) -> Result<()> {
        self.raw("ROLLBACK").await
    }

    /// `(text, uuid)` rows: match keys and their record ids.
    pub async fn keys_and_ids(&mut self, sql: &str, params: Vec<P>) -> Result<Vec<(String, Uuid)>> {
        match self {
            Conn::Sqlite(c) => Self::sqlite_query(sql, params)?
                .fetch_all(&mut **c)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect(),
            Conn::Pg(c) => Self::pg_query(sql, params)
                .fetch_all(&mut **c)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect(),
        }
    }

    /// The first column of the first row, as an integer.
    pub async fn int(&mut self, sql: &str) -> Result<i64> {
        Ok(match self {
            Conn::Sqlite(c) => Self::sqlite_query(sql, vec![])?
                .fetch_one(&mut **c)
                .await?
                .try_get::<i64, _>(0)?,
            Conn::Pg(c) => Self::pg_query(sql, vec![])
                .fetch_one(&mut **c)
                .await?
                .try_get::<i64, _>(0)?,
        })
    }

    /// Two text columns of every row.
    pub async fn text_pairs(&mut self, sql: &str, params: Vec<P>) -> Result<Vec<(String, String)>> {
        match self {
            Conn::Sqlite(c) => Self::sqlite_query(sql, params)?
                .fetch_all(&mut **c)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect(),
            Conn::Pg(c) => Self::pg_query(sql, params)
                .fetch_all(&mut **c)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect(),
        }
    }

    pub async fn text(&mut self, sql: &str) -> Result<String> {
        Ok(match self {
            Conn::Sqlite(c) => Self::sqlite_query(sql, vec![])?
                .fetch_one(&mut **c)
                .await?
                .try_get::<String, _>(0)?,
            Conn::Pg(c) => Self::pg_query(sql, vec![])
                .fetch_one(&mut **c)
                .await?
                .try_get::<String, _>(0)?,
        })
    }

    /// The leads with these ids, in one SELECT.
    pub async fn leads(&mut self, ids: &[Uuid]) -> Result<Vec<BaseLead>> {
        let sql = format!(
            "SELECT * FROM leads WHERE id IN ({})",
            vec!["?"; ids.len()].join(", ")
        );
        let params = ids.iter().map(|id| u(*id)).collect();
        match self {
            Conn::Sqlite(c) => {
                let rows = Self::sqlite_query(&sql, params)?
                    .fetch_all(&mut **c)
                    .await?;
                let mut leads = Vec::with_capacity(rows.len());
                for row in &rows {
                    leads.push(decode_lead!(row));
                }
                Ok(leads)
            }
            Conn::Pg(c) => {
                let rows = Self::pg_query(&sql, params).fetch_all(&mut **c).await?;
                let mut leads = Vec::with_capacity(rows.len());
                for row in &rows {
                    leads.push(decode_lead!(row));
                }
                Ok(leads)
            }
        }
    }
}
