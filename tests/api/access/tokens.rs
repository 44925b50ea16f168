//! Tokens: issuer, audience, and role changes taking effect on the next request.

use super::*;

// Tokens

async fn me_status(app: &TestApp, token: &str) -> (u16, Value) {
    let response = app
        .client
        .post(graphql_url(app))
        .bearer_auth(token)
        .json(&json!({ "query": "{ me { name roles } }" }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// An application expecting `iss` "leadq" and `aud` "crm", a salesperson in it, and a token for
/// that salesperson signed with the right secret carrying `iss` and `aud` as given.
async fn issuer_app() -> (TestApp, impl Fn(Option<&str>, Option<&str>) -> String) {
    let app = spawn_app_with(|s| {
        s.jwt_secret = Some(SECRET.into());
        s.jwt_issuer = Some("leadq".into());
        s.jwt_audience = Some("crm".into());
    })
    .await;
    let (user, _) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let mint = move |iss: Option<&str>, aud: Option<&str>| {
        TokenKeys::new(
            SECRET.as_bytes(),
            iss.map(str::to_owned),
            aud.map(str::to_owned),
        )
        .mint(user, chrono::Duration::hours(1))
        .unwrap()
    };
    (app, mint)
}

async fn assert_token_refused(app: &TestApp, token: &str, what: &str) {
    let (status, body) = me_status(app, token).await;
    assert_eq!(status, 401, "{what}: {body:#}");
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{what}");
    assert!(body["data"].is_null(), "{what}");
}

#[tokio::test]
async fn tokens_with_the_wrong_issuer_or_audience_are_401() {
    let (app, mint) = issuer_app().await;
    let (_, own) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (status, body) = me_status(&app, &own).await;
    assert_eq!(status, 200, "the app's own token: {body:#}");
    assert_eq!(body["data"]["me"]["name"], "Sam Seller");
    let (status, body) = me_status(&app, &mint(Some("leadq"), Some("crm"))).await;
    assert_eq!(status, 200, "right secret, issuer and audience: {body:#}");

    assert_token_refused(&app, &mint(Some("leadq"), Some("other")), "wrong audience").await;
    assert_token_refused(&app, &mint(Some("other"), Some("crm")), "wrong issuer").await;
    let other_secret = TokenKeys::new(
        b"another-secret-another-secret-another-secret",
        Some("leadq".into()),
        Some("crm".into()),
    )
    .mint(app.admin_id, chrono::Duration::hours(1))
    .unwrap();
    assert_token_refused(&app, &other_secret, "wrong secret").await;
}

#[tokio::test]
async fn tokens_without_the_configured_issuer_or_audience_are_401() {
    let (app, mint) = issuer_app().await;
    assert_token_refused(&app, &mint(None, Some("crm")), "no issuer").await;
    assert_token_refused(&app, &mint(Some("leadq"), None), "no audience").await;
    assert_token_refused(&app, &mint(None, None), "neither").await;
}

#[tokio::test]
async fn a_role_change_takes_effect_on_the_next_request() {
    let app = spawn_app().await;
    let (seller, token) = app.user("Sam Seller", &[Role::Salesperson]).await;
    let (other, _) = app.user("Otto Other", &[Role::Salesperson]).await;
    let lead = app.create_lead(json!({})).await;
    let vars = json!({ "input": { "leadId": lead["id"], "ownerId": other.to_string() } });
    let body = app.graphql_as(&token, ASSIGN, vars.clone()).await;
    assert_refused(&body, "FORBIDDEN");

    // Promoted, with the same token.
    let promoted = app.user("Sam Seller", &[Role::SalesManager]).await;
    assert_eq!(promoted.0, seller);
    let body = app.graphql_as(&token, ASSIGN, vars).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let (_, body) = me_status(&app, &token).await;
    assert_eq!(body["data"]["me"]["roles"], json!(["SALES_MANAGER"]));
}

// ---------------------------------------------------------------------------------------------
// CORS

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, graphql_url(app))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap()
}

fn allowed_origin(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn cors_allows_the_configured_origin_only() {
    let app = spawn_app_with(|s| s.cors_origins = vec!["https://app.example.com".into()]).await;
    let response = preflight(&app, "https://app.example.com").await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(
        allowed_origin(&response).as_deref(),
        Some("https://app.example.com")
    );

    let response = preflight(&app, "https://evil.example.com").await;
    assert_eq!(allowed_origin(&response), None);

    // The real request from the allowed origin carries the header as well.
    let response = app
        .client
        .post(graphql_url(&app))
        .header("Origin", "https://app.example.com")
        .bearer_auth(&app.admin_token)
        .json(&json!({ "query": "{ me { name } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        allowed_origin(&response).as_deref(),
        Some("https://app.example.com")
    );
}

#[tokio::test]
async fn without_configured_origins_no_cross_origin_call_is_allowed() {
    let app = spawn_app().await;
    let response = preflight(&app, "https://app.example.com").await;
    assert_eq!(allowed_origin(&response), None);
}

// ---------------------------------------------------------------------------------------------
// The `leadq token` command

#[tokio::test]
async fn the_token_command_prints_a_token_that_works_against_the_server() {
    let app = spawn_app().await;
    let database_url = app.database_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_leadq"));
        for (key, _) in std::env::vars() {
            if key.starts_with("LEADQ_") {
                command.env_remove(key);
            }
        }
        command
            .args(["--database-url", &database_url])
            .args(["token", "--name", "Cleo CLI", "--role", "SALESPERSON"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "leadq token failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(
        !token.is_empty() && !token.contains(char::is_whitespace),
        "{token:?}"
    );

    let (status, body) = me_status(&app, &token).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(
        body["data"]["me"],
        json!({ "name": "Cleo CLI", "roles": ["SALESPERSON"] })
    );
    // The user it created is an ordinary salesperson.
    let body = app
        .graphql_as(
            &token,
            SETTINGS,
            json!({ "input": { "summarizeLead": false } }),
        )
        .await;
    assert_refused(&body, "FORBIDDEN");
}
