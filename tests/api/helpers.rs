//! `spawn_app()` and the `TestApp` client.

use std::sync::atomic::{AtomicU64, Ordering};

use entity::Role;
use leadq::auth::TokenKeys;
use leadq::config::Settings;
use leadq::db::Db;
use leadq::service;
use leadq::service::qualification::Qualifier;
use leadq::startup::Application;
use serde_json::{Value, json};
use uuid::Uuid;

/// A running application and a client for it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub qualifier: Qualifier,
    pub keys: TokenKeys,
    pub database_url: String,
    /// A System Administrator's token; `graphql()` sends it.
    pub admin_token: String,
    pub admin_id: Uuid,
    _dir: Option<tempfile::TempDir>,
}

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A fresh database URL: a temporary SQLite file, or a new schema on the PostgreSQL server in
/// `TEST_DATABASE_URL`.
async fn fresh_database() -> (String, Option<tempfile::TempDir>) {
    match std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(base) if base.starts_with("postgres") => {
            let schema = format!(
                "t_{}_{}",
                Uuid::now_v7().simple(),
                SEQUENCE.fetch_add(1, Ordering::Relaxed)
            );
            let pool = sea_orm::sqlx::PgPool::connect(&base)
                .await
                .expect("connect to TEST_DATABASE_URL");
            sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(format!(
                "CREATE SCHEMA {schema}"
            )))
            .execute(&pool)
            .await
            .expect("create test schema");
            pool.close().await;
            let separator = if base.contains('?') { '&' } else { '?' };
            (
                format!("{base}{separator}options=-c%20search_path%3D{schema}"),
                None,
            )
        }
        Some(other) => panic!("TEST_DATABASE_URL must be a postgres:// URL, got {other}"),
        None => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("leadq.db").display()
            );
            (url, Some(dir))
        }
    }
}

/// The application with default settings on a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The application with adjusted settings on a fresh database.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        leadq::telemetry::init("debug,sqlx=info");
    }
    let (database_url, dir) = fresh_database().await;
    let mut settings = Settings::for_database(&database_url);
    adjust(&mut settings);
    let mut app = start(settings).await;
    app._dir = dir;
    app
}

/// Starts an application with exactly these settings (for a second instance on one database).
pub async fn start(settings: Settings) -> TestApp {
    let database_url = settings.database_url.clone();
    let application = Application::build(settings)
        .await
        .expect("build the application");
    let address = format!("http://127.0.0.1:{}", application.port());
    let db = application.db().clone();
    let qualifier = application.qualifier().clone();
    let keys = application.token_keys().clone();
    tokio::spawn(application.run_until_stopped());
    let admin =
        service::users::upsert_by_name(&db, "Test Administrator", &[Role::SystemAdministrator])
            .await
            .expect("create the test administrator");
    let admin_token = keys
        .mint(admin.id, chrono::Duration::hours(1))
        .expect("mint");
    TestApp {
        address,
        client: reqwest::Client::new(),
        db,
        qualifier,
        keys,
        database_url,
        admin_token,
        admin_id: admin.id,
        _dir: None,
    }
}

impl TestApp {
    /// Another server process on the same database.
    pub async fn second_instance(&self) -> TestApp {
        start(Settings::for_database(&self.database_url)).await
    }

    /// Runs an operation as the test administrator.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(&self.admin_token.clone(), query, variables)
            .await
    }

    /// Runs an operation with `token`.
    pub async fn graphql_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/graphql", self.address))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("send the request");
        assert!(
            response.status().is_success(),
            "HTTP {} for {query}",
            response.status()
        );
        response.json().await.expect("a JSON body")
    }

    /// Runs an operation that must succeed and returns its `data`.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let body = self.graphql(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// A user with `roles` and a token for them.
    pub async fn user(&self, name: &str, roles: &[Role]) -> (Uuid, String) {
        let user = service::users::upsert_by_name(&self.db, name, roles)
            .await
            .unwrap();
        let token = self.keys.mint(user.id, chrono::Duration::hours(1)).unwrap();
        (user.id, token)
    }

    /// Creates a lead with `fields` (plus a topic and last name when missing) as `token`'s
    /// user; returns the lead with the fields of [`LEAD_FIELDS`].
    pub async fn create_lead_as(&self, token: &str, fields: Value) -> Value {
        let mut input = json!({ "topic": "Interested in 100 units", "lastName": "Doe" });
        for (key, value) in fields.as_object().unwrap() {
            input[key] = value.clone();
        }
        let body = self
            .graphql_as(
                token,
                &format!("mutation($input: CreateLeadInput!) {{ createLead(input: $input) {{ lead {{ {LEAD_FIELDS} }} }} }}"),
                json!({ "input": input }),
            )
            .await;
        assert!(body.get("errors").is_none(), "createLead failed: {body:#}");
        body["data"]["createLead"]["lead"].clone()
    }

    /// Creates a lead as the administrator.
    pub async fn create_lead(&self, fields: Value) -> Value {
        self.create_lead_as(&self.admin_token.clone(), fields).await
    }

    /// Creates an account; returns its id.
    pub async fn create_account(&self, fields: Value) -> String {
        let data = self
            .ok(
                "mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id } } }",
                json!({ "input": fields }),
            )
            .await;
        data["createAccount"]["account"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates a contact; returns its id.
    pub async fn create_contact(&self, fields: Value) -> String {
        let data = self
            .ok(
                "mutation($input: CreateContactInput!) { createContact(input: $input) { contact { id } } }",
                json!({ "input": fields }),
            )
            .await;
        data["createContact"]["contact"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A lead by id with [`LEAD_FIELDS`].
    pub async fn lead(&self, id: &str) -> Value {
        let data = self
            .ok(
                &format!("query($id: ID!) {{ lead(id: $id) {{ {LEAD_FIELDS} }} }}"),
                json!({ "id": id }),
            )
            .await;
        data["lead"].clone()
    }
}

/// The lead fields helpers return.
pub const LEAD_FIELDS: &str =
    "id topic firstName lastName fullName jobTitle businessPhone mobilePhone email
    companyName website description industry leadSource rating purchaseTimeframe purchaseProcess
    budgetAmount currencyCode decisionMaker state statusReason processStage createdAt modifiedAt
    qualifiedAt owner { id name } existingAccount { id name } existingContact { id fullName }
    address { street1 street2 street3 city stateOrProvince postalCode countryOrRegion }";

/// The first error's `extensions.code`.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body:#}"))
}

/// The first error's `extensions.field`.
pub fn error_field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("no error field in {body:#}"))
}

/// `count` open leads owned by `owner`, each with its own company ("`tag` Company i"), written
/// straight to the database in one transaction (for tests that need thousands); their ids in
/// creation order.
pub async fn bulk_leads(db: &Db, owner: Uuid, count: usize, tag: &str) -> Vec<String> {
    use entity::{LeadState, LeadStatusReason, ProcessStage, lead};
    use sea_orm::Set;
    let now = leadq::domain::now();
    let leads: Vec<lead::Model> = (0..count)
        .map(|i| lead::Model {
            id: leadq::domain::new_id(),
            topic: format!("{tag} lead {i}"),
            first_name: None,
            last_name: format!("{tag}Person{i}"),
            job_title: None,
            business_phone: None,
            mobile_phone: None,
            email: None,
            company_name: Some(format!("{tag} Company {i}")),
            website: None,
            street1: None,
            street2: None,
            street3: None,
            city: None,
            state_or_province: None,
            postal_code: None,
            country_or_region: None,
            description: None,
            industry: None,
            lead_source: None,
            rating: None,
            preferred_contact_method: None,
            purchase_timeframe: None,
            purchase_process: None,
            budget_amount_cents: None,
            decision_maker: None,
            currency_code: None,
            existing_account_id: None,
            existing_contact_id: None,
            owner_id: owner,
            state: LeadState::Open,
            status_reason: LeadStatusReason::New,
            process_stage: ProcessStage::Qualify,
            qualified_account_id: None,
            qualified_contact_id: None,
            qualifying_opportunity_id: None,
            created_at: now,
            modified_at: now,
            qualified_at: None,
        })
        .collect();
    let txn = db.begin_write().await.unwrap();
    let rows: Vec<lead::ActiveModel> = leads
        .iter()
        .map(|l| {
            let mut active: lead::ActiveModel = l.clone().into();
            active.id = Set(l.id);
            active
        })
        .collect();
    service::insert_all(&txn, rows).await.unwrap();
    let records: Vec<service::duplicates::Record<'_>> = leads
        .iter()
        .map(service::duplicates::Record::Lead)
        .collect();
    service::duplicates::insert_keys(&txn, &records)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    leads.iter().map(|l| l.id.to_string()).collect()
}
