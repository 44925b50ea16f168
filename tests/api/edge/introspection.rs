//! Introspection as tools send it: graphql-js's full introspection query runs, while the depth
//! limit still applies to everything else and introspection cannot be made to explode.

use serde_json::json;

use crate::helpers::{error_code, spawn_app, spawn_app_with};

/// graphql-js 16's `getIntrospectionQuery({ descriptions, specifiedByUrl,
/// directiveIsRepeatable, schemaDescription, inputValueDeprecation })`, byte for byte (written
/// by `node -e` from tests/web's graphql package): what GraphiQL, codegen, Postman and
/// schemathesis send.
const FULL_INTROSPECTION_QUERY: &str = include_str!("introspection_query.graphql");

#[tokio::test]
async fn graphql_js_full_introspection_query_succeeds() {
    let app = spawn_app().await;
    let body = app.graphql(FULL_INTROSPECTION_QUERY, json!(null)).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let schema = &body["data"]["__schema"];
    assert_eq!(schema["queryType"]["name"], "QueryRoot", "{body:#}");
    assert_eq!(schema["mutationType"]["name"], "MutationRoot");
    assert_eq!(schema["subscriptionType"]["name"], "SubscriptionRoot");
    let types = schema["types"].as_array().unwrap();
    let lead = types.iter().find(|t| t["name"] == "Lead").unwrap();
    assert!(lead["description"].is_string(), "{lead:#}");
    let owner = lead["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "owner")
        .unwrap();
    // User! : NON_NULL of OBJECT User.
    assert_eq!(owner["type"]["kind"], "NON_NULL");
    assert_eq!(owner["type"]["ofType"]["name"], "User");
    let directives = schema["directives"].as_array().unwrap();
    assert!(
        directives.iter().all(|d| d["isRepeatable"].is_boolean()),
        "{directives:?}"
    );
    assert!(
        types
            .iter()
            .any(|t| t["kind"] == "SCALAR" && t.get("specifiedByURL").is_some())
    );
}

#[tokio::test]
async fn graphql_js_full_introspection_query_counts_as_operation_named_introspection_query() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&app.admin_token)
        .json(&json!({ "query": FULL_INTROSPECTION_QUERY, "operationName": "IntrospectionQuery" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["data"]["__schema"]["types"].is_array(), "{body:#}");
}

#[tokio::test]
async fn introspection_cannot_nest_type_lists_below_type_references() {
    let app = spawn_app().await;
    let body = app
        .graphql(
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
            json!({}),
        )
        .await;
    assert!(body["data"].is_null(), "{body:#}");
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("type reference"), "{message}");
}

#[tokio::test]
async fn introspection_of_type_chains_are_bounded() {
    let app = spawn_app().await;
    let mut chain = String::from("name");
    for _ in 0..30 {
        chain = format!("ofType {{ {chain} }}");
    }
    let body = app
        .graphql(
            &format!("{{ __type(name: \"Lead\") {{ {chain} }} }}"),
            json!({}),
        )
        .await;
    assert!(body["data"].is_null(), "{body:#}");
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test]
async fn introspection_inside_a_deep_query_does_not_lift_the_depth_limit() {
    let app = spawn_app().await;
    let lead = app.create_lead(json!({})).await;
    // 13 levels of the schema's own fields, with a __typename at the bottom.
    let mut query = String::from("__typename id");
    for level in (2..13).rev() {
        let field = if level % 2 == 0 {
            "existingAccount"
        } else {
            "originatingLead"
        };
        query = format!("{field} {{ {query} }}");
    }
    let body = app
        .graphql(
            &format!("query($id: ID!) {{ lead(id: $id) {{ {query} }} }}"),
            json!({ "id": lead["id"] }),
        )
        .await;
    assert!(body["data"].is_null(), "{body:#}");
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test]
async fn introspection_stays_refused_when_disabled() {
    let app = spawn_app_with(|s| s.introspection = Some(false)).await;
    let body = app.graphql(FULL_INTROSPECTION_QUERY, json!(null)).await;
    assert!(body["data"].is_null(), "{body:#}");
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
}
