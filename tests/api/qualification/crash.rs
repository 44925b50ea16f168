//! Crash safety of bulk qualification: the real server binary is killed (SIGKILL) during a run of
//! a few thousand leads, restarted, and the database checked: every lead is either fully
//! qualified or untouched. Running the same call again finishes the rest without duplicating
//! anything; with its idempotency key, it also replays what the killed run had finished.

use std::time::{Duration, Instant};

use entity::{LeadState, account, lead};
use leadq::auth::TokenKeys;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use super::assert_all_or_nothing;
use crate::helpers::{TestApp, spawn_app_with};
use crate::process::{SECRET, Server, free_port};

const LEADS: usize = 2_000;

async fn qualify_all(
    port: u16,
    token: &str,
    ids: &[String],
    key: Option<&str>,
) -> reqwest::Result<Value> {
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .bearer_auth(token)
        .json(&json!({
            "query": "mutation($i: QualifyLeadsInput!) { qualifyLeads(input: $i) { qualifiedCount duplicatesFoundCount failedCount results { outcome account { id } error { code } } } }",
            "variables": { "i": { "leadIds": ids, "idempotencyKey": key } }
        }))
        .send()
        .await?
        .json()
        .await
}

/// An application on a fresh database with [`LEADS`] open leads, their ids, and a token.
async fn leads_to_qualify() -> (TestApp, Vec<String>, String) {
    let app = spawn_app_with(|s| s.jwt_secret = Some(SECRET.to_owned())).await;
    let ids = crate::helpers::bulk_leads(&app.db, app.admin_id, LEADS, "Crash").await;
    let token = TokenKeys::new(SECRET.as_bytes(), None, None)
        .mint(app.admin_id, chrono::Duration::hours(1))
        .unwrap();
    (app, ids, token)
}

/// Starts a bulk run of every lead on a server process, kills the process once at least 100
/// leads are qualified, and returns how many were (checking all-or-nothing per lead).
async fn kill_mid_run(
    app: &TestApp,
    port: u16,
    token: &str,
    ids: &[String],
    key: Option<&'static str>,
    env: &[(&str, &str)],
) -> u64 {
    let mut server = Server::start_on(&app.database_url, port, env).await;
    let run = tokio::spawn({
        let (token, ids) = (token.to_owned(), ids.to_vec());
        async move { qualify_all(port, &token, &ids, key).await }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = lead::Entity::find()
            .filter(lead::Column::State.eq(LeadState::Qualified))
            .count(&app.db.read)
            .await
            .unwrap();
        if done >= 100 {
            break;
        }
        assert!(Instant::now() < deadline, "the bulk run made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill(); // SIGKILL
    assert!(
        run.await.unwrap().is_err(),
        "the killed run cannot have answered"
    );
    let qualified = assert_all_or_nothing(&app.db).await;
    assert!(qualified >= 100 && qualified < LEADS as u64, "{qualified}");
    qualified
}

#[tokio::test]
async fn a_server_killed_mid_bulk_run_leaves_every_lead_whole_and_a_rerun_finishes() {
    let (app, ids, token) = leads_to_qualify().await;
    let port = free_port();
    let qualified_before = kill_mid_run(&app, port, &token, &ids, None, &[]).await;

    let mut server = Server::start_on(&app.database_url, port, &[]).await;
    let body = qualify_all(port, &token, &ids, None).await.unwrap();
    server.kill();
    let payload = &body["data"]["qualifyLeads"];
    assert_eq!(
        payload["qualifiedCount"].as_u64().unwrap(),
        LEADS as u64 - qualified_before,
        "{payload}"
    );
    assert_eq!(payload["failedCount"].as_u64().unwrap(), qualified_before);
    assert!(
        payload["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["error"].is_null() || r["error"]["code"] == "LEAD_CLOSED")
    );
    assert_eq!(assert_all_or_nothing(&app.db).await, LEADS as u64);
    assert_eq!(
        account::Entity::find().count(&app.db.read).await.unwrap(),
        LEADS as u64,
        "nothing duplicated"
    );
}

#[tokio::test]
async fn a_keyed_bulk_run_cut_off_by_a_crash_replays_what_it_finished_and_runs_the_rest() {
    let (app, ids, token) = leads_to_qualify().await;
    let port = free_port();
    // A short lease, so the restarted server takes the dead run's key over quickly.
    let env = [("LEADQ_IDEMPOTENCY_LEASE_SECONDS", "1")];
    let key = Some("crash-run-1");
    kill_mid_run(&app, port, &token, &ids, key, &env).await;

    let mut server = Server::start_on(&app.database_url, port, &env).await;
    let body = qualify_all(port, &token, &ids, key).await.unwrap();
    let payload = &body["data"]["qualifyLeads"];
    // The leads the killed run qualified are replayed as QUALIFIED, not LEAD_CLOSED.
    assert_eq!(
        payload["qualifiedCount"].as_u64().unwrap(),
        LEADS as u64,
        "{body}"
    );
    assert_eq!(payload["failedCount"].as_u64().unwrap(), 0);
    assert_eq!(assert_all_or_nothing(&app.db).await, LEADS as u64);
    assert_eq!(
        account::Entity::find().count(&app.db.read).await.unwrap(),
        LEADS as u64,
        "nothing duplicated"
    );
    // Once finished, the same call replays the same results, running nothing.
    let again = qualify_all(port, &token, &ids, key).await.unwrap();
    server.kill();
    assert_eq!(again["data"], body["data"]);
}
