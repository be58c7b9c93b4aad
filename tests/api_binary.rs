//! The `liveness-api` binary as the operator's Deployment runs it: configured only by
//! `LIVENESS_*` and the standard AWS variables, JSON logs, clear refusal of bad settings
//! (no auth choice, no keys), and a graceful stop on SIGTERM.

mod api_support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use liveness_operator::emulator::RekognitionStub;
use serde_json::Value;

fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_liveness-api"));
    // Only what the test sets: no stray LIVENESS_* or AWS_* from the environment.
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent")
        .stdin(Stdio::null());
    cmd
}

#[test]
fn bad_configuration_exits_2_naming_every_variable_and_the_fix() {
    let out = binary()
        .env("LIVENESS_AUDIT_IMAGES_LIMIT", "7")
        .env("LIVENESS_ALLOWED_ORIGINS", "*")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "LIVENESS_REGION",
        "e.g. us-east-1",
        "LIVENESS_AUDIT_IMAGES_LIMIT",
        "LIVENESS_ALLOWED_ORIGINS",
        "--auth / LIVENESS_AUTH: required",
        "auth field of LIVENESS_SETTINGS",
        "LIVENESS_SESSION_KEY_FILE: required",
        "LIVENESS_SIGNING_KEY_FILE: required",
    ] {
        assert!(stderr.contains(needle), "{needle} missing from:\n{stderr}");
    }
}

#[test]
fn a_value_that_is_not_a_number_names_its_variable() {
    let out = binary()
        .env("LIVENESS_REGION", "us-east-1")
        .env("LIVENESS_CONFIDENCE_THRESHOLD", "high")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("LIVENESS_CONFIDENCE_THRESHOLD"), "{stderr}");
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serves_through_aws_endpoint_url_logs_json_and_drains_on_sigterm() {
    let stub = RekognitionStub::start().await.unwrap();
    let (session_key, signing_key) = api_support::key_files();
    let mut child = Running(
        binary()
            .env("LIVENESS_LISTEN", "127.0.0.1:0")
            .env("LIVENESS_METRICS_LISTEN", "127.0.0.1:0")
            .env("LIVENESS_AUTH", "none")
            .env("LIVENESS_SESSION_KEY_FILE", session_key)
            .env("LIVENESS_SIGNING_KEY_FILE", signing_key)
            .env("LIVENESS_REGION", "eu-west-1")
            .env("LIVENESS_LOG_FORMAT", "json")
            .env("LIVENESS_DRAIN_SECONDS", "1")
            .env("AWS_ENDPOINT_URL", stub.endpoint_url())
            .env("AWS_ACCESS_KEY_ID", "AKIDLIVENESSTEST")
            .env("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = child.0.stderr.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });

    // The first log line that announces the address; every line must be JSON.
    let addr = loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("liveness-api logs that it listens");
        let event: Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        if event["message"] == "liveness-api listening" {
            assert_eq!(event["level"], "INFO");
            assert_eq!(event["auth"], "none");
            assert_ne!(
                event["metrics_addr"], event["addr"],
                "metrics on a port of their own"
            );
            break event["addr"].as_str().unwrap().to_owned();
        }
    };
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://{addr}");

    let created = http
        .post(format!("{base}/v1/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let calls = stub.handle().create_calls();
    assert_eq!(calls.len(), 1, "the SDK went to AWS_ENDPOINT_URL");
    assert_eq!(calls[0].signing_region.as_deref(), Some("eu-west-1"));
    let session_token = created.json::<Value>().await.unwrap()["sessionToken"]
        .as_str()
        .unwrap()
        .to_owned();

    // One access-log line per answered request, without the session token.
    let access = loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the create is in the access log");
        assert!(!line.contains(&session_token), "{line}");
        let event: Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        if event["message"] == "request" {
            break event;
        }
    };
    assert_eq!(access["target"], "liveness_api::access");
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["method"], "POST");
    assert_eq!(access["path"], "/v1/sessions");
    assert_eq!(access["status"], 201);
    assert!(access["latency_ms"].as_f64().unwrap() > 0.0, "{access}");

    let pid = child.0.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    // During the drain the pod reports not-ready but still answers.
    let started = Instant::now();
    loop {
        let r = http.get(format!("{base}/readyz")).send().await.unwrap();
        if r.status() == 503 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "never turned not-ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.0.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "did not stop after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit:?}");
}
