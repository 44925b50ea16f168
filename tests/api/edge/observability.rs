//! Liveness, readiness and metrics.

use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};

async fn get(app: &crate::helpers::TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn ready_is_200_while_the_database_answers_and_503_when_it_does_not() {
    let app = spawn_app().await;
    let response = get(&app, "/ready").await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");

    // The server's own connections go away (on PostgreSQL as on SQLite): not ready, yet alive.
    app.db.clone().close().await;
    let response = get(&app, "/ready").await;
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "DATABASE_UNAVAILABLE"
    );
    let response = get(&app, "/health").await;
    assert_eq!(
        response.status().as_u16(),
        200,
        "liveness does not ask the database"
    );
}

/// The value of the sample `name{labels}` (labels as written by the exporter, in any order).
fn sample(page: &str, name: &str, labels: &[&str]) -> Option<f64> {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.split(['{', ' ']).next() == Some(name) && labels.iter().all(|l| line.contains(l))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .reduce(|a, b| a + b)
}

#[tokio::test]
async fn metrics_count_requests_operations_errors_and_qualifications() {
    let app = spawn_app().await;
    let before = get(&app, "/metrics").await.text().await.unwrap();
    let ok_before = sample(
        &before,
        "leadq_graphql_operations_total",
        &[
            "operation=\"MetricsMe\"",
            "type=\"query\"",
            "outcome=\"ok\"",
        ],
    )
    .unwrap_or(0.0);

    app.ok("query MetricsMe { me { name } }", json!({})).await;
    app.graphql("{ me { noSuchField } }", json!({})).await;
    let lead = app
        .create_lead(json!({ "companyName": "Metrics Ltd" }))
        .await;
    app.ok(
        "mutation($input: QualifyLeadInput!) { qualifyLead(input: $input) { outcome } }",
        json!({ "input": { "leadId": lead["id"] } }),
    )
    .await;

    let response = get(&app, "/metrics").await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let page = response.text().await.unwrap();
    let ok_after = sample(
        &page,
        "leadq_graphql_operations_total",
        &[
            "operation=\"MetricsMe\"",
            "type=\"query\"",
            "outcome=\"ok\"",
        ],
    )
    .unwrap();
    assert!(ok_after >= ok_before + 1.0, "{page}");
    assert!(
        sample(
            &page,
            "leadq_graphql_errors_total",
            &["code=\"GRAPHQL_VALIDATION_FAILED\""]
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        sample(
            &page,
            "leadq_qualifications_total",
            &["outcome=\"QUALIFIED\""]
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        sample(
            &page,
            "leadq_http_requests_total",
            &["route=\"/graphql\"", "status=\"200\"", "method=\"POST\""]
        )
        .unwrap()
            >= 3.0
    );
    assert!(
        sample(
            &page,
            "leadq_http_request_duration_seconds_count",
            &["route=\"/graphql\""]
        )
        .is_some()
    );
    assert!(
        sample(
            &page,
            "leadq_graphql_operation_duration_seconds_bucket",
            &["operation=\"MetricsMe\""]
        )
        .is_some()
    );
    assert!(
        sample(
            &page,
            "leadq_db_connections",
            &["pool=\"read\"", "state=\"idle\""]
        )
        .is_some(),
        "{page}"
    );
    assert!(sample(&page, "leadq_db_connections_max", &["pool=\"write\""]).is_some());
    assert!(page.contains("# HELP leadq_graphql_errors_total"));
}

#[tokio::test]
async fn metrics_count_bulk_sizes_and_duplicate_matches_by_rule() {
    let app = spawn_app().await;
    let first = app
        .create_lead(json!({ "companyName": "Twin Ltd", "email": "twin@example.com" }))
        .await;
    let second = app
        .create_lead(json!({ "companyName": "Twin Ltd", "email": "twin@example.com" }))
        .await;
    let bulk = "mutation($input: QualifyLeadsInput!) { qualifyLeads(input: $input) { qualifiedCount duplicatesFoundCount } }";
    let data = app
        .ok(bulk, json!({ "input": { "leadIds": [first["id"]] } }))
        .await;
    assert_eq!(data["qualifyLeads"]["qualifiedCount"], 1);
    let data = app
        .ok(bulk, json!({ "input": { "leadIds": [second["id"]] } }))
        .await;
    assert_eq!(data["qualifyLeads"]["duplicatesFoundCount"], 1, "{data:#}");
    let page = get(&app, "/metrics").await.text().await.unwrap();
    assert!(
        sample(&page, "leadq_bulk_qualification_leads_count", &[]).unwrap() >= 1.0,
        "{page}"
    );
    assert!(
        sample(&page, "leadq_duplicate_matches_total", &["rule=\""]).unwrap_or(0.0) >= 1.0,
        "{page}"
    );
}

#[tokio::test]
async fn metrics_can_be_switched_off() {
    let app = spawn_app_with(|s| s.metrics = false).await;
    assert_eq!(get(&app, "/metrics").await.status().as_u16(), 404);
}
