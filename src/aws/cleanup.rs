//! delete: remove what a LivenessApp owns when it is deleted with `deletionPolicy:
//! Delete`; with `Retain`, touch nothing.
//!
//! Ownership is decided by tags, never by name alone: a pool or role that carries another
//! owner uid is left alone. The pool goes first (so no pool points at a deleted role),
//! then the roles; every step treats NotFound as done, so a re-run after a crash finishes.

use crate::crd::DeletionPolicy;
use crate::plan::aws::{DesiredAws, PoolMode};

use super::cognito::Cognito;
use super::error::AwsError;
use super::iam::Iam;
use super::sync::{find_owned_pools, is_role};
use super::{Action, AwsObject, Change, KnownPool};

pub(crate) async fn run(
    iam: &Iam,
    cognito: &Cognito,
    desired: &DesiredAws,
    known: KnownPool<'_>,
) -> Result<Vec<Change>, AwsError> {
    if desired.deletion_policy == DeletionPolicy::Retain {
        return Ok(Vec::new());
    }
    let mut changes = Vec::new();
    let mut record = |action, object, detail: &str| {
        changes.push(Change {
            action,
            object,
            detail: detail.into(),
        })
    };
    let role_names = desired.all_role_names();
    match &desired.pool.mode {
        PoolMode::Create => {
            for pool in find_owned_pools(cognito, desired, known, true).await? {
                cognito
                    .delete(&pool.id, &desired.pool_arn(&pool.id))
                    .await?;
                record(
                    Action::Deleted,
                    AwsObject::IdentityPool(pool.id.to_string()),
                    "",
                );
            }
        }
        PoolMode::Adopt(id) => {
            let arn = desired.pool_arn(id);
            if let Some(current) = cognito.roles(id, &arn).await? {
                let mut kept = current.clone();
                kept.roles
                    .retain(|_, role| !role_names.iter().any(|(_, name)| is_role(role, name)));
                if kept.roles != current.roles {
                    cognito.set_roles(id, &arn, &kept).await?;
                    record(
                        Action::Detached,
                        AwsObject::RoleLinks(id.to_string()),
                        "the app's roles unlinked; the adopted pool is kept",
                    );
                }
            }
        }
    }
    for (kind, name) in role_names {
        let arn = desired.role_arn(&name);
        if let Some(role) = iam.get_role(&name, &arn).await?
            && desired.owns(&role.tags)
        {
            // The operator may delete inline policies only of roles that carry the
            // cluster's boundary: put it back first if someone removed it.
            let boundary = desired.client_role.permissions_boundary.as_str();
            if role.boundary.as_deref() != Some(boundary) {
                iam.put_boundary(&name, &arn, boundary).await?;
            }
            iam.delete_role(&name, &arn).await?;
            record(Action::Deleted, AwsObject::Role(kind, name), "");
        }
    }
    Ok(changes)
}
