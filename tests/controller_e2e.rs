//! End to end on the test ground: the real `liveness-operator run` binary against the real
//! kube-apiserver + kube-controller-manager and ministack. Each test has its own namespace,
//! its own operator process (watching only that namespace) and its own AWS names.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Service, ServiceAccount};
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, ResourceExt};
use liveness_operator::crd::condition::*;
use liveness_operator::names::RoleKind;
use serde_json::json;
use support::fixture::{Fixture, endpoint_settings, named};
use support::kube::{create_app, example, wait_condition, wait_endpoint_available};
use support::operator::eventually;

#[tokio::test(flavor = "multi_thread")]
async fn every_example_becomes_ready_with_its_aws_objects_and_workloads() {
    let fx = Fixture::new("e2e-examples").await;
    let iam = support::aws::iam(fx.ground).await;
    // The adopt example names a pool made elsewhere: make one in its region first.
    let west = support::aws::cognito(fx.ground, "us-west-2").await;
    let adopted = west
        .create_identity_pool()
        .identity_pool_name("made_by_amplify")
        .allow_unauthenticated_identities(false)
        .identity_pool_tags("faceliveness.dev/adoptable-by", &fx.ns)
        .send()
        .await
        .unwrap()
        .identity_pool_id;
    let _operator = fx.operator("a");
    for file in [
        "basic.yaml",
        "guests.yaml",
        "adopt-existing-pool.yaml",
        "audit-images-s3.yaml",
    ] {
        let mut app = example(file, &fx.ns);
        if let Some(id) = app.spec.identity_pool.existing_pool_id.as_mut() {
            *id = adopted.clone();
        }
        // The example names its reader's account; the test ground's is ministack's.
        if let Some(output) = app.spec.endpoint.output.as_mut() {
            output.kms_key_id = output
                .kms_key_id
                .as_ref()
                .map(|key| key.replace(":111122223333:", ":000000000000:"));
        }
        create_app(&fx.client, &app).await;
    }
    for (name, region, guests) in [
        ("onboarding", "us-east-1", false),
        ("signup", "eu-west-1", true),
        ("kyc", "us-west-2", false),
        ("audited", "us-east-1", false),
    ] {
        let app = fx.wait_ready(name).await;
        let status = app.status.clone().unwrap();
        let pool_id = status.identity_pool_id.clone().expect("pool id in status");
        assert!(
            pool_id.starts_with(&format!("{region}:")),
            "{name}: {pool_id}"
        );
        let cognito = support::aws::cognito(fx.ground, region).await;
        let pool = cognito
            .describe_identity_pool()
            .identity_pool_id(&pool_id)
            .send()
            .await
            .unwrap();
        assert_eq!(pool.allow_unauthenticated_identities, guests, "{name}");
        let id = fx.identity(name);
        for kind in [RoleKind::Client, RoleKind::Backend] {
            assert!(
                support::aws::role_exists(&iam, &id.role_name(kind)).await,
                "{name} {kind:?}"
            );
        }
        assert_eq!(
            support::aws::role_exists(&iam, &id.role_name(RoleKind::Guest)).await,
            guests,
            "{name}"
        );
        assert_eq!(status.guest_role_arn.is_some(), guests, "{name}");
        assert_eq!(status.identity_pool_adopted, Some(name == "kyc"), "{name}");
        assert_eq!(
            status.endpoint_url.as_deref(),
            Some(id.endpoint_url().as_str())
        );

        // The owned workloads, carrying the app's AWS wiring.
        let sa: ServiceAccount = Api::namespaced(fx.client.clone(), &fx.ns)
            .get(&id.endpoint_name())
            .await
            .unwrap();
        assert_eq!(
            sa.metadata.annotations.unwrap()["eks.amazonaws.com/role-arn"],
            status.backend_role_arn.clone().unwrap()
        );
        let cm: ConfigMap = Api::namespaced(fx.client.clone(), &fx.ns)
            .get(&id.config_map_name())
            .await
            .unwrap();
        let data = cm.data.unwrap();
        assert_eq!(
            data.values().filter(|v| **v == pool_id).count(),
            1,
            "{name}: {data:?}"
        );
        let _: Service = Api::namespaced(fx.client.clone(), &fx.ns)
            .get(&id.endpoint_name())
            .await
            .unwrap();
        let deployment: Deployment = Api::namespaced(fx.client.clone(), &fx.ns)
            .get(&id.endpoint_name())
            .await
            .unwrap();
        let settings = endpoint_settings(&deployment);
        assert_eq!(settings.region.as_deref(), Some(region), "{name}");
        assert_eq!(settings.identity_pool_id, Some(pool_id), "{name}");
    }
    assert!(
        fx.event_reasons("onboarding")
            .await
            .contains(&"Created".to_string())
    );
    assert!(
        fx.event_reasons("kyc")
            .await
            .contains(&"Adopted".to_string())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spec_edit_reaches_aws_and_the_deployment_and_generation_follows() {
    let fx = Fixture::new("e2e-edit").await;
    let _operator = fx.operator("a");
    create_app(&fx.client, &example("basic.yaml", &fx.ns)).await;
    let app = fx.wait_ready("onboarding").await;
    assert_eq!(app.status.as_ref().unwrap().observed_generation, Some(1));

    let edit = json!({"spec": {"identityPool": {"allowUnauthenticated": true}, "endpoint": {"confidenceThreshold": 75}}});
    fx.apps()
        .patch("onboarding", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
    let app = wait_condition(&fx.client, &fx.ns, "onboarding", ROLES_READY, "True").await;
    let status = app.status.unwrap();
    assert_eq!(status.observed_generation, Some(2));
    assert!(
        status
            .conditions
            .iter()
            .all(|c| c.observed_generation == Some(2)),
        "{:?}",
        status.conditions
    );

    let iam = support::aws::iam(fx.ground).await;
    assert!(
        support::aws::role_exists(&iam, &fx.identity("onboarding").role_name(RoleKind::Guest))
            .await
    );
    let cognito = support::aws::cognito(fx.ground, "us-east-1").await;
    let pool = cognito
        .describe_identity_pool()
        .identity_pool_id(status.identity_pool_id.unwrap())
        .send()
        .await
        .unwrap();
    assert!(pool.allow_unauthenticated_identities);
    let deployments: Api<Deployment> = Api::namespaced(fx.client.clone(), &fx.ns);
    eventually(
        "threshold 75 in the Deployment",
        Duration::from_secs(30),
        async || {
            let d = deployments
                .get(&fx.identity("onboarding").endpoint_name())
                .await
                .ok()?;
            (endpoint_settings(&d).confidence_threshold? == 75.0).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_spec_is_reported_and_touches_no_aws_object() {
    let fx = Fixture::new("e2e-invalid").await;
    let operator = fx.operator("a");
    let mut app = example("basic.yaml", &fx.ns);
    app.spec.region = "ca-central-1".into();
    app.spec.endpoint.allowed_origins = vec!["*".into()];
    create_app(&fx.client, &app).await;
    let app = wait_condition(&fx.client, &fx.ns, "onboarding", READY, "False").await;
    let (_, reason, message, _) = support::kube::condition(&app, READY).unwrap();
    assert_eq!(reason, "InvalidSpec");
    assert!(
        message.contains("spec.region: 'ca-central-1' does not offer Rekognition Face Liveness"),
        "{message}"
    );
    assert!(
        message.contains("spec.endpoint.allowedOrigins[0]"),
        "{message}"
    );
    assert!(app.status.unwrap().identity_pool_id.is_none());
    // The status is written before the reconcile returns its error and is counted.
    let metrics = eventually(
        "the invalid_spec failure counted",
        Duration::from_secs(10),
        async || {
            let metrics = operator.metrics().await;
            metrics
                .lines()
                .any(|l| {
                    l.starts_with(
                        "liveness_operator_reconcile_failures_total{category=\"invalid_spec\"}",
                    )
                })
                .then_some(metrics)
        },
    )
    .await;
    // The operator asks STS once, at start, which account it works in; an invalid app
    // adds no call at all, so that is the only AWS call made.
    let aws_calls: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("liveness_operator_aws_calls_total{"))
        .collect();
    assert_eq!(
        aws_calls,
        ["liveness_operator_aws_calls_total{operation=\"sts:GetCallerIdentity\"} 1"],
        "an invalid app made AWS calls:\n{metrics}"
    );
    eventually(
        "an InvalidSpec warning event",
        Duration::from_secs(10),
        async || {
            fx.event_reasons("onboarding")
                .await
                .contains(&"InvalidSpec".to_string())
                .then_some(())
        },
    )
    .await;

    let id = fx.identity("onboarding");
    let iam = support::aws::iam(fx.ground).await;
    for kind in [RoleKind::Client, RoleKind::Guest, RoleKind::Backend] {
        assert!(!support::aws::role_exists(&iam, &id.role_name(kind)).await);
    }
    for region in ["ca-central-1", "us-east-1"] {
        let cognito = support::aws::cognito(fx.ground, region).await;
        assert!(
            support::aws::pools_named(&cognito, &id.pool_name())
                .await
                .is_empty()
        );
    }
    // Deleting it needs no AWS clean-up: the finalizer lets go.
    fx.delete_and_wait_gone("onboarding").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_removes_every_aws_object_and_the_workloads_are_collected() {
    let fx = Fixture::new("e2e-delete").await;
    let _operator = fx.operator("a");
    let mut app = example("guests.yaml", &fx.ns);
    app.metadata.name = Some("onboarding".into());
    let pool_id = fx.provision(&app).await;

    fx.delete_and_wait_gone("onboarding").await;
    let iam = support::aws::iam(fx.ground).await;
    let id = fx.identity("onboarding");
    for kind in [RoleKind::Client, RoleKind::Guest, RoleKind::Backend] {
        assert!(
            !support::aws::role_exists(&iam, &id.role_name(kind)).await,
            "{kind:?} left behind"
        );
    }
    let cognito = support::aws::cognito(fx.ground, "eu-west-1").await;
    let described = cognito
        .describe_identity_pool()
        .identity_pool_id(&pool_id)
        .send()
        .await;
    assert!(described.is_err(), "pool {pool_id} left behind");
    let deployments: Api<Deployment> = Api::namespaced(fx.client.clone(), &fx.ns);
    eventually(
        "Deployment garbage-collected",
        Duration::from_secs(60),
        async || {
            deployments
                .get_opt(&id.endpoint_name())
                .await
                .ok()?
                .is_none()
                .then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn retain_leaves_every_aws_object() {
    let fx = Fixture::new("e2e-retain").await;
    let _operator = fx.operator("a");
    let mut app = example("basic.yaml", &fx.ns);
    app.spec.deletion_policy = liveness_operator::crd::DeletionPolicy::Retain;
    let pool_id = fx.provision(&app).await;
    fx.delete_and_wait_gone("onboarding").await;
    let iam = support::aws::iam(fx.ground).await;
    let id = fx.identity("onboarding");
    for kind in [RoleKind::Client, RoleKind::Backend] {
        assert!(
            support::aws::role_exists(&iam, &id.role_name(kind)).await,
            "{kind:?} was deleted"
        );
    }
    let cognito = support::aws::cognito(fx.ground, "us-east-1").await;
    cognito
        .describe_identity_pool()
        .identity_pool_id(&pool_id)
        .send()
        .await
        .expect("pool retained");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_killed_mid_provisioning_converges_without_duplicates() {
    let fx = Fixture::new("e2e-crash").await;
    let id = fx.identity("onboarding");
    let cognito = support::aws::cognito(fx.ground, "us-east-1").await;
    let mut operator = fx.operator("a");
    create_app(&fx.client, &example("basic.yaml", &fx.ns)).await;
    // SIGKILL the moment the pool exists: before the roles, the links and the status.
    eventually("the pool created", Duration::from_secs(60), async || {
        (!support::aws::pools_named(&cognito, &id.pool_name())
            .await
            .is_empty())
        .then_some(())
    })
    .await;
    operator.kill();

    let _restarted = fx.operator("b");
    let app = wait_condition(&fx.client, &fx.ns, "onboarding", ROLES_READY, "True").await;
    let pools = support::aws::pools_named(&cognito, &id.pool_name()).await;
    assert_eq!(pools.len(), 1, "duplicate pools: {pools:?}");
    assert_eq!(
        app.status.unwrap().identity_pool_id.as_ref(),
        Some(&pools[0])
    );
    let iam = support::aws::iam(fx.ground).await;
    for kind in [RoleKind::Client, RoleKind::Backend] {
        assert!(support::aws::role_exists(&iam, &id.role_name(kind)).await);
    }
}

fn is_leader(metrics: &str) -> bool {
    metrics
        .lines()
        .any(|l| l.trim() == "liveness_operator_leader 1")
}

#[tokio::test(flavor = "multi_thread")]
async fn two_operators_elect_one_leader_and_the_standby_takes_over() {
    let fx = Fixture::new("e2e-leader").await;
    let mut first = fx.operator("first");
    let mut second = fx.operator("second");
    let (leader_is_first, _) = eventually("a leader", Duration::from_secs(30), async || {
        let (a, b) = (
            is_leader(&first.metrics().await),
            is_leader(&second.metrics().await),
        );
        (a || b).then_some((a, b))
    })
    .await;
    // Give the standby several retry rounds: it must stay a standby.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        is_leader(&first.metrics().await) ^ is_leader(&second.metrics().await),
        "exactly one leader"
    );

    create_app(&fx.client, &example("basic.yaml", &fx.ns)).await;
    wait_condition(&fx.client, &fx.ns, "onboarding", ROLES_READY, "True").await;

    let (leader, standby) = if leader_is_first {
        (&mut first, &mut second)
    } else {
        (&mut second, &mut first)
    };
    leader.kill();
    let mut second_app = example("guests.yaml", &fx.ns);
    second_app.metadata.name = Some("after-failover".into());
    create_app(&fx.client, &second_app).await;
    // The lease lasts 6 s in tests; the standby retries every 2 s.
    eventually("the standby leads", Duration::from_secs(20), async || {
        is_leader(&standby.metrics().await).then_some(())
    })
    .await;
    wait_condition(&fx.client, &fx.ns, "after-failover", ROLES_READY, "True").await;
    assert!(standby.is_running(), "{}", standby.log());
}

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

#[tokio::test(flavor = "multi_thread")]
async fn long_dotted_and_look_alike_names_reach_ready_with_their_own_children() {
    let fx = Fixture::new("e2e-names").await;
    let _operator = fx.operator("a");
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
        create_app(&fx.client, &named(&fx.ns, name)).await;
    }
    let mut children = std::collections::BTreeSet::new();
    for name in names {
        wait_condition(&fx.client, &fx.ns, name, ROLES_READY, "True").await;
        wait_endpoint_available(&fx.client, &fx.ns, name).await;
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
    let operator = fx.operator("a");
    create_app(&fx.client, &named(&fx.ns, "onboarding")).await;

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

#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_outside_the_allowed_patterns_is_refused_with_no_aws_call() {
    let fx = Fixture::new("e2e-bucket").await;
    let operator = support::operator::start(
        fx.ground,
        &fx.ns,
        "a",
        &["--allowed-output-buckets", "liveness-{namespace}-*"],
    );
    let mut app = example("audit-images-s3.yaml", &fx.ns);
    let output = app.spec.endpoint.output.as_mut().unwrap();
    output.kms_key_id = None;
    output.s3_bucket = "someone-elses-bucket".into();
    create_app(&fx.client, &app).await;
    let name = app.metadata.name.clone().unwrap();
    let app = wait_condition(&fx.client, &fx.ns, &name, READY, "False").await;
    let (_, reason, message, _) = support::kube::condition(&app, READY).unwrap();
    assert_eq!(reason, "InvalidSpec");
    assert!(
        message.contains("spec.endpoint.output.s3Bucket: 'someone-elses-bucket' is not a bucket"),
        "{message}"
    );
    assert!(
        message.contains(&format!("liveness-{}-*", fx.ns)),
        "the message names the allowed pattern: {message}"
    );
    assert!(app.status.unwrap().identity_pool_id.is_none());
    let metrics = eventually("the refusal counted", Duration::from_secs(10), async || {
        let metrics = operator.metrics().await;
        metrics
            .contains("liveness_operator_reconcile_failures_total{category=\"invalid_spec\"}")
            .then_some(metrics)
    })
    .await;
    let aws_calls: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("liveness_operator_aws_calls_total{"))
        .collect();
    assert_eq!(
        aws_calls,
        ["liveness_operator_aws_calls_total{operation=\"sts:GetCallerIdentity\"} 1"],
        "a refused app made AWS calls:\n{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_object_with_a_childs_name_is_reported_and_left_untouched() {
    let fx = Fixture::new("e2e-foreign").await;
    let taken = fx.identity("onboarding").config_map_name();
    let config_maps: Api<ConfigMap> = Api::namespaced(fx.client.clone(), &fx.ns);
    let theirs: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": taken, "namespace": fx.ns},
        "data": {"owner": "someone else"}
    }))
    .unwrap();
    config_maps
        .create(&Default::default(), &theirs)
        .await
        .unwrap();
    let _operator = fx.operator("a");
    create_app(&fx.client, &example("basic.yaml", &fx.ns)).await;

    let app = wait_condition(&fx.client, &fx.ns, "onboarding", ENDPOINT_READY, "False").await;
    let (_, reason, message, _) = support::kube::condition(&app, ENDPOINT_READY).unwrap();
    assert_eq!(reason, "Conflict", "{message}");
    assert!(
        message.contains(&format!(
            "ConfigMap {}/{taken} exists and is not this LivenessApp's",
            fx.ns
        )),
        "{message}"
    );
    assert_eq!(
        support::kube::condition(&app, IDENTITY_POOL_READY)
            .unwrap()
            .0,
        "True",
        "the AWS steps before it passed"
    );
    // Left exactly as it was: no data of ours, no field of our manager, no owner.
    let after = config_maps.get(&taken).await.unwrap();
    assert_eq!(
        after.data,
        Some([("owner".to_string(), "someone else".to_string())].into())
    );
    assert!(after.metadata.owner_references.is_none());
    assert!(
        after
            .metadata
            .managed_fields
            .iter()
            .flatten()
            .all(|f| f.manager.as_deref() != Some("liveness-operator")),
        "{:?}",
        after.metadata.managed_fields
    );
    eventually("a Conflict warning", Duration::from_secs(20), async || {
        fx.events("onboarding")
            .await
            .iter()
            .any(|(reason, note)| reason == "Conflict" && note.contains(&taken))
            .then_some(())
    })
    .await;
}
