//! Bulk qualification (`qualifyLeads`): per-lead results in order, duplicate policies, batch
//! limits, chunks, concurrency with single calls, idempotent replays.

use entity::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, spawn_app, spawn_app_with};

const BULK: &str = "mutation($i: QualifyLeadsInput!) { qualifyLeads(input: $i) {
    qualifiedCount duplicatesFoundCount failedCount
    results { leadId outcome lead { state } account { id name } contact { id } opportunities { id }
              duplicates { accounts { account { id } } contacts { contact { id } } } error { code } } } }";

async fn counts(app: &TestApp) -> (i64, i64, i64) {
    let d = app
        .ok(
            "{ accounts { totalCount } contacts { totalCount } opportunities { totalCount } }",
            json!({}),
        )
        .await;
    (
        d["accounts"]["totalCount"].as_i64().unwrap(),
        d["contacts"]["totalCount"].as_i64().unwrap(),
        d["opportunities"]["totalCount"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn a_mixed_batch_gives_one_result_per_lead_in_order() {
    let app = spawn_app().await;
    let (_, seller) = app.user("Sam", &[Role::Salesperson]).await;
    let open = app
        .create_lead_as(
            &seller,
            json!({ "companyName": "Alpha", "email": "a@alpha.com" }),
        )
        .await;
    let closed = app
        .create_lead_as(&seller, json!({ "companyName": "Beta" }))
        .await;
    app.graphql_as(
        &seller,
        "mutation($i: DisqualifyLeadInput!) { disqualifyLead(input: $i) { lead { id } } }",
        json!({ "i": { "leadId": closed["id"] } }),
    )
    .await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let others = app.create_lead(json!({ "companyName": "Gamma" })).await; // the admin's: forbidden to the seller
    app.create_account(json!({ "name": "Delta" })).await;
    let duplicate = app
        .create_lead_as(&seller, json!({ "companyName": "delta" }))
        .await;
    let no_company = app
        .create_lead_as(&seller, json!({ "email": "n@x.com" }))
        .await;
    let ids = json!([
        open["id"],
        closed["id"],
        unknown,
        others["id"],
        duplicate["id"],
        no_company["id"]
    ]);
    let body = app
        .graphql_as(
            &seller,
            BULK,
            json!({ "i": { "leadIds": ids, "account": "CREATE_NEW" } }),
        )
        .await;
    let payload = &body["data"]["qualifyLeads"];
    let outcomes: Vec<(&str, Option<&str>)> = payload["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["outcome"].as_str().unwrap(), r["error"]["code"].as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("QUALIFIED", None),
            ("FAILED", Some("LEAD_CLOSED")),
            ("FAILED", Some("NOT_FOUND")),
            ("FAILED", Some("FORBIDDEN")),
            ("DUPLICATES_FOUND", None),
            ("FAILED", Some("COMPANY_NAME_REQUIRED")),
        ],
        "{body:#}"
    );
    let result_ids: Vec<&Value> = payload["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["leadId"])
        .collect();
    assert_eq!(
        result_ids,
        ids.as_array().unwrap().iter().collect::<Vec<_>>()
    );
    assert_eq!(
        (
            payload["qualifiedCount"].as_i64(),
            payload["duplicatesFoundCount"].as_i64(),
            payload["failedCount"].as_i64()
        ),
        (Some(1), Some(1), Some(4))
    );
    assert_eq!(payload["results"][0]["account"]["name"], "Alpha");
    assert_eq!(
        counts(&app).await,
        (2, 1, 1),
        "only the first lead's records, plus the Delta account"
    );
    assert_eq!(
        app.lead(duplicate["id"].as_str().unwrap()).await["state"],
        "OPEN"
    );
    assert_eq!(
        app.lead(others["id"].as_str().unwrap()).await["state"],
        "OPEN"
    );
}

#[tokio::test]
async fn each_duplicate_policy_does_what_it_says() {
    let app = spawn_app().await;
    let delta = app.create_account(json!({ "name": "Delta" })).await;
    let single = app.create_lead(json!({ "companyName": "Delta" })).await;
    // REPORT (default).
    let data = app
        .ok(BULK, json!({ "i": { "leadIds": [single["id"]] } }))
        .await;
    assert_eq!(
        data["qualifyLeads"]["results"][0]["outcome"],
        "DUPLICATES_FOUND"
    );
    assert_eq!(
        data["qualifyLeads"]["results"][0]["duplicates"]["accounts"][0]["account"]["id"],
        delta.as_str()
    );
    // LINK_SINGLE_MATCH links the one match.
    let data = app
        .ok(
            BULK,
            json!({ "i": { "leadIds": [single["id"]], "duplicatePolicy": "LINK_SINGLE_MATCH" } }),
        )
        .await;
    assert_eq!(data["qualifyLeads"]["results"][0]["outcome"], "QUALIFIED");
    assert_eq!(
        data["qualifyLeads"]["results"][0]["account"]["id"],
        delta.as_str()
    );
    // Several matches: LINK_SINGLE_MATCH reports.
    app.create_account(json!({ "name": "DELTA" })).await;
    let several = app.create_lead(json!({ "companyName": "delta" })).await;
    let data = app
        .ok(
            BULK,
            json!({ "i": { "leadIds": [several["id"]], "duplicatePolicy": "LINK_SINGLE_MATCH" } }),
        )
        .await;
    assert_eq!(
        data["qualifyLeads"]["results"][0]["outcome"],
        "DUPLICATES_FOUND"
    );
    // CREATE_ANYWAY creates a third Delta.
    let data = app
        .ok(
            BULK,
            json!({ "i": { "leadIds": [several["id"]], "duplicatePolicy": "CREATE_ANYWAY" } }),
        )
        .await;
    assert_eq!(data["qualifyLeads"]["results"][0]["outcome"], "QUALIFIED");
    assert_eq!(counts(&app).await.0, 3);
}

#[tokio::test]
async fn oversized_and_repeated_batches_are_refused_before_anything_runs() {
    let app = spawn_app_with(|s| s.max_bulk_leads = 3).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(
            app.create_lead(json!({ "companyName": format!("Co {i}") }))
                .await["id"]
                .clone(),
        );
    }
    let body = app.graphql(BULK, json!({ "i": { "leadIds": ids } })).await;
    assert_eq!(error_code(&body), "BATCH_TOO_LARGE");
    let body = app
        .graphql(
            BULK,
            json!({ "i": { "leadIds": [ids[0], ids[1], ids[0]] } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "leadIds");
    let body = app
        .graphql(BULK, json!({ "i": { "leadIds": [ids[0], "nope"] } }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "leadIds.1");
    assert_eq!(counts(&app).await, (0, 0, 0));
}

#[tokio::test]
async fn running_a_batch_again_finishes_the_rest_without_duplicating() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            app.create_lead(
                json!({ "companyName": format!("Company {i}"), "email": format!("p{i}@x.com") }),
            )
            .await["id"]
                .clone(),
        );
    }
    app.ok(BULK, json!({ "i": { "leadIds": &ids[..2] } })).await;
    let data = app.ok(BULK, json!({ "i": { "leadIds": ids } })).await;
    assert_eq!(data["qualifyLeads"]["qualifiedCount"], 3);
    assert_eq!(data["qualifyLeads"]["failedCount"], 2);
    assert_eq!(counts(&app).await, (5, 5, 5));
}

#[tokio::test]
async fn concurrent_bulk_and_single_qualifications_all_succeed_without_lock_errors() {
    let app = spawn_app().await;
    let mut bulk_ids = Vec::new();
    for i in 0..60 {
        bulk_ids.push(
            app.create_lead(
                json!({ "companyName": format!("Bulk {i}"), "lastName": format!("B{i}") }),
            )
            .await["id"]
                .clone(),
        );
    }
    let mut single_ids = Vec::new();
    for i in 0..20 {
        single_ids.push(
            app.create_lead(
                json!({ "companyName": format!("Single {i}"), "lastName": format!("S{i}") }),
            )
            .await["id"]
                .clone(),
        );
    }
    let bulk = app.graphql(BULK, json!({ "i": { "leadIds": bulk_ids } }));
    let singles = futures_util::future::join_all(single_ids.iter().map(|id| {
        app.graphql(
            "mutation($i: QualifyLeadInput!) { qualifyLead(input: $i) { outcome } }",
            json!({ "i": { "leadId": id } }),
        )
    }));
    let (bulk, singles) = tokio::join!(bulk, singles);
    assert_eq!(bulk["data"]["qualifyLeads"]["qualifiedCount"], 60, "{bulk}");
    for single in singles {
        assert!(single.get("errors").is_none(), "{single}");
        assert_eq!(single["data"]["qualifyLead"]["outcome"], "QUALIFIED");
    }
    assert_eq!(counts(&app).await, (80, 80, 80));
}

fn outcomes(data: &Value) -> Vec<String> {
    data["qualifyLeads"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn leads_of_one_batch_are_checked_against_the_records_created_before_them() {
    let app = spawn_app().await;
    let first = app
        .create_lead(json!({ "companyName": "Acme", "lastName": "One" }))
        .await;
    let second = app
        .create_lead(json!({ "companyName": " ACME ", "lastName": "Two" }))
        .await;
    let third = app
        .create_lead(json!({ "companyName": "Other", "lastName": "Three" }))
        .await;
    let data = app
        .ok(
            BULK,
            json!({ "i": { "leadIds": [first["id"], second["id"], third["id"]] } }),
        )
        .await;
    assert_eq!(
        outcomes(&data),
        ["QUALIFIED", "DUPLICATES_FOUND", "QUALIFIED"]
    );
    let results = &data["qualifyLeads"]["results"];
    assert_eq!(
        results[1]["duplicates"]["accounts"][0]["account"]["id"],
        results[0]["account"]["id"]
    );
    assert_eq!(results[1]["lead"]["state"], "OPEN");
    assert_eq!(counts(&app).await, (2, 2, 2));

    // LINK_SINGLE_MATCH links the later lead to the account the earlier one just created.
    let fourth = app
        .create_lead(json!({ "companyName": "Zeta", "lastName": "Four" }))
        .await;
    let fifth = app
        .create_lead(json!({ "companyName": "zeta", "lastName": "Five" }))
        .await;
    let data = app
        .ok(
            BULK,
            json!({ "i": { "leadIds": [fourth["id"], fifth["id"]], "duplicatePolicy": "LINK_SINGLE_MATCH" } }),
        )
        .await;
    assert_eq!(outcomes(&data), ["QUALIFIED", "QUALIFIED"]);
    let results = &data["qualifyLeads"]["results"];
    assert_eq!(results[1]["account"]["id"], results[0]["account"]["id"]);
    assert_eq!(counts(&app).await, (3, 4, 4));
}

#[tokio::test]
async fn a_large_batch_is_written_in_chunks_with_few_statements() {
    // No job workers: their polling would count among the statements measured below.
    let app = crate::helpers::spawn_app_with(|s| s.job_workers = Some(0)).await;
    const LEADS: usize = 300;
    let mut ids = Vec::with_capacity(LEADS);
    for i in 0..LEADS {
        // The last lead repeats the first one's company, across the chunk boundary.
        let company = match i {
            i if i == LEADS - 1 => "Company 0".to_owned(),
            i => format!("Company {i}"),
        };
        let lead = app
            .create_lead(json!({ "companyName": company, "lastName": format!("Person {i}"), "email": format!("p{i}@example.com") }))
            .await;
        ids.push(lead["id"].clone());
    }
    let before = app.db.statement_count();
    let data = app.ok(BULK, json!({ "i": { "leadIds": ids } })).await;
    let statements = app.db.statement_count() - before;
    let payload = &data["qualifyLeads"];
    assert_eq!(payload["qualifiedCount"], LEADS - 1, "{payload:#}");
    assert_eq!(payload["duplicatesFoundCount"], 1);
    assert_eq!(
        payload["results"][LEADS - 1]["duplicates"]["accounts"][0]["account"]["id"],
        payload["results"][0]["account"]["id"]
    );
    // One lead at a time takes about twenty statements; chunks take a few dozen each.
    assert!(
        statements < (LEADS as u64) / 2,
        "{statements} statements for {LEADS} leads"
    );
    assert_eq!(
        counts(&app).await,
        (LEADS as i64 - 1, LEADS as i64 - 1, LEADS as i64 - 1)
    );
    // Every qualified lead is linked to its own records, with its audit entry.
    let lead = app
        .ok(
            "query($id: ID!) { lead(id: $id) { state qualifiedAccount { id } qualifyingOpportunity { id } } }",
            json!({ "id": ids[LEADS - 2] }),
        )
        .await;
    assert_eq!(lead["lead"]["state"], "QUALIFIED");
    assert_eq!(
        lead["lead"]["qualifiedAccount"]["id"],
        payload["results"][LEADS - 2]["account"]["id"]
    );
    assert_eq!(
        lead["lead"]["qualifyingOpportunity"]["id"],
        payload["results"][LEADS - 2]["opportunities"][0]["id"]
    );
    let audit = app
        .ok(
            "query($id: ID!) { auditEvents(recordId: $id) { action } }",
            json!({ "id": ids[LEADS - 2] }),
        )
        .await;
    assert!(
        audit["auditEvents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "QUALIFIED"),
        "{audit:#}"
    );
}

#[tokio::test]
async fn a_bulk_call_repeated_with_its_idempotency_key_replays_its_results() {
    let app = spawn_app().await;
    app.create_account(json!({ "name": "Delta" })).await;
    let fresh = app
        .create_lead(json!({ "companyName": "Fresh", "lastName": "One" }))
        .await;
    let duplicate = app
        .create_lead(json!({ "companyName": "Delta", "lastName": "Two" }))
        .await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let input =
        json!({ "leadIds": [fresh["id"], duplicate["id"], unknown], "idempotencyKey": "run-1" });
    let first = app.ok(BULK, json!({ "i": input })).await;
    assert_eq!(
        outcomes(&first),
        ["QUALIFIED", "DUPLICATES_FOUND", "FAILED"]
    );
    let again = app.ok(BULK, json!({ "i": input })).await;
    assert_eq!(again, first, "the replay answers exactly as the first call");
    assert_eq!(counts(&app).await, (2, 1, 1), "nothing written twice");

    // Another input under the same key is a conflict, and runs nothing.
    let body = app
        .graphql(
            BULK,
            json!({ "i": { "leadIds": [duplicate["id"]], "duplicatePolicy": "CREATE_ANYWAY", "idempotencyKey": "run-1" } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT");
    assert_eq!(counts(&app).await, (2, 1, 1));
    // Without a key the same call runs again: the qualified lead is closed by now.
    let data = app
        .ok(BULK, json!({ "i": { "leadIds": [fresh["id"]] } }))
        .await;
    assert_eq!(
        data["qualifyLeads"]["results"][0]["error"]["code"],
        "LEAD_CLOSED"
    );
}
