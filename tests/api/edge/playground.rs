//! The GraphiQL playground is served whole by the binary: the page refers only to its own
//! assets, which come with long cache lifetimes. (The browser test in tests/web/browser.mjs runs
//! it in Chromium with no network.)

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn the_page_loads_only_embedded_assets() {
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
    assert!(
        !page.contains("unpkg") && !page.contains("cdn") && !page.contains("https://"),
        "{page}"
    );
    let assets: Vec<&str> = page
        .split(['"', '?'])
        .filter(|part| part.starts_with("/graphiql/assets/"))
        .collect();
    assert_eq!(assets.len(), 7, "{page}");
    for asset in assets {
        let response = app
            .client
            .get(format!("{}{asset}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{asset}");
        let headers = response.headers();
        assert!(
            headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age=31536000")
        );
        let content_type = headers["content-type"].to_str().unwrap().to_owned();
        assert!(
            content_type.starts_with("text/javascript") || content_type.starts_with("text/css"),
            "{asset}: {content_type}"
        );
        assert!(!response.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn licences_are_served_beside_the_assets_and_unknown_names_are_404() {
    let app = spawn_app().await;
    for name in [
        "LICENSE.react",
        "LICENSE.react-dom",
        "LICENSE.graphiql",
        "LICENSE.plugin-explorer",
        "VERSIONS",
    ] {
        let response = app
            .client
            .get(format!("{}/graphiql/assets/{name}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{name}");
    }
    let response = app
        .client
        .get(format!("{}/graphiql/assets/..%2FCargo.toml", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn without_graphiql_there_are_no_assets() {
    let app = spawn_app_with(|s| s.graphiql = Some(false)).await;
    let response = app
        .client
        .get(format!("{}/graphiql/assets/graphiql.min.js", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
}
