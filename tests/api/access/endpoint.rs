//! The HTTP endpoint: body size, methods, media types, batches, depth and alias limits.

use super::*;

// The HTTP endpoint

#[tokio::test]
async fn a_body_over_the_size_limit_is_413_and_runs_nothing() {
    let app = spawn_app_with(|s| s.max_body_bytes = 1024).await;
    let big = json!({
        "query": "mutation($input: CreateLeadInput!) { createLead(input: $input) { lead { id } } }",
        "variables": { "input": { "topic": "t", "lastName": "Doe", "description": "x".repeat(1500) } }
    });
    let response = app
        .client
        .post(graphql_url(&app))
        .bearer_auth(&app.admin_token)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    assert_eq!(lead_count(&app).await, 0);

    // The same mutation under the limit runs.
    let small = json!({
        "query": "mutation($input: CreateLeadInput!) { createLead(input: $input) { lead { id } } }",
        "variables": { "input": { "topic": "t", "lastName": "Doe", "description": "x".repeat(100) } }
    });
    let response = app
        .client
        .post(graphql_url(&app))
        .bearer_auth(&app.admin_token)
        .json(&small)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(lead_count(&app).await, 1);
}

/// `GET /graphql` with these URL parameters, as the administrator.
async fn get_with(app: &TestApp, params: &[(&str, &str)]) -> reqwest::Response {
    let url = reqwest::Url::parse_with_params(&graphql_url(app), params).unwrap();
    app.client
        .get(url)
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap()
}

const NAMED_OPERATIONS: &str = r#"query Me { me { name } } mutation Create { createLead(input: { topic: "t", lastName: "Doe" }) { lead { id } } }"#;

#[tokio::test]
async fn a_mutation_over_get_is_405_and_runs_nothing() {
    let app = spawn_app().await;
    for query in [
        r#"mutation { createLead(input: { topic: "t", lastName: "Doe" }) { lead { id } } }"#,
        r#"mutation Create { createLead(input: { topic: "t", lastName: "Doe" }) { lead { id } } }"#,
    ] {
        let response = get_with(&app, &[("query", query)]).await;
        assert_eq!(response.status().as_u16(), 405, "{query}");
        assert_eq!(
            response.headers().get("allow").unwrap().to_str().unwrap(),
            "POST"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "METHOD_NOT_ALLOWED");
        assert!(body["data"].is_null());
    }
    assert_eq!(lead_count(&app).await, 0);
}

#[tokio::test]
async fn a_query_over_get_with_a_token_returns_data() {
    let app = spawn_app().await;
    let response = get_with(&app, &[("query", "{ me { name } }")]).await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["me"]["name"], "Test Administrator", "{body:#}");

    // Variables travel as JSON in the URL.
    let lead = app.create_lead(json!({})).await;
    let variables = json!({ "id": lead["id"] }).to_string();
    let response = get_with(
        &app,
        &[
            ("query", "query($id: ID!) { lead(id: $id) { id } }"),
            ("variables", &variables),
        ],
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["lead"]["id"], lead["id"], "{body:#}");

    // Without a token, GET is no way around authentication.
    let url = reqwest::Url::parse_with_params(&graphql_url(&app), &[("query", "{ me { name } }")])
        .unwrap();
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(lead_count(&app).await, 1);
}

#[tokio::test]
async fn get_selects_the_operation_named_by_the_operation_name_parameter() {
    let app = spawn_app().await;
    // The query of a document that also holds a mutation runs over GET...
    let response = get_with(
        &app,
        &[("query", NAMED_OPERATIONS), ("operationName", "Me")],
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["me"]["name"], "Test Administrator", "{body:#}");

    // ...and selecting its mutation is 405.
    let response = get_with(
        &app,
        &[("query", NAMED_OPERATIONS), ("operationName", "Create")],
    )
    .await;
    assert_eq!(response.status().as_u16(), 405);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "METHOD_NOT_ALLOWED", "{body:#}");
    assert_eq!(lead_count(&app).await, 0);
}

#[tokio::test]
async fn a_post_that_is_not_json_is_415_and_runs_nothing() {
    let app = spawn_app().await;
    let mutation = json!({
        "query": r#"mutation { createLead(input: { topic: "t", lastName: "Doe" }) { lead { id } } }"#
    })
    .to_string();
    let form = format!(
        "query={}",
        r#"mutation{createLead(input:{topic:"t",lastName:"Doe"}){lead{id}}}"#
    );
    for (content_type, body) in [
        ("text/plain", mutation.clone()),
        ("text/plain;charset=UTF-8", mutation.clone()),
        ("application/x-www-form-urlencoded", form),
        ("multipart/form-data; boundary=x", mutation.clone()),
    ] {
        let response = app
            .client
            .post(graphql_url(&app))
            .bearer_auth(&app.admin_token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 415, "{content_type}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            error_code(&body),
            "UNSUPPORTED_MEDIA_TYPE",
            "{content_type}"
        );
    }
    // No content type at all is refused as well.
    let response = app
        .client
        .post(graphql_url(&app))
        .bearer_auth(&app.admin_token)
        .body(mutation.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
    assert_eq!(lead_count(&app).await, 0);

    // The same body as JSON runs.
    let response = app
        .client
        .post(graphql_url(&app))
        .bearer_auth(&app.admin_token)
        .header("content-type", "application/json; charset=utf-8")
        .body(mutation)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(lead_count(&app).await, 1);
}

#[tokio::test]
async fn a_body_that_is_not_a_graphql_request_is_400() {
    let app = spawn_app().await;
    for body in ["{ not json", "", "42", r#"{ "query": 5 }"#] {
        let response = app
            .client
            .post(graphql_url(&app))
            .bearer_auth(&app.admin_token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{body:?}");
        let json: Value = response.json().await.unwrap();
        assert_eq!(error_code(&json), "BAD_REQUEST", "{body:?}");
    }
}

#[tokio::test]
async fn a_batch_of_more_than_ten_operations_is_refused_and_runs_nothing() {
    let app = spawn_app().await;
    let create = json!({
        "query": r#"mutation { createLead(input: { topic: "t", lastName: "Doe" }) { lead { id } } }"#
    });
    let batch = Value::Array(vec![create.clone(); 11]);
    let response = app
        .client
        .post(graphql_url(&app))
        .bearer_auth(&app.admin_token)
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "BATCH_TOO_LARGE");
    assert_eq!(lead_count(&app).await, 0);

    let batch = Value::Array(vec![create.clone(); 10]);
    let response = app
        .client
        .post(graphql_url(&app))
        .bearer_auth(&app.admin_token)
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body.as_array().unwrap().len(), 10, "{body:#}");
    assert_eq!(lead_count(&app).await, 10);
}

#[tokio::test]
async fn a_batch_of_two_operations_returns_an_array_of_two_answers() {
    let app = spawn_app().await;
    let batch = json!([
        { "query": "{ me { name } }" },
        { "query": "query($id: ID!) { lead(id: $id) { id } }", "variables": { "id": "not-an-id" } },
    ]);
    let response = app
        .client
        .post(graphql_url(&app))
        .bearer_auth(&app.admin_token)
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    let answers = body.as_array().unwrap_or_else(|| panic!("{body:#}"));
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0]["data"]["me"]["name"], "Test Administrator");
    assert!(answers[0].get("errors").is_none());
    // Each answer stands alone: the second one's error has a code, the first one has none.
    assert!(answers[1]["errors"][0]["extensions"]["code"].is_string());
}

/// `{ lead(id) { existingAccount { originatingLead { existingAccount { ... id } } } } }`, `depth`
/// levels of fields deep.
fn nested_query(depth: usize) -> String {
    let mut query = String::from("id");
    for level in (2..depth).rev() {
        let field = if level % 2 == 0 {
            "existingAccount"
        } else {
            "originatingLead"
        };
        query = format!("{field} {{ {query} }}");
    }
    format!("query($id: ID!) {{ lead(id: $id) {{ id {query} }} }}")
}

#[tokio::test]
async fn a_query_deeper_than_twelve_levels_is_refused() {
    let app = spawn_app().await;
    let lead = app.create_lead(json!({})).await;
    let vars = json!({ "id": lead["id"] });
    let body = app.graphql(&nested_query(12), vars.clone()).await;
    assert!(body.get("errors").is_none(), "12 levels are fine: {body:#}");
    assert_eq!(body["data"]["lead"]["id"], lead["id"], "{body:#}");

    let body = app.graphql(&nested_query(13), vars.clone()).await;
    assert!(
        body["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "{body:#}"
    );
    assert!(body["data"].is_null(), "{body:#}");
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");

    let body = app.graphql(&nested_query(40), vars).await;
    assert!(body["data"].is_null(), "{body:#}");
}

#[tokio::test]
async fn more_than_thirty_aliases_are_refused() {
    let app = spawn_app().await;
    let aliases = |n: usize| {
        let fields: Vec<String> = (0..n).map(|i| format!("a{i}: me {{ name }}")).collect();
        format!("{{ {} }}", fields.join(" "))
    };
    let body = app.graphql(&aliases(30), json!({})).await;
    assert!(
        body.get("errors").is_none(),
        "30 aliases are fine: {body:#}"
    );
    assert_eq!(body["data"]["a29"]["name"], "Test Administrator");

    let body = app.graphql(&aliases(31), json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body:#}");
    assert!(body["data"].is_null(), "{body:#}");

    // Aliases hidden in a fragment count too.
    let fields: Vec<String> = (0..31).map(|i| format!("a{i}: name")).collect();
    let query = format!(
        "{{ me {{ ...F }} }} fragment F on User {{ {} }}",
        fields.join(" ")
    );
    let body = app.graphql(&query, json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body:#}");
}
