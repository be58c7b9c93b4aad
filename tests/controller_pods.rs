//! End to end with real pods: the test ground's node (kubelet, containerd, kube-proxy) runs
//! the endpoint image built from this tree, and `EndpointReady` follows what its kubelet
//! reports: Ready only once the pods passed their probes, `ScaledToZero` and back, not
//! available while no pod can run, and an image that cannot be pulled named in the message.
//!
//! The tests here change the node (cordon) or need it to schedule, so they take turns.

mod support;

use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod, Service};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kube::{Api, ResourceExt};
use liveness_operator::crd::condition::*;
use serde_json::json;
use support::fixture::Fixture;
use support::kube::{condition, create_app, example, get_app, wait_condition};
use support::operator::eventually;

static NODE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Cordons the node for as long as it lives (uncordons on drop, also when a test fails).
struct Cordon<'a>(&'a Fixture);

impl<'a> Cordon<'a> {
    async fn new(fx: &'a Fixture) -> Cordon<'a> {
        set_unschedulable(fx, true).await;
        Cordon(fx)
    }
}

impl Drop for Cordon<'_> {
    fn drop(&mut self) {
        let _ = self
            .0
            .ground
            .kubectl()
            .args(["uncordon", &self.0.ground.node()])
            .output();
    }
}

async fn set_unschedulable(fx: &Fixture, on: bool) {
    let nodes: Api<Node> = Api::all(fx.client.clone());
    let patch = json!({"spec": {"unschedulable": on}});
    nodes
        .patch(
            &fx.ground.node(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
        .unwrap();
}

async fn endpoint_pods(fx: &Fixture, app: &str) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(fx.client.clone(), &fx.ns);
    let selector = format!(
        "app.kubernetes.io/instance={}",
        fx.identity(app).instance_label()
    );
    pods.list(&ListParams::default().labels(&selector))
        .await
        .unwrap()
        .items
}

/// Waits until EndpointReady has `status` and `reason`; returns the condition's message.
async fn wait_endpoint(fx: &Fixture, app: &str, status: &str, reason: &str) -> String {
    eventually(
        &format!("EndpointReady={status}/{reason}"),
        Duration::from_secs(60),
        async || {
            let app = get_app(&fx.client, &fx.ns, app).await?;
            let (s, r, message, _) = condition(&app, ENDPOINT_READY)?;
            (s == status && r == reason).then_some(message)
        },
    )
    .await
}

async fn set_replicas(fx: &Fixture, app: &str, replicas: i32) {
    let patch = json!({"spec": {"endpoint": {"replicas": replicas}}});
    fx.apps()
        .patch(app, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_ready_follows_the_pods_the_kubelet_runs_from_the_image() {
    let _node = NODE.lock().await;
    let fx = Fixture::new("e2e-pods").await;
    let _operator = support::operator::start(fx.ground, &fx.ns, "a", &["--resync-period", "5s"]);
    create_app(&fx.client, &example("guests.yaml", &fx.ns)).await;
    let app = wait_condition(&fx.client, &fx.ns, "signup", READY, "True").await;

    // The pod runs the image built from this tree on the node, Ready from its probes, and
    // the app turned Ready only after that.
    let pods = endpoint_pods(&fx, "signup").await;
    assert_eq!(pods.len(), 1, "replicas: 1");
    let pod = &pods[0];
    let status = pod.status.as_ref().unwrap();
    assert_eq!(status.phase.as_deref(), Some("Running"));
    let container = &status.container_statuses.as_ref().unwrap()[0];
    assert!(container.ready, "{container:?}");
    assert!(container.state.as_ref().unwrap().running.is_some());
    assert!(
        container
            .image
            .ends_with(fx.ground.endpoint_image().trim_start_matches("localhost/")),
        "{} runs {}",
        pod.name_any(),
        container.image
    );
    assert_eq!(
        pod.spec.as_ref().unwrap().node_name.as_deref(),
        Some(fx.ground.node().as_str())
    );
    let pod_ready = status
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(pod_ready.status, "True");
    let app_ready = app
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .find(|c| c.type_ == ENDPOINT_READY)
        .unwrap();
    assert!(
        app_ready.last_transition_time.0 >= pod_ready.last_transition_time.as_ref().unwrap().0,
        "EndpointReady turned True before the pod was Ready"
    );

    // The endpoint answers through its Service, with the app's settings, once kube-proxy
    // has written the Service's rules (it syncs a moment after the pod turns Ready).
    let services: Api<Service> = Api::namespaced(fx.client.clone(), &fx.ns);
    let service = services
        .get(&fx.identity("signup").endpoint_name())
        .await
        .unwrap();
    let ip = service.spec.unwrap().cluster_ip.unwrap();
    let config: serde_json::Value = eventually(
        "the Service answering",
        Duration::from_secs(30),
        async || {
            let response = reqwest::get(format!("http://{ip}/v1/config")).await.ok()?;
            response.json().await.ok()
        },
    )
    .await;
    assert_eq!(
        config["identityPoolId"].as_str(),
        app.status.as_ref().unwrap().identity_pool_id.as_deref()
    );
    assert_eq!(config["auth"], json!({"mode": "none"}));

    // Scaled to zero: no pod, and that is fine. Back to one: Ready from the probes again.
    set_replicas(&fx, "signup", 0).await;
    wait_endpoint(&fx, "signup", "True", "ScaledToZero").await;
    eventually("the pod gone", Duration::from_secs(60), async || {
        endpoint_pods(&fx, "signup").await.is_empty().then_some(())
    })
    .await;
    set_replicas(&fx, "signup", 1).await;
    wait_endpoint(&fx, "signup", "True", "Available").await;

    // The pod is killed and no new one can be scheduled: not available, then available
    // once the node takes pods again.
    let cordon = Cordon::new(&fx).await;
    let pods: Api<Pod> = Api::namespaced(fx.client.clone(), &fx.ns);
    for pod in endpoint_pods(&fx, "signup").await {
        pods.delete(&pod.name_any(), &DeleteParams::default())
            .await
            .unwrap();
    }
    // The scheduler says why the new pod does not run.
    let message = wait_endpoint(&fx, "signup", "False", "Unschedulable").await;
    assert!(
        message.starts_with("0/1 endpoint replicas available: pod ")
            && message.contains("unschedulable"),
        "{message}"
    );
    let app = get_app(&fx.client, &fx.ns, "signup").await.unwrap();
    assert_eq!(condition(&app, READY).unwrap().0, "False");
    drop(cordon);
    wait_endpoint(&fx, "signup", "True", "Available").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_that_cannot_be_pulled_makes_the_app_not_ready_naming_the_image() {
    let _node = NODE.lock().await;
    let fx = Fixture::new("e2e-badimage").await;
    let image = "localhost/liveness-operator:no-such-tag";
    let _operator = support::operator::start(
        fx.ground,
        &fx.ns,
        "a",
        &[&format!("--endpoint-image={image}")],
    );
    create_app(&fx.client, &example("guests.yaml", &fx.ns)).await;
    wait_condition(&fx.client, &fx.ns, "signup", ROLES_READY, "True").await;
    let message = wait_endpoint(&fx, "signup", "False", "ImagePullFailed").await;
    assert!(message.contains(image), "{message}");
    assert!(
        message.starts_with("0/1 endpoint replicas available: pod "),
        "{message}"
    );
    let app = get_app(&fx.client, &fx.ns, "signup").await.unwrap();
    let (ready, reason, ready_message, _) = condition(&app, READY).unwrap();
    assert_eq!(
        (ready.as_str(), reason.as_str()),
        ("False", "ImagePullFailed")
    );
    assert!(ready_message.contains(image), "{ready_message}");
}
