//! Crash safety of bulk qualification: the real server binary is killed (SIGKILL) during a run of
//! a few thousand leads, restarted, and the database checked: every lead is either fully
//! qualified or untouched, and running the same call again finishes the rest without
//! duplicating anything.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use entity::{LeadState, account, contact, lead, opportunity};
use leadq::auth::{Actor, TokenKeys};
use leadq::domain::records::LeadChanges;
use leadq::domain::values::{Name, Topic};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::spawn_app_with;

const SECRET: &str = "crash-test-secret-crash-test-secret-0123";
const LEADS: usize = 2_000;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_server(database_url: &str, port: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_leadq"))
        .args([
            "--database-url",
            database_url,
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .env("LEADQ_JWT_SECRET", SECRET)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server binary");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/health"))
            .send()
            .await
            && r.status().is_success()
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start");
}

async fn qualify_all(port: u16, token: &str, ids: &[String]) -> reqwest::Result<Value> {
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .bearer_auth(token)
        .json(&json!({
            "query": "mutation($i: QualifyLeadsInput!) { qualifyLeads(input: $i) { qualifiedCount duplicatesFoundCount failedCount results { error { code } } } }",
            "variables": { "i": { "leadIds": ids } }
        }))
        .send()
        .await?
        .json()
        .await
}

/// Every lead is either qualified with all its records, or open with none.
async fn assert_all_or_nothing(db: &leadq::db::Db) -> u64 {
    let leads = lead::Entity::find().all(&db.read).await.unwrap();
    let mut qualified = 0;
    for lead in &leads {
        let accounts = account::Entity::find()
            .filter(account::Column::OriginatingLeadId.eq(lead.id))
            .count(&db.read)
            .await
            .unwrap();
        let contacts = contact::Entity::find()
            .filter(contact::Column::OriginatingLeadId.eq(lead.id))
            .count(&db.read)
            .await
            .unwrap();
        let opportunities = opportunity::Entity::find()
            .filter(opportunity::Column::OriginatingLeadId.eq(lead.id))
            .count(&db.read)
            .await
            .unwrap();
        match lead.state {
            LeadState::Qualified => {
                qualified += 1;
                assert_eq!(
                    (accounts, contacts, opportunities),
                    (1, 1, 1),
                    "lead {}",
                    lead.id
                );
                assert!(
                    lead.qualified_account_id.is_some()
                        && lead.qualified_contact_id.is_some()
                        && lead.qualifying_opportunity_id.is_some()
                );
            }
            _ => {
                assert_eq!(
                    (accounts, contacts, opportunities),
                    (0, 0, 0),
                    "open lead {} has records",
                    lead.id
                );
                assert!(lead.qualified_account_id.is_none());
            }
        }
    }
    qualified
}

#[tokio::test]
async fn a_server_killed_mid_bulk_run_leaves_every_lead_whole_and_a_rerun_finishes() {
    let app = spawn_app_with(|s| s.jwt_secret = Some(SECRET.to_owned())).await;
    let admin = Actor {
        user_id: app.admin_id,
        name: "Test Administrator".into(),
        roles: vec![entity::Role::SystemAdministrator],
    };
    let mut ids = Vec::with_capacity(LEADS);
    for i in 0..LEADS {
        let changes = LeadChanges {
            topic: Some(Topic::parse("topic", Some(format!("Crash test {i}"))).unwrap()),
            last_name: Some(Name::parse("lastName", Some(format!("Person{i}")), 50).unwrap()),
            company_name: Some(
                Name::parse("companyName", Some(format!("Crash Company {i}")), 100).unwrap(),
            ),
            ..Default::default()
        };
        ids.push(
            leadq::service::leads::create(&app.db, &admin, changes, None)
                .await
                .unwrap()
                .lead
                .id
                .to_string(),
        );
    }
    let token = TokenKeys::new(SECRET.as_bytes(), None, None)
        .mint(app.admin_id, chrono::Duration::hours(1))
        .unwrap();

    let port = free_port();
    let mut server = start_server(&app.database_url, port).await;
    let run = tokio::spawn({
        let (token, ids) = (token.clone(), ids.clone());
        async move { qualify_all(port, &token, &ids).await }
    });
    // Kill it once a good part, but not all, of the batch is done.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = lead::Entity::find()
            .filter(lead::Column::State.eq(LeadState::Qualified))
            .count(&app.db.read)
            .await
            .unwrap();
        if done >= 100 {
            break;
        }
        assert!(Instant::now() < deadline, "the bulk run made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    assert!(
        run.await.unwrap().is_err(),
        "the killed run cannot have answered"
    );

    let qualified_before = assert_all_or_nothing(&app.db).await;
    assert!(
        qualified_before >= 100 && qualified_before < LEADS as u64,
        "{qualified_before}"
    );

    let mut server = start_server(&app.database_url, port).await;
    let body = qualify_all(port, &token, &ids).await.unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let payload = &body["data"]["qualifyLeads"];
    assert_eq!(
        payload["qualifiedCount"].as_u64().unwrap(),
        LEADS as u64 - qualified_before,
        "{payload}"
    );
    assert_eq!(payload["failedCount"].as_u64().unwrap(), qualified_before);
    assert!(
        payload["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["error"].is_null() || r["error"]["code"] == "LEAD_CLOSED")
    );
    assert_eq!(assert_all_or_nothing(&app.db).await, LEADS as u64);
    assert_eq!(
        account::Entity::find().count(&app.db.read).await.unwrap(),
        LEADS as u64,
        "nothing duplicated"
    );
}
