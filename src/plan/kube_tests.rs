use super::*;
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
    replicas: 3
    confidenceThreshold: 85.5
    allowedOrigins: [https://app.example.com, https://admin.example.com]
    auditImagesLimit: 2
    output: {s3Bucket: audit, s3KeyPrefix: sessions/, kmsKeyId: alias/liveness}
"#,
    )
    .unwrap()
}

fn inputs() -> KubeInputs<'static> {
    KubeInputs {
        cluster: "prod",
        image: "liveness-api:test",
        identity_pool_id: "us-east-1:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
        backend_role_arn: "arn:aws:iam::123456789012:role/liveness-operator/lv-x-backend",
    }
}

fn objects() -> DesiredKube {
    desired_kube(&app(), &inputs()).unwrap()
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
    assert_eq!(all[0]["metadata"]["name"], "onboarding-liveness-api");
    assert_eq!(all[1]["metadata"]["name"], "onboarding-liveness-config");
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
            "endpointUrl": "http://onboarding-liveness-api.web.svc:80",
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
    assert_eq!(pod["serviceAccountName"], "onboarding-liveness-api");
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

    let env: BTreeMap<String, String> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: BTreeMap<String, String> = [
        ("LIVENESS_REGION", "us-east-1"),
        ("LIVENESS_CONFIDENCE_THRESHOLD", "85.5"),
        (
            "LIVENESS_ALLOWED_ORIGINS",
            "https://app.example.com,https://admin.example.com",
        ),
        ("LIVENESS_AUDIT_IMAGES_LIMIT", "2"),
        ("LIVENESS_OUTPUT_S3_BUCKET", "audit"),
        ("LIVENESS_OUTPUT_S3_KEY_PREFIX", "sessions/"),
        ("LIVENESS_KMS_KEY_ID", "alias/liveness"),
        (
            "LIVENESS_IDENTITY_POOL_ID",
            "us-east-1:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
        ),
        ("LIVENESS_LISTEN", "0.0.0.0:8080"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(env, expected);
}

#[test]
fn optional_settings_are_left_out_not_set_empty() {
    let mut app = app();
    app.spec.endpoint.output = None;
    app.spec.endpoint.allowed_origins.clear();
    let deployment = value(&desired_kube(&app, &inputs()).unwrap().deployment);
    let names: Vec<_> = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    for absent in [
        "LIVENESS_OUTPUT_S3_BUCKET",
        "LIVENESS_OUTPUT_S3_KEY_PREFIX",
        "LIVENESS_KMS_KEY_ID",
        "LIVENESS_ALLOWED_ORIGINS",
    ] {
        assert!(
            !names.contains(&absent.to_string()),
            "{absent} in {names:?}"
        );
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

#[test]
fn an_app_without_uid_cannot_own_objects() {
    let mut app = app();
    app.metadata.uid = None;
    assert!(
        desired_kube(&app, &inputs())
            .unwrap_err()
            .to_string()
            .contains("metadata.uid")
    );
}
