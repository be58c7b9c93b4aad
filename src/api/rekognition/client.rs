//! The real Rekognition client: the two JSON 1.1 calls, SigV4-signed, over one pooled HTTP
//! client.
//!
//! Why not `aws-sdk-rekognition`'s client: profiled (`bench/README.md`), its orchestrator
//! was most of a create's CPU (runtime components, config bags and interceptors assembled
//! per call) for two fixed-shape requests. What the SDK decides is still the SDK's: the
//! endpoint comes from its own resolver (region, FIPS, dual-stack, `AWS_ENDPOINT_URL` and
//! `AWS_ENDPOINT_URL_REKOGNITION`), run once at start; requests are signed with `aws-sigv4`'s
//! key derivation and signature ([`super::signing`] prepares the rest once and is tested
//! against the SDK's signer); credentials come from the SDK configuration's chain; retries
//! follow its retry configuration (standard mode: attempts, jittered exponential backoff).
//! The endpoint is parsed once, so a request only clones it.

use std::time::{Duration, SystemTime};

use aws_sdk_rekognition::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_types::retry::RetryConfig;
use aws_types::SdkConfig;
use aws_types::service_config::ServiceConfigKey;
use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use reqwest::header::{self, HeaderValue};
use serde::de::DeserializeOwned;

use super::credentials::CachedIdentity;
use super::signing::{self, Signer};
use super::wire::{
    CreateRequest, CreateResponse, ErrorEnvelope, GetRequest, GetResponse, SessionSettings,
};
use super::{
    AwsError, AwsErrorKind, CreateSettings, CreatedSession, LivenessSessions, Operation,
    SessionResults,
};
use crate::aws::error::source_chain;

/// Calls Rekognition for the handlers; built once at start and shared by every request.
pub struct AwsRekognition {
    http: reqwest::Client,
    /// Parsed once: a request clones it.
    endpoint: url::Url,
    signer: Signer,
    region: String,
    identity: CachedIdentity,
    retry: Retry,
    attempt_timeout: Duration,
    operation_timeout: Duration,
    settings: SessionSettings,
    kms_key_id: Option<String>,
}

/// One failed attempt: what it means, and the detail for logs.
struct Failure {
    kind: AwsErrorKind,
    detail: String,
}

impl AwsRekognition {
    /// A client for the SDK configuration's region, endpoint, credentials and retries, with
    /// a timeout budget that ends before the service's own `request_timeout`.
    pub fn new(
        sdk: &SdkConfig,
        settings: CreateSettings,
        request_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let region = sdk
            .region()
            .map(|r| r.to_string())
            .ok_or_else(|| anyhow::anyhow!("no AWS region is configured"))?;
        let endpoint: url::Url = resolve_endpoint(sdk, &region)?.parse()?;
        let budget = request_timeout.saturating_sub(Duration::from_secs(1));
        Ok(AwsRekognition {
            http: http_client(Duration::from_secs(2).min(budget))?,
            signer: Signer::new(&endpoint, &region),
            endpoint,
            region,
            identity: CachedIdentity::new(sdk.credentials_provider()),
            retry: Retry::from(sdk.retry_config()),
            attempt_timeout: budget / 2,
            operation_timeout: budget,
            settings: SessionSettings::from(&settings),
            kms_key_id: settings.kms_key_id,
        })
    }

    /// One operation: attempts (retrying transient failures) within the operation budget,
    /// answering the successful response parsed as `T`.
    async fn call<T: DeserializeOwned>(
        &self,
        operation: Operation,
        body: Vec<u8>,
    ) -> Result<T, AwsError> {
        let body = Bytes::from(body);
        let attempts = async {
            let mut attempt = 1;
            loop {
                match self.attempt(operation, body.clone()).await {
                    Err(failure)
                        if failure.kind.is_transient() && attempt < self.retry.attempts =>
                    {
                        tokio::time::sleep(self.retry.backoff(attempt)).await;
                        attempt += 1;
                    }
                    other => return other,
                }
            }
        };
        let outcome = tokio::time::timeout(self.operation_timeout, attempts)
            .await
            .unwrap_or_else(|_| {
                Err(Failure {
                    kind: AwsErrorKind::Timeout,
                    detail: format!("no answer within {:?}", self.operation_timeout),
                })
            });
        let bytes = outcome.map_err(|f| self.error(operation, f))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            let detail = format!("unexpected response body: {e}");
            self.error(
                operation,
                Failure {
                    kind: AwsErrorKind::Other,
                    detail,
                },
            )
        })
    }

    async fn attempt(&self, operation: Operation, body: Bytes) -> Result<Bytes, Failure> {
        let identity = self.identity.get().await.map_err(|detail| Failure {
            kind: AwsErrorKind::Credentials,
            detail,
        })?;
        let request = self.signed(operation, body, &identity)?;
        let response = self.http.execute(request).await.map_err(transport)?;
        let status = response.status();
        if status.is_success() {
            return response.bytes().await.map_err(transport);
        }
        // Only an error answer needs its headers; reading the body consumes the response.
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport)?;
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let envelope = ErrorEnvelope::parse(header("x-amzn-errortype"), &body);
        let kind = match envelope.code.as_deref().map(AwsErrorKind::from_code) {
            Some(kind) if kind != AwsErrorKind::Other => kind,
            _ if status.is_server_error() => AwsErrorKind::ServiceUnavailable,
            _ => AwsErrorKind::Other,
        };
        let detail = format!(
            "{}: {} (HTTP {}, request id {})",
            envelope.code.as_deref().unwrap_or("no code"),
            envelope.message.as_deref().unwrap_or("no message"),
            status.as_u16(),
            header("x-amzn-requestid").unwrap_or("none"),
        );
        Err(Failure { kind, detail })
    }

    /// The request for one attempt, signed now with `identity`.
    fn signed(
        &self,
        operation: Operation,
        body: Bytes,
        identity: &Identity,
    ) -> Result<reqwest::Request, Failure> {
        let target = operation.target();
        let signature = self
            .signer
            .sign(identity, target, &body, SystemTime::now())
            .map_err(|detail| Failure {
                kind: AwsErrorKind::Credentials,
                detail: format!("signing the request: {detail}"),
            })?;
        let mut request = reqwest::Request::new(reqwest::Method::POST, self.endpoint.clone());
        *request.timeout_mut() = Some(self.attempt_timeout);
        *request.body_mut() = Some(body.into());
        let headers = request.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(signing::CONTENT_TYPE),
        );
        headers.insert(signing::X_AMZ_TARGET, HeaderValue::from_static(target));
        signature.apply(headers);
        Ok(request)
    }

    fn error(&self, operation: Operation, failure: Failure) -> AwsError {
        AwsError {
            operation,
            kind: failure.kind,
            region: self.region.clone(),
            detail: failure.detail,
        }
    }
}

impl LivenessSessions for AwsRekognition {
    fn create_session<'a>(
        &'a self,
        client_request_token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<CreatedSession, AwsError>> {
        let body = CreateRequest {
            client_request_token,
            kms_key_id: self.kms_key_id.as_deref(),
            settings: &self.settings,
        };
        let body = serde_json::to_vec(&body).expect("the request serializes");
        Box::pin(async move {
            let out: CreateResponse = self.call(Operation::CreateSession, body).await?;
            Ok(CreatedSession {
                session_id: out.session_id,
            })
        })
    }

    fn get_results<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<SessionResults, AwsError>> {
        let body = serde_json::to_vec(&GetRequest { session_id }).expect("the request serializes");
        Box::pin(async move {
            let out: GetResponse = self.call(Operation::GetResults, body).await?;
            Ok(SessionResults {
                session_id: out.session_id,
                status: out.status,
                confidence: out.confidence,
                feedback: out.feedback.into_iter().map(Into::into).collect(),
            })
        })
    }
}

/// The HTTP client: reqwest's pool over rustls with the platform's verifier (the system's
/// roots and `SSL_CERT_FILE`), honouring `HTTPS_PROXY` and `NO_PROXY` (`endpointEnv`).
/// Redirects are not followed (AWS answers none).
fn http_client(connect_timeout: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("liveness-api/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// A failure before any answer: the connection, a timeout, or the body cut short.
fn transport(error: reqwest::Error) -> Failure {
    let kind = if error.is_timeout() {
        AwsErrorKind::Timeout
    } else if error.is_body() || error.is_decode() {
        AwsErrorKind::Other
    } else {
        AwsErrorKind::Unreachable
    };
    Failure {
        kind,
        detail: source_chain(&error),
    }
}

/// The endpoint the SDK would call, by its own rules: a service-specific override
/// (`AWS_ENDPOINT_URL_REKOGNITION`, or `endpoint_url` in the profile's `rekognition`
/// section), else the general one, else the region's (FIPS and dual-stack as configured).
fn resolve_endpoint(sdk: &SdkConfig, region: &str) -> anyhow::Result<String> {
    let key = ServiceConfigKey::builder()
        .service_id("Rekognition")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()?;
    let overridden = sdk
        .service_config()
        .and_then(|config| config.load_config(key))
        .or_else(|| sdk.endpoint_url().map(str::to_owned));
    let params = Params::builder()
        .region(region)
        .use_fips(sdk.use_fips().unwrap_or(false))
        .use_dual_stack(sdk.use_dual_stack().unwrap_or(false))
        .set_endpoint(overridden)
        .build()?;
    let resolved = DefaultResolver::new()
        .resolve_endpoint(&params)
        .now_or_never()
        .ok_or_else(|| anyhow::anyhow!("the endpoint resolver did not answer at once"))?
        .map_err(|e| anyhow::anyhow!("no Rekognition endpoint for region {region}: {e}"))?;
    Ok(resolved.url().to_owned())
}

/// The SDK configuration's retry settings (standard mode; adaptive is treated the same).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Retry {
    attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl From<Option<&RetryConfig>> for Retry {
    fn from(config: Option<&RetryConfig>) -> Self {
        let standard = RetryConfig::standard();
        let config = config.unwrap_or(&standard);
        Retry {
            attempts: config.max_attempts().max(1),
            initial_backoff: config.initial_backoff(),
            max_backoff: config.max_backoff(),
        }
    }
}

impl Retry {
    /// The wait after failed attempt `attempt` (1-based): "full jitter", a random share of
    /// the exponential step, so that throttled callers spread out.
    fn backoff(&self, attempt: u32) -> Duration {
        let step = self
            .initial_backoff
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(self.max_backoff);
        let share = getrandom::u32().unwrap_or(u32::MAX / 2) as f64 / u32::MAX as f64;
        step.mul_f64(share)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_types::region::Region;

    fn sdk(endpoint: Option<&str>) -> SdkConfig {
        let mut builder = SdkConfig::builder().region(Region::new("eu-west-1"));
        if let Some(url) = endpoint {
            builder = builder.endpoint_url(url);
        }
        builder.build()
    }

    #[test]
    fn the_endpoint_is_the_regions_unless_overridden() {
        let regional = resolve_endpoint(&sdk(None), "eu-west-1").unwrap();
        assert!(
            regional.starts_with("https://rekognition.eu-west-1."),
            "{regional}"
        );
        let local = resolve_endpoint(&sdk(Some("http://127.0.0.1:4566")), "eu-west-1");
        assert_eq!(local.unwrap(), "http://127.0.0.1:4566");
    }

    #[test]
    fn fips_is_honoured() {
        let fips = SdkConfig::builder()
            .region(Region::new("us-east-1"))
            .use_fips(true)
            .build();
        let url = resolve_endpoint(&fips, "us-east-1").unwrap();
        assert!(
            url.starts_with("https://rekognition-fips.us-east-1."),
            "{url}"
        );
    }

    #[test]
    fn backoff_grows_to_its_cap_and_is_jittered_below_it() {
        let retry = Retry::from(Some(
            &RetryConfig::standard()
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_millis(300)),
        ));
        for _ in 0..50 {
            assert!(retry.backoff(1) <= Duration::from_millis(100));
            assert!(retry.backoff(2) <= Duration::from_millis(200));
            assert!(retry.backoff(5) <= Duration::from_millis(300));
        }
        let waits: std::collections::HashSet<_> = (0..20).map(|_| retry.backoff(3)).collect();
        assert!(waits.len() > 1, "jittered, not a fixed wait");
    }

    #[test]
    fn retries_default_to_the_sdks_standard_mode() {
        assert_eq!(Retry::from(None).attempts, 3);
        assert_eq!(Retry::from(Some(&RetryConfig::disabled())).attempts, 1);
    }
}
