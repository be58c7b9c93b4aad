//! The operator's Prometheus metrics and its small HTTP server for `/metrics`, `/healthz`
//! and `/readyz` (probes of the chart's Deployment).
//!
//! AWS calls are counted where they are made (the AWS layer's [`Calls`], and its request
//! [`Budget`] per service); collectors read those at scrape time rather than keeping a
//! second count.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::error::ErrorCategory;
use crate::aws::budget::BucketReading;
use crate::aws::{Budget, Calls};

/// Content type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CategoryLabel {
    category: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: String,
}

/// Reconcile metrics of this replica.
pub struct Metrics {
    registry: Registry,
    reconciles: Counter,
    failures: Family<CategoryLabel, Counter>,
    duration: Histogram,
    leader: Gauge,
    ready: AtomicBool,
}

/// Exposes the AWS layer's call counts as `liveness_operator_aws_calls_total`.
#[derive(Debug)]
struct AwsCalls(Calls);

impl Collector for AwsCalls {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut family = encoder.encode_descriptor(
            "aws_calls",
            "AWS API calls made by this replica, by IAM action name",
            None,
            MetricType::Counter,
        )?;
        for (operation, count) in self.0.snapshot().by_operation {
            let labels = OperationLabel { operation };
            ConstCounter::new(count).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabel {
    service: String,
}

/// Exposes the AWS request budget per service: attempts, time waited for a slot,
/// throttling errors and the current rate.
#[derive(Debug)]
struct AwsBudget(Budget);

/// The budget's counters: name, help, value of a reading.
type BudgetCounter = (&'static str, &'static str, fn(&BucketReading) -> f64);

const BUDGET_COUNTERS: [BudgetCounter; 3] = [
    (
        "aws_requests",
        "HTTP requests sent to AWS (attempts, retries included), by service",
        |r| r.attempts as f64,
    ),
    (
        "aws_budget_wait_seconds",
        "Time requests waited for a slot of the service's budget",
        |r| r.waited_seconds,
    ),
    (
        "aws_throttled",
        "Attempts AWS refused as throttled, by service",
        |r| r.throttled as f64,
    ),
];

impl Collector for AwsBudget {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let readings = self.0.readings();
        let label = |r: &BucketReading| ServiceLabel {
            service: r.service.to_string(),
        };
        for (name, help, value) in BUDGET_COUNTERS {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for r in &readings {
                ConstCounter::new(value(r)).encode(family.encode_family(&label(r))?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "aws_request_rate",
            "Requests a second the service's budget allows now (lower while throttled)",
            None,
            MetricType::Gauge,
        )?;
        for r in &readings {
            ConstGauge::new(r.rate).encode(family.encode_family(&label(r))?)?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

/// Exposes malloc's account of the heap ([`crate::memory::heap`]) as
/// `liveness_operator_heap_bytes{state="in_use"|"free"}`, read at scrape time: beside the
/// process's RSS it tells live data from memory the allocator holds.
#[derive(Debug)]
struct HeapBytes;

impl Collector for HeapBytes {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(heap) = crate::memory::heap() else {
            return Ok(());
        };
        let mut family = encoder.encode_descriptor(
            "heap_bytes",
            "Bytes malloc has handed out (in_use) and holds free in its arenas (free)",
            None,
            MetricType::Gauge,
        )?;
        for (state, bytes) in [("in_use", heap.in_use), ("free", heap.free)] {
            ConstGauge::new(bytes as i64).encode(family.encode_family(&StateLabel { state })?)?;
        }
        Ok(())
    }
}

impl Metrics {
    /// Adds the request budget's figures, read from `budget` at scrape time.
    pub fn with_budget(mut self, budget: Budget) -> Self {
        self.registry
            .register_collector(Box::new(AwsBudget(budget)));
        self
    }

    /// Metrics whose AWS call counts are read from `calls` at scrape time.
    pub fn new(calls: Calls) -> Self {
        let mut registry = Registry::with_prefix("liveness_operator");
        let reconciles = Counter::default();
        registry.register("reconciles", "Reconciles started", reconciles.clone());
        let failures = Family::<CategoryLabel, Counter>::default();
        registry.register(
            "reconcile_failures",
            "Reconciles that failed, by error category",
            failures.clone(),
        );
        let duration = Histogram::new(exponential_buckets(0.01, 2.0, 12));
        registry.register(
            "reconcile_duration_seconds",
            "Time one reconcile took",
            duration.clone(),
        );
        registry.register_collector(Box::new(AwsCalls(calls)));
        registry.register_collector(Box::new(HeapBytes));
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica is the leader",
            leader.clone(),
        );
        Self {
            registry,
            reconciles,
            failures,
            duration,
            leader,
            ready: AtomicBool::new(false),
        }
    }

    /// Counts a reconcile that took `seconds` and ended with `failure` (if any).
    pub fn reconciled(&self, seconds: f64, failure: Option<ErrorCategory>) {
        self.reconciles.inc();
        self.duration.observe(seconds);
        if let Some(category) = failure {
            self.failures
                .get_or_create(&CategoryLabel {
                    category: category.as_str().to_string(),
                })
                .inc();
        }
    }

    /// Records whether this replica leads.
    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    /// Marks the replica ready (connected to the apiserver) for `/readyz`.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// The OpenMetrics text of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

/// Binds the address of `/metrics`, `/healthz` and `/readyz` (a taken port fails start-up).
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

/// Serves `/metrics`, `/healthz` and `/readyz` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
) -> std::io::Result<()> {
    let app = axum::Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(metrics);
    tracing::info!(addr = %listener.local_addr()?, "serving /metrics, /healthz and /readyz");
    axum::serve(listener, app).await
}

async fn metrics_handler(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics.render())
}

async fn readyz(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    if metrics.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ready")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not connected to the apiserver yet",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn the_heap_is_shown_in_use_and_free() {
        let text = Metrics::new(Calls::new()).render();
        for state in ["in_use", "free"] {
            let prefix = format!("liveness_operator_heap_bytes{{state=\"{state}\"}} ");
            let bytes: i64 = text
                .lines()
                .find_map(|l| l.strip_prefix(prefix.as_str()))
                .unwrap_or_else(|| panic!("{prefix} missing from:\n{text}"))
                .parse()
                .unwrap();
            assert!(bytes >= 0, "{state}: {bytes}");
        }
    }

    #[test]
    fn the_budget_shows_requests_waits_throttling_and_rate_per_service() {
        let budget = Budget::new(8);
        let iam = budget.bucket("iam");
        for _ in 0..9 {
            iam.reserve(std::time::Instant::now());
        }
        iam.throttled();
        iam.throttled();
        iam.throttled();
        let text = Metrics::new(Calls::new()).with_budget(budget).render();
        for line in [
            "liveness_operator_aws_requests_total{service=\"iam\"} 9.0",
            "liveness_operator_aws_throttled_total{service=\"iam\"} 3.0",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        let value = |name: &str| -> f64 {
            let prefix = format!("liveness_operator_{name}{{service=\"iam\"}} ");
            text.lines()
                .find_map(|l| l.strip_prefix(prefix.as_str()))
                .unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
                .parse()
                .unwrap()
        };
        // 8 × 0.8³ after three throttling errors.
        assert!((value("aws_request_rate") - 4.096).abs() < 1e-6);
        // The ninth request of a budget of 8 waits one interval.
        assert!((value("aws_budget_wait_seconds_total") - 0.125).abs() < 0.01);
    }
}
