//! The one error type of the HTTP layer and how it is answered.
//!
//! Each [`ApiError`] has a [`Category`] that alone decides the status code, a stable
//! machine-readable `code`, and a sentence saying what to do. Bodies are always
//! `{"error": code, "message": sentence}`; AWS details (request ids, ARNs) go to the log,
//! never to the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::auth::Reason;
use super::rekognition::{AwsError, AwsErrorKind, Operation};

/// Seconds a client should wait after Rekognition throttled us.
pub const THROTTLE_RETRY_AFTER_SECS: u64 = 2;
/// Seconds a client should wait after the account's throughput was exhausted.
pub const CAPACITY_RETRY_AFTER_SECS: u64 = 5;
/// Seconds a client should wait when the token issuer's keys could not be fetched.
pub const AUTH_RETRY_AFTER_SECS: u64 = 5;

#[derive(Debug, Clone)]
pub enum ApiError {
    /// The session id in the path is not a 36-character UUID.
    InvalidSessionId,
    /// The `Idempotency-Key` header is not a valid `ClientRequestToken`.
    InvalidIdempotencyKey,
    /// No such route.
    RouteNotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    /// The request as a whole took longer than the service allows.
    Timeout,
    /// This client sent too many requests.
    RateLimited {
        retry_after_secs: u64,
    },
    /// This caller created too many sessions.
    SessionLimit {
        retry_after_secs: u64,
    },
    /// The bearer token is missing or not acceptable (401).
    Unauthorized(Reason),
    /// The token issuer's keys cannot be fetched now, so no token can be checked.
    AuthUnavailable,
    /// No session of this caller has that id and token: answered exactly like a session
    /// Rekognition does not know, so the answer is no oracle for other callers' sessions.
    UnknownSession {
        region: String,
    },
    /// A Rekognition call failed.
    Aws(AwsError),
    /// `/readyz` while the service drains before shutting down.
    NotReady,
    /// Any other status produced by a layer, passed on.
    Passthrough(StatusCode),
}

/// Decides the status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    BadRequest,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    /// Transient trouble upstream: retry later.
    Unavailable,
    /// Upstream refuses this service's setup (IAM, credentials, region, settings).
    Misconfigured,
    UpstreamTimeout,
    Other(StatusCode),
}

impl Category {
    pub fn status(self) -> StatusCode {
        match self {
            Category::BadRequest => StatusCode::BAD_REQUEST,
            Category::NotFound => StatusCode::NOT_FOUND,
            Category::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Category::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Category::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Category::Unauthorized => StatusCode::UNAUTHORIZED,
            Category::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Category::Misconfigured => StatusCode::BAD_GATEWAY,
            Category::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            Category::Other(s) => s,
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    /// The short reason of a 401 (`expired`, `audience`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    message: String,
}

impl ApiError {
    pub fn category(&self) -> Category {
        match self {
            ApiError::InvalidSessionId | ApiError::InvalidIdempotencyKey => Category::BadRequest,
            ApiError::RouteNotFound | ApiError::UnknownSession { .. } => Category::NotFound,
            ApiError::SessionLimit { .. } => Category::TooManyRequests,
            ApiError::Unauthorized(_) => Category::Unauthorized,
            ApiError::AuthUnavailable => Category::Unavailable,
            ApiError::MethodNotAllowed => Category::MethodNotAllowed,
            ApiError::PayloadTooLarge => Category::PayloadTooLarge,
            ApiError::Timeout => Category::UpstreamTimeout,
            ApiError::RateLimited { .. } => Category::TooManyRequests,
            ApiError::NotReady => Category::Unavailable,
            ApiError::Passthrough(s) => Category::Other(*s),
            ApiError::Aws(e) => match e.kind {
                AwsErrorKind::SessionNotFound => Category::NotFound,
                AwsErrorKind::Throttled => Category::TooManyRequests,
                AwsErrorKind::ThroughputExceeded | AwsErrorKind::ServiceUnavailable => {
                    Category::Unavailable
                }
                AwsErrorKind::InvalidParameter if e.operation == Operation::GetResults => {
                    Category::BadRequest
                }
                AwsErrorKind::Timeout => Category::UpstreamTimeout,
                AwsErrorKind::AccessDenied
                | AwsErrorKind::Credentials
                | AwsErrorKind::InvalidParameter
                | AwsErrorKind::Unreachable
                | AwsErrorKind::Other => Category::Misconfigured,
            },
        }
    }

    pub fn status(&self) -> StatusCode {
        self.category().status()
    }

    /// Stable code for programs.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidSessionId => "invalid_session_id",
            ApiError::InvalidIdempotencyKey => "invalid_idempotency_key",
            ApiError::RouteNotFound => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::Timeout => "timeout",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::SessionLimit { .. } => "session_limit",
            ApiError::Unauthorized(_) => "invalid_token",
            ApiError::AuthUnavailable => "auth_unavailable",
            ApiError::UnknownSession { .. } => "session_not_found",
            ApiError::NotReady => "not_ready",
            ApiError::Passthrough(s) if s.is_client_error() => "bad_request",
            ApiError::Passthrough(_) => "internal",
            ApiError::Aws(e) => match e.kind {
                AwsErrorKind::SessionNotFound => "session_not_found",
                AwsErrorKind::Throttled => "throttled",
                AwsErrorKind::ThroughputExceeded => "capacity_exceeded",
                AwsErrorKind::ServiceUnavailable => "aws_unavailable",
                AwsErrorKind::AccessDenied => "aws_access_denied",
                AwsErrorKind::Credentials => "aws_credentials",
                AwsErrorKind::InvalidParameter if e.operation == Operation::GetResults => {
                    "invalid_session_id"
                }
                AwsErrorKind::InvalidParameter => "aws_invalid_parameter",
                AwsErrorKind::Unreachable => "aws_unreachable",
                AwsErrorKind::Timeout => "aws_timeout",
                AwsErrorKind::Other => "aws_error",
            },
        }
    }

    /// Seconds for `Retry-After`, when retrying later can help.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited { retry_after_secs }
            | ApiError::SessionLimit { retry_after_secs } => Some(*retry_after_secs),
            ApiError::AuthUnavailable => Some(AUTH_RETRY_AFTER_SECS),
            ApiError::Aws(e) => match e.kind {
                AwsErrorKind::Throttled | AwsErrorKind::ServiceUnavailable => {
                    Some(THROTTLE_RETRY_AFTER_SECS)
                }
                AwsErrorKind::ThroughputExceeded => Some(CAPACITY_RETRY_AFTER_SECS),
                _ => None,
            },
            _ => None,
        }
    }

    /// A sentence for the client: what happened and what to do.
    pub fn message(&self) -> String {
        match self {
            ApiError::InvalidSessionId => {
                "The session id must be the 36-character UUID returned by POST /v1/sessions.".into()
            }
            ApiError::InvalidIdempotencyKey => {
                "The Idempotency-Key header must be 1 to 64 characters of letters, digits, \
                 '-' or '_'."
                    .into()
            }
            ApiError::RouteNotFound => {
                "No such route; see /v1/config and the OpenAPI document.".into()
            }
            ApiError::MethodNotAllowed => "This route does not accept that method.".into(),
            ApiError::PayloadTooLarge => {
                "The request body is larger than this service accepts.".into()
            }
            ApiError::Timeout => "The request took too long; try again.".into(),
            ApiError::RateLimited { retry_after_secs } => format!(
                "Too many requests from this client; retry after {retry_after_secs} seconds."
            ),
            ApiError::SessionLimit { retry_after_secs } => format!(
                "Too many new sessions for this caller; retry after {retry_after_secs} seconds."
            ),
            ApiError::Unauthorized(reason) => {
                let mut text = reason.description().to_owned();
                if let Some(first) = text.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                format!("{text}.")
            }
            ApiError::AuthUnavailable => format!(
                "Sign-in tokens cannot be checked right now; retry after {AUTH_RETRY_AFTER_SECS} seconds."
            ),
            ApiError::UnknownSession { region } => session_not_found(region),
            ApiError::NotReady => "The service is shutting down; use another replica.".into(),
            ApiError::Passthrough(s) => format!(
                "The request failed ({}).",
                s.canonical_reason().unwrap_or("error")
            ),
            ApiError::Aws(e) => aws_message(e),
        }
    }
}

fn session_not_found(region: &str) -> String {
    format!(
        "Rekognition has no such session in {region}. Sessions can only be read in the \
         region that created them: the browser must stream to {region} (LIVENESS_REGION)."
    )
}

fn aws_message(e: &AwsError) -> String {
    let action = e.operation.api_name();
    let region = &e.region;
    match e.kind {
        AwsErrorKind::SessionNotFound => session_not_found(region),
        AwsErrorKind::Throttled => format!(
            "Rekognition is throttling this service; retry after {THROTTLE_RETRY_AFTER_SECS} seconds."
        ),
        AwsErrorKind::ThroughputExceeded => format!(
            "The AWS account's Face Liveness throughput is exhausted; retry after \
             {CAPACITY_RETRY_AFTER_SECS} seconds, or ask AWS for a higher quota."
        ),
        AwsErrorKind::ServiceUnavailable => {
            "Rekognition reported an internal error; retry shortly.".into()
        }
        AwsErrorKind::AccessDenied => format!(
            "Rekognition denied {action} in {region}. Allow rekognition:{action} for this \
             service's IAM role (plus s3:PutObject on the output prefix and kms:GenerateDataKey \
             when those are configured), and create sessions in the same region the browser \
             streams to (LIVENESS_REGION={region})."
        ),
        AwsErrorKind::Credentials => "AWS did not accept this service's credentials. Check the \
             ServiceAccount's IRSA role annotation (eks.amazonaws.com/role-arn) or the AWS \
             credential environment of the pod, and that the clock is right."
            .into(),
        AwsErrorKind::InvalidParameter => "Rekognition refused the session settings. Check \
             LIVENESS_OUTPUT_S3_BUCKET (a bucket in the same account and region), \
             LIVENESS_OUTPUT_S3_KEY_PREFIX, LIVENESS_KMS_KEY_ID and LIVENESS_AUDIT_IMAGES_LIMIT."
            .into(),
        AwsErrorKind::Unreachable => format!(
            "Rekognition in {region} could not be reached. Check that LIVENESS_REGION is a \
             region offering Face Liveness and that the pod can reach the AWS endpoint."
        ),
        AwsErrorKind::Timeout => {
            format!("Rekognition in {region} did not answer in time; try again.")
        }
        AwsErrorKind::Other => {
            "Rekognition answered with an unexpected error; the service log has the details.".into()
        }
    }
}

impl From<super::auth::AuthError> for ApiError {
    fn from(e: super::auth::AuthError) -> Self {
        match e {
            super::auth::AuthError::Refused(reason) => ApiError::Unauthorized(reason),
            super::auth::AuthError::KeysUnavailable => ApiError::AuthUnavailable,
        }
    }
}

impl From<AwsError> for ApiError {
    fn from(e: AwsError) -> Self {
        ApiError::Aws(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Aws(e) = &self {
            let kind = e.kind.label();
            let operation = e.operation.api_name();
            if matches!(e.kind, AwsErrorKind::SessionNotFound) {
                tracing::info!(operation, kind, detail = %e.detail, "AWS call failed");
            } else {
                tracing::warn!(operation, kind, detail = %e.detail, "AWS call failed");
            }
        }
        let reason = match &self {
            ApiError::Unauthorized(reason) => Some(*reason),
            _ => None,
        };
        let body = Body {
            error: self.code(),
            reason: reason.map(Reason::code),
            message: self.message(),
        };
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(reason) = reason {
            let challenge = format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                reason.description()
            );
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        if let Some(secs) = self.retry_after_secs() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(kind: AwsErrorKind, operation: Operation) -> ApiError {
        ApiError::Aws(AwsError {
            operation,
            kind,
            region: "us-east-1".into(),
            detail: "request id: 1234, arn:aws:iam::000000000000:role/x".into(),
        })
    }

    #[test]
    fn aws_errors_map_to_the_documented_statuses() {
        use AwsErrorKind::*;
        use Operation::*;
        let cases = [
            (SessionNotFound, GetResults, 404),
            (Throttled, GetResults, 429),
            (ThroughputExceeded, CreateSession, 503),
            (ServiceUnavailable, CreateSession, 503),
            (AccessDenied, CreateSession, 502),
            (Credentials, GetResults, 502),
            (Unreachable, CreateSession, 502),
            (InvalidParameter, CreateSession, 502),
            (InvalidParameter, GetResults, 400),
            (Timeout, GetResults, 504),
            (Other, GetResults, 502),
        ];
        for (kind, op, status) in cases {
            assert_eq!(aws(kind, op).status().as_u16(), status, "{kind:?} {op:?}");
        }
    }

    #[test]
    fn every_code_is_documented_in_the_openapi_document() {
        let doc = include_str!("../../openapi/liveness-api.yaml");
        let mut all = vec![
            ApiError::InvalidSessionId,
            ApiError::InvalidIdempotencyKey,
            ApiError::RouteNotFound,
            ApiError::MethodNotAllowed,
            ApiError::PayloadTooLarge,
            ApiError::Timeout,
            ApiError::RateLimited {
                retry_after_secs: 1,
            },
            ApiError::SessionLimit {
                retry_after_secs: 1,
            },
            ApiError::Unauthorized(Reason::Expired),
            ApiError::AuthUnavailable,
            ApiError::UnknownSession {
                region: "us-east-1".into(),
            },
            ApiError::NotReady,
            ApiError::Passthrough(StatusCode::BAD_REQUEST),
            ApiError::Passthrough(StatusCode::INTERNAL_SERVER_ERROR),
        ];
        use AwsErrorKind::*;
        for kind in [
            SessionNotFound,
            Throttled,
            ThroughputExceeded,
            AccessDenied,
            Credentials,
            InvalidParameter,
            ServiceUnavailable,
            Unreachable,
            Timeout,
            Other,
        ] {
            for op in [Operation::CreateSession, Operation::GetResults] {
                all.push(aws(kind, op));
            }
        }
        for e in all {
            assert!(
                doc.contains(&format!("- {}\n", e.code())),
                "{} undocumented",
                e.code()
            );
        }
    }

    #[test]
    fn an_unknown_session_reads_exactly_like_one_rekognition_does_not_know() {
        let ours = ApiError::UnknownSession {
            region: "us-east-1".into(),
        };
        let theirs = aws(AwsErrorKind::SessionNotFound, Operation::GetResults);
        assert_eq!(
            (ours.status(), ours.code(), ours.message()),
            (theirs.status(), theirs.code(), theirs.message())
        );
    }

    #[test]
    fn refused_tokens_are_401_with_a_bearer_challenge_and_a_short_reason() {
        let response = ApiError::Unauthorized(Reason::Audience).into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\", error_description=\"the token is for another app client or audience\""
        );
        let message = ApiError::Unauthorized(Reason::Expired).message();
        assert_eq!(message, "The token has expired.");
    }

    #[test]
    fn retryable_errors_carry_retry_after_and_others_do_not() {
        assert_eq!(
            aws(AwsErrorKind::Throttled, Operation::GetResults).retry_after_secs(),
            Some(THROTTLE_RETRY_AFTER_SECS)
        );
        assert_eq!(
            aws(AwsErrorKind::AccessDenied, Operation::GetResults).retry_after_secs(),
            None
        );
    }

    #[test]
    fn messages_say_what_to_fix_without_leaking_details() {
        let denied = aws(AwsErrorKind::AccessDenied, Operation::CreateSession).message();
        assert!(
            denied.contains("rekognition:CreateFaceLivenessSession"),
            "{denied}"
        );
        assert!(denied.contains("same region"), "{denied}");
        for kind in [
            AwsErrorKind::AccessDenied,
            AwsErrorKind::Other,
            AwsErrorKind::Credentials,
        ] {
            let m = aws(kind, Operation::GetResults).message();
            assert!(!m.contains("arn:") && !m.contains("1234"), "{m}");
        }
    }
}
