//! The signed verdict, verified the way an app's backend does it: by an independent JOSE
//! implementation (the npm package `jose`, in examples/backend/verify-verdict.mjs), against
//! the endpoint's `GET /.well-known/jwks.json`. The verdict names the caller, the session
//! and `live`; a second use of the same session, another user, or a verdict of a rotated-out
//! key the endpoint no longer publishes are refused.

mod api_support;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use api_support::oidc::Issuer;
use api_support::{Api, Created, start, verdict_key_pem};
use liveness_operator::emulator::Outcome;
use serde_json::Value;

const APP: &str = "shop/checkout";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `npm ci` of examples/backend, once per test binary.
fn backend_installed() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let status = Command::new("bash")
            .arg("-c")
            .arg("source scripts/lib/web-deps.sh && backend_deps")
            .current_dir(repo())
            .status()
            .expect("bash");
        assert!(
            status.success(),
            "npm ci in examples/backend failed (node and npm come from Debian: apt-get install nodejs npm)"
        );
    });
}

/// Runs the example backend's verifier; one JSON result per verdict.
async fn verify(api: &Api, issuer: &str, user: &str, verdicts: &[&str]) -> Vec<Value> {
    tokio::task::spawn_blocking(backend_installed)
        .await
        .unwrap();
    let jwks = api.url("/.well-known/jwks.json");
    // Asynchronously: the service answering the JWKS request runs on this runtime.
    let out = tokio::process::Command::new("node")
        .arg(repo().join("examples/backend/verify-verdict.mjs"))
        .args([jwks.as_str(), issuer, user])
        .args(verdicts)
        .output()
        .await
        .expect("node (apt-get install nodejs)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn key_file(name: &str, pems: &[&str]) -> String {
    let dir = std::env::temp_dir().join(format!("liveness-api-verdict-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, pems.concat()).unwrap();
    format!("--signing-key-file={}", path.display())
}

async fn start_as(issuer: &Issuer, signing: &str) -> Api {
    let mut flags = issuer.flags();
    flags.push(format!("--app={APP}"));
    flags.push(signing.to_owned());
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    start(&flags).await
}

async fn verdict_of(api: &Api, session: &Created, bearer: &str) -> String {
    let r = api.read_as(session, Some(bearer)).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["verdict"].as_str().expect("a verdict").to_owned()
}

#[tokio::test]
async fn the_verdict_verifies_with_jose_and_names_the_caller_the_session_and_live() {
    let issuer = Issuer::start().await;
    let (current, previous) = (verdict_key_pem(), verdict_key_pem());
    let api = start_as(&issuer, &key_file("both.pem", &[&current, &previous])).await;
    let keys: Value = api
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        keys["keys"].as_array().unwrap().len(),
        2,
        "current and previous: {keys}"
    );

    let alice = issuer.token("alice");
    let live = api.create_session_as(Some(&alice)).await;
    api.stub.set_outcome(&live.id, Outcome::Succeeded(97.5));
    let not_live = api.create_session_as(Some(&alice)).await;
    api.stub.set_outcome(&not_live.id, Outcome::Failed(12.0));
    let (v1, v2) = (
        verdict_of(&api, &live, &alice).await,
        verdict_of(&api, &not_live, &alice).await,
    );

    let iss = format!("liveness-api:{APP}");
    let results = verify(&api, &iss, "alice", &[&v1, &v2, &v1]).await;
    assert_eq!(results[0]["ok"], true, "{results:?}");
    assert_eq!(results[0]["sid"], live.id.as_str());
    assert_eq!(results[0]["live"], true);
    assert_eq!(results[0]["status"], "SUCCEEDED");
    assert_eq!(results[1]["ok"], true, "{results:?}");
    assert_eq!(
        results[1]["live"], false,
        "a genuine verdict that says not live"
    );
    assert_eq!(
        results[2]["ok"], false,
        "a verdict counts once: {results:?}"
    );
    assert!(
        results[2]["error"]
            .as_str()
            .unwrap()
            .contains("already used")
    );

    let bob = verify(&api, &iss, "bob", &[&v1]).await;
    assert_eq!(bob[0]["ok"], false, "alice's verdict is not bob's: {bob:?}");
    let other_app = verify(&api, "liveness-api:shop/other", "alice", &[&v1]).await;
    assert_eq!(other_app[0]["ok"], false, "{other_app:?}");
    let mut tampered = v1.clone();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    assert_eq!(
        verify(&api, &iss, "alice", &[&tampered]).await[0]["ok"],
        false
    );
}

#[tokio::test]
async fn verdicts_signed_before_a_rotation_verify_until_their_key_is_dropped() {
    let issuer = Issuer::start().await;
    let (old, new) = (verdict_key_pem(), verdict_key_pem());
    let before = start_as(&issuer, &key_file("old.pem", &[&old])).await;
    let alice = issuer.token("alice");
    let session = before.create_session_as(Some(&alice)).await;
    let verdict = verdict_of(&before, &session, &alice).await;
    let iss = format!("liveness-api:{APP}");

    // Rotated: the new key signs, the old one is still published.
    let rotated = start_as(&issuer, &key_file("rotated.pem", &[&new, &old])).await;
    assert_eq!(
        verify(&rotated, &iss, "alice", &[&verdict]).await[0]["ok"],
        true
    );
    // A rotation later the old key is gone, and so is trust in what it signed.
    let later = start_as(&issuer, &key_file("later.pem", &[&new])).await;
    assert_eq!(
        verify(&later, &iss, "alice", &[&verdict]).await[0]["ok"],
        false
    );
}
