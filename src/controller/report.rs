//! The one place that tells the user what a reconcile found: the status subresource, the
//! Warning event and the warn-level log line of a failure are all written here, so no
//! failure can end a reconcile silently.

use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use super::context::Context;
use super::error::{Error, ErrorCategory};
use super::events;
use super::status::{Observation, Stall, conditions, failure_observations};
use super::step::Step;
use crate::aws::Provisioned;
use crate::crd::{AwsVerified, FIELD_MANAGER, LivenessApp, LivenessAppStatus};
use crate::names::AppIdentity;

/// What the AWS step made, for the app identity the status names derive from.
#[derive(Clone, Debug)]
pub struct Provisioning {
    /// The validated app's identity.
    pub identity: AppIdentity,
    /// The AWS objects.
    pub aws: Provisioned,
    /// Where browsers reach the endpoint ([`crate::validate::ValidatedApp::endpoint_url`]).
    pub endpoint_url: String,
    /// When AWS was last read for it: now, or the earlier check this reconcile trusted.
    pub verified: AwsVerified,
}

/// Reports `error`: its step's condition (unless the status itself failed), a Warning
/// event with the reason and the fix, and a warn log line in the reconcile's span.
pub async fn failure(
    app: &LivenessApp,
    ctx: &Context,
    error: &Error,
    provisioned: Option<&Provisioning>,
) {
    tracing::warn!(
        step = error.step().as_str(),
        reason = error.reason(),
        category = error.category().as_str(),
        %error,
        "reconcile failed"
    );
    if error.step() != Step::Status {
        let observations = failure_observations(error, provisioned.map(|p| &p.aws));
        let stall = match error.category() {
            ErrorCategory::Transient => None,
            ErrorCategory::InvalidSpec | ErrorCategory::NeedsChange => Some(Stall {
                reason: error.reason().to_string(),
                message: error.to_string(),
            }),
        };
        let found_pool = match error {
            Error::Aws { source, .. } => source.pool_id(),
            _ => None,
        };
        let written = status(
            app,
            ctx,
            observations,
            stall.as_ref(),
            provisioned,
            found_pool,
        );
        if let Err(status_error) = written.await {
            tracing::warn!(error = %status_error, "could not write the status");
        }
    }
    let mut note = error.to_string();
    if error.step() == Step::Cleanup {
        note.push_str("; the LivenessApp stays until AWS clean-up succeeds");
    }
    events::warning(&ctx.recorder, app, error.reason(), note).await;
}

/// Server-side applies the status subresource with the conditions for this generation.
/// `found_pool`: the app's pool as a failed AWS pass found it (kept for the next attempt).
pub async fn status(
    app: &LivenessApp,
    ctx: &Context,
    observations: Vec<Observation>,
    stall: Option<&Stall>,
    done: Option<&Provisioning>,
    found_pool: Option<&str>,
) -> Result<(), Error> {
    let generation = app.metadata.generation.unwrap_or_default();
    let previous = app.status.clone().unwrap_or_default();
    let provisioned = done.map(|d| &d.aws);
    let status = LivenessAppStatus {
        observed_generation: Some(generation),
        conditions: conditions(
            &previous.conditions,
            observations,
            stall,
            generation,
            Timestamp::now(),
        ),
        identity_pool_id: provisioned
            .map(|p| p.identity_pool_id.clone())
            .or(found_pool.map(str::to_string))
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
        endpoint_url: done
            .map(|d| d.endpoint_url.clone())
            .or(previous.endpoint_url),
        frontend_config_map: done
            .map(|d| d.identity.config_map_name())
            .or(previous.frontend_config_map),
        aws_verified: done.map(|d| d.verified.clone()).or(previous.aws_verified),
    };
    let patch = json!({
        "apiVersion": "faceliveness.dev/v1alpha1",
        "kind": "LivenessApp",
        "status": status,
    });
    let api: Api<LivenessApp> =
        Api::namespaced(ctx.client.clone(), &app.namespace().unwrap_or_default());
    api.patch_status(
        &app.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await
    .map_err(Error::kube(Step::Status))?;
    Ok(())
}
