//! `previewQualification`: what qualifying would do, writing nothing.

use super::*;

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
