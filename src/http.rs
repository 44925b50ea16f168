//! The HTTP surface, following the GraphQL-over-HTTP conventions:
//!
//! - `POST /graphql` with a JSON body (`application/json` or `application/graphql-response+json`
//!   accepted as `Content-Type`; anything else is 415, so a cross-site form or a `text/plain`
//!   post can never run a mutation), one operation or a batch of at most [`MAX_BATCH`];
//! - `GET /graphql?query=...` runs queries only (a mutation over GET is 405); without a query it
//!   serves GraphiQL when enabled ([`crate::playground`]);
//! - the parameters are checked and the answer's media type chosen by [`crate::protocol`];
//!   `extensions.persistedQuery` names a persisted operation ([`crate::service::persisted`]);
//! - `GET /health` is liveness, `GET /ready` readiness (the database answers), `GET /metrics`
//!   the Prometheus page ([`crate::metrics`]); [`access_log`] writes one line per request.
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
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{BatchResponse, Request, Response, ServerError};
use futures_util::StreamExt;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde_json::json;
use uuid::Uuid;

use crate::auth::{Actor, TokenKeys, bearer_token};
use crate::db::Db;
use crate::error::AppError;
use crate::graphql::limits::{ParsedOperation, RequestBudget, ResponseBytes, SelectedOperation};
use crate::graphql::loaders::loaders;
use crate::graphql::schema::AppSchema;
use crate::protocol::{MISSING_QUERY, Params, RequestError, ResponseMedia, is_request_error};
use crate::service;

/// Most operations in one batched request.
pub const MAX_BATCH: usize = 10;
/// Most aliased fields in one operation (checked by the cost-limit extension).
pub use crate::graphql::limits::MAX_ALIASES;

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
    /// A WebSocket silent this long (no frame, no pong) is closed ([`crate::ws`]).
    pub websocket_timeout: std::time::Duration,
    /// Only registered persisted operations run (`LEADQ_PERSISTED_ONLY`).
    pub persisted_only: bool,
    /// Persisted operations looked up lately.
    pub persisted: service::persisted::Cache,
    /// GraphiQL page, when enabled; `{TOKEN}`-free.
    pub graphiql: Option<String>,
    /// GraphiQL page with a development token in its headers, served only to loopback clients.
    pub graphiql_with_token: Option<String>,
}

/// The GraphiQL page ([`crate::playground`]), with a bearer token in its Headers editor when
/// given.
pub fn graphiql_page(token: Option<&str>) -> String {
    crate::playground::page(token)
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

/// `GET /health`: liveness. The process serves HTTP; the database is not asked (a database
/// outage is no reason to restart the server: see `/ready`).
pub async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "status": "ok" }))
}

/// Longest `/ready` waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /ready`: readiness. 200 when the database answers a query within 2 s (`READY_TIMEOUT`) on
/// the connections that serve requests, else 503 `DATABASE_UNAVAILABLE` (a load balancer then
/// sends traffic elsewhere until it answers again).
pub async fn ready(state: web::Data<Arc<HttpState>>) -> HttpResponse {
    let check = async {
        state.db.read.ping().await?;
        if state.db.backend() == sea_orm::DbBackend::Postgres {
            state.db.write.ping().await?;
        }
        Ok::<(), sea_orm::DbErr>(())
    };
    let failure = match tokio::time::timeout(READY_TIMEOUT, check).await {
        Ok(Ok(())) => {
            return HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(json!({ "status": "ready", "database": "ok" }));
        }
        Ok(Err(err)) => err.to_string(),
        Err(_) => format!("no answer within {} s", READY_TIMEOUT.as_secs()),
    };
    crate::error::note_unavailable(&format!("readiness check: {failure}"));
    let mut response = HttpResponse::ServiceUnavailable()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "status": "unavailable",
            "database": "unavailable",
            "errors": [{ "message": "the database does not answer",
                         "extensions": { "code": "DATABASE_UNAVAILABLE", "retryAfterSeconds": 1 } }]
        }));
    set_retry_after(&mut response, 1);
    response
}

/// `GET /metrics`: Prometheus text format (see [`crate::metrics`]).
pub async fn metrics(state: web::Data<Arc<HttpState>>) -> HttpResponse {
    match crate::metrics::render(&state.db) {
        Some(page) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(page),
        None => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            "metrics are recorded elsewhere in this process",
        ),
    }
}

/// `GET /graphql`: GraphiQL, or a query given in the URL (`query`, `operationName`, and
/// `variables` / `extensions` as JSON text).
pub async fn graphql_get(req: HttpRequest, state: web::Data<Arc<HttpState>>) -> HttpResponse {
    let query_string = req.query_string();
    let asks = |name: &str| query_string.split('&').any(|p| p.starts_with(name));
    if query_string.is_empty() || !(asks("query=") || asks("extensions=")) {
        let loopback = req.peer_addr().is_some_and(|a| a.ip().is_loopback());
        let page = match (&state.graphiql_with_token, &state.graphiql) {
            (Some(with_token), _) if loopback => Some(with_token),
            (_, Some(page)) => Some(page),
            _ => None,
        };
        return match page {
            Some(page) => HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(page.clone()),
            None => HttpResponse::NotFound().finish(),
        };
    }
    let params = match Params::from_query_string(query_string) {
        Ok(params) => params,
        Err(RequestError(message)) => {
            return error_response(StatusCode::BAD_REQUEST, "BAD_REQUEST", &message);
        }
    };
    if params.query.is_none() && params.persisted_query().is_none() {
        return error_response(StatusCode::BAD_REQUEST, "BAD_REQUEST", MISSING_QUERY);
    }
    // Refused before authentication: a GET runs no mutation, whoever sends it.
    if let Some(query) = &params.query
        && let Ok(document) = async_graphql::parser::parse_query(query)
        && let Some(op) = selected_operation(&document, params.operation_name.as_deref())
        && op != OperationType::Query
    {
        return mutation_over_get();
    }
    execute(&req, &state, Incoming::Single(params)).await
}

/// The mutation-over-GET refusal: 405 with `Allow: POST`.
fn mutation_over_get() -> HttpResponse {
    let mut response = error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "mutations must be sent with POST",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// The operations of one HTTP request, their parameters checked.
pub enum Incoming {
    Single(Params),
    Batch(Vec<Params>),
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
    if body.iter().all(u8::is_ascii_whitespace) {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "the request body is empty: send a JSON object such as {\"query\": \"{ me { name } }\"}",
        );
    }
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(err) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the body is not JSON: {err}"),
            );
        }
    };
    let incoming = match value {
        serde_json::Value::Array(items) => {
            if items.len() > MAX_BATCH {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    "BATCH_TOO_LARGE",
                    &format!("a batch may hold at most {MAX_BATCH} operations"),
                );
            }
            if items.is_empty() {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    "the batch is empty: send at least one request",
                );
            }
            let mut batch = Vec::with_capacity(items.len());
            for item in items {
                match Params::from_json(item) {
                    Ok(params) => batch.push(params),
                    Err(RequestError(message)) => {
                        return error_response(StatusCode::BAD_REQUEST, "BAD_REQUEST", &message);
                    }
                }
            }
            Incoming::Batch(batch)
        }
        single => match Params::from_json(single) {
            Ok(params) => Incoming::Single(params),
            Err(RequestError(message)) => {
                return error_response(StatusCode::BAD_REQUEST, "BAD_REQUEST", &message);
            }
        },
    };
    let missing_query = |p: &Params| p.query.is_none() && p.persisted_query().is_none();
    let missing = match &incoming {
        Incoming::Single(params) => missing_query(params),
        Incoming::Batch(batch) => batch.iter().any(missing_query),
    };
    if missing {
        return error_response(StatusCode::BAD_REQUEST, "BAD_REQUEST", MISSING_QUERY);
    }
    execute(&req, &state, incoming).await
}

/// Authenticates the caller, applies the per-user limits, runs the operations within the time
/// limit and shapes the answer within the size limit.
async fn execute(req: &HttpRequest, state: &HttpState, incoming: Incoming) -> HttpResponse {
    let media = ResponseMedia::negotiate(
        req.headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    );
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
    let mut batch = match resolve_queries(req, state, incoming).await {
        Ok(batch) => batch,
        Err(response) => return response,
    };
    let to_remember = std::mem::take(&mut batch.to_remember);
    let output = ResponseBytes::new(state.limits.max_response_bytes);
    let mut log = RequestLog {
        actor: Some(actor.user_id),
        ..RequestLog::default()
    };
    let work = run_operations(state, &actor, batch, &output, &mut log);
    let response = tokio::time::timeout(state.limits.timeout, work).await;
    req.extensions_mut().insert(log);
    if let Ok(response) = &response {
        remember_persisted(state, response, to_remember).await;
    }
    let response = match response {
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
    let request_error = match &response {
        BatchResponse::Single(r) => is_request_error(r),
        BatchResponse::Batch(rs) => rs.iter().all(is_request_error),
    };
    let mut body = CappedWriter {
        bytes: Vec::new(),
        max: state.limits.max_response_bytes,
    };
    let written = match media {
        ResponseMedia::Json => serde_json::to_writer(&mut body, &response),
        ResponseMedia::GraphqlResponseJson => {
            serde_json::to_writer(&mut body, &Shaped::batch(&response))
        }
    };
    if written.is_err() {
        return too_large_response(state.limits.max_response_bytes);
    }
    let content_type = media.content_type();
    match failed_as_a_whole_retryably(&response) {
        Some(seconds) => {
            let mut reply = HttpResponse::ServiceUnavailable()
                .content_type(content_type)
                .body(body.bytes);
            set_retry_after(&mut reply, seconds);
            reply
        }
        None if request_error && media == ResponseMedia::GraphqlResponseJson => {
            HttpResponse::BadRequest()
                .content_type(content_type)
                .body(body.bytes)
        }
        None => HttpResponse::Ok()
            .content_type(content_type)
            .body(body.bytes),
    }
}

/// The requests of one HTTP request, ready to run or refused one by one.
struct Batch {
    requests: Vec<Result<Request, ServerError>>,
    /// Whether the client sent a batch (answered with a list, even of one).
    is_batch: bool,
    /// Documents sent in full with their hash (automatic persisted queries), by position: stored
    /// once they have run without a request error.
    to_remember: Vec<(usize, String, String)>,
}

/// A persisted operation's reference: `extensions.persistedQuery` = `{ "version": 1,
/// "sha256Hash": "<64 hex digits>" }`.
// The error is the answer to send at once, built once per refused request: no need to box it.
#[allow(clippy::result_large_err)]
fn persisted_hash(params: &Params) -> Result<Option<String>, HttpResponse> {
    let Some(reference) = params.persisted_query() else {
        return Ok(None);
    };
    let bad = |message: &str| error_response(StatusCode::BAD_REQUEST, "BAD_REQUEST", message);
    let serde_json::Value::Object(reference) = reference else {
        return Err(bad(
            "extensions.persistedQuery must be an object: { \"version\": 1, \"sha256Hash\": \"...\" }",
        ));
    };
    if reference.get("version").and_then(serde_json::Value::as_u64) != Some(1) {
        return Err(bad(
            "extensions.persistedQuery.version must be 1 (the only version of the protocol)",
        ));
    }
    match reference
        .get("sha256Hash")
        .and_then(serde_json::Value::as_str)
    {
        Some(hash) if service::persisted::is_sha256_hex(hash) => {
            Ok(Some(hash.to_ascii_lowercase()))
        }
        _ => Err(bad(
            "extensions.persistedQuery.sha256Hash must be the SHA-256 of the document, 64 \
             hexadecimal digits",
        )),
    }
}

/// The document a request runs: its own, or the persisted one it names; under
/// `LEADQ_PERSISTED_ONLY` a registered one only. (Outer error: the answer to the whole request;
/// inner: this operation's refusal.)
#[allow(clippy::result_large_err)]
async fn document_of(
    state: &HttpState,
    params: &Params,
    hash: Option<&str>,
) -> Result<Result<(String, bool), ServerError>, HttpResponse> {
    use service::persisted;
    let not_found = |message: String| {
        crate::metrics::persisted("not_found");
        Ok(Err(
            AppError::PersistedQueryNotFound(message).to_server_error()
        ))
    };
    let unavailable = |err: AppError| Ok(Err(err.to_server_error()));
    match (&params.query, hash) {
        (Some(query), Some(hash)) => {
            if persisted::sha256_hex(query) != hash {
                return Err(error_response(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query sent \
                     with it",
                ));
            }
            if state.persisted_only {
                match persisted::find(&state.db, &state.persisted, hash, true).await {
                    Ok(Some(_)) => {}
                    Ok(None) => {
                        return not_found(
                            "PersistedQueryNotFound: this server runs only operations registered \
                             ahead of time (leadq persist), and this one is not"
                                .to_owned(),
                        );
                    }
                    Err(err) => return unavailable(err),
                }
                crate::metrics::persisted("hit");
                return Ok(Ok((query.clone(), false)));
            }
            Ok(Ok((query.clone(), true)))
        }
        (Some(query), None) if state.persisted_only => {
            let hash = persisted::sha256_hex(query);
            match persisted::find(&state.db, &state.persisted, &hash, true).await {
                Ok(Some(_)) => {
                    crate::metrics::persisted("hit");
                    Ok(Ok((query.clone(), false)))
                }
                Ok(None) => not_found(
                    "PersistedQueryNotFound: this server runs only operations registered ahead \
                     of time (leadq persist); send a registered document or its sha256Hash in \
                     extensions.persistedQuery"
                        .to_owned(),
                ),
                Err(err) => unavailable(err),
            }
        }
        (Some(query), None) => Ok(Ok((query.clone(), false))),
        (None, Some(hash)) => {
            match persisted::find(&state.db, &state.persisted, hash, state.persisted_only).await {
                Ok(Some(stored)) => {
                    crate::metrics::persisted("hit");
                    Ok(Ok((stored.document.to_string(), false)))
                }
                Ok(None) if state.persisted_only => not_found(
                    "PersistedQueryNotFound: no operation registered ahead of time (leadq \
                     persist) has this sha256Hash"
                        .to_owned(),
                ),
                Ok(None) => not_found(
                    "PersistedQueryNotFound: no operation is stored under this sha256Hash; send \
                     it again with its query"
                        .to_owned(),
                ),
                Err(err) => unavailable(err),
            }
        }
        (None, None) => Err(error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            MISSING_QUERY,
        )),
    }
}

/// The requests to run: each one's document (its own or a persisted one), and over GET queries
/// only (a mutation is 405).
async fn resolve_queries(
    req: &HttpRequest,
    state: &HttpState,
    incoming: Incoming,
) -> Result<Batch, HttpResponse> {
    let is_get = req.method() == actix_web::http::Method::GET;
    let (all, is_batch) = match incoming {
        Incoming::Single(params) => (vec![params], false),
        Incoming::Batch(batch) => (batch, true),
    };
    let mut batch = Batch {
        requests: Vec::with_capacity(all.len()),
        is_batch,
        to_remember: Vec::new(),
    };
    for (position, params) in all.into_iter().enumerate() {
        let hash = persisted_hash(&params)?;
        let (query, remember) = match document_of(state, &params, hash.as_deref()).await? {
            Ok(found) => found,
            Err(refused) => {
                batch.requests.push(Err(refused));
                continue;
            }
        };
        if is_get
            && let Ok(document) = async_graphql::parser::parse_query(&query)
            && let Some(op) = selected_operation(&document, params.operation_name.as_deref())
            && op != OperationType::Query
        {
            return Err(mutation_over_get());
        }
        if let (true, Some(hash)) = (remember, hash) {
            batch.to_remember.push((position, hash, query.clone()));
        }
        batch.requests.push(Ok(params.into_request(query)));
    }
    Ok(batch)
}

/// Stores the documents sent in full with their hash whose operation ran (no request error).
async fn remember_persisted(
    state: &HttpState,
    response: &BatchResponse,
    to_remember: Vec<(usize, String, String)>,
) {
    for (position, hash, document) in to_remember {
        let ran = match response {
            BatchResponse::Single(r) => !is_request_error(r),
            BatchResponse::Batch(rs) => rs.get(position).is_some_and(|r| !is_request_error(r)),
        };
        if !ran {
            continue;
        }
        match service::persisted::remember(&state.db, &hash, &document).await {
            Ok(()) => crate::metrics::persisted("registered"),
            Err(err) => tracing::warn!(code = err.code(), "a persisted query was not stored"),
        }
    }
}

/// An answer under `application/graphql-response+json`: a request error has no `data` entry.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Shaped<'a> {
    Full(&'a Response),
    NoData {
        errors: &'a [ServerError],
        #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
    },
    Batch(Vec<Shaped<'a>>),
}

impl<'a> Shaped<'a> {
    fn one(response: &'a Response) -> Self {
        if is_request_error(response) {
            Self::NoData {
                errors: &response.errors,
                extensions: &response.extensions,
            }
        } else {
            Self::Full(response)
        }
    }

    fn batch(response: &'a BatchResponse) -> Self {
        match response {
            BatchResponse::Single(r) => Self::one(r),
            BatchResponse::Batch(rs) => Self::Batch(rs.iter().map(Self::one).collect()),
        }
    }
}

/// Runs the operations of a request, sharing one cost budget (one answer per request; a batch
/// when more than one or when the client sent a batch).
async fn run_operations(
    state: &HttpState,
    actor: &Actor,
    batch: Batch,
    output: &ResponseBytes,
    log: &mut RequestLog,
) -> BatchResponse {
    let budget = RequestBudget::default();
    let mut responses = Vec::with_capacity(batch.requests.len());
    for request in batch.requests {
        let start = std::time::Instant::now();
        let parsed = ParsedOperation::default();
        let response = match request {
            Ok(request) => {
                let operation = SelectedOperation(request.operation_name.clone());
                let request = request
                    .data(actor.clone())
                    .data(loaders(state.db.clone()))
                    .data(budget.clone())
                    .data(operation)
                    .data(output.clone())
                    .data(parsed.clone());
                state.schema.execute(request).await
            }
            Err(refused) => Response::from_errors(vec![refused]),
        };
        let info = match parsed.get() {
            Some((name, kind)) => OperationInfo::named(name.as_deref(), kind),
            None => OperationInfo::named(None, "unknown"),
        };
        let response = with_codes(response);
        let codes = error_codes(&response);
        crate::metrics::operation(&info.name, info.kind, &codes, start.elapsed());
        log.operations.push(info);
        log.codes.extend(codes);
        responses.push(response);
    }
    match (batch.is_batch, responses.pop()) {
        (false, Some(response)) if responses.is_empty() => BatchResponse::Single(response),
        (_, last) => {
            responses.extend(last);
            BatchResponse::Batch(responses)
        }
    }
}

/// The codes of an answer's errors, each once.
fn error_codes(response: &Response) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    for error in &response.errors {
        if let Some(async_graphql::Value::String(code)) =
            error.extensions.as_ref().and_then(|e| e.get("code"))
            && !codes.contains(code)
        {
            codes.push(code.clone());
        }
    }
    codes
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
        .is_some_and(|v| {
            v.starts_with("application/json")
                || v.starts_with(crate::protocol::GRAPHQL_RESPONSE_JSON)
        });
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

/// The name (as a metric label) and type of the operation a request runs.
#[derive(Debug, Clone)]
pub struct OperationInfo {
    pub name: String,
    pub kind: &'static str,
}

impl OperationInfo {
    /// `name` as a metric label ([`crate::metrics::operation_label`]) and `kind`.
    fn named(name: Option<&str>, kind: &'static str) -> Self {
        Self {
            name: crate::metrics::operation_label(name),
            kind,
        }
    }
}

/// What the request log line and the metrics tell about a GraphQL request (left in the
/// request's extensions by the handler, read by [`access_log`]).
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    pub operations: Vec<OperationInfo>,
    pub actor: Option<Uuid>,
    pub codes: Vec<String>,
}

/// One `info` line per request (method, path, status, duration, operation name and type, actor,
/// error codes) and the HTTP metrics.
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = std::time::Instant::now();
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let result = next.call(req).await;
    let elapsed = start.elapsed();
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    let (status, route, log) = match &result {
        Ok(res) => (
            res.status(),
            res.request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_owned()),
            res.request().extensions().get::<RequestLog>().cloned(),
        ),
        Err(err) => (
            err.as_response_error().status_code(),
            "unmatched".to_owned(),
            None,
        ),
    };
    let log = log.unwrap_or_default();
    let mut codes = log.codes.clone();
    if codes.is_empty() && (status.is_client_error() || status.is_server_error()) {
        codes.push(status_code_name(status).to_owned());
        crate::metrics::error(status_code_name(status));
    }
    let operation = log
        .operations
        .iter()
        .map(|o| o.name.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let operation_type = log
        .operations
        .iter()
        .map(|o| o.kind)
        .collect::<Vec<_>>()
        .join(",");
    let actor = log.actor.map(|a| a.to_string()).unwrap_or_default();
    let error_codes = codes.join(",");
    tracing::info!(
        target: "leadq::access",
        method = %method,
        path = %path,
        status = status.as_u16(),
        duration_ms = format_args!("{duration_ms:.1}"),
        operation = %operation,
        operation_type = %operation_type,
        actor = %actor,
        error_codes = %error_codes,
        "request"
    );
    crate::metrics::http_request(&method, &route, status.as_u16(), elapsed);
    result
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
