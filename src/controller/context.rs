//! What every reconcile shares: the clients, the parsed operator environment, metrics, the
//! event recorder, and per-app failure counts for exponential backoff.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kube::{Client, ResourceExt};

use super::config::OperatorConfig;
use super::echoes::OwnWrites;
use super::metrics::Metrics;
use super::recorder::EventRecorder;
use crate::aws::LivenessAws;
use crate::crd::LivenessApp;
use crate::env::OperatorEnv;

/// Shared state of the controller.
pub struct Context {
    /// Kubernetes client.
    pub client: Client,
    /// AWS, behind the one trait (the SDK implementation, or a fake in tests).
    pub aws: Arc<dyn LivenessAws>,
    /// Operator flags (resync period, concurrency, …).
    pub config: OperatorConfig,
    /// The parsed settings and the account every plan is built for.
    pub env: OperatorEnv,
    /// Reconcile metrics.
    pub metrics: Arc<Metrics>,
    /// Publishes Events on LivenessApps.
    pub recorder: EventRecorder,
    /// What the app depends on of each owned object, as this process last wrote or saw it
    /// (watch events that leave it as it was are not changes).
    pub own_writes: Arc<OwnWrites>,
    /// Consecutive failures per app uid; an entry goes when its app is deleted.
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    /// A context for `config` and `env`.
    pub fn new(
        client: Client,
        aws: Arc<dyn LivenessAws>,
        config: OperatorConfig,
        env: OperatorEnv,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            recorder: EventRecorder::new(
                client.clone(),
                "liveness-operator",
                &config.holder_identity(),
            ),
            client,
            aws,
            config,
            env,
            metrics,
            own_writes: Arc::default(),
            failures: Mutex::default(),
        }
    }

    /// Counts a failed reconcile of `app`; returns its consecutive failures.
    pub fn record_failure(&self, app: &LivenessApp) -> u32 {
        let mut failures = self.failures();
        let count = failures.entry(key(app)).or_default();
        *count = count.saturating_add(1);
        *count
    }

    /// Resets the failure count of `app`.
    pub fn record_success(&self, app: &LivenessApp) {
        self.failures().remove(&key(app));
    }

    /// Whether the last attempt for `app` failed (and none succeeded since).
    pub fn failing(&self, app: &LivenessApp) -> bool {
        self.failures().contains_key(&key(app))
    }

    /// Forgets `app` (it is being deleted and its finalizer released).
    pub fn forget(&self, app: &LivenessApp) {
        self.failures().remove(&key(app));
    }

    /// Number of apps with a failure count (for tests of the bookkeeping).
    pub fn apps_with_failures(&self) -> usize {
        self.failures().len()
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn key(app: &LivenessApp) -> String {
    app.uid()
        .unwrap_or_else(|| format!("{}/{}", app.namespace().unwrap_or_default(), app.name_any()))
}
