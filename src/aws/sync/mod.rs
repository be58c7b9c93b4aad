//! ensure and observe: one pass that reads each object, compares it with the plan and
//! (when applying) writes only what differs. Observe runs the same pass with writes
//! recorded instead of made, so both always agree on what "in sync" means.
//!
//! Order matters for crash safety: the pool first (created with its owner tag, found by
//! that tag on the next run), then the roles (created with their tags, in one call), then
//! the links. Any step can fail; re-running picks up from what exists.

mod pool;
mod roles;

use std::collections::BTreeMap;
use std::future::Future;

use crate::names::{IAM_PATH_ROOT, RoleKind};
use crate::plan::aws::{DesiredAws, PoolMode};
use crate::plan::trust::PoolId;

use super::cognito::Cognito;
use super::error::{AwsError, Phase};
use super::iam::Iam;
use super::{Action, AwsObject, Change, KnownPool, Provisioned};

pub(crate) use pool::find_owned_pools;

/// What one pass found and did.
pub(crate) struct Outcome {
    pub pool: Option<PoolId>,
    pub adopted: bool,
    pub role_arns: BTreeMap<RoleKind, String>,
    pub changes: Vec<Change>,
}

impl Outcome {
    pub fn provisioned(mut self, desired: &DesiredAws) -> Result<Provisioned, AwsError> {
        let pool = self.pool.ok_or_else(|| {
            AwsError::transient(
                "cognito-identity:CreateIdentityPool",
                "*",
                format!("no identity pool for {}", desired.pool.name),
            )
        })?;
        let mut arn = |kind| self.role_arns.remove(&kind);
        Ok(Provisioned {
            identity_pool_id: pool.to_string(),
            identity_pool_adopted: self.adopted,
            client_role_arn: arn(RoleKind::Client).unwrap_or_default(),
            guest_role_arn: arn(RoleKind::Guest),
            backend_role_arn: arn(RoleKind::Backend).unwrap_or_default(),
            changes: self.changes,
        })
    }
}

/// One pass over every object of `desired`; writes only when `apply`.
pub(crate) async fn run(
    iam: &Iam,
    cognito: &Cognito,
    desired: &DesiredAws,
    known: KnownPool<'_>,
    apply: bool,
) -> Result<Outcome, AwsError> {
    let mut run = Run {
        iam,
        cognito,
        desired,
        apply,
        changes: Vec::new(),
        created_role: false,
    };
    let (pool, adopted) = match &desired.pool.mode {
        PoolMode::Adopt(id) => {
            // Before any write, to the pool or anywhere: a refused adoption changes nothing.
            run.check_adoptable(id)
                .await
                .map_err(|e| e.in_phase(Phase::IdentityPool))?;
            (Some(id.clone()), true)
        }
        PoolMode::Create => (
            run.owned_pool(known)
                .await
                .map_err(|e| e.in_phase(Phase::IdentityPool))?,
            false,
        ),
    };
    // From here on a failure still tells which pool is the app's, for status.
    let found = pool.as_ref().map(PoolId::to_string);
    let failed_in = |phase| {
        let found = found.clone();
        move |e: AwsError| e.in_phase(phase).with_pool(found)
    };
    let mut role_arns = BTreeMap::new();
    for role in desired.roles() {
        let arn = run
            .role(role, pool.as_ref())
            .await
            .map_err(failed_in(Phase::Roles))?;
        role_arns.insert(role.kind, arn);
    }
    match &pool {
        Some(pool) => run
            .links(pool, adopted, &role_arns)
            .await
            .map_err(failed_in(Phase::RoleLinks))?,
        None => run.record(
            Action::Updated,
            AwsObject::RoleLinks(desired.pool.name.clone()),
            "link the roles to the new pool",
        ),
    }
    if desired.guest_role.is_none() {
        run.remove_unwanted_guest()
            .await
            .map_err(failed_in(Phase::Roles))?;
    }
    Ok(Outcome {
        pool,
        adopted,
        role_arns,
        changes: run.changes,
    })
}

/// Whether `role_arn` is the role `name` under the operator's paths (any account).
pub(crate) fn is_role(role_arn: &str, name: &str) -> bool {
    // Role names are unique in an account whatever the path; the path is ours.
    role_arn.ends_with(&format!("/{name}")) && role_arn.contains(&format!(":role{IAM_PATH_ROOT}"))
}

struct Run<'a> {
    iam: &'a Iam,
    cognito: &'a Cognito,
    desired: &'a DesiredAws,
    apply: bool,
    changes: Vec<Change>,
    /// A role was created in this pass (IAM may not have propagated it yet).
    created_role: bool,
}

impl<'a> Run<'a> {
    fn record(&mut self, action: Action, object: AwsObject, detail: impl Into<String>) {
        self.changes.push(Change {
            action,
            object,
            detail: detail.into(),
        });
    }

    /// Makes the write (when applying) and records it.
    async fn write(
        &mut self,
        action: Action,
        object: AwsObject,
        detail: impl Into<String>,
        op: impl Future<Output = Result<(), AwsError>>,
    ) -> Result<(), AwsError> {
        if self.apply {
            op.await?;
        }
        self.record(action, object, detail);
        Ok(())
    }
}
