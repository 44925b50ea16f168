//! Database connections.
//!
//! SQLite allows one writer at a time. Instead of letting writers collide and retry ("database is
//! locked"), leadq keeps **one writer connection** beside a pool of readers: every write
//! transaction goes through [`Db::begin_write`], which waits its turn for the writer connection
//! and starts with `BEGIN IMMEDIATE`; readers run concurrently in WAL mode and never block it.
//! `busy_timeout` covers the rare writer from another process (a CLI command beside the server).
//!
//! PostgreSQL has real concurrent writers: reads and writes share one pool.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    SqlxPostgresConnector, SqlxSqliteConnector, TransactionOptions, TransactionTrait,
};

/// How long a request waits for a connection before giving up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long SQLite waits on a lock held by another process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The application's database handles.
#[derive(Clone, Debug)]
pub struct Db {
    /// For queries. On SQLite, a pool of read connections.
    pub read: DatabaseConnection,
    /// For write transactions. On SQLite, the single writer connection.
    pub write: DatabaseConnection,
    /// Statements run since connecting (a metric; tests use it to prove batching).
    statements: Arc<AtomicU64>,
}

impl Db {
    /// The kind of database.
    pub fn backend(&self) -> DbBackend {
        self.write.get_database_backend()
    }

    /// Begins a write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        self.write
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
    }

    /// How many statements have run on these connections.
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Closes every connection (tests and CLI commands call this before removing a database).
    pub async fn close(self) {
        let _ = self.read.close().await;
        let _ = self.write.close().await;
    }
}

/// Connects to `url` (`sqlite:...` or `postgres:...`).
pub async fn connect(url: &str, pool_size: u32) -> Result<Db, DbErr> {
    connect_with_statement_limit(url, pool_size, None).await
}

/// Connects to `url`, stopping any statement that runs longer than `statement_limit` (the
/// request timeout): `statement_timeout` on PostgreSQL, an interrupt of the read connections on
/// SQLite (see [`crate::db_limits`]).
pub async fn connect_with_statement_limit(
    url: &str,
    pool_size: u32,
    statement_limit: Option<Duration>,
) -> Result<Db, DbErr> {
    if url.starts_with("sqlite:") {
        connect_sqlite(url, pool_size, statement_limit).await
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        connect_postgres(url, pool_size, statement_limit).await
    } else {
        Err(DbErr::Custom(format!(
            "unsupported database URL {url:?}: use sqlite://FILE?mode=rwc or postgres://..."
        )))
    }
}

async fn connect_sqlite(
    url: &str,
    pool_size: u32,
    statement_limit: Option<Duration>,
) -> Result<Db, DbErr> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| DbErr::Custom(format!("invalid SQLite URL: {e}")))?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        .pragma("temp_store", "memory")
        .pragma("cache_size", "-32000");
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");

    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options.clone())
        .await
        .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::Internal(e.to_string())))?;
    let statements = Arc::new(AtomicU64::new(0));
    let write = counted(
        SqlxSqliteConnector::from_sqlx_sqlite_pool(writer),
        &statements,
    );
    if in_memory {
        // An in-memory database lives in one connection: it has to serve reads as well.
        return Ok(Db {
            read: write.clone(),
            write,
            statements,
        });
    }
    let readers = SqlitePoolOptions::new()
        .max_connections(pool_size.max(1))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(move |conn, _| {
            Box::pin(crate::db_limits::interrupt_long_sqlite_statements(
                conn,
                statement_limit,
            ))
        })
        .connect_with(options.read_only(true))
        .await
        .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::Internal(e.to_string())))?;
    Ok(Db {
        read: counted(
            SqlxSqliteConnector::from_sqlx_sqlite_pool(readers),
            &statements,
        ),
        write,
        statements,
    })
}

async fn connect_postgres(
    url: &str,
    pool_size: u32,
    statement_limit: Option<Duration>,
) -> Result<Db, DbErr> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| DbErr::Custom(format!("invalid PostgreSQL URL: {e}")))?;
    let options = crate::db_limits::postgres_statement_timeout(options, statement_limit);
    let pool = PgPoolOptions::new()
        .max_connections(pool_size.max(2))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::Internal(e.to_string())))?;
    let statements = Arc::new(AtomicU64::new(0));
    let conn = counted(
        SqlxPostgresConnector::from_sqlx_postgres_pool(pool),
        &statements,
    );
    Ok(Db {
        read: conn.clone(),
        write: conn,
        statements,
    })
}

/// Counts the statements run on `conn` into `counter`.
fn counted(mut conn: DatabaseConnection, counter: &Arc<AtomicU64>) -> DatabaseConnection {
    let counter = counter.clone();
    conn.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    conn
}
