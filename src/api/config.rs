//! Configuration of `liveness-api`: clap flags with `LIVENESS_*` environment fallbacks,
//! checked into a [`Config`] the rest of the service can trust.
//!
//! The operator's Deployment sets the environment variables, so every problem is reported
//! with both the flag and the variable, and says how to fix it. All problems are collected
//! at once rather than one per restart.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

/// The default confidence threshold. AWS's service card calls 50–60 moderate and 80–90
/// strict; 90 errs on the side of refusing a spoof, at the price of asking some genuine
/// users (often in poor light) to try again. Apps that see many false rejections lower it.
pub const DEFAULT_THRESHOLD: f32 = 90.0;

pub use crate::logging::LogFormat;

/// Command-line flags; each falls back to its `LIVENESS_*` environment variable.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "liveness-api",
    version,
    about = "Creates Rekognition Face Liveness sessions and reports whether the user is live"
)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "LIVENESS_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,

    /// Face Liveness region; sessions are created here, and the browser must stream here.
    #[arg(long, env = "LIVENESS_REGION")]
    pub region: Option<String>,

    /// Minimum confidence (0–100) for a SUCCEEDED session to count as live.
    #[arg(long, env = "LIVENESS_CONFIDENCE_THRESHOLD", default_value_t = DEFAULT_THRESHOLD)]
    pub confidence_threshold: f32,

    /// Browser origins allowed by CORS, comma separated (e.g. https://app.example.com).
    #[arg(long, env = "LIVENESS_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Audit images Rekognition keeps per session (0–4).
    #[arg(long, env = "LIVENESS_AUDIT_IMAGES_LIMIT", default_value_t = 0)]
    pub audit_images_limit: i64,

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

    /// Rate-limit by X-Forwarded-For / X-Real-IP / Forwarded (only behind a trusted proxy).
    #[arg(long, env = "LIVENESS_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,

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
    pub trust_forwarded_for: bool,
    pub log_format: LogFormat,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub drain: Duration,
}

impl Config {
    /// Checks `args`; on failure returns every problem, each naming its flag and variable.
    pub fn from_args(args: Args) -> Result<Config, Vec<String>> {
        let mut problems = Vec::new();
        let mut problem = |flag: &str, env: &str, text: String| {
            problems.push(format!("--{flag} / {env}: {text}"));
        };

        let region = match args.region.as_deref().map(str::trim) {
            None | Some("") => {
                problem(
                    "region",
                    "LIVENESS_REGION",
                    "required; set it to the Face Liveness region the browser streams to, \
                     e.g. us-east-1"
                        .into(),
                );
                String::new()
            }
            Some(r) if !looks_like_region(r) => {
                problem(
                    "region",
                    "LIVENESS_REGION",
                    format!("{r:?} is not an AWS region name; use one like us-east-1"),
                );
                String::new()
            }
            Some(r) => r.to_owned(),
        };

        let threshold = args.confidence_threshold;
        if !(0.0..=100.0).contains(&threshold) {
            problem(
                "confidence-threshold",
                "LIVENESS_CONFIDENCE_THRESHOLD",
                format!("{threshold} is outside 0..100; AWS calls 80-90 strict (default 90)"),
            );
        }

        let mut allowed_origins = Vec::new();
        for raw in args.allowed_origins.iter().map(|o| o.trim()) {
            if raw.is_empty() {
                continue;
            }
            match normalise_origin(raw) {
                Ok(origin) => allowed_origins.push(origin),
                Err(why) => problem("allowed-origins", "LIVENESS_ALLOWED_ORIGINS", why),
            }
        }

        let audit_images_limit = args.audit_images_limit;
        if !(0..=4).contains(&audit_images_limit) {
            problem(
                "audit-images-limit",
                "LIVENESS_AUDIT_IMAGES_LIMIT",
                format!("{audit_images_limit} is outside 0..4 (Rekognition keeps at most 4)"),
            );
        }

        let bucket = non_empty(args.output_s3_bucket);
        let prefix = non_empty(args.output_s3_key_prefix);
        if bucket.is_none() && prefix.is_some() {
            problem(
                "output-s3-key-prefix",
                "LIVENESS_OUTPUT_S3_KEY_PREFIX",
                "a key prefix needs a bucket: set LIVENESS_OUTPUT_S3_BUCKET too".into(),
            );
        }
        if let Some(b) = &bucket
            && !valid_bucket(b)
        {
            problem(
                "output-s3-bucket",
                "LIVENESS_OUTPUT_S3_BUCKET",
                format!("{b:?} is not an S3 bucket name (3-63 lowercase letters, digits, . and -)"),
            );
        }
        if prefix.as_ref().is_some_and(|p| p.len() > 950) {
            problem(
                "output-s3-key-prefix",
                "LIVENESS_OUTPUT_S3_KEY_PREFIX",
                "longer than the 950 characters Rekognition accepts".into(),
            );
        }
        let output = bucket.map(|s3_bucket| OutputConfig {
            s3_bucket,
            s3_key_prefix: prefix,
        });

        let identity_pool_id = non_empty(args.identity_pool_id);
        if let Some(id) = &identity_pool_id
            && !valid_identity_pool_id(id)
        {
            problem(
                "identity-pool-id",
                "LIVENESS_IDENTITY_POOL_ID",
                format!("{id:?} is not an identity pool id (<region>:<uuid>)"),
            );
        }

        let public_url = match non_empty(args.public_url) {
            None => None,
            Some(u) => match check_public_url(&u) {
                Ok(u) => Some(u),
                Err(why) => {
                    problem("public-url", "LIVENESS_PUBLIC_URL", why);
                    None
                }
            },
        };

        let emulator_url = match non_empty(args.emulator_url) {
            None => None,
            Some(u) => match check_emulator_url(&u) {
                Ok(u) => Some(u),
                Err(why) => {
                    problem("emulator-url", "LIVENESS_EMULATOR_URL", why);
                    None
                }
            },
        };

        if args.max_body_bytes == 0 {
            problem(
                "max-body-bytes",
                "LIVENESS_MAX_BODY_BYTES",
                "must be at least 1".into(),
            );
        }
        if args.request_timeout_seconds < 2 {
            problem(
                "request-timeout-seconds",
                "LIVENESS_REQUEST_TIMEOUT_SECONDS",
                "must be at least 2 seconds".into(),
            );
        }

        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Config {
            listen: args.listen,
            region,
            threshold,
            allowed_origins,
            audit_images_limit: audit_images_limit as i32,
            output,
            kms_key_id: non_empty(args.kms_key_id),
            identity_pool_id,
            public_url,
            emulator_url,
            rate_limit_per_minute: args.rate_limit_per_minute,
            trust_forwarded_for: args.trust_forwarded_for,
            log_format: args.log_format,
            max_body_bytes: args.max_body_bytes,
            request_timeout: Duration::from_secs(args.request_timeout_seconds),
            drain: Duration::from_secs(args.drain_seconds),
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

fn looks_like_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// `https://app.example.com/` → `https://app.example.com`; paths and wildcards are refused.
fn normalise_origin(raw: &str) -> Result<String, String> {
    if raw == "*" {
        return Err("\"*\" is refused: list each origin, e.g. https://app.example.com".into());
    }
    let url = url::Url::parse(raw)
        .map_err(|e| format!("{raw:?} is not an origin ({e}); use scheme://host[:port]"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{raw:?} is not an http(s) origin"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{raw:?} has a path or query; an origin is only scheme://host[:port]"
        ));
    }
    Ok(url.origin().ascii_serialization())
}

fn check_public_url(raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw).map_err(|e| {
        format!("{raw:?} is not a URL ({e}); use the address browsers reach, e.g. https://api.example.com")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{raw:?} must be an http(s) URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{raw:?} must not carry a query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
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

fn valid_bucket(b: &str) -> bool {
    (3..=63).contains(&b.len())
        && b.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
        && b.as_bytes()[0].is_ascii_alphanumeric()
        && b.as_bytes()[b.len() - 1].is_ascii_alphanumeric()
}

fn valid_identity_pool_id(id: &str) -> bool {
    id.split_once(':').is_some_and(|(region, uuid)| {
        looks_like_region(region) && uuid.len() == 36 && uuid::Uuid::try_parse(uuid).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Args {
        let mut argv = vec!["liveness-api"];
        argv.extend_from_slice(extra);
        Args::try_parse_from(argv).expect("flags parse")
    }

    #[test]
    fn defaults_need_only_a_region() {
        let c = Config::from_args(args(&["--region", "us-east-1"])).unwrap();
        assert_eq!(c.threshold, 90.0);
        assert_eq!(c.audit_images_limit, 0);
        assert_eq!(c.listen.to_string(), "0.0.0.0:8080");
        assert!(c.output.is_none());
    }

    #[test]
    fn missing_region_names_the_flag_the_variable_and_the_fix() {
        let problems = Config::from_args(args(&[])).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("--region / LIVENESS_REGION"),
            "{problems:?}"
        );
        assert!(problems[0].contains("us-east-1"));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let problems = Config::from_args(args(&[
            "--region=us-east-1",
            "--confidence-threshold=101",
            "--audit-images-limit=5",
            "--allowed-origins=https://ok.example.com,*,https://x.example.com/path",
            "--output-s3-key-prefix=p/",
            "--identity-pool-id=nope",
            "--public-url=not a url",
        ]))
        .unwrap_err();
        let all = problems.join("\n");
        for needle in [
            "LIVENESS_CONFIDENCE_THRESHOLD",
            "LIVENESS_AUDIT_IMAGES_LIMIT",
            "\"*\" is refused",
            "has a path",
            "needs a bucket",
            "LIVENESS_IDENTITY_POOL_ID",
            "LIVENESS_PUBLIC_URL",
        ] {
            assert!(all.contains(needle), "{needle} missing from:\n{all}");
        }
    }

    #[test]
    fn origins_and_public_url_are_normalised() {
        let c = Config::from_args(args(&[
            "--region=eu-west-1",
            "--allowed-origins=https://App.Example.com/, http://localhost:3000",
            "--public-url=https://api.example.com/liveness/",
            "--identity-pool-id=eu-west-1:0b0c5f3e-1b2a-4c8e-9d6f-0a1b2c3d4e5f",
        ]))
        .unwrap();
        assert_eq!(
            c.allowed_origins,
            ["https://app.example.com", "http://localhost:3000"]
        );
        assert_eq!(
            c.public_url.as_deref(),
            Some("https://api.example.com/liveness")
        );
    }

    #[test]
    fn the_emulator_url_is_an_https_origin() {
        let c = Config::from_args(args(&[
            "--region=us-east-1",
            "--emulator-url=https://127.0.0.1:8443/",
        ]))
        .unwrap();
        assert_eq!(c.emulator_url.as_deref(), Some("https://127.0.0.1:8443"));
        assert!(
            c.warnings()
                .iter()
                .any(|w| w.contains("not Amazon Rekognition"))
        );
        for bad in ["http://127.0.0.1:8443", "https://127.0.0.1:8443/x", "nope"] {
            let flag = format!("--emulator-url={bad}");
            let problems = Config::from_args(args(&["--region=us-east-1", &flag])).unwrap_err();
            assert!(
                problems[0].contains("LIVENESS_EMULATOR_URL"),
                "{problems:?}"
            );
        }
        let plain = Config::from_args(args(&["--region=us-east-1"])).unwrap();
        assert_eq!(plain.emulator_url, None);
    }

    #[test]
    fn bad_numbers_point_at_the_environment_variable() {
        let err =
            Args::try_parse_from(["liveness-api", "--audit-images-limit", "many"]).unwrap_err();
        let hint = env_hint(&err).expect("a hint");
        assert!(hint.contains("LIVENESS_AUDIT_IMAGES_LIMIT"), "{hint}");
    }

    #[test]
    fn unknown_liveness_region_is_a_warning_not_an_error() {
        let c = Config::from_args(args(&["--region=sa-east-1"])).unwrap();
        assert!(c.warnings().iter().any(|w| w.contains("sa-east-1")));
        assert!(Config::from_args(args(&["--region=US_EAST"])).is_err());
    }
}
