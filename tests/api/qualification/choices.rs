//! The seller's choices under each settings combination, and existing accounts and contacts.

use super::*;

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
