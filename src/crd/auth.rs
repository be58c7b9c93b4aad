//! Who may call a LivenessApp's endpoint (`spec.endpoint.auth`) and what the browser is
//! told: the schema types only; the rules are in [`crate::validate`].

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How callers of the endpoint authenticate.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AuthSpec {
    /// `cognito` (the default when identityPool.userPool is set): bearer tokens of that user
    /// pool; `oidc`: bearer tokens of any OpenID Connect issuer; `none`: anyone, for guest
    /// apps, and only when chosen explicitly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<AuthMode>,
    /// OIDC issuer URL (`iss` of the tokens), for mode `oidc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Accepted `aud` values, for mode `oidc`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// Where the issuer's JWKS is, when not at its standard address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
}

/// A caller authentication mode.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Tokens of the app's Cognito user pool.
    Cognito,
    /// Tokens of an OpenID Connect issuer.
    Oidc,
    /// No authentication (guest apps).
    None,
}
