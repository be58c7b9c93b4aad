//! The signed verdict: what the app's backend trusts instead of the browser's word.
//!
//! `isLive` in a browser response proves nothing: the browser is the user's, and a user who
//! wants to pass can make the page (or a script) say `true`. So every finished session's
//! result also carries `verdict`, a compact JWS (ES256) issued by this service, naming the
//! caller (`sub`), the session (`sid`), `live` and `status`, valid for a few minutes. The
//! frontend hands it to the app's backend, which verifies it against
//! `GET /.well-known/jwks.json` (see examples/backend) and only then believes it.
//!
//! The signing key file is PEM with one or two PKCS#8 P-256 private keys: the current key
//! first (it signs), the previous one after it (still published, so verdicts signed just
//! before a rotation keep verifying). A key's `kid` is its RFC 7638 thumbprint, so it needs
//! no configuration and stays the same on every replica.
//!
//! Everything about a verdict that does not change between requests is done once, at
//! start: the key is parsed (and its public half checked) into a ready signer, and the JWS
//! header, which only names the algorithm and the `kid`, is encoded. `jsonwebtoken::encode`
//! would parse the PKCS#8 key again for every verdict, which was 40% of signing one
//! (bench/README.md). The signer is aws-lc's (already in the build for TLS), in its
//! fixed-width form: `r || s`, as JWS wants it (RFC 7518 section 3.4).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use super::auth::Caller;

/// Default lifetime of a verdict: long enough for the frontend to hand it to the backend.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// The statuses a verdict is issued for.
pub fn is_final(status: &str) -> bool {
    matches!(status, "SUCCEEDED" | "FAILED" | "EXPIRED")
}

struct SigningKey {
    kid: String,
    jwk: Jwk,
}

/// The current key, ready to sign: the parsed key pair and the encoded JWS header.
struct CurrentKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
    /// `base64url({"typ":"JWT","alg":"ES256","kid":…})`, the first part of every verdict.
    header: String,
}

/// A verdict could not be made (the key refused to sign, which the start-up check rules
/// out for a key that loaded).
#[derive(Debug)]
pub struct SignError(String);

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SignError {}

/// The verdict keys and the issuer name they sign as.
pub struct VerdictSigner {
    /// Current key first.
    keys: Vec<SigningKey>,
    current: CurrentKey,
    issuer: String,
    lifetime: Duration,
}

impl std::fmt::Debug for VerdictSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("VerdictSigner")
            .field("issuer", &self.issuer)
            .field("kids", &kids)
            .finish()
    }
}

/// The claims of a verdict.
#[derive(Debug, Serialize)]
pub struct VerdictClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub sid: &'a str,
    pub live: bool,
    pub status: &'a str,
    pub iat: u64,
    pub exp: u64,
}

impl VerdictSigner {
    /// Parses `pem` (one or two PKCS#8 P-256 private keys, the current first).
    pub fn from_pem(pem: &[u8], issuer: &str, lifetime: Duration) -> Result<Self, String> {
        let blocks = pem::parse_many(pem).map_err(|e| format!("is not PEM ({e})"))?;
        if blocks.is_empty() || blocks.len() > 2 {
            return Err(format!(
                "holds {} PEM blocks; it must hold one or two PKCS#8 EC P-256 private keys \
                 (current first, previous after)",
                blocks.len()
            ));
        }
        let mut keys = Vec::new();
        let mut current = None;
        for (i, block) in blocks.iter().enumerate() {
            let which = if i == 0 { "first" } else { "second" };
            if block.tag() != "PRIVATE KEY" {
                return Err(format!(
                    "the {which} block is {:?}, not a PKCS#8 \"PRIVATE KEY\" (convert with \
                     openssl pkcs8 -topk8 -nocrypt)",
                    block.tag()
                ));
            }
            let encoding = EncodingKey::from_ec_der(block.contents());
            let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::ES256).map_err(|e| {
                format!(
                    "the {which} key is not an EC P-256 private key ({e}); make one with \
                     openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256"
                )
            })?;
            let kid = jwk
                .thumbprint(ThumbprintHash::SHA256)
                .map_err(|e| format!("the {which} key has no thumbprint ({e})"))?;
            jwk.common.key_id = Some(kid.clone());
            jwk.common.public_key_use = Some(PublicKeyUse::Signature);
            if i == 0 {
                current = Some(CurrentKey::new(block.contents(), &kid)?);
            }
            keys.push(SigningKey { kid, jwk });
        }
        let current = current.expect("the first block is the current key");
        // Signing once proves the key works before the service takes traffic.
        let signer = VerdictSigner {
            keys,
            current,
            issuer: issuer.to_owned(),
            lifetime,
        };
        signer
            .sign(&Caller::Anonymous, "startup-check", false, "FAILED")
            .map_err(|e| format!("cannot sign with the first key ({e})"))?;
        Ok(signer)
    }

    /// The `iss` of verdicts.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `kid` of the current key.
    pub fn current_kid(&self) -> &str {
        &self.keys[0].kid
    }

    /// A verdict about `session_id` for `caller`.
    pub fn sign(
        &self,
        caller: &Caller,
        session_id: &str,
        live: bool,
        status: &str,
    ) -> Result<String, SignError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = VerdictClaims {
            iss: &self.issuer,
            sub: caller.subject(),
            sid: session_id,
            live,
            status,
            iat: now,
            exp: now + self.lifetime.as_secs(),
        };
        let claims = serde_json::to_vec(&claims).map_err(|e| SignError(e.to_string()))?;
        // header.claims.signature, each part base64url without padding (RFC 7515 compact).
        let header = &self.current.header;
        let claims_len = base64::encoded_len(claims.len(), false).unwrap_or_default();
        let mut jws = String::with_capacity(header.len() + claims_len + 88);
        jws.push_str(header);
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims, &mut jws);
        let signature = self
            .current
            .pair
            .sign(&self.current.rng, jws.as_bytes())
            .map_err(|_| SignError("the verdict key refused to sign".into()))?;
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut jws);
        Ok(jws)
    }

    /// The body of `GET /.well-known/jwks.json`: the public half of every key.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<&Jwk> = self.keys.iter().map(|k| &k.jwk).collect();
        serde_json::json!({ "keys": keys })
    }
}

impl CurrentKey {
    /// Parses the PKCS#8 `der` (checked to be P-256 already) and encodes the header naming
    /// `kid`, as `jsonwebtoken::encode` would write it.
    fn new(der: &[u8], kid: &str) -> Result<Self, String> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
            .map_err(|_| "the first key cannot sign ES256 (it must be an EC P-256 private key)")?;
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.to_owned());
        let header = serde_json::to_vec(&header).map_err(|e| e.to_string())?;
        Ok(CurrentKey {
            pair,
            rng: SystemRandom::new(),
            header: URL_SAFE_NO_PAD.encode(header),
        })
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation};

    use super::*;

    fn pem_key() -> String {
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .unwrap()
            .serialize_pem()
    }

    #[test]
    fn verdicts_verify_with_the_published_current_key_and_name_the_caller() {
        let (current, previous) = (pem_key(), pem_key());
        let both = format!("{current}{previous}");
        let signer = VerdictSigner::from_pem(
            both.as_bytes(),
            "liveness-api:shop/checkout",
            DEFAULT_LIFETIME,
        )
        .unwrap();
        let jwks = signer.jwks();
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 2, "current and previous");
        assert_eq!(keys[0]["kid"], signer.current_kid());
        assert_eq!(keys[0]["alg"], "ES256");
        assert!(keys[0].get("d").is_none(), "no private part: {jwks}");

        let alice = Caller::User {
            issuer: "https://issuer.example.com".into(),
            subject: "alice".into(),
        };
        let token = signer.sign(&alice, "sid-1", true, "SUCCEEDED").unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(signer.current_kid()));
        let jwk: Jwk = serde_json::from_value(keys[0].clone()).unwrap();
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&["liveness-api:shop/checkout"]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &DecodingKey::from_jwk(&jwk).unwrap(),
            &validation,
        )
        .unwrap();
        let c = data.claims;
        assert_eq!(
            (c["sub"].as_str(), c["sid"].as_str()),
            (Some("alice"), Some("sid-1"))
        );
        assert_eq!(
            (c["live"].as_bool(), c["status"].as_str()),
            (Some(true), Some("SUCCEEDED"))
        );
        assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 300);
    }

    #[test]
    fn every_verdict_verifies_and_keeps_the_header_jsonwebtoken_writes() {
        let pem = pem_key();
        let signer = VerdictSigner::from_pem(pem.as_bytes(), "i", DEFAULT_LIFETIME).unwrap();
        let jwk: Jwk = serde_json::from_value(signer.jwks()["keys"][0].clone()).unwrap();
        let key = DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&["i"]);
        // Enough signatures that some have an r or s with leading zero bytes (about 1 in
        // 128), which must keep their full 32 bytes each.
        for i in 0..600 {
            let token = signer.sign(&Caller::Anonymous, &format!("sid-{i}"), false, "FAILED");
            let token = token.unwrap();
            jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation)
                .unwrap_or_else(|e| panic!("verdict {i} does not verify ({e}): {token}"));
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(signer.current_kid().to_owned());
        let block = pem::parse(&pem).unwrap();
        let theirs =
            jsonwebtoken::encode(&header, &1, &EncodingKey::from_ec_der(block.contents())).unwrap();
        let ours = signer
            .sign(&Caller::Anonymous, "s", true, "SUCCEEDED")
            .unwrap();
        assert_eq!(ours.split('.').next(), theirs.split('.').next());
    }

    #[test]
    fn key_files_that_are_not_pkcs8_p256_are_refused_saying_how_to_fix_them() {
        let err = VerdictSigner::from_pem(b"nothing here", "i", DEFAULT_LIFETIME).unwrap_err();
        assert!(err.contains("one or two"), "{err}");
        let three = format!("{}{}{}", pem_key(), pem_key(), pem_key());
        assert!(VerdictSigner::from_pem(three.as_bytes(), "i", DEFAULT_LIFETIME).is_err());
        let rsa_like = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
        let err = VerdictSigner::from_pem(rsa_like.as_bytes(), "i", DEFAULT_LIFETIME).unwrap_err();
        assert!(err.contains("openssl pkcs8"), "{err}");
        let ed = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)
            .unwrap()
            .serialize_pem();
        let err = VerdictSigner::from_pem(ed.as_bytes(), "i", DEFAULT_LIFETIME).unwrap_err();
        assert!(err.contains("P-256"), "{err}");
        assert!(is_final("EXPIRED") && !is_final("IN_PROGRESS"));
    }
}
