//! The chart's RBAC is enough, and no more than enough: the real operator binary, running
//! as the chart's ServiceAccount (a token minted by the test ground's token controller, not
//! the admin token), reconciles the basic example to Ready, leads through its Lease,
//! publishes Events and cleans up on delete — while the same identity may not read
//! Secrets or create LivenessApps.

mod chart_support;
mod support;

use support::testground::succeeded;

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Event, Secret, ServiceAccount};
use kube::api::{DeleteParams, ListParams};
use kube::{Api, Client};
use liveness_operator::crd::LivenessApp;
use liveness_operator::crd::condition::{READY, ROLES_READY};
use serde_json::json;
use support::kube::{act_as_kubelet, create_app, create_namespace, example, wait_condition};
use support::operator::eventually;
use support::testground::{TestGround, unique};

const RBAC_KINDS: [&str; 5] = [
    "ServiceAccount",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
];

/// Removes what the test made outside its namespace (the ClusterRole), and the namespace.
struct Cleanup {
    ground: &'static TestGround,
    namespace: String,
    cluster_role: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = self
            .ground
            .kubectl()
            .args([
                "delete",
                "clusterrole",
                &self.cluster_role,
                "--ignore-not-found",
            ])
            .output();
        let _ = self
            .ground
            .kubectl()
            .args(["delete", "namespace", &self.namespace, "--wait=false"])
            .output();
    }
}

/// Waits for the token controller to give `service_account` a token Secret; returns the token.
async fn service_account_token(client: &Client, namespace: &str, service_account: &str) -> String {
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    eventually(
        &format!("a token Secret for {namespace}/{service_account}"),
        Duration::from_secs(30),
        async || {
            let account = accounts.get_opt(service_account).await.ok()??;
            let name = account.secrets?.first()?.name.clone()?;
            let secret = secrets.get_opt(&name).await.ok()??;
            let token = secret.data?.get("token")?.0.clone();
            String::from_utf8(token).ok().filter(|t| !t.is_empty())
        },
    )
    .await
}

/// A kubeconfig for the test ground's apiserver that authenticates with `token`.
fn kubeconfig_with_token(ground: &TestGround, token: &str, path: &Path) {
    let admin = kube::config::Kubeconfig::read_from(ground.kubeconfig()).unwrap();
    let cluster = admin.clusters[0].cluster.clone().unwrap();
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "testground", "cluster": {
            "server": cluster.server,
            "insecure-skip-tls-verify": cluster.insecure_skip_tls_verify.unwrap_or(false),
        }}],
        "users": [{"name": "operator", "user": {"token": token}}],
        "contexts": [{"name": "operator", "context": {"cluster": "testground", "user": "operator"}}],
        "current-context": "operator",
    });
    std::fs::write(path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
}

fn can_i(
    ground: &TestGround,
    kubeconfig: &Path,
    verb: &str,
    resource: &str,
    namespace: &str,
) -> bool {
    let out = ground
        .kubectl()
        .env("KUBECONFIG", kubeconfig)
        .args(["auth", "can-i", verb, resource, "-n", namespace])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "yes"
}

#[tokio::test(flavor = "multi_thread")]
async fn operator_with_the_charts_rbac_reconciles_the_basic_example() {
    let ground = support::testground::ensure();
    support::kube::install_crd(ground);
    let admin = ground.kube_client().await;
    let ns = unique("chart-rbac");
    create_namespace(&admin, &ns).await;

    // The chart as `helm install <ns> charts/liveness-operator -n <ns>` renders it, watching
    // only this namespace (the RoleBinding variant of the ClusterRole's grants).
    let rendered = chart_support::render(
        &ns,
        &ns,
        &json!({
            "aws": {"oidcProvider": "oidc.eks.us-east-1.amazonaws.com/id/TESTGROUND"},
            "clusterName": ns,
            "watchNamespaces": [ns],
        }),
    )
    .expect("the chart renders");
    let cluster_role = rendered.one("ClusterRole")["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let _cleanup = Cleanup {
        ground,
        namespace: ns.clone(),
        cluster_role,
    };
    let manifest: PathBuf = std::env::temp_dir().join(format!("{ns}-rbac.yaml"));
    rendered.write_kinds(&RBAC_KINDS, &manifest);
    succeeded(
        ground
            .kubectl()
            .args(["apply", "-f"])
            .arg(&manifest)
            .output()
            .unwrap(),
        "kubectl apply the chart's ServiceAccount and RBAC",
    );

    let service_account = rendered.one("ServiceAccount")["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let token = service_account_token(&admin, &ns, &service_account).await;
    let kubeconfig = std::env::temp_dir().join(format!("{ns}-operator.kubeconfig"));
    kubeconfig_with_token(ground, &token, &kubeconfig);

    // The token is the ServiceAccount's, not an admin's: it gets what the chart grants only.
    assert!(can_i(
        ground,
        &kubeconfig,
        "patch",
        "livenessapps.faceliveness.dev/status",
        &ns
    ));
    assert!(can_i(
        ground,
        &kubeconfig,
        "create",
        "events.events.k8s.io",
        &ns
    ));
    assert!(
        !can_i(ground, &kubeconfig, "get", "secrets", &ns),
        "the operator must not read Secrets"
    );
    assert!(!can_i(
        ground,
        &kubeconfig,
        "create",
        "livenessapps.faceliveness.dev",
        &ns
    ));
    assert!(
        !can_i(ground, &kubeconfig, "list", "configmaps", "default"),
        "grants stay in the watched namespace"
    );
    assert!(!can_i(
        ground,
        &kubeconfig,
        "delete",
        "customresourcedefinitions",
        &ns
    ));

    // The Deployment's own flags, where the test harness does not set its own: the Lease
    // the Role allows is the one the Deployment names.
    let lease_name = rendered.flag("lease-name").expect("--lease-name");
    let operator = support::operator::start_with_env(
        ground,
        &ns,
        "chart-rbac",
        &["--lease-name", &lease_name],
        &[("KUBECONFIG", kubeconfig.as_os_str())],
    );

    let app = example("basic.yaml", &ns);
    create_app(&admin, &app).await;
    let name = "onboarding";
    wait_condition(&admin, &ns, name, ROLES_READY, "True").await;
    act_as_kubelet(&admin, &ns, name).await;
    let ready = wait_condition(&admin, &ns, name, READY, "True").await;
    let status = ready.status.expect("status");
    assert!(status.identity_pool_id.is_some(), "{status:?}");
    assert!(status.endpoint_url.is_some(), "{status:?}");

    // It led through the Lease the chart's Role allows.
    let lease = Api::<Lease>::namespaced(admin.clone(), &ns)
        .get(&lease_name)
        .await
        .expect("the operator created its Lease");
    assert_eq!(
        lease.spec.and_then(|s| s.holder_identity).as_deref(),
        Some("chart-rbac")
    );

    // It could publish Events on the LivenessApp.
    let events: Api<Event> = Api::namespaced(admin.clone(), &ns);
    let reasons: Vec<String> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.involved_object.name.as_deref() == Some(name))
        .filter_map(|e| e.reason)
        .collect();
    assert!(
        reasons.iter().any(|r| r == "Created"),
        "events: {reasons:?}\n{}",
        operator.log()
    );

    // Delete: the finalizer runs the AWS clean-up and is removed with the chart's grants.
    Api::<LivenessApp>::namespaced(admin.clone(), &ns)
        .delete(name, &DeleteParams::default())
        .await
        .unwrap();
    eventually(
        "the LivenessApp to be gone",
        Duration::from_secs(90),
        async || {
            Api::<LivenessApp>::namespaced(admin.clone(), &ns)
                .get_opt(name)
                .await
                .unwrap()
                .is_none()
                .then_some(())
        },
    )
    .await;

    let log = operator.log();
    assert!(
        !log.to_lowercase().contains("forbidden"),
        "the operator hit a permission the chart does not grant:\n{log}"
    );
}
