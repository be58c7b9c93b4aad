//! The token issuer's public keys (its JWKS), fetched over HTTPS and cached.
//!
//! Keys are looked up by `kid`. An unknown `kid` makes the cache fetch the JWKS again (the
//! issuer may have rotated), but at most once per [`MIN_REFRESH`], so tokens with made-up
//! key ids cannot turn the endpoint into a request amplifier against the issuer; keys are
//! also refreshed when older than [`MAX_AGE`]. Fetches are single-flight (one lock), and a
//! failed fetch keeps the keys already known.
//!
//! Only signature keys of the asymmetric types (RSA, EC, OKP) are kept: a symmetric `oct`
//! key in a JWKS could otherwise verify an HS256 token forged with published material.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use tokio::sync::Mutex;

/// Least time between two fetches caused by unknown key ids.
pub const MIN_REFRESH: Duration = Duration::from_secs(5);
/// Keys older than this are fetched again on the next use.
pub const MAX_AGE: Duration = Duration::from_secs(3600);
/// Budget of one JWKS or discovery request.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest JWKS or discovery document read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// One verification key.
#[derive(Clone)]
pub struct Key {
    decoding: DecodingKey,
    /// The `alg` the JWKS pins the key to, if it does.
    algorithm: Option<Algorithm>,
}

impl Key {
    pub fn decoding(&self) -> &DecodingKey {
        &self.decoding
    }

    /// Whether the key may verify a token signed with `algorithm`.
    pub fn fits(&self, algorithm: Algorithm) -> bool {
        self.decoding.family() == algorithm.family()
            && self.algorithm.is_none_or(|pinned| pinned == algorithm)
    }
}

/// Where the keys come from.
enum Source {
    /// A JWKS URL.
    Url(String),
    /// The `jwks_uri` of `<issuer>/.well-known/openid-configuration`.
    Discovery { issuer: String },
}

#[derive(Default)]
struct State {
    keys: HashMap<String, Key>,
    fetched: Option<Instant>,
    attempted: Option<Instant>,
    jwks_uri: Option<String>,
}

/// A JWKS cache.
pub struct Jwks {
    source: Source,
    http: reqwest::Client,
    state: Mutex<State>,
}

impl Jwks {
    /// Keys from the JWKS at `url`.
    pub fn at(url: &str) -> Self {
        Self::new(Source::Url(url.to_owned()))
    }

    /// Keys found through `issuer`'s OpenID Connect discovery document.
    pub fn discovered(issuer: &str) -> Self {
        Self::new(Source::Discovery {
            issuer: issuer.trim_end_matches('/').to_owned(),
        })
    }

    fn new(source: Source) -> Self {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client with default TLS");
        Jwks {
            source,
            http,
            state: Mutex::new(State::default()),
        }
    }

    /// The key `kid`; `Ok(None)` when the issuer does not publish it, `Err` when its keys
    /// could not be fetched at all.
    pub async fn key(&self, kid: &str) -> Result<Option<Key>, String> {
        let mut state = self.state.lock().await;
        let stale = state.fetched.is_none_or(|t| t.elapsed() >= MAX_AGE);
        if !stale && let Some(key) = state.keys.get(kid) {
            return Ok(Some(key.clone()));
        }
        let may_fetch = state.attempted.is_none_or(|t| t.elapsed() >= MIN_REFRESH);
        if may_fetch {
            state.attempted = Some(Instant::now());
            match self.fetch(&mut state).await {
                Ok(keys) => {
                    tracing::info!(keys = keys.len(), "fetched the token issuer's keys");
                    state.keys = keys;
                    state.fetched = Some(Instant::now());
                }
                Err(why) if state.fetched.is_none() => return Err(why),
                Err(why) => tracing::warn!(error = %why, "keeping the known token keys"),
            }
        } else if state.fetched.is_none() {
            return Err("the last attempt to fetch the keys failed".into());
        }
        Ok(state.keys.get(kid).cloned())
    }

    async fn fetch(&self, state: &mut State) -> Result<HashMap<String, Key>, String> {
        let url = match (&self.source, &state.jwks_uri) {
            (Source::Url(url), _) => url.clone(),
            (Source::Discovery { .. }, Some(uri)) => uri.clone(),
            (Source::Discovery { issuer }, None) => {
                let uri = self.discover(issuer).await?;
                state.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let document: JwkSetDocument = self.get_json(&url).await?;
        Ok(usable_keys(document))
    }

    async fn discover(&self, issuer: &str) -> Result<String, String> {
        #[derive(Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let url = format!("{issuer}/.well-known/openid-configuration");
        let doc: Discovery = self.get_json(&url).await?;
        if doc.issuer.trim_end_matches('/') != issuer {
            return Err(format!(
                "{url} names the issuer {:?}, not {issuer:?}",
                doc.issuer
            ));
        }
        crate::rules::token_url(&doc.jwks_uri).map_err(|why| format!("{url}: jwks_uri {why}"))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let response = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: HTTP {}", response.status()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(format!("GET {url}: the document is too large"));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if body.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("GET {url}: the document is too large"));
        }
        serde_json::from_slice(&body).map_err(|e| format!("GET {url}: not the expected JSON ({e})"))
    }
}

#[derive(Deserialize)]
struct JwkSetDocument {
    keys: Vec<serde_json::Value>,
}

/// The signature keys of a JWKS that have a `kid` and an asymmetric type; others are
/// skipped one by one (a JWKS may hold keys of types this service does not know).
fn usable_keys(document: JwkSetDocument) -> HashMap<String, Key> {
    let mut keys = HashMap::new();
    for value in document.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        let Some(kid) = jwk.common.key_id.clone().filter(|k| !k.is_empty()) else {
            continue;
        };
        if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
            continue;
        }
        let algorithm = match jwk.common.key_algorithm {
            Some(a) => match a.to_string().parse::<Algorithm>() {
                Ok(a) => Some(a),
                Err(_) => continue,
            },
            None => None,
        };
        let Ok(decoding) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        if decoding.family() == jsonwebtoken::AlgorithmFamily::Hmac {
            continue;
        }
        keys.insert(
            kid,
            Key {
                decoding,
                algorithm,
            },
        );
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_keys_and_keys_without_an_id_are_not_kept() {
        let document: JwkSetDocument = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "oct", "kid": "shared", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ"},
            {"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "ec1",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "EC", "crv": "P-256", "use": "enc", "kid": "encryption",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "XYZ", "kid": "future"}
        ]}))
        .unwrap();
        let keys = usable_keys(document);
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["ec1"]);
        let key = &keys["ec1"];
        assert!(key.fits(Algorithm::ES256));
        assert!(!key.fits(Algorithm::ES384), "pinned to its alg");
        assert!(!key.fits(Algorithm::HS256));
        assert!(!key.fits(Algorithm::RS256));
    }
}
