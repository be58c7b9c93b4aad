//! Deletion of a LivenessApp, behind the finalizer: AWS objects go (Delete) or stay
//! (Retain) before the finalizer is removed; the Kubernetes objects are then collected by
//! the garbage collector through their owner references.
//!
//! An app whose spec never validated made no AWS call, and one with an invalid region
//! cannot be cleaned in that region anyway: with nothing recorded in status there is
//! nothing of ours in AWS, so the finalizer is released without AWS calls.

use kube::runtime::controller::Action;

use super::context::Context;
use super::error::Error;
use super::{events, reconcile};
use crate::crd::{DeletionPolicy, LivenessApp};
use crate::validate::validate_app;

/// Removes (or retains) the app's AWS objects; Ok means the finalizer may go.
pub async fn cleanup(app: &LivenessApp, ctx: &Context) -> Result<Action, Error> {
    let status = app.status.clone().unwrap_or_default();
    let never_provisioned = status.identity_pool_id.is_none();
    if never_provisioned && !validate_app(app, &ctx.validation).is_empty() {
        return Ok(Action::await_change());
    }
    if app.spec.deletion_policy == DeletionPolicy::Retain {
        events::normal(
            &ctx.recorder,
            app,
            "Retained",
            "deletionPolicy is Retain: the identity pool and roles stay in AWS".into(),
        )
        .await;
        return Ok(Action::await_change());
    }
    // The objects live where they were made, even if spec.region was edited since.
    let mut recorded = app.clone();
    if let Some((region, _)) = status
        .identity_pool_id
        .as_deref()
        .and_then(|id| id.split_once(':'))
    {
        recorded.spec.region = region.to_string();
    }
    let desired = reconcile::desired_state(&recorded, ctx).await?;
    match ctx
        .aws
        .delete(&desired, status.identity_pool_id.as_deref())
        .await
    {
        Ok(changes) => {
            for change in &changes {
                events::change(&ctx.recorder, app, change).await;
            }
            Ok(Action::await_change())
        }
        Err(error) => {
            events::warning(
                &ctx.recorder,
                app,
                "CleanupFailed",
                format!("{error}; the LivenessApp stays until AWS clean-up succeeds"),
            )
            .await;
            Err(error.into())
        }
    }
}
