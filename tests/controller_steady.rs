//! Steady state costs no AWS calls: a reconcile started by an owned object's change trusts
//! the recorded verification of this generation, and AWS is read again when the resync
//! period has passed (the drift tests of tests/aws_*.rs and controller_e2e.rs keep passing).

mod support;

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::events::v1::Event;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Resource};
use liveness_operator::controller::recorder::{EventRecorder, EventType, Occurrence};
use liveness_operator::crd::condition::READY;
use serde_json::json;
use support::fixture::Fixture;
use support::kube::{create_app, example, wait_condition};
use support::operator::{OperatorProcess, eventually};

/// Sum of a counter family in the operator's /metrics (`prefix` up to the labels).
fn total(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn counts(operator: &OperatorProcess) -> (f64, f64) {
    let metrics = operator.metrics().await;
    (
        total(&metrics, "liveness_operator_aws_calls_total"),
        total(&metrics, "liveness_operator_reconciles_total"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn reconciles_between_resyncs_read_no_aws_and_a_resync_does() {
    let fx = Fixture::new("e2e-steady").await;
    let operator = support::operator::start(fx.ground, &fx.ns, "a", &["--resync-period", "40s"]);
    // No pods: the endpoint is scaled to zero, so nothing but the test moves.
    let mut app = example("guests.yaml", &fx.ns);
    app.spec.endpoint.replicas = 0;
    create_app(&fx.client, &app).await;
    let ready = wait_condition(&fx.client, &fx.ns, "signup", READY, "True").await;
    let verified = ready
        .status
        .unwrap()
        .aws_verified
        .expect("status records the check");
    assert_eq!(verified.generation, 1);

    // Settle: the reconciles the operator's own writes started are done.
    let mut before = counts(&operator).await;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = counts(&operator).await;
        if now == before {
            break;
        }
        before = now;
    }
    // Nothing the first reconcile wrote, nor the Deployment controller's bookkeeping of a
    // Deployment scaled to zero, started another.
    assert_eq!(
        before.1,
        1.0,
        "reconciles to converge:\n{}",
        operator.metrics().await
    );

    // An owned object changes: the operator puts it back, without a single AWS call.
    let config_maps: Api<ConfigMap> = Api::namespaced(fx.client.clone(), &fx.ns);
    let name = fx.identity("signup").config_map_name();
    let edit = json!({"data": {"region": "hand-edited"}});
    config_maps
        .patch(&name, &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
    eventually(
        "the ConfigMap put back",
        Duration::from_secs(30),
        async || {
            let cm = config_maps.get(&name).await.ok()?;
            (cm.data?.get("region")?.as_str() == "eu-west-1").then_some(())
        },
    )
    .await;
    // The reconcile is counted when it ends, a moment after it put the ConfigMap back.
    let aws_after = eventually(
        "the reconcile counted",
        Duration::from_secs(30),
        async || {
            let (aws, reconciles) = counts(&operator).await;
            (reconciles > before.1).then_some(aws)
        },
    )
    .await;
    assert_eq!(
        aws_after,
        before.0,
        "a reconcile between resyncs called AWS:\n{}",
        operator.metrics().await
    );

    // The resync period passes: AWS is read again, and the status says when.
    eventually(
        "a resync reading AWS",
        Duration::from_secs(90),
        async || (counts(&operator).await.0 > aws_after).then_some(()),
    )
    .await;
    eventually(
        "a newer verification",
        Duration::from_secs(30),
        async || {
            let app = fx.apps().get("signup").await.ok()?;
            let again = app.status?.aws_verified?;
            (again.time.0 > verified.time.0).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_event_is_counted_in_one_events_series() {
    let fx = Fixture::new("e2e-events").await;
    let config_maps: Api<ConfigMap> = Api::namespaced(fx.client.clone(), &fx.ns);
    let mut object = ConfigMap::default();
    object.metadata.name = Some("regarding".into());
    let object = config_maps
        .create(&PostParams::default(), &object)
        .await
        .unwrap();
    let regarding = object.object_ref(&());
    let recorder = EventRecorder::new(fx.client.clone(), "liveness-operator", "test");
    let warning = |note| Occurrence {
        type_: EventType::Warning,
        reason: "Conflict",
        action: "Reconcile",
        note,
    };
    for note in ["first try", "second try"] {
        recorder.publish(&regarding, &warning(note)).await.unwrap();
    }
    let created = Occurrence {
        type_: EventType::Normal,
        reason: "Created",
        action: "IdentityPool",
        note: "made",
    };
    recorder.publish(&regarding, &created).await.unwrap();

    let events: Api<Event> = Api::namespaced(fx.client.clone(), &fx.ns);
    let mut listed = events.list(&ListParams::default()).await.unwrap().items;
    listed.sort_by_key(|e| e.reason.clone());
    let seen: Vec<_> = listed
        .iter()
        .map(|e| {
            (
                e.reason.as_deref().unwrap(),
                e.type_.as_deref().unwrap(),
                e.series.as_ref().map(|s| s.count),
                e.regarding.as_ref().and_then(|r| r.uid.as_deref()),
                e.reporting_controller.as_deref().unwrap(),
            )
        })
        .collect();
    let uid = object.metadata.uid.as_deref();
    assert_eq!(
        seen,
        [
            ("Conflict", "Warning", Some(2), uid, "liveness-operator"),
            ("Created", "Normal", None, uid, "liveness-operator"),
        ]
    );
    assert_eq!(recorder.remembered(), 2);
}
