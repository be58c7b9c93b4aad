//! Every rule about a value, defined once: the CRD schema, `validate`, the endpoint's own
//! configuration checks and `plan` all call these, so they can never disagree on what an
//! identity pool id, a bucket name or an origin is.
//!
//! Each check returns the value in its canonical form, or a sentence saying what is wrong
//! and how to fix it; the caller adds where the value came from (a field path, a flag).
//! Regular expressions that also appear in the CRD schema are `pub const` patterns here,
//! and the checks use the same pattern, so the schema and the code cannot drift apart.
//!
//! Facts from the Rekognition and Cognito API references live here too (the session
//! lifetime, the audit-image limit), because the endpoint and the emulator both need them.

use std::sync::LazyLock;
use std::time::Duration;

use regex_lite::Regex;

/// A Face Liveness session expires this long after `CreateFaceLivenessSession`.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(180);

/// Default minimum confidence (0–100) for `isLive`. AWS's service card calls 50–60
/// moderate and 80–90 strict; 90 favours rejecting spoofs over letting everyone through,
/// at the price of asking some genuine users (often in poor light) to try again.
pub const DEFAULT_CONFIDENCE_THRESHOLD: f64 = 90.0;
/// Lowest and highest confidence Rekognition reports.
pub const CONFIDENCE_MIN: f64 = 0.0;
/// See [`CONFIDENCE_MIN`].
pub const CONFIDENCE_MAX: f64 = 100.0;
/// Default number of endpoint replicas.
pub const DEFAULT_REPLICAS: i32 = 2;
/// Most endpoint replicas an app may ask for.
pub const MAX_REPLICAS: i32 = 100;
/// Rekognition returns or stores at most this many audit images per session.
pub const MAX_AUDIT_IMAGES: i32 = 4;
/// How often a verdict signing key is replaced unless the app says otherwise.
pub const DEFAULT_VERDICT_KEY_ROTATION: Duration = Duration::from_secs(30 * 24 * 3600);
/// Shortest rotation period accepted (verdicts live minutes; keys must outlive them).
pub const MIN_VERDICT_KEY_ROTATION: Duration = Duration::from_secs(3600);

/// Most origins an app may allow (keeps the CORS list reviewable).
pub const MAX_ALLOWED_ORIGINS: usize = 32;
/// Longest S3 key prefix `CreateFaceLivenessSession` accepts.
pub const MAX_S3_KEY_PREFIX: usize = 950;

/// An AWS region name such as `us-east-1` (the CRD's pattern for `spec.region`).
pub const REGION_PATTERN: &str = r"^[a-z]{2}(-[a-z]+)+-[0-9]$";
/// A Cognito identity pool id: `<region>:<uuid>` (the CRD's pattern for `existingPoolId`).
pub const POOL_ID_PATTERN: &str =
    r"^[a-z]{2}(-[a-z]+)+-[0-9]:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";
/// Longest identity pool id Cognito accepts.
pub const MAX_POOL_ID: usize = 55;
/// An S3 bucket name's characters and edges (the CRD's pattern; [`s3_bucket`] checks more).
pub const S3_BUCKET_PATTERN: &str = r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$";
/// A Cognito user pool app client id.
pub const CLIENT_ID_PATTERN: &str = r"^[\w]+$";
/// Longest user pool app client id or provider name.
pub const MAX_CLIENT_ID: usize = 128;
/// A Cognito user pool id: `<region>_<id>` (AWS's pattern for `UserPoolId`).
pub const USER_POOL_ID_PATTERN: &str = r"^[a-z]{2}(-[a-z]+)+-[0-9]_[0-9a-zA-Z]+$";
/// Longest user pool id Cognito accepts.
pub const MAX_USER_POOL_ID: usize = 55;
/// The operator's cluster name: part of every AWS name, tag and IAM path.
pub const CLUSTER_NAME_PATTERN: &str = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$";

fn matches(pattern: &'static LazyLock<Regex>, value: &str) -> bool {
    pattern.is_match(value)
}

static REGION: LazyLock<Regex> = LazyLock::new(|| Regex::new(REGION_PATTERN).expect("valid"));
static POOL_ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(POOL_ID_PATTERN).expect("valid"));
static CLIENT_ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(CLIENT_ID_PATTERN).expect("valid"));
static USER_POOL_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(USER_POOL_ID_PATTERN).expect("valid"));
static CLUSTER_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(CLUSTER_NAME_PATTERN).expect("valid"));

/// An AWS region name (whether it offers Face Liveness is [`crate::regions`]' question).
pub fn region(value: &str) -> Result<&str, String> {
    if value.is_empty() {
        Err("is required: set the AWS region of Face Liveness, e.g. us-east-1".into())
    } else if matches(&REGION, value) {
        Ok(value)
    } else {
        Err(format!(
            "'{value}' is not an AWS region name: use one like us-east-1"
        ))
    }
}

/// A Cognito identity pool id; its region is the part before the colon.
pub fn identity_pool_id(value: &str) -> Result<&str, String> {
    if value.len() <= MAX_POOL_ID && matches(&POOL_ID, value) {
        Ok(value)
    } else {
        Err(format!(
            "'{value}' is not an identity pool id: use the form <region>:<uuid>, e.g. us-east-1:1b2c3d4e-0000-4000-8000-123456789abc"
        ))
    }
}

/// The region part of a (valid) identity pool id.
pub fn pool_region(pool_id: &str) -> &str {
    pool_id
        .split_once(':')
        .map_or(pool_id, |(region, _)| region)
}

/// The cluster name the operator is started with.
pub fn cluster_name(value: &str) -> Result<&str, String> {
    if matches(&CLUSTER_NAME, value) {
        Ok(value)
    } else {
        Err(format!(
            "'{value}' is not a usable cluster name: use 1 to 63 of a-z, 0-9 and '-', starting and ending with a letter or digit (it becomes part of IAM paths and tags)"
        ))
    }
}

/// A confidence threshold between 0 and 100.
pub fn confidence_threshold(value: f64) -> Result<f64, String> {
    if value.is_finite() && (CONFIDENCE_MIN..=CONFIDENCE_MAX).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "{value} is out of range: use a confidence from 0 to 100 (default {DEFAULT_CONFIDENCE_THRESHOLD}; 50-60 is moderate, 80-90 strict)"
        ))
    }
}

/// A number of endpoint replicas.
pub fn replicas(value: i64) -> Result<i32, String> {
    match i32::try_from(value) {
        Ok(n) if (0..=MAX_REPLICAS).contains(&n) => Ok(n),
        _ => Err(format!("{value} is out of range: use 0 to {MAX_REPLICAS}")),
    }
}

/// A number of audit images per session.
pub fn audit_images_limit(value: i64) -> Result<i32, String> {
    match i32::try_from(value) {
        Ok(n) if (0..=MAX_AUDIT_IMAGES).contains(&n) => Ok(n),
        _ => Err(format!(
            "{value} is out of range: Rekognition returns 0 to {MAX_AUDIT_IMAGES} audit images"
        )),
    }
}

/// A browser origin, `scheme://host[:port]`, in its canonical form (lowercase host, no
/// default port, no path). `strict` refuses anything not already canonical, so a spec says
/// exactly what the endpoint will compare; the endpoint's own flags accept and normalise.
pub fn origin(value: &str, strict: bool) -> Result<String, String> {
    if value == "*" {
        return Err("'*' would let any web site create sessions on your AWS bill: list each origin, e.g. https://app.example.com".into());
    }
    let url = url::Url::parse(value).map_err(|_| {
        format!(
            "'{value}' is not an http(s) origin: use scheme://host[:port], e.g. https://app.example.com"
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "'{value}' is not an http(s) origin: use scheme://host[:port], e.g. https://app.example.com"
        ));
    }
    let canonical = url.origin().ascii_serialization();
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "'{value}' has a path or query: an origin is only scheme://host[:port], write {canonical}"
        ));
    }
    if strict && canonical != value {
        return Err(format!(
            "'{value}' is not an origin (scheme://host[:port], lowercase, no path, no trailing '/', no default port): write {canonical}"
        ));
    }
    Ok(canonical)
}

/// An S3 bucket name, by the S3 naming rules.
pub fn s3_bucket(bucket: &str) -> Result<&str, String> {
    let valid_chars = bucket
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let why = if bucket.is_empty() {
        return Err("is empty: name the S3 bucket for session images, or remove the output".into());
    } else if !(3..=63).contains(&bucket.len()) {
        "use 3 to 63 characters"
    } else if !valid_chars {
        "use only lowercase letters, digits, '.' and '-'"
    } else if !edge_ok(bucket.chars().next()) || !edge_ok(bucket.chars().last()) {
        "start and end with a letter or digit"
    } else if bucket.contains("..") {
        "do not use two adjacent dots"
    } else if bucket.parse::<std::net::Ipv4Addr>().is_ok() {
        "a bucket name cannot look like an IP address"
    } else if bucket.starts_with("xn--") || bucket.ends_with("-s3alias") {
        "the prefix 'xn--' and suffix '-s3alias' are reserved"
    } else {
        return Ok(bucket);
    };
    Err(format!("'{bucket}' is not a valid S3 bucket name: {why}"))
}

/// A key prefix under which Rekognition writes the session images.
pub fn s3_key_prefix(prefix: &str) -> Result<&str, String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "/!-_.*'()".contains(c);
    if prefix.len() > MAX_S3_KEY_PREFIX || !prefix.chars().all(allowed) {
        Err(format!(
            "'{prefix}' is not a usable key prefix: at most {MAX_S3_KEY_PREFIX} of a-z A-Z 0-9 / ! - _ . * ' ( )"
        ))
    } else if prefix.starts_with('/') {
        Err(format!(
            "'{prefix}' starts with '/': S3 keys have no leading slash, write {}",
            prefix.trim_start_matches('/')
        ))
    } else {
        Ok(prefix)
    }
}

/// A KMS key for the session images: a key or alias ARN in `region`. With `account`
/// (the operator's), the ARN must be of that account: a bare key id or alias is resolved
/// in whichever account makes the call, so only an ARN pins the key to ours.
pub fn kms_key<'a>(key: &'a str, region: &str, account: Option<&str>) -> Result<&'a str, String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_./:+=@-".contains(c);
    let example = format!(
        "arn:aws:kms:{region}:{}:key/<id>",
        account.unwrap_or("<account>")
    );
    if key.is_empty() || key.len() > 2048 || !key.chars().all(allowed) {
        return Err(format!("'{key}' is not a KMS key: use its ARN, {example}"));
    }
    let Some(rest) = key.strip_prefix("arn:") else {
        return match account {
            Some(_) => Err(format!(
                "'{key}' is not an ARN: a key id or alias could name a key of another account; use the key's ARN, {example}"
            )),
            None => Ok(key),
        };
    };
    match rest.splitn(5, ':').collect::<Vec<_>>().as_slice() {
        [_, "kms", key_region, key_account, resource]
            if resource.starts_with("key/") || resource.starts_with("alias/") =>
        {
            if *key_region != region {
                Err(format!(
                    "the key is in {key_region} but the app is in {region}: use a KMS key in {region}"
                ))
            } else if account.is_some_and(|a| a != *key_account) {
                Err(format!(
                    "the key belongs to account {key_account}: session images may only be encrypted with a key of the operator's account, {example}"
                ))
            } else {
                Ok(key)
            }
        }
        _ => Err(format!("'{key}' is not a KMS key ARN: use {example}")),
    }
}

/// An `--allowed-output-buckets` pattern: bucket characters, `*` for any run of them,
/// and `{namespace}` for the app's namespace.
pub fn output_bucket_pattern(pattern: &str) -> Result<&str, String> {
    let rest = pattern.replace("{namespace}", "");
    let ok = !pattern.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-*".contains(c));
    if ok {
        Ok(pattern)
    } else {
        Err(format!(
            "'{pattern}' is not a bucket pattern: use lowercase letters, digits, '.', '-', '*' and {{namespace}}, e.g. liveness-{{namespace}}-*"
        ))
    }
}

/// Whether `bucket` matches one of `patterns` for apps of `namespace`.
pub fn output_bucket_allowed(bucket: &str, namespace: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|pattern| {
        let expanded =
            regex_lite::escape(&pattern.replace("{namespace}", namespace)).replace(r"\*", ".*");
        Regex::new(&format!("^{expanded}$")).is_ok_and(|re| re.is_match(bucket))
    })
}

/// A Cognito user pool provider name, `cognito-idp.<region>.amazonaws.com/<userPoolId>`.
pub fn user_pool_provider<'a>(name: &'a str, region: &str) -> Result<&'a str, String> {
    let valid = name.len() <= MAX_CLIENT_ID
        && name
            .strip_prefix("cognito-idp.")
            .and_then(|rest| rest.split_once(".amazonaws.com/"))
            .is_some_and(|(r, id)| !r.is_empty() && id.starts_with(&format!("{r}_")));
    if valid {
        Ok(name)
    } else {
        Err(format!(
            "'{name}' is not a user pool provider: use cognito-idp.<region>.amazonaws.com/<userPoolId>, e.g. cognito-idp.{region}.amazonaws.com/{region}_AbCdEf123"
        ))
    }
}

/// A Cognito user pool app client id.
pub fn user_pool_client_id(id: &str) -> Result<&str, String> {
    if id.len() <= MAX_CLIENT_ID && matches(&CLIENT_ID, id) {
        Ok(id)
    } else {
        Err(format!(
            "'{id}' is not a user pool app client id: copy it from the user pool's App clients (letters, digits, '_', at most {MAX_CLIENT_ID})"
        ))
    }
}

/// The Face Liveness challenge types `ChallengePreferences` may name, the light one first.
/// `FaceMovementChallenge` shows no flashing colours, which matters for photosensitive users.
pub const CHALLENGES: [&str; 2] = ["FaceMovementAndLightChallenge", "FaceMovementChallenge"];

/// One trusted proxy (`--trusted-proxies` of the endpoint, `--endpoint-trusted-proxies` of
/// the operator): a CIDR (`10.0.0.0/8`) or a single address; host bits are dropped
/// (`10.1.2.3/8` is `10.0.0.0/8`).
pub fn proxy_network(raw: &str) -> Result<ipnet::IpNet, String> {
    let raw = raw.trim();
    raw.parse::<ipnet::IpNet>()
        .map(|net| net.trunc())
        .or_else(|_| raw.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("'{raw}' is not a CIDR or an IP address (e.g. 10.0.0.0/8, 192.0.2.7)"))
}

/// One `--endpoint-env` entry, `NAME=VALUE`: a POSIX variable name, and not one of the
/// endpoint's own `LIVENESS_*` settings (those come from the LivenessApp, per app).
pub fn endpoint_env(entry: &str) -> Result<(String, String), String> {
    let Some((name, value)) = entry.split_once('=') else {
        return Err(format!("'{entry}' is not NAME=VALUE"));
    };
    let name_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !name_ok {
        return Err(format!(
            "'{name}' is not an environment variable name (letters, digits and _, not starting with a digit)"
        ));
    }
    if name.starts_with("LIVENESS_") {
        return Err(format!(
            "{name} is one of the endpoint's own settings, which each LivenessApp sets (spec.endpoint); it cannot be set for every endpoint"
        ));
    }
    Ok((name.to_string(), value.to_string()))
}

/// One challenge preference by its API name.
pub fn challenge(name: &str) -> Result<&'static str, String> {
    CHALLENGES
        .iter()
        .find(|c| **c == name)
        .copied()
        .ok_or_else(|| {
            format!(
                "'{name}' is not a challenge: use {}",
                CHALLENGES.join(" or ")
            )
        })
}

/// A Cognito user pool id, `<region>_<id>`; its region is the part before the `_`.
pub fn user_pool_id(id: &str) -> Result<&str, String> {
    if id.len() <= MAX_USER_POOL_ID && matches(&USER_POOL_ID, id) {
        Ok(id)
    } else {
        Err(format!(
            "'{id}' is not a user pool id: copy it from the user pool's overview, e.g. us-east-1_AbCdEf123"
        ))
    }
}

/// The Cognito user pool's token issuer (`iss` of its ID and access tokens):
/// `https://cognito-idp.<region>.amazonaws.com/<userPoolId>` for a valid pool id.
pub fn user_pool_issuer(user_pool_id: &str) -> String {
    let region = user_pool_id.split('_').next().unwrap_or_default();
    format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}")
}

/// A URL the endpoint fetches token keys from, or an OpenID Connect issuer: https, or
/// plain http to a loopback address only (a test issuer on the same machine), without
/// query or fragment. Returned without a trailing slash.
pub fn token_url(raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw)
        .map_err(|e| format!("'{raw}' is not a URL ({e}): use e.g. https://issuer.example.com"))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => {}
        "http" if loopback => {}
        _ => {
            return Err(format!(
                "'{raw}' must be an https URL (plain http only to a loopback address): token keys must not be fetched over an unprotected network"
            ));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("'{raw}' must not carry a query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// A DNS-1123 subdomain: a host name, or the name of a Kubernetes object (Secret, Gateway).
pub fn dns_subdomain(value: &str) -> Result<&str, String> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.starts_with(|c: char| c.is_ascii_alphanumeric())
            && l.ends_with(|c: char| c.is_ascii_alphanumeric())
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    if value.len() <= 253 && value.split('.').all(label_ok) {
        Ok(value)
    } else {
        Err(format!(
            "'{value}' is not a DNS name: use lowercase letters, digits, '-' and '.', e.g. liveness.example.com"
        ))
    }
}

/// A URL path prefix, `/` or `/segment[/…]`, returned without a trailing slash (but `/`).
pub fn path_prefix(value: &str) -> Result<String, String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "/-._~".contains(c);
    if value.starts_with('/')
        && value.len() <= 1024
        && value.chars().all(allowed)
        && !value.contains("//")
    {
        let trimmed = value.trim_end_matches('/');
        Ok(if trimmed.is_empty() {
            "/".into()
        } else {
            trimmed.into()
        })
    } else {
        Err(format!(
            "'{value}' is not a path prefix: start with '/' and use letters, digits, '-', '.', '_', '~', e.g. /liveness"
        ))
    }
}

/// A key rotation period such as `720h` or `30d`, at least an hour.
pub fn key_rotation(value: &str) -> Result<Duration, String> {
    match humantime::parse_duration(value) {
        Ok(period) if period >= MIN_VERDICT_KEY_ROTATION => Ok(period),
        Ok(_) => Err(format!(
            "'{value}' is too short: rotate at most hourly (verdicts must outlive their key)"
        )),
        Err(_) => Err(format!(
            "'{value}' is not a duration: write e.g. 720h or 30days"
        )),
    }
}

/// A URL browsers use to reach the endpoint, without a trailing slash.
pub fn public_url(raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw).map_err(|e| {
        format!("'{raw}' is not a URL ({e}): use the address browsers reach, e.g. https://api.example.com")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("'{raw}' must be an http(s) URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("'{raw}' must not carry a query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
