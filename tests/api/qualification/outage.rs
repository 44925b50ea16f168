//! The database going away or stalling under load. A client must always be able to tell "try
//! again later" from a bug: such failures are `DATABASE_UNAVAILABLE` or `SERVER_BUSY` with
//! `extensions.retryAfterSeconds` (and HTTP 503 with `Retry-After` when the whole request
//! failed), never `INTERNAL_SERVER_ERROR`; nothing is half-written; the server recovers by
//! itself.
//!
//! PostgreSQL: the server's connections are dropped (`pg_terminate_backend`) while clients
//! create and qualify leads. SQLite has no connections to drop: another process takes the
//! database's write lock for longer than the server waits for it.

use std::time::Duration;

use leadq::db::{ConnectOptions, Db};
use sea_orm::{DatabaseTransaction, TransactionTrait};

use super::*;
use crate::helpers::spawn_app_with;

const CREATE_AND_QUALIFY: [&str; 2] = [
    "mutation($input: CreateLeadInput!) { createLead(input: $input) { lead { id } } }",
    "mutation($input: QualifyLeadInput!) { qualifyLead(input: $input) { outcome } }",
];

/// One answer as a client sees it.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

async fn send(app: &TestApp, query: &str, input: Value) -> Answer {
    let caller = (
        app.client.clone(),
        app.address.clone(),
        app.admin_token.clone(),
    );
    send_as(caller, query, input).await
}

/// [`send`] with owned parts, for a spawned task.
async fn send_as(
    (client, address, token): (reqwest::Client, String, String),
    query: &str,
    input: Value,
) -> Answer {
    let response = client
        .post(format!("{address}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": { "input": input } }))
        .send()
        .await
        .unwrap();
    Answer {
        status: response.status().as_u16(),
        retry_after: response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned()),
        body: response.json().await.unwrap(),
    }
}

/// Every failure is retryable and says so: a code of the two, a retry hint, and HTTP 503 with
/// `Retry-After` when no data came back.
fn assert_retryable(answer: &Answer) {
    assert_ne!(answer.status, 500, "{answer:?}");
    let Some(errors) = answer.body.get("errors") else {
        assert_eq!(answer.status, 200, "{answer:?}");
        return;
    };
    for error in errors.as_array().unwrap() {
        let code = error["extensions"]["code"].as_str().unwrap_or("");
        assert!(
            code == "DATABASE_UNAVAILABLE" || code == "SERVER_BUSY",
            "not a retryable error: {answer:?}"
        );
        assert!(
            error["extensions"]["retryAfterSeconds"].as_u64().is_some(),
            "{answer:?}"
        );
    }
    assert_eq!(answer.body["data"], Value::Null, "{answer:?}");
    assert_eq!(answer.status, 503, "{answer:?}");
    assert!(answer.retry_after.is_some(), "{answer:?}");
}

/// Another connection to the same database, outside the server (and not named like it).
async fn outsider(app: &TestApp) -> Db {
    let url = app.database_url.replace(
        "application_name=leadq_outage_",
        "application_name=outsider_of_",
    );
    leadq::db::connect(&url, ConnectOptions::with_pool_size(1))
        .await
        .unwrap()
}

/// A transaction of another connection that holds what qualifying `lead_id` needs: the lead's
/// row lock (PostgreSQL), or the database's write lock (SQLite).
async fn hold_lock(outsider: &Db, lead_id: &str) -> DatabaseTransaction {
    let holder = outsider.write.begin().await.unwrap();
    match outsider.backend() {
        DbBackend::Postgres => {
            holder
                .execute_unprepared(&format!(
                    "SELECT id FROM leads WHERE id = '{lead_id}' FOR UPDATE"
                ))
                .await
                .unwrap();
        }
        _ => {
            // Any write takes SQLite's write lock until the transaction ends.
            holder
                .execute_unprepared("UPDATE users SET name = name WHERE 1 = 0")
                .await
                .unwrap();
            holder
                .execute_unprepared(&format!(
                    "UPDATE leads SET modified_at = modified_at WHERE id = '{lead_id}'"
                ))
                .await
                .unwrap();
        }
    }
    holder
}

#[tokio::test]
async fn a_lock_held_past_the_lock_timeout_answers_server_busy_and_the_server_recovers() {
    let app = spawn_app_with(|s| s.db_lock_timeout_ms = 300).await;
    let lead = app
        .create_lead(json!({ "lastName": "Locked", "companyName": "Locked Out Co" }))
        .await;
    let outsider = outsider(&app).await;
    let holder = hold_lock(&outsider, id(&lead)).await;

    let answer = send(&app, CREATE_AND_QUALIFY[1], json!({ "leadId": lead["id"] })).await;
    assert_eq!(error_code(&answer.body), "SERVER_BUSY", "{answer:?}");
    assert_retryable(&answer);
    assert_still_open(&app, id(&lead)).await;
    assert_eq!(count(&app).await, (0, 0, 0));

    holder.rollback().await.unwrap();
    qualified(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(count(&app).await, (1, 1, 1));
}

/// Drops every connection of the server named `name` (PostgreSQL); how many.
async fn drop_connections(outsider: &Db, name: &str) -> usize {
    outsider
        .write
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_terminate_backend(pid) AS gone FROM pg_stat_activity
             WHERE application_name = $1 AND pid <> pg_backend_pid()",
            [name.into()],
        ))
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn database_trouble_under_load_gives_retryable_errors_and_leaves_every_lead_whole() {
    let name = format!("leadq_outage_{}", uuid::Uuid::now_v7().simple());
    let app = spawn_app_with(|s| {
        if s.database_url.starts_with("postgres") {
            // Names this server's connections, so that only they are dropped.
            s.database_url
                .push_str(&format!("&application_name={name}"));
        } else {
            s.db_lock_timeout_ms = 200;
        }
    })
    .await;
    let backend = app.db.backend();
    let outsider = outsider(&app).await;

    // 1. A request certainly caught mid-statement, waiting for a lock when the trouble comes:
    //    its connection is dropped (PostgreSQL), or the lock never comes (SQLite).
    let stuck = app
        .create_lead(json!({ "lastName": "Stuck", "companyName": "Stuck Co" }))
        .await;
    let holder = hold_lock(&outsider, id(&stuck)).await;
    let waiting = tokio::spawn(send_as(
        (
            app.client.clone(),
            app.address.clone(),
            app.admin_token.clone(),
        ),
        CREATE_AND_QUALIFY[1],
        json!({ "leadId": stuck["id"] }),
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    if backend == DbBackend::Postgres {
        assert!(drop_connections(&outsider, &name).await > 0);
    }
    let stuck_answer = waiting.await.unwrap();
    holder.rollback().await.unwrap();
    let expected = match backend {
        DbBackend::Postgres => "DATABASE_UNAVAILABLE",
        _ => "SERVER_BUSY",
    };
    assert_eq!(error_code(&stuck_answer.body), expected, "{stuck_answer:?}");
    assert_retryable(&stuck_answer);
    assert_still_open(&app, id(&stuck)).await;

    // 2. Eight clients creating and qualifying leads while the trouble goes on.
    let clients = (0..8).map(|c| {
        let app = &app;
        async move {
            let mut answers = Vec::new();
            for i in 0..20 {
                let created = send(
                    app,
                    CREATE_AND_QUALIFY[0],
                    json!({ "topic": "Outage", "lastName": format!("Client{c}x{i}"),
                            "companyName": format!("Outage Co {c} {i}") }),
                )
                .await;
                let lead_id = created.body["data"]["createLead"]["lead"]["id"].clone();
                answers.push(created);
                if lead_id.is_string() {
                    answers
                        .push(send(app, CREATE_AND_QUALIFY[1], json!({ "leadId": lead_id })).await);
                }
            }
            answers
        }
    });
    let trouble = async {
        let mut times = 0;
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(80)).await;
            match backend {
                DbBackend::Postgres => times += drop_connections(&outsider, &name).await,
                _ => {
                    // Another process writing for longer than the server waits for the lock.
                    let lock = outsider.begin_write().await.unwrap();
                    lock.execute_unprepared("UPDATE users SET name = name")
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    lock.commit().await.unwrap();
                    times += 1;
                }
            }
        }
        times
    };
    let (answers, times) = tokio::join!(join_all(clients), trouble);
    assert!(times > 0, "the trouble never happened");
    let answers: Vec<Answer> = answers.into_iter().flatten().collect();
    assert!(!answers.is_empty());
    for answer in &answers {
        assert_retryable(answer);
    }
    // Nothing half-written, and the server recovered by itself.
    assert_all_or_nothing(&app.db).await;
    let lead = app
        .create_lead(json!({ "lastName": "After", "companyName": "After Outage Co" }))
        .await;
    qualified(&app, json!({ "leadId": lead["id"] })).await;
    qualified(&app, json!({ "leadId": stuck["id"] })).await;
}
