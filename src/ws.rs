//! GraphQL over WebSocket: `GET /graphql` with `Upgrade: websocket` and the
//! `graphql-transport-ws` protocol (what the `graphql-ws` npm library speaks), for
//! subscriptions.
//!
//! - The client authenticates in its `connection_init` payload with
//!   `{"Authorization": "Bearer <token>"}`; a missing or bad token closes the socket with 4403
//!   (Forbidden), as the protocol says.
//! - Only subscriptions run here; queries and mutations go over HTTP, where the request limits
//!   apply.
//! - A subscriber that falls too far behind (its client does not read) is dropped: the socket
//!   closes with 4008 and a reason, so writers never wait for a slow reader.
//! - Liveness is the server's job: it sends a WebSocket ping every third of
//!   `LEADQ_WEBSOCKET_TIMEOUT_SECONDS`, which browsers and WebSocket libraries answer by
//!   themselves, and closes a socket from which nothing (not even a pong) has come for the whole
//!   timeout (1001, its peer is gone). A quiet client that only listens (GraphiQL, `graphql-ws`
//!   with its default `keepAlive: 0`, a job's progress followed for an hour) is never cut off.
//!   A socket that has not completed `connection_init` within the timeout is closed with 4408,
//!   as the protocol says.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason};
use async_graphql::http::{WebSocketProtocols, WsMessage};
use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Request, Response, ServerError};
use futures_util::stream::{self, BoxStream, StreamExt};
use serde_json::json;

use crate::auth::{Actor, bearer_token};
use crate::error::AppError;
use crate::graphql::loaders::loaders;
use crate::graphql::schema::AppSchema;
use crate::graphql::subscription::SUBSCRIBER_TOO_SLOW;
use crate::http::HttpState;
use crate::service;

/// Largest message a client may send.
const MAX_FRAME: usize = 64 * 1024;
/// Marks a refused `connection_init`, so the close can say 4403.
const FORBIDDEN: &str = "Forbidden";
/// Close code for a subscriber dropped for falling behind.
const TOO_SLOW_CLOSE: u16 = 4008;
/// Close code for a socket whose `connection_init` did not come in time (the protocol's).
const INIT_TIMEOUT_CLOSE: u16 = 4408;
/// Close code for a peer that stopped answering (WebSocket's "going away").
const GONE_CLOSE: u16 = 1001;

/// When the client was last heard from (any frame, pongs included), in milliseconds since the
/// socket opened.
#[derive(Clone)]
struct LastHeard {
    opened: Instant,
    at_ms: Arc<AtomicU64>,
}

impl LastHeard {
    fn new() -> Self {
        LastHeard {
            opened: Instant::now(),
            at_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    fn now(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.at_ms.store(ms, Ordering::Relaxed);
    }

    fn silent_for(&self) -> Duration {
        self.opened
            .elapsed()
            .saturating_sub(Duration::from_millis(self.at_ms.load(Ordering::Relaxed)))
    }
}

/// `GET /graphql` with a WebSocket upgrade.
pub async fn graphql_ws(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<Arc<HttpState>>,
) -> HttpResponse {
    let protocol = req
        .headers()
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|list| {
            list.split(',')
                .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        });
    let Some(protocol) = protocol else {
        return HttpResponse::BadRequest().json(json!({ "errors": [{
            "message": "ask for the graphql-transport-ws WebSocket protocol (Sec-WebSocket-Protocol)",
            "extensions": { "code": "BAD_REQUEST" } }] }));
    };
    let (mut response, mut session, messages) = match actix_ws::handle(&req, body) {
        Ok(parts) => parts,
        Err(error) => return error.error_response(),
    };
    if let Ok(value) = HeaderValue::from_str(protocol.sec_websocket_protocol()) {
        response
            .headers_mut()
            .insert(header::SEC_WEBSOCKET_PROTOCOL, value);
    }

    // Client frames in: text and binary go to the protocol; pings are answered here; every
    // frame (pongs included) counts as a sign of life.
    let heard = LastHeard::new();
    let heard_in = heard.clone();
    let pongs = session.clone();
    let incoming = Box::pin(
        messages
            .max_frame_size(MAX_FRAME)
            .aggregate_continuations()
            .max_continuation_size(MAX_FRAME)
            .take_while(|m| std::future::ready(m.is_ok()))
            .filter_map(move |message| {
                let mut pongs = pongs.clone();
                heard_in.now();
                async move {
                    match message {
                        Ok(AggregatedMessage::Text(text)) => Some(text.as_bytes().to_vec()),
                        Ok(AggregatedMessage::Binary(bytes)) => Some(bytes.to_vec()),
                        Ok(AggregatedMessage::Ping(bytes)) => {
                            let _ = pongs.pong(&bytes).await;
                            None
                        }
                        _ => None,
                    }
                }
            }),
    );

    let state = state.get_ref().clone();
    let executor = SubscriptionsOnly(state.schema.clone());
    let authenticate = {
        let state = state.clone();
        move |payload: serde_json::Value| async move { connection_data(&state, payload).await }
    };
    let acknowledged = Arc::new(AtomicBool::new(false));
    let mut protocol_stream = async_graphql::http::WebSocket::new(executor, incoming, protocol)
        .on_connection_init({
            let acknowledged = acknowledged.clone();
            move |payload| async move {
                let data = authenticate(payload).await?;
                acknowledged.store(true, Ordering::Relaxed);
                Ok(data)
            }
        });
    let timeout = state.websocket_timeout;

    actix_web::rt::spawn(async move {
        let mut heartbeat = tokio::time::interval(timeout / 3);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        heartbeat.tick().await; // the first tick is immediate
        loop {
            tokio::select! {
                message = protocol_stream.next() => {
                    let Some(message) = message else { break };
                    if send(&mut session, message).await.is_break() {
                        return;
                    }
                }
                _ = heartbeat.tick() => {
                    let close = if !acknowledged.load(Ordering::Relaxed)
                        && heard.opened.elapsed() >= timeout
                    {
                        Some((INIT_TIMEOUT_CLOSE, "Connection initialisation timeout".to_owned()))
                    } else if heard.silent_for() >= timeout {
                        Some((GONE_CLOSE, format!(
                            "nothing came, not even a pong, for {} s",
                            timeout.as_secs_f64()
                        )))
                    } else {
                        None
                    };
                    if let Some((code, description)) = close {
                        let _ = session
                            .close(Some(CloseReason {
                                code: CloseCode::Other(code),
                                description: Some(description),
                            }))
                            .await;
                        return;
                    }
                    if session.ping(b"").await.is_err() {
                        return;
                    }
                }
            }
        }
        let _ = session.close(None).await;
    });
    response
}

/// Sends one message of the protocol to the client; `Break` once the socket is done.
async fn send(session: &mut actix_ws::Session, message: WsMessage) -> ControlFlow<()> {
    match message {
        WsMessage::Text(text) => {
            let too_slow = text.contains(SUBSCRIBER_TOO_SLOW);
            if session.text(text).await.is_err() {
                return ControlFlow::Break(());
            }
            if too_slow {
                let _ = session
                    .clone()
                    .close(Some(CloseReason {
                        code: CloseCode::Other(TOO_SLOW_CLOSE),
                        description: Some("subscriber too slow: events were dropped".to_owned()),
                    }))
                    .await;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
        WsMessage::Close(code, reason) => {
            // A refused connection_init: the protocol's Forbidden.
            let code = if reason.starts_with(FORBIDDEN) {
                4403
            } else {
                code
            };
            let _ = session
                .clone()
                .close(Some(CloseReason {
                    code: CloseCode::Other(code),
                    description: Some(reason),
                }))
                .await;
            ControlFlow::Break(())
        }
    }
}

/// The connection's data once its `connection_init` payload carried a valid token: the caller
/// and the loaders; otherwise a refusal that closes the socket with 4403.
async fn connection_data(
    state: &HttpState,
    payload: serde_json::Value,
) -> async_graphql::Result<Data> {
    let header = ["Authorization", "authorization"]
        .iter()
        .find_map(|name| payload.get(*name).and_then(|v| v.as_str()))
        .or_else(|| {
            payload
                .get("headers")
                .and_then(|h| h.get("Authorization").or_else(|| h.get("authorization")))
                .and_then(|v| v.as_str())
        });
    let refuse = |why: &str| async_graphql::Error::new(format!("{FORBIDDEN}: {why}"));
    let Some(token) = bearer_token(header) else {
        return Err(refuse(
            "send {\"Authorization\": \"Bearer <token>\"} in connection_init",
        ));
    };
    let user_id = state
        .keys
        .verify(token)
        .map_err(|e: AppError| refuse(&e.message()))?;
    let user = service::users::find(&state.db.read, user_id)
        .await
        .map_err(|e| refuse(&e.message()))?
        .ok_or_else(|| refuse("the token's user does not exist"))?;
    let mut data = Data::default();
    data.insert(Actor::from_user(&user));
    data.insert(loaders(state.db.clone()));
    Ok(data)
}

/// The schema, running subscriptions only (queries and mutations belong to HTTP, with its
/// limits).
#[derive(Clone)]
struct SubscriptionsOnly(AppSchema);

impl Executor for SubscriptionsOnly {
    async fn execute(&self, request: Request) -> Response {
        self.0.execute(request).await
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let is_subscription = async_graphql::parser::parse_query(&request.query)
            .ok()
            .and_then(|document| {
                let name = request.operation_name.as_deref();
                crate::http::selected_operation(&document, name)
            })
            == Some(OperationType::Subscription);
        if is_subscription {
            self.0
                .execute_stream_with_session_data(request, session_data.unwrap_or_default())
        } else {
            let mut error = ServerError::new(
                "only subscriptions run over WebSocket; send queries and mutations with POST",
                None,
            );
            let mut extensions = async_graphql::ErrorExtensionValues::default();
            extensions.set("code", "BAD_REQUEST");
            error.extensions = Some(extensions);
            stream::once(async move { Response::from_errors(vec![error]) }).boxed()
        }
    }
}
