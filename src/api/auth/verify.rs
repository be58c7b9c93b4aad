//! One bearer token: its algorithm and key id read before anything is trusted, then the
//! signature and the claims checked with `jsonwebtoken`.
//!
//! Only asymmetric algorithms are accepted (RS256 alone for Cognito), so `alg: none` and an
//! HS256 token "signed" with the issuer's public key are refused before any key is used,
//! and a key is only ever used with the algorithm family it belongs to.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::jwks::Key;

/// Seconds of clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 30;

/// Why a token was refused; `code` is the short reason in the 401 body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Missing,
    Malformed,
    Algorithm,
    UnknownKey,
    Signature,
    Expired,
    NotYetValid,
    Issuer,
    Audience,
    TokenUse,
    Claims,
}

impl Reason {
    /// A stable short code (`expired`, `audience`, …).
    pub fn code(self) -> &'static str {
        match self {
            Reason::Missing => "missing",
            Reason::Malformed => "malformed",
            Reason::Algorithm => "algorithm",
            Reason::UnknownKey => "unknown_key",
            Reason::Signature => "signature",
            Reason::Expired => "expired",
            Reason::NotYetValid => "not_yet_valid",
            Reason::Issuer => "issuer",
            Reason::Audience => "audience",
            Reason::TokenUse => "token_use",
            Reason::Claims => "claims",
        }
    }

    /// What went wrong, for `error_description` and the body's message (no details of
    /// the token itself).
    pub fn description(self) -> &'static str {
        match self {
            Reason::Missing => "no bearer token: send Authorization: Bearer <token>",
            Reason::Malformed => "the token is not a well-formed JWT",
            Reason::Algorithm => "the token's signing algorithm is not accepted",
            Reason::UnknownKey => "the token is signed with a key the issuer does not publish",
            Reason::Signature => "the token's signature does not verify",
            Reason::Expired => "the token has expired",
            Reason::NotYetValid => "the token is not valid yet",
            Reason::Issuer => "the token is from another issuer",
            Reason::Audience => "the token is for another app client or audience",
            Reason::TokenUse => "the token is neither an ID nor an access token",
            Reason::Claims => "the token lacks a required claim",
        }
    }
}

/// Algorithms any OIDC issuer may use: asymmetric ones only.
const ASYMMETRIC: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// What a token must satisfy besides its signature.
#[derive(Debug, Clone)]
pub struct TokenRules {
    issuer: String,
    algorithms: Vec<Algorithm>,
    audience: Audience,
}

#[derive(Debug, Clone)]
enum Audience {
    /// Cognito: `aud` of ID tokens, `client_id` of access tokens, one of these.
    CognitoClients(Vec<String>),
    /// OIDC: `aud` holds one of these.
    Any(Vec<String>),
}

impl TokenRules {
    pub fn cognito(issuer: &str, client_ids: &[String]) -> Self {
        TokenRules {
            issuer: issuer.to_owned(),
            algorithms: vec![Algorithm::RS256],
            audience: Audience::CognitoClients(client_ids.to_vec()),
        }
    }

    pub fn oidc(issuer: &str, audiences: &[String]) -> Self {
        TokenRules {
            issuer: issuer.to_owned(),
            algorithms: ASYMMETRIC.to_vec(),
            audience: Audience::Any(audiences.to_vec()),
        }
    }
}

/// The claims the endpoint reads (the time and audience claims are checked by
/// `jsonwebtoken` from the raw payload).
#[derive(Debug, Deserialize)]
pub struct Claims {
    // Optional here so a missing claim is reported as such by the validation (which runs
    // after deserializing), not as a malformed token.
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    token_use: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    aud: Option<serde_json::Value>,
}

impl Claims {
    /// The issuer (always present after [`Unverified::verify`]).
    pub fn issuer(&self) -> &str {
        self.iss.as_deref().unwrap_or_default()
    }

    /// The subject (present and non-empty after [`Unverified::verify`]).
    pub fn subject(&self) -> &str {
        self.sub.as_deref().unwrap_or_default()
    }
}

/// A token whose header was read but nothing verified yet.
pub struct Unverified<'a> {
    token: &'a str,
    algorithm: Algorithm,
    kid: String,
}

#[derive(Deserialize)]
struct RawHeader {
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    kid: Option<String>,
}

impl<'a> Unverified<'a> {
    /// Reads the header: three segments, an accepted algorithm, a key id.
    pub fn parse(token: &'a str, rules: &TokenRules) -> Result<Self, Reason> {
        let mut parts = token.split('.');
        let (Some(header), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Reason::Malformed);
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| Reason::Malformed)?;
        let raw: RawHeader = serde_json::from_slice(&bytes).map_err(|_| Reason::Malformed)?;
        let algorithm = raw
            .alg
            .as_deref()
            .and_then(|a| a.parse::<Algorithm>().ok())
            .filter(|a| rules.algorithms.contains(a))
            .ok_or(Reason::Algorithm)?;
        let kid = raw
            .kid
            .filter(|k| !k.is_empty())
            .ok_or(Reason::UnknownKey)?;
        Ok(Unverified {
            token,
            algorithm,
            kid,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Checks the signature with `key` and every claim; returns the claims.
    pub fn verify(self, key: &Key, rules: &TokenRules) -> Result<Claims, Reason> {
        if !key.fits(self.algorithm) {
            return Err(Reason::Algorithm);
        }
        let mut validation = Validation::new(self.algorithm);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&rules.issuer]);
        let mut required = vec!["exp", "iss", "sub"];
        match &rules.audience {
            Audience::Any(audiences) => {
                validation.set_audience(audiences);
                required.push("aud");
            }
            // Cognito access tokens carry `client_id`, not `aud`: checked below.
            Audience::CognitoClients(_) => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        let data = jsonwebtoken::decode::<Claims>(self.token, key.decoding(), &validation)
            .map_err(|e| reason_of(e.kind()))?;
        let claims = data.claims;
        if claims.subject().is_empty() || claims.issuer().is_empty() {
            return Err(Reason::Claims);
        }
        if let Audience::CognitoClients(clients) = &rules.audience {
            let client = match claims.token_use.as_deref() {
                Some("id") => claims.aud.as_ref().and_then(|a| a.as_str()),
                Some("access") => claims.client_id.as_deref(),
                _ => return Err(Reason::TokenUse),
            };
            if !client.is_some_and(|c| clients.iter().any(|known| known == c)) {
                return Err(Reason::Audience);
            }
        }
        Ok(claims)
    }
}

fn reason_of(kind: &ErrorKind) -> Reason {
    match kind {
        ErrorKind::InvalidSignature => Reason::Signature,
        ErrorKind::ExpiredSignature => Reason::Expired,
        ErrorKind::ImmatureSignature => Reason::NotYetValid,
        ErrorKind::InvalidIssuer => Reason::Issuer,
        ErrorKind::InvalidAudience => Reason::Audience,
        ErrorKind::MissingRequiredClaim(_) | ErrorKind::InvalidSubject => Reason::Claims,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::InvalidKeyFormat
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidRsaKey(_) => Reason::Algorithm,
        _ => Reason::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    fn token(header: &str) -> String {
        format!("{}.{}.c2ln", segment(header), segment(r#"{"sub":"a"}"#))
    }

    #[test]
    fn only_the_accepted_algorithms_get_past_the_header() {
        let cognito = TokenRules::cognito("https://issuer", &["c".into()]);
        let oidc = TokenRules::oidc("https://issuer", &["a".into()]);
        for alg in ["none", "HS256", "ES256"] {
            let t = token(&format!(r#"{{"alg":"{alg}","kid":"k"}}"#));
            assert_eq!(
                Unverified::parse(&t, &cognito).err(),
                Some(Reason::Algorithm),
                "{alg}"
            );
        }
        let t = token(r#"{"alg":"HS256","kid":"k"}"#);
        assert_eq!(Unverified::parse(&t, &oidc).err(), Some(Reason::Algorithm));
        let t = token(r#"{"alg":"ES256","kid":"k"}"#);
        assert_eq!(Unverified::parse(&t, &oidc).unwrap().kid(), "k");
        let t = token(r#"{"alg":"RS256"}"#);
        assert_eq!(
            Unverified::parse(&t, &cognito).err(),
            Some(Reason::UnknownKey)
        );
    }

    #[test]
    fn anything_but_three_segments_is_malformed() {
        let rules = TokenRules::cognito("https://issuer", &[]);
        for t in ["", "a.b", "a.b.c.d", "!!.b.c"] {
            assert_eq!(
                Unverified::parse(t, &rules).err(),
                Some(Reason::Malformed),
                "{t}"
            );
        }
    }
}
