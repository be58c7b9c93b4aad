//! What a Face Liveness session ends as ([`Outcome`]) and the errors Rekognition answers
//! with ([`Fault`]), in their real wire shape.
//!
//! A module of its own because everything else in the emulator uses these values: the judge
//! decides an outcome, the session store keeps one per session, the JSON 1.1 operations put
//! it on the wire. Depending on nothing else in the emulator keeps its module graph a DAG.

use axum::http::StatusCode;

/// What `GetFaceLivenessSessionResults` reports for a session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// The browser has not streamed yet (expires after [`crate::rules::SESSION_LIFETIME`]).
    Created,
    /// Streaming is under way (expires after [`crate::rules::SESSION_LIFETIME`]).
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

/// One entry of `GetFaceLivenessSessionResults`' `Feedback` list (`{"Code", "Message"}`):
/// why a check went as it did, e.g. `FACE_NOT_VISIBLE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackItem {
    pub code: String,
    pub message: String,
}

impl FeedbackItem {
    pub fn new(code: &str, message: &str) -> Self {
        FeedbackItem {
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }

    /// No face was seen during the check.
    pub fn face_not_visible() -> Self {
        Self::new(
            "FACE_NOT_VISIBLE",
            "We could not see your face. Make sure your whole face is in view of the camera.",
        )
    }

    /// The face never filled the oval.
    pub fn face_not_aligned() -> Self {
        Self::new(
            "FACE_NOT_ALIGNED",
            "Your face did not fill the oval. Move closer until it does, and hold still.",
        )
    }
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
/// `internal-error`, `invalid-parameter` (for the stub runner's command line,
/// `examples/rekognition_stub.rs`; `liveness-emulator` has its own `--outcome` policies).
#[cfg(feature = "test-util")]
impl std::str::FromStr for Outcome {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "test-util")]
    #[test]
    fn outcomes_parse_from_their_command_line_names() {
        assert_eq!("succeeded:97.5".parse(), Ok(Outcome::Succeeded(97.5)));
        assert_eq!("throttled".parse(), Ok(Outcome::Fault(Fault::Throttling)));
        assert!("succeeded".parse::<Outcome>().is_err());
        assert!("bogus".parse::<Outcome>().is_err());
    }

    #[test]
    fn faults_have_the_status_codes_of_the_api_reference() {
        assert_eq!(
            Fault::Throttling.wire(),
            ("ThrottlingException", StatusCode::INTERNAL_SERVER_ERROR)
        );
        assert_eq!(
            Fault::SessionNotFound.wire(),
            ("SessionNotFoundException", StatusCode::BAD_REQUEST)
        );
    }
}
