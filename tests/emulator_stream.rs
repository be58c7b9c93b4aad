//! The emulator's streaming websocket and assets, over TLS, with a Rust websocket client
//! that frames events as the browser SDK does (a signed-looking outer message wrapping each
//! event); the verdict is then read with the real SDK.

mod emulator_support;

use aws_sdk_rekognition::types::LivenessSessionStatus;
use emulator_support::{CONFIDENCE, Socket, good_client_events, header, https_get, open_stream};
use futures::{SinkExt, StreamExt};
use liveness_operator::emulator::Outcome;
use liveness_operator::emulator::judge::FAILED_CONFIDENCE;
use liveness_operator::emulator::stream::{COLOR_SEQUENCES, signed_client_frame};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const BOTH: &str = "FaceMovementAndLightChallenge_2.0.0,FaceMovementChallenge_1.0.0";

/// The next server message as (message type, event or exception type, JSON payload).
async fn next_event(socket: &mut Socket) -> (String, String, Value) {
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("a server message in time")
            .expect("the stream is open")
            .expect("a websocket message");
        let WsMessage::Binary(bytes) = frame else {
            continue;
        };
        let message = aws_smithy_eventstream::frame::read_message_from(bytes.as_ref()).unwrap();
        let get = |name: &str| {
            message
                .headers()
                .iter()
                .find(|h| h.name().as_str() == name)
                .and_then(|h| h.value().as_string().ok())
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default()
        };
        let kind = get(":message-type");
        let name = if kind == "exception" {
            get(":exception-type")
        } else {
            get(":event-type")
        };
        assert_eq!(get(":content-type"), "application/json");
        return (
            kind,
            name,
            serde_json::from_slice(message.payload()).unwrap(),
        );
    }
}

async fn send(socket: &mut Socket, event_type: &str, payload: Value) {
    let frame = signed_client_frame(event_type, &payload);
    socket.send(WsMessage::Binary(frame.into())).await.unwrap();
}

async fn create_session(client: &aws_sdk_rekognition::Client) -> String {
    let created = client.create_face_liveness_session().send().await.unwrap();
    created.session_id().to_owned()
}

/// Streams a session: `events` client-information payloads, `chunks` video chunks, then the
/// empty VideoEvent; returns the challenge the server sent.
async fn results(
    client: &aws_sdk_rekognition::Client,
    id: &str,
) -> aws_sdk_rekognition::operation::get_face_liveness_session_results::GetFaceLivenessSessionResultsOutput{
    client
        .get_face_liveness_session_results()
        .session_id(id)
        .send()
        .await
        .unwrap()
}

async fn stream_session(socket: &mut Socket, events: Vec<Value>, chunks: usize) -> Value {
    let (kind, name, info) = next_event(socket).await;
    assert_eq!(
        (kind.as_str(), name.as_str()),
        ("event", "ServerSessionInformationEvent")
    );
    for n in 0..chunks {
        let chunk =
            json!({"VideoChunk": "GkXfo59ChoEBQveBAULygQRC84EIQoKEd2VibQ==", "TimestampMillis": n});
        send(socket, "VideoEvent", chunk).await;
    }
    for event in events {
        send(socket, "ClientSessionInformationEvent", event).await;
    }
    send(socket, "VideoEvent", json!({"TimestampMillis": 99})).await;
    let (kind, name, body) = next_event(socket).await;
    assert_eq!(
        (kind.as_str(), name.as_str()),
        ("event", "DisconnectionEvent")
    );
    assert!(body["TimestampMillis"].as_u64().unwrap() > 0);
    info
}

#[tokio::test]
async fn a_session_with_face_oval_and_colours_succeeds_with_the_configured_confidence() {
    let t = emulator_support::start().await;
    let client = emulator_support::rekognition(&t.emulator);
    let id = create_session(&client).await;
    let (mut socket, response) = open_stream(&t.emulator, &id, BOTH).await;
    assert_eq!(
        response
            .headers()
            .get("x-liveness-emulator")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    let info = stream_session(&mut socket, good_client_events(COLOR_SEQUENCES), 3).await;
    let challenge = &info["SessionInformation"]["Challenge"]["FaceMovementAndLightChallenge"];
    assert_eq!(challenge["LightChallengeType"], "SEQUENTIAL");
    assert_eq!(
        challenge["ColorSequences"].as_array().unwrap().len(),
        COLOR_SEQUENCES
    );
    assert!(
        challenge["ChallengeConfig"]["OvalIouThreshold"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(challenge["OvalParameters"]["Width"].as_f64().unwrap() > 0.0);

    let results = results(&client, &id).await;
    assert_eq!(results.status(), &LivenessSessionStatus::Succeeded);
    assert_eq!(results.confidence(), Some(CONFIDENCE));
    let challenge = results.challenge().expect("the challenge used");
    assert_eq!(challenge.r#type().as_str(), "FaceMovementAndLightChallenge");
    assert_eq!(challenge.version(), "2.0.0");
}

#[tokio::test]
async fn a_session_without_a_face_fails() {
    let t = emulator_support::start().await;
    let client = emulator_support::rekognition(&t.emulator);
    let id = create_session(&client).await;
    let (mut socket, _) = open_stream(&t.emulator, &id, BOTH).await;
    let no_face = json!({"Challenge": {"FaceMovementAndLightChallenge": {
        "ChallengeId": "00000000-0000-4000-8000-000000000000",
        "VideoStartTimestamp": 1_700_000_000_000u64}}});
    stream_session(&mut socket, vec![no_face], 3).await;
    let results = results(&client, &id).await;
    assert_eq!(results.status(), &LivenessSessionStatus::Failed);
    assert_eq!(results.confidence(), Some(FAILED_CONFIDENCE));
}

#[tokio::test]
async fn movement_only_clients_get_the_movement_challenge() {
    let t = emulator_support::start().await;
    let client = emulator_support::rekognition(&t.emulator);
    let id = create_session(&client).await;
    let (mut socket, _) = open_stream(&t.emulator, &id, "FaceMovementChallenge_1.0.0").await;
    let (_, _, info) = next_event(&mut socket).await;
    let challenge = &info["SessionInformation"]["Challenge"];
    assert!(
        challenge["FaceMovementChallenge"]["ChallengeConfig"].is_object(),
        "{info}"
    );
    assert!(challenge["FaceMovementChallenge"]["ColorSequences"].is_null());
}

#[tokio::test]
async fn a_scripted_session_keeps_its_outcome_whatever_the_stream() {
    let t = emulator_support::start().await;
    let client = emulator_support::rekognition(&t.emulator);
    let id = create_session(&client).await;
    t.emulator.handle().set_outcome(&id, Outcome::Failed(42.0));
    let (mut socket, _) = open_stream(&t.emulator, &id, BOTH).await;
    stream_session(&mut socket, good_client_events(COLOR_SEQUENCES), 1).await;
    assert_eq!(
        t.emulator.handle().outcome(&id),
        Some(Outcome::Failed(42.0))
    );
}

#[tokio::test]
async fn an_unknown_session_gets_a_validation_exception() {
    let t = emulator_support::start().await;
    let (mut socket, _) =
        open_stream(&t.emulator, "0b0c5f3e-1b2a-4c8e-9d6f-0a1b2c3d4e5f", BOTH).await;
    let (kind, name, body) = next_event(&mut socket).await;
    assert_eq!(
        (kind.as_str(), name.as_str()),
        ("exception", "ValidationException")
    );
    assert!(
        body["Message"].as_str().unwrap().contains("not found"),
        "{body}"
    );
}

#[tokio::test]
async fn assets_have_their_content_types_cors_and_the_emulator_header() {
    let t = emulator_support::start().await;
    for (path, content_type) in [
        (
            "/assets/models/facemesh-detection-short.json",
            "application/json",
        ),
        (
            "/assets/models/facemesh-detection-short.bin",
            "application/octet-stream",
        ),
        (
            "/assets/wasm/tfjs-backend-wasm-simd.wasm",
            "application/wasm",
        ),
    ] {
        let (status, headers, body) = https_get(&t.emulator, path).await;
        assert!(status.contains(" 200 "), "{path}: {status}");
        assert_eq!(
            header(&headers, "content-type"),
            Some(content_type),
            "{path}"
        );
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
        assert_eq!(
            header(&headers, "x-liveness-emulator"),
            Some("true"),
            "{path}"
        );
        assert!(!body.is_empty());
    }
    let (status, headers, _) = https_get(&t.emulator, "/assets/models/missing.json").await;
    assert!(status.contains(" 404 "), "{status}");
    assert_eq!(header(&headers, "x-liveness-emulator"), Some("true"));
    // The JSON 1.1 endpoint is POST only; its refusal is marked too.
    let (status, headers, _) = https_get(&t.emulator, "/").await;
    assert!(status.contains(" 405 "), "{status}");
    assert_eq!(header(&headers, "x-liveness-emulator"), Some("true"));
    let (status, _, _) = https_get(&t.emulator, "/assets/../Cargo.toml").await;
    assert!(!status.contains(" 200 "), "{status}");
}

#[tokio::test]
async fn an_unfinished_session_expires_and_cannot_stream() {
    let t = emulator_support::start().await;
    let client = emulator_support::rekognition(&t.emulator);
    // Three minutes in AWS; shortened here so the test need not wait.
    t.emulator
        .handle()
        .set_session_lifetime(std::time::Duration::from_millis(200));
    let id = create_session(&client).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let results = results(&client, &id).await;
    assert_eq!(results.status(), &LivenessSessionStatus::Expired);
    let (mut socket, _) = open_stream(&t.emulator, &id, BOTH).await;
    let (kind, name, body) = next_event(&mut socket).await;
    assert_eq!(
        (kind.as_str(), name.as_str()),
        ("exception", "ValidationException")
    );
    assert!(
        body["Message"].as_str().unwrap().contains("expired"),
        "{body}"
    );
}
