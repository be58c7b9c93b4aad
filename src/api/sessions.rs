//! `POST /v1/sessions` and `GET /v1/sessions/{sessionId}`: sessions of an authenticated
//! caller, bound to them, with the score kept on the server and a signed verdict.
//!
//! Handlers only translate between HTTP and [`super::rekognition::LivenessSessions`]; the
//! rules (id format, `isLive`, what the browser sees) are small pure functions tested
//! beside them. A session read with a wrong or missing session token, or by another
//! caller, is answered exactly like a session Rekognition does not know (404), so the
//! answer tells nobody whether someone else's session exists.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::auth::Caller;
use super::error::ApiError;
use super::layers::{IDEMPOTENCY_KEY, SESSION_TOKEN};
use super::rekognition::{Feedback, Operation, SessionResults};
use super::routes::AppState;
use super::verdict;
use crate::rules::SESSION_LIFETIME;

/// Whom the create limit counts against: the signed-in user, or the client address of an
/// anonymous caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LimitKey {
    User { issuer: String, subject: String },
    Address(IpAddr),
}

impl LimitKey {
    fn of(caller: &Caller, client: IpAddr) -> Self {
        match caller {
            Caller::User { issuer, subject } => LimitKey::User {
                issuer: issuer.clone(),
                subject: subject.clone(),
            },
            Caller::Anonymous => LimitKey::Address(client),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedSessionBody {
    pub session_id: String,
    /// Send it back in `X-Liveness-Session-Token` to read the session.
    pub session_token: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
}

/// What the browser sees of a session.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SessionBody {
    pub session_id: String,
    pub status: String,
    /// A hint for the UI only; the backend believes `verdict`.
    pub is_live: bool,
    /// The signed verdict (compact JWS) once the session is final, else `null`.
    pub verdict: Option<String>,
    pub feedback: Vec<Feedback>,
    /// Only with `--expose-confidence`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Option<f64>>,
    /// Only with `--expose-confidence`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
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

/// The `Idempotency-Key` header: 1–64 of `[a-zA-Z0-9-_]`.
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

/// Whose `Idempotency-Key` it is: the user; for anonymous callers also their address, so
/// a guest who learns another guest's key still gets a session of their own.
fn idempotency_scope(caller: &Caller, client: IpAddr) -> Vec<String> {
    match caller {
        Caller::User { issuer, subject } => vec![issuer.clone(), subject.clone()],
        Caller::Anonymous => vec!["anonymous".into(), client.to_string()],
    }
}

/// f32 → JSON number without float noise (97.3, not 97.30000305175781).
pub fn tidy(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub async fn create_session(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    // Read (and ignored) so the body limit applies to chunked bodies too.
    _body: Bytes,
) -> Result<Response, ApiError> {
    let caller = state.auth.caller(&headers).await?;
    let security = &state.config.security;
    let client = security.trusted_proxies.client_ip(peer.ip(), &headers);
    let key = idempotency_key(&headers)?;
    if let Some(limit) = &state.create_limit {
        limit
            .check(&LimitKey::of(&caller, client))
            .map_err(|retry_after_secs| ApiError::SessionLimit { retry_after_secs })?;
    }
    let token = key.map(|k| {
        let scope = idempotency_scope(&caller, client);
        let scope: Vec<&str> = scope.iter().map(String::as_str).collect();
        security.binding.client_request_token(&scope, k)
    });
    let created = state
        .call(
            Operation::CreateSession,
            state.sessions.create_session(token.as_deref()),
        )
        .await?;
    let lifetime = chrono::Duration::from_std(SESSION_LIFETIME).unwrap_or_default();
    let expires_at =
        (chrono::Utc::now() + lifetime).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let location = format!("/v1/sessions/{}", created.session_id);
    let body = CreatedSessionBody {
        session_token: security.binding.session_token(&caller, &created.session_id),
        session_id: created.session_id,
        expires_at,
    };
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(no_store(response))
}

pub async fn get_session(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = state.auth.caller(&headers).await?;
    if !valid_session_id(&session_id) {
        return Err(ApiError::InvalidSessionId);
    }
    let security = &state.config.security;
    let token = headers
        .get(SESSION_TOKEN)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !security
        .binding
        .verify_session_token(&caller, &session_id, token)
    {
        return Err(ApiError::UnknownSession {
            region: state.config.region.clone(),
        });
    }
    let results = state
        .call(
            Operation::GetResults,
            state.sessions.get_results(&session_id),
        )
        .await?;
    let body = browser_view(&state, &caller, results)?;
    Ok(no_store(Json(body).into_response()))
}

/// The session as the browser may see it, with a verdict once it is final.
fn browser_view(
    state: &AppState,
    caller: &Caller,
    results: SessionResults,
) -> Result<SessionBody, ApiError> {
    let config = &state.config;
    let live = is_live(&results.status, results.confidence, config.threshold);
    let verdict = if verdict::is_final(&results.status) {
        let signed = config
            .security
            .signer
            .sign(caller, &results.session_id, live, &results.status)
            .map_err(|e| {
                tracing::error!(error = %e, "cannot sign a verdict");
                ApiError::Passthrough(StatusCode::INTERNAL_SERVER_ERROR)
            })?;
        Some(signed)
    } else {
        None
    };
    let expose = config.security.expose_confidence;
    Ok(SessionBody {
        is_live: live,
        verdict,
        feedback: results.feedback,
        confidence: expose.then(|| results.confidence.map(tidy)),
        threshold: expose.then(|| tidy(config.threshold)),
        session_id: results.session_id,
        status: results.status,
    })
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
    fn anonymous_idempotency_is_scoped_by_address_and_users_by_subject() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert_ne!(
            idempotency_scope(&Caller::Anonymous, ip),
            idempotency_scope(&Caller::Anonymous, other)
        );
        let alice = Caller::User {
            issuer: "i".into(),
            subject: "alice".into(),
        };
        assert_eq!(
            idempotency_scope(&alice, ip),
            idempotency_scope(&alice, other),
            "a user keeps their key across networks"
        );
    }

    #[test]
    fn confidence_keeps_its_decimal_form() {
        assert_eq!(tidy(97.3), 97.3);
        assert_eq!(tidy(90.0), 90.0);
    }
}
