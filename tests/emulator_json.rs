//! The emulator's JSON 1.1 side, through the real `aws-sdk-rekognition` client over HTTPS
//! (trusting the emulator's self-signed certificate): create, idempotency, results, errors.

mod emulator_support;

use aws_sdk_rekognition::types::LivenessSessionStatus;
use emulator_support::start;
use liveness_operator::emulator::judge::OutcomeFlag;
use liveness_operator::emulator::{Fault, Outcome};

#[tokio::test]
async fn sessions_are_created_idempotently_and_start_as_created() {
    let t = start().await;
    let client = emulator_support::rekognition(&t.emulator);
    let first = client
        .create_face_liveness_session()
        .client_request_token("retry-1")
        .send()
        .await
        .unwrap();
    let again = client
        .create_face_liveness_session()
        .client_request_token("retry-1")
        .send()
        .await
        .unwrap();
    assert_eq!(first.session_id(), again.session_id());
    let other = client.create_face_liveness_session().send().await.unwrap();
    assert_ne!(first.session_id(), other.session_id());

    let results = client
        .get_face_liveness_session_results()
        .session_id(first.session_id())
        .send()
        .await
        .unwrap();
    assert_eq!(results.status(), &LivenessSessionStatus::Created);
    assert_eq!(results.confidence(), None);
}

/// The plain-HTTP listener (for pods that cannot trust the self-signed certificate) serves
/// the same sessions through the same API, and nothing else.
#[tokio::test]
async fn the_http_listener_serves_the_same_sessions_and_only_the_json_api() {
    let t = start().await;
    let created = emulator_support::rekognition(&t.emulator)
        .create_face_liveness_session()
        .send()
        .await
        .unwrap();
    let over_http = emulator_support::rekognition_over_http(&t.emulator);
    let results = over_http
        .get_face_liveness_session_results()
        .session_id(created.session_id())
        .send()
        .await
        .unwrap();
    assert_eq!(results.status(), &LivenessSessionStatus::Created);
    assert!(
        over_http
            .create_face_liveness_session()
            .send()
            .await
            .is_ok()
    );
    let base = t.emulator.http_api_url().unwrap();
    for path in [
        "/assets/models/facemesh-detection-short.json",
        "/start-face-liveness-session-websocket",
    ] {
        let status = reqwest::get(format!("{base}{path}"))
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{path} is only on the HTTPS listener");
    }
}

#[tokio::test]
async fn errors_have_the_real_shapes() {
    let t = start().await;
    let client = emulator_support::rekognition(&t.emulator);
    let err = client
        .get_face_liveness_session_results()
        .session_id("0b0c5f3e-1b2a-4c8e-9d6f-0a1b2c3d4e5f")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_session_not_found_exception()),
        "{err:?}"
    );
    let err = client
        .create_face_liveness_session()
        .client_request_token("not valid!")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_invalid_parameter_exception()),
        "{err:?}"
    );
}

#[tokio::test]
async fn scripted_outcomes_reach_the_sdk() {
    let t = start().await;
    let client = emulator_support::rekognition(&t.emulator);
    let handle = t.emulator.handle();
    let id = client
        .create_face_liveness_session()
        .send()
        .await
        .unwrap()
        .session_id()
        .to_owned();
    let get = || {
        client
            .get_face_liveness_session_results()
            .session_id(&id)
            .send()
    };

    handle.set_outcome(&id, Outcome::Expired);
    assert_eq!(
        get().await.unwrap().status(),
        &LivenessSessionStatus::Expired
    );

    handle.set_outcome(&id, Outcome::Fault(Fault::Throttling));
    let err = get().await.unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_throttling_exception()),
        "{err:?}"
    );

    handle.set_outcome(&id, Outcome::Fault(Fault::InternalServerError));
    let err = get().await.unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_internal_server_error()),
        "{err:?}"
    );

    handle.set_outcome(&id, Outcome::Succeeded(99.0));
    let results = get().await.unwrap();
    assert_eq!(results.status(), &LivenessSessionStatus::Succeeded);
    assert_eq!(results.confidence(), Some(99.0));
}

#[test]
fn every_outcome_flag_maps_to_a_policy() {
    for (flag, expected) in [
        ("pass", Outcome::Succeeded(90.0)),
        ("fail", Outcome::Failed(5.0)),
        ("expire", Outcome::Expired),
        ("throttle", Outcome::Fault(Fault::Throttling)),
        ("server-error", Outcome::Fault(Fault::InternalServerError)),
    ] {
        let policy = flag.parse::<OutcomeFlag>().unwrap().policy(90.0);
        assert_eq!(policy.decide(&Default::default()), expected, "{flag}");
    }
}
