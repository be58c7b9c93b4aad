//! One middleware sees every answered request, including those refused by inner layers:
//! it counts it in the metrics and writes its access-log line.
//!
//! The access log is one event per request (`method`, `path`, `status`, `latency_ms`; no
//! query string, which clients may fill with anything), written after the answer, with no
//! span around the request. tower-http's `TraceLayer` opened a span per request, which the
//! JSON formatter serializes when the span opens and parses again for every event inside
//! it: about 11% of a results read's CPU and 27 of its allocations (bench/README.md), for
//! context that only the rare log lines inside a handler used. Those name what failed
//! themselves (the AWS operation and error kind, the limiter, the key fetch).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::metrics::{Metrics, route_label};

/// The target of access-log events, for `RUST_LOG` (`liveness_api::access=warn` silences
/// them).
pub const ACCESS_LOG: &str = "liveness_api::access";

/// Counts the request in `metrics` and logs it once answered.
pub async fn observe(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = route_label(request.extensions().get::<MatchedPath>());
    let method = request.method().clone();
    let uri = request.uri().clone();
    let start = Instant::now();
    let response = next.run(request).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    metrics.observe(route, &method, status, elapsed.as_secs_f64());
    tracing::info!(
        target: ACCESS_LOG,
        method = method.as_str(),
        path = uri.path(),
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    response
}
