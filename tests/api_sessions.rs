//! `POST /v1/sessions` and `GET /v1/sessions/{sessionId}` through the real
//! aws-sdk-rekognition client against the Rekognition stub: results, `isLive`, what the
//! browser may see, idempotency, challenge preferences, feedback, and every error a
//! frontend or an operator has to act on. (Callers here are anonymous, `--auth none`;
//! signed-in callers are in api_auth.rs.)

mod api_support;

use std::time::Duration;

use api_support::{Created, REGION, error_of, sdk_config, start, start_with};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use liveness_operator::emulator::{Fault, FeedbackItem, Outcome, RekognitionStub};
use serde_json::{Value, json};

async fn session(api: &api_support::Api, created: &Created) -> Value {
    let r = api.read(created).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn keys(body: &Value) -> Vec<&str> {
    body.as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect()
}

#[tokio::test]
async fn create_returns_the_session_id_and_when_it_expires() {
    let api = start(&[]).await;
    let before = chrono::Utc::now();
    let r = api.create().await;
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        keys(&body),
        ["expiresAt", "sessionId", "sessionToken"],
        "exactly these fields, not `session`"
    );
    let token = body["sessionToken"].as_str().unwrap();
    assert_eq!(token.len(), 43, "an HMAC-SHA256, base64url: {token}");

    let id = body["sessionId"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(location, format!("/v1/sessions/{id}"));
    let expires = chrono::DateTime::parse_from_rfc3339(body["expiresAt"].as_str().unwrap())
        .expect("RFC 3339");
    let lifetime = expires.signed_duration_since(before).num_seconds();
    assert!(
        (178..=182).contains(&lifetime),
        "sessions live 3 minutes, got {lifetime}s"
    );

    let calls = api.stub.create_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].session_id.as_deref(), Some(id));
    assert_eq!(
        calls[0].signing_region.as_deref(),
        Some(REGION),
        "created in LIVENESS_REGION"
    );
    assert_eq!(calls[0].client_request_token, None);
    assert_eq!(calls[0].audit_images_limit, Some(0));
    assert_eq!(calls[0].s3_bucket, None);
}

#[tokio::test]
async fn create_sends_the_configured_session_settings() {
    let api = start(&[
        "--audit-images-limit=3",
        "--output-s3-bucket=liveness-images",
        "--output-s3-key-prefix=onboarding/",
        "--kms-key-id=alias/liveness",
    ])
    .await;
    api.create_id().await;
    let call = &api.stub.create_calls()[0];
    assert_eq!(call.audit_images_limit, Some(3));
    assert_eq!(call.s3_bucket.as_deref(), Some("liveness-images"));
    assert_eq!(call.s3_key_prefix.as_deref(), Some("onboarding/"));
    assert_eq!(call.kms_key_id.as_deref(), Some("alias/liveness"));
}

#[tokio::test]
async fn the_same_idempotency_key_yields_one_session() {
    let api = start(&[]).await;
    let post = |key: &'static str| {
        api.http
            .post(api.url("/v1/sessions"))
            .header("Idempotency-Key", key)
            .send()
    };
    // React StrictMode runs the effect twice with the same key.
    let (a, b) = tokio::join!(post("mount-7f3a_1"), post("mount-7f3a_1"));
    let a: Value = a.unwrap().json().await.unwrap();
    let b: Value = b.unwrap().json().await.unwrap();
    assert_eq!(a["sessionId"], b["sessionId"]);
    assert_eq!(
        a["sessionToken"], b["sessionToken"],
        "the same session, the same token"
    );
    assert_eq!(api.stub.sessions_created(), 1);
    let tokens: Vec<_> = api
        .stub
        .create_calls()
        .into_iter()
        .map(|c| c.client_request_token.expect("a ClientRequestToken"))
        .collect();
    assert_eq!(tokens[0], tokens[1]);
    // What AWS gets is derived from the caller and the key, never the key itself.
    assert_ne!(tokens[0], "mount-7f3a_1");
    assert!(
        tokens[0].len() <= 64
            && tokens[0]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
        "a valid ClientRequestToken: {}",
        tokens[0]
    );

    let c: Value = post("another-attempt").await.unwrap().json().await.unwrap();
    assert_ne!(c["sessionId"], a["sessionId"], "a new key is a new attempt");
    assert_eq!(api.stub.sessions_created(), 2);
}

#[tokio::test]
async fn a_bad_idempotency_key_is_refused_before_calling_aws() {
    let api = start(&[]).await;
    for key in ["has spaces", "dots.not.allowed", &"k".repeat(65)] {
        let r = api
            .http
            .post(api.url("/v1/sessions"))
            .header("Idempotency-Key", key)
            .send()
            .await
            .unwrap();
        let message = error_of(r, 400, "invalid_idempotency_key").await;
        assert!(message.contains("Idempotency-Key"), "{message}");
    }
    assert!(api.stub.create_calls().is_empty());
}

#[tokio::test]
async fn succeeded_at_or_above_the_threshold_is_live_and_the_score_stays_on_the_server() {
    let api = start(&[]).await;
    let created = api.create_session().await;
    api.stub.set_outcome(&created.id, Outcome::Succeeded(97.3));
    let body = session(&api, &created).await;
    assert_eq!(
        keys(&body),
        ["feedback", "isLive", "sessionId", "status", "verdict"],
        "no confidence and no threshold for the browser by default: {body}"
    );
    assert_eq!(body["sessionId"], created.id.as_str());
    assert_eq!(body["status"], "SUCCEEDED");
    assert_eq!(body["isLive"], true);
    assert_eq!(body["feedback"], json!([]));
    assert_eq!(
        body["verdict"].as_str().unwrap().split('.').count(),
        3,
        "a compact JWS"
    );
    api.stub.set_outcome(&created.id, Outcome::Succeeded(90.0));
    assert_eq!(
        session(&api, &created).await["isLive"],
        true,
        "the threshold itself is live"
    );
}

#[tokio::test]
async fn succeeded_below_the_threshold_is_not_live() {
    let api = start(&[]).await;
    let created = api.create_session().await;
    api.stub.set_outcome(&created.id, Outcome::Succeeded(85.0));
    let body = session(&api, &created).await;
    assert_eq!(body["status"], "SUCCEEDED");
    assert_eq!(body["isLive"], false);
    assert!(body.get("confidence").is_none(), "{body}");
}

#[tokio::test]
async fn with_expose_confidence_the_browser_sees_the_score_and_the_threshold() {
    let api = start(&["--confidence-threshold=80", "--expose-confidence"]).await;
    let created = api.create_session().await;
    api.stub.set_outcome(&created.id, Outcome::Succeeded(85.0));
    let body = session(&api, &created).await;
    assert_eq!(body["threshold"], 80.0);
    assert_eq!(body["confidence"], 85.0);
    assert_eq!(body["isLive"], true, "85 reaches the configured 80");
}

#[tokio::test]
async fn a_missing_confidence_is_null_and_not_live() {
    let api = start(&["--expose-confidence"]).await;
    let created = api.create_session().await;
    api.stub
        .set_outcome(&created.id, Outcome::SucceededWithoutConfidence);
    let body = session(&api, &created).await;
    assert_eq!(body["status"], "SUCCEEDED");
    assert_eq!(body["confidence"], Value::Null);
    assert!(
        body.as_object().unwrap().contains_key("confidence"),
        "present, as null"
    );
    assert_eq!(body["isLive"], false);
}

#[tokio::test]
async fn failed_created_and_expired_sessions_are_reported_as_such() {
    let api = start(&["--expose-confidence"]).await;
    let created = api.create_session().await;
    for (outcome, status, confidence, final_) in [
        (Outcome::Failed(12.5), "FAILED", json!(12.5), true),
        (Outcome::Created, "CREATED", Value::Null, false),
        (Outcome::InProgress, "IN_PROGRESS", Value::Null, false),
        (Outcome::Expired, "EXPIRED", Value::Null, true),
    ] {
        api.stub.set_outcome(&created.id, outcome);
        let body = session(&api, &created).await;
        assert_eq!(body["status"], status);
        assert_eq!(body["confidence"], confidence, "{status}");
        assert_eq!(body["isLive"], false, "{status}");
        assert_eq!(
            body["verdict"].is_string(),
            final_,
            "a verdict only once {status} is final: {body}"
        );
    }
}

#[tokio::test]
async fn rekognitions_feedback_reaches_the_browser() {
    let api = start(&[]).await;
    let created = api.create_session().await;
    api.stub.set_outcome(&created.id, Outcome::Failed(8.0));
    api.stub.set_feedback(
        &created.id,
        vec![
            FeedbackItem::face_not_visible(),
            FeedbackItem::new("LOW_LIGHTING_DETECTED", "Find a brighter place."),
        ],
    );
    let body = session(&api, &created).await;
    assert_eq!(body["status"], "FAILED");
    assert_eq!(body["feedback"][0]["code"], "FACE_NOT_VISIBLE");
    assert_eq!(
        body["feedback"][1],
        json!({"code": "LOW_LIGHTING_DETECTED", "message": "Find a brighter place."})
    );
}

#[tokio::test]
async fn challenge_preferences_reach_rekognition() {
    let api = start(&["--challenges", "FaceMovementChallenge"]).await;
    api.create_id().await;
    assert_eq!(
        api.stub.create_calls()[0].challenge_preferences,
        ["FaceMovementChallenge"]
    );
    let api = start(&["--challenges=FaceMovementAndLightChallenge,FaceMovementChallenge"]).await;
    api.create_id().await;
    assert_eq!(
        api.stub.create_calls()[0].challenge_preferences,
        ["FaceMovementAndLightChallenge", "FaceMovementChallenge"]
    );
    let api = start(&[]).await;
    api.create_id().await;
    assert!(
        api.stub.create_calls()[0].challenge_preferences.is_empty(),
        "AWS's default without the flag"
    );
}

#[tokio::test]
async fn a_session_read_without_its_token_is_404_like_an_unknown_one() {
    let api = start(&[]).await;
    let created = api.create_session().await;
    let path = format!("/v1/sessions/{}", created.id);
    let without = api.get(&path).await;
    let message = error_of(without, 404, "session_not_found").await;
    let forged = Created {
        id: created.id.clone(),
        token: "A".repeat(43),
    };
    let wrong = error_of(api.read(&forged).await, 404, "session_not_found").await;
    let unknown = error_of(
        api.get("/v1/sessions/0b0c5f3e-1b2a-4c8e-9d6f-0a1b2c3d4e5f")
            .await,
        404,
        "session_not_found",
    )
    .await;
    assert_eq!(message, unknown, "no oracle: the same answer");
    assert_eq!(wrong, unknown);
    assert_eq!(api.stub.get_calls(), 0, "refused before AWS");
}

#[tokio::test]
async fn a_malformed_session_id_is_refused_without_calling_aws() {
    let api = start(&[]).await;
    for id in [
        "abc",
        "0b0c5f3e1b2a4c8e9d6f0a1b2c3d4e5f",
        "0b0c5f3e-1b2a-4c8e-9d6f-0a1b2c3d4e5fx",
    ] {
        let message = error_of(
            api.get(&format!("/v1/sessions/{id}")).await,
            400,
            "invalid_session_id",
        )
        .await;
        assert!(message.contains("36-character"), "{message}");
    }
    assert_eq!(api.stub.get_calls(), 0);
}

#[tokio::test]
async fn a_session_rekognition_does_not_know_is_404_and_mentions_the_region() {
    let api = start(&[]).await;
    let created = api.create_session().await;
    api.stub
        .set_outcome(&created.id, Outcome::Fault(Fault::SessionNotFound));
    let message = error_of(api.read(&created).await, 404, "session_not_found").await;
    assert!(message.contains(REGION), "{message}");
    assert_eq!(api.stub.get_calls(), 1, "this one was asked of Rekognition");
}

#[tokio::test]
async fn throttling_is_429_with_retry_after() {
    let api = start(&[]).await;
    let created = api.create_session().await;
    api.stub
        .set_outcome(&created.id, Outcome::Fault(Fault::Throttling));
    let r = api.read(&created).await;
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    error_of(r, 429, "throttled").await;
    assert_eq!(
        api.stub.get_calls(),
        2,
        "retried once (the configured 2 attempts) before giving up"
    );
}

#[tokio::test]
async fn exhausted_throughput_and_internal_errors_are_503_with_retry_after() {
    let api = start(&[]).await;
    for (fault, code) in [
        (Fault::ProvisionedThroughputExceeded, "capacity_exceeded"),
        (Fault::InternalServerError, "aws_unavailable"),
    ] {
        api.stub.fail_creates_with(Some(fault));
        let r = api.create().await;
        assert!(r.headers().contains_key("retry-after"), "{code}");
        error_of(r, 503, code).await;
    }
}

#[tokio::test]
async fn access_denied_says_which_permission_and_region_without_leaking_details() {
    let api = start(&[]).await;
    api.stub.fail_creates_with(Some(Fault::AccessDenied));
    let r = api.create().await;
    let text = r.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"], "aws_access_denied");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("rekognition:CreateFaceLivenessSession"),
        "{message}"
    );
    assert!(message.contains("same region"), "{message}");
    for secret in ["arn:", "000000000000", "assumed-role", "AKIDLIVENESSTEST"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }

    api.stub.fail_creates_with(None);
    let created = api.create_session().await;
    api.stub
        .set_outcome(&created.id, Outcome::Fault(Fault::AccessDenied));
    let r = api.read(&created).await;
    assert_eq!(r.status(), 502);
    let message = error_of(r, 502, "aws_access_denied").await;
    assert!(
        message.contains("rekognition:GetFaceLivenessSessionResults"),
        "{message}"
    );
}

#[tokio::test]
async fn rejected_session_settings_point_at_the_output_configuration() {
    let api = start(&[]).await;
    api.stub.fail_creates_with(Some(Fault::InvalidParameter));
    let message = error_of(api.create().await, 502, "aws_invalid_parameter").await;
    assert!(message.contains("LIVENESS_OUTPUT_S3_BUCKET"), "{message}");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_502_naming_the_region_setting() {
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let stub = RekognitionStub::start().await.unwrap();
    let api = start_with(&[], stub, sdk_config(&format!("http://{closed}"))).await;
    let message = error_of(api.create().await, 502, "aws_unreachable").await;
    assert!(message.contains("LIVENESS_REGION"), "{message}");
}

#[tokio::test]
async fn missing_credentials_are_502_saying_what_to_check() {
    let stub = RekognitionStub::start().await.unwrap();
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(stub.endpoint_url())
        .build();
    let api = start_with(&[], stub, sdk).await;
    let message = error_of(api.create().await, 502, "aws_credentials").await;
    assert!(message.contains("IRSA"), "{message}");
    assert!(
        api.stub.create_calls().is_empty(),
        "nothing unsigned was sent"
    );
}

#[tokio::test]
async fn a_slow_rekognition_is_504_within_the_request_timeout() {
    let api = start(&["--request-timeout-seconds=2"]).await;
    api.stub.set_delay(Duration::from_secs(3));
    let started = std::time::Instant::now();
    let message = error_of(api.create().await, 504, "aws_timeout").await;
    assert!(message.contains("did not answer in time"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
