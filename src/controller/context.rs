//! What every reconcile shares: the clients, the operator's configuration, metrics, the
//! event recorder, and per-app failure counts for exponential backoff.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kube::runtime::events::{Recorder, Reporter};
use kube::{Client, ResourceExt};
use tokio::sync::OnceCell;

use super::config::OperatorConfig;
use super::error::Error;
use super::metrics::Metrics;
use crate::aws::LivenessAws;
use crate::crd::LivenessApp;
use crate::plan::aws::AwsEnv;
use crate::validate::ValidationContext;

/// Shared state of the controller.
pub struct Context {
    /// Kubernetes client.
    pub client: Client,
    /// AWS, behind the one trait (the SDK implementation, or a fake in tests).
    pub aws: Arc<dyn LivenessAws>,
    /// Operator flags.
    pub config: OperatorConfig,
    /// What validation needs from the flags.
    pub validation: ValidationContext,
    /// Reconcile metrics.
    pub metrics: Arc<Metrics>,
    /// Publishes Events on LivenessApps.
    pub recorder: Recorder,
    account_id: OnceCell<String>,
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    /// A context for `config`.
    pub fn new(
        client: Client,
        aws: Arc<dyn LivenessAws>,
        config: OperatorConfig,
        metrics: Arc<Metrics>,
    ) -> Self {
        let reporter = Reporter {
            controller: "liveness-operator".into(),
            instance: Some(config.holder_identity()),
        };
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            validation: ValidationContext {
                extra_regions: config.extra_liveness_regions.clone(),
            },
            client,
            aws,
            config,
            metrics,
            account_id: OnceCell::new(),
            failures: Mutex::default(),
        }
    }

    /// Account, partition, cluster and OIDC provider for the plan (the account is asked
    /// of AWS once).
    pub async fn aws_env(&self) -> Result<AwsEnv, Error> {
        let account_id = self
            .account_id
            .get_or_try_init(|| async { self.aws.caller_identity().await.map(|id| id.account_id) })
            .await?
            .clone();
        Ok(AwsEnv {
            account_id,
            partition: "aws".into(),
            cluster: self.config.cluster_name.clone(),
            oidc_provider: self.config.oidc_provider.clone(),
        })
    }

    /// Counts a failed reconcile of `app`; returns its consecutive failures.
    pub fn record_failure(&self, app: &LivenessApp) -> u32 {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let count = failures.entry(key(app)).or_default();
        *count = count.saturating_add(1);
        *count
    }

    /// Resets the failure count of `app`.
    pub fn record_success(&self, app: &LivenessApp) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&key(app));
    }
}

fn key(app: &LivenessApp) -> String {
    format!("{}/{}", app.namespace().unwrap_or_default(), app.name_any())
}
