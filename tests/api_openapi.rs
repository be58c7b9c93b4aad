//! The committed OpenAPI document (`openapi/liveness-api.yaml`) matches the service: the
//! same routes and methods as the router's table, the same status codes, and response
//! bodies with exactly the documented fields.

mod api_support;

use std::collections::{BTreeMap, BTreeSet};

use api_support::start;
use liveness_operator::api::Endpoint;
use liveness_operator::api::routes::Listener;
use serde_json::Value;

fn document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/liveness-api.yaml");
    let text = std::fs::read_to_string(path).expect("openapi/liveness-api.yaml is committed");
    serde_yaml::from_str(&text).expect("valid YAML")
}

/// (METHOD, path) → documented status codes.
fn documented_routes(doc: &Value) -> BTreeMap<(String, String), BTreeSet<u16>> {
    let mut routes = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            let statuses = operation["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .map(|s| s.parse::<u16>().expect("numeric status"))
                .collect();
            routes.insert((method.to_uppercase(), path.clone()), statuses);
        }
    }
    routes
}

#[test]
fn the_document_lists_exactly_the_routes_the_router_serves() {
    let doc = document();
    assert_eq!(doc["openapi"].as_str().map(|v| &v[..2]), Some("3."));
    let documented = documented_routes(&doc);
    let served: BTreeMap<_, BTreeSet<u16>> = Endpoint::ALL
        .iter()
        .map(|e| {
            (
                (e.method().to_string(), e.path().to_owned()),
                e.statuses().iter().copied().collect(),
            )
        })
        .collect();
    assert_eq!(
        documented.keys().collect::<Vec<_>>(),
        served.keys().collect::<Vec<_>>(),
        "routes differ"
    );
    for (route, statuses) in &served {
        assert_eq!(&documented[route], statuses, "status codes of {route:?}");
    }
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    &doc["components"]["schemas"][name]
}

/// The object has every required field and no undocumented one; a documented optional
/// field, when present, matches its own schema.
fn assert_matches_schema(body: &Value, doc: &Value, name: &str) {
    let schema = schema(doc, name);
    let keys: BTreeSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    let properties: BTreeSet<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        keys.is_subset(&properties),
        "{name} fields {keys:?} not all documented in {properties:?}"
    );
    assert!(
        required.is_subset(&keys),
        "{name} misses required fields: {keys:?} vs {required:?}"
    );
    for key in keys.difference(&required) {
        let reference = schema["properties"][*key]["$ref"].as_str();
        if let Some(inner) = reference.and_then(|r| r.strip_prefix("#/components/schemas/")) {
            assert_matches_schema(&body[*key], doc, inner);
        }
    }
}

#[tokio::test]
async fn the_emulator_block_appears_only_with_an_emulator_url() {
    let doc = document();
    let api = start(&["--emulator-url", "https://127.0.0.1:8443"]).await;
    let body: Value = api.get("/v1/config").await.json().await.unwrap();
    assert_matches_schema(&body, &doc, "FrontendConfig");
    let emulator = &body["emulator"];
    let required = schema(&doc, "FrontendEmulator")["required"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(emulator.as_object().map(|o| o.len()), Some(required));
    assert_eq!(emulator["streamingEndpoint"], "wss://127.0.0.1:8443");
    assert_eq!(
        emulator["faceModelUrl"],
        "https://127.0.0.1:8443/assets/models/facemesh-detection-short.json"
    );
    assert_eq!(
        emulator["binaryPath"],
        "https://127.0.0.1:8443/assets/wasm/"
    );

    let plain = start(&[]).await;
    let body: Value = plain.get("/v1/config").await.json().await.unwrap();
    assert!(body.get("emulator").is_none(), "{body}");
}

#[tokio::test]
async fn every_documented_route_answers_with_a_documented_status_and_shape() {
    let doc = document();
    let api = start(&[]).await;
    for ((method, path), statuses) in documented_routes(&doc) {
        let response = match (method.as_str(), path.as_str()) {
            ("POST", p) => api.http.post(api.url(p)).send().await.unwrap(),
            ("GET", "/v1/sessions/{sessionId}") => {
                let created = api.create_session().await;
                api.read(&created).await
            }
            // Served on the metrics listener only (the document says so with `servers`).
            ("GET", "/metrics") => api.get_metrics().await,
            ("GET", p) => api.get(p).await,
            other => panic!("no probe for {other:?}"),
        };
        let status = response.status().as_u16();
        assert!(
            statuses.contains(&status),
            "{method} {path} answered {status}"
        );
        assert!(response.status().is_success(), "{method} {path}: {status}");
        if path == "/metrics" {
            continue;
        }
        let body: Value = response.json().await.unwrap();
        let name = match path.as_str() {
            "/v1/sessions" => "CreatedSession",
            "/v1/sessions/{sessionId}" => "Session",
            "/v1/config" => "FrontendConfig",
            "/.well-known/jwks.json" => "JwkSet",
            _ => "Status",
        };
        if name == "Status" {
            assert!(body["status"].is_string(), "{path}");
        } else {
            assert_matches_schema(&body, &doc, name);
        }
    }
}

#[test]
fn only_metrics_are_documented_on_another_server() {
    let doc = document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let elsewhere = item["get"]["servers"].is_array();
        let endpoint = Endpoint::ALL.iter().find(|e| e.path() == path).unwrap();
        assert_eq!(
            elsewhere,
            endpoint.listener() == Listener::Metrics,
            "{path}: the document and the listener disagree"
        );
    }
}

#[tokio::test]
async fn a_refused_token_has_the_documented_shape_and_reason() {
    let doc = document();
    let issuer = api_support::oidc::Issuer::start().await;
    let flags = issuer.flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let api = start(&flags).await;
    let r = api.create().await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_matches_schema(&body, &doc, "Error");
    let reasons = &schema(&doc, "Error")["properties"]["reason"]["enum"];
    assert!(
        reasons.as_array().unwrap().contains(&body["reason"]),
        "{body}"
    );
}

#[tokio::test]
async fn error_bodies_have_the_documented_shape_and_codes() {
    let doc = document();
    let api = start(&[]).await;
    let body: Value = api.get("/v1/sessions/nope").await.json().await.unwrap();
    assert_matches_schema(&body, &doc, "Error");
    let codes: Vec<&str> = schema(&doc, "Error")["properties"]["error"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(codes.contains(&body["error"].as_str().unwrap()));
    let missing = api
        .get("/v1/sessions/0b0c5f3e-1b2a-4c8e-9d6f-0a1b2c3d4e5f")
        .await;
    let body: Value = missing.json().await.unwrap();
    assert!(codes.contains(&body["error"].as_str().unwrap()), "{body}");
}
