//! `GET /assets/...`: the face detector model and the tfjs WASM files the browser component
//! loads (`faceModelUrl`, `binaryPath`), served from `--assets-dir`.
//!
//! The page runs on another origin (the app's dev server), so every answer allows any
//! origin. `scripts/emulator-assets.sh` fills the directory from the package registries.

use std::path::{Component, Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The directory assets are served from.
#[derive(Debug, Clone)]
pub struct AssetsDir(pub PathBuf);

/// The content type for a file name (by extension).
pub fn content_type(name: &str) -> &'static str {
    match Path::new(name).extension().and_then(|e| e.to_str()) {
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("js") => "text/javascript",
        Some("txt") | Some("md") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `relative` as a path under `root`, refusing anything that could leave it.
pub fn resolve(root: &Path, relative: &str) -> Option<PathBuf> {
    let relative = Path::new(relative);
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| root.join(relative))
}

fn cors(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// Serves one file under the assets directory.
pub async fn serve(State(dir): State<AssetsDir>, UrlPath(path): UrlPath<String>) -> Response {
    let Some(file) = resolve(&dir.0, &path) else {
        return cors((StatusCode::NOT_FOUND, "not found").into_response());
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => cors(([(header::CONTENT_TYPE, content_type(&path))], bytes).into_response()),
        Err(_) => cors(
            (
                StatusCode::NOT_FOUND,
                format!("{path} is not in the assets directory; run scripts/emulator-assets.sh"),
            )
                .into_response(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_follow_the_extension() {
        assert_eq!(
            content_type("wasm/tfjs-backend-wasm-simd.wasm"),
            "application/wasm"
        );
        assert_eq!(
            content_type("models/facemesh-detection-short.json"),
            "application/json"
        );
        assert_eq!(
            content_type("models/facemesh-detection-short.bin"),
            "application/octet-stream"
        );
    }

    #[test]
    fn paths_cannot_leave_the_directory() {
        let root = Path::new("/srv/assets");
        assert_eq!(
            resolve(root, "models/a.json"),
            Some(root.join("models/a.json"))
        );
        assert_eq!(resolve(root, "../secret"), None);
        assert_eq!(resolve(root, "/etc/passwd"), None);
        assert_eq!(resolve(root, "models/../../x"), None);
    }
}
