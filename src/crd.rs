//! The `LivenessApp` custom resource: the one object a platform team applies to get a
//! Face Liveness backend (identity pool, least-privilege IAM roles, session endpoint).
//!
//! Doc comments on the fields become the schema descriptions `kubectl explain` shows, so
//! they are written for the user of the CRD. Rules the OpenAPI schema cannot express are
//! CEL rules (enforced by Kubernetes 1.25+) and are repeated in [`crate::validate`], which
//! the controller runs on every cluster.

mod auth;
mod expose;

pub use auth::{AuthMode, AuthSpec};
pub use expose::{Challenge, ExposeSpec, HttpRouteExpose, IngressExpose, ParentRef};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// API group of every resource this operator defines.
pub const GROUP: &str = "faceliveness.dev";
/// Served and stored version.
pub const VERSION: &str = "v1alpha1";
/// Finalizer that guards the AWS clean-up of a LivenessApp.
pub const FINALIZER: &str = "faceliveness.dev/aws-cleanup";
/// The one field manager for every server-side apply this operator makes.
pub const FIELD_MANAGER: &str = "liveness-operator";

use crate::rules;
pub use crate::rules::{DEFAULT_CONFIDENCE_THRESHOLD, DEFAULT_REPLICAS};

/// A Face Liveness application: the AWS side (a Cognito identity pool whose roles may
/// only start a liveness stream, and a backend role that may only create sessions and
/// read their results) and the Kubernetes side (the `liveness-api` endpoint that creates
/// sessions and reports verdicts, plus a ConfigMap with the frontend configuration).
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "faceliveness.dev",
    version = "v1alpha1",
    kind = "LivenessApp",
    plural = "livenessapps",
    singular = "livenessapp",
    shortname = "lva",
    category = "faceliveness",
    namespaced,
    doc = "A Face Liveness application: identity pool, least-privilege IAM roles and the session endpoint, reconciled by liveness-operator.",
    status = "LivenessAppStatus",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","priority":1,"jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Region","type":"string","jsonPath":".spec.region"}"#,
    printcolumn = r#"{"name":"Identity Pool","type":"string","jsonPath":".status.identityPoolId"}"#,
    printcolumn = r#"{"name":"Endpoint","type":"string","jsonPath":".status.endpointUrl"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(validation = Rule::new(
    "!has(self.identityPool) || !has(self.identityPool.existingPoolId) || self.identityPool.existingPoolId.startsWith(self.region + ':')"
).message("spec.identityPool.existingPoolId must be a pool in spec.region (its id starts with '<region>:'); sessions created in one region cannot be streamed to another"))]
#[serde(rename_all = "camelCase")]
pub struct LivenessAppSpec {
    /// AWS region where sessions are created and where the browser streams video. Must be
    /// a region where Rekognition Face Liveness is offered (e.g. us-east-1, us-west-2,
    /// eu-west-1, ap-northeast-1, ap-south-1). Immutable: the identity pool and every
    /// session live in this region.
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.region is immutable: create a new LivenessApp for another region"))]
    #[schemars(length(min = 1, max = 32), regex(pattern = rules::REGION_PATTERN))]
    pub region: String,

    /// What happens to the AWS objects this app created when the LivenessApp is deleted:
    /// `Delete` removes them, `Retain` leaves them in the account.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// The Cognito identity pool that gives browsers temporary credentials to stream video.
    #[serde(default)]
    pub identity_pool: IdentityPoolSpec,

    /// The `liveness-api` endpoint that creates sessions and reports results.
    #[serde(default)]
    pub endpoint: EndpointSpec,
}

/// What to do with AWS objects when the LivenessApp is deleted.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeletionPolicy {
    /// Delete the identity pool (unless adopted) and the IAM roles.
    #[default]
    Delete,
    /// Leave every AWS object in place.
    Retain,
}

/// The Cognito identity pool and who may use it.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new(
    "has(self.existingPoolId) == has(oldSelf.existingPoolId) && (!has(self.existingPoolId) || self.existingPoolId == oldSelf.existingPoolId)"
).message("spec.identityPool.existingPoolId is immutable: create a new LivenessApp to switch pools"))]
#[serde(rename_all = "camelCase")]
pub struct IdentityPoolSpec {
    /// Whether guests (not signed in) may start a liveness check. Adds a guest role that,
    /// like the signed-in role, may only call rekognition:StartFaceLivenessSession.
    #[serde(default)]
    pub allow_unauthenticated: bool,

    /// Adopt an existing identity pool (for example one made by Amplify) instead of
    /// creating one, as `<region>:<uuid>`. An adopted pool is never deleted; only the
    /// roles this operator links to it are detached on deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = rules::MAX_POOL_ID),
        regex(pattern = rules::POOL_ID_PATTERN)
    )]
    pub existing_pool_id: Option<String>,

    /// A Cognito user pool whose signed-in users get the client role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_pool: Option<UserPoolProvider>,
}

/// A Cognito user pool app client trusted by the identity pool.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserPoolProvider {
    /// Provider name: `cognito-idp.<region>.amazonaws.com/<userPoolId>`.
    #[schemars(length(min = 1, max = rules::MAX_CLIENT_ID))]
    pub provider_name: String,
    /// The user pool app client id.
    #[schemars(
        length(min = 1, max = rules::MAX_CLIENT_ID),
        regex(pattern = rules::CLIENT_ID_PATTERN)
    )]
    pub client_id: String,
}

/// The session endpoint (`liveness-api`) deployed for this app.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSpec {
    /// Number of endpoint pods.
    #[serde(default = "default_replicas")]
    #[schemars(range(min = 0, max = rules::MAX_REPLICAS))]
    pub replicas: i32,

    /// Minimum confidence (0–100) for `isLive`: a session is live only when it SUCCEEDED
    /// with at least this confidence. AWS calls 50–60 moderate and 80–90 strict; real
    /// people in poor light can score below 80. Default 90.
    #[serde(default = "default_confidence_threshold")]
    #[schemars(range(min = rules::CONFIDENCE_MIN, max = rules::CONFIDENCE_MAX))]
    pub confidence_threshold: f64,

    /// Browser origins (`scheme://host[:port]`, no path) allowed to call the endpoint.
    /// Empty means no browser origin is allowed (server-to-server calls only).
    #[serde(default)]
    #[schemars(length(max = rules::MAX_ALLOWED_ORIGINS))]
    pub allowed_origins: Vec<String>,

    /// Number of audit images (0–4) Rekognition returns or stores per session.
    #[serde(default)]
    #[schemars(range(min = 0, max = rules::MAX_AUDIT_IMAGES))]
    pub audit_images_limit: i32,

    /// Store reference and audit images in S3 (a bucket in the same account and region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputSpec>,

    /// Make the endpoint reachable from browsers through an Ingress or a Gateway API
    /// HTTPRoute owned by this app; its public URL becomes status.endpointUrl.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expose: Option<ExposeSpec>,

    /// Liveness challenges to ask for, in order of preference. `FaceMovementChallenge` has
    /// no flashing lights (photosensitive users). Default: AWS's choice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 2))]
    pub challenges: Vec<Challenge>,

    /// Who may call the endpoint. Default: tokens of identityPool.userPool; an app without
    /// a user pool chooses `oidc` or, for guests, `none` explicitly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthSpec>,

    /// Send the confidence score to the browser. AWS's Face Liveness guidance is not to:
    /// the browser gets `isLive` and a signed verdict instead. Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expose_confidence: bool,

    /// How often the verdict signing key is replaced (e.g. `720h`); the previous key stays
    /// published for one more period. Default 30 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict_key_rotation: Option<String>,
}

/// Where Rekognition stores session images.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OutputSpec {
    /// S3 bucket in the same account and region as the app.
    #[schemars(length(min = 3, max = 63), regex(pattern = rules::S3_BUCKET_PATTERN))]
    pub s3_bucket: String,
    /// Key prefix for the stored images; the backend role may write under it only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = rules::MAX_S3_KEY_PREFIX))]
    pub s3_key_prefix: Option<String>,
    /// KMS key (id, alias or ARN) that encrypts the stored images; the backend role gets
    /// permission to use this key only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048))]
    pub kms_key_id: Option<String>,
}

fn default_replicas() -> i32 {
    DEFAULT_REPLICAS
}

fn default_confidence_threshold() -> f64 {
    DEFAULT_CONFIDENCE_THRESHOLD
}

impl Default for EndpointSpec {
    fn default() -> Self {
        Self {
            replicas: DEFAULT_REPLICAS,
            confidence_threshold: DEFAULT_CONFIDENCE_THRESHOLD,
            allowed_origins: Vec::new(),
            audit_images_limit: 0,
            output: None,
            expose: None,
            challenges: Vec::new(),
            auth: None,
            expose_confidence: false,
            verdict_key_rotation: None,
        }
    }
}

/// What the operator observed and did. Never holds secrets.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LivenessAppStatus {
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, IdentityPoolReady, RolesReady and EndpointReady, each with the generation it
    /// describes.
    #[serde(default)]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// Id of the identity pool (created or adopted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_pool_id: Option<String>,
    /// Whether the identity pool was adopted (never deleted by the operator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_pool_adopted: Option<bool>,
    /// Role assumed by signed-in browser identities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_role_arn: Option<String>,
    /// Role assumed by guest identities, when guests are allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_role_arn: Option<String>,
    /// Role assumed by the endpoint pods through IRSA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_role_arn: Option<String>,
    /// In-cluster URL of the session endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    /// ConfigMap holding the frontend configuration (region, identity pool, endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontend_config_map: Option<String>,
    /// The last time the AWS objects were read and found (or made) as the spec says:
    /// reconciles in between (an owned object changed, the status was written) trust it
    /// and call no AWS API until the spec changes, a step fails or a resync period passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_verified: Option<AwsVerified>,
}

impl LivenessApp {
    /// The identity pool id the status records, if any.
    pub fn recorded_pool_id(&self) -> Option<&str> {
        self.status.as_ref()?.identity_pool_id.as_deref()
    }
}

/// When the AWS objects were last verified, and for which generation.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AwsVerified {
    /// The metadata.generation the objects were verified for.
    pub generation: i64,
    /// When (RFC 3339).
    pub time: Time,
}

/// The CustomResourceDefinition as YAML, exactly what `liveness-operator crd` prints and
/// what `crds/` and the Helm chart carry.
pub fn crd_yaml() -> String {
    use kube::CustomResourceExt;
    let body = serde_yaml::to_string(&LivenessApp::crd()).expect("the CRD serializes");
    format!("# Generated by `liveness-operator crd`; do not edit.\n---\n{body}")
}

/// Condition types, in the order `kubectl describe` should show them.
pub mod condition {
    /// Everything below is true for the current generation.
    pub const READY: &str = "Ready";
    /// The identity pool exists (or was adopted), is owned by this app and is in sync.
    pub const IDENTITY_POOL_READY: &str = "IdentityPoolReady";
    /// Client/guest/backend roles and their policies exist, are in sync and are linked.
    pub const ROLES_READY: &str = "RolesReady";
    /// The endpoint Deployment, Service, ServiceAccount, ConfigMap (and route, when
    /// exposed) are applied and a replica is available.
    pub const ENDPOINT_READY: &str = "EndpointReady";
    /// kstatus: a change is being applied (True until Ready, unless Stalled).
    pub const RECONCILING: &str = "Reconciling";
    /// kstatus: the app cannot progress until the user changes something (invalid spec,
    /// adoption refused, a conflicting object, a missing permission or API).
    pub const STALLED: &str = "Stalled";
    /// All condition types.
    pub const ALL: [&str; 6] = [
        READY,
        IDENTITY_POOL_READY,
        ROLES_READY,
        ENDPOINT_READY,
        RECONCILING,
        STALLED,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;

    #[test]
    fn minimal_spec_gets_documented_defaults() {
        let spec: LivenessAppSpec = serde_json::from_str(r#"{"region":"us-east-1"}"#).unwrap();
        assert_eq!(spec.deletion_policy, DeletionPolicy::Delete);
        assert_eq!(spec.endpoint.replicas, 2);
        assert_eq!(spec.endpoint.confidence_threshold, 90.0);
        assert!(!spec.identity_pool.allow_unauthenticated);
        assert!(spec.endpoint.output.is_none());
    }

    #[test]
    fn conditions_are_a_list_map_keyed_by_type() {
        let crd = serde_json::to_value(LivenessApp::crd()).unwrap();
        let conditions = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
            ["properties"]["conditions"];
        assert_eq!(conditions["x-kubernetes-list-type"], "map");
        assert_eq!(conditions["x-kubernetes-list-map-keys"][0], "type");
    }

    #[test]
    fn challenge_names_are_the_rules_names() {
        for (challenge, name) in [
            Challenge::FaceMovementAndLightChallenge,
            Challenge::FaceMovementChallenge,
        ]
        .into_iter()
        .zip(crate::rules::CHALLENGES)
        {
            assert_eq!(challenge.as_str(), name);
            assert_eq!(serde_json::to_value(challenge).unwrap(), name);
        }
    }

    #[test]
    fn region_is_immutable_by_cel() {
        let crd = serde_json::to_value(LivenessApp::crd()).unwrap();
        let region = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
            ["properties"]["region"];
        assert_eq!(
            region["x-kubernetes-validations"][0]["rule"],
            "self == oldSelf"
        );
    }
}
