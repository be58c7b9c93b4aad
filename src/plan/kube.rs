//! LivenessApp → the Kubernetes objects of its endpoint: ServiceAccount (IRSA), Deployment,
//! Service and the frontend ConfigMap.
//!
//! Pure: no clients. Each object is complete (apiVersion, kind, owner reference) because
//! the controller server-side applies exactly what is built here; `plan` prints the same.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, Container, ContainerPort, EnvVar, HTTPGetAction, PodSecurityContext,
    PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, SecurityContext,
    Service, ServiceAccount, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::Resource;

use crate::crd::LivenessApp;
use crate::names::{AppIdentity, ENDPOINT_SERVICE_PORT};

/// Container port of `liveness-api`.
pub const API_PORT: i32 = 8080;
/// Image run by default: `liveness-api` of this release.
/// The release image carries both binaries; the endpoint container runs `liveness-api`.
pub const DEFAULT_API_IMAGE: &str = concat!("liveness-operator:", env!("CARGO_PKG_VERSION"));
/// Path of the endpoint binary in the release image (see the Dockerfile).
pub const API_COMMAND: &str = "/usr/local/bin/liveness-api";
/// ServiceAccount annotation read by the EKS pod identity webhook (IRSA).
pub const IRSA_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// An unprivileged uid/gid (distroless `nonroot`).
const NON_ROOT_ID: i64 = 65532;

/// What the Kubernetes objects need besides the LivenessApp.
#[derive(Clone, Debug)]
pub struct KubeInputs<'a> {
    /// Cluster name of the operator (part of the app identity).
    pub cluster: &'a str,
    /// Image of the endpoint container.
    pub image: &'a str,
    /// Id of the app's identity pool (or a placeholder in offline plans).
    pub identity_pool_id: &'a str,
    /// ARN of the backend role (or a placeholder in offline plans).
    pub backend_role_arn: &'a str,
}

/// The app's Kubernetes objects, in apply order.
#[derive(Clone, Debug)]
pub struct DesiredKube {
    /// Identity of the endpoint pods; carries the IRSA annotation.
    pub service_account: ServiceAccount,
    /// Frontend configuration (region, identityPoolId, endpointUrl).
    pub config_map: ConfigMap,
    /// The endpoint pods.
    pub deployment: Deployment,
    /// The endpoint's in-cluster address.
    pub service: Service,
}

/// Why objects could not be built.
#[derive(Debug, thiserror::Error)]
pub enum KubeObjectsError {
    /// Owner references need metadata.name, metadata.namespace and metadata.uid.
    #[error("the LivenessApp has no {0}: owner references need it")]
    MissingMetadata(&'static str),
}

/// Builds the objects of `app`.
pub fn desired_kube(
    app: &LivenessApp,
    inputs: &KubeInputs<'_>,
) -> Result<DesiredKube, KubeObjectsError> {
    let meta = &app.metadata;
    let name = meta
        .name
        .clone()
        .ok_or(KubeObjectsError::MissingMetadata("metadata.name"))?;
    let namespace = meta
        .namespace
        .clone()
        .ok_or(KubeObjectsError::MissingMetadata("metadata.namespace"))?;
    let mut owner = app
        .controller_owner_ref(&())
        .ok_or(KubeObjectsError::MissingMetadata("metadata.uid"))?;
    // Foreground deletion of the app waits for its objects.
    owner.block_owner_deletion = Some(true);
    let identity = AppIdentity {
        cluster: inputs.cluster.into(),
        namespace: namespace.clone(),
        name: name.clone(),
    };
    let object_meta =
        |object_name: String, annotations: Option<BTreeMap<String, String>>| ObjectMeta {
            name: Some(object_name),
            namespace: Some(namespace.clone()),
            labels: Some(labels(&name)),
            annotations,
            owner_references: Some(vec![owner.clone()]),
            ..Default::default()
        };
    let endpoint = identity.endpoint_name();
    let service_account = ServiceAccount {
        metadata: object_meta(
            endpoint.clone(),
            Some(BTreeMap::from([(
                IRSA_ANNOTATION.to_string(),
                inputs.backend_role_arn.to_string(),
            )])),
        ),
        ..Default::default()
    };
    let config_map = ConfigMap {
        metadata: object_meta(identity.config_map_name(), None),
        data: Some(BTreeMap::from([
            ("region".to_string(), app.spec.region.clone()),
            ("identityPoolId".into(), inputs.identity_pool_id.into()),
            ("endpointUrl".into(), identity.endpoint_url()),
        ])),
        ..Default::default()
    };
    let deployment = Deployment {
        metadata: object_meta(endpoint.clone(), None),
        spec: Some(DeploymentSpec {
            replicas: Some(app.spec.endpoint.replicas),
            selector: LabelSelector {
                match_labels: Some(selector(&name)),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(&name)),
                    ..Default::default()
                }),
                spec: Some(pod_spec(app, &identity, inputs)),
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    let service = Service {
        metadata: object_meta(endpoint, None),
        spec: Some(ServiceSpec {
            selector: Some(selector(&name)),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: ENDPOINT_SERVICE_PORT.into(),
                target_port: Some(IntOrString::String("http".into())),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    Ok(DesiredKube {
        service_account,
        config_map,
        deployment,
        service,
    })
}

/// Recommended labels of every object of the app.
pub fn labels(app_name: &str) -> BTreeMap<String, String> {
    let mut labels = selector(app_name);
    labels.insert(
        "app.kubernetes.io/managed-by".into(),
        "liveness-operator".into(),
    );
    labels.insert("app.kubernetes.io/part-of".into(), app_name.into());
    labels
}

/// The labels that select the app's pods (immutable in a Deployment, so kept minimal).
pub fn selector(app_name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "app.kubernetes.io/name".to_string(),
            "liveness-api".to_string(),
        ),
        ("app.kubernetes.io/instance".into(), app_name.into()),
    ])
}

fn pod_spec(app: &LivenessApp, identity: &AppIdentity, inputs: &KubeInputs<'_>) -> PodSpec {
    let probe = |path: &str| Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String("http".into()),
            ..Default::default()
        }),
        period_seconds: Some(10),
        ..Default::default()
    };
    PodSpec {
        service_account_name: Some(identity.endpoint_name()),
        // IRSA projects its own token; the pods never call the Kubernetes API.
        automount_service_account_token: Some(false),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(NON_ROOT_ID),
            run_as_group: Some(NON_ROOT_ID),
            fs_group: Some(NON_ROOT_ID),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        containers: vec![Container {
            name: "liveness-api".into(),
            image: Some(inputs.image.into()),
            command: Some(vec![API_COMMAND.into()]),
            ports: Some(vec![ContainerPort {
                name: Some("http".into()),
                container_port: API_PORT,
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            env: Some(env(app, inputs)),
            readiness_probe: Some(probe("/readyz")),
            liveness_probe: Some(probe("/healthz")),
            resources: Some(ResourceRequirements {
                requests: Some(BTreeMap::from([
                    ("cpu".to_string(), Quantity("50m".into())),
                    ("memory".into(), Quantity("64Mi".into())),
                ])),
                limits: Some(BTreeMap::from([(
                    "memory".to_string(),
                    Quantity("128Mi".into()),
                )])),
                ..Default::default()
            }),
            security_context: Some(SecurityContext {
                run_as_non_root: Some(true),
                allow_privilege_escalation: Some(false),
                read_only_root_filesystem: Some(true),
                capabilities: Some(Capabilities {
                    drop: Some(vec!["ALL".into()]),
                    ..Default::default()
                }),
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The `LIVENESS_*` configuration of `liveness-api`; optional settings are left out
/// rather than set empty.
fn env(app: &LivenessApp, inputs: &KubeInputs<'_>) -> Vec<EnvVar> {
    let endpoint = &app.spec.endpoint;
    let output = endpoint.output.as_ref();
    let origins = endpoint.allowed_origins.join(",");
    let vars: [(&str, Option<String>); 9] = [
        ("LIVENESS_REGION", Some(app.spec.region.clone())),
        (
            "LIVENESS_CONFIDENCE_THRESHOLD",
            Some(endpoint.confidence_threshold.to_string()),
        ),
        (
            "LIVENESS_ALLOWED_ORIGINS",
            Some(origins).filter(|o| !o.is_empty()),
        ),
        (
            "LIVENESS_AUDIT_IMAGES_LIMIT",
            Some(endpoint.audit_images_limit.to_string()),
        ),
        (
            "LIVENESS_OUTPUT_S3_BUCKET",
            output.map(|o| o.s3_bucket.clone()),
        ),
        (
            "LIVENESS_OUTPUT_S3_KEY_PREFIX",
            output.and_then(|o| o.s3_key_prefix.clone()),
        ),
        (
            "LIVENESS_KMS_KEY_ID",
            output.and_then(|o| o.kms_key_id.clone()),
        ),
        (
            "LIVENESS_IDENTITY_POOL_ID",
            Some(inputs.identity_pool_id.into()),
        ),
        // No LIVENESS_PUBLIC_URL: browsers reach the endpoint through the app's own
        // ingress, so /v1/config answers the relative /v1/sessions.
        ("LIVENESS_LISTEN", Some(format!("0.0.0.0:{API_PORT}"))),
    ];
    vars.into_iter()
        .filter_map(|(name, value)| {
            value.map(|value| EnvVar {
                name: name.into(),
                value: Some(value),
                ..Default::default()
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "kube_tests.rs"]
mod tests;
