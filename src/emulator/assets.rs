//! `GET /assets/...`: the face detector model and the tfjs WASM files the browser component
//! loads (`faceModelUrl`, `binaryPath`), served from `--assets-dir`.
//!
//! tower-http's `ServeDir` does the serving: content types from the extension
//! (`application/wasm` matters, browsers refuse to compile WASM served otherwise), no path
//! leaving the directory, 404 for anything missing (directories included: there is no index).
//! The page runs on another origin (the app's dev server), so every answer allows any
//! origin. `scripts/emulator-assets.sh` fills the directory from the package registries.

use std::path::PathBuf;

use axum::Router;
use axum::handler::HandlerWithoutStateExt;
use axum::http::Uri;
use tower_http::cors::{Any, CorsLayer};
use tower_http::services::ServeDir;

/// The route prefix assets are served under.
pub const PREFIX: &str = "/assets";

/// `GET /assets/<path>` from the files under `dir`, with `Access-Control-Allow-Origin: *`.
pub fn router(dir: PathBuf) -> Router {
    let files = serve_dir(dir).not_found_service(missing.into_service());
    Router::new()
        .nest_service(PREFIX, files)
        .layer(CorsLayer::new().allow_origin(Any))
}

/// Exactly the file asked for: no index for directories, no `.html` guessed.
fn serve_dir(dir: PathBuf) -> ServeDir {
    ServeDir::new(dir)
        .append_index_html_on_directories(false)
        .html_as_default_extension(false)
}

/// The 404 body: which file, and how to get the assets.
async fn missing(uri: Uri) -> String {
    let path = uri.path().trim_start_matches('/');
    format!("{path} is not in the assets directory; run scripts/emulator-assets.sh")
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};

    use super::*;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("assets-unit-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("models")).unwrap();
        std::fs::write(dir.join("models/a.json"), b"{}").unwrap();
        std::fs::write(dir.join("models/a.bin"), [1u8]).unwrap();
        std::fs::write(dir.join("x.wasm"), b"\0asm").unwrap();
        dir
    }

    async fn get(dir: &std::path::Path, path: &str) -> (StatusCode, Option<String>) {
        let mut files = serve_dir(dir.to_path_buf());
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = files.try_call(request).await.unwrap();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        (response.status(), content_type)
    }

    #[tokio::test]
    async fn types_follow_the_extension() {
        let dir = scratch();
        for (path, expected) in [
            ("/x.wasm", "application/wasm"),
            ("/models/a.json", "application/json"),
            ("/models/a.bin", "application/octet-stream"),
        ] {
            assert_eq!(
                get(&dir, path).await,
                (StatusCode::OK, Some(expected.to_owned())),
                "{path}"
            );
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn paths_cannot_leave_the_directory() {
        let dir = scratch();
        let inside = dir.join("models");
        for path in ["/../x.wasm", "/%2e%2e/x.wasm", "/a/../../x.wasm", "/"] {
            assert_eq!(get(&inside, path).await.0, StatusCode::NOT_FOUND, "{path}");
        }
        assert_eq!(get(&inside, "/a.json").await.0, StatusCode::OK);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
