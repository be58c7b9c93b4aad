//! Kubernetes helpers for end-to-end tests: the CRD, namespaces, examples, waiting on
//! conditions, and waiting for the endpoint pods the test ground's node runs.

use std::sync::OnceLock;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::PostParams;
use kube::{Api, Client, ResourceExt};
use liveness_operator::crd::LivenessApp;
use serde_json::json;

use super::operator::eventually;
use super::testground::{TestGround, repo_root, succeeded};

/// Installs the generated CRD and waits until it is served, once per test binary: tests
/// run in parallel, and two concurrent `kubectl apply`s of a new CRD race (both see it
/// missing, one create fails with AlreadyExists).
pub fn install_crd(ground: &TestGround) {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| apply_crd(ground));
}

fn apply_crd(ground: &TestGround) {
    let crd = repo_root().join("crds/faceliveness.dev_livenessapps.yaml");
    // kubectl 1.20 validates client-side against a schema without CEL: the server drops the
    // x-kubernetes-validations it does not know, real clusters (1.25+) enforce them.
    succeeded(
        ground
            .kubectl()
            .args(["apply", "--validate=false", "-f"])
            .arg(&crd)
            .output()
            .unwrap(),
        "kubectl apply the CRD",
    );
    succeeded(
        ground
            .kubectl()
            .args(["wait", "--for=condition=Established", "--timeout=30s"])
            .arg("crd/livenessapps.faceliveness.dev")
            .output()
            .unwrap(),
        "kubectl wait for the CRD",
    );
}

/// Creates a fresh namespace.
pub async fn create_namespace(client: &Client, name: &str) {
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
}

/// An example from examples/, moved into `namespace`.
pub fn example(file: &str, namespace: &str) -> LivenessApp {
    let text = std::fs::read_to_string(repo_root().join("examples").join(file)).unwrap();
    let mut app: LivenessApp = serde_yaml::from_str(&text).unwrap();
    app.metadata.namespace = Some(namespace.to_string());
    app
}

/// Creates `app` and returns what the apiserver stored.
pub async fn create_app(client: &Client, app: &LivenessApp) -> LivenessApp {
    let api: Api<LivenessApp> = Api::namespaced(client.clone(), &app.namespace().unwrap());
    api.create(&PostParams::default(), app).await.unwrap()
}

/// The app as it is now (None once deleted).
pub async fn get_app(client: &Client, namespace: &str, name: &str) -> Option<LivenessApp> {
    Api::<LivenessApp>::namespaced(client.clone(), namespace)
        .get_opt(name)
        .await
        .unwrap()
}

/// Status of condition `type_` ("True"/"False"/"Unknown"), reason, message, generation.
pub fn condition(app: &LivenessApp, type_: &str) -> Option<(String, String, String, Option<i64>)> {
    let status = app.status.as_ref()?;
    let c = status.conditions.iter().find(|c| c.type_ == type_)?;
    Some((
        c.status.clone(),
        c.reason.clone(),
        c.message.clone(),
        c.observed_generation,
    ))
}

/// Waits until condition `type_` has `status` for the app's current generation.
pub async fn wait_condition(
    client: &Client,
    namespace: &str,
    name: &str,
    type_: &str,
    status: &str,
) -> LivenessApp {
    eventually(
        &format!("{namespace}/{name} {type_}={status}"),
        Duration::from_secs(90),
        async || {
            let app = get_app(client, namespace, name).await?;
            let (s, _, _, generation) = condition(&app, type_)?;
            (s == status && generation == app.metadata.generation).then_some(app)
        },
    )
    .await
}

/// Waits until the endpoint Deployment of `app_name` has an available replica: the node's
/// kubelet ran its pods from the endpoint image and their readiness probes passed.
pub async fn wait_endpoint_available(client: &Client, namespace: &str, app_name: &str) {
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    // Kubernetes names of the app's children depend on the app's name only.
    let identity = liveness_operator::names::AppIdentity {
        cluster: String::new(),
        namespace: namespace.into(),
        name: app_name.into(),
    };
    let deployment_name = identity.endpoint_name();
    eventually(
        &format!("{deployment_name} available"),
        Duration::from_secs(90),
        async || {
            let deployment = deployments.get_opt(&deployment_name).await.ok()??;
            (deployment.status?.available_replicas.unwrap_or(0) >= 1).then_some(())
        },
    )
    .await;
}
