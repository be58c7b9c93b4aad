//! End to end on the test ground: a LivenessApp reachable from browsers through its own
//! Ingress or Gateway API HTTPRoute, the public URL carried to status, ConfigMap and the
//! endpoint's settings, Gateway API installed after the app without an operator restart,
//! and the kstatus conditions GitOps tools read.

mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Patch, PatchParams};
use kube::{Api, CustomResourceExt, ResourceExt};
use liveness_operator::crd::condition::*;
use liveness_operator::plan::route::HTTPRoute;
use serde_json::json;
use support::fixture::{Fixture, endpoint_settings};
use support::kube::{condition, create_app, example, wait_condition, wait_endpoint_available};
use support::operator::eventually;

#[tokio::test(flavor = "multi_thread")]
async fn an_exposed_app_gets_its_own_ingress_and_its_public_url_everywhere() {
    let fx = Fixture::new("e2e-ingress").await;
    let _operator = fx.operator("a");
    let mut app = example("basic.yaml", &fx.ns);
    app.spec.endpoint.expose = Some(
        serde_json::from_value(json!({"ingress": {
            "className": "nginx",
            "host": "liveness.example.com",
            "path": "/",
            "tlsSecretName": "liveness-tls",
            "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"}
        }}))
        .unwrap(),
    );
    create_app(&fx.client, &app).await;
    let app = fx.wait_ready("onboarding").await;
    let public = "https://liveness.example.com";
    let status = app.status.clone().unwrap();
    assert_eq!(status.endpoint_url.as_deref(), Some(public));

    let id = fx.identity("onboarding");
    let ingress: Ingress = Api::namespaced(fx.client.clone(), &fx.ns)
        .get(&id.endpoint_name())
        .await
        .unwrap();
    assert_eq!(ingress.owner_references()[0].uid, app.uid().unwrap());
    assert_eq!(
        ingress.annotations()["cert-manager.io/cluster-issuer"],
        "letsencrypt"
    );
    let spec = ingress.spec.unwrap();
    assert_eq!(spec.ingress_class_name.as_deref(), Some("nginx"));
    let tls = &spec.tls.unwrap()[0];
    assert_eq!(tls.secret_name.as_deref(), Some("liveness-tls"));
    assert_eq!(
        tls.hosts.as_deref(),
        Some(&["liveness.example.com".to_string()][..])
    );
    let rule = &spec.rules.unwrap()[0];
    assert_eq!(rule.host.as_deref(), Some("liveness.example.com"));
    let path = &rule.http.as_ref().unwrap().paths[0];
    assert_eq!(path.path.as_deref(), Some("/"));
    let backend = path.backend.service.as_ref().unwrap();
    assert_eq!(backend.name, id.endpoint_name());
    assert_eq!(backend.port.as_ref().unwrap().number, Some(80));

    let cm: ConfigMap = Api::namespaced(fx.client.clone(), &fx.ns)
        .get(&id.config_map_name())
        .await
        .unwrap();
    assert_eq!(cm.data.unwrap()["endpointUrl"], public);
    let deployment: Deployment = Api::namespaced(fx.client.clone(), &fx.ns)
        .get(&id.endpoint_name())
        .await
        .unwrap();
    assert_eq!(
        endpoint_settings(&deployment).public_url.as_deref(),
        Some(public)
    );
    // kstatus: a Ready app is neither reconciling nor stalled.
    assert_eq!(condition(&app, RECONCILING).unwrap().0, "False");
    assert_eq!(condition(&app, STALLED).unwrap().0, "False");

    // Removing expose removes the Ingress.
    let unexpose = json!({"spec": {"endpoint": {"expose": null}}});
    fx.apps()
        .patch(
            "onboarding",
            &PatchParams::default(),
            &Patch::Merge(&unexpose),
        )
        .await
        .unwrap();
    let ingresses: Api<Ingress> = Api::namespaced(fx.client.clone(), &fx.ns);
    eventually("the Ingress deleted", Duration::from_secs(30), async || {
        ingresses
            .get_opt(&id.endpoint_name())
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    let app = wait_condition(&fx.client, &fx.ns, "onboarding", READY, "True").await;
    assert_eq!(app.status.unwrap().endpoint_url, Some(id.endpoint_url()));
}

/// Removes the test's HTTPRoute CRD (cluster-wide), so a rerun sees Gateway API missing.
fn remove_http_route_crd(fx: &Fixture) {
    let _ = fx
        .ground
        .kubectl()
        .args([
            "delete",
            "crd",
            "httproutes.gateway.networking.k8s.io",
            "--ignore-not-found",
            "--wait=true",
        ])
        .output();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_http_route_waits_for_gateway_api_and_appears_once_it_is_installed() {
    let fx = Fixture::new("e2e-httproute").await;
    remove_http_route_crd(&fx);
    let _operator = support::operator::start(fx.ground, &fx.ns, "a", &["--resync-period", "3s"]);
    let mut app = example("basic.yaml", &fx.ns);
    app.spec.endpoint.expose = Some(
        serde_json::from_value(json!({"httpRoute": {
            "parentRefs": [{"name": "public", "namespace": "gateways", "sectionName": "https"}],
            "hostnames": ["liveness.example.com"],
            "path": "/liveness"
        }}))
        .unwrap(),
    );
    create_app(&fx.client, &app).await;
    let waiting = wait_condition(&fx.client, &fx.ns, "onboarding", ENDPOINT_READY, "False").await;
    let (_, reason, message, _) = condition(&waiting, ENDPOINT_READY).unwrap();
    if reason != "GatewayApiMissing" {
        // The first pass may still be applying; the next one reports the missing API.
        let app = eventually("GatewayApiMissing", Duration::from_secs(30), async || {
            let app = support::kube::get_app(&fx.client, &fx.ns, "onboarding").await?;
            (condition(&app, ENDPOINT_READY)?.1 == "GatewayApiMissing").then_some(app)
        })
        .await;
        let (_, _, message, _) = condition(&app, ENDPOINT_READY).unwrap();
        assert!(
            message.contains("install the Gateway API CRDs"),
            "{message}"
        );
    } else {
        assert!(
            message.contains("install the Gateway API CRDs"),
            "{message}"
        );
    }
    let stalled = support::kube::get_app(&fx.client, &fx.ns, "onboarding")
        .await
        .unwrap();
    assert_eq!(
        condition(&stalled, STALLED).map(|c| (c.0, c.1)),
        Some(("True".into(), "GatewayApiMissing".into()))
    );

    // The platform team installs Gateway API; no operator restart.
    let mut crd = HTTPRoute::crd();
    // Gateway API's group is protected; the upstream CRDs carry this annotation too.
    crd.metadata.annotations = Some(
        [(
            "api-approved.kubernetes.io".to_string(),
            "unapproved, test ground stand-in for the Gateway API CRD".to_string(),
        )]
        .into(),
    );
    let crd = serde_yaml::to_string(&crd).unwrap();
    let out = fx
        .ground
        .kubectl_with_input(&["apply", "--validate=false", "-f", "-"], &crd);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = fx.identity("onboarding");
    let routes: Api<HTTPRoute> = Api::namespaced(fx.client.clone(), &fx.ns);
    let route = eventually("the HTTPRoute", Duration::from_secs(60), async || {
        routes.get_opt(&id.endpoint_name()).await.ok()?
    })
    .await;
    assert_eq!(
        route.owner_references()[0].name,
        "onboarding",
        "owned by the app"
    );
    let parent = &route.spec.parent_refs[0];
    assert_eq!(
        (
            parent.name.as_str(),
            parent.namespace.as_deref(),
            parent.section_name.as_deref()
        ),
        ("public", Some("gateways"), Some("https"))
    );
    assert_eq!(route.spec.hostnames, ["liveness.example.com"]);
    let rule = &route.spec.rules[0];
    assert_eq!(rule.matches[0].path.value, "/liveness");
    assert_eq!(rule.filters[0].url_rewrite.path.replace_prefix_match, "/");
    assert_eq!(rule.backend_refs[0].name, id.endpoint_name());
    wait_endpoint_available(&fx.client, &fx.ns, "onboarding").await;
    let app = wait_condition(&fx.client, &fx.ns, "onboarding", READY, "True").await;
    assert_eq!(
        app.status.unwrap().endpoint_url.as_deref(),
        Some("https://liveness.example.com/liveness")
    );
    remove_http_route_crd(&fx);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_app_is_stalled_and_a_provisioning_one_is_reconciling() {
    let fx = Fixture::new("e2e-kstatus").await;
    let _operator = fx.operator("a");
    let mut bad = example("basic.yaml", &fx.ns);
    bad.metadata.name = Some("bad".into());
    bad.spec.region = "ca-central-1".into();
    create_app(&fx.client, &bad).await;
    let bad = wait_condition(&fx.client, &fx.ns, "bad", STALLED, "True").await;
    let (_, reason, message, generation) = condition(&bad, STALLED).unwrap();
    assert_eq!(reason, "InvalidSpec");
    assert!(message.contains("spec.region"), "{message}");
    assert_eq!(generation, Some(1));
    assert_eq!(condition(&bad, RECONCILING).unwrap().0, "False");

    // Provisioned, but no endpoint pod is available yet: reconciling, not stalled.
    create_app(&fx.client, &example("basic.yaml", &fx.ns)).await;
    let pending = wait_condition(&fx.client, &fx.ns, "onboarding", ROLES_READY, "True").await;
    let pending = if condition(&pending, ENDPOINT_READY).map(|c| c.0).as_deref() == Some("False") {
        pending
    } else {
        wait_condition(&fx.client, &fx.ns, "onboarding", ENDPOINT_READY, "False").await
    };
    assert_eq!(condition(&pending, RECONCILING).unwrap().0, "True");
    assert_eq!(condition(&pending, STALLED).unwrap().0, "False");
}
