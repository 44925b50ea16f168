//! Lead-qualification benchmark (issue #7): bulk throughput against a raw-SQL baseline, latency
//! of single qualifications under concurrency, and how the duplicate check scales with the number
//! of accounts and contacts.
//!
//! Run on demand, never part of the test suite (`harness = false`):
//!
//! ```text
//! cargo bench --bench qualification
//! cargo bench --bench qualification -- --leads 100000 --scenarios bulk,baseline
//! cargo bench --bench qualification -- --database-url postgres://postgres@127.0.0.1:5432/test
//! ```
//!
//! Flags: `--database-url URL` (PostgreSQL; default: SQLite files in a temporary directory),
//! `--leads N` (10,000), `--scenarios bulk,baseline,concurrent,dedup` (all), `--clients 32,64`,
//! `--seconds S` (10), `--dedup-sizes 1000,100000,1000000`, `--dedup-samples K` (300),
//! `--baseline-chunk L` (1: leads per baseline transaction; the issue's baseline is one lead
//! per transaction, `--baseline-chunk 250` compares with leadq's chunked transactions).
//!
//! Every scenario gets its own fresh database (an SQLite file, or a `bench_<uuid>` schema dropped
//! at the end), seeded with raw multi-row SQL (`UNNEST` arrays on PostgreSQL, match-key indexes
//! dropped during the load and rebuilt from their own definitions), never through the API. On
//! PostgreSQL the seeded tables are then `VACUUM ANALYZE`d, the state autovacuum soon reaches.
//!
//! - **bulk**: N open leads qualified through `qualifyLeads` over HTTP, in batches of 10,000, by
//!   the real release server binary started as a child process; leads/s, and the server's RSS
//!   after each batch and at its peak.
//! - **baseline**: the same writes done with raw SQL (sqlx, no leadq service code) in the same
//!   run on the same kind of database: read the leads 500 at a time, then per lead one
//!   transaction with the default duplicate lookups, the account, contact, opportunity, their
//!   match keys, the four audit rows, the account's primary contact and the guarded lead update
//!   (the row counts of both scenarios are printed: they must agree). Bulk is judged by its
//!   ratio to this, because absolute times on a shared 2-core machine are noisy.
//! - **concurrent**: C clients (32, 64) each qualifying single leads with `qualifyLead` for a fixed
//!   time; qualifications/s, p50/p95/p99 latency and errors (a response is a success only if it is
//!   HTTP 200 with no `errors`).
//! - **dedup**: in-process, the duplicate check one qualification runs (`account_matches` +
//!   `contact_matches` for the candidates a lead maps to) with 1,000 to 1,000,000 accounts and
//!   contacts in the database; p50/p99 per size and their ratio largest/smallest. One check in ten
//!   shares a company name or an e-mail with an existing record, so the "found" path runs too.
//!
//! Output: progress on stderr; a table (figure, value, goal, pass/miss) on stdout and, last, one
//! line of JSON with every figure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use chrono::{DateTime, SubsecRound, Utc};
use entity::{
    CreationMode, DuplicateRecordType, LeadRating, LeadSource, LeadState, LeadStatusReason,
    ProcessStage, PurchaseProcess, PurchaseTimeframe, RecordState, Role, account, contact, lead,
};
use leadq::config::Settings;
use leadq::domain::matching::{fields_of, match_key};
use rand::{Rng, SeedableRng};
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, Postgres};
use sea_orm::sqlx::sqlite::{
    Sqlite, SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::sqlx::{self, AssertSqlSafe, Row};
use serde_json::{Value, json};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Constants and goals
// ---------------------------------------------------------------------------------------------

/// The largest `qualifyLeads` batch (the server is started with this limit).
const MAX_BATCH: usize = 10_000;
/// Leads read per SELECT, as the bulk service does.
const READ_CHUNK: usize = 500;
/// Leads seeded per transaction.
const SEED_CHUNK: usize = 10_000;
/// Accounts (and as many contacts) seeded per transaction in the dedup scenario.
const DEDUP_SEED_CHUNK: usize = 20_000;
/// Open leads seeded for each client level of the concurrent scenario.
const CONCURRENT_POOL: usize = 40_000;
/// Warm-up before each measured client level.
const CONCURRENT_WARMUP: Duration = Duration::from_secs(2);
/// Duplicate checks run (untimed) before each measured dedup size.
const DEDUP_WARMUP: usize = 50;
/// Bind-variable limits.
const SQLITE_MAX_VARS: usize = 32_766;
const PG_MAX_VARS: usize = 65_535;
/// Rows per `INSERT ... SELECT * FROM UNNEST(...)` on PostgreSQL.
const PG_UNNEST_ROWS: usize = 20_000;
/// The JWT secret the benchmark's server is started with.
const SECRET: &str = "leadq-benchmark-secret-0123456789abcdef";
/// Offset of the counters of dedup candidates (far from every seeded record's).
const CANDIDATE_BASE: u64 = 9_000_000_000;

const GOAL_BULK_LEADS_PER_S: f64 = 5_000.0;
const GOAL_BULK_VS_BASELINE: f64 = 0.5;
const GOAL_P99_MS: f64 = 10.0;
const GOAL_P99_CLIENTS: usize = 32;
const GOAL_DEDUP_RATIO: f64 = 2.0;
const GOAL_RSS_RATIO: f64 = 1.3;
const GOAL_RSS_BATCHES: usize = 10;

const QUALIFY_LEADS: &str = "mutation($i: QualifyLeadsInput!) { qualifyLeads(input: $i) { qualifiedCount duplicatesFoundCount failedCount } }";
const QUALIFY_LEAD: &str = "mutation($i: QualifyLeadInput!) { qualifyLead(input: $i) { outcome } }";
const UPDATE_SETTINGS: &str = "mutation { updateQualificationSettings(input: { experience: LEGACY, autoCreateRecords: true, summarizeLead: false }) { settings { experience } } }";

const USAGE: &str = "usage: cargo bench --bench qualification -- [--database-url postgres://...] \
[--leads N] [--scenarios bulk,baseline,concurrent,dedup] [--clients 32,64] [--seconds S] \
[--dedup-sizes 1000,100000,1000000] [--dedup-samples K] [--baseline-chunk L]";

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Bulk,
    Baseline,
    Concurrent,
    Dedup,
}

#[derive(Debug, Clone)]
struct Options {
    database_url: Option<String>,
    leads: usize,
    scenarios: Vec<Scenario>,
    clients: Vec<usize>,
    seconds: u64,
    dedup_sizes: Vec<usize>,
    dedup_samples: usize,
    baseline_chunk: usize,
}

impl Options {
    fn runs(&self, scenario: Scenario) -> bool {
        self.scenarios.contains(&scenario)
    }
}

fn parse_count(flag: &str, value: &str) -> Result<usize, String> {
    let n = value
        .trim()
        .replace('_', "")
        .parse::<usize>()
        .map_err(|_| format!("{flag}: {value:?} is not a number"))?;
    if n == 0 {
        return Err(format!("{flag}: must be at least 1"));
    }
    Ok(n)
}

fn parse_list(flag: &str, value: &str) -> Result<Vec<usize>, String> {
    value.split(',').map(|v| parse_count(flag, v)).collect()
}

/// Parses the arguments after the program name. `cargo bench` adds `--bench`: ignored.
fn parse_options(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        database_url: None,
        leads: 10_000,
        scenarios: vec![
            Scenario::Bulk,
            Scenario::Baseline,
            Scenario::Concurrent,
            Scenario::Dedup,
        ],
        clients: vec![32, 64],
        seconds: 10,
        dedup_sizes: vec![1_000, 100_000, 1_000_000],
        dedup_samples: 300,
        baseline_chunk: 1,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        if flag == "--bench" {
            continue;
        }
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let known = [
            "--database-url",
            "--leads",
            "--scenarios",
            "--clients",
            "--seconds",
            "--dedup-sizes",
            "--dedup-samples",
            "--baseline-chunk",
        ];
        if !known.contains(&flag.as_str()) {
            return Err(format!("unknown argument {arg:?}"));
        }
        let value = match inline {
            Some(value) => value,
            None => args.next().ok_or_else(|| format!("{flag} needs a value"))?,
        };
        match flag.as_str() {
            "--database-url" => {
                if !(value.starts_with("postgres://") || value.starts_with("postgresql://")) {
                    return Err(format!(
                        "--database-url: {value:?} is not a postgres:// URL (SQLite is the default)"
                    ));
                }
                options.database_url = Some(value);
            }
            "--leads" => options.leads = parse_count(&flag, &value)?,
            "--scenarios" => {
                options.scenarios = value
                    .split(',')
                    .map(|s| match s.trim() {
                        "bulk" => Ok(Scenario::Bulk),
                        "baseline" => Ok(Scenario::Baseline),
                        "concurrent" => Ok(Scenario::Concurrent),
                        "dedup" => Ok(Scenario::Dedup),
                        other => Err(format!("--scenarios: unknown scenario {other:?}")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--clients" => options.clients = parse_list(&flag, &value)?,
            "--seconds" => options.seconds = parse_count(&flag, &value)? as u64,
            "--dedup-sizes" => {
                let mut sizes = parse_list(&flag, &value)?;
                sizes.sort_unstable();
                sizes.dedup();
                options.dedup_sizes = sizes;
            }
            "--dedup-samples" => options.dedup_samples = parse_count(&flag, &value)?,
            "--baseline-chunk" => options.baseline_chunk = parse_count(&flag, &value)?,
            _ => unreachable!("checked above"),
        }
    }
    Ok(options)
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/// Seconds since the benchmark started, for progress lines.
fn stamp() -> String {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let start = START.get_or_init(Instant::now);
    format!("[{:7.1}s]", start.elapsed().as_secs_f64())
}

macro_rules! progress {
    ($($arg:tt)*) => { eprintln!("{} {}", stamp(), format_args!($($arg)*)) };
}

/// The current time, to the microsecond (what leadq stores).
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000_000.0
}

/// Rounds for the JSON line.
fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// A per-run random salt: seeded values are unique within a run and differ between runs.
#[derive(Debug, Clone)]
struct Salt {
    text: String,
    digits: u32,
}

impl Salt {
    fn new() -> Self {
        let v: u32 = rand::random();
        Self {
            text: format!("{v:08x}"),
            digits: v % 1000,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Databases: fresh ones per scenario, and raw sqlx access
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
        }
    }
}

/// A fresh, empty database; the SQLite directory is removed when this is dropped.
struct Fresh {
    url: String,
    kind: Kind,
    _dir: Option<tempfile::TempDir>,
}

/// Creates fresh databases and drops the PostgreSQL schemas at the end (even after a panic).
struct Databases {
    base: Option<String>,
    schemas: Mutex<Vec<String>>,
}

impl Databases {
    fn kind(&self) -> Kind {
        if self.base.is_some() {
            Kind::Postgres
        } else {
            Kind::Sqlite
        }
    }

    async fn fresh(&self, label: &str) -> Result<Fresh> {
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

    async fn drop_all(&self) {
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
enum Purpose {
    /// Bulk loading a throw-away database: no fsync, a large cache.
    Seed,
    /// The baseline: the same SQLite pragmas as leadq's own connections.
    LikeLeadq,
}

enum Pool {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

impl Pool {
    /// One connection (SQLite has one writer, and the baseline is sequential like
    /// `qualifyLeads`); two for seeding PostgreSQL (see [`Seeder`]).
    async fn connect(fresh: &Fresh, purpose: Purpose) -> Result<Self> {
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

    async fn acquire(&self, purpose: Purpose) -> Result<Conn> {
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

    async fn close(self) {
        match self {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Pg(pool) => pool.close().await,
        }
    }
}

/// A bind parameter. Everything is optional (binding `Some` to a NOT NULL column is fine);
/// arrays are for PostgreSQL's `UNNEST`.
#[derive(Debug, Clone)]
enum P {
    Uuid(Option<Uuid>),
    Text(Option<String>),
    Time(Option<DateTime<Utc>>),
    I64(Option<i64>),
    Bool(Option<bool>),
    Array(Arr),
}

#[derive(Debug, Clone)]
enum Arr {
    Uuid(Vec<Option<Uuid>>),
    Text(Vec<Option<String>>),
    Time(Vec<Option<DateTime<Utc>>>),
    I64(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
}

impl Arr {
    fn like(p: &P, capacity: usize) -> Result<Self> {
        Ok(match p {
            P::Uuid(_) => Arr::Uuid(Vec::with_capacity(capacity)),
            P::Text(_) => Arr::Text(Vec::with_capacity(capacity)),
            P::Time(_) => Arr::Time(Vec::with_capacity(capacity)),
            P::I64(_) => Arr::I64(Vec::with_capacity(capacity)),
            P::Bool(_) => Arr::Bool(Vec::with_capacity(capacity)),
            P::Array(_) => bail!("nested arrays"),
        })
    }

    fn push(&mut self, p: P) -> Result<()> {
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

    fn pg_type(&self) -> &'static str {
        match self {
            Arr::Uuid(_) => "uuid",
            Arr::Text(_) => "text",
            Arr::Time(_) => "timestamptz",
            Arr::I64(_) => "int8",
            Arr::Bool(_) => "bool",
        }
    }
}

type SqliteQuery = sqlx::query::Query<'static, Sqlite, SqliteArguments>;
type PgQuery = sqlx::query::Query<'static, Postgres, PgArguments>;

impl P {
    fn bind_sqlite(self, q: SqliteQuery) -> Result<SqliteQuery> {
        Ok(match self {
            P::Uuid(v) => q.bind(v),
            P::Text(v) => q.bind(v),
            P::Time(v) => q.bind(v),
            P::I64(v) => q.bind(v),
            P::Bool(v) => q.bind(v),
            P::Array(_) => bail!("arrays are for PostgreSQL only"),
        })
    }

    fn bind_pg(self, q: PgQuery) -> PgQuery {
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

fn u(v: Uuid) -> P {
    P::Uuid(Some(v))
}
fn ou(v: Option<Uuid>) -> P {
    P::Uuid(v)
}
fn t(v: impl Into<String>) -> P {
    P::Text(Some(v.into()))
}
fn ot(v: Option<&str>) -> P {
    P::Text(v.map(str::to_owned))
}
fn tm(v: DateTime<Utc>) -> P {
    P::Time(Some(v))
}

/// `?` placeholders to PostgreSQL's `$1, $2, ...` (no SQL here has a literal `?`).
fn numbered(sql: &str) -> String {
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
struct BaseLead {
    id: Uuid,
    topic: String,
    first_name: Option<String>,
    last_name: String,
    job_title: Option<String>,
    business_phone: Option<String>,
    mobile_phone: Option<String>,
    email: Option<String>,
    company_name: Option<String>,
    website: Option<String>,
    street1: Option<String>,
    street2: Option<String>,
    street3: Option<String>,
    city: Option<String>,
    state_or_province: Option<String>,
    postal_code: Option<String>,
    country_or_region: Option<String>,
    description: Option<String>,
    budget_amount_cents: Option<i64>,
    purchase_timeframe: Option<String>,
    purchase_process: Option<String>,
    decision_maker: Option<bool>,
    currency_code: Option<String>,
    owner_id: Uuid,
    state: String,
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
enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Pg(PoolConnection<Postgres>),
}

impl Conn {
    fn kind(&self) -> Kind {
        match self {
            Conn::Sqlite(_) => Kind::Sqlite,
            Conn::Pg(_) => Kind::Postgres,
        }
    }

    fn sqlite_query(sql: &str, params: Vec<P>) -> Result<SqliteQuery> {
        let mut q = sqlx::query::<Sqlite>(AssertSqlSafe(sql.to_owned()));
        for p in params {
            q = p.bind_sqlite(q)?;
        }
        Ok(q)
    }

    fn pg_query(sql: &str, params: Vec<P>) -> PgQuery {
        let mut q = sqlx::query::<Postgres>(AssertSqlSafe(numbered(sql)));
        for p in params {
            q = p.bind_pg(q);
        }
        q
    }

    /// Runs a statement; rows affected.
    async fn exec(&mut self, sql: &str, params: Vec<P>) -> Result<u64> {
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
    async fn raw(&mut self, sql: &str) -> Result<()> {
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

    /// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite, as leadq does.
    async fn begin(&mut self) -> Result<()> {
        match self.kind() {
            Kind::Sqlite => self.raw("BEGIN IMMEDIATE").await,
            Kind::Postgres => self.raw("BEGIN").await,
        }
    }

    async fn commit(&mut self) -> Result<()> {
        self.raw("COMMIT").await
    }

    async fn rollback(&mut self) -> Result<()> {
        self.raw("ROLLBACK").await
    }

    /// `(text, uuid)` rows: match keys and their record ids.
    async fn keys_and_ids(&mut self, sql: &str, params: Vec<P>) -> Result<Vec<(String, Uuid)>> {
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
    async fn int(&mut self, sql: &str) -> Result<i64> {
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
    async fn text_pairs(&mut self, sql: &str, params: Vec<P>) -> Result<Vec<(String, String)>> {
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

    async fn text(&mut self, sql: &str) -> Result<String> {
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
    async fn leads(&mut self, ids: &[Uuid]) -> Result<Vec<BaseLead>> {
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

/// A table and the columns the benchmark writes.
struct Table {
    name: &'static str,
    columns: &'static [&'static str],
}

const LEADS: Table = Table {
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

const ACCOUNTS: Table = Table {
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

const CONTACTS: Table = Table {
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

const OPPORTUNITIES: Table = Table {
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

const MATCH_KEYS: Table = Table {
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

const AUDIT_EVENTS: Table = Table {
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
async fn insert_rows(conn: &mut Conn, table: &Table, rows: Vec<Vec<P>>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let ncols = table.columns.len();
    let columns = table.columns.join(", ");
    let kind = conn.kind();
    let mut rows = rows.into_iter().peekable();
    if kind == Kind::Postgres && rows.len() >= 64 {
        while rows.peek().is_some() {
            let chunk: Vec<Vec<P>> = rows.by_ref().take(PG_UNNEST_ROWS).collect();
            let mut arrays: Vec<Arr> = chunk[0]
                .iter()
                .map(|p| Arr::like(p, chunk.len()))
                .collect::<Result<_>>()?;
            for row in chunk {
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
        return Ok(());
    }
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

/// Drops a table's secondary indexes (not those of constraints) for a bulk load; returns the
/// statements that recreate them exactly as the migrations made them.
async fn drop_indexes(conn: &mut Conn, table: &str) -> Result<Vec<String>> {
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

async fn recreate_indexes(conn: &mut Conn, statements: &[String]) -> Result<()> {
    for sql in statements {
        conn.raw(sql).await?;
    }
    Ok(())
}

/// On PostgreSQL, `VACUUM ANALYZE` after a bulk load: the state autovacuum would soon reach
/// (statistics, and a visibility map so that covering indexes allow index-only scans). SQLite
/// is left as leadq leaves it (no `ANALYZE`).
async fn vacuum(conn: &mut Conn, tables: &[&str]) -> Result<()> {
    if conn.kind() == Kind::Postgres {
        for table in tables {
            conn.raw(&format!("VACUUM ANALYZE {table}")).await?;
        }
    }
    Ok(())
}

/// Row counts that show what a run wrote.
async fn table_counts(fresh: &Fresh) -> Result<Value> {
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

// ---------------------------------------------------------------------------------------------
// Seeded records and their match keys
// ---------------------------------------------------------------------------------------------

/// An open lead (the defaults of a new lead) with values unique within the run.
fn make_lead(n: u64, salt: &Salt, owner: Uuid, now: DateTime<Utc>) -> lead::Model {
    let s = &salt.text;
    lead::Model {
        id: Uuid::now_v7(),
        topic: format!("Bench opportunity {n}"),
        first_name: Some(format!("Bfirst{s}x{n}")),
        last_name: format!("Blast{s}x{n}"),
        job_title: Some("Purchasing Manager".to_owned()),
        business_phone: Some(format!("+1 (555) {:03}-{n:010}", salt.digits)),
        mobile_phone: None,
        email: Some(format!("lead{n}.{s}@bench.example.com")),
        company_name: Some(format!("Bench Company {s} {n}")),
        website: Some(format!("https://www.company{n}-{s}.example.com/")),
        street1: Some(format!("{n} Main Street")),
        street2: None,
        street3: None,
        city: Some("Springfield".to_owned()),
        state_or_province: Some("IL".to_owned()),
        postal_code: Some("62701".to_owned()),
        country_or_region: Some("United States".to_owned()),
        description: Some("Seeded by the qualification benchmark".to_owned()),
        industry: None,
        lead_source: Some(LeadSource::Web),
        rating: Some(LeadRating::Warm),
        preferred_contact_method: None,
        purchase_timeframe: Some(PurchaseTimeframe::ThisQuarter),
        purchase_process: Some(PurchaseProcess::Committee),
        budget_amount_cents: Some(((n % 1_000) as i64 + 1) * 100_000),
        decision_maker: Some(n.is_multiple_of(2)),
        currency_code: None,
        existing_account_id: None,
        existing_contact_id: None,
        owner_id: owner,
        state: LeadState::Open,
        status_reason: LeadStatusReason::New,
        process_stage: ProcessStage::Qualify,
        qualified_account_id: None,
        qualified_contact_id: None,
        qualifying_opportunity_id: None,
        created_at: now,
        modified_at: now,
        qualified_at: None,
    }
}

fn lead_row(l: &lead::Model) -> Vec<P> {
    vec![
        u(l.id),
        t(&l.topic),
        ot(l.first_name.as_deref()),
        t(&l.last_name),
        ot(l.job_title.as_deref()),
        ot(l.business_phone.as_deref()),
        ot(l.mobile_phone.as_deref()),
        ot(l.email.as_deref()),
        ot(l.company_name.as_deref()),
        ot(l.website.as_deref()),
        ot(l.street1.as_deref()),
        ot(l.street2.as_deref()),
        ot(l.street3.as_deref()),
        ot(l.city.as_deref()),
        ot(l.state_or_province.as_deref()),
        ot(l.postal_code.as_deref()),
        ot(l.country_or_region.as_deref()),
        ot(l.description.as_deref()),
        ot(l.lead_source.map(|v| v.as_str())),
        ot(l.rating.map(|v| v.as_str())),
        ot(l.purchase_timeframe.map(|v| v.as_str())),
        ot(l.purchase_process.map(|v| v.as_str())),
        P::I64(l.budget_amount_cents),
        P::Bool(l.decision_maker),
        ot(l.currency_code.as_deref()),
        u(l.owner_id),
        t(l.state.as_str()),
        t(l.status_reason.as_str()),
        t(l.process_stage.as_str()),
        tm(l.created_at),
        tm(l.modified_at),
    ]
}

fn account_row(a: &account::Model) -> Vec<P> {
    vec![
        u(a.id),
        t(&a.name),
        ot(a.website.as_deref()),
        ot(a.phone.as_deref()),
        ot(a.email.as_deref()),
        ot(a.street1.as_deref()),
        ot(a.street2.as_deref()),
        ot(a.street3.as_deref()),
        ot(a.city.as_deref()),
        ot(a.state_or_province.as_deref()),
        ot(a.postal_code.as_deref()),
        ot(a.country_or_region.as_deref()),
        ou(a.primary_contact_id),
        ou(a.originating_lead_id),
        u(a.owner_id),
        t(a.state.as_str()),
        tm(a.created_at),
        tm(a.modified_at),
    ]
}

fn contact_row(c: &contact::Model) -> Vec<P> {
    vec![
        u(c.id),
        ot(c.first_name.as_deref()),
        t(&c.last_name),
        ot(c.job_title.as_deref()),
        ot(c.business_phone.as_deref()),
        ot(c.mobile_phone.as_deref()),
        ot(c.email.as_deref()),
        ot(c.street1.as_deref()),
        ot(c.street2.as_deref()),
        ot(c.street3.as_deref()),
        ot(c.city.as_deref()),
        ot(c.state_or_province.as_deref()),
        ot(c.postal_code.as_deref()),
        ot(c.country_or_region.as_deref()),
        ou(c.parent_account_id),
        ou(c.originating_lead_id),
        u(c.owner_id),
        t(c.state.as_str()),
        tm(c.created_at),
        tm(c.modified_at),
    ]
}

/// The value of a matchable field (as `service::duplicates` reads it). An unknown field stops the
/// benchmark: leadq gained a matchable field the seeding would silently leave out.
fn lead_value<'a>(l: &'a lead::Model, field: &str) -> Option<&'a str> {
    match field {
        "firstName" => l.first_name.as_deref(),
        "lastName" => Some(l.last_name.as_str()),
        "email" => l.email.as_deref(),
        "companyName" => l.company_name.as_deref(),
        "businessPhone" => l.business_phone.as_deref(),
        "mobilePhone" => l.mobile_phone.as_deref(),
        "website" => l.website.as_deref(),
        other => panic!("unknown matchable lead field {other:?}: teach the benchmark"),
    }
}

fn account_value<'a>(a: &'a account::Model, field: &str) -> Option<&'a str> {
    match field {
        "name" => Some(a.name.as_str()),
        "email" => a.email.as_deref(),
        "phone" => a.phone.as_deref(),
        "website" => a.website.as_deref(),
        other => panic!("unknown matchable account field {other:?}: teach the benchmark"),
    }
}

fn contact_value<'a>(c: &'a contact::Model, field: &str) -> Option<&'a str> {
    match field {
        "firstName" => c.first_name.as_deref(),
        "lastName" => Some(c.last_name.as_str()),
        "email" => c.email.as_deref(),
        "businessPhone" => c.business_phone.as_deref(),
        "mobilePhone" => c.mobile_phone.as_deref(),
        other => panic!("unknown matchable contact field {other:?}: teach the benchmark"),
    }
}

/// The `match_keys` rows of a record: one per non-blank matchable field, normalized by leadq's
/// own `domain::matching` (as `key_rows` in `service::duplicates`).
fn key_rows<'a>(
    record_type: DuplicateRecordType,
    id: Uuid,
    value: impl Fn(&str) -> Option<&'a str>,
) -> Vec<Vec<P>> {
    fields_of(record_type)
        .filter_map(|field| {
            let key = match_key(field.kind, value(field.name))?;
            Some(vec![
                t(record_type.as_str()),
                u(id),
                t(field.name),
                t(key.exact),
                t(key.folded),
                t(key.reversed),
            ])
        })
        .collect()
}

fn lead_keys(l: &lead::Model) -> Vec<Vec<P>> {
    key_rows(DuplicateRecordType::Lead, l.id, |f| lead_value(l, f))
}

fn account_keys(a: &account::Model) -> Vec<Vec<P>> {
    key_rows(DuplicateRecordType::Account, a.id, |f| account_value(a, f))
}

fn contact_keys(c: &contact::Model) -> Vec<Vec<P>> {
    key_rows(DuplicateRecordType::Contact, c.id, |f| contact_value(c, f))
}

fn dedup_account_name(k: usize, salt: &Salt) -> String {
    format!("Dedup Account {} {k}", salt.text)
}

fn dedup_contact_email(k: usize, salt: &Salt) -> String {
    format!("contact{k}.{}@dedup.example.net", salt.text)
}

fn make_account(k: usize, salt: &Salt, owner: Uuid, now: DateTime<Utc>) -> account::Model {
    let s = &salt.text;
    account::Model {
        id: Uuid::now_v7(),
        name: dedup_account_name(k, salt),
        website: Some(format!("https://account{k}-{s}.example.net")),
        phone: Some(format!("+44 20 {:03} {k:010}", salt.digits)),
        email: Some(format!("info{k}.{s}@dedup.example.net")),
        street1: Some(format!("{k} High Street")),
        street2: None,
        street3: None,
        city: Some("London".to_owned()),
        state_or_province: None,
        postal_code: Some("EC1A 1BB".to_owned()),
        country_or_region: Some("United Kingdom".to_owned()),
        primary_contact_id: None,
        originating_lead_id: None,
        owner_id: owner,
        state: RecordState::Active,
        created_at: now,
        modified_at: now,
    }
}

fn make_contact(
    k: usize,
    salt: &Salt,
    account: Uuid,
    owner: Uuid,
    now: DateTime<Utc>,
) -> contact::Model {
    let s = &salt.text;
    contact::Model {
        id: Uuid::now_v7(),
        first_name: Some(format!("Dfirst{s}x{k}")),
        last_name: format!("Dlast{s}x{k}"),
        job_title: Some("Buyer".to_owned()),
        business_phone: Some(format!("+49 30 {:03} {k:010}", salt.digits)),
        mobile_phone: Some(format!("+33 6 {:03} {k:010}", salt.digits)),
        email: Some(dedup_contact_email(k, salt)),
        street1: Some(format!("{k} Hauptstrasse")),
        street2: None,
        street3: None,
        city: Some("Berlin".to_owned()),
        state_or_province: None,
        postal_code: Some("10115".to_owned()),
        country_or_region: Some("Germany".to_owned()),
        parent_account_id: Some(account),
        originating_lead_id: None,
        owner_id: owner,
        state: RecordState::Active,
        created_at: now,
        modified_at: now,
    }
}

/// Bulk loading: records and their match keys in big transactions. On PostgreSQL the match keys
/// load on a second connection beside the records, so the server uses both cores.
struct Seeder {
    pool: Pool,
    main: Conn,
    side: Option<Conn>,
}

impl Seeder {
    async fn open(fresh: &Fresh) -> Result<Self> {
        let pool = Pool::connect(fresh, Purpose::Seed).await?;
        let main = pool.acquire(Purpose::Seed).await?;
        let side = match fresh.kind {
            Kind::Postgres => Some(pool.acquire(Purpose::Seed).await?),
            Kind::Sqlite => None,
        };
        Ok(Self { pool, main, side })
    }

    /// Inserts one chunk: `records` (table by table, in order) and `keys` (match keys).
    async fn load(
        &mut self,
        records: Vec<(&'static Table, Vec<Vec<P>>)>,
        keys: Vec<Vec<P>>,
    ) -> Result<()> {
        let Seeder { main, side, .. } = self;
        let (inline_keys, side_keys) = match side {
            Some(_) => (Vec::new(), keys),
            None => (keys, Vec::new()),
        };
        let load_records = async {
            main.begin().await?;
            for (table, rows) in records {
                insert_rows(main, table, rows).await?;
            }
            insert_rows(main, &MATCH_KEYS, inline_keys).await?;
            main.commit().await
        };
        match side {
            None => load_records.await,
            Some(side) => {
                let load_keys = async {
                    side.begin().await?;
                    insert_rows(side, &MATCH_KEYS, side_keys).await?;
                    side.commit().await
                };
                tokio::try_join!(load_records, load_keys).map(|_| ())
            }
        }
    }

    async fn close(self) {
        drop(self.main);
        drop(self.side);
        self.pool.close().await;
    }
}

/// Seeds `count` open leads owned by `owner` with their match keys; their ids, in order.
async fn seed_leads(fresh: &Fresh, owner: Uuid, count: usize, salt: &Salt) -> Result<Vec<Uuid>> {
    let started = Instant::now();
    let mut seeder = Seeder::open(fresh).await?;
    let indexes = drop_indexes(&mut seeder.main, "match_keys").await?;
    let now = now();
    let mut ids = Vec::with_capacity(count);
    for start in (0..count).step_by(SEED_CHUNK) {
        let end = (start + SEED_CHUNK).min(count);
        let leads: Vec<lead::Model> = (start..end)
            .map(|n| make_lead(n as u64, salt, owner, now))
            .collect();
        seeder
            .load(
                vec![(&LEADS, leads.iter().map(lead_row).collect())],
                leads.iter().flat_map(lead_keys).collect(),
            )
            .await?;
        ids.extend(leads.iter().map(|l| l.id));
        if end.is_multiple_of(50_000) || end == count {
            progress!("  seeded {end}/{count} leads");
        }
    }
    recreate_indexes(&mut seeder.main, &indexes).await?;
    vacuum(&mut seeder.main, &["leads", "match_keys"]).await?;
    seeder.close().await;
    progress!(
        "  seeded {count} leads in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(ids)
}

/// Migrates a fresh database through leadq, creates the benchmark's System Administrator, and
/// checks that the qualification settings create account, contact and opportunity
/// automatically. Returns the user id and whether the settings must be changed first.
async fn prepare(fresh: &Fresh) -> Result<(Uuid, bool)> {
    let db = leadq::startup::connect_and_migrate(&Settings::for_database(&fresh.url)).await?;
    let user = leadq::service::users::upsert_by_name(&db, "bench", &[Role::SystemAdministrator])
        .await
        .map_err(|e| anyhow!("cannot create the bench user: {}", e.message()))?;
    let settings = leadq::service::settings::get(&db.read)
        .await
        .map_err(|e| anyhow!("cannot read the settings: {}", e.message()))?;
    let automatic = leadq::domain::qualification::creation_modes(&settings)
        .iter()
        .all(|m| *m == CreationMode::Automatic);
    db.close().await;
    Ok((user.id, !automatic || settings.summarize_lead))
}

fn token(user: Uuid) -> Result<String> {
    leadq::auth::TokenKeys::new(SECRET.as_bytes(), None, None)
        .mint(user, chrono::Duration::hours(2))
        .map_err(|e| anyhow!("cannot mint a token: {}", e.message()))
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// The real server binary, killed when dropped (also when the benchmark panics).
struct Server {
    child: Child,
    base: String,
}

#[derive(Debug, Clone, Copy, Default)]
struct Memory {
    rss_mb: f64,
    peak_mb: f64,
}

impl Server {
    async fn start(url: &str) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_leadq"))
            .args([
                "--database-url",
                url,
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--max-bulk-leads",
                &MAX_BATCH.to_string(),
            ])
            .env("LEADQ_JWT_SECRET", SECRET)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start the leadq binary")?;
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!("the server exited at start: {status}");
            }
            if let Ok(r) = client.get(format!("{}/health", server.base)).send().await
                && r.status().is_success()
            {
                break;
            }
            ensure!(
                Instant::now() < deadline,
                "the server did not start in 60 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        progress!(
            "  server pid {} on {}, {:.0} MB RSS",
            server.child.id(),
            server.base,
            server.memory().rss_mb
        );
        Ok(server)
    }

    fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base)
    }

    /// VmRSS and VmHWM (peak) of the server process.
    fn memory(&self) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kb| kb.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        Memory {
            rss_mb: field("VmRSS:"),
            peak_mb: field("VmHWM:"),
        }
    }

    async fn graphql(
        &self,
        client: &reqwest::Client,
        token: &str,
        query: &str,
        variables: Value,
    ) -> Result<Value> {
        let response = client
            .post(self.graphql_url())
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        ensure!(status.is_success(), "HTTP {status}: {body}");
        Ok(body)
    }

    /// Switches to settings that create account, contact and opportunity automatically.
    async fn ensure_settings(&self, client: &reqwest::Client, token: &str) -> Result<()> {
        let body = self
            .graphql(client, token, UPDATE_SETTINGS, json!({}))
            .await?;
        ensure!(
            body.get("errors").is_none(),
            "updateQualificationSettings: {body}"
        );
        progress!("  qualification settings set to LEGACY, automatic creation");
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// Scenario: bulk
// ---------------------------------------------------------------------------------------------

async fn scenario_bulk(dbs: &Databases, options: &Options) -> Result<Value> {
    progress!("bulk: {} leads through qualifyLeads", options.leads);
    let fresh = dbs.fresh("bulk").await?;
    let (user, settings_needed) = prepare(&fresh).await?;
    let ids = seed_leads(&fresh, user, options.leads, &Salt::new()).await?;
    let token = token(user)?;
    let server = Server::start(&fresh.url).await?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3_600))
        .build()?;
    if settings_needed {
        server.ensure_settings(&client, &token).await?;
    }
    let mut batch_seconds = Vec::new();
    let mut rss_after = Vec::new();
    let (mut qualified, mut duplicates, mut failed) = (0u64, 0u64, 0u64);
    let mut errors = Vec::new();
    let mut total = Duration::ZERO;
    let batches = ids.len().div_ceil(MAX_BATCH);
    for (i, batch) in ids.chunks(MAX_BATCH).enumerate() {
        let lead_ids: Vec<String> = batch.iter().map(Uuid::to_string).collect();
        let started = Instant::now();
        let body = server
            .graphql(
                &client,
                &token,
                QUALIFY_LEADS,
                json!({ "i": { "leadIds": lead_ids } }),
            )
            .await
            .with_context(|| format!("qualifyLeads batch {}", i + 1))?;
        let elapsed = started.elapsed();
        total += elapsed;
        let memory = server.memory();
        let payload = &body["data"]["qualifyLeads"];
        let count = |name: &str| payload[name].as_u64().unwrap_or(0);
        let (q, d, f) = (
            count("qualifiedCount"),
            count("duplicatesFoundCount"),
            count("failedCount"),
        );
        qualified += q;
        duplicates += d;
        failed += f;
        if let Some(errs) = body.get("errors") {
            errors.push(format!("batch {}: {errs}", i + 1));
        } else if q != batch.len() as u64 {
            errors.push(format!(
                "batch {}: qualifiedCount {q} of {} (duplicates {d}, failed {f})",
                i + 1,
                batch.len()
            ));
        }
        batch_seconds.push(round(elapsed.as_secs_f64(), 3));
        rss_after.push(round(memory.rss_mb, 1));
        progress!(
            "  batch {}/{batches}: {} leads in {:.2}s ({:.0} leads/s), qualified {q}, RSS {:.1} MB",
            i + 1,
            batch.len(),
            elapsed.as_secs_f64(),
            batch.len() as f64 / elapsed.as_secs_f64(),
            memory.rss_mb
        );
    }
    let peak = server.memory().peak_mb;
    drop(server);
    for e in &errors {
        progress!("  ERROR {e}");
    }
    let rows = table_counts(&fresh).await?;
    progress!("  rows written: {rows}");
    let leads_per_s = ids.len() as f64 / total.as_secs_f64();
    let rss_first = rss_after.first().copied().unwrap_or(0.0);
    let rss_last = rss_after.last().copied().unwrap_or(0.0);
    Ok(json!({
        "leads": ids.len(),
        "batches": batches,
        "seconds": round(total.as_secs_f64(), 3),
        "leads_per_s": round(leads_per_s, 1),
        "qualified": qualified,
        "duplicates_found": duplicates,
        "failed": failed,
        "errors": errors.len(),
        "error_messages": errors,
        "batch_seconds": batch_seconds,
        "rss_mb_after_batch": rss_after,
        "rss_first_mb": rss_first,
        "rss_last_mb": rss_last,
        "rss_ratio_last_first": if rss_first > 0.0 { round(rss_last / rss_first, 3) } else { 0.0 },
        "peak_rss_mb": round(peak, 1),
        "rows": rows,
    }))
}

// ---------------------------------------------------------------------------------------------
// Scenario: baseline (raw SQL)
// ---------------------------------------------------------------------------------------------

/// One condition of a duplicate rule with the candidate's key: (record type, field, folded key).
type Condition = (&'static str, &'static str, String);

/// The published default rules that apply to a lead's new account and contact, with the
/// candidate's keys; a rule with a blank key is left out (the default rules ignore blanks). The
/// account e-mail rule never applies: a lead maps no e-mail to its account.
fn default_rules(account: &account::Model, contact: &contact::Model) -> Vec<Vec<Condition>> {
    use leadq::domain::matching::KeyKind;
    let key = |kind, value: Option<&str>| match_key(kind, value).map(|k| k.folded);
    let rules = [
        vec![("ACCOUNT", "name", key(KeyKind::Text, Some(&account.name)))],
        vec![(
            "ACCOUNT",
            "email",
            key(KeyKind::Email, account.email.as_deref()),
        )],
        vec![(
            "CONTACT",
            "email",
            key(KeyKind::Email, contact.email.as_deref()),
        )],
        vec![
            (
                "CONTACT",
                "firstName",
                key(KeyKind::Text, contact.first_name.as_deref()),
            ),
            (
                "CONTACT",
                "lastName",
                key(KeyKind::Text, Some(&contact.last_name)),
            ),
        ],
        vec![(
            "CONTACT",
            "businessPhone",
            key(KeyKind::Phone, contact.business_phone.as_deref()),
        )],
    ];
    rules
        .into_iter()
        .filter_map(|conditions| {
            conditions
                .into_iter()
                .map(|(record, field, key)| key.map(|key| (record, field, key)))
                .collect::<Option<Vec<_>>>()
        })
        .collect()
}

/// What qualifying one lead writes, built in memory from the lead as leadq's field mappings do.
struct Built {
    lead: Uuid,
    topic: String,
    account: account::Model,
    contact: contact::Model,
    opportunity_id: Uuid,
    opportunity: Vec<P>,
    rules: Vec<Vec<Condition>>,
}

fn build(l: &BaseLead, currency: &str, now: DateTime<Utc>) -> Built {
    let account = account::Model {
        id: Uuid::now_v7(),
        name: l.company_name.clone().unwrap_or_default(),
        website: l.website.clone(),
        phone: l.business_phone.clone(),
        email: None,
        street1: l.street1.clone(),
        street2: l.street2.clone(),
        street3: l.street3.clone(),
        city: l.city.clone(),
        state_or_province: l.state_or_province.clone(),
        postal_code: l.postal_code.clone(),
        country_or_region: l.country_or_region.clone(),
        primary_contact_id: None,
        originating_lead_id: Some(l.id),
        owner_id: l.owner_id,
        state: RecordState::Active,
        created_at: now,
        modified_at: now,
    };
    let contact = contact::Model {
        id: Uuid::now_v7(),
        first_name: l.first_name.clone(),
        last_name: l.last_name.clone(),
        job_title: l.job_title.clone(),
        business_phone: l.business_phone.clone(),
        mobile_phone: l.mobile_phone.clone(),
        email: l.email.clone(),
        street1: l.street1.clone(),
        street2: l.street2.clone(),
        street3: l.street3.clone(),
        city: l.city.clone(),
        state_or_province: l.state_or_province.clone(),
        postal_code: l.postal_code.clone(),
        country_or_region: l.country_or_region.clone(),
        parent_account_id: Some(account.id),
        originating_lead_id: Some(l.id),
        owner_id: l.owner_id,
        state: RecordState::Active,
        created_at: now,
        modified_at: now,
    };
    let opportunity_id = Uuid::now_v7();
    let opportunity = vec![
        u(opportunity_id),
        t(&l.topic),
        ot(l.description.as_deref()),
        u(account.id),
        u(contact.id),
        u(l.id),
        t(l.currency_code.as_deref().unwrap_or(currency)),
        P::I64(l.budget_amount_cents),
        ot(l.purchase_timeframe.as_deref()),
        ot(l.purchase_process.as_deref()),
        P::Bool(l.decision_maker),
        t(ProcessStage::Develop.as_str()),
        u(l.owner_id),
        t("OPEN"),
        tm(now),
        tm(now),
    ];
    let rules = default_rules(&account, &contact);
    Built {
        lead: l.id,
        topic: l.topic.clone(),
        account,
        contact,
        opportunity_id,
        opportunity,
        rules,
    }
}

/// The four audit rows leadq writes for a qualification.
fn audit_rows(b: &Built, actor: Uuid, now: DateTime<Utc>) -> Vec<Vec<P>> {
    let row = |record_type: &str, record_id: Uuid, action: &str, changes: Value| {
        vec![
            u(Uuid::now_v7()),
            tm(now),
            u(actor),
            t(record_type),
            u(record_id),
            t(action),
            t(changes.to_string()),
        ]
    };
    vec![
        row(
            "ACCOUNT",
            b.account.id,
            "CREATED",
            json!({ "name": b.account.name, "originatingLeadId": b.lead }),
        ),
        row(
            "CONTACT",
            b.contact.id,
            "CREATED",
            json!({ "lastName": b.contact.last_name, "originatingLeadId": b.lead }),
        ),
        row(
            "OPPORTUNITY",
            b.opportunity_id,
            "CREATED",
            json!({ "topic": b.topic, "originatingLeadId": b.lead }),
        ),
        row(
            "LEAD",
            b.lead,
            "QUALIFIED",
            json!({
                "state": { "from": "OPEN", "to": "QUALIFIED" },
                "accountId": b.account.id,
                "contactId": b.contact.id,
                "opportunityIds": [b.opportunity_id],
                "warnings": [],
            }),
        ),
    ]
}

#[derive(Debug, Default)]
struct RawOutcome {
    qualified: u64,
    duplicates: u64,
    closed: u64,
}

/// Qualifies leads with raw SQL in one transaction (one lead per call is the baseline the issue
/// asks for), writing exactly what leadq writes: the default duplicate lookups (one exact
/// `(record_type, field, key_folded)` index lookup per condition field, for all the leads of
/// the call at once), the accounts, contacts, their match keys, the opportunities, the audit
/// rows, each account's primary contact and each lead's guarded update.
async fn qualify_raw(
    conn: &mut Conn,
    leads: &[BaseLead],
    actor: Uuid,
    currency: &str,
) -> Result<RawOutcome> {
    let now = now();
    let mut outcome = RawOutcome::default();
    let mut built = Vec::with_capacity(leads.len());
    for l in leads {
        if l.state == LeadState::Open.as_str() {
            built.push(build(l, currency, now));
        } else {
            outcome.closed += 1;
        }
    }
    if built.is_empty() {
        return Ok(outcome);
    }
    conn.begin().await?;

    let mut wanted: BTreeMap<(&'static str, &'static str), Vec<String>> = BTreeMap::new();
    for b in &built {
        for (record, field, key) in b.rules.iter().flatten() {
            wanted
                .entry((*record, *field))
                .or_default()
                .push(key.clone());
        }
    }
    let mut existing: HashMap<Condition, Vec<Uuid>> = HashMap::new();
    for ((record, field), keys) in wanted {
        for chunk in keys.chunks(READ_CHUNK) {
            let sql = format!(
                "SELECT key_folded, record_id FROM match_keys WHERE record_type = ? AND field = ? AND key_folded IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut params = vec![t(record), t(field)];
            params.extend(chunk.iter().map(|k| t(k.as_str())));
            for (key, id) in conn.keys_and_ids(&sql, params).await? {
                existing.entry((record, field, key)).or_default().push(id);
            }
        }
    }
    // Each lead in turn: a rule matches when every condition finds a common record, existing
    // or created by an earlier lead of this call.
    let mut keep = Vec::with_capacity(built.len());
    for b in built {
        let duplicate = b.rules.iter().any(|rule| {
            let mut common: Option<Vec<Uuid>> = None;
            for condition in rule {
                let found = existing.get(condition).cloned().unwrap_or_default();
                common = Some(match common {
                    None => found,
                    Some(previous) => previous
                        .into_iter()
                        .filter(|id| found.contains(id))
                        .collect(),
                });
            }
            common.is_some_and(|ids| !ids.is_empty())
        });
        if duplicate {
            outcome.duplicates += 1;
            continue;
        }
        for condition in b.rules.iter().flatten() {
            let id = if condition.0 == "ACCOUNT" {
                b.account.id
            } else {
                b.contact.id
            };
            existing.entry(condition.clone()).or_default().push(id);
        }
        keep.push(b);
    }
    if keep.is_empty() {
        conn.rollback().await?;
        return Ok(outcome);
    }

    insert_rows(
        conn,
        &ACCOUNTS,
        keep.iter().map(|b| account_row(&b.account)).collect(),
    )
    .await?;
    insert_rows(
        conn,
        &CONTACTS,
        keep.iter().map(|b| contact_row(&b.contact)).collect(),
    )
    .await?;
    insert_rows(
        conn,
        &MATCH_KEYS,
        keep.iter()
            .flat_map(|b| {
                let mut keys = account_keys(&b.account);
                keys.extend(contact_keys(&b.contact));
                keys
            })
            .collect(),
    )
    .await?;
    for b in &keep {
        conn.exec(
            "UPDATE accounts SET primary_contact_id = ? WHERE id = ?",
            vec![u(b.contact.id), u(b.account.id)],
        )
        .await?;
    }
    insert_rows(
        conn,
        &OPPORTUNITIES,
        keep.iter_mut()
            .map(|b| std::mem::take(&mut b.opportunity))
            .collect(),
    )
    .await?;
    insert_rows(
        conn,
        &AUDIT_EVENTS,
        keep.iter()
            .flat_map(|b| audit_rows(b, actor, now))
            .collect(),
    )
    .await?;
    for b in &keep {
        let updated = conn
            .exec(
                "UPDATE leads SET state = 'QUALIFIED', status_reason = 'QUALIFIED', process_stage = 'DEVELOP',
                    qualified_at = ?, modified_at = ?, qualified_account_id = ?, qualified_contact_id = ?,
                    qualifying_opportunity_id = ?
                 WHERE id = ? AND state = 'OPEN'",
                vec![
                    tm(now),
                    tm(now),
                    u(b.account.id),
                    u(b.contact.id),
                    u(b.opportunity_id),
                    u(b.lead),
                ],
            )
            .await?;
        if updated != 1 {
            conn.rollback().await?;
            bail!("lead {} was closed by someone else", b.lead);
        }
    }
    conn.commit().await?;
    outcome.qualified = keep.len() as u64;
    Ok(outcome)
}

async fn scenario_baseline(dbs: &Databases, options: &Options) -> Result<Value> {
    let per_txn = options.baseline_chunk;
    progress!(
        "baseline: {} leads with raw SQL, {per_txn} lead(s) per transaction",
        options.leads
    );
    let fresh = dbs.fresh("baseline").await?;
    let (user, _) = prepare(&fresh).await?;
    let ids = seed_leads(&fresh, user, options.leads, &Salt::new()).await?;
    let pool = Pool::connect(&fresh, Purpose::LikeLeadq).await?;
    let mut conn = pool.acquire(Purpose::LikeLeadq).await?;
    let mut outcome = RawOutcome::default();
    let mut missing = 0u64;
    let mut total = Duration::ZERO;
    let batches = ids.len().div_ceil(MAX_BATCH);
    for (i, batch) in ids.chunks(MAX_BATCH).enumerate() {
        let started = Instant::now();
        let currency = conn
            .text("SELECT base_currency_code FROM qualification_settings WHERE id = 1")
            .await?;
        let mut by_id: HashMap<Uuid, BaseLead> = HashMap::with_capacity(batch.len());
        for chunk in batch.chunks(READ_CHUNK) {
            by_id.extend(conn.leads(chunk).await?.into_iter().map(|l| (l.id, l)));
        }
        let leads: Vec<BaseLead> = batch.iter().filter_map(|id| by_id.remove(id)).collect();
        missing += (batch.len() - leads.len()) as u64;
        for chunk in leads.chunks(per_txn) {
            let done = qualify_raw(&mut conn, chunk, user, &currency).await?;
            outcome.qualified += done.qualified;
            outcome.duplicates += done.duplicates;
            outcome.closed += done.closed;
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
    let errors = outcome.duplicates + outcome.closed + missing;
    if errors > 0 {
        progress!(
            "  ERROR duplicates {}, closed {}, missing {missing}",
            outcome.duplicates,
            outcome.closed
        );
    }
    Ok(json!({
        "leads": ids.len(),
        "leads_per_transaction": per_txn,
        "batches": batches,
        "seconds": round(total.as_secs_f64(), 3),
        "leads_per_s": round(ids.len() as f64 / total.as_secs_f64(), 1),
        "qualified": outcome.qualified,
        "duplicates_found": outcome.duplicates,
        "errors": errors,
        "rows": rows,
    }))
}

// ---------------------------------------------------------------------------------------------
// Scenario: concurrent
// ---------------------------------------------------------------------------------------------

/// What one timed run of C clients measured.
struct ClientRun {
    latencies: Vec<Duration>,
    successes: u64,
    not_qualified: u64,
    errors: u64,
    error_samples: Vec<String>,
    elapsed: Duration,
    exhausted: bool,
}

/// Shared by the client tasks of one run.
struct Shared {
    client: reqwest::Client,
    url: String,
    token: String,
    ids: Arc<Vec<String>>,
    next: AtomicUsize,
    end: usize,
    exhausted: AtomicBool,
}

/// One client: qualify the next lead of the pool until the deadline (or the pool is empty).
async fn client_loop(
    shared: Arc<Shared>,
    deadline: Instant,
) -> (Vec<Duration>, u64, u64, u64, Vec<String>) {
    let (mut latencies, mut ok, mut not_qualified, mut errors) = (Vec::new(), 0, 0, 0);
    let mut samples = Vec::new();
    while Instant::now() < deadline {
        let i = shared.next.fetch_add(1, Ordering::Relaxed);
        if i >= shared.end {
            shared.exhausted.store(true, Ordering::Relaxed);
            break;
        }
        let body =
            json!({ "query": QUALIFY_LEAD, "variables": { "i": { "leadId": shared.ids[i] } } });
        let started = Instant::now();
        let result = async {
            let response = shared
                .client
                .post(&shared.url)
                .bearer_auth(&shared.token)
                .json(&body)
                .send()
                .await
                .map_err(|e| format!("transport: {e}"))?;
            let status = response.status();
            let text = response.text().await.map_err(|e| format!("body: {e}"))?;
            let value: Value =
                serde_json::from_str(&text).map_err(|_| format!("HTTP {status}: {text:.200}"))?;
            if status != reqwest::StatusCode::OK || value.get("errors").is_some() {
                return Err(format!("HTTP {status}: {text:.300}"));
            }
            Ok(value["data"]["qualifyLead"]["outcome"] == "QUALIFIED")
        }
        .await;
        let elapsed = started.elapsed();
        match result {
            Ok(qualified) => {
                ok += 1;
                if !qualified {
                    not_qualified += 1;
                }
                latencies.push(elapsed);
            }
            Err(message) => {
                errors += 1;
                if samples.len() < 3 {
                    samples.push(message);
                }
            }
        }
    }
    (latencies, ok, not_qualified, errors, samples)
}

async fn run_clients(shared: &Arc<Shared>, clients: usize, duration: Duration) -> ClientRun {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|_| tokio::spawn(client_loop(shared.clone(), deadline)))
        .collect();
    let mut run = ClientRun {
        latencies: Vec::new(),
        successes: 0,
        not_qualified: 0,
        errors: 0,
        error_samples: Vec::new(),
        elapsed: Duration::ZERO,
        exhausted: false,
    };
    for task in tasks {
        let (latencies, ok, not_qualified, errors, samples) = task.await.expect("a client task");
        run.latencies.extend(latencies);
        run.successes += ok;
        run.not_qualified += not_qualified;
        run.errors += errors;
        for s in samples {
            if run.error_samples.len() < 5 {
                run.error_samples.push(s);
            }
        }
    }
    run.elapsed = started.elapsed();
    run.exhausted = shared.exhausted.load(Ordering::Relaxed);
    run.latencies.sort_unstable();
    run
}

async fn scenario_concurrent(dbs: &Databases, options: &Options) -> Result<Vec<Value>> {
    progress!(
        "concurrent: clients {:?}, {} s each, qualifyLead",
        options.clients,
        options.seconds
    );
    let fresh = dbs.fresh("concurrent").await?;
    let (user, settings_needed) = prepare(&fresh).await?;
    let total = CONCURRENT_POOL * options.clients.len();
    let ids = seed_leads(&fresh, user, total, &Salt::new()).await?;
    let ids: Arc<Vec<String>> = Arc::new(ids.iter().map(Uuid::to_string).collect());
    let token = token(user)?;
    let server = Server::start(&fresh.url).await?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(256)
        .build()?;
    if settings_needed {
        server.ensure_settings(&client, &token).await?;
    }
    let mut results = Vec::new();
    for (level, &clients) in options.clients.iter().enumerate() {
        let shared = Arc::new(Shared {
            client: client.clone(),
            url: server.graphql_url(),
            token: token.clone(),
            ids: ids.clone(),
            next: AtomicUsize::new(level * CONCURRENT_POOL),
            end: (level + 1) * CONCURRENT_POOL,
            exhausted: AtomicBool::new(false),
        });
        let warmup = run_clients(&shared, clients, CONCURRENT_WARMUP).await;
        progress!(
            "  {clients} clients: warm-up {} requests, {} errors",
            warmup.successes + warmup.errors,
            warmup.errors
        );
        let before = shared.next.load(Ordering::Relaxed).min(shared.end);
        let run = run_clients(&shared, clients, Duration::from_secs(options.seconds)).await;
        let used = shared.next.load(Ordering::Relaxed).min(shared.end) - before;
        let seconds = run.elapsed.as_secs_f64();
        let qps = run.successes as f64 / seconds;
        let (p50, p95, p99) = (
            percentile(&run.latencies, 50.0),
            percentile(&run.latencies, 95.0),
            percentile(&run.latencies, 99.0),
        );
        if run.exhausted {
            progress!(
                "  {clients} clients: the pool of {CONCURRENT_POOL} leads ran out: stopped early"
            );
        }
        for s in &run.error_samples {
            progress!("  ERROR {s}");
        }
        progress!(
            "  {clients} clients: {} ok ({} not QUALIFIED), {} errors in {seconds:.2}s: {qps:.0}/s, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
            run.successes,
            run.not_qualified,
            run.errors,
            ms(p50),
            ms(p95),
            ms(p99)
        );
        results.push(json!({
            "clients": clients,
            "seconds": round(seconds, 3),
            "requests": run.successes + run.errors,
            "successes": run.successes,
            "not_qualified": run.not_qualified,
            "errors": run.errors,
            "error_samples": run.error_samples,
            "leads_used": used,
            "pool_exhausted": run.exhausted,
            "qps": round(qps, 1),
            "p50_ms": round(ms(p50), 3),
            "p95_ms": round(ms(p95), 3),
            "p99_ms": round(ms(p99), 3),
            "max_ms": round(ms(run.latencies.last().copied().unwrap_or_default()), 3),
            "server_rss_mb": round(server.memory().rss_mb, 1),
        }));
    }
    let peak = server.memory().peak_mb;
    drop(server);
    for r in &mut results {
        r["server_peak_rss_mb"] = json!(round(peak, 1));
    }
    Ok(results)
}

// ---------------------------------------------------------------------------------------------
// Scenario: dedup
// ---------------------------------------------------------------------------------------------

/// Seeds accounts and contacts `from..to` (one contact per account) with their match keys.
async fn seed_accounts_and_contacts(
    seeder: &mut Seeder,
    from: usize,
    to: usize,
    salt: &Salt,
    owner: Uuid,
) -> Result<()> {
    let started = Instant::now();
    let now = now();
    let mut dropped = Vec::new();
    for table in ["match_keys", "accounts", "contacts"] {
        dropped.extend(drop_indexes(&mut seeder.main, table).await?);
    }
    let mut last_report = Instant::now();
    for start in (from..to).step_by(DEDUP_SEED_CHUNK) {
        let end = (start + DEDUP_SEED_CHUNK).min(to);
        let accounts: Vec<account::Model> = (start..end)
            .map(|k| make_account(k, salt, owner, now))
            .collect();
        let contacts: Vec<contact::Model> = accounts
            .iter()
            .zip(start..end)
            .map(|(a, k)| make_contact(k, salt, a.id, owner, now))
            .collect();
        let mut keys: Vec<Vec<P>> = accounts.iter().flat_map(account_keys).collect();
        keys.extend(contacts.iter().flat_map(contact_keys));
        seeder
            .load(
                vec![
                    (&ACCOUNTS, accounts.iter().map(account_row).collect()),
                    (&CONTACTS, contacts.iter().map(contact_row).collect()),
                ],
                keys,
            )
            .await?;
        if last_report.elapsed() > Duration::from_secs(10) || end == to {
            last_report = Instant::now();
            let done = end - from;
            progress!(
                "  seeded {end}/{to} accounts and contacts ({:.0} pairs/s)",
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    progress!("  rebuilding {} indexes", dropped.len());
    recreate_indexes(&mut seeder.main, &dropped).await?;
    vacuum(&mut seeder.main, &["accounts", "contacts", "match_keys"]).await?;
    progress!(
        "  seeding to {to} took {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn scenario_dedup(dbs: &Databases, options: &Options) -> Result<Vec<Value>> {
    progress!(
        "dedup: sizes {:?}, {} samples each",
        options.dedup_sizes,
        options.dedup_samples
    );
    let fresh = dbs.fresh("dedup").await?;
    let db = leadq::startup::connect_and_migrate(&Settings::for_database(&fresh.url)).await?;
    let owner = leadq::service::users::upsert_by_name(&db, "bench", &[Role::SystemAdministrator])
        .await
        .map_err(|e| anyhow!("cannot create the bench user: {}", e.message()))?
        .id;
    let mut seeder = Seeder::open(&fresh).await?;
    let salt = Salt::new();
    let candidate_salt = Salt::new();
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let mut have = 0;
    let mut counter = CANDIDATE_BASE;
    let mut results = Vec::new();
    for &size in &options.dedup_sizes {
        let seed_started = Instant::now();
        seed_accounts_and_contacts(&mut seeder, have, size, &salt, owner).await?;
        let seed_seconds = seed_started.elapsed().as_secs_f64();
        have = size;
        let (mut expected, mut found, mut unexpected) = (0u64, 0u64, 0u64);
        let mut latencies = Vec::with_capacity(options.dedup_samples);
        for i in 0..DEDUP_WARMUP + options.dedup_samples {
            counter += 1;
            let now = now();
            let mut l = make_lead(counter, &candidate_salt, owner, now);
            let shares = i % 10 == 5;
            if shares {
                let k = rng.random_range(0..size);
                if (i / 10) % 2 == 0 {
                    l.company_name = Some(dedup_account_name(k, &salt));
                } else {
                    l.email = Some(dedup_contact_email(k, &salt));
                }
            }
            let account = leadq::domain::qualification::mapped_account(&l, owner, now)
                .map_err(|e| anyhow!("mapped_account: {}", e.message()))?;
            let contact = leadq::domain::qualification::mapped_contact(&l, owner, now)
                .map_err(|e| anyhow!("mapped_contact: {}", e.message()))?;
            let started = Instant::now();
            let accounts = leadq::service::duplicates::account_matches(&db.read, &account)
                .await
                .map_err(|e| anyhow!("account_matches: {}", e.message()))?;
            let contacts = leadq::service::duplicates::contact_matches(&db.read, &contact)
                .await
                .map_err(|e| anyhow!("contact_matches: {}", e.message()))?;
            let elapsed = started.elapsed();
            if i < DEDUP_WARMUP {
                continue;
            }
            latencies.push(elapsed);
            let matched = !accounts.is_empty() || !contacts.is_empty();
            match (shares, matched) {
                (true, true) => {
                    expected += 1;
                    found += 1;
                }
                (true, false) => expected += 1,
                (false, true) => unexpected += 1,
                (false, false) => {}
            }
        }
        latencies.sort_unstable();
        let (p50, p99) = (percentile(&latencies, 50.0), percentile(&latencies, 99.0));
        if found != expected || unexpected > 0 {
            progress!(
                "  ERROR at {size}: {found} of {expected} planted duplicates found, {unexpected} unexpected matches"
            );
        }
        progress!(
            "  {size} accounts + {size} contacts: p50 {:.0} µs, p99 {:.0} µs ({found}/{expected} planted duplicates found)",
            us(p50),
            us(p99)
        );
        results.push(json!({
            "size": size,
            "samples": latencies.len(),
            "p50_us": round(us(p50), 1),
            "p99_us": round(us(p99), 1),
            "max_us": round(us(latencies.last().copied().unwrap_or_default()), 1),
            "planted_duplicates": expected,
            "planted_found": found,
            "unexpected_matches": unexpected,
            "seed_seconds": round(seed_seconds, 1),
        }));
    }
    seeder.close().await;
    db.close().await;
    Ok(results)
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

struct Line {
    scenario: String,
    figure: String,
    value: String,
    goal: String,
    result: String,
}

fn verdict(pass: Option<bool>) -> String {
    match pass {
        Some(true) => "pass".to_owned(),
        Some(false) => "MISS".to_owned(),
        None => "n/a".to_owned(),
    }
}

fn line(scenario: &str, figure: &str, value: String) -> Line {
    Line {
        scenario: scenario.to_owned(),
        figure: figure.to_owned(),
        value,
        goal: String::new(),
        result: String::new(),
    }
}

/// Adds a goal line and its JSON entry.
fn goal(
    lines: &mut Vec<Line>,
    goals: &mut serde_json::Map<String, Value>,
    (scenario, figure, key): (&str, &str, &str),
    value: Option<f64>,
    (text, pass): (&str, Option<bool>),
    shown: String,
) {
    lines.push(Line {
        scenario: scenario.to_owned(),
        figure: figure.to_owned(),
        value: shown,
        goal: text.to_owned(),
        result: verdict(pass),
    });
    goals.insert(
        key.to_owned(),
        json!({ "value": value.map(|v| round(v, 3)), "goal": text, "pass": pass }),
    );
}

fn report(
    kind: Kind,
    options: &Options,
    results: &BTreeMap<&'static str, Value>,
    elapsed: Duration,
) -> (Vec<Line>, Value) {
    let mut lines = Vec::new();
    let mut goals = serde_json::Map::new();
    let num = |v: &Value, k: &str| v[k].as_f64();

    let bulk = results.get("bulk");
    let baseline = results.get("baseline");
    let ratio = match (bulk, baseline) {
        (Some(b), Some(r)) => match (num(b, "leads_per_s"), num(r, "leads_per_s")) {
            (Some(b), Some(r)) if r > 0.0 => Some(b / r),
            _ => None,
        },
        _ => None,
    };
    if let Some(b) = bulk {
        let lps = num(b, "leads_per_s");
        lines.push(line("bulk", "leads", format!("{}", b["leads"])));
        lines.push(line(
            "bulk",
            "seconds",
            format!("{:.2}", num(b, "seconds").unwrap_or(0.0)),
        ));
        let sqlite = kind == Kind::Sqlite;
        goal(
            &mut lines,
            &mut goals,
            ("bulk", "leads/s", "bulk_leads_per_s"),
            lps,
            (
                if sqlite {
                    ">= 5000 (SQLite)"
                } else {
                    ">= 5000 (SQLite only)"
                },
                if sqlite {
                    lps.map(|v| v >= GOAL_BULK_LEADS_PER_S)
                } else {
                    None
                },
            ),
            format!("{:.0}", lps.unwrap_or(0.0)),
        );
        let errors = num(b, "errors").unwrap_or(0.0) + num(b, "failed").unwrap_or(0.0);
        lines.push(line(
            "bulk",
            "errors / failed / duplicates",
            format!(
                "{} / {} / {}",
                b["errors"], b["failed"], b["duplicates_found"]
            ),
        ));
        goals.insert(
            "bulk_no_errors".to_owned(),
            json!({ "value": errors, "goal": "0", "pass": errors == 0.0 }),
        );
        lines.push(line(
            "bulk",
            "server RSS first / last batch (MB)",
            format!(
                "{:.1} / {:.1}",
                num(b, "rss_first_mb").unwrap_or(0.0),
                num(b, "rss_last_mb").unwrap_or(0.0)
            ),
        ));
        lines.push(line(
            "bulk",
            "server peak RSS (MB)",
            format!("{:.1}", num(b, "peak_rss_mb").unwrap_or(0.0)),
        ));
        let batches = b["batches"].as_u64().unwrap_or(0) as usize;
        let rss_ratio = num(b, "rss_ratio_last_first");
        let enough = batches >= GOAL_RSS_BATCHES;
        goal(
            &mut lines,
            &mut goals,
            ("bulk", "RSS last / first batch", "bulk_rss_ratio"),
            rss_ratio,
            (
                if enough {
                    "<= 1.3 after 10 batches"
                } else {
                    "<= 1.3 after 10 batches (needs --leads 100000)"
                },
                if enough {
                    rss_ratio.map(|r| r <= GOAL_RSS_RATIO)
                } else {
                    None
                },
            ),
            format!("{:.3}", rss_ratio.unwrap_or(0.0)),
        );
    }
    if let Some(r) = baseline {
        lines.push(line(
            "baseline",
            &format!(
                "leads/s (raw SQL, {} lead(s)/txn)",
                r["leads_per_transaction"]
            ),
            format!("{:.0}", num(r, "leads_per_s").unwrap_or(0.0)),
        ));
        lines.push(line("baseline", "errors", format!("{}", r["errors"])));
    }
    if bulk.is_some() || baseline.is_some() {
        goal(
            &mut lines,
            &mut goals,
            ("bulk", "bulk / baseline", "bulk_vs_baseline"),
            ratio,
            (">= 0.5", ratio.map(|r| r >= GOAL_BULK_VS_BASELINE)),
            ratio.map_or("-".to_owned(), |r| format!("{r:.3}")),
        );
    }
    if let Some(Value::Array(levels)) = results.get("concurrent") {
        for level in levels {
            let c = level["clients"].as_u64().unwrap_or(0) as usize;
            let scenario = format!("concurrent {c}");
            lines.push(line(
                &scenario,
                "qualifications/s",
                format!("{:.0}", num(level, "qps").unwrap_or(0.0)),
            ));
            lines.push(line(
                &scenario,
                "p50 / p95 (ms)",
                format!(
                    "{:.2} / {:.2}",
                    num(level, "p50_ms").unwrap_or(0.0),
                    num(level, "p95_ms").unwrap_or(0.0)
                ),
            ));
            let p99 = num(level, "p99_ms");
            if c == GOAL_P99_CLIENTS {
                goal(
                    &mut lines,
                    &mut goals,
                    (&scenario, "p99 (ms)", "concurrent_32_p99_ms"),
                    p99,
                    ("<= 10", p99.map(|p| p <= GOAL_P99_MS)),
                    format!("{:.2}", p99.unwrap_or(0.0)),
                );
            } else {
                lines.push(line(
                    &scenario,
                    "p99 (ms)",
                    format!("{:.2}", p99.unwrap_or(0.0)),
                ));
            }
            let errors = num(level, "errors");
            goal(
                &mut lines,
                &mut goals,
                (&scenario, "errors", &format!("concurrent_{c}_errors")),
                errors,
                ("0", errors.map(|e| e == 0.0)),
                format!("{}", level["errors"]),
            );
            if level["pool_exhausted"] == true {
                lines.push(line(
                    &scenario,
                    "note",
                    "lead pool ran out: stopped early".to_owned(),
                ));
            }
        }
    }
    let mut dedup_ratios = json!(null);
    if let Some(Value::Array(sizes)) = results.get("dedup") {
        for size in sizes {
            let scenario = format!("dedup {}", size["size"]);
            lines.push(line(
                &scenario,
                "p50 / p99 (µs)",
                format!(
                    "{:.0} / {:.0}",
                    num(size, "p50_us").unwrap_or(0.0),
                    num(size, "p99_us").unwrap_or(0.0)
                ),
            ));
            lines.push(line(
                &scenario,
                "planted duplicates found",
                format!("{} / {}", size["planted_found"], size["planted_duplicates"]),
            ));
        }
        if let (Some(first), Some(last)) = (sizes.first(), sizes.last())
            && sizes.len() > 1
        {
            let r = |k: &str| match (num(last, k), num(first, k)) {
                (Some(a), Some(b)) if b > 0.0 => Some(a / b),
                _ => None,
            };
            let (r50, r99) = (r("p50_us"), r("p99_us"));
            let label = format!("{} / {}", last["size"], first["size"]);
            goal(
                &mut lines,
                &mut goals,
                ("dedup", &format!("p50 ratio {label}"), "dedup_p50_ratio"),
                r50,
                ("<= 2", r50.map(|v| v <= GOAL_DEDUP_RATIO)),
                format!("{:.2}", r50.unwrap_or(0.0)),
            );
            goal(
                &mut lines,
                &mut goals,
                ("dedup", &format!("p99 ratio {label}"), "dedup_p99_ratio"),
                r99,
                ("<= 2", r99.map(|v| v <= GOAL_DEDUP_RATIO)),
                format!("{:.2}", r99.unwrap_or(0.0)),
            );
            dedup_ratios = json!({
                "smallest": first["size"],
                "largest": last["size"],
                "p50": r50.map(|v| round(v, 3)),
                "p99": r99.map(|v| round(v, 3)),
            });
        }
    }
    let mut out = serde_json::Map::new();
    out.insert("database".to_owned(), json!(kind.name()));
    out.insert(
        "options".to_owned(),
        json!({
            "leads": options.leads,
            "clients": options.clients,
            "seconds": options.seconds,
            "dedup_sizes": options.dedup_sizes,
            "dedup_samples": options.dedup_samples,
            "baseline_chunk": options.baseline_chunk,
        }),
    );
    for (name, value) in results {
        out.insert((*name).to_owned(), value.clone());
    }
    if let Some(b) = out.get_mut("baseline") {
        b["ratio_bulk_to_baseline"] = json!(ratio.map(|r| round(r, 3)));
    }
    if results.contains_key("dedup") {
        out.insert("dedup_ratio".to_owned(), dedup_ratios);
    }
    out.insert("goals".to_owned(), Value::Object(goals));
    out.insert(
        "elapsed_s".to_owned(),
        json!(round(elapsed.as_secs_f64(), 1)),
    );
    (lines, Value::Object(out))
}

fn print_table(lines: &[Line]) {
    let headers = ["scenario", "figure", "value", "goal", "result"];
    let cells: Vec<[&str; 5]> = lines
        .iter()
        .map(|l| {
            [
                l.scenario.as_str(),
                l.figure.as_str(),
                l.value.as_str(),
                l.goal.as_str(),
                l.result.as_str(),
            ]
        })
        .collect();
    let mut widths = headers.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let print_row = |row: [&str; 5]| {
        let mut s = String::new();
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            let pad = w - c.chars().count();
            if i == 2 {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            }
        }
        println!("{}", s.trim_end());
    };
    print_row(headers);
    println!("{}", "-".repeat(widths.iter().sum::<usize>() + 8));
    for row in cells {
        print_row(row);
    }
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async fn run(options: Options, dbs: Arc<Databases>) -> Result<()> {
    let started = Instant::now();
    let kind = dbs.kind();
    progress!(
        "leadq qualification benchmark on {} ({} leads, {} cores)",
        kind.name(),
        options.leads,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut results: BTreeMap<&'static str, Value> = BTreeMap::new();
    if options.runs(Scenario::Bulk) {
        results.insert("bulk", scenario_bulk(&dbs, &options).await?);
    }
    if options.runs(Scenario::Baseline) {
        results.insert("baseline", scenario_baseline(&dbs, &options).await?);
    }
    if options.runs(Scenario::Concurrent) {
        results.insert(
            "concurrent",
            Value::Array(scenario_concurrent(&dbs, &options).await?),
        );
    }
    if options.runs(Scenario::Dedup) {
        results.insert("dedup", Value::Array(scenario_dedup(&dbs, &options).await?));
    }
    let (lines, json) = report(kind, &options, &results, started.elapsed());
    println!();
    println!(
        "leadq qualification benchmark: {} ({} s)",
        kind.name(),
        started.elapsed().as_secs()
    );
    print_table(&lines);
    println!("{json}");
    Ok(())
}

fn main() {
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return;
        }
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let _ = stamp();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let code = runtime.block_on(async {
        let dbs = Arc::new(Databases {
            base: options.database_url.clone(),
            schemas: Mutex::new(Vec::new()),
        });
        // In a task, so a panic still reaches the cleanup below (the server is killed by its
        // Drop as the task unwinds).
        let outcome = tokio::spawn(run(options, dbs.clone())).await;
        dbs.drop_all().await;
        match outcome {
            Ok(Ok(())) => 0,
            Ok(Err(err)) => {
                eprintln!("benchmark failed: {err:#}");
                1
            }
            Err(err) => {
                eprintln!("benchmark panicked: {err}");
                101
            }
        }
    });
    std::process::exit(code);
}
