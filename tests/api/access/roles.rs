//! Roles, record-level access, assignment, who changes the qualification settings, and the
//! actor named in the audit trail.

use super::*;

// Roles

#[tokio::test]
async fn every_role_reads_every_lead_and_account() {
    let app = spawn_app().await;
    let lead = app.create_lead(json!({})).await;
    app.create_account(json!({ "name": "Contoso" })).await;
    for (name, role) in [
        ("Sam Seller", Role::Salesperson),
        ("Mia Manager", Role::SalesManager),
        ("Ada Admin", Role::SystemAdministrator),
    ] {
        let (_, token) = app.user(name, &[role]).await;
        let body = app
            .graphql_as(
                &token,
                "query($id: ID!) { leads { totalCount } accounts { totalCount } lead(id: $id) { id } }",
                json!({ "id": lead["id"] }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{name}: {body:#}");
        assert_eq!(body["data"]["leads"]["totalCount"], 1, "{name}");
        assert_eq!(body["data"]["accounts"]["totalCount"], 1, "{name}");
        assert_eq!(body["data"]["lead"]["id"], lead["id"], "{name}");
    }
}

#[tokio::test]
async fn any_role_creates_leads_owned_by_the_caller() {
    let app = spawn_app().await;
    for (name, role) in [
        ("Sam Seller", Role::Salesperson),
        ("Mia Manager", Role::SalesManager),
        ("Ada Admin", Role::SystemAdministrator),
    ] {
        let (id, token) = app.user(name, &[role]).await;
        let lead = app.create_lead_as(&token, json!({})).await;
        assert_eq!(lead["owner"]["id"], id.to_string(), "{name}");
        assert_eq!(lead["owner"]["name"], name);
        assert_eq!(my_open_leads(&app, &token).await, vec![id_of(&lead)]);
    }
    assert_eq!(lead_count(&app).await, 3);
}

#[tokio::test]
async fn a_salesperson_cannot_create_a_lead_for_another_user() {
    let app = spawn_app().await;
    let (seller, token) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (other, _) = app.user("Otto Other", &[Role::Salesperson]).await;
    let body = app
        .graphql_as(
            &token,
            CREATE,
            json!({ "input": { "topic": "t", "lastName": "Doe", "ownerId": other.to_string() } }),
        )
        .await;
    assert_refused(&body, "FORBIDDEN");
    assert_eq!(lead_count(&app).await, 0, "no lead was created");

    // Naming oneself is not giving the lead to someone else.
    let body = app
        .graphql_as(
            &token,
            CREATE,
            json!({ "input": { "topic": "t", "lastName": "Doe", "ownerId": seller.to_string() } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(
        body["data"]["createLead"]["lead"]["owner"]["id"],
        seller.to_string()
    );
}

#[tokio::test]
async fn a_sales_manager_creates_a_lead_for_a_salesperson() {
    let app = spawn_app().await;
    let (seller, seller_token) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (_, manager_token) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let body = app
        .graphql_as(
            &manager_token,
            CREATE,
            json!({ "input": { "topic": "t", "lastName": "Doe", "ownerId": seller.to_string() } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let lead = &body["data"]["createLead"]["lead"];
    assert_eq!(lead["owner"]["id"], seller.to_string());
    assert_eq!(lead["owner"]["name"], "Sam Seller");
    assert_eq!(my_open_leads(&app, &seller_token).await, vec![id_of(lead)]);
    assert!(my_open_leads(&app, &manager_token).await.is_empty());
}

#[tokio::test]
async fn creating_a_lead_for_an_unknown_user_is_not_found() {
    let app = spawn_app().await;
    let (_, manager_token) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let body = app
        .graphql_as(
            &manager_token,
            CREATE,
            json!({ "input": { "topic": "t", "lastName": "Doe", "ownerId": Uuid::now_v7().to_string() } }),
        )
        .await;
    assert_refused(&body, "NOT_FOUND");
    assert_eq!(lead_count(&app).await, 0);
}

// ---------------------------------------------------------------------------------------------
// Record-level access

#[tokio::test]
async fn a_salesperson_cannot_update_or_delete_another_users_lead() {
    let app = spawn_app().await;
    let (owner, owner_token) = app.user("Olga Owner", &[Role::Salesperson]).await;
    let (_, other_token) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let lead = app
        .create_lead_as(&owner_token, json!({ "topic": "Original topic" }))
        .await;
    let id = id_of(&lead);

    let body = app
        .graphql_as(
            &other_token,
            UPDATE,
            json!({ "input": { "id": id, "topic": "Hijacked" } }),
        )
        .await;
    assert_refused(&body, "FORBIDDEN");
    let body = app
        .graphql_as(&other_token, DELETE, json!({ "input": { "id": id } }))
        .await;
    assert_refused(&body, "FORBIDDEN");

    let row = lead_row(&app, &id).await;
    assert_eq!(row["topic"], "Original topic", "nothing changed");
    assert_eq!(row["owner"]["id"], owner.to_string());
    assert_eq!(audit_actions(&app, &id).await, vec!["CREATED"]);
}

#[tokio::test]
async fn the_owner_a_sales_manager_and_an_administrator_update_and_delete_a_lead() {
    let app = spawn_app().await;
    let (_, owner_token) = app.user("Olga Owner", &[Role::Salesperson]).await;
    let (_, manager_token) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let (_, admin_token) = app.user("Ada Admin", &[Role::SystemAdministrator]).await;
    for (who, token) in [
        ("owner", &owner_token),
        ("manager", &manager_token),
        ("administrator", &admin_token),
    ] {
        let lead = app.create_lead_as(&owner_token, json!({})).await;
        let id = id_of(&lead);
        let topic = format!("Changed by the {who}");
        let body = app
            .graphql_as(
                token,
                UPDATE,
                json!({ "input": { "id": id, "topic": topic } }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{who}: {body:#}");
        assert_eq!(body["data"]["updateLead"]["lead"]["topic"], topic.as_str());
        assert_eq!(lead_row(&app, &id).await["topic"], topic.as_str());

        let body = app
            .graphql_as(token, DELETE, json!({ "input": { "id": id } }))
            .await;
        assert!(body.get("errors").is_none(), "{who}: {body:#}");
        assert_eq!(body["data"]["deleteLead"]["deletedId"], id.as_str());
        assert!(lead_row(&app, &id).await.is_null(), "{who}: deleted");
    }
}

// ---------------------------------------------------------------------------------------------
// Assignment

#[tokio::test]
async fn only_sales_managers_and_administrators_assign_leads() {
    let app = spawn_app().await;
    let (owner, owner_token) = app.user("Olga Owner", &[Role::Salesperson]).await;
    let (other, _) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (_, manager_token) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let lead = app.create_lead_as(&owner_token, json!({})).await;
    let id = id_of(&lead);

    // Not even the owner may give the lead away.
    let body = app
        .graphql_as(
            &owner_token,
            ASSIGN,
            json!({ "input": { "leadId": id, "ownerId": other.to_string() } }),
        )
        .await;
    assert_refused(&body, "FORBIDDEN");
    assert_eq!(lead_row(&app, &id).await["owner"]["id"], owner.to_string());

    let body = app
        .graphql_as(
            &manager_token,
            ASSIGN,
            json!({ "input": { "leadId": id, "ownerId": other.to_string() } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(
        body["data"]["assignLead"]["lead"]["owner"]["id"],
        other.to_string()
    );

    let body = app
        .graphql(
            ASSIGN,
            json!({ "input": { "leadId": id, "ownerId": owner.to_string() } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(
        body["data"]["assignLead"]["lead"]["owner"]["id"],
        owner.to_string()
    );
    assert_eq!(lead_row(&app, &id).await["owner"]["id"], owner.to_string());
}

#[tokio::test]
async fn assigning_to_an_unknown_user_or_an_unknown_lead_is_not_found() {
    let app = spawn_app().await;
    let (owner, owner_token) = app.user("Olga Owner", &[Role::Salesperson]).await;
    let (other, _) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (_, manager_token) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let lead = app.create_lead_as(&owner_token, json!({})).await;
    let id = id_of(&lead);
    let body = app
        .graphql_as(
            &manager_token,
            ASSIGN,
            json!({ "input": { "leadId": id, "ownerId": Uuid::now_v7().to_string() } }),
        )
        .await;
    assert_refused(&body, "NOT_FOUND");
    assert_eq!(lead_row(&app, &id).await["owner"]["id"], owner.to_string());
    assert_eq!(audit_actions(&app, &id).await, vec!["CREATED"]);

    let body = app
        .graphql_as(
            &manager_token,
            ASSIGN,
            json!({ "input": { "leadId": Uuid::now_v7().to_string(), "ownerId": other.to_string() } }),
        )
        .await;
    assert_refused(&body, "NOT_FOUND");
}

#[tokio::test]
async fn an_assigned_lead_leaves_the_old_owners_open_leads_for_the_new_owners() {
    let app = spawn_app().await;
    let (_, old_token) = app.user("Olga Owner", &[Role::Salesperson]).await;
    let (new_owner, new_token) = app.user("Nina New", &[Role::Salesperson]).await;
    let (_, manager_token) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let lead = app.create_lead_as(&old_token, json!({})).await;
    let kept = app.create_lead_as(&old_token, json!({})).await;
    let id = id_of(&lead);
    assert!(my_open_leads(&app, &old_token).await.contains(&id));
    assert!(my_open_leads(&app, &new_token).await.is_empty());

    let body = app
        .graphql_as(
            &manager_token,
            ASSIGN,
            json!({ "input": { "leadId": id, "ownerId": new_owner.to_string() } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");

    assert_eq!(my_open_leads(&app, &new_token).await, vec![id.clone()]);
    assert_eq!(my_open_leads(&app, &old_token).await, vec![id_of(&kept)]);
    // The new owner now works the lead.
    let body = app
        .graphql_as(
            &new_token,
            UPDATE,
            json!({ "input": { "id": id, "topic": "Mine now" } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let body = app
        .graphql_as(
            &old_token,
            UPDATE,
            json!({ "input": { "id": id, "topic": "Still mine?" } }),
        )
        .await;
    assert_refused(&body, "FORBIDDEN");
}

// ---------------------------------------------------------------------------------------------
// Qualification settings

#[tokio::test]
async fn only_a_system_administrator_changes_the_qualification_settings() {
    let app = spawn_app().await;
    let (_, seller_token) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (_, manager_token) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let (_, admin_token) = app.user("Ada Admin", &[Role::SystemAdministrator]).await;
    let before = app
        .ok(
            "{ qualificationSettings { experience summarizeLead } }",
            json!({}),
        )
        .await;
    for (who, token) in [("salesperson", &seller_token), ("manager", &manager_token)] {
        for input in [
            json!({ "summarizeLead": false }),
            json!({ "experience": "NEW", "summarizeLead": true }),
        ] {
            let body = app
                .graphql_as(token, SETTINGS, json!({ "input": input }))
                .await;
            assert_eq!(error_code(&body), "FORBIDDEN", "{who}: {body:#}");
            assert!(body["data"].is_null(), "{who}: {body:#}");
        }
    }
    let after = app
        .ok(
            "{ qualificationSettings { experience summarizeLead } }",
            json!({}),
        )
        .await;
    assert_eq!(after, before, "nothing changed");

    let body = app
        .graphql_as(
            &admin_token,
            SETTINGS,
            json!({ "input": { "experience": "NEW", "summarizeLead": true } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(
        body["data"]["updateQualificationSettings"]["settings"]["summarizeLead"],
        true
    );
    let body = app
        .graphql_as(
            &admin_token,
            SETTINGS,
            json!({ "input": { "summarizeLead": false } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(
        body["data"]["updateQualificationSettings"]["settings"],
        json!({ "experience": "NEW", "summarizeLead": false })
    );
}

// ---------------------------------------------------------------------------------------------
// Audit actor

#[tokio::test]
async fn the_audit_trail_names_who_created_updated_and_assigned_a_lead() {
    let app = spawn_app().await;
    let (seller, seller_token) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (manager, manager_token) = app.user("Mia Manager", &[Role::SalesManager]).await;
    let lead = app
        .create_lead_as(&seller_token, json!({ "topic": "First topic" }))
        .await;
    let id = id_of(&lead);
    let body = app
        .graphql_as(
            &seller_token,
            UPDATE,
            json!({ "input": { "id": id, "topic": "Second topic" } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let (new_owner, _) = app.user("Nina New", &[Role::Salesperson]).await;
    let body = app
        .graphql_as(
            &manager_token,
            ASSIGN,
            json!({ "input": { "leadId": id, "ownerId": new_owner.to_string() } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");

    let body = app
        .graphql_as(
            &seller_token,
            "query($id: ID!) { auditEvents(recordId: $id) { action recordId actor { id name } changes } }",
            json!({ "id": id }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let events = body["data"]["auditEvents"].as_array().unwrap();
    let summary: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"]["name"].as_str().unwrap_or("<none>"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("CREATED", "Sam Seller"),
            ("UPDATED", "Sam Seller"),
            ("ASSIGNED", "Mia Manager"),
        ],
        "{body:#}"
    );
    assert!(events.iter().all(|e| e["recordId"] == id.as_str()));
    assert_eq!(events[0]["actor"]["id"], seller.to_string());
    assert_eq!(events[2]["actor"]["id"], manager.to_string());

    let update = &events[1]["changes"];
    assert_eq!(update["topic"]["from"], "First topic", "{update:#}");
    assert_eq!(update["topic"]["to"], "Second topic", "{update:#}");
    let assignment = &events[2]["changes"];
    assert_eq!(
        assignment["ownerId"]["from"],
        seller.to_string(),
        "{assignment:#}"
    );
    assert_eq!(
        assignment["ownerId"]["to"],
        new_owner.to_string(),
        "{assignment:#}"
    );
}
