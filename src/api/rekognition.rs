//! The two Rekognition calls the service makes, behind a small trait.
//!
//! Handlers depend on [`LivenessSessions`] only, so they can be unit-tested with a fake;
//! [`AwsRekognition`] is the real `aws-sdk-rekognition` implementation. Every SDK failure
//! is classified here into an [`AwsErrorKind`] (what the caller can do about it) while the
//! raw detail, which may hold request ids and ARNs, stays in [`AwsError::detail`] for logs.

use std::fmt;
use std::time::Duration;

use aws_sdk_rekognition::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_rekognition::operation::RequestId;
use aws_sdk_rekognition::types::{
    ChallengePreference, ChallengeType, CreateFaceLivenessSessionRequestSettings,
    LivenessOutputConfig,
};
use aws_smithy_types::timeout::TimeoutConfig;
use futures::future::BoxFuture;

use super::config::{Config, OutputConfig};

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

/// The real implementation over `aws-sdk-rekognition`.
///
/// The client (and with it the HTTP connection pool, the credentials cache and the signer)
/// is built once and shared by every request; so are the session settings, which are the
/// same for every create.
#[derive(Clone)]
pub struct AwsRekognition {
    client: aws_sdk_rekognition::Client,
    /// The `Settings` of every `CreateFaceLivenessSession`, or why they cannot be built.
    settings: Result<CreateFaceLivenessSessionRequestSettings, String>,
    kms_key_id: Option<String>,
    region: String,
}

impl AwsRekognition {
    /// Builds a client from a loaded SDK config (endpoint, credentials, retries), with a
    /// timeout budget that ends before the service's own request timeout.
    pub fn new(
        sdk: &aws_config::SdkConfig,
        settings: CreateSettings,
        request_timeout: Duration,
    ) -> Self {
        let budget = request_timeout.saturating_sub(Duration::from_secs(1));
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(2).min(budget))
            .operation_attempt_timeout(budget / 2)
            .operation_timeout(budget)
            .build();
        let conf = aws_sdk_rekognition::config::Builder::from(sdk)
            .timeout_config(timeouts)
            .build();
        let region = conf.region().map(|r| r.to_string()).unwrap_or_default();
        AwsRekognition {
            client: aws_sdk_rekognition::Client::from_conf(conf),
            kms_key_id: settings.kms_key_id.clone(),
            settings: session_settings(&settings),
            region,
        }
    }

    fn error<E>(&self, operation: Operation, err: SdkError<E>) -> AwsError
    where
        E: ProvideErrorMetadata + RequestId + std::error::Error + Send + Sync + 'static,
    {
        // A service error's code, message and request id say it all; the raw response's
        // Debug form would flood the log.
        let detail = match &err {
            SdkError::ServiceError(e) => format!(
                "{}: {} (HTTP {}, request id {})",
                e.err().code().unwrap_or("no code"),
                e.err().message().unwrap_or("no message"),
                e.raw().status().as_u16(),
                e.err().request_id().unwrap_or("none"),
            ),
            other => DisplayErrorContext(other).to_string(),
        };
        AwsError {
            operation,
            kind: classify(&err, &detail),
            region: self.region.clone(),
            detail,
        }
    }
}

/// The request `Settings` for `settings`. The builders only fail on a missing required
/// field, which these always set; a failure is still answered per request (a 502 saying
/// why) rather than panicking.
fn session_settings(
    settings: &CreateSettings,
) -> Result<CreateFaceLivenessSessionRequestSettings, String> {
    let mut built = CreateFaceLivenessSessionRequestSettings::builder()
        .audit_images_limit(settings.audit_images_limit);
    if let Some(out) = &settings.output {
        let output = LivenessOutputConfig::builder()
            .s3_bucket(&out.s3_bucket)
            .set_s3_key_prefix(out.s3_key_prefix.clone())
            .build()
            .map_err(|e| e.to_string())?;
        built = built.output_config(output);
    }
    for challenge in &settings.challenges {
        let preference = ChallengePreference::builder()
            .r#type(ChallengeType::from(challenge.as_str()))
            .build()
            .map_err(|e| e.to_string())?;
        built = built.challenge_preferences(preference);
    }
    Ok(built.build())
}

/// Sorts an SDK error into what the caller can act on; `detail` is its full text.
fn classify<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>, detail: &str) -> AwsErrorKind {
    let about_credentials = || {
        let text = detail.to_ascii_lowercase();
        text.contains("credential") || text.contains("identity")
    };
    match err {
        SdkError::ServiceError(e) => match e.err().code() {
            Some(code) => AwsErrorKind::from_code(code),
            None => AwsErrorKind::Other,
        },
        SdkError::TimeoutError(_) => AwsErrorKind::Timeout,
        SdkError::DispatchFailure(d) if d.is_timeout() => AwsErrorKind::Timeout,
        SdkError::DispatchFailure(d) if d.is_io() => AwsErrorKind::Unreachable,
        // Identity resolution (no or broken credentials) fails before anything is sent.
        SdkError::DispatchFailure(_) if about_credentials() => AwsErrorKind::Credentials,
        SdkError::DispatchFailure(_) => AwsErrorKind::Unreachable,
        SdkError::ConstructionFailure(_) if about_credentials() => AwsErrorKind::Credentials,
        SdkError::ResponseError(_) => AwsErrorKind::Other,
        _ => AwsErrorKind::Other,
    }
}

impl LivenessSessions for AwsRekognition {
    fn create_session<'a>(
        &'a self,
        client_request_token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<CreatedSession, AwsError>> {
        Box::pin(async move {
            let settings = self.settings.clone().map_err(|detail| AwsError {
                operation: Operation::CreateSession,
                kind: AwsErrorKind::InvalidParameter,
                region: self.region.clone(),
                detail,
            })?;
            let out = self
                .client
                .create_face_liveness_session()
                .set_client_request_token(client_request_token.map(str::to_owned))
                .set_kms_key_id(self.kms_key_id.clone())
                .settings(settings)
                .send()
                .await
                .map_err(|e| self.error(Operation::CreateSession, e))?;
            Ok(CreatedSession {
                session_id: out.session_id,
            })
        })
    }

    fn get_results<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<SessionResults, AwsError>> {
        Box::pin(async move {
            let out = self
                .client
                .get_face_liveness_session_results()
                .session_id(session_id)
                .send()
                .await
                .map_err(|e| self.error(Operation::GetResults, e))?;
            let feedback = out
                .feedback()
                .iter()
                .map(|f| Feedback {
                    code: f.code().as_str().to_owned(),
                    message: f.message().to_owned(),
                })
                .collect();
            Ok(SessionResults {
                session_id: out.session_id,
                status: out.status.as_str().to_owned(),
                confidence: out.confidence,
                feedback,
            })
        })
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
