//! One reconcile of one LivenessApp, as a pipeline:
//! validate → build (pure) → apply AWS → apply Kubernetes → status.
//!
//! Each step either hands the next one its input or ends the pipeline with an [`Error`]
//! that names the step; [`report`] then writes the status, the Warning event and the log
//! line, so `kubectl describe` always says what happened for the current generation.

use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::{Api, ResourceExt};

use super::context::Context;
use super::error::Error;
use super::report::Provisioning;
use super::status::{Observation, aws_ready_observations};
use super::step::Step;
use super::{apply, cleanup, echoes, endpoint, events, freshness, keys, report};
use crate::aws::KnownPool;
use crate::crd::{FINALIZER, LivenessApp};
use crate::plan::aws::desired_aws;
use crate::plan::kube::{AwsIds, DesiredKube, desired_kube};
use crate::plan::route::{HTTPRoute, RouteObject};
use crate::validate::validate;

/// Entry point for the kube-runtime Controller.
#[tracing::instrument(
    skip_all,
    fields(app = %format!("{}/{}", app.namespace().unwrap_or_default(), app.name_any()),
           generation = app.metadata.generation.unwrap_or_default())
)]
pub async fn reconcile(app: Arc<LivenessApp>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    tracing::debug!("reconcile started");
    let namespace = app.namespace().unwrap_or_default();
    let api: Api<LivenessApp> = Api::namespaced(ctx.client.clone(), &namespace);
    let finalized = async {
        let (app, first_pass) = with_finalizer(&api, app).await?;
        finalizer(&api, FINALIZER, app, |event| async {
            match event {
                FinalizerEvent::Apply(app) => apply_app(&app, &ctx, first_pass).await,
                FinalizerEvent::Cleanup(app) => cleanup::cleanup(&app, &ctx).await,
            }
        })
        .await
    };
    let result = finalized.await.map_err(|e| match e {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        other => {
            let error = Error::Finalizer(other.to_string());
            tracing::warn!(%error, "could not add or remove the finalizer");
            error
        }
    });
    ctx.metrics.reconciled(
        started.elapsed().as_secs_f64(),
        result.as_ref().err().map(Error::category),
    );
    result
}

/// The app with our finalizer, added now if it is missing (and the app is not being
/// deleted), so this same reconcile goes on to apply: kube's helper would add it and wait
/// for the change to come back as a second reconcile. `true` when it was added now: no
/// earlier reconcile reached AWS, so nothing of the app can be there unrecorded.
async fn with_finalizer(
    api: &Api<LivenessApp>,
    app: Arc<LivenessApp>,
) -> Result<(Arc<LivenessApp>, bool), kube::runtime::finalizer::Error<Error>> {
    if app.metadata.deletion_timestamp.is_some() || app.finalizers().iter().any(|f| f == FINALIZER)
    {
        return Ok((app, false));
    }
    // With the resourceVersion we read: a concurrent change makes this a conflict (retried)
    // instead of dropping someone else's finalizer.
    let mut finalizers = app.finalizers().to_vec();
    finalizers.push(FINALIZER.to_string());
    let patch = serde_json::json!({"metadata": {
        "finalizers": finalizers,
        "resourceVersion": app.resource_version(),
    }});
    api.patch(
        &app.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .map(|app| (Arc::new(app), true))
    .map_err(kube::runtime::finalizer::Error::AddFinalizer)
}

/// How soon an app is reconciled again when one of its objects changed while it was
/// written (the change may be someone else's, made after the write).
const LOOK_AGAIN: std::time::Duration = std::time::Duration::from_secs(1);

async fn apply_app(app: &LivenessApp, ctx: &Context, first_pass: bool) -> Result<Action, Error> {
    let mut provisioned = None;
    let mut next = ctx.config.resync_period;
    let result = match pipeline(app, ctx, first_pass, &mut provisioned).await {
        Ok(outcome) => {
            // Pod troubles (an image that cannot be pulled) change nothing we watch.
            if outcome.endpoint.status != "True" {
                next = next.min(endpoint::UNAVAILABLE_RECHECK);
            }
            if outcome.look_again {
                next = next.min(LOOK_AGAIN);
            }
            let done = provisioned.as_ref().expect("the AWS step ran");
            let mut observations = aws_ready_observations(&done.aws);
            observations.push(outcome.endpoint);
            report::status(app, ctx, observations, None, Some(done), None).await
        }
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => {
            ctx.record_success(app);
            Ok(Action::requeue(next))
        }
        Err(error) => {
            report::failure(app, ctx, &error, provisioned.as_ref()).await;
            Err(error)
        }
    }
}

/// Steps 1–4; `provisioned` keeps what the AWS step made even when a later step fails.
async fn pipeline(
    app: &LivenessApp,
    ctx: &Context,
    first_pass: bool,
    provisioned: &mut Option<Provisioning>,
) -> Result<Outcome, Error> {
    // 1. validate: an invalid spec gets its problems in status and touches no AWS object.
    let app_ok = validate(app, &ctx.env).map_err(Error::InvalidSpec)?;
    // 2. build the desired AWS state (pure).
    let desired = desired_aws(&app_ok, &ctx.env);
    // 3. apply AWS, unless a recent check of this generation is on record.
    let now = Timestamp::now();
    let trusted = freshness::recorded(app, ctx.config.resync_period, ctx.failing(app), now);
    let (done, verified) = match trusted {
        Some(trusted) => trusted,
        None => {
            let known = KnownPool::from_status(app.recorded_pool_id(), first_pass);
            let done = ctx
                .aws
                .ensure(&desired, known)
                .await
                .map_err(|e| Error::aws(e, Step::IdentityPool))?;
            for change in &done.changes {
                events::change(&ctx.recorder, app, change).await;
            }
            (done, freshness::verified_now(app, now))
        }
    };
    let done = &provisioned
        .insert(Provisioning {
            identity: app_ok.identity.clone(),
            aws: done,
            endpoint_url: app_ok.endpoint_url(),
            verified,
        })
        .aws;
    // 4. apply Kubernetes.
    let keys = keys::material(ctx, &app_ok).await?;
    let objects = desired_kube(
        &app_ok,
        &ctx.env,
        AwsIds {
            identity_pool_id: &done.identity_pool_id,
            backend_role_arn: &done.backend_role_arn,
        },
        &keys,
    );
    let applied = apply_objects(ctx, &objects, &app_ok.uid).await?;
    let deployment = &applied.deployment;
    let pods = if endpoint::short_of_replicas(deployment) {
        endpoint::pods_of(ctx, &app_ok.identity).await
    } else {
        Vec::new()
    };
    Ok(Outcome {
        endpoint: endpoint::observation(deployment, &pods),
        look_again: applied.changed_meanwhile,
    })
}

/// What a pipeline that went through reports.
struct Outcome {
    /// EndpointReady.
    endpoint: Observation,
    /// An owned object changed while it was written: reconcile again soon.
    look_again: bool,
}

/// The Kubernetes objects as applied: the Deployment as stored, and whether a watched
/// object changed while it was written (the app is then looked at again soon).
struct Applied {
    deployment: Deployment,
    changed_meanwhile: bool,
}

async fn apply_objects(
    ctx: &Context,
    objects: &DesiredKube,
    owner_uid: &str,
) -> Result<Applied, Error> {
    // The key Secret is not watched (a hand edit of it waits for the next check).
    apply::apply(&ctx.client, &objects.keys, owner_uid).await?;
    let mut changed_meanwhile = apply_watched(ctx, &objects.service_account, owner_uid)
        .await?
        .1;
    changed_meanwhile |= apply_watched(ctx, &objects.config_map, owner_uid).await?.1;
    changed_meanwhile |= apply_watched(ctx, &objects.service, owner_uid).await?.1;
    let (deployment, meanwhile) = apply_watched(ctx, &objects.deployment, owner_uid).await?;
    changed_meanwhile |= meanwhile;
    changed_meanwhile |= apply_route(ctx, objects, owner_uid).await?;
    Ok(Applied {
        deployment,
        changed_meanwhile,
    })
}

/// Applies an object the controller watches, so that the echo of the write starts no
/// reconcile; also whether it changed otherwise while being written.
async fn apply_watched<K>(
    ctx: &Context,
    object: &K,
    owner_uid: &str,
) -> Result<(K, bool), apply::ApplyError>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + echoes::Relevant
        + serde::Serialize
        + serde::de::DeserializeOwned
        + Clone
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let write = ctx.own_writes.writing(object);
    let stored = apply::apply(&ctx.client, object, owner_uid).await?;
    let changed_meanwhile = write.done(&stored);
    Ok((stored, changed_meanwhile))
}

/// The route the app asks for, and no other: a route of the other kind (or any, when
/// the app is no longer exposed) is deleted. `true` as for [`apply_watched`].
async fn apply_route(ctx: &Context, objects: &DesiredKube, owner_uid: &str) -> Result<bool, Error> {
    let client = &ctx.client;
    let name = objects.service.name_any();
    let namespace = objects.service.namespace().unwrap_or_default();
    let kube = Error::kube(Step::KubeObjects);
    match &objects.route {
        Some(RouteObject::Ingress(ingress)) => {
            let (_, changed_meanwhile) = apply_watched(ctx, ingress, owner_uid).await?;
            bounded(apply::delete_owned::<HTTPRoute>(
                client, &namespace, &name, owner_uid,
            ))
            .await?
            .map_err(kube)?;
            Ok(changed_meanwhile)
        }
        Some(RouteObject::HttpRoute(route)) => {
            match bounded(apply::apply(client, route, owner_uid)).await? {
                Err(apply::ApplyError::Kube(kube::Error::Api(status))) if status.code == 404 => {
                    return Err(Error::RouteApiMissing);
                }
                applied => applied?,
            };
            apply::delete_owned::<Ingress>(client, &namespace, &name, owner_uid)
                .await
                .map_err(kube)?;
            Ok(false)
        }
        None => {
            apply::delete_owned::<Ingress>(client, &namespace, &name, owner_uid)
                .await
                .map_err(Error::kube(Step::KubeObjects))?;
            bounded(apply::delete_owned::<HTTPRoute>(
                client, &namespace, &name, owner_uid,
            ))
            .await?
            .map_err(kube)?;
            Ok(false)
        }
    }
}

/// Gateway API calls with a deadline: the HTTPRoute API may be half installed or being
/// removed, and a call that hangs must not stall the app's reconciles.
async fn bounded<T>(call: impl std::future::Future<Output = T>) -> Result<T, Error> {
    const DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);
    tokio::time::timeout(DEADLINE, call)
        .await
        .map_err(|_| Error::ApiTimeout("a Gateway API (HTTPRoute) call took over 10 s".into()))
}
