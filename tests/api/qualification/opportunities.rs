//! Opportunities: several drafts, and what carries over (notes, stakeholders, the summary).

use super::*;

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
