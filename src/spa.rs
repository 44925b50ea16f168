//! `leadq serve --spa DIR`: serves a built single-page app (such as `examples/spa/dist`) from
//! leadq's own origin, beside the API, so a deployment needs no second web server and no CORS.
//!
//! `GET` of any path no other route takes: the file of that path under `DIR` when there is one
//! (never outside `DIR`: `..`, hidden names and symbolic links that lead out are refused), else
//! `DIR/index.html` for paths that do not name a file (a client-side route), else 404. Files under
//! `assets/` (Vite's content-hashed names) are cached for a year; everything else is revalidated.

use std::path::{Component, Path, PathBuf};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use anyhow::{Context, bail};

/// The app's directory, canonical.
#[derive(Debug, Clone)]
pub struct SpaRoot(PathBuf);

impl SpaRoot {
    /// Checks that `dir` is a directory with an `index.html`.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let root = dir
            .canonicalize()
            .with_context(|| format!("--spa {}: no such directory", dir.display()))?;
        if !root.join("index.html").is_file() {
            bail!(
                "--spa {}: no index.html in it (build the app first: npm run build in examples/spa)",
                dir.display()
            );
        }
        Ok(Self(root))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

/// The media type of a file, by its extension.
fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// The relative path a request names, or None when it tries to leave the directory or names a
/// hidden file.
fn relative(path: &str) -> Option<PathBuf> {
    let mut relative = PathBuf::new();
    for component in Path::new(path.trim_start_matches('/')).components() {
        match component {
            Component::Normal(name) => {
                let name = name.to_str()?;
                if name.starts_with('.') || name.contains('\\') {
                    return None;
                }
                relative.push(name);
            }
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(relative)
}

/// A file of the app, if `relative` names one inside the root (after symbolic links).
async fn existing_file(root: &SpaRoot, relative: &Path) -> Option<PathBuf> {
    if relative.as_os_str().is_empty() {
        return None;
    }
    let file = tokio::fs::canonicalize(root.0.join(relative)).await.ok()?;
    let metadata = tokio::fs::metadata(&file).await.ok()?;
    (file.starts_with(&root.0) && metadata.is_file()).then_some(file)
}

async fn send(file: &Path, cache: &'static str) -> HttpResponse {
    match tokio::fs::read(file).await {
        Ok(bytes) => HttpResponse::Ok()
            .content_type(content_type(file))
            .insert_header((header::CACHE_CONTROL, cache))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(bytes),
        Err(err) => {
            tracing::warn!(%err, file = %file.display(), "cannot read a file of the app");
            HttpResponse::NotFound().finish()
        }
    }
}

/// `GET /{path}`: a file of the app, or its index.html for a client-side route.
pub async fn serve(req: HttpRequest, root: web::Data<SpaRoot>) -> HttpResponse {
    let Some(relative) = relative(req.match_info().query("path")) else {
        return HttpResponse::NotFound().finish();
    };
    if let Some(file) = existing_file(&root, &relative).await {
        let cache = if relative.starts_with("assets") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return send(&file, cache).await;
    }
    // A path with an extension names a file that is not there; anything else is a route of the
    // app, which its index.html handles.
    if relative.extension().is_some() {
        return HttpResponse::NotFound().finish();
    }
    send(&root.0.join("index.html"), "no-cache").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_directory() {
        assert_eq!(
            relative("/assets/app.js"),
            Some(PathBuf::from("assets/app.js"))
        );
        assert_eq!(relative("/"), Some(PathBuf::new()));
        assert_eq!(relative("/./leads/1"), Some(PathBuf::from("leads/1")));
        assert_eq!(relative("/../Cargo.toml"), None);
        assert_eq!(relative("/assets/../../etc/passwd"), None);
        assert_eq!(relative("/.env"), None);
    }
}
