//! Configuration of `liveness-api`, checked into a [`Config`] the rest of the service can
//! trust.
//!
//! The operator's Deployment gives the endpoint one [`EndpointSettings`] as JSON
//! (`LIVENESS_SETTINGS`, the [`crate::contract`]); people running the binary by hand use
//! the flags and their `LIVENESS_*` twins, and a flag given explicitly overrides the same
//! field of the settings. Values are checked by the same [`crate::rules`] the operator's
//! validation uses. Every problem names where the value came from and how to fix it; all
//! are collected at once rather than one per restart.

mod auth;
mod security;

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

pub use security::{
    AuthMode, DEFAULT_METRICS_LISTEN, MAX_HEADER_READ_TIMEOUT_SECS, Security, SecurityArgs,
};

use crate::contract::{EndpointSettings, SETTINGS_ENV};
use crate::rules;

/// The default confidence threshold ([`rules::DEFAULT_CONFIDENCE_THRESHOLD`] says why).
pub const DEFAULT_THRESHOLD: f32 = rules::DEFAULT_CONFIDENCE_THRESHOLD as f32;
/// Address the endpoint listens on unless told otherwise.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";

pub use crate::logging::LogFormat;

/// Command-line flags; each falls back to its `LIVENESS_*` environment variable.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "liveness-api",
    version,
    about = "Creates Rekognition Face Liveness sessions and reports whether the user is live"
)]
pub struct Args {
    /// The endpoint's settings as JSON, as liveness-operator writes them; the flags below
    /// override single fields.
    #[arg(long, env = SETTINGS_ENV)]
    pub settings: Option<String>,

    /// Address to listen on (default 0.0.0.0:8080).
    #[arg(long, env = "LIVENESS_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// Face Liveness region; sessions are created here, and the browser must stream here.
    #[arg(long, env = "LIVENESS_REGION")]
    pub region: Option<String>,

    /// Minimum confidence (0–100) for a SUCCEEDED session to count as live (default 90).
    #[arg(long, env = "LIVENESS_CONFIDENCE_THRESHOLD")]
    pub confidence_threshold: Option<f64>,

    /// Browser origins allowed by CORS, comma separated (e.g. https://app.example.com).
    #[arg(long, env = "LIVENESS_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Audit images Rekognition keeps per session (0–4, default 0).
    #[arg(long, env = "LIVENESS_AUDIT_IMAGES_LIMIT")]
    pub audit_images_limit: Option<i64>,

    /// S3 bucket (same account and region) where Rekognition writes the images.
    #[arg(long, env = "LIVENESS_OUTPUT_S3_BUCKET")]
    pub output_s3_bucket: Option<String>,

    /// Key prefix for the images in the output bucket.
    #[arg(long, env = "LIVENESS_OUTPUT_S3_KEY_PREFIX")]
    pub output_s3_key_prefix: Option<String>,

    /// KMS key used to encrypt the images written to S3.
    #[arg(long, env = "LIVENESS_KMS_KEY_ID")]
    pub kms_key_id: Option<String>,

    /// Cognito identity pool the browser gets credentials from (shown in /v1/config).
    #[arg(long, env = "LIVENESS_IDENTITY_POOL_ID")]
    pub identity_pool_id: Option<String>,

    /// URL the frontend uses to reach this service; without it /v1/config gives relative URLs.
    #[arg(long, env = "LIVENESS_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Local development only: origin of a liveness-emulator (e.g. https://127.0.0.1:8443);
    /// /v1/config then tells the frontend to stream to it instead of AWS.
    #[arg(long, env = "LIVENESS_EMULATOR_URL")]
    pub emulator_url: Option<String>,

    /// Requests per minute per client IP on /v1 routes; 0 turns the limit off.
    #[arg(long, env = "LIVENESS_RATE_LIMIT_PER_MINUTE", default_value_t = 120)]
    pub rate_limit_per_minute: u32,

    #[command(flatten)]
    pub security: SecurityArgs,

    /// Log format.
    #[arg(long, env = "LIVENESS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "LIVENESS_MAX_BODY_BYTES", default_value_t = 8192)]
    pub max_body_bytes: usize,

    /// Seconds a request may take in total (AWS calls get a shorter budget).
    #[arg(long, env = "LIVENESS_REQUEST_TIMEOUT_SECONDS", default_value_t = 10)]
    pub request_timeout_seconds: u64,

    /// Seconds /readyz reports not-ready after SIGTERM before the listener closes.
    #[arg(long, env = "LIVENESS_DRAIN_SECONDS", default_value_t = 3)]
    pub drain_seconds: u64,
}

/// Where Rekognition writes reference and audit images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputConfig {
    pub s3_bucket: String,
    pub s3_key_prefix: Option<String>,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub region: String,
    pub threshold: f32,
    /// Normalised origins (`scheme://host[:port]`).
    pub allowed_origins: Vec<String>,
    pub audit_images_limit: i32,
    pub output: Option<OutputConfig>,
    pub kms_key_id: Option<String>,
    pub identity_pool_id: Option<String>,
    /// Without a trailing slash.
    pub public_url: Option<String>,
    /// Origin of a liveness-emulator (`https://host[:port]`), for local development.
    pub emulator_url: Option<String>,
    pub rate_limit_per_minute: u32,
    pub log_format: LogFormat,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub drain: Duration,
    /// Callers, keys, what the browser sees, abuse limits.
    pub security: Security,
}

/// Where a value came from, for problem messages.
fn source(flag: &str, env: &str, from_flag: bool, field: &str) -> String {
    if from_flag {
        format!("--{flag} / {env}")
    } else {
        format!("{SETTINGS_ENV} {field}")
    }
}

impl Config {
    /// Checks `args`; on failure returns every problem, each naming its source.
    pub fn from_args(args: Args) -> Result<Config, Vec<String>> {
        let mut problems = Vec::new();
        let settings = match args.settings.as_deref().map(str::trim) {
            None | Some("") => EndpointSettings::default(),
            Some(json) => EndpointSettings::from_json(json).unwrap_or_else(|why| {
                problems.push(format!("--settings / {SETTINGS_ENV}: {why}"));
                EndpointSettings::default()
            }),
        };
        let mut problem = |source: String, text: String| problems.push(format!("{source}: {text}"));
        let security_settings = security::FromSettings {
            app: settings.app.clone(),
            auth: settings.auth.clone(),
            expose_confidence: settings.expose_confidence,
            session_key_file: settings.session_key_file.clone(),
            signing_key_file: settings.signing_key_file.clone(),
            challenges: settings.challenges.clone(),
            metrics_listen: settings.metrics_listen,
            trusted_proxies: settings.trusted_proxies.clone(),
        };

        let region_from_flag = args.region.is_some() || settings.region.is_none();
        let region_source = source("region", "LIVENESS_REGION", region_from_flag, "region");
        let region = match args.region.or(settings.region).as_deref().map(str::trim) {
            None | Some("") => {
                problem(
                    region_source,
                    "required; set it to the Face Liveness region the browser streams to, e.g. us-east-1".into(),
                );
                String::new()
            }
            Some(r) => match rules::region(r) {
                Ok(r) => r.to_owned(),
                Err(why) => {
                    problem(region_source, why);
                    String::new()
                }
            },
        };

        let threshold_from_flag = args.confidence_threshold.is_some();
        let threshold = args
            .confidence_threshold
            .or(settings.confidence_threshold)
            .unwrap_or(rules::DEFAULT_CONFIDENCE_THRESHOLD);
        if let Err(why) = rules::confidence_threshold(threshold) {
            let from = source(
                "confidence-threshold",
                "LIVENESS_CONFIDENCE_THRESHOLD",
                threshold_from_flag,
                "confidenceThreshold",
            );
            problem(from, why);
        }

        let origins_from_flag = !args.allowed_origins.is_empty();
        let raw_origins = if origins_from_flag {
            args.allowed_origins
        } else {
            settings.allowed_origins
        };
        let mut allowed_origins = Vec::new();
        for raw in raw_origins
            .iter()
            .map(|o| o.trim())
            .filter(|o| !o.is_empty())
        {
            match rules::origin(raw, false) {
                Ok(origin) => allowed_origins.push(origin),
                Err(why) => problem(
                    source(
                        "allowed-origins",
                        "LIVENESS_ALLOWED_ORIGINS",
                        origins_from_flag,
                        "allowedOrigins",
                    ),
                    why,
                ),
            }
        }

        let audit_from_flag = args.audit_images_limit.is_some();
        let audit = args
            .audit_images_limit
            .or(settings.audit_images_limit.map(i64::from))
            .unwrap_or(0);
        let audit_images_limit = rules::audit_images_limit(audit).unwrap_or_else(|why| {
            let from = source(
                "audit-images-limit",
                "LIVENESS_AUDIT_IMAGES_LIMIT",
                audit_from_flag,
                "auditImagesLimit",
            );
            problem(from, why);
            0
        });

        let output_settings = settings.output.unwrap_or_default();
        let bucket_from_flag = args.output_s3_bucket.is_some();
        let bucket = non_empty(args.output_s3_bucket.or(Some(output_settings.s3_bucket)));
        let prefix_from_flag = args.output_s3_key_prefix.is_some();
        let prefix = non_empty(args.output_s3_key_prefix.or(output_settings.s3_key_prefix));
        let kms_from_flag = args.kms_key_id.is_some();
        let kms_key_id = non_empty(args.kms_key_id.or(output_settings.kms_key_id));
        let prefix_source = || {
            source(
                "output-s3-key-prefix",
                "LIVENESS_OUTPUT_S3_KEY_PREFIX",
                prefix_from_flag,
                "output.s3KeyPrefix",
            )
        };
        if bucket.is_none() && prefix.is_some() {
            problem(
                prefix_source(),
                "a key prefix needs a bucket: set LIVENESS_OUTPUT_S3_BUCKET too".into(),
            );
        }
        if let Some(Err(why)) = bucket.as_deref().map(rules::s3_bucket) {
            let from = source(
                "output-s3-bucket",
                "LIVENESS_OUTPUT_S3_BUCKET",
                bucket_from_flag,
                "output.s3Bucket",
            );
            problem(from, why);
        }
        if let Some(Err(why)) = prefix.as_deref().map(rules::s3_key_prefix) {
            problem(prefix_source(), why);
        }
        if let Some(Err(why)) = kms_key_id
            .as_deref()
            .map(|k| rules::kms_key(k, &region, None))
        {
            let from = source(
                "kms-key-id",
                "LIVENESS_KMS_KEY_ID",
                kms_from_flag,
                "output.kmsKeyId",
            );
            problem(from, why);
        }
        let output = bucket.map(|s3_bucket| OutputConfig {
            s3_bucket,
            s3_key_prefix: prefix,
        });

        let pool_from_flag = args.identity_pool_id.is_some();
        let identity_pool_id = non_empty(args.identity_pool_id.or(settings.identity_pool_id));
        if let Some(Err(why)) = identity_pool_id.as_deref().map(rules::identity_pool_id) {
            let from = source(
                "identity-pool-id",
                "LIVENESS_IDENTITY_POOL_ID",
                pool_from_flag,
                "identityPoolId",
            );
            problem(from, why);
        }

        let url_from_flag = args.public_url.is_some();
        let public_url = match non_empty(args.public_url.or(settings.public_url)) {
            None => None,
            Some(u) => match rules::public_url(&u) {
                Ok(u) => Some(u),
                Err(why) => {
                    let from = source(
                        "public-url",
                        "LIVENESS_PUBLIC_URL",
                        url_from_flag,
                        "publicUrl",
                    );
                    problem(from, why);
                    None
                }
            },
        };

        let emulator_url = match non_empty(args.emulator_url) {
            None => None,
            Some(u) => match check_emulator_url(&u) {
                Ok(u) => Some(u),
                Err(why) => {
                    problem("--emulator-url / LIVENESS_EMULATOR_URL".into(), why);
                    None
                }
            },
        };

        if args.max_body_bytes == 0 {
            problem(
                "--max-body-bytes / LIVENESS_MAX_BODY_BYTES".into(),
                "must be at least 1".into(),
            );
        }
        if args.request_timeout_seconds < 2 {
            problem(
                "--request-timeout-seconds / LIVENESS_REQUEST_TIMEOUT_SECONDS".into(),
                "must be at least 2 seconds".into(),
            );
        }

        let security = security::check(
            args.security,
            security_settings,
            public_url.as_deref(),
            &mut problem,
        );

        let (Some(security), true) = (security, problems.is_empty()) else {
            return Err(problems);
        };
        let listen = args
            .listen
            .or(settings.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("a socket address"));
        Ok(Config {
            listen,
            region,
            threshold: threshold as f32,
            allowed_origins,
            audit_images_limit,
            output,
            kms_key_id,
            identity_pool_id,
            public_url,
            emulator_url,
            rate_limit_per_minute: args.rate_limit_per_minute,
            log_format: args.log_format,
            max_body_bytes: args.max_body_bytes,
            request_timeout: Duration::from_secs(args.request_timeout_seconds),
            drain: Duration::from_secs(args.drain_seconds),
            security,
        })
    }

    /// Warnings that do not stop the service (e.g. a region not known to offer Face Liveness).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !crate::regions::is_liveness_region(&self.region, &[]) {
            out.push(format!(
                "LIVENESS_REGION={} is not a region this release knows to offer Face Liveness \
                 ({}); sessions will fail unless AWS added it",
                self.region,
                crate::regions::known_regions(&[]).join(", ")
            ));
        }
        if let Some(url) = &self.emulator_url {
            out.push(format!(
                "LIVENESS_EMULATOR_URL={url}: the frontend is sent to a liveness-emulator, \
                 not Amazon Rekognition; for local development only"
            ));
        }
        if matches!(self.security.auth, crate::api::auth::AuthConfig::None) {
            out.push(
                "LIVENESS_AUTH=none: anyone may create sessions; they are limited per client IP \
                 only (LIVENESS_CREATE_LIMIT_PER_MINUTE)"
                    .into(),
            );
        }
        if self.security.app.is_none() && self.public_url.is_none() {
            out.push(
                "neither LIVENESS_APP nor LIVENESS_PUBLIC_URL is set: verdicts are issued as \
                 \"liveness-api\"; set one so backends can tell this endpoint's verdicts apart"
                    .into(),
            );
        }
        if self.allowed_origins.is_empty() {
            out.push(
                "LIVENESS_ALLOWED_ORIGINS is empty: browsers on other origins cannot call \
                 this service"
                    .into(),
            );
        }
        out
    }
}

/// For a clap error about one flag, names the environment variable it falls back to, so
/// a bad value set by the Deployment is easy to trace.
pub fn env_hint(err: &clap::Error) -> Option<String> {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue};
    let ContextValue::String(arg) = err.get(ContextKind::InvalidArg)? else {
        return None;
    };
    let long = arg.trim_start_matches("--").split([' ', '=']).next()?;
    let command = Args::command();
    let env = command
        .get_arguments()
        .find(|a| a.get_long() == Some(long))?
        .get_env()?;
    Some(format!(
        "--{long} falls back to {}; fix the flag or that variable (see --help)",
        env.to_string_lossy()
    ))
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The emulator's origin: `https://host[:port]` (the browser component streams only over
/// `wss:`, so plain http is refused).
fn check_emulator_url(raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw)
        .map_err(|e| format!("{raw:?} is not a URL ({e}); use e.g. https://127.0.0.1:8443"))?;
    if url.scheme() != "https" || url.host().is_none() {
        return Err(format!(
            "{raw:?} must be an https URL with a host (the component streams over wss:)"
        ));
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{raw:?} must be an origin, without path, query or fragment"
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests;
