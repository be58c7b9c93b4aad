//! Starts the Rekognition stub and `liveness-api` in-process on loopback, wired with the
//! real aws-sdk-rekognition client (static fake credentials, endpoint = the stub).
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_rekognition::config::{Credentials, SharedCredentialsProvider};
use clap::Parser;
use liveness_operator::api::rekognition::{AwsRekognition, CreateSettings};
use liveness_operator::api::{self, AppState, Args, Config};
use liveness_operator::emulator::{RekognitionStub, StubHandle};
use tokio::sync::oneshot;

pub const REGION: &str = "us-east-1";

/// A running service and the stub behind it; both stop when dropped.
pub struct Api {
    pub base: String,
    pub stub: StubHandle,
    pub state: AppState,
    pub http: reqwest::Client,
    _stub: RekognitionStub,
    _stop: oneshot::Sender<()>,
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn create(&self) -> reqwest::Response {
        self.http
            .post(self.url("/v1/sessions"))
            .send()
            .await
            .unwrap()
    }

    /// Creates a session and returns its id, asserting success.
    pub async fn create_id(&self) -> String {
        let r = self.create().await;
        assert_eq!(r.status(), 201);
        let body: serde_json::Value = r.json().await.unwrap();
        body["sessionId"].as_str().unwrap().to_owned()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }
}

/// SDK configuration a test would write by hand: region, fake static credentials, the
/// stub as endpoint, and quick retries (2 attempts) so throttling tests stay fast.
pub fn sdk_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDLIVENESSTEST",
            "not-a-real-secret",
            None,
            None,
            "tests",
        )))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .build()
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

pub fn config(flags: &[&str]) -> Config {
    let mut argv = vec![
        "liveness-api",
        "--region",
        REGION,
        "--listen",
        "127.0.0.1:0",
    ];
    argv.extend_from_slice(flags);
    Config::from_args(Args::try_parse_from(argv).unwrap()).unwrap()
}

/// Starts the stub and the service configured by `flags` (on top of region and listen).
pub async fn start(flags: &[&str]) -> Api {
    let stub = RekognitionStub::start().await.unwrap();
    let sdk = sdk_config(&stub.endpoint_url());
    start_with(flags, stub, sdk).await
}

/// Like [`start`], with a hand-made SDK configuration.
pub async fn start_with(flags: &[&str], stub: RekognitionStub, sdk: SdkConfig) -> Api {
    let config = config(flags);
    let sessions = AwsRekognition::new(&sdk, CreateSettings::from(&config), config.request_timeout);
    let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(config, Arc::new(sessions));
    let (stop, stopped) = oneshot::channel::<()>();
    let app = api::app(state.clone());
    tokio::spawn(api::serve(listener, app, async {
        let _ = stopped.await;
    }));
    Api {
        base,
        stub: stub.handle(),
        state,
        http: http_client(),
        _stub: stub,
        _stop: stop,
    }
}

/// Asserts a JSON error body with `code`, and returns its message.
pub async fn error_of(response: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(response.status(), status, "status");
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "errors are JSON"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], code, "{body}");
    let message = body["message"].as_str().expect("a message").to_owned();
    assert!(message.ends_with('.'), "a sentence: {message}");
    message
}
