//! [`AppError`]: the one error type of the service layer, and how it reaches a GraphQL client.
//!
//! Each variant has a stable `extensions.code`. `AppError` deliberately does not implement
//! `Display`, so async-graphql's blanket `From<Display>` (which would drop the code) cannot apply:
//! the only way into a GraphQL error is [`From<AppError> for async_graphql::Error`], which sets the
//! code, the field where there is one, and hides internal causes behind "internal server error".

use async_graphql::ErrorExtensions;
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
            Self::Internal(_) => "INTERNAL_SERVER_ERROR",
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
            Self::Internal(_) => "internal server error".to_owned(),
        }
    }

    /// An internal error with its cause, which is logged where the error is turned into a
    /// response and never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
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

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        if let AppError::Internal(cause) = &err {
            tracing::error!(%cause, "internal error");
        }
        let mut error = async_graphql::Error::new(err.message());
        let code = err.code();
        let field = match &err {
            AppError::BadUserInput { field, .. } => Some(field.clone()),
            AppError::ChoiceRequired { record, .. } => Some((*record).to_owned()),
            _ => None,
        };
        let record = match &err {
            AppError::NotFound { record, .. } => Some(*record),
            _ => None,
        };
        error = error.extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(field) = &field {
                ext.set("field", field.as_str());
            }
            if let Some(record) = record {
                ext.set("record", record);
            }
        });
        error
    }
}

/// Shorthand for service results.
pub type AppResult<T> = Result<T, AppError>;
