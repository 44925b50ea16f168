//! `leadq serve --spa DIR` (issue 17): a built single-page app served from leadq's own origin,
//! beside the API. (examples/spa/test/walk.mjs drives the real app in Chromium.)

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn spa_dir_serves_the_app_its_routes_and_leaves_the_api_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>the app</title>",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    std::fs::write(dir.path().join("assets/app-1a2b.js"), "console.log(1)").unwrap();
    std::fs::write(dir.path().join(".env"), "SECRET=1").unwrap();
    let outside = tempfile::NamedTempFile::new_in(dir.path().parent().unwrap()).unwrap();
    let spa = dir.path().to_owned();
    let app = spawn_app_with(move |settings| settings.spa_dir = Some(spa)).await;
    let get = |path: &str| {
        let url = format!("{}{path}", app.address);
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap() }
    };

    let index = get("/").await;
    assert_eq!(index.status().as_u16(), 200);
    assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(index.headers()["cache-control"], "no-cache");
    assert!(index.text().await.unwrap().contains("the app"));

    let asset = get("/assets/app-1a2b.js").await;
    assert_eq!(asset.status().as_u16(), 200);
    assert_eq!(
        asset.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(
        asset.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(asset.text().await.unwrap(), "console.log(1)");

    // A client-side route gets the index; a missing file, a hidden file and a way out do not.
    let route = get("/leads/0190d5c2").await;
    assert_eq!(route.status().as_u16(), 200);
    assert!(route.text().await.unwrap().contains("the app"));
    assert_eq!(get("/assets/missing.js").await.status().as_u16(), 404);
    assert_eq!(get("/.env").await.status().as_u16(), 404);
    let name = outside.path().file_name().unwrap().to_str().unwrap();
    for path in [
        format!("/../{name}"),
        format!("/%2E%2E/{name}"),
        format!("/assets/..%2F..%2F{name}"),
    ] {
        let response = get(&path).await;
        assert_ne!(response.status().as_u16(), 200, "{path}");
    }

    // The API, health and the playground are untouched.
    let me = app.graphql("{ me { name } }", serde_json::json!({})).await;
    assert_eq!(me["data"]["me"]["name"], "Test Administrator", "{me}");
    assert_eq!(get("/health").await.status().as_u16(), 200);
    let playground = get("/graphql").await.text().await.unwrap();
    assert!(playground.contains("leadq GraphiQL"));
}

#[tokio::test]
async fn spa_dir_without_an_index_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    // Refused before the database is even opened: this one does not exist.
    let mut settings = leadq::config::Settings::for_database("postgres://nobody@127.0.0.1:9/none");
    settings.spa_dir = Some(dir.path().to_owned());
    let error = leadq::startup::Application::build(settings)
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("no index.html"), "{error}");
}
