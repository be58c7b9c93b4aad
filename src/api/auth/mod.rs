//! Who is calling: the caller of every session route is authenticated here, per app.
//!
//! A public endpoint that creates Face Liveness sessions on the app's AWS bill and reports
//! verdicts must know whom a session belongs to. The app chooses how callers prove it
//! ([`AuthConfig`]): a Cognito user pool's ID or access token, any OpenID Connect issuer's
//! token, or nobody at all (guest apps, limited per client IP instead). The caller's
//! identity is the pair (issuer, `sub`); sessions, idempotency keys and verdicts are bound
//! to it.
//!
//! Every refusal is a 401 with `WWW-Authenticate: Bearer error="invalid_token"` and a
//! short [`Reason`]; what exactly failed inside (a key id, a claim's value) goes to the
//! debug log only, so a forger learns nothing beyond the reason.
//!
//! - [`jwks`]: the issuer's signing keys, fetched and cached, refreshed on unknown key ids;
//! - [`verify`]: signature and claims of one token.

pub mod jwks;
pub mod verify;

use axum::http::{HeaderMap, header};

pub use verify::Reason;

use jwks::Jwks;
use verify::{TokenRules, Unverified};

/// How callers authenticate, validated (from `--auth` or the settings' `auth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthConfig {
    /// ID or access tokens of a Cognito user pool.
    Cognito {
        user_pool_id: String,
        /// `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`.
        issuer: String,
        /// App clients whose tokens are accepted.
        client_ids: Vec<String>,
        /// The pool's JWKS (`<issuer>/.well-known/jwks.json` unless configured).
        jwks_url: String,
    },
    /// Tokens of any OpenID Connect issuer.
    Oidc {
        issuer: String,
        audiences: Vec<String>,
        /// Without it the JWKS is found through the issuer's discovery document.
        jwks_url: Option<String>,
    },
    /// Anyone; limits apply per client IP.
    None,
}

impl AuthConfig {
    /// The mode's name, as `--auth` spells it.
    pub fn mode(&self) -> &'static str {
        match self {
            AuthConfig::Cognito { .. } => "cognito",
            AuthConfig::Oidc { .. } => "oidc",
            AuthConfig::None => "none",
        }
    }
}

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// A user signed in with the app's issuer.
    User { issuer: String, subject: String },
    /// Nobody in particular (`--auth none`).
    Anonymous,
}

impl Caller {
    /// The subject named in verdicts (`sub`): the token's `sub`, or `anonymous`.
    pub fn subject(&self) -> &str {
        match self {
            Caller::User { subject, .. } => subject,
            Caller::Anonymous => "anonymous",
        }
    }

    /// The issuer of the caller's token (empty for anonymous callers).
    pub fn issuer(&self) -> &str {
        match self {
            Caller::User { issuer, .. } => issuer,
            Caller::Anonymous => "",
        }
    }
}

/// Why a request was not let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The token is missing or not acceptable: 401.
    Refused(Reason),
    /// The issuer's keys cannot be had right now: 503, the token may be fine.
    KeysUnavailable,
}

impl From<Reason> for AuthError {
    fn from(reason: Reason) -> Self {
        AuthError::Refused(reason)
    }
}

/// Checks callers as the app configured.
pub struct Authenticator {
    mode: Mode,
}

enum Mode {
    Tokens { rules: TokenRules, jwks: Box<Jwks> },
    Anonymous,
}

impl Authenticator {
    /// An authenticator for `config`; keys are fetched on first use.
    pub fn new(config: &AuthConfig) -> Self {
        let mode = match config {
            AuthConfig::Cognito {
                issuer,
                client_ids,
                jwks_url,
                ..
            } => Mode::Tokens {
                rules: TokenRules::cognito(issuer, client_ids),
                jwks: Box::new(Jwks::at(jwks_url)),
            },
            AuthConfig::Oidc {
                issuer,
                audiences,
                jwks_url,
            } => Mode::Tokens {
                rules: TokenRules::oidc(issuer, audiences),
                jwks: Box::new(match jwks_url {
                    Some(url) => Jwks::at(url),
                    None => Jwks::discovered(issuer),
                }),
            },
            AuthConfig::None => Mode::Anonymous,
        };
        Authenticator { mode }
    }

    /// The caller of a request with `headers`.
    pub async fn caller(&self, headers: &HeaderMap) -> Result<Caller, AuthError> {
        let (rules, jwks) = match &self.mode {
            Mode::Anonymous => return Ok(Caller::Anonymous),
            Mode::Tokens { rules, jwks } => (rules, jwks),
        };
        let token = bearer_token(headers)?;
        let unverified = Unverified::parse(token, rules)?;
        let key = match jwks.key(unverified.kid()).await {
            Ok(Some(key)) => key,
            Ok(None) => return Err(Reason::UnknownKey.into()),
            Err(why) => {
                tracing::warn!(error = %why, "cannot fetch the token issuer's keys");
                return Err(AuthError::KeysUnavailable);
            }
        };
        let claims = unverified.verify(&key, rules)?;
        Ok(Caller::User {
            issuer: claims.issuer().to_owned(),
            subject: claims.subject().to_owned(),
        })
    }
}

/// The token of `Authorization: Bearer <token>`.
fn bearer_token(headers: &HeaderMap) -> Result<&str, Reason> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(Reason::Missing)?
        .to_str()
        .map_err(|_| Reason::Malformed)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(Reason::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Reason::Missing);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(Reason::Missing);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn the_bearer_token_is_taken_from_the_authorization_header() {
        assert_eq!(
            bearer_token(&with_authorization("Bearer abc.def.ghi")),
            Ok("abc.def.ghi")
        );
        assert_eq!(bearer_token(&with_authorization("bearer  abc ")), Ok("abc"));
        assert_eq!(bearer_token(&HeaderMap::new()), Err(Reason::Missing));
        assert_eq!(
            bearer_token(&with_authorization("Basic dXNlcg==")),
            Err(Reason::Missing)
        );
        assert_eq!(
            bearer_token(&with_authorization("Bearer ")),
            Err(Reason::Missing)
        );
    }

    #[tokio::test]
    async fn anonymous_apps_let_everyone_in_as_anonymous() {
        let auth = Authenticator::new(&AuthConfig::None);
        let caller = auth
            .caller(&with_authorization("Bearer junk"))
            .await
            .unwrap();
        assert_eq!(caller, Caller::Anonymous);
        assert_eq!(caller.subject(), "anonymous");
    }
}
