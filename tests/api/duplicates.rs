use entity::{DuplicateRecordType, RecordState, account};
use leadq::service::duplicates::Range;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, EntityTrait, Set, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, spawn_app};

const QUALIFY: &str = "mutation($input: QualifyLeadInput!) { qualifyLead(input: $input) {
    outcome lead { state qualifiedAccount { id } qualifiedContact { id } }
    account { id name phone } contact { id email }
    duplicates { accounts { account { id name } rules { ruleName fields } }
                 contacts { contact { id email } rules { ruleName fields } } } } }";

async fn qualify(app: &TestApp, input: Value) -> Value {
    app.ok(QUALIFY, json!({ "input": input })).await["qualifyLead"].clone()
}

async fn counts(app: &TestApp) -> (i64, i64) {
    let d = app
        .ok(
            "{ accounts { totalCount } contacts { totalCount } }",
            json!({}),
        )
        .await;
    (
        d["accounts"]["totalCount"].as_i64().unwrap(),
        d["contacts"]["totalCount"].as_i64().unwrap(),
    )
}

/// Unpublishes every default rule, so a test sees only its own.
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

/// Creates and publishes a rule; returns its id.
async fn publish_rule(app: &TestApp, rule: Value) -> String {
    let data = app
        .ok(
            "mutation($i: CreateDuplicateRuleInput!) { createDuplicateRule(input: $i) { rule { id published } } }",
            json!({ "i": { "rule": rule } }),
        )
        .await;
    let id = data["createDuplicateRule"]["rule"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(data["createDuplicateRule"]["rule"]["published"], false);
    app.ok(
        "mutation($i: DuplicateRuleIdInput!) { publishDuplicateRule(input: $i) { rule { published } } }",
        json!({ "i": { "id": id } }),
    )
    .await;
    id
}

/// The names of existing accounts a new lead with `company` would match on qualification.
async fn account_matches_for(app: &TestApp, lead: Value) -> Vec<String> {
    let lead = app.create_lead(lead).await;
    let data = app
        .ok(
            "query($i: QualifyLeadInput!) { previewQualification(input: $i) { duplicates { accounts { account { name } } } } }",
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

#[tokio::test]
async fn the_default_rules_are_present_and_published() {
    let app = spawn_app().await;
    let data = app
        .ok("{ duplicateRules { name baseRecordType matchingRecordType published conditions { baseField matchingField operator ignoreBlankValues } } }", json!({}))
        .await;
    let names: Vec<&str> = data["duplicateRules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    for expected in [
        "Accounts with the same account name",
        "Accounts with the same e-mail address",
        "Contacts with the same e-mail address",
        "Contacts with the same first and last name",
        "Contacts with the same phone number",
        "Leads with the same e-mail address",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    // The defaults are published; the recommended set ships unpublished.
    for rule in data["duplicateRules"].as_array().unwrap() {
        let recommended = rule["name"].as_str().unwrap().starts_with("Recommended: ");
        assert_eq!(rule["published"], !recommended, "{rule}");
    }
}

#[tokio::test]
async fn every_default_rule_matches_what_it_says() {
    let app = spawn_app().await;
    app.create_account(json!({ "name": "Contoso Ltd", "email": "info@contoso.com" }))
        .await;
    app.create_contact(json!({ "firstName": "Ann", "lastName": "Smith", "email": "ann@contoso.com", "businessPhone": "+1 (555) 010-2000" })).await;

    // Same account name (case and spacing folded).
    assert_eq!(
        account_matches_for(&app, json!({ "companyName": "  contoso   LTD " })).await,
        ["Contoso Ltd"]
    );
    assert!(
        account_matches_for(&app, json!({ "companyName": "Fabrikam" }))
            .await
            .is_empty()
    );

    // Contacts: e-mail, first+last name, phone digits.
    for (lead, rule) in [
        (
            json!({ "companyName": "X1", "email": "ANN@CONTOSO.COM ", "firstName": "Zed", "lastName": "Q" }),
            "Contacts with the same e-mail address",
        ),
        (
            json!({ "companyName": "X2", "firstName": "ann", "lastName": "SMITH" }),
            "Contacts with the same first and last name",
        ),
        (
            json!({ "companyName": "X3", "firstName": "Bo", "lastName": "Q", "businessPhone": "15550102000" }),
            "Contacts with the same phone number",
        ),
    ] {
        let lead = app.create_lead(lead).await;
        let result = qualify(&app, json!({ "leadId": lead["id"] })).await;
        assert_eq!(result["outcome"], "DUPLICATES_FOUND", "{result}");
        let rules: Vec<&str> = result["duplicates"]["contacts"][0]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["ruleName"].as_str().unwrap())
            .collect();
        assert!(rules.contains(&rule), "{rule} not in {rules:?}");
    }

    // Account e-mail: an account rule compares the account to be created, which takes no
    // e-mail from a lead; check it through the rule's definition instead.
    let data = app
        .ok(
            "{ duplicateRules { name conditions { baseField matchingField } } }",
            json!({}),
        )
        .await;
    let rule = data["duplicateRules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Accounts with the same e-mail address")
        .unwrap();
    assert_eq!(
        rule["conditions"],
        json!([{ "baseField": "email", "matchingField": "email" }])
    );

    // Leads with the same e-mail: reported by createLead, never blocking, never the lead itself.
    let first = app.create_lead(json!({ "email": "dup@x.com" })).await;
    let data = app
        .ok(
            "mutation($i: CreateLeadInput!) { createLead(input: $i) { lead { id } possibleDuplicates { id } } }",
            json!({ "i": { "topic": "t", "lastName": "L", "email": " DUP@X.com" } }),
        )
        .await;
    assert_eq!(
        data["createLead"]["possibleDuplicates"],
        json!([{ "id": first["id"] }])
    );
    let second = data["createLead"]["lead"]["id"].clone();
    let data = app
        .ok("query($id: ID!) { lead(id: $id) { matchingLeads { lead { id } rules { ruleName fields } } } }", json!({ "id": first["id"] }))
        .await;
    assert_eq!(data["lead"]["matchingLeads"][0]["lead"]["id"], second);
    assert_eq!(
        data["lead"]["matchingLeads"].as_array().unwrap().len(),
        1,
        "no self-match"
    );
}

#[tokio::test]
async fn normalization_matches_formatting_variants() {
    let app = spawn_app().await;
    unpublish_all(&app).await;
    publish_rule(
        &app,
        json!({ "name": "Same website", "baseRecordType": "LEAD", "matchingRecordType": "ACCOUNT",
        "conditions": [{ "baseField": "website", "matchingField": "website" }] }),
    )
    .await;
    publish_rule(
        &app,
        json!({ "name": "Same phone", "baseRecordType": "LEAD", "matchingRecordType": "CONTACT",
        "conditions": [{ "baseField": "businessPhone", "matchingField": "businessPhone" }] }),
    )
    .await;
    publish_rule(
        &app,
        json!({ "name": "Same email", "baseRecordType": "LEAD", "matchingRecordType": "CONTACT",
        "conditions": [{ "baseField": "email", "matchingField": "email" }] }),
    )
    .await;
    app.create_account(json!({ "name": "Contoso", "website": "contoso.com" }))
        .await;
    app.create_contact(json!({ "lastName": "Phone", "businessPhone": "15550102000" }))
        .await;
    app.create_contact(json!({ "lastName": "Mail", "email": "john@x.com" }))
        .await;
    let lead = app
        .create_lead(json!({ "website": "https://www.contoso.com/", "businessPhone": "+1 (555) 010-2000", "email": "JOHN@X.COM " }))
        .await;
    let data = app
        .ok(
            "query($id: ID!) { lead(id: $id) { matchingAccounts { account { name } rules { ruleName fields } }
                                               matchingContacts { contact { lastName } rules { ruleName } } } }",
            json!({ "id": lead["id"] }),
        )
        .await;
    assert_eq!(
        data["lead"]["matchingAccounts"],
        json!([{ "account": { "name": "Contoso" }, "rules": [{ "ruleName": "Same website", "fields": ["website"] }] }])
    );
    let mut contacts: Vec<&str> = data["lead"]["matchingContacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["contact"]["lastName"].as_str().unwrap())
        .collect();
    contacts.sort();
    assert_eq!(contacts, ["Mail", "Phone"]);
}

#[tokio::test]
async fn each_operator_and_case_sensitivity_decide_matches() {
    let app = spawn_app().await;
    unpublish_all(&app).await;
    app.create_account(json!({ "name": "Northwind Traders" }))
        .await;
    let rule = |op: &str, n: Option<i32>, case: bool| {
        json!({ "name": format!("{op} {n:?} {case}"), "baseRecordType": "ACCOUNT", "matchingRecordType": "ACCOUNT", "caseSensitive": case,
                "conditions": [{ "baseField": "name", "matchingField": "name", "operator": op, "characterCount": n }] })
    };
    let cases = [
        (rule("EXACT", None, false), "northwind traders", true),
        (rule("EXACT", None, false), "Northwind", false),
        (rule("EXACT", None, true), "northwind traders", false),
        (rule("EXACT", None, true), "Northwind Traders", true),
        (
            rule("SAME_FIRST_CHARACTERS", Some(9), false),
            "NORTHWIND Outlet",
            true,
        ),
        (
            // Punctuation folds to a space ("Northwind_Outlet" = "northwind outlet"), so the
            // tenth character differs only without a separator.
            rule("SAME_FIRST_CHARACTERS", Some(10), false),
            "NorthwindOutlet",
            false,
        ),
        (
            rule("SAME_FIRST_CHARACTERS", Some(9), true),
            "NORTHWIND Outlet",
            false,
        ),
        (
            rule("SAME_LAST_CHARACTERS", Some(7), false),
            "Acme TRADERS",
            true,
        ),
        (
            rule("SAME_LAST_CHARACTERS", Some(8), false),
            "AcmeTraders",
            false,
        ),
    ];
    for (i, (rule, company, expected)) in cases.into_iter().enumerate() {
        let id = publish_rule(&app, rule.clone()).await;
        let matched = !account_matches_for(
            &app,
            json!({ "companyName": company, "topic": format!("case {i}") }),
        )
        .await
        .is_empty();
        assert_eq!(matched, expected, "{rule} with {company:?}");
        app.ok(
            "mutation($i: DuplicateRuleIdInput!) { deleteDuplicateRule(input: $i) { deletedId } }",
            json!({ "i": { "id": id } }),
        )
        .await;
    }
}

#[tokio::test]
async fn blanks_are_ignored_unless_a_multi_condition_rule_says_otherwise() {
    let app = spawn_app().await;
    unpublish_all(&app).await;
    app.create_contact(json!({ "lastName": "Smith" })).await; // no first name, no e-mail
    let lead_contact_matches = |lead: Value| {
        let app = &app;
        async move {
            let lead = app.create_lead(lead).await;
            let data = app
                .ok("query($i: QualifyLeadInput!) { previewQualification(input: $i) { duplicates { contacts { contact { lastName } } } } }",
                    json!({ "i": { "leadId": lead["id"] } }))
                .await;
            data["previewQualification"]["duplicates"]["contacts"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    // Single condition on a blank value: never a match, even with ignoreBlankValues false.
    let single = publish_rule(&app, json!({ "name": "email", "baseRecordType": "CONTACT", "matchingRecordType": "CONTACT",
        "conditions": [{ "baseField": "email", "matchingField": "email", "ignoreBlankValues": false }] })).await;
    let data = app
        .ok(
            "{ duplicateRules { id conditions { ignoreBlankValues } } }",
            json!({}),
        )
        .await;
    let stored = data["duplicateRules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == single.as_str())
        .unwrap();
    assert_eq!(
        stored["conditions"][0]["ignoreBlankValues"], true,
        "forced for a single condition"
    );
    assert_eq!(
        lead_contact_matches(json!({ "lastName": "Other" })).await,
        0
    );

    // Two conditions, blank first names: ignored → no match; not ignored → blank equals blank.
    let ignoring = publish_rule(&app, json!({ "name": "names ignoring blanks", "baseRecordType": "CONTACT", "matchingRecordType": "CONTACT",
        "conditions": [{ "baseField": "firstName", "matchingField": "firstName" }, { "baseField": "lastName", "matchingField": "lastName" }] })).await;
    assert_eq!(
        lead_contact_matches(json!({ "lastName": "Smith" })).await,
        0
    );
    app.ok(
        "mutation($i: DuplicateRuleIdInput!) { deleteDuplicateRule(input: $i) { deletedId } }",
        json!({ "i": { "id": ignoring } }),
    )
    .await;
    publish_rule(&app, json!({ "name": "names with blanks", "baseRecordType": "CONTACT", "matchingRecordType": "CONTACT",
        "conditions": [{ "baseField": "firstName", "matchingField": "firstName", "ignoreBlankValues": false },
                       { "baseField": "lastName", "matchingField": "lastName", "ignoreBlankValues": false }] })).await;
    assert_eq!(
        lead_contact_matches(json!({ "lastName": "smith" })).await,
        1
    );
    assert_eq!(
        lead_contact_matches(json!({ "lastName": "smith", "firstName": "Ann" })).await,
        0
    );
}

#[tokio::test]
async fn inactive_records_are_excluded_when_the_rule_says_so() {
    let app = spawn_app().await;
    let id = app.create_account(json!({ "name": "Old Corp" })).await;
    let model = account::Entity::find_by_id(uuid::Uuid::parse_str(&id).unwrap())
        .one(&app.db.write)
        .await
        .unwrap()
        .unwrap();
    let mut active: account::ActiveModel = model.into();
    active.state = Set(RecordState::Inactive);
    active.update(&app.db.write).await.unwrap();
    assert!(
        account_matches_for(&app, json!({ "companyName": "Old Corp" }))
            .await
            .is_empty()
    );
    unpublish_all(&app).await;
    publish_rule(&app, json!({ "name": "names incl. inactive", "baseRecordType": "ACCOUNT", "matchingRecordType": "ACCOUNT", "excludeInactive": false,
        "conditions": [{ "baseField": "name", "matchingField": "name" }] })).await;
    assert_eq!(
        account_matches_for(&app, json!({ "companyName": "Old Corp" })).await,
        ["Old Corp"]
    );
}

#[tokio::test]
async fn at_most_five_rules_are_published_per_base_record_type() {
    let app = spawn_app().await;
    // Defaults publish 2 ACCOUNT rules: 3 more fit, the sixth does not.
    for i in 0..3 {
        publish_rule(&app, json!({ "name": format!("r{i}"), "baseRecordType": "ACCOUNT", "matchingRecordType": "ACCOUNT",
            "conditions": [{ "baseField": "phone", "matchingField": "phone" }] })).await;
    }
    let data = app
        .ok("mutation($i: CreateDuplicateRuleInput!) { createDuplicateRule(input: $i) { rule { id } } }",
            json!({ "i": { "rule": { "name": "sixth", "baseRecordType": "ACCOUNT", "matchingRecordType": "ACCOUNT",
                "conditions": [{ "baseField": "website", "matchingField": "website" }] } } }))
        .await;
    let body = app
        .graphql("mutation($i: DuplicateRuleIdInput!) { publishDuplicateRule(input: $i) { rule { id } } }",
            json!({ "i": { "id": data["createDuplicateRule"]["rule"]["id"] } }))
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
}

#[tokio::test]
async fn bad_rules_are_refused_and_only_administrators_manage_rules() {
    let app = spawn_app().await;
    let q = "mutation($i: CreateDuplicateRuleInput!) { createDuplicateRule(input: $i) { rule { id } } }";
    for (conditions, field) in [
        (json!([]), "conditions"),
        (
            json!([{ "baseField": "nope", "matchingField": "name" }]),
            "conditions.0.baseField",
        ),
        (
            json!([{ "baseField": "name", "matchingField": "phone" }]),
            "conditions.0.matchingField",
        ),
        (
            json!([{ "baseField": "name", "matchingField": "name", "operator": "SAME_FIRST_CHARACTERS" }]),
            "conditions.0.characterCount",
        ),
        (
            json!([{ "baseField": "name", "matchingField": "name", "operator": "SAME_LAST_CHARACTERS", "characterCount": 0 }]),
            "conditions.0.characterCount",
        ),
    ] {
        let body = app
            .graphql(q, json!({ "i": { "rule": { "name": "r", "baseRecordType": "ACCOUNT", "matchingRecordType": "ACCOUNT", "conditions": conditions } } }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
    let (_, seller) = app.user("Sam", &[entity::Role::Salesperson]).await;
    let body = app
        .graphql_as(&seller, q, json!({ "i": { "rule": { "name": "r", "baseRecordType": "ACCOUNT", "matchingRecordType": "ACCOUNT",
            "conditions": [{ "baseField": "name", "matchingField": "name" }] } } }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
}

#[tokio::test]
async fn a_match_stops_qualification_and_use_existing_links_without_changing_the_record() {
    let app = spawn_app().await;
    let existing = app
        .create_account(json!({ "name": "Contoso", "phone": "555-0000" }))
        .await;
    let lead = app.create_lead(json!({ "companyName": "CONTOSO", "businessPhone": "555-9999", "email": "new@contoso.com" })).await;
    let before = counts(&app).await;
    let result = qualify(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(result["outcome"], "DUPLICATES_FOUND");
    assert_eq!(
        result["duplicates"]["accounts"][0]["account"]["id"],
        existing.as_str()
    );
    assert_eq!(
        result["duplicates"]["accounts"][0]["rules"],
        json!([{ "ruleName": "Accounts with the same account name", "fields": ["name"] }])
    );
    assert_eq!(result["lead"]["state"], "OPEN");
    assert_eq!(counts(&app).await, before, "nothing written");

    let result = qualify(&app, json!({ "leadId": lead["id"], "account": { "action": "USE_EXISTING", "existingId": existing } })).await;
    assert_eq!(result["outcome"], "QUALIFIED");
    assert_eq!(result["lead"]["qualifiedAccount"]["id"], existing.as_str());
    assert_eq!(
        result["account"],
        json!({ "id": existing, "name": "Contoso", "phone": "555-0000" }),
        "not overwritten"
    );
    assert_eq!(counts(&app).await, (before.0, before.1 + 1));
}

#[tokio::test]
async fn create_new_with_ignore_duplicates_creates_despite_a_match() {
    let app = spawn_app().await;
    app.create_account(json!({ "name": "Contoso" })).await;
    app.create_contact(json!({ "lastName": "Smith", "email": "ann@contoso.com" }))
        .await;
    let lead = app
        .create_lead(
            json!({ "companyName": "Contoso", "lastName": "Smith", "email": "ann@contoso.com" }),
        )
        .await;
    let result = qualify(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(result["outcome"], "DUPLICATES_FOUND");
    assert_eq!(
        result["duplicates"]["contacts"][0]["contact"]["email"],
        "ann@contoso.com"
    );
    let result = qualify(
        &app,
        json!({ "leadId": lead["id"],
        "account": { "action": "CREATE_NEW", "ignoreDuplicates": true },
        "contact": { "action": "CREATE_NEW", "ignoreDuplicates": true } }),
    )
    .await;
    assert_eq!(result["outcome"], "QUALIFIED", "{result}");
    assert_eq!(counts(&app).await, (2, 2));
}

#[tokio::test]
async fn records_of_the_same_qualification_and_the_lead_itself_never_match() {
    let app = spawn_app().await;
    // The new contact carries the lead's e-mail; the lead has the same e-mail; neither counts.
    let lead = app
        .create_lead(json!({ "companyName": "Solo", "email": "solo@x.com", "firstName": "S" }))
        .await;
    let result = qualify(&app, json!({ "leadId": lead["id"] })).await;
    assert_eq!(result["outcome"], "QUALIFIED", "{result}");
}

#[tokio::test]
async fn the_duplicate_lookup_reads_capped_ranges_of_the_covering_match_key_indexes() {
    let app = spawn_app().await;
    let backend = app.db.backend();
    if backend == DbBackend::Postgres {
        // Enough keys (and fresh statistics) that the planner's choice is the real one.
        app.db
            .write
            .execute_unprepared(
                "INSERT INTO match_keys (record_type, record_id, field, key, key_folded, key_reversed)
                 SELECT 'ACCOUNT', gen_random_uuid(), 'name', 'k' || i, 'k' || i, reverse('k' || i)
                 FROM generate_series(1, 20000) AS i;
                 ANALYZE match_keys",
            )
            .await
            .unwrap();
    }
    let range = |reversed: bool, prefix: bool, key: &str| Range {
        matching: DuplicateRecordType::Account,
        field: "name",
        reversed,
        prefix,
        key: key.to_owned(),
        blocks: false,
        active_only: false,
    };
    // Exact keys, first N and last N characters, all in one statement.
    let ranges = vec![
        range(false, false, "contoso"),
        range(false, false, "fabrikam"),
        range(false, true, "con"),
        range(true, true, "tsa"),
    ];
    let statement = leadq::service::duplicates::lookup_statement(backend, &ranges);
    let explain = match backend {
        DbBackend::Postgres => "EXPLAIN",
        _ => "EXPLAIN QUERY PLAN",
    };
    let explain = Statement::from_sql_and_values(
        backend,
        format!("{explain} {}", statement.sql),
        statement.values.unwrap().0,
    );
    let rows = app.db.read.query_all_raw(explain).await.unwrap();
    let column = if backend == DbBackend::Postgres {
        "QUERY PLAN"
    } else {
        "detail"
    };
    let plan: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String>("", column).unwrap())
        .collect();
    // Each range is read from a covering index alone, capped; the table is never scanned.
    if backend == DbBackend::Postgres {
        let text = plan.join("\n");
        assert!(
            text.contains("Index Only Scan using ix_match_keys_folded on match_keys"),
            "{text}"
        );
        assert!(
            text.contains("Index Only Scan using ix_match_keys_reversed on match_keys"),
            "{text}"
        );
        assert!(text.contains("Limit"), "{text}");
        assert!(!text.contains("Seq Scan on match_keys"), "{text}");
    } else {
        let searches: Vec<&String> = plan
            .iter()
            .filter(|d| d.starts_with("SEARCH match_keys"))
            .collect();
        assert_eq!(searches.len(), ranges.len(), "{plan:?}");
        assert_eq!(
            searches
                .iter()
                .filter(|d| d.contains("COVERING INDEX ix_match_keys_folded"))
                .count(),
            3,
            "{plan:?}"
        );
        assert_eq!(
            searches
                .iter()
                .filter(|d| d.contains("COVERING INDEX ix_match_keys_reversed"))
                .count(),
            1,
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|d| d.starts_with("SCAN match_keys")),
            "{plan:?}"
        );
    }
}

#[tokio::test]
async fn a_name_shared_by_hundreds_of_contacts_still_finds_the_one_full_match() {
    let app = spawn_app().await;
    // More Johns and more Smiths than one capped index lookup returns.
    for i in 0..210 {
        app.create_contact(json!({ "firstName": "John", "lastName": format!("Other{i}") }))
            .await;
        app.create_contact(json!({ "firstName": format!("Jim{i}"), "lastName": "Smith" }))
            .await;
    }
    let target = app
        .create_contact(json!({ "firstName": "John", "lastName": "Smith" }))
        .await;
    let lead = app
        .create_lead(
            json!({ "firstName": "JOHN", "lastName": " smith ", "companyName": "Unique Co" }),
        )
        .await;
    let body = app
        .graphql(
            "mutation($input: QualifyLeadInput!) { qualifyLead(input: $input) {
                outcome duplicates { contacts { contact { id } rules { ruleName fields } } } } }",
            json!({ "input": { "leadId": lead["id"] } }),
        )
        .await;
    let payload = &body["data"]["qualifyLead"];
    assert_eq!(payload["outcome"], "DUPLICATES_FOUND", "{body:#}");
    let contacts = payload["duplicates"]["contacts"].as_array().unwrap();
    assert_eq!(contacts.len(), 1, "{body:#}");
    assert_eq!(contacts[0]["contact"]["id"], target.as_str());
    assert_eq!(
        contacts[0]["rules"][0]["fields"],
        json!(["firstName", "lastName"])
    );
}
