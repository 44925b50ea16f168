use serde_json::{Value, json};

use crate::helpers::spawn_app;

async fn post(app: &crate::helpers::TestApp, auth: Option<&str>) -> (u16, Option<String>, Value) {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": "{ me { name } }" }));
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, challenge, response.json().await.unwrap())
}

#[tokio::test]
async fn without_a_valid_token_the_answer_is_401_unauthenticated() {
    let app = spawn_app().await;
    let forged = leadq::auth::TokenKeys::new(b"some-other-secret-some-other-secret", None, None)
        .mint(app.admin_id, chrono::Duration::hours(1))
        .unwrap();
    let expired = app
        .keys
        .mint(app.admin_id, chrono::Duration::hours(-2))
        .unwrap();
    let unknown_user = app
        .keys
        .mint(uuid::Uuid::now_v7(), chrono::Duration::hours(1))
        .unwrap();
    for auth in [
        None,
        Some("Basic YWRtaW46YWRtaW4=".to_owned()),
        Some("Bearer garbage".to_owned()),
        Some(format!("Bearer {forged}")),
        Some(format!("Bearer {expired}")),
        Some(format!("Bearer {unknown_user}")),
    ] {
        let (status, challenge, body) = post(&app, auth.as_deref()).await;
        assert_eq!(status, 401, "{auth:?}");
        assert!(challenge.unwrap().starts_with("Bearer"), "{auth:?}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{auth:?}"
        );
        assert!(body.get("data").is_none() || body["data"].is_null());
    }
    let (status, _, body) = post(&app, Some(&format!("Bearer {}", app.admin_token))).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["me"]["name"], "Test Administrator");
}
