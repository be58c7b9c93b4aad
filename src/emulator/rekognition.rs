//! Rekognition Face Liveness JSON 1.1 operations and the session store, shared by the tests'
//! stub ([`RekognitionStub`], plain HTTP) and the offline emulator (`liveness-emulator`, which
//! serves [`json11_router`] over HTTPS next to its streaming websocket).
//!
//! No emulator in any registry implements Face Liveness, yet the endpoint service must be
//! tested with the real `aws-sdk-rekognition` client. This stub answers the two calls the
//! service makes (`CreateFaceLivenessSession`, `GetFaceLivenessSessionResults`) the way
//! Rekognition does on the wire: AWS JSON 1.1 (`POST /`, `X-Amz-Target:
//! RekognitionService.<Operation>`, `Content-Type: application/x-amz-json-1.1`), errors as
//! `{"__type": "<Code>", "message": …}` with the status codes of the API reference.
//! Signatures are recorded (for the signing region) but not verified.
//!
//! Tests script what Rekognition answers through a [`StubHandle`]: a default [`Outcome`] for
//! new sessions, an outcome per session, or a [`Fault`] for every create. Sessions are
//! remembered, a `ClientRequestToken` seen before returns the same `SessionId`, and a
//! session nobody finished expires three minutes after creation, as in AWS.
//!
//! The emulator's websocket reports each stream here ([`StubHandle::begin_stream`],
//! [`StubHandle::finish_stream`]); the [`Policy`] then decides the session's outcome, unless a
//! test scripted one for that session already.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::judge::{ChallengeKind, ClientReport, Policy};

pub use crate::api::rekognition::SESSION_LIFETIME;

const CONTENT_TYPE_JSON_11: &str = "application/x-amz-json-1.1";

/// What `GetFaceLivenessSessionResults` reports for a session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// The browser has not streamed yet (expires after [`SESSION_LIFETIME`]).
    Created,
    /// Streaming is under way (expires after [`SESSION_LIFETIME`]).
    InProgress,
    /// The check finished with this confidence (0–100).
    Succeeded(f32),
    /// The check finished but Rekognition reports no `Confidence` field.
    SucceededWithoutConfidence,
    /// The check failed (e.g. no face), with this confidence.
    Failed(f32),
    /// The session expired before it was used.
    Expired,
    /// The call fails with this error instead of returning results.
    Fault(Fault),
}

/// An error Rekognition can answer with, in its real shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    SessionNotFound,
    Throttling,
    ProvisionedThroughputExceeded,
    AccessDenied,
    InternalServerError,
    InvalidParameter,
}

impl Fault {
    /// The `__type` code and HTTP status the API reference gives for this error.
    pub fn wire(self) -> (&'static str, StatusCode) {
        match self {
            Fault::SessionNotFound => ("SessionNotFoundException", StatusCode::BAD_REQUEST),
            Fault::Throttling => ("ThrottlingException", StatusCode::INTERNAL_SERVER_ERROR),
            Fault::ProvisionedThroughputExceeded => (
                "ProvisionedThroughputExceededException",
                StatusCode::BAD_REQUEST,
            ),
            Fault::AccessDenied => ("AccessDeniedException", StatusCode::BAD_REQUEST),
            Fault::InternalServerError => {
                ("InternalServerError", StatusCode::INTERNAL_SERVER_ERROR)
            }
            Fault::InvalidParameter => ("InvalidParameterException", StatusCode::BAD_REQUEST),
        }
    }
}

/// Parses `succeeded:97.5`, `succeeded-no-confidence`, `failed:12`, `expired`, `created`,
/// `in-progress`, `not-found`, `throttled`, `provisioned-throughput`, `access-denied`,
/// `internal-error`, `invalid-parameter` (for a stub binary's command line).
impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, arg) = s.split_once(':').unwrap_or((s, ""));
        let confidence = || {
            arg.parse::<f32>()
                .map_err(|_| format!("{name} needs a confidence, e.g. {name}:97.5"))
        };
        Ok(match name {
            "created" => Outcome::Created,
            "in-progress" => Outcome::InProgress,
            "succeeded" => Outcome::Succeeded(confidence()?),
            "succeeded-no-confidence" => Outcome::SucceededWithoutConfidence,
            "failed" => Outcome::Failed(confidence()?),
            "expired" => Outcome::Expired,
            "not-found" => Outcome::Fault(Fault::SessionNotFound),
            "throttled" => Outcome::Fault(Fault::Throttling),
            "provisioned-throughput" => Outcome::Fault(Fault::ProvisionedThroughputExceeded),
            "access-denied" => Outcome::Fault(Fault::AccessDenied),
            "internal-error" => Outcome::Fault(Fault::InternalServerError),
            "invalid-parameter" => Outcome::Fault(Fault::InvalidParameter),
            other => return Err(format!("unknown outcome {other:?}")),
        })
    }
}

/// One `CreateFaceLivenessSession` request as the stub received it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateCall {
    pub client_request_token: Option<String>,
    pub kms_key_id: Option<String>,
    pub audit_images_limit: Option<i64>,
    pub s3_bucket: Option<String>,
    pub s3_key_prefix: Option<String>,
    /// The region in the SigV4 credential scope of the `Authorization` header.
    pub signing_region: Option<String>,
    /// The session returned, if the call succeeded.
    pub session_id: Option<String>,
}

struct Session {
    created: Instant,
    outcome: Outcome,
    /// A websocket was opened for it (a session streams once).
    streamed: bool,
    /// The challenge the stream used (the light one until a stream says otherwise).
    challenge: ChallengeKind,
}

struct State {
    sessions: HashMap<String, Session>,
    tokens: HashMap<String, String>,
    default_outcome: Outcome,
    create_fault: Option<Fault>,
    delay: Duration,
    creates: Vec<CreateCall>,
    gets: usize,
    stream_policy: Policy,
    /// How long an unfinished session lives ([`SESSION_LIFETIME`]; shorter in tests).
    lifetime: Duration,
}

/// Why a streaming session was refused (the emulator answers with a `ValidationException`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StreamRefusal {
    #[error("Session not found")]
    NotFound,
    #[error("Session has expired")]
    Expired,
    #[error("Session has already been used")]
    AlreadyUsed,
}

/// Scripts and inspects a running stub; cheap to clone.
#[derive(Clone)]
pub struct StubHandle(Arc<Mutex<State>>);

impl Default for StubHandle {
    fn default() -> Self {
        Self::new()
    }
}

impl StubHandle {
    /// A fresh store: sessions start `Succeeded(97.5)`, streams are judged at 95.0.
    pub fn new() -> Self {
        StubHandle(Arc::new(Mutex::new(State {
            sessions: HashMap::new(),
            tokens: HashMap::new(),
            default_outcome: Outcome::Succeeded(97.5),
            create_fault: None,
            delay: Duration::ZERO,
            creates: Vec::new(),
            gets: 0,
            stream_policy: Policy::Judge { confidence: 95.0 },
            lifetime: SESSION_LIFETIME,
        })))
    }
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// The outcome given to sessions created from now on (initially `Succeeded(97.5)`).
    pub fn set_default_outcome(&self, outcome: Outcome) {
        self.lock().default_outcome = outcome;
    }
    /// Scripts what `GetFaceLivenessSessionResults` answers for one existing session.
    pub fn set_outcome(&self, session_id: &str, outcome: Outcome) {
        if let Some(s) = self.lock().sessions.get_mut(session_id) {
            s.outcome = outcome;
        }
    }
    /// Makes every `CreateFaceLivenessSession` fail with `fault` (`None` to stop).
    pub fn fail_creates_with(&self, fault: Option<Fault>) {
        self.lock().create_fault = fault;
    }
    /// Delays every answer, to exercise client and server timeouts.
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }
    /// Number of distinct sessions created.
    pub fn sessions_created(&self) -> usize {
        self.lock().sessions.len()
    }
    /// Every create request received, in order (including failed and replayed ones).
    pub fn create_calls(&self) -> Vec<CreateCall> {
        self.lock().creates.clone()
    }
    /// Number of `GetFaceLivenessSessionResults` requests received.
    pub fn get_calls(&self) -> usize {
        self.lock().gets
    }
    /// How a finished stream sets the outcome of a session still `Created`/`InProgress`.
    pub fn set_stream_policy(&self, policy: Policy) {
        self.lock().stream_policy = policy;
    }
    /// Shortens (or lengthens) how long unfinished sessions live, so tests need not wait
    /// the real three minutes.
    pub fn set_session_lifetime(&self, lifetime: Duration) {
        self.lock().lifetime = lifetime;
    }
    /// The outcome a session has now (`None` if unknown).
    pub fn outcome(&self, session_id: &str) -> Option<Outcome> {
        self.lock().sessions.get(session_id).map(|s| s.outcome)
    }
    /// A websocket opened for `session_id`: `Created` becomes `InProgress`.
    pub fn begin_stream(&self, session_id: &str) -> Result<(), StreamRefusal> {
        let mut state = self.lock();
        let lifetime = state.lifetime;
        let session = state
            .sessions
            .get_mut(session_id)
            .ok_or(StreamRefusal::NotFound)?;
        match session.outcome {
            Outcome::Created if session.created.elapsed() >= lifetime => {
                Err(StreamRefusal::Expired)
            }
            Outcome::Expired => Err(StreamRefusal::Expired),
            Outcome::Succeeded(_) | Outcome::SucceededWithoutConfidence | Outcome::Failed(_)
                if session.streamed =>
            {
                Err(StreamRefusal::AlreadyUsed)
            }
            Outcome::Created => {
                session.outcome = Outcome::InProgress;
                session.streamed = true;
                Ok(())
            }
            _ => {
                session.streamed = true;
                Ok(())
            }
        }
    }
    /// The client ended its video: the policy decides the outcome from `report`, unless the
    /// session's outcome was scripted. Returns the session's outcome afterwards.
    pub fn finish_stream(&self, session_id: &str, report: &ClientReport) -> Option<Outcome> {
        let mut state = self.lock();
        let (policy, lifetime) = (state.stream_policy, state.lifetime);
        let session = state.sessions.get_mut(session_id)?;
        session.challenge = report.challenge;
        if matches!(session.outcome, Outcome::Created | Outcome::InProgress)
            && session.created.elapsed() < lifetime
        {
            session.outcome = policy.decide(report);
        }
        Some(session.outcome)
    }
}

/// The JSON 1.1 operations (`POST /`) over `handle`'s session store.
pub fn json11_router(handle: StubHandle) -> Router {
    Router::new().route("/", post(dispatch)).with_state(handle)
}

/// A stub listening on a loopback port; stops when dropped.
pub struct RekognitionStub {
    addr: SocketAddr,
    handle: StubHandle,
    stop: Option<oneshot::Sender<()>>,
}

impl RekognitionStub {
    /// Starts a stub on `127.0.0.1` with an ephemeral port.
    pub async fn start() -> std::io::Result<Self> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a stub on `addr`.
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let handle = StubHandle::new();
        let app = json11_router(handle.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            handle,
            stop: Some(stop),
        })
    }

    /// The URL to give the SDK as its endpoint (`AWS_ENDPOINT_URL` or `endpoint_url`).
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn handle(&self) -> StubHandle {
        self.handle.clone()
    }
}

impl Drop for RekognitionStub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn dispatch(
    axum::extract::State(stub): axum::extract::State<StubHandle>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let delay = stub.lock().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if content_type != Some(CONTENT_TYPE_JSON_11) {
        return error(
            "SerializationException",
            StatusCode::BAD_REQUEST,
            "Unsupported content type",
        );
    }
    let Ok(input) = serde_json::from_slice::<Value>(&body) else {
        return error(
            "SerializationException",
            StatusCode::BAD_REQUEST,
            "Malformed JSON body",
        );
    };
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    match target {
        Some("RekognitionService.CreateFaceLivenessSession") => create(&stub, &headers, &input),
        Some("RekognitionService.GetFaceLivenessSessionResults") => get(&stub, &input),
        _ => error(
            "UnknownOperationException",
            StatusCode::BAD_REQUEST,
            "Unknown operation",
        ),
    }
}

fn create(stub: &StubHandle, headers: &HeaderMap, input: &Value) -> Response {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let settings = &input["Settings"];
    let mut call = CreateCall {
        client_request_token: text(&input["ClientRequestToken"]),
        kms_key_id: text(&input["KmsKeyId"]),
        audit_images_limit: settings["AuditImagesLimit"].as_i64(),
        s3_bucket: text(&settings["OutputConfig"]["S3Bucket"]),
        s3_key_prefix: text(&settings["OutputConfig"]["S3KeyPrefix"]),
        signing_region: signing_region(headers),
        session_id: None,
    };
    let mut state = stub.lock();
    let invalid = match &call {
        CreateCall {
            client_request_token: Some(t),
            ..
        } if !valid_token(t) => Some("ClientRequestToken must match ^[a-zA-Z0-9-_]+$ (1-64)"),
        CreateCall {
            audit_images_limit: Some(n),
            ..
        } if !(0..=4).contains(n) => Some("AuditImagesLimit must be between 0 and 4"),
        _ => None,
    };
    let fault = state.create_fault;
    let reply = if let Some(message) = invalid {
        error(
            "InvalidParameterException",
            StatusCode::BAD_REQUEST,
            message,
        )
    } else if let Some(fault) = fault {
        fault_response(fault, "CreateFaceLivenessSession")
    } else {
        let known = call
            .client_request_token
            .as_ref()
            .and_then(|t| state.tokens.get(t).cloned());
        let session_id = known.unwrap_or_else(|| {
            let id = uuid::Uuid::new_v4().to_string();
            let outcome = state.default_outcome;
            state.sessions.insert(
                id.clone(),
                Session {
                    created: Instant::now(),
                    outcome,
                    streamed: false,
                    challenge: ChallengeKind::default(),
                },
            );
            if let Some(t) = &call.client_request_token {
                state.tokens.insert(t.clone(), id.clone());
            }
            id
        });
        call.session_id = Some(session_id.clone());
        ok(json!({ "SessionId": session_id }))
    };
    state.creates.push(call);
    reply
}

fn get(stub: &StubHandle, input: &Value) -> Response {
    let mut state = stub.lock();
    state.gets += 1;
    let Some(id) = input["SessionId"].as_str() else {
        return error(
            "InvalidParameterException",
            StatusCode::BAD_REQUEST,
            "SessionId is required",
        );
    };
    if id.len() != 36 {
        return error(
            "InvalidParameterException",
            StatusCode::BAD_REQUEST,
            "SessionId must be 36 characters",
        );
    }
    let Some(session) = state.sessions.get(id) else {
        return fault_response(Fault::SessionNotFound, "GetFaceLivenessSessionResults");
    };
    let stale = session.created.elapsed() >= state.lifetime;
    let (status, confidence) = match session.outcome {
        Outcome::Fault(f) => return fault_response(f, "GetFaceLivenessSessionResults"),
        Outcome::Created | Outcome::InProgress if stale => ("EXPIRED", None),
        Outcome::Created => ("CREATED", None),
        Outcome::InProgress => ("IN_PROGRESS", None),
        Outcome::Succeeded(c) => ("SUCCEEDED", Some(c)),
        Outcome::SucceededWithoutConfidence => ("SUCCEEDED", None),
        Outcome::Failed(c) => ("FAILED", Some(c)),
        Outcome::Expired => ("EXPIRED", None),
    };
    let mut body = json!({ "SessionId": id, "Status": status });
    if let Some(c) = confidence {
        body["Confidence"] = json!(c);
    }
    if status == "SUCCEEDED" || status == "FAILED" {
        let kind = session.challenge;
        body["Challenge"] = json!({"Type": kind.name(), "Version": kind.version()});
    }
    ok(body)
}

/// The region of a SigV4 `Authorization` header's credential scope.
fn signing_region(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
    scope.split('/').nth(2).map(str::to_owned)
}

fn valid_token(token: &str) -> bool {
    (1..=64).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn fault_response(fault: Fault, operation: &str) -> Response {
    let (code, status) = fault.wire();
    // Real messages carry ARNs and request ids; the service must not pass them on.
    let message = match fault {
        Fault::AccessDenied => format!(
            "User: arn:aws:sts::000000000000:assumed-role/liveness-backend/session is not \
             authorized to perform: rekognition:{operation}"
        ),
        Fault::SessionNotFound => "Session not found".to_owned(),
        Fault::Throttling => "Rate exceeded".to_owned(),
        Fault::ProvisionedThroughputExceeded => {
            "Provisioned rate exceeded for account 000000000000".to_owned()
        }
        Fault::InternalServerError => "Internal server error".to_owned(),
        Fault::InvalidParameter => "Request has invalid parameters".to_owned(),
    };
    error(code, status, &message)
}

fn error(code: &str, status: StatusCode, message: &str) -> Response {
    let body = json!({ "__type": code, "message": message });
    let mut response = (status, body.to_string()).into_response();
    set_common_headers(&mut response);
    response
}

fn ok(body: Value) -> Response {
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    set_common_headers(&mut response);
    response
}

fn set_common_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(CONTENT_TYPE_JSON_11),
    );
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert("x-amzn-requestid", id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_parse_from_their_command_line_names() {
        assert_eq!("succeeded:97.5".parse(), Ok(Outcome::Succeeded(97.5)));
        assert_eq!("throttled".parse(), Ok(Outcome::Fault(Fault::Throttling)));
        assert!("succeeded".parse::<Outcome>().is_err());
        assert!("bogus".parse::<Outcome>().is_err());
    }

    #[test]
    fn signing_region_comes_from_the_credential_scope() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/rekognition/aws4_request, \
                 SignedHeaders=host, Signature=abc",
            ),
        );
        assert_eq!(signing_region(&headers).as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn tokens_follow_the_api_pattern() {
        assert!(valid_token("abc-DEF_123"));
        assert!(!valid_token(""));
        assert!(!valid_token("has space"));
        assert!(!valid_token(&"a".repeat(65)));
    }
}
