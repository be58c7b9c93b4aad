//! Whether a reconcile must read AWS, or may trust what the status recorded. Most
//! reconciles are not about AWS at all: a Deployment's rollout, a pod coming up, a child
//! edited by hand. Re-reading every role and the pool for each of them costs ~15 calls a
//! time against account-wide IAM limits. AWS is read again only when the spec changed (a
//! new generation), when a step failed since, or when the last verification is older than
//! the resync period, so each app's AWS objects are still checked once a resync.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use crate::aws::Provisioned;
use crate::crd::{AwsVerified, LivenessApp, condition};

/// What the last verification of `app` found, and that verification, when this reconcile
/// may trust it (at `now`, with `resync`, and `failing` when an attempt failed since the
/// last success).
pub fn recorded(
    app: &LivenessApp,
    resync: Duration,
    failing: bool,
    now: Timestamp,
) -> Option<(Provisioned, AwsVerified)> {
    if failing {
        return None;
    }
    let status = app.status.as_ref()?;
    let verified = status.aws_verified.as_ref()?;
    let generation = app.metadata.generation.unwrap_or_default();
    if verified.generation != generation {
        return None;
    }
    let age = now.duration_since(verified.time.0);
    if age.is_negative() || age.unsigned_abs() >= resync {
        return None;
    }
    let in_sync = |type_: &str| {
        status.conditions.iter().any(|c| {
            c.type_ == type_ && c.status == "True" && c.observed_generation == Some(generation)
        })
    };
    if !in_sync(condition::IDENTITY_POOL_READY) || !in_sync(condition::ROLES_READY) {
        return None;
    }
    let guests = app.spec.identity_pool.allow_unauthenticated;
    if guests != status.guest_role_arn.is_some() {
        return None;
    }
    let found = Provisioned {
        identity_pool_id: status.identity_pool_id.clone()?,
        identity_pool_adopted: status.identity_pool_adopted.unwrap_or(false),
        client_role_arn: status.client_role_arn.clone()?,
        guest_role_arn: status.guest_role_arn.clone(),
        backend_role_arn: status.backend_role_arn.clone()?,
        changes: Vec::new(),
    };
    Some((found, verified.clone()))
}

/// The record of a verification of `app` made at `now`.
pub fn verified_now(app: &LivenessApp, now: Timestamp) -> AwsVerified {
    AwsVerified {
        generation: app.metadata.generation.unwrap_or_default(),
        time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now),
    }
}

#[cfg(test)]
#[path = "freshness_tests.rs"]
mod tests;
