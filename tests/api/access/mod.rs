//! Identity, roles, record-level access and the hardened HTTP endpoint, by topic:
//! [`roles`] (who may create, change, assign and configure what, and the audit actor),
//! [`endpoint`] (the HTTP guards of `/graphql`), [`production`] (production mode and startup
//! checks) and [`tokens`] (issuer, audience, role changes). Shared helpers are here.

mod endpoint;
mod production;
mod roles;
mod tokens;

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
