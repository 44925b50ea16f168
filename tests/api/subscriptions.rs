//! Subscriptions over WebSocket (`graphql-transport-ws`), with a real WebSocket client: a job's
//! progress through to SUCCEEDED, lead events from another server process, the token in
//! `connection_init`, limits, a subscriber too slow to keep up, and liveness (the server's pings).

use std::time::{Duration, Instant};

use entity::Role;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{TestApp, bulk_leads, spawn_app, spawn_app_with};
use crate::process::{SECRET, Server};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A graphql-transport-ws client.
struct WsClient {
    socket: Socket,
}

/// How a socket ended.
#[derive(Debug)]
enum Next {
    Message(Value),
    Closed(Option<(u16, String)>),
}

impl WsClient {
    /// Opens a socket to `http_address` (its `/graphql`) and sends `connection_init` with
    /// `payload`.
    async fn open(http_address: &str, payload: Value) -> WsClient {
        let mut client = Self::open_without_init(http_address).await;
        client
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        client
    }

    /// Opens a socket to `http_address` (its `/graphql`) and sends nothing.
    async fn open_without_init(http_address: &str) -> WsClient {
        let url = format!("{}/graphql", http_address.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        WsClient { socket }
    }

    /// Opens a socket authenticated with `token` and waits for the acknowledgement.
    async fn connect(http_address: &str, token: &str) -> WsClient {
        let mut client = Self::open(
            http_address,
            json!({ "Authorization": format!("Bearer {token}") }),
        )
        .await;
        match client.next().await {
            Next::Message(m) if m["type"] == "connection_ack" => client,
            other => panic!("no connection_ack: {other:?}"),
        }
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe",
                          "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// The next protocol message (pings answered), or how the socket closed; at most 30 s.
    async fn next(&mut self) -> Next {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = tokio::time::timeout(left, self.socket.next())
                .await
                .expect("nothing came from the server for 30 s");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(&text).unwrap();
                    if message["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Next::Message(message);
                }
                Some(Ok(Message::Close(frame))) => {
                    return Next::Closed(frame.map(|f| (u16::from(f.code), f.reason.to_string())));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Next::Closed(None),
            }
        }
    }

    /// The next message, which must be a `next` of subscription `id`: its payload.
    async fn next_of(&mut self, id: &str) -> Value {
        match self.next().await {
            Next::Message(m) if m["type"] == "next" && m["id"] == id => m["payload"].clone(),
            other => panic!("expected a next of {id}: {other:?}"),
        }
    }
}

const PROGRESS: &str = "subscription($id: ID!) { qualificationJobProgress(id: $id) {
    id state total processed qualifiedCount } }";
const EVENTS: &str = "subscription($filter: LeadEventFilter) { leadEvents(filter: $filter) {
    kind leadId lead { id state } actor { name } occurredAt } }";

#[tokio::test]
async fn a_job_s_progress_is_pushed_until_it_succeeds() {
    let app = spawn_app_with(|s| s.job_workers = Some(0)).await;
    let ids = bulk_leads(&app.db, app.admin_id, 700, "Progress").await;
    let started = app
        .ok(
            "mutation($input: StartQualificationJobInput!) { startQualificationJob(input: $input) { job { id } } }",
            json!({ "input": { "leadIds": ids } }),
        )
        .await;
    let job_id = started["startQualificationJob"]["job"]["id"].clone();
    let mut client = WsClient::connect(&app.address, &app.admin_token).await;
    client
        .subscribe("p", PROGRESS, json!({ "id": job_id }))
        .await;
    let first = client.next_of("p").await;
    assert_eq!(
        first["data"]["qualificationJobProgress"]["state"], "QUEUED",
        "{first}"
    );
    // Now a process starts working on it.
    let _worker = crate::helpers::start({
        let mut settings = leadq::config::Settings::for_database(&app.database_url);
        settings.job_workers = Some(1);
        settings
    })
    .await;
    let mut last = first;
    let mut processed = 0;
    loop {
        match client.next().await {
            Next::Message(m) if m["type"] == "next" => {
                let job = &m["payload"]["data"]["qualificationJobProgress"];
                let now = job["processed"].as_i64().unwrap();
                assert!(now >= processed, "progress never goes back: {job}");
                processed = now;
                last = m["payload"].clone();
            }
            Next::Message(m) if m["type"] == "complete" => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    let job = &last["data"]["qualificationJobProgress"];
    assert_eq!(job["state"], "SUCCEEDED", "{job}");
    assert_eq!(job["processed"], 700);
    assert_eq!(job["qualifiedCount"], 700);
}

/// Creates a lead through `address` as `token`; its id.
async fn create_through(address: &str, token: &str, company: &str) -> String {
    let body: Value = reqwest::Client::new()
        .post(format!("{address}/graphql"))
        .bearer_auth(token)
        .json(&json!({
            "query": "mutation($input: CreateLeadInput!) { createLead(input: $input) { lead { id } } }",
            "variables": { "input": { "topic": "Events", "lastName": "Eventful", "companyName": company } }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"]["createLead"]["lead"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

async fn post(address: &str, token: &str, query: &str, variables: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{address}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn lead_events_reach_subscribers_of_every_server_process_once_committed() {
    let app = spawn_app_with(|s| s.jwt_secret = Some(SECRET.to_owned())).await;
    // On PostgreSQL the subscriber listens on another process than the one that writes; on
    // SQLite (one process per database file serves subscribers) on the same one.
    let other;
    let subscriber_address = match app.db.backend() {
        sea_orm::DbBackend::Postgres => {
            other = Server::start(&app.database_url, &[]).await;
            format!("http://127.0.0.1:{}", other.port)
        }
        _ => app.address.clone(),
    };
    let mut all = WsClient::connect(&subscriber_address, &app.admin_token).await;
    all.subscribe("all", EVENTS, json!({})).await;
    let mut qualified = WsClient::connect(&subscriber_address, &app.admin_token).await;
    qualified
        .subscribe("q", EVENTS, json!({ "filter": { "kinds": ["QUALIFIED"] } }))
        .await;
    // Let both subscriptions start before anything happens.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let lead = create_through(&app.address, &app.admin_token, "Evented Co").await;
    let updated = post(
        &app.address,
        &app.admin_token,
        "mutation($input: UpdateLeadInput!) { updateLead(input: $input) { lead { id } } }",
        json!({ "input": { "id": lead, "jobTitle": "CTO" } }),
    )
    .await;
    assert!(updated.get("errors").is_none(), "{updated}");
    let qualify = "mutation($input: QualifyLeadInput!) { qualifyLead(input: $input) { outcome } }";
    let done = post(
        &app.address,
        &app.admin_token,
        qualify,
        json!({ "input": { "leadId": lead } }),
    )
    .await;
    assert_eq!(
        done["data"]["qualifyLead"]["outcome"], "QUALIFIED",
        "{done}"
    );
    // A change that does not commit is never announced.
    let again = post(
        &app.address,
        &app.admin_token,
        qualify,
        json!({ "input": { "leadId": lead } }),
    )
    .await;
    assert_eq!(
        again["errors"][0]["extensions"]["code"], "LEAD_CLOSED",
        "{again}"
    );
    let marker = create_through(&app.address, &app.admin_token, "Marker Co").await;

    let mut seen = Vec::new();
    for _ in 0..4 {
        let event = all.next_of("all").await["data"]["leadEvents"].clone();
        seen.push((
            event["kind"].as_str().unwrap().to_owned(),
            event["leadId"].as_str().unwrap().to_owned(),
        ));
        if event["kind"] == "QUALIFIED" {
            assert_eq!(event["lead"]["state"], "QUALIFIED");
            assert_eq!(event["actor"]["name"], "Test Administrator");
        }
    }
    assert_eq!(
        seen,
        vec![
            ("CREATED".to_owned(), lead.clone()),
            ("UPDATED".to_owned(), lead.clone()),
            ("QUALIFIED".to_owned(), lead.clone()),
            ("CREATED".to_owned(), marker.clone()),
        ]
    );
    let only = qualified.next_of("q").await["data"]["leadEvents"].clone();
    assert_eq!(only["kind"], "QUALIFIED");
    assert_eq!(only["leadId"], lead.as_str());
}

#[tokio::test]
async fn a_bad_token_in_connection_init_closes_the_socket_with_4403() {
    let app = spawn_app().await;
    for payload in [
        json!({}),
        json!({ "Authorization": "Bearer not-a-token" }),
        json!({ "Authorization": "Basic abc" }),
    ] {
        let mut client = WsClient::open(&app.address, payload.clone()).await;
        match client.next().await {
            Next::Closed(Some((code, _))) => assert_eq!(code, 4403, "{payload}"),
            other => panic!("{payload}: expected a 4403 close, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn only_subscriptions_run_over_the_socket_and_each_user_holds_a_bounded_number() {
    let app = spawn_app_with(|s| s.max_subscriptions_per_user = 1).await;
    let mut client = WsClient::connect(&app.address, &app.admin_token).await;
    client
        .subscribe("m", "mutation { deleteLead(input: { id: \"01a22be5-1abb-774f-9bca-b73d69b4947b\" }) { deletedId } }", json!({}))
        .await;
    let refused = client.next_of("m").await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "BAD_REQUEST",
        "{refused}"
    );
    assert!(
        matches!(client.next().await, Next::Message(m) if m["type"] == "complete" && m["id"] == "m")
    );

    client.subscribe("a", EVENTS, json!({})).await;
    client.subscribe("b", EVENTS, json!({})).await;
    let second = client.next_of("b").await;
    assert_eq!(
        second["errors"][0]["extensions"]["code"], "SERVER_BUSY",
        "{second}"
    );
    // Another user has a quota of their own.
    let (_, token) = app.user("Other Listener", &[Role::Salesperson]).await;
    let mut other = WsClient::connect(&app.address, &token).await;
    other.subscribe("c", EVENTS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lead = app.create_lead(json!({ "companyName": "Quota Co" })).await;
    let event = other.next_of("c").await;
    assert_eq!(event["data"]["leadEvents"]["leadId"], lead["id"]);
}

#[tokio::test]
async fn a_subscriber_too_slow_to_keep_up_is_dropped_with_a_clear_close() {
    let app: TestApp = spawn_app_with(|s| s.subscription_buffer = 1).await;
    let ids = bulk_leads(&app.db, app.admin_id, 120, "Burst").await;
    let mut client = WsClient::connect(&app.address, &app.admin_token).await;
    client.subscribe("s", EVENTS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // 120 events at once, published faster than a buffer of one can be read.
    let data = app
        .ok(
            "mutation($i: QualifyLeadsInput!) { qualifyLeads(input: $i) { qualifiedCount } }",
            json!({ "i": { "leadIds": ids } }),
        )
        .await;
    assert_eq!(data["qualifyLeads"]["qualifiedCount"], 120);
    loop {
        match client.next().await {
            Next::Message(m) if m["type"] == "next" && m["payload"]["errors"].is_array() => {
                assert_eq!(
                    m["payload"]["errors"][0]["extensions"]["code"],
                    "SUBSCRIBER_TOO_SLOW"
                );
            }
            Next::Message(m) if m["type"] == "next" => continue,
            Next::Closed(Some((code, reason))) => {
                assert_eq!(code, 4008);
                assert!(reason.contains("too slow"), "{reason}");
                break;
            }
            other => panic!("expected the subscriber to be dropped: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_quiet_subscriber_that_answers_pings_stays_connected_past_the_websocket_timeout() {
    // The client sends nothing after subscribing (GraphiQL and graphql-ws by default do not):
    // it only answers the server's pings, as every WebSocket library does when it reads.
    let app = spawn_app_with(|s| s.websocket_timeout_seconds = 1.0).await;
    let mut client = WsClient::connect(&app.address, &app.admin_token).await;
    client.subscribe("s", EVENTS, json!({})).await;
    let quiet = tokio::time::timeout(Duration::from_secs(3), client.next()).await;
    assert!(
        quiet.is_err(),
        "three timeouts of silence: the socket must stay open, got {quiet:?}"
    );
    let lead = app
        .create_lead(json!({ "companyName": "Still Listening" }))
        .await;
    let event = client.next_of("s").await;
    assert_eq!(event["data"]["leadEvents"]["leadId"], lead["id"]);
}

#[tokio::test]
async fn a_peer_that_stops_answering_pings_is_closed_after_the_websocket_timeout() {
    let app = spawn_app_with(|s| {
        s.websocket_timeout_seconds = 1.0;
        s.max_subscriptions_per_user = 1;
    })
    .await;
    let mut gone = WsClient::connect(&app.address, &app.admin_token).await;
    gone.subscribe("s", EVENTS, json!({})).await;
    // Not reading: the server's pings stay unanswered, as from a peer that vanished.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    // Its subscription was given back: the same user's one allowed subscription works again.
    let mut client = WsClient::connect(&app.address, &app.admin_token).await;
    client.subscribe("t", EVENTS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lead = app
        .create_lead(json!({ "companyName": "After The Silence" }))
        .await;
    let event = client.next_of("t").await;
    assert_eq!(event["data"]["leadEvents"]["leadId"], lead["id"], "{event}");
    // And the silent socket is over (with a 1001 close if its frame arrives before the reset).
    match gone.next().await {
        Next::Closed(None) => {}
        Next::Closed(Some((code, reason))) => assert_eq!(code, 1001, "{reason}"),
        other => panic!("expected the silent peer to be closed: {other:?}"),
    }
}

#[tokio::test]
async fn a_socket_without_connection_init_is_closed_with_4408() {
    let app = spawn_app_with(|s| s.websocket_timeout_seconds = 1.0).await;
    let mut client = WsClient::open_without_init(&app.address).await;
    let started = Instant::now();
    match client.next().await {
        Next::Closed(Some((code, _))) => assert_eq!(code, 4408),
        other => panic!("expected a 4408 close, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(900));
}
