//! The HTTP surface, following the GraphQL-over-HTTP conventions:
//!
//! - `POST /graphql` with a JSON body (`application/json` or `application/graphql-response+json`
//!   accepted as `Content-Type`; anything else is 415, so a cross-site form or a `text/plain`
//!   post can never run a mutation), one operation or a batch of at most [`MAX_BATCH`];
//! - `GET /graphql?query=...` runs queries only (a mutation over GET is 405); without a query it
//!   serves GraphiQL when enabled;
//! - `GET /health` pings the database.
//!
//! Every GraphQL request needs `Authorization: Bearer <token>`; without a valid one the answer is
//! HTTP 401 with `WWW-Authenticate: Bearer` and an `UNAUTHENTICATED` error.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{BatchRequest, BatchResponse, Request, Response, ServerError};
use serde_json::json;

use crate::auth::{Actor, TokenKeys, bearer_token};
use crate::db::Db;
use crate::error::AppError;
use crate::graphql::loaders::loaders;
use crate::graphql::schema::AppSchema;
use crate::service;

/// Most operations in one batched request.
pub const MAX_BATCH: usize = 10;
/// Most aliased fields in one operation (aliases multiply the work of a single field).
pub const MAX_ALIASES: usize = 30;

/// The parameters of a GraphQL request over GET.
#[derive(serde::Deserialize)]
struct GetParams {
    query: String,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
}

/// What the handlers share.
pub struct HttpState {
    pub schema: AppSchema,
    pub db: Db,
    pub keys: TokenKeys,
    /// Whether introspection queries are answered.
    pub introspection: bool,
    /// GraphiQL page, when enabled; `{TOKEN}`-free.
    pub graphiql: Option<String>,
    /// GraphiQL page with a development token in its headers, served only to loopback clients.
    pub graphiql_with_token: Option<String>,
}

/// The GraphiQL page for `endpoint`, with a bearer token when given.
pub fn graphiql_page(token: Option<&str>) -> String {
    let header = token.map(|t| format!("Bearer {t}"));
    let mut source = GraphiQLSource::build()
        .endpoint("/graphql")
        .title("leadq GraphiQL");
    if let Some(header) = header.as_deref() {
        source = source.header("Authorization", header);
    }
    source.finish()
}

/// `GET /health`.
pub async fn health(state: web::Data<Arc<HttpState>>) -> HttpResponse {
    match state.db.read.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ok" })),
        Err(err) => {
            tracing::error!(%err, "health check failed");
            HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable" }))
        }
    }
}

/// `GET /graphql`: GraphiQL, or a query given in the URL.
pub async fn graphql_get(req: HttpRequest, state: web::Data<Arc<HttpState>>) -> HttpResponse {
    let query_string = req.query_string();
    if query_string.is_empty() || !query_string.split('&').any(|p| p.starts_with("query=")) {
        let loopback = req.peer_addr().is_some_and(|a| a.ip().is_loopback());
        let page = match (&state.graphiql_with_token, &state.graphiql) {
            (Some(with_token), _) if loopback => Some(with_token),
            (_, Some(page)) => Some(page),
            _ => None,
        };
        return match page {
            Some(page) => HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(page.clone()),
            None => HttpResponse::NotFound().finish(),
        };
    }
    let params = match web::Query::<GetParams>::from_query(query_string) {
        Ok(params) => params.into_inner(),
        Err(err) => {
            return error_response(StatusCode::BAD_REQUEST, "BAD_REQUEST", &err.to_string());
        }
    };
    let mut request = Request::new(params.query);
    if let Some(name) = params.operation_name.filter(|n| !n.is_empty()) {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables.filter(|v| !v.is_empty()) {
        match serde_json::from_str(&variables) {
            Ok(variables) => {
                request = request.variables(async_graphql::Variables::from_json(variables))
            }
            Err(err) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    &format!("variables is not a JSON object: {err}"),
                );
            }
        }
    }
    if let Ok(document) = async_graphql::parser::parse_query(&request.query)
        && let Some(op) = selected_operation(&document, request.operation_name.as_deref())
        && op != OperationType::Query
    {
        let mut response = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "mutations must be sent with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(&req, &state, BatchRequest::Single(request)).await
}

/// `POST /graphql`.
pub async fn graphql_post(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<HttpState>>,
) -> HttpResponse {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media_type != "application/json" && media_type != "application/graphql-response+json" {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the request as application/json",
        );
    }
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(err) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the body is not a GraphQL request: {err}"),
            );
        }
    };
    if let BatchRequest::Batch(requests) = &batch
        && requests.len() > MAX_BATCH
    {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BATCH_TOO_LARGE",
            &format!("a batch may hold at most {MAX_BATCH} operations"),
        );
    }
    execute(&req, &state, batch).await
}

/// Authenticates the caller, runs the operations and shapes the answer.
async fn execute(req: &HttpRequest, state: &HttpState, batch: BatchRequest) -> HttpResponse {
    let actor = match authenticate(req, state).await {
        Ok(actor) => actor,
        Err(err) => {
            if let Some(seconds) = err.retry_after_seconds() {
                // The user could not be read: the database is unavailable, not the token bad.
                let mut response = HttpResponse::ServiceUnavailable().json(json!({
                    "errors": [{ "message": err.message(),
                                 "extensions": { "code": err.code(), "retryAfterSeconds": seconds } }]
                }));
                set_retry_after(&mut response, seconds);
                return response;
            }
            let status = if matches!(err, AppError::Internal(_)) {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::UNAUTHORIZED
            };
            if let AppError::Internal(cause) = &err {
                tracing::error!(%cause, "authentication failed");
            }
            let mut response = error_response(status, err.code(), &err.message());
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"leadq\""),
            );
            return response;
        }
    };
    let prepare = |request: Request| -> Result<Request, ServerError> {
        check_document(&request, state.introspection)?;
        Ok(request.data(actor.clone()).data(loaders(state.db.clone())))
    };
    let response = match batch {
        BatchRequest::Single(request) => match prepare(request) {
            Ok(request) => BatchResponse::Single(state.schema.execute(request).await),
            Err(refused) => BatchResponse::Single(Response::from_errors(vec![refused])),
        },
        BatchRequest::Batch(requests) => {
            let mut responses = Vec::with_capacity(requests.len());
            for request in requests {
                responses.push(match prepare(request) {
                    Ok(request) => state.schema.execute(request).await,
                    Err(refused) => Response::from_errors(vec![refused]),
                });
            }
            BatchResponse::Batch(responses)
        }
    };
    let response = match response {
        BatchResponse::Single(r) => BatchResponse::Single(with_codes(r)),
        BatchResponse::Batch(rs) => BatchResponse::Batch(rs.into_iter().map(with_codes).collect()),
    };
    match failed_as_a_whole_retryably(&response) {
        Some(seconds) => {
            let mut reply = HttpResponse::ServiceUnavailable()
                .content_type("application/json")
                .json(response);
            set_retry_after(&mut reply, seconds);
            reply
        }
        None => HttpResponse::Ok()
            .content_type("application/json")
            .json(response),
    }
}

/// The error codes that mean "nothing was done; the same request may succeed later".
const RETRYABLE_CODES: [&str; 2] = ["DATABASE_UNAVAILABLE", "SERVER_BUSY"];

/// When every operation of the request failed as a whole (no data) with retryable errors only:
/// the longest `retryAfterSeconds` among them. Such a request is answered HTTP 503 with
/// `Retry-After`, so clients and proxies can tell "try again later" from a bug.
fn failed_as_a_whole_retryably(response: &BatchResponse) -> Option<u64> {
    fn retry_after(response: &Response) -> Option<u64> {
        let no_data = match &response.data {
            async_graphql::Value::Null => true,
            async_graphql::Value::Object(fields) => {
                fields.values().all(|v| *v == async_graphql::Value::Null)
            }
            _ => false,
        };
        if !no_data || response.errors.is_empty() {
            return None;
        }
        let mut longest = 0;
        for error in &response.errors {
            let extensions = error.extensions.as_ref()?;
            let code = match extensions.get("code") {
                Some(async_graphql::Value::String(code)) => code.as_str(),
                _ => return None,
            };
            if !RETRYABLE_CODES.contains(&code) {
                return None;
            }
            if let Some(async_graphql::Value::Number(seconds)) = extensions.get("retryAfterSeconds")
            {
                longest = longest.max(seconds.as_u64().unwrap_or(1));
            }
        }
        Some(longest.max(1))
    }
    match response {
        BatchResponse::Single(r) => retry_after(r),
        BatchResponse::Batch(rs) => rs
            .iter()
            .map(retry_after)
            .try_fold(0, |longest, r| r.map(|s| longest.max(s))),
    }
}

fn set_retry_after(response: &mut HttpResponse, seconds: u64) {
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

async fn authenticate(req: &HttpRequest, state: &HttpState) -> Result<Actor, AppError> {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let token = bearer_token(header).ok_or_else(|| {
        AppError::Unauthenticated("send a bearer token: Authorization: Bearer <token>".to_owned())
    })?;
    let user_id = state.keys.verify(token)?;
    let user = service::users::find(&state.db.read, user_id)
        .await?
        .ok_or_else(|| AppError::Unauthenticated("the token's user does not exist".to_owned()))?;
    Ok(Actor::from_user(&user))
}

/// A response with one error and no data.
fn error_response(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    }))
}

/// The type of the operation a request will run, if it can be told.
fn selected_operation(document: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    use async_graphql::parser::types::DocumentOperations;
    match &document.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(ops) => match name {
            Some(name) => ops.get(name).map(|op| op.node.ty),
            None if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
            None => None,
        },
    }
}

/// Refuses an operation with more than [`MAX_ALIASES`] aliased fields, and introspection when it
/// is disabled (with an error, rather than the executor's silent null).
fn check_document(request: &Request, introspection: bool) -> Result<(), ServerError> {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return Ok(()); // the executor reports the syntax error
    };
    fn count(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => {
                    usize::from(field.node.alias.is_some()) + count(&field.node.selection_set.node)
                }
                Selection::InlineFragment(fragment) => count(&fragment.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    let operations: usize = document
        .operations
        .iter()
        .map(|(_, op)| count(&op.node.selection_set.node))
        .sum();
    let fragments: usize = document
        .fragments
        .values()
        .map(|f| count(&f.node.selection_set.node))
        .sum();
    if !introspection && introspects(&document) {
        let mut error = ServerError::new("introspection is disabled on this server", None);
        error.extensions = Some(code_extensions("GRAPHQL_VALIDATION_FAILED", None));
        return Err(error);
    }
    if operations + fragments > MAX_ALIASES {
        let mut error = ServerError::new(
            format!("an operation may use at most {MAX_ALIASES} aliases"),
            None,
        );
        error.extensions = Some(code_extensions("GRAPHQL_VALIDATION_FAILED", None));
        return Err(error);
    }
    Ok(())
}

/// Whether any selection (in operations or fragments) asks for `__schema` or `__type`.
fn introspects(document: &ExecutableDocument) -> bool {
    fn asks(set: &SelectionSet) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                let name = field.node.name.node.as_str();
                name == "__schema" || name == "__type" || asks(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => asks(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => false,
        })
    }
    document
        .operations
        .iter()
        .any(|(_, op)| asks(&op.node.selection_set.node))
        || document
            .fragments
            .values()
            .any(|f| asks(&f.node.selection_set.node))
}

fn code_extensions(code: &str, field: Option<&str>) -> async_graphql::ErrorExtensionValues {
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code);
    if let Some(field) = field {
        ext.set("field", field);
    }
    ext
}

/// Gives every error a code. Errors from resolvers carry one already; the executor's own
/// (syntax, validation, input coercion) get `GRAPHQL_PARSE_FAILED`, `GRAPHQL_VALIDATION_FAILED`
/// or, for a value of the wrong type or an unknown enum value, `BAD_USER_INPUT` with the field.
fn with_codes(mut response: Response) -> Response {
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if has_code {
            continue;
        }
        let (code, field) = classify(&error.message);
        error.extensions = Some(code_extensions(code, field.as_deref()));
    }
    response
}

/// Classifies an executor error message.
fn classify(message: &str) -> (&'static str, Option<String>) {
    let quoted = |prefix: &str| {
        message.find(prefix).and_then(|at| {
            let rest = &message[at + prefix.len()..];
            rest.split('"').next().map(|s| {
                s.trim_start_matches('$')
                    .trim_start_matches("input.")
                    .to_owned()
            })
        })
    };
    if message.starts_with("Invalid value for argument") {
        return ("BAD_USER_INPUT", quoted("argument \""));
    }
    if message.starts_with("Variable") && message.contains("invalid value") {
        return ("BAD_USER_INPUT", quoted("Variable \""));
    }
    if message.starts_with("Failed to parse") {
        return ("BAD_USER_INPUT", None);
    }
    if message.starts_with(" -->") || message.contains("expected") && message.contains("-->") {
        return ("GRAPHQL_PARSE_FAILED", None);
    }
    ("GRAPHQL_VALIDATION_FAILED", None)
}
