//! How a LivenessApp's endpoint is reached from browsers (`spec.endpoint.expose`) and which
//! liveness challenge it asks for (`spec.endpoint.challenges`): the schema types only; the
//! rules are in [`crate::validate`], the objects in [`crate::plan::route`].

use std::collections::BTreeMap;

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An Ingress or a Gateway API HTTPRoute, owned by the app, in front of its Service.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[x_kube(validation = Rule::new("has(self.ingress) != has(self.httpRoute)").message("spec.endpoint.expose: set exactly one of ingress and httpRoute"))]
#[serde(rename_all = "camelCase")]
pub struct ExposeSpec {
    /// An Ingress (`networking.k8s.io/v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressExpose>,
    /// A Gateway API HTTPRoute (`gateway.networking.k8s.io/v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_route: Option<HttpRouteExpose>,
    /// The URL browsers use, when something else is in front (a CDN, an external load
    /// balancer). Default: `https://<host><path>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

/// The app's own Ingress.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct IngressExpose {
    /// IngressClass to use; the cluster's default class when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    /// Host name browsers use, e.g. `liveness.example.com`.
    #[schemars(length(min = 1, max = 253))]
    pub host: String,
    /// Path prefix routed to the endpoint (default `/`). A prefix other than `/` must be
    /// stripped by the ingress controller (its rewrite annotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Secret with the TLS certificate for the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_secret_name: Option<String>,
    /// Annotations for the ingress controller (e.g. cert-manager, rewrites).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// The app's own HTTPRoute.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteExpose {
    /// Gateways (listeners) the route attaches to.
    #[schemars(length(min = 1, max = 32))]
    pub parent_refs: Vec<ParentRef>,
    /// Host names the route serves; the first one makes the default public URL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// Path prefix routed to the endpoint (default `/`); it is rewritten to `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// A Gateway the HTTPRoute attaches to.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ParentRef {
    /// Name of the Gateway.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the Gateway (default: the app's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Listener of the Gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

/// A Face Liveness challenge (`ChallengePreferences` of CreateFaceLivenessSession).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Challenge {
    /// Move the face into an oval, then a sequence of coloured lights (AWS's default).
    FaceMovementAndLightChallenge,
    /// Move the face into an oval only: no flashing lights, for photosensitive users.
    FaceMovementChallenge,
}

impl Challenge {
    /// The name Rekognition uses ([`crate::rules::CHALLENGES`], the one list of them).
    pub fn as_str(self) -> &'static str {
        let [with_light, movement_only] = crate::rules::CHALLENGES;
        match self {
            Challenge::FaceMovementAndLightChallenge => with_light,
            Challenge::FaceMovementChallenge => movement_only,
        }
    }
}
