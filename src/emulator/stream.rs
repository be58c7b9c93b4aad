//! The streaming side of Face Liveness: `GET /start-face-liveness-session-websocket`.
//!
//! The browser component (`@aws-amplify/ui-react-liveness` 3.6.8, an undocumented protocol:
//! the emulator's tests are its contract) speaks AWS event-stream over a binary websocket.
//! Each client frame is an outer message (`:date`,
//! `:chunk-signature`) whose payload is the inner event; the emulator ignores the signature.
//! The server sends plain event messages: the challenge first, `DisconnectionEvent` after the
//! empty `VideoEvent` that ends the video. The framing uses `aws-smithy-eventstream`, the
//! SDK's own implementation, so CRCs and header encodings match what AWS sends.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_eventstream::frame::{read_message_from, write_message_to};
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use axum::extract::ws::{self, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::judge::{ChallengeKind, ClientReport};
use super::store::StubHandle;
use crate::rules::SESSION_LIFETIME;

/// Longest a stream may stay open: no longer than its session lives.
const STREAM_LIMIT: Duration = SESSION_LIFETIME;

/// An event-stream frame the emulator could not read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("bad event-stream framing: {0}")]
    Framing(#[from] aws_smithy_eventstream::error::Error),
    #[error("event {event_type} has a payload that is not JSON: {source}")]
    Json {
        event_type: String,
        source: serde_json::Error,
    },
    #[error("message has no :event-type header")]
    NoEventType,
}

/// One event as the client sent it (the inner message).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientEvent {
    pub event_type: String,
    pub payload: Value,
}

fn header_str<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| h.value().as_string().ok())
        .map(|s| s.as_str())
}

/// Decodes a client frame: a signed outer message wrapping the event message (a bare event
/// message is accepted too).
pub fn decode_client_frame(frame: &[u8]) -> Result<ClientEvent, FrameError> {
    let outer = read_message_from(frame)?;
    let inner = if header_str(&outer, ":event-type").is_some() {
        outer
    } else {
        read_message_from(outer.payload().as_ref())?
    };
    let event_type = header_str(&inner, ":event-type")
        .ok_or(FrameError::NoEventType)?
        .to_owned();
    let payload = if inner.payload().is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(inner.payload()).map_err(|source| FrameError::Json {
            event_type: event_type.clone(),
            source,
        })?
    };
    Ok(ClientEvent {
        event_type,
        payload,
    })
}

fn encode(message: &Message) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec fails only for headers over the format's limits, which ours are not.
    write_message_to(message, &mut out).expect("event-stream message within limits");
    out
}

fn string_header(name: &'static str, value: impl Into<String>) -> Header {
    Header::new(name, HeaderValue::String(value.into().into()))
}

/// An event message as the server sends it.
pub fn event_frame(event_type: &str, payload: &Value) -> Vec<u8> {
    let message = Message::new(payload.to_string().into_bytes())
        .add_header(string_header(":message-type", "event"))
        .add_header(string_header(":event-type", event_type))
        .add_header(string_header(":content-type", "application/json"));
    encode(&message)
}

/// An exception message (`ValidationException`, `ThrottlingException`, …).
pub fn exception_frame(exception_type: &str, message: &str) -> Vec<u8> {
    let payload = json!({ "Message": message }).to_string();
    let message = Message::new(payload.into_bytes())
        .add_header(string_header(":message-type", "exception"))
        .add_header(string_header(":exception-type", exception_type))
        .add_header(string_header(":content-type", "application/json"));
    encode(&message)
}

/// A client event wrapped the way the browser SDK sends it (for tests and tools).
pub fn signed_client_frame(event_type: &str, payload: &Value) -> Vec<u8> {
    let inner = event_frame(event_type, payload);
    let now = aws_smithy_types::DateTime::from(SystemTime::now());
    let outer = Message::new(inner)
        .add_header(Header::new(":date", HeaderValue::Timestamp(now)))
        .add_header(Header::new(
            ":chunk-signature",
            HeaderValue::ByteArray(vec![0u8; 32].into()),
        ));
    encode(&outer)
}

/// The challenge of a stream: the session's first preference the client supports, else
/// the light challenge when the client lists it (as Rekognition without preferences).
pub fn pick_challenge(
    challenge_versions: Option<&str>,
    preferences: &[ChallengeKind],
) -> ChallengeKind {
    let supports = |kind: ChallengeKind| {
        challenge_versions.is_none_or(|v| {
            v.split(',')
                .any(|entry| entry.split('_').next() == Some(kind.name()))
        })
    };
    if let Some(preferred) = preferences.iter().copied().find(|k| supports(*k)) {
        return preferred;
    }
    match challenge_versions {
        Some(v) if !v.contains("FaceMovementAndLightChallenge") => ChallengeKind::FaceMovement,
        _ => ChallengeKind::FaceMovementAndLight,
    }
}

/// Colours of the light challenge: black first (shown flat), then scrolled colours.
const COLORS: [[u8; 3]; 8] = [
    [0, 0, 0],
    [0, 255, 255],
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 0],
    [255, 0, 255],
    [255, 255, 255],
];

/// Number of colour sequences sent for the light challenge.
pub const COLOR_SEQUENCES: usize = COLORS.len();

/// `ServerSessionInformationEvent` for a `width`×`height` video. Thresholds are the ones the
/// real service sends (non-zero: the client divides by the distance, ratio and IoU ones).
pub fn session_information(kind: ChallengeKind, width: f64, height: f64) -> Value {
    let ratio = 1.618;
    let oval_width = (width * 0.45).round();
    let oval_height = (oval_width * ratio).min(height * 0.95).round();
    let mut body = json!({
        "OvalParameters": {
            "Width": oval_width,
            "Height": oval_height,
            "CenterX": (width / 2.0).round(),
            "CenterY": (height / 2.0).round(),
        },
        "ChallengeConfig": {
            "BlazeFaceDetectionThreshold": 0.75,
            "FaceDistanceThreshold": 0.32,
            "FaceDistanceThresholdMin": 0.32,
            "FaceDistanceThresholdMax": 0.4,
            "OvalIouThreshold": 0.55,
            "OvalHeightWidthRatio": ratio,
            "OvalIouWidthThreshold": 0.25,
            "OvalIouHeightThreshold": 0.25,
            "FaceIouWidthThreshold": 0.15,
            "FaceIouHeightThreshold": 0.15,
            "OvalFitTimeout": 15000,
        },
    });
    if kind == ChallengeKind::FaceMovementAndLight {
        let sequences: Vec<Value> = COLORS
            .iter()
            .enumerate()
            .map(|(i, rgb)| {
                let (down, flat) = if i == 0 { (0, 75) } else { (300, 100) };
                json!({"FreshnessColor": {"RGB": rgb}, "DownscrollDuration": down,
                       "FlatDisplayDuration": flat})
            })
            .collect();
        body["LightChallengeType"] = json!("SEQUENTIAL");
        body["ColorSequences"] = json!(sequences);
    }
    json!({ "SessionInformation": { "Challenge": { kind.name(): body } } })
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// `GET /start-face-liveness-session-websocket?session-id=…&challenge-versions=…&…`
pub async fn start_session(
    State(store): State<StubHandle>,
    Query(query): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.on_upgrade(move |socket| async move {
        if let Err(e) = tokio::time::timeout(STREAM_LIMIT, run(socket, store, query)).await {
            tracing::info!("stream closed after {e}");
        }
    })
}

async fn send(socket: &mut WebSocket, frame: Vec<u8>) -> bool {
    socket.send(ws::Message::Binary(frame.into())).await.is_ok()
}

/// Closes normally and waits for the client's answer, so neither side sees 1006.
async fn close(mut socket: WebSocket) {
    let frame = ws::CloseFrame {
        code: ws::close_code::NORMAL,
        reason: "".into(),
    };
    if socket.send(ws::Message::Close(Some(frame))).await.is_ok() {
        while let Some(Ok(_)) = socket.recv().await {}
    }
}

async fn run(mut socket: WebSocket, store: StubHandle, query: HashMap<String, String>) {
    let session_id = query.get("session-id").cloned().unwrap_or_default();
    let preferences = match store.begin_stream(&session_id) {
        Ok(preferences) => preferences,
        Err(refusal) => {
            tracing::info!(session_id, %refusal, "stream refused");
            send(
                &mut socket,
                exception_frame("ValidationException", &refusal.to_string()),
            )
            .await;
            close(socket).await;
            return;
        }
    };
    let dimension = |name: &str, default: f64| {
        query
            .get(name)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| *v > 0.0)
            .unwrap_or(default)
    };
    let kind = pick_challenge(
        query.get("challenge-versions").map(String::as_str),
        &preferences,
    );
    let info = session_information(
        kind,
        dimension("video-width", 640.0),
        dimension("video-height", 480.0),
    );
    let mut report = ClientReport {
        challenge: kind,
        color_sequences: match kind {
            ChallengeKind::FaceMovementAndLight => COLOR_SEQUENCES,
            ChallengeKind::FaceMovement => 0,
        },
        ..ClientReport::default()
    };
    tracing::info!(session_id, challenge = kind.name(), "stream started");
    if !send(
        &mut socket,
        event_frame("ServerSessionInformationEvent", &info),
    )
    .await
    {
        return;
    }
    while let Some(Ok(message)) = socket.recv().await {
        let frame = match message {
            ws::Message::Binary(frame) => frame,
            // tungstenite answers the close frame; the next recv() ends the loop.
            _ => continue,
        };
        let event = match decode_client_frame(&frame) {
            Ok(event) => event,
            Err(e) => {
                tracing::warn!(session_id, error = %e, "unreadable client frame");
                send(
                    &mut socket,
                    exception_frame("ValidationException", &e.to_string()),
                )
                .await;
                close(socket).await;
                return;
            }
        };
        match event.event_type.as_str() {
            "ClientSessionInformationEvent" => report.record_client_information(&event.payload),
            "VideoEvent" => {
                let chunk = event.payload["VideoChunk"].as_str().unwrap_or_default();
                if !chunk.is_empty() {
                    report.video_chunks += 1;
                    continue;
                }
                let outcome = store.finish_stream(&session_id, &report);
                tracing::info!(session_id, checks = ?report.checks(), ?outcome, "video ended");
                let disconnect = json!({ "TimestampMillis": now_millis() });
                send(&mut socket, event_frame("DisconnectionEvent", &disconnect)).await;
            }
            other => tracing::debug!(session_id, event_type = other, "event ignored"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_frames_decode_to_their_inner_event() {
        let payload = json!({"VideoChunk": "AAAA", "TimestampMillis": 5});
        let frame = signed_client_frame("VideoEvent", &payload);
        let event = decode_client_frame(&frame).unwrap();
        assert_eq!(event.event_type, "VideoEvent");
        assert_eq!(event.payload, payload);
    }

    #[test]
    fn the_sessions_challenge_preference_wins_when_the_client_supports_it() {
        let both = "FaceMovementAndLightChallenge_2.0.0,FaceMovementChallenge_1.0.0";
        let movement = [ChallengeKind::FaceMovement];
        assert_eq!(
            pick_challenge(Some(both), &movement),
            ChallengeKind::FaceMovement
        );
        let light_only = "FaceMovementAndLightChallenge_2.0.0";
        assert_eq!(
            pick_challenge(Some(light_only), &movement),
            ChallengeKind::FaceMovementAndLight,
            "a preference the client lacks is skipped"
        );
    }

    #[test]
    fn the_light_challenge_is_chosen_when_offered() {
        let both = "FaceMovementAndLightChallenge_2.0.0,FaceMovementChallenge_1.0.0";
        assert_eq!(
            pick_challenge(Some(both), &[]),
            ChallengeKind::FaceMovementAndLight
        );
        assert_eq!(
            pick_challenge(Some("FaceMovementChallenge_1.0.0"), &[]),
            ChallengeKind::FaceMovement
        );
    }

    #[test]
    fn thresholds_the_client_divides_by_are_not_zero() {
        let info = session_information(ChallengeKind::FaceMovementAndLight, 640.0, 480.0);
        let challenge = &info["SessionInformation"]["Challenge"]["FaceMovementAndLightChallenge"];
        for (name, value) in challenge["ChallengeConfig"].as_object().unwrap() {
            assert!(value.as_f64().unwrap() > 0.0, "{name}");
        }
        assert_eq!(
            challenge["ColorSequences"].as_array().unwrap().len(),
            COLOR_SEQUENCES
        );
        assert!(challenge["OvalParameters"]["Height"].as_f64().unwrap() <= 480.0);
    }
}
