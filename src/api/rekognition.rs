//! The two Rekognition calls the service makes, behind a small trait.
//!
//! Handlers depend on [`LivenessSessions`] only, so they can be unit-tested with a fake;
//! [`AwsRekognition`] is the real implementation (`client`). Every failure is classified
//! into an [`AwsErrorKind`] (what the caller can do about it) while the raw detail, which
//! may hold request ids and ARNs, stays in [`AwsError::detail`] for logs.

mod client;
mod credentials;
mod signing;
mod wire;

use std::fmt;

use futures::future::BoxFuture;

use super::config::{Config, OutputConfig};

pub use client::AwsRekognition;

/// The Rekognition operation a call or error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    CreateSession,
    GetResults,
}

impl Operation {
    /// The API name, which is also the IAM action after `rekognition:`.
    pub fn api_name(self) -> &'static str {
        match self {
            Operation::CreateSession => "CreateFaceLivenessSession",
            Operation::GetResults => "GetFaceLivenessSessionResults",
        }
    }

    /// The JSON 1.1 `X-Amz-Target` header of the operation.
    pub fn target(self) -> &'static str {
        match self {
            Operation::CreateSession => "RekognitionService.CreateFaceLivenessSession",
            Operation::GetResults => "RekognitionService.GetFaceLivenessSessionResults",
        }
    }
}

/// What went wrong with an AWS call, as far as the caller can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    SessionNotFound,
    Throttled,
    ThroughputExceeded,
    AccessDenied,
    /// Missing, invalid or expired credentials, or a bad signature.
    Credentials,
    InvalidParameter,
    /// Rekognition's own `InternalServerError` or a 5xx.
    ServiceUnavailable,
    /// The endpoint could not be reached (DNS, connection): often a wrong region.
    Unreachable,
    Timeout,
    Other,
}

impl AwsErrorKind {
    /// A stable label for metrics.
    pub fn label(self) -> &'static str {
        match self {
            AwsErrorKind::SessionNotFound => "session_not_found",
            AwsErrorKind::Throttled => "throttled",
            AwsErrorKind::ThroughputExceeded => "throughput_exceeded",
            AwsErrorKind::AccessDenied => "access_denied",
            AwsErrorKind::Credentials => "credentials",
            AwsErrorKind::InvalidParameter => "invalid_parameter",
            AwsErrorKind::ServiceUnavailable => "service_unavailable",
            AwsErrorKind::Unreachable => "unreachable",
            AwsErrorKind::Timeout => "timeout",
            AwsErrorKind::Other => "other",
        }
    }

    /// Whether another attempt may succeed: throttling, a 5xx, a timeout or a failed
    /// connection (the SDK's standard retry mode retries the same).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            AwsErrorKind::Throttled
                | AwsErrorKind::ThroughputExceeded
                | AwsErrorKind::ServiceUnavailable
                | AwsErrorKind::Timeout
                | AwsErrorKind::Unreachable
        )
    }

    /// Classifies an AWS error code (the `__type` of a JSON 1.1 error).
    pub fn from_code(code: &str) -> AwsErrorKind {
        match code {
            "SessionNotFoundException" => AwsErrorKind::SessionNotFound,
            "ThrottlingException" | "Throttling" | "TooManyRequestsException" => {
                AwsErrorKind::Throttled
            }
            "ProvisionedThroughputExceededException" | "LimitExceededException" => {
                AwsErrorKind::ThroughputExceeded
            }
            "AccessDeniedException" | "AccessDenied" => AwsErrorKind::AccessDenied,
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "SignatureDoesNotMatch"
            | "IncompleteSignature"
            | "MissingAuthenticationToken"
            | "ExpiredTokenException"
            | "InvalidClientTokenId" => AwsErrorKind::Credentials,
            "InvalidParameterException" | "ValidationException" => AwsErrorKind::InvalidParameter,
            "InternalServerError" | "ServiceUnavailableException" => {
                AwsErrorKind::ServiceUnavailable
            }
            _ => AwsErrorKind::Other,
        }
    }
}

/// A failed AWS call: the kind decides the answer; `detail` is for logs only.
#[derive(Debug, Clone)]
pub struct AwsError {
    pub operation: Operation,
    pub kind: AwsErrorKind,
    /// The region the client was configured with, for messages.
    pub region: String,
    /// Full error chain from the SDK; may hold request ids and ARNs, never sent to clients.
    pub detail: String,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed ({}): {}",
            self.operation.api_name(),
            self.kind.label(),
            self.detail
        )
    }
}

/// The result of creating a session.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedSession {
    pub session_id: String,
}

/// What Rekognition reports about a session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionResults {
    pub session_id: String,
    /// CREATED | IN_PROGRESS | SUCCEEDED | FAILED | EXPIRED (or a newer value, passed on).
    pub status: String,
    pub confidence: Option<f32>,
    /// Why the check went as it did (e.g. `FACE_NOT_VISIBLE`), as Rekognition reports it.
    pub feedback: Vec<Feedback>,
}

/// One item of Rekognition's `Feedback` list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Feedback {
    /// A stable code such as `LOW_LIGHTING_DETECTED`, for programs.
    pub code: String,
    /// A sentence for the user before they retry.
    pub message: String,
}

/// The two calls, as the handlers need them.
pub trait LivenessSessions: Send + Sync + 'static {
    /// `CreateFaceLivenessSession`, with `client_request_token` for idempotency.
    fn create_session<'a>(
        &'a self,
        client_request_token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<CreatedSession, AwsError>>;

    /// `GetFaceLivenessSessionResults`.
    fn get_results<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<SessionResults, AwsError>>;
}

/// Session settings applied to every create, from the configuration.
#[derive(Debug, Clone, Default)]
pub struct CreateSettings {
    pub audit_images_limit: i32,
    pub output: Option<OutputConfig>,
    pub kms_key_id: Option<String>,
    /// `ChallengePreferences` types, in order (empty: AWS's default).
    pub challenges: Vec<String>,
}

impl From<&Config> for CreateSettings {
    fn from(c: &Config) -> Self {
        CreateSettings {
            audit_images_limit: c.audit_images_limit,
            output: c.output.clone(),
            kms_key_id: c.kms_key_id.clone(),
            challenges: c.security.challenges.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_what_the_caller_can_do() {
        use AwsErrorKind::*;
        let cases = [
            ("SessionNotFoundException", SessionNotFound),
            ("ThrottlingException", Throttled),
            ("ProvisionedThroughputExceededException", ThroughputExceeded),
            ("AccessDeniedException", AccessDenied),
            ("UnrecognizedClientException", Credentials),
            ("ExpiredTokenException", Credentials),
            ("InvalidSignatureException", Credentials),
            ("InvalidParameterException", InvalidParameter),
            ("InternalServerError", ServiceUnavailable),
            ("SomethingNew", Other),
        ];
        for (code, kind) in cases {
            assert_eq!(AwsErrorKind::from_code(code), kind, "{code}");
        }
    }
}
