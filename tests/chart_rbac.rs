//! The chart's RBAC is enough, and no more than enough, with `rbac.scope: cluster` and
//! `namespaced` alike: the real operator binary, running as the chart's ServiceAccount (a
//! token minted by the test ground's token controller, not the admin token), reconciles the
//! basic example to Ready, leads through its Lease, publishes Events and cleans up on
//! delete — while the same identity may not list or watch Secrets (it manages each app's key
//! Secret by name), create LivenessApps, or read or
//! write LivenessApps and Deployments in a namespace it does not watch.

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
use support::kube::{
    create_app, create_namespace, example, wait_condition, wait_endpoint_available,
};
use support::operator::eventually;
use support::testground::{TestGround, unique};

const RBAC_KINDS: [&str; 5] = [
    "ServiceAccount",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
];

/// Removes what the test made: its namespaces and the ClusterRole (if the chart made one).
struct Cleanup {
    ground: &'static TestGround,
    namespaces: Vec<String>,
    cluster_roles: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for (kind, names, flag) in [
            ("clusterrole", &self.cluster_roles, "--ignore-not-found"),
            ("namespace", &self.namespaces, "--wait=false"),
        ] {
            if !names.is_empty() {
                let _ = self
                    .ground
                    .kubectl()
                    .args(["delete", kind, flag])
                    .args(names)
                    .output();
            }
        }
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

/// `kubectl auth can-i VERB RESOURCE` as the token of `kubeconfig`, in `namespace` (None:
/// in all namespaces at once, what only a ClusterRoleBinding gives).
fn can_i(
    ground: &TestGround,
    kubeconfig: &Path,
    verb: &str,
    resource: &str,
    namespace: Option<&str>,
) -> bool {
    let out = ground
        .kubectl()
        .env("KUBECONFIG", kubeconfig)
        .args(["auth", "can-i", verb, resource])
        .args(match namespace {
            Some(ns) => vec!["-n", ns],
            None => vec!["--all-namespaces"],
        })
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "yes"
}

const LIVENESS_APPS: &str = "livenessapps.faceliveness.dev";

/// What the operator may do in a namespace it watches, and nowhere else.
const WATCHED_GRANTS: [(&str, &str); 6] = [
    ("list", LIVENESS_APPS),
    ("patch", LIVENESS_APPS),
    ("patch", "livenessapps.faceliveness.dev/status"),
    ("create", "deployments.apps"),
    ("delete", "deployments.apps"),
    ("create", "events.events.k8s.io"),
];

#[tokio::test(flavor = "multi_thread")]
async fn operator_with_the_charts_rbac_reconciles_the_basic_example() {
    // rbac.scope=cluster (the default) watching only the release namespace: the
    // RoleBinding variant of the ClusterRole's grants.
    let release = unique("chart-rbac");
    prove_the_charts_rbac("cluster", &release, std::slice::from_ref(&release)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn operator_with_namespaced_rbac_reconciles_in_its_watched_namespaces_only() {
    // rbac.scope=namespaced watching two namespaces other than the release namespace,
    // which holds the Lease only: nothing cluster-scoped is installed.
    let release = unique("chart-rbac-ns");
    let watched = [format!("{release}-web"), format!("{release}-kyc")];
    prove_the_charts_rbac("namespaced", &release, &watched).await;
}

/// Installs the chart's ServiceAccount and RBAC as `helm install <release>
/// charts/liveness-operator -n <release> --set rbac.scope=<scope>` renders them, watching
/// `watched`; runs the real operator with that ServiceAccount's token and the Deployment's
/// own flags; and proves it reconciles the basic example in the last watched namespace to
/// Ready, leads through its Lease, publishes Events and cleans up on delete, while it may
/// not touch LivenessApps or Deployments anywhere else.
async fn prove_the_charts_rbac(scope: &str, release: &str, watched: &[String]) {
    let ground = support::testground::ensure();
    support::kube::install_crd(ground);
    let admin = ground.kube_client().await;
    let mut namespaces = vec![release.to_string()];
    namespaces.extend(watched.iter().filter(|ns| *ns != release).cloned());
    for ns in &namespaces {
        create_namespace(&admin, ns).await;
    }

    let rendered = chart_support::render(
        release,
        release,
        &json!({
            "aws": {"oidcProvider": "oidc.eks.us-east-1.amazonaws.com/id/TESTGROUND"},
            "clusterName": release,
            "rbac": {"scope": scope},
            "watchNamespaces": watched,
        }),
    )
    .expect("the chart renders");
    let cluster_roles: Vec<String> = rendered
        .all("ClusterRole")
        .iter()
        .map(|r| r["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        cluster_roles.is_empty(),
        scope == "namespaced",
        "a ClusterRole exactly with rbac.scope=cluster: {cluster_roles:?}"
    );
    let _cleanup = Cleanup {
        ground,
        namespaces: namespaces.clone(),
        cluster_roles,
    };
    let manifest: PathBuf = std::env::temp_dir().join(format!("{release}-rbac.yaml"));
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
    let token = service_account_token(&admin, release, &service_account).await;
    let kubeconfig = std::env::temp_dir().join(format!("{release}-operator.kubeconfig"));
    kubeconfig_with_token(ground, &token, &kubeconfig);

    // The token is the ServiceAccount's, not an admin's: it gets what the chart grants, in
    // the watched namespaces only.
    for ns in watched {
        for (verb, resource) in WATCHED_GRANTS {
            assert!(
                can_i(ground, &kubeconfig, verb, resource, Some(ns)),
                "{scope}: the operator may {verb} {resource} in the watched {ns}"
            );
        }
    }
    let unwatched = namespaces
        .iter()
        .filter(|ns| !watched.contains(ns))
        .map(String::as_str)
        .chain(["default"]);
    for ns in unwatched.map(Some).chain([None]) {
        for (verb, resource) in WATCHED_GRANTS.iter().chain(&[
            ("get", LIVENESS_APPS),
            ("watch", LIVENESS_APPS),
            ("update", LIVENESS_APPS),
            ("get", "deployments.apps"),
            ("list", "deployments.apps"),
            ("patch", "deployments.apps"),
            ("list", "configmaps"),
        ]) {
            assert!(
                !can_i(ground, &kubeconfig, verb, resource, ns),
                "{scope}: the operator must not {verb} {resource} in {}",
                ns.unwrap_or("all namespaces")
            );
        }
    }
    for ns in &namespaces {
        // It manages each app's key Secret by name (the app reaching Ready above needs it),
        // and may not enumerate Secrets.
        for verb in ["list", "watch"] {
            assert!(
                !can_i(ground, &kubeconfig, verb, "secrets", Some(ns)),
                "the operator must not {verb} Secrets"
            );
        }
        assert!(!can_i(
            ground,
            &kubeconfig,
            "create",
            LIVENESS_APPS,
            Some(ns)
        ));
    }
    assert!(!can_i(
        ground,
        &kubeconfig,
        "delete",
        "customresourcedefinitions",
        None
    ));

    // The Deployment's own flags, where the test harness does not set its own: the
    // namespaces the Roles cover are the ones it watches, and the Lease the Role allows is
    // the one it names.
    let watch_namespaces = rendered
        .flag("watch-namespaces")
        .expect("--watch-namespaces");
    assert_eq!(watch_namespaces, watched.join(","));
    let lease_name = rendered.flag("lease-name").expect("--lease-name");
    let operator = support::operator::start_watching(
        ground,
        release,
        &watch_namespaces,
        "chart-rbac",
        &["--lease-name", &lease_name],
        &[("KUBECONFIG", kubeconfig.as_os_str())],
    );

    let ns = watched.last().expect("a watched namespace");
    let app = example("basic.yaml", ns);
    create_app(&admin, &app).await;
    let name = "onboarding";
    wait_condition(&admin, ns, name, ROLES_READY, "True").await;
    wait_endpoint_available(&admin, ns, name).await;
    let ready = wait_condition(&admin, ns, name, READY, "True").await;
    let status = ready.status.expect("status");
    assert!(status.identity_pool_id.is_some(), "{status:?}");
    assert!(status.endpoint_url.is_some(), "{status:?}");

    // It led through the Lease the chart's Role allows, in the release namespace.
    let lease = Api::<Lease>::namespaced(admin.clone(), release)
        .get(&lease_name)
        .await
        .expect("the operator created its Lease");
    assert_eq!(
        lease.spec.and_then(|s| s.holder_identity).as_deref(),
        Some("chart-rbac")
    );

    // It could publish Events on the LivenessApp.
    let events: Api<Event> = Api::namespaced(admin.clone(), ns);
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
    Api::<LivenessApp>::namespaced(admin.clone(), ns)
        .delete(name, &DeleteParams::default())
        .await
        .unwrap();
    eventually(
        "the LivenessApp to be gone",
        Duration::from_secs(90),
        async || {
            Api::<LivenessApp>::namespaced(admin.clone(), ns)
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
