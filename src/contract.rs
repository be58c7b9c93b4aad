//! The one contract between the operator and the endpoint it deploys: the operator renders
//! an [`EndpointSettings`] into the Deployment as JSON in one environment variable
//! ([`SETTINGS_ENV`]), and `liveness-api` reads the same struct back. Both sides compile
//! against this type, so a field renamed on one side is a compile error, not a pod that
//! silently ignores its configuration.
//!
//! People running `liveness-api` by hand use its flags (and their `LIVENESS_*` twins)
//! instead; a flag given explicitly overrides the same field of the settings.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Environment variable carrying the settings as JSON (the flag is `--settings`).
pub const SETTINGS_ENV: &str = "LIVENESS_SETTINGS";

/// What one LivenessApp's endpoint needs to know.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSettings {
    /// Address to listen on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// Face Liveness region: sessions are created here and the browser streams here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Minimum confidence (0–100) for a SUCCEEDED session to count as live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence_threshold: Option<f64>,
    /// Browser origins allowed by CORS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_origins: Vec<String>,
    /// Audit images per session (0–4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_images_limit: Option<i32>,
    /// Where Rekognition writes reference and audit images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputSettings>,
    /// Cognito identity pool the browser gets credentials from (shown in /v1/config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_pool_id: Option<String>,
    /// URL browsers reach the endpoint at; without it /v1/config gives relative URLs. Also
    /// the `iss` of verdicts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// `<namespace>/<name>` of the LivenessApp: part of every session token's HMAC, and the
    /// verdict's `iss` (`liveness-api:<namespace>/<name>`) when there is no public URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// Who may call the endpoint. The binary refuses to start without a choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthSettings>,
    /// Send the confidence score to the browser (AWS's guidance: don't). Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expose_confidence: bool,
    /// File holding the per-app HMAC key that binds session tokens (mounted from the
    /// app's Secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key_file: Option<PathBuf>,
    /// PEM file with the ES256 verdict signing key (PKCS#8), the current key first and
    /// the previous one after it (kept in the JWKS for one rotation period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key_file: Option<PathBuf>,
    /// Challenge preferences for CreateFaceLivenessSession, in order
    /// (`FaceMovementAndLightChallenge`, `FaceMovementChallenge`); empty is AWS's default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub challenges: Vec<String>,
    /// Address of `/metrics`, a port the Service does not expose to browsers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_listen: Option<SocketAddr>,
    /// Proxies (CIDRs or addresses) whose `X-Forwarded-For` is believed: the cluster's
    /// ingress controllers, so limits per client IP count clients, not the proxy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<String>,
}

/// How callers authenticate (`spec.endpoint.auth`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "lowercase",
    rename_all_fields = "camelCase",
    tag = "mode"
)]
pub enum AuthSettings {
    /// `Authorization: Bearer` with an ID or access token of a Cognito user pool.
    Cognito {
        /// The user pool id, `<region>_<id>`.
        user_pool_id: String,
        /// App clients whose tokens are accepted (`aud` of ID tokens, `client_id` of
        /// access tokens).
        client_ids: Vec<String>,
        /// Where the JWKS is, when not at the issuer's standard address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        jwks_url: Option<String>,
    },
    /// `Authorization: Bearer` with a token of any OpenID Connect issuer.
    Oidc {
        /// The issuer URL (`iss`); the JWKS is found through its discovery document.
        issuer: String,
        /// Accepted `aud` values.
        audiences: Vec<String>,
        /// Where the JWKS is, when discovery is not to be used.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        jwks_url: Option<String>,
    },
    /// Anyone may call (guest apps); limits then apply per client IP.
    None,
}

/// Output of session images.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputSettings {
    /// S3 bucket in the app's account and region.
    pub s3_bucket: String,
    /// Key prefix under which images are written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
    /// KMS key that encrypts the images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
}

impl EndpointSettings {
    /// The JSON the operator puts in [`SETTINGS_ENV`].
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("settings serialize")
    }

    /// Parses [`SETTINGS_ENV`]'s value.
    pub fn from_json(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|e| {
            format!("is not the endpoint's settings JSON ({e}); it is written by liveness-operator, or use the individual flags")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_is_tagged_by_its_mode() {
        let settings = EndpointSettings {
            auth: Some(AuthSettings::Cognito {
                user_pool_id: "us-east-1_Abc".into(),
                client_ids: vec!["client1".into()],
                jwks_url: None,
            }),
            ..Default::default()
        };
        let json = settings.to_json();
        assert_eq!(
            json,
            r#"{"auth":{"mode":"cognito","userPoolId":"us-east-1_Abc","clientIds":["client1"]}}"#
        );
        assert_eq!(EndpointSettings::from_json(&json).unwrap(), settings);
        let none = EndpointSettings::from_json(r#"{"auth":{"mode":"none"}}"#).unwrap();
        assert_eq!(none.auth, Some(AuthSettings::None));
    }

    #[test]
    fn settings_round_trip_and_leave_out_what_is_unset() {
        let settings = EndpointSettings {
            region: Some("us-east-1".into()),
            confidence_threshold: Some(75.0),
            output: Some(OutputSettings {
                s3_bucket: "images".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let json = settings.to_json();
        assert_eq!(
            json,
            r#"{"region":"us-east-1","confidenceThreshold":75.0,"output":{"s3Bucket":"images"}}"#
        );
        assert_eq!(EndpointSettings::from_json(&json).unwrap(), settings);
        assert!(
            EndpointSettings::from_json("{\"region\": 3}")
                .unwrap_err()
                .contains("settings JSON")
        );
    }
}
