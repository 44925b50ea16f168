use entity::{LeadState, Role, lead};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};

use crate::helpers::{LEAD_FIELDS, error_code, error_field, spawn_app};

const CREATE: &str = "mutation($input: CreateLeadInput!) { createLead(input: $input) { lead { id } possibleDuplicates { id } } }";
const UPDATE: &str = "mutation($input: UpdateLeadInput!) { updateLead(input: $input) { lead { id topic email firstName budgetAmount companyName address { city street1 } } } }";

/// Sets a lead's state directly in the database (qualification has its own tests).
pub async fn close_lead(app: &crate::helpers::TestApp, id: &str, state: LeadState) {
    let lead = lead::Entity::find_by_id(uuid::Uuid::parse_str(id).unwrap())
        .one(&app.db.write)
        .await
        .unwrap()
        .unwrap();
    let mut active: lead::ActiveModel = lead.into();
    active.state = Set(state);
    active.update(&app.db.write).await.unwrap();
}

#[tokio::test]
async fn create_lead_stores_every_field_and_starts_open_new_at_qualify() {
    let app = spawn_app().await;
    let lead = app
        .create_lead(json!({
            "topic": "  Need 50 laptops  ", "firstName": "Ann", "lastName": "Smith",
            "jobTitle": "CTO", "businessPhone": "+1 (555) 010-2000", "mobilePhone": "555 0101",
            "email": "ann@contoso.com", "companyName": "Contoso", "website": "https://contoso.com",
            "description": "Met at the fair", "industry": "Retail", "leadSource": "TRADE_SHOW",
            "rating": "HOT", "purchaseTimeframe": "THIS_QUARTER", "purchaseProcess": "COMMITTEE",
            "budgetAmount": "125000.5", "currencyCode": "eur", "decisionMaker": true,
            "address": { "street1": "1 Main St", "street2": "Floor 2", "street3": "Suite 3",
                         "city": "Redmond", "stateOrProvince": "WA", "postalCode": "98052",
                         "countryOrRegion": "USA" }
        }))
        .await;
    assert_eq!(lead["topic"], "Need 50 laptops");
    assert_eq!(lead["fullName"], "Ann Smith");
    assert_eq!(lead["jobTitle"], "CTO");
    assert_eq!(lead["businessPhone"], "+1 (555) 010-2000");
    assert_eq!(lead["mobilePhone"], "555 0101");
    assert_eq!(lead["email"], "ann@contoso.com");
    assert_eq!(lead["companyName"], "Contoso");
    assert_eq!(lead["website"], "https://contoso.com");
    assert_eq!(lead["industry"], "Retail");
    assert_eq!(lead["leadSource"], "TRADE_SHOW");
    assert_eq!(lead["rating"], "HOT");
    assert_eq!(lead["purchaseTimeframe"], "THIS_QUARTER");
    assert_eq!(lead["purchaseProcess"], "COMMITTEE");
    assert_eq!(lead["budgetAmount"], "125000.50");
    assert_eq!(lead["currencyCode"], "EUR");
    assert_eq!(lead["decisionMaker"], true);
    assert_eq!(lead["address"]["street3"], "Suite 3");
    assert_eq!(lead["address"]["countryOrRegion"], "USA");
    assert_eq!(lead["state"], "OPEN");
    assert_eq!(lead["statusReason"], "NEW");
    assert_eq!(lead["processStage"], "QUALIFY");
    assert_eq!(lead["qualifiedAt"], Value::Null);
    assert_eq!(lead["owner"]["name"], "Test Administrator");
    // What came back is what is stored.
    assert_eq!(app.lead(lead["id"].as_str().unwrap()).await, lead);
}

#[tokio::test]
async fn money_is_exact_at_the_top_of_its_range() {
    let app = spawn_app().await;
    let lead = app
        .create_lead(json!({ "budgetAmount": "999999999999.99" }))
        .await;
    assert_eq!(lead["budgetAmount"], "999999999999.99");
    let lead = app
        .create_lead(json!({ "budgetAmount": 1000000000000u64 }))
        .await;
    assert_eq!(lead["budgetAmount"], "1000000000000.00");
}

#[tokio::test]
async fn each_kind_of_bad_input_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let long = "x".repeat(301);
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "lastName": "Doe" }), "topic"),
        (json!({ "topic": "   ", "lastName": "Doe" }), "topic"),
        (json!({ "topic": "t" }), "lastName"),
        (json!({ "topic": long, "lastName": "Doe" }), "topic"),
        (
            json!({ "topic": "t", "lastName": "x".repeat(51) }),
            "lastName",
        ),
        (
            json!({ "topic": "t", "lastName": "Doe", "description": "x".repeat(2001) }),
            "description",
        ),
        (
            json!({ "topic": "t", "lastName": "Doe", "email": "not-an-email" }),
            "email",
        ),
        (
            json!({ "topic": "t", "lastName": "Doe", "businessPhone": "call me maybe" }),
            "businessPhone",
        ),
        (
            json!({ "topic": "t", "lastName": "Doe", "mobilePhone": "1".repeat(21) }),
            "mobilePhone",
        ),
        (
            json!({ "topic": "t", "lastName": "Doe", "website": "not a website" }),
            "website",
        ),
        (
            json!({ "topic": "t", "lastName": "Doe", "currencyCode": "EURO" }),
            "currencyCode",
        ),
        (
            json!({ "topic": "t", "lastName": "Doe", "budgetAmount": "-1" }),
            "budgetAmount",
        ),
        (
            json!({ "topic": "t", "lastName": "Doe", "budgetAmount": "1000000000000.01" }),
            "budgetAmount",
        ),
        (
            json!({ "topic": "t", "lastName": "Doe", "budgetAmount": "1.005" }),
            "budgetAmount",
        ),
        (
            json!({ "topic": "t", "lastName": "Doe", "budgetAmount": "lots" }),
            "budgetAmount",
        ),
        (
            json!({ "topic": "t", "lastName": "Doe", "existingAccountId": "42" }),
            "existingAccountId",
        ),
        (
            json!({ "topic": "t", "lastName": "Doe", "address": { "city": "c".repeat(81) } }),
            "address.city",
        ),
        (
            json!({ "topic": "t", "lastName": "Doe", "leadSource": "CARRIER_PIGEON" }),
            "leadSource",
        ),
        (
            json!({ "topic": "t", "lastName": "Doe", "rating": "TEPID" }),
            "rating",
        ),
    ];
    for (input, field) in cases {
        let body = app.graphql(CREATE, json!({ "input": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input} → {body}");
        assert_eq!(error_field(&body), field, "{input} → {body}");
        assert_eq!(body["data"], Value::Null);
    }
    let data = app.ok("{ leads { totalCount } }", json!({})).await;
    assert_eq!(data["leads"]["totalCount"], 0, "nothing was written");
}

#[tokio::test]
async fn unknown_existing_records_are_not_found() {
    let app = spawn_app().await;
    let body = app
        .graphql(
            CREATE,
            json!({ "input": { "topic": "t", "lastName": "Doe", "existingAccountId": uuid::Uuid::now_v7().to_string() } }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let body = app
        .graphql(
            UPDATE,
            json!({ "input": { "id": uuid::Uuid::now_v7().to_string(), "topic": "x" } }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let data = app
        .ok(
            "query($id: ID!) { lead(id: $id) { id } }",
            json!({ "id": uuid::Uuid::now_v7().to_string() }),
        )
        .await;
    assert_eq!(data["lead"], Value::Null);
}

#[tokio::test]
async fn an_existing_contact_and_account_fill_only_empty_fields_on_create() {
    let app = spawn_app().await;
    let account = app.create_account(json!({ "name": "Fabrikam" })).await;
    let contact = app
        .create_contact(json!({
            "firstName": "Pat", "lastName": "Lee", "jobTitle": "Buyer", "businessPhone": "555-0100",
            "mobilePhone": "555-0199", "email": "pat@fabrikam.com", "parentAccountId": account
        }))
        .await;
    let lead = app
        .create_lead(json!({
            "lastName": null, "existingContactId": contact, "existingAccountId": account,
            "jobTitle": "Head of Purchasing"
        }))
        .await;
    assert_eq!(lead["firstName"], "Pat");
    assert_eq!(lead["lastName"], "Lee");
    assert_eq!(
        lead["jobTitle"], "Head of Purchasing",
        "a given value is never overwritten"
    );
    assert_eq!(lead["businessPhone"], "555-0100");
    assert_eq!(lead["mobilePhone"], "555-0199");
    assert_eq!(lead["email"], "pat@fabrikam.com");
    assert_eq!(lead["companyName"], "Fabrikam");
    assert_eq!(lead["existingAccount"]["name"], "Fabrikam");
    assert_eq!(lead["existingContact"]["fullName"], "Pat Lee");

    // Explicit values win over the contact's.
    let lead = app
        .create_lead(
            json!({ "existingContactId": contact, "lastName": "Other", "email": "o@x.com" }),
        )
        .await;
    assert_eq!(lead["lastName"], "Other");
    assert_eq!(lead["email"], "o@x.com");
    assert_eq!(lead["firstName"], "Pat");
}

#[tokio::test]
async fn setting_an_existing_contact_on_update_does_not_auto_populate() {
    let app = spawn_app().await;
    let contact = app
        .create_contact(json!({ "lastName": "Lee", "email": "pat@fabrikam.com" }))
        .await;
    let lead = app.create_lead(json!({})).await;
    let data = app
        .ok(
            "mutation($input: UpdateLeadInput!) { updateLead(input: $input) { lead { email existingContact { id } } } }",
            json!({ "input": { "id": lead["id"], "existingContactId": contact } }),
        )
        .await;
    assert_eq!(data["updateLead"]["lead"]["email"], Value::Null);
    assert_eq!(
        data["updateLead"]["lead"]["existingContact"]["id"],
        contact.as_str()
    );
}

#[tokio::test]
async fn update_changes_given_fields_clears_nulls_and_keeps_the_rest() {
    let app = spawn_app().await;
    let lead = app
        .create_lead(
            json!({ "email": "a@b.com", "firstName": "Ann", "companyName": "Contoso",
                             "address": { "city": "Paris", "street1": "1 rue" } }),
        )
        .await;
    let data = app
        .ok(
            UPDATE,
            json!({ "input": { "id": lead["id"], "topic": "New topic", "firstName": null,
                               "budgetAmount": "10", "address": { "city": "Lyon" } } }),
        )
        .await;
    let updated = &data["updateLead"]["lead"];
    assert_eq!(updated["topic"], "New topic");
    assert_eq!(updated["firstName"], Value::Null);
    assert_eq!(updated["email"], "a@b.com");
    assert_eq!(updated["companyName"], "Contoso");
    assert_eq!(updated["budgetAmount"], "10.00");
    assert_eq!(updated["address"]["city"], "Lyon");
    assert_eq!(updated["address"]["street1"], "1 rue");

    let body = app
        .graphql(
            UPDATE,
            json!({ "input": { "id": lead["id"], "lastName": null } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_field(&body), "lastName");
    let body = app
        .graphql(UPDATE, json!({ "input": { "id": "nope" } }))
        .await;
    assert_eq!(error_field(&body), "id");
}

#[tokio::test]
async fn a_qualified_or_disqualified_lead_cannot_be_updated() {
    let app = spawn_app().await;
    for state in [LeadState::Qualified, LeadState::Disqualified] {
        let lead = app.create_lead(json!({})).await;
        let id = lead["id"].as_str().unwrap();
        close_lead(&app, id, state).await;
        let body = app
            .graphql(UPDATE, json!({ "input": { "id": id, "topic": "changed" } }))
            .await;
        assert_eq!(error_code(&body), "LEAD_CLOSED", "{body}");
        assert_eq!(app.lead(id).await["topic"], lead["topic"]);
    }
}

#[tokio::test]
async fn delete_removes_the_lead_and_its_notes() {
    let app = spawn_app().await;
    let lead = app.create_lead(json!({})).await;
    app.ok(
        "mutation($input: AddNoteInput!) { addNote(input: $input) { note { id } } }",
        json!({ "input": { "regardingId": lead["id"], "text": "called" } }),
    )
    .await;
    let data = app
        .ok(
            "mutation($input: DeleteLeadInput!) { deleteLead(input: $input) { deletedId } }",
            json!({ "input": { "id": lead["id"] } }),
        )
        .await;
    assert_eq!(data["deleteLead"]["deletedId"], lead["id"]);
    let data = app
        .ok(
            "query($id: ID!) { lead(id: $id) { id } }",
            json!({ "id": lead["id"] }),
        )
        .await;
    assert_eq!(data["lead"], Value::Null);
    let notes = entity::note::Entity::find()
        .all(&app.db.read)
        .await
        .unwrap();
    assert!(notes.is_empty());
    let body = app
        .graphql(
            "mutation($input: DeleteLeadInput!) { deleteLead(input: $input) { deletedId } }",
            json!({ "input": { "id": lead["id"] } }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
}

#[tokio::test]
async fn the_four_views_and_the_filters_select_the_right_leads() {
    let app = spawn_app().await;
    let (_, seller) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let mine = app
        .create_lead_as(&seller, json!({ "topic": "Mine open", "email": "m@x.com" }))
        .await;
    let mine_closed = app
        .create_lead_as(&seller, json!({ "topic": "Mine closed" }))
        .await;
    close_lead(
        &app,
        mine_closed["id"].as_str().unwrap(),
        LeadState::Qualified,
    )
    .await;
    let other = app
        .create_lead(json!({ "topic": "Admin open", "companyName": "Contoso Ltd" }))
        .await;
    let other_closed = app
        .create_lead(json!({ "topic": "Admin disqualified" }))
        .await;
    close_lead(
        &app,
        other_closed["id"].as_str().unwrap(),
        LeadState::Disqualified,
    )
    .await;

    let topics = |body: &Value| -> Vec<String> {
        let mut t: Vec<String> = body["data"]["leads"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["topic"].as_str().unwrap().to_owned())
            .collect();
        t.sort();
        t
    };
    let q = "query($view: LeadView, $filter: LeadFilter) { leads(view: $view, filter: $filter) { totalCount edges { node { topic } } } }";
    let body = app
        .graphql_as(&seller, q, json!({ "view": "MY_OPEN_LEADS" }))
        .await;
    assert_eq!(topics(&body), ["Mine open"]);
    let body = app.graphql(q, json!({ "view": "OPEN_LEADS" })).await;
    assert_eq!(topics(&body), ["Admin open", "Mine open"]);
    let body = app.graphql(q, json!({ "view": "CLOSED_LEADS" })).await;
    assert_eq!(topics(&body), ["Admin disqualified", "Mine closed"]);
    let body = app.graphql(q, json!({})).await;
    assert_eq!(body["data"]["leads"]["totalCount"], 4);

    let body = app
        .graphql(q, json!({ "filter": { "text": "contoso" } }))
        .await;
    assert_eq!(topics(&body), ["Admin open"]);
    let body = app
        .graphql(q, json!({ "filter": { "text": "M@X.COM" } }))
        .await;
    assert_eq!(topics(&body), ["Mine open"]);
    let body = app.graphql(q, json!({ "filter": { "text": "%" } })).await;
    assert_eq!(topics(&body), Vec::<String>::new(), "wildcards are literal");
    let body = app
        .graphql(q, json!({ "filter": { "ownerId": mine["owner"]["id"] } }))
        .await;
    assert_eq!(topics(&body), ["Mine closed", "Mine open"]);
    let body = app
        .graphql(q, json!({ "filter": { "states": ["DISQUALIFIED"] } }))
        .await;
    assert_eq!(topics(&body), ["Admin disqualified"]);
    let _ = other;
}

#[tokio::test]
async fn pagination_walks_every_lead_once_in_order_with_a_total_count() {
    let app = spawn_app().await;
    for i in 0..7 {
        app.create_lead(json!({ "topic": format!("Lead {i}") }))
            .await;
    }
    for (order, expected) in [
        (
            json!({ "field": "CREATED_AT", "direction": "DESC" }),
            (0..7)
                .rev()
                .map(|i| format!("Lead {i}"))
                .collect::<Vec<_>>(),
        ),
        (
            json!({ "field": "TOPIC", "direction": "ASC" }),
            (0..7).map(|i| format!("Lead {i}")).collect(),
        ),
    ] {
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = app
                .ok(
                    "query($after: String, $order: LeadOrder) { leads(first: 3, after: $after, orderBy: $order) { totalCount edges { cursor node { topic } } pageInfo { hasNextPage endCursor } } }",
                    json!({ "after": after, "order": order }),
                )
                .await;
            let leads = &data["leads"];
            assert_eq!(leads["totalCount"], 7);
            for edge in leads["edges"].as_array().unwrap() {
                seen.push(edge["node"]["topic"].as_str().unwrap().to_owned());
            }
            if !leads["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                break;
            }
            after = leads["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(seen, expected);
    }
    let body = app
        .graphql("{ leads(first: 501) { totalCount } }", json!({}))
        .await;
    assert_eq!(error_field(&body), "first");
    let body = app
        .graphql("{ leads(after: \"garbage\") { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_field(&body), "after");
}

#[tokio::test]
async fn listing_100_leads_with_owners_and_accounts_does_not_query_per_lead() {
    // No job workers: their polling would count among the statements measured below.
    let app = crate::helpers::spawn_app_with(|s| s.job_workers = Some(0)).await;
    let (_, seller) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let account = app.create_account(json!({ "name": "Fabrikam" })).await;
    for i in 0..100 {
        let token = if i % 2 == 0 {
            seller.clone()
        } else {
            app.admin_token.clone()
        };
        app.create_lead_as(&token, json!({ "existingAccountId": account }))
            .await;
    }
    let before = app.db.statement_count();
    let data = app
        .ok(
            &format!("{{ leads(first: 100) {{ edges {{ node {{ {LEAD_FIELDS} notes {{ id }} opportunities {{ id }} stakeholders {{ id }} }} }} }} }}"),
            json!({}),
        )
        .await;
    let statements = app.db.statement_count() - before;
    assert_eq!(data["leads"]["edges"].as_array().unwrap().len(), 100);
    // Authentication, count, page, then one batch per relation (owner, accounts, contacts,
    // notes, opportunities, stakeholders): a query per lead would be hundreds.
    assert!(statements <= 12, "{statements} statements for 100 leads");
}
