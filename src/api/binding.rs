//! Sessions bound to their caller without shared state between replicas.
//!
//! A Rekognition session id alone must not let anyone read its verdict: session ids travel
//! through browsers, logs and the streaming URL. So `POST /v1/sessions` also returns a
//! session token, an HMAC-SHA256 under the app's session key over (app, caller, session
//! id), and `GET /v1/sessions/{id}` needs that token from the same caller. Any replica with
//! the key can check it, so nothing is stored.
//!
//! The same key derives the `ClientRequestToken` sent to AWS from the caller and their
//! `Idempotency-Key`: two users who send the same key get two sessions, and one user's
//! retried request (React StrictMode's double effect) gets the same one.
//!
//! The key file holds the raw key bytes (at least [`MIN_KEY_BYTES`]); the operator mounts
//! it from the app's Secret. By hand: `head -c 32 /dev/urandom > session.key`.
//! Every MAC input is a sequence of length-prefixed fields behind a purpose label, so no
//! field can run into the next and a token of one kind is never valid as the other.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::auth::Caller;

/// Shortest session key accepted (the HMAC-SHA256 block of security it is meant to give).
pub const MIN_KEY_BYTES: usize = 32;

const SESSION_TOKEN_PURPOSE: &[u8] = b"liveness-api session token v1";
const REQUEST_TOKEN_PURPOSE: &[u8] = b"liveness-api client request token v1";

/// The per-app key and the app it binds sessions to.
#[derive(Clone)]
pub struct SessionBinding {
    /// HMAC-SHA256 keyed with the session key, before any input: every token starts from a
    /// copy, so the key schedule (two SHA-256 blocks) is done once, not per request.
    keyed: Hmac<Sha256>,
    app: String,
}

impl std::fmt::Debug for SessionBinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionBinding")
            .field("app", &self.app)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl SessionBinding {
    /// A binding with `key` (at least [`MIN_KEY_BYTES`]) for `app`.
    pub fn new(key: Vec<u8>, app: &str) -> Result<Self, String> {
        if key.len() < MIN_KEY_BYTES {
            return Err(format!(
                "the session key has {} bytes; it needs at least {MIN_KEY_BYTES} random bytes \
                 (e.g. head -c 32 /dev/urandom > session.key)",
                key.len()
            ));
        }
        Ok(SessionBinding {
            keyed: Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key"),
            app: app.to_owned(),
        })
    }

    fn mac(&self, purpose: &[u8], fields: &[&[u8]]) -> Hmac<Sha256> {
        let mut mac = self.keyed.clone();
        mac.update(purpose);
        for field in fields {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field);
        }
        mac
    }

    fn session_mac(&self, caller: &Caller, session_id: &str) -> Hmac<Sha256> {
        self.mac(
            SESSION_TOKEN_PURPOSE,
            &[
                self.app.as_bytes(),
                caller.issuer().as_bytes(),
                caller.subject().as_bytes(),
                session_id.as_bytes(),
            ],
        )
    }

    /// The token `POST /v1/sessions` returns with `session_id` (43 URL-safe characters).
    pub fn session_token(&self, caller: &Caller, session_id: &str) -> String {
        let tag = self.session_mac(caller, session_id).finalize().into_bytes();
        URL_SAFE_NO_PAD.encode(tag)
    }

    /// Whether `token` is the one issued to `caller` for `session_id` (constant time).
    pub fn verify_session_token(&self, caller: &Caller, session_id: &str, token: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(token.trim()) else {
            return false;
        };
        self.session_mac(caller, session_id)
            .verify_slice(&tag)
            .is_ok()
    }

    /// The `ClientRequestToken` for `idempotency_key` sent by the caller `scope` (see
    /// [`Caller`] and the create handler): 43 characters of `[A-Za-z0-9_-]`, within the 1–64
    /// AWS accepts.
    pub fn client_request_token(&self, scope: &[&str], idempotency_key: &str) -> String {
        let mut fields: Vec<&[u8]> = vec![self.app.as_bytes()];
        fields.extend(scope.iter().map(|s| s.as_bytes()));
        fields.push(idempotency_key.as_bytes());
        let tag = self
            .mac(REQUEST_TOKEN_PURPOSE, &fields)
            .finalize()
            .into_bytes();
        URL_SAFE_NO_PAD.encode(tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(app: &str) -> SessionBinding {
        SessionBinding::new(vec![7; 32], app).unwrap()
    }

    fn user(sub: &str) -> Caller {
        Caller::User {
            issuer: "https://issuer.example.com".into(),
            subject: sub.into(),
        }
    }

    #[test]
    fn a_session_token_is_valid_only_for_its_caller_session_and_app() {
        let b = binding("shop/checkout");
        let sid = "0b0c5f3e-1b2a-4c8e-9d6f-0a1b2c3d4e5f";
        let token = b.session_token(&user("alice"), sid);
        assert_eq!(token.len(), 43);
        assert!(b.verify_session_token(&user("alice"), sid, &token));
        assert!(!b.verify_session_token(&user("bob"), sid, &token));
        assert!(!b.verify_session_token(&Caller::Anonymous, sid, &token));
        let other_sid = "1b0c5f3e-1b2a-4c8e-9d6f-0a1b2c3d4e5f";
        assert!(!b.verify_session_token(&user("alice"), other_sid, &token));
        assert!(!binding("shop/other").verify_session_token(&user("alice"), sid, &token));
        assert!(!b.verify_session_token(&user("alice"), sid, "not base64!"));
        assert!(!b.verify_session_token(&user("alice"), sid, ""));
    }

    #[test]
    fn client_request_tokens_fit_aws_and_differ_per_caller() {
        let b = binding("shop/checkout");
        let alice = b.client_request_token(&["iss", "alice"], "mount-1");
        assert_eq!(alice, b.client_request_token(&["iss", "alice"], "mount-1"));
        assert_ne!(alice, b.client_request_token(&["iss", "bob"], "mount-1"));
        assert_ne!(alice, b.client_request_token(&["issalice", ""], "mount-1"));
        assert!((1..=64).contains(&alice.len()));
        assert!(
            alice
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn short_keys_are_refused_with_how_to_make_one() {
        let err = SessionBinding::new(vec![1; 16], "a").unwrap_err();
        assert!(err.contains("at least 32"), "{err}");
        assert!(err.contains("/dev/urandom"), "{err}");
        let debug = format!("{:?}", binding("a"));
        assert!(debug.contains("redacted"), "{debug}");
    }
}
