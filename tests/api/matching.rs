//! Duplicate matching that catches real-world duplicates (issue 15): normalization of phones,
//! names, company names, websites and addresses, the phone region, FUZZY with its similarity,
//! inactive records that never hide active matches, the recommended rule set, and match keys
//! recomputed after an upgrade.

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, error_field, spawn_app};

/// The contacts a lead would match on qualification: (last name, rule names, similarities).
async fn contact_matches(app: &TestApp, lead: Value) -> Vec<(String, Vec<String>, Vec<Value>)> {
    let lead = app.create_lead(lead).await;
    let data = app
        .ok(
            "query($i: QualifyLeadInput!) { previewQualification(input: $i) { duplicates {
                contacts { contact { lastName } rules { ruleName fields similarity } } } } }",
            json!({ "i": { "leadId": lead["id"] } }),
        )
        .await;
    let mut found: Vec<_> = data["previewQualification"]["duplicates"]["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let rules = m["rules"].as_array().unwrap();
            (
                m["contact"]["lastName"].as_str().unwrap().to_owned(),
                rules
                    .iter()
                    .map(|r| r["ruleName"].as_str().unwrap().to_owned())
                    .collect(),
                rules.iter().map(|r| r["similarity"].clone()).collect(),
            )
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// The names of the accounts a lead would match on qualification.
async fn account_matches(app: &TestApp, lead: Value) -> Vec<String> {
    let lead = app.create_lead(lead).await;
    let data = app
        .ok(
            "query($i: QualifyLeadInput!) { previewQualification(input: $i) { duplicates {
                accounts { account { name } } } } }",
            json!({ "i": { "leadId": lead["id"] } }),
        )
        .await;
    data["previewQualification"]["duplicates"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["account"]["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Unpublishes every rule, so a test sees only its own.
async fn unpublish_all(app: &TestApp) {
    let data = app
        .ok("{ duplicateRules { id published } }", json!({}))
        .await;
    for rule in data["duplicateRules"].as_array().unwrap() {
        if rule["published"] == true {
            app.ok(
                "mutation($i: DuplicateRuleIdInput!) { unpublishDuplicateRule(input: $i) { rule { id } } }",
                json!({ "i": { "id": rule["id"] } }),
            )
            .await;
        }
    }
}

/// Creates a rule and publishes it; the raw answer of the creation.
async fn try_rule(app: &TestApp, rule: Value) -> Value {
    app.graphql(
        "mutation($i: CreateDuplicateRuleInput!) { createDuplicateRule(input: $i) {
            rule { id conditions { operator similarity } } } }",
        json!({ "i": { "rule": rule } }),
    )
    .await
}

async fn publish_rule(app: &TestApp, rule: Value) {
    let body = try_rule(app, rule).await;
    let id = body["data"]["createDuplicateRule"]["rule"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body:#}"))
        .to_owned();
    app.ok(
        "mutation($i: DuplicateRuleIdInput!) { publishDuplicateRule(input: $i) { rule { id } } }",
        json!({ "i": { "id": id } }),
    )
    .await;
}

#[tokio::test]
async fn phones_in_any_format_match_in_e164() {
    let app = spawn_app().await;
    app.create_contact(json!({ "lastName": "Phone", "businessPhone": "+1 425 555 0100" }))
        .await;
    let found = contact_matches(
        &app,
        json!({ "lastName": "Other", "businessPhone": "(425) 555-0100" }),
    )
    .await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, ["Contacts with the same phone number"]);
    assert_eq!(found[0].2, [Value::Null], "no FUZZY, no similarity");
}

#[tokio::test]
async fn names_match_across_case_and_accents_and_fuzzy_rules_across_nicknames() {
    let app = spawn_app().await;
    app.create_contact(json!({ "firstName": "Robert", "lastName": "Müller" }))
        .await;
    let found = contact_matches(&app, json!({ "firstName": "ROBERT", "lastName": "muller" })).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, ["Contacts with the same first and last name"]);
    // The default (exact) rule does not take a nickname for the name: "Liam" and "William"
    // are two people to it, as they were before normalization.
    app.create_contact(json!({ "firstName": "William", "lastName": "Brandt" }))
        .await;
    assert!(
        contact_matches(&app, json!({ "firstName": "Liam", "lastName": "Brandt" }))
            .await
            .is_empty()
    );
    assert!(
        contact_matches(
            &app,
            json!({ "firstName": "Roberta", "lastName": "Muller" })
        )
        .await
        .is_empty()
    );
    // A FUZZY rule on first names does: Bob is Robert, with similarity 1.0.
    publish_rule(
        &app,
        json!({ "name": "Similar names", "baseRecordType": "CONTACT", "matchingRecordType": "CONTACT",
                "conditions": [
                    { "baseField": "firstName", "matchingField": "firstName", "operator": "FUZZY" },
                    { "baseField": "lastName", "matchingField": "lastName" }] }),
    )
    .await;
    let found = contact_matches(&app, json!({ "firstName": "BOB", "lastName": "muller" })).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, ["Similar names"]);
    assert_eq!(found[0].2, [json!(1.0)]);
}

#[tokio::test]
async fn company_names_match_without_legal_forms_and_with_and_for_ampersand() {
    let app = spawn_app().await;
    app.create_account(json!({ "name": "Contoso, Ltd." })).await;
    app.create_account(json!({ "name": "Smith & Sons" })).await;
    assert_eq!(
        account_matches(&app, json!({ "companyName": "Contoso Limited" })).await,
        ["Contoso, Ltd."]
    );
    assert_eq!(
        account_matches(&app, json!({ "companyName": "CONTOSO" })).await,
        ["Contoso, Ltd."]
    );
    assert_eq!(
        account_matches(&app, json!({ "companyName": "Smith and Sons Inc." })).await,
        ["Smith & Sons"]
    );
    assert!(
        account_matches(&app, json!({ "companyName": "Contoso Pharma" }))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn websites_match_by_registrable_domain() {
    let app = spawn_app().await;
    unpublish_all(&app).await;
    publish_rule(
        &app,
        json!({ "name": "Same website", "baseRecordType": "ACCOUNT", "matchingRecordType": "ACCOUNT",
                "conditions": [{ "baseField": "website", "matchingField": "website" }] }),
    )
    .await;
    app.create_account(json!({ "name": "Contoso UK", "website": "https://shop.contoso.co.uk/" }))
        .await;
    assert_eq!(
        account_matches(
            &app,
            json!({ "companyName": "Another", "website": "contoso.co.uk" })
        )
        .await,
        ["Contoso UK"]
    );
    assert!(
        account_matches(
            &app,
            json!({ "companyName": "Third", "website": "fabrikam.co.uk" })
        )
        .await
        .is_empty()
    );
}

#[tokio::test]
async fn the_phone_region_reads_national_numbers_and_its_change_recomputes_keys() {
    let app = spawn_app().await;
    // Stored while the region is US: a British national number is not read as +44.
    app.create_contact(json!({ "lastName": "London", "businessPhone": "020 7946 0018" }))
        .await;
    assert!(
        contact_matches(
            &app,
            json!({ "lastName": "X", "businessPhone": "+44 20 7946 0018" })
        )
        .await
        .is_empty()
    );
    let data = app
        .ok(
            "mutation { updateQualificationSettings(input: { phoneRegion: \"gb\" }) {
                settings { phoneRegion } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["updateQualificationSettings"]["settings"]["phoneRegion"],
        "GB"
    );
    // The stored key was recomputed in the new region.
    let found = contact_matches(
        &app,
        json!({ "lastName": "Y", "businessPhone": "+44 20 7946 0018" }),
    )
    .await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "London");

    for bad in ["XX", "USA", ""] {
        let body = app
            .graphql(
                "mutation($r: String) { updateQualificationSettings(input: { phoneRegion: $r }) {
                    settings { phoneRegion } } }",
                json!({ "r": bad }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
        assert_eq!(error_field(&body), "phoneRegion");
    }
}

#[tokio::test]
async fn address_fields_are_matchable_with_street_abbreviations_and_zip_plus_four() {
    let app = spawn_app().await;
    unpublish_all(&app).await;
    publish_rule(
        &app,
        json!({ "name": "Same address", "baseRecordType": "CONTACT", "matchingRecordType": "CONTACT",
                "conditions": [{ "baseField": "street1", "matchingField": "street1" },
                               { "baseField": "postalCode", "matchingField": "postalCode" },
                               { "baseField": "city", "matchingField": "city" },
                               { "baseField": "countryOrRegion", "matchingField": "countryOrRegion" }] }),
    )
    .await;
    app.create_contact(json!({ "lastName": "Home", "address": {
        "street1": "123 Main Street", "city": "Redmond", "postalCode": "98052-6399",
        "countryOrRegion": "United States" } }))
        .await;
    let found = contact_matches(
        &app,
        json!({ "lastName": "Other", "address": { "street1": "123 MAIN ST.", "city": "redmond",
                "postalCode": "98052", "countryOrRegion": "USA" } }),
    )
    .await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        contact_matches(
            &app,
            json!({ "lastName": "Far", "address": { "street1": "125 Main St", "city": "Redmond",
                    "postalCode": "98052", "countryOrRegion": "USA" } }),
        )
        .await
        .is_empty()
    );
}

#[tokio::test]
async fn fuzzy_finds_typos_and_reports_the_similarity() {
    let app = spawn_app().await;
    unpublish_all(&app).await;
    let body = try_rule(
        &app,
        json!({ "name": "Similar names", "baseRecordType": "CONTACT", "matchingRecordType": "CONTACT",
                "conditions": [{ "baseField": "firstName", "matchingField": "firstName", "operator": "FUZZY" },
                               { "baseField": "lastName", "matchingField": "lastName", "operator": "FUZZY", "similarity": 0.9 }] }),
    )
    .await;
    let conditions = &body["data"]["createDuplicateRule"]["rule"]["conditions"];
    assert_eq!(
        conditions,
        &json!([{ "operator": "FUZZY", "similarity": 0.85 }, { "operator": "FUZZY", "similarity": 0.9 }]),
        "{body:#}"
    );
    let id = body["data"]["createDuplicateRule"]["rule"]["id"].clone();
    app.ok(
        "mutation($i: DuplicateRuleIdInput!) { publishDuplicateRule(input: $i) { rule { id } } }",
        json!({ "i": { "id": id } }),
    )
    .await;
    app.create_contact(json!({ "firstName": "Jonathan", "lastName": "Smithson" }))
        .await;
    let found = contact_matches(
        &app,
        json!({ "firstName": "Jonahtan", "lastName": "Smithsen" }),
    )
    .await;
    assert_eq!(found.len(), 1, "{found:?}");
    let similarity = found[0].2[0].as_f64().unwrap();
    assert!(similarity > 0.85 && similarity < 1.0, "{similarity}");
    assert!(
        contact_matches(&app, json!({ "firstName": "Mary", "lastName": "Smithson" }))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn fuzzy_conditions_are_checked_as_bad_user_input() {
    let app = spawn_app().await;
    let rule = |condition: Value| {
        json!({ "name": "Bad", "baseRecordType": "CONTACT", "matchingRecordType": "CONTACT",
                "conditions": [condition] })
    };
    for (condition, field) in [
        (
            json!({ "baseField": "lastName", "matchingField": "lastName", "operator": "FUZZY", "similarity": 1.5 }),
            "conditions.0.similarity",
        ),
        (
            json!({ "baseField": "lastName", "matchingField": "lastName", "operator": "FUZZY", "similarity": -0.1 }),
            "conditions.0.similarity",
        ),
        (
            json!({ "baseField": "email", "matchingField": "email", "operator": "FUZZY" }),
            "conditions.0.operator",
        ),
        (
            json!({ "baseField": "lastName", "matchingField": "lastName", "similarity": 0.9 }),
            "conditions.0.similarity",
        ),
        (
            json!({ "baseField": "lastName", "matchingField": "lastName", "operator": "FUZZY", "characterCount": 3 }),
            "conditions.0.characterCount",
        ),
    ] {
        let body = try_rule(&app, rule(condition.clone())).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{condition} {body:#}");
        assert_eq!(error_field(&body), field, "{condition}");
    }
}

#[tokio::test]
async fn inactive_records_never_hide_active_matches_whatever_their_number() {
    let app = spawn_app().await;
    // More closed leads sharing the e-mail than one capped index read returns, created first.
    for _ in 0..210 {
        let lead = app.create_lead(json!({ "email": "shared@x.com" })).await;
        app.ok(
            "mutation($i: DisqualifyLeadInput!) { disqualifyLead(input: $i) { lead { state } } }",
            json!({ "i": { "leadId": lead["id"] } }),
        )
        .await;
    }
    let open = app
        .create_lead(json!({ "email": "shared@x.com", "lastName": "Open" }))
        .await;
    let lead = app
        .create_lead(json!({ "email": "SHARED@x.com", "lastName": "New" }))
        .await;
    let data = app
        .ok(
            "query($id: ID!) { lead(id: $id) { matchingLeads { lead { id } } } }",
            json!({ "id": lead["id"] }),
        )
        .await;
    let ids: Vec<&Value> = data["lead"]["matchingLeads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["lead"]["id"])
        .collect();
    assert_eq!(ids, [&open["id"]], "{data:#}");
}

#[tokio::test]
async fn the_recommended_rules_ship_unpublished_and_publish_with_one_call() {
    let app = spawn_app().await;
    let data = app
        .ok(
            "{ duplicateRules { id name published baseRecordType } }",
            json!({}),
        )
        .await;
    let recommended: Vec<&Value> = data["duplicateRules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"].as_str().unwrap().starts_with("Recommended: "))
        .collect();
    assert!(recommended.len() >= 10, "{data:#}");
    assert!(recommended.iter().all(|r| r["published"] == false));
    let ids: Vec<&Value> = recommended.iter().map(|r| &r["id"]).collect();

    // Beside the defaults, the set exceeds five rules per base type: nothing changes.
    let publish = "mutation($i: PublishDuplicateRulesInput!) { publishDuplicateRules(input: $i) {
        rules { name published } } }";
    let body = app.graphql(publish, json!({ "i": { "ids": ids } })).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body:#}");
    let still = app
        .ok("{ duplicateRules { name published } }", json!({}))
        .await;
    assert_eq!(
        still,
        json!({ "duplicateRules": data["duplicateRules"].as_array().unwrap().iter()
        .map(|r| json!({ "name": r["name"], "published": r["published"] })).collect::<Vec<_>>() })
    );

    // In place of the defaults: one call.
    let data = app
        .ok(
            publish,
            json!({ "i": { "ids": ids, "unpublishOthers": true } }),
        )
        .await;
    let rules = data["publishDuplicateRules"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), ids.len());
    assert!(rules.iter().all(|r| r["published"] == true));
    let after = app
        .ok("{ duplicateRules { name published } }", json!({}))
        .await;
    for rule in after["duplicateRules"].as_array().unwrap() {
        let recommended = rule["name"].as_str().unwrap().starts_with("Recommended: ");
        assert_eq!(rule["published"], recommended, "{rule}");
    }

    // The recommended contact rules catch a typo at the same postal code.
    app.create_contact(json!({ "firstName": "Katherine", "lastName": "Johnson",
                               "address": { "postalCode": "98052" } }))
        .await;
    let found = contact_matches(
        &app,
        json!({ "firstName": "Kathrine", "lastName": "Jonhson", "address": { "postalCode": "98052-1234" } }),
    )
    .await;
    assert_eq!(found.len(), 1, "{found:?}");

    let body = app
        .graphql(publish, json!({ "i": { "ids": ["not-a-uuid"] } }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_field(&body), "ids.0");
}

#[tokio::test]
async fn match_keys_written_by_an_older_normalization_are_recomputed_once() {
    let app = spawn_app().await;
    app.create_contact(json!({ "lastName": "Phone", "businessPhone": "+1 425 555 0100" }))
        .await;
    // As an upgraded database has them: keys of the old normalization (digits only).
    app.db
        .write
        .execute_unprepared(
            "UPDATE match_keys SET key = '14255550100', key_folded = '14255550100',
                key_reversed = '00105552441' WHERE field = 'businessPhone';
             DELETE FROM match_blocks;
             UPDATE config_versions SET version = 1 WHERE name = 'match_keys'",
        )
        .await
        .unwrap();
    assert!(
        contact_matches(
            &app,
            json!({ "lastName": "A", "businessPhone": "(425) 555-0100" })
        )
        .await
        .is_empty()
    );
    assert!(
        leadq::service::duplicates::refresh_match_keys(&app.db)
            .await
            .unwrap()
    );
    assert!(
        !leadq::service::duplicates::refresh_match_keys(&app.db)
            .await
            .unwrap()
    );
    let found = contact_matches(
        &app,
        json!({ "lastName": "B", "businessPhone": "(425) 555-0100" }),
    )
    .await;
    assert_eq!(found.len(), 1, "{found:?}");
}

#[tokio::test]
async fn records_stored_before_a_fuzzy_rule_is_published_are_found_by_it_and_blocks_go_with_it() {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = spawn_app().await;
    unpublish_all(&app).await;
    let blocks = || async {
        entity::match_block::Entity::find()
            .count(&app.db.read)
            .await
            .unwrap()
    };
    // No published FUZZY rule: no blocking keys are written.
    app.create_contact(json!({ "firstName": "Jonathan", "lastName": "Smithson" }))
        .await;
    assert_eq!(blocks().await, 0);
    let body = try_rule(
        &app,
        json!({ "name": "Similar last names", "baseRecordType": "CONTACT", "matchingRecordType": "CONTACT",
                "conditions": [{ "baseField": "lastName", "matchingField": "lastName", "operator": "FUZZY" }] }),
    )
    .await;
    let id = body["data"]["createDuplicateRule"]["rule"]["id"].clone();
    let publish =
        "mutation($i: DuplicateRuleIdInput!) { publishDuplicateRule(input: $i) { rule { id } } }";
    app.ok(publish, json!({ "i": { "id": id } })).await;
    assert!(
        blocks().await > 0,
        "publishing wrote the blocking keys of stored contacts"
    );
    let found = contact_matches(&app, json!({ "lastName": "Smithsen" })).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let unpublish =
        "mutation($i: DuplicateRuleIdInput!) { unpublishDuplicateRule(input: $i) { rule { id } } }";
    app.ok(unpublish, json!({ "i": { "id": id } })).await;
    assert_eq!(
        blocks().await,
        0,
        "no published FUZZY rule reads them any more"
    );
}

#[tokio::test]
async fn a_rule_with_an_exact_condition_is_looked_up_through_it_and_needs_no_blocking_keys() {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = spawn_app().await;
    unpublish_all(&app).await;
    publish_rule(
        &app,
        json!({ "name": "Similar last name at the same postal code", "baseRecordType": "CONTACT",
                "matchingRecordType": "CONTACT",
                "conditions": [{ "baseField": "lastName", "matchingField": "lastName", "operator": "FUZZY" },
                               { "baseField": "postalCode", "matchingField": "postalCode", "operator": "EXACT" }] }),
    )
    .await;
    // More contacts at one postal code than a capped index read returns, the one to find
    // created last: the postal code is a broad key, and the rule still finds it.
    let many: Vec<Value> = (0..210)
        .map(|i| {
            json!({ "firstName": "Someone", "lastName": format!("Q{i:03}xyzzy"),
                    "address": { "postalCode": "98052" } })
        })
        .collect();
    for contact in many {
        app.create_contact(contact).await;
    }
    app.create_contact(
        json!({ "lastName": "Wolfeschlegel", "address": { "postalCode": "98052" } }),
    )
    .await;
    app.create_contact(json!({ "lastName": "Kowalczyk", "address": { "postalCode": "10115" } }))
        .await;
    let blocks = entity::match_block::Entity::find()
        .count(&app.db.read)
        .await
        .unwrap();
    assert_eq!(
        blocks, 0,
        "the exact condition drives the lookup: no blocking keys"
    );

    // Two typos in the first letters (no blocking key in common): found all the same, because
    // the similarity is computed on every contact at the postal code.
    let found = contact_matches(
        &app,
        json!({ "lastName": "Wlofeshclegel", "address": { "postalCode": "98052" } }),
    )
    .await;
    let names: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(names, ["Wolfeschlegel"], "{found:?}");
    // A narrow postal code, a typo: found; another postal code: not.
    let found = contact_matches(
        &app,
        json!({ "lastName": "Kowalzcyk", "address": { "postalCode": "10115" } }),
    )
    .await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        contact_matches(
            &app,
            json!({ "lastName": "Kowalzcyk", "address": { "postalCode": "10117" } }),
        )
        .await
        .is_empty()
    );
}
