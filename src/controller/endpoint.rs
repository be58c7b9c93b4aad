//! EndpointReady: whether the app's endpoint pods serve, as the kubelet reports it through
//! the Deployment, and, when they do not, why, in words the user can act on: the image
//! that cannot be pulled (named), the container that keeps crashing, the pod no node takes.
//! The pods are read only while the Deployment is short of available replicas.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use kube::Api;
use kube::api::ListParams;

use super::context::Context;
use super::status::Observation;
use crate::crd::condition;
use crate::names::AppIdentity;
use crate::plan::kube::selector;

/// While the endpoint is not available, the app is looked at again this often (pod state,
/// such as an image that cannot be pulled, changes nothing the controller watches).
pub const UNAVAILABLE_RECHECK: std::time::Duration = std::time::Duration::from_secs(10);

/// Container waiting reasons that do not fix themselves: the user must change something.
const STUCK: [&str; 7] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
];

/// Whether the Deployment wants pods but has none of the current spec available.
pub fn short_of_replicas(deployment: &Deployment) -> bool {
    wanted(deployment) > 0 && !available(deployment)
}

/// The replicas the Deployment asks for.
pub(super) fn wanted(deployment: &Deployment) -> i32 {
    deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1)
}

/// Whether the Deployment controller has seen the current spec and a replica of it is up.
pub(super) fn available(deployment: &Deployment) -> bool {
    let status = deployment.status.clone().unwrap_or_default();
    status.observed_generation >= deployment.metadata.generation
        && status.available_replicas.unwrap_or(0) >= 1
}

/// The app's endpoint pods, for [`observation`]; none when they cannot be listed (the
/// condition then lacks the detail, nothing else changes).
pub async fn pods_of(ctx: &Context, identity: &AppIdentity) -> Vec<Pod> {
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &identity.namespace);
    let labels: Vec<String> = selector(&identity.instance_label())
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    match api
        .list(&ListParams::default().labels(&labels.join(",")))
        .await
    {
        Ok(list) => list.items,
        Err(error) => {
            tracing::debug!(%error, "cannot list the endpoint pods");
            Vec::new()
        }
    }
}

/// EndpointReady from the Deployment's status and, when it is short, its `pods`.
pub fn observation(deployment: &Deployment, pods: &[Pod]) -> Observation {
    let wanted = wanted(deployment);
    let available_count = deployment
        .status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0);
    let message = format!("{available_count}/{wanted} endpoint replicas available");
    if wanted == 0 {
        return Observation::ok(
            condition::ENDPOINT_READY,
            "ScaledToZero",
            "endpoint scaled to 0 replicas",
        );
    }
    if available(deployment) {
        return Observation::ok(condition::ENDPOINT_READY, "Available", message);
    }
    match pods
        .iter()
        .find_map(stuck_container)
        .or_else(|| pods.iter().find_map(unschedulable))
    {
        Some((reason, detail)) => Observation::failed(
            condition::ENDPOINT_READY,
            reason,
            format!("{message}: {detail}"),
        ),
        None => Observation::failed(condition::ENDPOINT_READY, "Unavailable", message),
    }
}

/// The scheduler's word on a pod no node takes (PodScheduled=False, Unschedulable).
fn unschedulable(pod: &Pod) -> Option<(&'static str, String)> {
    let pod_name = pod.metadata.name.as_deref().unwrap_or("?");
    let conditions = pod.status.as_ref()?.conditions.as_ref()?;
    let scheduled = conditions.iter().find(|c| c.type_ == "PodScheduled")?;
    (scheduled.status == "False" && scheduled.reason.as_deref() == Some("Unschedulable")).then(
        || {
            let why = scheduled.message.as_deref().unwrap_or("no node fits");
            (
                "Unschedulable",
                format!("pod {pod_name} cannot be scheduled: {why}"),
            )
        },
    )
}

/// The first container of `pod` that is stuck: the condition's reason and a sentence.
fn stuck_container(pod: &Pod) -> Option<(&'static str, String)> {
    let pod_name = pod.metadata.name.as_deref().unwrap_or("?");
    let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
    statuses.iter().find_map(|c| {
        let waiting = c.state.as_ref()?.waiting.as_ref()?;
        let why = waiting.reason.as_deref()?;
        STUCK
            .contains(&why)
            .then(|| describe(pod_name, c, why, waiting.message.as_deref()))
    })
}

fn describe(
    pod: &str,
    container: &ContainerStatus,
    why: &str,
    detail: Option<&str>,
) -> (&'static str, String) {
    let detail = detail.map(|d| format!(": {d}")).unwrap_or_default();
    if why.contains("Image") {
        (
            "ImagePullFailed",
            format!(
                "pod {pod} cannot get image {} ({why}{detail}); check --endpoint-image (chart endpointImage) and that the nodes can pull it",
                container.image
            ),
        )
    } else if why == "CrashLoopBackOff" {
        let exit = container
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .map(|t| format!(", last exit code {}", t.exit_code))
            .unwrap_or_default();
        (
            "CrashLoop",
            format!(
                "container {} of pod {pod} keeps exiting{exit}; see kubectl logs {pod}",
                container.name
            ),
        )
    } else {
        (
            "ContainerFailed",
            format!(
                "container {} of pod {pod} cannot start ({why}{detail})",
                container.name
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(replicas: i32, available: i32, observed: i64, generation: i64) -> Deployment {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "x", "generation": generation},
            "spec": {"replicas": replicas, "selector": {}, "template": {}},
            "status": {"availableReplicas": available, "observedGeneration": observed}
        }))
        .unwrap()
    }

    fn pod_waiting(reason: &str, message: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-abc"},
            "status": {"containerStatuses": [{
                "name": "liveness-api", "image": "localhost/liveness-operator:nope",
                "imageID": "", "ready": false, "restartCount": 3,
                "state": {"waiting": {"reason": reason, "message": message}},
                "lastState": {"terminated": {"exitCode": 2}}
            }]}
        }))
        .unwrap()
    }

    #[test]
    fn the_endpoint_is_ready_when_a_replica_of_the_current_generation_is_available() {
        let ready = observation(&deployment(2, 1, 3, 3), &[]);
        assert_eq!(
            (ready.status, ready.message.as_str()),
            ("True", "1/2 endpoint replicas available")
        );
        assert_eq!(observation(&deployment(2, 0, 3, 3), &[]).status, "False");
        // The Deployment controller has not seen the new spec yet: not ready.
        assert_eq!(observation(&deployment(2, 2, 2, 3), &[]).status, "False");
        assert_eq!(
            observation(&deployment(0, 0, 3, 3), &[]).reason,
            "ScaledToZero"
        );
        assert!(!short_of_replicas(&deployment(0, 0, 3, 3)));
        assert!(short_of_replicas(&deployment(2, 0, 3, 3)));
    }

    #[test]
    fn an_image_that_cannot_be_pulled_is_named_and_a_crash_loop_points_at_the_logs() {
        let short = deployment(2, 0, 3, 3);
        let pull = observation(&short, &[pod_waiting("ErrImagePull", "connection refused")]);
        assert_eq!(
            (pull.status, pull.reason.as_str()),
            ("False", "ImagePullFailed")
        );
        assert!(
            pull.message.starts_with("0/2 endpoint replicas available: pod web-abc cannot get image localhost/liveness-operator:nope (ErrImagePull: connection refused)"),
            "{}",
            pull.message
        );
        let crash = observation(&short, &[pod_waiting("CrashLoopBackOff", "back-off 10s")]);
        assert_eq!(crash.reason, "CrashLoop");
        assert!(
            crash
                .message
                .contains("last exit code 2; see kubectl logs web-abc")
        );
        // Starting containers are just not available yet.
        let starting = observation(&short, &[pod_waiting("ContainerCreating", "")]);
        assert_eq!(starting.reason, "Unavailable");
        // A pod no node takes: the scheduler's reason.
        let pending: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-def"},
            "status": {"phase": "Pending", "conditions": [{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/1 nodes are available: 1 node(s) were unschedulable."
            }]}
        }))
        .unwrap();
        let pending = observation(&short, &[pending]);
        assert_eq!(pending.reason, "Unschedulable");
        assert_eq!(
            pending.message,
            "0/2 endpoint replicas available: pod web-def cannot be scheduled: 0/1 nodes are available: 1 node(s) were unschedulable."
        );
    }
}
