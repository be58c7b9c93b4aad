//! The two operations' bodies in AWS JSON 1.1, as Rekognition's API reference names the
//! fields, and the error envelope every JSON 1.1 service answers with.
//!
//! Only the fields the service sends or reads are modelled: a response's other fields
//! (reference and audit images, challenge, metadata) are skipped when parsing.

use serde::{Deserialize, Serialize};

use super::{CreateSettings, Feedback};

/// `CreateFaceLivenessSessionRequestSettings`, the same for every create.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SessionSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    output_config: Option<OutputConfig>,
    audit_images_limit: i32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    challenge_preferences: Vec<ChallengePreference>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct OutputConfig {
    s3_bucket: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    s3_key_prefix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct ChallengePreference {
    #[serde(rename = "Type")]
    kind: String,
}

impl From<&CreateSettings> for SessionSettings {
    fn from(settings: &CreateSettings) -> Self {
        SessionSettings {
            output_config: settings.output.as_ref().map(|out| OutputConfig {
                s3_bucket: out.s3_bucket.clone(),
                s3_key_prefix: out.s3_key_prefix.clone(),
            }),
            audit_images_limit: settings.audit_images_limit,
            challenge_preferences: settings
                .challenges
                .iter()
                .map(|kind| ChallengePreference { kind: kind.clone() })
                .collect(),
        }
    }
}

/// The `CreateFaceLivenessSession` request.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<&'a str>,
    pub settings: &'a SessionSettings,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateResponse {
    pub session_id: String,
}

/// The `GetFaceLivenessSessionResults` request.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetRequest<'a> {
    pub session_id: &'a str,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetResponse {
    pub session_id: String,
    pub status: String,
    #[serde(default)]
    pub confidence: Option<f32>,
    #[serde(default)]
    pub feedback: Vec<FeedbackItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct FeedbackItem {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl From<FeedbackItem> for Feedback {
    fn from(item: FeedbackItem) -> Self {
        Feedback {
            code: item.code,
            message: item.message,
        }
    }
}

/// A JSON 1.1 error body: the code is `__type` (or `code`), the message `message` in any
/// of the casings services use.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(rename = "__type", alias = "code", alias = "Code")]
    code: Option<String>,
    #[serde(alias = "Message", alias = "errorMessage")]
    message: Option<String>,
}

/// What an error response says: its code (from the `x-amzn-ErrorType` header or the body)
/// and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ErrorEnvelope {
    pub code: Option<String>,
    pub message: Option<String>,
}

impl ErrorEnvelope {
    pub fn parse(error_type_header: Option<&str>, body: &[u8]) -> ErrorEnvelope {
        let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
        let code = error_type_header
            .or(parsed.code.as_deref())
            .map(sanitize_code)
            .filter(|code| !code.is_empty())
            .map(str::to_owned);
        ErrorEnvelope {
            code,
            message: parsed.message,
        }
    }
}

/// `aws.protocols#awsJson1_1`: a code may carry a namespace (`com.amazon…#Code`) and, in
/// the header, a URL after a colon; the code is what is between.
fn sanitize_code(raw: &str) -> &str {
    let without_url = raw.split(':').next().unwrap_or(raw);
    without_url.rsplit('#').next().unwrap_or(without_url).trim()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::config::OutputConfig as Output;
    use serde_json::json;

    #[test]
    fn the_create_body_names_the_fields_as_the_api_reference_does() {
        let settings = SessionSettings::from(&CreateSettings {
            audit_images_limit: 2,
            output: Some(Output {
                s3_bucket: "audit".into(),
                s3_key_prefix: Some("liveness/".into()),
            }),
            kms_key_id: None,
            challenges: vec!["FaceMovementChallenge".into()],
        });
        let body = CreateRequest {
            client_request_token: Some("token-1"),
            kms_key_id: Some("alias/liveness"),
            settings: &settings,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({
                "ClientRequestToken": "token-1",
                "KmsKeyId": "alias/liveness",
                "Settings": {
                    "OutputConfig": {"S3Bucket": "audit", "S3KeyPrefix": "liveness/"},
                    "AuditImagesLimit": 2,
                    "ChallengePreferences": [{"Type": "FaceMovementChallenge"}]
                }
            })
        );
    }

    #[test]
    fn unset_settings_are_left_out_rather_than_sent_as_null() {
        let settings = SessionSettings::from(&CreateSettings::default());
        let body = CreateRequest {
            client_request_token: None,
            kms_key_id: None,
            settings: &settings,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"Settings": {"AuditImagesLimit": 0}})
        );
    }

    #[test]
    fn a_results_body_keeps_what_the_service_reads_and_skips_the_images() {
        let body = json!({
            "SessionId": "s-1", "Status": "SUCCEEDED", "Confidence": 97.5,
            "ReferenceImage": {"Bytes": "aGVsbG8="}, "AuditImages": [],
            "Feedback": [{"Code": "LOW_LIGHTING_DETECTED", "Message": "More light"}]
        });
        let parsed: GetResponse = serde_json::from_value(body).unwrap();
        assert_eq!(
            (parsed.session_id.as_str(), parsed.status.as_str()),
            ("s-1", "SUCCEEDED")
        );
        assert_eq!(parsed.confidence, Some(97.5));
        assert_eq!(parsed.feedback[0].code, "LOW_LIGHTING_DETECTED");
        let bare: GetResponse =
            serde_json::from_value(json!({"SessionId": "s-2", "Status": "CREATED"})).unwrap();
        assert_eq!((bare.confidence, bare.feedback.len()), (None, 0));
    }

    #[test]
    fn error_codes_lose_their_namespace_and_the_header_wins() {
        let body =
            br#"{"__type":"com.amazonaws.rekognition#ThrottlingException","message":"slow down"}"#;
        assert_eq!(
            ErrorEnvelope::parse(None, body),
            ErrorEnvelope {
                code: Some("ThrottlingException".into()),
                message: Some("slow down".into())
            }
        );
        let from_header = ErrorEnvelope::parse(
            Some("AccessDeniedException:http://internal.example/"),
            br#"{"Message":"no"}"#,
        );
        assert_eq!(from_header.code.as_deref(), Some("AccessDeniedException"));
        assert_eq!(from_header.message.as_deref(), Some("no"));
        assert_eq!(
            ErrorEnvelope::parse(None, b"<html>bad gateway</html>"),
            ErrorEnvelope {
                code: None,
                message: None
            }
        );
    }
}
