//! Metrics in the Prometheus text format (`GET /metrics`), recorded with the `metrics` crate
//! and rendered by `metrics-exporter-prometheus`. The recorder is global (one per process, as
//! Prometheus scrapes a process): every [`crate::startup::Application`] of a process shares it.
//!
//! Every metric is named here, with its labels, and documented in the README. Labels are kept
//! to bounded sets: an operation name a client chooses is a label only while it is short, plain
//! and among the first [`MAX_OPERATION_NAMES`] seen; others count as `other`.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::db::Db;

/// HTTP requests, by `method`, `route` and `status`.
pub const HTTP_REQUESTS: &str = "leadq_http_requests_total";
/// HTTP request duration in seconds, by `method` and `route`.
pub const HTTP_DURATION: &str = "leadq_http_request_duration_seconds";
/// GraphQL operations run, by `operation` (name), `type` (query, mutation) and `outcome` (ok,
/// error).
pub const OPERATIONS: &str = "leadq_graphql_operations_total";
/// GraphQL operation duration in seconds, by `operation` and `type`.
pub const OPERATION_DURATION: &str = "leadq_graphql_operation_duration_seconds";
/// Errors sent to clients, by `code` (`extensions.code`).
pub const ERRORS: &str = "leadq_graphql_errors_total";
/// Leads through the qualification pipeline (single, bulk and job alike), by `outcome`
/// (QUALIFIED, DUPLICATES_FOUND, FAILED).
pub const QUALIFICATIONS: &str = "leadq_qualifications_total";
/// Duplicate matches reported, by `rule` (the duplicate rule's name).
pub const DUPLICATE_MATCHES: &str = "leadq_duplicate_matches_total";
/// Leads per bulk qualification call (`qualifyLeads`) or qualification job.
pub const BULK_SIZE: &str = "leadq_bulk_qualification_leads";
/// Single qualifications waiting for their turn (the SQLite writer queue).
pub const QUEUE_DEPTH: &str = "leadq_qualify_queue_depth";
/// Time a qualification waited for its turn, in seconds.
pub const QUEUE_WAIT: &str = "leadq_qualify_queue_wait_seconds";
/// Database connections, by `pool` (read, write) and `state` (idle, in_use).
pub const DB_CONNECTIONS: &str = "leadq_db_connections";
/// Most connections of each `pool`.
pub const DB_CONNECTIONS_MAX: &str = "leadq_db_connections_max";
/// SQL statements run since the process started.
pub const DB_STATEMENTS: &str = "leadq_db_statements_total";
/// Persisted operations looked up, by `outcome` (hit, registered, not_found).
pub const PERSISTED: &str = "leadq_persisted_operations_total";

/// Most distinct operation names used as labels.
pub const MAX_OPERATION_NAMES: usize = 200;

/// Latency buckets, in seconds: 1 ms to a minute (the request time limit).
const SECONDS_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0,
];
/// Bulk sizes, in leads.
const SIZE_BUCKETS: [f64; 9] = [
    1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 5_000.0, 10_000.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
static OPERATION_NAMES: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();

/// The process's recorder, installed on first use; `None` when another recorder was installed
/// first (the metrics then go there, and `/metrics` says so).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &SECONDS_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(BULK_SIZE.to_owned()), &SIZE_BUCKETS)
                });
            match builder.and_then(|b| b.install_recorder()) {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(err) => {
                    tracing::warn!(%err, "metrics recorder not installed");
                    None
                }
            }
        })
        .as_ref()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(HTTP_REQUESTS, "HTTP requests by method, route and status");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "HTTP request duration");
    describe_counter!(OPERATIONS, "GraphQL operations by name, type and outcome");
    describe_histogram!(
        OPERATION_DURATION,
        Unit::Seconds,
        "GraphQL operation duration"
    );
    describe_counter!(ERRORS, "GraphQL errors sent, by extensions.code");
    describe_counter!(
        QUALIFICATIONS,
        "Leads through the qualification pipeline, by outcome"
    );
    describe_counter!(DUPLICATE_MATCHES, "Duplicate matches reported, by rule");
    describe_histogram!(BULK_SIZE, "Leads per bulk qualification call or job");
    describe_gauge!(QUEUE_DEPTH, "Single qualifications waiting for their turn");
    describe_histogram!(
        QUEUE_WAIT,
        Unit::Seconds,
        "Wait of a qualification for its turn"
    );
    describe_gauge!(DB_CONNECTIONS, "Database connections by pool and state");
    describe_gauge!(DB_CONNECTIONS_MAX, "Most database connections of each pool");
    describe_counter!(DB_STATEMENTS, "SQL statements run");
    describe_counter!(PERSISTED, "Persisted operation lookups by outcome");
}

/// The label for an operation name: itself while short, plain and among the first
/// [`MAX_OPERATION_NAMES`]; `anonymous` without a name; `other` beyond.
pub fn operation_label(name: Option<&str>) -> String {
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return "anonymous".to_owned();
    };
    let plain = name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain {
        return "other".to_owned();
    }
    let names = OPERATION_NAMES.get_or_init(|| Mutex::new(HashSet::new()));
    let Ok(mut names) = names.lock() else {
        return "other".to_owned();
    };
    if names.contains(name) {
        return name.to_owned();
    }
    if names.len() >= MAX_OPERATION_NAMES {
        return "other".to_owned();
    }
    names.insert(name.to_owned());
    name.to_owned()
}

/// Drains the histograms' raw samples into their buckets every few seconds, for as long as the
/// runtime runs (the exporter's upkeep, which its own HTTP listener would otherwise do).
pub fn start_upkeep() {
    if let Some(handle) = handle() {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(5));
            loop {
                every.tick().await;
                handle.run_upkeep();
            }
        });
    }
}

/// Records one HTTP request.
pub fn http_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    metrics::counter!(HTTP_REQUESTS, "method" => method.to_owned(), "route" => route.to_owned(),
        "status" => status.to_string())
    .increment(1);
    metrics::histogram!(HTTP_DURATION, "method" => method.to_owned(), "route" => route.to_owned())
        .record(elapsed.as_secs_f64());
}

/// Records one GraphQL operation and its errors' codes.
pub fn operation(name: &str, kind: &str, codes: &[String], elapsed: Duration) {
    let outcome = if codes.is_empty() { "ok" } else { "error" };
    metrics::counter!(OPERATIONS, "operation" => name.to_owned(), "type" => kind.to_owned(),
        "outcome" => outcome)
    .increment(1);
    metrics::histogram!(OPERATION_DURATION, "operation" => name.to_owned(), "type" => kind.to_owned())
        .record(elapsed.as_secs_f64());
    for code in codes {
        error(code);
    }
}

/// Records an error sent to a client.
pub fn error(code: &str) {
    metrics::counter!(ERRORS, "code" => code.to_owned()).increment(1);
}

/// Records a lead through the qualification pipeline.
pub fn qualification(outcome: &'static str) {
    metrics::counter!(QUALIFICATIONS, "outcome" => outcome).increment(1);
}

/// Records a duplicate match found by `rule`.
pub fn duplicate_match(rule: &str) {
    metrics::counter!(DUPLICATE_MATCHES, "rule" => rule.to_owned()).increment(1);
}

/// Records the size of a bulk qualification.
pub fn bulk_size(leads: usize) {
    metrics::histogram!(BULK_SIZE).record(leads as f64);
}

/// Sets the depth of the qualification queue.
pub fn queue_depth(depth: usize) {
    metrics::gauge!(QUEUE_DEPTH).set(depth as f64);
}

/// Records how long a qualification waited for its turn.
pub fn queue_wait(waited: Duration) {
    metrics::histogram!(QUEUE_WAIT).record(waited.as_secs_f64());
}

/// Records a persisted-operation lookup.
pub fn persisted(outcome: &'static str) {
    metrics::counter!(PERSISTED, "outcome" => outcome).increment(1);
}

/// The metrics page: the pools' state read now, then everything recorded.
pub fn render(db: &Db) -> Option<String> {
    let handle = handle()?;
    for (pool, connection) in [("read", &db.read), ("write", &db.write)] {
        if let Some((size, idle, max)) = pool_state(connection) {
            metrics::gauge!(DB_CONNECTIONS, "pool" => pool, "state" => "idle").set(f64::from(idle));
            metrics::gauge!(DB_CONNECTIONS, "pool" => pool, "state" => "in_use")
                .set(f64::from(size.saturating_sub(idle)));
            metrics::gauge!(DB_CONNECTIONS_MAX, "pool" => pool).set(f64::from(max));
        }
    }
    metrics::counter!(DB_STATEMENTS).absolute(db.statement_count());
    handle.run_upkeep();
    Some(handle.render())
}

/// Size, idle connections and most connections of a pool.
fn pool_state(connection: &sea_orm::DatabaseConnection) -> Option<(u32, u32, u32)> {
    use sea_orm::DbBackend;
    match connection.get_database_backend() {
        DbBackend::Sqlite => {
            let pool = connection.get_sqlite_connection_pool();
            Some((
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                pool.options().get_max_connections(),
            ))
        }
        DbBackend::Postgres => {
            let pool = connection.get_postgres_connection_pool();
            Some((
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                pool.options().get_max_connections(),
            ))
        }
        _ => None,
    }
}
