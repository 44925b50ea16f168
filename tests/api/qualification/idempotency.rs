//! Idempotency keys: reserved when a call starts, so concurrent calls with one key run the work
//! once; released when a single qualification does not succeed; forgotten when they expire.

use std::time::Duration;

use entity::idempotency_key;
use sea_orm::{EntityTrait, PaginatorTrait};

use super::*;
use crate::helpers::spawn_app_with;

const BULK: &str = "mutation($i: QualifyLeadsInput!) { qualifyLeads(input: $i) {
    qualifiedCount failedCount results { leadId outcome account { id } error { code } } } }";

#[tokio::test]
async fn concurrent_calls_with_one_key_run_the_qualification_once_and_all_get_its_result() {
    let app = spawn_app().await;
    let lead = app
        .create_lead(
            json!({ "firstName": "Kay", "lastName": "Same", "companyName": "Same Key Co" }),
        )
        .await;
    let input = json!({ "leadId": lead["id"], "idempotencyKey": "same-key-1" });
    let bodies = join_all((0..6).map(|_| qualify(&app, input.clone()))).await;
    let accounts: Vec<&str> = bodies
        .iter()
        .map(|body| {
            assert!(body.get("errors").is_none(), "{body:#}");
            assert_eq!(
                body["data"]["qualifyLead"]["outcome"], "QUALIFIED",
                "{body:#}"
            );
            id(&body["data"]["qualifyLead"]["account"])
        })
        .collect();
    assert!(accounts.iter().all(|a| *a == accounts[0]), "{accounts:?}");
    assert_eq!(count(&app).await, (1, 1, 1));
}

#[tokio::test]
async fn concurrent_bulk_calls_with_one_key_run_the_batch_once_and_both_get_its_results() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let lead = app
            .create_lead(json!({ "lastName": format!("Bulk{i}"), "companyName": format!("Bulk Key Co {i}") }))
            .await;
        ids.push(lead["id"].clone());
    }
    let input = json!({ "i": { "leadIds": ids, "idempotencyKey": "bulk-same-key" } });
    let bodies = join_all((0..2).map(|_| app.graphql(BULK, input.clone()))).await;
    for body in &bodies {
        assert!(body.get("errors").is_none(), "{body:#}");
        assert_eq!(
            body["data"]["qualifyLeads"]["qualifiedCount"], 30,
            "{body:#}"
        );
    }
    assert_eq!(bodies[0]["data"], bodies[1]["data"]);
    assert_eq!(count(&app).await, (30, 30, 30));
}

#[tokio::test]
async fn a_key_is_released_when_its_qualification_does_not_succeed() {
    let app = spawn_app().await;
    app.create_account(json!({ "name": "Taken Name Ltd" }))
        .await;
    let lead = app
        .create_lead(json!({ "lastName": "Retry", "companyName": "Taken Name Ltd" }))
        .await;
    let first = qualify(
        &app,
        json!({ "leadId": lead["id"], "idempotencyKey": "retry-after-duplicates" }),
    )
    .await;
    assert_eq!(
        first["data"]["qualifyLead"]["outcome"], "DUPLICATES_FOUND",
        "{first:#}"
    );

    // The seller resolves the duplicate and retries under the same key: not a CONFLICT.
    let resolved = json!({ "leadId": lead["id"], "idempotencyKey": "retry-after-duplicates",
                           "account": { "action": "CREATE_NEW", "ignoreDuplicates": true } });
    let second = qualified(&app, resolved.clone()).await;
    // From now on the key names this success.
    let replayed = qualified(&app, resolved).await;
    assert_eq!(id(&second["account"]), id(&replayed["account"]));
    assert_eq!(count(&app).await, (2, 1, 1));
}

#[tokio::test]
async fn expired_keys_are_forgotten_and_deleted() {
    let app = spawn_app_with(|s| s.idempotency_ttl_seconds = 1).await;
    let first = app
        .create_lead(json!({ "lastName": "Old", "companyName": "Old Key Co" }))
        .await;
    qualified(
        &app,
        json!({ "leadId": first["id"], "idempotencyKey": "short-lived" }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    leadq::service::qualification::idempotency::delete_expired(&app.db)
        .await
        .unwrap();
    assert_eq!(
        idempotency_key::Entity::find()
            .count(&app.db.read)
            .await
            .unwrap(),
        0
    );
    // The key is free again: another input under it is no CONFLICT.
    let second = app
        .create_lead(json!({ "lastName": "New", "companyName": "New Key Co" }))
        .await;
    qualified(
        &app,
        json!({ "leadId": second["id"], "idempotencyKey": "short-lived" }),
    )
    .await;
}
