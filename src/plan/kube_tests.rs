use super::*;
use crate::crd::LivenessApp;
use serde_json::{Value, json};

fn app() -> LivenessApp {
    serde_yaml::from_str(
        r#"
apiVersion: faceliveness.dev/v1alpha1
kind: LivenessApp
metadata: {name: onboarding, namespace: web, uid: 5f0c-uid}
spec:
  region: us-east-1
  identityPool: {allowUnauthenticated: true}
  endpoint:
    auth: {mode: none}
    replicas: 3
    confidenceThreshold: 85.5
    allowedOrigins: [https://app.example.com, https://admin.example.com]
    auditImagesLimit: 2
    output: {s3Bucket: audit, s3KeyPrefix: sessions/, kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:alias/liveness'}
"#,
    )
    .unwrap()
}

fn env() -> OperatorEnv {
    crate::testing::operator_env("prod", "123456789012")
}

fn ids() -> AwsIds<'static> {
    AwsIds {
        identity_pool_id: "us-east-1:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
        backend_role_arn: "arn:aws:iam::123456789012:role/liveness-operator/lv-x-backend",
    }
}

fn objects_of(app: &LivenessApp) -> DesiredKube {
    objects_in(app, &env())
}

fn objects_in(app: &LivenessApp, env: &OperatorEnv) -> DesiredKube {
    desired_kube(
        &crate::testing::validated(app, env),
        env,
        ids(),
        &test_keys(),
    )
}

fn test_keys() -> crate::plan::keys::KeyMaterial {
    crate::plan::keys::KeyMaterial {
        session_key: vec![1; 32],
        signing_keys: vec!["-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n".into()],
        rotated_at: "2026-11-01T00:00:00Z".parse().unwrap(),
    }
}

fn objects() -> DesiredKube {
    objects_of(&app())
}

fn identity() -> AppIdentity {
    AppIdentity {
        cluster: "prod".into(),
        namespace: "web".into(),
        name: "onboarding".into(),
    }
}

fn value(object: &impl serde::Serialize) -> Value {
    serde_json::to_value(object).unwrap()
}

#[test]
fn every_object_is_complete_labelled_and_owned_by_the_app() {
    let objects = objects();
    let all = [
        value(&objects.service_account),
        value(&objects.config_map),
        value(&objects.deployment),
        value(&objects.service),
    ];
    let kinds: Vec<_> = all
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["apiVersion"].as_str().unwrap(),
                o["kind"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "v1/ServiceAccount",
            "v1/ConfigMap",
            "apps/v1/Deployment",
            "v1/Service"
        ]
    );
    for object in &all {
        let meta = &object["metadata"];
        assert_eq!(meta["namespace"], "web");
        assert_eq!(
            meta["labels"],
            json!({
                "app.kubernetes.io/name": "liveness-api",
                "app.kubernetes.io/instance": "onboarding",
                "app.kubernetes.io/managed-by": "liveness-operator",
                "app.kubernetes.io/part-of": "onboarding",
            })
        );
        assert_eq!(
            meta["ownerReferences"],
            json!([{
                "apiVersion": "faceliveness.dev/v1alpha1",
                "kind": "LivenessApp",
                "name": "onboarding",
                "uid": "5f0c-uid",
                "controller": true,
                "blockOwnerDeletion": true,
            }])
        );
    }
    assert_eq!(all[0]["metadata"]["name"], identity().endpoint_name());
    assert_eq!(all[1]["metadata"]["name"], identity().config_map_name());
    assert_eq!(all[2]["metadata"]["name"], identity().endpoint_name());
    assert_eq!(all[3]["metadata"]["name"], identity().endpoint_name());
}

#[test]
fn service_account_carries_the_backend_role_for_irsa() {
    let sa = value(&objects().service_account);
    assert_eq!(
        sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::123456789012:role/liveness-operator/lv-x-backend"
    );
}

#[test]
fn config_map_gives_the_frontend_region_pool_and_endpoint() {
    assert_eq!(
        value(&objects().config_map)["data"],
        json!({
            "region": "us-east-1",
            "identityPoolId": "us-east-1:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
            "endpointUrl": format!("http://{}.web.svc:80", identity().endpoint_name()),
        })
    );
}

#[test]
fn deployment_runs_liveness_api_configured_by_env_and_locked_down() {
    let deployment = value(&objects().deployment);
    let spec = &deployment["spec"];
    assert_eq!(spec["replicas"], 3);
    assert_eq!(
        spec["selector"]["matchLabels"],
        json!({"app.kubernetes.io/name": "liveness-api", "app.kubernetes.io/instance": "onboarding"})
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], identity().endpoint_name());
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let container = &pod["containers"][0];
    assert_eq!(container["image"], "liveness-api:test");
    assert_eq!(
        container["command"],
        serde_json::json!(["/usr/local/bin/liveness-api"])
    );
    assert_eq!(container["ports"][0]["containerPort"], 8080);
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    let sc = &container["securityContext"];
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["runAsNonRoot"], true);
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");

    // The one contract with the endpoint: a single variable holding its settings.
    let env = container["env"].as_array().unwrap();
    assert_eq!(env.len(), 1, "{env:?}");
    assert_eq!(env[0]["name"], crate::contract::SETTINGS_ENV);
    let settings =
        crate::contract::EndpointSettings::from_json(env[0]["value"].as_str().unwrap()).unwrap();
    assert_eq!(
        settings,
        crate::contract::EndpointSettings {
            listen: Some("0.0.0.0:8080".parse().unwrap()),
            region: Some("us-east-1".into()),
            confidence_threshold: Some(85.5),
            allowed_origins: vec![
                "https://app.example.com".into(),
                "https://admin.example.com".into()
            ],
            audit_images_limit: Some(2),
            output: Some(crate::contract::OutputSettings {
                s3_bucket: "audit".into(),
                s3_key_prefix: Some("sessions/".into()),
                kms_key_id: Some("arn:aws:kms:us-east-1:123456789012:alias/liveness".into()),
            }),
            identity_pool_id: Some("us-east-1:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9".into()),
            public_url: None,
            app: Some("web/onboarding".into()),
            auth: Some(crate::contract::AuthSettings::None),
            expose_confidence: false,
            session_key_file: Some("/var/run/liveness-keys/session-key".into()),
            signing_key_file: Some("/var/run/liveness-keys/signing-keys.pem".into()),
            challenges: vec![],
            metrics_listen: Some("0.0.0.0:9090".parse().unwrap()),
            trusted_proxies: vec![],
        }
    );
    // The keys come from the app's own Secret, read-only; a rotation restarts the pods.
    assert_eq!(
        container["volumeMounts"],
        json!([{"name": "keys", "mountPath": "/var/run/liveness-keys", "readOnly": true}])
    );
    assert_eq!(
        pod["volumes"][0]["secret"],
        json!({"secretName": identity().child_name("liveness-keys"), "defaultMode": 0o440})
    );
    assert_eq!(
        spec["template"]["metadata"]["annotations"]["faceliveness.dev/keys-rotated-at"],
        "2026-11-01T00:00:00Z"
    );
    // /metrics has a container port of its own, which the Service does not route to.
    assert_eq!(container["ports"][1]["name"], "metrics");
    assert_eq!(container["ports"][1]["containerPort"], 9090);
}

#[test]
fn optional_settings_are_left_out_not_set_empty() {
    let mut app = app();
    app.spec.endpoint.output = None;
    app.spec.endpoint.allowed_origins.clear();
    let deployment = value(&objects_of(&app).deployment);
    let json = deployment["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"]
        .as_str()
        .unwrap()
        .to_string();
    let settings: Value = serde_json::from_str(&json).unwrap();
    for absent in ["output", "allowedOrigins", "publicUrl", "trustedProxies"] {
        assert!(settings.get(absent).is_none(), "{absent} in {json}");
    }
}

#[test]
fn the_operators_trusted_proxies_reach_every_endpoint() {
    let mut env = env();
    env.endpoint_trusted_proxies = vec!["10.0.0.0/8".into(), "192.0.2.7/32".into()];
    let settings = endpoint_settings(&crate::testing::validated(&app(), &env), &env, ids());
    assert_eq!(settings.trusted_proxies, ["10.0.0.0/8", "192.0.2.7/32"]);
}

#[test]
fn the_operators_endpoint_env_follows_the_settings() {
    let mut env = env();
    env.endpoint_env = vec![("HTTPS_PROXY".into(), "http://proxy:3128".into())];
    let objects = objects_in(&app(), &env);
    let container = value(&objects.deployment)["spec"]["template"]["spec"]["containers"][0].clone();
    assert_eq!(container["env"][0]["name"], crate::contract::SETTINGS_ENV);
    assert_eq!(
        container["env"][1],
        json!({"name": "HTTPS_PROXY", "value": "http://proxy:3128"})
    );
}

#[test]
fn long_and_dotted_app_names_get_valid_distinct_children() {
    let long = "a".repeat(253);
    let mut names = std::collections::BTreeSet::new();
    for name in [long.clone(), format!("{}b", &long[..252]), "shop.v2".into()] {
        let mut app = app();
        app.metadata.name = Some(name.clone());
        let objects = objects_of(&app);
        let deployment = value(&objects.deployment);
        let meta = &deployment["metadata"];
        let child = meta["name"].as_str().unwrap().to_string();
        assert!(child.len() <= 63, "{child}");
        let instance = meta["labels"]["app.kubernetes.io/instance"]
            .as_str()
            .unwrap();
        assert!(instance.len() <= 63, "{instance}");
        assert_eq!(meta["ownerReferences"][0]["name"], name.as_str());
        assert_eq!(
            deployment["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"],
            instance
        );
        assert!(names.insert(child));
    }
}

#[test]
fn service_maps_port_80_to_the_container_port() {
    let service = value(&objects().service);
    assert_eq!(
        service["spec"]["ports"],
        json!([{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}])
    );
    assert_eq!(
        service["spec"]["selector"],
        json!({"app.kubernetes.io/name": "liveness-api", "app.kubernetes.io/instance": "onboarding"})
    );
}
