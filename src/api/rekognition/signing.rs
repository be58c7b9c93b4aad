//! SigV4 for the two requests the service sends, with what does not change between them
//! done once.
//!
//! Both are a `POST` to the endpoint's root with the same signed headers (`content-type`,
//! `host`, `x-amz-date`, `x-amz-security-token` with temporary credentials, `x-amz-target`):
//! one request differs from the next only in its time, target and body. aws-sigv4's `sign`
//! handles any request, so it copies the headers into a map, formats the canonical request
//! and the string to sign as strings, and derives the signing key (four HMACs) every time:
//! 66 of the 274 allocations a results read made (heaptrack, bench/README.md). Here the
//! canonical request is hashed as it is written, without a buffer, and the signing key is
//! kept for its day and access key. The key derivation and the signature are aws-sigv4's
//! own functions, and a test signs the same requests with aws-sigv4's `sign` and requires
//! the same headers.
//!
//! An endpoint with a path of its own (`AWS_ENDPOINT_URL=https://proxy/rekognition`) or a
//! session token that SigV4 would normalize is signed with aws-sigv4's `sign`.

use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use chrono::{DateTime, Datelike, Timelike, Utc};
use reqwest::header::HeaderValue;
use sha2::{Digest, Sha256};

use crate::fingerprint::Fingerprint;

/// The SigV4 signing name of Rekognition.
const SERVICE: &str = "rekognition";
pub(super) const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
pub(super) const X_AMZ_TARGET: &str = "x-amz-target";
const X_AMZ_DATE: &str = "x-amz-date";
const X_AMZ_SECURITY_TOKEN: &str = "x-amz-security-token";

/// The headers a signature adds to a request.
#[derive(Debug, PartialEq)]
pub(super) struct Signature {
    pub date: HeaderValue,
    pub authorization: HeaderValue,
    pub security_token: Option<HeaderValue>,
}

impl Signature {
    /// Adds the headers to `headers`.
    pub fn apply(self, headers: &mut reqwest::header::HeaderMap) {
        headers.insert(X_AMZ_DATE, self.date);
        headers.insert(reqwest::header::AUTHORIZATION, self.authorization);
        if let Some(token) = self.security_token {
            headers.insert(X_AMZ_SECURITY_TOKEN, token);
        }
    }
}

/// Signs requests to one endpoint in one region.
pub(super) struct Signer {
    endpoint: String,
    region: String,
    /// The `host` header as hyper sends it (the port only when not the scheme's default);
    /// `None` when the endpoint has a path, which only aws-sigv4's `sign` handles.
    root_host: Option<String>,
    day_key: RwLock<Option<Arc<DayKey>>>,
}

/// The signing key of one day and access key, and its credential scope.
struct DayKey {
    /// `YYYYMMDD`.
    day: String,
    /// Of the access key id and its secret.
    credentials: Fingerprint,
    /// `YYYYMMDD/<region>/rekognition/aws4_request`.
    scope: String,
    key: Vec<u8>,
}

impl Signer {
    pub fn new(endpoint: &url::Url, region: &str) -> Self {
        let root_host = match (endpoint.path(), endpoint.query(), endpoint.host_str()) {
            ("" | "/", None, Some(host)) => Some(match endpoint.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            }),
            _ => None,
        };
        Signer {
            endpoint: endpoint.as_str().to_owned(),
            region: region.to_owned(),
            root_host,
            day_key: RwLock::new(None),
        }
    }

    /// The signature of a `POST` of `body` with `X-Amz-Target: target`, made at `time`.
    pub fn sign(
        &self,
        identity: &Identity,
        target: &'static str,
        body: &[u8],
        time: SystemTime,
    ) -> Result<Signature, String> {
        let credentials = identity
            .data::<Credentials>()
            .ok_or("the identity holds no AWS credentials")?;
        let token = credentials.session_token();
        match &self.root_host {
            Some(host) if token.is_none_or(is_canonical_value) => {
                self.sign_root(host, credentials, target, body, time)
            }
            _ => self.sign_any(identity, target, body, time),
        }
    }

    fn sign_root(
        &self,
        host: &str,
        credentials: &Credentials,
        target: &str,
        body: &[u8],
        time: SystemTime,
    ) -> Result<Signature, String> {
        let date_time = amz_date_time(time);
        let day_key = self.day_key(&date_time[..8], credentials, time);
        let token = credentials.session_token();
        let signed_headers = if token.is_some() {
            "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
        } else {
            "content-type;host;x-amz-date;x-amz-target"
        };

        let mut canonical = Sha256::new();
        for part in [
            "POST\n/\n\ncontent-type:",
            CONTENT_TYPE,
            "\nhost:",
            host,
            "\nx-amz-date:",
            &date_time,
            "\n",
        ] {
            canonical.update(part);
        }
        if let Some(token) = token {
            for part in ["x-amz-security-token:", token, "\n"] {
                canonical.update(part);
            }
        }
        for part in ["x-amz-target:", target, "\n\n", signed_headers, "\n"] {
            canonical.update(part);
        }
        canonical.update(hex_of(&Sha256::digest(body)));

        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{date_time}\n{}\n{}",
            day_key.scope,
            std::str::from_utf8(&hex_of(&canonical.finalize())).unwrap_or_default()
        );
        let signature = v4::calculate_signature(&day_key.key, string_to_sign.as_bytes());
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key_id(),
            day_key.scope,
        );
        Ok(Signature {
            date: header_value(date_time)?,
            authorization: sensitive(header_value(authorization)?),
            security_token: token
                .map(|t| HeaderValue::from_str(t).map(sensitive))
                .transpose()
                .map_err(|e| format!("the session token is not a header value: {e}"))?,
        })
    }

    /// The day's signing key for `credentials`, derived once per day and access key.
    fn day_key(&self, day: &str, credentials: &Credentials, time: SystemTime) -> Arc<DayKey> {
        let fingerprint =
            Fingerprint::of([credentials.access_key_id(), credentials.secret_access_key()]);
        let cached = self.day_key.read().unwrap_or_else(|p| p.into_inner());
        if let Some(key) = cached
            .as_ref()
            .filter(|k| k.day == day && k.credentials == fingerprint)
        {
            return key.clone();
        }
        drop(cached);
        let key = Arc::new(DayKey {
            day: day.to_owned(),
            credentials: fingerprint,
            scope: format!("{day}/{}/{SERVICE}/aws4_request", self.region),
            key: v4::generate_signing_key(
                credentials.secret_access_key(),
                time,
                &self.region,
                SERVICE,
            )
            .as_ref()
            .to_vec(),
        });
        *self.day_key.write().unwrap_or_else(|p| p.into_inner()) = Some(key.clone());
        key
    }

    /// aws-sigv4's general signer, for what [`Self::sign_root`] does not cover.
    fn sign_any(
        &self,
        identity: &Identity,
        target: &str,
        body: &[u8],
        time: SystemTime,
    ) -> Result<Signature, String> {
        let params = v4::SigningParams::builder()
            .identity(identity)
            .region(&self.region)
            .name(SERVICE)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let headers = [("content-type", CONTENT_TYPE), (X_AMZ_TARGET, target)];
        let signable = SignableRequest::new(
            "POST",
            &self.endpoint,
            headers.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| e.to_string())?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| e.to_string())?
            .into_parts();
        let mut date = None;
        let mut authorization = None;
        let mut security_token = None;
        for (name, value) in instructions.headers() {
            let slot = match name {
                X_AMZ_DATE => &mut date,
                "authorization" => &mut authorization,
                X_AMZ_SECURITY_TOKEN => &mut security_token,
                other => return Err(format!("aws-sigv4 added an unexpected header {other}")),
            };
            *slot = Some(sensitive(
                HeaderValue::from_str(value).map_err(|e| format!("{name}: {e}"))?,
            ));
        }
        Ok(Signature {
            date: date.ok_or("aws-sigv4 added no x-amz-date")?,
            authorization: authorization.ok_or("aws-sigv4 added no authorization")?,
            security_token,
        })
    }
}

/// `YYYYMMDDTHHMMSSZ`, in UTC.
fn amz_date_time(time: SystemTime) -> String {
    let t = DateTime::<Utc>::from(time);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A header value that SigV4 signs as it is: no surrounding or repeated spaces.
fn is_canonical_value(value: &str) -> bool {
    value.trim() == value && !value.contains("  ") && !value.contains(['\t', '\n', '\r'])
}

fn hex_of(digest: &[u8]) -> [u8; 64] {
    let mut hex = [0; 64];
    hex::encode_to_slice(digest, &mut hex).expect("a SHA-256 digest is 32 bytes");
    hex
}

fn header_value(value: String) -> Result<HeaderValue, String> {
    HeaderValue::try_from(value).map_err(|e| e.to_string())
}

fn sensitive(mut value: HeaderValue) -> HeaderValue {
    value.set_sensitive(true);
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn identity(token: Option<&str>) -> Identity {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(str::to_owned),
            None,
            "test",
        )
        .into()
    }

    const TARGET: &str = "RekognitionService.GetFaceLivenessSessionResults";
    const BODY: &[u8] = br#"{"SessionId":"0b0c5f3e-1b2a-4c8e-9d6f-0a1b2c3d4e5f"}"#;

    #[test]
    fn signs_as_aws_sigv4_does() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_765_000_000);
        let endpoints = [
            "https://rekognition.eu-west-1.amazonaws.com",
            "https://rekognition.eu-west-1.amazonaws.com:443/",
            "http://127.0.0.1:4599",
            "http://localhost:8080/",
            "http://[::1]:4599",
        ];
        let tokens = [None, Some("FwoGZXIvYXdzEJr//////////wEaDFakeToken+/=")];
        for endpoint in endpoints {
            let signer = Signer::new(&endpoint.parse().unwrap(), "eu-west-1");
            assert!(signer.root_host.is_some(), "{endpoint} is signed directly");
            for token in tokens {
                let identity = identity(token);
                for _ in 0..2 {
                    // The second time with the kept day key.
                    let direct = signer.sign(&identity, TARGET, BODY, time).unwrap();
                    let general = signer.sign_any(&identity, TARGET, BODY, time).unwrap();
                    assert_eq!(direct, general, "{endpoint} {token:?}");
                }
            }
        }
    }

    #[test]
    fn a_new_day_or_new_credentials_get_a_new_key() {
        let signer = Signer::new(&"http://127.0.0.1:4599".parse().unwrap(), "us-east-1");
        let day = SystemTime::UNIX_EPOCH + Duration::from_secs(1_765_000_000);
        let next_day = day + Duration::from_secs(24 * 3600);
        let other: Identity = Credentials::new("AKIDOTHER", "other", None, None, "t").into();
        for (identity, time) in [
            (identity(None), day),
            (identity(None), next_day),
            (other.clone(), next_day),
        ] {
            let direct = signer.sign(&identity, TARGET, BODY, time).unwrap();
            let general = signer.sign_any(&identity, TARGET, BODY, time).unwrap();
            assert_eq!(direct, general);
        }
        let kept = signer.day_key.read().unwrap().clone().unwrap();
        assert_eq!(kept.day, "20251207");
        assert_eq!(kept.scope, "20251207/us-east-1/rekognition/aws4_request");
        assert_eq!(kept.credentials, Fingerprint::of(["AKIDOTHER", "other"]));
    }

    #[test]
    fn what_sigv4_would_normalize_goes_to_aws_sigv4() {
        let with_path = Signer::new(
            &"https://proxy.example/rekognition".parse().unwrap(),
            "us-east-1",
        );
        assert!(with_path.root_host.is_none());
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_765_000_000);
        let signature = with_path.sign(&identity(None), TARGET, BODY, time).unwrap();
        assert!(
            signature
                .authorization
                .to_str()
                .unwrap()
                .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20251206/us-east-1/")
        );
        assert!(!is_canonical_value(" token"));
        assert!(!is_canonical_value("a  b"));
        assert!(is_canonical_value("FwoGZXIvYXdz+/="));
    }

    #[test]
    fn dates_are_basic_iso_8601_in_utc() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_765_000_000);
        assert_eq!(amz_date_time(time), "20251206T054640Z");
    }
}
