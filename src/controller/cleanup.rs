//! Deletion of a LivenessApp, behind the finalizer: AWS objects go (Delete) or stay
//! (Retain) before the finalizer is removed; the Kubernetes objects are then collected by
//! the garbage collector through their owner references.
//!
//! An app whose spec never validated made no AWS call: with nothing recorded in status
//! there is nothing of ours in AWS, so the finalizer is released without AWS calls. An
//! app edited into an invalid spec after provisioning is cleaned by what was recorded
//! ([`crate::validate::for_cleanup`]).

use kube::runtime::controller::Action;

use super::context::Context;
use super::error::Error;
use super::step::Step;
use super::{events, report};
use crate::aws::KnownPool;
use crate::crd::{DeletionPolicy, LivenessApp};
use crate::plan::aws::desired_aws;
use crate::validate::for_cleanup;

/// Removes (or retains) the app's AWS objects; Ok means the finalizer may go.
pub async fn cleanup(app: &LivenessApp, ctx: &Context) -> Result<Action, Error> {
    match delete_aws_objects(app, ctx).await {
        Ok(action) => {
            ctx.forget(app);
            Ok(action)
        }
        Err(error) => {
            report::failure(app, ctx, &error, None).await;
            Err(error)
        }
    }
}

async fn delete_aws_objects(app: &LivenessApp, ctx: &Context) -> Result<Action, Error> {
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
    let Some(recorded) = for_cleanup(app, &ctx.env) else {
        return Ok(Action::await_change());
    };
    let recorded = recorded.map_err(Error::InvalidSpec)?;
    let desired = desired_aws(&recorded, &ctx.env);
    // A deleted app has had its finalizer, so passes have run: not a first pass.
    let changes = ctx
        .aws
        .delete(
            &desired,
            KnownPool::from_status(app.recorded_pool_id(), false),
        )
        .await
        .map_err(|e| Error::aws(e, Step::Cleanup))?;
    for change in &changes {
        events::change(&ctx.recorder, app, change).await;
    }
    Ok(Action::await_change())
}
