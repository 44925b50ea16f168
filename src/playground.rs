//! The GraphiQL playground (`GET /graphql` in a browser): a page and its assets, all embedded in
//! the binary (`assets/graphiql/`: pinned production builds of React 18, GraphiQL 3 and its
//! explorer plugin, with their licences; `vendor.sh` there re-vendors them). Nothing is fetched
//! from anywhere else, so the playground works on an air-gapped network.
//!
//! Assets are served under `/graphiql/assets/{name}` with a long cache lifetime: their names do
//! not change, but the page asks for them with `?v=` and the build's version, so an upgrade is
//! seen at once. In development mode the page carries the development token in GraphiQL's
//! Headers editor, where the user sees and edits it.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/assets/graphiql/",
                $name
            )),
        }
    };
}

static ASSETS: [Asset; 12] = [
    asset!("react.production.min.js", "text/javascript; charset=utf-8"),
    asset!(
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("graphiql.min.js", "text/javascript; charset=utf-8"),
    asset!("graphiql.min.css", "text/css; charset=utf-8"),
    asset!("plugin-explorer.umd.js", "text/javascript; charset=utf-8"),
    asset!("plugin-explorer.css", "text/css; charset=utf-8"),
    asset!("leadq-graphiql.js", "text/javascript; charset=utf-8"),
    asset!("LICENSE.react", "text/plain; charset=utf-8"),
    asset!("LICENSE.react-dom", "text/plain; charset=utf-8"),
    asset!("LICENSE.graphiql", "text/plain; charset=utf-8"),
    asset!("LICENSE.plugin-explorer", "text/plain; charset=utf-8"),
    asset!("VERSIONS", "text/plain; charset=utf-8"),
];

/// The page, configured with the endpoint and, in development mode, a bearer token.
pub fn page(token: Option<&str>) -> String {
    let mut headers = serde_json::Map::new();
    if let Some(token) = token {
        headers.insert(
            "Authorization".to_owned(),
            serde_json::Value::String(format!("Bearer {token}")),
        );
    }
    let config = serde_json::json!({ "endpoint": "/graphql", "headers": headers });
    // JSON inside <script>: `<` escaped so that no value can close the element.
    let config = config.to_string().replace('<', "\\u003c");
    let version = env!("CARGO_PKG_VERSION");
    let script =
        |name: &str| format!("<script src=\"/graphiql/assets/{name}?v={version}\"></script>");
    let style = |name: &str| {
        format!("<link rel=\"stylesheet\" href=\"/graphiql/assets/{name}?v={version}\">")
    };
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>leadq GraphiQL</title>\n{}\n{}\n\
         <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>\n</head>\n<body>\n\
         <div id=\"graphiql\">Loading the leadq playground (graphiql)...</div>\n\
         <script type=\"application/json\" id=\"leadq-config\">{config}</script>\n\
         {}\n{}\n{}\n{}\n{}\n</body>\n</html>\n",
        style("graphiql.min.css"),
        style("plugin-explorer.css"),
        script("react.production.min.js"),
        script("react-dom.production.min.js"),
        script("graphiql.min.js"),
        script("plugin-explorer.umd.js"),
        script("leadq-graphiql.js"),
    )
}

/// `GET /graphiql/assets/{name}`: an embedded file, cached for a year; 404 for any other name.
pub async fn asset(name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|a| a.name == name.as_str()) {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(asset.bytes),
        None => HttpResponse::NotFound()
            .content_type("application/json")
            .body(
                serde_json::json!({ "errors": [{ "message": format!("no playground asset named {name}"),
                    "extensions": { "code": "NOT_FOUND" } }] })
                .to_string(),
            ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_refers_only_to_embedded_assets() {
        let page = page(Some("abc</script>"));
        for src in page
            .split("src=\"")
            .skip(1)
            .chain(page.split("href=\"").skip(1))
        {
            let path = src.split('"').next().unwrap();
            let name = path
                .strip_prefix("/graphiql/assets/")
                .and_then(|p| p.split('?').next())
                .unwrap_or_else(|| panic!("not an embedded asset: {path}"));
            assert!(ASSETS.iter().any(|a| a.name == name), "{name}");
        }
        assert!(
            !page.contains("abc</script>"),
            "the token cannot close the script element"
        );
        assert!(!page.contains("http"), "nothing from elsewhere");
    }
}
