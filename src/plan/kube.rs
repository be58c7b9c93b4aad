//! LivenessApp → the Kubernetes objects of its endpoint: ServiceAccount (IRSA), Deployment,
//! Service and the frontend ConfigMap.
//!
//! Pure and infallible: no clients, and the input is a [`ValidatedApp`]. Each object is complete (apiVersion, kind, owner reference) because
//! the controller server-side applies exactly what is built here; `plan` prints the same.

use std::collections::BTreeMap;

use crate::contract::{EndpointSettings, OutputSettings, SETTINGS_ENV};
use crate::env::OperatorEnv;
use crate::names::{AppIdentity, ENDPOINT_SERVICE_PORT};
use crate::validate::ValidatedApp;

use super::keys::{
    KEYS_MOUNT, KEYS_SUFFIX, KeyMaterial, ROTATED_AT, SESSION_KEY, SIGNING_KEYS, secret,
};
use super::route::{RouteObject, route_object};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, Container, ContainerPort, EnvVar, HTTPGetAction, PodSecurityContext,
    PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, Secret,
    SecretVolumeSource, SecurityContext, Service, ServiceAccount, ServicePort, ServiceSpec, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Container port of `liveness-api`.
pub const API_PORT: i32 = 8080;
/// Container port of the endpoint's `/metrics` (not exposed by the Service).
pub const METRICS_PORT: i32 = 9090;
/// Image run by default: `liveness-api` of this release.
/// The release image carries both binaries; the endpoint container runs `liveness-api`.
pub const DEFAULT_API_IMAGE: &str = concat!("liveness-operator:", env!("CARGO_PKG_VERSION"));
/// Path of the endpoint binary in the release image (see the Dockerfile).
pub const API_COMMAND: &str = "/usr/local/bin/liveness-api";
/// ServiceAccount annotation read by the EKS pod identity webhook (IRSA).
pub const IRSA_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// An unprivileged uid/gid (distroless `nonroot`).
const NON_ROOT_ID: i64 = 65532;

/// What the Kubernetes objects need from AWS (or placeholders in offline plans).
#[derive(Clone, Copy, Debug)]
pub struct AwsIds<'a> {
    /// Id of the app's identity pool.
    pub identity_pool_id: &'a str,
    /// ARN of the backend role.
    pub backend_role_arn: &'a str,
}

/// The app's Kubernetes objects, in apply order.
#[derive(Clone, Debug)]
pub struct DesiredKube {
    /// The session-binding and verdict-signing keys, mounted into the endpoint.
    pub keys: Secret,
    /// Identity of the endpoint pods; carries the IRSA annotation.
    pub service_account: ServiceAccount,
    /// Frontend configuration (region, identityPoolId, endpointUrl).
    pub config_map: ConfigMap,
    /// The endpoint pods.
    pub deployment: Deployment,
    /// The endpoint's in-cluster address.
    pub service: Service,
    /// The Ingress or HTTPRoute in front of the Service, when the app is exposed.
    pub route: Option<RouteObject>,
}

/// Builds the objects of `app`.
pub fn desired_kube(
    app: &ValidatedApp,
    env: &OperatorEnv,
    aws: AwsIds<'_>,
    keys: &KeyMaterial,
) -> DesiredKube {
    let identity = &app.identity;
    let namespace = &identity.namespace;
    let instance = identity.instance_label();
    let object_meta =
        |object_name: String, annotations: Option<BTreeMap<String, String>>| ObjectMeta {
            name: Some(object_name),
            namespace: Some(namespace.clone()),
            labels: Some(labels(&instance)),
            annotations,
            owner_references: Some(vec![app.owner.clone()]),
            ..Default::default()
        };
    let endpoint = identity.endpoint_name();
    let service_account = ServiceAccount {
        metadata: object_meta(
            endpoint.clone(),
            Some(BTreeMap::from([(
                IRSA_ANNOTATION.to_string(),
                aws.backend_role_arn.to_string(),
            )])),
        ),
        ..Default::default()
    };
    let config_map = ConfigMap {
        metadata: object_meta(identity.config_map_name(), None),
        data: Some(BTreeMap::from([
            ("region".to_string(), app.region.clone()),
            ("identityPoolId".into(), aws.identity_pool_id.into()),
            ("endpointUrl".into(), app.endpoint_url()),
        ])),
        ..Default::default()
    };
    let deployment = Deployment {
        metadata: object_meta(endpoint.clone(), None),
        spec: Some(DeploymentSpec {
            replicas: Some(app.endpoint.replicas),
            selector: LabelSelector {
                match_labels: Some(selector(&instance)),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(&instance)),
                    // A rotation restarts the pods, which read their keys at start.
                    annotations: Some(BTreeMap::from([(
                        ROTATED_AT.to_string(),
                        keys.rotated_at.to_string(),
                    )])),
                    ..Default::default()
                }),
                spec: Some(pod_spec(app, env, aws)),
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    let route = app.endpoint.exposure.as_ref().map(|exposure| {
        route_object(
            &exposure.route,
            object_meta(endpoint.clone(), None),
            &endpoint,
        )
    });
    let service = Service {
        metadata: object_meta(endpoint, None),
        spec: Some(ServiceSpec {
            selector: Some(selector(&instance)),
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
    let keys_secret = secret(object_meta(identity.child_name(KEYS_SUFFIX), None), keys);
    DesiredKube {
        keys: keys_secret,
        service_account,
        config_map,
        deployment,
        service,
        route,
    }
}

/// Recommended labels of every object of the app (`instance` is
/// [`AppIdentity::instance_label`]).
pub fn labels(instance: &str) -> BTreeMap<String, String> {
    let mut labels = selector(instance);
    labels.insert(
        "app.kubernetes.io/managed-by".into(),
        "liveness-operator".into(),
    );
    labels.insert("app.kubernetes.io/part-of".into(), instance.into());
    labels
}

/// The labels that select the app's pods (immutable in a Deployment, so kept minimal).
pub fn selector(instance: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "app.kubernetes.io/name".to_string(),
            "liveness-api".to_string(),
        ),
        ("app.kubernetes.io/instance".into(), instance.into()),
    ])
}

fn pod_spec(app: &ValidatedApp, env: &OperatorEnv, aws: AwsIds<'_>) -> PodSpec {
    let identity: &AppIdentity = &app.identity;
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
            image: Some(env.endpoint_image.clone()),
            command: Some(vec![API_COMMAND.into()]),
            ports: Some(vec![
                ContainerPort {
                    name: Some("http".into()),
                    container_port: API_PORT,
                    protocol: Some("TCP".into()),
                    ..Default::default()
                },
                // Not in the Service: browsers never reach /metrics.
                ContainerPort {
                    name: Some("metrics".into()),
                    container_port: METRICS_PORT,
                    protocol: Some("TCP".into()),
                    ..Default::default()
                },
            ]),
            volume_mounts: Some(vec![VolumeMount {
                name: "keys".into(),
                mount_path: KEYS_MOUNT.into(),
                read_only: Some(true),
                ..Default::default()
            }]),
            env: Some(
                std::iter::once(EnvVar {
                    name: SETTINGS_ENV.into(),
                    value: Some(endpoint_settings(app, env, aws).to_json()),
                    ..Default::default()
                })
                .chain(env.endpoint_env.iter().map(|(name, value)| EnvVar {
                    name: name.clone(),
                    value: Some(value.clone()),
                    ..Default::default()
                }))
                .collect(),
            ),
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
        volumes: Some(vec![Volume {
            name: "keys".into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(identity.child_name(KEYS_SUFFIX)),
                default_mode: Some(0o440),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        ..Default::default()
    }
}

/// The endpoint's half of the contract ([`crate::contract`]).
pub fn endpoint_settings(
    app: &ValidatedApp,
    env: &OperatorEnv,
    aws: AwsIds<'_>,
) -> EndpointSettings {
    let endpoint = &app.endpoint;
    EndpointSettings {
        listen: Some(([0, 0, 0, 0], API_PORT as u16).into()),
        region: Some(app.region.clone()),
        confidence_threshold: Some(endpoint.confidence_threshold),
        allowed_origins: endpoint.allowed_origins.clone(),
        audit_images_limit: Some(endpoint.audit_images_limit),
        output: endpoint.output.as_ref().map(|o| OutputSettings {
            s3_bucket: o.s3_bucket.clone(),
            s3_key_prefix: o.s3_key_prefix.clone(),
            kms_key_id: o.kms_key_id.clone(),
        }),
        identity_pool_id: Some(aws.identity_pool_id.into()),
        // Without an exposure, browsers reach the endpoint through the app's own ingress
        // and /v1/config answers the relative /v1/sessions.
        public_url: app.endpoint.exposure.as_ref().map(|e| e.public_url.clone()),
        auth: Some(app.endpoint.auth.clone()),
        expose_confidence: app.endpoint.expose_confidence,
        session_key_file: Some(format!("{KEYS_MOUNT}/{SESSION_KEY}").into()),
        signing_key_file: Some(format!("{KEYS_MOUNT}/{SIGNING_KEYS}").into()),
        metrics_listen: Some(([0, 0, 0, 0], METRICS_PORT as u16).into()),
        challenges: app
            .endpoint
            .challenges
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
        app: Some(format!("{}/{}", app.identity.namespace, app.identity.name)),
        trusted_proxies: env.endpoint_trusted_proxies.clone(),
    }
}

#[cfg(test)]
#[path = "kube_tests.rs"]
mod tests;
