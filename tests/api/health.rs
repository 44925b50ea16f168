use crate::helpers::spawn_app;

#[tokio::test]
async fn health_answers_ok_when_the_database_is_reachable() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/health", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn graphiql_is_served_on_get() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/graphql", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("graphiql"), "{page}");
}

#[tokio::test]
async fn the_development_playground_carries_a_working_token_for_loopback_clients() {
    let app = spawn_app().await;
    let page = app
        .client
        .get(format!("{}/graphql", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page.find("Bearer ").expect("a token in the page") + "Bearer ".len();
    let token: String = page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .collect();
    let body = app
        .graphql_as(&token, "{ me { name roles } }", serde_json::json!({}))
        .await;
    assert_eq!(
        body["data"]["me"]["roles"][0], "SYSTEM_ADMINISTRATOR",
        "{body}"
    );
}

#[tokio::test]
async fn two_server_instances_on_one_database_see_each_others_writes() {
    let first = spawn_app().await;
    let second = first.second_instance().await;
    let lead = first
        .create_lead(serde_json::json!({ "topic": "Seen by both" }))
        .await;
    let seen = second.lead(lead["id"].as_str().unwrap()).await;
    assert_eq!(seen["topic"], "Seen by both");
}
