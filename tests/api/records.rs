use entity::{LeadState, Role};
use serde_json::{Value, json};

use crate::helpers::{error_code, error_field, spawn_app};
use crate::leads::close_lead;

#[tokio::test]
async fn accounts_and_contacts_are_created_read_and_searched() {
    let app = spawn_app().await;
    let account = app
        .create_account(
            json!({ "name": "Contoso Ltd", "website": "contoso.com", "phone": "555-0100",
                                "email": "info@contoso.com", "address": { "city": "Redmond" } }),
        )
        .await;
    let contact = app
        .create_contact(
            json!({ "firstName": "Ann", "lastName": "Smith", "email": "ann@contoso.com",
                                "parentAccountId": account }),
        )
        .await;
    app.create_account(json!({ "name": "Fabrikam" })).await;
    let data = app
        .ok(
            "query($id: ID!, $c: ID!) { account(id: $id) { name website phone email address { city } contacts { fullName } state owner { name } }
                                        contact(id: $c) { fullName parentAccount { name } state } }",
            json!({ "id": account, "c": contact }),
        )
        .await;
    assert_eq!(data["account"]["name"], "Contoso Ltd");
    assert_eq!(data["account"]["address"]["city"], "Redmond");
    assert_eq!(data["account"]["contacts"][0]["fullName"], "Ann Smith");
    assert_eq!(data["account"]["state"], "ACTIVE");
    assert_eq!(data["contact"]["parentAccount"]["name"], "Contoso Ltd");

    let data = app
        .ok(
            "{ accounts(search: \"CONTOSO\") { totalCount edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["accounts"]["totalCount"], 1);
    let data = app.ok("{ accounts(first: 1) { totalCount edges { cursor } pageInfo { hasNextPage endCursor } } }", json!({})).await;
    assert_eq!(data["accounts"]["totalCount"], 2);
    assert_eq!(data["accounts"]["pageInfo"]["hasNextPage"], true);
    let after = data["accounts"]["pageInfo"]["endCursor"].clone();
    let data = app
        .ok("query($a: String) { accounts(first: 1, after: $a) { edges { node { name } } pageInfo { hasNextPage } } }", json!({ "a": after }))
        .await;
    assert_eq!(data["accounts"]["edges"][0]["node"]["name"], "Contoso Ltd");
    assert_eq!(data["accounts"]["pageInfo"]["hasNextPage"], false);
    let data = app
        .ok(
            "{ contacts(search: \"smith\") { totalCount } opportunities { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["contacts"]["totalCount"], 1);
    assert_eq!(data["opportunities"]["totalCount"], 0);
}

#[tokio::test]
async fn bad_account_and_contact_input_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let q =
        "mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id } } }";
    for (input, field) in [
        (json!({}), "name"),
        (json!({ "name": "x".repeat(161) }), "name"),
        (json!({ "name": "A", "email": "nope" }), "email"),
        (
            json!({ "name": "A", "primaryContactId": "nope" }),
            "primaryContactId",
        ),
    ] {
        let body = app.graphql(q, json!({ "input": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), field);
    }
    let q =
        "mutation($input: CreateContactInput!) { createContact(input: $input) { contact { id } } }";
    let body = app
        .graphql(q, json!({ "input": { "firstName": "A" } }))
        .await;
    assert_eq!(error_field(&body), "lastName");
    let body = app
        .graphql(q, json!({ "input": { "lastName": "A", "parentAccountId": uuid::Uuid::now_v7().to_string() } }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
}

#[tokio::test]
async fn notes_go_on_any_record_and_need_some_content() {
    let app = spawn_app().await;
    let lead = app.create_lead(json!({})).await;
    let account = app.create_account(json!({ "name": "A" })).await;
    let q = "mutation($input: AddNoteInput!) { addNote(input: $input) { note { id subject text createdBy { name } regardingType } } }";
    let data = app.ok(q, json!({ "input": { "regardingId": lead["id"], "subject": "Call", "text": "Wants a demo" } })).await;
    assert_eq!(
        data["addNote"]["note"]["createdBy"]["name"],
        "Test Administrator"
    );
    assert_eq!(data["addNote"]["note"]["regardingType"], "LEAD");
    let data = app
        .ok(
            q,
            json!({ "input": { "regardingId": account, "text": "Big customer" } }),
        )
        .await;
    assert_eq!(data["addNote"]["note"]["regardingType"], "ACCOUNT");
    let body = app
        .graphql(q, json!({ "input": { "regardingId": lead["id"] } }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let body = app
        .graphql(
            q,
            json!({ "input": { "regardingId": uuid::Uuid::now_v7().to_string(), "text": "x" } }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let data = app
        .ok(
            "query($id: ID!) { lead(id: $id) { notes { subject text } } }",
            json!({ "id": lead["id"] }),
        )
        .await;
    assert_eq!(
        data["lead"]["notes"],
        json!([{ "subject": "Call", "text": "Wants a demo" }])
    );
}

#[tokio::test]
async fn stakeholders_connect_contacts_to_open_leads_once_per_role() {
    let app = spawn_app().await;
    let lead = app.create_lead(json!({})).await;
    let contact = app
        .create_contact(json!({ "firstName": "Bo", "lastName": "Chen" }))
        .await;
    let q = "mutation($input: AddStakeholderInput!) { addStakeholder(input: $input) { stakeholder { id role contact { fullName } } } }";
    let data = app
        .ok(
            q,
            json!({ "input": { "leadId": lead["id"], "contactId": contact } }),
        )
        .await;
    assert_eq!(data["addStakeholder"]["stakeholder"]["role"], "STAKEHOLDER");
    assert_eq!(
        data["addStakeholder"]["stakeholder"]["contact"]["fullName"],
        "Bo Chen"
    );
    app.ok(q, json!({ "input": { "leadId": lead["id"], "contactId": contact, "role": "DECISION_MAKER" } })).await;
    let body = app
        .graphql(
            q,
            json!({ "input": { "leadId": lead["id"], "contactId": contact } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT");
    let body = app
        .graphql(q, json!({ "input": { "contactId": contact } }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let data = app
        .ok(
            "query($id: ID!) { lead(id: $id) { stakeholders { role } } }",
            json!({ "id": lead["id"] }),
        )
        .await;
    assert_eq!(
        data["lead"]["stakeholders"],
        json!([{ "role": "STAKEHOLDER" }, { "role": "DECISION_MAKER" }])
    );

    close_lead(&app, lead["id"].as_str().unwrap(), LeadState::Qualified).await;
    let body = app.graphql(q, json!({ "input": { "leadId": lead["id"], "contactId": contact, "role": "INFLUENCER" } })).await;
    assert_eq!(error_code(&body), "LEAD_CLOSED");
}

#[tokio::test]
async fn me_is_the_caller() {
    let app = spawn_app().await;
    let (id, token) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let body = app
        .graphql_as(&token, "{ me { id name roles } }", json!({}))
        .await;
    assert_eq!(
        body["data"]["me"],
        json!({ "id": id.to_string(), "name": "Sam Seller", "roles": ["SALESPERSON"] })
    );
    let _: Value = body;
}
