//! The Helm chart, checked with the real Helm v4 engine and the test ground's apiserver:
//! `scripts/chart-check.sh` passes (strict lint, renders, server dry run, a real
//! install/upgrade/uninstall, hadolint, the Argo CD health script under Lua 5.1), and what
//! it renders is what an operator user needs: the generated CRD kept on uninstall,
//! least-privilege RBAC, a hardened Deployment whose every flag the binary accepts.

mod chart_support;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use chart_support::{Rendered, read_stream, render};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use liveness_operator::crd::{LivenessApp, crd_yaml};
use serde_json::{Value, json};

const CHART_CRD: &str = "charts/liveness-operator/files/crds/faceliveness.dev_livenessapps.yaml";
const OIDC: &str = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E";

/// Runs the whole `scripts/chart-check.sh` once and returns the directory of its renders.
fn chart_check() -> &'static PathBuf {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        support::testground::ensure();
        let out = std::env::temp_dir().join(support::testground::unique("chart-check"));
        let result = Command::new("bash")
            .arg(support::testground::repo_root().join("scripts/chart-check.sh"))
            .env("CHART_CHECK_OUT", &out)
            .output()
            .expect("run scripts/chart-check.sh");
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(
            result.status.success(),
            "scripts/chart-check.sh failed:\n{}\n{stderr}",
            String::from_utf8_lossy(&result.stdout)
        );
        assert!(stderr.contains("chart check passed"), "{stderr}");
        out
    })
}

/// A render with only the required value set (what `helm install --set aws.oidcProvider=…` gives).
fn default_render() -> Rendered {
    render(
        "liveness-operator",
        "liveness-system",
        &json!({"aws": {"oidcProvider": OIDC}}),
    )
    .expect("the chart renders with only aws.oidcProvider set")
}

fn help_of_run() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_liveness-operator"))
        .args(["run", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success(), "liveness-operator run --help failed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn chart_check_script_passes_with_a_real_helm_engine_and_apiserver() {
    let out = chart_check();
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert!(
        summary["helm_sdk"].as_str().unwrap().starts_with("v4."),
        "{summary}"
    );
    for values in ["default-values", "full-values", "namespaced-values"] {
        assert_eq!(
            summary["lint"][values]["errors"],
            json!([]),
            "helm lint {values}"
        );
        assert!(
            !read_stream(&out.join(format!("{values}.resources.yaml"))).is_empty(),
            "{values} rendered nothing"
        );
    }
    let health: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("argocd-health.json")).unwrap())
            .unwrap();
    assert_eq!(health["ready"]["status"], "Healthy", "{health}");
    assert_eq!(health["invalid spec"]["status"], "Degraded", "{health}");
    assert_eq!(
        health["stalled: Gateway API missing"]["status"], "Degraded",
        "{health}"
    );
    assert_eq!(health["reconciling"]["status"], "Progressing", "{health}");
    assert_eq!(
        health["endpoint pods starting"]["status"], "Progressing",
        "{health}"
    );
    assert!(
        summary["errors"]["no_oidc_provider"]
            .as_str()
            .unwrap()
            .contains("aws.oidcProvider is required"),
        "{summary}"
    );
    assert!(
        summary["errors"]["namespaced_without_namespaces"]
            .as_str()
            .unwrap()
            .contains("rbac.scope=namespaced needs watchNamespaces"),
        "{summary}"
    );
    // ci/namespaced-values.yaml was linted, server-dry-run and holds no cluster-scoped RBAC.
    let namespaced = &summary["renders"]["namespaced-values"]["kinds"];
    assert!(namespaced["Role"].as_u64().unwrap() > 1, "{namespaced}");
    for kind in ["ClusterRole", "ClusterRoleBinding"] {
        assert!(namespaced[kind].is_null(), "{kind} in {namespaced}");
    }
}

#[test]
fn chart_crd_copy_is_exactly_the_generated_crd() {
    let copy = std::fs::read_to_string(support::testground::repo_root().join(CHART_CRD)).unwrap();
    assert!(
        copy == crd_yaml(),
        "{CHART_CRD} differs from the generated CRD: run `cargo run --bin liveness-operator -- crd > {CHART_CRD}`"
    );
}

#[test]
fn rendered_crd_is_the_generated_one_and_kept_on_uninstall_by_default() {
    let rendered = default_render();
    let crd = rendered.one("CustomResourceDefinition");
    let annotations = &crd["metadata"]["annotations"];
    assert_eq!(annotations["helm.sh/resource-policy"], "keep", "{crd:#}");

    // Same object as the generated CRD, apart from the labels and annotations Helm adds.
    // (Helm's YAML round trip writes 90.0 as 90: numbers are compared as numbers.)
    let mut as_rendered: CustomResourceDefinition = serde_json::from_value(crd.clone()).unwrap();
    as_rendered.metadata.labels = None;
    as_rendered.metadata.annotations = None;
    let differences = differences(
        "",
        &numbers_as_f64(serde_json::to_value(&as_rendered).unwrap()),
        &numbers_as_f64(serde_json::to_value(LivenessApp::crd()).unwrap()),
    );
    assert!(
        differences.is_empty(),
        "the chart's CRD differs from the generated one at: {differences:#?}"
    );

    let not_kept = render(
        "liveness-operator",
        "liveness-system",
        &json!({"aws": {"oidcProvider": OIDC}, "crds": {"keep": false}}),
    )
    .unwrap();
    let crd = not_kept.one("CustomResourceDefinition");
    assert!(
        crd["metadata"]["annotations"]["helm.sh/resource-policy"].is_null(),
        "{crd:#}"
    );
    let without = render(
        "liveness-operator",
        "liveness-system",
        &json!({"aws": {"oidcProvider": OIDC}, "crds": {"install": false}}),
    )
    .unwrap();
    assert!(without.all("CustomResourceDefinition").is_empty());
}

fn numbers_as_f64(value: Value) -> Value {
    match value {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_f64).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, numbers_as_f64(v)))
                .collect(),
        ),
        other => other,
    }
}

/// JSON paths where `a` and `b` differ.
fn differences(path: &str, a: &Value, b: &Value) -> Vec<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter()
                .flat_map(|k| {
                    differences(
                        &format!("{path}.{k}"),
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                    )
                })
                .collect()
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .flat_map(|(i, (x, y))| differences(&format!("{path}[{i}]"), x, y))
            .collect(),
        _ if a == b => vec![],
        _ => vec![format!("{path}: chart has {a}, generated has {b}")],
    }
}

/// (apiGroup, resource) → verbs, over every rule of the given Role/ClusterRole objects.
fn grants(roles: &[&Value]) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut grants: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for role in roles {
        for rule in role["rules"].as_array().unwrap() {
            for group in rule["apiGroups"].as_array().unwrap() {
                for resource in rule["resources"].as_array().unwrap() {
                    let verbs = rule["verbs"].as_array().unwrap();
                    grants
                        .entry((
                            group.as_str().unwrap().to_string(),
                            resource.as_str().unwrap().to_string(),
                        ))
                        .or_default()
                        .extend(verbs.iter().map(|v| v.as_str().unwrap().to_string()));
                }
            }
        }
    }
    grants
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// No Role or ClusterRole of `rendered` grants `*` anywhere.
fn assert_no_wildcards(rendered: &Rendered) {
    for kind in ["ClusterRole", "Role"] {
        for role in rendered.all(kind) {
            for rule in role["rules"].as_array().unwrap() {
                for field in ["apiGroups", "resources", "verbs", "resourceNames"] {
                    let values = rule[field].as_array().cloned().unwrap_or_default();
                    assert!(
                        !values.contains(&json!("*")),
                        "{kind} grants '*' in {field}: {rule}"
                    );
                }
            }
        }
    }
}

/// Exactly what the operator does in a namespace it watches (all of it namespaced): the
/// grants of the ClusterRole (rbac.scope=cluster) and of each Role (rbac.scope=namespaced).
fn operator_grants() -> BTreeMap<(String, String), BTreeSet<String>> {
    let crud = set(&[
        "get", "list", "watch", "create", "patch", "update", "delete",
    ]);
    [
        (
            ("faceliveness.dev", "livenessapps"),
            set(&["get", "list", "watch", "patch", "update"]),
        ),
        (
            ("faceliveness.dev", "livenessapps/status"),
            set(&["get", "patch", "update"]),
        ),
        (
            ("faceliveness.dev", "livenessapps/finalizers"),
            set(&["update"]),
        ),
        (("apps", "deployments"), crud.clone()),
        (("", "services"), crud.clone()),
        (("", "configmaps"), crud.clone()),
        (("", "serviceaccounts"), crud.clone()),
        // spec.endpoint.expose: an owned Ingress (watched) or HTTPRoute (checked at resync,
        // so no list/watch: Gateway API may not even be installed).
        (("networking.k8s.io", "ingresses"), crud),
        (
            ("", "secrets"),
            set(&["get", "create", "patch", "update", "delete"]),
        ),
        (
            ("gateway.networking.k8s.io", "httproutes"),
            set(&["get", "create", "patch", "update", "delete"]),
        ),
        // Read only, for EndpointReady's reason (image pull, crash loop).
        (("", "pods"), set(&["list"])),
        (("events.k8s.io", "events"), set(&["create", "patch"])),
        (("", "events"), set(&["create", "patch"])),
    ]
    .into_iter()
    .map(|((g, r), v)| ((g.to_string(), r.to_string()), v))
    .collect()
}

/// The subjects of every binding: the operator's ServiceAccount, in the release namespace.
fn operator_subjects(rendered: &Rendered, release_namespace: &str) -> Value {
    let sa = rendered.one("ServiceAccount");
    json!([{"kind": "ServiceAccount", "name": sa["metadata"]["name"], "namespace": release_namespace}])
}

/// Leases: a namespaced Role in the release namespace, get/update only on its own Lease,
/// bound to the operator's ServiceAccount.
fn assert_lease_role(rendered: &Rendered, release_namespace: &str) {
    let suffix = "-leader-election";
    let role = rendered
        .all("Role")
        .into_iter()
        .find(|r| r["metadata"]["name"].as_str().unwrap().ends_with(suffix))
        .expect("a leader-election Role");
    assert_eq!(role["metadata"]["namespace"], release_namespace);
    let lease = rendered.flag("lease-name").unwrap();
    let mut lease_rules = role["rules"].as_array().unwrap().clone();
    lease_rules.sort_by_key(|r| r["verbs"].to_string());
    assert_eq!(
        lease_rules,
        vec![
            json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]}),
            json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": [lease], "verbs": ["get", "update"]}),
        ]
    );
    let binding = rendered
        .all("RoleBinding")
        .into_iter()
        .find(|b| b["roleRef"]["name"] == role["metadata"]["name"])
        .expect("a RoleBinding of the leader-election Role");
    assert_eq!(binding["metadata"]["namespace"], release_namespace);
    assert_eq!(binding["roleRef"]["kind"], "Role");
    assert_eq!(
        binding["subjects"],
        operator_subjects(rendered, release_namespace)
    );
}

#[test]
fn rbac_is_least_privilege_without_wildcards() {
    let rendered = default_render();
    assert_no_wildcards(&rendered);
    let cluster_role = rendered.one("ClusterRole");
    assert_eq!(grants(&[cluster_role]), operator_grants());

    // Bound cluster-wide to the operator's ServiceAccount only.
    let binding = rendered.one("ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["name"], cluster_role["metadata"]["name"]);
    assert_eq!(
        binding["subjects"],
        operator_subjects(&rendered, "liveness-system")
    );

    // The Lease Role is the only Role.
    assert_eq!(rendered.all("Role").len(), 1);
    assert_lease_role(&rendered, "liveness-system");
}

#[test]
fn rbac_scope_defaults_to_cluster_and_renders_as_before() {
    let values: Value = serde_yaml::from_str(
        &std::fs::read_to_string(chart_support::chart_dir().join("values.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(values["rbac"]["scope"], "cluster");
    let explicit = render(
        "liveness-operator",
        "liveness-system",
        &json!({"aws": {"oidcProvider": OIDC}, "rbac": {"scope": "cluster"}}),
    )
    .unwrap();
    assert_eq!(explicit.objects, default_render().objects);
}

#[test]
fn namespaced_scope_gives_each_watched_namespace_a_role_and_nothing_cluster_scoped() {
    // One watched namespace is the release namespace itself, next to the Lease Role.
    let watched = ["web", "kyc", "liveness-system"];
    let rendered = render(
        "ops",
        "liveness-system",
        &json!({
            "aws": {"oidcProvider": OIDC},
            "rbac": {"scope": "namespaced"},
            "watchNamespaces": watched,
        }),
    )
    .unwrap();
    assert_no_wildcards(&rendered);
    for kind in ["ClusterRole", "ClusterRoleBinding"] {
        assert!(
            rendered.all(kind).is_empty(),
            "rbac.scope=namespaced renders a {kind}"
        );
    }
    // Nothing else cluster-scoped but the CRD.
    for object in &rendered.objects {
        assert!(
            object["kind"] == "CustomResourceDefinition"
                || object["metadata"]["namespace"].is_string(),
            "a cluster-scoped object: {object:#}"
        );
    }

    let operator_roles: Vec<&Value> = rendered
        .all("Role")
        .into_iter()
        .filter(|r| r["metadata"]["name"] == "ops-liveness-operator")
        .collect();
    let in_namespace = |objects: &[&Value], ns: &str| -> usize {
        objects
            .iter()
            .filter(|o| o["metadata"]["namespace"] == ns)
            .count()
    };
    for ns in watched {
        assert_eq!(in_namespace(&operator_roles, ns), 1, "one Role in {ns}");
    }
    assert_eq!(operator_roles.len(), watched.len());
    for role in &operator_roles {
        assert_eq!(grants(&[role]), operator_grants(), "{role:#}");
        let ns = &role["metadata"]["namespace"];
        let bindings: Vec<&Value> = rendered
            .all("RoleBinding")
            .into_iter()
            .filter(|b| {
                &b["metadata"]["namespace"] == ns
                    && b["roleRef"]["name"] == role["metadata"]["name"]
            })
            .collect();
        assert_eq!(bindings.len(), 1, "one RoleBinding of the Role in {ns}");
        assert_eq!(
            bindings[0]["roleRef"],
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "ops-liveness-operator"})
        );
        assert_eq!(
            bindings[0]["subjects"],
            operator_subjects(&rendered, "liveness-system")
        );
    }
    // Besides them: the leader-election pair only.
    assert_eq!(rendered.all("Role").len(), watched.len() + 1);
    assert_eq!(rendered.all("RoleBinding").len(), watched.len() + 1);
    assert_lease_role(&rendered, "liveness-system");
    assert_eq!(
        rendered.flag("watch-namespaces").as_deref(),
        Some("web,kyc,liveness-system")
    );
}

#[test]
fn namespaced_scope_without_watched_namespaces_is_refused() {
    for values in [
        json!({"aws": {"oidcProvider": OIDC}, "rbac": {"scope": "namespaced"}}),
        json!({"aws": {"oidcProvider": OIDC}, "rbac": {"scope": "namespaced"}, "watchNamespaces": []}),
        // Without the chart's RBAC the scope still says the operator cannot watch everything.
        json!({"aws": {"oidcProvider": OIDC}, "rbac": {"scope": "namespaced", "create": false}}),
    ] {
        let error = render("liveness-operator", "liveness-system", &values).unwrap_err();
        assert!(
            error.contains("rbac.scope=namespaced needs watchNamespaces")
                && error.contains("cannot watch all namespaces"),
            "{values}: {error}"
        );
    }
    let error = render(
        "liveness-operator",
        "liveness-system",
        &json!({"aws": {"oidcProvider": OIDC}, "rbac": {"scope": "Namespace"}, "watchNamespaces": ["web"]}),
    )
    .unwrap_err();
    assert!(error.contains("/rbac/scope"), "{error}");
}

#[test]
fn watched_namespaces_get_rolebindings_instead_of_a_clusterrolebinding() {
    let rendered = render(
        "ops",
        "liveness-system",
        &json!({"aws": {"oidcProvider": OIDC}, "watchNamespaces": ["web", "kyc"]}),
    )
    .unwrap();
    assert!(rendered.all("ClusterRoleBinding").is_empty());
    let namespaces: BTreeSet<String> = rendered
        .all("RoleBinding")
        .iter()
        .filter(|b| b["roleRef"]["kind"] == "ClusterRole")
        .map(|b| b["metadata"]["namespace"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(namespaces, set(&["web", "kyc"]));
    assert_eq!(
        rendered.flag("watch-namespaces").as_deref(),
        Some("web,kyc")
    );
}

#[test]
fn every_flag_and_variable_the_deployment_sets_is_one_the_binary_accepts() {
    let help = help_of_run();
    let bin = env!("CARGO_BIN_EXE_liveness-operator");
    let full_values: Value = serde_yaml::from_str(
        &std::fs::read_to_string(chart_support::chart_dir().join("ci/full-values.yaml")).unwrap(),
    )
    .unwrap();
    for (what, values) in [
        ("defaults", json!({"aws": {"oidcProvider": OIDC}})),
        ("ci/full-values.yaml", full_values),
    ] {
        let rendered = render("liveness-operator", "liveness-system", &values).unwrap();
        let args = rendered.operator_args();
        for arg in &args {
            let flag = arg.split('=').next().unwrap();
            assert!(
                help.contains(&format!("{flag} <")),
                "{what}: the Deployment passes {flag}, which `liveness-operator run --help` does not list"
            );
        }
        // The binary's own parser accepts every value (durations, addresses, booleans, enums):
        // clap parses in order and stops at --help only if everything before it parsed.
        let parsed = Command::new(bin)
            .arg("run")
            .args(&args)
            .arg("--help")
            .output()
            .unwrap();
        assert!(
            parsed.status.success(),
            "{what}: liveness-operator run {args:?} is refused: {}",
            String::from_utf8_lossy(&parsed.stderr)
        );

        let extra: BTreeSet<String> = values["extraEnv"]
            .as_array()
            .map(|vars| {
                vars.iter()
                    .map(|v| v["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        // Read by the AWS SDK and by the log filter rather than by a flag.
        let outside_flags = set(&["AWS_ENDPOINT_URL", "RUST_LOG"]);
        for var in rendered.operator_container()["env"].as_array().unwrap() {
            let name = var["name"].as_str().unwrap();
            assert!(
                help.contains(&format!("[env: {name}="))
                    || outside_flags.contains(name)
                    || extra.contains(name),
                "{what}: the Deployment sets {name}, which no flag of `liveness-operator run` reads"
            );
        }
    }
}

#[test]
fn deployment_is_hardened_probed_and_leader_elected() {
    let rendered = default_render();
    let deployment = rendered.one("Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = rendered.operator_container();
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(rendered.flag("leader-election").as_deref(), Some("true"));
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let security = &container["securityContext"];
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
    assert!(container["resources"]["requests"]["memory"].is_string());
    assert!(container["resources"]["limits"]["memory"].is_string());

    // Probes hit the operator's own metrics server, on the port it is told to listen on.
    assert_eq!(
        rendered.flag("metrics-addr").as_deref(),
        Some("0.0.0.0:8081")
    );
    assert_eq!(
        container["ports"][0],
        json!({"name": "metrics", "containerPort": 8081, "protocol": "TCP"})
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"],
        json!({"path": "/healthz", "port": "metrics"})
    );
    assert_eq!(
        container["readinessProbe"]["httpGet"],
        json!({"path": "/readyz", "port": "metrics"})
    );

    // Downward API: the Lease holder identity and the Lease's namespace.
    let env: BTreeMap<&str, &Value> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap(), v))
        .collect();
    assert_eq!(
        env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.name"
    );
    assert_eq!(
        env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.namespace"
    );
    assert_eq!(env["AWS_REGION"]["value"], "us-east-1");
    assert!(
        !env.contains_key("AWS_ENDPOINT_URL"),
        "no emulator endpoint by default"
    );

    // One image, both binaries; the tag follows the chart's appVersion.
    assert_eq!(container["image"], "liveness-operator:0.1.0");
    assert_eq!(
        rendered.flag("endpoint-image").as_deref(),
        Some("liveness-operator:0.1.0")
    );
    assert_eq!(rendered.flag("oidc-provider").as_deref(), Some(OIDC));
    assert!(
        rendered.all("Service").is_empty(),
        "metrics Service is off by default"
    );
    assert!(
        rendered.all("ServiceMonitor").is_empty(),
        "ServiceMonitor is off by default"
    );
}

#[test]
fn values_reach_the_operator_irsa_and_metrics_objects() {
    let rendered = render(
        "liveness-operator",
        "liveness-system",
        &json!({
            "aws": {
                "oidcProvider": format!("https://{OIDC}"),
                "roleArn": "arn:aws:iam::111122223333:role/liveness-operator",
                "defaultRegion": "eu-west-1",
                "endpointUrl": "http://127.0.0.1:4566",
            },
            "image": {"repository": "registry.example/liveness-operator", "tag": "1.2.3"},
            "clusterName": "prod-eu",
            "resyncPeriod": "5m",
            "extraLivenessRegions": ["eu-central-2", "ca-central-1"],
            "adoptablePools": ["web/eu-west-1:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"],
            "allowedOutputBuckets": ["liveness-{namespace}-*", "shared-audit"],
            "endpointTrustedProxies": ["10.0.0.0/8", "192.0.2.7"],
            "endpointEnv": {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": ".svc,10.0.0.0/8"},
            "logFormat": "json",
            "metrics": {"serviceMonitor": {"enabled": true, "labels": {"release": "prometheus"}}},
        }),
    )
    .unwrap();
    let sa = rendered.one("ServiceAccount");
    assert_eq!(
        sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::111122223333:role/liveness-operator"
    );
    assert_eq!(
        rendered.flag("oidc-provider").as_deref(),
        Some(OIDC),
        "https:// is removed"
    );
    assert_eq!(rendered.flag("cluster-name").as_deref(), Some("prod-eu"));
    assert_eq!(rendered.flag("resync-period").as_deref(), Some("5m"));
    assert_eq!(
        rendered.flag("extra-liveness-regions").as_deref(),
        Some("eu-central-2,ca-central-1")
    );
    assert_eq!(
        rendered.flag("adoptable-pools").as_deref(),
        Some("web/eu-west-1:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9")
    );
    assert_eq!(
        rendered.flags("endpoint-env"),
        ["HTTPS_PROXY=http://proxy:3128", "NO_PROXY=.svc,10.0.0.0/8"]
    );
    assert_eq!(
        rendered.flag("endpoint-trusted-proxies").as_deref(),
        Some("10.0.0.0/8,192.0.2.7")
    );
    assert_eq!(
        rendered.flag("allowed-output-buckets").as_deref(),
        Some("liveness-{namespace}-*,shared-audit")
    );
    assert_eq!(rendered.flag("log-format").as_deref(), Some("json"));
    assert_eq!(
        rendered.flag("endpoint-image").as_deref(),
        Some("registry.example/liveness-operator:1.2.3"),
        "the endpoint runs the same image as the operator unless overridden"
    );
    let env = rendered.operator_container()["env"]
        .as_array()
        .unwrap()
        .clone();
    assert!(env.contains(&json!({"name": "AWS_ENDPOINT_URL", "value": "http://127.0.0.1:4566"})));
    assert!(env.contains(&json!({"name": "AWS_REGION", "value": "eu-west-1"})));

    // A ServiceMonitor brings its Service, and selects it.
    let service = rendered.one("Service");
    let monitor = rendered.one("ServiceMonitor");
    assert_eq!(monitor["metadata"]["labels"]["release"], "prometheus");
    for (key, value) in monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .unwrap()
    {
        assert_eq!(&service["metadata"]["labels"][key], value, "{key}");
    }
    assert_eq!(
        monitor["spec"]["endpoints"][0]["port"],
        service["spec"]["ports"][0]["name"]
    );
}

#[test]
fn rendering_fails_clearly_without_the_oidc_provider_or_with_a_misspelled_value() {
    let error = render("liveness-operator", "liveness-system", &json!({})).unwrap_err();
    assert!(error.contains("aws.oidcProvider is required"), "{error}");
    assert!(
        error.contains("describe-cluster"),
        "the message says where to find it: {error}"
    );

    let error = render(
        "liveness-operator",
        "liveness-system",
        &json!({"aws": {"oidcProvider": OIDC, "oidcprovider": "typo"}}),
    )
    .unwrap_err();
    assert!(error.contains("oidcprovider"), "{error}");
}

#[test]
fn notes_tell_the_next_steps() {
    let notes = default_render().notes;
    for needle in [
        "kubectl get lva",
        "kubectl describe lva",
        "liveness-operator plan --operator-policy",
        "aws.roleArn",
        "examples/basic.yaml",
        "POST /v1/sessions",
    ] {
        assert!(
            notes.contains(needle),
            "NOTES.txt lacks {needle:?}:\n{notes}"
        );
    }
}
