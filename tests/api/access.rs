//! Identity, roles, record-level access and the hardened HTTP endpoint.

use entity::Role;
use leadq::auth::TokenKeys;
use leadq::config::Settings;
use leadq::startup::Application;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, error_code, spawn_app, spawn_app_with};

/// A configured token secret of 40 characters.
const SECRET: &str = "0123456789abcdef0123456789abcdef01234567";

const CREATE: &str = "mutation($input: CreateLeadInput!) { createLead(input: $input) { lead { id topic owner { id name } } } }";
const UPDATE: &str =
    "mutation($input: UpdateLeadInput!) { updateLead(input: $input) { lead { id topic } } }";
const DELETE: &str =
    "mutation($input: DeleteLeadInput!) { deleteLead(input: $input) { deletedId } }";
const ASSIGN: &str = "mutation($input: AssignLeadInput!) { assignLead(input: $input) { lead { id owner { id name } } } }";
const SETTINGS: &str = "mutation($input: UpdateQualificationSettingsInput!) { updateQualificationSettings(input: $input) { settings { experience summarizeLead } } }";
const MY_OPEN_LEADS: &str = "{ leads(view: MY_OPEN_LEADS) { totalCount edges { node { id } } } }";

fn graphql_url(app: &TestApp) -> String {
    format!("{}/graphql", app.address)
}

/// How many leads there are (asked as the administrator).
async fn lead_count(app: &TestApp) -> i64 {
    app.ok("{ leads { totalCount } }", json!({})).await["leads"]["totalCount"]
        .as_i64()
        .unwrap()
}

/// The ids in `token`'s user's MY_OPEN_LEADS view.
async fn my_open_leads(app: &TestApp, token: &str) -> Vec<String> {
    let body = app.graphql_as(token, MY_OPEN_LEADS, json!({})).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"]["leads"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A lead's id, topic and owner (asked as the administrator); null when there is none.
async fn lead_row(app: &TestApp, id: &str) -> Value {
    app.ok(
        "query($id: ID!) { lead(id: $id) { id topic owner { id } } }",
        json!({ "id": id }),
    )
    .await["lead"]
        .clone()
}

/// The audit actions recorded for a record, oldest first.
async fn audit_actions(app: &TestApp, id: &str) -> Vec<String> {
    let data = app
        .ok(
            "query($id: ID!) { auditEvents(recordId: $id) { action } }",
            json!({ "id": id }),
        )
        .await;
    data["auditEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

fn id_of(lead: &Value) -> String {
    lead["id"].as_str().unwrap().to_owned()
}

/// Asserts a refusal with `code` and no data.
fn assert_refused(body: &Value, code: &str) {
    assert_eq!(error_code(body), code, "{body:#}");
    assert!(
        body["data"].is_null(),
        "a refused mutation returns no data: {body:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// Roles

#[tokio::test]
async fn every_role_reads_every_lead_and_account() {
    let app = spawn_app().await;
    let lead = app.create_lead(json!({})).await;
    app.create_account(json!({ "name": "Contoso" })).await;
    for (name, role) in [
        ("Sam Seller", Role::Salesperson),
        ("Mia Manager", Role::SalesManager),
        ("Ada Admin", Role::SystemAdministrator),
    ] {
        let (_, token) = app.user(name, &[role]).await;
        let body = app
            .graphql_as(
                &token,
                "query($id: ID!) { leads { totalCount } accounts { totalCount } lead(id: $id) { id } }",
                json!({ "id": lead["id"] }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{name}: {body:#}");
        assert_eq!(body["data"]["leads"]["totalCount"], 1, "{name}");
        assert_eq!(body["data"]["accounts"]["totalCount"], 1, "{name}");
        assert_eq!(body["data"]["lead"]["id"], lead["id"], "{name}");
    }
}

#[tokio::test]
async fn any_role_creates_leads_owned_by_the_caller() {
    let app = spawn_app().await;
    for (name, role) in [
        ("Sam Seller", Role::Salesperson),
        ("Mia Manager", Role::SalesManager),
        ("Ada Admin", Role::SystemAdministrator),
    ] {
        let (id, token) = app.user(name, &[role]).await;
        let lead = app.create_lead_as(&token, json!({})).await;
        assert_eq!(lead["owner"]["id"], id.to_string(), "{name}");
        assert_eq!(lead["owner"]["name"], name);
        assert_eq!(my_open_leads(&app, &token).await, vec![id_of(&lead)]);
    }
    assert_eq!(lead_count(&app).await, 3);
}

#[tokio::test]
async fn a_salesperson_cannot_create_a_lead_for_another_user() {
    let app = spawn_app().await;
    let (seller, token) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (other, _) = app.user("Otto Other", &[Role::Salesperson]).await;
    let body = app
        .graphql_as(
            &token,
            CREATE,
            json!({ "input": { "topic": "t", "lastName": "Doe", "ownerId": other.to_string() } }),
        )
        .await;
    assert_refused(&body, "FORBIDDEN");
    assert_eq!(lead_count(&app).await, 0, "no lead was created");

    // Naming oneself is not giving the lead to someone else.
    let body = app
        .graphql_as(
            &token,
            CREATE,
            json!({ "input": { "topic": "t", "lastName": "Doe", "ownerId": seller.to_string() } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(
        body["data"]["createLead"]["lead"]["owner"]["id"],
        seller.to_string()
    );
}

#[tokio::test]
async fn a_sales_manager_creates_a_lead_for_a_salesperson() {
    let app = spawn_app().await;
    let (seller, seller_token) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (_, manager_token) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let body = app
        .graphql_as(
            &manager_token,
            CREATE,
            json!({ "input": { "topic": "t", "lastName": "Doe", "ownerId": seller.to_string() } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let lead = &body["data"]["createLead"]["lead"];
    assert_eq!(lead["owner"]["id"], seller.to_string());
    assert_eq!(lead["owner"]["name"], "Sam Seller");
    assert_eq!(my_open_leads(&app, &seller_token).await, vec![id_of(lead)]);
    assert!(my_open_leads(&app, &manager_token).await.is_empty());
}

#[tokio::test]
async fn creating_a_lead_for_an_unknown_user_is_not_found() {
    let app = spawn_app().await;
    let (_, manager_token) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let body = app
        .graphql_as(
            &manager_token,
            CREATE,
            json!({ "input": { "topic": "t", "lastName": "Doe", "ownerId": Uuid::now_v7().to_string() } }),
        )
        .await;
    assert_refused(&body, "NOT_FOUND");
    assert_eq!(lead_count(&app).await, 0);
}

// ---------------------------------------------------------------------------------------------
// Record-level access

#[tokio::test]
async fn a_salesperson_cannot_update_or_delete_another_users_lead() {
    let app = spawn_app().await;
    let (owner, owner_token) = app.user("Olga Owner", &[Role::Salesperson]).await;
    let (_, other_token) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let lead = app
        .create_lead_as(&owner_token, json!({ "topic": "Original topic" }))
        .await;
    let id = id_of(&lead);

    let body = app
        .graphql_as(
            &other_token,
            UPDATE,
            json!({ "input": { "id": id, "topic": "Hijacked" } }),
        )
        .await;
    assert_refused(&body, "FORBIDDEN");
    let body = app
        .graphql_as(&other_token, DELETE, json!({ "input": { "id": id } }))
        .await;
    assert_refused(&body, "FORBIDDEN");

    let row = lead_row(&app, &id).await;
    assert_eq!(row["topic"], "Original topic", "nothing changed");
    assert_eq!(row["owner"]["id"], owner.to_string());
    assert_eq!(audit_actions(&app, &id).await, vec!["CREATED"]);
}

#[tokio::test]
async fn the_owner_a_sales_manager_and_an_administrator_update_and_delete_a_lead() {
    let app = spawn_app().await;
    let (_, owner_token) = app.user("Olga Owner", &[Role::Salesperson]).await;
    let (_, manager_token) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let (_, admin_token) = app.user("Ada Admin", &[Role::SystemAdministrator]).await;
    for (who, token) in [
        ("owner", &owner_token),
        ("manager", &manager_token),
        ("administrator", &admin_token),
    ] {
        let lead = app.create_lead_as(&owner_token, json!({})).await;
        let id = id_of(&lead);
        let topic = format!("Changed by the {who}");
        let body = app
            .graphql_as(
                token,
                UPDATE,
                json!({ "input": { "id": id, "topic": topic } }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{who}: {body:#}");
        assert_eq!(body["data"]["updateLead"]["lead"]["topic"], topic.as_str());
        assert_eq!(lead_row(&app, &id).await["topic"], topic.as_str());

        let body = app
            .graphql_as(token, DELETE, json!({ "input": { "id": id } }))
            .await;
        assert!(body.get("errors").is_none(), "{who}: {body:#}");
        assert_eq!(body["data"]["deleteLead"]["deletedId"], id.as_str());
        assert!(lead_row(&app, &id).await.is_null(), "{who}: deleted");
    }
}

// ---------------------------------------------------------------------------------------------
// Assignment

#[tokio::test]
async fn only_sales_managers_and_administrators_assign_leads() {
    let app = spawn_app().await;
    let (owner, owner_token) = app.user("Olga Owner", &[Role::Salesperson]).await;
    let (other, _) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (_, manager_token) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let lead = app.create_lead_as(&owner_token, json!({})).await;
    let id = id_of(&lead);

    // Not even the owner may give the lead away.
    let body = app
        .graphql_as(
            &owner_token,
            ASSIGN,
            json!({ "input": { "leadId": id, "ownerId": other.to_string() } }),
        )
        .await;
    assert_refused(&body, "FORBIDDEN");
    assert_eq!(lead_row(&app, &id).await["owner"]["id"], owner.to_string());

    let body = app
        .graphql_as(
            &manager_token,
            ASSIGN,
            json!({ "input": { "leadId": id, "ownerId": other.to_string() } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(
        body["data"]["assignLead"]["lead"]["owner"]["id"],
        other.to_string()
    );

    let body = app
        .graphql(
            ASSIGN,
            json!({ "input": { "leadId": id, "ownerId": owner.to_string() } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(
        body["data"]["assignLead"]["lead"]["owner"]["id"],
        owner.to_string()
    );
    assert_eq!(lead_row(&app, &id).await["owner"]["id"], owner.to_string());
}

#[tokio::test]
async fn assigning_to_an_unknown_user_or_an_unknown_lead_is_not_found() {
    let app = spawn_app().await;
    let (owner, owner_token) = app.user("Olga Owner", &[Role::Salesperson]).await;
    let (other, _) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (_, manager_token) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let lead = app.create_lead_as(&owner_token, json!({})).await;
    let id = id_of(&lead);
    let body = app
        .graphql_as(
            &manager_token,
            ASSIGN,
            json!({ "input": { "leadId": id, "ownerId": Uuid::now_v7().to_string() } }),
        )
        .await;
    assert_refused(&body, "NOT_FOUND");
    assert_eq!(lead_row(&app, &id).await["owner"]["id"], owner.to_string());
    assert_eq!(audit_actions(&app, &id).await, vec!["CREATED"]);

    let body = app
        .graphql_as(
            &manager_token,
            ASSIGN,
            json!({ "input": { "leadId": Uuid::now_v7().to_string(), "ownerId": other.to_string() } }),
        )
        .await;
    assert_refused(&body, "NOT_FOUND");
}

#[tokio::test]
async fn an_assigned_lead_leaves_the_old_owners_open_leads_for_the_new_owners() {
    let app = spawn_app().await;
    let (_, old_token) = app.user("Olga Owner", &[Role::Salesperson]).await;
    let (new_owner, new_token) = app.user("Nina New", &[Role::Salesperson]).await;
    let (_, manager_token) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let lead = app.create_lead_as(&old_token, json!({})).await;
    let kept = app.create_lead_as(&old_token, json!({})).await;
    let id = id_of(&lead);
    assert!(my_open_leads(&app, &old_token).await.contains(&id));
    assert!(my_open_leads(&app, &new_token).await.is_empty());

    let body = app
        .graphql_as(
            &manager_token,
            ASSIGN,
            json!({ "input": { "leadId": id, "ownerId": new_owner.to_string() } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");

    assert_eq!(my_open_leads(&app, &new_token).await, vec![id.clone()]);
    assert_eq!(my_open_leads(&app, &old_token).await, vec![id_of(&kept)]);
    // The new owner now works the lead.
    let body = app
        .graphql_as(
            &new_token,
            UPDATE,
            json!({ "input": { "id": id, "topic": "Mine now" } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let body = app
        .graphql_as(
            &old_token,
            UPDATE,
            json!({ "input": { "id": id, "topic": "Still mine?" } }),
        )
        .await;
    assert_refused(&body, "FORBIDDEN");
}

// ---------------------------------------------------------------------------------------------
// Qualification settings

#[tokio::test]
async fn only_a_system_administrator_changes_the_qualification_settings() {
    let app = spawn_app().await;
    let (_, seller_token) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (_, manager_token) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let (_, admin_token) = app.user("Ada Admin", &[Role::SystemAdministrator]).await;
    let before = app
        .ok(
            "{ qualificationSettings { experience summarizeLead } }",
            json!({}),
        )
        .await;
    for (who, token) in [("salesperson", &seller_token), ("manager", &manager_token)] {
        for input in [
            json!({ "summarizeLead": false }),
            json!({ "experience": "NEW", "summarizeLead": true }),
        ] {
            let body = app
                .graphql_as(token, SETTINGS, json!({ "input": input }))
                .await;
            assert_eq!(error_code(&body), "FORBIDDEN", "{who}: {body:#}");
            assert!(body["data"].is_null(), "{who}: {body:#}");
        }
    }
    let after = app
        .ok(
            "{ qualificationSettings { experience summarizeLead } }",
            json!({}),
        )
        .await;
    assert_eq!(after, before, "nothing changed");

    let body = app
        .graphql_as(
            &admin_token,
            SETTINGS,
            json!({ "input": { "experience": "NEW", "summarizeLead": true } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(
        body["data"]["updateQualificationSettings"]["settings"]["summarizeLead"],
        true
    );
    let body = app
        .graphql_as(
            &admin_token,
            SETTINGS,
            json!({ "input": { "summarizeLead": false } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(
        body["data"]["updateQualificationSettings"]["settings"],
        json!({ "experience": "NEW", "summarizeLead": false })
    );
}

// ---------------------------------------------------------------------------------------------
// Audit actor

#[tokio::test]
async fn the_audit_trail_names_who_created_updated_and_assigned_a_lead() {
    let app = spawn_app().await;
    let (seller, seller_token) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (manager, manager_token) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let lead = app
        .create_lead_as(&seller_token, json!({ "topic": "First topic" }))
        .await;
    let id = id_of(&lead);
    let body = app
        .graphql_as(
            &seller_token,
            UPDATE,
            json!({ "input": { "id": id, "topic": "Second topic" } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let (new_owner, _) = app.user("Nina New", &[Role::Salesperson]).await;
    let body = app
        .graphql_as(
            &manager_token,
            ASSIGN,
            json!({ "input": { "leadId": id, "ownerId": new_owner.to_string() } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");

    let body = app
        .graphql_as(
            &seller_token,
            "query($id: ID!) { auditEvents(recordId: $id) { action recordId actor { id name } changes } }",
            json!({ "id": id }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let events = body["data"]["auditEvents"].as_array().unwrap();
    let summary: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"]["name"].as_str().unwrap_or("<none>"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("CREATED", "Sam Seller"),
            ("UPDATED", "Sam Seller"),
            ("ASSIGNED", "Mia Manager"),
        ],
        "{body:#}"
    );
    assert!(events.iter().all(|e| e["recordId"] == id.as_str()));
    assert_eq!(events[0]["actor"]["id"], seller.to_string());
    assert_eq!(events[2]["actor"]["id"], manager.to_string());

    let update = &events[1]["changes"];
    assert_eq!(update["topic"]["from"], "First topic", "{update:#}");
    assert_eq!(update["topic"]["to"], "Second topic", "{update:#}");
    let assignment = &events[2]["changes"];
    assert_eq!(
        assignment["ownerId"]["from"],
        seller.to_string(),
        "{assignment:#}"
    );
    assert_eq!(
        assignment["ownerId"]["to"],
        new_owner.to_string(),
        "{assignment:#}"
    );
}

// ---------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------
// Production mode

fn production(s: &mut Settings) {
    s.production = true;
    s.jwt_secret = Some(SECRET.into());
}

async fn get_page(app: &TestApp) -> reqwest::Response {
    app.client.get(graphql_url(app)).send().await.unwrap()
}

const INTROSPECTION: &str = "{ __schema { types { name } } }";

#[tokio::test]
async fn production_mode_hides_graphiql_introspection_and_suggestions() {
    let app = spawn_app_with(production).await;
    assert_eq!(get_page(&app).await.status().as_u16(), 404);

    let body = app.graphql(INTROSPECTION, json!({})).await;
    assert!(body["data"]["__schema"].is_null(), "{body:#}");
    let body = app
        .graphql(r#"{ __type(name: "Lead") { fields { name } } }"#, json!({}))
        .await;
    assert!(body["data"]["__type"].is_null(), "{body:#}");

    let typo = "{ leadz { totalCount } }";
    let body = app.graphql(typo, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("Did you mean"), "{message}");
    // (In development mode the same typo gets a suggestion.)
    let development = spawn_app().await;
    let body = development.graphql(typo, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("Did you mean"), "{message}");

    // Ordinary operations work.
    let data = app
        .ok("{ me { name } leads { totalCount } }", json!({}))
        .await;
    assert_eq!(data["me"]["name"], "Test Administrator");
}

#[tokio::test]
async fn production_mode_answers_introspection_with_an_error() {
    let app = spawn_app_with(production).await;
    for query in [INTROSPECTION, r#"{ __type(name: "Lead") { name } }"#] {
        let body = app.graphql(query, json!({})).await;
        assert!(
            body["errors"].as_array().is_some_and(|e| !e.is_empty()),
            "introspection is refused with an error, not a silent null: {body:#}"
        );
        assert!(
            body["errors"][0]["extensions"]["code"].is_string(),
            "{body:#}"
        );
    }
}

#[tokio::test]
async fn production_mode_serves_graphiql_and_introspection_when_enabled() {
    let app = spawn_app_with(|s| {
        production(s);
        s.graphiql = Some(true);
        s.introspection = Some(true);
    })
    .await;
    let response = get_page(&app).await;
    assert_eq!(response.status().as_u16(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("graphiql"), "{page}");
    assert!(
        !page.contains("Bearer"),
        "no development token in production: {page}"
    );

    let data = app.ok(INTROSPECTION, json!({})).await;
    let types = data["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "Lead"), "{data:#}");
}

fn sqlite_settings(dir: &tempfile::TempDir) -> Settings {
    Settings::for_database(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("x.db").display()
    ))
}

async fn build_error(settings: Settings) -> String {
    match Application::build(settings).await {
        Ok(_) => panic!("the application was built"),
        Err(err) => format!("{err:#}"),
    }
}

#[tokio::test]
async fn production_mode_without_a_secret_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = sqlite_settings(&dir);
    settings.production = true;
    let message = build_error(settings).await;
    assert!(message.contains("LEADQ_JWT_SECRET"), "{message}");
}

#[tokio::test]
async fn a_secret_shorter_than_32_characters_is_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    for production in [false, true] {
        let mut settings = sqlite_settings(&dir);
        settings.production = production;
        settings.jwt_secret = Some("x".repeat(31));
        let message = build_error(settings).await;
        assert!(message.contains("32"), "{message}");
    }
    let mut settings = sqlite_settings(&dir);
    settings.production = true;
    settings.jwt_secret = Some("x".repeat(32));
    assert!(Application::build(settings).await.is_ok(), "32 are enough");
}

// ---------------------------------------------------------------------------------------------
// Tokens

async fn me_status(app: &TestApp, token: &str) -> (u16, Value) {
    let response = app
        .client
        .post(graphql_url(app))
        .bearer_auth(token)
        .json(&json!({ "query": "{ me { name roles } }" }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// An application expecting `iss` "leadq" and `aud` "crm", a salesperson in it, and a token for
/// that salesperson signed with the right secret carrying `iss` and `aud` as given.
async fn issuer_app() -> (TestApp, impl Fn(Option<&str>, Option<&str>) -> String) {
    let app = spawn_app_with(|s| {
        s.jwt_secret = Some(SECRET.into());
        s.jwt_issuer = Some("leadq".into());
        s.jwt_audience = Some("crm".into());
    })
    .await;
    let (user, _) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let mint = move |iss: Option<&str>, aud: Option<&str>| {
        TokenKeys::new(
            SECRET.as_bytes(),
            iss.map(str::to_owned),
            aud.map(str::to_owned),
        )
        .mint(user, chrono::Duration::hours(1))
        .unwrap()
    };
    (app, mint)
}

async fn assert_token_refused(app: &TestApp, token: &str, what: &str) {
    let (status, body) = me_status(app, token).await;
    assert_eq!(status, 401, "{what}: {body:#}");
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{what}");
    assert!(body["data"].is_null(), "{what}");
}

#[tokio::test]
async fn tokens_with_the_wrong_issuer_or_audience_are_401() {
    let (app, mint) = issuer_app().await;
    let (_, own) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (status, body) = me_status(&app, &own).await;
    assert_eq!(status, 200, "the app's own token: {body:#}");
    assert_eq!(body["data"]["me"]["name"], "Sam Seller");
    let (status, body) = me_status(&app, &mint(Some("leadq"), Some("crm"))).await;
    assert_eq!(status, 200, "right secret, issuer and audience: {body:#}");

    assert_token_refused(&app, &mint(Some("leadq"), Some("other")), "wrong audience").await;
    assert_token_refused(&app, &mint(Some("other"), Some("crm")), "wrong issuer").await;
    let other_secret = TokenKeys::new(
        b"another-secret-another-secret-another-secret",
        Some("leadq".into()),
        Some("crm".into()),
    )
    .mint(app.admin_id, chrono::Duration::hours(1))
    .unwrap();
    assert_token_refused(&app, &other_secret, "wrong secret").await;
}

#[tokio::test]
async fn tokens_without_the_configured_issuer_or_audience_are_401() {
    let (app, mint) = issuer_app().await;
    assert_token_refused(&app, &mint(None, Some("crm")), "no issuer").await;
    assert_token_refused(&app, &mint(Some("leadq"), None), "no audience").await;
    assert_token_refused(&app, &mint(None, None), "neither").await;
}

#[tokio::test]
async fn a_role_change_takes_effect_on_the_next_request() {
    let app = spawn_app().await;
    let (seller, token) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (other, _) = app.user("Otto Other", &[Role::Salesperson]).await;
    let lead = app.create_lead(json!({})).await;
    let vars = json!({ "input": { "leadId": lead["id"], "ownerId": other.to_string() } });
    let body = app.graphql_as(&token, ASSIGN, vars.clone()).await;
    assert_refused(&body, "FORBIDDEN");

    // Promoted, with the same token.
    let promoted = app.user("Sam Seller", &[Role::SalesManager]).await;
    assert_eq!(promoted.0, seller);
    let body = app.graphql_as(&token, ASSIGN, vars).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let (_, body) = me_status(&app, &token).await;
    assert_eq!(body["data"]["me"]["roles"], json!(["SALES_MANAGER"]));
}

// ---------------------------------------------------------------------------------------------
// CORS

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, graphql_url(app))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap()
}

fn allowed_origin(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn cors_allows_the_configured_origin_only() {
    let app = spawn_app_with(|s| s.cors_origins = vec!["https://app.example.com".into()]).await;
    let response = preflight(&app, "https://app.example.com").await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(
        allowed_origin(&response).as_deref(),
        Some("https://app.example.com")
    );

    let response = preflight(&app, "https://evil.example.com").await;
    assert_eq!(allowed_origin(&response), None);

    // The real request from the allowed origin carries the header as well.
    let response = app
        .client
        .post(graphql_url(&app))
        .header("Origin", "https://app.example.com")
        .bearer_auth(&app.admin_token)
        .json(&json!({ "query": "{ me { name } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        allowed_origin(&response).as_deref(),
        Some("https://app.example.com")
    );
}

#[tokio::test]
async fn without_configured_origins_no_cross_origin_call_is_allowed() {
    let app = spawn_app().await;
    let response = preflight(&app, "https://app.example.com").await;
    assert_eq!(allowed_origin(&response), None);
}

// ---------------------------------------------------------------------------------------------
// The `leadq token` command

#[tokio::test]
async fn the_token_command_prints_a_token_that_works_against_the_server() {
    let app = spawn_app().await;
    let database_url = app.database_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_leadq"));
        for (key, _) in std::env::vars() {
            if key.starts_with("LEADQ_") {
                command.env_remove(key);
            }
        }
        command
            .args(["--database-url", &database_url])
            .args(["token", "--name", "Cleo CLI", "--role", "SALESPERSON"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "leadq token failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(
        !token.is_empty() && !token.contains(char::is_whitespace),
        "{token:?}"
    );

    let (status, body) = me_status(&app, &token).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(
        body["data"]["me"],
        json!({ "name": "Cleo CLI", "roles": ["SALESPERSON"] })
    );
    // The user it created is an ordinary salesperson.
    let body = app
        .graphql_as(
            &token,
            SETTINGS,
            json!({ "input": { "summarizeLead": false } }),
        )
        .await;
    assert_refused(&body, "FORBIDDEN");
}
