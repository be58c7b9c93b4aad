//! The routes of `liveness-api` and their handlers.
//!
//! [`Endpoint::ALL`] is the single list the router is built from; the OpenAPI document is
//! tested against it, so a route cannot be added without being documented. Handlers only
//! translate between HTTP and [`LivenessSessions`]; the rules (id format, `isLive`) are
//! small pure functions tested beside them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use serde::Serialize;

use super::config::Config;
use super::error::ApiError;
use super::layers::{self, IDEMPOTENCY_KEY};
use super::metrics::{self, Metrics};
use super::rekognition::{AwsError, LivenessSessions, Operation};
use crate::rules::SESSION_LIFETIME;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub sessions: Arc<dyn LivenessSessions>,
    pub metrics: Arc<Metrics>,
    /// False once shutdown began, so `/readyz` takes the pod out of rotation.
    pub ready: Arc<AtomicBool>,
}

impl AppState {
    pub fn new(config: Config, sessions: Arc<dyn LivenessSessions>) -> Self {
        AppState {
            config: Arc::new(config),
            sessions,
            metrics: Arc::new(Metrics::new()),
            ready: Arc::new(AtomicBool::new(true)),
        }
    }

    /// Counts the call and its outcome in the metrics.
    async fn call<T>(
        &self,
        operation: Operation,
        call: impl Future<Output = Result<T, AwsError>>,
    ) -> Result<T, ApiError> {
        let result = call.await;
        self.metrics
            .aws_call(operation, result.as_ref().err().map(|e| e.kind));
        result.map_err(ApiError::Aws)
    }
}

/// Every route the service serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    CreateSession,
    GetSession,
    FrontendConfig,
    Healthz,
    Readyz,
    Metrics,
}

impl Endpoint {
    pub const ALL: [Endpoint; 6] = [
        Endpoint::CreateSession,
        Endpoint::GetSession,
        Endpoint::FrontendConfig,
        Endpoint::Healthz,
        Endpoint::Readyz,
        Endpoint::Metrics,
    ];

    pub fn method(self) -> Method {
        match self {
            Endpoint::CreateSession => Method::POST,
            _ => Method::GET,
        }
    }

    /// The path template, in axum's and OpenAPI's `{param}` syntax.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::CreateSession => "/v1/sessions",
            Endpoint::GetSession => "/v1/sessions/{sessionId}",
            Endpoint::FrontendConfig => "/v1/config",
            Endpoint::Healthz => "/healthz",
            Endpoint::Readyz => "/readyz",
            Endpoint::Metrics => "/metrics",
        }
    }

    /// Every status the route can answer with (the OpenAPI document lists the same).
    pub fn statuses(self) -> &'static [u16] {
        match self {
            Endpoint::CreateSession => &[201, 400, 413, 429, 502, 503, 504],
            Endpoint::GetSession => &[200, 400, 404, 429, 502, 503, 504],
            Endpoint::FrontendConfig => &[200, 429],
            Endpoint::Healthz | Endpoint::Metrics => &[200],
            Endpoint::Readyz => &[200, 503],
        }
    }

    /// Browser-facing routes are rate limited; probes and scrapes are not.
    fn rate_limited(self) -> bool {
        matches!(
            self,
            Endpoint::CreateSession | Endpoint::GetSession | Endpoint::FrontendConfig
        )
    }

    fn handler(self) -> MethodRouter<AppState> {
        match self {
            Endpoint::CreateSession => post(create_session),
            Endpoint::GetSession => get(get_session),
            Endpoint::FrontendConfig => get(frontend_config),
            Endpoint::Healthz => get(healthz),
            Endpoint::Readyz => get(readyz),
            Endpoint::Metrics => get(metrics_text),
        }
    }
}

/// The routes, with the rate limit on the browser-facing ones; cross-cutting layers are
/// added by [`super::server::app`].
pub fn router(state: AppState) -> Router {
    let limit = layers::rate_limit(
        state.config.rate_limit_per_minute,
        state.config.trust_forwarded_for,
    );
    let mut router = Router::new();
    for endpoint in Endpoint::ALL {
        let mut handler = endpoint.handler();
        if let (true, Some(limit)) = (endpoint.rate_limited(), &limit) {
            handler = handler.layer(limit.clone());
        }
        router = router.route(endpoint.path(), handler);
    }
    router
        .fallback(|| async { ApiError::RouteNotFound })
        .with_state(state)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedSessionBody {
    pub session_id: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionBody {
    pub session_id: String,
    pub status: String,
    pub confidence: Option<f64>,
    pub is_live: bool,
    pub threshold: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrontendConfigBody {
    pub region: String,
    pub identity_pool_id: Option<String>,
    pub sessions_url: String,
    pub threshold: f64,
    /// Only with `LIVENESS_EMULATOR_URL` (local development).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emulator: Option<FrontendEmulator>,
}

/// Where FaceLivenessDetectorCore finds a liveness-emulator: its `config.endpointOverride`,
/// `faceModelUrl` and `binaryPath`.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FrontendEmulator {
    pub streaming_endpoint: String,
    pub face_model_url: String,
    pub binary_path: String,
}

impl FrontendEmulator {
    /// From the emulator's origin, `https://host[:port]` without a trailing slash.
    pub fn from_origin(origin: &str) -> Self {
        let host = origin.trim_start_matches("https://");
        FrontendEmulator {
            streaming_endpoint: format!("wss://{host}"),
            face_model_url: format!("{origin}/assets/models/facemesh-detection-short.json"),
            binary_path: format!("{origin}/assets/wasm/"),
        }
    }
}

/// A session is live only when Rekognition finished it and the confidence reaches the
/// threshold; a missing confidence is never live.
pub fn is_live(status: &str, confidence: Option<f32>, threshold: f32) -> bool {
    status == "SUCCEEDED" && confidence.is_some_and(|c| c >= threshold)
}

/// Rekognition session ids are 36-character UUIDs (8-4-4-4-12 hex digits).
pub fn valid_session_id(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `Idempotency-Key` becomes `ClientRequestToken`: 1–64 of `[a-zA-Z0-9-_]`.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| ApiError::InvalidIdempotencyKey)?;
    let valid = (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(Some(key))
    } else {
        Err(ApiError::InvalidIdempotencyKey)
    }
}

/// f32 → JSON number without float noise (97.3, not 97.30000305175781).
fn tidy(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}

async fn create_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    // Read (and ignored) so the body limit applies to chunked bodies too.
    _body: Bytes,
) -> Result<Response, ApiError> {
    let token = idempotency_key(&headers)?;
    let created = state
        .call(
            Operation::CreateSession,
            state.sessions.create_session(token),
        )
        .await?;
    let lifetime = chrono::Duration::from_std(SESSION_LIFETIME).unwrap_or_default();
    let expires_at =
        (chrono::Utc::now() + lifetime).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let location = format!("/v1/sessions/{}", created.session_id);
    let body = CreatedSessionBody {
        session_id: created.session_id,
        expires_at,
    };
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn get_session(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
) -> Result<Response, ApiError> {
    if !valid_session_id(&session_id) {
        return Err(ApiError::InvalidSessionId);
    }
    let results = state
        .call(
            Operation::GetResults,
            state.sessions.get_results(&session_id),
        )
        .await?;
    let threshold = state.config.threshold;
    let body = SessionBody {
        is_live: is_live(&results.status, results.confidence, threshold),
        session_id: results.session_id,
        status: results.status,
        confidence: results.confidence.map(tidy),
        threshold: tidy(threshold),
    };
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn frontend_config(State(state): State<AppState>) -> Json<FrontendConfigBody> {
    let c = &state.config;
    let base = c.public_url.as_deref().unwrap_or("");
    Json(FrontendConfigBody {
        region: c.region.clone(),
        identity_pool_id: c.identity_pool_id.clone(),
        sessions_url: format!("{base}/v1/sessions"),
        threshold: tidy(c.threshold),
        emulator: c.emulator_url.as_deref().map(FrontendEmulator::from_origin),
    })
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    if state.ready.load(Ordering::Relaxed) {
        Ok(Json(serde_json::json!({ "status": "ready" })))
    } else {
        Err(ApiError::NotReady)
    }
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_needs_success_and_enough_confidence() {
        assert!(is_live("SUCCEEDED", Some(90.0), 90.0));
        assert!(is_live("SUCCEEDED", Some(99.9), 90.0));
        assert!(!is_live("SUCCEEDED", Some(89.99), 90.0));
        assert!(!is_live("SUCCEEDED", None, 0.0));
        assert!(!is_live("FAILED", Some(99.0), 90.0));
        assert!(!is_live("EXPIRED", None, 90.0));
        assert!(!is_live("IN_PROGRESS", Some(99.0), 90.0));
    }

    #[test]
    fn session_ids_must_be_hyphenated_uuids() {
        assert!(valid_session_id("0b0c5f3e-1b2a-4c8e-9d6f-0a1b2c3d4e5f"));
        assert!(!valid_session_id("0b0c5f3e1b2a4c8e9d6f0a1b2c3d4e5f"));
        assert!(!valid_session_id("0b0c5f3e-1b2a-4c8e-9d6f-0a1b2c3d4e5"));
        assert!(!valid_session_id("0b0c5f3e-1b2a-4c8e-9d6f_0a1b2c3d4e5f"));
        assert!(!valid_session_id("zzzzzzzz-1b2a-4c8e-9d6f-0a1b2c3d4e5f"));
        assert!(!valid_session_id("../../../../../../../../etc/passwd00"));
    }

    #[test]
    fn idempotency_keys_follow_client_request_token_rules() {
        let mut h = HeaderMap::new();
        assert_eq!(idempotency_key(&h).unwrap(), None);
        h.insert(IDEMPOTENCY_KEY, HeaderValue::from_static("ab-C_1"));
        assert_eq!(idempotency_key(&h).unwrap(), Some("ab-C_1"));
        for bad in ["", "has space", "dots.are.bad"] {
            h.insert(IDEMPOTENCY_KEY, HeaderValue::from_str(bad).unwrap());
            assert!(idempotency_key(&h).is_err(), "{bad:?}");
        }
        h.insert(
            IDEMPOTENCY_KEY,
            HeaderValue::from_str(&"a".repeat(65)).unwrap(),
        );
        assert!(idempotency_key(&h).is_err());
    }

    #[test]
    fn confidence_keeps_its_decimal_form() {
        assert_eq!(tidy(97.3), 97.3);
        assert_eq!(tidy(90.0), 90.0);
    }
}
