//! End to end on the test ground, for what the parse-at-the-edges design promises a user:
//! a malformed setting stops the operator at start naming its flag; any valid Kubernetes
//! name (253 characters, dots) reaches Ready with its own children; a failing AWS step
//! shows that step's condition, a Warning event and a warn-level log line.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Service, ServiceAccount};
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt};
use liveness_operator::crd::{LivenessApp, condition::*};
use liveness_operator::names::{AppIdentity, RoleKind};
use support::kube::{act_as_kubelet, create_app, create_namespace, example, wait_condition};
use support::operator::eventually;
use support::testground::unique;

#[test]
fn a_malformed_oidc_provider_fails_at_start_naming_the_flag() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_liveness-operator"))
        .args(["run", "--oidc-provider", "https://not a provider/"])
        .env("KUBECONFIG", "/nonexistent")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the operator kept running with a malformed --oidc-provider"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!status.success(), "exit status {status}");
    assert!(stderr.contains("--oidc-provider"), "{stderr}");
    assert!(stderr.contains("not an IAM OIDC provider"), "{stderr}");
}

struct Fixture {
    ground: &'static support::testground::TestGround,
    client: Client,
    ns: String,
}

impl Fixture {
    async fn new(prefix: &str) -> Self {
        let ground = support::testground::ensure();
        support::kube::install_crd(ground);
        let client = ground.kube_client().await;
        let ns = unique(prefix);
        create_namespace(&client, &ns).await;
        Self { ground, client, ns }
    }

    fn identity(&self, name: &str) -> AppIdentity {
        AppIdentity {
            cluster: self.ns.clone(),
            namespace: self.ns.clone(),
            name: name.into(),
        }
    }

    fn app(&self, name: &str) -> LivenessApp {
        let mut app = example("basic.yaml", &self.ns);
        app.metadata.name = Some(name.into());
        app
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn long_dotted_and_look_alike_names_reach_ready_with_their_own_children() {
    let fx = Fixture::new("e2e-names").await;
    let _operator = support::operator::start(fx.ground, &fx.ns, "a", &[]);
    let long = "a".repeat(253);
    let look_alike_one = format!("{}-one", "b".repeat(200));
    let look_alike_two = format!("{}-two", "b".repeat(200));
    let names = [
        long.as_str(),
        "shop.v2",
        look_alike_one.as_str(),
        look_alike_two.as_str(),
    ];
    for name in names {
        create_app(&fx.client, &fx.app(name)).await;
    }
    let mut children = std::collections::BTreeSet::new();
    for name in names {
        wait_condition(&fx.client, &fx.ns, name, ROLES_READY, "True").await;
        act_as_kubelet(&fx.client, &fx.ns, name).await;
        let app = wait_condition(&fx.client, &fx.ns, name, READY, "True").await;
        let uid = app.uid().unwrap();
        let id = fx.identity(name);
        let owned_by_app = |owners: Option<&Vec<_>>| {
            owners.is_some_and(
                |o: &Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>| {
                    o.iter().any(|r| r.uid == uid && r.controller == Some(true))
                },
            )
        };
        let ns = &fx.ns;
        let d: Deployment = Api::namespaced(fx.client.clone(), ns)
            .get(&id.endpoint_name())
            .await
            .unwrap();
        let s: Service = Api::namespaced(fx.client.clone(), ns)
            .get(&id.endpoint_name())
            .await
            .unwrap();
        let sa: ServiceAccount = Api::namespaced(fx.client.clone(), ns)
            .get(&id.endpoint_name())
            .await
            .unwrap();
        let cm: ConfigMap = Api::namespaced(fx.client.clone(), ns)
            .get(&id.config_map_name())
            .await
            .unwrap();
        for (kind, owners) in [
            ("Deployment", d.metadata.owner_references.as_ref()),
            ("Service", s.metadata.owner_references.as_ref()),
            ("ServiceAccount", sa.metadata.owner_references.as_ref()),
            ("ConfigMap", cm.metadata.owner_references.as_ref()),
        ] {
            assert!(owned_by_app(owners), "{name}: {kind} is not the app's own");
        }
        let status = app.status.unwrap();
        assert_eq!(
            status.endpoint_url,
            Some(id.endpoint_url()),
            "{name}: status points at its own Service"
        );
        assert!(children.insert(id.endpoint_name()), "{name}: shared name");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_aws_step_shows_its_condition_a_warning_event_and_a_warn_log() {
    let fx = Fixture::new("e2e-stepfail").await;
    // Someone else's role already has the name of the app's client role.
    let iam = support::aws::iam(fx.ground).await;
    let taken = fx.identity("onboarding").role_name(RoleKind::Client);
    iam.create_role()
        .role_name(&taken)
        .path("/liveness-operator/")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let operator = support::operator::start(fx.ground, &fx.ns, "a", &[]);
    create_app(&fx.client, &fx.app("onboarding")).await;

    let app = wait_condition(&fx.client, &fx.ns, "onboarding", ROLES_READY, "False").await;
    let condition = |type_: &str| {
        app.status
            .as_ref()
            .unwrap()
            .conditions
            .iter()
            .find(|c| c.type_ == type_)
            .cloned()
            .unwrap()
    };
    let roles = condition(ROLES_READY);
    assert_eq!(roles.reason, "Conflict", "{roles:?}");
    assert!(roles.message.contains(&taken), "{}", roles.message);
    assert_eq!(condition(IDENTITY_POOL_READY).status, "True");
    assert_eq!(condition(READY).reason, "Conflict");

    let events: Api<Event> = Api::namespaced(fx.client.clone(), &fx.ns);
    eventually("a Warning event", Duration::from_secs(30), async || {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items
            .iter()
            .any(|e| {
                e.type_.as_deref() == Some("Warning")
                    && e.reason.as_deref() == Some("Conflict")
                    && e.message.as_deref().is_some_and(|m| m.contains(&taken))
            })
            .then_some(())
    })
    .await;
    let line = eventually("a warn log line", Duration::from_secs(30), async || {
        operator
            .log()
            .lines()
            .find(|l| l.contains("WARN") && l.contains("reconcile failed"))
            .map(str::to_string)
    })
    .await;
    assert!(
        line.contains("step=\"roles\"") || line.contains("step=roles"),
        "{line}"
    );
    assert!(line.contains(&format!("{}/onboarding", fx.ns)), "{line}");
}
