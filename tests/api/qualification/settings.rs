//! The qualification settings and the field mappings.

use super::*;

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
            "{ fieldMappings { target sourceField targetField sourceLabel targetLabel standard
               enabled documented } }",
            json!({}),
        )
        .await;
    let rows = data["fieldMappings"].as_array().unwrap();
    let documented = |target: &str| {
        rows.iter()
            .filter(|r| r["target"] == target && r["documented"] == true)
            .count()
    };
    assert!(
        rows.iter().filter(|r| r["documented"] == true).count() >= 26,
        "{rows:#?}"
    );
    assert!(
        rows.iter()
            .all(|r| r["standard"] == true && r["enabled"] == true),
        "every seeded mapping is standard and enabled: {rows:#?}"
    );
    assert_eq!(documented("OPPORTUNITY"), 3);
    assert_eq!(documented("ACCOUNT"), 10);
    assert_eq!(documented("CONTACT"), 13);
    // sourceField / targetField are API names (api.md); the form labels are kept beside them.
    for expected in [
        json!({ "target": "ACCOUNT", "sourceField": "companyName", "targetField": "name", "sourceLabel": "Company", "targetLabel": "Account Name", "standard": true, "enabled": true, "documented": true }),
        json!({ "target": "ACCOUNT", "sourceField": "businessPhone", "targetField": "phone", "sourceLabel": "Business Phone", "targetLabel": "Phone", "standard": true, "enabled": true, "documented": true }),
        json!({ "target": "CONTACT", "sourceField": "email", "targetField": "email", "sourceLabel": "Email", "targetLabel": "Email", "standard": true, "enabled": true, "documented": true }),
        json!({ "target": "OPPORTUNITY", "sourceField": "topic", "targetField": "topic", "sourceLabel": "Topic", "targetLabel": "Topic", "standard": true, "enabled": true, "documented": true }),
    ] {
        assert!(
            rows.contains(&expected),
            "{expected} missing from {rows:#?}"
        );
    }
}
