//! What qualifying creates under the default settings, and the company-name rule.

use super::*;

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
