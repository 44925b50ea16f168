//! Qualifying leads end to end: `qualifyLead`, `previewQualification`,
//! `updateQualificationSettings`, `qualificationSettings` and `fieldMappings`.

use entity::Role;
use futures_util::future::join_all;
use sea_orm::{ConnectionTrait, DbBackend};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, error_field, spawn_app};

const QUALIFY: &str = "mutation($input: QualifyLeadInput!) { qualifyLead(input: $input) {
    outcome
    lead { id state statusReason processStage qualifiedAt }
    account { id name }
    contact { id fullName }
    opportunities { id topic currencyCode }
    warnings { code message } } }";

const UPDATE_SETTINGS: &str = "mutation($input: UpdateQualificationSettingsInput!) {
    updateQualificationSettings(input: $input) { settings { experience autoCreateRecords
    accountCreation contactCreation opportunityCreation allowMultipleOpportunities
    maxOpportunitiesPerLead summarizeLead opportunityFormFields baseCurrencyCode
    modifiedBy { name } } } }";

const PREVIEW: &str = "query($input: QualifyLeadInput!) { previewQualification(input: $input) {
    outcome error { code message } requiredChoices { record message options }
    account { action mode existing { id } fields { field sourceField value } }
    contact { action mode existing { id } fields { field sourceField value } }
    opportunities { topic currencyCode budgetAmount fields { field sourceField value } }
    warnings { code } } }";

/// What a lead was qualified to.
const LEAD_RESULT: &str = "id state statusReason processStage qualifiedAt
    qualifiedAccount { id } qualifiedContact { id } qualifyingOpportunity { id }
    opportunities { id topic } notes { subject text }";

/// The id of a record in a response.
fn id(record: &Value) -> &str {
    record["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {record:#}"))
}

/// Changes the qualification settings as the administrator; returns the settings in force.
async fn update_settings(app: &TestApp, input: Value) -> Value {
    app.ok(UPDATE_SETTINGS, json!({ "input": input })).await["updateQualificationSettings"]
        ["settings"]
        .clone()
}

/// Runs `qualifyLead` as the administrator; returns the whole response body.
async fn qualify(app: &TestApp, input: Value) -> Value {
    app.graphql(QUALIFY, json!({ "input": input })).await
}

/// Runs `qualifyLead`, which must qualify the lead; returns the payload.
async fn qualified(app: &TestApp, input: Value) -> Value {
    let body = qualify(app, input).await;
    assert!(body.get("errors").is_none(), "qualifyLead failed: {body:#}");
    let payload = body["data"]["qualifyLead"].clone();
    assert_eq!(payload["outcome"], "QUALIFIED", "{payload:#}");
    payload
}

/// Runs `previewQualification`; returns the preview.
async fn preview(app: &TestApp, input: Value) -> Value {
    app.ok(PREVIEW, json!({ "input": input })).await["previewQualification"].clone()
}

/// How many accounts, contacts and opportunities exist.
async fn count(app: &TestApp) -> (i64, i64, i64) {
    let data = app
        .ok(
            "{ accounts { totalCount } contacts { totalCount } opportunities { totalCount } }",
            json!({}),
        )
        .await;
    let total = |name: &str| data[name]["totalCount"].as_i64().unwrap();
    (total("accounts"), total("contacts"), total("opportunities"))
}

/// The lead's state and what it was qualified to.
async fn lead_result(app: &TestApp, lead_id: &str) -> Value {
    app.ok(
        &format!("query($id: ID!) {{ lead(id: $id) {{ {LEAD_RESULT} }} }}"),
        json!({ "id": lead_id }),
    )
    .await["lead"]
        .clone()
}

/// An opportunity with its links.
async fn opportunity(app: &TestApp, opportunity_id: &str) -> Value {
    app.ok(
        "query($id: ID!) { opportunity(id: $id) { id topic description currencyCode budgetAmount
            purchaseTimeframe purchaseProcess decisionMaker processStage state
            customer { __typename ... on Account { id } ... on Contact { id } }
            account { id } contact { id } originatingLead { id }
            notes { subject text regardingType }
            stakeholders { contact { id } role } } }",
        json!({ "id": opportunity_id }),
    )
    .await["opportunity"]
        .clone()
}

/// Asserts that the lead is still open and was qualified to nothing.
async fn assert_still_open(app: &TestApp, lead_id: &str) {
    let lead = lead_result(app, lead_id).await;
    assert_eq!(lead["state"], "OPEN", "{lead:#}");
    assert_eq!(lead["statusReason"], "NEW", "{lead:#}");
    assert_eq!(lead["processStage"], "QUALIFY", "{lead:#}");
    assert_eq!(lead["qualifiedAt"], Value::Null, "{lead:#}");
    assert_eq!(lead["qualifiedAccount"], Value::Null, "{lead:#}");
    assert_eq!(lead["qualifiedContact"], Value::Null, "{lead:#}");
    assert_eq!(lead["qualifyingOpportunity"], Value::Null, "{lead:#}");
}

/// A lead with every mapped field set.
fn full_lead() -> Value {
    json!({
        "topic": "Need 50 laptops", "firstName": "Ann", "lastName": "Smith", "jobTitle": "CTO",
        "businessPhone": "+1 (555) 010-2000", "mobilePhone": "555 0101",
        "email": "ann@contoso.com", "companyName": "Contoso", "website": "https://contoso.com",
        "description": "Met at the fair", "purchaseTimeframe": "THIS_QUARTER",
        "purchaseProcess": "COMMITTEE", "budgetAmount": "125000.5", "decisionMaker": true,
        "address": { "street1": "1 Main St", "street2": "Floor 2", "street3": "Suite 3",
                     "city": "Redmond", "stateOrProvince": "WA", "postalCode": "98052",
                     "countryOrRegion": "USA" }
    })
}

/// The ids of the leads in a view.
async fn view(app: &TestApp, view: &str) -> Vec<String> {
    let data = app
        .ok(
            "query($view: LeadView) { leads(view: $view) { edges { node { id } } } }",
            json!({ "view": view }),
        )
        .await;
    data["leads"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Settings and mappings
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_default_settings_are_the_legacy_experience_creating_every_record_in_usd() {
    let app = spawn_app().await;
    let data = app
        .ok(
            "{ qualificationSettings { experience autoCreateRecords accountCreation
               contactCreation opportunityCreation allowMultipleOpportunities
               maxOpportunitiesPerLead summarizeLead opportunityFormFields baseCurrencyCode } }",
            json!({}),
        )
        .await;
    let settings = &data["qualificationSettings"];
    assert_eq!(settings["experience"], "LEGACY");
    assert_eq!(settings["autoCreateRecords"], true);
    assert_eq!(settings["allowMultipleOpportunities"], false);
    assert_eq!(settings["maxOpportunitiesPerLead"], 5);
    assert_eq!(settings["summarizeLead"], false);
    assert_eq!(settings["baseCurrencyCode"], "USD");
    assert!(
        settings["opportunityFormFields"]
            .as_array()
            .unwrap()
            .contains(&json!("topic"))
    );
}

#[tokio::test]
async fn a_settings_change_is_stored_read_back_and_audited_with_the_administrator() {
    let app = spawn_app().await;
    let settings = update_settings(
        &app,
        json!({ "experience": "NEW", "accountCreation": "SELLER", "baseCurrencyCode": "eur" }),
    )
    .await;
    assert_eq!(settings["experience"], "NEW");
    assert_eq!(settings["accountCreation"], "SELLER");
    assert_eq!(settings["contactCreation"], "AUTOMATIC", "untouched");
    assert_eq!(settings["baseCurrencyCode"], "EUR");
    assert_eq!(settings["modifiedBy"]["name"], "Test Administrator");
    let data = app
        .ok(
            "{ qualificationSettings { experience accountCreation baseCurrencyCode } }",
            json!({}),
        )
        .await;
    assert_eq!(data["qualificationSettings"]["experience"], "NEW");
    assert_eq!(data["qualificationSettings"]["accountCreation"], "SELLER");
    assert_eq!(data["qualificationSettings"]["baseCurrencyCode"], "EUR");

    let data = app
        .ok(
            "{ auditEvents(recordId: \"00000000-0000-0000-0000-000000000000\") {
                 action actor { name } changes } }",
            json!({}),
        )
        .await;
    let events = data["auditEvents"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["action"], "SETTINGS_CHANGED");
    assert_eq!(events[0]["actor"]["name"], "Test Administrator");
    let changes = events[0]["changes"].to_string();
    assert!(changes.contains("EUR"), "{changes}");
    assert!(changes.contains("SELLER"), "{changes}");
}

#[tokio::test]
async fn only_a_system_administrator_may_change_the_settings() {
    let app = spawn_app().await;
    for role in [Role::Salesperson, Role::SalesManager] {
        let (_, token) = app.user(&format!("{role:?} user"), &[role]).await;
        let body = app
            .graphql_as(
                &token,
                UPDATE_SETTINGS,
                json!({ "input": { "baseCurrencyCode": "EUR" } }),
            )
            .await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{role:?}: {body}");
    }
    let data = app
        .ok("{ qualificationSettings { baseCurrencyCode } }", json!({}))
        .await;
    assert_eq!(data["qualificationSettings"]["baseCurrencyCode"], "USD");
    let data = app
        .ok(
            "{ auditEvents(recordId: \"00000000-0000-0000-0000-000000000000\") { action } }",
            json!({}),
        )
        .await;
    assert_eq!(data["auditEvents"], json!([]), "nothing changed");
}

#[tokio::test]
async fn invalid_settings_combinations_are_refused_naming_the_setting() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({ "allowMultipleOpportunities": true }),
            "allowMultipleOpportunities",
        ),
        (
            json!({ "experience": "NEW", "allowMultipleOpportunities": true }),
            "allowMultipleOpportunities",
        ),
        (
            json!({ "maxOpportunitiesPerLead": 6 }),
            "maxOpportunitiesPerLead",
        ),
        (
            json!({ "maxOpportunitiesPerLead": 0 }),
            "maxOpportunitiesPerLead",
        ),
        (json!({ "summarizeLead": true }), "summarizeLead"),
        (
            json!({ "opportunityFormFields": ["topic", "favouriteColour"] }),
            "opportunityFormFields",
        ),
        (
            json!({ "opportunityFormFields": ["budgetAmount"] }),
            "opportunityFormFields",
        ),
        (json!({ "baseCurrencyCode": "EURO" }), "baseCurrencyCode"),
    ];
    for (input, field) in cases {
        let body = app
            .graphql(UPDATE_SETTINGS, json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input} → {body}");
        assert_eq!(error_field(&body), field, "{input} → {body}");
    }
    let data = app
        .ok(
            "{ qualificationSettings { experience allowMultipleOpportunities
               maxOpportunitiesPerLead summarizeLead baseCurrencyCode } }",
            json!({}),
        )
        .await;
    let settings = &data["qualificationSettings"];
    assert_eq!(settings["experience"], "LEGACY", "nothing was changed");
    assert_eq!(settings["allowMultipleOpportunities"], false);
    assert_eq!(settings["maxOpportunitiesPerLead"], 5);
    assert_eq!(settings["summarizeLead"], false);
    assert_eq!(settings["baseCurrencyCode"], "USD");
}

#[tokio::test]
async fn field_mappings_list_the_documented_tables() {
    let app = spawn_app().await;
    let data = app
        .ok(
            "{ fieldMappings { target sourceField targetField standard } }",
            json!({}),
        )
        .await;
    let rows = data["fieldMappings"].as_array().unwrap();
    let standard = |target: &str| {
        rows.iter()
            .filter(|r| r["target"] == target && r["standard"] == true)
            .count()
    };
    assert!(
        rows.iter().filter(|r| r["standard"] == true).count() >= 26,
        "{rows:#?}"
    );
    assert_eq!(standard("OPPORTUNITY"), 3);
    assert_eq!(standard("ACCOUNT"), 10);
    assert_eq!(standard("CONTACT"), 13);
    for expected in [
        json!({ "target": "ACCOUNT", "sourceField": "Company", "targetField": "Account Name", "standard": true }),
        json!({ "target": "ACCOUNT", "sourceField": "Business Phone", "targetField": "Phone", "standard": true }),
        json!({ "target": "CONTACT", "sourceField": "Email", "targetField": "Email", "standard": true }),
        json!({ "target": "OPPORTUNITY", "sourceField": "Topic", "targetField": "Topic", "standard": true }),
    ] {
        assert!(
            rows.contains(&expected),
            "{expected} missing from {rows:#?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Qualifying with the default settings
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn by_default_qualifying_creates_a_linked_account_contact_and_opportunity() {
    let app = spawn_app().await;
    let lead = app
        .create_lead(
            json!({ "firstName": "Ann", "lastName": "Smith", "companyName": "Contoso",
                             "email": "ann@contoso.com" }),
        )
        .await;
    let lead_id = id(&lead);
    assert!(
        view(&app, "MY_OPEN_LEADS")
            .await
            .contains(&lead_id.to_owned())
    );
    assert!(
        !view(&app, "CLOSED_LEADS")
            .await
            .contains(&lead_id.to_owned())
    );

    let payload = qualified(&app, json!({ "leadId": lead_id })).await;
    assert_eq!(payload["lead"]["state"], "QUALIFIED");
    assert_eq!(payload["lead"]["statusReason"], "QUALIFIED");
    assert_eq!(payload["lead"]["processStage"], "DEVELOP");
    assert!(payload["lead"]["qualifiedAt"].is_string(), "{payload:#}");
    assert_eq!(payload["warnings"], json!([]));
    assert_eq!(payload["account"]["name"], "Contoso");
    assert_eq!(payload["contact"]["fullName"], "Ann Smith");
    let opportunities = payload["opportunities"].as_array().unwrap();
    assert_eq!(opportunities.len(), 1);
    let (account_id, contact_id, opportunity_id) = (
        id(&payload["account"]),
        id(&payload["contact"]),
        id(&opportunities[0]),
    );
    assert_eq!(count(&app).await, (1, 1, 1));

    let lead = lead_result(&app, lead_id).await;
    assert_eq!(lead["state"], "QUALIFIED");
    assert_eq!(lead["statusReason"], "QUALIFIED");
    assert_eq!(lead["processStage"], "DEVELOP");
    assert!(lead["qualifiedAt"].is_string());
    assert_eq!(id(&lead["qualifiedAccount"]), account_id);
    assert_eq!(id(&lead["qualifiedContact"]), contact_id);
    assert_eq!(id(&lead["qualifyingOpportunity"]), opportunity_id);
    assert_eq!(lead["opportunities"].as_array().unwrap().len(), 1);

    let data = app
        .ok(
            "query($a: ID!, $c: ID!) {
               account(id: $a) { primaryContact { id } originatingLead { id } }
               contact(id: $c) { parentAccount { id } originatingLead { id } } }",
            json!({ "a": account_id, "c": contact_id }),
        )
        .await;
    assert_eq!(id(&data["account"]["primaryContact"]), contact_id);
    assert_eq!(id(&data["account"]["originatingLead"]), lead_id);
    assert_eq!(id(&data["contact"]["parentAccount"]), account_id);
    assert_eq!(id(&data["contact"]["originatingLead"]), lead_id);

    let opportunity = opportunity(&app, opportunity_id).await;
    assert_eq!(opportunity["customer"]["__typename"], "Account");
    assert_eq!(id(&opportunity["customer"]), account_id);
    assert_eq!(id(&opportunity["account"]), account_id);
    assert_eq!(id(&opportunity["contact"]), contact_id);
    assert_eq!(id(&opportunity["originatingLead"]), lead_id);
    assert_eq!(opportunity["processStage"], "DEVELOP");
    assert_eq!(opportunity["state"], "OPEN");

    assert!(
        !view(&app, "MY_OPEN_LEADS")
            .await
            .contains(&lead_id.to_owned())
    );
    assert!(
        view(&app, "CLOSED_LEADS")
            .await
            .contains(&lead_id.to_owned())
    );
}

#[tokio::test]
async fn every_mapped_field_of_the_lead_reaches_the_new_records() {
    let app = spawn_app().await;
    let lead = app.create_lead(full_lead()).await;
    let payload = qualified(&app, json!({ "leadId": lead["id"] })).await;
    let address =
        "address { street1 street2 street3 city stateOrProvince postalCode countryOrRegion }";
    let data = app
        .ok(
            &format!(
                "query($a: ID!, $c: ID!) {{
                   account(id: $a) {{ name website phone {address} }}
                   contact(id: $c) {{ firstName lastName jobTitle businessPhone mobilePhone email
                                      {address} }} }}"
            ),
            json!({ "a": payload["account"]["id"], "c": payload["contact"]["id"] }),
        )
        .await;
    let expected_address = json!({ "street1": "1 Main St", "street2": "Floor 2",
        "street3": "Suite 3", "city": "Redmond", "stateOrProvince": "WA", "postalCode": "98052",
        "countryOrRegion": "USA" });

    let account = &data["account"];
    assert_eq!(account["name"], "Contoso");
    assert_eq!(account["website"], "https://contoso.com");
    assert_eq!(account["phone"], "+1 (555) 010-2000");
    assert_eq!(account["address"], expected_address);

    let contact = &data["contact"];
    assert_eq!(contact["firstName"], "Ann");
    assert_eq!(contact["lastName"], "Smith");
    assert_eq!(contact["jobTitle"], "CTO");
    assert_eq!(contact["businessPhone"], "+1 (555) 010-2000");
    assert_eq!(contact["mobilePhone"], "555 0101");
    assert_eq!(contact["email"], "ann@contoso.com");
    assert_eq!(contact["address"], expected_address);

    let opportunity = opportunity(&app, id(&payload["opportunities"][0])).await;
    assert_eq!(opportunity["topic"], "Need 50 laptops");
    assert_eq!(opportunity["budgetAmount"], "125000.50");
    assert_eq!(opportunity["purchaseTimeframe"], "THIS_QUARTER");
    assert_eq!(opportunity["purchaseProcess"], "COMMITTEE");
    assert_eq!(opportunity["decisionMaker"], true);
    assert_eq!(opportunity["description"], "Met at the fair");
    assert_eq!(opportunity["currencyCode"], "USD");
}

#[tokio::test]
async fn the_opportunity_currency_is_the_requested_one_else_the_lead_s_else_the_base_currency() {
    let app = spawn_app().await;
    let currency = |payload: &Value| payload["opportunities"][0]["currencyCode"].clone();

    let lead = app
        .create_lead(json!({ "lastName": "One", "companyName": "One Co", "currencyCode": "GBP" }))
        .await;
    let payload = qualified(&app, json!({ "leadId": lead["id"], "currencyCode": "jpy" })).await;
    assert_eq!(currency(&payload), "JPY", "the request wins");

    let lead = app
        .create_lead(json!({ "lastName": "Two", "companyName": "Two Co", "currencyCode": "GBP" }))
        .await;
    let payload = qualified(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(currency(&payload), "GBP", "then the lead's");

    let lead = app
        .create_lead(json!({ "lastName": "Three", "companyName": "Three Co" }))
        .await;
    let payload = qualified(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(currency(&payload), "USD", "then the base currency");

    update_settings(&app, json!({ "baseCurrencyCode": "EUR" })).await;
    let lead = app
        .create_lead(json!({ "lastName": "Four", "companyName": "Four Co" }))
        .await;
    let payload = qualified(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(currency(&payload), "EUR", "the changed base currency");
    let stored = opportunity(&app, id(&payload["opportunities"][0])).await;
    assert_eq!(stored["currencyCode"], "EUR");
}

// ---------------------------------------------------------------------------------------------
// The company-name rule
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn automatic_account_creation_without_a_company_name_creates_no_account_and_warns() {
    let app = spawn_app().await;
    let lead = app
        .create_lead(json!({ "firstName": "Pat", "lastName": "Lone", "email": "pat@lone.net" }))
        .await;
    let payload = qualified(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(payload["account"], Value::Null);
    let warnings = payload["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(warnings[0]["code"], "NO_COMPANY_NAME");
    assert_eq!(payload["lead"]["state"], "QUALIFIED");
    let contact_id = id(&payload["contact"]);
    assert_eq!(count(&app).await, (0, 1, 1));

    let opportunity = opportunity(&app, id(&payload["opportunities"][0])).await;
    assert_eq!(opportunity["customer"]["__typename"], "Contact");
    assert_eq!(id(&opportunity["customer"]), contact_id);
    assert_eq!(opportunity["account"], Value::Null);
    assert_eq!(id(&opportunity["contact"]), contact_id);

    let lead = lead_result(&app, id(&lead)).await;
    assert_eq!(lead["qualifiedAccount"], Value::Null);
    assert_eq!(id(&lead["qualifiedContact"]), contact_id);
}

#[tokio::test]
async fn a_seller_creating_an_account_without_a_company_name_is_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let create_everything = |lead: &Value| {
        json!({ "leadId": lead["id"], "account": { "action": "CREATE_NEW" },
                "contact": { "action": "CREATE_NEW" }, "opportunity": { "action": "CREATE_NEW" } })
    };

    // Legacy, seller chooses.
    update_settings(&app, json!({ "autoCreateRecords": false })).await;
    let lead = app.create_lead(json!({ "lastName": "Nameless" })).await;
    let body = qualify(&app, create_everything(&lead)).await;
    assert_eq!(error_code(&body), "COMPANY_NAME_REQUIRED", "{body}");
    assert_still_open(&app, id(&lead)).await;
    assert_eq!(count(&app).await, (0, 0, 0));

    // New, account creation left to the seller.
    update_settings(
        &app,
        json!({ "experience": "NEW", "accountCreation": "SELLER", "contactCreation": "AUTOMATIC",
                "opportunityCreation": "AUTOMATIC" }),
    )
    .await;
    let body = qualify(
        &app,
        json!({ "leadId": lead["id"], "account": { "action": "CREATE_NEW" } }),
    )
    .await;
    assert_eq!(error_code(&body), "COMPANY_NAME_REQUIRED", "{body}");
    assert_still_open(&app, id(&lead)).await;
    assert_eq!(count(&app).await, (0, 0, 0));
}

// ---------------------------------------------------------------------------------------------
// Settings combinations
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn legacy_without_automatic_creation_requires_a_choice_for_each_record() {
    let app = spawn_app().await;
    update_settings(&app, json!({ "autoCreateRecords": false })).await;
    let lead = app
        .create_lead(json!({ "lastName": "Chooser", "companyName": "Choice Co" }))
        .await;
    let lead_id = id(&lead);

    let body = qualify(&app, json!({ "leadId": lead_id })).await;
    assert_eq!(error_code(&body), "CHOICE_REQUIRED", "{body}");
    assert_eq!(error_field(&body), "account");
    let body = qualify(
        &app,
        json!({ "leadId": lead_id, "account": { "action": "CREATE_NEW" } }),
    )
    .await;
    assert_eq!(error_code(&body), "CHOICE_REQUIRED", "{body}");
    assert_eq!(error_field(&body), "contact");
    let body = qualify(
        &app,
        json!({ "leadId": lead_id, "account": { "action": "CREATE_NEW" },
                "contact": { "action": "SKIP" } }),
    )
    .await;
    assert_eq!(error_code(&body), "CHOICE_REQUIRED", "{body}");
    assert_eq!(error_field(&body), "opportunity");
    assert_still_open(&app, lead_id).await;
    assert_eq!(count(&app).await, (0, 0, 0));

    let payload = qualified(
        &app,
        json!({ "leadId": lead_id, "account": { "action": "CREATE_NEW" },
                "contact": { "action": "SKIP" }, "opportunity": { "action": "SKIP" } }),
    )
    .await;
    assert_eq!(payload["account"]["name"], "Choice Co");
    assert_eq!(payload["contact"], Value::Null);
    assert_eq!(payload["opportunities"], json!([]));
    assert_eq!(count(&app).await, (1, 0, 0));
    let lead = lead_result(&app, lead_id).await;
    assert_eq!(lead["state"], "QUALIFIED");
    assert_eq!(lead["statusReason"], "QUALIFIED");
    assert_eq!(
        lead["processStage"], "QUALIFY",
        "no opportunity: the stage does not move"
    );
    assert_eq!(id(&lead["qualifiedAccount"]), id(&payload["account"]));
    assert_eq!(lead["qualifiedContact"], Value::Null);
    assert_eq!(lead["qualifyingOpportunity"], Value::Null);
}

#[tokio::test]
async fn the_new_experience_with_every_record_automatic_creates_all_three_without_choices() {
    let app = spawn_app().await;
    update_settings(
        &app,
        json!({ "experience": "NEW", "accountCreation": "AUTOMATIC",
                "contactCreation": "AUTOMATIC", "opportunityCreation": "AUTOMATIC" }),
    )
    .await;
    let lead = app
        .create_lead(json!({ "lastName": "Auto", "companyName": "Auto Co" }))
        .await;
    let payload = qualified(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(payload["account"]["name"], "Auto Co");
    assert_eq!(payload["contact"]["fullName"], "Auto");
    assert_eq!(payload["opportunities"].as_array().unwrap().len(), 1);
    assert_eq!(payload["lead"]["processStage"], "DEVELOP");
    assert_eq!(count(&app).await, (1, 1, 1));
}

#[tokio::test]
async fn the_new_experience_with_every_record_left_to_the_seller_creates_only_the_chosen_ones() {
    let app = spawn_app().await;
    update_settings(
        &app,
        json!({ "experience": "NEW", "accountCreation": "SELLER",
                "contactCreation": "SELLER", "opportunityCreation": "SELLER" }),
    )
    .await;
    let lead = app
        .create_lead(json!({ "lastName": "Picky", "companyName": "Picky Co" }))
        .await;
    let body = qualify(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(error_code(&body), "CHOICE_REQUIRED", "{body}");
    assert_eq!(error_field(&body), "account");
    assert_still_open(&app, id(&lead)).await;

    let payload = qualified(
        &app,
        json!({ "leadId": lead["id"], "account": { "action": "SKIP" },
                "contact": { "action": "CREATE_NEW" }, "opportunity": { "action": "CREATE_NEW" } }),
    )
    .await;
    assert_eq!(payload["account"], Value::Null);
    assert_eq!(payload["warnings"], json!([]));
    let contact_id = id(&payload["contact"]);
    assert_eq!(count(&app).await, (0, 1, 1));
    let opportunity = opportunity(&app, id(&payload["opportunities"][0])).await;
    assert_eq!(opportunity["customer"]["__typename"], "Contact");
    assert_eq!(id(&opportunity["customer"]), contact_id);
    assert_eq!(payload["lead"]["processStage"], "DEVELOP");

    // All three chosen.
    let lead = app
        .create_lead(json!({ "lastName": "Greedy", "companyName": "Greedy Co" }))
        .await;
    let payload = qualified(
        &app,
        json!({ "leadId": lead["id"], "account": { "action": "CREATE_NEW" },
                "contact": { "action": "CREATE_NEW" }, "opportunity": { "action": "CREATE_NEW" } }),
    )
    .await;
    assert_eq!(payload["account"]["name"], "Greedy Co");
    assert_eq!(payload["contact"]["fullName"], "Greedy");
    assert_eq!(payload["opportunities"].as_array().unwrap().len(), 1);
    assert_eq!(count(&app).await, (1, 2, 2));
}

#[tokio::test]
async fn the_new_experience_with_mixed_modes_asks_only_about_the_seller_s_records() {
    let app = spawn_app().await;
    update_settings(
        &app,
        json!({ "experience": "NEW", "accountCreation": "AUTOMATIC",
                "contactCreation": "SELLER", "opportunityCreation": "AUTOMATIC" }),
    )
    .await;
    let lead = app
        .create_lead(json!({ "lastName": "Mixed", "companyName": "Mixed Co" }))
        .await;
    let body = qualify(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(error_code(&body), "CHOICE_REQUIRED", "{body}");
    assert_eq!(error_field(&body), "contact");
    let payload = qualified(
        &app,
        json!({ "leadId": lead["id"], "contact": { "action": "SKIP" } }),
    )
    .await;
    assert_eq!(payload["account"]["name"], "Mixed Co");
    assert_eq!(payload["contact"], Value::Null);
    assert_eq!(payload["opportunities"].as_array().unwrap().len(), 1);
    assert_eq!(count(&app).await, (1, 0, 1));

    // The other way round: account and opportunity left to the seller, contact automatic.
    update_settings(
        &app,
        json!({ "accountCreation": "SELLER", "contactCreation": "AUTOMATIC",
                "opportunityCreation": "SELLER" }),
    )
    .await;
    let lead = app
        .create_lead(json!({ "lastName": "Other", "companyName": "Other Co" }))
        .await;
    let body = qualify(
        &app,
        json!({ "leadId": lead["id"], "account": { "action": "CREATE_NEW" } }),
    )
    .await;
    assert_eq!(error_code(&body), "CHOICE_REQUIRED", "{body}");
    assert_eq!(error_field(&body), "opportunity");
    let payload = qualified(
        &app,
        json!({ "leadId": lead["id"], "account": { "action": "CREATE_NEW" },
                "opportunity": { "action": "SKIP" } }),
    )
    .await;
    assert_eq!(payload["account"]["name"], "Other Co");
    assert_eq!(payload["contact"]["fullName"], "Other");
    assert_eq!(payload["opportunities"], json!([]));
    assert_eq!(payload["lead"]["processStage"], "QUALIFY");
    assert_eq!(count(&app).await, (2, 1, 1));
}

#[tokio::test]
async fn skipping_an_automatic_record_or_reusing_an_opportunity_is_bad_input() {
    let app = spawn_app().await;
    let lead = app
        .create_lead(json!({ "lastName": "Skipper", "companyName": "Skip Co" }))
        .await;
    let lead_id = id(&lead);
    for (input, field) in [
        (
            json!({ "leadId": lead_id, "account": { "action": "SKIP" } }),
            "account.action",
        ),
        (
            json!({ "leadId": lead_id, "contact": { "action": "SKIP" } }),
            "contact.action",
        ),
        (
            json!({ "leadId": lead_id, "opportunity": { "action": "SKIP" } }),
            "opportunity.action",
        ),
        (
            json!({ "leadId": lead_id, "opportunity": { "action": "USE_EXISTING" } }),
            "opportunity.action",
        ),
    ] {
        let body = qualify(&app, input.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input} → {body}");
        assert_eq!(error_field(&body), field, "{input} → {body}");
    }

    // Reusing an opportunity is refused when the seller decides too.
    update_settings(
        &app,
        json!({ "experience": "NEW", "opportunityCreation": "SELLER" }),
    )
    .await;
    let body = qualify(
        &app,
        json!({ "leadId": lead_id, "opportunity": { "action": "USE_EXISTING" } }),
    )
    .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_still_open(&app, lead_id).await;
    assert_eq!(count(&app).await, (0, 0, 0));
}

// ---------------------------------------------------------------------------------------------
// Existing accounts and contacts
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_lead_s_existing_account_and_contact_are_linked_and_left_unchanged() {
    let app = spawn_app().await;
    let other_account = app
        .create_account(json!({ "name": "Old Parent Inc" }))
        .await;
    let account = app.create_account(json!({ "name": "Fabrikam" })).await;
    let contact = app
        .create_contact(json!({ "firstName": "Pat", "lastName": "Lee",
                                "email": "pat@fabrikam.com", "parentAccountId": other_account }))
        .await;
    let lead = app
        .create_lead(json!({ "lastName": null, "existingAccountId": account,
                             "existingContactId": contact }))
        .await;
    assert_eq!(count(&app).await, (2, 1, 0));

    let payload = qualified(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(id(&payload["account"]), account);
    assert_eq!(id(&payload["contact"]), contact);
    assert_eq!(
        count(&app).await,
        (2, 1, 1),
        "no account or contact was created"
    );

    let lead = lead_result(&app, id(&lead)).await;
    assert_eq!(id(&lead["qualifiedAccount"]), account);
    assert_eq!(id(&lead["qualifiedContact"]), contact);
    let opportunity = opportunity(&app, id(&payload["opportunities"][0])).await;
    assert_eq!(id(&opportunity["account"]), account);
    assert_eq!(id(&opportunity["contact"]), contact);
    assert_eq!(id(&opportunity["customer"]), account);

    let data = app
        .ok(
            "query($a: ID!, $c: ID!) {
               account(id: $a) { name primaryContact { id } originatingLead { id } }
               contact(id: $c) { fullName parentAccount { id } originatingLead { id } } }",
            json!({ "a": account, "c": contact }),
        )
        .await;
    assert_eq!(data["account"]["name"], "Fabrikam");
    assert_eq!(
        data["account"]["primaryContact"],
        Value::Null,
        "an existing account is never changed"
    );
    assert_eq!(data["account"]["originatingLead"], Value::Null);
    assert_eq!(data["contact"]["fullName"], "Pat Lee");
    assert_eq!(
        id(&data["contact"]["parentAccount"]),
        other_account,
        "an existing contact is never changed"
    );
    assert_eq!(data["contact"]["originatingLead"], Value::Null);
}

#[tokio::test]
async fn use_existing_with_an_explicit_id_links_that_record_and_an_unknown_id_is_not_found() {
    let app = spawn_app().await;
    let account = app.create_account(json!({ "name": "Northwind" })).await;
    let contact = app
        .create_contact(json!({ "firstName": "Kim", "lastName": "Abercrombie" }))
        .await;
    let lead = app
        .create_lead(json!({ "firstName": "Jo", "lastName": "Brown", "companyName": "Jo's Shop" }))
        .await;
    let lead_id = id(&lead);

    for input in [
        json!({ "leadId": lead_id,
                "account": { "action": "USE_EXISTING", "existingId": uuid::Uuid::now_v7().to_string() } }),
        json!({ "leadId": lead_id,
                "contact": { "action": "USE_EXISTING", "existingId": uuid::Uuid::now_v7().to_string() } }),
    ] {
        let body = qualify(&app, input.clone()).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{input} → {body}");
        assert_still_open(&app, lead_id).await;
        assert_eq!(count(&app).await, (1, 1, 0), "nothing was written");
    }
    let body = qualify(
        &app,
        json!({ "leadId": lead_id, "account": { "action": "USE_EXISTING" } }),
    )
    .await;
    assert_eq!(
        error_code(&body),
        "BAD_USER_INPUT",
        "no id and no existing account: {body}"
    );

    let payload = qualified(
        &app,
        json!({ "leadId": lead_id, "account": { "action": "USE_EXISTING", "existingId": account } }),
    )
    .await;
    assert_eq!(id(&payload["account"]), account);
    assert_eq!(payload["account"]["name"], "Northwind");
    let new_contact = id(&payload["contact"]);
    assert_ne!(new_contact, contact);
    assert_eq!(count(&app).await, (1, 2, 1));
    let data = app
        .ok(
            "query($a: ID!, $c: ID!) { account(id: $a) { primaryContact { id } }
               contact(id: $c) { fullName parentAccount { id } } }",
            json!({ "a": account, "c": new_contact }),
        )
        .await;
    assert_eq!(data["contact"]["fullName"], "Jo Brown");
    assert_eq!(id(&data["contact"]["parentAccount"]), account);
    assert_eq!(data["account"]["primaryContact"], Value::Null);

    // And a contact by explicit id.
    let lead = app
        .create_lead(json!({ "lastName": "Green", "companyName": "Green Grocers" }))
        .await;
    let payload = qualified(
        &app,
        json!({ "leadId": lead["id"], "contact": { "action": "USE_EXISTING", "existingId": contact } }),
    )
    .await;
    assert_eq!(id(&payload["contact"]), contact);
    assert_eq!(payload["account"]["name"], "Green Grocers");
    assert_eq!(count(&app).await, (2, 2, 2));
}

// ---------------------------------------------------------------------------------------------
// Multiple opportunities
// ---------------------------------------------------------------------------------------------

async fn enable_multiple_opportunities(app: &TestApp) {
    let settings = update_settings(
        app,
        json!({ "experience": "NEW", "opportunityCreation": "SELLER",
                "allowMultipleOpportunities": true }),
    )
    .await;
    assert_eq!(settings["allowMultipleOpportunities"], true);
}

#[tokio::test]
async fn with_multiple_opportunities_one_to_five_drafts_are_created_the_first_being_primary() {
    let app = spawn_app().await;
    enable_multiple_opportunities(&app).await;

    let lead = app
        .create_lead(json!({ "lastName": "Single", "companyName": "Single Co",
                             "budgetAmount": "10" }))
        .await;
    let payload = qualified(
        &app,
        json!({ "leadId": lead["id"], "opportunities": [{ "topic": "Just one" }] }),
    )
    .await;
    assert_eq!(payload["opportunities"].as_array().unwrap().len(), 1);
    assert_eq!(payload["opportunities"][0]["topic"], "Just one");
    let result = lead_result(&app, id(&lead)).await;
    assert_eq!(
        id(&result["qualifyingOpportunity"]),
        id(&payload["opportunities"][0])
    );

    let lead = app
        .create_lead(json!({ "lastName": "Multi", "companyName": "Multi Co",
                             "budgetAmount": "1000", "purchaseProcess": "INDIVIDUAL" }))
        .await;
    let drafts: Vec<Value> = (1..=5)
        .map(|i| json!({ "topic": format!("Deal {i}"), "budgetAmount": format!("{i}00") }))
        .collect();
    let payload = qualified(
        &app,
        json!({ "leadId": lead["id"], "opportunities": drafts }),
    )
    .await;
    let created = payload["opportunities"].as_array().unwrap();
    let topics: Vec<&str> = created
        .iter()
        .map(|o| o["topic"].as_str().unwrap())
        .collect();
    assert_eq!(topics, ["Deal 1", "Deal 2", "Deal 3", "Deal 4", "Deal 5"]);
    let result = lead_result(&app, id(&lead)).await;
    assert_eq!(id(&result["qualifyingOpportunity"]), id(&created[0]));
    let mut on_lead: Vec<&str> = result["opportunities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["topic"].as_str().unwrap())
        .collect();
    on_lead.sort_unstable();
    assert_eq!(on_lead, topics);
    assert_eq!(count(&app).await, (2, 2, 6));

    // Each draft's own values win over the lead's; the rest comes from the lead.
    let third = opportunity(&app, id(&created[2])).await;
    assert_eq!(third["budgetAmount"], "300.00");
    assert_eq!(third["purchaseProcess"], "INDIVIDUAL");
    assert_eq!(third["processStage"], "DEVELOP");
    assert_eq!(id(&third["account"]), id(&payload["account"]));
}

#[tokio::test]
async fn six_drafts_or_several_while_not_enabled_are_too_many_and_nothing_is_written() {
    let app = spawn_app().await;
    enable_multiple_opportunities(&app).await;
    let lead = app
        .create_lead(json!({ "lastName": "Many", "companyName": "Many Co" }))
        .await;
    let lead_id = id(&lead);
    let drafts = |n: usize| -> Vec<Value> {
        (1..=n)
            .map(|i| json!({ "topic": format!("Deal {i}") }))
            .collect()
    };
    let body = qualify(
        &app,
        json!({ "leadId": lead_id, "opportunities": drafts(6) }),
    )
    .await;
    assert_eq!(error_code(&body), "TOO_MANY_OPPORTUNITIES", "{body}");
    assert_still_open(&app, lead_id).await;
    assert_eq!(count(&app).await, (0, 0, 0));

    // A lower limit is enforced too.
    update_settings(&app, json!({ "maxOpportunitiesPerLead": 2 })).await;
    let body = qualify(
        &app,
        json!({ "leadId": lead_id, "opportunities": drafts(3) }),
    )
    .await;
    assert_eq!(error_code(&body), "TOO_MANY_OPPORTUNITIES", "{body}");

    update_settings(&app, json!({ "allowMultipleOpportunities": false })).await;
    let body = qualify(
        &app,
        json!({ "leadId": lead_id, "opportunities": drafts(2) }),
    )
    .await;
    assert_eq!(error_code(&body), "TOO_MANY_OPPORTUNITIES", "{body}");
    assert_still_open(&app, lead_id).await;
    assert_eq!(count(&app).await, (0, 0, 0));

    // One draft is still fine.
    let payload = qualified(
        &app,
        json!({ "leadId": lead_id, "opportunities": drafts(1) }),
    )
    .await;
    assert_eq!(payload["opportunities"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_draft_may_only_set_the_fields_on_the_opportunity_form() {
    let app = spawn_app().await;
    update_settings(
        &app,
        json!({ "experience": "NEW", "opportunityCreation": "SELLER",
                "opportunityFormFields": ["topic", "purchaseTimeframe"] }),
    )
    .await;
    let lead = app
        .create_lead(
            json!({ "lastName": "Formal", "companyName": "Form Co", "budgetAmount": "42" }),
        )
        .await;
    let body = qualify(
        &app,
        json!({ "leadId": lead["id"],
                "opportunities": [{ "topic": "Deal", "budgetAmount": "5" }] }),
    )
    .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "opportunities.0.budgetAmount");
    assert_still_open(&app, id(&lead)).await;
    assert_eq!(count(&app).await, (0, 0, 0));

    let payload = qualified(
        &app,
        json!({ "leadId": lead["id"],
                "opportunities": [{ "topic": "Deal", "purchaseTimeframe": "IMMEDIATE" }] }),
    )
    .await;
    let stored = opportunity(&app, id(&payload["opportunities"][0])).await;
    assert_eq!(stored["topic"], "Deal");
    assert_eq!(stored["purchaseTimeframe"], "IMMEDIATE");
    assert_eq!(stored["budgetAmount"], "42.00", "from the lead");
}

// ---------------------------------------------------------------------------------------------
// Notes, stakeholders and the summary
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn notes_and_stakeholders_of_the_lead_carry_over_to_the_opportunity() {
    let app = spawn_app().await;
    let lead = app
        .create_lead(json!({ "firstName": "Ann", "lastName": "Noted", "companyName": "Notes Co" }))
        .await;
    let stakeholder = app
        .create_contact(
            json!({ "firstName": "Sam", "lastName": "Stake", "email": "sam@stake.org" }),
        )
        .await;
    app.ok(
        "mutation($input: AddNoteInput!) { addNote(input: $input) { note { id } } }",
        json!({ "input": { "regardingId": lead["id"], "subject": "Call", "text": "Wants a demo" } }),
    )
    .await;
    app.ok(
        "mutation($input: AddStakeholderInput!) { addStakeholder(input: $input) { stakeholder { id } } }",
        json!({ "input": { "leadId": lead["id"], "contactId": stakeholder, "role": "DECISION_MAKER" } }),
    )
    .await;

    let payload = qualified(&app, json!({ "leadId": lead["id"] })).await;
    let opportunity = opportunity(&app, id(&payload["opportunities"][0])).await;
    let notes = opportunity["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n["subject"] == "Call" && n["text"] == "Wants a demo"),
        "{notes:#?}"
    );
    assert_eq!(
        opportunity["stakeholders"],
        json!([{ "contact": { "id": stakeholder }, "role": "DECISION_MAKER" }])
    );
    // No summary unless the settings ask for one.
    assert!(
        !notes.iter().any(|n| n["subject"] == "Lead summary"),
        "{notes:#?}"
    );
    let lead = lead_result(&app, id(&lead)).await;
    assert!(
        !lead["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["subject"] == "Lead summary")
    );
}

#[tokio::test]
async fn with_summaries_on_a_lead_summary_is_added_to_the_primary_opportunity_and_the_lead() {
    let app = spawn_app().await;
    update_settings(&app, json!({ "experience": "NEW", "summarizeLead": true })).await;
    let lead = app
        .create_lead(json!({ "topic": "Fleet of 30 vans", "firstName": "Lou",
                             "lastName": "Summers", "companyName": "Vanguard Logistics" }))
        .await;
    let payload = qualified(&app, json!({ "leadId": lead["id"] })).await;

    let opportunity = opportunity(&app, id(&payload["opportunities"][0])).await;
    let on_opportunity: Vec<&Value> = opportunity["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["subject"] == "Lead summary" && n["regardingType"] == "OPPORTUNITY")
        .collect();
    assert_eq!(on_opportunity.len(), 1, "{opportunity:#}");
    let text = on_opportunity[0]["text"].as_str().unwrap();
    assert!(text.contains("Fleet of 30 vans"), "{text}");
    assert!(text.contains("Vanguard Logistics"), "{text}");

    let lead = lead_result(&app, id(&lead)).await;
    let on_lead: Vec<&Value> = lead["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["subject"] == "Lead summary")
        .collect();
    assert_eq!(on_lead.len(), 1, "{lead:#}");
    let text = on_lead[0]["text"].as_str().unwrap();
    assert!(text.contains("Fleet of 30 vans"), "{text}");
    assert!(text.contains("Vanguard Logistics"), "{text}");

    // Switched off again: no summary.
    update_settings(&app, json!({ "summarizeLead": false })).await;
    let lead = app
        .create_lead(json!({ "topic": "Quiet deal", "lastName": "Hush", "companyName": "Hush Co" }))
        .await;
    let payload = qualified(&app, json!({ "leadId": lead["id"] })).await;
    let opportunity = self::opportunity(&app, id(&payload["opportunities"][0])).await;
    assert!(
        !opportunity["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["subject"] == "Lead summary"),
        "{opportunity:#}"
    );
    let lead = lead_result(&app, id(&lead)).await;
    assert_eq!(lead["notes"], json!([]));
}

// ---------------------------------------------------------------------------------------------
// Preview
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_preview_shows_the_mapped_records_and_writes_nothing() {
    let app = spawn_app().await;
    let lead = app.create_lead(full_lead()).await;
    let preview = preview(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(preview["outcome"], "QUALIFIED", "{preview:#}");
    assert_eq!(preview["error"], Value::Null);
    assert_eq!(preview["requiredChoices"], json!([]));
    assert_eq!(preview["account"]["action"], "CREATE_NEW");
    assert_eq!(preview["account"]["mode"], "AUTOMATIC");
    assert_eq!(preview["contact"]["action"], "CREATE_NEW");
    let field = |record: &str, name: &str| -> Value {
        preview[record]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == name)
            .unwrap_or_else(|| panic!("no {record} field {name} in {preview:#}"))["value"]
            .clone()
    };
    assert_eq!(field("account", "Account Name"), "Contoso");
    assert_eq!(field("account", "Phone"), "+1 (555) 010-2000");
    assert_eq!(field("account", "Address 1: City"), "Redmond");
    assert_eq!(field("contact", "Last Name"), "Smith");
    assert_eq!(field("contact", "Email"), "ann@contoso.com");
    let opportunities = preview["opportunities"].as_array().unwrap();
    assert_eq!(opportunities.len(), 1);
    assert_eq!(opportunities[0]["topic"], "Need 50 laptops");
    assert_eq!(opportunities[0]["currencyCode"], "USD");
    assert_eq!(opportunities[0]["budgetAmount"], "125000.50");

    assert_still_open(&app, id(&lead)).await;
    assert_eq!(count(&app).await, (0, 0, 0));
    let lead = lead_result(&app, id(&lead)).await;
    assert_eq!(lead["opportunities"], json!([]));
}

#[tokio::test]
async fn a_preview_lists_the_choices_the_seller_still_has_to_make() {
    let app = spawn_app().await;
    update_settings(&app, json!({ "autoCreateRecords": false })).await;
    let lead = app
        .create_lead(json!({ "lastName": "Undecided", "companyName": "Maybe Co" }))
        .await;
    let preview = preview(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(preview["outcome"], Value::Null, "{preview:#}");
    assert_eq!(preview["error"]["code"], "CHOICE_REQUIRED");
    let records: Vec<&str> = preview["requiredChoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["record"].as_str().unwrap())
        .collect();
    assert_eq!(records, ["account", "contact", "opportunity"]);
    assert_eq!(
        preview["requiredChoices"][0]["options"],
        json!(["CREATE_NEW", "USE_EXISTING", "SKIP"])
    );

    // With the choices made, the preview shows exactly them.
    let preview = self::preview(
        &app,
        json!({ "leadId": lead["id"], "account": { "action": "CREATE_NEW" },
                "contact": { "action": "SKIP" }, "opportunity": { "action": "SKIP" } }),
    )
    .await;
    assert_eq!(preview["outcome"], "QUALIFIED", "{preview:#}");
    assert_eq!(preview["account"]["action"], "CREATE_NEW");
    assert_eq!(preview["account"]["mode"], "SELLER");
    assert_eq!(preview["contact"]["action"], "NONE");
    assert_eq!(preview["opportunities"], json!([]));
    assert_still_open(&app, id(&lead)).await;
    assert_eq!(count(&app).await, (0, 0, 0));
}

// ---------------------------------------------------------------------------------------------
// Closed leads and access
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn qualifying_a_lead_twice_fails_the_second_time_with_lead_closed() {
    let app = spawn_app().await;
    let lead = app
        .create_lead(json!({ "lastName": "Twice", "companyName": "Twice Co" }))
        .await;
    qualified(&app, json!({ "leadId": lead["id"] })).await;
    let body = qualify(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(error_code(&body), "LEAD_CLOSED", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("closed"), "{message}");
    assert_eq!(count(&app).await, (1, 1, 1));
    let preview = preview(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(preview["error"]["code"], "LEAD_CLOSED");
}

#[tokio::test]
async fn a_salesperson_may_not_qualify_another_user_s_lead_but_a_sales_manager_may() {
    let app = spawn_app().await;
    let (_, seller) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (_, manager) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let lead = app
        .create_lead(json!({ "lastName": "Guarded", "companyName": "Guarded Co" }))
        .await;

    let body = app
        .graphql_as(
            &seller,
            QUALIFY,
            json!({ "input": { "leadId": lead["id"] } }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_still_open(&app, id(&lead)).await;
    assert_eq!(count(&app).await, (0, 0, 0));

    let body = app
        .graphql_as(
            &manager,
            QUALIFY,
            json!({ "input": { "leadId": lead["id"] } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(body["data"]["qualifyLead"]["lead"]["state"], "QUALIFIED");

    // A salesperson qualifies their own lead.
    let own = app
        .create_lead_as(
            &seller,
            json!({ "lastName": "Own", "companyName": "Own Co" }),
        )
        .await;
    let body = app
        .graphql_as(
            &seller,
            QUALIFY,
            json!({ "input": { "leadId": own["id"] } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(body["data"]["qualifyLead"]["lead"]["state"], "QUALIFIED");
}

// ---------------------------------------------------------------------------------------------
// One transaction, concurrency, idempotency
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_failure_midway_leaves_nothing_written_and_reveals_no_internals() {
    let app = spawn_app().await;
    let statements: &[&str] = match app.db.backend() {
        DbBackend::Postgres => &[
            "CREATE FUNCTION fail_opportunity() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'injected failure'; END $$",
            "CREATE TRIGGER fail_opportunity BEFORE INSERT ON opportunities
             FOR EACH ROW EXECUTE FUNCTION fail_opportunity()",
        ],
        _ => &[
            "CREATE TRIGGER fail_opportunity BEFORE INSERT ON opportunities
                BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        ],
    };
    for statement in statements {
        app.db.write.execute_unprepared(statement).await.unwrap();
    }
    let lead = app
        .create_lead(
            json!({ "firstName": "Fay", "lastName": "Lure", "companyName": "Fail Co",
                             "email": "fay@fail.co" }),
        )
        .await;

    let body = qualify(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(error_code(&body), "INTERNAL_SERVER_ERROR", "{body}");
    let message = body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_lowercase();
    for leak in ["injected", "trigger", "insert", "opportunities", "sql"] {
        assert!(!message.contains(leak), "{leak} in {message}");
    }
    assert_eq!(body["data"], Value::Null);
    assert_still_open(&app, id(&lead)).await;
    assert_eq!(count(&app).await, (0, 0, 0));
    let data = app
        .ok(
            "query($id: ID!) { auditEvents(recordId: $id) { action } }",
            json!({ "id": lead["id"] }),
        )
        .await;
    assert!(
        !data["auditEvents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "QUALIFIED"),
        "{data:#}"
    );
}

/// Qualifies one lead with 20 concurrent calls spread over `apps`; checks that exactly one won.
async fn qualify_concurrently(apps: &[&TestApp]) {
    let app = apps[0];
    let lead = app
        .create_lead(
            json!({ "firstName": "Rae", "lastName": "Race", "companyName": "Race Co",
                             "email": "rae@race.co" }),
        )
        .await;
    let calls = (0..20).map(|i| {
        apps[i % apps.len()].graphql(QUALIFY, json!({ "input": { "leadId": lead["id"] } }))
    });
    let bodies = join_all(calls).await;
    let mut won = 0;
    let mut closed = 0;
    for body in &bodies {
        match body.get("errors") {
            None => {
                assert_eq!(body["data"]["qualifyLead"]["lead"]["state"], "QUALIFIED");
                won += 1;
            }
            Some(_) => {
                assert_eq!(error_code(body), "LEAD_CLOSED", "{body}");
                closed += 1;
            }
        }
    }
    assert_eq!((won, closed), (1, 19), "{bodies:#?}");
    assert_eq!(count(app).await, (1, 1, 1));
    let result = lead_result(app, id(&lead)).await;
    assert_eq!(result["state"], "QUALIFIED");
    assert_eq!(result["opportunities"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn twenty_concurrent_qualifications_of_one_lead_create_one_set_of_records() {
    let app = spawn_app().await;
    qualify_concurrently(&[&app]).await;
}

#[tokio::test]
async fn concurrent_qualifications_through_two_server_instances_create_one_set_of_records() {
    let app = spawn_app().await;
    let second = app.second_instance().await;
    qualify_concurrently(&[&app, &second]).await;
}

#[tokio::test]
async fn repeating_a_qualification_with_its_idempotency_key_replays_the_first_result() {
    let app = spawn_app().await;
    let lead = app
        .create_lead(
            json!({ "firstName": "Ida", "lastName": "Empotent", "companyName": "Idem Co" }),
        )
        .await;
    let input = json!({ "leadId": lead["id"], "idempotencyKey": "qualify-idem-1" });
    let first = qualified(&app, input.clone()).await;
    let second = qualified(&app, input).await;
    assert_eq!(id(&first["account"]), id(&second["account"]));
    assert_eq!(id(&first["contact"]), id(&second["contact"]));
    assert_eq!(first["opportunities"], second["opportunities"]);
    assert_eq!(second["lead"]["state"], "QUALIFIED");
    assert_eq!(count(&app).await, (1, 1, 1));

    let body = qualify(
        &app,
        json!({ "leadId": lead["id"], "idempotencyKey": "qualify-idem-1", "currencyCode": "EUR" }),
    )
    .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert_eq!(count(&app).await, (1, 1, 1));

    // Without the key, a repeat is just a closed lead.
    let body = qualify(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(error_code(&body), "LEAD_CLOSED", "{body}");
}

#[tokio::test]
async fn concurrent_qualifications_of_many_leads_each_get_their_own_records() {
    let app = spawn_app().await;
    const LEADS: usize = 40;
    let mut leads = Vec::with_capacity(LEADS);
    for i in 0..LEADS {
        leads.push(
            app.create_lead(json!({
                "companyName": format!("Parallel {i}"),
                "lastName": format!("Person {i}"),
                "email": format!("parallel{i}@example.com"),
            }))
            .await,
        );
    }
    // Two more leads for one company: whichever goes second finds the first one's account.
    let twins = [
        app.create_lead(json!({ "companyName": "Twin Co", "lastName": "Left" }))
            .await,
        app.create_lead(json!({ "companyName": "twin co", "lastName": "Right" }))
            .await,
    ];
    let calls = leads
        .iter()
        .chain(twins.iter())
        .map(|lead| qualify(&app, json!({ "leadId": lead["id"] })));
    let bodies = join_all(calls).await;
    for (i, body) in bodies[..LEADS].iter().enumerate() {
        let payload = &body["data"]["qualifyLead"];
        assert_eq!(payload["outcome"], "QUALIFIED", "{body:#}");
        assert_eq!(payload["lead"]["id"], leads[i]["id"]);
        assert_eq!(payload["account"]["name"], format!("Parallel {i}"));
        assert_eq!(payload["contact"]["fullName"], format!("Person {i}"));
    }
    let mut twin_outcomes: Vec<&str> = bodies[LEADS..]
        .iter()
        .map(|b| b["data"]["qualifyLead"]["outcome"].as_str().unwrap())
        .collect();
    twin_outcomes.sort_unstable();
    assert_eq!(twin_outcomes, ["DUPLICATES_FOUND", "QUALIFIED"]);
    let n = LEADS as i64 + 1;
    assert_eq!(count(&app).await, (n, n, n));
}
