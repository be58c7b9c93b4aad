//! The HTTP surface around the session routes: CORS, body limit, rate limits (per client
//! IP, behind trusted proxies, and per caller for creates), slow request heads, the
//! frontend config, probes, metrics on their own port, and JSON errors for unknown routes
//! and methods.

mod api_support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use api_support::{error_of, start};
use liveness_operator::emulator::{Fault, Outcome};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const APP: &str = "https://app.example.com";
const POOL: &str = "us-east-1:0b0c5f3e-1b2a-4c8e-9d6f-0a1b2c3d4e5f";

#[tokio::test]
async fn allowed_origins_get_cors_headers_and_others_do_not() {
    let api = start(&["--allowed-origins=https://app.example.com,http://localhost:3000"]).await;
    for origin in [APP, "http://localhost:3000"] {
        let r = api
            .http
            .get(api.url("/v1/config"))
            .header("Origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["access-control-allow-origin"], origin);
        let vary = r.headers()["vary"].to_str().unwrap().to_ascii_lowercase();
        assert!(vary.contains("origin"), "caches must key on Origin: {vary}");
    }
    for origin in [
        "https://evil.example.com",
        "https://app.example.com.evil.example",
        "null",
    ] {
        let r = api
            .http
            .post(api.url("/v1/sessions"))
            .header("Origin", origin)
            .send()
            .await
            .unwrap();
        assert!(
            !r.headers().contains_key("access-control-allow-origin"),
            "{origin} must not be allowed"
        );
    }
}

#[tokio::test]
async fn preflight_allows_the_idempotency_header_for_allowed_origins_only() {
    let api = start(&["--allowed-origins=https://app.example.com"]).await;
    let preflight = |origin: &'static str| {
        api.http
            .request(reqwest::Method::OPTIONS, api.url("/v1/sessions"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type,idempotency-key,x-liveness-session-token",
            )
            .send()
    };
    let r = preflight(APP).await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let h = r.headers();
    assert_eq!(h["access-control-allow-origin"], APP);
    let methods = h["access-control-allow-methods"].to_str().unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let headers = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in [
        "idempotency-key",
        "content-type",
        "authorization",
        "x-liveness-session-token",
    ] {
        assert!(headers.contains(header), "{header} not in {headers}");
    }

    let r = preflight("https://evil.example.com").await.unwrap();
    assert!(!r.headers().contains_key("access-control-allow-origin"));
    assert_eq!(
        api.stub.create_calls().len(),
        0,
        "a preflight creates nothing"
    );
}

#[tokio::test]
async fn errors_carry_cors_headers_so_the_browser_can_read_them() {
    let api = start(&["--allowed-origins=https://app.example.com"]).await;
    let r = api
        .http
        .get(api.url("/v1/sessions/bad"))
        .header("Origin", APP)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], APP);
    let exposed = r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("retry-after"), "{exposed}");
    assert!(exposed.contains("www-authenticate"), "{exposed}");
    error_of(r, 400, "invalid_session_id").await;
}

#[tokio::test]
async fn oversize_bodies_are_413_whether_announced_or_streamed() {
    let api = start(&["--max-body-bytes=1024"]).await;
    let r = api
        .http
        .post(api.url("/v1/sessions"))
        .body(vec![b'x'; 4096])
        .send()
        .await
        .unwrap();
    error_of(r, 413, "payload_too_large").await;

    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..8).map(|_| Ok(vec![b'y'; 512])).collect();
    let streamed = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let r = api
        .http
        .post(api.url("/v1/sessions"))
        .body(streamed)
        .send()
        .await
        .unwrap();
    error_of(r, 413, "payload_too_large").await;
    assert!(api.stub.create_calls().is_empty());

    let r = api
        .http
        .post(api.url("/v1/sessions"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "a small body is fine");
}

#[tokio::test]
async fn too_many_requests_from_one_client_get_429_with_retry_after() {
    let api = start(&["--rate-limit-per-minute=3"]).await;
    for _ in 0..3 {
        assert_eq!(api.get("/v1/config").await.status(), 200);
    }
    let r = api.create().await;
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=20).contains(&retry),
        "one request comes back every 20 s: {retry}"
    );
    let message = error_of(r, 429, "rate_limited").await;
    assert!(message.contains("retry after"), "{message}");
    assert!(api.stub.create_calls().is_empty(), "refused before AWS");
    assert_eq!(
        api.get("/healthz").await.status(),
        200,
        "probes are not limited"
    );
    assert_eq!(
        api.get_metrics().await.status(),
        200,
        "scrapes are not limited"
    );
}

#[tokio::test]
async fn behind_trusted_proxies_the_limit_holds_per_rightmost_untrusted_hop() {
    let api = start(&["--rate-limit-per-minute=2", "--trusted-proxies=127.0.0.1"]).await;
    let config = |forwarded: &'static str| {
        api.http
            .get(api.url("/v1/config"))
            .header("X-Forwarded-For", forwarded)
            .send()
    };
    // A client that writes a fresh leftmost entry each time is still the same client:
    // the proxy (127.0.0.1, trusted) appended the address it saw.
    for spoof in ["1.1.1.1, 203.0.113.7", "2.2.2.2, 203.0.113.7"] {
        assert_eq!(config(spoof).await.unwrap().status(), 200);
    }
    let r = config("3.3.3.3, 203.0.113.7").await.unwrap();
    error_of(r, 429, "rate_limited").await;
    // Another client behind the same proxy has its own budget.
    assert_eq!(config("198.51.100.4").await.unwrap().status(), 200);
}

#[tokio::test]
async fn one_caller_creating_sessions_quickly_meets_a_429() {
    let api = start(&["--rate-limit-per-minute=0"]).await;
    let mut statuses = Vec::new();
    for _ in 0..14 {
        statuses.push(api.create().await.status().as_u16());
    }
    assert_eq!(
        statuses[..10],
        [201; 10],
        "the default is 10 a minute: {statuses:?}"
    );
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    let r = api.create().await;
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=6).contains(&retry),
        "one create comes back every 6 s: {retry}"
    );
    let message = error_of(r, 429, "session_limit").await;
    assert!(message.contains("retry after"), "{message}");
    assert_eq!(api.stub.sessions_created(), 10, "refused before AWS");
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_request_head_is_closed() {
    let api = start(&[]).await;
    let addr = api.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    // Closed (EOF or reset), maybe after a 408: either way the socket is not kept.
    let closed = tokio::time::timeout(Duration::from_secs(35), async {
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "still open after 35 s");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(5),
        "closed by the header-read timeout (10 s), not at once: {waited:?}"
    );
    // Complete requests are served as before.
    assert_eq!(api.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn metrics_are_not_served_on_the_public_port() {
    let api = start(&[]).await;
    error_of(api.get("/metrics").await, 404, "not_found").await;
    assert_eq!(api.get_metrics().await.status(), 200);
    let r = api
        .http
        .get(format!("{}/v1/config", api.metrics_base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "the metrics port serves /metrics only");
}

#[tokio::test]
async fn config_tells_the_frontend_how_to_set_up_amplify() {
    let api = start(&[
        "--public-url=https://liveness.example.com/",
        &format!("--identity-pool-id={POOL}"),
        "--confidence-threshold=85.5",
    ])
    .await;
    let body: Value = api.get("/v1/config").await.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "region": "us-east-1",
            "identityPoolId": POOL,
            "sessionsUrl": "https://liveness.example.com/v1/sessions",
            "threshold": 85.5,
            "auth": {"mode": "none"}
        })
    );

    let api = start(&[]).await;
    let body: Value = api.get("/v1/config").await.json().await.unwrap();
    assert_eq!(
        body["sessionsUrl"], "/v1/sessions",
        "same-origin without a public URL"
    );
    assert_eq!(body["identityPoolId"], Value::Null);
}

#[tokio::test]
async fn probes_report_health_and_readiness() {
    let api = start(&[]).await;
    let r = api.get("/healthz").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    assert_eq!(api.get("/readyz").await.status(), 200);

    api.state.ready.store(false, Ordering::Relaxed); // as after SIGTERM
    error_of(api.get("/readyz").await, 503, "not_ready").await;
    assert_eq!(
        api.get("/healthz").await.status(),
        200,
        "alive while draining"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_aws_errors_by_kind() {
    let api = start(&[]).await;
    let created = api.create_session().await;
    let id = created.id.clone();
    api.stub.set_outcome(&id, Outcome::Fault(Fault::Throttling));
    assert_eq!(api.read(&created).await.status(), 429);
    assert_eq!(api.get("/v1/sessions/not-a-uuid").await.status(), 400);

    let r = api.get_metrics().await;
    let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = r.text().await.unwrap();
    for line in [
        r#"liveness_api_http_requests_total{route="/v1/sessions",method="POST",status="201"} 1"#,
        r#"liveness_api_http_requests_total{route="/v1/sessions/{sessionId}",method="GET",status="429"} 1"#,
        r#"liveness_api_http_requests_total{route="/v1/sessions/{sessionId}",method="GET",status="400"} 1"#,
        r#"liveness_api_aws_calls_total{operation="CreateFaceLivenessSession"} 1"#,
        r#"liveness_api_aws_call_errors_total{operation="GetFaceLivenessSessionResults",kind="throttled"} 1"#,
        r#"liveness_api_http_request_duration_seconds_count{route="/v1/sessions",method="POST"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
    }
    assert!(!text.contains(&id), "raw paths are never labels");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let api = start(&[]).await;
    error_of(api.get("/v1/session").await, 404, "not_found").await;
    let r = api
        .http
        .delete(api.url("/v1/sessions"))
        .send()
        .await
        .unwrap();
    let allow = r.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("POST"), "{allow}");
    error_of(r, 405, "method_not_allowed").await;
}
