//! The routes of `liveness-api`, the state they share, and the small handlers (frontend
//! config, probes, the verdict keys, metrics); the session routes are in
//! [`super::sessions`].
//!
//! [`Endpoint::ALL`] is the single list the routers are built from; the OpenAPI document is
//! tested against it, so a route cannot be added without being documented. Each endpoint
//! says which listener serves it: the public one, or the metrics one browsers never reach.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use serde::Serialize;

use super::auth::{AuthConfig, Authenticator};
use super::config::Config;
use super::error::ApiError;
use super::layers;
use super::limits::CreateLimit;
use super::metrics::{self, Metrics};
use super::rekognition::{AwsError, LivenessSessions, Operation};
use super::sessions::{self, LimitKey, tidy};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub sessions: Arc<dyn LivenessSessions>,
    pub metrics: Arc<Metrics>,
    /// Checks callers as the app configured.
    pub auth: Arc<Authenticator>,
    /// Sessions per minute per caller; `None` without a limit.
    pub create_limit: Option<Arc<CreateLimit<LimitKey>>>,
    /// False once shutdown began, so `/readyz` takes the pod out of rotation.
    pub ready: Arc<AtomicBool>,
}

impl AppState {
    pub fn new(config: Config, sessions: Arc<dyn LivenessSessions>) -> Self {
        AppState {
            auth: Arc::new(Authenticator::new(&config.security.auth)),
            create_limit: CreateLimit::per_minute(config.security.create_limit_per_minute),
            config: Arc::new(config),
            sessions,
            metrics: Arc::new(Metrics::new()),
            ready: Arc::new(AtomicBool::new(true)),
        }
    }

    /// Counts the call and its outcome in the metrics.
    pub(super) async fn call<T>(
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

/// Which listener serves a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// `--listen`: browsers, the app's backend, probes.
    Public,
    /// `--metrics-listen`: Prometheus only.
    Metrics,
}

/// Every route the service serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    CreateSession,
    GetSession,
    FrontendConfig,
    VerdictKeys,
    Healthz,
    Readyz,
    Metrics,
}

impl Endpoint {
    pub const ALL: [Endpoint; 7] = [
        Endpoint::CreateSession,
        Endpoint::GetSession,
        Endpoint::FrontendConfig,
        Endpoint::VerdictKeys,
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
            Endpoint::VerdictKeys => "/.well-known/jwks.json",
            Endpoint::Healthz => "/healthz",
            Endpoint::Readyz => "/readyz",
            Endpoint::Metrics => "/metrics",
        }
    }

    pub fn listener(self) -> Listener {
        match self {
            Endpoint::Metrics => Listener::Metrics,
            _ => Listener::Public,
        }
    }

    /// Every status the route can answer with (the OpenAPI document lists the same).
    pub fn statuses(self) -> &'static [u16] {
        match self {
            Endpoint::CreateSession => &[201, 400, 401, 413, 429, 502, 503, 504],
            Endpoint::GetSession => &[200, 400, 401, 404, 429, 502, 503, 504],
            Endpoint::FrontendConfig => &[200, 429],
            Endpoint::VerdictKeys | Endpoint::Healthz | Endpoint::Metrics => &[200],
            Endpoint::Readyz => &[200, 503],
        }
    }

    /// Browser-facing routes are rate limited per client IP; probes, keys and scrapes
    /// are not.
    fn rate_limited(self) -> bool {
        matches!(
            self,
            Endpoint::CreateSession | Endpoint::GetSession | Endpoint::FrontendConfig
        )
    }

    fn handler(self) -> MethodRouter<AppState> {
        match self {
            Endpoint::CreateSession => post(sessions::create_session),
            Endpoint::GetSession => get(sessions::get_session),
            Endpoint::FrontendConfig => get(frontend_config),
            Endpoint::VerdictKeys => get(verdict_keys),
            Endpoint::Healthz => get(healthz),
            Endpoint::Readyz => get(readyz),
            Endpoint::Metrics => get(metrics_text),
        }
    }
}

/// The routes of `listener`, with the rate limit on the browser-facing ones;
/// cross-cutting layers are added by [`super::server`].
pub fn router(state: AppState, listener: Listener) -> Router {
    let limit = layers::rate_limit(
        state.config.rate_limit_per_minute,
        &state.config.security.trusted_proxies,
    );
    let mut router = Router::new();
    for endpoint in Endpoint::ALL
        .into_iter()
        .filter(|e| e.listener() == listener)
    {
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
pub struct FrontendConfigBody {
    pub region: String,
    pub identity_pool_id: Option<String>,
    pub sessions_url: String,
    pub threshold: f64,
    /// How the page signs its user in before it may create a session.
    pub auth: FrontendAuth,
    /// Only with `LIVENESS_EMULATOR_URL` (local development).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emulator: Option<FrontendEmulator>,
}

/// What a page needs to sign its user in: public values only (a user pool id and its app
/// client ids, or an issuer and its audiences), never a JWKS override or a secret.
#[derive(Debug, Serialize, PartialEq)]
#[serde(tag = "mode", rename_all = "camelCase")]
pub enum FrontendAuth {
    /// Sign in to this user pool with one of these app clients; send its ID or access token.
    #[serde(rename_all = "camelCase")]
    Cognito {
        user_pool_id: String,
        client_ids: Vec<String>,
    },
    /// Sign in with this OpenID Connect issuer; send a token for one of these audiences.
    Oidc {
        issuer: String,
        audiences: Vec<String>,
    },
    /// No sign-in: anyone may create a session.
    None,
}

impl From<&AuthConfig> for FrontendAuth {
    fn from(auth: &AuthConfig) -> Self {
        match auth {
            AuthConfig::Cognito {
                user_pool_id,
                client_ids,
                ..
            } => FrontendAuth::Cognito {
                user_pool_id: user_pool_id.clone(),
                client_ids: client_ids.clone(),
            },
            AuthConfig::Oidc {
                issuer, audiences, ..
            } => FrontendAuth::Oidc {
                issuer: issuer.clone(),
                audiences: audiences.clone(),
            },
            AuthConfig::None => FrontendAuth::None,
        }
    }
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

async fn frontend_config(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Json<FrontendConfigBody> {
    let c = &state.config;
    let base = c.public_url.as_deref().unwrap_or("");
    Json(FrontendConfigBody {
        region: c.region.clone(),
        identity_pool_id: c.identity_pool_id.clone(),
        sessions_url: format!("{base}/v1/sessions"),
        threshold: tidy(c.threshold),
        auth: FrontendAuth::from(&c.security.auth),
        emulator: c.emulator_url.as_deref().map(FrontendEmulator::from_origin),
    })
}

/// The verdict keys, current and previous; caches may keep them a few minutes.
async fn verdict_keys(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let mut response = Json(state.config.security.signer.jwks()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if state.ready.load(Ordering::Relaxed) {
        Ok(Json(serde_json::json!({ "status": "ready" })))
    } else {
        Err(ApiError::NotReady)
    }
}

async fn metrics_text(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
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
    fn only_metrics_are_off_the_public_listener() {
        let off: Vec<_> = Endpoint::ALL
            .into_iter()
            .filter(|e| e.listener() != Listener::Public)
            .collect();
        assert_eq!(off, [Endpoint::Metrics]);
    }
}
