//! The Rekognition Face Liveness JSON 1.1 operations over the session store, shared by the
//! tests' stub (`RekognitionStub`, plain HTTP, `test-util` only) and the offline emulator
//! (`liveness-emulator`, which serves [`json11_router`] over HTTPS next to its streaming
//! websocket).
//!
//! No emulator in any registry implements Face Liveness, yet the endpoint service must be
//! tested over the real protocol (and the emulator's tests use the real `aws-sdk-rekognition`
//! client). This answers the two calls the service makes (`CreateFaceLivenessSession`, `GetFaceLivenessSessionResults`) the way Rekognition
//! does on the wire: AWS JSON 1.1 (`POST /`, `X-Amz-Target:
//! RekognitionService.<Operation>`, `Content-Type: application/x-amz-json-1.1`), errors as
//! `{"__type": "<Code>", "message": …}` with the status codes of the API reference.
//! Signatures are verified only when a test asks for it
//! (`StubHandle::require_signatures_with`, `test-util`). What a session reports comes from the
//! [`StubHandle`].

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::judge::ChallengeKind;
use super::outcome::{Fault, Outcome};
use super::store::{SessionView, StubHandle};

const CONTENT_TYPE_JSON_11: &str = "application/x-amz-json-1.1";

/// The JSON 1.1 operations (`POST /`) over `handle`'s session store.
pub fn json11_router(handle: StubHandle) -> Router {
    Router::new().route("/", post(dispatch)).with_state(handle)
}

async fn dispatch(
    axum::extract::State(stub): axum::extract::State<StubHandle>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let delay = stub.script().delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Err(message) = stub.script().check_signature(&headers, &body) {
        return error("InvalidSignatureException", StatusCode::FORBIDDEN, &message);
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
    let token = input["ClientRequestToken"].as_str();
    let audit_images_limit = input["Settings"]["AuditImagesLimit"].as_i64();
    let invalid = match (token, audit_images_limit) {
        (Some(t), _) if !valid_token(t) => {
            Some("ClientRequestToken must match ^[a-zA-Z0-9-_]+$ (1-64)")
        }
        (_, Some(n)) if !(0..=4).contains(&n) => Some("AuditImagesLimit must be between 0 and 4"),
        _ => None,
    };
    let script = stub.script();
    let (reply, session_id) = if let Some(message) = invalid {
        let reply = error(
            "InvalidParameterException",
            StatusCode::BAD_REQUEST,
            message,
        );
        (reply, None)
    } else if let Some(fault) = script.create_fault() {
        (fault_response(fault, "CreateFaceLivenessSession"), None)
    } else {
        let preferences = input["Settings"]["ChallengePreferences"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["Type"].as_str().and_then(ChallengeKind::from_name))
            .collect();
        let session_id = stub.create_session(token, preferences);
        (ok(json!({ "SessionId": session_id })), Some(session_id))
    };
    script.record_create(headers, input, session_id.as_deref());
    reply
}

fn get(stub: &StubHandle, input: &Value) -> Response {
    stub.script().record_get();
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
    let Some(SessionView {
        outcome,
        challenge,
        feedback,
    }) = stub.results(id)
    else {
        return fault_response(Fault::SessionNotFound, "GetFaceLivenessSessionResults");
    };
    let (status, confidence) = match outcome {
        Outcome::Fault(f) => return fault_response(f, "GetFaceLivenessSessionResults"),
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
        body["Challenge"] = json!({"Type": challenge.name(), "Version": challenge.version()});
    }
    if !feedback.is_empty() {
        let items: Vec<Value> = feedback
            .iter()
            .map(|f| json!({"Code": f.code, "Message": f.message}))
            .collect();
        body["Feedback"] = json!(items);
    }
    ok(body)
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
    fn tokens_follow_the_api_pattern() {
        assert!(valid_token("abc-DEF_123"));
        assert!(!valid_token(""));
        assert!(!valid_token("has space"));
        assert!(!valid_token(&"a".repeat(65)));
    }
}
