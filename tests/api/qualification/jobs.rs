//! Qualification jobs: started at once, run in the background in chunks by any server process,
//! with per-lead results; idempotent starts, cancellation, access, two processes sharing one
//! job, and a process killed mid-job.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use entity::{JobState, account, qualification_job, qualification_job_chunk};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use super::*;
use crate::helpers::spawn_app_with;
use crate::process::{SECRET, Server};

const START: &str = "mutation($input: StartQualificationJobInput!) {
    startQualificationJob(input: $input) { job { id state total processed createdBy { name } } } }";
const JOB: &str = "query($id: ID!) { qualificationJob(id: $id) {
    id state total processed qualifiedCount duplicatesFoundCount failedCount cancelRequested
    createdAt startedAt finishedAt } }";
const CANCEL: &str = "mutation($id: ID!) { cancelQualificationJob(input: { jobId: $id }) {
    job { id state cancelRequested processed } } }";

async fn leads_of(app: &TestApp, owner: Uuid, count: usize, tag: &str) -> Vec<String> {
    crate::helpers::bulk_leads(&app.db, owner, count, tag).await
}

async fn admin_leads(app: &TestApp, count: usize, tag: &str) -> Vec<String> {
    leads_of(app, app.admin_id, count, tag).await
}

/// Polls the job until `done` says so (at most a minute).
async fn wait_for(app: &TestApp, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let job = app.ok(JOB, json!({ "id": id })).await["qualificationJob"].clone();
        if done(&job) {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "the job never got there: {job:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn ended(job: &Value) -> bool {
    ["SUCCEEDED", "FAILED", "CANCELED"].contains(&job["state"].as_str().unwrap_or(""))
}

#[tokio::test]
async fn a_job_qualifies_every_listed_lead_in_the_background_with_per_lead_results() {
    let app = spawn_app().await;
    let mut ids = admin_leads(&app, 520, "a").await;
    // One lead closed before the job runs, one duplicating an existing account.
    let closed = ids[7].clone();
    qualified(&app, json!({ "leadId": closed })).await;
    app.create_account(json!({ "name": "Existing Dup Co" }))
        .await;
    let dup = app
        .create_lead(json!({ "lastName": "Dup", "companyName": "Existing Dup Co" }))
        .await;
    ids.push(id(&dup).to_owned());

    let data = app.ok(START, json!({ "input": { "leadIds": ids } })).await;
    let job = &data["startQualificationJob"]["job"];
    assert_eq!(job["state"], "QUEUED", "{job}");
    assert_eq!(job["total"], 521);
    let job_id = id(job).to_owned();
    let done = wait_for(&app, &job_id, ended).await;
    assert_eq!(done["state"], "SUCCEEDED", "{done:#}");
    assert_eq!(done["processed"], 521);
    assert_eq!(done["qualifiedCount"], 519);
    assert_eq!(done["duplicatesFoundCount"], 1);
    assert_eq!(done["failedCount"], 1);
    assert!(done["startedAt"].is_string() && done["finishedAt"].is_string());

    // Results page by page, in input order.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .ok(
                "query($id: ID!, $after: String) { qualificationJob(id: $id) {
                    results(first: 200, after: $after) { totalCount
                        edges { cursor node { leadId outcome account { id } error { code } } }
                        pageInfo { hasNextPage endCursor } } } }",
                json!({ "id": job_id, "after": after }),
            )
            .await;
        let results = &data["qualificationJob"]["results"];
        assert_eq!(results["totalCount"], 521);
        for edge in results["edges"].as_array().unwrap() {
            seen.push(edge["node"].clone());
        }
        if results["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = results["pageInfo"]["endCursor"].clone();
    }
    let order: Vec<&str> = seen.iter().map(|r| r["leadId"].as_str().unwrap()).collect();
    assert_eq!(order, ids.iter().map(String::as_str).collect::<Vec<_>>());
    let failed = app
        .ok(
            "query($id: ID!) { qualificationJob(id: $id) {
                results(outcome: FAILED) { totalCount edges { node { leadId error { code } } } } } }",
            json!({ "id": job_id }),
        )
        .await;
    let failed = &failed["qualificationJob"]["results"];
    assert_eq!(failed["totalCount"], 1);
    assert_eq!(failed["edges"][0]["node"]["leadId"], closed.as_str());
    assert_eq!(failed["edges"][0]["node"]["error"]["code"], "LEAD_CLOSED");
    assert_all_or_nothing(&app.db).await;
    assert_eq!(count(&app).await.0, 521); // 519 by the job, 1 before it, 1 existing
}

#[tokio::test]
async fn a_job_keeps_the_chunk_size_it_started_with() {
    let app = spawn_app_with(|s| s.job_chunk_leads = Some(7)).await;
    let ids = admin_leads(&app, 30, "chunked").await;
    let data = app.ok(START, json!({ "input": { "leadIds": ids } })).await;
    let job_id = id(&data["startQualificationJob"]["job"]).to_owned();
    let job_uuid: Uuid = job_id.parse().unwrap();
    let chunks = qualification_job_chunk::Entity::find()
        .filter(qualification_job_chunk::Column::JobId.eq(job_uuid))
        .all(&app.db.read)
        .await
        .unwrap();
    let mut bounds: Vec<(i32, i32)> = chunks
        .iter()
        .map(|c| (c.first_position, c.end_position))
        .collect();
    bounds.sort_unstable();
    assert_eq!(bounds, [(0, 7), (7, 14), (14, 21), (21, 28), (28, 30)]);
    assert_exactly_once(&app, &job_id, 30).await;
}

#[tokio::test]
async fn a_job_by_filter_takes_the_leads_the_filter_matches_when_it_starts() {
    let app = spawn_app().await;
    let (seller, _) = app.user("Filter Seller", &[Role::Salesperson]).await;
    let theirs = leads_of(&app, seller, 30, "f").await;
    admin_leads(&app, 20, "g").await;
    let data = app
        .ok(
            START,
            json!({ "input": { "filter": { "ownerId": seller.to_string(), "states": ["OPEN"] } } }),
        )
        .await;
    let job_id = id(&data["startQualificationJob"]["job"]).to_owned();
    assert_eq!(data["startQualificationJob"]["job"]["total"], 30);
    let done = wait_for(&app, &job_id, ended).await;
    assert_eq!(done["state"], "SUCCEEDED");
    assert_eq!(done["qualifiedCount"], 30);
    for lead in theirs {
        assert_eq!(lead_result(&app, &lead).await["state"], "QUALIFIED");
    }
    assert_eq!(view(&app, "OPEN_LEADS").await.len(), 20);
}

#[tokio::test]
async fn starting_a_job_again_with_its_key_returns_the_same_job() {
    let app = spawn_app().await;
    let ids = admin_leads(&app, 5, "k").await;
    let input = json!({ "leadIds": ids, "idempotencyKey": "job-key-1" });
    let first = app.ok(START, json!({ "input": input.clone() })).await;
    let second = app.ok(START, json!({ "input": input })).await;
    assert_eq!(
        first["startQualificationJob"]["job"]["id"],
        second["startQualificationJob"]["job"]["id"]
    );
    let other = app
        .graphql(
            START,
            json!({ "input": { "leadIds": &ids[..2], "idempotencyKey": "job-key-1" } }),
        )
        .await;
    assert_eq!(error_code(&other), "CONFLICT", "{other}");
    assert_eq!(
        qualification_job::Entity::find()
            .count(&app.db.read)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn bad_job_input_is_refused_before_anything_is_stored() {
    let app = spawn_app_with(|s| s.max_job_leads = 3).await;
    let ids = admin_leads(&app, 4, "b").await;
    for (input, code) in [
        (json!({}), "BAD_USER_INPUT"),
        (
            json!({ "leadIds": &ids[..1], "filter": {} }),
            "BAD_USER_INPUT",
        ),
        (json!({ "leadIds": [] }), "BAD_USER_INPUT"),
        (json!({ "leadIds": [&ids[0], &ids[0]] }), "BAD_USER_INPUT"),
        (json!({ "leadIds": ids }), "BATCH_TOO_LARGE"),
        (
            json!({ "filter": { "states": ["OPEN"] } }),
            "BATCH_TOO_LARGE",
        ),
        (json!({ "leadIds": ["nope"] }), "BAD_USER_INPUT"),
    ] {
        let body = app.graphql(START, json!({ "input": input })).await;
        assert_eq!(error_code(&body), code, "{input} → {body}");
    }
    assert_eq!(
        qualification_job::Entity::find()
            .count(&app.db.read)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_job_waiting_to_start_is_canceled_at_once_and_qualifies_nothing() {
    // No worker in this process: the job waits.
    let app = spawn_app_with(|s| s.job_workers = Some(0)).await;
    let ids = admin_leads(&app, 10, "c").await;
    let data = app.ok(START, json!({ "input": { "leadIds": ids } })).await;
    let job_id = id(&data["startQualificationJob"]["job"]).to_owned();
    let canceled = app.ok(CANCEL, json!({ "id": job_id })).await;
    let job = &canceled["cancelQualificationJob"]["job"];
    assert_eq!(job["state"], "CANCELED", "{job}");
    assert_eq!(job["processed"], 0);
    assert_eq!(count(&app).await, (0, 0, 0));
    // Canceling an ended job changes nothing.
    let again = app.ok(CANCEL, json!({ "id": job_id })).await;
    assert_eq!(again["cancelQualificationJob"]["job"]["state"], "CANCELED");
}

#[tokio::test]
async fn a_canceled_running_job_stops_after_the_chunk_in_flight_and_keeps_what_it_did() {
    let app = spawn_app().await;
    let ids = admin_leads(&app, 3_000, "r").await;
    let data = app.ok(START, json!({ "input": { "leadIds": ids } })).await;
    let job_id = id(&data["startQualificationJob"]["job"]).to_owned();
    wait_for(&app, &job_id, |j| {
        j["processed"].as_i64().unwrap_or(0) >= 250
    })
    .await;
    let canceled = app.ok(CANCEL, json!({ "id": job_id })).await;
    assert_eq!(
        canceled["cancelQualificationJob"]["job"]["cancelRequested"],
        true
    );
    let done = wait_for(&app, &job_id, ended).await;
    assert_eq!(done["state"], "CANCELED", "{done:#}");
    let processed = done["processed"].as_i64().unwrap();
    assert!((250..3_000).contains(&processed), "{done:#}");
    assert_eq!(processed % 250, 0, "whole chunks only: {done:#}");
    // The leads done stay done; the rest stay open.
    assert_eq!(assert_all_or_nothing(&app.db).await as i64, processed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = app.ok(JOB, json!({ "id": job_id })).await;
    assert_eq!(later["qualificationJob"]["processed"], processed);
}

#[tokio::test]
async fn only_the_creator_managers_and_administrators_see_or_cancel_a_job() {
    let app = spawn_app().await;
    let (seller, seller_token) = app.user("Job Seller", &[Role::Salesperson]).await;
    let (_, other_token) = app.user("Other Seller", &[Role::Salesperson]).await;
    let (_, manager_token) = app.user("Job Manager", &[Role::SalesManager]).await;
    let ids = leads_of(&app, seller, 3, "x").await;
    let started = app
        .graphql_as(&seller_token, START, json!({ "input": { "leadIds": ids } }))
        .await;
    let job_id = id(&started["data"]["startQualificationJob"]["job"]).to_owned();
    assert_eq!(
        started["data"]["startQualificationJob"]["job"]["createdBy"]["name"],
        "Job Seller"
    );

    let denied = app
        .graphql_as(&other_token, JOB, json!({ "id": job_id }))
        .await;
    assert_eq!(error_code(&denied), "FORBIDDEN", "{denied}");
    let denied = app
        .graphql_as(&other_token, CANCEL, json!({ "id": job_id }))
        .await;
    assert_eq!(error_code(&denied), "FORBIDDEN", "{denied}");
    let list = "{ qualificationJobs { totalCount edges { node { id } } } }";
    let none = app.graphql_as(&other_token, list, json!({})).await;
    assert_eq!(none["data"]["qualificationJobs"]["totalCount"], 0, "{none}");
    let mine = app.graphql_as(&seller_token, list, json!({})).await;
    assert_eq!(mine["data"]["qualificationJobs"]["totalCount"], 1, "{mine}");
    let all = app.graphql_as(&manager_token, list, json!({})).await;
    assert_eq!(all["data"]["qualificationJobs"]["totalCount"], 1, "{all}");
    let seen = app
        .graphql_as(&manager_token, JOB, json!({ "id": job_id }))
        .await;
    assert!(seen.get("errors").is_none(), "{seen}");
    let missing = app
        .graphql(JOB, json!({ "id": Uuid::now_v7().to_string() }))
        .await;
    assert_eq!(error_code(&missing), "NOT_FOUND");
}

/// Starts a job of `ids` through `server`; its id.
async fn start_through(server: &Server, token: &str, ids: &[String]) -> String {
    let body: Value = reqwest::Client::new()
        .post(server.url())
        .bearer_auth(token)
        .json(&json!({ "query": START, "variables": { "input": { "leadIds": ids } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"]["startQualificationJob"]["job"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

/// Every lead of the job qualified exactly once: as many accounts as leads, every lead with
/// one result.
async fn assert_exactly_once(app: &TestApp, job_id: &str, leads: usize) {
    let done = wait_for(app, job_id, ended).await;
    assert_eq!(done["state"], "SUCCEEDED", "{done:#}");
    assert_eq!(done["processed"], leads as i64);
    assert_eq!(done["qualifiedCount"], leads as i64);
    assert_eq!(assert_all_or_nothing(&app.db).await, leads as u64);
    assert_eq!(
        account::Entity::find().count(&app.db.read).await.unwrap(),
        leads as u64,
        "nothing qualified twice"
    );
}

#[tokio::test]
async fn two_server_processes_share_one_job_and_qualify_each_lead_once() {
    let app = spawn_app_with(|s| {
        s.jwt_secret = Some(SECRET.to_owned());
        s.job_workers = Some(0);
    })
    .await;
    let ids = admin_leads(&app, 2_000, "p").await;
    let env = [("LEADQ_JOB_WORKERS", "1")];
    let first = Server::start(&app.database_url, &env).await;
    let _second = Server::start(&app.database_url, &env).await;
    let job_id = start_through(&first, &app.admin_token, &ids).await;
    assert_exactly_once(&app, &job_id, ids.len()).await;
    let job: Uuid = job_id.parse().unwrap();
    let owners: HashSet<Option<Uuid>> = qualification_job_chunk::Entity::find()
        .filter(qualification_job_chunk::Column::JobId.eq(job))
        .all(&app.db.read)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.lease_owner)
        .collect();
    match app.db.backend() {
        // Real concurrent writers: each process leases chunks of its own (SKIP LOCKED).
        DbBackend::Postgres => assert_eq!(owners.len(), 2, "both processes ran chunks: {owners:?}"),
        // One writer for the file: whichever process holds it claims the next chunk, so one
        // process may well run them all; what matters is that none runs twice.
        _ => assert!(!owners.is_empty() && owners.len() <= 2, "{owners:?}"),
    }
}

#[tokio::test]
async fn a_job_whose_process_is_killed_mid_run_is_finished_after_a_restart_exactly_once() {
    let app = spawn_app_with(|s| {
        s.jwt_secret = Some(SECRET.to_owned());
        s.job_workers = Some(0);
    })
    .await;
    let ids = admin_leads(&app, 2_000, "s").await;
    let env = [("LEADQ_JOB_WORKERS", "1"), ("LEADQ_JOB_LEASE_SECONDS", "1")];
    let mut server = Server::start(&app.database_url, &env).await;
    let job_id = start_through(&server, &app.admin_token, &ids).await;
    wait_for(&app, &job_id, |j| {
        j["processed"].as_i64().unwrap_or(0) >= 250
    })
    .await;
    server.kill(); // SIGKILL, mid-chunk or between chunks
    let stopped = app.ok(JOB, json!({ "id": job_id })).await["qualificationJob"].clone();
    assert_eq!(stopped["state"], "RUNNING", "{stopped:#}");
    assert!(
        stopped["processed"].as_i64().unwrap() < 2_000,
        "{stopped:#}"
    );
    assert_all_or_nothing(&app.db).await;
    let job: Uuid = job_id.parse().unwrap();
    assert_eq!(
        qualification_job::Entity::find_by_id(job)
            .one(&app.db.read)
            .await
            .unwrap()
            .unwrap()
            .state,
        JobState::Running
    );
    let _restarted = Server::start(&app.database_url, &env).await;
    assert_exactly_once(&app, &job_id, ids.len()).await;
}

#[tokio::test]
async fn a_canceled_job_whose_chunk_in_flight_died_with_its_process_ends_once_the_lease_runs_out() {
    // This process runs no jobs, so the chunk stays where the "dead process" below left it.
    let app = spawn_app_with(|s| s.job_workers = Some(0)).await;
    let ids = admin_leads(&app, 3, "dead").await;
    let data = app.ok(START, json!({ "input": { "leadIds": ids } })).await;
    let job_id = id(&data["startQualificationJob"]["job"]).to_owned();
    let job_uuid: Uuid = job_id.parse().unwrap();
    // A process leased the job's only chunk, then died (its lease runs for two more seconds).
    let until = chrono::Utc::now() + chrono::Duration::seconds(2);
    qualification_job_chunk::Entity::update_many()
        .col_expr(
            qualification_job_chunk::Column::LeaseOwner,
            sea_orm::sea_query::Expr::value(Some(Uuid::new_v4())),
        )
        .col_expr(
            qualification_job_chunk::Column::LeaseUntil,
            sea_orm::sea_query::Expr::value(Some(until)),
        )
        .filter(qualification_job_chunk::Column::JobId.eq(job_uuid))
        .exec(&app.db.write)
        .await
        .unwrap();
    let canceled = app.ok(CANCEL, json!({ "id": job_id })).await;
    let job = &canceled["cancelQualificationJob"]["job"];
    assert_eq!(job["cancelRequested"], true, "{job:#}");
    assert!(!ended(job), "a chunk is still in flight: {job:#}");
    // No worker will ever end that chunk; another process's idle worker ends the job once the
    // dead process's lease has run out.
    let _other = app.second_instance().await;
    let done = wait_for(&app, &job_id, ended).await;
    assert_eq!(done["state"], "CANCELED", "{done:#}");
    assert_eq!(done["processed"], 0, "{done:#}");
    assert_eq!(assert_all_or_nothing(&app.db).await, 0);
}
