//! ensure and observe: one pass that reads each object, compares it with the plan and
//! (when applying) writes only what differs. Observe runs the same pass with writes
//! recorded instead of made, so both always agree on what "in sync" means.
//!
//! Order matters for crash safety: the pool first (created with its owner tag, found by
//! that tag on the next run), then the roles (created with their tags, in one call), then
//! the links. Any step can fail; re-running picks up from what exists.

use std::collections::BTreeMap;
use std::future::Future;

use crate::names::{IAM_ROLE_PATH, RoleKind};
use crate::plan::aws::{DesiredAws, PoolMode, RolePlan, TAG_OWNER_UID};
use crate::plan::trust::PoolId;

use super::cognito::{Cognito, ObservedPool, PoolRoles};
use super::error::AwsError;
use super::iam::Iam;
use super::{Action, AwsObject, Change, Provisioned};

const AUTHENTICATED: &str = "authenticated";
const UNAUTHENTICATED: &str = "unauthenticated";

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
    hint: Option<&str>,
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
        PoolMode::Adopt(id) => (Some(id.clone()), true),
        PoolMode::Create => (run.owned_pool(hint).await?, false),
    };
    let mut role_arns = BTreeMap::new();
    for role in desired.roles() {
        role_arns.insert(role.kind, run.role(role, pool.as_ref()).await?);
    }
    match &pool {
        Some(pool) => run.links(pool, adopted, &role_arns).await?,
        None => run.record(
            Action::Updated,
            AwsObject::RoleLinks(desired.pool.name.clone()),
            "link the roles to the new pool",
        ),
    }
    if desired.guest_role.is_none() {
        run.remove_unwanted_guest().await?;
    }
    Ok(Outcome {
        pool,
        adopted,
        role_arns,
        changes: run.changes,
    })
}

/// The pools this app owns (by owner tag): the hinted one first, then those carrying the
/// app's pool name, by id. Not `exhaustive`: stop at an owned hinted pool.
pub(crate) async fn find_owned_pools(
    cognito: &Cognito,
    desired: &DesiredAws,
    hint: Option<&str>,
    exhaustive: bool,
) -> Result<Vec<ObservedPool>, AwsError> {
    let mut owned = Vec::new();
    if let Some(hint) = hint.and_then(|h| PoolId::parse(h).ok())
        && let Some(pool) = cognito.observe(&hint, &desired.pool_arn(&hint)).await?
        && desired.owns(&pool.all_tags())
    {
        if !exhaustive {
            return Ok(vec![pool]);
        }
        owned.push(pool);
    }
    for id in cognito.pools_named(&desired.pool.name).await? {
        if owned.iter().any(|p| p.id == id) {
            continue;
        }
        if let Some(pool) = cognito.observe(&id, &desired.pool_arn(&id)).await?
            && desired.owns(&pool.all_tags())
        {
            owned.push(pool);
        }
    }
    Ok(owned)
}

/// Whether `role_arn` is the role `name` under the operator's path (any account).
pub(crate) fn is_role(role_arn: &str, name: &str) -> bool {
    role_arn.ends_with(&format!(":role{IAM_ROLE_PATH}{name}"))
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

    async fn owned_pool(&mut self, hint: Option<&str>) -> Result<Option<PoolId>, AwsError> {
        let (cognito, desired) = (self.cognito, self.desired);
        let mut owned = find_owned_pools(cognito, desired, hint, false)
            .await?
            .into_iter();
        let Some(pool) = owned.next() else {
            return self.create_pool().await;
        };
        for duplicate in owned {
            let arn = desired.pool_arn(&duplicate.id);
            self.write(
                Action::Deleted,
                AwsObject::IdentityPool(duplicate.id.to_string()),
                format!("duplicate of {} (same owner tag)", pool.id),
                cognito.delete(&duplicate.id, &arn),
            )
            .await?;
        }
        self.pool_settings(&pool).await?;
        Ok(Some(pool.id))
    }

    async fn create_pool(&mut self) -> Result<Option<PoolId>, AwsError> {
        let (cognito, desired) = (self.cognito, self.desired);
        let plan = &desired.pool;
        if !self.apply {
            self.record(
                Action::Created,
                AwsObject::IdentityPool(plan.name.clone()),
                "new identity pool",
            );
            return Ok(None);
        }
        let id = cognito.create(plan, &desired.tags).await?;
        // Tags given at creation do not show in ListTagsForResource everywhere; a crash
        // before this call is healed by the next pass (the pool is found by its
        // creation tags and tagged then).
        cognito.tag(&desired.pool_arn(&id), &desired.tags).await?;
        self.record(
            Action::Created,
            AwsObject::IdentityPool(id.to_string()),
            format!("named {}", plan.name),
        );
        Ok(Some(id))
    }

    async fn pool_settings(&mut self, pool: &ObservedPool) -> Result<(), AwsError> {
        let (cognito, desired) = (self.cognito, self.desired);
        let plan = &desired.pool;
        let arn = desired.pool_arn(&pool.id);
        let mut providers = plan.providers.clone();
        providers.sort();
        let drift: Vec<&str> = [
            (pool.name != plan.name, "name"),
            (
                pool.allow_unauthenticated != plan.allow_unauthenticated,
                "AllowUnauthenticatedIdentities",
            ),
            (pool.providers != providers, "CognitoIdentityProviders"),
            (pool.allow_classic_flow, "AllowClassicFlow"),
            (pool.other_logins > 0, "social/OIDC/SAML sign-in providers"),
        ]
        .into_iter()
        .filter_map(|(differs, what)| differs.then_some(what))
        .collect();
        if !drift.is_empty() {
            let mut tags = pool.all_tags();
            tags.extend(desired.tags.clone());
            self.write(
                Action::Updated,
                AwsObject::IdentityPool(pool.id.to_string()),
                format!("{} restored", drift.join(", ")),
                cognito.update(&pool.id, &arn, plan, &tags),
            )
            .await?;
        }
        if desired
            .tags
            .iter()
            .any(|(k, v)| pool.listed_tags.get(k) != Some(v))
        {
            self.write(
                Action::Updated,
                AwsObject::IdentityPool(pool.id.to_string()),
                "tags restored",
                cognito.tag(&arn, &desired.tags),
            )
            .await?;
        }
        Ok(())
    }

    /// Creates the role or puts back its trust policy, tags and single inline policy,
    /// removing inline and managed policies someone added. Returns its ARN.
    async fn role(&mut self, plan: &RolePlan, pool: Option<&PoolId>) -> Result<String, AwsError> {
        let (iam, desired) = (self.iam, self.desired);
        let object = || AwsObject::Role(plan.kind, plan.name.clone());
        let trust = pool.map(|p| plan.trust_policy(p));
        let Some(role) = iam.get_role(&plan.name, &plan.arn).await? else {
            let mut arn = plan.arn.clone();
            if let (true, Some(trust)) = (self.apply, &trust) {
                arn = iam.create_role(plan, trust, &desired.tags).await?;
                self.created_role = true;
                iam.put_inline(&plan.name, &arn, plan.policy_name, &plan.policy)
                    .await?;
            }
            self.record(Action::Created, object(), format!("at {arn}"));
            return Ok(arn);
        };
        if !desired.owns(&role.tags) {
            return Err(AwsError::conflict(
                "iam:CreateRole",
                &plan.arn,
                format!(
                    "IAM role {} exists but is not owned by this LivenessApp ({TAG_OWNER_UID} is {}, expected {}); \
                     it may be left from a deleted LivenessApp of the same name with deletionPolicy Retain: \
                     delete that role, or tag it {TAG_OWNER_UID}={} to hand it to this app",
                    plan.name,
                    role.tags
                        .get(TAG_OWNER_UID)
                        .map_or("absent".into(), |u| format!("'{u}'")),
                    desired.owner_uid,
                    desired.owner_uid,
                ),
            ));
        }
        if role.path != plan.path {
            return Err(AwsError::conflict(
                "iam:CreateRole",
                &role.arn,
                format!(
                    "IAM role {} exists under path {} instead of {}: delete it so it can be recreated",
                    plan.name, role.path, plan.path
                ),
            ));
        }
        let arn = role.arn.clone();
        if let Some(trust) = &trust
            && !trust.document().same_as_aws(&role.trust)
        {
            self.write(
                Action::Updated,
                object(),
                "trust policy restored",
                iam.update_trust(&plan.name, &arn, trust),
            )
            .await?;
        }
        if desired
            .tags
            .iter()
            .any(|(k, v)| role.tags.get(k) != Some(v))
        {
            self.write(
                Action::Updated,
                object(),
                "tags restored",
                iam.tag_role(&plan.name, &arn, &desired.tags),
            )
            .await?;
        }
        self.role_policies(plan, &arn).await?;
        Ok(arn)
    }

    async fn role_policies(&mut self, plan: &RolePlan, arn: &str) -> Result<(), AwsError> {
        let iam = self.iam;
        let object = || AwsObject::Role(plan.kind, plan.name.clone());
        let inline = iam.list_inline(&plan.name, arn).await?;
        for extra in inline.iter().filter(|p| *p != plan.policy_name) {
            self.write(
                Action::Updated,
                object(),
                format!("removed inline policy {extra} (not part of the app)"),
                iam.delete_inline(&plan.name, arn, extra),
            )
            .await?;
        }
        let current = if inline.iter().any(|p| p == plan.policy_name) {
            iam.get_inline(&plan.name, arn, plan.policy_name).await?
        } else {
            None
        };
        let detail = match &current {
            None => Some("inline policy restored"),
            Some(doc) if !plan.policy.same_as_aws(doc) => Some("inline policy put back"),
            Some(_) => None,
        };
        if let Some(detail) = detail {
            self.write(
                Action::Updated,
                object(),
                detail,
                iam.put_inline(&plan.name, arn, plan.policy_name, &plan.policy),
            )
            .await?;
        }
        for policy_arn in iam.list_attached(&plan.name, arn).await? {
            self.write(
                Action::Updated,
                object(),
                format!("detached managed policy {policy_arn} (not part of the app)"),
                iam.detach(&plan.name, arn, &policy_arn),
            )
            .await?;
        }
        Ok(())
    }

    /// Links client (and guest) roles. A pool of ours gets exactly these links; an
    /// adopted pool keeps its other links and role mappings.
    async fn links(
        &mut self,
        pool: &PoolId,
        adopted: bool,
        role_arns: &BTreeMap<RoleKind, String>,
    ) -> Result<(), AwsError> {
        let (cognito, desired) = (self.cognito, self.desired);
        let arn = desired.pool_arn(pool);
        let op = "cognito-identity:GetIdentityPoolRoles";
        let Some(current) = cognito.roles(pool, &arn).await? else {
            return Err(if adopted {
                AwsError::needs_change(
                    op,
                    &arn,
                    format!(
                        "spec.identityPool.existingPoolId: identity pool {pool} does not exist in {}: \
                         fix the id, or remove existingPoolId to let the operator create a pool",
                        desired.region
                    ),
                )
            } else {
                AwsError::transient(op, &arn, format!("identity pool {pool} vanished"))
            });
        };
        let mut want = if adopted {
            current.clone()
        } else {
            PoolRoles::default()
        };
        let client = role_arns[&RoleKind::Client].clone();
        want.roles.insert(AUTHENTICATED.into(), client.clone());
        let guest_name = desired.app.role_name(RoleKind::Guest);
        match role_arns.get(&RoleKind::Guest) {
            Some(guest) => {
                want.roles.insert(UNAUTHENTICATED.into(), guest.clone());
            }
            None => {
                let ours = |a: &String| is_role(a, &guest_name);
                if !adopted || want.roles.get(UNAUTHENTICATED).is_some_and(ours) {
                    want.roles.remove(UNAUTHENTICATED);
                }
            }
        }
        if want.roles == current.roles && want.mappings == current.mappings {
            return Ok(());
        }
        let (action, detail) = if adopted && current.roles.get(AUTHENTICATED) != Some(&client) {
            (
                Action::Adopted,
                "the app's roles linked to the existing pool",
            )
        } else {
            (Action::Updated, "role links restored")
        };
        let created_role = self.created_role;
        let set = async {
            cognito.set_roles(pool, &arn, &want).await.map_err(|e| {
                if created_role && e.code() == Some("InvalidParameterException") {
                    e.into_transient("a role created moments ago may not be visible to Cognito yet")
                } else {
                    e
                }
            })
        };
        self.write(action, AwsObject::RoleLinks(pool.to_string()), detail, set)
            .await
    }

    /// Guests were allowed and no longer are: the (already unlinked) guest role goes.
    async fn remove_unwanted_guest(&mut self) -> Result<(), AwsError> {
        let (iam, desired) = (self.iam, self.desired);
        let name = desired.app.role_name(RoleKind::Guest);
        let arn = desired.role_arn(&name);
        if let Some(role) = iam.get_role(&name, &arn).await?
            && desired.owns(&role.tags)
        {
            self.write(
                Action::Deleted,
                AwsObject::Role(RoleKind::Guest, name.clone()),
                "guests are no longer allowed",
                iam.delete_role(&name, &arn),
            )
            .await?;
        }
        Ok(())
    }
}
