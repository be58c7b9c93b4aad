//! The controller: watches LivenessApps (and the objects they own) and runs the reconcile
//! pipeline for each, one module a step:
//!
//! [`reconcile`] validate → build (pure, `crate::plan`) → apply AWS → apply Kubernetes
//! ([`apply`]) → status ([`status`] and [`endpoint`] decide, [`report`] writes); [`cleanup`] on deletion
//! behind a finalizer. Every failure names its [`step::Step`].
//!
//! This module only wires: the kube-runtime Controller, leader election ([`leader`]),
//! the error policy and the metrics server ([`metrics`]).

pub mod apply;
pub mod cleanup;
pub mod config;
pub mod context;
pub mod echoes;
pub mod endpoint;
pub mod error;
pub mod events;
pub mod freshness;
pub mod keys;
pub mod leader;
pub mod metrics;
pub mod reconcile;
pub mod recorder;
pub mod report;
pub mod status;
pub mod step;

use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, Client, Resource, ResourceExt};

pub use config::OperatorConfig;
pub use context::Context;
pub use error::{Error, ErrorCategory};

use crate::aws::LivenessAws;
use crate::crd::LivenessApp;
use crate::env::AwsAccount;

/// Label every owned object carries, so the controller watches only its own objects.
pub const MANAGED_BY_SELECTOR: &str = "app.kubernetes.io/managed-by=liveness-operator";

/// Parses the settings, builds the clients and the context from `config` and runs the
/// operator (what `liveness-operator run` does). A malformed setting is an error here,
/// naming its flag, before anything else starts.
pub async fn start(config: OperatorConfig) -> anyhow::Result<()> {
    crate::logging::init(config.log_format);
    let flags = config.env_flags().parse().map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        anyhow::anyhow!("invalid settings:\n{}", lines.join("\n"))
    })?;
    let client = Client::try_default().await?;
    let calls = crate::aws::Calls::default();
    // Each app's AWS check runs once a resync; half of that is how stale the shared IAM
    // read may be, so a drift is seen within one and a half resync periods at worst.
    let budget = crate::aws::Budget::new(config.aws_requests_per_second);
    let aws = crate::aws::SdkAws::from_env(calls.clone(), &config.default_region, budget.clone())
        .await
        .with_shared_role_reads(config.resync_period / 2);
    let caller = who_am_i(&aws).await?;
    tracing::info!(account = %caller.account_id, partition = %caller.partition, arn = %caller.arn, "AWS identity");
    let env = flags.with_account(AwsAccount {
        account_id: caller.account_id,
        partition: caller.partition,
    });
    let metrics = Arc::new(metrics::Metrics::new(calls.clone()).with_budget(budget));
    let ctx = Arc::new(Context::new(
        client.clone(),
        Arc::new(aws),
        config.clone(),
        env,
        metrics,
    ));
    run(config, client, ctx).await
}

/// The operator's AWS account and partition, from STS; transient failures are retried
/// (the Deployment's probes are not served yet), a refusal stops the start.
async fn who_am_i(aws: &dyn LivenessAws) -> anyhow::Result<crate::aws::CallerIdentity> {
    let mut failures = 0;
    loop {
        match aws.caller_identity().await {
            Ok(caller) => return Ok(caller),
            Err(e) if e.category() == crate::aws::Category::Transient && failures < 8 => {
                failures += 1;
                tracing::warn!(error = %e, "cannot reach STS yet; retrying");
                tokio::time::sleep(error::backoff(failures)).await;
            }
            Err(e) => anyhow::bail!("cannot tell which AWS account to work in: {e}"),
        }
    }
}

/// Runs the operator until SIGTERM/ctrl-c, or until leadership is lost (then returns an
/// error so the process exits and its replacement stands in line again).
pub async fn run(config: OperatorConfig, client: Client, ctx: Arc<Context>) -> anyhow::Result<()> {
    let metrics = ctx.metrics.clone();
    let listener = metrics::bind(config.metrics_addr).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on --metrics-addr {}: {e}",
            config.metrics_addr
        )
    })?;
    let metrics_server = tokio::spawn(metrics::serve(listener, metrics.clone()));
    client.apiserver_version().await?;
    metrics.set_ready(true);

    let elector = config.leader_election.then(|| {
        leader::LeaderElector::new(
            client.clone(),
            leader::LeaseConfig {
                namespace: config.lease_namespace.clone(),
                name: config.lease_name.clone(),
                holder: config.holder_identity(),
                duration: config.lease_duration,
                retry: config.lease_duration / 3,
            },
        )
    });
    if let Some(elector) = &elector {
        tracing::info!(identity = %config.holder_identity(), "waiting for leadership");
        tokio::select! {
            acquired = elector.acquire() => acquired?,
            _ = shutdown_signal() => return Ok(()),
        }
        metrics.set_leader(true);
    }

    let controllers = futures::future::join_all(
        watched_apis(&client, &config.watch_namespaces)
            .into_iter()
            .map(|apis| run_controller(apis, &config, ctx.clone())),
    );
    let lost_leadership = async {
        match &elector {
            Some(elector) => elector.keep_renewing().await,
            None => std::future::pending().await,
        }
    };
    // Series of events stop being counted on after a few minutes, also when no event
    // comes to push them out (a fleet in steady state publishes none).
    let forget_old_events = async {
        let mut every = tokio::time::interval(recorder::FORGET_PERIOD);
        loop {
            every.tick().await;
            ctx.recorder.forget_old();
        }
    };
    let result = tokio::select! {
        _ = controllers => Ok(()),
        _ = forget_old_events => Ok(()),
        _ = shutdown_signal() => Ok(()),
        _ = lost_leadership => Err(anyhow::anyhow!("lost leadership; exiting so a new leader can take over")),
    };
    if let Some(elector) = &elector {
        elector.release().await;
        metrics.set_leader(false);
    }
    metrics_server.abort();
    result
}

/// The watched APIs of one namespace (or of all namespaces); owned kinds as metadata only,
/// but for the Deployment, whose status EndpointReady reports.
struct WatchedApis {
    apps: Api<LivenessApp>,
    deployments: Api<Deployment>,
    services: Api<PartialObjectMeta<Service>>,
    config_maps: Api<PartialObjectMeta<ConfigMap>>,
    service_accounts: Api<PartialObjectMeta<ServiceAccount>>,
    ingresses: Api<PartialObjectMeta<Ingress>>,
}

fn watched_apis(client: &Client, namespaces: &[String]) -> Vec<WatchedApis> {
    let scoped = |ns: Option<&str>| WatchedApis {
        apps: scoped_api(client, ns),
        deployments: scoped_api(client, ns),
        services: scoped_api(client, ns),
        config_maps: scoped_api(client, ns),
        service_accounts: scoped_api(client, ns),
        ingresses: scoped_api(client, ns),
    };
    if namespaces.is_empty() {
        vec![scoped(None)]
    } else {
        namespaces.iter().map(|ns| scoped(Some(ns))).collect()
    }
}

fn scoped_api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Triggers of one app within this long make one reconcile: the objects a first reconcile
/// creates report back at once, and by the time the next one runs the store holds the
/// status that first reconcile wrote (so it need not read AWS again).
const RECONCILE_DEBOUNCE: std::time::Duration = std::time::Duration::from_secs(1);

/// What of a LivenessApp starts a reconcile: its spec (the generation) and its deletion.
/// Status writes (the operator's own), the finalizer it adds and other metadata do not: a
/// reconcile they would start has nothing new to do, and at a thousand apps those were most
/// reconciles (a removed finalizer is put back by the next resync).
fn spec_or_deletion(app: &LivenessApp) -> Option<u64> {
    let meta = app.meta();
    let generation = meta.generation.unwrap_or_default().unsigned_abs();
    Some(generation * 2 + u64::from(meta.deletion_timestamp.is_some()))
}

async fn run_controller(apis: WatchedApis, config: &OperatorConfig, ctx: Arc<Context>) {
    let owned = watcher::Config::default().labels(MANAGED_BY_SELECTOR);
    let (store, writer) = reflector::store();
    // The store keeps every app for the reconciles; managedFields are never read, and are
    // often the larger part of an object.
    let apps = watcher(apis.apps, watcher::Config::default())
        .default_backoff()
        .modify(|app: &mut LivenessApp| app.managed_fields_mut().clear())
        .reflect(writer)
        .applied_objects()
        .predicate_filter(spec_or_deletion, Default::default());
    // Owned objects start a reconcile when someone else changed what the app depends on,
    // not on the echo of the operator's own apply.
    let writes = ctx.own_writes.clone();
    Controller::for_stream(apps, store)
        .owns_stream(echoes::owned_changes(
            apis.deployments,
            owned.clone(),
            writes.clone(),
        ))
        .owns_stream(echoes::owned_changes(
            apis.services,
            owned.clone(),
            writes.clone(),
        ))
        .owns_stream(echoes::owned_changes(
            apis.config_maps,
            owned.clone(),
            writes.clone(),
        ))
        .owns_stream(echoes::owned_changes(
            apis.service_accounts,
            owned.clone(),
            writes.clone(),
        ))
        .owns_stream(echoes::owned_changes(apis.ingresses, owned, writes))
        .with_config(
            kube::runtime::controller::Config::default()
                .concurrency(config.concurrency)
                .debounce(RECONCILE_DEBOUNCE),
        )
        .shutdown_on_signal()
        .run(reconcile::reconcile, error_policy, ctx)
        .for_each(|result| async move {
            match result {
                // Already reported (status, event, warn log) by the reconcile itself.
                Err(kube::runtime::controller::Error::ReconcilerFailed(..)) => {}
                Err(error) => tracing::warn!(%error, "controller error"),
                Ok(_) => {}
            }
        })
        .await;
}

/// What to do after a failed reconcile: wait for a spec change when the spec is wrong,
/// back off exponentially (capped) when the failure is transient.
fn error_policy(app: Arc<LivenessApp>, error: &Error, ctx: Arc<Context>) -> Action {
    let failures = ctx.record_failure(&app);
    match error.category() {
        ErrorCategory::InvalidSpec => Action::await_change(),
        ErrorCategory::NeedsChange => Action::requeue(ctx.config.resync_period),
        ErrorCategory::Transient => Action::requeue(error::backoff(failures)),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
