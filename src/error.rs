//! [`AppError`]: the one error type of the service layer, and how it reaches a GraphQL client.
//!
//! Each variant has a stable `extensions.code`. `AppError` deliberately does not implement
//! `Display`, so async-graphql's blanket `From<Display>` (which would drop the code) cannot apply:
//! the only way into a GraphQL error is [`From<AppError> for async_graphql::Error`], which sets the
//! code, the field where there is one, and hides internal causes behind "internal server error".

use sea_orm::{DbErr, SqlErr};

/// Everything that can go wrong in a use case, as a client should learn it.
#[derive(Debug, Clone)]
pub enum AppError {
    /// Input that does not parse or breaks a rule; `field` is the input field's path.
    BadUserInput { field: String, message: String },
    /// No record of that kind with that id.
    NotFound { record: &'static str, id: String },
    /// No valid credentials.
    Unauthenticated(String),
    /// Authenticated but not allowed.
    Forbidden(String),
    /// The request conflicts with the current state (unique value taken, idempotency key reused).
    Conflict(String),
    /// The lead is qualified or disqualified.
    LeadClosed,
    /// Creating an account needs the lead's company name.
    CompanyNameRequired,
    /// More opportunities than allowed, or several while not enabled.
    TooManyOpportunities(String),
    /// A lead with an associated opportunity cannot be disqualified.
    LeadHasOpportunity,
    /// A choice the settings leave to the seller was not made.
    ChoiceRequired {
        record: &'static str,
        message: String,
    },
    /// A bulk request lists more items than allowed.
    BatchTooLarge { max: usize, given: usize },
    /// The server cannot take the work now (a full queue, a missed deadline, a lock held too
    /// long by another transaction); the same request may be retried after the given time.
    ServerBusy {
        message: String,
        retry_after_seconds: u64,
    },
    /// The database cannot be reached (restarting, connections dropped, pool exhausted);
    /// nothing was written, and the same request may be retried after the given time.
    DatabaseUnavailable { retry_after_seconds: u64 },
    /// The caller sent too many requests, or has too many running; retry after the delay.
    RateLimited {
        message: String,
        retry_after_seconds: u64,
    },
    /// The request ran longer than the configured limit and was stopped.
    Timeout { limit_seconds: f64 },
    /// The answer would be larger than the configured limit; ask for less.
    ResponseTooLarge { max_bytes: usize },
    /// The request costs more than the configured limit (lists multiply their children).
    QueryTooComplex { cost: u64, max_cost: u64 },
    /// No persisted operation under the hash the client sent (send it again with its query), or
    /// a document that is not a registered persisted operation while only those run.
    PersistedQueryNotFound(String),
    /// A bug or an infrastructure failure; the cause is logged, never sent.
    Internal(String),
}

impl AppError {
    /// A `BAD_USER_INPUT` error for `field`.
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A `NOT_FOUND` error for a record kind and id.
    pub fn not_found(record: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            record,
            id: id.to_string(),
        }
    }

    /// The value of `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput { .. } => "BAD_USER_INPUT",
            Self::NotFound { .. } => "NOT_FOUND",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::Conflict(_) => "CONFLICT",
            Self::LeadClosed => "LEAD_CLOSED",
            Self::CompanyNameRequired => "COMPANY_NAME_REQUIRED",
            Self::TooManyOpportunities(_) => "TOO_MANY_OPPORTUNITIES",
            Self::LeadHasOpportunity => "LEAD_HAS_OPPORTUNITY",
            Self::ChoiceRequired { .. } => "CHOICE_REQUIRED",
            Self::BatchTooLarge { .. } => "BATCH_TOO_LARGE",
            Self::ServerBusy { .. } => "SERVER_BUSY",
            Self::DatabaseUnavailable { .. } => "DATABASE_UNAVAILABLE",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Timeout { .. } => "TIMEOUT",
            Self::ResponseTooLarge { .. } => "RESPONSE_TOO_LARGE",
            Self::QueryTooComplex { .. } => "QUERY_TOO_COMPLEX",
            Self::PersistedQueryNotFound(_) => "PERSISTED_QUERY_NOT_FOUND",
            Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    /// The input field a `BAD_USER_INPUT` names (`extensions.field`).
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::BadUserInput { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The message a client sees.
    pub fn message(&self) -> String {
        match self {
            Self::BadUserInput { message, .. } => message.clone(),
            Self::NotFound { record, id } => format!("no {record} with id {id}"),
            Self::Unauthenticated(m) | Self::Forbidden(m) | Self::Conflict(m) => m.clone(),
            Self::LeadClosed => "The lead is closed and you cannot convert or qualify a lead that \
                                 is already closed"
                .to_owned(),
            Self::CompanyNameRequired => {
                "An account can only be created from a lead that has a company name".to_owned()
            }
            Self::TooManyOpportunities(m) => m.clone(),
            Self::LeadHasOpportunity => "You can disqualify a lead only if no opportunity is \
                                         associated with it"
                .to_owned(),
            Self::ChoiceRequired { message, .. } => message.clone(),
            Self::BatchTooLarge { max, given } => {
                format!("a batch may list at most {max} items; this one lists {given}")
            }
            Self::ServerBusy { message, .. } => message.clone(),
            Self::DatabaseUnavailable { .. } => {
                "the database is unavailable; nothing was written, try again shortly".to_owned()
            }
            Self::RateLimited { message, .. } => message.clone(),
            Self::Timeout { limit_seconds } => format!(
                "the request ran longer than {limit_seconds} s and was stopped; ask for less or \
                 retry later"
            ),
            Self::ResponseTooLarge { max_bytes } => format!(
                "the response would be larger than {max_bytes} bytes; ask for fewer items or \
                 fields (page with first/after)"
            ),
            Self::QueryTooComplex { cost, max_cost } => format!(
                "the request costs {cost}, more than the {max_cost} allowed: every list multiplies \
                 the cost of what it selects by its size (first, or the list's cap); ask for \
                 smaller pages or fewer fields"
            ),
            Self::PersistedQueryNotFound(m) => m.clone(),
            Self::Internal(_) => "internal server error".to_owned(),
        }
    }

    /// Seconds after which a retry may succeed, where known (`extensions.retryAfterSeconds`).
    pub fn retry_after_seconds(&self) -> Option<u64> {
        match self {
            Self::RateLimited {
                retry_after_seconds,
                ..
            }
            | Self::ServerBusy {
                retry_after_seconds,
                ..
            }
            | Self::DatabaseUnavailable {
                retry_after_seconds,
            } => Some(*retry_after_seconds),
            _ => None,
        }
    }

    /// A `SERVER_BUSY` error.
    pub fn busy(message: impl Into<String>, retry_after_seconds: u64) -> Self {
        Self::ServerBusy {
            message: message.into(),
            retry_after_seconds,
        }
    }

    /// The error as `extensions` of a GraphQL error: its code and, where they apply, the field,
    /// the record kind, `retryAfterSeconds`, and the cost figures.
    pub fn extensions(&self) -> async_graphql::ErrorExtensionValues {
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", self.code());
        match self {
            Self::BadUserInput { field, .. } => ext.set("field", field.as_str()),
            Self::ChoiceRequired { record, .. } => ext.set("field", *record),
            Self::NotFound { record, .. } => ext.set("record", *record),
            Self::QueryTooComplex { cost, max_cost } => {
                ext.set("cost", *cost);
                ext.set("maxCost", *max_cost);
            }
            Self::ResponseTooLarge { max_bytes } => ext.set("maxBytes", *max_bytes as u64),
            _ => {}
        }
        if let Some(seconds) = self.retry_after_seconds() {
            ext.set("retryAfterSeconds", seconds);
        }
        ext
    }

    /// The error as a GraphQL server error (for answers built outside a resolver).
    pub fn to_server_error(&self) -> async_graphql::ServerError {
        if let Self::Internal(cause) = self {
            log_internal(cause);
        }
        let mut error = async_graphql::ServerError::new(self.message(), None);
        error.extensions = Some(self.extensions());
        error
    }

    /// An internal error with its cause, which is logged where the error is turned into a
    /// response and never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }
}

/// How long a client should wait before retrying when the database is unavailable.
const DATABASE_RETRY_AFTER_SECONDS: u64 = 2;

impl From<DbErr> for AppError {
    /// Classifies a database error: unreachable database, busy (lock or statement timeouts,
    /// serialization failures), constraint violations, or internal.
    fn from(err: DbErr) -> Self {
        let classified = Self::classify(&err);
        if matches!(classified, Self::DatabaseUnavailable { .. }) {
            note_unavailable(&err.to_string());
        }
        classified
    }
}

impl AppError {
    fn classify(err: &DbErr) -> Self {
        use sea_orm::RuntimeErr;
        let unavailable = Self::DatabaseUnavailable {
            retry_after_seconds: DATABASE_RETRY_AFTER_SECONDS,
        };
        let sqlx_error = match err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return unavailable,
            DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
                Some(e.as_ref())
            }
            _ => None,
        };
        if let Some(e) = sqlx_error {
            use sea_orm::sqlx::Error as SqlxError;
            match e {
                SqlxError::Io(_)
                | SqlxError::Tls(_)
                | SqlxError::PoolTimedOut
                | SqlxError::PoolClosed
                | SqlxError::WorkerCrashed
                | SqlxError::Protocol(_) => return unavailable,
                SqlxError::Database(db) => {
                    let sqlite = db
                        .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                        .is_some();
                    let code = db.code().unwrap_or_default();
                    if let Some(classified) = classify_code(&code, sqlite) {
                        return classified;
                    }
                }
                _ => {}
            }
        }
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                Self::Conflict("a record with the same unique value already exists".to_owned())
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                Self::Conflict("a referenced record does not exist or is still in use".to_owned())
            }
            _ => Self::Internal(err.to_string()),
        }
    }
}

/// A database error code (PostgreSQL's SQLSTATE, SQLite's extended result code) that is not
/// the client's fault and not a bug: the database is going away, or the work collided with
/// other work and may simply be retried.
fn classify_code(code: &str, sqlite: bool) -> Option<AppError> {
    let unavailable = AppError::DatabaseUnavailable {
        retry_after_seconds: DATABASE_RETRY_AFTER_SECONDS,
    };
    if sqlite {
        // Busy, locked (any extended code of them); I/O error, disk full, cannot open.
        return match code.parse::<u32>().ok().map(|c| c & 0xff) {
            Some(5 | 6) => Some(AppError::busy("the database is busy; try again shortly", 1)),
            Some(10 | 13 | 14) => Some(unavailable),
            _ => None,
        };
    }
    match code {
        // PostgreSQL: connection exceptions, shutdown or crash (pg_terminate_backend is 57P01),
        // "the database system is starting up", too many connections, out of resources.
        c if c.starts_with("08") => Some(unavailable),
        "57P01" | "57P02" | "57P03" | "53000" | "53100" | "53200" | "53300" => Some(unavailable),
        // PostgreSQL: lock_timeout, statement_timeout, serialization failure, deadlock.
        "55P03" => Some(AppError::busy(
            "another transaction holds the records this one needs; try again shortly",
            1,
        )),
        "57014" => Some(AppError::busy(
            "a database statement ran out of time; try again shortly",
            1,
        )),
        "40001" | "40P01" => Some(AppError::busy(
            "the work collided with concurrent work; try again",
            1,
        )),
        _ => None,
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        if let AppError::Internal(cause) = &err {
            log_internal(cause);
        }
        let mut error = async_graphql::Error::new(err.message());
        error.extensions = Some(err.extensions());
        error
    }
}

/// How often database-unavailable failures are reported: one line per interval with their
/// count, not one per failure (an overloaded pool or a restarting database fails many requests
/// at once).
const UNAVAILABLE_WARNING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// Unavailable-database failures since the last report, and when that was.
static UNAVAILABLE: std::sync::Mutex<(u64, Option<std::time::Instant>)> =
    std::sync::Mutex::new((0, None));

/// Logs an internal error's cause (a pool timeout counts as the database being unavailable).
pub fn log_internal(cause: &str) {
    if cause.contains("pool timed out") || cause.contains("PoolTimedOut") {
        note_unavailable(cause);
    } else {
        tracing::error!(%cause, "internal error");
    }
}

/// Counts a failure because the database is unavailable; one warning per
/// [`UNAVAILABLE_WARNING_INTERVAL`] with the count and the latest cause.
pub fn note_unavailable(cause: &str) {
    let Ok(mut state) = UNAVAILABLE.lock() else {
        return;
    };
    state.0 += 1;
    let now = std::time::Instant::now();
    let due = state
        .1
        .is_none_or(|last| now.duration_since(last) >= UNAVAILABLE_WARNING_INTERVAL);
    if due {
        tracing::warn!(
            failures = state.0,
            interval_seconds = UNAVAILABLE_WARNING_INTERVAL.as_secs(),
            latest = %cause,
            "the database was unavailable (connections refused or dropped, or the pool timed out)"
        );
        *state = (0, Some(now));
    }
}

/// Shorthand for service results.
pub type AppResult<T> = Result<T, AppError>;
