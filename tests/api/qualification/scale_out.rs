//! Several server processes on one database, as a scaled-out deployment runs them: two real
//! `leadq serve` binaries, each request of a race sent to a different one at the same moment.
//! (On SQLite the two processes share one database file; on PostgreSQL one database.)

use entity::account;
use futures_util::future::join;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::*;
use crate::helpers::spawn_app_with;
use crate::process::{SECRET, Server};

const OUTCOME: &str = "mutation($input: QualifyLeadInput!) { qualifyLead(input: $input) {
    outcome account { id } duplicates { accounts { account { id } } } } }";

async fn post(client: &reqwest::Client, server: &Server, token: &str, input: Value) -> Value {
    client
        .post(server.url())
        .bearer_auth(token)
        .json(&json!({ "query": OUTCOME, "variables": { "input": input } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The test application (for arranging and checking) and two server processes on its database.
async fn two_processes() -> (TestApp, Server, Server) {
    let app = spawn_app_with(|s| s.jwt_secret = Some(SECRET.to_owned())).await;
    let first = Server::start(&app.database_url, &[]).await;
    let second = Server::start(&app.database_url, &[]).await;
    (app, first, second)
}

#[tokio::test]
async fn one_lead_qualified_through_two_processes_at_once_is_qualified_exactly_once() {
    let (app, first, second) = two_processes().await;
    let client = reqwest::Client::new();
    for round in 0..10 {
        let lead = app
            .create_lead(json!({ "lastName": format!("Racer{round}"),
                                 "companyName": format!("Raced Lead Co {round}"),
                                 "email": format!("racer{round}@raced.example") }))
            .await;
        let input = json!({ "leadId": lead["id"] });
        let (a, b) = join(
            post(&client, &first, &app.admin_token, input.clone()),
            post(&client, &second, &app.admin_token, input),
        )
        .await;
        let mut outcomes: Vec<String> = [&a, &b]
            .iter()
            .map(|body| match body.get("errors") {
                None => body["data"]["qualifyLead"]["outcome"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                Some(_) => error_code(body).to_owned(),
            })
            .collect();
        outcomes.sort();
        assert_eq!(
            outcomes,
            ["LEAD_CLOSED", "QUALIFIED"],
            "round {round}: {a} {b}"
        );
        let lead_id: uuid::Uuid = id(&lead).parse().unwrap();
        let accounts = account::Entity::find()
            .filter(account::Column::OriginatingLeadId.eq(lead_id))
            .count(&app.db.read)
            .await
            .unwrap();
        assert_eq!(accounts, 1, "round {round}: one set of records");
    }
    assert_all_or_nothing(&app.db).await;
}

#[tokio::test]
async fn leads_of_one_new_company_qualified_through_two_processes_at_once_never_make_two_accounts()
{
    let (app, first, second) = two_processes().await;
    let client = reqwest::Client::new();
    for round in 0..15 {
        let company = format!("Twin Corp {round}");
        // Two different people of the same new company.
        let lead_a = app
            .create_lead(json!({ "firstName": "Ada", "lastName": format!("First{round}"),
                                 "companyName": company, "email": format!("ada{round}@twin.example"),
                                 "businessPhone": format!("+1 425 555 {:04}", round) }))
            .await;
        let lead_b = app
            .create_lead(json!({ "firstName": "Bob", "lastName": format!("Second{round}"),
                                 "companyName": company, "email": format!("bob{round}@twin.example"),
                                 "businessPhone": format!("+1 206 555 {:04}", round) }))
            .await;
        let (a, b) = join(
            post(
                &client,
                &first,
                &app.admin_token,
                json!({ "leadId": lead_a["id"] }),
            ),
            post(
                &client,
                &second,
                &app.admin_token,
                json!({ "leadId": lead_b["id"] }),
            ),
        )
        .await;
        for body in [&a, &b] {
            assert!(body.get("errors").is_none(), "round {round}: {body}");
        }
        let (a, b) = (&a["data"]["qualifyLead"], &b["data"]["qualifyLead"]);
        let (winner, loser) = match (a["outcome"].as_str(), b["outcome"].as_str()) {
            (Some("QUALIFIED"), Some("DUPLICATES_FOUND")) => (a, b),
            (Some("DUPLICATES_FOUND"), Some("QUALIFIED")) => (b, a),
            _ => panic!("round {round}: expected one QUALIFIED and one DUPLICATES_FOUND: {a} {b}"),
        };
        // The loser's report names the account the winner created.
        assert_eq!(
            loser["duplicates"]["accounts"][0]["account"]["id"], winner["account"]["id"],
            "round {round}"
        );
        let accounts = account::Entity::find()
            .filter(account::Column::Name.eq(company.as_str()))
            .count(&app.db.read)
            .await
            .unwrap();
        assert_eq!(
            accounts, 1,
            "round {round}: never two accounts of {company}"
        );
    }
    assert_all_or_nothing(&app.db).await;
}
