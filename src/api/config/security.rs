//! The flags of a public endpoint: who may call (`--auth` and its issuer settings), the
//! keys that bind sessions and sign verdicts, what the browser may see, and the abuse
//! limits. A separate clap group (flattened into [`super::Args`]) because each of these is
//! checked with its own rules, and the keys are read from their files here, so a missing or
//! bad key stops the service at start, not at the first request.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;

use super::source;
use crate::api::auth::AuthConfig;
use crate::api::binding::SessionBinding;
use crate::api::client_ip::TrustedProxies;
use crate::api::limits::DEFAULT_CREATES_PER_MINUTE;
use crate::api::verdict::VerdictSigner;
use crate::contract::AuthSettings;
use crate::rules;

/// Address `/metrics` listens on unless told otherwise.
pub const DEFAULT_METRICS_LISTEN: &str = "0.0.0.0:9090";
/// Longest header-read timeout accepted (slow-header connections hold a socket each).
pub const MAX_HEADER_READ_TIMEOUT_SECS: u64 = 30;

/// `--auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    Cognito,
    Oidc,
    None,
}

/// Flags for callers, keys, the browser's view and abuse limits.
#[derive(Debug, Clone, clap::Args)]
pub struct SecurityArgs {
    /// Who may call: `cognito` (a user pool's ID or access tokens), `oidc` (any OpenID
    /// Connect issuer's tokens) or `none` (anyone; limits per client IP). Required here or
    /// in the settings' `auth`.
    #[arg(long, env = "LIVENESS_AUTH", value_enum)]
    pub auth: Option<AuthMode>,

    /// With --auth cognito: the user pool id (`<region>_<id>`).
    #[arg(long, env = "LIVENESS_COGNITO_USER_POOL_ID")]
    pub cognito_user_pool_id: Option<String>,

    /// With --auth cognito: app client ids whose tokens are accepted, comma separated.
    #[arg(long, env = "LIVENESS_COGNITO_CLIENT_IDS", value_delimiter = ',')]
    pub cognito_client_ids: Vec<String>,

    /// With --auth oidc: the issuer URL, exactly as tokens name it in `iss`.
    #[arg(long, env = "LIVENESS_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,

    /// With --auth oidc: accepted `aud` values, comma separated.
    #[arg(long, env = "LIVENESS_OIDC_AUDIENCES", value_delimiter = ',')]
    pub oidc_audiences: Vec<String>,

    /// Where the token keys (JWKS) are, when not at the issuer's standard address
    /// (Cognito: <issuer>/.well-known/jwks.json; OIDC: found by discovery).
    #[arg(long, env = "LIVENESS_JWKS_URL")]
    pub jwks_url: Option<String>,

    /// `<namespace>/<name>` of the LivenessApp: bound into session tokens, and the verdict
    /// issuer `liveness-api:<app>` when there is no public URL.
    #[arg(long, env = "LIVENESS_APP")]
    pub app: Option<String>,

    /// File with the session key: at least 32 raw bytes (head -c 32 /dev/urandom). Required.
    #[arg(long, env = "LIVENESS_SESSION_KEY_FILE")]
    pub session_key_file: Option<PathBuf>,

    /// PEM file with one or two PKCS#8 EC P-256 private keys signing verdicts (current
    /// first, previous after). Required.
    #[arg(long, env = "LIVENESS_SIGNING_KEY_FILE")]
    pub signing_key_file: Option<PathBuf>,

    /// Send the confidence score to the browser (AWS advises against it).
    #[arg(long, env = "LIVENESS_EXPOSE_CONFIDENCE", num_args = 0..=1, default_missing_value = "true")]
    pub expose_confidence: Option<bool>,

    /// Challenge preferences, in order, comma separated: FaceMovementAndLightChallenge,
    /// FaceMovementChallenge (no flashing lights). Default: AWS's choice.
    #[arg(long, env = "LIVENESS_CHALLENGES", value_delimiter = ',')]
    pub challenges: Vec<String>,

    /// Address of /metrics, a port the public Service does not expose (default 0.0.0.0:9090).
    #[arg(long, env = "LIVENESS_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Proxies (CIDRs or addresses, comma separated) whose X-Forwarded-For is believed;
    /// the client is the rightmost hop outside them. Default: none (the peer is the client).
    #[arg(long, env = "LIVENESS_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,

    /// Sessions one caller (user, or client IP with --auth none) may create per minute; 0
    /// turns the limit off.
    #[arg(long, env = "LIVENESS_CREATE_LIMIT_PER_MINUTE", default_value_t = DEFAULT_CREATES_PER_MINUTE)]
    pub create_limit_per_minute: u32,

    /// Seconds a connection may take to send a request's head before it is closed (1–30).
    #[arg(
        long,
        env = "LIVENESS_HEADER_READ_TIMEOUT_SECONDS",
        default_value_t = 10
    )]
    pub header_read_timeout_seconds: u64,

    /// Minutes a signed verdict stays valid (1–60).
    #[arg(long, env = "LIVENESS_VERDICT_LIFETIME_MINUTES", default_value_t = 5)]
    pub verdict_lifetime_minutes: u64,
}

/// The settings' fields this module reads.
pub struct FromSettings {
    pub app: Option<String>,
    pub auth: Option<AuthSettings>,
    pub expose_confidence: bool,
    pub session_key_file: Option<PathBuf>,
    pub signing_key_file: Option<PathBuf>,
    pub challenges: Vec<String>,
    pub metrics_listen: Option<SocketAddr>,
    pub trusted_proxies: Vec<String>,
}

/// The checked security configuration.
#[derive(Debug, Clone)]
pub struct Security {
    pub app: Option<String>,
    pub auth: AuthConfig,
    pub binding: std::sync::Arc<SessionBinding>,
    pub signer: std::sync::Arc<VerdictSigner>,
    pub expose_confidence: bool,
    pub challenges: Vec<String>,
    pub metrics_listen: SocketAddr,
    pub trusted_proxies: TrustedProxies,
    pub create_limit_per_minute: u32,
    pub header_read_timeout: Duration,
}

/// A list setting: the flag's values when given, else the settings' field; with where they
/// came from (`names`: the flag, its variable, the settings field), for problems.
fn list_setting(
    from_flag: Vec<String>,
    from_settings: Vec<String>,
    (flag, env, field): (&str, &str, &str),
) -> (Vec<String>, String) {
    let flag_given = !from_flag.is_empty();
    let origin = source(flag, env, flag_given, field);
    (if flag_given { from_flag } else { from_settings }, origin)
}

/// Reports one problem: where the value came from, what is wrong.
pub(super) type Problem<'a> = &'a mut dyn FnMut(String, String);

/// Checks the flags over the settings; `None` when something was wrong (reported).
pub fn check(
    args: SecurityArgs,
    settings: FromSettings,
    public_url: Option<&str>,
    problem: Problem<'_>,
) -> Option<Security> {
    let auth = super::auth::check(&args, settings.auth, problem);

    let app = args
        .app
        .or(settings.app)
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty());
    let key_from_flag = args.session_key_file.is_some();
    let key_source = source(
        "session-key-file",
        "LIVENESS_SESSION_KEY_FILE",
        key_from_flag || settings.session_key_file.is_none(),
        "sessionKeyFile",
    );
    let binding = match args.session_key_file.or(settings.session_key_file) {
        None => {
            problem(key_source, "required: a file with at least 32 random bytes that binds session tokens to their caller (head -c 32 /dev/urandom > session.key)".into());
            None
        }
        Some(path) => std::fs::read(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|key| SessionBinding::new(key, app.as_deref().unwrap_or_default()))
            .map_err(|why| problem(key_source, why))
            .ok(),
    };

    let issuer = match (public_url, &app) {
        (Some(url), _) => url.to_owned(),
        (None, Some(app)) => format!("liveness-api:{app}"),
        (None, None) => "liveness-api".to_owned(),
    };
    let lifetime_ok = (1..=60).contains(&args.verdict_lifetime_minutes);
    if !lifetime_ok {
        problem(
            "--verdict-lifetime-minutes / LIVENESS_VERDICT_LIFETIME_MINUTES".into(),
            format!(
                "{} is out of range: 1 to 60 minutes",
                args.verdict_lifetime_minutes
            ),
        );
    }
    let lifetime = Duration::from_secs(args.verdict_lifetime_minutes * 60);
    let signing_from_flag = args.signing_key_file.is_some();
    let signing_source = source(
        "signing-key-file",
        "LIVENESS_SIGNING_KEY_FILE",
        signing_from_flag || settings.signing_key_file.is_none(),
        "signingKeyFile",
    );
    let signer = match args.signing_key_file.or(settings.signing_key_file) {
        None => {
            problem(signing_source, "required: a PEM file with the PKCS#8 EC P-256 key that signs verdicts (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out verdict.pem)".into());
            None
        }
        Some(path) => std::fs::read(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|pem| {
                VerdictSigner::from_pem(&pem, &issuer, lifetime)
                    .map_err(|why| format!("{} {why}", path.display()))
            })
            .map_err(|why| problem(signing_source, why))
            .ok(),
    };

    let (raw, challenges_source) = list_setting(
        args.challenges,
        settings.challenges,
        ("challenges", "LIVENESS_CHALLENGES", "challenges"),
    );
    let mut challenges = Vec::new();
    for name in raw.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        match rules::challenge(name) {
            Ok(c) if !challenges.contains(&c.to_owned()) => challenges.push(c.to_owned()),
            Ok(c) => problem(challenges_source.clone(), format!("{c} is listed twice")),
            Err(why) => problem(challenges_source.clone(), why),
        }
    }

    let (raw, proxies_source) = list_setting(
        args.trusted_proxies,
        settings.trusted_proxies,
        (
            "trusted-proxies",
            "LIVENESS_TRUSTED_PROXIES",
            "trustedProxies",
        ),
    );
    let mut trusted = Vec::new();
    for raw in raw.iter().filter(|p| !p.trim().is_empty()) {
        match rules::proxy_network(raw) {
            Ok(net) => trusted.push(net),
            Err(why) => problem(proxies_source.clone(), why),
        }
    }
    if !(1..=MAX_HEADER_READ_TIMEOUT_SECS).contains(&args.header_read_timeout_seconds) {
        problem(
            "--header-read-timeout-seconds / LIVENESS_HEADER_READ_TIMEOUT_SECONDS".into(),
            format!(
                "{} is out of range: 1 to {MAX_HEADER_READ_TIMEOUT_SECS} seconds",
                args.header_read_timeout_seconds
            ),
        );
    }
    let metrics_listen = args
        .metrics_listen
        .or(settings.metrics_listen)
        .unwrap_or_else(|| DEFAULT_METRICS_LISTEN.parse().expect("a socket address"));

    Some(Security {
        app,
        auth: auth?,
        binding: std::sync::Arc::new(binding?),
        signer: std::sync::Arc::new(signer?),
        expose_confidence: args.expose_confidence.unwrap_or(settings.expose_confidence),
        challenges,
        metrics_listen,
        trusted_proxies: TrustedProxies::new(trusted),
        create_limit_per_minute: args.create_limit_per_minute,
        header_read_timeout: Duration::from_secs(args.header_read_timeout_seconds),
    })
}
