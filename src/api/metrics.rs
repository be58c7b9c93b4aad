//! Prometheus metrics for `/metrics`: requests by route and status, latency, AWS calls and
//! AWS errors by kind.
//!
//! Routes are labelled with their template (`/v1/sessions/{sessionId}`), never the raw
//! path, and methods outside a small set are folded into `OTHER`, so clients cannot grow
//! the label space. Labels are static strings and the status a number, so counting a
//! request allocates nothing.

use axum::extract::MatchedPath;
use axum::http::Method;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::rekognition::{AwsErrorKind, Operation};
use super::routes::Endpoint;

/// The content type of the OpenMetrics text format that Prometheus scrapes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AwsErrorLabels {
    operation: &'static str,
    kind: &'static str,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The service's metrics and their registry.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    aws_calls: Family<OperationLabels, Counter>,
    aws_errors: Family<AwsErrorLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("liveness_api");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route template, method and status",
            requests.clone(),
        );
        let latency: HistogramFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.0005, 2.0, 15)));
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            latency.clone(),
        );
        let aws_calls = Family::<OperationLabels, Counter>::default();
        registry.register(
            "aws_calls",
            "Rekognition calls by operation",
            aws_calls.clone(),
        );
        let aws_errors = Family::<AwsErrorLabels, Counter>::default();
        registry.register(
            "aws_call_errors",
            "Failed Rekognition calls by operation and error kind",
            aws_errors.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            aws_calls,
            aws_errors,
        }
    }

    /// Counts one Rekognition call and, if it failed, its error kind.
    pub fn aws_call(&self, operation: Operation, error: Option<AwsErrorKind>) {
        let operation = operation.api_name();
        self.aws_calls
            .get_or_create(&OperationLabels { operation })
            .inc();
        if let Some(kind) = error {
            self.aws_errors
                .get_or_create(&AwsErrorLabels {
                    operation,
                    kind: kind.label(),
                })
                .inc();
        }
    }

    /// Counts one answered request.
    pub(super) fn observe(&self, route: &'static str, method: &Method, status: u16, seconds: f64) {
        let method = match *method {
            Method::GET => "GET",
            Method::POST => "POST",
            Method::OPTIONS => "OPTIONS",
            Method::HEAD => "HEAD",
            Method::PUT => "PUT",
            Method::DELETE => "DELETE",
            Method::PATCH => "PATCH",
            _ => "OTHER",
        };
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route, method })
            .observe(seconds);
    }

    /// The registry in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The route template a request matched, as the static string of its [`Endpoint`]
/// (every route is one), or `unmatched`.
pub(super) fn route_label(matched: Option<&MatchedPath>) -> &'static str {
    matched
        .and_then(|m| {
            Endpoint::ALL
                .iter()
                .map(|e| e.path())
                .find(|path| *path == m.as_str())
        })
        .unwrap_or("unmatched")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_shows_requests_and_aws_errors_by_label() {
        let m = Metrics::new();
        m.observe("/v1/sessions", &Method::POST, 201, 0.01);
        m.observe(
            "/v1/sessions",
            &Method::from_bytes(b"BREW").unwrap(),
            405,
            0.0,
        );
        m.aws_call(Operation::GetResults, Some(AwsErrorKind::Throttled));
        let text = m.render();
        assert!(text.contains(
            r#"liveness_api_http_requests_total{route="/v1/sessions",method="POST",status="201"} 1"#
        ), "{text}");
        assert!(text.contains(r#"method="OTHER""#), "{text}");
        assert!(text.contains(
            r#"liveness_api_aws_call_errors_total{operation="GetFaceLivenessSessionResults",kind="throttled"} 1"#
        ), "{text}");
        assert!(text.contains("liveness_api_http_request_duration_seconds_bucket"));
    }
}
