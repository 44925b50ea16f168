//! Database connections.
//!
//! SQLite allows one writer at a time. Instead of letting writers collide and retry ("database is
//! locked"), leadq keeps **one writer connection** beside a pool of readers: every write
//! transaction goes through [`Db::begin_write`], which waits its turn for the writer connection
//! and starts with `BEGIN IMMEDIATE`; readers run concurrently in WAL mode and never block it.
//! `busy_timeout` covers a writer from another process (a CLI command, or a second server on
//! the same file); past it the request fails with the retryable `SERVER_BUSY`.
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

/// How long a request waits for a connection before giving up (then the database counts as
/// unavailable: `DATABASE_UNAVAILABLE`).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(15);

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

/// How to connect, beyond the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Connections in the read pool (the whole pool on PostgreSQL).
    pub pool_size: u32,
    /// The longest wait for a lock: PostgreSQL `lock_timeout`, SQLite `busy_timeout` (another
    /// process's writer).
    pub lock_timeout: Duration,
    /// Statements running longer are stopped (the request timeout): `statement_timeout` on
    /// PostgreSQL, an interrupt of the read connections on SQLite (see [`crate::db_limits`]).
    /// `None` for connections that must not be cut short (migrations).
    pub statement_limit: Option<Duration>,
}

impl ConnectOptions {
    /// A pool of `pool_size` waiting at most 5 s for a lock, with no statement limit.
    pub fn with_pool_size(pool_size: u32) -> Self {
        Self {
            pool_size,
            lock_timeout: Duration::from_secs(5),
            statement_limit: None,
        }
    }
}

/// Connects to `url` (`sqlite:...` or `postgres:...`).
pub async fn connect(url: &str, options: ConnectOptions) -> Result<Db, DbErr> {
    if url.starts_with("sqlite:") {
        connect_sqlite(url, options).await
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        connect_postgres(url, options).await
    } else {
        Err(DbErr::Custom(format!(
            "unsupported database URL {url:?}: use sqlite://FILE?mode=rwc or postgres://..."
        )))
    }
}

async fn connect_sqlite(url: &str, connect: ConnectOptions) -> Result<Db, DbErr> {
    let pool_size = connect.pool_size;
    let statement_limit = connect.statement_limit;
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| DbErr::Custom(format!("invalid SQLite URL: {e}")))?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(connect.lock_timeout)
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

/// PostgreSQL: one pool; every connection gets `lock_timeout` (and `statement_timeout` when
/// there is a statement limit), so a lock held too long by another transaction (or process)
/// ends in a clear, retryable error instead of an endless wait. A connection the server dropped
/// (a restart, `pg_terminate_backend`) is noticed when it is next taken from the pool and
/// replaced, so the server recovers by itself.
async fn connect_postgres(url: &str, options: ConnectOptions) -> Result<Db, DbErr> {
    let connect = PgConnectOptions::from_str(url)
        .map_err(|e| DbErr::Custom(format!("invalid PostgreSQL URL: {e}")))?
        .options([("lock_timeout", options.lock_timeout.as_millis().to_string())]);
    let connect = crate::db_limits::postgres_statement_timeout(connect, options.statement_limit);
    let pool = PgPoolOptions::new()
        .max_connections(options.pool_size.max(2))
        .test_before_acquire(true)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(connect)
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
