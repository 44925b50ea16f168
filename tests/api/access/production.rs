//! Production mode: GraphiQL, introspection and suggestions off unless enabled; secrets
//! checked at startup.

use super::*;

// Production mode

fn production(s: &mut Settings) {
    s.production = true;
    s.jwt_secret = Some(SECRET.into());
}

async fn get_page(app: &TestApp) -> reqwest::Response {
    app.client.get(graphql_url(app)).send().await.unwrap()
}

const INTROSPECTION: &str = "{ __schema { types { name } } }";

#[tokio::test]
async fn production_mode_hides_graphiql_introspection_and_suggestions() {
    let app = spawn_app_with(production).await;
    assert_eq!(get_page(&app).await.status().as_u16(), 404);

    let body = app.graphql(INTROSPECTION, json!({})).await;
    assert!(body["data"]["__schema"].is_null(), "{body:#}");
    let body = app
        .graphql(r#"{ __type(name: "Lead") { fields { name } } }"#, json!({}))
        .await;
    assert!(body["data"]["__type"].is_null(), "{body:#}");

    let typo = "{ leadz { totalCount } }";
    let body = app.graphql(typo, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("Did you mean"), "{message}");
    // (In development mode the same typo gets a suggestion.)
    let development = spawn_app().await;
    let body = development.graphql(typo, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("Did you mean"), "{message}");

    // Ordinary operations work.
    let data = app
        .ok("{ me { name } leads { totalCount } }", json!({}))
        .await;
    assert_eq!(data["me"]["name"], "Test Administrator");
}

#[tokio::test]
async fn production_mode_answers_introspection_with_an_error() {
    let app = spawn_app_with(production).await;
    for query in [INTROSPECTION, r#"{ __type(name: "Lead") { name } }"#] {
        let body = app.graphql(query, json!({})).await;
        assert!(
            body["errors"].as_array().is_some_and(|e| !e.is_empty()),
            "introspection is refused with an error, not a silent null: {body:#}"
        );
        assert!(
            body["errors"][0]["extensions"]["code"].is_string(),
            "{body:#}"
        );
    }
}

#[tokio::test]
async fn production_mode_serves_graphiql_and_introspection_when_enabled() {
    let app = spawn_app_with(|s| {
        production(s);
        s.graphiql = Some(true);
        s.introspection = Some(true);
    })
    .await;
    let response = get_page(&app).await;
    assert_eq!(response.status().as_u16(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("graphiql"), "{page}");
    assert!(
        !page.contains("Bearer"),
        "no development token in production: {page}"
    );

    let data = app.ok(INTROSPECTION, json!({})).await;
    let types = data["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "Lead"), "{data:#}");
}

fn sqlite_settings(dir: &tempfile::TempDir) -> Settings {
    Settings::for_database(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("x.db").display()
    ))
}

async fn build_error(settings: Settings) -> String {
    match Application::build(settings).await {
        Ok(_) => panic!("the application was built"),
        Err(err) => format!("{err:#}"),
    }
}

#[tokio::test]
async fn production_mode_without_a_secret_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = sqlite_settings(&dir);
    settings.production = true;
    let message = build_error(settings).await;
    assert!(message.contains("LEADQ_JWT_SECRET"), "{message}");
}

#[tokio::test]
async fn a_secret_shorter_than_32_characters_is_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    for production in [false, true] {
        let mut settings = sqlite_settings(&dir);
        settings.production = production;
        settings.jwt_secret = Some("x".repeat(31));
        let message = build_error(settings).await;
        assert!(message.contains("32"), "{message}");
    }
    let mut settings = sqlite_settings(&dir);
    settings.production = true;
    settings.jwt_secret = Some("x".repeat(32));
    assert!(Application::build(settings).await.is_ok(), "32 are enough");
}
