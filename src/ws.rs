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

use std::sync::Arc;
use std::time::Duration;

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

/// A client that neither sends anything nor answers pings for this long is closed.
const KEEPALIVE: Duration = Duration::from_secs(30);
/// Largest message a client may send.
const MAX_FRAME: usize = 64 * 1024;
/// Marks a refused `connection_init`, so the close can say 4403.
const FORBIDDEN: &str = "Forbidden";
/// Close code for a subscriber dropped for falling behind.
const TOO_SLOW_CLOSE: u16 = 4008;

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

    // Client frames in: text and binary go to the protocol; pings are answered here.
    let pongs = session.clone();
    let incoming = Box::pin(
        messages
            .max_frame_size(MAX_FRAME)
            .aggregate_continuations()
            .max_continuation_size(MAX_FRAME)
            .take_while(|m| std::future::ready(m.is_ok()))
            .filter_map(move |message| {
                let mut pongs = pongs.clone();
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
    let mut protocol_stream = async_graphql::http::WebSocket::new(executor, incoming, protocol)
        .on_connection_init(authenticate)
        .keepalive_timeout(KEEPALIVE);

    actix_web::rt::spawn(async move {
        while let Some(message) = protocol_stream.next().await {
            match message {
                WsMessage::Text(text) => {
                    let too_slow = text.contains(SUBSCRIBER_TOO_SLOW);
                    if session.text(text).await.is_err() {
                        return;
                    }
                    if too_slow {
                        let _ = session
                            .close(Some(CloseReason {
                                code: CloseCode::Other(TOO_SLOW_CLOSE),
                                description: Some(
                                    "subscriber too slow: events were dropped".to_owned(),
                                ),
                            }))
                            .await;
                        return;
                    }
                }
                WsMessage::Close(code, reason) => {
                    // A refused connection_init: the protocol's Forbidden.
                    let code = if reason.starts_with(FORBIDDEN) {
                        4403
                    } else {
                        code
                    };
                    let _ = session
                        .close(Some(CloseReason {
                            code: CloseCode::Other(code),
                            description: Some(reason),
                        }))
                        .await;
                    return;
                }
            }
        }
        let _ = session.close(None).await;
    });
    response
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
