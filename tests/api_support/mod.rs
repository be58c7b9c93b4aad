//! Starts the Rekognition stub and `liveness-api` in-process on loopback, wired with the
//! real aws-sdk-rekognition client (static fake credentials, endpoint = the stub), served
//! the way the binary serves it (public and metrics listeners, header-read timeout).
//!
//! Unless a test says otherwise the service runs with `--auth none` and key files made
//! once per test binary; [`Api::create_session`] and [`Api::read`] handle the session
//! token as a frontend does.
#![allow(dead_code)]

pub mod cognito;
pub mod oidc;
#[path = "../support/testground.rs"]
pub mod testground;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_rekognition::config::{Credentials, SharedCredentialsProvider};
use clap::Parser;
use liveness_operator::api::rekognition::{AwsRekognition, CreateSettings};
use liveness_operator::api::{AppState, Args, Config, Listeners};
use liveness_operator::emulator::{RekognitionStub, StubHandle};
use tokio::sync::oneshot;

pub const REGION: &str = "us-east-1";
/// The header carrying the session token.
pub const SESSION_TOKEN: &str = "X-Liveness-Session-Token";

/// A session as `POST /v1/sessions` returned it.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: String,
    pub token: String,
}

/// A running service and the stub behind it; both stop when dropped.
pub struct Api {
    /// `http://127.0.0.1:<public port>`.
    pub base: String,
    /// `http://127.0.0.1:<metrics port>`.
    pub metrics_base: String,
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

    /// `POST /v1/sessions`, with `bearer` as the caller's token if given.
    pub async fn create_as(&self, bearer: Option<&str>) -> reqwest::Response {
        let mut request = self.http.post(self.url("/v1/sessions"));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    /// `POST /v1/sessions` without a token.
    pub async fn create(&self) -> reqwest::Response {
        self.create_as(None).await
    }

    /// Creates a session for `bearer` (or anonymously), asserting success.
    pub async fn create_session_as(&self, bearer: Option<&str>) -> Created {
        let r = self.create_as(bearer).await;
        assert_eq!(r.status(), 201, "create");
        created_of(r).await
    }

    /// Creates an anonymous session, asserting success.
    pub async fn create_session(&self) -> Created {
        self.create_session_as(None).await
    }

    /// Creates a session and returns its id, asserting success.
    pub async fn create_id(&self) -> String {
        self.create_session().await.id
    }

    /// `GET /v1/sessions/{id}` with the session token and `bearer`, as the frontend does.
    pub async fn read_as(&self, session: &Created, bearer: Option<&str>) -> reqwest::Response {
        let mut request = self
            .http
            .get(self.url(&format!("/v1/sessions/{}", session.id)))
            .header(SESSION_TOKEN, &session.token);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    /// `GET /v1/sessions/{id}` of an anonymous session.
    pub async fn read(&self, session: &Created) -> reqwest::Response {
        self.read_as(session, None).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// A GET on the metrics listener.
    pub async fn get_metrics(&self) -> reqwest::Response {
        self.http
            .get(format!("{}/metrics", self.metrics_base))
            .send()
            .await
            .unwrap()
    }
}

/// The session in a 201 answer.
pub async fn created_of(r: reqwest::Response) -> Created {
    let body: serde_json::Value = r.json().await.unwrap();
    Created {
        id: body["sessionId"].as_str().expect("sessionId").to_owned(),
        token: body["sessionToken"]
            .as_str()
            .expect("sessionToken")
            .to_owned(),
    }
}

/// SDK configuration a test would write by hand: region, fake static credentials, the
/// stub as endpoint, and quick retries (2 attempts) so throttling tests stay fast.
/// The secret key of the tests' credentials; the stub checks every signature with it.
pub const SECRET_KEY: &str = "not-a-real-secret";

pub fn sdk_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDLIVENESSTEST",
            SECRET_KEY,
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

/// A session key file and a verdict key file, written once per test binary.
pub fn key_files() -> &'static (PathBuf, PathBuf) {
    static FILES: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("liveness-api-tests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let session = dir.join("session.key");
        let key: Vec<u8> = (0..32).map(|_| rand_byte()).collect();
        std::fs::write(&session, key).unwrap();
        let signing = dir.join("verdict.pem");
        std::fs::write(&signing, verdict_key_pem()).unwrap();
        (session, signing)
    })
}

/// A fresh PKCS#8 EC P-256 private key, PEM encoded.
pub fn verdict_key_pem() -> String {
    rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .unwrap()
        .serialize_pem()
}

fn rand_byte() -> u8 {
    uuid::Uuid::new_v4().as_bytes()[0]
}

/// The configuration for `flags` on top of region, loopback listeners, `--auth none` and
/// the key files (each left out when `flags` sets it).
pub fn config(flags: &[&str]) -> Config {
    let (session, signing) = key_files();
    let mut argv: Vec<String> = vec![
        "liveness-api".into(),
        format!("--region={REGION}"),
        "--listen=127.0.0.1:0".into(),
        "--metrics-listen=127.0.0.1:0".into(),
    ];
    let names = |flag: &str| flags.iter().any(|f| f.starts_with(flag));
    if !names("--auth") {
        argv.push("--auth=none".into());
    }
    if !names("--session-key-file") {
        argv.push(format!("--session-key-file={}", session.display()));
    }
    if !names("--signing-key-file") {
        argv.push(format!("--signing-key-file={}", signing.display()));
    }
    argv.extend(flags.iter().map(|f| f.to_string()));
    Config::from_args(Args::try_parse_from(argv).unwrap()).unwrap_or_else(|p| panic!("{p:?}"))
}

/// Starts the stub and the service configured by `flags` (see [`config`]).
pub async fn start(flags: &[&str]) -> Api {
    let stub = RekognitionStub::start().await.unwrap();
    let sdk = sdk_config(&stub.endpoint_url());
    start_with(flags, stub, sdk).await
}

/// Like [`start`], with a hand-made SDK configuration.
pub async fn start_with(flags: &[&str], stub: RekognitionStub, sdk: SdkConfig) -> Api {
    let config = config(flags);
    stub.handle().require_signatures_with(SECRET_KEY);
    let sessions = AwsRekognition::new(&sdk, CreateSettings::from(&config), config.request_timeout)
        .expect("a client for the stub");
    let listeners = Listeners::bind(&config).await.unwrap();
    let base = format!("http://{}", listeners.public_addr().unwrap());
    let metrics_base = format!("http://{}", listeners.metrics_addr().unwrap());
    let state = AppState::new(config, Arc::new(sessions));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(listeners.serve(state.clone(), async {
        let _ = stopped.await;
    }));
    Api {
        base,
        metrics_base,
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
