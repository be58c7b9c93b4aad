//! Shared by the emulator tests: an emulator on an ephemeral loopback port with its own
//! self-signed certificate and a scratch assets directory, and clients that trust exactly
//! that certificate (the SDK, a websocket client, a raw HTTPS GET).

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_rekognition::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use liveness_operator::emulator::judge::Policy;
use liveness_operator::emulator::{Emulator, Options};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_tungstenite::WebSocketStream;

pub const CONFIDENCE: f32 = 93.25;

pub struct TestEmulator {
    pub emulator: Emulator,
    pub assets: PathBuf,
}

impl Drop for TestEmulator {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.assets);
    }
}

/// An emulator judging sessions (passing ones report [`CONFIDENCE`]), with a few assets.
pub async fn start() -> TestEmulator {
    start_with(Policy::Judge {
        confidence: CONFIDENCE,
    })
    .await
}

pub async fn start_with(policy: Policy) -> TestEmulator {
    let assets = std::env::temp_dir().join(format!("emulator-assets-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(assets.join("models")).unwrap();
    std::fs::create_dir_all(assets.join("wasm")).unwrap();
    std::fs::write(assets.join("models/facemesh-detection-short.json"), b"{}").unwrap();
    std::fs::write(
        assets.join("models/facemesh-detection-short.bin"),
        [1u8, 2, 3],
    )
    .unwrap();
    std::fs::write(assets.join("wasm/tfjs-backend-wasm-simd.wasm"), b"\0asm").unwrap();
    let emulator = Emulator::start(Options {
        listen: "127.0.0.1:0".parse().unwrap(),
        assets_dir: assets.clone(),
        tls: None,
        policy,
        api_listen: Some("127.0.0.1:0".parse().unwrap()),
    })
    .await
    .unwrap();
    TestEmulator { emulator, assets }
}

/// A rustls client configuration trusting only the emulator's certificate.
pub fn client_tls(emulator: &Emulator) -> Arc<ClientConfig> {
    client_tls_for(emulator.cert_pem())
}

/// A rustls client configuration trusting only `cert_pem`.
pub fn client_tls_for(cert_pem: &str) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(cert_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// The real Rekognition client, over HTTPS, trusting the emulator's certificate.
pub fn rekognition(emulator: &Emulator) -> aws_sdk_rekognition::Client {
    let trust = tls::TrustStore::empty().with_pem_certificate(emulator.cert_pem().as_bytes());
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(
            tls::TlsContext::builder()
                .with_trust_store(trust)
                .build()
                .unwrap(),
        )
        .build_https();
    let config = client_config(emulator.url())
        .http_client(http)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(1)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .build();
    aws_sdk_rekognition::Client::from_conf(config)
}

/// The real client against the emulator's plain-HTTP JSON 1.1 listener.
pub fn rekognition_over_http(emulator: &Emulator) -> aws_sdk_rekognition::Client {
    let url = emulator.http_api_url().expect("started with api_listen");
    let config = client_config(url)
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .build();
    aws_sdk_rekognition::Client::from_conf(config)
}

/// Region, endpoint and keys the emulator does not check.
fn client_config(endpoint: String) -> aws_sdk_rekognition::config::Builder {
    aws_sdk_rekognition::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDEMULATORTEST",
            "not-a-real-secret",
            None,
            None,
            "tests",
        )))
}

async fn tls_stream(emulator: &Emulator) -> TlsStream<TcpStream> {
    tls_stream_to(emulator.addr(), emulator.cert_pem()).await
}

async fn tls_stream_to(addr: std::net::SocketAddr, cert_pem: &str) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from(addr.ip().to_string()).unwrap();
    TlsConnector::from(client_tls_for(cert_pem))
        .connect(name, tcp)
        .await
        .unwrap()
}

pub type Socket = WebSocketStream<TlsStream<TcpStream>>;

/// Opens the streaming websocket as the browser does (query parameters included).
pub async fn open_stream(
    emulator: &Emulator,
    session_id: &str,
    challenge_versions: &str,
) -> (
    Socket,
    tokio_tungstenite::tungstenite::handshake::client::Response,
) {
    let url = format!(
        "{}/start-face-liveness-session-websocket?session-id={session_id}\
         &challenge-versions={challenge_versions}&video-width=640&video-height=480\
         &X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00",
        emulator.streaming_url()
    );
    tokio_tungstenite::client_async(url, tls_stream(emulator).await)
        .await
        .unwrap()
}

/// A raw `GET path` over TLS: (status line, lower-cased headers, body).
pub async fn https_get(
    emulator: &Emulator,
    path: &str,
) -> (String, Vec<(String, String)>, Vec<u8>) {
    https_get_at(emulator.addr(), emulator.cert_pem(), path).await
}

/// Like [`https_get`], to any address serving `cert_pem`.
pub async fn https_get_at(
    addr: std::net::SocketAddr,
    cert_pem: &str,
    path: &str,
) -> (String, Vec<(String, String)>, Vec<u8>) {
    let mut stream = tls_stream_to(addr, cert_pem).await;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await; // the server may close without close_notify
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines.next().unwrap().to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// ClientSessionInformationEvent payloads as the component sends them for a session in
/// which the face was found, reached the oval and saw `colors` colours.
pub fn good_client_events(colors: usize) -> Vec<Value> {
    let c = "FaceMovementAndLightChallenge";
    let mut events = vec![json!({"Challenge": {c: {
        "ChallengeId": "00000000-0000-4000-8000-000000000000",
        "VideoStartTimestamp": 1_700_000_000_000u64,
        "InitialFace": {
            "BoundingBox": {"Width": 0.3, "Height": 0.4, "Left": 0.35, "Top": 0.3},
            "InitialFaceDetectedTimestamp": 1_700_000_000_100u64}}}})];
    for n in 0..colors {
        events.push(json!({"Challenge": {c: {"ColorDisplayed": {
            "CurrentColor": {"RGB": [0, 0, 0]}, "PreviousColor": {"RGB": [0, 0, 0]},
            "SequenceNumber": n, "CurrentColorStartTimestamp": 1_700_000_001_000u64 + n as u64}}}}));
    }
    events.push(json!({"Challenge": {c: {
        "VideoEndTimestamp": 1_700_000_005_000u64,
        "TargetFace": {
            "BoundingBox": {"Width": 0.45, "Height": 0.6, "Left": 0.27, "Top": 0.2},
            "FaceDetectedInTargetPositionStartTimestamp": 1_700_000_002_000u64,
            "FaceDetectedInTargetPositionEndTimestamp": 1_700_000_004_000u64}}}}));
    events
}
