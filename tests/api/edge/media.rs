//! GraphQL over HTTP: `application/graphql-response+json` when the client accepts it, request
//! errors as 400 with no `data` under it, legacy `application/json` unchanged, and request
//! parameters checked one by one.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, spawn_app};

const NEW_TYPE: &str = "application/graphql-response+json";

/// Posts `body` with `accept` (none when `None`); returns status, content type and body.
async fn post(app: &TestApp, accept: Option<&str>, body: Value) -> (u16, String, Value) {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&app.admin_token)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, content_type, body)
}

#[tokio::test]
async fn the_new_media_type_is_used_when_the_client_accepts_it() {
    let app = spawn_app().await;
    let query = json!({ "query": "{ me { name } }" });
    let (status, content_type, body) = post(&app, Some(NEW_TYPE), query.clone()).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with(NEW_TYPE), "{content_type}");
    assert_eq!(body["data"]["me"]["name"], "Test Administrator");

    let preferred = "application/graphql-response+json, application/json;q=0.9";
    let (_, content_type, _) = post(&app, Some(preferred), query.clone()).await;
    assert!(content_type.starts_with(NEW_TYPE), "{content_type}");

    for legacy in [None, Some("application/json"), Some("*/*")] {
        let (status, content_type, body) = post(&app, legacy, query.clone()).await;
        assert_eq!(status, 200);
        assert!(
            content_type.starts_with("application/json"),
            "{legacy:?}: {content_type}"
        );
        assert_eq!(body["data"]["me"]["name"], "Test Administrator");
    }
}

#[tokio::test]
async fn request_errors_are_400_without_data_under_the_new_media_type() {
    let app = spawn_app().await;
    let cases = [
        (json!({ "query": "{ me { name " }), "GRAPHQL_PARSE_FAILED"),
        (
            json!({ "query": "{ me { noSuchField } }" }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            json!({ "query": "query($id: ID!) { lead(id: $id) { id } }", "variables": { "id": null } }),
            "",
        ),
    ];
    for (request, code) in cases {
        let (status, content_type, body) = post(&app, Some(NEW_TYPE), request.clone()).await;
        assert_eq!(status, 400, "{request}: {body:#}");
        assert!(content_type.starts_with(NEW_TYPE));
        assert!(body.get("data").is_none(), "no data entry: {body:#}");
        assert!(body["errors"][0]["message"].is_string());
        if !code.is_empty() {
            assert_eq!(error_code(&body), code, "{body:#}");
        }
        // Legacy clients: HTTP 200 and "data": null, as before.
        let (status, content_type, body) = post(&app, Some("application/json"), request).await;
        assert_eq!(status, 200, "{body:#}");
        assert!(content_type.starts_with("application/json"));
        assert!(
            body["data"].is_null() && body.get("data").is_some(),
            "{body:#}"
        );
        assert!(body["errors"][0]["extensions"]["code"].is_string());
    }
}

#[tokio::test]
async fn a_field_error_is_not_a_request_error() {
    let app = spawn_app().await;
    let (status, _, body) = post(
        &app,
        Some(NEW_TYPE),
        json!({ "query": "{ lead(id: \"0190a3f0-0000-7000-8000-000000000000\") { id } me { name } }" }),
    )
    .await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["data"]["me"]["name"], "Test Administrator");
}

#[tokio::test]
async fn a_request_without_a_query_says_so() {
    let app = spawn_app().await;
    for accept in [None, Some(NEW_TYPE)] {
        let (status, _, body) = post(&app, accept, json!({ "qeury": "{ me { name } }" })).await;
        assert_eq!(status, 400, "{body:#}");
        assert_eq!(error_code(&body), "BAD_REQUEST");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("no \"query\""), "{message}");
        assert!(body.get("data").is_none());
    }
}

#[tokio::test]
async fn parameters_of_the_wrong_type_are_400_and_name_the_parameter() {
    let app = spawn_app().await;
    let cases = [
        (json!({ "query": { "obj": "ect" } }), "\"query\""),
        (json!({ "query": 0 }), "\"query\""),
        (
            json!({ "query": "{ me { name } }", "operationName": false }),
            "\"operationName\"",
        ),
        (
            json!({ "query": "{ me { name } }", "variables": "x" }),
            "\"variables\"",
        ),
        (
            json!({ "query": "{ me { name } }", "variables": ["x"] }),
            "\"variables\"",
        ),
        (
            json!({ "query": "{ me { name } }", "extensions": 0 }),
            "\"extensions\"",
        ),
        (json!("{ me { name } }"), "JSON object"),
    ];
    for (request, named) in cases {
        let (status, _, body) = post(&app, None, request.clone()).await;
        assert_eq!(status, 400, "{request}: {body:#}");
        assert_eq!(error_code(&body), "BAD_REQUEST");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(named), "{request}: {message}");
    }
    // Null parameters are the same as absent ones.
    let (status, _, body) = post(
        &app,
        None,
        json!({ "query": "{ me { name } }", "operationName": null, "variables": null, "extensions": null }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["me"]["name"], "Test Administrator");
}

#[tokio::test]
async fn an_empty_body_or_broken_json_is_400() {
    let app = spawn_app().await;
    for body in ["", "{ \"not a JSON"] {
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&app.admin_token)
            .header("content-type", "application/json")
            .header("accept", NEW_TYPE)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{body:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "BAD_REQUEST");
    }
}

#[tokio::test]
async fn a_batch_of_request_errors_is_400_under_the_new_media_type_and_a_mixed_one_is_200() {
    let app = spawn_app().await;
    let (status, _, body) = post(
        &app,
        Some(NEW_TYPE),
        json!([{ "query": "{ nope }" }, { "query": "{ me { name " }]),
    )
    .await;
    assert_eq!(status, 400, "{body:#}");
    assert!(
        body.as_array()
            .unwrap()
            .iter()
            .all(|a| a.get("data").is_none())
    );
    let (status, _, body) = post(
        &app,
        Some(NEW_TYPE),
        json!([{ "query": "{ me { name } }" }, { "query": "{ nope }" }]),
    )
    .await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body[0]["data"]["me"]["name"], "Test Administrator");
    assert!(body[1].get("data").is_none(), "{body:#}");
}

#[tokio::test]
async fn get_accepts_the_new_media_type_and_extensions() {
    let app = spawn_app().await;
    let url = reqwest::Url::parse_with_params(
        &format!("{}/graphql", app.address),
        &[
            ("query", "{ me { name } }"),
            ("extensions", "{\"some\":\"value\"}"),
        ],
    )
    .unwrap();
    let response = app
        .client
        .get(url)
        .bearer_auth(&app.admin_token)
        .header("accept", NEW_TYPE)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(NEW_TYPE)
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["me"]["name"], "Test Administrator");
}
