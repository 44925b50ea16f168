//! Time limits inside the database, so that a request stopped at its timeout stops its
//! statements too (dropping a query's future does not stop the server's work).
//!
//! - PostgreSQL: `statement_timeout` on every connection (the request timeout);
//! - SQLite: a progress handler on every read connection interrupts a statement that has been
//!   running for longer than the request timeout (`SQLITE_INTERRUPT`). SQLite's handler is
//!   called every few thousand virtual-machine steps while a statement runs and never between
//!   statements, so a pause of [`IDLE_GAP`] between calls marks the start of a new run; statements
//!   of one request that follow each other without a pause count as one run. Write transactions
//!   (the single writer) are not interrupted: a bulk write is bounded by its chunking instead.

use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::SqliteConnection;

/// Virtual-machine steps between two calls of the SQLite progress handler.
const SQLITE_PROGRESS_STEPS: i32 = 10_000;
/// A pause between two progress calls longer than this starts a new run.
pub const IDLE_GAP: Duration = Duration::from_millis(250);

/// Installs the interrupting progress handler on a new SQLite connection (when a limit is set).
pub async fn interrupt_long_sqlite_statements(
    conn: &mut SqliteConnection,
    limit: Option<Duration>,
) -> Result<(), sea_orm::sqlx::Error> {
    let Some(limit) = limit else { return Ok(()) };
    let mut handle = conn.lock_handle().await?;
    let mut run_started = Instant::now();
    let mut last_call: Option<Instant> = None;
    handle.set_progress_handler(SQLITE_PROGRESS_STEPS, move || {
        let now = Instant::now();
        if last_call.is_none_or(|last| now.duration_since(last) > IDLE_GAP) {
            run_started = now;
        }
        last_call = Some(now);
        // false interrupts the statement.
        now.duration_since(run_started) <= limit
    });
    Ok(())
}

/// `statement_timeout` for every connection (when a limit is set).
pub fn postgres_statement_timeout(
    options: PgConnectOptions,
    limit: Option<Duration>,
) -> PgConnectOptions {
    match limit {
        Some(limit) => options.options([(
            "statement_timeout",
            format!("{}ms", limit.as_millis().max(1)),
        )]),
        None => options,
    }
}
