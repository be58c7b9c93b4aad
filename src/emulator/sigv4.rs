//! Checks a request's SigV4 signature the way AWS does: recomputes it from the request as
//! received and the caller's secret key, and compares.
//!
//! Tests of `liveness-api` give the stub the secret their credentials carry, so a request
//! signed over other bytes, headers or host than it sent is refused with
//! `InvalidSignatureException`, as Rekognition would refuse it. Test machinery only.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use axum::http::{HeaderMap, header};

/// Headers the signer adds itself from its parameters and the URI.
const ADDED_BY_THE_SIGNER: [&str; 4] = [
    "host",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// `Ok` when `headers`' `Authorization` is a valid signature of this `POST /` with `secret`.
pub fn verify_post(headers: &HeaderMap, body: &[u8], secret: &str) -> Result<(), String> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let auth = text(header::AUTHORIZATION.as_str()).ok_or("no Authorization header")?;
    let field = |name: &str| {
        auth.split([' ', ','])
            .find_map(|part| part.strip_prefix(name))
            .ok_or(format!("the Authorization header has no {name}"))
    };
    let scope: Vec<&str> = field("Credential=")?.split('/').collect();
    let [access_key, _day, region, service, "aws4_request"] = scope[..] else {
        return Err(format!("malformed credential scope {scope:?}"));
    };
    let signed_headers = field("SignedHeaders=")?;
    let signature = field("Signature=")?;
    let date = text("x-amz-date").ok_or("no X-Amz-Date header")?;
    let time = chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ")
        .map_err(|e| format!("X-Amz-Date {date}: {e}"))?
        .and_utc();
    let host = text("host").ok_or("no Host header")?;

    let token = text("x-amz-security-token").map(str::to_owned);
    let identity: Identity = Credentials::new(access_key, secret, token, None, "stub").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::from(time))
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let mut signed = Vec::new();
    for name in signed_headers.split(';') {
        if ADDED_BY_THE_SIGNER.contains(&name) {
            continue;
        }
        signed.push((
            name,
            text(name).ok_or(format!("signed header {name} is missing"))?,
        ));
    }
    let uri = format!("http://{host}/");
    let request = SignableRequest::new("POST", &uri, signed.into_iter(), SignableBody::Bytes(body))
        .map_err(|e| e.to_string())?;
    let (_, expected) = sign(request, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    if expected == signature {
        Ok(())
    } else {
        Err("The request signature we calculated does not match the signature you provided".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request signed the way a client signs it (here with aws-sigv4 directly).
    fn signed_request(secret: &str, body: &[u8]) -> HeaderMap {
        let identity: Identity = Credentials::new("AKIDTEST", secret, None, None, "t").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-1")
            .name("rekognition")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let content = [("content-type", "application/x-amz-json-1.1")];
        let request = SignableRequest::new(
            "POST",
            "http://127.0.0.1:4000/",
            content.into_iter(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:4000".parse().unwrap());
        headers.insert("content-type", content[0].1.parse().unwrap());
        for (name, value) in instructions.headers() {
            headers.insert(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        headers
    }

    #[test]
    fn a_correct_signature_passes_and_any_change_fails() {
        let headers = signed_request("right", b"{}");
        assert_eq!(verify_post(&headers, b"{}", "right"), Ok(()));
        assert!(
            verify_post(&headers, b"{}", "wrong").is_err(),
            "other secret"
        );
        assert!(
            verify_post(&headers, b"{ }", "right").is_err(),
            "other body"
        );
        let mut moved = headers.clone();
        moved.insert("host", "127.0.0.1:4001".parse().unwrap());
        assert!(verify_post(&moved, b"{}", "right").is_err(), "other host");
        let mut retyped = headers;
        retyped.insert("content-type", "application/json".parse().unwrap());
        assert!(
            verify_post(&retyped, b"{}", "right").is_err(),
            "other header"
        );
    }

    #[test]
    fn an_unsigned_request_says_what_is_missing() {
        let error = verify_post(&HeaderMap::new(), b"{}", "s").unwrap_err();
        assert!(error.contains("Authorization"), "{error}");
    }
}
