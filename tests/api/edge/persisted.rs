//! Persisted operations: Apollo's automatic persisted queries (hash in
//! `extensions.persistedQuery`), shared by every process on the database, and
//! `LEADQ_PERSISTED_ONLY`, under which only operations registered by `leadq persist` run.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, spawn_app, spawn_app_with};

const ME: &str = "query PersistedMe { me { name } }";

fn sha256(document: &str) -> String {
    leadq::service::persisted::sha256_hex(document)
}

fn reference(document: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256(document) } })
}

async fn post(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&app.admin_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn automatic_persisted_queries_store_a_document_sent_once_with_its_hash() {
    let app = spawn_app().await;
    // The hash alone, before the server knows it: the client is asked for the document.
    let (status, body) = post(&app, json!({ "extensions": reference(ME) })).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("PersistedQueryNotFound")
    );

    // The document with its hash runs, and is kept.
    let (status, body) = post(&app, json!({ "query": ME, "extensions": reference(ME) })).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["me"]["name"], "Test Administrator", "{body:#}");

    // From now on the hash is enough, here and on every other process of the database.
    let (_, body) = post(&app, json!({ "extensions": reference(ME) })).await;
    assert_eq!(body["data"]["me"]["name"], "Test Administrator", "{body:#}");
    let other = app.second_instance().await;
    let (_, body) = post(&other, json!({ "extensions": reference(ME) })).await;
    assert_eq!(body["data"]["me"]["name"], "Test Administrator", "{body:#}");

    // Over GET too (what a CDN can cache).
    let url = reqwest::Url::parse_with_params(
        &format!("{}/graphql", app.address),
        &[("extensions", reference(ME).to_string())],
    )
    .unwrap();
    let response = app
        .client
        .get(url)
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["me"]["name"], "Test Administrator", "{body:#}");
}

#[tokio::test]
async fn a_persisted_query_not_found_is_a_request_error_under_the_new_media_type() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&app.admin_token)
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "extensions": reference("{ me { id } }") }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND");
    assert!(body.get("data").is_none());
}

#[tokio::test]
async fn a_document_that_does_not_run_is_not_kept() {
    let app = spawn_app().await;
    let broken = "{ me { noSuchField } }";
    let (_, body) = post(
        &app,
        json!({ "query": broken, "extensions": reference(broken) }),
    )
    .await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
    let (_, body) = post(&app, json!({ "extensions": reference(broken) })).await;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND");
}

#[tokio::test]
async fn a_wrong_hash_or_reference_is_400() {
    let app = spawn_app().await;
    let cases = [
        json!({ "query": ME, "extensions": reference("{ other }") }),
        json!({ "extensions": { "persistedQuery": { "version": 2, "sha256Hash": sha256(ME) } } }),
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "abc" } } }),
        json!({ "extensions": { "persistedQuery": "x" } }),
    ];
    for request in cases {
        let (status, body) = post(&app, request.clone()).await;
        assert_eq!(status, 400, "{request}: {body:#}");
        assert_eq!(error_code(&body), "BAD_REQUEST");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("persistedQuery")
        );
    }
}

#[tokio::test]
async fn persisted_only_runs_registered_operations_and_nothing_else() {
    let app = spawn_app_with(|s| s.persisted_only = true).await;
    let registered = leadq::service::persisted::register(&app.db, ME)
        .await
        .unwrap();
    assert_eq!(registered.sha256, sha256(ME));
    assert_eq!(registered.operations, ["PersistedMe"]);

    // The registered document runs by hash, or sent in full.
    let (_, body) = post(&app, json!({ "extensions": reference(ME) })).await;
    assert_eq!(body["data"]["me"]["name"], "Test Administrator", "{body:#}");
    let (_, body) = post(&app, json!({ "query": ME })).await;
    assert_eq!(body["data"]["me"]["name"], "Test Administrator", "{body:#}");

    // Anything else is refused, even sent with its own hash (no registration by clients).
    let other = "{ me { id } }";
    for request in [
        json!({ "query": other }),
        json!({ "query": other, "extensions": reference(other) }),
        json!({ "extensions": reference(other) }),
    ] {
        let (status, body) = post(&app, request.clone()).await;
        assert_eq!(status, 200, "{body:#}");
        assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND", "{request}");
        assert!(body["data"].is_null());
    }
    // A document a client had stored by APQ before the switch does not count as registered.
    leadq::service::persisted::remember(&app.db, &sha256(other), other)
        .await
        .unwrap();
    let (_, body) = post(&app, json!({ "extensions": reference(other) })).await;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND");
}

#[tokio::test]
async fn leadq_persist_registers_files_for_every_process() {
    let app = spawn_app_with(|s| s.persisted_only = true).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("me.graphql");
    let document = "query FromFile { me { name } }\n";
    std::fs::write(&file, document).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_leadq"))
        .args(["--database-url", &app.database_url, "persist"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(printed.starts_with(&sha256(document)), "{printed}");
    assert!(printed.contains("FromFile"), "{printed}");
    let (_, body) = post(&app, json!({ "extensions": reference(document) })).await;
    assert_eq!(body["data"]["me"]["name"], "Test Administrator", "{body:#}");

    // A file that is not a GraphQL document is refused with the reason.
    let bad = dir.path().join("bad.graphql");
    std::fs::write(&bad, "query {").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_leadq"))
        .args(["--database-url", &app.database_url, "persist"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not parse"));
}
