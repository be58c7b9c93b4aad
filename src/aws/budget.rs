//! The AWS request budget: one pacing bucket per service (IAM, Cognito Identity, the
//! tagging API, STS), shared by every reconcile of the process, so a burst of a thousand
//! applies sends each service at most `--aws-requests-per-second`, pages and retries
//! included.
//!
//! - Every attempt takes its slot in the SDK client's HTTP connector ([`BudgetedHttp`]): the
//!   one place each request, page and retry passes through, and one that may wait.
//! - Throttling feeds back ([`ThrottleFeedback`], an interceptor that runs the client's own
//!   retry classifiers on each attempt): each throttling error cuts the bucket's rate by a
//!   fifth and each success gives back a tenth of the budget, so the rate settles where
//!   AWS throttles few enough calls (below the budget when it throttles more than a fifth
//!   of them, at it when fewer). The fleet slows down instead of failing;
//!   the SDK's retries (jittered exponential backoff, a retry quota that refills, see
//!   [`retry_settings`]) carry each call through.
//! - `/metrics` shows per service the attempts, the seconds spent waiting, the throttling
//!   errors and the current rate.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_iam::config::interceptors::FinalizerInterceptorContextRef;
use aws_sdk_iam::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime::client::retries::classifiers::run_classifiers_on_ctx;
use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::retries::classifiers::{RetryAction, RetryReason};
use aws_smithy_types::retry::{ErrorKind, RetryConfig};

/// Default budget per service: IAM's account-wide quotas are the tightest the operator
/// meets (its mutating calls share a few per second with everything else in the account).
pub const DEFAULT_REQUESTS_PER_SECOND: u32 = 10;

/// Attempts per call: a call throttled four times running still gets a fifth try.
const MAX_ATTEMPTS: u32 = 5;

/// The rate never drops below this share of the budget.
const FLOOR_SHARE: f64 = 1.0 / 20.0;

/// A throttling error multiplies the rate by this.
const THROTTLED_FACTOR: f64 = 0.8;

/// Each successful call gives back this share of the budget.
const RECOVERY_SHARE: f64 = 1.0 / 10.0;

/// The pacing of one service.
#[derive(Debug)]
pub struct Bucket {
    service: &'static str,
    ceiling: f64,
    pace: Mutex<Pace>,
    attempts: AtomicU64,
    waited_micros: AtomicU64,
    throttled: AtomicU64,
}

/// GCRA: the theoretical time of the next request; a request may go up to one second's
/// worth of requests ahead of it (the burst).
#[derive(Debug)]
struct Pace {
    rate: f64,
    next: Instant,
}

/// What `/metrics` shows of one bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct BucketReading {
    pub service: &'static str,
    pub attempts: u64,
    pub waited_seconds: f64,
    pub throttled: u64,
    pub rate: f64,
}

impl Bucket {
    /// A bucket allowing `per_second` requests of `service` a second.
    pub fn new(service: &'static str, per_second: u32) -> Self {
        let ceiling = f64::from(per_second.max(1));
        Self {
            service,
            ceiling,
            pace: Mutex::new(Pace {
                rate: ceiling,
                next: Instant::now(),
            }),
            attempts: AtomicU64::default(),
            waited_micros: AtomicU64::default(),
            throttled: AtomicU64::default(),
        }
    }

    /// Reserves the next slot at `now`; returns how long to wait for it.
    pub fn reserve(&self, now: Instant) -> Duration {
        let mut pace = lock(&self.pace);
        let interval = Duration::from_secs_f64(1.0 / pace.rate);
        let burst = interval.mul_f64((pace.rate.ceil() - 1.0).max(0.0));
        let allowed_at = pace.next.checked_sub(burst).map_or(now, |at| at.max(now));
        pace.next = pace.next.max(allowed_at) + interval;
        let wait = allowed_at - now;
        self.attempts.fetch_add(1, Ordering::Relaxed);
        self.waited_micros
            .fetch_add(wait.as_micros() as u64, Ordering::Relaxed);
        wait
    }

    /// A throttling error: slow down.
    pub fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
        let mut pace = lock(&self.pace);
        pace.rate = (pace.rate * THROTTLED_FACTOR).max(self.ceiling * FLOOR_SHARE);
    }

    /// A call that succeeded: climb back towards the budget.
    pub fn succeeded(&self) {
        let mut pace = lock(&self.pace);
        pace.rate = (pace.rate + self.ceiling * RECOVERY_SHARE).min(self.ceiling);
    }

    /// Counters and the current rate.
    pub fn reading(&self) -> BucketReading {
        BucketReading {
            service: self.service,
            attempts: self.attempts.load(Ordering::Relaxed),
            waited_seconds: self.waited_micros.load(Ordering::Relaxed) as f64 / 1e6,
            throttled: self.throttled.load(Ordering::Relaxed),
            rate: lock(&self.pace).rate,
        }
    }
}

/// The buckets of every service, by service name (`iam`, `cognito-identity`, `tag`, `sts`).
#[derive(Clone, Debug)]
pub struct Budget {
    per_second: u32,
    buckets: Arc<Mutex<Vec<Arc<Bucket>>>>,
}

impl Budget {
    /// `per_second` requests a second for each service.
    pub fn new(per_second: u32) -> Self {
        Self {
            per_second,
            buckets: Arc::default(),
        }
    }

    /// The bucket of `service`, made on first use.
    pub fn bucket(&self, service: &'static str) -> Arc<Bucket> {
        let mut buckets = lock(&self.buckets);
        if let Some(bucket) = buckets.iter().find(|b| b.service == service) {
            return bucket.clone();
        }
        let bucket = Arc::new(Bucket::new(service, self.per_second));
        buckets.push(bucket.clone());
        bucket
    }

    /// Readings of every bucket made so far.
    pub fn readings(&self) -> Vec<BucketReading> {
        lock(&self.buckets).iter().map(|b| b.reading()).collect()
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self::new(DEFAULT_REQUESTS_PER_SECOND)
    }
}

/// Retries for a client of `service`: standard mode (jittered exponential backoff) with
/// [`MAX_ATTEMPTS`], and a retry quota of the service's own that refills over time, so a
/// long stretch of throttling slows retries down instead of ending them for good.
pub fn retry_settings(service: &'static str) -> (RetryConfig, RetryPartition) {
    let quota = TokenBucket::builder().refill_rate(1.0).build();
    (
        RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS),
        RetryPartition::custom(service).token_bucket(quota).build(),
    )
}

/// An HTTP client whose every request first takes its slot in `bucket`.
#[derive(Debug)]
pub struct BudgetedHttp {
    inner: SharedHttpClient,
    bucket: Arc<Bucket>,
}

impl BudgetedHttp {
    /// `inner` paced by `bucket`.
    pub fn new(inner: SharedHttpClient, bucket: Arc<Bucket>) -> Self {
        Self { inner, bucket }
    }
}

impl HttpClient for BudgetedHttp {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(BudgetedConnector {
            inner: self.inner.http_connector(settings, components),
            bucket: self.bucket.clone(),
        })
    }
}

#[derive(Debug)]
struct BudgetedConnector {
    inner: SharedHttpConnector,
    bucket: Arc<Bucket>,
}

impl HttpConnector for BudgetedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let wait = self.bucket.reserve(Instant::now());
        let inner = self.inner.clone();
        HttpConnectorFuture::new(async move {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            inner.call(request).await
        })
    }
}

/// Tells `bucket` how each attempt went, as the client's retry classifiers see it.
#[derive(Debug)]
pub struct ThrottleFeedback {
    bucket: Arc<Bucket>,
}

impl ThrottleFeedback {
    /// Feedback into `bucket`.
    pub fn new(bucket: Arc<Bucket>) -> Self {
        Self { bucket }
    }
}

impl Intercept for ThrottleFeedback {
    fn name(&self) -> &'static str {
        "liveness-operator throttle feedback"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let context = context.inner();
        let throttled = matches!(
            run_classifiers_on_ctx(runtime_components.retry_classifiers(), context),
            RetryAction::RetryIndicated(RetryReason::RetryableError {
                kind: ErrorKind::ThrottlingError,
                ..
            })
        );
        if throttled {
            self.bucket.throttled();
        } else if matches!(context.output_or_error(), Some(Ok(_))) {
            self.bucket.succeeded();
        }
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
#[path = "budget_tests.rs"]
mod tests;
