//! A local OpenID Connect issuer the tests run themselves: axum on 127.0.0.1 serving the
//! discovery document and a JWKS, signing ES256 tokens with a key made at start. It also
//! makes the bad tokens a forger would try (expired, other audience, `alg: none`, HS256
//! with the public key, an unpublished key).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The audience (client id) the issuer's good tokens are for.
pub const AUDIENCE: &str = "liveness-web";

/// A signing key with its published JWK.
pub struct SigningKey {
    pub encoding: EncodingKey,
    pub jwk: Jwk,
    pub kid: String,
    /// The public key as PEM text (what an HS256 forger would use as the secret).
    pub public_pem: String,
}

impl SigningKey {
    pub fn generate() -> Self {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let encoding = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap();
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::ES256).unwrap();
        let kid = jwk.thumbprint(ThumbprintHash::SHA256).unwrap();
        jwk.common.key_id = Some(kid.clone());
        SigningKey {
            encoding,
            jwk,
            kid,
            public_pem: pair.public_key_pem(),
        }
    }
}

/// A running issuer; stops when dropped.
pub struct Issuer {
    /// The issuer URL (`iss`), `http://127.0.0.1:<port>`.
    pub url: String,
    pub key: SigningKey,
    /// The JWKS it serves (the key first; [`Issuer::publish`] adds more).
    published: Arc<Mutex<Vec<Jwk>>>,
    /// How often its JWKS was fetched.
    fetches: Arc<AtomicUsize>,
    _stop: oneshot::Sender<()>,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Issuer {
    pub async fn start() -> Issuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let key = SigningKey::generate();
        let discovery = json!({
            "issuer": url,
            "jwks_uri": format!("{url}/keys"),
            "id_token_signing_alg_values_supported": ["ES256"],
        });
        let published = Arc::new(Mutex::new(vec![key.jwk.clone()]));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (keys, count) = (published.clone(), fetches.clone());
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || async move { Json(discovery) }),
            )
            .route(
                "/keys",
                get(move || async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    Json(json!({ "keys": *keys.lock().unwrap() }))
                }),
            );
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Issuer {
            url,
            key,
            published,
            fetches,
            _stop: stop,
        }
    }

    /// Adds `key` to the JWKS (a rotation: the new key is published beside the old).
    pub fn publish(&self, key: &SigningKey) {
        self.published.lock().unwrap().push(key.jwk.clone());
    }

    /// How often the JWKS was fetched so far.
    pub fn jwks_fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// The flags that make liveness-api accept this issuer's tokens (JWKS by discovery).
    pub fn flags(&self) -> Vec<String> {
        vec![
            "--auth=oidc".into(),
            format!("--oidc-issuer={}", self.url),
            format!("--oidc-audiences={AUDIENCE}"),
        ]
    }

    /// The claims of a good token for `sub`.
    pub fn claims(&self, sub: &str) -> Value {
        let now = now();
        json!({
            "iss": self.url,
            "sub": sub,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 600,
        })
    }

    /// A good token for `sub`.
    pub fn token(&self, sub: &str) -> String {
        self.sign(&self.claims(sub))
    }

    /// `claims` signed with the issuer's key.
    pub fn sign(&self, claims: &Value) -> String {
        sign_with(&self.key, claims)
    }
}

/// `claims` signed ES256 with `key`, its `kid` in the header.
pub fn sign_with(key: &SigningKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

/// An unsigned token (`alg: none`) with `claims`.
pub fn unsigned(kid: &str, claims: &Value) -> String {
    let header = json!({ "alg": "none", "typ": "JWT", "kid": kid });
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// `claims` "signed" HS256 with `secret` (e.g. the issuer's public key).
pub fn hs256(kid: &str, secret: &[u8], claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    let key = EncodingKey::from_secret(secret).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// `token` with its payload replaced by `claims` and the old signature kept.
pub fn with_payload(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    )
}
