//! One reconcile of one LivenessApp, as a pipeline:
//! validate → build (pure) → apply AWS → apply Kubernetes → status.
//!
//! Each step either hands the next one its input or ends the pipeline with an error whose
//! category the error policy acts on. Status is written on every path, so `kubectl
//! describe` always says what happened for the current generation, and what to fix.

use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::{Api, ResourceExt};
use serde_json::json;

use super::context::Context;
use super::error::Error;
use super::status::{
    Observation, aws_failure_observations, aws_ready_observations, conditions,
    endpoint_observation, failure_reason,
};
use super::{apply, cleanup, events};
use crate::aws::Provisioned;
use crate::crd::{FIELD_MANAGER, FINALIZER, LivenessApp, LivenessAppStatus, condition};
use crate::names::AppIdentity;
use crate::plan::aws::{AppRef, DesiredAws, desired_aws};
use crate::plan::kube::{KubeInputs, desired_kube};
use crate::validate::validate_app;

/// Entry point for the kube-runtime Controller.
pub async fn reconcile(app: Arc<LivenessApp>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let namespace = app.namespace().unwrap_or_default();
    let api: Api<LivenessApp> = Api::namespaced(ctx.client.clone(), &namespace);
    let result = finalizer(&api, FINALIZER, app, |event| async {
        match event {
            FinalizerEvent::Apply(app) => apply_app(&app, &ctx).await,
            FinalizerEvent::Cleanup(app) => cleanup::cleanup(&app, &ctx).await,
        }
    })
    .await
    .map_err(|e| match e {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        other => Error::Finalizer(other.to_string()),
    });
    ctx.metrics.reconciled(
        started.elapsed().as_secs_f64(),
        result.as_ref().err().map(Error::category),
    );
    result
}

async fn apply_app(app: &LivenessApp, ctx: &Context) -> Result<Action, Error> {
    // 1. validate: an invalid spec gets its problems in status and touches no AWS object.
    let problems = validate_app(app, &ctx.validation);
    if !problems.is_empty() {
        let message = problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        let observations = [
            condition::IDENTITY_POOL_READY,
            condition::ROLES_READY,
            condition::ENDPOINT_READY,
        ]
        .map(|type_| Observation::unknown(type_, "InvalidSpec", message.clone()))
        .to_vec();
        write_status(app, ctx, observations, None).await?;
        events::warning(&ctx.recorder, app, "InvalidSpec", message).await;
        return Err(Error::InvalidSpec(problems));
    }

    // 2. build the desired AWS state (pure).
    let desired = desired_state(app, ctx).await?;

    // 3. apply AWS.
    let known_pool_id = app
        .status
        .as_ref()
        .and_then(|s| s.identity_pool_id.as_deref());
    let provisioned = match ctx.aws.ensure(&desired, known_pool_id).await {
        Ok(provisioned) => provisioned,
        Err(error) => {
            let observations = aws_failure_observations(&error);
            write_status(app, ctx, observations, None).await?;
            events::warning(
                &ctx.recorder,
                app,
                failure_reason(&error),
                error.to_string(),
            )
            .await;
            return Err(error.into());
        }
    };
    for change in &provisioned.changes {
        events::change(&ctx.recorder, app, change).await;
    }

    // 4. apply Kubernetes.
    let objects = desired_kube(
        app,
        &KubeInputs {
            cluster: &ctx.config.cluster_name,
            image: &ctx.config.endpoint_image,
            identity_pool_id: &provisioned.identity_pool_id,
            backend_role_arn: &provisioned.backend_role_arn,
        },
    )?;
    let applied = async {
        apply::apply(&ctx.client, &objects.service_account).await?;
        apply::apply(&ctx.client, &objects.config_map).await?;
        apply::apply(&ctx.client, &objects.service).await?;
        apply::apply(&ctx.client, &objects.deployment).await
    }
    .await;
    let endpoint = match applied {
        Ok(deployment) => endpoint_observation(&deployment),
        Err(error) => {
            let message = format!("could not apply the endpoint objects: {error}");
            let mut observations = aws_ready_observations(&provisioned);
            observations.push(Observation::failed(
                condition::ENDPOINT_READY,
                "ApplyFailed",
                message.clone(),
            ));
            write_status(app, ctx, observations, Some(&provisioned)).await?;
            events::warning(&ctx.recorder, app, "ApplyFailed", message).await;
            return Err(error.into());
        }
    };

    // 5. status.
    let mut observations = aws_ready_observations(&provisioned);
    observations.push(endpoint);
    write_status(app, ctx, observations, Some(&provisioned)).await?;
    ctx.record_success(app);
    Ok(Action::requeue(ctx.config.resync_period))
}

/// The desired AWS state of `app` (also used by clean-up).
pub async fn desired_state(app: &LivenessApp, ctx: &Context) -> Result<DesiredAws, Error> {
    let env = ctx.aws_env().await?;
    let namespace = app.namespace().unwrap_or_default();
    let uid = app.uid().unwrap_or_default();
    Ok(desired_aws(
        &app.spec,
        AppRef {
            namespace: &namespace,
            name: &app.name_any(),
            uid: &uid,
        },
        &env,
    )?)
}

/// Server-side applies the status subresource with the conditions for this generation.
async fn write_status(
    app: &LivenessApp,
    ctx: &Context,
    observations: Vec<Observation>,
    provisioned: Option<&Provisioned>,
) -> Result<(), Error> {
    let generation = app.metadata.generation.unwrap_or_default();
    let previous = app.status.clone().unwrap_or_default();
    let identity = AppIdentity {
        cluster: ctx.config.cluster_name.clone(),
        namespace: app.namespace().unwrap_or_default(),
        name: app.name_any(),
    };
    let status = LivenessAppStatus {
        observed_generation: Some(generation),
        conditions: conditions(
            &previous.conditions,
            observations,
            generation,
            Timestamp::now(),
        ),
        identity_pool_id: provisioned
            .map(|p| p.identity_pool_id.clone())
            .or(previous.identity_pool_id),
        identity_pool_adopted: provisioned
            .map(|p| p.identity_pool_adopted)
            .or(previous.identity_pool_adopted),
        client_role_arn: provisioned
            .map(|p| p.client_role_arn.clone())
            .or(previous.client_role_arn),
        guest_role_arn: match provisioned {
            Some(p) => p.guest_role_arn.clone(),
            None => previous.guest_role_arn,
        },
        backend_role_arn: provisioned
            .map(|p| p.backend_role_arn.clone())
            .or(previous.backend_role_arn),
        endpoint_url: provisioned
            .map(|_| identity.endpoint_url())
            .or(previous.endpoint_url),
        frontend_config_map: provisioned
            .map(|_| identity.config_map_name())
            .or(previous.frontend_config_map),
    };
    let patch = json!({
        "apiVersion": "faceliveness.dev/v1alpha1",
        "kind": "LivenessApp",
        "status": status,
    });
    let api: Api<LivenessApp> = Api::namespaced(ctx.client.clone(), &identity.namespace);
    api.patch_status(
        &identity.name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    Ok(())
}
