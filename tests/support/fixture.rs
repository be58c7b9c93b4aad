//! The fixture of the operator's end-to-end tests: a namespace of its own, the operator
//! process watching it, and the names it derives.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Event;
use kube::api::{DeleteParams, ListParams};
use kube::{Api, Client};
use liveness_operator::contract::{EndpointSettings, SETTINGS_ENV};
use liveness_operator::crd::{LivenessApp, condition::*};
use liveness_operator::names::AppIdentity;

use super::kube::{
    create_app, create_namespace, example, get_app, wait_condition, wait_endpoint_available,
};
use super::operator::{OperatorProcess, eventually};
use super::testground::{TestGround, unique};

pub struct Fixture {
    pub ground: &'static TestGround,
    pub client: Client,
    pub ns: String,
}

/// The namespace goes when the test ends: its pods stop (the node has room for a few tests'
/// pods at a time, not for the suite's). LivenessApps keep their finalizer without an
/// operator, so the namespace may stay Terminating; its pods and workloads go.
impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self
            .ground
            .kubectl()
            .args(["delete", "namespace", &self.ns, "--wait=false"])
            .output();
    }
}

impl Fixture {
    pub async fn new(prefix: &str) -> Self {
        let ground = super::testground::ensure();
        super::kube::install_crd(ground);
        let client = ground.kube_client().await;
        let ns = unique(prefix);
        create_namespace(&client, &ns).await;
        Self { ground, client, ns }
    }

    pub fn operator(&self, identity: &str) -> OperatorProcess {
        super::operator::start(self.ground, &self.ns, identity, &[])
    }

    /// Names the operator derives for `app` (the tests run it with --cluster-name = ns).
    pub fn identity(&self, app: &str) -> AppIdentity {
        AppIdentity {
            cluster: self.ns.clone(),
            namespace: self.ns.clone(),
            name: app.into(),
        }
    }

    pub fn apps(&self) -> Api<LivenessApp> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    pub async fn wait_ready(&self, name: &str) -> LivenessApp {
        wait_condition(&self.client, &self.ns, name, ROLES_READY, "True").await;
        wait_endpoint_available(&self.client, &self.ns, name).await;
        wait_condition(&self.client, &self.ns, name, READY, "True").await
    }

    /// Creates `app`, waits until its AWS objects are in sync; returns its pool id.
    pub async fn provision(&self, app: &LivenessApp) -> String {
        create_app(&self.client, app).await;
        let name = app.metadata.name.as_deref().unwrap();
        let app = wait_condition(&self.client, &self.ns, name, ROLES_READY, "True").await;
        app.status.unwrap().identity_pool_id.unwrap()
    }

    /// Deletes the app and waits until the finalizer let it go.
    pub async fn delete_and_wait_gone(&self, name: &str) {
        self.apps()
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
        eventually(
            &format!("{name} gone"),
            Duration::from_secs(60),
            async || {
                get_app(&self.client, &self.ns, name)
                    .await
                    .is_none()
                    .then_some(())
            },
        )
        .await;
    }

    pub async fn event_reasons(&self, app: &str) -> Vec<String> {
        self.events(app)
            .await
            .into_iter()
            .map(|(reason, _)| reason)
            .collect()
    }

    /// (reason, message) of the events on `app`.
    pub async fn events(&self, app: &str) -> Vec<(String, String)> {
        let events: Api<Event> = Api::namespaced(self.client.clone(), &self.ns);
        let list = events.list(&ListParams::default()).await.unwrap();
        list.items
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(app))
            .map(|e| (e.reason.unwrap_or_default(), e.message.unwrap_or_default()))
            .collect()
    }
}

/// The settings the operator gave the endpoint (the one contract between them).
pub fn endpoint_settings(deployment: &Deployment) -> EndpointSettings {
    let env = deployment_env(deployment);
    let json = env.get(SETTINGS_ENV).expect("the settings variable");
    EndpointSettings::from_json(json).expect("settings parse")
}

pub fn deployment_env(deployment: &Deployment) -> BTreeMap<String, String> {
    let pod = deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap();
    pod.containers[0]
        .env
        .iter()
        .flatten()
        .filter_map(|e| Some((e.name.clone(), e.value.clone()?)))
        .collect()
}

/// The basic example under another name.
pub fn named(namespace: &str, name: &str) -> LivenessApp {
    let mut app = example("basic.yaml", namespace);
    app.metadata.name = Some(name.into());
    app
}
