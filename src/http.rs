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
//!
//! Limits, in the order they apply (see [`RequestLimits`]): a URI longer than the limit is 414;
//! a body must arrive within the body timeout (408) and stay under the size limit once decoded
//! (413; a `Content-Encoding` that does not decode is 400); a user over the rate or in-flight
//! limit gets 429 `RATE_LIMITED` with `Retry-After`; the cost model of
//! [`crate::graphql::limits`] refuses expensive operations before they run; a request running
//! past the timeout is dropped, database statements included, and answered 503 `TIMEOUT`; an
//! answer larger than the response cap is replaced by `RESPONSE_TOO_LARGE`. A client that
//! disconnects drops its request's work with it. Every error body, whichever layer produced
//! it, is the GraphQL error shape with a code and no internal detail ([`json_errors`]).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Decompress, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{BatchRequest, BatchResponse, Request, Response, ServerError};
use futures_util::StreamExt;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde_json::json;
use uuid::Uuid;

use crate::auth::{Actor, TokenKeys, bearer_token};
use crate::db::Db;
use crate::error::AppError;
use crate::graphql::limits::{RequestBudget, ResponseBytes, SelectedOperation};
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

/// The per-request limits of [`HttpState`].
#[derive(Debug, Clone)]
pub struct RequestLimits {
    /// Longest a request may run.
    pub timeout: Duration,
    /// Longest the body may take to arrive.
    pub body_timeout: Duration,
    /// Largest body, decoded.
    pub max_body_bytes: usize,
    /// Largest answer.
    pub max_response_bytes: usize,
    /// Longest URI.
    pub max_uri_bytes: usize,
}

/// Requests of each user running now, capped.
pub struct InFlight {
    max: u32,
    running: Mutex<HashMap<Uuid, u32>>,
}

/// A running request's place in [`InFlight`]; dropping it frees the place.
pub struct InFlightSlot<'a> {
    inflight: &'a InFlight,
    user: Uuid,
}

impl InFlight {
    /// At most `max` requests per user at once.
    pub fn new(max: u32) -> Self {
        Self {
            max,
            running: Mutex::new(HashMap::new()),
        }
    }

    /// A place for one more request of `user`, unless they have `max` running.
    fn enter(&self, user: Uuid) -> Option<InFlightSlot<'_>> {
        let mut running = self.running.lock().ok()?;
        let count = running.entry(user).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(InFlightSlot {
            inflight: self,
            user,
        })
    }
}

impl Drop for InFlightSlot<'_> {
    fn drop(&mut self) {
        if let Ok(mut running) = self.inflight.running.lock()
            && let Some(count) = running.get_mut(&self.user)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                running.remove(&self.user);
            }
        }
    }
}

/// Each user's token bucket (`governor`, keyed by user id).
pub type UserRateLimiter = DefaultKeyedRateLimiter<Uuid>;

/// A token bucket per user refilled at `per_second`, holding `burst` requests.
pub fn rate_limiter(per_second: u32, burst: Option<u32>) -> Option<UserRateLimiter> {
    let rate = NonZeroU32::new(per_second)?;
    let burst = burst
        .and_then(NonZeroU32::new)
        .unwrap_or_else(|| rate.saturating_mul(NonZeroU32::MIN.saturating_add(1)));
    Some(UserRateLimiter::keyed(
        Quota::per_second(rate).allow_burst(burst),
    ))
}

/// What the handlers share.
pub struct HttpState {
    pub schema: AppSchema,
    pub db: Db,
    pub keys: TokenKeys,
    /// Time and size limits.
    pub limits: RequestLimits,
    /// Per-user request rate, when limited.
    pub rate: Option<UserRateLimiter>,
    /// Per-user concurrent requests, when limited.
    pub inflight: Option<InFlight>,
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

/// Any other method on `/graphql`: 405 with `Allow: GET, POST`.
pub async fn method_not_allowed() -> HttpResponse {
    let mut response = error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "use POST (or GET for queries)",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    response
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

/// Reads the body: decoded per `Content-Encoding`, at most `max_bytes` once decoded, within
/// `timeout` (a client sending a byte a second is cut off).
async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    limits: &RequestLimits,
) -> Result<web::BytesMut, HttpResponse> {
    let max = limits.max_body_bytes;
    let too_large = || {
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            &format!("the request body is larger than {max} bytes"),
        )
    };
    if let Some(length) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && length > max as u64
    {
        return Err(too_large());
    }
    let mut stream = Decompress::from_headers(payload.into_inner(), req.headers());
    let read = async {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|err| {
                tracing::debug!(%err, "unreadable request body");
                error_response(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    "the request body could not be read or decoded (check its Content-Encoding)",
                )
            })?;
            if body.len() + chunk.len() > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    match tokio::time::timeout(limits.body_timeout, read).await {
        Ok(result) => result,
        Err(_) => Err(error_response(
            StatusCode::REQUEST_TIMEOUT,
            "REQUEST_TIMEOUT",
            &format!(
                "the request body did not arrive within {} s",
                limits.body_timeout.as_secs_f64()
            ),
        )),
    }
}

/// `POST /graphql`.
pub async fn graphql_post(
    req: HttpRequest,
    payload: web::Payload,
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
    let body = match read_body(&req, payload, &state.limits).await {
        Ok(body) => body,
        Err(response) => return response,
    };
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

/// Authenticates the caller, applies the per-user limits, runs the operations within the time
/// limit and shapes the answer within the size limit.
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
                crate::error::log_internal(cause);
            }
            let mut response = error_response(status, err.code(), &err.message());
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"leadq\""),
            );
            return response;
        }
    };
    if let Some(limiter) = &state.rate
        && let Err(not_until) = limiter.check_key(&actor.user_id)
    {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return rate_limited(
            seconds.max(1),
            format!("too many requests: retry in {} s", seconds.max(1)),
        );
    }
    let _slot = match &state.inflight {
        Some(inflight) => match inflight.enter(actor.user_id) {
            Some(slot) => Some(slot),
            None => {
                return rate_limited(
                    1,
                    format!(
                        "too many requests running at once (at most {}): retry when one has \
                         finished",
                        inflight.max
                    ),
                );
            }
        },
        None => None,
    };
    let output = ResponseBytes::new(state.limits.max_response_bytes);
    let work = run_operations(state, &actor, batch, &output);
    let response = match tokio::time::timeout(state.limits.timeout, work).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                user = %actor.user_id,
                limit_seconds = state.limits.timeout.as_secs_f64(),
                "request stopped at its time limit"
            );
            let err = AppError::Timeout {
                limit_seconds: state.limits.timeout.as_secs_f64(),
            };
            return error_response(StatusCode::SERVICE_UNAVAILABLE, err.code(), &err.message());
        }
    };
    if output.exceeded() {
        return too_large_response(state.limits.max_response_bytes);
    }
    let mut body = CappedWriter {
        bytes: Vec::new(),
        max: state.limits.max_response_bytes,
    };
    if serde_json::to_writer(&mut body, &response).is_err() {
        return too_large_response(state.limits.max_response_bytes);
    }
    match failed_as_a_whole_retryably(&response) {
        Some(seconds) => {
            let mut reply = HttpResponse::ServiceUnavailable()
                .content_type("application/json")
                .body(body.bytes);
            set_retry_after(&mut reply, seconds);
            reply
        }
        None => HttpResponse::Ok()
            .content_type("application/json")
            .body(body.bytes),
    }
}

/// Runs the operations of a request, sharing one cost budget.
async fn run_operations(
    state: &HttpState,
    actor: &Actor,
    batch: BatchRequest,
    output: &ResponseBytes,
) -> BatchResponse {
    let budget = RequestBudget::default();
    let prepare = |request: Request| -> Result<Request, ServerError> {
        check_document(&request, state.introspection)?;
        let operation = SelectedOperation(request.operation_name.clone());
        Ok(request
            .data(actor.clone())
            .data(loaders(state.db.clone()))
            .data(budget.clone())
            .data(operation)
            .data(output.clone()))
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
    match response {
        BatchResponse::Single(r) => BatchResponse::Single(with_codes(r)),
        BatchResponse::Batch(rs) => BatchResponse::Batch(rs.into_iter().map(with_codes).collect()),
    }
}

/// A writer that refuses to grow past `max` bytes.
struct CappedWriter {
    bytes: Vec<u8>,
    max: usize,
}

impl std::io::Write for CappedWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + data.len() > self.max {
            return Err(std::io::Error::other("response too large"));
        }
        self.bytes.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn too_large_response(max_bytes: usize) -> HttpResponse {
    let err = AppError::ResponseTooLarge { max_bytes };
    HttpResponse::Ok().json(serde_json::json!({
        "data": null,
        "errors": [{ "message": err.message(), "extensions": err.extensions() }]
    }))
}

/// HTTP 429 with `Retry-After` and a `RATE_LIMITED` error.
fn rate_limited(retry_after_seconds: u64, message: String) -> HttpResponse {
    let err = AppError::RateLimited {
        message,
        retry_after_seconds,
    };
    let mut response = HttpResponse::TooManyRequests().json(serde_json::json!({
        "errors": [{ "message": err.message(), "extensions": err.extensions() }]
    }));
    set_retry_after(&mut response, retry_after_seconds);
    response
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

/// Refuses a URI longer than the limit with 414 (before routing, so any method and path).
pub async fn limit_uri(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let max = req
        .app_data::<web::Data<Arc<HttpState>>>()
        .map_or(usize::MAX, |state| state.limits.max_uri_bytes);
    let length = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if length > max {
        let response = error_response(
            StatusCode::URI_TOO_LONG,
            "URI_TOO_LONG",
            &format!("the request URI is {length} bytes long; at most {max} are allowed"),
        );
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The code of an HTTP error status.
fn status_code_name(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "BAD_REQUEST",
        StatusCode::UNAUTHORIZED => "UNAUTHENTICATED",
        StatusCode::FORBIDDEN => "FORBIDDEN",
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::REQUEST_TIMEOUT => "REQUEST_TIMEOUT",
        StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
        StatusCode::URI_TOO_LONG => "URI_TOO_LONG",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
        StatusCode::TOO_MANY_REQUESTS => "RATE_LIMITED",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "HEADERS_TOO_LARGE",
        StatusCode::SERVICE_UNAVAILABLE => "SERVICE_UNAVAILABLE",
        s if s.is_server_error() => "INTERNAL_SERVER_ERROR",
        _ => "BAD_REQUEST",
    }
}

/// Error handler (for `ErrorHandlers::default_handler`): an error response that is not already
/// JSON (actix-web's own: an unknown route, a body extractor's failure, a panic...) gets the
/// GraphQL error shape with a code for its status, and none of its internal text.
pub fn json_errors<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .response()
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    if status.is_server_error() {
        tracing::error!(%status, error = ?res.response().error(), "server error");
    }
    let message = status
        .canonical_reason()
        .unwrap_or("error")
        .to_ascii_lowercase();
    let (req, res) = res.into_parts();
    let mut response = error_response(status, status_code_name(status), &message);
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }
    let response: HttpResponse<BoxBody> = response;
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body(),
    ))
}

/// A response with one error and no data.
fn error_response(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    }))
}

/// The type of the operation a request will run, if it can be told.
pub(crate) fn selected_operation(
    document: &ExecutableDocument,
    name: Option<&str>,
) -> Option<OperationType> {
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
