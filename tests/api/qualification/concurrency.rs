//! Closed leads, access, one transaction per qualification, and concurrent qualifications.

use super::*;

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

#[tokio::test]
async fn a_qualification_that_waited_past_its_deadline_answers_server_busy() {
    let app = crate::helpers::spawn_app_with(|s| s.qualify_queue_deadline_ms = 0).await;
    let lead = app
        .create_lead(json!({ "lastName": "Late", "companyName": "Late Co" }))
        .await;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&app.admin_token)
        .json(&json!({ "query": QUALIFY, "variables": { "input": { "leadId": lead["id"] } } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.headers().get("retry-after").is_some());
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "SERVER_BUSY", "{body}");
    assert!(
        body["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .is_some()
    );
    assert_still_open(&app, id(&lead)).await;
    // Bulk runs do not queue.
    let data = app
        .ok(
            "mutation($i: QualifyLeadsInput!) { qualifyLeads(input: $i) { qualifiedCount } }",
            json!({ "i": { "leadIds": [lead["id"]] } }),
        )
        .await;
    assert_eq!(data["qualifyLeads"]["qualifiedCount"], 1);
}

#[tokio::test]
async fn a_qualification_whose_client_went_away_runs_to_its_end_and_replays_by_its_key() {
    let app = spawn_app().await;
    let lead = app
        .create_lead(json!({ "lastName": "Gone", "companyName": "Gone Away Co" }))
        .await;
    // Hold what the qualification needs, so it is still running when the client gives up.
    let outsider = leadq::db::connect(
        &app.database_url,
        leadq::db::ConnectOptions::with_pool_size(1),
    )
    .await
    .unwrap();
    let holder = sea_orm::TransactionTrait::begin(&outsider.write)
        .await
        .unwrap();
    let lock = match app.db.backend() {
        DbBackend::Postgres => {
            format!("SELECT id FROM leads WHERE id = '{}' FOR UPDATE", id(&lead))
        }
        _ => format!(
            "UPDATE leads SET modified_at = modified_at WHERE id = '{}'",
            id(&lead)
        ),
    };
    holder.execute_unprepared(&lock).await.unwrap();
    let input = json!({ "leadId": lead["id"], "idempotencyKey": "client-went-away" });
    let gave_up = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&app.admin_token)
        .timeout(std::time::Duration::from_millis(300))
        .json(&json!({ "query": QUALIFY, "variables": { "input": input } }))
        .send()
        .await;
    assert!(gave_up.is_err(), "the client was meant to give up first");
    holder.rollback().await.unwrap();

    // The qualification went on without its client, to the end.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while lead_result(&app, id(&lead)).await["state"] != "QUALIFIED" {
        assert!(std::time::Instant::now() < deadline, "it never finished");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(count(&app).await, (1, 1, 1));
    assert_all_or_nothing(&app.db).await;
    // The client retries with its key and gets the result, nothing run twice.
    let replayed = qualified(&app, input).await;
    assert_eq!(
        id(&replayed["account"]),
        id(&lead_result(&app, id(&lead)).await["qualifiedAccount"])
    );
    assert_eq!(count(&app).await, (1, 1, 1));
}
