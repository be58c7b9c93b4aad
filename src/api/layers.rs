//! Cross-cutting HTTP protection: CORS, the per-client-IP rate limit (the client as
//! [`super::client_ip`] finds it behind trusted proxies), and turning the bare
//! error responses of lower layers (413, 405, timeouts) into the service's JSON errors.
//!
//! The layers themselves come from well-kept crates (tower-http, tower_governor); this
//! module only configures them the way a browser-facing liveness backend needs.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use governor::middleware::NoOpMiddleware;
use tower_governor::GovernorError;
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::client_ip::{ClientIpKey, TrustedProxies};
use super::error::ApiError;
use super::limits::every_minute_while_alive;

/// The header a client sends to make `POST /v1/sessions` idempotent.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The header carrying the session token on `GET /v1/sessions/{sessionId}`.
pub const SESSION_TOKEN: &str = "x-liveness-session-token";

/// CORS for the configured origins. Other origins get no `Access-Control-Allow-Origin`,
/// so browsers refuse to hand them the answer; preflights are answered here.
pub fn cors(allowed_origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = allowed_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static(IDEMPOTENCY_KEY),
            HeaderName::from_static(SESSION_TOKEN),
        ])
        .expose_headers([
            header::RETRY_AFTER,
            header::LOCATION,
            header::WWW_AUTHENTICATE,
        ])
        .max_age(Duration::from_secs(600))
}

pub type RateLimitLayer = GovernorLayer<ClientIpKey, NoOpMiddleware, Body>;

/// A limit of `per_minute` requests per client with bursts of the same size, answering
/// 429 with `Retry-After`; `None` when `per_minute` is 0 (no limit).
pub fn rate_limit(per_minute: u32, proxies: &TrustedProxies) -> Option<RateLimitLayer> {
    if per_minute == 0 {
        return None;
    }
    let period_ms = (60_000 / u64::from(per_minute)).max(1);
    let config = GovernorConfigBuilder::default()
        .per_millisecond(period_ms)
        .burst_size(per_minute)
        .key_extractor(ClientIpKey(proxies.clone()))
        .finish()?;
    let config = Arc::new(config);
    // The limiter keeps a state per client address; drop the ones that are full again.
    every_minute_while_alive(Arc::downgrade(&config), |config| {
        config.limiter().retain_recent()
    });
    Some(GovernorLayer::new(config).error_handler(|e| {
        match e {
            // governor rounds the wait down to whole seconds; never tell a client 0.
            GovernorError::TooManyRequests { wait_time, .. } => ApiError::RateLimited {
                retry_after_secs: wait_time + 1,
            }
            .into_response(),
            other => {
                tracing::error!(error = %other, "rate limiter could not identify the client");
                ApiError::Passthrough(StatusCode::INTERNAL_SERVER_ERROR).into_response()
            }
        }
    }))
}

/// Replaces the plain-text or empty error bodies of lower layers with the JSON error of
/// the same status, keeping their headers (`Allow`, CORS, `Retry-After`).
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return response;
    }
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::NOT_FOUND => ApiError::RouteNotFound,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => ApiError::Timeout,
        other => ApiError::Passthrough(other),
    };
    let (parts, _) = response.into_parts();
    let mut replaced = error.into_response();
    *replaced.status_mut() = status;
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replaced.headers_mut().append(name.clone(), value.clone());
        }
    }
    replaced
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bare_errors_become_json_and_keep_their_headers() {
        let bare = Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header(header::ALLOW, "GET,HEAD")
            .body(Body::empty())
            .unwrap();
        let json = json_errors(bare).await;
        assert_eq!(json.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(json.headers()[header::ALLOW], "GET,HEAD");
        assert_eq!(json.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn zero_per_minute_means_no_limit() {
        assert!(rate_limit(0, &TrustedProxies::default()).is_none());
        assert!(rate_limit(60, &TrustedProxies::default()).is_some());
    }
}
