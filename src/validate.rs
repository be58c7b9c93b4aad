//! Spec → every problem, each with its field path and a sentence the user can act on.
//!
//! The apiserver enforces the OpenAPI schema, but not every cluster enforces the CEL rules
//! (1.25+ do) and some rules need operator configuration (extra regions). The controller
//! runs this before any AWS call, so an invalid LivenessApp touches nothing in AWS.
//! Pure: no clients, no I/O.

use std::collections::HashSet;

use crate::crd::{IdentityPoolSpec, LivenessApp, LivenessAppSpec, OutputSpec};
use crate::names::MAX_APP_NAME_LEN;
use crate::regions;

/// One thing wrong with a LivenessApp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Field path, e.g. `spec.endpoint.allowedOrigins[1]`.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Operator configuration that validation depends on.
#[derive(Clone, Debug, Default)]
pub struct ValidationContext {
    /// Regions accepted in addition to [`regions::LAUNCH_REGIONS`] and
    /// [`regions::ADDED_REGIONS`] (`--extra-liveness-regions`).
    pub extra_regions: Vec<String>,
}

/// Most origins an app may allow (keeps the CORS list reviewable).
pub const MAX_ALLOWED_ORIGINS: usize = 32;

/// Every problem of a whole LivenessApp: its name and its spec.
pub fn validate_app(app: &LivenessApp, ctx: &ValidationContext) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(name) = app.metadata.name.as_deref() {
        check_app_name(name, &mut problems);
    }
    problems.extend(validate(&app.spec, ctx));
    // CEL keeps spec.region immutable on 1.25+; on older clusters the status remembers.
    let recorded = app
        .status
        .as_ref()
        .and_then(|s| s.identity_pool_id.as_deref());
    if let Some((pool_region, _)) = recorded.and_then(|id| id.split_once(':'))
        && pool_region != app.spec.region
    {
        problems.push(Problem {
            path: "spec.region".into(),
            message: format!(
                "is immutable: this app's identity pool {} is in {pool_region}; set spec.region back to {pool_region}, or create a new LivenessApp for {}",
                recorded.unwrap_or_default(),
                app.spec.region
            ),
        });
    }
    problems
}

/// Every problem of a spec, in field order.
pub fn validate(spec: &LivenessAppSpec, ctx: &ValidationContext) -> Vec<Problem> {
    let mut p = Problems::default();
    check_region(&spec.region, ctx, &mut p);
    check_identity_pool(&spec.identity_pool, &spec.region, &mut p);
    let endpoint = &spec.endpoint;
    if !(0..=100).contains(&endpoint.replicas) {
        p.add(
            "spec.endpoint.replicas",
            format!("{} is out of range: use 0 to 100", endpoint.replicas),
        );
    }
    let threshold = endpoint.confidence_threshold;
    if !threshold.is_finite() || !(0.0..=100.0).contains(&threshold) {
        p.add(
            "spec.endpoint.confidenceThreshold",
            format!("{threshold} is out of range: use a confidence from 0 to 100 (default 90; 50-60 is moderate, 80-90 strict)"),
        );
    }
    check_origins(&endpoint.allowed_origins, &mut p);
    if !(0..=4).contains(&endpoint.audit_images_limit) {
        p.add(
            "spec.endpoint.auditImagesLimit",
            format!(
                "{} is out of range: Rekognition returns 0 to 4 audit images",
                endpoint.audit_images_limit
            ),
        );
    }
    if let Some(output) = &endpoint.output {
        check_output(output, &spec.region, &mut p);
    }
    p.0
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }
}

fn check_app_name(name: &str, problems: &mut Vec<Problem>) {
    let path = "metadata.name";
    let message = if name.len() > MAX_APP_NAME_LEN {
        format!(
            "'{name}' is {} characters; the endpoint Service '{name}-liveness-api' must fit 63: use a name of at most {MAX_APP_NAME_LEN} characters",
            name.len()
        )
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) || name.contains('.') {
        format!(
            "'{name}' cannot name the endpoint Service (a DNS-1035 label): start with a lowercase letter and use only a-z, 0-9 and '-'"
        )
    } else {
        return;
    };
    problems.push(Problem {
        path: path.into(),
        message,
    });
}

fn check_region(region: &str, ctx: &ValidationContext, p: &mut Problems) {
    let path = "spec.region";
    if region.is_empty() {
        p.add(
            path,
            "is required: set the AWS region of Face Liveness, e.g. us-east-1",
        );
    } else if !regions::is_liveness_region(region, &ctx.extra_regions) {
        p.add(
            path,
            format!(
                "'{region}' does not offer Rekognition Face Liveness: use one of {} (if AWS has added it, start the operator with --extra-liveness-regions {region})",
                regions::known_regions(&ctx.extra_regions).join(", ")
            ),
        );
    }
}

fn check_identity_pool(pool: &IdentityPoolSpec, region: &str, p: &mut Problems) {
    if let Some(id) = &pool.existing_pool_id {
        let path = "spec.identityPool.existingPoolId";
        match id.split_once(':') {
            Some((pool_region, uuid))
                if id.len() <= 55
                    && !uuid.is_empty()
                    && uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-') =>
            {
                if pool_region != region {
                    p.add(path, format!("'{id}' is in {pool_region} but spec.region is {region}: adopt a pool in {region} (sessions created in one region cannot be streamed to another)"));
                }
            }
            _ => p.add(
                path,
                format!("'{id}' is not an identity pool id: use the form <region>:<uuid>, e.g. {region}:1b2c3d4e-0000-4000-8000-123456789abc"),
            ),
        }
    }
    if let Some(user_pool) = &pool.user_pool {
        let prefix = "cognito-idp.";
        let valid = user_pool
            .provider_name
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once(".amazonaws.com/"))
            .is_some_and(|(r, id)| !r.is_empty() && id.starts_with(&format!("{r}_")));
        if !valid {
            p.add(
                "spec.identityPool.userPool.providerName",
                format!("'{}' is not a user pool provider: use cognito-idp.<region>.amazonaws.com/<userPoolId>, e.g. cognito-idp.{region}.amazonaws.com/{region}_AbCdEf123", user_pool.provider_name),
            );
        }
        let client = &user_pool.client_id;
        if client.is_empty()
            || client.len() > 128
            || !client
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            p.add(
                "spec.identityPool.userPool.clientId",
                format!("'{client}' is not a user pool app client id: copy it from the user pool's App clients (letters, digits, '_', at most 128)"),
            );
        }
    }
    if pool.existing_pool_id.is_none() && pool.user_pool.is_none() && !pool.allow_unauthenticated {
        p.add(
            "spec.identityPool",
            "no browser could get credentials from the new pool: set userPool for signed-in users, allowUnauthenticated: true for guests, or existingPoolId to adopt a configured pool",
        );
    }
}

fn check_origins(origins: &[String], p: &mut Problems) {
    if origins.len() > MAX_ALLOWED_ORIGINS {
        p.add(
            "spec.endpoint.allowedOrigins",
            format!(
                "{} origins listed: allow at most {MAX_ALLOWED_ORIGINS}",
                origins.len()
            ),
        );
    }
    let mut seen = HashSet::new();
    for (i, origin) in origins.iter().enumerate() {
        let path = format!("spec.endpoint.allowedOrigins[{i}]");
        if origin == "*" {
            p.add(path, "'*' would let any web site create sessions on your AWS bill: list each origin, e.g. https://app.example.com");
            continue;
        }
        match url::Url::parse(origin) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                let canonical = url.origin().ascii_serialization();
                if &canonical != origin {
                    p.add(path, format!("'{origin}' is not an origin (scheme://host[:port], lowercase, no path, no trailing '/', no default port): write {canonical}"));
                } else if !seen.insert(canonical) {
                    p.add(path, format!("'{origin}' is listed twice: remove the duplicate"));
                }
            }
            _ => p.add(
                path,
                format!("'{origin}' is not an http(s) origin: use scheme://host[:port], e.g. https://app.example.com"),
            ),
        }
    }
}

fn check_output(output: &OutputSpec, region: &str, p: &mut Problems) {
    let bucket = &output.s3_bucket;
    if bucket.is_empty() {
        p.add(
            "spec.endpoint.output.s3Bucket",
            "is empty: name the S3 bucket for session images, or remove spec.endpoint.output",
        );
    } else if let Some(why) = s3_bucket_problem(bucket) {
        p.add(
            "spec.endpoint.output.s3Bucket",
            format!("'{bucket}' is not a valid S3 bucket name: {why}"),
        );
    }
    if let Some(prefix) = &output.s3_key_prefix {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "/!-_.*'()".contains(c);
        if prefix.len() > 950 || !prefix.chars().all(allowed) {
            p.add(
                "spec.endpoint.output.s3KeyPrefix",
                format!("'{prefix}' is not a usable key prefix: at most 950 of a-z A-Z 0-9 / ! - _ . * ' ( )"),
            );
        } else if prefix.starts_with('/') {
            p.add(
                "spec.endpoint.output.s3KeyPrefix",
                format!(
                    "'{prefix}' starts with '/': S3 keys have no leading slash, write {}",
                    prefix.trim_start_matches('/')
                ),
            );
        }
    }
    if let Some(key) = &output.kms_key_id {
        check_kms_key(key, region, p);
    }
}

fn s3_bucket_problem(bucket: &str) -> Option<&'static str> {
    let valid_chars = bucket
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !(3..=63).contains(&bucket.len()) {
        Some("use 3 to 63 characters")
    } else if !valid_chars {
        Some("use only lowercase letters, digits, '.' and '-'")
    } else if !edge_ok(bucket.chars().next()) || !edge_ok(bucket.chars().last()) {
        Some("start and end with a letter or digit")
    } else if bucket.contains("..") {
        Some("do not use two adjacent dots")
    } else if bucket.parse::<std::net::Ipv4Addr>().is_ok() {
        Some("a bucket name cannot look like an IP address")
    } else if bucket.starts_with("xn--") || bucket.ends_with("-s3alias") {
        Some("the prefix 'xn--' and suffix '-s3alias' are reserved")
    } else {
        None
    }
}

fn check_kms_key(key: &str, region: &str, p: &mut Problems) {
    let path = "spec.endpoint.output.kmsKeyId";
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_./:+=@-".contains(c);
    if key.is_empty() || key.len() > 2048 || !key.chars().all(allowed) {
        p.add(
            path,
            format!("'{key}' is not a KMS key id: use a key id, alias/<name>, or a key ARN"),
        );
        return;
    }
    if let Some(rest) = key.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        match parts.as_slice() {
            [_, "kms", key_region, _, resource]
                if resource.starts_with("key/") || resource.starts_with("alias/") =>
            {
                if *key_region != region {
                    p.add(path, format!("the key is in {key_region} but spec.region is {region}: use a KMS key in {region}"));
                }
            }
            _ => p.add(
                path,
                format!(
                    "'{key}' is not a KMS key ARN: use arn:aws:kms:{region}:<account>:key/<id>"
                ),
            ),
        }
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
