//! Run-time configuration: one [`Settings`] struct filled from command-line flags and `LEADQ_*`
//! environment variables, with defaults that need nothing installed.

use clap::Args;

/// The default database: an SQLite file in the working directory, created if missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://leadq.db?mode=rwc";

/// Everything the server needs to start.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Database URL: `sqlite://FILE?mode=rwc` or `postgres://USER@HOST/DB`.
    #[arg(long, env = "LEADQ_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Address to listen on (use port 0 for any free port).
    #[arg(
        long,
        env = "LEADQ_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// Secret for HS256 bearer tokens; when unset, a development secret is generated once and
    /// kept beside the database.
    #[arg(long, env = "LEADQ_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// Expected `iss` claim of tokens (checked when set; minted tokens carry it).
    #[arg(long, env = "LEADQ_JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,

    /// Expected `aud` claim of tokens (checked when set; minted tokens carry it).
    #[arg(long, env = "LEADQ_JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,

    /// Production mode: GraphiQL, introspection and field suggestions are off unless enabled.
    #[arg(long, env = "LEADQ_PRODUCTION", global = true)]
    pub production: bool,

    /// Serve GraphiQL on `GET /graphql` (default: on, off in production mode).
    #[arg(long, env = "LEADQ_GRAPHIQL", global = true)]
    pub graphiql: Option<bool>,

    /// Answer introspection queries (default: on, off in production mode).
    #[arg(long, env = "LEADQ_INTROSPECTION", global = true)]
    pub introspection: Option<bool>,

    /// Origins allowed to call the API from a browser (comma-separated), e.g.
    /// `https://app.example.com`; `*` allows any origin.
    #[arg(long, env = "LEADQ_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,

    /// Largest request body accepted, in bytes; larger ones get HTTP 413.
    #[arg(long, env = "LEADQ_MAX_BODY_BYTES", default_value_t = 2 * 1024 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Most leads one `qualifyLeads` call may list.
    #[arg(
        long,
        env = "LEADQ_MAX_BULK_LEADS",
        default_value_t = 10_000,
        global = true
    )]
    pub max_bulk_leads: usize,

    /// Connections in the read pool (and the whole pool on PostgreSQL).
    #[arg(long, env = "LEADQ_DB_POOL_SIZE", default_value_t = 8, global = true)]
    pub db_pool_size: u32,

    /// Longest wait for a lock, in milliseconds (PostgreSQL `lock_timeout` for row and advisory
    /// locks; SQLite `busy_timeout` for another process's writer); beyond it the request fails
    /// with the retryable SERVER_BUSY instead of waiting on.
    #[arg(
        long,
        env = "LEADQ_DB_LOCK_TIMEOUT_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub db_lock_timeout_ms: u64,

    /// Most single qualifications waiting for their turn; more get SERVER_BUSY.
    #[arg(
        long,
        env = "LEADQ_QUALIFY_QUEUE_CAPACITY",
        default_value_t = 1_024,
        global = true
    )]
    pub qualify_queue_capacity: usize,

    /// Longest a single qualification waits for its turn, in milliseconds, before it gets
    /// SERVER_BUSY.
    #[arg(
        long,
        env = "LEADQ_QUALIFY_QUEUE_DEADLINE_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub qualify_queue_deadline_ms: u64,

    /// How long idempotency keys (and the results kept under them) are kept, in seconds.
    #[arg(
        long,
        env = "LEADQ_IDEMPOTENCY_TTL_SECONDS",
        default_value_t = 86_400,
        global = true
    )]
    pub idempotency_ttl_seconds: u64,

    /// How long a keyed call may go without progress (a crashed server) before another call
    /// with the same key takes it over, in seconds.
    #[arg(
        long,
        env = "LEADQ_IDEMPOTENCY_LEASE_SECONDS",
        default_value_t = 30,
        global = true
    )]
    pub idempotency_lease_seconds: u64,

    /// Most leads one qualification job may qualify.
    #[arg(
        long,
        env = "LEADQ_MAX_JOB_LEADS",
        default_value_t = 1_000_000,
        global = true
    )]
    pub max_job_leads: usize,

    /// How long a job chunk stays leased to the process running it; a chunk whose process died
    /// is taken over by another after this, in seconds.
    #[arg(
        long,
        env = "LEADQ_JOB_LEASE_SECONDS",
        default_value_t = 60,
        global = true
    )]
    pub job_lease_seconds: u64,

    /// Leads per job chunk (one pipeline run, one transaction), set when a job starts
    /// (default: 250).
    #[arg(long, env = "LEADQ_JOB_CHUNK_LEADS", global = true)]
    pub job_chunk_leads: Option<usize>,

    /// Job chunks this process runs at once (default: 1 on SQLite, 2 on PostgreSQL).
    #[arg(long, env = "LEADQ_JOB_WORKERS", global = true)]
    pub job_workers: Option<usize>,

    /// Most subscriptions one user may hold at once (on this server process).
    #[arg(
        long,
        env = "LEADQ_MAX_SUBSCRIPTIONS_PER_USER",
        default_value_t = 10,
        global = true
    )]
    pub max_subscriptions_per_user: usize,

    /// Events buffered for each subscriber; one that falls further behind is dropped.
    #[arg(
        long,
        env = "LEADQ_SUBSCRIPTION_BUFFER",
        default_value_t = 1_024,
        global = true
    )]
    pub subscription_buffer: usize,

    /// Most subscriptions this server process holds at once.
    #[arg(
        long,
        env = "LEADQ_MAX_SUBSCRIPTIONS",
        default_value_t = 1_000,
        global = true
    )]
    pub max_subscriptions: usize,

    /// Longest a request may run, in seconds (fractions allowed); then it is stopped, its
    /// database statements included, and answered `TIMEOUT`.
    #[arg(long, env = "LEADQ_REQUEST_TIMEOUT_SECONDS", default_value_t = DEFAULT_REQUEST_TIMEOUT_SECONDS, global = true)]
    pub request_timeout_seconds: f64,

    /// Longest a client may take to send its request body, in seconds (slow bodies are cut off
    /// with HTTP 408).
    #[arg(
        long,
        env = "LEADQ_BODY_TIMEOUT_SECONDS",
        default_value_t = 10.0,
        global = true
    )]
    pub body_timeout_seconds: f64,

    /// A WebSocket from which nothing has come for this long, in seconds, not even the pong
    /// every browser and WebSocket library sends back for the server's pings (sent every third
    /// of it), is closed: its peer is gone.
    #[arg(
        long,
        env = "LEADQ_WEBSOCKET_TIMEOUT_SECONDS",
        default_value_t = 45.0,
        global = true
    )]
    pub websocket_timeout_seconds: f64,

    /// Largest response body, in bytes; a larger answer is replaced by `RESPONSE_TOO_LARGE`.
    #[arg(long, env = "LEADQ_MAX_RESPONSE_BYTES", default_value_t = DEFAULT_MAX_RESPONSE_BYTES, global = true)]
    pub max_response_bytes: usize,

    /// Highest cost of one request (all operations of a batch together); see the README for the
    /// formula.
    #[arg(long, env = "LEADQ_MAX_QUERY_COST", default_value_t = crate::graphql::limits::DEFAULT_MAX_COST, global = true)]
    pub max_query_cost: u64,

    /// Requests per second each user may send on average (token bucket); default: 10 in
    /// production mode, unlimited otherwise; 0 turns the limit off.
    #[arg(long, env = "LEADQ_RATE_LIMIT_PER_SECOND", global = true)]
    pub rate_limit_per_second: Option<u32>,

    /// Requests a user may send at once above the average rate (the bucket's size); default:
    /// twice the rate.
    #[arg(long, env = "LEADQ_RATE_LIMIT_BURST", global = true)]
    pub rate_limit_burst: Option<u32>,

    /// Requests of one user running at the same time; default: 4 in production mode, unlimited
    /// otherwise; 0 turns the limit off.
    #[arg(long, env = "LEADQ_MAX_INFLIGHT_PER_USER", global = true)]
    pub max_inflight_per_user: Option<u32>,

    /// Longest a bearer token may be valid (`exp` − `iat`, or `exp` − now without `iat`), in
    /// hours; longer-lived tokens are refused.
    #[arg(long, env = "LEADQ_JWT_MAX_LIFETIME_HOURS", default_value_t = 24 * 30, global = true)]
    pub jwt_max_lifetime_hours: i64,

    /// How long SIGTERM / Ctrl-C waits for running requests before cancelling them, in seconds.
    #[arg(
        long,
        env = "LEADQ_SHUTDOWN_GRACE_SECONDS",
        default_value_t = 30,
        global = true
    )]
    pub shutdown_grace_seconds: u64,

    /// Longest request URI, in bytes; longer ones get HTTP 414.
    #[arg(
        long,
        env = "LEADQ_MAX_URI_BYTES",
        default_value_t = 8192,
        global = true
    )]
    pub max_uri_bytes: usize,

    /// Log line format: `text` (one human-readable line per event) or `json` (one JSON object
    /// per line, for log shippers). Colours only when writing to a terminal.
    #[arg(long, env = "LEADQ_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Run only persisted operations (registered with `leadq persist`, or by hash through
    /// automatic persisted queries while this is off); any other document gets
    /// PERSISTED_QUERY_NOT_FOUND.
    #[arg(long, env = "LEADQ_PERSISTED_ONLY", global = true)]
    pub persisted_only: bool,

    /// Serve `GET /metrics` (Prometheus text format).
    #[arg(long, env = "LEADQ_METRICS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub metrics: bool,

    /// A built single-page app to serve beside the API (a directory with an `index.html`, e.g.
    /// `examples/spa/dist`): its files on `GET /...`, its index.html for other paths.
    #[arg(long = "spa", env = "LEADQ_SPA_DIR", global = true)]
    pub spa_dir: Option<std::path::PathBuf>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Default request timeout, in seconds: long enough for a 10,000-lead `qualifyLeads`.
pub const DEFAULT_REQUEST_TIMEOUT_SECONDS: f64 = 60.0;
/// Default response cap: 32 MiB, several times a full 10,000-lead `qualifyLeads` answer with its
/// records.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// Requests per second per user in production mode unless configured.
pub const PRODUCTION_RATE_LIMIT_PER_SECOND: u32 = 10;
/// Requests running at once per user in production mode unless configured.
pub const PRODUCTION_MAX_INFLIGHT_PER_USER: u32 = 4;

impl Settings {
    /// Settings for tests and tools: an explicit database, any free port, development mode.
    pub fn for_database(database_url: &str) -> Self {
        Self {
            database_url: database_url.to_owned(),
            bind: "127.0.0.1:0".to_owned(),
            jwt_secret: None,
            jwt_issuer: None,
            jwt_audience: None,
            production: false,
            graphiql: None,
            introspection: None,
            cors_origins: Vec::new(),
            max_body_bytes: 2 * 1024 * 1024,
            max_bulk_leads: 10_000,
            db_pool_size: 8,
            db_lock_timeout_ms: 5_000,
            qualify_queue_capacity: 1_024,
            qualify_queue_deadline_ms: 10_000,
            idempotency_ttl_seconds: 86_400,
            idempotency_lease_seconds: 30,
            max_job_leads: 1_000_000,
            job_lease_seconds: 60,
            job_workers: None,
            job_chunk_leads: None,
            max_subscriptions_per_user: 10,
            max_subscriptions: 1_000,
            subscription_buffer: 1_024,
            request_timeout_seconds: DEFAULT_REQUEST_TIMEOUT_SECONDS,
            body_timeout_seconds: 10.0,
            websocket_timeout_seconds: 45.0,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_query_cost: crate::graphql::limits::DEFAULT_MAX_COST,
            rate_limit_per_second: None,
            rate_limit_burst: None,
            max_inflight_per_user: None,
            jwt_max_lifetime_hours: 24 * 30,
            shutdown_grace_seconds: 30,
            max_uri_bytes: 8192,
            log_format: LogFormat::Text,
            persisted_only: false,
            metrics: true,
            spa_dir: None,
        }
    }

    /// The per-user request rate in force: configured (0 = off), else on in production only.
    pub fn rate_limit(&self) -> Option<u32> {
        match self.rate_limit_per_second {
            Some(0) => None,
            Some(rate) => Some(rate),
            None => self.production.then_some(PRODUCTION_RATE_LIMIT_PER_SECOND),
        }
    }

    /// The per-user in-flight limit in force: configured (0 = off), else on in production only.
    pub fn inflight_limit(&self) -> Option<u32> {
        match self.max_inflight_per_user {
            Some(0) => None,
            Some(limit) => Some(limit),
            None => self.production.then_some(PRODUCTION_MAX_INFLIGHT_PER_USER),
        }
    }

    /// The request timeout as a duration (at least a millisecond).
    pub fn request_timeout(&self) -> std::time::Duration {
        seconds(self.request_timeout_seconds)
    }

    /// The body read timeout as a duration.
    pub fn body_timeout(&self) -> std::time::Duration {
        seconds(self.body_timeout_seconds)
    }

    /// The WebSocket liveness timeout as a duration.
    pub fn websocket_timeout(&self) -> std::time::Duration {
        seconds(self.websocket_timeout_seconds)
    }

    /// Whether GraphiQL is served.
    pub fn graphiql_enabled(&self) -> bool {
        self.graphiql.unwrap_or(!self.production)
    }

    /// Whether introspection (and field suggestions) are answered.
    pub fn introspection_enabled(&self) -> bool {
        self.introspection.unwrap_or(!self.production)
    }
}

/// A positive number of seconds (fractions allowed) as a duration; nonsense becomes a millisecond.
fn seconds(value: f64) -> std::time::Duration {
    if value.is_finite() && value > 0.001 {
        std::time::Duration::from_secs_f64(value.min(86_400.0 * 365.0))
    } else {
        std::time::Duration::from_millis(1)
    }
}
